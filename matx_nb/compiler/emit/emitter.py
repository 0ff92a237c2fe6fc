"""C++ code generator: typed IR -> one C++ translation unit.

The output is meant to be read by users: names come from the Python names, one
statement per line, and a `// line N: <python>` mark before each statement.
Operations that can raise get a static Loc so the error names the user's line.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from .. import ir, modules, primitives
from .loops import LoopEmitter
from .ndarray import NDArrayEmitter
from ..kinds import ir_walk
from .units import emit_split
from ..types import ClassType, resolve
from .cpp import LARGE_FUNCTION_STATEMENTS, cname, ctype, comment_text, is_heap, u32_literal, bytes_literal

from .statements import StmtEmitter
from .expressions import ExprEmitter
from .calls import CallEmitter
from .abi import AbiEmitter

MUTATING_METHODS = primitives.MUTATING


class Emitter(StmtEmitter, ExprEmitter, CallEmitter, AbiEmitter, LoopEmitter, NDArrayEmitter):
    """Generates the translation unit for one ir.Program."""

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
    def emit(self) -> str:
        self.checked_recursion, self.may_recurse = self.p.checked_recursion, self.p.may_recurse
        self.shared_methods, self.pure = self.p.shared_methods, self.p.pure
        if self.split:
            view = emit_split(self)
            if view is not None:
                return view
        body_start = len(self.out)
        for c in self.p.classes:
            self.emit_class_decl(c)
        for f in self.p.functions:
            self.line(self.signature(f, f"f_{f.name}") + ";")
        self.line()
        for c in self.p.classes:
            self.emit_class_bodies(c)
        for f in self.p.functions:
            self.emit_function(f, f"f_{f.name}")
        body = self.out
        self.out = []
        self.emit_abi()
        abi = self.out
        head = ["// Generated by matx_nb from Python; each block is marked with its Python line.",
                "#include <matx_nb/runtime.h>"]
        head += self.includes(body)
        head += ["", "namespace {", ""]
        head.append(f"mx::Origin g_origins[] = {{{self.origins_init()}}};")
        head += self.tables(self.locs, self.strs, "") + [""]
        for c in self.p.classes:
            head.append(f"struct C_{c.name};")
        head.append("")
        shift = len(head)
        self.line_map = [(n + shift, f, l) for n, f, l in self.line_map]
        return "\n".join(head + body + abi) + "\n"

    def origins_init(self, lines: bool = True) -> str:
        """g_origins' initializer; the loaders (Python's and the C++ Session) set
        each file and first line, so they may be left out (lines=False)."""
        return ", ".join(f'{{nullptr, {o[1] if lines else 0}, "{o[2]}"}}' for o in self.p.origins)

    def emit_class_bodies(self, c: ir.ClassDef):
        """The definitions of c's methods, constructor and static methods."""
        for m in c.methods.values():
            self.cls = c
            self.emit_function(m, f"C_{c.name}::m_{m.name}")
        self.emit_constructor(c)
        for m in c.statics.values():
            self.cls, self.in_static = c, True
            self.emit_function(m, f"C_{c.name}::s_{m.name}")
            self.in_static = False
            self.emit_static_thunk(c, m)
        self.cls = None

    def includes(self, body: List[str]) -> List[str]:
        """The #include and link lines of the headers the program uses."""
        head = []
        if any("std::function<" in line for line in body):
            self.headers.add("functional")
        head += [f"#include <{h}>" for h in sorted(self.headers)]
        head += [f"// matx_nb-link: {modules.LINK_FLAGS[h]}" for h in sorted(self.headers) if h in modules.LINK_FLAGS]
        head += [f"// matx_nb-object: {modules.OBJECTS[h]}" for h in sorted(self.headers) if h in modules.OBJECTS]
        return head

    @staticmethod
    def tables(locs: List[str], strs: List[str], prefix: str) -> List[str]:
        """The definitions of a unit's source places (the places where errors can
        happen) and constants."""
        out = []
        if locs:
            out += [f"const mx::Loc {prefix}L[] = {{"] + ["  " + x for x in locs] + ["};"]
        return out + strs

    # ---- classes
    def emit_class_decl(self, c: ir.ClassDef):
        parent = f"C_{c.base.name}" if c.base is not None else "mx::Instance"
        final = "" if c.has_subclasses else " final"
        self.line(f"struct C_{c.name}{final} : {parent} {{")
        self.ind += 1
        self.line(f'const char* type_name() const override {{ return "{c.name}"; }}')
        for name, t in c.attrs.items():
            self.line(f"{ctype(t)} a_{name}{{}};")
        virtual = "virtual " if c.has_subclasses or c.base is not None else ""
        for name, v in c.consts.items():
            t = c.const_types[name]
            self.line(f"{virtual}{ctype(t)} k_{name}() const {{ return {self.typed_const(v, t)}; }}")
        for m in c.methods.values():
            v = virtual if m.name != "__init__" else ""
            self.line(v + self.signature(m, f"m_{m.name}") + ";")
        for m in c.statics.values():
            self.line("static " + self.signature(m, f"s_{m.name}") + ";")
            self.line(virtual + self.thunk_signature(m, f"v_{m.name}") + ";")
        self.emit_protocol_hooks(c)
        init = ir.find_method(c, "__init__")
        params = ", ".join(self.param_decl(p) for p in init.params[1:]) if init else ""
        self.line(f"static mx::Ref<C_{c.name}> new_({params});")
        self.ind -= 1
        self.line("};")
        self.line()

    def thunk_signature(self, m: ir.Function, name: str) -> str:
        """The instance-side entry of a static or class method (obj.m(...)): one
        C++ signature for every class, so that overrides dispatch virtually."""
        return f"{ctype(m.returns)} {name}({', '.join(self.param_decl(p) for p in m.params)})"

    def emit_static_thunk(self, c: ir.ClassDef, m: ir.Function):
        args = ", ".join(cname(p.name) for p in m.params)
        self.line(self.thunk_signature(m, f"C_{c.name}::v_{m.name}") + " {")
        self.line(f"  return C_{c.name}::s_{m.name}({args});")
        self.line("}")
        self.line()

    def emit_protocol_hooks(self, c: ir.ClassDef):
        """Overrides of mx::Instance's hooks for the protocol methods c defines."""
        ms = c.methods
        me = f"const_cast<C_{c.name}*>(this)"
        if "__repr__" in ms:
            self.line(f"mx::Str py_repr() const override {{ return {me}->m___repr__(); }}")
        if "__str__" in ms:
            self.line(f"mx::Str py_str() const override {{ return {me}->m___str__(); }}")
        if "__bool__" in ms:
            self.line(f"bool py_bool() const override {{ return {me}->m___bool__(); }}")
        elif "__len__" in ms:
            self.line(f"bool py_bool() const override {{ return {me}->m___len__() != 0; }}")
        for hook, name in (("py_eq", "__eq__"), ("py_lt", "__lt__")):
            m = ms.get(name)
            if m is None or len(m.params) != 2 or not isinstance(resolve(m.params[1].ty), ClassType):
                continue
            other = resolve(m.params[1].ty).name
            extra = ", const mx::Loc* loc" if hook == "py_lt" else ""
            fallback = "return mx::Instance::py_lt(o, loc);" if hook == "py_lt" else "return false;"
            self.line(f"bool {hook}(const mx::Instance* o{extra}) const override {{")
            self.line(f"  auto* p = dynamic_cast<const C_{other}*>(o);")
            self.line(f"  if (!p) {{ {fallback} }}")
            self.line(f"  return mx::truth({me}->m_{name}(mx::Ref<C_{other}>::borrow(const_cast<C_{other}*>(p))));")
            self.line("}")
        if "__hash__" in ms:
            self.line(f"int64_t py_hash() const override {{ return {me}->m___hash__(); }}")

    def emit_constructor(self, c: ir.ClassDef):
        init = ir.find_method(c, "__init__")
        params = init.params[1:] if init else []
        ps = ", ".join(self.param_decl(p) for p in params)
        self.line(f"mx::Ref<C_{c.name}> C_{c.name}::new_({ps}) {{")
        self.line(f"  auto self = mx::Ref<C_{c.name}>::make();")
        if init:
            self.line(f"  self->m___init__({', '.join(cname(p.name) for p in params)});")
        self.line("  return self;")
        self.line("}")
        self.line()

    # ---- functions
    def param_decl(self, p: ir.Param, fn: Optional[ir.Function] = None) -> str:
        t = ctype(p.ty)
        if fn is not None and fn.is_method and fn.name != "__init__" and self.in_hierarchy(fn):
            return f"{t} {cname(p.name)}"  # overrides must keep one C++ signature
        if is_heap(p.ty) and not (fn and p.name in fn.assigned_params):
            return f"const {t}& {cname(p.name)}"
        return f"{t} {cname(p.name)}"

    def in_hierarchy(self, f: ir.Function) -> bool:
        c = resolve(f.params[0].ty).info if f.params and f.params[0].ty is not None else None
        return c is not None and (c.has_subclasses or c.base is not None)

    def signature(self, f: ir.Function, name: str) -> str:
        params = f.params[1:] if f.is_method else f.params
        ps = ", ".join(self.param_decl(p, f) for p in params)
        return f"{ctype(f.returns)} {name}({ps})"

    def emit_function(self, f: ir.Function, name: str):
        self.func = f
        if sum(1 for _ in ir_walk(f.body)) >= LARGE_FUNCTION_STATEMENTS:
            self.line("// a long function: optimized lightly, or g++ would take time growing with the "
                      "square of its length")
            self.line('__attribute__((optimize("O1", "no-tree-pta", "no-early-inlining")))')
        self.line(self.signature(f, name) + " {")
        self.ind += 1
        if f in self.checked_recursion:
            self.line(f"mx::check_stack({self.loc(f)});  // recursive and allocates: never overflow the C stack")
        if f.is_generator:
            self.emit_generator_body(f)
        else:
            self.emit_body(f)
        self.ind -= 1
        self.line("}")
        self.line()
        self.func = None
