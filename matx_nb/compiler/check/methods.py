"""Type rules of the builtin types' methods, read from their declarations in
primitives.py: arity, keyword binding, each argument against its parameter's
type, and the result. The few rules a declaration cannot state are the
specializers below, named by the declaration's `check=`. A mixin of
checker.Checker: it uses the checker's expr(), error() and _arg().
"""
from __future__ import annotations

from typing import List, Optional

from .. import ir, primitives
from ..kinds import elem_type
from ..diagnostics import a_or_an
from ..types import (ANY, BOOL, BYTES, FLOAT, INT, NONE, STR, AnyType, DictType, ListType, OptionalType, Prim,
                     SetType, TupleType, Type, VarTupleType, assignable, is_error, optional, resolve)

PRIMS = {"str": STR, "bytes": BYTES, "int": INT, "index": INT, "bool": BOOL, "float": FLOAT, "None": NONE, "any": ANY}
MAKE = {"List": lambda a: ListType(a[0]), "Tuple": lambda a: TupleType(tuple(a)),
        "Optional": lambda a: optional(a[0])}


def env_of(rt: Type) -> primitives.Env:
    """What T, K, V and Self stand for with a receiver of type rt."""
    rt = resolve(rt)
    if isinstance(rt, (ListType, SetType, VarTupleType)):
        return primitives.Env(rt, item=rt.elem)
    if isinstance(rt, DictType):
        return primitives.Env(rt, key=rt.key, value=rt.value)
    return primitives.Env(rt, item=ANY)


def spec_type(spec: str, rt: Type) -> Type:
    """A parameter's or result's type spec as a Type, for a receiver of type rt."""
    return primitives.parse_spec(spec, env_of(rt), PRIMS, MAKE)


def _matches(part: str, t: Type, rt: Type) -> bool:
    """Whether an argument of type t fits one alternative of a union spec."""
    if part.startswith("tuple["):
        item = spec_type(part[6:-1], rt)
        return isinstance(t, TupleType) and all(resolve(x) == item for x in t.items)
    want = spec_type(part, rt)
    return t == want or (want == INT and t == BOOL)


def _describe(part: str) -> str:
    return f"a tuple of {part[6:-1]}" if part.startswith("tuple[") else part


class MethodChecks:
    """Mixin of Checker."""

    def take_method_keywords(self, e: ir.Call, m: primitives.Method) -> bool:
        """Turns keyword arguments of a method into positional ones, filling the
        skipped parameters with their defaults; False if some keyword is unknown."""
        what = f"{m.kind}.{m.name}()"
        if not m.keywords:
            self.error(e.keywords[0].span, f"{what} takes no keyword arguments")
            return False
        names = [p.name for p in m.params]
        slots: List[Optional[ir.Expr]] = list(e.args) + [None] * max(0, len(names) - len(e.args))
        for kw in e.keywords:
            if kw.name not in names or not m.params[names.index(kw.name)].keyword:
                self.error(kw.span, f"{what} got an unexpected keyword argument '{kw.name}'")
                return False
            i = names.index(kw.name)
            if slots[i] is not None:
                self.error(kw.span, f"{what} got multiple values for argument '{kw.name}'")
                return False
            slots[i] = kw.value
        while slots and slots[-1] is None:
            slots.pop()
        e.args = [a if a is not None else ir.Const(e.span, m.params[i].default) for i, a in enumerate(slots)]
        e.keywords = []
        return True

    def check_primitive(self, e: ir.Call, m: primitives.Method, rt: Type) -> Type:
        """The arguments against the declared parameters; the declared result."""
        for i, a in enumerate(e.args):
            if i < len(m.params):
                self.check_param(e, i, m.params[i], m, rt)
            else:
                self.expr(a)
        return spec_type(m.result, rt)

    def check_param(self, e: ir.Call, i: int, p: primitives.Param, m: primitives.Method, rt: Type):
        a = e.args[i]
        item = primitives.spec_iter(p.type)
        if item is not None:  # any iterable of the item type
            want = spec_type(item, rt)
            t = resolve(self.expr(a, ListType(want)))
            if is_error(t):
                return
            et = elem_type(t)
            exact = isinstance(resolve(want), Prim)  # the runtime takes a list of exactly that
            if et is None or (resolve(et) != resolve(want) if exact else not assignable(want, et)):
                self.error(a.span, f"{m.name}() needs an iterable of {want}, got {t}")
            return
        parts = primitives.spec_union(p.type)
        if len(parts) > 1:
            t = resolve(self.expr(a))
            if is_error(t) or any(_matches(x, t, rt) for x in parts):
                return
            if parts == ("bytes", "int"):  # CPython's wording
                self.error(a.span, f"argument should be integer or bytes-like object, not '{t}'")
            else:
                self.error(a.span, f"{m.name}() {p.name} must be {' or '.join(map(_describe, parts))}, got {t}")
            return
        if p.type == "any":
            self.expr(a)
            return
        if p.type == "index":  # a slice bound: None is the default
            t = resolve(self.expr(a))
            if t not in (INT, BOOL, NONE) and not is_error(t):
                self.error(a.span, f"{m.name}() {p.name} must be int or None, got {t}")
            return
        self._arg(e, i, spec_type(p.type, rt), f"{m.name}() {p.name}")

    # ---- specializers: what a declaration cannot say ---------------------------------
    def check_list_sort(self, e: ir.Call, rt: ListType) -> Type:
        if not isinstance(resolve(rt.elem), (Prim, TupleType, ListType, AnyType)):
            self.error(e.span, f"cannot sort {a_or_an(rt)}")
        return NONE

    def check_dict_get(self, e: ir.Call, rt: DictType) -> Type:
        self._arg(e, 0, rt.key, "get() key")
        if len(e.args) == 1:
            return optional(rt.value)  # None when the key is missing
        self._arg(e, 1, rt.value, "get() default")
        return rt.value

    def check_dict_pop(self, e: ir.Call, rt: DictType) -> Type:
        self._arg(e, 0, rt.key, "pop() key")
        if len(e.args) == 2 and isinstance(e.args[1], ir.Const) and e.args[1].value is None and \
                not isinstance(resolve(rt.value), (AnyType, OptionalType)) and rt.value != NONE:
            self.expr(e.args[1])
            return optional(rt.value)  # d.pop(k, None): the value, or None when missing
        self._arg(e, 1, rt.value, "pop() default")
        return rt.value

    def check_dict_setdefault(self, e: ir.Call, rt: DictType) -> Type:
        self._arg(e, 0, rt.key, "setdefault() key")
        if len(e.args) < 2:
            self.error(e.span, "setdefault() needs a default value here")
        self._arg(e, 1, rt.value, "setdefault() default")
        return rt.value

    def check_str_format_method(self, e: ir.Call, rt: Type) -> Type:
        return self.check_str_format(e)

