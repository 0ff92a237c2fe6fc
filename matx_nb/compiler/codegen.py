"""C++ code generator: typed IR -> one C++ translation unit.

The output is meant to be read by users: names come from the Python names, one
statement per line, and a `// line N: <python>` mark before each statement.
Operations that can raise get a static Loc so the error names the user's line.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Tuple

from . import ir, modules, primitives, readonly, shared_state
from .borrow import borrowed_loops, inline_split_temps, mark_item_moves, mark_self_move
from .writeback import mutated_params
from .builtins_codegen import LoopEmitter, builtin_name
from .modules import NDARRAY
from .ndarray_codegen import NDArrayEmitter
from .ndarray_checker import index_items, is_index_marker
from .checker import EXC, FILE, RANGE, elem_type, kind_of, const_int
from . import method_checks
from .types import (ANY, BOOL, BYTES, FLOAT, INT, NONE, STR, AnyType, ClassType, DictType, FuncType,
                    GenType, OptionalType,
                    ListType, Prim, SetType, TupleType, Type, VarTupleType, children, resolve)

# The C++ names of user identifiers: every one carries the prefix of its kind
# (functions f_, classes C_, attributes a_, methods m_, class constants k_, static
# methods s_, locals and parameters v_, their "is bound" flags b_), so no macro
# (INT_MAX, M_PI, __LINE__, unix, assert...), keyword or generated name (L0, S0,
# _mx_t1, h, args) can collide with one. The host still sees the Python names.
LOCAL_PREFIX = "v_"

ERR_KINDS = {"Exception", "TypeError", "ValueError", "IndexError", "KeyError",
             "ZeroDivisionError", "OverflowError", "AttributeError", "RuntimeError",
             "NotImplementedError", "AssertionError", "StopIteration", "LookupError",
             "ArithmeticError", "NameError"}


DYN_BINOPS = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv", "%": "mod",
              "**": "pow", "<<": "lshift", ">>": "rshift", "&": "and", "|": "or", "^": "xor"}

# except clause names -> runtime ErrKinds (most are the same name).
EXCEPT_KINDS = {"BaseException": ["Exception", "KeyboardInterrupt"], "UnicodeError": ["UnicodeDecodeError", "UnicodeEncodeError"],
                "IOError": ["OSError"], "json.JSONDecodeError": ["JSONDecodeError"],
                "binascii.Error": ["BinasciiError"], "re.error": ["ReError"]}


MAX_HOST_ARGS = 64  # the most arguments the hosts pass (kMaxArgs in runtime/python/native.cc)

# Literals and module constants of this many scalar items or more become data
# tables (runtime table.h): as braced initializers g++ took minutes for 10,000 strings.
LITERAL_TABLE_MIN = 64
TABLE_ROW = 16  # items per line of a table, for the reader
# Functions of this many statements or more are compiled at -O1, without points-to
# analysis and without early inlining: in g++ -O3 those take time growing with the
# square of a function's length (5,000 statements of str/list/dict code: 86 s of
# g++ CPU time, 6 s so). The runtime's small functions are then called, not inlined.
LARGE_FUNCTION_STATEMENTS = 500


def cname(name: str) -> str:
    """The C++ name of a local variable or parameter."""
    return LOCAL_PREFIX + name


def host_symbol(kind: str, *parts: str) -> str:
    """The C++ name of a host-facing function (kind w: a wrapper, g/s: an attribute's
    getter/setter): each part carries its length, so no two (class, member) pairs
    share a name (class A's b_c and class A_b's c would as plain w_A_b_c)."""
    return kind + "".join(f"_{len(p)}{p}" for p in parts)


def bound_flag(name: str) -> str:
    """The C++ flag that says whether a maybe-unbound local has a value."""
    return "b_" + name


def ctype(t: Type) -> str:
    t = resolve(t)
    if isinstance(t, Prim):
        if t.name in modules.TYPES:
            return modules.TYPES[t.name].ctype
        return {"int": "int64_t", "float": "double", "bool": "bool", "str": "mx::Str",
                "bytes": "mx::Bytes", "None": "mx::None", "file": "mx::TextFile",
                "exception": "mx::Error"}.get(t.name, "mx::None")
    if isinstance(t, ListType):
        return f"mx::List<{ctype(t.elem)}>"
    if isinstance(t, SetType):
        return f"mx::Set<{ctype(t.elem)}>"
    if isinstance(t, DictType):
        return f"mx::Dict<{ctype(t.key)}, {ctype(t.value)}>"
    if isinstance(t, TupleType):
        return "mx::Tuple<" + ", ".join(ctype(x) for x in t.items) + ">"
    if isinstance(t, VarTupleType):
        return f"mx::VTuple<{ctype(t.elem)}>"
    if isinstance(t, ClassType):
        return f"mx::Ref<C_{t.name}>"
    if isinstance(t, AnyType):
        return "mx::Any"
    if isinstance(t, FuncType):
        return f"std::function<{ctype(t.ret)}(" + ", ".join(ctype(x) for x in t.params) + ")>"
    if isinstance(t, OptionalType):
        return f"mx::Opt<{ctype(t.inner)}>"
    if isinstance(t, GenType):
        return f"mx::Gen<{ctype(t.elem)}>"
    return "mx::None"


def host_convertible(t: Type) -> bool:
    """Whether values of t cross the boundary to Python (functions do not)."""
    t = resolve(t)
    if isinstance(t, FuncType):
        return False
    from .types import children
    return all(host_convertible(x) for x in children(t))


def cstr_literal(text: str) -> str:
    """A C string literal (UTF-8) for a message."""
    out = []
    for b in text.encode():
        c = chr(b)
        out.append(c if 32 <= b < 127 and c not in '"\\?' else f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def comment_text(text: str) -> str:
    """Source text made safe for a `//` comment: a control character (CR ends a
    line for g++) or a lone surrogate is shown escaped, `??` never forms a trigraph,
    and a final backslash (which would splice the next C++ line into the comment)
    is followed by a note."""
    out = []
    for ch in text:
        c = ord(ch)
        if ch == "\t":
            out.append(" ")
        elif c < 0x20 or c == 0x7F:
            out.append(f"\\x{c:02x}")
        elif 0xD800 <= c <= 0xDFFF:
            out.append(f"\\u{c:04x}")
        elif ch == "?" and out and out[-1].endswith("?"):
            out.append("\\?")
        else:
            out.append(ch)
    text = "".join(out).rstrip()
    if text.endswith("\\"):
        text += " [the line ends with a backslash]"
    return text


def literal_values(elts: List[ir.Expr]) -> Optional[list]:
    """The Python values of constant items (`5`, `-2.5`, `"w"`), or None if some
    item is computed."""
    out = []
    for x in elts:
        if isinstance(x, ir.Const):
            out.append(x.value)
        elif isinstance(x, ir.UnaryOp) and x.op == "-" and isinstance(x.operand, ir.Const) and \
                type(x.operand.value) in (int, float):
            out.append(-x.operand.value)
        else:
            return None
    return out


def table_scalar(v, t: Type):
    """v as an item of a data table of type t (int, float, bool, str, bytes), or
    None where it is not one (an Optional's None, a nested container, an Any)."""
    if t == INT and type(v) in (int, bool) and -2 ** 63 <= v < 2 ** 63:
        return int(v)
    if t == FLOAT and type(v) in (int, float, bool):
        return float(v)
    if t == BOOL and type(v) is bool:
        return v
    if (t == STR and type(v) is str) or (t == BYTES and type(v) is bytes):
        return v
    return None


def is_heap(t: Type) -> bool:
    t = resolve(t)
    return not (isinstance(t, Prim) and t.name in ("int", "float", "bool", "None"))


def u32_literal(s: str) -> str:
    out = []
    for ch in s:
        c = ord(ch)
        after_hex = bool(out) and out[-1].startswith("\\x")  # \xd800 would take a following "a" in
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= c < 0x7F and ch != "?" and not (after_hex and ch in "0123456789abcdefABCDEF"):
            out.append(ch)
        elif c < 0x10000:
            out.append(f"\\u{c:04x}" if not (0xD800 <= c <= 0xDFFF) else f"\\x{c:x}")
        else:
            out.append(f"\\U{c:08x}")
    return 'U"' + "".join(out) + '"'


def bytes_literal(b: bytes) -> str:
    out = []
    for c in b:
        ch = chr(c)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= c < 0x7F and ch != "?":
            out.append(ch)
        else:
            out.append(f"\\{c:03o}")
    return '"' + "".join(out) + '"'


def float_literal(v: float) -> str:
    if math.isnan(v):
        return "std::numeric_limits<double>::quiet_NaN()"
    if math.isinf(v):
        return ("-" if v < 0 else "") + "std::numeric_limits<double>::infinity()"
    r = repr(v)
    if "e" not in r and "." not in r:
        r += ".0"
    return r


def int_literal(v: int) -> str:
    if v == -(2 ** 63):
        return "(-9223372036854775807L - 1)"
    return f"{v}L" if v >= 0 else f"({v}L)"


class Emitter(LoopEmitter, NDArrayEmitter):
    """Generates the translation unit for one ir.Program."""

    def __init__(self, program: ir.Program, source_lines, class_layouts: Dict[str, str], split: bool = False):
        self.p = program
        # split: one translation unit per function and class where there are several
        # (units.py); self.units then holds them, else None.
        self.split = split
        self.units: Optional[List[Tuple[str, str]]] = None
        self.tprefix = ""  # of the names of this unit's tables (L, S, K, T)
        self.split_abi = None  # units.Tables of the entry-point unit, while splitting
        self.ns_open, self.ns_close, self.ns_name = "namespace {", "}  // namespace", ""
        self.locks_module = shared_state.changes_module_state(program)  # runtime lock.h
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
        self.borrowed_loops: set = set()  # ids of the for statements binding by reference
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
        self.checked_recursion, self.may_recurse = recursion_needing_checks(self.p)
        self.shared_methods = readonly.shared_methods(self.p, self.may_recurse)
        self.pure = pure_functions(self.p)
        if self.split:
            from .units import emit_split
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
        from .checker import ir_walk
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

    def emit_generator_body(self, f: ir.Function):
        """The body runs lazily in a coroutine (matx_nb/gen.h); it keeps copies of
        the arguments (and the instance, for a method) alive while it exists."""
        self.headers.add("matx_nb/gen.h")
        et = ctype(resolve(f.returns).elem)
        keep = f", keep_ = mx::Ref<C_{self.cls.name}>::borrow(this)" \
            if self.cls is not None and not self.in_static else ""
        self.line(f"return mx::make_gen<{et}>([={keep}](mx::GenObj<{et}>& gen_) mutable -> void {{")
        self.ind += 1
        self.emit_body(f)
        self.ind -= 1
        self.line("});")

    def slice_args(self, sl: ir.Slice) -> str:
        return ", ".join(self.coerced(x, INT) if x is not None and resolve(x.ty) != NONE else "mx::Omit{}"
                         for x in (sl.lower, sl.upper, sl.step))

    def stmt_Delete(self, s: ir.Delete):
        self.headers.add("matx_nb/mutate.h")
        for t in s.targets:
            c, ct, loc = self.expr(t.value), resolve(t.value.ty), self.loc(t)
            if isinstance(t.index, ir.Slice):
                self.line(f"mx::list_delslice({c}, {self.slice_args(t.index)}, {loc});")
            elif isinstance(ct, DictType):
                self.line(f"mx::dict_delitem({c}, {self.coerced(t.index, ct.key)}, {loc});")
            else:
                self.line(f"mx::list_delitem({c}, {self.coerced(t.index, INT)}, {loc});")

    def stmt_Yield(self, s: ir.Yield):
        et = resolve(self.func.returns).elem
        if not s.is_from:
            value = self.coerced(s.value, et) if s.value is not None else "mx::None{}"
            self.line(f"gen_.yield({value});")
            return

        def on_item(item, t):
            self.line(f"gen_.yield({self.coerce(item, t, et)});")
        self.iterate(s.value, s, on_item)

    def stmt_FuncDef(self, s: ir.FuncDef):
        f = s.func
        for name in sorted(getattr(s, "check_bound", ())):
            self.line(f'(void)mx::bound_read({cname(name)}, {bound_flag(name)}, "{name}", {self.loc(s)});')
        ps = ", ".join(f"{ctype(p.ty)} {cname(p.name)}" for p in f.params)
        target = cname(f.name)
        if f.name in self.declared_late:
            target = f"{ctype(FuncType(tuple(p.ty for p in f.params), f.returns))} {target}"
        self.line(f"{target} = [=]({ps}) mutable -> {ctype(f.returns)} {{")
        saved = (self.func, self.declared_late, self.loop_flags, self.finally_stack, self.break_exits)
        self.func, self.loop_flags, self.finally_stack, self.break_exits = f, [], [], {}
        self.ind += 1
        self.emit_body(f)
        self.ind -= 1
        self.func, self.declared_late, self.loop_flags, self.finally_stack, self.break_exits = saved
        self.line("};")
        if f.name in getattr(self.func, "maybe_unbound", ()):
            self.mark_bound(f.name)

    def expr_Lambda(self, e: ir.Lambda) -> str:
        ft = resolve(e.ty)
        ps = ", ".join(f"{ctype(p.ty)} {cname(p.name)}" for p in e.params)
        body = self.coerced(e.body, ft.ret)
        return f"{ctype(ft)}([=]({ps}) mutable -> {ctype(ft.ret)} {{ return {body}; }})"

    def emit_body(self, f: ir.Function):
        inline_split_temps(f)
        loops = borrowed_loops(f)
        mark_item_moves(f, loops)
        self.borrowed_loops |= loops
        first_use = first_statement_using(f)
        self.declared_late = set()
        unbound = getattr(f, "maybe_unbound", set())
        for v, t in f.locals.items():
            st = first_use.get(v)
            if v in unbound:
                # Python raises UnboundLocalError on a read before assignment.
                self.line(f"bool {bound_flag(v)} = false;")
            elif isinstance(st, ir.Assign) and st in f.body and len(st.targets) == 1 and \
                    isinstance(st.targets[0], ir.Name) and st.targets[0].id == v:
                self.declared_late.add(v)
                continue
            self.line(f"{ctype(t)} {cname(v)}{{}};")
        self.block(f.body)
        if resolve(f.returns) == NONE:
            self.line("return mx::None{};")

    def block(self, stmts):
        for s in stmts:
            self.mark(s)
            getattr(self, "stmt_" + type(s).__name__)(s)

    # ---- statements
    def stmt_Pass(self, s):
        pass

    def stmt_ExprStmt(self, s: ir.ExprStmt):
        self.line(f"{self.expr(s.value)};")

    def stmt_Return(self, s: ir.Return):
        if self.func is not None and self.func.is_generator:
            self.run_finally(None)
            self.line("return;")
            return
        if self.finally_stack:
            if s.value is None:
                self.run_finally(None)
                self.line("return mx::None{};")
                return
            t = self.new_tmp("ret")
            self.line(f"{ctype(self.func.returns)} {t} = {self.coerced(s.value, self.func.returns)};")
            self.run_finally(None)
            self.line(f"return {t};")
            return
        if s.value is None:
            self.line("return mx::None{};")
        else:
            self.line(f"return {self.coerced(s.value, self.func.returns)};")

    def stmt_Break(self, s):
        self.run_finally(len(self.loop_flags))
        flag = self.loop_flags[-1] if self.loop_flags else None
        if flag:
            self.line(f"{flag} = true;")
        leave = self.break_exits.get(len(self.loop_flags))
        if leave:
            self.line(leave)
        self.line("break;")

    def stmt_Continue(self, s):
        self.run_finally(len(self.loop_flags))
        self.line("continue;")

    def stmt_Try(self, s: ir.Try):
        fin = bool(s.finalbody)
        if fin:
            self.line("{  // try/finally")
            self.ind += 1
            self.line("try {")
            self.ind += 1
            self.finally_stack.append((s.finalbody, len(self.loop_flags)))
        ok = None
        if s.handlers:
            if s.orelse:
                ok = self.new_tmp("try_ok")
                self.line(f"bool {ok} = false;")
            exc = self.new_tmp("exc")
            self.line("try {")
            self.ind += 1
            self.block(s.body)
            if ok:
                self.line(f"{ok} = true;")
            self.ind -= 1
            self.line(f"}} catch (mx::Error& {exc}) {{")
            self.ind += 1
            for i, h in enumerate(s.handlers):
                kinds = [k for t in h.types for k in EXCEPT_KINDS.get(t, [t])]
                cond = " || ".join(f"mx::errkind_is({exc}.kind(), mx::ErrKind::{k})" for k in kinds) or "true"
                self.line(f"{'} else ' if i else ''}if ({cond}) {{")
                self.ind += 1
                if h.name:
                    self.line(f"{cname(h.name)} = {exc};")
                    self.mark_bound(h.name)
                self.block(h.body)
                self.ind -= 1
            self.line("} else {")
            self.line("  throw;")
            self.line("}")
            self.ind -= 1
            self.line("}")
            if ok:
                self.line(f"if ({ok}) {{")
                self.ind += 1
                self.block(s.orelse)
                self.ind -= 1
                self.line("}")
        else:
            self.block(s.body)
            self.block(s.orelse)
        if fin:
            self.finally_stack.pop()
            self.ind -= 1
            self.line("} catch (...) {")
            self.ind += 1
            self.block(s.finalbody)
            self.line("throw;")
            self.ind -= 1
            self.line("}")
            self.block(s.finalbody)
            self.ind -= 1
            self.line("}")

    def run_finally(self, loop_level: Optional[int]):
        """Before a return (loop_level None) or a break/continue leaving try
        blocks with a finally clause: runs those clauses, innermost first."""
        saved = self.finally_stack
        for i in range(len(saved) - 1, -1, -1):
            body, level = saved[i]
            if loop_level is not None and level < loop_level:
                break
            self.finally_stack = saved[:i]
            self.block(body)
        self.finally_stack = saved

    def stmt_Raise(self, s: ir.Raise):
        e = s.exc
        if e is None:
            self.line("throw;")
            return
        if isinstance(e, ir.Name) and resolve(e.ty) == EXC:
            self.line(f"throw {self.expr(e)};")
            return
        if isinstance(e, ir.Call):
            kind = e.func.id
            msg = self.expr(e.args[0]) if e.args else None
            t = e.args[0].ty if e.args else None
        else:
            kind, msg, t = e.id, None, None
        if msg is None:
            text = '""'
        elif resolve(t) == STR:
            text = f"mx::utf8_encode({msg})"
        else:
            text = f"mx::utf8_encode(mx::repr({msg}))" if kind == "KeyError" else \
                f"mx::utf8_encode(mx::to_str({msg}))"
        if kind == "KeyError" and resolve(t) == STR:
            text = f"mx::utf8_encode(mx::repr({msg}))"
        self.line(f"mx::raise(mx::ErrKind::{kind}, {text}, {self.loc(s)});")

    def stmt_Assert(self, s: ir.Assert):
        msg = f"mx::utf8_encode(mx::to_str({self.expr(s.msg)}))" if s.msg is not None else '""'
        self.line(f"if (!{self.truth(s.test)}) mx::raise(mx::ErrKind::AssertionError, {msg}, {self.loc(s)});")

    def stmt_If(self, s: ir.If):
        self.line(f"if ({self.truth(s.test)}) {{")
        self.ind += 1
        self.block(s.body)
        self.ind -= 1
        if s.orelse:
            if len(s.orelse) == 1 and isinstance(s.orelse[0], ir.If):
                self.line("} else {")
                self.ind += 1
                self.block(s.orelse)
                self.ind -= 1
                self.line("}")
                return
            self.line("} else {")
            self.ind += 1
            self.block(s.orelse)
            self.ind -= 1
        self.line("}")

    def stmt_While(self, s: ir.While):
        flag = self.new_tmp("broke") if s.orelse else None
        if flag:
            self.line(f"bool {flag} = false;")
        budget = self.new_tmp("polls")
        self.line(f"int32_t {budget} = 0;")  # the first iteration polls
        self.line(f"while ({self.truth(s.test)}) {{")
        self.loop_flags.append(flag)
        self.ind += 1
        self.line(f"mx::poll_every({budget}, {self.loc(s)});")
        self.block(s.body)
        self.ind -= 1
        self.loop_flags.pop()
        self.line("}")
        self.emit_loop_else(flag, s.orelse)

    def emit_loop_else(self, flag, orelse):
        if flag:
            self.line(f"if (!{flag}) {{")
            self.ind += 1
            self.block(orelse)
            self.ind -= 1
            self.line("}")

    def stmt_For(self, s: ir.For):
        flag = self.new_tmp("broke") if s.orelse else None
        if flag:
            self.line(f"bool {flag} = false;")
        self.loop_flags.append(flag)

        def body():
            self.block(s.body)

        self.emit_for(s.target, s.iter, body, s, borrow=id(s) in self.borrowed_loops)
        self.loop_flags.pop()
        self.emit_loop_else(flag, s.orelse)

    def bind(self, target: ir.Expr, value: str, vt: Type, declare: bool):
        """Assigns a C++ value of type vt to a loop or comprehension target."""
        if isinstance(target, ir.Name):
            tt = target.ty if target.ty is not None else vt
            v = self.coerce(value, vt, tt)
            if declare:
                self.line(f"{ctype(tt)} {cname(target.id)} = {v};")
            else:
                self.line(f"{cname(target.id)} = {v};")
                self.mark_bound(target.id)
            return
        if isinstance(target, ir.TupleLit):
            tmp = self.new_tmp("u")
            self.line(f"auto {tmp} = {value};")
            r = resolve(vt)
            for i, sub in enumerate(target.elts):
                if isinstance(r, TupleType):
                    self.bind(sub, f"std::get<{i}>({tmp})", r.items[i], declare)
                else:
                    if i == 0:
                        self.line(f"mx::check_unpack({tmp}.size(), {len(target.elts)}, {self.loc(target)});")
                    self.bind(sub, f"{tmp}[{i}]", elem_type(r), declare)
            return
        self.assign_to(target, value, vt)

    def stmt_Assign(self, s: ir.Assign):
        if len(s.targets) == 1:
            t = s.targets[0]
            want = t.ty if t.ty is not None else s.value.ty
            if isinstance(t, ir.Name) and t.id in self.declared_late:
                self.declared_late.discard(t.id)
                lt = self.func.locals[t.id]
                self.line(f"{ctype(lt)} {cname(t.id)} = {self.coerced(s.value, lt)};")
                return
            if isinstance(t, ir.TupleLit):
                self.bind(t, self.expr(s.value), s.value.ty, False)
                return
            if isinstance(t, ir.Name) and self.renews_list(t, s.value):
                self.line(f"mx::list_renew({cname(t.id)});")
                self.mark_bound(t.id)
                return
            if isinstance(t, ir.Name):
                mark_self_move(t, s.value, self.func)
            self.assign_to(t, self.coerced(s.value, want), want)
            return
        tmp = self.new_tmp("v")
        self.line(f"auto {tmp} = {self.expr(s.value)};")
        for t in s.targets:
            if isinstance(t, ir.TupleLit):
                self.bind(t, tmp, s.value.ty, False)
            else:
                self.assign_to(t, self.coerce(tmp, s.value.ty, t.ty), t.ty)

    def renews_list(self, t: ir.Name, value: ir.Expr) -> bool:
        """`x = []` for a list-typed local of this function: mx::list_renew empties the
        old list in place when nobody else holds it (a loop's `kept = []`)."""
        f = self.func
        return isinstance(value, ir.ListLit) and not value.elts and f is not None and \
            isinstance(resolve(f.locals.get(t.id)), ListType) and \
            resolve(f.locals.get(t.id)) == resolve(value.ty) and \
            all(p.name != t.id for p in f.params)

    def mark_bound(self, name: str):
        if self.func is not None and name in getattr(self.func, "maybe_unbound", ()):
            self.line(f"{bound_flag(name)} = true;")

    def assign_to(self, t: ir.Expr, value: str, vt: Type):
        if isinstance(t, ir.Name):
            self.line(f"{cname(t.id)} = {value};")
            self.mark_bound(t.id)
        elif isinstance(t, ir.Attribute):
            self.line(f"{self.attr_ref(t)} = {value};")
        elif isinstance(t, ir.Subscript) and resolve(t.value.ty) == NDARRAY:
            self.nd_setitem(t, value)
        elif isinstance(t, ir.Subscript) and isinstance(t.index, ir.Slice):
            self.headers.add("matx_nb/mutate.h")
            self.line(f"mx::list_setslice({self.expr(t.value)}, {self.slice_args(t.index)}, "
                      f"{self.coerce(value, vt, t.ty)}, {self.loc(t)});")
        elif isinstance(t, ir.Subscript) and isinstance(resolve(t.value.ty), AnyType):
            self.headers.add("matx_nb/dyn.h")
            self.line(f"mx::dyn_setitem({self.expr(t.value)}, {self.coerced(t.index, ANY)}, "
                      f"{self.coerce(value, vt, ANY)}, {self.loc(t)});")
        elif isinstance(t, ir.Subscript) and getattr(t, "magic", None) is not None:
            m = t.magic
            self.line(f"{self.expr(t.value)}->m___setitem__({self.coerced(t.index, m.params[1].ty)}, {value});")
        elif isinstance(t, ir.Subscript):
            c = self.expr(t.value)
            ct = resolve(t.value.ty)
            key = self.coerced(t.index, INT if isinstance(ct, ListType) else ct.key)
            self.line(f"mx::setitem({c}, {key}, {value}, {self.loc(t)});")
        else:
            self.line(f'static_assert(sizeof(int) == 0, "bad assignment target");')

    def stmt_AugAssign(self, s: ir.AugAssign):
        t = s.target
        if getattr(s, "nd_inplace", False):  # a[i] += v, a += v on an NDArray
            self.nd_augassign(s)
            return
        tt = resolve(t.ty)
        if isinstance(tt, ListType) and s.op == "+":
            self.line(f"mx::list_iadd({self.expr(t)}, {self.expr(s.value)}, {self.loc(s)});")
            return
        if self.inplace_container_op(s):
            return
        if isinstance(t, ir.Subscript):
            ref = self.new_tmp("ref")
            c = self.expr(t.value)
            ct = resolve(t.value.ty)
            key = self.coerced(t.index, INT if isinstance(ct, ListType) else ct.key)
            self.line(f"auto& {ref} = mx::getitem({c}, {key}, {self.loc(t)});")
            self.line(f"{ref} = {self.coerce(self.binop(s.op, ref, tt, s.value, s), s.binop_ty, tt)};")
            return
        target = self.expr(t) if isinstance(t, ir.Name) else self.attr_ref(t)
        self.line(f"{target} = {self.coerce(self.binop(s.op, target, tt, s.value, s), s.binop_ty, tt)};")

    # ---- expressions
    def expr(self, e: ir.Expr) -> str:
        preset = self.preset.get(id(e))
        if preset is not None:
            return preset
        ops = evaluation_operands(e)
        if ops and needs_ordering(ops, self.pure):
            code = self.ordered(e, ops)
        else:
            code = getattr(self, "expr_" + type(e).__name__)(e)
        t = resolve(e.ty) if e.ty is not None else None
        if isinstance(t, Prim) and t.name in modules.TYPES:  # list(a) on an NDArray needs mod/ndarray.h
            self.headers.add(modules.TYPES[t.name].header)
        unwrap = getattr(e, "unwrap", None)
        if unwrap:  # an Optional used as its value: None raises as in CPython
            fn = "unwrap_attr" if unwrap[0] == "AttributeError" else "unwrap"
            code = f"mx::{fn}({code}, {cstr_literal(unwrap[1])}, {self.loc(e)})"
        return code

    def ordered(self, e: ir.Expr, ops: List[ir.Expr]) -> str:
        """Evaluates e's operands left to right, as Python does (C++ leaves the
        order of function arguments unspecified), then e itself."""
        lines = []
        for o in ops:
            code = self.expr(o)
            t = self.new_tmp("o")
            lines.append(f"auto {t} = {code};")
            self.preset[id(o)] = t
        try:
            inner = getattr(self, "expr_" + type(e).__name__)(e)
        finally:
            for o in ops:
                self.preset.pop(id(o), None)
        return f"([&]() {{ {' '.join(lines)} return {inner}; }}())"

    def coerce(self, code: str, frm: Type, to: Optional[Type]) -> str:
        if to is None:
            return code
        f, t = resolve(frm), resolve(to)
        if f == t:
            return code
        if isinstance(t, ClassType) and isinstance(f, ClassType) and t.name != f.name:
            return f"{ctype(t)}({code})"  # an instance of a subclass as its base
        if isinstance(t, OptionalType):
            if f == NONE:
                return f"{ctype(t)}()"
            if isinstance(f, OptionalType):
                return f"mx::opt_cast<{ctype(t.inner)}>({code})"
            return f"{ctype(t)}({self.coerce(code, f, t.inner)})"
        if isinstance(f, OptionalType):
            if isinstance(t, AnyType):
                return f"mx::opt_to_any({code})"
            inner = f"mx::unwrap({code}, \"'NoneType' object cannot be used as {t}\", {self.loc(self.cur_node) if self.cur_node is not None else 'nullptr'})"
            return self.coerce(inner, f.inner, t)
        if isinstance(t, VarTupleType) and isinstance(f, TupleType):  # (a, b) as a Tuple[T, ...]
            tmp = self.new_tmp("t")
            items = ", ".join(self.coerce(f"std::get<{i}>({tmp})", x, t.elem) for i, x in enumerate(f.items))
            return f"([&]() {{ auto {tmp} = {code}; return {ctype(t)}{{{items}}}; }}())"
        if t == FLOAT and f in (INT, BOOL):
            return f"double({code})"
        if t == INT and f == BOOL:
            return f"int64_t({code})"
        if isinstance(t, AnyType):
            return f"mx::Any({code})"
        if isinstance(f, AnyType):
            return f"mx::any_cast<{ctype(t)}>({code})"
        return code

    def coerced(self, e: ir.Expr, to: Optional[Type]) -> str:
        return self.coerce(self.expr(e), e.ty, to)

    def truth(self, e: ir.Expr) -> str:
        if resolve(e.ty) == BOOL:
            return self.expr(e)
        return f"mx::truth({self.expr(e)})"

    def expr_Const(self, e: ir.Const) -> str:
        return self.const_value(e.value)

    def const_value(self, v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return int_literal(v)
        if isinstance(v, float):
            return float_literal(v)
        if isinstance(v, (str, bytes)):
            return self.const_str(v)
        if v is None:
            return "mx::None{}"
        if isinstance(v, tuple):
            from .checker import Checker
            return "mx::make_tuple(" + ", ".join(self.const_value(x) for x in v) + ")"
        return "mx::None{}"

    def module_constant(self, value, ty: Type) -> str:
        """A container constant becomes one object built when the library loads."""
        if self.split_abi is not None:  # one object for the library, in the entry-point unit
            from .units import module_constant
            return module_constant(self, value, ty)
        key = (id(value), str(ty))
        if key not in self.str_index:
            name = f"{self.tprefix}K{len(self.strs)}"
            self.strs.append(f"const {ctype(ty)} {name} = {self.typed_const(value, ty)};")
            self.str_index[key] = name
        return self.str_index[key]

    def typed_const(self, v, ty: Type) -> str:
        t = resolve(ty)
        if isinstance(v, (list, set, frozenset, tuple, dict)) and len(v) >= LITERAL_TABLE_MIN:
            table = self.table_container(t, list(v.items()) if isinstance(v, dict) else list(v))
            if table is not None:
                return table
        if isinstance(t, VarTupleType):
            return f"{ctype(t)}{{{', '.join(self.typed_const(x, t.elem) for x in v)}}}"
        if isinstance(t, ListType):
            return f"{ctype(t)}{{{', '.join(self.typed_const(x, t.elem) for x in v)}}}"
        if isinstance(t, SetType):
            return f"{ctype(t)}{{{', '.join(self.typed_const(x, t.elem) for x in v)}}}"
        if isinstance(t, DictType):
            return f"{ctype(t)}{{{', '.join('{' + self.typed_const(k, t.key) + ', ' + self.typed_const(x, t.value) + '}' for k, x in v.items())}}}"
        if isinstance(t, TupleType):
            return f"{ctype(t)}{{{', '.join(self.typed_const(x, it) for x, it in zip(v, t.items))}}}"
        if t == FLOAT and not isinstance(v, float):
            return float_literal(float(v))
        return self.const_value(v)

    def expr_Name(self, e: ir.Name) -> str:
        r = e.resolved
        if r and r[0] == "func":  # a module-level function as a value
            return f"{ctype(e.ty)}(f_{r[1].name})"
        if r and r[0] == "const":
            if isinstance(r[1], (list, dict, set, frozenset, tuple)):
                return self.module_constant(r[1], e.ty)
            return self.const_value(r[1])
        if e.id == "self" and self.cls is not None and not self.in_static:
            return f"mx::Ref<C_{self.cls.name}>::borrow(this)"
        if e.id in ("True", "False"):
            return "true" if e.id == "True" else "false"
        if e.id == "None":
            return "mx::None{}"
        if getattr(e, "check_bound", False):
            return f'mx::bound_read({cname(e.id)}, {bound_flag(e.id)}, "{e.id}", {self.loc(e)})'
        if getattr(e, "move_from", False):
            return f"std::move({cname(e.id)})"
        return cname(e.id)

    @staticmethod
    def orders_any(e: ir.Call) -> bool:
        """sorted/min/max/list.sort over items that are (or hold) Any values."""
        r = e.resolved or ()
        if not ((r[:1] == ("builtin",) and r[1] in ("sorted", "min", "max")) or
                (r[:1] == ("rtmethod",) and len(r) >= 3 and r[1] == "list" and r[2] == "sort")):
            return False
        vals = list(e.args) + ([e.func.value] if isinstance(e.func, ir.Attribute) else [])

        def has_any(t, depth=0):
            t = resolve(t)
            return isinstance(t, AnyType) or (depth < 4 and any(has_any(c, depth + 1) for c in children(t)))
        return any(v.ty is not None and has_any(v.ty) for v in vals)

    def is_self(self, e: ir.Expr) -> bool:
        return isinstance(e, ir.Name) and e.id == "self" and self.cls is not None and not self.in_static and \
            (e.resolved is None or e.resolved[0] == "local")

    def attr_ref(self, e: ir.Attribute) -> str:
        if self.is_self(e.value):
            return f"this->a_{e.attr}"
        return f"{self.expr(e.value)}->a_{e.attr}"

    def expr_Attribute(self, e: ir.Attribute) -> str:
        if e.resolved and e.resolved[0] == "const":  # a module constant: math.pi
            return self.typed_const(e.resolved[1], e.ty)
        if e.resolved and e.resolved[0] == "classconst":
            obj = "this" if self.is_self(e.value) else self.expr(e.value)
            return f"{obj}->k_{e.attr}()"
        if e.resolved and e.resolved[0] == "opaqueattr":  # a.shape
            return self.opaque_attribute(e)
        return self.attr_ref(e)

    def expr_BinOp(self, e: ir.BinOp) -> str:
        m = getattr(e, "magic", None)
        if m is not None:  # a class's __add__ and the like
            return f"{self.expr(e.left)}->m_{m.name}({self.coerced(e.right, m.params[1].ty)})"
        if getattr(e, "percent", None) is not None:
            return self.percent_format(e)
        return self.binop(e.op, self.expr(e.left), e.left.ty, e.right, e, result_ty=e.ty)

    def binop(self, op: str, lcode: str, lt: Type, right: ir.Expr, node, result_ty=None) -> str:
        l, r = resolve(lt), resolve(right.ty)
        rcode = self.expr(right)
        if isinstance(l, AnyType) or isinstance(r, AnyType):
            self.headers.add("matx_nb/dyn.h")
            node.binop_ty = ANY  # s += a[i]: the Any result is cast back to s's type
            return (f"mx::dyn_{DYN_BINOPS[op]}({self.coerce(lcode, l, ANY)}, {self.coerce(rcode, r, ANY)}, "
                    f"{self.loc(node)})")
        if NDARRAY in (l, r):
            return self.nd_binop(op, lcode, l, rcode, node)
        num = (INT, FLOAT, BOOL)
        loc = self.loc(node)
        if l in num and r in num:
            if op == "/":
                if FLOAT in (l, r):
                    res = f"mx::truediv({self.coerce(lcode, l, FLOAT)}, {self.coerce(rcode, r, FLOAT)}, {loc})"
                else:
                    res = f"mx::truediv({self.coerce(lcode, l, INT)}, {self.coerce(rcode, r, INT)}, {loc})"
                node.binop_ty = FLOAT
                return res
            if op in ("&", "|", "^") and l == BOOL and r == BOOL:
                node.binop_ty = BOOL
                return f"bool({lcode} {op} {rcode})"
            if op in ("&", "|", "^"):
                node.binop_ty = INT
                return f"({self.coerce(lcode, l, INT)} {op} {self.coerce(rcode, r, INT)})"
            if op in ("<<", ">>"):
                node.binop_ty = INT
                fn = "lshift" if op == "<<" else "rshift"
                return f"mx::{fn}({self.coerce(lcode, l, INT)}, {self.coerce(rcode, r, INT)}, {loc})"
            rt = FLOAT if FLOAT in (l, r) else INT
            if op == "**" and rt == INT and result_ty is not None and resolve(result_ty) == FLOAT:
                node.binop_ty = FLOAT
                return f"mx::pow_to_float({self.coerce(lcode, l, INT)}, {self.coerce(rcode, r, INT)}, {loc})"
            node.binop_ty = rt
            a, b = self.coerce(lcode, l, rt), self.coerce(rcode, r, rt)
            if rt == FLOAT and op in "+-*":
                return f"({a} {op} {b})"
            if rt == INT and op in "+-" and isinstance(right, ir.Const) and \
                    isinstance(right.value, int) and not isinstance(right.value, bool) and right.value >= 0:
                return f"mx::{'add' if op == '+' else 'sub'}_c({a}, {b}, {loc})"
            fn = {"+": "add", "-": "sub", "*": "mul", "//": "floordiv", "%": "mod", "**": "pow"}[op]
            return f"mx::{fn}({a}, {b}, {loc})"
        node.binop_ty = result_ty if result_ty is not None else l
        if isinstance(l, SetType) and op in ("|", "&", "-", "^"):
            fn = {"|": "union_", "&": "intersection", "-": "difference", "^": "symmetric_difference"}[op]
            return f"mx::set_{fn}({lcode}, {rcode})"
        vt = resolve(result_ty) if result_ty is not None else l
        if isinstance(vt, VarTupleType) and op == "+":
            return f"mx::add({self.coerce(lcode, l, vt)}, {self.coerce(rcode, r, vt)}, {self.loc(node)})"
        if isinstance(vt, VarTupleType) and op == "*":
            return f"mx::mul({self.coerce(lcode, l, INT if l in (INT, BOOL) else l)}, " \
                   f"{self.coerce(rcode, r, INT if r in (INT, BOOL) else r)}, {self.loc(node)})"
        if isinstance(l, TupleType) and op == "+":
            return f"mx::tuple_cat({lcode}, {rcode})"
        if isinstance(l, TupleType) and op == "*":
            tmp = self.new_tmp("t")
            items = ", ".join(f"std::get<{i}>({tmp})" for i in range(len(l.items))) if l.items else ""
            n = max(0, const_int(right))
            return (f"([&]() {{ auto {tmp} = {lcode}; (void)({rcode}); return "
                    f"{ctype(node.ty)}({', '.join([items] * n if items else [])}); }}())")
        if isinstance(l, DictType) and op == "|":
            return f"mx::dict_merge({lcode}, {rcode})"
        fn = {"+": "add", "*": "mul"}[op]
        if op == "*" and r in (INT, BOOL):
            rcode = self.coerce(rcode, r, INT)
        if op == "*" and l in (INT, BOOL):
            lcode = self.coerce(lcode, l, INT)
        return f"mx::{fn}({lcode}, {rcode}, {loc})"

    def expr_UnaryOp(self, e: ir.UnaryOp) -> str:
        t = resolve(e.operand.ty)
        if e.op == "not":
            return f"(!{self.truth(e.operand)})"
        v = self.expr(e.operand)
        if isinstance(t, AnyType):
            self.headers.add("matx_nb/dyn.h")
            return f"mx::dyn_{ {'-': 'neg', '+': 'pos', '~': 'invert'}[e.op]}({v}, {self.loc(e)})"
        if e.op == "+":
            return self.coerce(v, t, INT) if t == BOOL else v
        if e.op == "-":
            if t == FLOAT:
                return f"(-{v})"
            return f"mx::neg({self.coerce(v, t, INT)}, {self.loc(e)})"
        return f"(~{self.coerce(v, t, INT)})"

    def expr_BoolOp(self, e: ir.BoolOp) -> str:
        rt = resolve(e.ty)
        if rt == BOOL and all(resolve(v.ty) == BOOL for v in e.values):
            op = " && " if e.op == "and" else " || "
            return "(" + op.join(self.expr(v) for v in e.values) + ")"
        # Python returns the deciding operand itself.
        code = self.coerced(e.values[-1], rt)
        for v in reversed(e.values[:-1]):
            tmp = self.new_tmp("b")
            test = f"mx::truth({tmp})" if resolve(v.ty) != BOOL else tmp
            first = self.coerce(tmp, v.ty, rt)
            if e.op == "and":
                code = f"([&]() -> {ctype(rt)} {{ auto {tmp} = {self.expr(v)}; return {test} ? {code} : {first}; }}())"
            else:
                code = f"([&]() -> {ctype(rt)} {{ auto {tmp} = {self.expr(v)}; return {test} ? {first} : {code}; }}())"
        return code

    def expr_Compare(self, e: ir.Compare) -> str:
        parts = []
        prelude = []
        left_code, left_t = self.expr(e.left), e.left.ty
        for i, (op, c) in enumerate(zip(e.ops, e.comparators)):
            rcode = self.expr(c)
            if i < len(e.ops) - 1 and not isinstance(c, (ir.Name, ir.Const)):
                tmp = self.new_tmp("c")
                prelude.append(f"auto {tmp} = {rcode};")
                rcode = tmp
            parts.append(self.compare(op, left_code, left_t, rcode, c.ty, c))
            left_code, left_t = rcode, c.ty
        if len(parts) == 1:
            return parts[0]
        if not prelude:
            return "(" + " && ".join(parts) + ")"
        # Each middle operand is evaluated once, and only if the chain gets that far.
        body = parts[0]
        code = f"([&]() -> bool {{ "
        steps = []
        for i, p in enumerate(parts):
            if i < len(prelude):
                steps.append(f"if (!({p})) return false; ")
                if i + 1 < len(parts):
                    pass
        # rebuild with interleaved temporaries
        out = "([&]() -> bool { "
        for i, p in enumerate(parts[:-1]):
            if i < len(prelude):
                out += prelude[i] + " "
            out += f"if (!({p})) return false; "
        out += f"return {parts[-1]}; }}())"
        return out

    def compare(self, op: str, a: str, at: Type, b: str, bt: Type, node) -> str:
        l, r = resolve(at), resolve(bt)
        if (isinstance(l, AnyType) or isinstance(r, AnyType)) and op not in ("is", "is not"):
            self.headers.add("matx_nb/dyn.h")
            a, b = self.coerce(a, l, ANY), self.coerce(b, r, ANY)
            if op in ("==", "!="):
                return f"({a} {op} {b})"
            if op in ("in", "not in"):
                return f"({'!' if op == 'not in' else ''}mx::dyn_contains({b}, {a}, {self.loc(node)}))"
            fn = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
            return f"mx::dyn_{fn}({a}, {b}, {self.loc(node)})"
        from .checker import MAGIC_COMPARE
        if op in ("in", "not in") and isinstance(r, ClassType):
            m = ir.find_method(r.info, "__contains__")
            code = f"mx::truth({b}->m___contains__({self.coerce(a, l, m.params[1].ty)}))"
            return code if op == "in" else f"(!{code})"
        if isinstance(l, ClassType) and op in MAGIC_COMPARE:
            name, reflected = MAGIC_COMPARE[op]
            m = ir.find_method(l.info, name)
            if m is not None:
                return f"mx::truth({a}->m_{name}({self.coerce(b, r, m.params[1].ty)}))"
            if isinstance(r, ClassType) and ir.find_method(r.info, reflected) is not None:
                m = ir.find_method(r.info, reflected)
                return f"mx::truth({b}->m_{reflected}({self.coerce(a, l, m.params[1].ty)}))"
            if op == "!=" and ir.find_method(l.info, "__eq__") is not None:
                return f"(!{self.compare('==', a, at, b, bt, node)})"
            if op in ("==", "!="):  # identity, Python's default
                neg = "!" if op == "!=" else ""
                return f"({neg}mx::same_object({a}, {b}))"
        if op in ("in", "not in"):
            neg = "!" if op == "not in" else ""
            if r == RANGE:
                args = [self.coerced(x, INT) for x in node.args]
                return f"{neg}mx::range_contains({self.coerce(a, l, INT)}, {', '.join(args)})"
            if isinstance(r, (ListType, SetType, VarTupleType)):
                a = self.coerce(a, l, r.elem)
            elif isinstance(r, DictType):
                a = self.coerce(a, l, r.key)
            if r == BYTES and l in (INT, BOOL):
                return f"{neg}mx::contains({b}, {self.coerce(a, l, INT)}, {self.loc(node)})"
            if isinstance(r, TupleType):
                return f"{neg}mx::tuple_contains({b}, {a})"
            return f"{neg}mx::contains({b}, {a})"
        if op in ("is", "is not"):
            neg = "!" if op == "is not" else ""
            if isinstance(l, OptionalType) and r == NONE:
                return f"({neg}mx::is_none({a}))"
            if isinstance(r, OptionalType) and l == NONE:
                return f"({neg}mx::is_none({b}))"
            if isinstance(l, ClassType) and isinstance(r, ClassType):
                return f"({neg}(static_cast<const mx::Object*>(({a}).get()) == ({b}).get()))"
            if isinstance(l, (ListType, DictType, SetType)) and isinstance(r, (ListType, DictType, SetType)):
                return f"({neg}(static_cast<const mx::Object*>(({a}).object()) == ({b}).object()))"
            for x, xt, y in ((a, l, r), (b, r, l)):  # re.Match and the like: None is a null handle
                if isinstance(xt, Prim) and xt.name in modules.TYPES and y == NONE:
                    return f"({'' if neg else '!'}mx::truth({x}))"
            same = (l == NONE) == (r == NONE) and l == NONE
            val = same if op == "is" else not same
            return f"((void)({a}), (void)({b}), {'true' if val else 'false'})"
        if isinstance(l, OptionalType) or isinstance(r, OptionalType):
            if l == NONE:
                a = "mx::None{}"
            if r == NONE:
                b = "mx::None{}"
            if isinstance(l, OptionalType) and isinstance(r, OptionalType) and not (l == r):
                b = f"mx::opt_cast<{ctype(l.inner)}>({b})"
            code = f"mx::opt_eq({a}, {b})"
            return code if op == "==" else f"(!{code})"
        num = (INT, FLOAT, BOOL)
        if l in num and r in num:
            if FLOAT in (l, r):
                if l != FLOAT or r != FLOAT:
                    fn = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
                    return f"mx::num_{fn}({a}, {b})"
            elif l == BOOL or r == BOOL:
                a, b = self.coerce(a, l, INT), self.coerce(b, r, INT)
            return f"({a} {op} {b})"
        for x, y in ((l, r), (r, l)):  # (1, 2) == args: the fixed tuple as a Tuple[T, ...]
            if isinstance(x, VarTupleType) and isinstance(y, TupleType) and not (x == y):
                from .types import assignable
                if assignable(x, y):
                    if y is r:
                        b, r = self.coerce(b, r, x), x
                    else:
                        a, l = self.coerce(a, l, x), x
                    break
        if not (l == r):
            if op in ("==", "!="):
                return f"((void)({a}), (void)({b}), {'false' if op == '==' else 'true'})"
        fn = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
        if fn == "ne":
            return f"(!mx::eq({a}, {b}))"
        return f"mx::{fn}({a}, {b})"

    def expr_IfExp(self, e: ir.IfExp) -> str:
        return f"({self.truth(e.test)} ? {self.coerced(e.body, e.ty)} : {self.coerced(e.orelse, e.ty)})"

    def expr_ListLit(self, e: ir.ListLit) -> str:
        t = resolve(e.ty)
        table = self.table_container(t, literal_values(e.elts))
        if table is not None:
            return table
        items = ", ".join(self.coerced(x, t.elem) for x in e.elts)
        return f"{ctype(t)}{{{items}}}" if e.elts else f"{ctype(t)}()"

    def expr_SetLit(self, e: ir.SetLit) -> str:
        t = resolve(e.ty)
        table = self.table_container(t, literal_values(e.elts))
        if table is not None:
            return table
        items = ", ".join(self.coerced(x, t.elem) for x in e.elts)
        return f"{ctype(t)}{{{items}}}"

    def expr_TupleLit(self, e: ir.TupleLit) -> str:
        t = resolve(e.ty)
        if isinstance(t, VarTupleType):
            table = self.table_container(t, literal_values(e.elts))
            if table is not None:
                return table
            items = ", ".join(self.coerced(x, t.elem) for x in e.elts)
            return f"{ctype(t)}{{{items}}}" if e.elts else f"{ctype(t)}()"
        items = ", ".join(self.coerced(x, it) for x, it in zip(e.elts, t.items))
        return f"{ctype(t)}{{{items}}}"

    def expr_DictLit(self, e: ir.DictLit) -> str:
        t = resolve(e.ty)
        if not e.keys:
            return f"{ctype(t)}()"
        keys, values = literal_values(e.keys), literal_values(e.values)
        if keys is not None and values is not None:
            table = self.table_container(t, list(zip(keys, values)))
            if table is not None:
                return table
        items = ", ".join(f"{{{self.coerced(k, t.key)}, {self.coerced(v, t.value)}}}"
                          for k, v in zip(e.keys, e.values))
        return f"{ctype(t)}{{{items}}}"

    # ---- large literals as data tables (runtime table.h)
    def table_container(self, t: Type, items) -> Optional[str]:
        """A new list/set/tuple/dict of the constant items (Python values; (key,
        value) pairs for a dict) built from data tables, or None where the literal
        is small or its items are not all scalars of one table kind."""
        if items is None or len(items) < LITERAL_TABLE_MIN:
            return None
        if isinstance(t, DictType):
            keys = self.table([k for k, _ in items], t.key)
            values = keys and self.table([v for _, v in items], t.value)
            if not values:
                return None
            return f"mx::table_dict<{ctype(t.key)}, {ctype(t.value)}>({keys}, {values}, {len(items)})"
        if not isinstance(t, (ListType, SetType, VarTupleType)):
            return None
        ptr = self.table(list(items), t.elem)
        if ptr is None:
            return None
        fn = "table_set" if isinstance(t, SetType) else "table_list"
        code = f"mx::{fn}<{ctype(t.elem)}>({ptr}, {len(items)})"
        return f"{ctype(t)}::adopt({code})" if isinstance(t, VarTupleType) else code

    def table(self, values: list, t: Type) -> Optional[str]:
        """Emits the values as a static table of C++ items of type t; returns a
        pointer to its first item, or None if some value is not a t scalar."""
        t = resolve(t)
        values = [table_scalar(v, t) for v in values]
        if any(v is None for v in values) or not values:
            return None
        self.headers.add("matx_nb/table.h")
        name = f"{self.tprefix}T{len(self.strs)}"
        rows = [values[i:i + TABLE_ROW] for i in range(0, len(values), TABLE_ROW)]
        if t in (STR, BYTES):
            ends, n = [], 0
            for v in values:
                n += len(v)
                ends.append(n)
            lit = u32_literal if t == STR else bytes_literal
            unit, kind = ("char32_t", "StrTable") if t == STR else ("char", "BytesTable")
            text = "\n  ".join(lit("".join(r) if t == STR else b"".join(r)) for r in rows)
            self.strs.append(f"// the {len(values)} items of a literal: their text and where each ends")
            self.strs.append(f"const {unit} {name}_text[] =\n  {text};")
            self.strs.append(self.table_rows(f"const uint32_t {name}_ends[]", [str(x) for x in ends]))
            self.strs.append(f"const mx::{kind} {name}({name}_text, {name}_ends, {len(values)});")
            return f"{name}.data()"
        self.strs.append(self.table_rows(f"const {ctype(t)} {name}[]", [self.typed_const(v, t) for v in values]))
        return name

    @staticmethod
    def table_rows(decl: str, items: List[str]) -> str:
        rows = [", ".join(items[i:i + TABLE_ROW]) for i in range(0, len(items), TABLE_ROW)]
        return f"{decl} = {{\n  " + ",\n  ".join(rows) + "};"

    def comprehension(self, e, result_t: Type, add) -> str:
        """An immediately-invoked lambda: loops and filters, then add(out) per item."""
        saved_out, saved_ind = self.out, self.ind
        self.out, self.ind = [], 1
        out = self.new_tmp("r")
        self.line(f"{ctype(result_t)} {out};")
        self.loop_flags.append(None)
        self.each_generated(e.generators, lambda: self.line(add(out) + ";"))
        self.loop_flags.pop()
        self.line(f"return {out};")
        body = " ".join(x.strip() for x in self.out)
        self.out, self.ind = saved_out, saved_ind
        return f"([&]() {{ {body} }}())"

    def expr_GenExp(self, e: ir.GenExp) -> str:
        return self.expr_ListComp(e)

    def expr_ListComp(self, e: ir.ListComp) -> str:
        t = resolve(e.ty)
        return self.comprehension(e, t, lambda out: f"{out}.push_back({self.coerced(e.elt, t.elem)})")

    def expr_SetComp(self, e: ir.SetComp) -> str:
        t = resolve(e.ty)
        return self.comprehension(e, t, lambda out: f"{out}.add({self.coerced(e.elt, t.elem)})")

    def expr_DictComp(self, e: ir.DictComp) -> str:
        t = resolve(e.ty)
        return self.comprehension(
            e, t, lambda out: f"{out}.set({self.coerced(e.key, t.key)}, {self.coerced(e.value, t.value)})")

    def expr_Subscript(self, e: ir.Subscript) -> str:
        ct = resolve(e.value.ty)
        c = self.expr(e.value)
        m = getattr(e, "magic", None)
        if m is not None:
            return f"{c}->m___getitem__({self.coerced(e.index, m.params[1].ty)})"
        if ct == NDARRAY:
            return self.nd_subscript(e, c)
        if isinstance(ct, AnyType):
            self.headers.add("matx_nb/dyn.h")
            return f"mx::dyn_getitem({c}, {self.coerced(e.index, ANY)}, {self.loc(e)})"
        if isinstance(e.index, ir.Slice):
            s = e.index
            parts = [self.coerced(x, INT) if x is not None and resolve(x.ty) != NONE else "mx::Omit{}"
                     for x in (s.lower, s.upper, s.step)]
            return f"mx::getslice({c}, {', '.join(parts)}, {self.loc(e)})"
        if isinstance(ct, TupleType):
            idx = const_int(e.index)
            if idx is not None:
                if idx < 0:
                    idx += len(ct.items)
                return f"std::get<{idx}>({c})"
            return f"mx::tuple_getitem<{ctype(ct.items[0])}>({c}, {self.coerced(e.index, INT)}, {self.loc(e)})"
        if isinstance(ct, DictType):
            return f"mx::getitem({c}, {self.coerced(e.index, ct.key)}, {self.loc(e)})"
        return f"mx::getitem({c}, {self.coerced(e.index, INT)}, {self.loc(e)})"

    def expr_Slice(self, e):
        return "mx::None{}"

    # ---- calls
    def call_args(self, e: ir.Call, params: List[ir.Param]) -> str:
        return ", ".join(self.vararg_value(a, p.ty) if p.kind == "vararg" else
                         self.kwarg_value(a, p.ty) if p.kind == "kwarg" else
                         self.coerced(a if a is not None else p.default, p.ty)
                         for a, p in zip(e.bound_args, params))

    def kwarg_value(self, kws: List[ir.Keyword], dt: Type) -> str:
        """The dict **kwargs collects: the keywords no parameter takes, in order."""
        vt = resolve(dt).value
        items = ", ".join(f"{{{self.const_str(kw.name)}, {self.coerced(kw.value, vt)}}}" for kw in kws)
        return f"{ctype(dt)}{{{items}}}" if kws else f"{ctype(dt)}()"

    def vararg_value(self, items: List[ir.Expr], vt: Type) -> str:
        """The tuple *args collects: the extra positional arguments, with the
        items of each *iterable in its place."""
        et = resolve(vt).elem
        if not any(isinstance(a, ir.Starred) for a in items):
            codes = ", ".join(self.coerced(a, et) for a in items)
            return f"{ctype(vt)}{{{codes}}}" if items else f"{ctype(vt)}()"
        saved_out, saved_ind = self.out, self.ind
        self.out, self.ind = [], 1
        out = self.new_tmp("va")
        self.line(f"{ctype(vt)} {out};")
        self.loop_flags.append(None)
        for a in items:
            if isinstance(a, ir.Starred):
                self.iterate(a.value, a, lambda item, t: self.line(f"{out}.push_back({self.coerce(item, t, et)});"))
            else:
                self.line(f"{out}.push_back({self.coerced(a, et)});")
        self.loop_flags.pop()
        self.line(f"return {out};")
        body = " ".join(x.strip() for x in self.out)
        self.out, self.ind = saved_out, saved_ind
        return f"([&]() {{ {body} }}())"

    def expr_Call(self, e: ir.Call) -> str:
        r = e.resolved
        kind = r[0]
        if self.orders_any(e):
            self.headers.add("matx_nb/dyn.h")  # mx::lt(Any, Any): CPython's ordering at run time
        if kind == "func":
            fn = r[1]
            return f"f_{fn.name}({self.call_args(e, fn.params)})"
        if kind == "new":
            c = r[1]
            init = ir.find_method(c, "__init__")
            params = init.params[1:] if init else []
            return f"C_{c.name}::new_({self.call_args(e, params)})"
        if kind == "method":
            c, m = r[1], r[2]
            obj = e.func.value
            target = "this" if self.is_self(obj) else self.expr(obj)
            return f"{target}->m_{m.name}({self.call_args(e, m.params[1:])})"
        if kind == "static":  # C.m(...), cls.m(...)
            c, m = r[1], r[2]
            return f"C_{c.name}::s_{m.name}({self.call_args(e, m.params)})"
        if kind == "staticvirt":  # obj.m(...): the class of obj decides
            m = r[2]
            obj = e.func.value
            target = "this" if self.is_self(obj) else self.expr(obj)
            return f"{target}->v_{m.name}({self.call_args(e, m.params)})"
        if kind == "builtin":
            return self.builtin(e, r[1])
        if kind == "rtmethod":
            return self.rt_method(e, r[1], r[2])
        if kind == "format":
            return self.str_format(e)
        if kind == "module":
            return self.module_call(e, r[1])
        if kind == "super":
            owner, m = r[1], r[2]
            return f"this->C_{owner.name}::m_{m.name}({self.call_args(e, m.params[1:])})"
        if kind == "noop":
            return "mx::None{}"
        if kind == "dynmethod":
            self.headers.add("matx_nb/dyn.h")
            return self.dyn_method_call(e, r[1])
        if kind == "dynbuiltin":
            self.headers.add("matx_nb/dyn.h")
            return f"mx::dyn_{r[1]}({self.coerced(e.args[0], ANY)}, {self.loc(e)})"
        if kind == "callvalue":
            ft = resolve(e.func.ty)
            args = ", ".join(self.coerced(a, t) for a, t in zip(e.args, ft.params))
            return f"{self.expr(e.func)}({args})"
        return 'static_assert(sizeof(int) == 0, "unresolved call")'

    def module_call(self, e: ir.Call, mf) -> str:
        from .modules import GENERIC
        self.headers.add(mf.header)
        args = []
        for i, ((_, pt), a) in enumerate(zip(mf.params, e.bound_args)):
            if a is None:
                d = mf.defaults[i - mf.n_required]
                args.append(self.const_value(d))
            else:
                args.append(self.expr(a) if pt == GENERIC else self.coerced(a, pt))
        return f"{mf.cpp}({', '.join(args + [self.loc(e)])})"

    def builtin(self, e: ir.Call, name: str) -> str:
        args = e.args
        ts = [resolve(a.ty) for a in args]
        loc = self.loc(e)
        if name == "zip_star":  # zip(*rows)
            return f"mx::zip_star<{ctype(resolve(e.ty).elem.elem)}>({self.expr(args[0].value)})"
        if name == "print":
            sep = end = None
            for kw in e.keywords:
                if resolve(kw.value.ty) == NONE:
                    continue  # sep=None / end=None: the defaults
                if kw.name == "sep":
                    sep = self.expr(kw.value)
                elif kw.name == "end":
                    end = self.expr(kw.value)
            items = ", ".join(self.expr(a) for a in args)
            if sep is None and end is None:
                return f"mx::print({items})"
            return (f"mx::print_with({sep or 'mx::Str()'}, {sep is not None and 'true' or 'false'}, "
                    f"{end or 'mx::Str()'}, {end is not None and 'true' or 'false'}"
                    + (", " + items if items else "") + ")")
        if name in ("sum", "any", "all") or name in ("min", "max") and len(args) == 1:
            return self.fold_sum(e) if name == "sum" else \
                self.fold_any_all(e, name) if name in ("any", "all") else self.fold_min_max(e, name)
        codes = [self.expr(a) for a in args]
        if name == "len":
            if ts[0] == RANGE:
                rargs = [self.coerced(x, INT) for x in args[0].args]
                return f"mx::range_len_of({', '.join(rargs)}, {loc})"
            return f"mx::len({codes[0]})"
        if name in ("min", "max"):
            rt = resolve(e.ty)
            if len(args) == 1:
                return f"mx::{name}_of({codes[0]}, {loc})"
            cs = ", ".join(self.coerce(c, t, rt) for c, t in zip(codes, ts))
            return f"mx::{name}_({cs})"
        if name == "abs":
            return f"mx::abs({self.coerce(codes[0], ts[0], resolve(e.ty))}, {loc})"
        if name == "int":
            if not args:
                return "0L"
            if len(args) == 2:
                return f"mx::to_int_base({codes[0]}, {self.coerce(codes[1], ts[1], INT)}, {loc})"
            if ts[0] == BOOL:
                return f"int64_t({codes[0]})"
            return f"mx::to_int({codes[0]}, {loc})"
        if name == "float":
            if not args:
                return "0.0"
            return f"mx::to_float({codes[0]}, {loc})"
        if name == "str":
            return f"mx::to_str({codes[0]})" if args else "mx::Str()"
        if name == "repr":
            return f"mx::repr({codes[0]})"
        if name == "bool":
            return f"mx::truth({codes[0]})" if args else "false"
        if name == "ord":
            return f"mx::ord({codes[0]}, {loc})"
        if name == "chr":
            return f"mx::chr({self.coerce(codes[0], ts[0], INT)}, {loc})"
        if name in ("list", "set", "sorted"):
            rt = resolve(e.ty)
            if not args:
                return f"{ctype(rt)}()"
            src = codes[0]
            if ts[0] == RANGE or ts[0] == FILE or builtin_name(args[0]) in ("enumerate", "zip", "reversed"):
                src = self.as_list(args[0])
                if name == "list":
                    return src
            kw = getattr(e, "kwonly", {})
            if name == "sorted" and "key" in kw:
                rev = self.truth(kw["reverse"]) if "reverse" in kw else "false"
                return f"mx::sorted_by_key<{ctype(rt.elem)}>({src}, {self.expr(kw['key'])}, {rev})"
            if name == "sorted" and "reverse" in kw:
                return f"mx::sorted_from<{ctype(rt.elem)}>({src}, {self.truth(e.kwonly['reverse'])})"
            return f"mx::{name}_from<{ctype(rt.elem)}>({src})"
        if name == "dict":
            rt = resolve(e.ty)
            if not args:
                return f"{ctype(rt)}()"
            if isinstance(ts[0], DictType):
                return f"mx::dict_copy({codes[0]})"
            return f"mx::dict_from_pairs<{ctype(rt.key)}, {ctype(rt.value)}>({self.as_list(args[0])})"
        if name == "open":
            return f"mx::file_open({', '.join(codes)}, {loc})"
        if name == "iter":
            if isinstance(ts[0], GenType):
                return codes[0]
            self.headers.add("matx_nb/gen.h")
            rt = resolve(e.ty)
            return f"mx::gen_iter<{ctype(rt.elem)}>({self.as_list(args[0])})"
        if name == "next":
            self.headers.add("matx_nb/gen.h")
            if len(args) == 2:
                return f"mx::gen_next({codes[0]}, {self.coerce(codes[1], ts[1], ts[0].elem)}, {loc})"
            return f"mx::gen_next({codes[0]}, {loc})"
        return self.builtin_more(e, name, codes, ts)

    def rt_method(self, e: ir.Call, kind: str, name: str) -> str:
        """A builtin type's method on a typed receiver: mx::<cpp>(receiver, args..., loc),
        each argument converted to its declared parameter's type."""
        obj = self.expr(e.func.value)
        ot = resolve(e.func.value.ty)
        loc = self.loc(e)
        m = primitives.lookup(kind, name)
        kw = getattr(e, "kwonly", {})
        if kind == "list" and name == "sort" and "key" in kw:
            rev = self.truth(kw["reverse"]) if "reverse" in kw else "false"
            return f"mx::list_sort_by_key({obj}, {self.expr(kw['key'])}, {rev}, {loc})"
        if kind == "list" and name == "sort" and "reverse" in kw:
            return f"mx::list_sort({obj}, {self.truth(e.kwonly['reverse'])}, {loc})"
        args = []
        for i, a in enumerate(e.args):
            spec = m.params[i].type if i < len(m.params) else "any"
            at = resolve(a.ty)
            if primitives.spec_iter(spec) is not None and not isinstance(at, ListType):
                args.append(self.as_list(a))  # any iterable, as the list the runtime takes
            elif spec in ("T", "K", "V"):
                args.append(self.coerced(a, method_checks.spec_type(spec, ot)))
            elif at == NONE and spec == "index":
                args.append(primitives.INDEX_DEFAULTS[m.params[i].name])
            elif at == NONE:
                args.append("mx::None{}")
            elif at == BOOL and spec in ("int", "index"):
                args.append(self.coerce(self.expr(a), at, INT))
            else:
                args.append(self.expr(a))
        all_args = ", ".join([obj] + args + [loc])
        return f"mx::{m.cpp}({all_args})"

    def dyn_method_call(self, e: ir.Call, name: str) -> str:
        """x.name(args...) where x is an Any: a switch on the value's type, with a
        branch for every builtin type that declares the method (primitives.py),
        each calling the same runtime function as a typed receiver does; other
        values go to mx::dyn_method (arrays, errors)."""
        loc = self.loc(e)
        n = len(e.args)
        recv = self.new_tmp("r")
        names = [self.new_tmp("a") for _ in e.args]
        evals = [f"mx::Any {recv} = {self.coerced(e.func.value, ANY)};"]
        evals += [f"mx::Any {t} = {self.coerced(a, ANY)};" for t, a in zip(names, e.args)]
        cases = []
        for kind, m in primitives.named(name).items():
            if kind not in DYN_RECEIVERS or m.check is not None:
                continue  # a rule of its own: mx::dyn_method has it, or raises
            tag, get, rt, cpp = DYN_RECEIVERS[kind]
            lo, hi = m.arity
            if not lo <= n <= hi:
                cases.append(f"case mx::TypeTag::{tag}: mx::dyn_nargs({cstr_literal(name)}, {n}, {lo}, {hi}, {loc}); "
                             "break;")
                continue
            branch = self.dyn_branch(m, cpp.format(name=m.name, cpp=m.cpp), f"{recv}.{get}()", rt, names, loc)
            cases.append(f"case mx::TypeTag::{tag}: {{ {branch} }}")
        fallback = (f"return mx::dyn_method({recv}, {cstr_literal(name)}, "
                    f"mx::List<mx::Any>{{{', '.join(names)}}}, {loc});")
        body = " ".join(evals) + f" switch ({recv}.tag()) {{ {' '.join(cases)} default: break; }} {fallback}"
        return f"([&]() -> mx::Any {{ {body} }}())"

    def dyn_branch(self, m: primitives.Method, cpp: str, obj: str, rt: Type, args: List[str], loc: str) -> str:
        """One receiver type's branch of dyn_method_call: the arguments converted
        to the declared parameters (a TypeError where they do not fit), the call,
        its result as an Any."""
        conv = []
        pre = []
        for i, a in enumerate(args):
            spec = m.params[i].type
            item = primitives.spec_iter(spec)
            if item is not None:
                want = ListType(method_checks.spec_type(item, rt))
                conv.append(f"mx::dyn_as<{ctype(want)}>({a}, {cstr_literal(f'{m.name}() argument')}, {loc})")
                continue
            parts = primitives.spec_union(spec)
            if len(parts) > 1:  # the C++ function has an overload per alternative: pick at run time
                pre.append((i, parts))
                conv.append(None)
                continue
            if spec == "any":
                conv.append(a)
                continue
            if spec == "index":
                conv.append(f"mx::dyn_index({a}, {primitives.INDEX_DEFAULTS[m.params[i].name]}, "
                            f"{cstr_literal(f'{m.name}() argument')}, {loc})")
                continue
            want = method_checks.spec_type(spec, rt)
            if isinstance(resolve(want), AnyType):
                conv.append(a)
            else:
                conv.append(f"mx::dyn_as<{ctype(want)}>({a}, {cstr_literal(f'{m.name}() argument')}, {loc})")
        result = method_checks.spec_type(m.result, rt)

        def call(values):
            code = f"mx::{cpp}({', '.join([obj] + values + [loc])})"
            if resolve(result) == NONE:
                return f"{code}; return mx::Any();"
            return f"return {self.coerce(code, result, ANY)};"

        def expand(k, values):
            if k == len(conv):
                return call(values)
            if conv[k] is not None:
                return expand(k + 1, values + [conv[k]])
            a = args[k]
            branches = []
            for part in primitives.spec_union(m.params[k].type):
                if part == "None":
                    test, value = f"{a}.tag() == mx::TypeTag::None", "mx::None{}"
                elif part.startswith("tuple["):
                    item = method_checks.spec_type(part[6:-1], rt)
                    test, value = f"{a}.tag() == mx::TypeTag::Tuple", \
                        f"mx::dyn_as<{ctype(ListType(item))}>({a}, {cstr_literal(f'{m.name}() argument')}, {loc})"
                else:
                    want = method_checks.spec_type(part, rt)
                    test = f"mx::dyn_is<{ctype(want)}>({a})"
                    value = f"mx::dyn_as<{ctype(want)}>({a}, {cstr_literal(f'{m.name}() argument')}, {loc})"
                branches.append(f"if ({test}) {{ {expand(k + 1, values + [value])} }}")
            what = " or ".join(primitives.spec_union(m.params[k].type))
            branches.append(f"mx::dyn_arg_error({a}, {cstr_literal(f'{m.name}() argument {k + 1} must be {what}')}, "
                            f"{loc});")
            return " ".join(branches)
        return expand(0, [])

    # ---- the C ABI
    def emit_abi(self):
        self.line("// ---- entry points called by the host (Python or the C++ Session) ----")
        for c in self.p.classes:
            self.line(f"const mx_class_desc* class_desc_{c.name}();")
        self.line(self.ns_close)
        self.line()
        self.line("namespace mx {")
        if self.ns_name:
            self.line(f"using namespace ::{self.ns_name};")
        for c in self.p.classes:
            self.line(f"template <> struct Conv<mx::Ref<C_{c.name}>> {{")
            self.line(f'  static std::string name() {{ return "{c.name}"; }}')
            self.line(f"  static mx::Ref<C_{c.name}> from_host(const mx_host_api* h, mx_host_obj o) {{")
            subs = self.descendants(c)
            self.line(f"    mx::Object* p = h->object_ptr(o, class_desc_{c.name}());")
            self.line(f"    if (p) return mx::Ref<C_{c.name}>::borrow(static_cast<C_{c.name}*>(p));")
            for d in subs:  # an instance of a subclass is an instance of c
                self.line(f"    if ((p = h->object_ptr(o, class_desc_{d.name}())))")
                self.line(f"      return mx::Ref<C_{c.name}>::borrow(static_cast<C_{d.name}*>(p));")
            self.line(f'    conv_fail(h, o, "{c.name}");')
            self.line("  }")
            self.line(f"  static mx_host_obj to_host(const mx_host_api* h, const mx::Ref<C_{c.name}>& v) {{")
            self.line("    v->incref();")
            for d in reversed(subs):  # the most derived class first
                self.line(f"    if (dynamic_cast<C_{d.name}*>(v.get())) return h->new_object(class_desc_{d.name}(), v.get());")
            self.line(f"    return h->new_object(class_desc_{c.name}(), v.get());")
            self.line("  }")
            self.line("};")
        self.line("}  // namespace mx")
        self.line()
        self.line(self.ns_open)
        func_descs = []
        for f in self.p.functions:
            if self.host_callable(f):
                func_descs.append(self.emit_wrapper(f, f"f_{f.name}", None))
        for c in self.p.classes:  # static and class methods: functions named "C.m"
            for name, m in ir.all_statics(c).items():
                if self.host_callable(m):
                    func_descs.append(self.emit_wrapper(m, "", c, static_call=f"C_{c.name}::s_{name}",
                                                        pyname=f"{c.name}.{name}"))
            func_descs.append(self.emit_alloc(c))
        class_descs = []
        for c in self.p.classes:
            class_descs.append(self.emit_class_abi(c))
        self.line(f"const mx_func_desc k_funcs[] = {{{', '.join(func_descs) or '{}'}}};")
        self.line(f"const mx_class_desc k_classes[] = {{{', '.join(class_descs) or '{}'}}};")
        for i, c in enumerate(self.p.classes):
            self.line(f"const mx_class_desc* class_desc_{c.name}() {{ return &k_classes[{i}]; }}")
        self.line("void set_host(const mx_host_api* h) { mx::detail::g_write_stdout = h->write_stdout; "
                  "mx::bind_interrupts(h); }")
        self.line("const mx_module_desc k_module = {MATX_NB_ABI_VERSION, MATX_NB_RUNTIME_VERSION, "
                  f"{len(func_descs)}, k_funcs, {len(class_descs)}, k_classes, "
                  f"{len(self.p.origins)}, g_origins, set_host}};")
        self.line(self.ns_close)
        self.line()
        self.line('extern "C" __attribute__((visibility("default"))) const mx_module_desc* matx_nb_module() {')
        self.line(f"  return &{self.ns_name + '::' if self.ns_name else ''}k_module;")
        self.line("}")

    def descendants(self, c: ir.ClassDef) -> List[ir.ClassDef]:
        """c's subclasses in the program, bases before subclasses."""
        return [d for d in self.p.classes if d is not c and c in ir.class_chain(d)]

    @staticmethod
    def host_callable(f: ir.Function) -> bool:
        params = f.params[1:] if f.is_method else f.params
        ret = resolve(f.returns)
        ret = ret.elem if isinstance(ret, GenType) else ret  # a generator reaches Python as a list
        return all(host_convertible(p.ty) and not isinstance(resolve(p.ty), GenType) for p in params) \
            and host_convertible(ret)

    def host_slots(self, f: ir.Function, params: List[ir.Param]) -> List[Tuple[str, Optional[ir.Param]]]:
        """The argument slots the host fills, by position or by name: the
        positional parameters, then unnamed guard slots where parameters must
        not be filled by position (keyword-only ones; a classmethod's, whose
        CPython messages count cls) or the slots of *args, then the keyword-only
        parameters. (kind, param) each: "param", "guard" or "vararg"."""
        pos = [p for p in params if p.kind == "pos"]
        kwonly = [p for p in params if p.kind == "kwonly"]
        var = next((p for p in params if p.kind == "vararg"), None)
        kwarg = [("kwarg", p) for p in params if p.kind == "kwarg"]
        slots: List[Tuple[str, Optional[ir.Param]]] = [("param", p) for p in pos]
        room = max(0, MAX_HOST_ARGS - len(pos) - len(kwonly) - len(kwarg))
        if var is not None:
            slots += [("vararg", var)] * room
        elif kwonly or kwarg or f.decorator == "classmethod":
            slots += [("guard", None)] * room
        return slots + [("param", p) for p in kwonly] + kwarg

    def emit_wrapper(self, f: ir.Function, callee: str, cls: Optional[ir.ClassDef], kind="func",
                     static_call: Optional[str] = None, pyname: Optional[str] = None) -> str:
        """Emits the host-facing wrapper of f; returns its mx_func_desc initializer.
        kind: "func" (a method where cls is given), "init"; static_call: the C++
        callee for static and class methods (called without self)."""
        params = f.params[1:] if f.is_method else f.params
        if pyname is None:
            pyname = f.name if cls is None else f"{cls.name}.{f.name}"
        wname = host_symbol("w", cls.name, f.name) if cls else host_symbol("w", f.name)
        if kind == "init":
            wname = host_symbol("w", cls.name) + "_new"
            pyname = cls.name
        elif static_call is not None:
            wname = host_symbol("w", *pyname.split("."))
        slots = self.host_slots(f, params)
        self.line(f"int {wname}(const mx_host_api* h, mx::Object* self, const mx_host_obj* args, "
                  "int64_t nargs, mx_host_obj* result, mx_error* err) {")
        self.ind += 1
        self.line("(void)self; (void)args; (void)nargs;")
        self.line("return mx::guarded(err, [&] {")
        self.ind += 1
        if self.locks_module:  # this library's code may change module-level containers
            self.line("mx::HostLock module_held(h, mx::detail::g_module_lock);")
        if cls is not None and kind != "init" and static_call is None:
            # the instance's lock for the whole call, conversions included (runtime lock.h);
            # shared where the method only reads the instance (readonly.py)
            lock = "HostLockShared" if id(f) in self.shared_methods else "HostLock"
            self.line(f"mx::{lock} held(h, static_cast<mx::Instance*>(self)->host_lock);")
        # CPython's name for the function in bad-call messages, and whether it counts self/cls
        msg_name = f"{cls.name}.__init__" if kind == "init" else (
            f.qualname if f.inherited_from is None else f.inherited_from.qualname)
        offset = 1 if kind == "init" or f.is_method or f.decorator == "classmethod" else 0
        pos = [p for p in params if p.kind == "pos"]
        guards = sum(1 for k, _ in slots if k == "guard")
        if guards:
            self.line(f"// slots {len(pos)}..{len(pos) + guards - 1} take no argument: the parameters after "
                      "them come by name only")
            least = sum(1 for p in pos if p.default is None)
            nkwonly = sum(1 for p in params if p.kind == "kwonly")
            self.line(f"mx::check_positional(args, {len(pos)}, {least}, {guards}, {nkwonly}, "
                      f"{offset}, {cstr_literal(msg_name)});")
        required = [(i, p) for i, (k, p) in enumerate(slots) if k == "param" and p.kind == "kwonly"
                    and p.default is None]
        if required:
            names = ", ".join(f'args[{i}] ? nullptr : "{p.name}"' for i, p in required)
            self.line(f"mx::check_kwonly_given({cstr_literal(msg_name)}, {{{names}}});")
        if self.checked_recursion:
            self.line("mx::enter_stack();")
        saved_func, self.func = self.func, f
        at = {id(p): i for i, (k, p) in enumerate(slots) if k == "param"}
        call_args = []
        for j, p in enumerate(params):
            if p.kind == "vararg":
                call_args.append(self.vararg_from_host(p, slots, pyname))
                continue
            if p.kind == "kwarg":  # the host passes the other keywords as a dict (matx_nb/api.py)
                i = next(i for i, (k, _) in enumerate(slots) if k == "kwarg")
                conv = f'mx::arg_from_host<{ctype(p.ty)}>(h, args[{i}], "{pyname}", "**{p.name}")'
                self.line(f"auto a{j} = args[{i}] ? {conv} : {ctype(p.ty)}();")
                call_args.append(f"a{j}")
                continue
            i = at[id(p)]
            conv = f'mx::arg_from_host<{ctype(p.ty)}>(h, args[{i}], "{pyname}", "{p.name}")'
            if p.default is not None:
                conv = f"(args[{i}] ? {conv} : {ctype(p.ty)}({self.coerced(p.default, p.ty)}))"
            self.line(f"auto a{j} = {conv};")
            call_args.append(f"a{j}")
        self.func = saved_func
        call_args = ", ".join(call_args)
        if kind == "init":
            rt_c, call = f"mx::Ref<C_{cls.name}>", f"C_{cls.name}::new_({call_args})"
        elif static_call is not None:
            rt_c, call = ctype(f.returns), f"{static_call}({call_args})"
        elif cls is not None:
            rt_c, call = ctype(f.returns), f"static_cast<C_{cls.name}*>(self)->m_{f.name}({call_args})"
        else:
            rt_c, call = ctype(f.returns), f"{callee}({call_args})"
        releases = f.has_loops_or_calls or kind == "init"
        if releases:
            self.line(f"{rt_c} r{{}};")
            self.line("{")
            self.line(f"  mx::NoGil nogil(h);")
            self.line(f"  r = {call};")
            self.line("}")
        else:
            self.line(f"{rt_c} r = {call};")
        if kind != "init":
            # Python sees in-place changes of its list/dict/set arguments (writeback.py)
            changed = mutated_params(f)
            for j, p in enumerate(params):
                if p.name in changed and id(p) in at:  # a named parameter (not *args, **kwargs)
                    self.line(f"mx::write_back(h, args[{at[id(p)]}], a{j});")
        if kind == "init":
            self.line(f"*result = h->new_object(class_desc_{cls.name}(), r.release());")
        else:
            self.line("*result = mx::result_to_host(h, r);")
        self.ind -= 1
        self.line("});")
        self.ind -= 1
        self.line("}")
        names = ", ".join(f'"{p.name}"' if k == "param" else f'"*{p.name}"' if k == "vararg" else
                          f'"**{p.name}"' if k == "kwarg" else '"*"' for k, p in slots) or "nullptr"
        types = ", ".join(f'"{p.ty}"' if k in ("param", "kwarg") else f'"{resolve(p.ty).elem}"'
                          if k == "vararg" else '""' for k, p in slots) or "nullptr"
        self.line(f"const char* const {wname}_names[] = {{{names}}};")
        self.line(f"const char* const {wname}_types[] = {{{types}}};")
        flag_list = ["MX_FN_RELEASES_GIL"] if releases else []
        if f in self.may_recurse or (kind == "init" and self.may_recurse):
            flag_list.append("MX_FN_MAY_RECURSE")
        flags = " | ".join(flag_list) or "0"
        rt = cls.name if kind == "init" else str(f.returns)
        pyfn = "__init__" if kind == "init" else pyname if static_call is not None else f.name
        required = sum(1 for p in pos if p.default is None)
        lock = "&mx::detail::g_module_lock" if self.locks_module else "nullptr"
        return (f'{{"{pyfn}", {len(slots)}, {wname}_names, {wname}_types, "{rt}", {wname}, {flags}, '
                f'{required}, {lock}}}')

    def vararg_from_host(self, p: ir.Param, slots, pyname: str) -> str:
        """*args from the host: the filled vararg slots, in order, as a tuple."""
        first = next(i for i, (k, _) in enumerate(slots) if k == "vararg")
        n = sum(1 for k, _ in slots if k == "vararg")
        self.line(f"// slots {first}..{first + n - 1}: the positional arguments *{p.name} collects")
        et = ctype(resolve(p.ty).elem)
        v = f"a_{p.name}"
        self.line(f"{ctype(p.ty)} {v};")
        self.line(f"for (int64_t i = {first}; i < {first + n} && args[i]; ++i)")
        self.line(f'  {v}.push_back(mx::arg_from_host<{et}>(h, args[i], "{pyname}", "*{p.name}"));')
        return v

    def emit_alloc(self, c: ir.ClassDef) -> str:
        """"C.__matx_alloc__": a new instance whose __init__ has not run (its
        attributes hold their types' defaults). Python builds instances this way,
        then calls __init__ (the compiled one, or a Python subclass's), as
        object.__new__ and __init__ do."""
        w = host_symbol("w", c.name) + "_alloc"
        self.line(f"int {w}(const mx_host_api* h, mx::Object*, const mx_host_obj*, int64_t, mx_host_obj* result, "
                  "mx_error* err) {")
        self.line(f"  return mx::guarded(err, [&] {{ *result = h->new_object(class_desc_{c.name}(), "
                  f"mx::Ref<C_{c.name}>::make().release()); }});")
        self.line("}")
        lock = "&mx::detail::g_module_lock" if self.locks_module else "nullptr"
        return f'{{"{c.name}.__matx_alloc__", 0, nullptr, nullptr, "{c.name}", {w}, 0, 0, {lock}}}'

    def emit_class_abi(self, c: ir.ClassDef) -> str:
        init = ir.find_method(c, "__init__")
        if init is None:
            init = ir.Function(c.span, "__init__", f"{c.name}.__init__",
                               [ir.Param(c.span, "self", ClassType(c.name, c))], NONE, [],
                               origin=c.origin, is_method=True)
        init_desc = self.emit_wrapper(init, "", c, kind="init")
        methods = []
        for m in ir.all_methods(c).values():
            if not self.host_callable(m):
                continue
            # __init__ too: run again on an existing instance, or by a Python subclass's super().__init__
            methods.append(self.emit_wrapper(m, "", c))
        attrs = []
        for name, t in ir.all_attrs(c).items():
            if not host_convertible(t):
                continue
            g, s = host_symbol("g", c.name, name), host_symbol("s", c.name, name)
            self.line(f"int {g}(const mx_host_api* h, mx::Object* self, mx_host_obj* result, mx_error* err) {{")
            held = "mx::HostLock held(h, static_cast<mx::Instance*>(self)->host_lock);"
            self.line(f"  return mx::guarded(err, [&] {{ {held} *result = mx::Conv<{ctype(t)}>::to_host(h, "
                      f"static_cast<C_{c.name}*>(self)->a_{name}); }});")
            self.line("}")
            self.line(f"int {s}(const mx_host_api* h, mx::Object* self, mx_host_obj value, mx_error* err) {{")
            self.line(f"  return mx::guarded(err, [&] {{ auto v = mx::attr_from_host<{ctype(t)}>(h, value, "
                      f'"{c.name}", "{name}"); {held} static_cast<C_{c.name}*>(self)->a_{name} = std::move(v); }});')
            self.line("}")
            live = "nullptr, nullptr"
            if isinstance(resolve(t), (ListType, DictType, SetType)):  # a live handle for the host (live.h)
                self.headers.add("matx_nb/live.h")
                r = f"r_{c.name}_{name}"
                self.line(f"mx::Object* {r}(mx::Object* self) {{ mx::Object* o = "
                          f"static_cast<C_{c.name}*>(self)->a_{name}.object(); if (o) o->incref(); return o; }}")
                live = f"{r}, mx::live::ops_of<{ctype(t)}>()"
            attrs.append(f'{{"{name}", "{t}", {g}, {s}, {live}}}')
        self.line(f"const mx_func_desc k_methods_{c.name}[] = {{{', '.join(methods) or '{}'}}};")
        self.line(f"const mx_attr_desc k_attrs_{c.name}[] = {{{', '.join(attrs) or '{}'}}};")
        layout = self.layouts.get(c.name, c.name)
        return (f'{{"{c.name}", "{layout}", {init_desc}, {len(methods)}, k_methods_{c.name}, '
                f'{len(attrs)}, k_attrs_{c.name}}}')


def first_statement_using(f: ir.Function) -> Dict[str, ir.Stmt]:
    """For each name, the first statement (in source order) that mentions it."""
    first: Dict[str, ir.Stmt] = {}

    def names_in(node, acc):
        if isinstance(node, ir.Name):
            acc.add(node.id)
            return
        if isinstance(node, list):
            for x in node:
                names_in(x, acc)
            return
        if isinstance(node, (ir.Expr, ir.Keyword, ir.Comprehension)):
            for k, v in vars(node).items():
                if k in ("span", "ty", "resolved", "bound_args", "comp_vars", "binop_ty"):
                    continue
                if isinstance(v, (ir.Node, list)):
                    names_in(v, acc)

    def walk(stmts):
        for s in stmts:
            acc = set()
            for k, v in vars(s).items():
                if k in ("span", "body", "orelse", "finalbody", "handlers"):
                    continue
                if isinstance(v, (ir.Node, list)):
                    names_in(v, acc)
            for n in acc:
                first.setdefault(n, s)
            for attr in ("body", "orelse", "finalbody"):
                sub = getattr(s, attr, None)
                if isinstance(sub, list):
                    walk(sub)
            for h in getattr(s, "handlers", None) or ():
                walk(h.body)

    walk(f.body)
    return first


# Receivers of a builtin method called on an Any (dyn_method_call): the kind's
# type tag, the accessor of its value, its type, and the runtime function's name
# ({cpp}: the declared one; a tuple's items are a list of Any).
DYN_RECEIVERS = {
    "str": ("Str", "str", STR, "{cpp}"),
    "bytes": ("Bytes", "bytes", BYTES, "{cpp}"),
    "list": ("List", "list", ListType(ANY), "{cpp}"),
    "tuple": ("Tuple", "list", ListType(ANY), "list_{name}"),
    "dict": ("Dict", "dict", DictType(ANY, ANY), "{cpp}"),
    "set": ("Set", "set", SetType(ANY), "{cpp}"),
}

MUTATING_METHODS = primitives.MUTATING


def evaluation_operands(e: ir.Expr) -> List[ir.Expr]:
    """The sub-expressions e evaluates unconditionally, in Python's order."""
    if isinstance(e, ir.BinOp):
        return [e.left, e.right]
    if isinstance(e, ir.Compare) and len(e.ops) == 1:
        return [e.left, e.comparators[0]]
    if isinstance(e, ir.Subscript):
        items = index_items(e.index) if resolve(e.value.ty) == NDARRAY else [e.index]
        out = [e.value]
        for x in items:
            if isinstance(x, ir.Slice):
                out += [b for b in (x.lower, x.upper, x.step) if b is not None]
            elif not is_index_marker(x):
                out.append(x)
        return out
    if isinstance(e, ir.Call) and e.resolved:
        kind = e.resolved[0]
        args = [a.value if isinstance(a, ir.Starred) else a for a in e.args] + [k.value for k in e.keywords]
        if kind in ("method", "rtmethod", "staticvirt"):
            return [e.func.value] + args
        if kind == "builtin" and e.resolved[1] == "range":
            return []
        return args
    return []


def is_impure(e, pure=frozenset()) -> bool:
    """Whether evaluating e may change state or print: calls into user code that
    writes anything, mutating methods, print."""
    if isinstance(e, ir.Call) and e.resolved:
        kind = e.resolved[0]
        if kind == "func" and e.resolved[1] not in pure:
            return True
        if kind in ("method", "super", "static", "staticvirt") and e.resolved[2] not in pure:
            return True
        if kind == "callvalue":
            return True
        if kind == "new":
            return True
        if kind == "rtmethod" and e.resolved[2] in MUTATING_METHODS:
            return True
        if kind == "builtin" and e.resolved[1] == "print":
            return True
        if kind == "module" and not e.resolved[1].pure:
            return True
    if isinstance(e, (ir.Expr, ir.Keyword, ir.Comprehension)):
        for k, v in vars(e).items():
            if k in ("span", "ty", "resolved", "bound_args", "comp_vars", "binop_ty"):
                continue
            if isinstance(v, list):
                if any(is_impure(x, pure) for x in v if isinstance(x, ir.Node)):
                    return True
            elif isinstance(v, ir.Node) and is_impure(v, pure):
                return True
    return False


def is_stable(e: ir.Expr) -> bool:
    """Operands whose value no call can change: constants and plain locals."""
    if isinstance(e, ir.Const):
        return True
    if isinstance(e, ir.Name):
        return True
    return resolve(e.ty) == RANGE if e.ty is not None else False


def needs_ordering(ops: List[ir.Expr], pure=frozenset()) -> bool:
    unstable = [o for o in ops if not is_stable(o)]
    return len(unstable) >= 2 and any(is_impure(o, pure) for o in unstable)


def writes_state(f: ir.Function) -> bool:
    """Whether f's own body (not its callees) changes state visible to a caller."""
    from .checker import ir_walk
    for st in ir_walk(f.body):
        if isinstance(st, ir.Delete):
            return True  # del xs[i] changes a container the caller may see
        targets = st.targets if isinstance(st, ir.Assign) else [st.target] if isinstance(st, ir.AugAssign) else []
        for t in targets:
            if not isinstance(t, (ir.Name, ir.TupleLit)):
                return True  # attribute or item assignment
            if isinstance(t, ir.TupleLit) and any(not isinstance(x, ir.Name) for x in t.elts):
                return True
        if isinstance(st, ir.AugAssign) and isinstance(resolve(st.target.ty), ListType):
            return True  # xs += ys extends a list the caller may see
        if isinstance(st, ir.AugAssign) and getattr(st, "nd_inplace", False):
            return True  # a += 1 writes an array the caller may see
    for call in iter_calls(f.body):
        r = call.resolved
        if r and r[0] == "rtmethod" and r[2] in MUTATING_METHODS:
            return True
        if r and r[0] == "builtin" and r[1] == "print":
            return True
    return False


def pure_functions(p: ir.Program) -> set:
    """Functions whose calls have no effect a caller could observe (fib): their
    calls may be evaluated in any order."""
    edges = call_graph(p)
    pure = {f for f in edges if not writes_state(f)}
    changed = True
    while changed:
        changed = False
        for f in list(pure):
            for call in iter_calls(f.body):
                if call.resolved and call.resolved[0] == "new":
                    pure.discard(f)
                    changed = True
                    break
            else:
                if any(g not in pure for g in edges[f]):
                    pure.discard(f)
                    changed = True
    return pure


def call_graph(p: ir.Program):
    """Edges from each function or method to the user code it calls."""
    from .checker import ir_walk
    funcs = list(p.functions) + [m for c in p.classes for m in c.methods.values()] + \
        [m for c in p.classes for m in c.statics.values()]
    edges = {f: set() for f in funcs}
    for f in funcs:
        for call in iter_calls(f.body):
            r = call.resolved
            if r and r[0] == "func":
                edges[f].add(r[1])
            elif r and r[0] in ("method", "super"):
                edges[f].add(r[2])
                if r[0] == "method":  # a virtual call may reach any override
                    for c in p.classes:
                        m = c.methods.get(r[2].name)
                        if m is not None and m in edges and r[1] in ir.class_chain(c):
                            edges[f].add(m)
            elif r and r[0] in ("static", "staticvirt"):
                for c in p.classes:  # the class's own copy, and overrides reached through obj.m()
                    m = c.statics.get(r[2].name)
                    if m is not None and m in edges and (c is r[1] if r[0] == "static" else
                                                         r[1] in ir.class_chain(c)):
                        edges[f].add(m)
                edges[f].add(r[2])
            elif r and r[0] == "new" and ir.find_method(r[1], "__init__") is not None:
                edges[f].add(ir.find_method(r[1], "__init__"))
    return edges


iter_calls = ir.iter_calls


NUMERIC_BUILTINS = {"abs", "min", "max", "int", "float", "bool"}


def allocation_free(f: ir.Function) -> bool:
    """Only numbers, bools and calls: nothing here takes a lock (malloc does)."""
    for p in f.params:
        if is_heap(p.ty) and not isinstance(resolve(p.ty), ClassType):
            return False
    if is_heap(f.returns):
        return False
    if any(is_heap(t) for t in f.locals.values()):
        return False
    for call in iter_calls(f.body):
        r = call.resolved
        if not r:
            return False
        if r[0] == "builtin" and (r[1] not in NUMERIC_BUILTINS or any(is_heap(a.ty) for a in call.args)):
            return False
        if r[0] in ("rtmethod", "new"):
            return False
    return True


def recursion_needing_checks(p: ir.Program):
    """(functions on a call cycle that may allocate: they check the stack,
    functions that reach a cycle: their entry points are guarded by the host).

    Allocation-free recursion (fib) is left unchecked: the host turns a stack
    overflow there into RecursionError, which is safe because no lock is held.
    """
    edges = call_graph(p)
    free = {f for f in edges if allocation_free(f)}
    # Allocation-free must hold for everything reachable too.
    changed = True
    while changed:
        changed = False
        for f in list(free):
            if any(g not in free for g in edges[f]):
                free.discard(f)
                changed = True
    reach = {}
    for f in edges:
        seen, stack = set(), list(edges[f])
        while stack:
            g = stack.pop()
            if g not in seen:
                seen.add(g)
                stack.extend(edges.get(g, ()))
        reach[f] = seen
    on_cycle = {f for f in edges if f in reach[f]}
    may_recurse = {f for f in edges if f in on_cycle or reach[f] & on_cycle}
    return {f for f in on_cycle if f not in free}, may_recurse
