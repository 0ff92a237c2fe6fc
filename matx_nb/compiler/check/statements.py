"""Statements: each stmt_* rule, assignment targets, local widening. A mixin of checker.Checker: the rules share
the checker's state (scope, function, diagnostics) through self.
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


class StmtChecks:
    """Mixin of Checker."""

    def block(self, stmts: List[ir.Stmt]):
        saved = self.narrowed
        try:
            for s in stmts:
                getattr(self, "stmt_" + type(s).__name__)(s)
                # `if x is None: return` leaves x not None for the rest of the block.
                if isinstance(s, ir.If) and always_returns(s.body) and not s.orelse:
                    self.narrowed = self.narrowed | self.none_tests(s.test, False)
        finally:
            self.narrowed = saved

    def stmt_ExprStmt(self, s: ir.ExprStmt):
        self.expr(s.value)

    def stmt_Pass(self, s):
        pass

    def stmt_Break(self, s):
        if self.loop_depth == 0:
            self.error(s.span, "'break' outside a loop")

    def stmt_Continue(self, s):
        if self.loop_depth == 0:
            self.error(s.span, "'continue' outside a loop")

    def stmt_Delete(self, s: ir.Delete):
        for t in s.targets:
            if not isinstance(t, ir.Subscript):
                what = f"a local ('del {t.id}')" if isinstance(t, ir.Name) else "an attribute"
                self.error(s.span, f"cannot delete {what}: only 'del container[index]' is supported",
                           "a local keeps its value until the function returns")
                continue
            ct = resolve(self.value(t.value, "'NoneType' object does not support item deletion"))
            if is_error(ct):
                continue
            idx = self.expr(t.index)
            if isinstance(ct, ListType):
                if not isinstance(t.index, ir.Slice) and not assignable(INT, idx):
                    self.error(t.index.span, f"list indices must be int, not {idx}")
            elif isinstance(ct, DictType):
                if isinstance(t.index, ir.Slice) or not assignable(ct.key, idx):
                    self.error(t.index.span, f"key of type {idx} does not fit {a_or_an(ct)}")
            elif isinstance(ct, AnyType):
                self.error(t.span, "del on an Any value is not supported", "convert it to a typed container")
            else:
                self.error(t.span, f"'{ct}' object doesn't support item deletion")

    def stmt_Yield(self, s: ir.Yield):
        g = resolve(self.func.returns)
        self.func.has_loops_or_calls = True
        if not isinstance(g, GenType):
            self.error(s.span, "'yield' outside a generator function")
            return
        if s.is_from:
            t = self.value(s.value, "'NoneType' object is not iterable")
            et = elem_type(t)
            if et is None:
                self.error(s.value.span, f"'yield from' needs an iterable, got {t}")
                return
        else:
            et = self.expr(s.value, g.elem) if s.value is not None else NONE
        if not assignable(g.elem, et):
            self.error(s.span, f"{self.func.qualname}() yields {g.elem} values; this yields {a_or_an(et)}",
                       "a generator yields values of one type (use Any for several)")

    def stmt_Return(self, s: ir.Return):
        if self.func.is_generator:
            if s.value is not None and not (isinstance(s.value, ir.Const) and s.value.value is None):
                self.error(s.span, "'return value' in a generator is not supported", "use a bare 'return'")
            return
        want = self.func.returns
        if s.value is None:
            if not assignable(want, NONE):
                self.error(s.span, f"{self.func.qualname}() must return {want}, this returns None")
            return
        got = self.expr(s.value, expected=want)
        self.no_range_value(s.value, got)
        if isinstance(resolve(want), TypeVar) and isinstance(resolve(got), AnyType):
            unify(want, got)  # an unannotated function returning a dynamic value returns Any
        if not assignable(want, got):
            hint = ""
            if type(resolve(want)) is type(resolve(got)) and isinstance(resolve(want), (ListType, DictType)):
                hint = (f"{a_or_an(got)} is not {a_or_an(want)}: code holding it could add items of another type; "
                        f"declare the function '-> {got}'")
            self.error(s.value.span, f"{self.func.qualname}() must return {want}, got {got}", hint)

    def stmt_FuncDef(self, s: ir.FuncDef):
        f = s.func
        self.func.has_loops_or_calls = True
        if f.returns is None:
            f.returns = fresh()
        for prm in f.params:
            if prm.default is not None:
                self.check_default(prm)
        ft = FuncType(tuple(p.ty for p in f.params), f.returns)
        saved = (self.func, self.scope, self.annotated, self.loop_depth)
        outer = self.scope
        self.nested[id(f)] = f
        self.loop_depth = 0
        self.func = f
        f.locals, f.assigned_params = {}, set()
        self.scope = Scope(outer)
        self.scope.boundary = True
        self.scope.own = frozenset(n for st in ir_walk(f.body) for n in assigned_names(st))
        # The function may call itself: its name is visible inside.
        self.scope.vars[f.name] = ft
        self.annotated = set()
        for prm in f.params:
            self.scope.vars[prm.name] = prm.ty
        try:
            self.block(f.body)
            names = {p.name for p in f.params} | {f.name}
            f.locals = {k: v for k, v in self.scope.vars.items() if k not in names}
            self.check_function_end(f)
        finally:
            self.func, self.scope, self.annotated, self.loop_depth = saved
        if f.name in {n for n in flow.free_names(f)} or self.calls_itself(f):
            self.error(s.span, f"nested function {f.name}() calls itself; recursive functions must be "
                               "defined at module level")
        self.assign_target(ir.Name(s.span, f.name), ft, s.span)

    def calls_itself(self, f: ir.Function) -> bool:
        for call in ir.iter_calls(f.body):
            if isinstance(call.func, ir.Name) and call.func.id == f.name:
                return True
        return False

    def check_default(self, prm: ir.Param):
        t = self.expr(prm.default, prm.ty)
        if not assignable(prm.ty, t):
            self.error(prm.default.span, f"default value of '{prm.name}' must be {prm.ty}, got {t}")

    def stmt_Try(self, s: ir.Try):
        self.block(s.body)
        for h in s.handlers:
            for t in h.types:
                if t not in CATCHABLE:
                    self.error(h.span, f"'except {t}' is not supported in compiled code",
                               "catch a builtin exception class: " + ", ".join(sorted(CATCHABLE)[:8]) + ", ...")
            if h.name:
                self.assign_target(ir.Name(h.span, h.name), EXC, h.span)
            self.handler_depth += 1
            try:
                self.block(h.body)
            finally:
                self.handler_depth -= 1
        self.block(s.orelse)
        self.block(s.finalbody)

    def stmt_If(self, s: ir.If):
        self.cond(s.test)
        self.narrowed_block(s.body, self.none_tests(s.test, True))
        self.narrowed_block(s.orelse, self.none_tests(s.test, False))

    def stmt_While(self, s: ir.While):
        self.cond(s.test)
        self.func.has_loops_or_calls = True
        self.loop_depth += 1
        self.block(s.body)
        self.loop_depth -= 1
        self.block(s.orelse)

    def iter_protocol(self, node, attr: str):
        """`for x in obj` over an instance with __iter__: iterates obj.__iter__()."""
        t = resolve(self.value(getattr(node, attr), "'NoneType' object is not iterable"))
        if isinstance(t, ClassType) and t.info is not None and ir.find_method(t.info, "__iter__"):
            it = getattr(node, attr)
            setattr(node, attr, ir.Call(it.span, ir.Attribute(it.span, it, "__iter__"), [], []))
            t = self.expr(getattr(node, attr))
        return t

    def stmt_For(self, s: ir.For):
        it = self.iter_protocol(s, "iter")
        self.func.has_loops_or_calls = True
        et = elem_type(it)
        if et is None:
            self.error(s.iter.span, f"cannot iterate over a value of type {it}")
            et = ANY
        self.assign_target(s.target, et, s.iter.span)
        self.loop_depth += 1
        self.block(s.body)
        self.loop_depth -= 1
        self.block(s.orelse)

    def stmt_Assign(self, s: ir.Assign):
        ann = s.annotation
        if ann is not None and len(s.targets) == 1 and isinstance(s.targets[0], ir.Name):
            name = s.targets[0].id
            prev = self.scope.lookup(name)
            if prev is None:
                self.scope.vars[name] = ann
                self.annotated.add(name)
            elif not (prev == ann):
                self.error(s.span, f"'{name}' is already {a_or_an(prev)}; it cannot be redeclared as {ann}")
        expected = ann
        if expected is None and len(s.targets) == 1:
            expected = self.target_type(s.targets[0])
        if expected is None and len(s.targets) == 1 and isinstance(s.targets[0], ir.Name) and \
                self.scope.lookup(s.targets[0].id) is None:
            expected = self.returned_as(s.targets[0].id, s.value)
        vt = self.expr(s.value, expected=expected)
        self.no_range_value(s.value, vt)
        for t in s.targets:
            self.assign_target(t, vt if ann is None else ann, s.value.span, value_type=vt)

    def no_range_value(self, value: ir.Expr, t: Type) -> None:
        """A range is compiled where it is used (a loop, len(), list()...): it
        cannot be kept in a variable or returned."""
        if resolve(t) == RANGE:
            self.error(value.span, "a range() is supported where it is iterated or measured (for loops, "
                       "comprehensions, len(), list(), sum()...), not kept as a value",
                       "write list(range(...)) to keep its numbers")

    def returned_as(self, name: str, value: ir.Expr) -> Optional[Type]:
        """`out = []` ... `return out` in a function declared `-> list` or `-> List`
        (List[Any]; likewise dicts): `out` holds what the function returns, so it is a
        List[Any] from the start, rather than a list of its first items' type, which
        the return would then reject."""
        want = resolve(self.func.returns) if self.func.returns is not None else None
        if isinstance(want, ListType) and isinstance(value, ir.ListLit):
            empty = not value.elts
        elif isinstance(want, DictType) and isinstance(value, ir.DictLit):
            empty = not value.keys
        else:
            return None
        if not empty or not any(isinstance(resolve(c), AnyType) for c in children(want)):
            return None
        returns = any(isinstance(r, ir.Return) and isinstance(r.value, ir.Name) and r.value.id == name
                      for r in ir_walk(self.func.body))
        return want if returns else None

    def stmt_AugAssign(self, s: ir.AugAssign):
        if self.nd_augassign(s):
            return
        cur = self.expr(s.target)
        rhs = self.expr(s.value)
        rt = self.binop_type(s.op, cur, rhs, s.span)
        if isinstance(s.target, ir.Name) and resolve(cur) == INT and resolve(rt) == FLOAT:
            self.widen_local(s.target.id, s.span)
        if rt is not None and not assignable(cur, rt):
            self.error(s.span, f"'{s.op}=' gives {a_or_an(rt)}, which cannot be stored in {a_or_an(cur)}")
        if isinstance(s.target, ir.Name) and s.target.id in {p.name for p in self.func.params}:
            self.func.assigned_params.add(s.target.id)

    def stmt_Raise(self, s: ir.Raise):
        if s.exc is None:
            if not self.handler_depth:
                self.error(s.span, "a bare 'raise' re-raises the exception being handled; "
                                   "it belongs in an except clause")
            return
        e = s.exc
        name = None
        if isinstance(e, ir.Name) and resolve(self.scope.lookup(e.id) or NONE) == EXC:
            self.expr(e)
            return  # re-raise a caught exception
        if isinstance(e, ir.Call) and isinstance(e.func, ir.Name):
            name = e.func.id
            for a in e.args:
                self.expr(a)
            if len(e.args) > 1 or e.keywords:
                self.error(e.span, "exceptions take at most one argument here")
        elif isinstance(e, ir.Name):
            name = e.id
        if name not in EXCEPTIONS:
            self.error(e.span, f"can only raise builtin exceptions ({', '.join(sorted(EXCEPTIONS))})")

    def stmt_Assert(self, s: ir.Assert):
        self.cond(s.test)
        if s.msg is not None:
            self.expr(s.msg)

    # ---- assignment targets
    def target_type(self, t: ir.Expr) -> Optional[Type]:
        """The declared type of an existing target, used as the expected type."""
        if isinstance(t, ir.Name):
            return self.scope.lookup(t.id)
        if isinstance(t, ir.Attribute):
            base = resolve(self.peek_type(t.value))
            if isinstance(base, ClassType):
                return ir.find_attr(base.info, t.attr) if base.info else None
        return None

    def peek_type(self, e: ir.Expr) -> Type:
        if isinstance(e, ir.Name):
            t = self.scope.lookup(e.id)
            if t is not None:
                return t
        return ANY

    def widen_local(self, name: str, span: Span):
        if name in self.annotated or name in {p.name for p in self.func.params}:
            return
        self.widen[(self.func.qualname, name)] = FLOAT
        raise Restart()

    def assign_target(self, t: ir.Expr, vt: Type, span: Span, value_type: Optional[Type] = None):
        if isinstance(t, ir.Name) and t.id in self.narrowed and \
                (resolve(vt) == NONE or isinstance(resolve(vt), OptionalType)):
            self.narrowed = self.narrowed - {t.id}  # may be None again
        if isinstance(t, ir.Name):
            if t.id in {p.name for p in self.func.params}:
                self.func.assigned_params.add(t.id)
            if t.id in BUILTINS and self.scope.lookup(t.id) is None and t.id not in ("id", "type"):
                self.error(t.span, f"assigning to the builtin name '{t.id}' is not supported",
                           "use another variable name")
            cur = self.scope.lookup(t.id)
            if cur is None:
                wide = self.widen.get((self.func.qualname, t.id))
                cur = wide if wide is not None else vt
                if wide is None and resolve(vt) == NONE:
                    cur = OptionalType(fresh())  # `x = None` now, a value later
                self.scope.vars[t.id] = cur
            elif not assignable(cur, vt):
                if resolve(cur) == INT and resolve(vt) == FLOAT:
                    self.widen_local(t.id, span)
                self.error(span, f"'{t.id}' holds {a_or_an(cur)}; it cannot be assigned {a_or_an(vt)}",
                           "a local keeps one type; use another name")
            t.ty = self.scope.lookup(t.id)
            t.resolved = ir.Local(t.id)
            return
        if isinstance(t, ir.TupleLit):
            vr = resolve(vt)
            if isinstance(vr, TupleType):
                if len(vr.items) != len(t.elts):
                    self.error(span, f"cannot unpack {count_of(len(vr.items), 'value')} "
                                     f"into {count_of(len(t.elts), 'target')}")
                    return
                for sub, st in zip(t.elts, vr.items):
                    self.assign_target(sub, st, span)
            else:
                et = elem_type(vr)
                if et is None or isinstance(vr, (DictType, SetType)):
                    self.error(span, f"cannot unpack {a_or_an(vt)}")
                    return
                for sub in t.elts:
                    self.assign_target(sub, et, span)
            t.ty = vt
            return
        if isinstance(t, ir.Attribute):
            ot = self.expr(t.value)
            ob = resolve(ot)
            if isinstance(ob, ClassType) and ob.info is not None:
                at = ir.find_attr(ob.info, t.attr)
                if at is None:
                    self.error(t.span, f"'{ob.name}' has no attribute '{t.attr}'",
                               f"declare it in __init__: self.{t.attr}: T = ...")
                    return
                if not assignable(at, vt):
                    self.error(span, f"attribute '{t.attr}' is {a_or_an(at)}; it cannot be assigned {a_or_an(vt)}")
                t.ty = at
                t.resolved = ir.InstanceAttr(ob.info)
                return
            self.error(t.span, f"cannot set attributes on {a_or_an(ot)}")
            return
        if isinstance(t, ir.Subscript):
            ct = resolve(self.expr(t.value))
            t.magic = None
            if ct == modules.NDARRAY:
                self.nd_assign_target(t, value_type if value_type is not None else vt, span)
                return
            if isinstance(ct, AnyType) and not isinstance(t.index, ir.Slice):
                self.expr(t.index)
                t.ty = ANY
                return
            if isinstance(ct, ClassType) and ct.info is not None:
                m = ir.find_method(ct.info, "__setitem__")
                if m is None or len(m.params) != 3:
                    self.error(t.span, f"'{ct.name}' object does not support item assignment",
                               "define __setitem__()")
                    return
                it = self.expr(t.index, m.params[1].ty)
                if not assignable(m.params[1].ty, it) or not assignable(m.params[2].ty, vt):
                    self.error(span, f"{ct.name}.__setitem__() takes ({m.params[1].ty}, {m.params[2].ty}), "
                                     f"got ({it}, {vt})")
                t.magic = m
                t.ty = m.params[2].ty
                return
            if isinstance(t.index, ir.Slice):
                self.expr(t.index)
                if not isinstance(ct, ListType):
                    self.error(t.span, f"'{ct}' does not support slice assignment")
                elif not (isinstance(resolve(vt), ListType) and assignable(ct, vt)):
                    self.error(span, f"a slice of {a_or_an(ct)} can be assigned {a_or_an(ct)}, got {vt}",
                               "convert it first: list(...)")
                t.ty = ct
                return
            it = self.expr(t.index)
            if isinstance(ct, ListType):
                if not assignable(INT, it):
                    self.error(t.index.span, f"list indices must be int, not {it}")
                if not assignable(ct.elem, vt):
                    self.error(span, f"cannot store {a_or_an(vt)} in {a_or_an(ct)}")
                t.ty = ct.elem
            elif isinstance(ct, DictType):
                if not assignable(ct.key, it):
                    self.error(t.index.span, f"key of type {it} does not fit {a_or_an(ct)}")
                if not assignable(ct.value, vt):
                    self.error(span, f"cannot store {a_or_an(vt)} in {a_or_an(ct)}")
                t.ty = ct.value
            else:
                self.error(t.span, f"'{ct}' does not support item assignment")
            return
        self.error(t.span, "cannot assign to this expression")

    # ---- expressions
