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

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from .types import (ANY, BOOL, BYTES, FLOAT, INT, NONE, STR, AnyType, DictType, ListType, Prim, TupleType,
                    Type, resolve)

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

    @property
    def n_required(self) -> int:
        return len(self.params) if self.required < 0 else self.required

    def result_type(self, args: List[Type]) -> Optional[Type]:
        return self.returns(args) if callable(self.returns) else self.returns


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


TYPES: Dict[str, OpaqueType] = {}


def opaque(name: str, ctype: str, header: str) -> Prim:
    """Declares an opaque type; returns its static type for signatures."""
    TYPES[name] = OpaqueType(name, ctype, header, {})
    return Prim(name)


def method(type_name: str, name: str, params, returns: Result, cpp: str,
           defaults: Tuple[Any, ...] = (), pure: bool = True):
    """Declares a method of an opaque type: called in C++ as cpp(self, args..., loc);
    `params` excludes self."""
    t = TYPES[type_name]
    params = (("self", GENERIC),) + tuple(params)
    t.methods[name] = ModuleFunction(type_name, name, params, returns, cpp, t.header,
                                     len(params) - len(defaults), tuple(defaults), pure)


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
