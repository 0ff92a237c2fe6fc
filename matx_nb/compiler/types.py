"""Static types of the compiled subset, and the unification used by inference."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


class Type:
    """Base of all types. Types are compared structurally after resolve()."""

    def py_name(self) -> str:  # how the user spells it; each type overrides this
        return type(self).__name__

    def __str__(self) -> str:
        return resolve(self).py_name()


@dataclass(eq=False)
class Prim(Type):
    name: str  # int float bool str bytes None

    def py_name(self) -> str:
        return self.name

    def __eq__(self, other):
        other = resolve(other)
        return isinstance(other, Prim) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


INT = Prim("int")
FLOAT = Prim("float")
BOOL = Prim("bool")
STR = Prim("str")
BYTES = Prim("bytes")
NONE = Prim("None")


@dataclass(eq=False)
class AnyType(Type):
    def py_name(self) -> str:
        return "Any"

    def __eq__(self, other):
        return isinstance(resolve(other), AnyType)

    def __hash__(self):
        return hash("Any")


ANY = AnyType()


class ErrorType(AnyType):
    """The type of an expression already reported as wrong: accepted everywhere,
    so one mistake does not cascade into more diagnostics."""


ERROR = ErrorType()


def is_error(t: Type) -> bool:
    return isinstance(resolve(t), ErrorType)


@dataclass(eq=False)
class ListType(Type):
    elem: Type

    def py_name(self) -> str:
        return f"List[{self.elem}]"

    def __eq__(self, other):
        other = resolve(other)
        return isinstance(other, ListType) and resolve(self.elem) == resolve(other.elem)

    def __hash__(self):
        return hash(("List", resolve(self.elem)))


@dataclass(eq=False)
class SetType(Type):
    elem: Type

    def py_name(self) -> str:
        return f"Set[{self.elem}]"

    def __eq__(self, other):
        other = resolve(other)
        return isinstance(other, SetType) and resolve(self.elem) == resolve(other.elem)

    def __hash__(self):
        return hash(("Set", resolve(self.elem)))


@dataclass(eq=False)
class DictType(Type):
    key: Type
    value: Type

    def py_name(self) -> str:
        return f"Dict[{self.key}, {self.value}]"

    def __eq__(self, other):
        other = resolve(other)
        return (isinstance(other, DictType) and resolve(self.key) == resolve(other.key)
                and resolve(self.value) == resolve(other.value))

    def __hash__(self):
        return hash(("Dict", resolve(self.key), resolve(self.value)))


@dataclass(eq=False)
class TupleType(Type):
    items: Tuple[Type, ...]

    def py_name(self) -> str:
        if not self.items:
            return "Tuple[()]"
        return "Tuple[" + ", ".join(str(t) for t in self.items) + "]"

    def __eq__(self, other):
        other = resolve(other)
        return (isinstance(other, TupleType) and len(other.items) == len(self.items)
                and all(resolve(a) == resolve(b) for a, b in zip(self.items, other.items)))

    def __hash__(self):
        return hash(("Tuple",) + tuple(resolve(t) for t in self.items))


@dataclass(eq=False)
class VarTupleType(Type):
    """Tuple[T, ...]: a tuple of any length with items of type elem (*args)."""
    elem: Type

    def py_name(self) -> str:
        return f"Tuple[{self.elem}, ...]"

    def __eq__(self, other):
        other = resolve(other)
        return isinstance(other, VarTupleType) and resolve(self.elem) == resolve(other.elem)

    def __hash__(self):
        return hash(("VarTuple", resolve(self.elem)))


@dataclass(eq=False)
class ClassType(Type):
    """A user class compiled with the program; `info` is filled by the front end."""
    name: str
    info: object = field(default=None, repr=False)

    def py_name(self) -> str:
        return self.name

    def __eq__(self, other):
        other = resolve(other)
        return isinstance(other, ClassType) and other.name == self.name

    def __hash__(self):
        return hash(("Class", self.name))


@dataclass(eq=False)
class FuncType(Type):
    """A function value: a lambda, a nested function or a module-level one."""
    params: Tuple[Type, ...]
    ret: Type

    def py_name(self) -> str:
        return "Callable[[" + ", ".join(str(t) for t in self.params) + f"], {self.ret}]"

    def __eq__(self, other):
        other = resolve(other)
        return (isinstance(other, FuncType) and len(other.params) == len(self.params)
                and all(resolve(a) == resolve(b) for a, b in zip(self.params, other.params))
                and resolve(self.ret) == resolve(other.ret))

    def __hash__(self):
        return hash(("Func", len(self.params)))


@dataclass(eq=False)
class GenType(Type):
    """A generator producing values of type elem (Iterator[T] in annotations)."""
    elem: Type

    def py_name(self) -> str:
        return f"Iterator[{self.elem}]"

    def __eq__(self, other):
        other = resolve(other)
        return isinstance(other, GenType) and resolve(self.elem) == resolve(other.elem)

    def __hash__(self):
        return hash(("Gen", resolve(self.elem)))


@dataclass(eq=False)
class OptionalType(Type):
    """A value of type `inner`, or None. Using it where `inner` is needed checks
    for None at run time and raises what CPython would (TypeError, AttributeError)."""
    inner: Type

    def py_name(self) -> str:
        return f"Optional[{self.inner}]"

    def __eq__(self, other):
        other = resolve(other)
        return isinstance(other, OptionalType) and resolve(self.inner) == resolve(other.inner)

    def __hash__(self):
        return hash(("Optional", resolve(self.inner)))


def optional(t: Type) -> Type:
    """Optional[t], flattened: Optional[Optional[T]] and Optional[None] stay as they are."""
    r = resolve(t)
    if isinstance(r, (OptionalType, AnyType)) or r == NONE:
        return r
    return OptionalType(t)


@dataclass(eq=False)
class TypeVar(Type):
    """An unknown filled in by inference (the element type of `[]`, say)."""
    ident: int
    bound: Optional[Type] = None

    def py_name(self) -> str:
        return "?" if self.bound is None else self.bound.py_name()

    def __eq__(self, other):
        r = resolve(self)
        if r is self:
            return resolve(other) is self
        return r == other

    def __hash__(self):
        return id(self)


_counter = [0]


def fresh() -> TypeVar:
    _counter[0] += 1
    return TypeVar(_counter[0])


def resolve(t: Type) -> Type:
    while isinstance(t, TypeVar) and t.bound is not None:
        t = t.bound
    return t


def deep_resolve(t: Type) -> Type:
    t = resolve(t)
    if isinstance(t, ListType):
        return ListType(deep_resolve(t.elem))
    if isinstance(t, SetType):
        return SetType(deep_resolve(t.elem))
    if isinstance(t, DictType):
        return DictType(deep_resolve(t.key), deep_resolve(t.value))
    if isinstance(t, TupleType):
        return TupleType(tuple(deep_resolve(x) for x in t.items))
    if isinstance(t, VarTupleType):
        return VarTupleType(deep_resolve(t.elem))
    if isinstance(t, FuncType):
        return FuncType(tuple(deep_resolve(x) for x in t.params), deep_resolve(t.ret))
    if isinstance(t, OptionalType):
        return optional(deep_resolve(t.inner))
    if isinstance(t, GenType):
        return GenType(deep_resolve(t.elem))
    return t


def children(t: Type) -> Tuple[Type, ...]:
    """The component types of a composite type."""
    t = resolve(t)
    if isinstance(t, (ListType, SetType, VarTupleType)):
        return (t.elem,)
    if isinstance(t, DictType):
        return (t.key, t.value)
    if isinstance(t, TupleType):
        return tuple(t.items)
    if isinstance(t, FuncType):
        return tuple(t.params) + (t.ret,)
    if isinstance(t, OptionalType):
        return (t.inner,)
    if isinstance(t, GenType):
        return (t.elem,)
    return ()


def has_unknown(t: Type) -> bool:
    t = resolve(t)
    return isinstance(t, TypeVar) or any(has_unknown(x) for x in children(t))


def occurs(v: TypeVar, t: Type) -> bool:
    t = resolve(t)
    return t is v or any(occurs(v, x) for x in children(t))


def unify(a: Type, b: Type) -> bool:
    """Makes a and b the same type by binding unknowns; False if impossible."""
    a, b = resolve(a), resolve(b)
    if a is b:
        return True
    if isinstance(a, TypeVar):
        if occurs(a, b):
            return False
        a.bound = b
        return True
    if isinstance(b, TypeVar):
        return unify(b, a)
    if isinstance(a, Prim) and isinstance(b, Prim):
        return a.name == b.name
    if isinstance(a, AnyType) and isinstance(b, AnyType):
        return True
    if isinstance(a, ListType) and isinstance(b, ListType):
        return unify(a.elem, b.elem)
    if isinstance(a, SetType) and isinstance(b, SetType):
        return unify(a.elem, b.elem)
    if isinstance(a, DictType) and isinstance(b, DictType):
        return unify(a.key, b.key) and unify(a.value, b.value)
    if isinstance(a, TupleType) and isinstance(b, TupleType):
        return len(a.items) == len(b.items) and all(unify(x, y) for x, y in zip(a.items, b.items))
    if isinstance(a, VarTupleType) and isinstance(b, VarTupleType):
        return unify(a.elem, b.elem)
    if isinstance(a, ClassType) and isinstance(b, ClassType):
        return a.name == b.name
    if isinstance(a, FuncType) and isinstance(b, FuncType):
        return len(a.params) == len(b.params) and \
            all(unify(x, y) for x, y in zip(a.params, b.params)) and unify(a.ret, b.ret)
    if isinstance(a, OptionalType) and isinstance(b, OptionalType):
        return unify(a.inner, b.inner)
    if isinstance(a, GenType) and isinstance(b, GenType):
        return unify(a.elem, b.elem)
    return False


def assignable(target: Type, value: Type) -> bool:
    """Whether a value of type `value` may be stored where `target` is expected.

    int widens to float (as in mypy); everything converts to and from Any;
    otherwise the types must unify.
    """
    t, v = resolve(target), resolve(value)
    if isinstance(t, AnyType) or isinstance(v, AnyType):
        return True
    if t == FLOAT and v in (INT, BOOL):
        return True
    if t == INT and v == BOOL:
        return True
    if isinstance(t, OptionalType):
        if v == NONE:
            return True
        if isinstance(v, OptionalType):
            return assignable(t.inner, v.inner)
        return assignable(t.inner, v)
    if isinstance(v, OptionalType) and not isinstance(t, TypeVar):
        return assignable(t, v.inner)  # checked for None at run time
    if isinstance(t, ClassType) and isinstance(v, ClassType):
        return is_subclass(v, t)
    if isinstance(t, VarTupleType) and isinstance(v, TupleType):  # (1, 2) is a Tuple[int, ...]
        return all(assignable(t.elem, x) for x in v.items)
    return unify(t, v)


def is_subclass(sub: Type, base: Type) -> bool:
    """Whether class type `sub` is `base` or derives from it."""
    sub, base = resolve(sub), resolve(base)
    info = getattr(sub, "info", None)
    while info is not None:
        if info.name == base.name:
            return True
        parent = getattr(info, "base", None)
        info = getattr(parent, "info", None) if parent is not None else None
    return isinstance(sub, ClassType) and isinstance(base, ClassType) and sub.name == base.name


def is_numeric(t: Type) -> bool:
    t = resolve(t)
    return t in (INT, FLOAT, BOOL)


HASHABLE_PRIMS = ("int", "float", "bool", "str", "bytes", "None")


def is_hashable(t: Type) -> bool:
    t = resolve(t)
    if isinstance(t, (Prim,)):
        return t.name in HASHABLE_PRIMS
    if isinstance(t, TupleType):
        return all(is_hashable(x) for x in t.items)
    if isinstance(t, VarTupleType):
        return is_hashable(t.elem)
    if isinstance(t, (AnyType, TypeVar)):
        return True
    if isinstance(t, OptionalType):
        return is_hashable(t.inner)
    return False
