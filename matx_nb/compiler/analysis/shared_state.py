"""Which programs change module-level containers (the thread model, runtime
lock.h): a library whose code may change a module-level list, dict or set holds
one lock of its own in every call from a host, since those containers are
shared by every thread. Read-only module constants (a vocabulary) cost nothing.

Conservative: a module container counts as changed when it receives a mutating
method call or a store into it, or when it escapes where the analysis cannot
follow it (bound to a variable, passed to a function, returned, stored)."""
from __future__ import annotations

from typing import Iterable

from .. import ir, primitives

MUTATING_METHODS = primitives.MUTATING

# Builtins that only read their container argument.
READERS = primitives.READERS


def is_module_container(e) -> bool:
    r = getattr(e, "resolved", None)
    return isinstance(e, ir.Name) and isinstance(r, ir.ConstRef) and \
        isinstance(r.value, (list, dict, set, bytearray))


def changes_module_state(program: ir.Program) -> bool:
    bodies = [f.body for f in program.functions]
    for c in program.classes:
        bodies += [m.body for m in ir.all_methods(c).values()]
        bodies += [m.body for m in ir.all_statics(c).values()]
    return any(_changes(b) for b in bodies)


def _changes(node) -> bool:
    if isinstance(node, list):
        return any(_changes(x) for x in node)
    if not isinstance(node, ir.Node):
        return False
    if isinstance(node, ir.Call):
        r = node.resolved
        f = node.func
        if isinstance(f, ir.Attribute) and is_module_container(f.value):
            if not isinstance(r, ir.PrimitiveCall) or r.name in MUTATING_METHODS:
                return True
            return _any_changes(node.args) or _any_changes(k.value for k in node.keywords)
        if ir.builtin_named(node, READERS):
            return any(_changes(a) for a in node.args if not is_module_container(a)) or \
                _any_changes(k.value for k in node.keywords)
    if isinstance(node, (ir.Assign, ir.AugAssign, ir.Delete)):
        targets = node.targets if isinstance(node, (ir.Assign, ir.Delete)) else [node.target]
        for t in targets:
            if isinstance(t, (ir.Subscript, ir.Attribute)) and is_module_container(t.value):
                return True
    if isinstance(node, ir.Subscript) and is_module_container(node.value):
        return _changes(node.index)  # a read of an item
    if isinstance(node, ir.For) and is_module_container(node.iter):
        return _changes(node.target) or _changes(node.body) or _changes(node.orelse)
    if isinstance(node, ir.Compare) and any(is_module_container(c) for c in node.comparators):
        return _changes(node.left) or any(_changes(c) for c in node.comparators if not is_module_container(c))
    if is_module_container(node):
        return True  # escapes: bound, passed, returned or stored somewhere we do not follow
    return any(_changes(v) for v in ir.child_nodes(node))


def _any_changes(nodes: Iterable) -> bool:
    return any(_changes(n) for n in nodes)
