"""C++ code generator: typed IR -> one C++ translation unit.

The output is meant to be read by users: names come from the Python names, one
statement per line, and a `// line N: <python>` mark before each statement.
Operations that can raise get a static Loc so the error names the user's line.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from .. import ir, modules, primitives
from ..kinds import ir_walk
from .units import NS, Tables, code_units, save, swap, unit_prefix
from ..types import ClassType, resolve
from .cpp import LARGE_FUNCTION_STATEMENTS, cname, ctype, comment_text, is_heap, u32_literal, bytes_literal

from . import abi as abi
from . import expressions as expr_rules
from . import statements as stmt_rules
from . import builtins as builtin_emit, calls as call_rules, loops as loop_rules, ndarray as nd_rules

# Every rule module enters its rules into hooks on import: they all are, from here.
RULE_MODULES = (loop_rules, nd_rules, expr_rules, builtin_emit, call_rules, stmt_rules, abi)

MUTATING_METHODS = primitives.MUTATING


class Emitter:
    """The emitter's state for one ir.Program: the lines written so far, the
    source places and constants they use, the temporaries, and where it stands
    (function, class, loop). The rules are free functions over it in the
    modules of this package; emit() below is the entry."""

    def __init__(self, program: ir.Program, source_lines, class_layouts: Dict[str, str], split: bool = False):
        self.p = program
        # split: one translation unit per function and class where there are several
        # (emit/units.py); self.units then holds them, else None.
        self.split = split
        self.units: Optional[List[Tuple[str, str]]] = None
        self.tprefix = ""  # of the names of this unit's tables (L, S, K, T)
        self.split_abi = None  # units.Tables of the entry-point unit, while splitting
        self.ns_open, self.ns_close, self.ns_name = "namespace {", "}  // namespace", ""
        if not program.analyzed:
            raise ValueError("emitting a program passes.run() has not analyzed")
        self.locks_module = program.locks_module  # runtime lock.h
        self.source_lines = source_lines  # callable (file, line) -> text
        self.layouts = class_layouts
        self.locs: List[str] = []
        self.loc_index: Dict[Tuple[int, int, int], str] = {}
        self.strs: List[str] = []
        self.str_index: Dict[Tuple[type, object], str] = {}
        self.tmp = 0
        self.out: List[str] = []
        self.ind = 0
        self.func: Optional[ir.Function] = None
        self.cls: Optional[ir.ClassDef] = None
        self.in_static = False  # emitting a static or class method of self.cls: no `this`
        self.loop_flags: List[Optional[str]] = []
        self.break_exits: Dict[int, str] = {}  # loop level -> what a break does first (blocked_loop)
        self.origin_first_line = {i: o[1] for i, o in enumerate(program.origins)}
        self.line_map: List[Tuple[int, str, int]] = []  # (cpp line, file, python line)
        self.preset: Dict[int, str] = {}  # operands already evaluated into temporaries
        self.headers: set = set()  # module headers the program uses (matx_nb/mod/*.h)
        self.cur_node: Optional[ir.Node] = None  # the statement being emitted
        self.finally_stack: List[Tuple[list, int]] = []  # (finally body, loop depth) being inside

    # ---- small helpers
    def new_tmp(self, stem="t") -> str:
        self.tmp += 1
        return f"_mx_{stem}{self.tmp}"

    def line(self, text: str = ""):
        self.out.append("  " * self.ind + text if text else "")

    def loc(self, node: ir.Node) -> str:
        origin = self.func.origin if self.func else 0
        rel = node.span.line - self.origin_first_line[origin] + 1
        key = (origin, rel, node.span.col)
        if key not in self.loc_index:
            # One array, not a variable per place: g++'s IPA passes slow down with the
            # square of the number of variables (20,000 of them took 10 s of 50).
            self.loc_index[key] = f"&{self.tprefix}L[{len(self.locs)}]"
            self.locs.append(f"{{&g_origins[{origin}], {rel}, {node.span.col}}},  // L[{len(self.locs)}]")
        return self.loc_index[key]

    def const_str(self, v) -> str:
        key = (type(v), v)
        if key not in self.str_index:
            name = f"{self.tprefix}S{len(self.strs)}"
            if isinstance(v, str):
                self.strs.append(f"const mx::Str {name}({u32_literal(v)}, {len(v)});")
            else:
                self.strs.append(f"const mx::Bytes {name}({bytes_literal(v)}, {len(v)});")
            self.str_index[key] = name
        return self.str_index[key]

    def mark(self, node: ir.Node):
        self.cur_node = node
        text = self.source_lines(node.span.file, node.span.line).strip()
        if len(text) > 100:
            text = text[:97] + "..."
        self.line(f"// line {node.span.line}: {comment_text(text)}")
        self.line_map.append((len(self.out), node.span.file, node.span.line))


# ---- program
def emit(em) -> str:
    em.checked_recursion, em.may_recurse = em.p.checked_recursion, em.p.may_recurse
    em.shared_methods, em.pure = em.p.shared_methods, em.p.pure
    if em.split:
        view = emit_split(em)
        if view is not None:
            return view
    body_start = len(em.out)
    for c in em.p.classes:
        emit_class_decl(em, c)
    for f in em.p.functions:
        em.line(signature(em, f, f"f_{f.name}") + ";")
    em.line()
    for c in em.p.classes:
        emit_class_bodies(em, c)
    for f in em.p.functions:
        emit_function(em, f, f"f_{f.name}")
    body = em.out
    em.out = []
    abi.emit_abi(em)
    abi_lines = em.out
    head = ["// Generated by matx_nb from Python; each block is marked with its Python line.",
            "#include <matx_nb/runtime.h>"]
    head += includes(em, body)
    head += ["", "namespace {", ""]
    head.append(f"mx::Origin g_origins[] = {{{origins_init(em)}}};")
    head += tables(em.locs, em.strs, "") + [""]
    for c in em.p.classes:
        head.append(f"struct C_{c.name};")
    head.append("")
    shift = len(head)
    em.line_map = [(n + shift, f, l) for n, f, l in em.line_map]
    return "\n".join(head + body + abi_lines) + "\n"


def origins_init(em, lines: bool = True) -> str:
    """g_origins' initializer; the loaders (Python's and the C++ Session) set
    each file and first line, so they may be left out (lines=False)."""
    return ", ".join(f'{{nullptr, {o[1] if lines else 0}, "{o[2]}"}}' for o in em.p.origins)


def emit_class_bodies(em, c: ir.ClassDef):
    """The definitions of c's methods, constructor and static methods."""
    for m in c.methods.values():
        em.cls = c
        emit_function(em, m, f"C_{c.name}::m_{m.name}")
    emit_constructor(em, c)
    for m in c.statics.values():
        em.cls, em.in_static = c, True
        emit_function(em, m, f"C_{c.name}::s_{m.name}")
        em.in_static = False
        emit_static_thunk(em, c, m)
    em.cls = None


def includes(em, body: List[str]) -> List[str]:
    """The #include and link lines of the headers the program uses."""
    head = []
    if any("std::function<" in line for line in body):
        em.headers.add("functional")
    head += [f"#include <{h}>" for h in sorted(em.headers)]
    head += [f"// matx_nb-link: {modules.LINK_FLAGS[h]}" for h in sorted(em.headers) if h in modules.LINK_FLAGS]
    head += [f"// matx_nb-object: {modules.OBJECTS[h]}" for h in sorted(em.headers) if h in modules.OBJECTS]
    return head


def tables(locs: List[str], strs: List[str], prefix: str) -> List[str]:
    """The definitions of a unit's source places (the places where errors can
    happen) and constants."""
    out = []
    if locs:
        out += [f"const mx::Loc {prefix}L[] = {{"] + ["  " + x for x in locs] + ["};"]
    return out + strs


# ---- classes
def emit_class_decl(em, c: ir.ClassDef):
    parent = f"C_{c.base.name}" if c.base is not None else "mx::Instance"
    final = "" if c.has_subclasses else " final"
    em.line(f"struct C_{c.name}{final} : {parent} {{")
    em.ind += 1
    em.line(f'const char* type_name() const override {{ return "{c.name}"; }}')
    for name, t in c.attrs.items():
        em.line(f"{ctype(t)} a_{name}{{}};")
    virtual = "virtual " if c.has_subclasses or c.base is not None else ""
    for name, v in c.consts.items():
        t = c.const_types[name]
        em.line(f"{virtual}{ctype(t)} k_{name}() const {{ return {expr_rules.typed_const(em, v, t)}; }}")
    for m in c.methods.values():
        v = virtual if m.name != "__init__" else ""
        em.line(v + signature(em, m, f"m_{m.name}") + ";")
    for m in c.statics.values():
        em.line("static " + signature(em, m, f"s_{m.name}") + ";")
        em.line(virtual + thunk_signature(em, m, f"v_{m.name}") + ";")
    emit_protocol_hooks(em, c)
    init = ir.find_method(c, "__init__")
    params = ", ".join(param_decl(em, p) for p in init.params[1:]) if init else ""
    em.line(f"static mx::Ref<C_{c.name}> new_({params});")
    em.ind -= 1
    em.line("};")
    em.line()


def thunk_signature(em, m: ir.Function, name: str) -> str:
    """The instance-side entry of a static or class method (obj.m(...)): one
    C++ signature for every class, so that overrides dispatch virtually."""
    return f"{ctype(m.returns)} {name}({', '.join(param_decl(em, p) for p in m.params)})"


def emit_static_thunk(em, c: ir.ClassDef, m: ir.Function):
    args = ", ".join(cname(p.name) for p in m.params)
    em.line(thunk_signature(em, m, f"C_{c.name}::v_{m.name}") + " {")
    em.line(f"  return C_{c.name}::s_{m.name}({args});")
    em.line("}")
    em.line()


def emit_protocol_hooks(em, c: ir.ClassDef):
    """Overrides of mx::Instance's hooks for the protocol methods c defines."""
    ms = c.methods
    me = f"const_cast<C_{c.name}*>(this)"
    if "__repr__" in ms:
        em.line(f"mx::Str py_repr() const override {{ return {me}->m___repr__(); }}")
    if "__str__" in ms:
        em.line(f"mx::Str py_str() const override {{ return {me}->m___str__(); }}")
    if "__bool__" in ms:
        em.line(f"bool py_bool() const override {{ return {me}->m___bool__(); }}")
    elif "__len__" in ms:
        em.line(f"bool py_bool() const override {{ return {me}->m___len__() != 0; }}")
    for hook, name in (("py_eq", "__eq__"), ("py_lt", "__lt__")):
        m = ms.get(name)
        if m is None or len(m.params) != 2 or not isinstance(resolve(m.params[1].ty), ClassType):
            continue
        other = resolve(m.params[1].ty).name
        extra = ", const mx::Loc* loc" if hook == "py_lt" else ""
        fallback = "return mx::Instance::py_lt(o, loc);" if hook == "py_lt" else "return false;"
        em.line(f"bool {hook}(const mx::Instance* o{extra}) const override {{")
        em.line(f"  auto* p = dynamic_cast<const C_{other}*>(o);")
        em.line(f"  if (!p) {{ {fallback} }}")
        em.line(f"  return mx::truth({me}->m_{name}(mx::Ref<C_{other}>::borrow(const_cast<C_{other}*>(p))));")
        em.line("}")
    if "__hash__" in ms:
        em.line(f"int64_t py_hash() const override {{ return {me}->m___hash__(); }}")


def emit_constructor(em, c: ir.ClassDef):
    init = ir.find_method(c, "__init__")
    params = init.params[1:] if init else []
    ps = ", ".join(param_decl(em, p) for p in params)
    em.line(f"mx::Ref<C_{c.name}> C_{c.name}::new_({ps}) {{")
    em.line(f"  auto self = mx::Ref<C_{c.name}>::make();")
    if init:
        em.line(f"  self->m___init__({', '.join(cname(p.name) for p in params)});")
    em.line("  return self;")
    em.line("}")
    em.line()


# ---- functions
def param_decl(em, p: ir.Param, fn: Optional[ir.Function] = None) -> str:
    t = ctype(p.ty)
    if fn is not None and fn.is_method and fn.name != "__init__" and in_hierarchy(em, fn):
        return f"{t} {cname(p.name)}"  # overrides must keep one C++ signature
    if is_heap(p.ty) and not (fn and p.name in fn.assigned_params):
        return f"const {t}& {cname(p.name)}"
    return f"{t} {cname(p.name)}"


def in_hierarchy(em, f: ir.Function) -> bool:
    c = resolve(f.params[0].ty).info if f.params and f.params[0].ty is not None else None
    return c is not None and (c.has_subclasses or c.base is not None)


def signature(em, f: ir.Function, name: str) -> str:
    params = f.params[1:] if f.is_method else f.params
    ps = ", ".join(param_decl(em, p, f) for p in params)
    return f"{ctype(f.returns)} {name}({ps})"


def emit_function(em, f: ir.Function, name: str):
    em.func = f
    if sum(1 for _ in ir_walk(f.body)) >= LARGE_FUNCTION_STATEMENTS:
        em.line("// a long function: optimized lightly, or g++ would take time growing with the "
                  "square of its length")
        em.line('__attribute__((optimize("O1", "no-tree-pta", "no-early-inlining")))')
    em.line(signature(em, f, name) + " {")
    em.ind += 1
    if f in em.checked_recursion:
        em.line(f"mx::check_stack({em.loc(f)});  // recursive and allocates: never overflow the C stack")
    if f.is_generator:
        stmt_rules.emit_generator_body(em, f)
    else:
        stmt_rules.emit_body(em, f)
    em.ind -= 1
    em.line("}")
    em.line()
    em.func = None


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

    def emit_with(t: Tables, write) -> List[str]:
        previous = swap(em, t)
        em.out, em.line_map, em.headers = [], [], set()
        write()
        save(em, t)
        swap(em, previous)
        t.headers = em.headers
        return em.out

    prelude_t = Tables(prefix="P")

    def prelude():
        for c in em.p.classes:
            em.line(f"struct C_{c.name};")
        for c in em.p.classes:
            emit_class_decl(em, c)
        for f in em.p.functions:
            em.line(signature(em, f, f"f_{f.name}") + ";")
        em.line()
    prelude_lines = emit_with(prelude_t, prelude)

    bodies = []  # (name, lines, line_map, tables)
    for name, obj in units:
        t = Tables(prefix=unit_prefix(name))

        def body(obj=obj):
            if isinstance(obj, ir.ClassDef):
                emit_class_bodies(em, obj)
            else:
                emit_function(em, obj, f"f_{obj.name}")
        lines = emit_with(t, body)
        bodies.append((name, lines, em.line_map, t))
    abi_lines = emit_with(em.split_abi, lambda: abi.emit_abi(em))
    bodies.append(("the entry points", abi_lines, em.line_map, em.split_abi))

    # Every unit includes what the program's code uses: the prelude's declarations
    # may need any of it (mx::Gen, NDArray...).
    em.headers = set().union(prelude_t.headers, *(t.headers for _, _, _, t in bodies))
    include_lines = includes(em, [x for _, body, _, _ in bodies for x in body] + prelude_lines)

    def head(title: str, unit_tables: List[Tables], entry: bool) -> List[str]:
        return [f"// Generated by matx_nb from Python: {title}.",
                "#include <matx_nb/runtime.h>", *include_lines, "",
                em.ns_open,
                # first lines left to the loaders: code moving down the cell changes no unit
                f"mx::Origin g_origins[] = {{{origins_init(em, lines=False)}}};" if entry
                else "extern mx::Origin g_origins[];",
                *dict.fromkeys(x for t in unit_tables for x in t.externs),
                "namespace {",
                *(x for t in unit_tables for x in tables(t.locs, t.strs, t.prefix)),
                "}  // namespace",
                *(x for t in unit_tables for x in t.defs),
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
