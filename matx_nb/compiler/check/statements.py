"""Statements: each stmt_* rule, assignment targets, local widening. Free functions over the
checker's state `chk` (checker.Checker); block() dispatches on each statement's
class through hooks.STMT.
"""
from __future__ import annotations

from typing import List, Optional

from ..analysis import definite as flow
from .. import ir, modules
from ..kinds import EXC, RANGE, elem_type, ir_walk
from ..diagnostics import Span, a_or_an, count_of
from ..types import (ANY, is_error, FLOAT, INT, NONE, AnyType, ClassType, DictType, FuncType, GenType, ListType,
                     OptionalType, SetType, TupleType, Type, TypeVar, assignable, children, fresh, resolve, unify)
from .common import BUILTINS, EXCEPTIONS, Restart, Scope, always_returns, assigned_names
from ..exceptions import CATCHABLE
from . import hooks
from . import expressions as expr_rules
from . import ndarray as nd_rules


@hooks.provide
def block(chk, stmts: List[ir.Stmt]):
    saved = chk.narrowed
    try:
        for s in stmts:
            hooks.STMT[type(s).__name__](chk, s)
            # `if x is None: return` leaves x not None for the rest of the block.
            if isinstance(s, ir.If) and always_returns(s.body) and not s.orelse:
                chk.narrowed = chk.narrowed | expr_rules.none_tests(chk, s.test, False)
    finally:
        chk.narrowed = saved


def stmt_ExprStmt(chk, s: ir.ExprStmt):
    expr_rules.expr(chk, s.value)


def stmt_Pass(chk, s):
    pass


def stmt_Break(chk, s):
    if chk.loop_depth == 0:
        chk.error(s.span, "'break' outside a loop")


def stmt_Continue(chk, s):
    if chk.loop_depth == 0:
        chk.error(s.span, "'continue' outside a loop")


def stmt_Delete(chk, s: ir.Delete):
    for t in s.targets:
        if not isinstance(t, ir.Subscript):
            what = f"a local ('del {t.id}')" if isinstance(t, ir.Name) else "an attribute"
            chk.error(s.span, f"cannot delete {what}: only 'del container[index]' is supported",
                       "a local keeps its value until the function returns")
            continue
        ct = resolve(expr_rules.value(chk, t.value, "'NoneType' object does not support item deletion"))
        if is_error(ct):
            continue
        idx = expr_rules.expr(chk, t.index)
        if isinstance(ct, ListType):
            if not isinstance(t.index, ir.Slice) and not assignable(INT, idx):
                chk.error(t.index.span, f"list indices must be int, not {idx}")
        elif isinstance(ct, DictType):
            if isinstance(t.index, ir.Slice) or not assignable(ct.key, idx):
                chk.error(t.index.span, f"key of type {idx} does not fit {a_or_an(ct)}")
        elif isinstance(ct, AnyType):
            chk.error(t.span, "del on an Any value is not supported", "convert it to a typed container")
        else:
            chk.error(t.span, f"'{ct}' object doesn't support item deletion")


def stmt_Yield(chk, s: ir.Yield):
    g = resolve(chk.func.returns)
    chk.func.has_loops_or_calls = True
    if not isinstance(g, GenType):
        chk.error(s.span, "'yield' outside a generator function")
        return
    if s.is_from:
        t = expr_rules.value(chk, s.value, "'NoneType' object is not iterable")
        et = elem_type(t)
        if et is None:
            chk.error(s.value.span, f"'yield from' needs an iterable, got {t}")
            return
    else:
        et = expr_rules.expr(chk, s.value, g.elem) if s.value is not None else NONE
    if not assignable(g.elem, et):
        chk.error(s.span, f"{chk.func.qualname}() yields {g.elem} values; this yields {a_or_an(et)}",
                   "a generator yields values of one type (use Any for several)")


def stmt_Return(chk, s: ir.Return):
    if chk.func.is_generator:
        if s.value is not None and not (isinstance(s.value, ir.Const) and s.value.value is None):
            chk.error(s.span, "'return value' in a generator is not supported", "use a bare 'return'")
        return
    want = chk.func.returns
    if s.value is None:
        if not assignable(want, NONE):
            chk.error(s.span, f"{chk.func.qualname}() must return {want}, this returns None")
        return
    got = expr_rules.expr(chk, s.value, expected=want)
    no_range_value(chk, s.value, got)
    if isinstance(resolve(want), TypeVar) and isinstance(resolve(got), AnyType):
        unify(want, got)  # an unannotated function returning a dynamic value returns Any
    if not assignable(want, got):
        hint = ""
        if type(resolve(want)) is type(resolve(got)) and isinstance(resolve(want), (ListType, DictType)):
            hint = (f"{a_or_an(got)} is not {a_or_an(want)}: code holding it could add items of another type; "
                    f"declare the function '-> {got}'")
        chk.error(s.value.span, f"{chk.func.qualname}() must return {want}, got {got}", hint)


def stmt_FuncDef(chk, s: ir.FuncDef):
    f = s.func
    chk.func.has_loops_or_calls = True
    if f.returns is None:
        f.returns = fresh()
    for prm in f.params:
        if prm.default is not None:
            check_default(chk, prm)
    ft = FuncType(tuple(p.ty for p in f.params), f.returns)
    saved = (chk.func, chk.scope, chk.annotated, chk.loop_depth)
    outer = chk.scope
    chk.nested[id(f)] = f
    chk.loop_depth = 0
    chk.func = f
    f.locals, f.assigned_params = {}, set()
    chk.scope = Scope(outer)
    chk.scope.boundary = True
    chk.scope.own = frozenset(n for st in ir_walk(f.body) for n in assigned_names(st))
    # The function may call itself: its name is visible inside.
    chk.scope.vars[f.name] = ft
    chk.annotated = set()
    for prm in f.params:
        chk.scope.vars[prm.name] = prm.ty
    try:
        block(chk, f.body)
        names = {p.name for p in f.params} | {f.name}
        f.locals = {k: v for k, v in chk.scope.vars.items() if k not in names}
        hooks.check_function_end(chk, f)
    finally:
        chk.func, chk.scope, chk.annotated, chk.loop_depth = saved
    if f.name in {n for n in flow.free_names(f)} or calls_itself(chk, f):
        chk.error(s.span, f"nested function {f.name}() calls itself; recursive functions must be "
                           "defined at module level")
    assign_target(chk, ir.Name(s.span, f.name), ft, s.span)


def calls_itself(chk, f: ir.Function) -> bool:
    for call in ir.iter_calls(f.body):
        if isinstance(call.func, ir.Name) and call.func.id == f.name:
            return True
    return False


def check_default(chk, prm: ir.Param):
    t = expr_rules.expr(chk, prm.default, prm.ty)
    if not assignable(prm.ty, t):
        chk.error(prm.default.span, f"default value of '{prm.name}' must be {prm.ty}, got {t}")


def stmt_Try(chk, s: ir.Try):
    block(chk, s.body)
    for h in s.handlers:
        for t in h.types:
            if t not in CATCHABLE:
                chk.error(h.span, f"'except {t}' is not supported in compiled code",
                           "catch a builtin exception class: " + ", ".join(sorted(CATCHABLE)[:8]) + ", ...")
        if h.name:
            assign_target(chk, ir.Name(h.span, h.name), EXC, h.span)
        chk.handler_depth += 1
        try:
            block(chk, h.body)
        finally:
            chk.handler_depth -= 1
    block(chk, s.orelse)
    block(chk, s.finalbody)


def stmt_If(chk, s: ir.If):
    expr_rules.cond(chk, s.test)
    expr_rules.narrowed_block(chk, s.body, expr_rules.none_tests(chk, s.test, True))
    expr_rules.narrowed_block(chk, s.orelse, expr_rules.none_tests(chk, s.test, False))


def stmt_While(chk, s: ir.While):
    expr_rules.cond(chk, s.test)
    chk.func.has_loops_or_calls = True
    chk.loop_depth += 1
    block(chk, s.body)
    chk.loop_depth -= 1
    block(chk, s.orelse)


@hooks.provide
def iter_protocol(chk, node, attr: str):
    """`for x in obj` over an instance with __iter__: iterates obj.__iter__()."""
    t = resolve(expr_rules.value(chk, getattr(node, attr), "'NoneType' object is not iterable"))
    if isinstance(t, ClassType) and t.info is not None and ir.find_method(t.info, "__iter__"):
        it = getattr(node, attr)
        setattr(node, attr, ir.Call(it.span, ir.Attribute(it.span, it, "__iter__"), [], []))
        t = expr_rules.expr(chk, getattr(node, attr))
    return t


def stmt_For(chk, s: ir.For):
    it = iter_protocol(chk, s, "iter")
    chk.func.has_loops_or_calls = True
    et = elem_type(it)
    if et is None:
        chk.error(s.iter.span, f"cannot iterate over a value of type {it}")
        et = ANY
    assign_target(chk, s.target, et, s.iter.span)
    chk.loop_depth += 1
    block(chk, s.body)
    chk.loop_depth -= 1
    block(chk, s.orelse)


def stmt_Assign(chk, s: ir.Assign):
    ann = s.annotation
    if ann is not None and len(s.targets) == 1 and isinstance(s.targets[0], ir.Name):
        name = s.targets[0].id
        prev = chk.scope.lookup(name)
        if prev is None:
            chk.scope.vars[name] = ann
            chk.annotated.add(name)
        elif not (prev == ann):
            chk.error(s.span, f"'{name}' is already {a_or_an(prev)}; it cannot be redeclared as {ann}")
    expected = ann
    if expected is None and len(s.targets) == 1:
        expected = target_type(chk, s.targets[0])
    if expected is None and len(s.targets) == 1 and isinstance(s.targets[0], ir.Name) and \
            chk.scope.lookup(s.targets[0].id) is None:
        expected = returned_as(chk, s.targets[0].id, s.value)
    vt = expr_rules.expr(chk, s.value, expected=expected)
    no_range_value(chk, s.value, vt)
    for t in s.targets:
        assign_target(chk, t, vt if ann is None else ann, s.value.span, value_type=vt)


def no_range_value(chk, value: ir.Expr, t: Type) -> None:
    """A range is compiled where it is used (a loop, len(), list()...): it
    cannot be kept in a variable or returned."""
    if resolve(t) == RANGE:
        chk.error(value.span, "a range() is supported where it is iterated or measured (for loops, "
                   "comprehensions, len(), list(), sum()...), not kept as a value",
                   "write list(range(...)) to keep its numbers")


def returned_as(chk, name: str, value: ir.Expr) -> Optional[Type]:
    """`out = []` ... `return out` in a function declared `-> list` or `-> List`
    (List[Any]; likewise dicts): `out` holds what the function returns, so it is a
    List[Any] from the start, rather than a list of its first items' type, which
    the return would then reject."""
    want = resolve(chk.func.returns) if chk.func.returns is not None else None
    if isinstance(want, ListType) and isinstance(value, ir.ListLit):
        empty = not value.elts
    elif isinstance(want, DictType) and isinstance(value, ir.DictLit):
        empty = not value.keys
    else:
        return None
    if not empty or not any(isinstance(resolve(c), AnyType) for c in children(want)):
        return None
    returns = any(isinstance(r, ir.Return) and isinstance(r.value, ir.Name) and r.value.id == name
                  for r in ir_walk(chk.func.body))
    return want if returns else None


def stmt_AugAssign(chk, s: ir.AugAssign):
    if nd_rules.nd_augassign(chk, s):
        return
    cur = expr_rules.expr(chk, s.target)
    rhs = expr_rules.expr(chk, s.value)
    rt = expr_rules.binop_type(chk, s.op, cur, rhs, s.span)
    if isinstance(s.target, ir.Name) and resolve(cur) == INT and resolve(rt) == FLOAT:
        widen_local(chk, s.target.id, s.span)
    if rt is not None and not assignable(cur, rt):
        chk.error(s.span, f"'{s.op}=' gives {a_or_an(rt)}, which cannot be stored in {a_or_an(cur)}")
    if isinstance(s.target, ir.Name) and s.target.id in {p.name for p in chk.func.params}:
        chk.func.assigned_params.add(s.target.id)


def stmt_Raise(chk, s: ir.Raise):
    if s.exc is None:
        if not chk.handler_depth:
            chk.error(s.span, "a bare 'raise' re-raises the exception being handled; "
                               "it belongs in an except clause")
        return
    e = s.exc
    name = None
    if isinstance(e, ir.Name) and resolve(chk.scope.lookup(e.id) or NONE) == EXC:
        expr_rules.expr(chk, e)
        return  # re-raise a caught exception
    if isinstance(e, ir.Call) and isinstance(e.func, ir.Name):
        name = e.func.id
        for a in e.args:
            expr_rules.expr(chk, a)
        if len(e.args) > 1 or e.keywords:
            chk.error(e.span, "exceptions take at most one argument here")
    elif isinstance(e, ir.Name):
        name = e.id
    if name not in EXCEPTIONS:
        chk.error(e.span, f"can only raise builtin exceptions ({', '.join(sorted(EXCEPTIONS))})")


def stmt_Assert(chk, s: ir.Assert):
    expr_rules.cond(chk, s.test)
    if s.msg is not None:
        expr_rules.expr(chk, s.msg)


# ---- assignment targets
def target_type(chk, t: ir.Expr) -> Optional[Type]:
    """The declared type of an existing target, used as the expected type."""
    if isinstance(t, ir.Name):
        return chk.scope.lookup(t.id)
    if isinstance(t, ir.Attribute):
        base = resolve(peek_type(chk, t.value))
        if isinstance(base, ClassType):
            return ir.find_attr(base.info, t.attr) if base.info else None
    return None


def peek_type(chk, e: ir.Expr) -> Type:
    if isinstance(e, ir.Name):
        t = chk.scope.lookup(e.id)
        if t is not None:
            return t
    return ANY


def widen_local(chk, name: str, span: Span):
    if name in chk.annotated or name in {p.name for p in chk.func.params}:
        return
    chk.widen[(chk.func.qualname, name)] = FLOAT
    raise Restart()


def assign_target(chk, t: ir.Expr, vt: Type, span: Span, value_type: Optional[Type] = None):
    if isinstance(t, ir.Name) and t.id in chk.narrowed and \
            (resolve(vt) == NONE or isinstance(resolve(vt), OptionalType)):
        chk.narrowed = chk.narrowed - {t.id}  # may be None again
    if isinstance(t, ir.Name):
        if t.id in {p.name for p in chk.func.params}:
            chk.func.assigned_params.add(t.id)
        if t.id in BUILTINS and chk.scope.lookup(t.id) is None and t.id not in ("id", "type"):
            chk.error(t.span, f"assigning to the builtin name '{t.id}' is not supported",
                       "use another variable name")
        cur = chk.scope.lookup(t.id)
        if cur is None:
            wide = chk.widen.get((chk.func.qualname, t.id))
            cur = wide if wide is not None else vt
            if wide is None and resolve(vt) == NONE:
                cur = OptionalType(fresh())  # `x = None` now, a value later
            chk.scope.vars[t.id] = cur
        elif not assignable(cur, vt):
            if resolve(cur) == INT and resolve(vt) == FLOAT:
                widen_local(chk, t.id, span)
            chk.error(span, f"'{t.id}' holds {a_or_an(cur)}; it cannot be assigned {a_or_an(vt)}",
                       "a local keeps one type; use another name")
        t.ty = chk.scope.lookup(t.id)
        t.resolved = ir.Local(t.id)
        return
    if isinstance(t, ir.TupleLit):
        vr = resolve(vt)
        if isinstance(vr, TupleType):
            if len(vr.items) != len(t.elts):
                chk.error(span, f"cannot unpack {count_of(len(vr.items), 'value')} "
                                 f"into {count_of(len(t.elts), 'target')}")
                return
            for sub, st in zip(t.elts, vr.items):
                assign_target(chk, sub, st, span)
        else:
            et = elem_type(vr)
            if et is None or isinstance(vr, (DictType, SetType)):
                chk.error(span, f"cannot unpack {a_or_an(vt)}")
                return
            for sub in t.elts:
                assign_target(chk, sub, et, span)
        t.ty = vt
        return
    if isinstance(t, ir.Attribute):
        ot = expr_rules.expr(chk, t.value)
        ob = resolve(ot)
        if isinstance(ob, ClassType) and ob.info is not None:
            at = ir.find_attr(ob.info, t.attr)
            if at is None:
                chk.error(t.span, f"'{ob.name}' has no attribute '{t.attr}'",
                           f"declare it in __init__: self.{t.attr}: T = ...")
                return
            if not assignable(at, vt):
                chk.error(span, f"attribute '{t.attr}' is {a_or_an(at)}; it cannot be assigned {a_or_an(vt)}")
            t.ty = at
            t.resolved = ir.InstanceAttr(ob.info)
            return
        chk.error(t.span, f"cannot set attributes on {a_or_an(ot)}")
        return
    if isinstance(t, ir.Subscript):
        ct = resolve(expr_rules.expr(chk, t.value))
        t.magic = None
        if ct == modules.NDARRAY:
            nd_rules.nd_assign_target(chk, t, value_type if value_type is not None else vt, span)
            return
        if isinstance(ct, AnyType) and not isinstance(t.index, ir.Slice):
            expr_rules.expr(chk, t.index)
            t.ty = ANY
            return
        if isinstance(ct, ClassType) and ct.info is not None:
            m = ir.find_method(ct.info, "__setitem__")
            if m is None or len(m.params) != 3:
                chk.error(t.span, f"'{ct.name}' object does not support item assignment",
                           "define __setitem__()")
                return
            it = expr_rules.expr(chk, t.index, m.params[1].ty)
            if not assignable(m.params[1].ty, it) or not assignable(m.params[2].ty, vt):
                chk.error(span, f"{ct.name}.__setitem__() takes ({m.params[1].ty}, {m.params[2].ty}), "
                                 f"got ({it}, {vt})")
            t.magic = m
            t.ty = m.params[2].ty
            return
        if isinstance(t.index, ir.Slice):
            expr_rules.expr(chk, t.index)
            if not isinstance(ct, ListType):
                chk.error(t.span, f"'{ct}' does not support slice assignment")
            elif not (isinstance(resolve(vt), ListType) and assignable(ct, vt)):
                chk.error(span, f"a slice of {a_or_an(ct)} can be assigned {a_or_an(ct)}, got {vt}",
                           "convert it first: list(...)")
            t.ty = ct
            return
        it = expr_rules.expr(chk, t.index)
        if isinstance(ct, ListType):
            if not assignable(INT, it):
                chk.error(t.index.span, f"list indices must be int, not {it}")
            if not assignable(ct.elem, vt):
                chk.error(span, f"cannot store {a_or_an(vt)} in {a_or_an(ct)}")
            t.ty = ct.elem
        elif isinstance(ct, DictType):
            if not assignable(ct.key, it):
                chk.error(t.index.span, f"key of type {it} does not fit {a_or_an(ct)}")
            if not assignable(ct.value, vt):
                chk.error(span, f"cannot store {a_or_an(vt)} in {a_or_an(ct)}")
            t.ty = ct.value
        else:
            chk.error(t.span, f"'{ct}' does not support item assignment")
        return
    chk.error(t.span, "cannot assign to this expression")

    # ---- expressions


hooks.rules(globals())
