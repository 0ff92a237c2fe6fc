"""The builtin functions and the methods of the builtin types, one declaration each.

Methods (`method(...)`, below):

A declaration gives a method's parameters (CPython's names, types, defaults and
whether a keyword may name them), its result, the runtime function that runs it
and what it does to its receiver. Everything else comes from it:
- the checker's arity, keyword binding, argument and result types
  (check_primitive in check/methods.py);
- the C++ call of a typed receiver (emit/calls.rt_method):
  `mx::<cpp>(receiver, args..., loc)`;
- the dispatch of a call on an `Any` value (emit/calls.dyn_method_call), which tries
  every builtin type that has a method of that name;
- the analyses' views: which methods mutate their receiver (shared_state,
  readonly, codegen), which return a fresh string list (borrow), which may reuse
  their receiver's buffer (borrow).

Adding a method with no special rule is one `method(...)` line here, one runtime
function `mx::<kind>_<name>(receiver, args..., const Loc*)` and one test case.

Builtin functions (`function(...)`, at the end) are declared the same way, with
CPython's markers: parameters before '/' are positional only, after '*'
keyword only. A function the declaration says all of (ord, chr, repr, hex...)
is checked and emitted from it: `mx::<cpp>(args..., loc)`. The others name a
rule: a specializer registered under the builtin's name in check/builtins.py
(types) and emit/builtins.py (C++), as mypyc's `@specialize_function` does.
Their flags give the analyses what the function does with its arguments.

Type specs, resolved against the receiver's type (types_for):
    str bytes int bool float None any    the builtin types (int also takes bool)
    index                                a slice bound: an int, or None for the default
                                         (INDEX_DEFAULTS, by the parameter's name)
    T K V Self                           the receiver's item, key, value, itself
    X|None                               X or None (the C++ function has both overloads)
    str|tuple[str]                       a str or a tuple of str (startswith)
    iter[X]                              any iterable of X (join, extend)
    List[X] Tuple[X, ...] Optional[X]    results
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

REQUIRED = object()  # a parameter without a default
# What None stands for as a slice bound (`s.find(x, None, 3)`), in C++.
INDEX_DEFAULTS = {"start": "0", "end": "INT64_MAX"}


@dataclass(frozen=True)
class Param:
    name: str                 # CPython's name: messages and keywords use it
    type: str                 # a type spec (module docstring)
    default: object = REQUIRED
    keyword: bool = False     # may be given by keyword (CPython 3.11)
    kwonly: bool = False      # may be given by keyword only (a builtin function's)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Method:
    kind: str                 # the receiver: str bytes list dict set tuple file
    name: str
    params: Tuple[Param, ...]
    result: str               # a type spec
    cpp: str                  # mx::<cpp>(receiver, args..., loc)
    mutates: bool = False     # changes its receiver
    fresh: bool = False       # returns new strings that alias nothing (analysis/borrow.py)
    in_place: bool = False    # may reuse the receiver's buffer at its last use (analysis/borrow.py)
    check: Optional[str] = None  # a rule in check/methods.py the params cannot say
    variadic: bool = False    # takes any number of positional arguments (str.format)
    short: bool = False       # takes constant time: a call of it keeps the GIL (emit/abi.py)

    @property
    def arity(self) -> Tuple[int, int]:
        if self.variadic:
            return (0, 255)
        return (sum(1 for p in self.params if p.required), len(self.params))

    @property
    def keywords(self) -> bool:
        return any(p.keyword for p in self.params)


METHODS: Dict[Tuple[str, str], Method] = {}


def _split_top(s: str):
    """Splits at the commas outside brackets: 'a: Dict[str, int], b = (1, 2)' has two parts."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch in "[("
        depth -= ch in "])"
        cur += ch
    out.append(cur)
    return [x.strip() for x in out if x.strip()]


def _params(sig: str) -> Tuple[Param, ...]:
    """'sep: str|None = None, maxsplit: int = -1' -> Params. A parameter after '*'
    may be given by keyword; '?' as a default means optional, positional only
    (the runtime has an overload without it)."""
    out = []
    keyword = False
    for part in _split_top(sig):
        if part == "*":
            keyword = True
            continue
        decl, _, default = part.partition("=")
        name, _, spec = decl.partition(":")
        default = default.strip()
        if not default:
            value = REQUIRED
        elif default == "?":
            value = None
        else:
            value = ast.literal_eval(default)
        out.append(Param(name.strip(), spec.strip(), value, keyword))
    return tuple(out)


def method(kind: str, names: str, sig: str, result: str, *, cpp: Optional[str] = None, **flags) -> None:
    """Declares each of the space-separated names of kind with one signature."""
    for name in names.split():
        METHODS[(kind, name)] = Method(kind, name, _params(sig), result, cpp or f"{kind}_{name}", **flags)


# ---- str ---------------------------------------------------------------------------
method("str", "split rsplit", "*, sep: str|None = None, maxsplit: int = -1", "List[str]", fresh=True)
method("str", "splitlines", "*, keepends: bool = False", "List[str]", fresh=True)
method("str", "join", "iterable: iter[str]", "str")
method("str", "strip lstrip rstrip", "chars: str|None = ?", "str")
method("str", "lower", "", "str", in_place=True)
method("str", "upper title capitalize swapcase casefold", "", "str")
method("str", "replace", "old: str, new: str, count: int = ?", "str", in_place=True)
method("str", "find rfind index rindex count", "sub: str, start: index = ?, end: index = ?", "int")
method("str", "startswith endswith", "prefix: str|tuple[str], start: index = ?, end: index = ?", "bool")
method("str", "isdigit isalpha isalnum isspace isupper islower isdecimal isnumeric istitle isascii "
       "isidentifier isprintable", "", "bool")
method("str", "encode", "*, encoding: str = 'utf-8', errors: str = 'strict'", "bytes")
method("str", "zfill", "width: int", "str")
method("str", "center ljust rjust", "width: int, fillchar: str = ?", "str")
method("str", "partition rpartition", "sep: str", "Tuple[str, str, str]")
method("str", "removeprefix removesuffix", "prefix: str", "str")
method("str", "expandtabs", "*, tabsize: int = 8", "str")
method("str", "format", "", "str", check="check_str_format_method", variadic=True)

# ---- bytes -------------------------------------------------------------------------
method("bytes", "decode", "*, encoding: str = 'utf-8', errors: str = 'strict'", "str")
method("bytes", "split rsplit", "*, sep: bytes|None = None, maxsplit: int = -1", "List[bytes]")
method("bytes", "splitlines", "*, keepends: bool = False", "List[bytes]")
method("bytes", "join", "iterable_of_bytes: iter[bytes]", "bytes")
method("bytes", "strip lstrip rstrip", "bytes: bytes|None = ?", "bytes")
method("bytes", "lower upper title capitalize swapcase", "", "bytes")
method("bytes", "startswith endswith", "prefix: bytes|tuple[bytes], start: index = ?, end: index = ?", "bool")
method("bytes", "find rfind index rindex count", "sub: bytes|int, start: index = ?, end: index = ?", "int")
method("bytes", "replace", "old: bytes, new: bytes, count: int = ?", "bytes")
method("bytes", "hex", "*, sep: str|bytes = ?, bytes_per_sep: int = 1", "str")
method("bytes", "partition rpartition", "sep: bytes", "Tuple[bytes, bytes, bytes]")
method("bytes", "isdigit isalpha isalnum isspace islower isupper istitle isascii", "", "bool")
method("bytes", "center ljust rjust", "width: int, fillchar: bytes = ?", "bytes")
method("bytes", "zfill", "width: int", "bytes")
method("bytes", "removeprefix removesuffix", "prefix: bytes", "bytes")
method("bytes", "expandtabs", "*, tabsize: int = 8", "bytes")

# ---- list --------------------------------------------------------------------------
method("list", "append", "object: T", "None", mutates=True, short=True)
method("list", "insert", "index: int, object: T", "None", mutates=True)
method("list", "pop", "index: int = ?", "T", mutates=True, short=True)
method("list", "extend", "iterable: iter[T]", "None", mutates=True)
method("list", "remove", "value: T", "None", mutates=True)
method("list", "count", "value: T", "int")
method("list", "index", "value: T, start: int = ?, end: int = ?", "int")
method("list", "clear reverse", "", "None", mutates=True)
method("list", "copy", "", "Self")
method("list", "sort", "", "None", mutates=True, check="check_list_sort")
method("list", "reserve", "n: int", "None")  # MATXScript's: capacity only, no change

# ---- dict --------------------------------------------------------------------------
method("dict", "get", "key: K, default: V = ?", "V", check="check_dict_get", short=True)
method("dict", "keys", "", "List[K]")
method("dict", "values", "", "List[V]")
method("dict", "items", "", "List[Tuple[K, V]]")
method("dict", "pop", "key: K, default: V = ?", "V", mutates=True, check="check_dict_pop", short=True)
method("dict", "setdefault", "key: K, default: V = ?", "V", mutates=True, check="check_dict_setdefault",
       short=True)
method("dict", "update", "other: Self", "None", mutates=True)
method("dict", "clear", "", "None", mutates=True)
method("dict", "copy", "", "Self")
method("dict", "popitem", "", "Tuple[K, V]", mutates=True)
method("dict", "reserve", "n: int", "None")

# ---- set ---------------------------------------------------------------------------
method("set", "add remove discard", "elem: T", "None", mutates=True, short=True)
method("set", "pop", "", "T", mutates=True)
method("set", "clear", "", "None", mutates=True)
method("set", "copy", "", "Self")
method("set", "union intersection difference symmetric_difference", "other: Self", "Self")
method("set", "update", "other: Self", "None", mutates=True)
method("set", "issubset issuperset isdisjoint", "other: Self", "bool")
method("set", "reserve", "n: int", "None")

# ---- tuple and file ----------------------------------------------------------------
method("tuple", "count", "value: any", "int")
method("tuple", "index", "value: any, start: int = ?, end: int = ?", "int")
method("file", "read", "", "str")
method("file", "readlines", "", "List[str]")
method("file", "close", "", "None")


def lookup(kind: str, name: str) -> Optional[Method]:
    return METHODS.get((kind, name))


def of_kind(kind: str) -> Dict[str, Method]:
    return {n: m for (k, n), m in METHODS.items() if k == kind}


def named(name: str) -> Dict[str, Method]:
    """Every builtin type's method of this name, by receiver kind."""
    return {k: m for (k, n), m in METHODS.items() if n == name}


# The analyses' views of the declarations.
MUTATING = frozenset(m.name for m in METHODS.values() if m.mutates)
FRESH_STR = frozenset(m.name for m in METHODS.values() if m.kind == "str" and m.fresh)
IN_PLACE_STR = frozenset(m.name for m in METHODS.values() if m.kind == "str" and m.in_place)


@dataclass
class Binding:
    """A call's arguments matched to the declared parameters (bind)."""
    slots: list               # per parameter: the argument given, or None (its default)
    extra: list               # positional arguments beyond the parameters
    errors: list              # (keyword node, message) for keywords that fit no parameter


def bind(params: Tuple[Param, ...], args: list, keywords: list, what: str) -> Binding:
    """Matches positional arguments, then keywords (nodes with .name and .value),
    to parameters as CPython does. The one binding path of the declarations:
    builtin methods (check/methods.py) and module functions (check/calls.py)."""
    slots: list = [None] * len(params)
    positional = [i for i, p in enumerate(params) if not p.kwonly]
    for i, a in zip(positional, args):
        slots[i] = a
    errors = []
    index = {p.name: i for i, p in enumerate(params)}
    for kw in keywords:
        i = index.get(kw.name)
        if keywords and not any(p.keyword for p in params):
            errors.append((kw, f"{what} takes no keyword arguments"))
        elif i is not None and not params[i].keyword:
            errors.append((kw, f"{what} got some positional-only arguments passed as keyword arguments: "
                               f"'{kw.name}'"))
        elif i is None:
            errors.append((kw, f"{what} got an unexpected keyword argument '{kw.name}'"))
        elif slots[i] is not None:
            errors.append((kw, f"{what} got multiple values for argument '{kw.name}'"))
        else:
            slots[i] = kw.value
    return Binding(slots, list(args[len(positional):]), errors)


@dataclass
class Env:
    """What T, K, V and Self stand for, for one receiver."""
    self_type: object
    item: object = None
    key: object = None
    value: object = None


def parse_spec(spec: str, env: Env, prims: Dict[str, object], make: Dict[str, Callable]):
    """A type spec as a Type: prims maps builtin names to Types; make builds
    List/Tuple/Optional types. Unions and iter[...] are not types: the checker
    and the emitter read them with spec_union / spec_iter."""
    spec = spec.strip()
    subst = {"T": env.item, "K": env.key, "V": env.value, "Self": env.self_type}
    if spec in subst:
        return subst[spec]
    if spec in prims:
        return prims[spec]
    head, _, rest = spec.partition("[")
    if not rest.endswith("]"):
        raise ValueError(f"bad type spec {spec!r}")
    args = [parse_spec(a, env, prims, make) for a in _split_top(rest[:-1])]
    return make[head](args)


def spec_union(spec: str) -> Tuple[str, ...]:
    """'str|None' -> ('str', 'None'); a plain spec -> (spec,)."""
    return tuple(p.strip() for p in spec.split("|"))


def spec_iter(spec: str) -> Optional[str]:
    """'iter[str]' -> 'str'; anything else -> None."""
    return spec[5:-1] if spec.startswith("iter[") else None


# ---- builtin functions -------------------------------------------------------------
@dataclass(frozen=True)
class Function:
    name: str
    params: Tuple[Param, ...]
    result: str               # a type spec; "" where the rule computes the result
    cpp: str                  # mx::<cpp>(args..., loc) where no rule emits the call
    loc: bool = True          # the runtime function takes the call's source place
    rule: bool = False        # specializers decide (check/builtins.RULES, emit/builtins.RULES)
    supported: bool = True    # else: "<name>() is not supported yet"
    variadic: bool = False    # takes any number of positional arguments (*args)
    reads: bool = False       # reads its arguments and keeps none of them (borrow, readonly)
    copies: bool = False      # its result holds its argument's items (writeback)
    fresh: bool = False       # returns a new list that aliases nothing (borrow)
    views: bool = False       # its result refers to its argument (iter)
    numeric: bool = False     # allocates nothing when its arguments are numbers (analysis)
    key: bool = False         # may be a key= function: key=len is key=lambda x: len(x)
    dyn: str = ""             # on one Any argument: mx::<dyn>(value, loc), by its type at run time
    short: bool = False       # takes constant time: a call of it keeps the GIL (emit/abi.py)

    @property
    def positional_keywords(self) -> Tuple[str, ...]:
        """Positional parameters a keyword may also give, in order after the
        positional-only ones (`sum(xs, start=1)` is `sum(xs, 1)`)."""
        return tuple(p.name for p in self.params if p.keyword and not p.kwonly)

    @property
    def keyword_only(self) -> Tuple[str, ...]:
        return tuple(p.name for p in self.params if p.kwonly)

    @property
    def arity(self) -> Tuple[int, int]:
        positional = [p for p in self.params if not p.kwonly]
        if self.variadic:
            return (sum(1 for p in positional if p.required), 255)
        return (sum(1 for p in positional if p.required), len(positional))


FUNCTIONS: Dict[str, Function] = {}


def parse_signature(sig: str) -> Tuple[Tuple[Param, ...], bool]:
    """CPython's signature syntax: '/' ends the positional-only parameters, '*'
    (or '*args') starts the keyword-only ones. (params, variadic)."""
    out, variadic, kwonly = [], False, False
    named = "/" not in _split_top(sig)
    for part in _split_top(sig):
        if part == "/":
            named = True
            continue
        if part.startswith("*"):
            variadic = variadic or part != "*"
            kwonly = True
            continue
        (p,) = _params(part)
        out.append(Param(p.name, p.type, p.default, keyword=named or kwonly, kwonly=kwonly))
    return tuple(out), variadic


def function(names: str, sig: str, result: str = "", *, cpp: Optional[str] = None, **flags) -> None:
    """Declares each of the space-separated builtin names with one signature."""
    params, variadic = parse_signature(sig)
    for name in names.split():
        FUNCTIONS[name] = Function(name, params, result, (cpp or name).format(name=name),
                                   variadic=variadic, **flags)


# Conversions and numbers
function("int", "x: any = ?, /, base: int = ?", rule=True, numeric=True, key=True, short=True)
function("float", "x: any = ?, /", rule=True, numeric=True, key=True, short=True)
function("bool", "x: any = ?, /", "bool", rule=True, numeric=True, key=True, reads=True, short=True)
function("str", "object: any = ?, /", "str", rule=True, key=True, reads=True)
function("repr", "obj: any, /", "str", loc=False, key=True, reads=True)
function("abs", "x: any, /", rule=True, numeric=True, key=True, short=True)
function("round", "number: any, /, ndigits: any = None", rule=True)
function("divmod", "x: any, y: any, /", rule=True)
function("pow", "base: any, exp: any, mod: any = ?, /", rule=True)
function("hash", "obj: any, /", "int", rule=True)
function("ord", "c: str, /", "int", key=True, short=True)
function("chr", "i: int, /", "str", short=True)
function("hex oct bin", "number: int, /", "str", cpp="int_{name}", loc=False)
function("format", "value: any, format_spec: str = ?, /", "str", cpp="format_value", rule=True)
function("bytes", "source: any = ?, encoding: str = ?, errors: str = ?, /", "bytes", rule=True)
# Containers and iteration
function("len", "obj: any, /", "int", rule=True, key=True, reads=True, dyn="dyn_len", short=True)
function("range", "*args", rule=True)
function("list", "iterable: any = ?, /", rule=True, reads=True, copies=True, fresh=True)
function("set", "iterable: any = ?, /", rule=True, reads=True, copies=True)
function("dict", "iterable: any = ?, /", rule=True, reads=True, copies=True)
function("tuple", "iterable: any = ?, /", rule=True, reads=True, copies=True)
function("sorted", "iterable: any, /, *, key: any = None, reverse: bool = False", rule=True, reads=True,
         copies=True, fresh=True)
function("min max", "*args, key: any = None, default: any = ?", rule=True, reads=True, numeric=True)
function("sum", "iterable: any, /, start: any = 0", rule=True, reads=True)
function("any all", "iterable: any, /", "bool", rule=True, reads=True)
function("enumerate", "iterable: any, /, start: int = 0", rule=True, reads=True, copies=True)
function("zip", "*iterables", rule=True, reads=True, copies=True)
function("reversed", "sequence: any, /", rule=True, reads=True, copies=True)
function("iter", "object: any, /", rule=True, views=True)
function("next", "iterator: any, default: any = ?, /", rule=True)
# The rest
function("print", "*args, sep: str|None = None, end: str|None = None, flush: any = ?", "None", rule=True,
         reads=True)
function("isinstance", "obj: any, class_or_tuple: any, /", "bool", rule=True, short=True)
function("open", "file: str, mode: str = ?, /", "file", cpp="file_open")
function("map filter type id", "*args", supported=False)



class Specializers:
    """The specializers of one stage (builtin_rules: types, builtin_emit: C++),
    by builtin name: `@table.register("len")` adds one; `raw=True` marks one that
    handles its arguments itself. Names must be declared above (or in `extra`)."""

    def __init__(self, what: str, extra: Tuple[str, ...] = ()):
        self.what, self.extra = what, extra
        self.rules: Dict[str, Callable] = {}
        self.raw: set = set()

    def register(self, *names: str, raw: bool = False):
        def add(fn):
            for name in names:
                if name not in FUNCTIONS and name not in self.extra:
                    raise ValueError(f"{self.what} for {name}(), which primitives.py does not declare")
                self.rules[name] = fn
                if raw:
                    self.raw.add(name)
            return fn
        return add


FRESH_BUILTINS = frozenset(f.name for f in FUNCTIONS.values() if f.fresh)
READING_BUILTINS = frozenset(f.name for f in FUNCTIONS.values() if f.reads)
# Builtins a read-only value may be passed to (readonly, shared_state).
READERS = READING_BUILTINS | frozenset(f.name for f in FUNCTIONS.values() if f.views)
# Reads its arguments' items without keeping them (writeback's deep reads).
DEEP_READERS = frozenset(f.name for f in FUNCTIONS.values() if f.reads and not f.copies)
NUMERIC_BUILTINS = frozenset(f.name for f in FUNCTIONS.values() if f.numeric)
KEY_BUILTINS = frozenset(f.name for f in FUNCTIONS.values() if f.key)
