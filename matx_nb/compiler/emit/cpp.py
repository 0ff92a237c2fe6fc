"""How the generated C++ spells things: the names of user identifiers, C++
types, literals of every kind, and the emitter's size limits. Shared by the
emitter (emit/emitter.py), its rule modules and the per-unit tables (emit/units.py).
"""
from __future__ import annotations

import math
from typing import List, Optional

from .. import ir, modules
from ..types import (BOOL, BYTES, FLOAT, INT, STR, AnyType, ClassType, DictType, FuncType, GenType, ListType,
                     OptionalType, Prim, SetType, TupleType, Type, VarTupleType, resolve)

# The C++ names of user identifiers: every one carries the prefix of its kind
# (functions f_, classes C_, attributes a_, methods m_, class constants k_, static
# methods s_, locals and parameters v_, their "is bound" flags b_), so no macro
# (INT_MAX, M_PI, __LINE__, unix, assert...), keyword or generated name (L0, S0,
# _mx_t1, h, args) can collide with one. The host still sees the Python names.
LOCAL_PREFIX = "v_"

DYN_BINOPS = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "//": "floordiv", "%": "mod",
              "**": "pow", "<<": "lshift", ">>": "rshift", "&": "and", "|": "or", "^": "xor"}

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
    from ..types import children
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
