"""What the checker and the emitter both know of the builtin types: the opaque
kinds (range, exception, file), a type's method kind and the type of its items,
the protocol methods of operators, and small walks over the IR.
"""
from __future__ import annotations

from typing import Optional

from . import ir, modules
from .types import (ANY, BYTES, INT, STR, AnyType, ClassType, DictType, GenType, ListType, Prim, SetType, TupleType,
                    Type,
                    VarTupleType, resolve)

RANGE = Prim("range")
EXC = Prim("exception")  # a caught exception (`except E as e`)
FILE = Prim("file")  # a text file opened for reading


def kind_of(t: Type) -> str:
    t = resolve(t)
    if isinstance(t, Prim):
        return t.name
    if isinstance(t, ListType):
        return "list"
    if isinstance(t, DictType):
        return "dict"
    if isinstance(t, SetType):
        return "set"
    if isinstance(t, (TupleType, VarTupleType)):
        return "tuple"
    if isinstance(t, ClassType):
        return "class"
    if isinstance(t, AnyType):
        return "any"
    return "unknown"


def elem_type(t: Type) -> Optional[Type]:
    """The type produced by iterating over t, or None if t is not iterable."""
    t = resolve(t)
    if isinstance(t, (ListType, SetType, VarTupleType)):
        return t.elem
    if isinstance(t, DictType):
        return t.key
    if t == STR:
        return STR
    if t == BYTES:
        return INT
    if t == RANGE:
        return INT
    if t == FILE:
        return STR
    if isinstance(t, AnyType):
        return ANY
    if isinstance(t, GenType):
        return t.elem
    if t == modules.NDARRAY:
        return ANY  # rows: numbers or arrays, known at run time
    if isinstance(t, TupleType):
        items = [resolve(x) for x in t.items]
        if items and all(x == items[0] for x in items):
            return items[0]
        return None
    return None


def const_int(e: ir.Expr) -> Optional[int]:
    if isinstance(e, ir.Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value
    if isinstance(e, ir.UnaryOp) and e.op == "-" and isinstance(e.operand, ir.Const) and \
            isinstance(e.operand.value, int):
        return -e.operand.value
    return None


MAGIC_BINOPS = {"+": "__add__", "-": "__sub__", "*": "__mul__", "/": "__truediv__",
                "//": "__floordiv__", "%": "__mod__", "**": "__pow__", "<<": "__lshift__",
                ">>": "__rshift__", "&": "__and__", "|": "__or__", "^": "__xor__"}
# op -> (method, the right operand's reflected method)
MAGIC_COMPARE = {"<": ("__lt__", "__gt__"), "<=": ("__le__", "__ge__"), ">": ("__gt__", "__lt__"),
                 ">=": ("__ge__", "__le__"), "==": ("__eq__", "__eq__"), "!=": ("__ne__", "__ne__")}
MAGIC_BUILTINS = {"len": "__len__", "hash": "__hash__"}


def ir_walk(stmts):
    for s in stmts:
        yield s
        for attr in ("body", "orelse", "finalbody"):
            sub = getattr(s, attr, None)
            if isinstance(sub, list):
                yield from ir_walk(sub)
        for h in getattr(s, "handlers", None) or ():
            yield from ir_walk(h.body)
