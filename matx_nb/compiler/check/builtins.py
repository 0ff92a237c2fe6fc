"""The type rules of the builtin functions a declaration cannot state
(primitives.function): one specializer per builtin, registered under its name
with @rule, as mypyc's `@specialize_function("builtins.len")`. A builtin with
no rule is checked from its declaration (`declared`).

A rule is a free function of the call (`Call`: the checker, the ir.Call, the
argument types resolved, the type the context expects); it returns the call's
type and reports errors through the checker. Rules marked raw=True type the
arguments themselves (print's keywords, isinstance's class names).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Set

from .. import ir, modules, primitives
from ..diagnostics import a_or_an
from ..kinds import RANGE, elem_type, kind_of
from ..types import (ANY, BOOL, BYTES, ERROR, FLOAT, INT, NONE, STR, DictType, GenType, ListType, SetType, TupleType,
                     Type, VarTupleType, assignable, fresh, is_error, is_hashable, is_numeric, resolve, unify)
from . import hooks
from . import builtin_calls as bcalls
from . import ndarray as nd_rules

_TABLE = primitives.Specializers("type rule")
rule = _TABLE.register  # @rule("len"): the type rule of len()
RULES: Dict[str, Callable] = _TABLE.rules
RAW: Set[str] = _TABLE.raw  # rules given (checker, call, expected): they type the arguments themselves


@dataclass
class Call:
    c: object                 # the Checker
    e: ir.Call
    name: str
    rs: List[Type]            # the arguments' types, resolved
    expected: Optional[Type]  # the type the context expects, if any

    @property
    def n(self) -> int:
        return len(self.e.args)

    @property
    def args(self) -> List[ir.Expr]:
        return self.e.args

    def need(self, k: int, lo: Optional[int] = None) -> bool:
        """Whether the call has lo..k arguments (exactly k without lo); else an error."""
        lo = k if lo is None else lo
        if not lo <= self.n <= k:
            exp = str(k) if lo == k else f"{lo} to {k}"
            self.c.error(self.e.span, f"{self.name}() takes {exp} argument{'s' if k != 1 else ''}, got {self.n}")
            return False
        return True

    def error(self, node, message: str, hint: str = "") -> None:
        self.c.error(node.span, message, hint) if hint else self.c.error(node.span, message)

    def expected_as(self, cls):
        ex = resolve(self.expected) if self.expected is not None else None
        return ex if isinstance(ex, cls) else None


# ---- declared builtins ------------------------------------------------------------
SPEC_TYPES = {"str": STR, "bytes": BYTES, "int": INT, "bool": BOOL, "float": FLOAT, "None": NONE,
              "file": None}


def declared(call: Call, f: primitives.Function) -> Type:
    """A builtin whose declaration says it all: its arity, each argument against
    its parameter's type (an int parameter takes a bool), its result."""
    lo, hi = f.arity
    if call.need(hi, lo):
        for i, (a, t) in enumerate(zip(call.args, call.rs)):
            spec = f.params[i].type
            if spec == "any" or is_error(t):
                continue
            if spec == "int" and t not in (INT, BOOL):
                call.error(a, f"'{t}' object cannot be interpreted as an integer")
            elif spec != "int" and t != SPEC_TYPES[spec]:
                call.error(a, f"{f.name}() argument '{f.params[i].name}' must be {spec}, not {t}")
    return result_type(f.result)


def result_type(spec: str) -> Type:
    from ..kinds import FILE
    return FILE if spec == "file" else SPEC_TYPES[spec]


# ---- numbers and conversions ------------------------------------------------------
@rule("abs")
def check_abs(call: Call) -> Type:
    rs = call.rs
    if call.need(1) and rs[0] not in (INT, FLOAT, BOOL):
        call.error(call.args[0], f"bad operand type for abs(): '{rs[0]}'")
    return FLOAT if rs and rs[0] == FLOAT else INT


@rule("int")
def check_int(call: Call) -> Type:
    rs = call.rs
    if call.n == 0:
        return INT
    if call.need(2, 1):
        if rs[0] not in (INT, FLOAT, BOOL, STR, BYTES):
            call.error(call.args[0], f"int() argument must be a string or a number, not '{rs[0]}'")
        if call.n == 2 and (rs[0] != STR or rs[1] not in (INT, BOOL)):
            call.error(call.e, "int(x, base) needs a str and an int")
    return INT


@rule("float")
def check_float(call: Call) -> Type:
    rs = call.rs
    if call.n == 0:
        return FLOAT
    if call.need(1) and rs[0] not in (INT, FLOAT, BOOL, STR):
        call.error(call.args[0], f"float() argument must be a string or a number, not '{rs[0]}'")
    return FLOAT


@rule("str")
def check_str(call: Call) -> Type:
    if call.n:
        call.need(1)
    return STR


@rule("bool")
def check_bool(call: Call) -> Type:
    if call.n:
        call.need(1)
    return BOOL


@rule("round")
def check_round(call: Call) -> Type:
    rs, args = call.rs, call.args
    if not call.need(2, 1):
        return ERROR
    if rs[0] not in (INT, FLOAT, BOOL):
        call.error(args[0], f"type {rs[0]} doesn't define __round__ method")
        return ERROR
    if call.n == 2 and rs[1] not in (INT, BOOL, NONE):
        call.error(args[1], f"round() ndigits must be an int, got {rs[1]}")
    if call.n == 1 or rs[1] == NONE:
        return INT
    return FLOAT if rs[0] == FLOAT else INT


def hashable_deterministic(t: Type) -> bool:
    """Whether hash() of a t is the same in every CPython process (str and bytes
    hashes are salted per process; None's is its address before 3.12)."""
    t = resolve(t)
    if t in (INT, BOOL, FLOAT):
        return True
    if isinstance(t, TupleType):
        return all(hashable_deterministic(x) for x in t.items)
    if isinstance(t, VarTupleType):
        return hashable_deterministic(t.elem)
    return False


@rule("hash")
def check_hash(call: Call) -> Type:
    rs, args = call.rs, call.args
    if not call.need(1):
        return ERROR
    if not is_hashable(rs[0]) or isinstance(rs[0], (ListType, DictType, SetType)):
        call.error(args[0], f"unhashable type: '{rs[0]}'")
    elif not hashable_deterministic(rs[0]):
        call.error(args[0], f"hash() of {a_or_an(rs[0])} is not supported in compiled code",
                   "CPython salts str and bytes hashes per process (PYTHONHASHSEED), so no "
                   "compiled result could match; hash ints, floats and tuples of them")
    return INT


@rule("divmod")
def check_divmod(call: Call) -> Type:
    rs = call.rs
    if not call.need(2):
        return ERROR
    if not all(t in (INT, FLOAT, BOOL) for t in rs):
        call.error(call.e, f"unsupported operand type(s) for divmod(): '{rs[0]}' and '{rs[1]}'")
        return ERROR
    t = FLOAT if FLOAT in rs else INT
    return TupleType((t, t))


@rule("pow")
def check_pow(call: Call) -> Type:
    rs, args = call.rs, call.args
    if not call.need(3, 2):
        return ERROR
    if call.n == 3:
        if not all(t in (INT, BOOL) for t in rs):
            call.error(call.e, "pow() 3rd argument not allowed unless all arguments are integers")
        return INT
    return hooks.binop_type(call.c, "**", rs[0], rs[1], call.e.span, ir.BinOp(call.e.span, "**", args[0], args[1])) \
        or ERROR


@rule("format")
def check_format(call: Call) -> Type:
    rs = call.rs
    if call.need(2, 1) and call.n == 2 and rs[1] != STR:
        call.error(call.args[1], f"format() argument 2 must be str, not {rs[1]}")
    return STR


@rule("bytes")
def check_bytes(call: Call) -> Type:
    rs, args, n = call.rs, call.args, call.n
    if n == 0:
        return BYTES
    if not call.need(3, 1):
        return ERROR
    if rs[0] == STR:
        if n == 1:
            call.error(args[0], "string argument without an encoding", "write bytes(s, 'utf-8') or s.encode()")
        for a, t in zip(args[1:], rs[1:]):
            if t != STR:
                call.error(a, f"bytes() encoding and errors must be str, got {t}")
        return BYTES
    if n > 1:
        call.error(args[1], "encoding without a string argument")
        return BYTES
    if rs[0] in (INT, BOOL, BYTES):
        return BYTES
    et = resolve(iter_elem(call, args[0], rs[0]))
    if not is_error(et) and et not in (INT, BOOL):
        call.error(args[0], f"bytes() needs an iterable of ints, got {rs[0]}")
    return BYTES


# ---- containers and iteration -----------------------------------------------------
def iter_elem(call: Call, a: ir.Expr, t: Type) -> Type:
    """The items' type of an iterable argument; an error if it is none."""
    et = elem_type(t)
    if et is None:
        if not is_error(t):
            call.error(a, f"'{t}' object is not iterable", f"{call.name}() needs a list, str, "
                       "bytes, dict, set, tuple or range")
        return ERROR
    return et


@rule("len")
def check_len(call: Call) -> Type:
    rs = call.rs
    if call.need(1) and kind_of(rs[0]) not in ("str", "bytes", "list", "dict", "set", "tuple") \
            and rs[0] != RANGE:
        call.error(call.args[0], f"object of type '{rs[0]}' has no len()")
    return INT


@rule("range")
def check_range(call: Call) -> Type:
    if call.need(3, 1):
        for a, t in zip(call.args, call.rs):
            if t not in (INT, BOOL):
                call.error(a, f"range() arguments must be int, got {t}")
    return RANGE


@rule("min", "max")
def check_min_max(call: Call) -> Type:
    c, e, rs, name = call.c, call.e, call.rs, call.name
    if call.n == 0:
        call.error(e, f"{name}() expects at least one argument")
        return ERROR
    if call.n == 1:
        et = elem_type(rs[0])
        if et is None:
            call.error(e.args[0], f"'{rs[0]}' is not iterable")
            return ERROR
        if rs[0] == modules.NDARRAY:
            return nd_rules.nd_unordered(c, e, name)
        bcalls.check_key_kw(c, e, et)
        return bcalls.check_min_max_default(c, e, name, et)
    if getattr(e, "kwonly", {}).get("key") is not None:
        call.error(e.kwonly["key"], f"{name}(a, b, key=...) is not supported; use {name}([a, b], key=...)")
    bcalls.check_min_max_default(c, e, name, ANY)
    if all(is_numeric(t) for t in rs):
        return FLOAT if FLOAT in rs else (INT if INT in rs else BOOL)
    first = rs[0]
    for a, t in zip(e.args[1:], rs[1:]):
        if not unify(first, t):
            call.error(a, f"{name}() arguments must share a type: {first} and {t}")
    return first


def _from_iterable(call: Call, make, empty_cls):
    """list(x) / set(x): a container of x's items; list() / set(): the expected one."""
    rs = call.rs
    if call.n == 0:
        return call.expected_as(empty_cls) or make(fresh())
    if call.need(1):
        et = elem_type(rs[0])
        if et is None:
            call.error(call.args[0], f"'{rs[0]}' object is not iterable")
            return make(ANY)
        return make(et)
    return make(ANY)


@rule("list")
def check_list(call: Call) -> Type:
    return _from_iterable(call, ListType, ListType)


@rule("set")
def check_set(call: Call) -> Type:
    return _from_iterable(call, SetType, SetType)


@rule("dict")
def check_dict(call: Call) -> Type:
    rs = call.rs
    if call.n == 0:
        return call.expected_as(DictType) or DictType(fresh(), fresh())
    if call.need(1) and isinstance(rs[0], DictType):
        return rs[0]
    pair = resolve(elem_type(rs[0]) or ANY) if call.n == 1 else None
    if isinstance(pair, TupleType) and len(pair.items) == 2:
        if not is_hashable(pair.items[0]):
            call.error(call.args[0], f"unhashable type: '{pair.items[0]}'")
        return DictType(pair.items[0], pair.items[1])
    call.error(call.e, "dict() takes no argument or a dict here")
    return DictType(ANY, ANY)


@rule("tuple")
def check_tuple(call: Call) -> Type:
    rs, args = call.rs, call.args
    if call.n == 0:
        return TupleType(())
    if not call.need(1):
        return ERROR
    if isinstance(rs[0], (TupleType, VarTupleType)):
        return rs[0]
    var = call.expected_as(VarTupleType) is not None
    if isinstance(args[0], ir.ListLit) and not var:
        return TupleType(tuple(resolve(rs[0]).elem for _ in args[0].elts))
    if isinstance(args[0], ir.Const) and isinstance(args[0].value, (str, bytes)) and not var:
        return TupleType(tuple(elem_type(rs[0]) for _ in args[0].value))
    et = elem_type(rs[0])
    if et is None:
        call.error(args[0], f"'{rs[0]}' object is not iterable")
        return ERROR
    return VarTupleType(et)  # of a length known at run time


@rule("sorted")
def check_sorted(call: Call) -> Type:
    c, e, rs = call.c, call.e, call.rs
    bcalls.check_reverse_kw(c, e, elem_type(rs[0]) if rs else None)
    if call.need(1):
        et = elem_type(rs[0])
        if et is None:
            call.error(e.args[0], f"'{rs[0]}' object is not iterable")
            return ListType(ANY)
        if rs[0] == modules.NDARRAY:
            return nd_rules.nd_unordered(c, e, "sorted")
        return ListType(et)
    return ListType(ANY)


@rule("sum")
def check_sum(call: Call) -> Type:
    rs = call.rs
    if not call.need(2, 1):
        return INT
    et = resolve(iter_elem(call, call.args[0], rs[0]))
    if is_error(et):
        return ERROR
    if et not in (INT, FLOAT, BOOL):
        call.error(call.args[0], f"sum() needs numbers, got {rs[0]}", "use ''.join(...) for str, or a loop")
        return INT
    if call.n == 2 and rs[1] not in (INT, FLOAT, BOOL):
        call.error(call.args[1], f"sum() start must be a number here, got {rs[1]}")
        return INT
    return FLOAT if FLOAT in (et, rs[-1]) else INT


@rule("any", "all")
def check_any_all(call: Call) -> Type:
    if call.need(1):
        iter_elem(call, call.args[0], call.rs[0])
    return BOOL


@rule("enumerate")
def check_enumerate(call: Call) -> Type:
    rs, args = call.rs, call.args
    if not call.need(2, 1):
        return ERROR
    if call.n == 2 and rs[1] not in (INT, BOOL):
        call.error(args[1], f"enumerate() start must be an int, got {rs[1]}")
    return ListType(TupleType((INT, iter_elem(call, args[0], rs[0]))))


@rule("zip")
def check_zip(call: Call) -> Type:
    if call.n == 0:
        call.error(call.e, "zip() needs at least one iterable here")
        return ERROR
    return ListType(TupleType(tuple(iter_elem(call, a, t) for a, t in zip(call.args, call.rs))))


@rule("reversed")
def check_reversed(call: Call) -> Type:
    rs = call.rs
    if not call.need(1):
        return ERROR
    if kind_of(rs[0]) in ("set", "any") or elem_type(rs[0]) is None:
        call.error(call.args[0], f"'{rs[0]}' object is not reversible")
        return ERROR
    return ListType(iter_elem(call, call.args[0], rs[0]))


@rule("iter")
def check_iter(call: Call) -> Type:
    rs = call.rs
    if not call.need(1):
        return ERROR
    if isinstance(rs[0], GenType):
        return rs[0]
    et = elem_type(rs[0])
    if et is None:
        call.error(call.args[0], f"'{rs[0]}' object is not iterable")
        return ERROR
    return GenType(et)  # an iterator over the items


@rule("next")
def check_next(call: Call) -> Type:
    rs = call.rs
    if not call.need(2, 1):
        return ERROR
    if not isinstance(rs[0], GenType):
        call.error(call.args[0], f"'{rs[0]}' object is not an iterator", "call iter() on it first, or use a generator")
        return ERROR
    if call.n == 2 and not assignable(rs[0].elem, rs[1]):
        call.error(call.args[1], f"next() default must be {rs[0].elem}, got {rs[1]}")
    return rs[0].elem


# ---- rules that type their arguments themselves -------------------------------------
@rule("print", raw=True)
def check_print(c, e: ir.Call, expected) -> Type:
    for a in e.args:
        hooks.expr(c, a)
    for kw in e.keywords:
        if kw.name == "flush":
            hooks.expr(c, kw.value)
        elif kw.name not in ("sep", "end"):
            c.error(kw.span, f"print() keyword '{kw.name}' is not supported")
        elif resolve(hooks.expr(c, kw.value)) not in (STR, NONE):
            c.error(kw.span, f"{kw.name} must be None or a string, not {kw.value.ty}")
    return NONE


@rule("isinstance", raw=True)
def check_isinstance(c, e: ir.Call, expected) -> Type:
    """The second argument names types: it is not evaluated."""
    return bcalls.check_isinstance(c, e, [resolve(hooks.expr(c, a)) for a in e.args[:1]])
