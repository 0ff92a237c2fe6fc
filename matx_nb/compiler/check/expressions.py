"""Expressions: names, constants, operators, comparisons, literals, lambdas, comprehensions, subscripts. Free functions over the checker's
state `chk` (checker.Checker: scope, function, diagnostics); expr() dispatches
on the node's class through hooks.EXPR.
"""
from __future__ import annotations

from typing import List, Optional

from .. import ir, modules
from ..kinds import MAGIC_BINOPS, MAGIC_COMPARE, RANGE, const_int, elem_type, kind_of
from ..diagnostics import Span, a_or_an, count_of
from ..types import (ANY, BOOL, ERROR, is_error, BYTES, FLOAT, INT, NONE, STR, AnyType, ClassType, DictType,
                     FuncType, ListType, OptionalType, SetType, TupleType, Type, TypeVar, VarTupleType, assignable,
                     fresh, is_hashable, is_numeric, optional, resolve, unify)
from .common import BUILTINS, EXCEPTIONS, Scope, _is_none_const, ir_text, short_repr
from . import hooks
from . import builtin_calls as bcalls
from . import calls as call_rules
from . import ndarray as nd_rules


def cond(chk, e: ir.Expr) -> Type:
    t = expr(chk, e)
    return t


@hooks.provide
def expr(chk, e: ir.Expr, expected: Optional[Type] = None) -> Type:
    e.unwrap = None
    t = hooks.EXPR[type(e).__name__](chk, e, expected)
    e.ty = t
    return t


# ---- narrowing: `if x is not None:` makes x a T inside (an Optional[T] local)
def none_tests(chk, test: ir.Expr, positive: bool) -> set:
    """Locals that are not None when `test` is `positive` (true or false)."""
    if isinstance(test, ir.BoolOp) and (test.op == "and") == positive:
        out = set()
        for v in test.values:
            out |= none_tests(chk, v, positive)
        return out
    if isinstance(test, ir.UnaryOp) and test.op == "not":
        return none_tests(chk, test.operand, not positive)
    if isinstance(test, ir.Compare) and len(test.ops) == 1 and test.ops[0] in ("is", "is not"):
        a, b = test.left, test.comparators[0]
        if _is_none_const(a):
            a, b = b, a
        if isinstance(a, ir.Name) and _is_none_const(b) and (test.ops[0] == "is not") == positive:
            if isinstance(resolve(chk.scope.lookup(a.id) or NONE), OptionalType):
                return {a.id}
    if positive and isinstance(test, ir.Name):  # `if x:` — a None x is false
        if isinstance(resolve(chk.scope.lookup(test.id) or NONE), OptionalType):
            return {test.id}
    return set()


def narrowed_block(chk, stmts, names: set):
    saved = chk.narrowed
    chk.narrowed = saved | names
    try:
        hooks.block(chk, stmts)
    finally:
        chk.narrowed = saved


def unopt(chk, e: ir.Expr, t: Type, message: str, kind: str = "TypeError") -> Type:
    """An Optional[T] used where a T is needed: checked for None at run time,
    raising `kind` with CPython's `message` (codegen reads e.unwrap)."""
    r = resolve(t)
    if isinstance(r, OptionalType):
        e.unwrap = (kind, message)
        e.ty = r.inner
        return r.inner
    return t


@hooks.provide
def value(chk, e: ir.Expr, message: str, expected: Optional[Type] = None, kind: str = "TypeError") -> Type:
    return unopt(chk, e, expr(chk, e, expected), message, kind)


def expr_Const(chk, e: ir.Const, expected):
    v = e.value
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, int):
        if not -(2 ** 63) <= v < 2 ** 63:
            chk.error(e.span, "integer constant does not fit in 64 bits")
        return INT
    if isinstance(v, float):
        return FLOAT
    if isinstance(v, str):
        return STR
    if isinstance(v, bytes):
        return BYTES
    if v is None:
        return NONE
    chk.error(e.span, f"constant {v!r} is not supported")
    return ERROR


def expr_Name(chk, e: ir.Name, expected):
    t = chk.scope.lookup(e.id)
    if t is not None:
        e.resolved = ir.Local(e.id)
        r = resolve(t)
        if e.id in chk.narrowed and isinstance(r, OptionalType):
            e.unwrap = ("TypeError", f"'{e.id}' is None")  # proven not None: never raises
            return r.inner
        return t
    if e.id in chk.funcs:
        fn = chk.funcs[e.id]
        e.resolved = ir.FuncRef(fn)
        if any(p.kind != "pos" for p in fn.params):
            chk.error(e.span, f"{fn.name}() has keyword-only or * parameters, so it cannot be used as "
                               "a value yet", f"wrap it: lambda x: {fn.name}(x)")
            return ERROR
        return FuncType(tuple(p.ty for p in fn.params), fn.returns)
    if e.id in chk.classes or e.id == chk.cls_ref:
        e.resolved = ir.ClassRef(call_rules.class_named(chk, e))
        chk.error(e.span, f"classes as values are not supported yet; call {e.id}(...) directly")
        return ERROR
    key = (chk.owner, e.id)
    if key in chk.constants:
        v = chk.constants[key]
        e.resolved = ir.ConstRef(v)
        return const_type(chk, v, e.span)
    if key in chk.modules:
        m = chk.modules[key]
        what = f"module '{m}'" if isinstance(m, str) else f"'{m[0]}.{m[1]}'"
        chk.error(e.span, f"{what} can only be called here, not used as a value")
        return ERROR
    if e.id in ("True", "False", "None"):
        return BOOL if e.id != "None" else NONE
    if e.id in BUILTINS or e.id in EXCEPTIONS:
        chk.error(e.span, f"'{e.id}' can only be called here")
        return ERROR
    chk.error(e.span, f"name '{e.id}' is not defined",
               "compiled code sees its parameters, locals, module constants and other "
               "functions and classes of the module")
    return ERROR


@hooks.provide
def const_type(chk, v, span) -> Type:
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, int):
        return INT
    if isinstance(v, float):
        return FLOAT
    if isinstance(v, str):
        return STR
    if isinstance(v, bytes):
        return BYTES
    if v is None:
        return NONE
    if isinstance(v, tuple):
        items = [const_type(chk, x, span) for x in v]
        # A long tuple of one item type is a Tuple[T, ...]: as a fixed tuple, a
        # 100,000-item constant would be a C++ std::tuple of 100,000 types.
        if len(items) >= 64 and all(resolve(t) == resolve(items[0]) for t in items):
            return VarTupleType(items[0])
        return TupleType(tuple(items))
    if isinstance(v, (list, set, frozenset)):
        et = unify_const_items(chk, [const_type(chk, x, span) for x in v], span, v)
        return ListType(et) if isinstance(v, list) else SetType(et)
    if isinstance(v, dict):
        kt = unify_const_items(chk, [const_type(chk, x, span) for x in v.keys()], span, v)
        vt = unify_const_items(chk, [const_type(chk, x, span) for x in v.values()], span, v)
        return DictType(kt, vt)
    return ANY


def unify_const_items(chk, ts, span, v) -> Type:
    if not ts:
        chk.error(span, f"cannot infer the item type of the empty module constant {short_repr(v)}",
                   "pass it as an annotated argument instead")
        return ERROR
    rs = [resolve(t) for t in ts]
    if all(is_numeric(t) for t in rs) and FLOAT in rs:
        return FLOAT
    for t in rs[1:]:
        if not unify(rs[0], t):
            chk.error(span, f"module constant {short_repr(v)} mixes item types {rs[0]} and {t}")
            break
    return rs[0]


def expr_BinOp(chk, e: ir.BinOp, expected):
    lt, rt = expr(chk, e.left), expr(chk, e.right)

    def tname(t):
        r = resolve(t)
        r = r.inner if isinstance(r, OptionalType) else r
        return {"List": "list", "Dict": "dict", "Set": "set", "Tuple": "tuple"}.get(
            str(r).split("[")[0], str(r))
    op = "** or pow()" if e.op == "**" else e.op
    lt = unopt(chk, e.left, lt, f"unsupported operand type(s) for {op}: 'NoneType' and '{tname(rt)}'")
    rt = unopt(chk, e.right, rt, f"unsupported operand type(s) for {op}: '{tname(lt)}' and 'NoneType'")
    e.magic = None
    if isinstance(resolve(lt), ClassType) and resolve(lt).info is not None:
        name = MAGIC_BINOPS.get(e.op)
        m = ir.find_method(resolve(lt).info, name) if name else None
        if m is not None and len(m.params) == 2:
            if not assignable(m.params[1].ty, rt):
                chk.error(e.right.span, f"{resolve(lt).name}.{name}() takes {a_or_an(m.params[1].ty)}, got {rt}")
            e.magic = m
            return m.returns
    if e.op == "%" and resolve(lt) == STR:
        return bcalls.check_percent(chk, e, rt)
    t = binop_type(chk, e.op, lt, rt, e.span, e)
    if e.op == "**" and t == INT and expected is not None and resolve(expected) == FLOAT:
        # Where a float is wanted, int ** int follows Python for negative exponents too.
        t = FLOAT
    return t if t is not None else ANY


@hooks.provide
def binop_type(chk, op: str, lt: Type, rt: Type, span: Span, node=None) -> Optional[Type]:
    l, r = resolve(lt), resolve(rt)
    if is_error(l) or is_error(r):
        return ERROR
    if isinstance(l, AnyType) or isinstance(r, AnyType):
        return ANY  # dispatched at run time (matx_nb/dyn.h)
    nd = nd_rules.nd_binop_type(chk, op, l, r, span)
    if nd is not None:
        return nd
    num = (INT, FLOAT, BOOL)
    if l in num and r in num:
        if op == "/":
            return FLOAT
        if op in ("<<", ">>", "&", "|", "^"):
            if FLOAT in (l, r):
                chk.error(span, f"unsupported operand types for {op}: '{l}' and '{r}'")
                return INT
            if l == BOOL and r == BOOL and op in ("&", "|", "^"):
                return BOOL
            return INT
        if op == "**" and FLOAT not in (l, r):
            if node is not None and isinstance(node.right, ir.Const) and \
                    isinstance(node.right.value, int) and node.right.value < 0:
                return FLOAT
            if node is not None and isinstance(node.right, ir.UnaryOp) and node.right.op == "-" \
                    and isinstance(node.right.operand, ir.Const):
                return FLOAT
            return INT
        return FLOAT if FLOAT in (l, r) else INT
    if op == "+" and l == r and l in (STR, BYTES):
        return l
    if op == "+" and isinstance(l, ListType) and isinstance(r, ListType):
        if not unify(l, r):
            chk.error(span, f"cannot add {l} and {r}")
        return l
    if op == "+" and isinstance(l, TupleType) and isinstance(r, TupleType):
        return TupleType(tuple(l.items) + tuple(r.items))
    if op == "+" and VarTupleType in (type(l), type(r)) and \
            all(isinstance(x, (TupleType, VarTupleType)) for x in (l, r)):
        vt = l if isinstance(l, VarTupleType) else r
        if not (assignable(vt, l) and assignable(vt, r)):
            chk.error(span, f"cannot add {l} and {r}")
        return vt
    if op == "*" and any(isinstance(a, VarTupleType) and b in (INT, BOOL) for a, b in ((l, r), (r, l))):
        return l if isinstance(l, VarTupleType) else r
    if op == "*":
        for a, b in ((l, r), (r, l)):
            if (a in (STR, BYTES) or isinstance(a, ListType)) and b in (INT, BOOL):
                return a
    if op == "%" and l == STR:
        chk.error(span, "%-formatting is not supported yet", "use str() and +")
        return STR
    if op == "|" and isinstance(l, DictType) and isinstance(r, DictType):
        if not unify(l, r):
            chk.error(span, f"cannot merge {l} and {r}")
        return l
    if op == "*" and isinstance(l, TupleType) and node is not None and \
            const_int(node.right) is not None:
        return TupleType(tuple(l.items) * max(0, const_int(node.right)))
    if isinstance(l, SetType) and isinstance(r, SetType) and op in ("|", "&", "-", "^"):
        if not unify(l, r):
            chk.error(span, f"cannot combine {l} and {r}")
        return l
    chk.error(span, f"unsupported operand types for {op}: '{l}' and '{r}'")
    return None


def expr_UnaryOp(chk, e: ir.UnaryOp, expected):
    if e.op == "not":
        cond(chk, e.operand)
        return BOOL
    t = resolve(value(chk, e.operand, f"bad operand type for unary {e.op}: 'NoneType'"))
    if is_error(t):
        return ERROR
    if e.op == "not":
        return BOOL
    if e.op in ("-", "+"):
        if t == BOOL:
            return INT
        if t in (INT, FLOAT):
            return t
    if e.op == "~" and t in (INT, BOOL):
        return INT
    if isinstance(t, AnyType):
        return ANY
    chk.error(e.span, f"bad operand type for unary {e.op}: '{t}'")
    return ERROR


def expr_BoolOp(chk, e: ir.BoolOp, expected):
    ts = []
    saved = chk.narrowed
    try:
        for v in e.values:  # `x is not None and x > 0`: later operands see x narrowed
            ts.append(resolve(expr(chk, v)))
            chk.narrowed = chk.narrowed | none_tests(chk, v, e.op == "and")
    finally:
        chk.narrowed = saved
    first = ts[0]
    if all(t == first for t in ts):
        return first
    if all(is_numeric(t) for t in ts):
        # `a or 0.5` mixing int and float: the result is a number of either kind.
        return FLOAT if FLOAT in ts else INT
    chk.error(e.span, f"'{e.op}' operands have different types ({', '.join(map(str, ts))})",
               "compiled code needs one result type; compare explicitly, e.g. 'x != 0 and ...'")
    return first


def expr_Compare(chk, e: ir.Compare, expected):
    left = expr(chk, e.left)
    prev = e.left
    for op, c in zip(e.ops, e.comparators):
        right = expr(chk, c)
        if op not in ("==", "!=", "is", "is not"):
            msg = f"'{op}' not supported with 'NoneType'"
            left = unopt(chk, prev, left, msg)
            right = unopt(chk, c, right, msg)
        check_compare(chk, op, left, right, c.span)
        left, prev = right, c
    return BOOL


def check_compare(chk, op, lt, rt, span):
    l, r = resolve(lt), resolve(rt)
    if is_error(l) or is_error(r):
        return
    if isinstance(l, AnyType) or isinstance(r, AnyType):
        return  # compared at run time
    if modules.NDARRAY in (l, r) and op in ("==", "!=", "<", "<=", ">", ">="):
        chk.error(span, f"'{op}' on NDArrays (numpy compares elementwise) is not supported yet",
                   "compare a.tolist(), or 'a is None' for a missing array")
        return
    if isinstance(l, ClassType) and l.info is not None and op in MAGIC_COMPARE:
        name, reflected = MAGIC_COMPARE[op]
        if ir.find_method(l.info, name) is None and not (
                isinstance(r, ClassType) and r.info is not None and ir.find_method(r.info, reflected)):
            if op not in ("==", "!="):
                chk.error(span, f"'{op}' is not supported between instances of '{l}' and '{r}'",
                           f"define {name}() in {l.name}")
        return
    if op in ("in", "not in") and isinstance(r, ClassType) and r.info is not None:
        m = ir.find_method(r.info, "__contains__")
        if m is None:
            chk.error(span, f"argument of type '{r.name}' is not iterable", "define __contains__()")
        elif not assignable(m.params[1].ty, l):
            chk.error(span, f"{r.name}.__contains__() takes {a_or_an(m.params[1].ty)}, got {l}")
        return
    if op in ("in", "not in"):
        rk = kind_of(r)
        if rk in ("list", "set"):
            if not (assignable(r.elem, l) or (is_numeric(l) and is_numeric(r.elem))):
                chk.error(span, f"'{op}' tests {a_or_an(l)} against {a_or_an(r)}")
        elif rk == "dict":
            if not assignable(r.key, l):
                chk.error(span, f"'{op}' tests {a_or_an(l)} key against {a_or_an(r)}")
        elif rk in ("str", "bytes"):
            if rk == "bytes" and l in (INT, BOOL):
                return
            if l != r:
                chk.error(span, f"'{op} <{r}>' needs {a_or_an(r)} on the left, got {l}")
        elif r == RANGE:
            if l not in (INT, BOOL):
                chk.error(span, f"'{op} range' needs an int on the left")
        elif rk == "tuple":
            pass
        else:
            chk.error(span, f"'{op}' is not supported on {a_or_an(r)}")
        return
    if op in ("is", "is not"):
        if l == NONE or r == NONE:
            return  # (an opaque module value such as re.Match is None when its handle is null)
        if isinstance(l, ClassType) and isinstance(r, ClassType):
            return  # identity of instances
        if isinstance(l, (ListType, DictType, SetType)) and l == r:
            return  # identity of containers of one type
        chk.error(span, f"'{op}' is only supported with None and class instances here",
                   "use == for values")
        return
    if isinstance(l, OptionalType) or isinstance(r, OptionalType):
        li = l.inner if isinstance(l, OptionalType) else l
        ri = r.inner if isinstance(r, OptionalType) else r
        if li == NONE or ri == NONE or resolve(li) == resolve(ri) or (is_numeric(li) and is_numeric(ri)):
            return
        unify(li, ri)
        return
    if is_numeric(l) and is_numeric(r):
        return
    if isinstance(l, VarTupleType) and isinstance(r, TupleType) and assignable(l, r) or \
            isinstance(r, VarTupleType) and isinstance(l, TupleType) and assignable(r, l):
        return  # compared as two Tuple[T, ...]
    if l == r or unify(l, r):
        if op in ("<", "<=", ">", ">=") and isinstance(l, (DictType, ClassType)) or \
                (op in ("<", "<=", ">", ">=") and l in (NONE,)):
            chk.error(span, f"'{op}' is not supported between instances of '{l}' and '{r}'")
        return
    if op in ("==", "!="):
        return  # different types are simply unequal, as in Python
    chk.error(span, f"'{op}' is not supported between instances of '{l}' and '{r}'")


def expr_IfExp(chk, e: ir.IfExp, expected):
    cond(chk, e.test)
    saved = chk.narrowed
    try:
        chk.narrowed = saved | none_tests(chk, e.test, True)
        a = resolve(expr(chk, e.body, expected))
        chk.narrowed = saved | none_tests(chk, e.test, False)
        b = resolve(expr(chk, e.orelse, expected))
    finally:
        chk.narrowed = saved
    if is_numeric(a) and is_numeric(b) and a != b:
        return FLOAT if FLOAT in (a, b) else INT
    if (a == NONE) != (b == NONE):  # `x if c else None`: an Optional
        other = b if a == NONE else a
        if isinstance(resolve(other), TypeVar):
            return optional(other)
        return optional(other)
    if not unify(a, b):
        if expected is not None and assignable(expected, a) and assignable(expected, b):
            return expected
        chk.error(e.span, f"the two branches have different types ({a} and {b})")
    return a


def expr_ListLit(chk, e: ir.ListLit, expected):
    ex = resolve(expected) if expected is not None else None
    et = ex.elem if isinstance(ex, ListType) else (ANY if isinstance(ex, AnyType) else None)
    return ListType(unify_items(chk, e.elts, et, e.span))


def expr_SetLit(chk, e: ir.SetLit, expected):
    ex = resolve(expected) if expected is not None else None
    et = ex.elem if isinstance(ex, SetType) else (ANY if isinstance(ex, AnyType) else None)
    t = unify_items(chk, e.elts, et, e.span)
    if not is_hashable(t):
        chk.error(e.span, f"unhashable type: '{t}'")
    return SetType(t)


def unify_items(chk, elts, et: Optional[Type], span) -> Type:
    ts = [expr(chk, x, et) for x in elts]
    if et is not None:
        for x, t in zip(elts, ts):
            if not assignable(et, t):
                chk.error(x.span, f"{a_or_an(t)} item in a container of {et}")
        return et
    if not ts:
        return fresh()
    rs = [resolve(t) for t in ts]
    if all(is_numeric(t) for t in rs) and FLOAT in rs:
        return FLOAT
    first = rs[0]
    for x, t in zip(elts[1:], rs[1:]):
        if not unify(first, t):
            chk.error(x.span, f"items of one container must share a type: {first} and {t}",
                       "annotate the container as List[Any] for mixed items")
    return first


def expr_TupleLit(chk, e: ir.TupleLit, expected):
    ex = resolve(expected) if expected is not None else None
    if isinstance(ex, VarTupleType):  # (a, b) where a Tuple[T, ...] is wanted
        ts = [expr(chk, x, ex.elem) for x in e.elts]
        if all(assignable(ex.elem, t) for t in ts):
            return ex
        return TupleType(tuple(ts))
    exs = ex.items if isinstance(ex, TupleType) and len(ex.items) == len(e.elts) else [None] * len(e.elts)
    return TupleType(tuple(expr(chk, x, t) for x, t in zip(e.elts, exs)))


def expr_DictLit(chk, e: ir.DictLit, expected):
    ex = resolve(expected) if expected is not None else None
    kt = ex.key if isinstance(ex, DictType) else None
    vt = ex.value if isinstance(ex, DictType) else None
    if isinstance(ex, AnyType):  # a literal where Any is wanted (json.dumps({...})): mixed items are fine
        kt = vt = ANY
    k = unify_items(chk, e.keys, kt, e.span)
    v = unify_items(chk, e.values, vt, e.span)
    if not is_hashable(k):
        chk.error(e.span, f"unhashable type: '{k}'")
    return DictType(k, v)


def expr_Lambda(chk, e: ir.Lambda, expected):
    ex = resolve(expected) if expected is not None else None
    if isinstance(ex, FuncType) and len(ex.params) == len(e.params):
        pts = list(ex.params)
    else:
        if not isinstance(ex, FuncType):
            chk.error(e.span, "the parameter types of this lambda are unknown here",
                       "store it in an annotated variable (f: Callable[[int], int] = lambda x: ...) "
                       "or pass it where a function is expected")
        else:
            chk.error(e.span, f"this lambda takes {count_of(len(e.params), 'parameter')} "
                               f"where {a_or_an(ex)} is expected")
        pts = [ERROR for _ in e.params]
    for prm, t in zip(e.params, pts):
        prm.ty = t
    saved = chk.scope
    chk.scope = Scope(saved)
    chk.scope.boundary = True
    for prm in e.params:
        chk.scope.vars[prm.name] = prm.ty
    try:
        rt = expr(chk, e.body, ex.ret if isinstance(ex, FuncType) else None)
    finally:
        chk.scope = saved
    if isinstance(ex, FuncType) and not assignable(ex.ret, rt):
        chk.error(e.body.span, f"this lambda must return {ex.ret}, got {rt}")
    chk.func.has_loops_or_calls = True
    return FuncType(tuple(pts), rt)


@hooks.provide
def call_value(chk, e: ir.Call, ft: FuncType) -> Type:
    """Calls a function value (a lambda, a closure, a function passed in)."""
    if e.keywords:
        chk.error(e.keywords[0].span, "keyword arguments cannot be passed to a function value")
    if len(e.args) != len(ft.params):
        chk.error(e.span, f"this {ft} takes {len(ft.params)} argument"
                           f"{'s' if len(ft.params) != 1 else ''}, got {len(e.args)}")
    for a, pt in zip(e.args, ft.params):
        t = expr(chk, a, pt)
        if not assignable(pt, t):
            chk.error(a.span, f"argument must be {pt}, got {t}")
    for a in e.args[len(ft.params):]:
        expr(chk, a)
    e.resolved = ir.ValueCall()
    return ft.ret


def comprehension_scope(chk, gens: List[ir.Comprehension]):
    chk.scope = Scope(chk.scope)
    chk.func.has_loops_or_calls = True
    for g in gens:
        it = hooks.iter_protocol(chk, g, "iter")
        et = elem_type(it)
        if et is None:
            chk.error(g.iter.span, f"cannot iterate over a value of type {it}")
            et = ANY
        bind_comp_target(chk, g.target, et, g.span)
        for c in g.ifs:
            cond(chk, c)


def bind_comp_target(chk, t: ir.Expr, et: Type, span):
    if isinstance(t, ir.Name):
        chk.scope.vars[t.id] = et
        t.ty = et
        t.resolved = ir.Local(t.id)
    elif isinstance(t, ir.TupleLit):
        r = resolve(et)
        if isinstance(r, TupleType) and len(r.items) == len(t.elts):
            for sub, st in zip(t.elts, r.items):
                bind_comp_target(chk, sub, st, span)
        else:
            chk.error(span, f"cannot unpack {a_or_an(et)} into {count_of(len(t.elts), 'name')}")
        t.ty = et
    else:
        chk.error(span, "comprehension targets must be names")


def expr_GenExp(chk, e: ir.GenExp, expected):
    return expr_ListComp(chk, e, expected)


def expr_ListComp(chk, e: ir.ListComp, expected):
    outer = chk.scope
    comprehension_scope(chk, e.generators)
    ex = resolve(expected) if expected is not None else None
    t = expr(chk, e.elt, ex.elem if isinstance(ex, ListType) else None)
    e.comp_vars = dict(chk.scope.vars)
    chk.scope = outer
    if isinstance(ex, ListType) and assignable(ex.elem, t):
        return ex
    return ListType(t)


def expr_SetComp(chk, e: ir.SetComp, expected):
    outer = chk.scope
    comprehension_scope(chk, e.generators)
    t = expr(chk, e.elt)
    e.comp_vars = dict(chk.scope.vars)
    chk.scope = outer
    return SetType(t)


def expr_DictComp(chk, e: ir.DictComp, expected):
    outer = chk.scope
    comprehension_scope(chk, e.generators)
    k = expr(chk, e.key)
    v = expr(chk, e.value)
    e.comp_vars = dict(chk.scope.vars)
    chk.scope = outer
    return DictType(k, v)


@hooks.provide
def zip_star(chk, e: ir.Call) -> Type:
    """zip(*rows): the columns of rows whose items share one type (a list of
    lists, of Tuple[T, ...] or of tuples with one item type), as tuples."""
    star = e.args[0]
    rows = resolve(expr(chk, star.value))
    star.ty = rows
    row = resolve(elem_type(rows)) if isinstance(rows, (ListType, VarTupleType)) else None
    item = None
    if isinstance(row, (ListType, VarTupleType)):
        item = row.elem
    elif isinstance(row, TupleType) and row.items and all(x == row.items[0] for x in row.items):
        item = row.items[0]
    if item is None:
        if not is_error(rows):
            chk.error(e.span, f"zip(*rows) needs rows whose items share one type here, got {rows}",
                       "for pairs of different types, take the columns with comprehensions: "
                       "[p[0] for p in pairs]")
        return ERROR
    e.resolved = ir.BuiltinCall("zip_star")
    return ListType(VarTupleType(item))


def expr_Starred(chk, e: ir.Starred, expected):
    t = expr(chk, e.value)
    chk.error(e.span, f"*{ir_text(e.value)} is supported in calls of compiled functions with *args only",
               "pass the items one by one, or a list")
    return t


def expr_Slice(chk, e: ir.Slice, expected):
    for part in (e.lower, e.upper, e.step):
        if part is not None:
            t = expr(chk, part)
            if resolve(t) not in (INT, BOOL, NONE):
                chk.error(part.span, f"slice indices must be int, got {t}")
    return ERROR


def expr_Subscript(chk, e: ir.Subscript, expected):
    ct = resolve(value(chk, e.value, "'NoneType' object is not subscriptable"))
    e.magic = None
    if is_error(ct):
        expr(chk, e.index)
        return ERROR
    if isinstance(ct, AnyType):
        if isinstance(e.index, ir.Slice):
            chk.error(e.span, "slicing an Any value is not supported", "convert it first: list(x)[a:b]")
        expr(chk, e.index)
        return ANY
    if ct == modules.NDARRAY:
        return nd_rules.nd_subscript(chk, e)
    if isinstance(e.index, ir.TupleLit) and any(isinstance(x, ir.Slice) for x in e.index.elts):
        chk.error(e.index.span, f"'{ct}' indices cannot be tuples with slices (only NDArray has them)")
        return ERROR
    if isinstance(ct, ClassType) and ct.info is not None:
        m = ir.find_method(ct.info, "__getitem__")
        if m is None or len(m.params) != 2:
            chk.error(e.span, f"'{ct.name}' object is not subscriptable", "define __getitem__()")
            expr(chk, e.index)
            return ERROR
        it = expr(chk, e.index, m.params[1].ty)
        if not assignable(m.params[1].ty, it):
            chk.error(e.index.span, f"{ct.name}.__getitem__() takes {a_or_an(m.params[1].ty)}, got {it}")
        e.magic = m
        return m.returns
    if isinstance(e.index, ir.Slice):
        expr(chk, e.index)
        if ct in (STR, BYTES) or isinstance(ct, (ListType, VarTupleType)):
            return ct
        chk.error(e.span, f"'{ct}' cannot be sliced")
        return ERROR
    it = resolve(expr(chk, e.index))
    if isinstance(ct, (ListType, VarTupleType)) or ct in (STR, BYTES):
        if it not in (INT, BOOL):
            chk.error(e.index.span, f"{kind_of(ct)} indices must be integers, not {it}")
        return ct.elem if isinstance(ct, (ListType, VarTupleType)) else (STR if ct == STR else INT)
    if isinstance(ct, DictType):
        if not assignable(ct.key, it):
            chk.error(e.index.span, f"key of type {it} does not fit {a_or_an(ct)}")
        return ct.value
    if isinstance(ct, TupleType):
        idx = const_int(e.index)
        if idx is None:
            items = [resolve(x) for x in ct.items]
            if items and all(x == items[0] for x in items):
                return items[0]
            chk.error(e.index.span, "a tuple with mixed item types needs a constant index")
            return ERROR
        n = len(ct.items)
        if not -n <= idx < n:
            chk.error(e.index.span, f"tuple index {idx} out of range for {a_or_an(ct)}")
            return ERROR
        return ct.items[idx]
    chk.error(e.span, f"'{ct}' is not subscriptable")
    return ERROR


hooks.rules(globals())
