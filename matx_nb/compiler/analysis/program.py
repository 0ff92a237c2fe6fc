"""Analyses of a whole program or function that the emitter reads: purity, the
call graph and the recursion that needs stack checks, the order in which
operands must be evaluated, and where each name is first used.
"""
from __future__ import annotations

from typing import Dict, List

from .. import ir, primitives
from ..emit.cpp import is_heap
from ..kinds import RANGE, ir_walk
from ..modules import NDARRAY
from ..check.ndarray import index_items, is_index_marker
from ..types import ClassType, ListType, resolve

MUTATING_METHODS = primitives.MUTATING


def first_statement_using(f: ir.Function) -> Dict[str, ir.Stmt]:
    """For each name, the first statement (in source order) that mentions it."""
    first: Dict[str, ir.Stmt] = {}

    def names_in(node, acc):
        if isinstance(node, ir.Name):
            acc.add(node.id)
            return
        if isinstance(node, list):
            for x in node:
                names_in(x, acc)
            return
        if isinstance(node, (ir.Expr, ir.Keyword, ir.Comprehension)):
            for k, v in vars(node).items():
                if k in ("span", "ty", "resolved", "bound_args", "comp_vars", "binop_ty"):
                    continue
                if isinstance(v, (ir.Node, list)):
                    names_in(v, acc)

    def walk(stmts):
        for s in stmts:
            acc = set()
            for k, v in vars(s).items():
                if k in ("span", "body", "orelse", "finalbody", "handlers"):
                    continue
                if isinstance(v, (ir.Node, list)):
                    names_in(v, acc)
            for n in acc:
                first.setdefault(n, s)
            for attr in ("body", "orelse", "finalbody"):
                sub = getattr(s, attr, None)
                if isinstance(sub, list):
                    walk(sub)
            for h in getattr(s, "handlers", None) or ():
                walk(h.body)

    walk(f.body)
    return first




def evaluation_operands(e: ir.Expr) -> List[ir.Expr]:
    """The sub-expressions e evaluates unconditionally, in Python's order."""
    if isinstance(e, ir.BinOp):
        return [e.left, e.right]
    if isinstance(e, ir.Compare) and len(e.ops) == 1:
        return [e.left, e.comparators[0]]
    if isinstance(e, ir.Subscript):
        items = index_items(e.index) if resolve(e.value.ty) == NDARRAY else [e.index]
        out = [e.value]
        for x in items:
            if isinstance(x, ir.Slice):
                out += [b for b in (x.lower, x.upper, x.step) if b is not None]
            elif not is_index_marker(x):
                out.append(x)
        return out
    if isinstance(e, ir.Call) and e.resolved:
        r = e.resolved
        args = [a.value if isinstance(a, ir.Starred) else a for a in e.args] + [k.value for k in e.keywords]
        if isinstance(r, (ir.MethodCall, ir.PrimitiveCall)) or isinstance(r, ir.StaticCall) and r.virtual:
            return [e.func.value] + args
        if ir.builtin_named(e, "range"):
            return []
        return args
    return []


def is_impure(e, pure=frozenset()) -> bool:
    """Whether evaluating e may change state or print: calls into user code that
    writes anything, mutating methods, print."""
    if isinstance(e, ir.Call) and e.resolved:
        r = e.resolved
        if isinstance(r, ir.FuncCall) and r.func not in pure:
            return True
        if isinstance(r, (ir.MethodCall, ir.SuperCall, ir.StaticCall)) and r.method not in pure:
            return True
        if isinstance(r, (ir.ValueCall, ir.NewCall)):
            return True
        if isinstance(r, ir.PrimitiveCall) and r.name in MUTATING_METHODS:
            return True
        if ir.builtin_named(e, "print"):
            return True
        if isinstance(r, ir.ModuleCall) and not r.member.pure:
            return True
    if isinstance(e, (ir.Expr, ir.Keyword, ir.Comprehension)):
        for k, v in vars(e).items():
            if k in ("span", "ty", "resolved", "bound_args", "comp_vars", "binop_ty"):
                continue
            if isinstance(v, list):
                if any(is_impure(x, pure) for x in v if isinstance(x, ir.Node)):
                    return True
            elif isinstance(v, ir.Node) and is_impure(v, pure):
                return True
    return False


def is_stable(e: ir.Expr) -> bool:
    """Operands whose value no call can change: constants and plain locals."""
    if isinstance(e, ir.Const):
        return True
    if isinstance(e, ir.Name):
        return True
    return resolve(e.ty) == RANGE if e.ty is not None else False


def needs_ordering(ops: List[ir.Expr], pure=frozenset()) -> bool:
    unstable = [o for o in ops if not is_stable(o)]
    return len(unstable) >= 2 and any(is_impure(o, pure) for o in unstable)


def writes_state(f: ir.Function) -> bool:
    """Whether f's own body (not its callees) changes state visible to a caller."""
    for st in ir_walk(f.body):
        if isinstance(st, ir.Delete):
            return True  # del xs[i] changes a container the caller may see
        targets = st.targets if isinstance(st, ir.Assign) else [st.target] if isinstance(st, ir.AugAssign) else []
        for t in targets:
            if not isinstance(t, (ir.Name, ir.TupleLit)):
                return True  # attribute or item assignment
            if isinstance(t, ir.TupleLit) and any(not isinstance(x, ir.Name) for x in t.elts):
                return True
        if isinstance(st, ir.AugAssign) and isinstance(resolve(st.target.ty), ListType):
            return True  # xs += ys extends a list the caller may see
        if isinstance(st, ir.AugAssign) and getattr(st, "nd_inplace", False):
            return True  # a += 1 writes an array the caller may see
    for call in iter_calls(f.body):
        r = call.resolved
        if isinstance(r, ir.PrimitiveCall) and r.name in MUTATING_METHODS:
            return True
        if ir.builtin_named(call, "print"):
            return True
    return False


def pure_functions(p: ir.Program) -> set:
    """Functions whose calls have no effect a caller could observe (fib): their
    calls may be evaluated in any order."""
    edges = call_graph(p)
    pure = {f for f in edges if not writes_state(f)}
    changed = True
    while changed:
        changed = False
        for f in list(pure):
            for call in iter_calls(f.body):
                if isinstance(call.resolved, ir.NewCall):
                    pure.discard(f)
                    changed = True
                    break
            else:
                if any(g not in pure for g in edges[f]):
                    pure.discard(f)
                    changed = True
    return pure


def call_graph(p: ir.Program):
    """Edges from each function or method to the user code it calls."""
    funcs = list(p.functions) + [m for c in p.classes for m in c.methods.values()] + \
        [m for c in p.classes for m in c.statics.values()]
    edges = {f: set() for f in funcs}
    for f in funcs:
        for call in iter_calls(f.body):
            r = call.resolved
            if isinstance(r, ir.FuncCall):
                edges[f].add(r.func)
            elif isinstance(r, (ir.MethodCall, ir.SuperCall)):
                edges[f].add(r.method)
                if isinstance(r, ir.MethodCall):  # a virtual call may reach any override
                    for c in p.classes:
                        m = c.methods.get(r.method.name)
                        if m is not None and m in edges and r.cls in ir.class_chain(c):
                            edges[f].add(m)
            elif isinstance(r, ir.StaticCall):
                for c in p.classes:  # the class's own copy, and overrides reached through obj.m()
                    m = c.statics.get(r.method.name)
                    if m is not None and m in edges and (r.cls in ir.class_chain(c) if r.virtual else c is r.cls):
                        edges[f].add(m)
                edges[f].add(r.method)
            elif isinstance(r, ir.NewCall) and ir.find_method(r.cls, "__init__") is not None:
                edges[f].add(ir.find_method(r.cls, "__init__"))
    return edges


iter_calls = ir.iter_calls


NUMERIC_BUILTINS = primitives.NUMERIC_BUILTINS


def allocation_free(f: ir.Function) -> bool:
    """Only numbers, bools and calls: nothing here takes a lock (malloc does)."""
    for p in f.params:
        if is_heap(p.ty) and not isinstance(resolve(p.ty), ClassType):
            return False
    if is_heap(f.returns):
        return False
    if any(is_heap(t) for t in f.locals.values()):
        return False
    for call in iter_calls(f.body):
        r = call.resolved
        if not r:
            return False
        if isinstance(r, ir.BuiltinCall) and (r.name not in NUMERIC_BUILTINS or any(is_heap(a.ty) for a in call.args)):
            return False
        if isinstance(r, (ir.PrimitiveCall, ir.NewCall)):
            return False
    return True


def recursion_needing_checks(p: ir.Program):
    """(functions on a call cycle that may allocate: they check the stack,
    functions that reach a cycle: their entry points are guarded by the host).

    Allocation-free recursion (fib) is left unchecked: the host turns a stack
    overflow there into RecursionError, which is safe because no lock is held.
    """
    edges = call_graph(p)
    free = {f for f in edges if allocation_free(f)}
    # Allocation-free must hold for everything reachable too.
    changed = True
    while changed:
        changed = False
        for f in list(free):
            if any(g not in free for g in edges[f]):
                free.discard(f)
                changed = True
    reach = {}
    for f in edges:
        seen, stack = set(), list(edges[f])
        while stack:
            g = stack.pop()
            if g not in seen:
                seen.add(g)
                stack.extend(edges.get(g, ()))
        reach[f] = seen
    on_cycle = {f for f in edges if f in reach[f]}
    may_recurse = {f for f in edges if f in on_cycle or reach[f] & on_cycle}
    return {f for f in on_cycle if f not in free}, may_recurse
