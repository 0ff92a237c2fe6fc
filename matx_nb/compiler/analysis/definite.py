"""Definite assignment: which reads of a local may happen before it is assigned.

Python raises UnboundLocalError there; C++ would read a default value. Reads that
are not provably preceded by an assignment are marked (`Name.check_bound`), and
their variable gets a runtime flag (`Function.maybe_unbound`), so the compiled
code raises UnboundLocalError exactly where CPython does and costs nothing
elsewhere.
"""
from __future__ import annotations

from typing import FrozenSet, Iterable, List, Optional, Set

from .. import ir

ALL = None  # "every name": the state after a statement that never completes


def _meet(a: Optional[FrozenSet[str]], b: Optional[FrozenSet[str]]):
    if a is ALL:
        return b
    if b is ALL:
        return a
    return a & b


class DefiniteAssignment:
    def __init__(self, f: ir.Function):
        self.f = f
        self.locals = set(f.locals)
        self.flagged: Set[str] = set()
        self.break_states: List[List] = []

    def run(self):
        params = frozenset(p.name for p in self.f.params)
        self.block(self.f.body, params)
        self.f.maybe_unbound = self.flagged

    # ---- statements: each returns the set assigned on every path out of it
    def block(self, stmts: List[ir.Stmt], da):
        for s in stmts:
            if da is ALL:
                return ALL
            da = getattr(self, "s_" + type(s).__name__)(s, da)
        return da

    def s_ExprStmt(self, s, da):
        self.reads(s.value, da)
        return da

    def s_Pass(self, s, da):
        return da

    def s_Return(self, s, da):
        if s.value is not None:
            self.reads(s.value, da)
        return ALL

    def s_Raise(self, s, da):
        if s.exc is not None:
            self.reads(s.exc, da)
        return ALL

    def s_Assert(self, s, da):
        self.reads(s.test, da)
        if s.msg is not None:
            self.reads(s.msg, da)
        return da

    def s_Break(self, s, da):
        if self.break_states:
            self.break_states[-1].append(da)
        return ALL

    def s_Continue(self, s, da):
        return ALL

    def s_Assign(self, s, da):
        self.reads(s.value, da)
        for t in s.targets:
            da = self.assign(t, da)
        return da

    def s_AugAssign(self, s, da):
        self.reads(s.target, da)
        self.reads(s.value, da)
        return da

    def s_If(self, s, da):
        self.reads(s.test, da)
        return _meet(self.block(s.body, da), self.block(s.orelse, da))

    def s_While(self, s, da):
        self.reads(s.test, da)
        self.break_states.append([])
        self.block(s.body, da)
        breaks = self.break_states.pop()
        infinite = isinstance(s.test, ir.Const) and s.test.value is True
        out = ALL if infinite else self.block(s.orelse, da)
        for b in breaks:
            out = _meet(out, b)
        return out

    def s_For(self, s, da):
        self.reads(s.iter, da)
        self.break_states.append([])
        self.block(s.body, self.assign(s.target, da))
        breaks = self.break_states.pop()
        out = self.block(s.orelse, da)
        for b in breaks:
            out = _meet(out, b)
        return out

    def s_Try(self, s, da):
        # The body may stop anywhere: a handler starts from what held before it.
        out = self.block(s.orelse, self.block(s.body, da))
        for h in s.handlers:
            start = da | {h.name} if h.name else da
            out = _meet(out, self.block(h.body, start))
        if s.finalbody:
            fin = self.block(s.finalbody, da)  # runs on every path, from at least `da`
            if fin is ALL or out is ALL:
                return ALL
            out = out | fin
        return out

    def s_Delete(self, s, da):
        for t in s.targets:
            self.reads(t, da)
        return da

    def s_Yield(self, s, da):
        if s.value is not None:
            self.reads(s.value, da)
        return da

    def s_FuncDef(self, s, da):
        # A closure copies the outer locals it reads when it is defined.
        for d in (p.default for p in s.func.params if p.default is not None):
            self.reads(d, da)
        for name in free_names(s.func):
            if name in self.locals and name not in da:
                self.flagged.add(name)
                s.check_bound = s.check_bound | {name}
        return da | {s.func.name}

    # ---- expressions
    def assign(self, t: ir.Expr, da):
        if isinstance(t, ir.Name):
            return da | {t.id}
        if isinstance(t, ir.TupleLit):
            for e in t.elts:
                da = self.assign(e, da)
            return da
        self.reads(t, da)  # obj.attr = / obj[i] = read obj and i
        return da

    def reads(self, e, da, bound: FrozenSet[str] = frozenset()):
        if isinstance(e, ir.Name):
            if e.id in self.locals and e.id not in da and e.id not in bound:
                e.check_bound = True
                self.flagged.add(e.id)
            return
        if isinstance(e, ir.Lambda):
            self.reads(e.body, da, bound | {p.name for p in e.params})
            return
        if isinstance(e, (ir.ListComp, ir.SetComp, ir.DictComp)):
            inner = set(bound)
            for g in e.generators:
                self.reads(g.iter, da, frozenset(inner))
                inner |= _names(g.target)
                for c in g.ifs:
                    self.reads(c, da, frozenset(inner))
            parts = [e.key, e.value] if isinstance(e, ir.DictComp) else [e.elt]
            for p in parts:
                self.reads(p, da, frozenset(inner))
            return
        if isinstance(e, (ir.Expr, ir.Keyword)):
            for k, v in vars(e).items():
                if k in ("span", "ty", "resolved", "bound_args", "comp_vars", "binop_ty"):
                    continue
                if isinstance(v, list):
                    for x in v:
                        if isinstance(x, ir.Node):
                            self.reads(x, da, bound)
                elif isinstance(v, ir.Node):
                    self.reads(v, da, bound)


def _names(t) -> Set[str]:
    if isinstance(t, ir.Name):
        return {t.id}
    if isinstance(t, ir.TupleLit):
        out = set()
        for e in t.elts:
            out |= _names(e)
        return out
    return set()


def free_names(f: ir.Function) -> Set[str]:
    """Names a nested function reads that are not its own parameters or locals."""
    own = {p.name for p in f.params} | set(f.locals)
    out: Set[str] = set()

    def visit(node, bound):
        if isinstance(node, ir.Name):
            if node.id not in own and node.id not in bound:
                out.add(node.id)
            return
        if isinstance(node, ir.Lambda):
            visit(node.body, bound | {p.name for p in node.params})
            return
        if isinstance(node, ir.FuncDef):
            out.update(n for n in free_names(node.func) if n not in own and n not in bound)
            return
        if isinstance(node, (ir.ListComp, ir.SetComp, ir.DictComp)):
            inner = set(bound)
            for g in node.generators:
                inner |= _names(g.target)
            bound = frozenset(inner)
        if isinstance(node, list):
            for x in node:
                visit(x, bound)
        elif isinstance(node, ir.Node):
            for v in ir.child_nodes(node):
                visit(v, bound)

    visit(f.body, frozenset())
    return out


def analyze(f: ir.Function):
    DefiniteAssignment(f).run()
