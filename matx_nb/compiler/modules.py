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

from .types import BOOL, FLOAT, INT, STR, Prim, Type

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


# ---- math ------------------------------------------------------------------------
_M = "matx_nb/mod/math.h"


def _float_fn(name: str, nargs: int = 1):
    names = ("x", "y", "z")[:nargs]
    register("math", name, [(n, FLOAT) for n in names], FLOAT, f"mx::pymod::math_{name}", _M)


for _n in ("sqrt", "exp", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan",
           "sinh", "cosh", "tanh", "fabs", "log1p", "expm1", "degrees", "radians"):
    _float_fn(_n)
for _n in ("atan2", "pow", "fmod", "copysign", "hypot"):
    _float_fn(_n, 2)
register("math", "log", [("x", FLOAT), ("base", FLOAT)], FLOAT, "mx::pymod::math_log", _M,
         defaults=(None,))
for _n in ("floor", "ceil", "trunc"):
    register("math", _n, [("x", GENERIC)], lambda ts: INT if ts[0] in (INT, BOOL, FLOAT) else None,
             f"mx::pymod::math_{_n}", _M)
for _n in ("isnan", "isinf", "isfinite"):
    register("math", _n, [("x", FLOAT)], BOOL, f"mx::pymod::math_{_n}", _M)
register("math", "gcd", [("a", INT), ("b", INT)], INT, "mx::pymod::math_gcd", _M)
register("math", "isclose", [("a", FLOAT), ("b", FLOAT)], BOOL, "mx::pymod::math_isclose", _M)
import math as _math  # noqa: E402

for _n in ("pi", "e", "tau", "inf", "nan"):
    constant("math", _n, getattr(_math, _n))
