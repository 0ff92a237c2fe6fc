"""The C++ of the builtin functions a declaration cannot state
(primitives.function): one specializer per builtin, registered under its name
with @emit, as check/builtins.py registers their type rules. A builtin with no
specializer is emitted from its declaration (`declared`):
`mx::<cpp>(args..., loc)`, each argument converted to its parameter's type.

A specializer is a free function of the emitter, the checked ir.Call and the
call's `Args`: its arguments' C++ (evaluated in order, before the specializer
runs), their types and its source place; it returns the C++ expression. The
raw ones (RAW) get no Args: they emit their arguments themselves (a fold over
an iterable, print's keywords).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from .. import ir, primitives
from .cpp import ctype
from ..kinds import FILE, RANGE
from ..types import BOOL, BYTES, FLOAT, INT, NONE, STR, DictType, GenType, TupleType, Type, VarTupleType, resolve
from . import expressions as expr_rules
from . import loops as loop_rules

# Calls the checker makes from other syntax: zip(*rows), matx.Tuple(a, b).
EXTRA = ("zip_star", "tuple_of")
_TABLE = primitives.Specializers("C++ rule", EXTRA)
emit = _TABLE.register  # @emit("len"): the C++ of len()
RULES: Dict[str, Callable] = _TABLE.rules
RAW = _TABLE.raw  # emitters that evaluate the arguments themselves


@dataclass
class Args:
    codes: List[str]   # each argument's C++
    ts: List[Type]     # their types, resolved
    loc: str           # the call's source place


# Builtins with no C++ of their own: the code that uses one emits it (range():
# the loops, len() and the copies into containers; the checker keeps it from
# being a value).
USED_IN_PLACE = ("range",)


def declared(em, e: ir.Call, f: primitives.Function, a: Args) -> str:
    """mx::<cpp>(args..., loc): an int parameter takes a bool as an int."""
    args = [expr_rules.coerce(em, c, t, INT) if p.type == "int" else c for c, t, p in zip(a.codes, a.ts, f.params)]
    if f.loc:
        args.append(a.loc)
    return f"mx::{f.cpp}({', '.join(args)})"


def _materialized(a: ir.Expr, t: Type) -> bool:
    """A range, a file or an enumerate/zip/reversed: copied through em.as_list."""
    return t in (RANGE, FILE) or ir.builtin_name(a) in ("enumerate", "zip", "reversed")


# ---- numbers and conversions ------------------------------------------------------
@emit("abs")
def emit_abs(em, e: ir.Call, a: Args) -> str:
    return f"mx::abs({expr_rules.coerce(em, a.codes[0], a.ts[0], resolve(e.ty))}, {a.loc})"


@emit("int")
def emit_int(em, e: ir.Call, a: Args) -> str:
    if not e.args:
        return "0L"
    if len(e.args) == 2:
        return f"mx::to_int_base({a.codes[0]}, {expr_rules.coerce(em, a.codes[1], a.ts[1], INT)}, {a.loc})"
    if a.ts[0] == BOOL:
        return f"int64_t({a.codes[0]})"
    return f"mx::to_int({a.codes[0]}, {a.loc})"


@emit("float")
def emit_float(em, e: ir.Call, a: Args) -> str:
    return f"mx::to_float({a.codes[0]}, {a.loc})" if e.args else "0.0"


@emit("str")
def emit_str(em, e: ir.Call, a: Args) -> str:
    return f"mx::to_str({a.codes[0]})" if e.args else "mx::Str()"


@emit("bool")
def emit_bool(em, e: ir.Call, a: Args) -> str:
    return f"mx::truth({a.codes[0]})" if e.args else "false"


@emit("round")
def emit_round(em, e: ir.Call, a: Args) -> str:
    codes, ts = a.codes, a.ts
    x = expr_rules.coerce(em, codes[0], ts[0], INT) if ts[0] == BOOL else codes[0]
    if len(e.args) == 1 or ts[1] == NONE:
        return f"mx::round_({x}, {a.loc})"
    return f"mx::round_({x}, {expr_rules.coerce(em, codes[1], ts[1], INT)}, {a.loc})"


@emit("hash")
def emit_hash(em, e: ir.Call, a: Args) -> str:
    return f"mx::py_hash({a.codes[0]})"


@emit("divmod")
def emit_divmod(em, e: ir.Call, a: Args) -> str:
    codes, ts = a.codes, a.ts
    t = FLOAT if FLOAT in ts else INT
    return f"mx::divmod({expr_rules.coerce(em, codes[0], ts[0], t)}, {expr_rules.coerce(em, codes[1], ts[1], t)}, {a.loc})"


@emit("pow")
def emit_pow(em, e: ir.Call, a: Args) -> str:
    if len(e.args) == 3:
        xs = ", ".join(expr_rules.coerce(em, c, t, INT) for c, t in zip(a.codes, a.ts))
        return f"mx::pow_mod({xs}, {a.loc})"
    node = ir.BinOp(e.span, "**", e.args[0], e.args[1])
    node.ty = e.ty
    return expr_rules.binop(em, "**", a.codes[0], e.args[0].ty, e.args[1], node, result_ty=e.ty)


@emit("format")
def emit_format(em, e: ir.Call, a: Args) -> str:
    spec = a.codes[1] if len(a.codes) > 1 else "mx::Str()"
    return f"mx::format_value({a.codes[0]}, {spec}, {a.loc})"


@emit("bytes")
def emit_bytes(em, e: ir.Call, a: Args) -> str:
    if not e.args:
        return "mx::Bytes()"
    codes, ts = a.codes, a.ts
    if ts[0] == STR:
        return f"mx::str_encode({', '.join(codes)}, {a.loc})"
    if ts[0] == BYTES:
        return codes[0]
    if ts[0] in (INT, BOOL):
        return f"mx::bytes_zeros({expr_rules.coerce(em, codes[0], ts[0], INT)}, {a.loc})"
    return f"mx::bytes_from_ints({loop_rules.as_list(em, e.args[0])}, {a.loc})"


# ---- containers and iteration -----------------------------------------------------
@emit("len")
def emit_len(em, e: ir.Call, a: Args) -> str:
    if a.ts[0] == RANGE:
        rargs = [expr_rules.coerced(em, x, INT) for x in e.args[0].args]
        return f"mx::range_len_of({', '.join(rargs)}, {a.loc})"
    return f"mx::len({a.codes[0]})"


@emit("min", "max", raw=True)
def emit_min_max(em, e: ir.Call, a: Optional[Args]) -> str:
    name = ir.builtin_name(e)
    if len(e.args) == 1:
        return loop_rules.fold_min_max(em, e, name)
    a = a or args_of(em, e)
    rt = resolve(e.ty)
    return f"mx::{name}_({', '.join(expr_rules.coerce(em, c, t, rt) for c, t in zip(a.codes, a.ts))})"


@emit("sum", raw=True)
def emit_sum(em, e: ir.Call, a) -> str:
    return loop_rules.fold_sum(em, e)


@emit("any", "all", raw=True)
def emit_any_all(em, e: ir.Call, a) -> str:
    return loop_rules.fold_any_all(em, e, ir.builtin_name(e))


@emit("list", "set", "sorted")
def emit_copy(em, e: ir.Call, a: Args) -> str:
    name = ir.builtin_name(e)
    rt = resolve(e.ty)
    if not e.args:
        return f"{ctype(rt)}()"
    src = a.codes[0]
    if _materialized(e.args[0], a.ts[0]):
        src = loop_rules.as_list(em, e.args[0])
        if name == "list":
            return src
    kw = getattr(e, "kwonly", {})
    if name == "sorted" and "key" in kw:
        rev = expr_rules.truth(em, kw["reverse"]) if "reverse" in kw else "false"
        return f"mx::sorted_by_key<{ctype(rt.elem)}>({src}, {expr_rules.expr(em, kw['key'])}, {rev})"
    if name == "sorted" and "reverse" in kw:
        return f"mx::sorted_from<{ctype(rt.elem)}>({src}, {expr_rules.truth(em, e.kwonly['reverse'])})"
    return f"mx::{name}_from<{ctype(rt.elem)}>({src})"


@emit("dict")
def emit_dict(em, e: ir.Call, a: Args) -> str:
    rt = resolve(e.ty)
    if not e.args:
        return f"{ctype(rt)}()"
    if isinstance(a.ts[0], DictType):
        return f"mx::dict_copy({a.codes[0]})"
    return f"mx::dict_from_pairs<{ctype(rt.key)}, {ctype(rt.value)}>({loop_rules.as_list(em, e.args[0])})"


@emit("tuple")
def emit_tuple(em, e: ir.Call, a: Args) -> str:
    if not e.args:
        return "mx::Tuple<>()"
    rt = resolve(e.ty)
    x, t = e.args[0], a.ts[0]
    if isinstance(t, (TupleType, VarTupleType)):
        return a.codes[0]
    if isinstance(rt, VarTupleType):
        src = loop_rules.as_list(em, x) if _materialized(x, t) or isinstance(t, GenType) else a.codes[0]
        return f"mx::vtuple_from<{ctype(rt.elem)}>({src})"
    if isinstance(x, ir.ListLit):
        return f"{ctype(rt)}({', '.join(expr_rules.coerced(em, y, it) for y, it in zip(x.elts, rt.items))})"
    tmp = em.new_tmp("t")
    items = ", ".join(f"mx::getitem({tmp}, {i}L, {a.loc})" for i in range(len(rt.items)))
    return f"([&]() {{ auto {tmp} = {a.codes[0]}; return {ctype(rt)}({items}); }}())"


@emit("tuple_of")  # matx.Tuple(a, b)
def emit_tuple_of(em, e: ir.Call, a: Args) -> str:
    rt = resolve(e.ty)
    return f"{ctype(rt)}({', '.join(expr_rules.coerced(em, x, t) for x, t in zip(e.args, rt.items))})"


@emit("enumerate", "zip", "reversed")
def emit_materialized(em, e: ir.Call, a: Args) -> str:
    """Outside a for loop: the pairs (or items) as a new list."""
    rt = resolve(e.ty)
    out = em.new_tmp("out")
    return loop_rules.fold(em, e, ctype(rt), [f"{ctype(rt)} {out};"],
                   lambda item, et: em.line(f"{out}.push_back({item});"), f"return {out};")


@emit("zip_star", raw=True)  # zip(*rows)
def emit_zip_star(em, e: ir.Call, a) -> str:
    return f"mx::zip_star<{ctype(resolve(e.ty).elem.elem)}>({expr_rules.expr(em, e.args[0].value)})"


@emit("iter")
def emit_iter(em, e: ir.Call, a: Args) -> str:
    if isinstance(a.ts[0], GenType):
        return a.codes[0]
    em.headers.add("matx_nb/gen.h")
    return f"mx::gen_iter<{ctype(resolve(e.ty).elem)}>({loop_rules.as_list(em, e.args[0])})"


@emit("next")
def emit_next(em, e: ir.Call, a: Args) -> str:
    em.headers.add("matx_nb/gen.h")
    if len(e.args) == 2:
        return f"mx::gen_next({a.codes[0]}, {expr_rules.coerce(em, a.codes[1], a.ts[1], a.ts[0].elem)}, {a.loc})"
    return f"mx::gen_next({a.codes[0]}, {a.loc})"


# ---- the rest ---------------------------------------------------------------------
@emit("print", raw=True)
def emit_print(em, e: ir.Call, a) -> str:
    sep = end = None
    for kw in e.keywords:
        if resolve(kw.value.ty) == NONE:
            continue  # sep=None / end=None: the defaults
        if kw.name == "sep":
            sep = expr_rules.expr(em, kw.value)
        elif kw.name == "end":
            end = expr_rules.expr(em, kw.value)
    items = ", ".join(expr_rules.expr(em, x) for x in e.args)
    if sep is None and end is None:
        return f"mx::print({items})"
    return (f"mx::print_with({sep or 'mx::Str()'}, {sep is not None and 'true' or 'false'}, "
            f"{end or 'mx::Str()'}, {end is not None and 'true' or 'false'}" + (", " + items if items else "") + ")")


@emit("isinstance")
def emit_isinstance(em, e: ir.Call, a: Args) -> str:
    code = a.codes[0]
    if e.isinstance_static is None:
        names = ", ".join(f'"{k}"' for k in e.isinstance_kinds)
        return f"mx::any_isinstance({code}, {{{names}}})"
    if getattr(e, "isinstance_classes", None):
        tmp = em.new_tmp("obj")
        tests = " || ".join(f"dynamic_cast<const C_{k}*>({tmp}.get()) != nullptr" for k in e.isinstance_classes)
        return f"([&]() {{ auto {tmp} = {code}; return {tests}; }}())"
    return f"((void)({code}), {'true' if e.isinstance_static else 'false'})"


def args_of(em, e: ir.Call) -> Args:
    return Args([expr_rules.expr(em, x) for x in e.args], [resolve(x.ty) for x in e.args], em.loc(e))


def emit_builtin(em, e: ir.Call, name: str) -> str:
    """The C++ of a call of builtin `name`: its specializer, else its
    declaration's. The call's source place first, then its arguments in order."""
    em.loc(e)
    fn = RULES.get(name)
    if name in RAW and not (name in ("min", "max") and len(e.args) != 1):
        return fn(em, e, None)
    a = args_of(em, e)
    return fn(em, e, a) if fn is not None else declared(em, e, primitives.FUNCTIONS[name], a)


__all__: List[str] = ["RULES", "emit", "emit_builtin", "declared"]
