"""Python modules compiled code may use (`import math`, `from json import dumps`):
for each supported function its signature, its result type and the C++ that
implements it; for each supported constant its value.

A module function is called in C++ as `<cpp>(<args...>, loc)` — arguments
coerced to the declared parameter types (GENERIC passes the value with its own
C++ type, for templates), then the call site's `const mx::Loc*` for errors.
Its header is included only by programs that use it, so unused modules cost
nothing at compile time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from .types import (ANY, BOOL, BYTES, FLOAT, INT, NONE, STR, AnyType, DictType, ListType, Prim, TupleType,
                    Type, VarTupleType, resolve)

# A parameter accepting any static type, passed to C++ unconverted.
GENERIC = Prim("generic")

# A result type: fixed, or computed from the argument types (None: not allowed;
# the checker then reports the arguments as wrong).
Result = Union[Type, Callable[[List[Type]], Optional[Type]]]


@dataclass(frozen=True)
class ModuleFunction:
    module: str  # "math"
    name: str  # "sqrt"
    params: Tuple[Tuple[str, Type], ...]  # (name, type); GENERIC: any type
    returns: Result
    cpp: str  # C++ callee, e.g. "mx::pymod::math_sqrt"
    header: str  # included by programs using it, e.g. "matx_nb/mod/math.h"
    required: int = -1  # parameters without default (-1: all)
    defaults: Tuple[Any, ...] = ()  # Python values of the optional parameters, in order
    pure: bool = True  # no state changed, nothing printed (random.*, time.* are not)
    # Optional check with the arguments' constant values (NOT_CONST where not
    # constant): (ts, consts) -> (result type, C++ callee, None) or
    # (None, None, (argument index, message)) for an error at that argument.
    refine: Optional[Callable] = None
    # The last parameter gathers extra positional arguments into a list, and
    # takes a tuple literal as a list: numpy's a.reshape(2, 3) / a.reshape((2, 3)).
    varargs: bool = False

    @property
    def n_required(self) -> int:
        return len(self.params) if self.required < 0 else self.required

    def result_type(self, args: List[Type]) -> Optional[Type]:
        return self.returns(args) if callable(self.returns) else self.returns


# Stands for an argument whose value is not known at compile time (see refine).
NOT_CONST = object()

# Libraries a module header needs at link time; codegen writes them as
# `// matx_nb-link: <flags>` lines that the toolchain (and the C++ Session's
# rebuild) add to the g++ command.
LINK_FLAGS: Dict[str, str] = {}
# Runtime objects a module header needs (`// matx_nb-object: <name>` lines): parts
# of the runtime compiled once, apart from generated code (toolchain.extra_object).
OBJECTS: Dict[str, str] = {}

# Returned by the checker for a module function it reported as unsupported.
UNSUPPORTED = ModuleFunction("", "", (), Prim("unsupported"), "", "")

MODULES: Dict[str, Dict[str, ModuleFunction]] = {}
CONSTANTS: Dict[str, Dict[str, Any]] = {}  # module -> name -> Python value (captured by value)


def register(module: str, name: str, params, returns: Result, cpp: str, header: str,
             defaults: Tuple[Any, ...] = (), pure: bool = True):
    """Declares one module function; `params` is [(name, type)], the last
    len(defaults) of them optional (an omitted one is passed to C++ as its
    default value; None as mx::None{})."""
    params = tuple(params)
    MODULES.setdefault(module, {})[name] = ModuleFunction(
        module, name, params, returns, cpp, header, len(params) - len(defaults), tuple(defaults), pure)


def constant(module: str, name: str, value: Any):
    CONSTANTS.setdefault(module, {})[name] = value


@dataclass
class OpaqueType:
    """A runtime type only modules create (re.Match, a Regex): a C++ class in the
    module's header, with methods declared like module functions whose first
    parameter is the object itself."""
    name: str
    ctype: str
    header: str
    methods: Dict[str, ModuleFunction]
    # Read-only attributes (`a.shape`): called in C++ as cpp(self, loc).
    attrs: Dict[str, ModuleFunction] = field(default_factory=dict)


TYPES: Dict[str, OpaqueType] = {}


def opaque(name: str, ctype: str, header: str) -> Prim:
    """Declares an opaque type; returns its static type for signatures."""
    TYPES[name] = OpaqueType(name, ctype, header, {})
    return Prim(name)


def attribute(type_name: str, name: str, returns: Type, cpp: str):
    """Declares a read-only attribute of an opaque type (computed by cpp(self, loc))."""
    t = TYPES[type_name]
    t.attrs[name] = ModuleFunction(type_name, name, (("self", GENERIC),), returns, cpp, t.header)


def method(type_name: str, name: str, params, returns: Result, cpp: str,
           defaults: Tuple[Any, ...] = (), pure: bool = True, varargs: bool = False):
    """Declares a method of an opaque type: called in C++ as cpp(self, args..., loc);
    `params` excludes self. A `__len__` method makes len(x) work."""
    t = TYPES[type_name]
    params = (("self", GENERIC),) + tuple(params)
    t.methods[name] = ModuleFunction(type_name, name, params, returns, cpp, t.header,
                                     len(params) - len(defaults), tuple(defaults), pure, varargs=varargs)


def lookup(module: str, name: str) -> Optional[ModuleFunction]:
    return MODULES.get(module, {}).get(name)


def is_supported_module(name: str) -> bool:
    return name in MODULES or name in CONSTANTS


def function_key(v: Any) -> Optional[Tuple[str, str]]:
    """(module, name) of a module function object (`from math import sqrt`), if supported."""
    mod = getattr(v, "__module__", None)
    name = getattr(v, "__name__", None)
    if isinstance(mod, str) and isinstance(name, str) and lookup(mod, name) is not None:
        return mod, name
    return None


# ---- helpers for result types -------------------------------------------------------
def _one_of(*accepted: Type, result: Optional[Type] = None):
    """A result rule: the (single GENERIC) argument must have one of these types;
    the result is `result`, or the argument's own type."""
    def rule(ts: List[Type]) -> Optional[Type]:
        return (result if result is not None else ts[0]) if ts[0] in accepted else None
    return rule


def _list_elem(ts: List[Type]) -> Optional[Type]:
    t = resolve(ts[0])
    return t.elem if isinstance(t, ListType) else None


def _is_number_list(t: Type) -> bool:
    t = resolve(t)
    return isinstance(t, ListType) and resolve(t.elem) in (INT, FLOAT, BOOL)


# ---- math ------------------------------------------------------------------------
_M = "matx_nb/mod/math.h"


def _float_fn(name: str, nargs: int = 1):
    names = ("x", "y", "z")[:nargs]
    register("math", name, [(n, FLOAT) for n in names], FLOAT, f"mx::pymod::math_{name}", _M)


for _n in ("sqrt", "exp", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan",
           "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "fabs", "log1p", "expm1",
           "erf", "erfc", "cbrt", "degrees", "radians"):
    _float_fn(_n)
for _n in ("atan2", "pow", "fmod", "copysign", "hypot"):
    _float_fn(_n, 2)
register("math", "log", [("x", FLOAT), ("base", FLOAT)], FLOAT, "mx::pymod::math_log", _M,
         defaults=(None,))
for _n in ("floor", "ceil", "trunc"):
    register("math", _n, [("x", GENERIC)], _one_of(INT, BOOL, FLOAT, result=INT), f"mx::pymod::math_{_n}", _M)
for _n in ("isnan", "isinf", "isfinite"):
    register("math", _n, [("x", FLOAT)], BOOL, f"mx::pymod::math_{_n}", _M)
for _n in ("gcd", "lcm"):
    register("math", _n, [("a", INT), ("b", INT)], INT, f"mx::pymod::math_{_n}", _M)
for _n in ("factorial", "isqrt"):
    register("math", _n, [("n", INT)], INT, f"mx::pymod::math_{_n}", _M)
register("math", "comb", [("n", INT), ("k", INT)], INT, "mx::pymod::math_comb", _M)
register("math", "perm", [("n", INT), ("k", GENERIC)], lambda ts: INT if ts[1] in (INT, BOOL, NONE) else None,
         "mx::pymod::math_perm", _M, defaults=(None,))
register("math", "isclose", [("a", FLOAT), ("b", FLOAT), ("rel_tol", FLOAT), ("abs_tol", FLOAT)], BOOL,
         "mx::pymod::math_isclose", _M, defaults=(1e-09, 0.0))
register("math", "prod", [("iterable", GENERIC), ("start", GENERIC)],
         lambda ts: None if not _is_number_list(ts[0]) or ts[1] not in (INT, BOOL, FLOAT, NONE) else
         FLOAT if FLOAT in (resolve(ts[0].elem), ts[1]) else INT,
         "mx::pymod::math_prod", _M, defaults=(None,))
register("math", "fsum", [("iterable", GENERIC)], lambda ts: FLOAT if _is_number_list(ts[0]) else None,
         "mx::pymod::math_fsum", _M)
import math as _math  # noqa: E402

for _n in ("pi", "e", "tau", "inf", "nan"):
    constant("math", _n, getattr(_math, _n))

# ---- random (one process-wide generator; not Python's own) ---------------------------
_R = "matx_nb/mod/random.h"


def _random(name: str, params, returns: Result, defaults=()):
    register("random", name, params, returns, f"mx::pymod::random_{name}", _R, defaults=defaults, pure=False)


_random("seed", [("a", GENERIC)], _one_of(INT, BOOL, NONE, result=NONE), defaults=(None,))
_random("random", [], FLOAT)
_random("uniform", [("a", FLOAT), ("b", FLOAT)], FLOAT)
_random("gauss", [("mu", FLOAT), ("sigma", FLOAT)], FLOAT, defaults=(0.0, 1.0))
_random("randint", [("a", INT), ("b", INT)], INT)
_random("randrange", [("start", INT), ("stop", GENERIC), ("step", INT)],
        lambda ts: INT if ts[1] in (INT, BOOL, NONE) else None, defaults=(None, 1))
_random("getrandbits", [("k", INT)], INT)
_random("choice", [("seq", GENERIC)], lambda ts: STR if ts[0] == STR else _list_elem(ts))
_random("shuffle", [("x", GENERIC)], lambda ts: NONE if isinstance(resolve(ts[0]), ListType) else None)
_random("sample", [("population", GENERIC), ("k", INT)],
        lambda ts: ts[0] if isinstance(resolve(ts[0]), ListType) else None)

# ---- time -------------------------------------------------------------------------
for _n in ("time", "perf_counter", "monotonic"):
    register("time", _n, [], FLOAT, f"mx::pymod::time_{_n}", "matx_nb/mod/time.h", pure=False)
register("time", "time_ns", [], INT, "mx::pymod::time_time_ns", "matx_nb/mod/time.h", pure=False)
register("time", "sleep", [("secs", FLOAT)], NONE, "mx::pymod::time_sleep", "matx_nb/mod/time.h", pure=False)


# ---- json -------------------------------------------------------------------------
def _json_value(t: Type) -> bool:
    """A static type json.dumps can encode (sets, bytes and instances cannot)."""
    t = resolve(t)
    if isinstance(t, AnyType) or t in (INT, FLOAT, BOOL, STR, NONE):
        return True
    if isinstance(t, ListType):
        return _json_value(t.elem)
    if isinstance(t, TupleType):
        return all(_json_value(x) for x in t.items)
    if isinstance(t, VarTupleType):
        return _json_value(t.elem)
    if isinstance(t, DictType):
        return resolve(t.key) in (STR, INT, FLOAT, BOOL, NONE) or isinstance(resolve(t.key), AnyType)
    return False


def _dumps_result(ts: List[Type]) -> Optional[Type]:
    ok = (_json_value(ts[0]) and ts[1] in (INT, BOOL, NONE)
          and ts[4] in (NONE, TupleType((STR, STR))))
    return STR if ok else None


_J = "matx_nb/mod/json.h"
register("json", "dumps", [("obj", GENERIC), ("indent", GENERIC), ("sort_keys", BOOL), ("ensure_ascii", BOOL),
                           ("separators", GENERIC)], _dumps_result, "mx::pymod::json_dumps", _J,
         defaults=(None, False, True, None))
register("json", "loads", [("s", GENERIC)], _one_of(STR, BYTES, result=ANY), "mx::pymod::json_loads", _J)

# ---- base64 -----------------------------------------------------------------------
_B = "matx_nb/mod/base64.h"
_str_or_bytes = _one_of(STR, BYTES, result=BYTES)
register("base64", "b64encode", [("s", BYTES), ("altchars", GENERIC)],
         lambda ts: BYTES if ts[1] in (BYTES, NONE) else None, "mx::pymod::base64_b64encode", _B, defaults=(None,))
register("base64", "b64decode", [("s", GENERIC), ("altchars", GENERIC), ("validate", BOOL)],
         lambda ts: BYTES if ts[0] in (STR, BYTES) and ts[1] in (STR, BYTES, NONE) else None,
         "mx::pymod::base64_b64decode", _B, defaults=(None, False))
for _n in ("standard_b64encode", "urlsafe_b64encode"):
    register("base64", _n, [("s", BYTES)], BYTES, f"mx::pymod::base64_{_n}", _B)
for _n in ("standard_b64decode", "urlsafe_b64decode"):
    register("base64", _n, [("s", GENERIC)], _str_or_bytes, f"mx::pymod::base64_{_n}", _B)

# ---- unicodedata (tables generated from CPython's unicodedata) ----------------------
_U = "matx_nb/mod/unicodedata.h"
register("unicodedata", "normalize", [("form", STR), ("unistr", STR)], STR, "mx::pymod::unicodedata_normalize", _U)
register("unicodedata", "is_normalized", [("form", STR), ("unistr", STR)], BOOL,
         "mx::pymod::unicodedata_is_normalized", _U)
register("unicodedata", "category", [("chr", STR)], STR, "mx::pymod::unicodedata_category", _U)
register("unicodedata", "combining", [("chr", STR)], INT, "mx::pymod::unicodedata_combining", _U)
for _n in ("decimal", "digit"):
    register("unicodedata", _n, [("chr", STR), ("default", GENERIC)],
             lambda ts: INT if ts[1] in (INT, BOOL, NONE) else None, f"mx::pymod::unicodedata_{_n}", _U,
             defaults=(None,))
import unicodedata as _unicodedata  # noqa: E402

constant("unicodedata", "unidata_version", _unicodedata.unidata_version)

# ---- re (PCRE2) and matx_nb.Regex -------------------------------------------------------
import dataclasses as _dc  # noqa: E402

_RE = "matx_nb/mod/re.h"
LINK_FLAGS[_RE] = "-lpcre2-32"
PATTERN = opaque("re.Pattern", "mx::pymod::RePattern", _RE)
MATCH = opaque("re.Match", "mx::pymod::ReMatch", _RE)
REGEX = opaque("Regex", "mx::pymod::Regex", _RE)
from .types import ListType as _L, TupleType as _T, DictType as _D  # noqa: E402

_STRS = _L(STR)


def _check_pattern(consts, flags_at: Optional[int]):
    """Compiles a constant pattern with Python's re: (error or None, group count or None)."""
    pat = consts[0]
    flags = consts[flags_at] if flags_at is not None else 0
    if not isinstance(pat, str) or flags is NOT_CONST:
        return None, None
    try:
        import re as _re  # only when a constant pattern is checked: keeps cache hits light
        return None, _re.compile(pat, flags or 0).groups
    except Exception as err:  # re.error, TypeError, ValueError
        return (0, f"bad regular expression {pat!r}: {err}"), None


def _re_fn(name: str, params, returns: Result, defaults=(), findall=False):
    flags_at = [p[0] for p in params].index("flags")
    cpp = f"mx::pymod::re_{name}"

    def refine(ts, consts):
        err, groups = _check_pattern(consts, flags_at)
        if err:
            return None, None, err
        rt = returns(ts) if callable(returns) else returns
        if findall and rt is not None and groups is not None and groups >= 2:
            return _L(_T(tuple([STR] * groups))), f"mx::pymod::re_findall_n<{groups}>", None
        return rt, cpp, None

    def rule(ts):  # the pattern: str or re.Pattern
        if ts[0] not in (STR, PATTERN):
            return None
        return returns(ts) if callable(returns) else returns

    register("re", name, params, rule, cpp, _RE, defaults=defaults)
    MODULES["re"][name] = _dc.replace(MODULES["re"][name], refine=refine)


_PS = ("pattern", GENERIC)
_re_fn("compile", [_PS, ("flags", INT)], PATTERN, defaults=(0,))
for _n in ("match", "search", "fullmatch"):
    _re_fn(_n, [_PS, ("string", STR), ("flags", INT)], MATCH, defaults=(0,))
_re_fn("findall", [_PS, ("string", STR), ("flags", INT)], _STRS, defaults=(0,), findall=True)
_re_fn("finditer", [_PS, ("string", STR), ("flags", INT)], _L(MATCH), defaults=(0,))
_re_fn("split", [_PS, ("string", STR), ("maxsplit", INT), ("flags", INT)], _STRS, defaults=(0, 0))
_re_fn("sub", [_PS, ("repl", STR), ("string", STR), ("count", INT), ("flags", INT)], STR, defaults=(0, 0))
_re_fn("subn", [_PS, ("repl", STR), ("string", STR), ("count", INT), ("flags", INT)], _T((STR, INT)),
       defaults=(0, 0))
register("re", "escape", [("pattern", STR)], STR, "mx::pymod::re_escape", _RE)
# re's flag values (re.RegexFlag), spelled out so importing this registry does not import re.
for _n, _v in (("I", 2), ("IGNORECASE", 2), ("M", 8), ("MULTILINE", 8), ("S", 16), ("DOTALL", 16),
               ("X", 64), ("VERBOSE", 64), ("A", 256), ("ASCII", 256), ("U", 32), ("UNICODE", 32),
               ("NOFLAG", 0)):
    constant("re", _n, _v)

_ENDPOS = lambda rt: lambda ts: rt if ts[3] in (INT, BOOL, NONE) else None  # noqa: E731
for _n in ("match", "search", "fullmatch"):
    method("re.Pattern", _n, [("string", STR), ("pos", INT), ("endpos", GENERIC)], _ENDPOS(MATCH),
           f"mx::pymod::re_pattern_{_n}", defaults=(0, None))
method("re.Pattern", "findall", [("string", STR)], _STRS, "mx::pymod::re_pattern_findall")
method("re.Pattern", "finditer", [("string", STR)], _L(MATCH), "mx::pymod::re_pattern_finditer")
method("re.Pattern", "split", [("string", STR), ("maxsplit", INT)], _STRS, "mx::pymod::re_pattern_split",
       defaults=(0,))
method("re.Pattern", "sub", [("repl", STR), ("string", STR), ("count", INT)], STR, "mx::pymod::re_pattern_sub",
       defaults=(0,))
method("re.Pattern", "subn", [("repl", STR), ("string", STR), ("count", INT)], _T((STR, INT)),
       "mx::pymod::re_pattern_subn", defaults=(0,))

_GROUP = lambda rt: lambda ts: rt if ts[1] in (INT, BOOL, STR, NONE) else None  # noqa: E731
method("re.Match", "group", [("group", GENERIC)], _GROUP(STR), "mx::pymod::re_match_group", defaults=(None,))
method("re.Match", "start", [("group", GENERIC)], _GROUP(INT), "mx::pymod::re_match_start", defaults=(None,))
method("re.Match", "end", [("group", GENERIC)], _GROUP(INT), "mx::pymod::re_match_end", defaults=(None,))
method("re.Match", "span", [("group", GENERIC)], _GROUP(_T((INT, INT))), "mx::pymod::re_match_span",
       defaults=(None,))
_DEFAULT = lambda rt: lambda ts: rt if ts[1] in (STR, NONE) else None  # noqa: E731
method("re.Match", "groups", [("default", GENERIC)], _DEFAULT(_STRS), "mx::pymod::re_match_groups",
       defaults=(None,))
method("re.Match", "groupdict", [("default", GENERIC)], _DEFAULT(_D(STR, STR)), "mx::pymod::re_match_groupdict",
       defaults=(None,))

for _mod in ("matx_nb", "matx_nb.regex"):
    register(_mod, "Regex", [("pattern", STR), ("ignore_case", BOOL), ("dotall", BOOL), ("extended", BOOL),
                             ("anchored", BOOL), ("ucp", BOOL)], REGEX, "mx::pymod::regex_new", _RE,
             defaults=(False, False, False, False, True))
method("Regex", "split", [("input", STR), ("offset", INT)], _STRS, "mx::pymod::regex_split", defaults=(0,))
method("Regex", "replace", [("input", STR), ("repl", STR), ("offset", INT)], STR, "mx::pymod::regex_replace",
       defaults=(0,))
method("Regex", "match", [("input", STR), ("offset", INT)], _T((_STRS, _D(STR, STR))), "mx::pymod::regex_match",
       defaults=(0,))


def constant_args(mf: ModuleFunction, slots) -> List[Any]:
    """The compile-time values of a call's arguments (NOT_CONST where unknown);
    an omitted argument has its default. Constants, module constants (re.I) and
    `|` of constant ints are known."""
    from . import ir
    out = []
    for i, a in enumerate(slots):
        if a is None:
            out.append(mf.defaults[i - mf.n_required] if i >= mf.n_required else NOT_CONST)
        else:
            out.append(_const_expr(a, ir))
    return out


def _const_expr(e, ir) -> Any:
    if isinstance(e, ir.Const):
        return e.value
    r = getattr(e, "resolved", None)
    if isinstance(e, (ir.Name, ir.Attribute)) and isinstance(r, ir.ConstRef):
        return r.value
    if isinstance(e, ir.BinOp) and e.op == "|":
        a, b = _const_expr(e.left, ir), _const_expr(e.right, ir)
        if isinstance(a, int) and isinstance(b, int):
            return a | b
    return NOT_CONST


def with_callee(mf: ModuleFunction, cpp: str) -> ModuleFunction:
    return mf if cpp == mf.cpp else _dc.replace(mf, cpp=cpp)


# ---- matx_nb itself (`import matx_nb as matx`): MATXScript's API, see compat.py ------
# Owned by the builtins/compat work; matx.List()/Dict()/Set()/Tuple() calls are
# handled by the checker (checker.COMPAT_CONSTRUCTORS).
_MATX = "matx_nb/mod/matx.h"
register("matx_nb", "serialize", [("obj", GENERIC)], STR, "mx::pymod::matx_serialize", _MATX)
register("matx_nb", "deserialize", [("s", STR)], ANY, "mx::pymod::matx_deserialize", _MATX)

# ---- matx_nb.NDArray (runtime/include/matx_nb/ndarray.h, mod/ndarray.h) -----------------
# The annotation `NDArray` / `matx.NDArray` is this opaque type (frontend._PRIMS);
# arrays cross the Python boundary through DLPack without a copy.
_ND = "matx_nb/mod/ndarray.h"
NDARRAY = opaque("NDArray", "mx::NDArray", _ND)
_INTS = _L(INT)


def _nd_data(t: Type) -> bool:
    """A number, a (nested) list of numbers, or an NDArray (copied)."""
    t = resolve(t)
    while isinstance(t, ListType):
        t = resolve(t.elem)
    return t in (INT, FLOAT, BOOL, NDARRAY)


def _nd_new(ts: List[Type]) -> Optional[Type]:
    ok = _nd_data(ts[0]) and ts[1] in (_INTS, NONE) and ts[2] in (STR, NONE)
    return NDARRAY if ok else None


for _mod in ("matx_nb", "matx_nb.ndarray"):
    register(_mod, "NDArray", [("data", GENERIC), ("shape", GENERIC), ("dtype", GENERIC)], _nd_new,
             "mx::pymod::ndarray_new", _ND, defaults=(None, None))
register("matx_nb", "Device", [("name", STR)], STR, "mx::pymod::device_new", _ND)
# numpy's attributes (a.shape, a.ndim...) and MATXScript's methods (a.shape(),
# a.ndim()) are both there; shape and strides are lists, as on the Python side.
for _n, _rt in (("shape", _INTS), ("strides", _INTS), ("dtype", STR), ("ndim", INT), ("size", INT)):
    attribute("NDArray", _n, _rt, f"mx::pymod::ndarray_{_n}")
_NUM_OR_ND = (INT, FLOAT, BOOL, NDARRAY, ANY)


def _nd_shape_arg(t: Type) -> bool:
    """reshape's argument: a list or tuple of ints, or one int (reshape(2, 3) is gathered into a list)."""
    t = resolve(t)
    if isinstance(t, TupleType):
        return all(resolve(x) in (INT, BOOL) for x in t.items)
    return t in (_INTS, INT)


for _n, _rt in (("shape", _INTS), ("strides", _INTS), ("dtype", STR), ("ndim", INT), ("size", INT),
                ("device", STR), ("is_contiguous", BOOL), ("contiguous", NDARRAY), ("tolist", ANY)):
    method("NDArray", _n, [], _rt, f"mx::pymod::ndarray_{_n}")
method("NDArray", "reshape", [("shape", GENERIC)], lambda ts: NDARRAY if _nd_shape_arg(ts[1]) else None,
       "mx::pymod::ndarray_reshape", varargs=True)
method("NDArray", "__len__", [], INT, "mx::pymod::ndarray_len")
# nd.torch() / nd.numpy() in compiled code: the array itself (it reaches Python as a
# matx_nb.NDArray, whose .torch() / .numpy() share its memory).
for _n in ("torch", "numpy", "asnumpy"):
    method("NDArray", _n, [], NDARRAY, "mx::pymod::ndarray_self")
method("NDArray", "astype", [("dtype", STR)], NDARRAY, "mx::pymod::ndarray_astype")
method("NDArray", "get", [("index", GENERIC)], lambda ts: ANY if ts[1] in (INT, BOOL, _INTS) else None,
       "mx::pymod::ndarray_get")
method("NDArray", "set", [("index", GENERIC), ("value", GENERIC)],
       lambda ts: NONE if ts[1] in (INT, _INTS) and ts[2] in _NUM_OR_ND else None,
       "mx::pymod::ndarray_set", pure=False)
for _n in ("add", "sub", "mul", "truediv"):
    method("NDArray", _n, [("other", GENERIC)], lambda ts: NDARRAY if ts[1] in _NUM_OR_ND else None,
           f"mx::pymod::ndarray_{_n}")


# ---- matx_nb.vision's kernels (OpenCV) ---------------------------------------------
# Called by the ops in matx_nb/vision/ (Python classes compiled like user code);
# every kernel takes the op's name for its messages. C++: mod/vision.h, defined in
# mod/vision_impl.h, which is compiled once into the "vision" object.
_V = "matx_nb/mod/vision.h"
LINK_FLAGS[_V] = "-lopencv_imgcodecs -lopencv_imgproc -lopencv_core"
OBJECTS[_V] = "vision"
VISION_KERNELS = "matx_nb.vision._kernels"
_NDS, _IL, _FL, _BL = _L(NDARRAY), _L(INT), _L(FLOAT), _L(BOOL)


def _vk(name: str, params, returns: Type, pure: bool = True, op: bool = True):
    """A kernel; `op` (the default): its last parameter is the calling op's name."""
    register(VISION_KERNELS, name, list(params) + ([("op", STR)] if op else []), returns,
             f"mx::vision::{name}", _V, pure=pure)


_vk("imdecode", [("bufs", _L(BYTES)), ("fmt", STR)], _NDS)
_vk("imdecode_noexc", [("bufs", _L(BYTES)), ("fmt", STR)], _T((_NDS, _BL)))
_vk("imencode", [("imgs", _NDS), ("fmt", STR), ("quality", INT), ("optimized", BOOL)], _L(BYTES))
_vk("imencode_noexc", [("imgs", _NDS), ("fmt", STR), ("quality", INT), ("optimized", BOOL)],
    _T((_L(BYTES), _BL)))
_vk("resize", [("imgs", _NDS), ("hs", _IL), ("ws", _IL), ("interp", STR)], _NDS)
_vk("crop", [("imgs", _NDS), ("xs", _IL), ("ys", _IL), ("ws", _IL), ("hs", _IL)], _NDS)
_vk("crop_resize", [("imgs", _NDS), ("xs", _IL), ("ys", _IL), ("ws", _IL), ("hs", _IL), ("out_h", INT),
                    ("out_w", INT), ("interp", STR)], _NDS)
_vk("flip", [("imgs", _NDS), ("codes", _IL)], _NDS)
_vk("pad", [("imgs", _NDS), ("tops", _IL), ("bottoms", _IL), ("lefts", _IL), ("rights", _IL),
            ("border", STR), ("value", _FL)], _NDS)
for _w in ("warp_affine", "warp_perspective"):
    _vk(_w, [("imgs", _NDS), ("mats", _L(_FL)), ("hs", _IL), ("ws", _IL), ("interp", STR), ("border", STR),
             ("value", _FL)], _NDS)
_vk("rotation_matrix", [("cx", FLOAT), ("cy", FLOAT), ("angle", FLOAT), ("scale", FLOAT)], _FL, op=False)
_vk("cvt_color", [("imgs", _NDS), ("code", STR)], _NDS)
_vk("normalize", [("imgs", _NDS), ("mean", _FL), ("std", _FL), ("dtype", STR), ("shift", FLOAT),
                  ("scale", FLOAT)], _NDS)
_vk("transpose_normalize", [("imgs", _NDS), ("mean", _FL), ("std", _FL), ("in_layout", STR),
                            ("out_layout", STR), ("dtype", STR), ("shift", FLOAT), ("scale", FLOAT)], NDARRAY)
_vk("cast", [("imgs", _NDS), ("dtype", STR), ("alpha", FLOAT), ("beta", FLOAT)], _NDS)
_vk("stack", [("imgs", _NDS)], NDARRAY)
_vk("transpose", [("batch", NDARRAY), ("in_layout", STR), ("out_layout", STR)], NDARRAY)
_vk("find_contours", [("img", NDARRAY), ("mode", STR), ("method", STR)], _NDS)
_vk("arc_length", [("curve", NDARRAY), ("closed", BOOL)], FLOAT)
_vk("approx_poly_dp", [("curve", NDARRAY), ("epsilon", FLOAT), ("closed", BOOL)], NDARRAY)
_vk("min_area_rect", [("points", NDARRAY)], _FL)
_vk("box_points", [("rect", _FL)], NDARRAY)
_vk("fill_poly", [("img", NDARRAY), ("polys", _NDS), ("color", _FL)], NDARRAY)
_vk("estimate_affine_partial_2d", [("from_", NDARRAY), ("to", NDARRAY)], _T((_FL, _BL)))
_vk("resize_target", [("ih", INT), ("iw", INT), ("h", INT), ("w", INT), ("max_size", INT), ("mode", STR)],
    _T((INT, INT)), op=False)
_vk("eval_chain", [("bufs", _L(BYTES)), ("fmt", STR), ("h", INT), ("w", INT), ("max_size", INT), ("interp", STR),
                   ("mode", STR), ("crop_h", INT), ("crop_w", INT), ("mean", _FL), ("std", _FL),
                   ("in_layout", STR), ("out_layout", STR), ("dtype", STR), ("shift", FLOAT), ("scale", FLOAT)],
    _NDS)
_vk("set_num_threads", [("n", INT)], NONE, pure=False, op=False)
_vk("get_num_threads", [], INT, pure=False, op=False)
