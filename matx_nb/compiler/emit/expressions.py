"""Expressions: coercions between C++ types, constants and data tables, names, operators, comparisons, literals, comprehensions, subscripts, call arguments.
Free functions over the emitter's state `em` (emitter.Emitter): they write
through it (output lines, temporaries, headers).
"""
from __future__ import annotations

from typing import List, Optional

from .. import ir, modules
from ..modules import NDARRAY
from ..kinds import RANGE, MAGIC_COMPARE, const_int
from . import units
from ..types import (ANY, BOOL, BYTES, FLOAT, INT, NONE, STR, AnyType, ClassType, DictType, OptionalType, ListType,
                     Prim, SetType, TupleType, Type, VarTupleType, children, resolve)
from .cpp import (DYN_BINOPS, LITERAL_TABLE_MIN, TABLE_ROW, cname, bound_flag, ctype, cstr_literal, literal_values,
                  table_scalar, u32_literal, bytes_literal, float_literal, int_literal)
from ..analysis.program import evaluation_operands, needs_ordering
from . import loops as loop_rules
from . import ndarray as nd_rules
from . import hooks


@hooks.provide
def expr(em, e: ir.Expr) -> str:
    preset = em.preset.get(id(e))
    if preset is not None:
        return preset
    ops = evaluation_operands(e)
    if ops and needs_ordering(ops, em.pure):
        code = ordered(em, e, ops)
    else:
        code = hooks.EXPR[type(e).__name__](em, e)
    t = resolve(e.ty) if e.ty is not None else None
    if isinstance(t, Prim) and t.name in modules.TYPES:  # list(a) on an NDArray needs mod/ndarray.h
        em.headers.add(modules.TYPES[t.name].header)
    unwrap = getattr(e, "unwrap", None)
    if unwrap:  # an Optional used as its value: None raises as in CPython
        fn = "unwrap_attr" if unwrap[0] == "AttributeError" else "unwrap"
        code = f"mx::{fn}({code}, {cstr_literal(unwrap[1])}, {em.loc(e)})"
    return code


def ordered(em, e: ir.Expr, ops: List[ir.Expr]) -> str:
    """Evaluates e's operands left to right, as Python does (C++ leaves the
    order of function arguments unspecified), then e itself."""
    lines = []
    for o in ops:
        code = expr(em, o)
        t = em.new_tmp("o")
        lines.append(f"auto {t} = {code};")
        em.preset[id(o)] = t
    try:
        inner = hooks.EXPR[type(e).__name__](em, e)
    finally:
        for o in ops:
            em.preset.pop(id(o), None)
    return f"([&]() {{ {' '.join(lines)} return {inner}; }}())"


@hooks.provide
def coerce(em, code: str, frm: Type, to: Optional[Type]) -> str:
    if to is None:
        return code
    f, t = resolve(frm), resolve(to)
    if f == t:
        return code
    if isinstance(t, ClassType) and isinstance(f, ClassType) and t.name != f.name:
        return f"{ctype(t)}({code})"  # an instance of a subclass as its base
    if isinstance(t, OptionalType):
        if f == NONE:
            return f"{ctype(t)}()"
        if isinstance(f, OptionalType):
            return f"mx::opt_cast<{ctype(t.inner)}>({code})"
        return f"{ctype(t)}({coerce(em, code, f, t.inner)})"
    if isinstance(f, OptionalType):
        if isinstance(t, AnyType):
            return f"mx::opt_to_any({code})"
        inner = f"mx::unwrap({code}, \"'NoneType' object cannot be used as {t}\", {em.loc(em.cur_node) if em.cur_node is not None else 'nullptr'})"
        return coerce(em, inner, f.inner, t)
    if isinstance(t, VarTupleType) and isinstance(f, TupleType):  # (a, b) as a Tuple[T, ...]
        tmp = em.new_tmp("t")
        items = ", ".join(coerce(em, f"std::get<{i}>({tmp})", x, t.elem) for i, x in enumerate(f.items))
        return f"([&]() {{ auto {tmp} = {code}; return {ctype(t)}{{{items}}}; }}())"
    if t == FLOAT and f in (INT, BOOL):
        return f"double({code})"
    if t == INT and f == BOOL:
        return f"int64_t({code})"
    if isinstance(t, AnyType):
        return f"mx::Any({code})"
    if isinstance(f, AnyType):
        return f"mx::any_cast<{ctype(t)}>({code})"
    return code


@hooks.provide
def coerced(em, e: ir.Expr, to: Optional[Type]) -> str:
    return coerce(em, expr(em, e), e.ty, to)


@hooks.provide
def truth(em, e: ir.Expr) -> str:
    if resolve(e.ty) == BOOL:
        return expr(em, e)
    return f"mx::truth({expr(em, e)})"


def expr_Const(em, e: ir.Const) -> str:
    return const_value(em, e.value)


def const_value(em, v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return int_literal(v)
    if isinstance(v, float):
        return float_literal(v)
    if isinstance(v, (str, bytes)):
        return em.const_str(v)
    if v is None:
        return "mx::None{}"
    if isinstance(v, tuple):
        return "mx::make_tuple(" + ", ".join(const_value(em, x) for x in v) + ")"
    return "mx::None{}"


def module_constant(em, value, ty: Type) -> str:
    """A container constant becomes one object built when the library loads."""
    if em.split_abi is not None:  # one object for the library, in the entry-point unit
        return units.module_constant(em, value, ty, lambda: typed_const(em, value, ty))
    key = (id(value), str(ty))
    if key not in em.str_index:
        name = f"{em.tprefix}K{len(em.strs)}"
        em.strs.append(f"const {ctype(ty)} {name} = {typed_const(em, value, ty)};")
        em.str_index[key] = name
    return em.str_index[key]


def typed_const(em, v, ty: Type) -> str:
    t = resolve(ty)
    if isinstance(v, (list, set, frozenset, tuple, dict)) and len(v) >= LITERAL_TABLE_MIN:
        table = table_container(em, t, list(v.items()) if isinstance(v, dict) else list(v))
        if table is not None:
            return table
    if isinstance(t, VarTupleType):
        return f"{ctype(t)}{{{', '.join(typed_const(em, x, t.elem) for x in v)}}}"
    if isinstance(t, ListType):
        return f"{ctype(t)}{{{', '.join(typed_const(em, x, t.elem) for x in v)}}}"
    if isinstance(t, SetType):
        return f"{ctype(t)}{{{', '.join(typed_const(em, x, t.elem) for x in v)}}}"
    if isinstance(t, DictType):
        return f"{ctype(t)}{{{', '.join('{' + typed_const(em, k, t.key) + ', ' + typed_const(em, x, t.value) + '}' for k, x in v.items())}}}"
    if isinstance(t, TupleType):
        return f"{ctype(t)}{{{', '.join(typed_const(em, x, it) for x, it in zip(v, t.items))}}}"
    if t == FLOAT and not isinstance(v, float):
        return float_literal(float(v))
    return const_value(em, v)


def expr_Name(em, e: ir.Name) -> str:
    r = e.resolved
    if isinstance(r, ir.FuncRef):  # a module-level function as a value
        return f"{ctype(e.ty)}(f_{r.func.name})"
    if isinstance(r, ir.ConstRef):
        if isinstance(r.value, (list, dict, set, frozenset, tuple)):
            return module_constant(em, r.value, e.ty)
        return const_value(em, r.value)
    if e.id == "self" and em.cls is not None and not em.in_static:
        return f"mx::Ref<C_{em.cls.name}>::borrow(this)"
    if e.id in ("True", "False"):
        return "true" if e.id == "True" else "false"
    if e.id == "None":
        return "mx::None{}"
    if e.check_bound:
        return f'mx::bound_read({cname(e.id)}, {bound_flag(e.id)}, "{e.id}", {em.loc(e)})'
    if e.move_from:
        return f"std::move({cname(e.id)})"
    return cname(e.id)


def orders_any(e: ir.Call) -> bool:
    """sorted/min/max/list.sort over items that are (or hold) Any values."""
    if not (ir.builtin_named(e, ("sorted", "min", "max")) or ir.primitive_named(e, "list", "sort")):
        return False
    vals = list(e.args) + ([e.func.value] if isinstance(e.func, ir.Attribute) else [])

    def has_any(t, depth=0):
        t = resolve(t)
        return isinstance(t, AnyType) or (depth < 4 and any(has_any(c, depth + 1) for c in children(t)))
    return any(v.ty is not None and has_any(v.ty) for v in vals)


def is_self(em, e: ir.Expr) -> bool:
    return isinstance(e, ir.Name) and e.id == "self" and em.cls is not None and not em.in_static and \
        ir.is_local(e)


def attr_ref(em, e: ir.Attribute) -> str:
    if is_self(em, e.value):
        return f"this->a_{e.attr}"
    return f"{expr(em, e.value)}->a_{e.attr}"


def expr_Attribute(em, e: ir.Attribute) -> str:
    if isinstance(e.resolved, ir.ConstRef):  # a module constant: math.pi
        return typed_const(em, e.resolved.value, e.ty)
    if isinstance(e.resolved, ir.ClassConst):
        obj = "this" if is_self(em, e.value) else expr(em, e.value)
        return f"{obj}->k_{e.attr}()"
    if isinstance(e.resolved, ir.OpaqueAttr):  # a.shape
        return nd_rules.opaque_attribute(em, e)
    return attr_ref(em, e)


def expr_BinOp(em, e: ir.BinOp) -> str:
    m = getattr(e, "magic", None)
    if m is not None:  # a class's __add__ and the like
        return f"{expr(em, e.left)}->m_{m.name}({coerced(em, e.right, m.params[1].ty)})"
    if getattr(e, "percent", None) is not None:
        return loop_rules.percent_format(em, e)
    return binop(em, e.op, expr(em, e.left), e.left.ty, e.right, e, result_ty=e.ty)


def binop(em, op: str, lcode: str, lt: Type, right: ir.Expr, node, result_ty=None) -> str:
    l, r = resolve(lt), resolve(right.ty)
    rcode = expr(em, right)
    if isinstance(l, AnyType) or isinstance(r, AnyType):
        em.headers.add("matx_nb/dyn.h")
        node.binop_ty = ANY  # s += a[i]: the Any result is cast back to s's type
        return (f"mx::dyn_{DYN_BINOPS[op]}({coerce(em, lcode, l, ANY)}, {coerce(em, rcode, r, ANY)}, "
                f"{em.loc(node)})")
    if NDARRAY in (l, r):
        return nd_rules.nd_binop(em, op, lcode, l, rcode, node)
    num = (INT, FLOAT, BOOL)
    loc = em.loc(node)
    if l in num and r in num:
        if op == "/":
            if FLOAT in (l, r):
                res = f"mx::truediv({coerce(em, lcode, l, FLOAT)}, {coerce(em, rcode, r, FLOAT)}, {loc})"
            else:
                res = f"mx::truediv({coerce(em, lcode, l, INT)}, {coerce(em, rcode, r, INT)}, {loc})"
            node.binop_ty = FLOAT
            return res
        if op in ("&", "|", "^") and l == BOOL and r == BOOL:
            node.binop_ty = BOOL
            return f"bool({lcode} {op} {rcode})"
        if op in ("&", "|", "^"):
            node.binop_ty = INT
            return f"({coerce(em, lcode, l, INT)} {op} {coerce(em, rcode, r, INT)})"
        if op in ("<<", ">>"):
            node.binop_ty = INT
            fn = "lshift" if op == "<<" else "rshift"
            return f"mx::{fn}({coerce(em, lcode, l, INT)}, {coerce(em, rcode, r, INT)}, {loc})"
        rt = FLOAT if FLOAT in (l, r) else INT
        if op == "**" and rt == INT and result_ty is not None and resolve(result_ty) == FLOAT:
            node.binop_ty = FLOAT
            return f"mx::pow_to_float({coerce(em, lcode, l, INT)}, {coerce(em, rcode, r, INT)}, {loc})"
        node.binop_ty = rt
        a, b = coerce(em, lcode, l, rt), coerce(em, rcode, r, rt)
        if rt == FLOAT and op in "+-*":
            return f"({a} {op} {b})"
        if rt == INT and op in "+-" and isinstance(right, ir.Const) and \
                isinstance(right.value, int) and not isinstance(right.value, bool) and right.value >= 0:
            return f"mx::{'add' if op == '+' else 'sub'}_c({a}, {b}, {loc})"
        fn = {"+": "add", "-": "sub", "*": "mul", "//": "floordiv", "%": "mod", "**": "pow"}[op]
        return f"mx::{fn}({a}, {b}, {loc})"
    node.binop_ty = result_ty if result_ty is not None else l
    if isinstance(l, SetType) and op in ("|", "&", "-", "^"):
        fn = {"|": "union_", "&": "intersection", "-": "difference", "^": "symmetric_difference"}[op]
        return f"mx::set_{fn}({lcode}, {rcode})"
    vt = resolve(result_ty) if result_ty is not None else l
    if isinstance(vt, VarTupleType) and op == "+":
        return f"mx::add({coerce(em, lcode, l, vt)}, {coerce(em, rcode, r, vt)}, {em.loc(node)})"
    if isinstance(vt, VarTupleType) and op == "*":
        return f"mx::mul({coerce(em, lcode, l, INT if l in (INT, BOOL) else l)}, " \
               f"{coerce(em, rcode, r, INT if r in (INT, BOOL) else r)}, {em.loc(node)})"
    if isinstance(l, TupleType) and op == "+":
        return f"mx::tuple_cat({lcode}, {rcode})"
    if isinstance(l, TupleType) and op == "*":
        tmp = em.new_tmp("t")
        items = ", ".join(f"std::get<{i}>({tmp})" for i in range(len(l.items))) if l.items else ""
        n = max(0, const_int(right))
        return (f"([&]() {{ auto {tmp} = {lcode}; (void)({rcode}); return "
                f"{ctype(node.ty)}({', '.join([items] * n if items else [])}); }}())")
    if isinstance(l, DictType) and op == "|":
        return f"mx::dict_merge({lcode}, {rcode})"
    fn = {"+": "add", "*": "mul"}[op]
    if op == "*" and r in (INT, BOOL):
        rcode = coerce(em, rcode, r, INT)
    if op == "*" and l in (INT, BOOL):
        lcode = coerce(em, lcode, l, INT)
    return f"mx::{fn}({lcode}, {rcode}, {loc})"


def expr_UnaryOp(em, e: ir.UnaryOp) -> str:
    t = resolve(e.operand.ty)
    if e.op == "not":
        return f"(!{truth(em, e.operand)})"
    v = expr(em, e.operand)
    if isinstance(t, AnyType):
        em.headers.add("matx_nb/dyn.h")
        return f"mx::dyn_{ {'-': 'neg', '+': 'pos', '~': 'invert'}[e.op]}({v}, {em.loc(e)})"
    if e.op == "+":
        return coerce(em, v, t, INT) if t == BOOL else v
    if e.op == "-":
        if t == FLOAT:
            return f"(-{v})"
        return f"mx::neg({coerce(em, v, t, INT)}, {em.loc(e)})"
    return f"(~{coerce(em, v, t, INT)})"


def expr_BoolOp(em, e: ir.BoolOp) -> str:
    rt = resolve(e.ty)
    if rt == BOOL and all(resolve(v.ty) == BOOL for v in e.values):
        op = " && " if e.op == "and" else " || "
        return "(" + op.join(expr(em, v) for v in e.values) + ")"
    # Python returns the deciding operand itself.
    code = coerced(em, e.values[-1], rt)
    for v in reversed(e.values[:-1]):
        tmp = em.new_tmp("b")
        test = f"mx::truth({tmp})" if resolve(v.ty) != BOOL else tmp
        first = coerce(em, tmp, v.ty, rt)
        if e.op == "and":
            code = f"([&]() -> {ctype(rt)} {{ auto {tmp} = {expr(em, v)}; return {test} ? {code} : {first}; }}())"
        else:
            code = f"([&]() -> {ctype(rt)} {{ auto {tmp} = {expr(em, v)}; return {test} ? {first} : {code}; }}())"
    return code


def expr_Compare(em, e: ir.Compare) -> str:
    parts = []
    prelude = []
    left_code, left_t = expr(em, e.left), e.left.ty
    for i, (op, c) in enumerate(zip(e.ops, e.comparators)):
        rcode = expr(em, c)
        if i < len(e.ops) - 1 and not isinstance(c, (ir.Name, ir.Const)):
            tmp = em.new_tmp("c")
            prelude.append(f"auto {tmp} = {rcode};")
            rcode = tmp
        parts.append(compare(em, op, left_code, left_t, rcode, c.ty, c))
        left_code, left_t = rcode, c.ty
    if len(parts) == 1:
        return parts[0]
    if not prelude:
        return "(" + " && ".join(parts) + ")"
    # Each middle operand is evaluated once, and only if the chain gets that far.
    out = "([&]() -> bool { "
    for i, p in enumerate(parts[:-1]):
        if i < len(prelude):
            out += prelude[i] + " "
        out += f"if (!({p})) return false; "
    out += f"return {parts[-1]}; }}())"
    return out


def compare(em, op: str, a: str, at: Type, b: str, bt: Type, node) -> str:
    l, r = resolve(at), resolve(bt)
    if (isinstance(l, AnyType) or isinstance(r, AnyType)) and op not in ("is", "is not"):
        em.headers.add("matx_nb/dyn.h")
        a, b = coerce(em, a, l, ANY), coerce(em, b, r, ANY)
        if op in ("==", "!="):
            return f"({a} {op} {b})"
        if op in ("in", "not in"):
            return f"({'!' if op == 'not in' else ''}mx::dyn_contains({b}, {a}, {em.loc(node)}))"
        fn = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
        return f"mx::dyn_{fn}({a}, {b}, {em.loc(node)})"
    if op in ("in", "not in") and isinstance(r, ClassType):
        m = ir.find_method(r.info, "__contains__")
        code = f"mx::truth({b}->m___contains__({coerce(em, a, l, m.params[1].ty)}))"
        return code if op == "in" else f"(!{code})"
    if isinstance(l, ClassType) and op in MAGIC_COMPARE:
        name, reflected = MAGIC_COMPARE[op]
        m = ir.find_method(l.info, name)
        if m is not None:
            return f"mx::truth({a}->m_{name}({coerce(em, b, r, m.params[1].ty)}))"
        if isinstance(r, ClassType) and ir.find_method(r.info, reflected) is not None:
            m = ir.find_method(r.info, reflected)
            return f"mx::truth({b}->m_{reflected}({coerce(em, a, l, m.params[1].ty)}))"
        if op == "!=" and ir.find_method(l.info, "__eq__") is not None:
            return f"(!{compare(em, '==', a, at, b, bt, node)})"
        if op in ("==", "!="):  # identity, Python's default
            neg = "!" if op == "!=" else ""
            return f"({neg}mx::same_object({a}, {b}))"
    if op in ("in", "not in"):
        neg = "!" if op == "not in" else ""
        if r == RANGE:
            args = [coerced(em, x, INT) for x in node.args]
            return f"{neg}mx::range_contains({coerce(em, a, l, INT)}, {', '.join(args)})"
        if isinstance(r, (ListType, SetType, VarTupleType)):
            a = coerce(em, a, l, r.elem)
        elif isinstance(r, DictType):
            a = coerce(em, a, l, r.key)
        if r == BYTES and l in (INT, BOOL):
            return f"{neg}mx::contains({b}, {coerce(em, a, l, INT)}, {em.loc(node)})"
        if isinstance(r, TupleType):
            return f"{neg}mx::tuple_contains({b}, {a})"
        return f"{neg}mx::contains({b}, {a})"
    if op in ("is", "is not"):
        neg = "!" if op == "is not" else ""
        if isinstance(l, OptionalType) and r == NONE:
            return f"({neg}mx::is_none({a}))"
        if isinstance(r, OptionalType) and l == NONE:
            return f"({neg}mx::is_none({b}))"
        if isinstance(l, ClassType) and isinstance(r, ClassType):
            return f"({neg}(static_cast<const mx::Object*>(({a}).get()) == ({b}).get()))"
        if isinstance(l, (ListType, DictType, SetType)) and isinstance(r, (ListType, DictType, SetType)):
            return f"({neg}(static_cast<const mx::Object*>(({a}).object()) == ({b}).object()))"
        for x, xt, y in ((a, l, r), (b, r, l)):  # re.Match and the like: None is a null handle
            if isinstance(xt, Prim) and xt.name in modules.TYPES and y == NONE:
                return f"({'' if neg else '!'}mx::truth({x}))"
        same = (l == NONE) == (r == NONE) and l == NONE
        val = same if op == "is" else not same
        return f"((void)({a}), (void)({b}), {'true' if val else 'false'})"
    if isinstance(l, OptionalType) or isinstance(r, OptionalType):
        if l == NONE:
            a = "mx::None{}"
        if r == NONE:
            b = "mx::None{}"
        if isinstance(l, OptionalType) and isinstance(r, OptionalType) and not (l == r):
            b = f"mx::opt_cast<{ctype(l.inner)}>({b})"
        code = f"mx::opt_eq({a}, {b})"
        return code if op == "==" else f"(!{code})"
    num = (INT, FLOAT, BOOL)
    if l in num and r in num:
        if FLOAT in (l, r):
            if l != FLOAT or r != FLOAT:
                fn = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
                return f"mx::num_{fn}({a}, {b})"
        elif l == BOOL or r == BOOL:
            a, b = coerce(em, a, l, INT), coerce(em, b, r, INT)
        return f"({a} {op} {b})"
    for x, y in ((l, r), (r, l)):  # (1, 2) == args: the fixed tuple as a Tuple[T, ...]
        if isinstance(x, VarTupleType) and isinstance(y, TupleType) and not (x == y):
            from ..types import assignable
            if assignable(x, y):
                if y is r:
                    b, r = coerce(em, b, r, x), x
                else:
                    a, l = coerce(em, a, l, x), x
                break
    if not (l == r):
        if op in ("==", "!="):
            return f"((void)({a}), (void)({b}), {'false' if op == '==' else 'true'})"
    fn = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
    if fn == "ne":
        return f"(!mx::eq({a}, {b}))"
    return f"mx::{fn}({a}, {b})"


def expr_IfExp(em, e: ir.IfExp) -> str:
    return f"({truth(em, e.test)} ? {coerced(em, e.body, e.ty)} : {coerced(em, e.orelse, e.ty)})"


def expr_ListLit(em, e: ir.ListLit) -> str:
    t = resolve(e.ty)
    table = table_container(em, t, literal_values(e.elts))
    if table is not None:
        return table
    items = ", ".join(coerced(em, x, t.elem) for x in e.elts)
    return f"{ctype(t)}{{{items}}}" if e.elts else f"{ctype(t)}()"


def expr_SetLit(em, e: ir.SetLit) -> str:
    t = resolve(e.ty)
    table = table_container(em, t, literal_values(e.elts))
    if table is not None:
        return table
    items = ", ".join(coerced(em, x, t.elem) for x in e.elts)
    return f"{ctype(t)}{{{items}}}"


def expr_TupleLit(em, e: ir.TupleLit) -> str:
    t = resolve(e.ty)
    if isinstance(t, VarTupleType):
        table = table_container(em, t, literal_values(e.elts))
        if table is not None:
            return table
        items = ", ".join(coerced(em, x, t.elem) for x in e.elts)
        return f"{ctype(t)}{{{items}}}" if e.elts else f"{ctype(t)}()"
    items = ", ".join(coerced(em, x, it) for x, it in zip(e.elts, t.items))
    return f"{ctype(t)}{{{items}}}"


def expr_DictLit(em, e: ir.DictLit) -> str:
    t = resolve(e.ty)
    if not e.keys:
        return f"{ctype(t)}()"
    keys, values = literal_values(e.keys), literal_values(e.values)
    if keys is not None and values is not None:
        table = table_container(em, t, list(zip(keys, values)))
        if table is not None:
            return table
    items = ", ".join(f"{{{coerced(em, k, t.key)}, {coerced(em, v, t.value)}}}"
                      for k, v in zip(e.keys, e.values))
    return f"{ctype(t)}{{{items}}}"


# ---- large literals as data tables (runtime table.h)
def table_container(em, t: Type, items) -> Optional[str]:
    """A new list/set/tuple/dict of the constant items (Python values; (key,
    value) pairs for a dict) built from data tables, or None where the literal
    is small or its items are not all scalars of one table kind."""
    if items is None or len(items) < LITERAL_TABLE_MIN:
        return None
    if isinstance(t, DictType):
        keys = table(em, [k for k, _ in items], t.key)
        values = keys and table(em, [v for _, v in items], t.value)
        if not values:
            return None
        return f"mx::table_dict<{ctype(t.key)}, {ctype(t.value)}>({keys}, {values}, {len(items)})"
    if not isinstance(t, (ListType, SetType, VarTupleType)):
        return None
    ptr = table(em, list(items), t.elem)
    if ptr is None:
        return None
    fn = "table_set" if isinstance(t, SetType) else "table_list"
    code = f"mx::{fn}<{ctype(t.elem)}>({ptr}, {len(items)})"
    return f"{ctype(t)}::adopt({code})" if isinstance(t, VarTupleType) else code


def table(em, values: list, t: Type) -> Optional[str]:
    """Emits the values as a static table of C++ items of type t; returns a
    pointer to its first item, or None if some value is not a t scalar."""
    t = resolve(t)
    values = [table_scalar(v, t) for v in values]
    if any(v is None for v in values) or not values:
        return None
    em.headers.add("matx_nb/table.h")
    name = f"{em.tprefix}T{len(em.strs)}"
    rows = [values[i:i + TABLE_ROW] for i in range(0, len(values), TABLE_ROW)]
    if t in (STR, BYTES):
        ends, n = [], 0
        for v in values:
            n += len(v)
            ends.append(n)
        lit = u32_literal if t == STR else bytes_literal
        unit, kind = ("char32_t", "StrTable") if t == STR else ("char", "BytesTable")
        text = "\n  ".join(lit("".join(r) if t == STR else b"".join(r)) for r in rows)
        em.strs.append(f"// the {len(values)} items of a literal: their text and where each ends")
        em.strs.append(f"const {unit} {name}_text[] =\n  {text};")
        em.strs.append(table_rows(f"const uint32_t {name}_ends[]", [str(x) for x in ends]))
        em.strs.append(f"const mx::{kind} {name}({name}_text, {name}_ends, {len(values)});")
        return f"{name}.data()"
    em.strs.append(table_rows(f"const {ctype(t)} {name}[]", [typed_const(em, v, t) for v in values]))
    return name


def table_rows(decl: str, items: List[str]) -> str:
    rows = [", ".join(items[i:i + TABLE_ROW]) for i in range(0, len(items), TABLE_ROW)]
    return f"{decl} = {{\n  " + ",\n  ".join(rows) + "};"


def comprehension(em, e, result_t: Type, add) -> str:
    """An immediately-invoked lambda: loops and filters, then add(out) per item."""
    saved_out, saved_ind = em.out, em.ind
    em.out, em.ind = [], 1
    out = em.new_tmp("r")
    em.line(f"{ctype(result_t)} {out};")
    em.loop_flags.append(None)
    loop_rules.each_generated(em, e.generators, lambda: em.line(add(out) + ";"))
    em.loop_flags.pop()
    em.line(f"return {out};")
    body = " ".join(x.strip() for x in em.out)
    em.out, em.ind = saved_out, saved_ind
    return f"([&]() {{ {body} }}())"


def expr_GenExp(em, e: ir.GenExp) -> str:
    return expr_ListComp(em, e)


def expr_ListComp(em, e: ir.ListComp) -> str:
    t = resolve(e.ty)
    return comprehension(em, e, t, lambda out: f"{out}.push_back({coerced(em, e.elt, t.elem)})")


def expr_SetComp(em, e: ir.SetComp) -> str:
    t = resolve(e.ty)
    return comprehension(em, e, t, lambda out: f"{out}.add({coerced(em, e.elt, t.elem)})")


def expr_DictComp(em, e: ir.DictComp) -> str:
    t = resolve(e.ty)
    return comprehension(em, 
        e, t, lambda out: f"{out}.set({coerced(em, e.key, t.key)}, {coerced(em, e.value, t.value)})")


def expr_Subscript(em, e: ir.Subscript) -> str:
    ct = resolve(e.value.ty)
    c = expr(em, e.value)
    m = getattr(e, "magic", None)
    if m is not None:
        return f"{c}->m___getitem__({coerced(em, e.index, m.params[1].ty)})"
    if ct == NDARRAY:
        return nd_rules.nd_subscript(em, e, c)
    if isinstance(ct, AnyType):
        em.headers.add("matx_nb/dyn.h")
        return f"mx::dyn_getitem({c}, {coerced(em, e.index, ANY)}, {em.loc(e)})"
    if isinstance(e.index, ir.Slice):
        s = e.index
        parts = [coerced(em, x, INT) if x is not None and resolve(x.ty) != NONE else "mx::Omit{}"
                 for x in (s.lower, s.upper, s.step)]
        return f"mx::getslice({c}, {', '.join(parts)}, {em.loc(e)})"
    if isinstance(ct, TupleType):
        idx = const_int(e.index)
        if idx is not None:
            if idx < 0:
                idx += len(ct.items)
            return f"std::get<{idx}>({c})"
        return f"mx::tuple_getitem<{ctype(ct.items[0])}>({c}, {coerced(em, e.index, INT)}, {em.loc(e)})"
    if isinstance(ct, DictType):
        return f"mx::getitem({c}, {coerced(em, e.index, ct.key)}, {em.loc(e)})"
    return f"mx::getitem({c}, {coerced(em, e.index, INT)}, {em.loc(e)})"


def expr_Slice(em, e):
    return "mx::None{}"


# ---- calls
def call_args(em, e: ir.Call, params: List[ir.Param]) -> str:
    return ", ".join(vararg_value(em, a, p.ty) if p.kind == "vararg" else
                     kwarg_value(em, a, p.ty) if p.kind == "kwarg" else
                     coerced(em, a if a is not None else p.default, p.ty)
                     for a, p in zip(e.bound_args, params))


def kwarg_value(em, kws: List[ir.Keyword], dt: Type) -> str:
    """The dict **kwargs collects: the keywords no parameter takes, in order."""
    vt = resolve(dt).value
    items = ", ".join(f"{{{em.const_str(kw.name)}, {coerced(em, kw.value, vt)}}}" for kw in kws)
    return f"{ctype(dt)}{{{items}}}" if kws else f"{ctype(dt)}()"


def vararg_value(em, items: List[ir.Expr], vt: Type) -> str:
    """The tuple *args collects: the extra positional arguments, with the
    items of each *iterable in its place."""
    et = resolve(vt).elem
    if not any(isinstance(a, ir.Starred) for a in items):
        codes = ", ".join(coerced(em, a, et) for a in items)
        return f"{ctype(vt)}{{{codes}}}" if items else f"{ctype(vt)}()"
    saved_out, saved_ind = em.out, em.ind
    em.out, em.ind = [], 1
    out = em.new_tmp("va")
    em.line(f"{ctype(vt)} {out};")
    em.loop_flags.append(None)
    for a in items:
        if isinstance(a, ir.Starred):
            loop_rules.iterate(em, a.value, a, lambda item, t: em.line(f"{out}.push_back({coerce(em, item, t, et)});"))
        else:
            em.line(f"{out}.push_back({coerced(em, a, et)});")
    em.loop_flags.pop()
    em.line(f"return {out};")
    body = " ".join(x.strip() for x in em.out)
    em.out, em.ind = saved_out, saved_ind
    return f"([&]() {{ {body} }}())"


hooks.rules(globals())
