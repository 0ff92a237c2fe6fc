"""Keyword arguments to builtins (bound from their declarations in
primitives.py), isinstance, key= and reverse=, and string formatting
(f-strings, str.format, %). Free functions over the
checker's state (checker.Checker), like every rule module here. Each builtin function's own rule is in
check/builtins.py.
"""
from __future__ import annotations

import string
from typing import Dict

from .. import ir, primitives
from ..diagnostics import a_or_an
from ..kinds import kind_of
from ..types import (BOOL, BYTES, ERROR, FLOAT, INT, STR, AnyType, ClassType, DictType, ListType, TupleType, Type,
                     VarTupleType, assignable, is_error, resolve)
from . import hooks

KEY_BUILTINS = primitives.KEY_BUILTINS

# matx.List(...) and friends in compiled code: the builtin each one behaves as.
COMPAT_CONSTRUCTORS = {"List": "list", "FTList": "list", "Dict": "dict", "FTDict": "dict",
                       "Set": "set", "FTSet": "set", "Tuple": "tuple_of"}

# isinstance(x, T): T's name -> the static types whose values are instances.
ISINSTANCE_NAMES = ("int", "float", "bool", "str", "bytes", "list", "dict", "set", "tuple", "object")


# ---- keyword arguments -----------------------------------------------------
def take_builtin_keywords(chk, e: ir.Call, name: str):
    """Moves keywords that are positional parameters into e.args and keeps
    keyword-only ones in e.kwonly; what is left is an error for the caller."""
    e.kwonly = {}
    rest, unknown = [], []
    f = primitives.FUNCTIONS.get(name)
    pos = f.positional_keywords if f is not None else ()
    kwonly = f.keyword_only if f is not None else ()
    for kw in e.keywords:
        if kw.name in pos and len(e.args) == 1 + pos.index(kw.name):
            e.args.append(kw.value)
        elif kw.name in kwonly and kw.name not in e.kwonly:
            e.kwonly[kw.name] = kw.value
            rest.append(kw)  # kept for the evaluation order and flow analysis
        else:
            rest.append(kw)
            unknown.append(kw)
    e.keywords = rest
    return unknown


# ---- builtins ------------------------------------------------------------------
def call_compat_constructor(chk, e: ir.Call, builtin: str, expected) -> Type:
    """matx.List(xs) is list(xs), matx.Tuple(a, b) is (a, b)."""
    if builtin != "tuple_of":
        return hooks.call_builtin(chk, e, builtin, expected)
    e.resolved = ir.BuiltinCall("tuple_of")
    if e.keywords:
        chk.error(e.keywords[0].span, "matx.Tuple() takes no keyword arguments")
    ex = resolve(expected) if expected is not None else None
    exs = ex.items if isinstance(ex, TupleType) and len(ex.items) == len(e.args) else [None] * len(e.args)
    return TupleType(tuple(hooks.expr(chk, a, t) for a, t in zip(e.args, exs)))


def check_isinstance(chk, e: ir.Call, rs) -> Type:
    if len(e.args) != 2:
        chk.error(e.span, f"isinstance expected 2 arguments, got {len(e.args)}")
        return ERROR
    spec = e.args[1]
    names = spec.elts if isinstance(spec, ir.TupleLit) else [spec]
    kinds = []
    for x in names:
        if isinstance(x, ir.Name) and chk.scope.lookup(x.id) is None and \
                (x.id in ISINSTANCE_NAMES or x.id in chk.classes):
            kinds.append(x.id)
        else:
            chk.error(x.span, "isinstance() needs a builtin type name (int, str, list...), a "
                               "compiled class or a tuple of them here")
            return BOOL
    e.isinstance_kinds = kinds
    e.args = e.args[:1]  # the type names are not values; code uses isinstance_kinds
    t = rs[0]
    e.isinstance_classes = []
    if isinstance(t, AnyType) and not is_error(t):
        e.isinstance_static = None  # decided at run time
    else:
        e.isinstance_static = any(static_isinstance(chk, t, k) for k in kinds)
        rt = resolve(t)
        if not e.isinstance_static and isinstance(rt, ClassType):
            from ..types import is_subclass
            # A base-class reference may hold an instance of the subclass asked about.
            e.isinstance_classes = [k for k in kinds if k in chk.classes and
                                    is_subclass(ClassType(k, chk.classes[k]), rt)]
    return BOOL


def static_isinstance(chk, t: Type, kind: str) -> bool:
    t = resolve(t)
    if kind == "object":
        return True
    if kind == "int":
        return t in (INT, BOOL)
    if kind in ("float", "bool", "str", "bytes"):
        return t == {"float": FLOAT, "bool": BOOL, "str": STR, "bytes": BYTES}[kind]
    if kind in ("list", "dict", "set", "tuple"):
        return kind_of(t) == kind
    if isinstance(t, ClassType):
        from ..types import is_subclass
        return is_subclass(t, ClassType(kind, chk.classes[kind]))
    return False


def check_min_max_default(chk, e: ir.Call, name: str, et: Type) -> Type:
    d = e.kwonly.get("default")
    if d is None:
        return et
    if len(e.args) != 1:
        chk.error(d.span, f"Cannot specify a default for {name}() with multiple positional arguments")
        return et
    dt = hooks.expr(chk, d, et)
    if not assignable(et, dt):
        chk.error(d.span, f"{name}() default must have the items' type {et}, got {dt}")
    return et


def check_reverse_kw(chk, e: ir.Call, et=None):
    r = getattr(e, "kwonly", {}).get("reverse")
    if r is not None:
        t = resolve(hooks.expr(chk, r))
        if t not in (BOOL, INT) and not is_error(t):
            chk.error(r.span, f"reverse must be a bool, got {t}")
    check_key_kw(chk, e, et)


def check_key_kw(chk, e: ir.Call, et):
    """key=f: a function of one item (a lambda, a function, or a builtin such
    as len or abs); its results are what is compared."""
    kw = getattr(e, "kwonly", {})
    k = kw.get("key")
    if k is None or et is None:
        return
    if isinstance(k, ir.Const) and k.value is None:
        del kw["key"]  # key=None: the items themselves
        return
    if isinstance(k, ir.Name) and chk.scope.lookup(k.id) is None and k.id in KEY_BUILTINS and \
            k.id not in chk.funcs:
        # key=len is key=lambda x: len(x)
        x = ir.Name(k.span, "__key_item")
        k = ir.Lambda(k.span, [ir.Param(k.span, "__key_item", None)],
                      ir.Call(k.span, ir.Name(k.span, k.id), [x], []))
        kw["key"] = k
    from ..types import FuncType, fresh
    kt = resolve(hooks.expr(chk, k, FuncType((et,), fresh())))
    if is_error(kt):
        return
    if not isinstance(kt, FuncType) or len(kt.params) != 1:
        chk.error(k.span, f"key= must be a function of one item, got {kt}")
        del kw["key"]
        return
    if not assignable(kt.params[0], et):
        chk.error(k.span, f"key= takes {kt.params[0]} but the items are {et}")
    e.key_type = resolve(kt.ret)


# ---- string formatting -------------------------------------------------------
def expr_FString(chk, e, expected):
    for p in e.parts:
        if isinstance(p, ir.FormatField):
            check_field(chk, p)
    return STR


def check_field(chk, f):
    t = resolve(hooks.expr(chk, f.value))
    if f.spec is not None:
        hooks.expr(chk, f.spec)
    if f.conversion not in ("", "r", "s", "a"):
        chk.error(f.span, f"unknown conversion specifier {f.conversion}")
    return t


def check_str_format(chk, e: ir.Call) -> Type:
    """'...'.format(...) with a constant format string: parsed here into an FString."""
    fmt = e.func.value
    args = e.args
    kws = {k.name: k.value for k in e.keywords}
    e.format_kws = e.keywords
    e.keywords = []
    if not (isinstance(fmt, ir.Const) and isinstance(fmt.value, str)):
        for a in args:
            hooks.expr(chk, a)
        for v in kws.values():
            hooks.expr(chk, v)
        chk.error(fmt.span, "str.format() needs a constant format string here")
        return STR
    try:
        fs = parse_format(fmt.value, args, kws, e)
    except FormatError as err:
        for a in args:
            hooks.expr(chk, a)
        for v in kws.values():
            hooks.expr(chk, v)
        chk.error(fmt.span, str(err))
        return STR
    # Every argument is evaluated once, in order, even if unused or used twice.
    for a in args:
        hooks.expr(chk, a)
    for v in kws.values():
        hooks.expr(chk, v)
    e.formatted = fs
    for p in fs.parts:
        if isinstance(p, ir.FormatField):
            if p.spec is not None:
                hooks.expr(chk, p.spec)
    e.resolved = ir.FormatCall()
    return STR


def check_percent(chk, e: ir.BinOp, rt: Type) -> Type:
    """'fmt' % args with a constant format string."""
    if not (isinstance(e.left, ir.Const) and isinstance(e.left.value, str)):
        chk.error(e.left.span, "%-formatting needs a constant format string here")
        return STR
    r = resolve(rt)
    if isinstance(r, VarTupleType):
        chk.error(e.right.span, f"'...' % {a_or_an(r)}: the number of values is not known when compiling",
                   "convert the values to a fixed tuple, or use str.join")
        return STR
    n_args = len(r.items) if isinstance(r, TupleType) else 1
    try:
        e.percent = parse_percent(e.left.value, n_args, isinstance(r, TupleType),
                                  isinstance(r, (ListType, DictType)))
    except FormatError as err:
        chk.error(e.left.span, str(err))
        return STR
    item_types = list(r.items) if isinstance(r, TupleType) else [r]
    for conv, i in e.percent.fields:
        if i >= len(item_types):
            continue
        it = resolve(item_types[i])
        if conv in "diouxXeEfFgGc" and not (it in (INT, FLOAT, BOOL) or (conv == "c" and it == STR)) \
                and not is_error(it):
            chk.error(e.right.span, f"%{conv} format: a real number is required, not {it}")
        if conv in "oxXc" and it == FLOAT:
            chk.error(e.right.span, f"%{conv} format: an integer is required, not float")
    return STR


class FormatError(Exception):
    pass


def parse_format(fmt: str, args, kws: Dict[str, ir.Expr], node, depth: int = 0):
    """str.format's replacement fields, with auto or manual numbering."""
    parts = []
    auto = [0, None]  # next index; whether numbering is automatic

    def field_value(name: str):
        first, rest = name, ""
        for i, ch in enumerate(name):
            if ch in ".[":
                first, rest = name[:i], name[i:]
                break
        if first == "":
            if auto[1] is False:
                raise FormatError("cannot switch from manual field specification to automatic field numbering")
            auto[1] = True
            idx = auto[0]
            auto[0] += 1
            value = _positional(args, idx)
        elif first.isdigit():
            if auto[1] is True:
                raise FormatError("cannot switch from automatic field numbering to manual field specification")
            auto[1] = False
            value = _positional(args, int(first))
        else:
            if first not in kws:
                raise FormatError(f"format string names '{first}', which is not a keyword argument")
            value = kws[first]
        if rest:
            raise FormatError(f"attribute and index lookups in format fields ('{name}') are not supported")
        return value

    try:
        pieces = list(string.Formatter().parse(fmt))
    except ValueError as err:
        raise FormatError(str(err))
    for literal, name, spec, conv in pieces:
        if literal:
            parts.append(ir.Const(node.span, literal))
        if name is None:
            continue
        value = field_value(name)
        spec_node = None
        if spec:
            if depth >= 1 and "{" in spec:
                raise FormatError("Max string recursion exceeded")
            sub = ir.FString(node.span, [])
            for lit2, name2, spec2, conv2 in string.Formatter().parse(spec):
                if lit2:
                    sub.parts.append(ir.Const(node.span, lit2))
                if name2 is not None:
                    if spec2 or conv2:
                        raise FormatError("Max string recursion exceeded")
                    sub.parts.append(ir.FormatField(node.span, field_value(name2), "", None, shared=True))
            spec_node = sub
        parts.append(ir.FormatField(node.span, value, conv or "", spec_node, shared=True))
    return ir.FString(node.span, parts)


def _positional(args, i: int):
    if i >= len(args):
        raise FormatError(f"Replacement index {i} out of range for positional args tuple")
    return args[i]


class Percent:
    def __init__(self):
        self.pieces = []  # str literals and (flags, width, precision, conv, arg index)
        self.fields = []  # (conv, arg index)
        self.n_args = 0


def parse_percent(fmt: str, n_args: int, is_tuple: bool, is_mapping: bool = False) -> Percent:
    """printf-style format: %[flags][width][.precision]conv, no '*' or mapping keys."""
    out = Percent()
    i, k, lit = 0, 0, []
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            lit.append(ch)
            i += 1
            continue
        i += 1
        if i >= len(fmt):
            raise FormatError("incomplete format")
        if fmt[i] == "(":
            raise FormatError("%(name) mapping keys are not supported")
        flags = ""
        while i < len(fmt) and fmt[i] in "-+ #0":
            flags += fmt[i]
            i += 1
        width = ""
        while i < len(fmt) and fmt[i].isdigit():
            width += fmt[i]
            i += 1
        prec = None
        if i < len(fmt) and fmt[i] == ".":
            i += 1
            prec = ""
            while i < len(fmt) and fmt[i].isdigit():
                prec += fmt[i]
                i += 1
        if i < len(fmt) and fmt[i] == "*":
            raise FormatError("'*' width or precision is not supported")
        while i < len(fmt) and fmt[i] in "hlL":
            i += 1
        if i >= len(fmt):
            raise FormatError("incomplete format")
        conv = fmt[i]
        i += 1
        if conv == "%":
            lit.append("%")
            continue
        if conv not in "diouxXeEfFgGcrsa":
            raise FormatError(f"unsupported format character '{conv}' (0x{ord(conv):x})")
        if lit:
            out.pieces.append("".join(lit))
            lit = []
        out.pieces.append((flags, width, prec, conv, k))
        out.fields.append((conv, k))
        k += 1
    if lit:
        out.pieces.append("".join(lit))
    out.n_args = k
    # Arity errors are TypeErrors at run time in CPython: keep them for run time.
    out.arity_error = None
    if k > n_args:
        out.arity_error = "not enough arguments for format string"
    elif k < n_args and not is_mapping:
        out.arity_error = "not all arguments converted during string formatting"
    return out


hooks.rules(globals())
