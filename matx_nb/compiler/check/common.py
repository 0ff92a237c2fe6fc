"""What the checker's rule modules share: the builtin names and exception
classes, the scope of names, and small functions over the IR.
"""
from __future__ import annotations

import reprlib
from typing import Dict, List, Optional

from ..exceptions import RAISABLE
from ..analysis import definite as flow
from .. import ir, primitives
from ..types import Type


BUILTINS = frozenset(primitives.FUNCTIONS)

# Classes `raise` may name, and those an except clause may (compiler/exceptions.py).
EXCEPTIONS = RAISABLE

METHOD_KINDS = frozenset(m.kind for m in primitives.METHODS.values())


class Restart(Exception):
    """A local must be widened (int -> float); the function is checked again."""


class Scope:
    boundary = False  # the scope of a nested function or lambda
    own: frozenset = frozenset()  # names a nested function assigns: its locals, never the outer ones

    def __init__(self, parent: Optional["Scope"] = None):
        self.vars: Dict[str, Type] = {}
        self.parent = parent

    def lookup(self, name: str) -> Optional[Type]:
        s = self
        while s is not None:
            if name in s.vars:
                return s.vars[name]
            if s.boundary and name in s.own:
                return None
            s = s.parent
        return None


def too_many_positional(what: str, pos: List[ir.Param], given: int, kwonly_given: int, offset: int) -> str:
    """CPython's message for too many positional arguments (ceval.c)."""
    takes = len(pos) + offset
    least = sum(1 for p in pos if p.default is None) + offset
    sig = f"from {least} to {takes}" if least < takes else str(takes)
    plural = "s" if least < takes or takes != 1 else ""
    given += offset
    kw = ""
    if kwonly_given:
        kw = (f" positional argument{'s' if given != 1 else ''} (and {kwonly_given} keyword-only "
              f"argument{'s' if kwonly_given != 1 else ''})")
    was = "was" if given == 1 and not kwonly_given else "were"
    return f"{what}() takes {sig} positional argument{plural} but {given}{kw} {was} given"


def missing_arguments(what: str, names: List[str], label: str) -> str:
    """CPython's message for missing arguments: "f() missing 2 required positional
    arguments: 'a' and 'b'"."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) == 1:
        listed = quoted[0]
    elif len(quoted) == 2:
        listed = f"{quoted[0]} and {quoted[1]}"
    else:
        listed = ", ".join(quoted[:-1]) + f", and {quoted[-1]}"
    return (f"{what}() missing {len(names)} required {label} argument{'s' if len(names) != 1 else ''}: "
            f"{listed}")


def _is_super(e: ir.Expr) -> bool:
    return isinstance(e, ir.Call) and isinstance(e.func, ir.Name) and e.func.id == "super" and \
        len(e.args) in (0, 2) and not e.keywords


def base_first(classes: List[ir.ClassDef]) -> List[ir.ClassDef]:
    """Classes ordered so that each base comes before its subclasses."""
    out, seen = [], set()

    def visit(c):
        if id(c) in seen:
            return
        seen.add(id(c))
        if c.base is not None and c.base.info is not None and c.base.info in classes:
            visit(c.base.info)
        out.append(c)

    for c in classes:
        visit(c)
    return out


def _is_none_const(e: ir.Expr) -> bool:
    return (isinstance(e, ir.Const) and e.value is None) or (isinstance(e, ir.Name) and e.id == "None")


def assigned_names(st: ir.Stmt) -> set:
    if isinstance(st, ir.Assign):
        return set().union(*(flow._names(t) for t in st.targets))
    if isinstance(st, (ir.AugAssign, ir.For)):
        return flow._names(st.target)
    if isinstance(st, ir.FuncDef):
        return {st.func.name}
    return set()


def ir_text(e: ir.Expr) -> str:
    if isinstance(e, ir.Name):
        return e.id
    if isinstance(e, ir.Attribute):
        return f"{ir_text(e.value)}.{e.attr}"
    return "this value"


def closures_in(f: ir.Function):
    """(node, free names) for each lambda and nested function directly in f."""
    out = []

    def visit(node):
        if isinstance(node, list):
            for x in node:
                visit(x)
            return
        if isinstance(node, ir.FuncDef):
            out.append((node, flow.free_names(node.func)))
            return
        if isinstance(node, ir.Lambda):
            fake = ir.Function(node.span, "<lambda>", "<lambda>", node.params, None,
                               [ir.Return(node.span, node.body)])
            out.append((node, flow.free_names(fake)))
            return
        if isinstance(node, ir.Node):
            for v in ir.child_nodes(node):
                visit(v)

    visit(f.body)
    return out


def short_repr(v, limit: int = 80) -> str:
    """repr(v) cut to a message's length (a module constant may hold 100,000 items)."""
    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlist, r.maxtuple, r.maxdict, r.maxset = limit, limit, 6, 6, 4, 6
    return r.repr(v)


def always_returns(stmts: List[ir.Stmt]) -> bool:
    for s in stmts:
        if isinstance(s, (ir.Return, ir.Raise)):
            return True
        if isinstance(s, ir.If) and always_returns(s.body) and always_returns(s.orelse):
            return True
        if isinstance(s, ir.While) and isinstance(s.test, ir.Const) and s.test.value is True and \
                not any(isinstance(x, ir.Break) for x in _loop_level(s.body)):
            return True
        if isinstance(s, ir.Try):
            if always_returns(s.finalbody):
                return True
            if (always_returns(s.body) or always_returns(s.orelse)) and \
                    all(always_returns(h.body) for h in s.handlers):
                return True
    return False


def _loop_level(stmts):
    """Statements of a loop body, not descending into nested loops."""
    for s in stmts:
        yield s
        if isinstance(s, ir.If):
            yield from _loop_level(s.body)
            yield from _loop_level(s.orelse)
        if isinstance(s, ir.Try):
            for part in [s.body, s.orelse, s.finalbody] + [h.body for h in s.handlers]:
                yield from _loop_level(part)
