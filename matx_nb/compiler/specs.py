"""The type specs of the declarations (primitives.py, modules.py) as Types.

One spec language serves the builtin types' methods, the builtin functions and
the module functions:
    str bytes int bool float None any    the builtin types
    index                                a slice bound (an int, or None)
    generic                              any static type, passed to C++ as it is
                                         (a template parameter)
    NDArray re.Pattern re.Match Regex    the opaque types modules declare
    T K V Self                           a receiver's item, key, value, itself
    List[X] Tuple[X, Y] Dict[K, V] Optional[X]
Unions (`str|None`) and `iter[X]` are parameter specs, read by the checker's
rules (check/methods.py), not types.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

from . import primitives
from .types import (ANY, BOOL, BYTES, FLOAT, INT, NONE, STR, DictType, ListType, Prim, SetType, TupleType, Type,
                    VarTupleType, optional, resolve)

# A parameter accepting any static type, passed to C++ unconverted.
GENERIC = Prim("generic")

PRIMS: Dict[str, Type] = {"str": STR, "bytes": BYTES, "int": INT, "index": INT, "bool": BOOL, "float": FLOAT,
                          "None": NONE, "any": ANY, "generic": GENERIC}
MAKE: Dict[str, Callable] = {"List": lambda a: ListType(a[0]), "Tuple": lambda a: TupleType(tuple(a)),
                             "Dict": lambda a: DictType(a[0], a[1]), "Optional": lambda a: optional(a[0])}


def declare(name: str) -> Prim:
    """An opaque type's name in specs (modules.opaque)."""
    PRIMS[name] = Prim(name)
    return PRIMS[name]


def env_of(rt: Optional[Type]) -> primitives.Env:
    """What T, K, V and Self stand for with a receiver of type rt."""
    rt = resolve(rt) if rt is not None else None
    if isinstance(rt, (ListType, SetType, VarTupleType)):
        return primitives.Env(rt, item=rt.elem)
    if isinstance(rt, DictType):
        return primitives.Env(rt, key=rt.key, value=rt.value)
    return primitives.Env(rt, item=ANY)


def spec_type(spec: str, rt: Optional[Type] = None) -> Type:
    """A parameter's or result's type spec as a Type, for a receiver of type rt
    (None for a module function)."""
    return primitives.parse_spec(spec, env_of(rt), PRIMS, MAKE)
