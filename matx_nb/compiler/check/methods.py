"""Type rules of the builtin types' methods, read from their declarations in
primitives.py: arity, keyword binding, each argument against its parameter's
type, and the result. The few rules a declaration cannot state are the
specializers below, named by the declaration's `check=`. Free functions over
the checker's state `chk`.
"""
from __future__ import annotations

from .. import ir, primitives
from ..kinds import elem_type
from ..diagnostics import a_or_an
from ..types import (BOOL, INT, NONE, AnyType, DictType, ListType, OptionalType, Prim, TupleType, Type, assignable,
                     is_error, optional, resolve)
from ..specs import spec_type
from . import hooks
from . import builtin_calls as bcalls


def _matches(part: str, t: Type, rt: Type) -> bool:
    """Whether an argument of type t fits one alternative of a union spec."""
    if part.startswith("tuple["):
        item = spec_type(part[6:-1], rt)
        return isinstance(t, TupleType) and all(resolve(x) == item for x in t.items)
    want = spec_type(part, rt)
    return t == want or (want == INT and t == BOOL)


def _describe(part: str) -> str:
    return f"a tuple of {part[6:-1]}" if part.startswith("tuple[") else part


def typed_arg(chk, e, i, want: Type, what: str):
    """Checks argument i of e against `want`; None if it was not given."""
    if i >= len(e.args):
        return None
    t = hooks.expr(chk, e.args[i], want)
    if not assignable(want, t):
        chk.error(e.args[i].span, f"{what} must be {want}, got {t}")
    return t


def take_method_keywords(chk, e: ir.Call, m: primitives.Method) -> bool:
    """Turns keyword arguments of a method into positional ones, filling the
    skipped parameters with their defaults; False if some keyword is unknown."""
    what = f"{m.kind}.{m.name}()"
    if not m.keywords:
        chk.error(e.keywords[0].span, f"{what} takes no keyword arguments")
        return False
    b = primitives.bind(m.params, e.args, e.keywords, what)
    if b.errors:
        chk.error(b.errors[0][0].span, b.errors[0][1])
        return False
    slots = b.slots + b.extra
    while slots and slots[-1] is None:
        slots.pop()
    e.args = [a if a is not None else ir.Const(e.span, m.params[i].default) for i, a in enumerate(slots)]
    e.keywords = []
    return True


def check_primitive(chk, e: ir.Call, m: primitives.Method, rt: Type) -> Type:
    """The arguments against the declared parameters; the declared result."""
    for i, a in enumerate(e.args):
        if i < len(m.params):
            check_param(chk, e, i, m.params[i], m, rt)
        else:
            hooks.expr(chk, a)
    return spec_type(m.result, rt)


def check_param(chk, e: ir.Call, i: int, p: primitives.Param, m: primitives.Method, rt: Type):
    a = e.args[i]
    item = primitives.spec_iter(p.type)
    if item is not None:  # any iterable of the item type
        want = spec_type(item, rt)
        t = resolve(hooks.expr(chk, a, ListType(want)))
        if is_error(t):
            return
        et = elem_type(t)
        exact = isinstance(resolve(want), Prim)  # the runtime takes a list of exactly that
        if et is None or (resolve(et) != resolve(want) if exact else not assignable(want, et)):
            chk.error(a.span, f"{m.name}() needs an iterable of {want}, got {t}")
        return
    parts = primitives.spec_union(p.type)
    if len(parts) > 1:
        t = resolve(hooks.expr(chk, a))
        if is_error(t) or any(_matches(x, t, rt) for x in parts):
            return
        if parts == ("bytes", "int"):  # CPython's wording
            chk.error(a.span, f"argument should be integer or bytes-like object, not '{t}'")
        else:
            chk.error(a.span, f"{m.name}() {p.name} must be {' or '.join(map(_describe, parts))}, got {t}")
        return
    if p.type == "any":
        hooks.expr(chk, a)
        return
    if p.type == "index":  # a slice bound: None is the default
        t = resolve(hooks.expr(chk, a))
        if t not in (INT, BOOL, NONE) and not is_error(t):
            chk.error(a.span, f"{m.name}() {p.name} must be int or None, got {t}")
        return
    typed_arg(chk, e, i, spec_type(p.type, rt), f"{m.name}() {p.name}")


# ---- specializers: what a declaration cannot say ---------------------------------
def check_list_sort(chk, e: ir.Call, rt: ListType) -> Type:
    if not isinstance(resolve(rt.elem), (Prim, TupleType, ListType, AnyType)):
        chk.error(e.span, f"cannot sort {a_or_an(rt)}")
    return NONE


def check_dict_get(chk, e: ir.Call, rt: DictType) -> Type:
    typed_arg(chk, e, 0, rt.key, "get() key")
    if len(e.args) == 1:
        return optional(rt.value)  # None when the key is missing
    typed_arg(chk, e, 1, rt.value, "get() default")
    return rt.value


def check_dict_pop(chk, e: ir.Call, rt: DictType) -> Type:
    typed_arg(chk, e, 0, rt.key, "pop() key")
    if len(e.args) == 2 and isinstance(e.args[1], ir.Const) and e.args[1].value is None and \
            not isinstance(resolve(rt.value), (AnyType, OptionalType)) and rt.value != NONE:
        hooks.expr(chk, e.args[1])
        return optional(rt.value)  # d.pop(k, None): the value, or None when missing
    typed_arg(chk, e, 1, rt.value, "pop() default")
    return rt.value


def check_dict_setdefault(chk, e: ir.Call, rt: DictType) -> Type:
    typed_arg(chk, e, 0, rt.key, "setdefault() key")
    if len(e.args) < 2:
        chk.error(e.span, "setdefault() needs a default value here")
    typed_arg(chk, e, 1, rt.value, "setdefault() default")
    return rt.value


def check_str_format_method(chk, e: ir.Call, rt: Type) -> Type:
    return bcalls.check_str_format(chk, e)

