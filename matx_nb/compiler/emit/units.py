"""A program's C++ as several translation units: one per class and per function,
and one for the entry points (the C ABI the host calls).

A notebook cell of several functions is compiled this way. Each unit's object is
cached by its text (toolchain.compile_units), and the library is linked from the
objects, so editing one function of the cell recompiles only that function's
unit. A unit's text depends only on its own code and on the declarations of
the program (its classes and function signatures), not on the code of the other
units: each unit numbers its own source places and constants.

Every unit sees the same prelude, the declarations of all classes and functions;
the definitions live in namespace `mxp` (not an anonymous one) so that the units
link together. Names stay local to the library: generated code is compiled with
hidden visibility. Container constants of the module (one object per library,
which functions may change) are defined once, in the entry-point unit.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple

from .. import ir
from .cpp import ctype

NS = "mxp"


@dataclass
class Tables:
    """The source places and constants of one unit (Emitter.locs, strs...)."""
    prefix: str = ""
    locs: List[str] = field(default_factory=list)
    loc_index: Dict = field(default_factory=dict)
    strs: List[str] = field(default_factory=list)
    str_index: Dict = field(default_factory=dict)
    tmp: int = 0
    externs: List[str] = field(default_factory=list)  # declarations of the module's constants
    defs: List[str] = field(default_factory=list)  # their definitions (the entry-point unit)
    headers: set = field(default_factory=set)  # the headers its code uses


def swap(em, t: Tables) -> Tables:
    """Makes t the emitter's current tables; returns the ones it had."""
    old = Tables(em.tprefix, em.locs, em.loc_index, em.strs, em.str_index, em.tmp,
                 getattr(em, "externs", []), [])
    em.tprefix, em.locs, em.loc_index, em.strs, em.str_index, em.tmp = (
        t.prefix, t.locs, t.loc_index, t.strs, t.str_index, t.tmp)
    em.externs = t.externs
    return old


def save(em, t: Tables) -> None:
    """Writes the emitter's current counter back into t (lists are shared)."""
    t.tmp = em.tmp


def module_constant(em, value, ty, initializer: Callable[[], str]) -> str:
    """A module-level container constant: defined once in the entry-point unit
    (its initializer's tables there too: initializer() runs with that unit's
    tables), declared where it is used. Named by its type and value, so that a
    unit's text does not depend on the others."""
    abi = em.split_abi
    key = (id(value), str(ty))
    if key not in abi.str_index:
        current = swap(em, abi)
        try:
            init = initializer()
        finally:
            save(em, abi)
            swap(em, current)
        name = "K_" + hashlib.sha256(f"{ctype(ty)}={init}".encode()).hexdigest()[:16]
        abi.str_index[key] = name
        abi.defs.append(f"extern const {ctype(ty)} {name} = {init};")
    name = abi.str_index[key]
    decl = f"extern const {ctype(ty)} {name};"
    if decl not in em.externs:
        em.externs.append(decl)
    return name


def code_units(p: ir.Program) -> List[Tuple[str, object]]:
    """(name, class or function) of each unit of code, in emission order."""
    return [(f"class {c.name}", c) for c in p.classes] + [(f"def {f.name}", f) for f in p.functions]


def unit_prefix(name: str) -> str:
    """The prefix of a unit's table names: from its name, so that it does not
    change when other units come or go."""
    return "u" + hashlib.sha256(name.encode()).hexdigest()[:6] + "_"
