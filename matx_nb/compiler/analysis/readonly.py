"""Which methods only read their instance (the thread model, runtime lock.h): a
call from a host into such a method holds the instance's lock shared, so threads
sharing one object (a vision op in a DataLoader's workers, a Session serving
requests) run it at the same time; every other method holds it alone.

Conservative: a method reads only when, in its body,
- `self` is used only to read an attribute or to call a method that reads only;
- an attribute of a mutable type (a container, an array, a compiled object) is
  only read: indexed, iterated, tested with `in`, passed to a reading builtin
  (`len`...) or to a pure module function (the vision kernels), asked a method
  that does not change it, or, for a compiled object, called where the called
  method reads only itself (recursively);
- nothing is assigned or deleted through `self`;
- nothing may run host code or shared state: no dynamic dispatch on `Any`
  values, no calls of function values, no impure module functions (`random`);
- it is not a generator, and it cannot recurse (a C-stack guard jump would
  skip the shared unlock).
"""
from __future__ import annotations

from typing import Dict, Set, Tuple

from .. import ir
from .shared_state import MUTATING_METHODS, READERS
from ..types import (BOOL, BYTES, FLOAT, INT, NONE, STR, AnyType, DictType, ListType, OptionalType, SetType,
                     TupleType, resolve)

_IMMUTABLE = (INT, FLOAT, BOOL, STR, BYTES, NONE)
_DYNAMIC = (ir.DynMethodCall, ir.DynBuiltinCall, ir.ValueCall, ir.SuperCall)


def elems_immutable(t) -> bool:
    """Whether what indexing or iterating a container of type t gives is immutable
    (else it is a reference into the instance's state)."""
    t = resolve(t)
    if isinstance(t, (ListType, SetType)):
        return immutable(t.elem)
    if isinstance(t, DictType):
        return immutable(t.key) and immutable(t.value)
    return immutable(t)


def may_alias(arg, result) -> bool:
    """Whether a function's result of type `result` may hold its argument of type `arg`."""
    arg, result = resolve(arg), resolve(result)
    if immutable(arg):
        return False
    if result == arg or isinstance(result, AnyType):
        return True
    if isinstance(result, (ListType, SetType)):
        return may_alias(arg, result.elem)
    if isinstance(result, DictType):
        return may_alias(arg, result.key) or may_alias(arg, result.value)
    if isinstance(result, OptionalType):
        return may_alias(arg, result.inner)
    if isinstance(result, TupleType):
        return any(may_alias(arg, x) for x in result.items)
    return False


def immutable(t) -> bool:
    t = resolve(t)
    if t in _IMMUTABLE:
        return True
    if isinstance(t, OptionalType):
        return immutable(t.inner)
    if isinstance(t, TupleType):
        return all(immutable(x) for x in t.items)
    return False


class ReadOnly:
    def __init__(self, program: ir.Program, may_recurse: Set):
        self.may_recurse = may_recurse
        self.memo: Dict[Tuple[int, str], bool] = {}
        self.owner_of: Dict[int, ir.ClassDef] = {}
        for c in program.classes:
            for m in ir.all_methods(c).values():
                self.owner_of.setdefault(id(m), c)

    def shared(self, c: ir.ClassDef, m: ir.Function) -> bool:
        key = (id(c), m.name)
        if key not in self.memo:
            self.memo[key] = False  # a cycle is not proven to read only
            self.memo[key] = self._check(c, m)
        return self.memo[key]

    def _check(self, c: ir.ClassDef, m: ir.Function) -> bool:
        if m.is_generator or m in self.may_recurse or not m.is_method or not m.params or m.name == "__init__":
            return False
        me = m.params[0].name
        permitted: Set[int] = set()  # ids of self / self.a nodes in a reading position
        ok = True

        def self_name(e) -> bool:
            return isinstance(e, ir.Name) and e.id == me

        def self_attr(e) -> bool:
            return isinstance(e, ir.Attribute) and self_name(e.value) and ir.find_attr(c, e.attr) is not None

        def permit(e, elements=False, result=None):
            """e is read here; with elements, what it gives must not be a reference
            into the instance; with a result type, the result must not hold e."""
            if not self_attr(e):
                return
            t = ir.find_attr(c, e.attr)
            if elements and not elems_immutable(t):
                return
            if result is not None and may_alias(t, result):
                return
            permitted.add(id(e))

        def visit(node):
            nonlocal ok
            if not ok:
                return
            if isinstance(node, list):
                for x in node:
                    visit(x)
                return
            if not isinstance(node, ir.Node):
                return
            if isinstance(getattr(node, "resolved", None), _DYNAMIC):
                ok = False
                return
            if isinstance(node, (ir.Assign, ir.AugAssign, ir.Delete)):
                targets = node.targets if isinstance(node, (ir.Assign, ir.Delete)) else [node.target]
                if any(rooted_at_self(t) for t in targets):
                    ok = False
                    return
            if isinstance(node, ir.Call):
                if not self.call_ok(node, c, self_name, self_attr, permit):
                    ok = False
                    return
            elif isinstance(node, ir.Subscript):
                permit(node.value, elements=True)
            elif isinstance(node, ir.For):
                permit(node.iter, elements=True)
            elif isinstance(node, ir.Compare):
                for op, x in zip(node.ops, node.comparators):
                    if op in ("in", "not in"):
                        permit(x)
            for v in ir.child_nodes(node):
                visit(v)

        def rooted_at_self(t) -> bool:
            while isinstance(t, (ir.Attribute, ir.Subscript)):
                t = t.value
            return self_name(t)

        visit(m.body)
        if not ok:
            return False
        # Every other use of self must be the read of an attribute of an immutable type.
        return self.uses_ok(m.body, me, c, permitted)

    def call_ok(self, call: ir.Call, c, self_name, self_attr, permit) -> bool:
        r = call.resolved
        f = call.func
        if isinstance(r, ir.ModuleCall):
            if not r.member.pure:
                return False
            rt = getattr(call, "ty", None)
            for a in call.args:
                permit(a, result=rt if rt is not None else AnyType())
            return True
        if ir.builtin_named(call, READERS):
            for a in call.args:
                permit(a, elements=r.name != "len")
            return True
        if isinstance(r, ir.PrimitiveCall) and isinstance(f, ir.Attribute):
            if r.name in MUTATING_METHODS:
                return not (self_attr(f.value) or self_name(f.value))
            permit(f.value, elements=True)
            return True
        if isinstance(r, ir.MethodCall) and isinstance(f, ir.Attribute):
            info, meth = r.cls, r.method
            recv = f.value
            if recv is not None and (self_name(recv) or self_attr(recv)):
                if info is None or info.has_subclasses or not self.shared(self.owner_of.get(id(meth), info), meth):
                    return False
                permit(recv)
            return True
        return True

    def uses_ok(self, body, me, c, permitted) -> bool:
        bad = False

        def walk(node):
            nonlocal bad
            if bad:
                return
            if isinstance(node, list):
                for x in node:
                    walk(x)
                return
            if not isinstance(node, ir.Node):
                return
            if isinstance(node, ir.Attribute) and isinstance(node.value, ir.Name) and node.value.id == me:
                t = ir.find_attr(c, node.attr)
                if t is not None and id(node) not in permitted and not immutable(t):
                    bad = True
                    return
                return  # self.m(...) of a method: call_ok checked it
            if isinstance(node, ir.Name) and node.id == me:  # self itself: passed, returned, stored...
                bad = True
                return
            for v in ir.child_nodes(node):
                walk(v)

        walk(body)
        return not bad


def shared_methods(program: ir.Program, may_recurse: Set) -> Set[int]:
    """ids of the methods whose host calls may hold their instance's lock shared."""
    ro = ReadOnly(program, may_recurse)
    out = set()
    for c in program.classes:
        for m in ir.all_methods(c).values():
            if ro.shared(c, m):
                out.add(id(m))
    return out
