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
from typing import Dict, List, Optional, Tuple

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


def module_constant(em, value, ty) -> str:
    """A module-level container constant: defined once in the entry-point unit
    (its initializer's tables there too), declared where it is used. Named by its
    type and value, so that a unit's text does not depend on the others."""
    abi = em.split_abi
    key = (id(value), str(ty))
    if key not in abi.str_index:
        current = swap(em, abi)
        try:
            init = em.typed_const(value, ty)
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


def emit_split(em) -> Optional[str]:
    """Emits em's program as units (em.units: [(name, text)]) and returns the
    text shown to the reader (the units joined into one translation unit), or
    None where the program is one function (one unit: nothing to gain)."""
    units = code_units(em.p)
    # One function: one unit. A class has heavy entry points (a wrapper per
    # method, its attributes' operations): its unit and theirs compile in
    # parallel, and editing a method recompiles the class only.
    if len(units) < 2 and not (units and isinstance(units[0][1], ir.ClassDef)):
        return None
    em.ns_open, em.ns_close, em.ns_name = f"namespace {NS} {{", f"}}  // namespace {NS}", NS
    em.split_abi = Tables(prefix=unit_prefix("entry points"))
    em.externs = []

    def emit_with(t: Tables, emit) -> List[str]:
        previous = swap(em, t)
        em.out, em.line_map, em.headers = [], [], set()
        emit()
        save(em, t)
        swap(em, previous)
        t.headers = em.headers
        return em.out

    prelude_t = Tables(prefix="P")

    def prelude():
        for c in em.p.classes:
            em.line(f"struct C_{c.name};")
        for c in em.p.classes:
            em.emit_class_decl(c)
        for f in em.p.functions:
            em.line(em.signature(f, f"f_{f.name}") + ";")
        em.line()
    prelude_lines = emit_with(prelude_t, prelude)

    bodies = []  # (name, lines, line_map, tables)
    for name, obj in units:
        t = Tables(prefix=unit_prefix(name))

        def body(obj=obj):
            if isinstance(obj, ir.ClassDef):
                em.emit_class_bodies(obj)
            else:
                em.emit_function(obj, f"f_{obj.name}")
        lines = emit_with(t, body)
        bodies.append((name, lines, em.line_map, t))
    abi_lines = emit_with(em.split_abi, em.emit_abi)
    bodies.append(("the entry points", abi_lines, em.line_map, em.split_abi))

    # Every unit includes what the program's code uses: the prelude's declarations
    # may need any of it (mx::Gen, NDArray...).
    em.headers = set().union(prelude_t.headers, *(t.headers for _, _, _, t in bodies))
    includes = em.includes([x for _, body, _, _ in bodies for x in body] + prelude_lines)

    def head(title: str, tables: List[Tables], entry: bool) -> List[str]:
        return [f"// Generated by matx_nb from Python: {title}.",
                "#include <matx_nb/runtime.h>", *includes, "",
                em.ns_open,
                # first lines left to the loaders: code moving down the cell changes no unit
                f"mx::Origin g_origins[] = {{{em.origins_init(lines=False)}}};" if entry
                else "extern mx::Origin g_origins[];",
                *dict.fromkeys(x for t in tables for x in t.externs),
                "namespace {",
                *(x for t in tables for x in em.tables(t.locs, t.strs, t.prefix)),
                "}  // namespace",
                *(x for t in tables for x in t.defs),
                ""]

    texts = []
    for i, (name, lines, lmap, t) in enumerate(bodies):
        entry = i == len(bodies) - 1
        # emit_abi closes the namespace, opens mx, then reopens it
        text = head(f"the translation unit of {name}", [prelude_t, t], entry) + prelude_lines + lines + \
            ([] if entry else [em.ns_close])
        texts.append((name, "\n".join(text) + "\n"))
    # The same code as one translation unit, for the reader, and saved with the
    # library (an exported pipeline rebuilds it from this): the units' names of
    # their tables differ, so they do not clash.
    joined = head("one translation unit per function and class, here one after the other",
                  [prelude_t] + [t for _, _, _, t in bodies], True) + prelude_lines
    line_map = []
    for i, (name, lines, lmap, t) in enumerate(bodies):
        joined += [f"// ---- the translation unit of {name}", ""]
        line_map += [(k + len(joined), f, l) for k, f, l in lmap]
        joined += lines
    em.units = texts
    em.line_map = line_map
    em.split_abi = None
    return "\n".join(joined) + "\n"


def unit_prefix(name: str) -> str:
    """The prefix of a unit's table names: from its name, so that it does not
    change when other units come or go."""
    return "u" + hashlib.sha256(name.encode()).hexdigest()[:6] + "_"
