"""Container parameters a function may change in place.

A `List`, `Dict` or `Set` argument from Python arrives as a typed copy; when the
compiled function may change that copy in place (`xs.append(v)`, `d[k] = v`,
`xs.sort()`, handing it to code that might), the entry point copies the result
back into the caller's object after the call (`mx::write_back`), so the caller
sees the change as it would in Python. The copy made on entry is what is
written back, so rebinding the parameter (`xs = [...]`) does not leak into the
caller. Nested containers are written back by value (the caller's outer list
gets new inner lists).

The analysis is conservative: a use of the parameter that is not a plain read
counts as a possible change.
"""
from typing import Set

from .. import ir, primitives
from .borrow import READING_BUILTINS, _Facts
from ..types import AnyType, DictType, ListType, SetType, TupleType, resolve

NON_MUTATING = {
    "list": frozenset(("count", "index", "copy")),
    "dict": frozenset(("get", "keys", "values", "items", "copy")),
    "set": frozenset(("copy", "union", "intersection", "difference", "symmetric_difference",
                      "issubset", "issuperset", "isdisjoint")),
}
CONTAINERS = (ListType, DictType, SetType)


def _changeable(t) -> bool:
    """Whether a value of type t can be changed in place behind the parent's back
    (a container, or a tuple or Any holding one; instances are shared, not copied)."""
    t = resolve(t)
    if isinstance(t, (*CONTAINERS, AnyType)):
        return True
    if isinstance(t, TupleType):
        return any(_changeable(x) for x in t.items)
    return False


def _mutable_items(t) -> bool:
    """Whether reading an item hands out something the function could change."""
    t = resolve(t)
    items = [t.elem] if isinstance(t, (ListType, SetType)) else [t.key, t.value]
    return any(_changeable(x) for x in items)


def _reads_only(facts: _Facts, use: ir.Name, t) -> bool:
    p = facts.parent.get(id(use))
    deep = _mutable_items(t)
    if isinstance(p, (ir.For, ir.Comprehension)):
        return p.iter is use and not deep
    if isinstance(p, ir.Subscript):
        if p.value is not use or deep:
            return False
        # a store or a del through the subscript changes the container
        q = facts.parent.get(id(p))
        if isinstance(q, ir.Assign) and p in q.targets:
            return False
        if isinstance(q, (ir.Delete, ir.AugAssign)):
            return False
        return True
    if isinstance(p, ir.Attribute):
        call = facts.parent.get(id(p))
        kind = {ListType: "list", DictType: "dict", SetType: "set"}[type(resolve(t))]
        return isinstance(call, ir.Call) and call.func is p and isinstance(call.resolved, ir.PrimitiveCall) and \
            call.resolved.name in NON_MUTATING[kind] and not (deep and call.resolved.name != "count")
    if isinstance(p, ir.Compare):
        return True
    if isinstance(p, ir.Call):
        if use not in p.args:
            return False
        if ir.builtin_named(p, READING_BUILTINS):
            return not deep or p.resolved.name in primitives.DEEP_READERS
        return ir.primitive_named(p, "str", "join")
    if isinstance(p, ir.Return):
        return True
    if isinstance(p, ir.Assign):
        return use in p.targets  # rebinding the name; `x = param` aliases it
    return False


def mutated_params(f: ir.Function) -> Set[str]:
    """Names of f's List/Dict/Set parameters that f may change in place."""
    facts = _Facts(f)
    out = set()
    for prm in f.params:
        t = resolve(prm.ty)
        if not isinstance(t, CONTAINERS):
            continue
        for u in facts.uses.get(prm.name, ()):
            if not ir.is_local(u):
                continue
            if not _reads_only(facts, u, t):
                out.add(prm.name)
                break
    return out
