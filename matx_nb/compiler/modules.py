"""Python modules compiled code may use (`import math`, `from json import dumps`):
for each supported function its signature, its result type and the C++ that
implements it; for each supported constant its value.

The declarations are those of the builtins (primitives.py): the signature in
CPython's syntax, parsed into the same `primitives.Param`s, with the same type
specs (specs.py; `generic` takes any static type), bound to a call's arguments
by the same `primitives.bind`. A result is a spec, or a small function of the
argument types where it depends on them.

A module function is called in C++ as `<cpp>(<args...>, loc)` — arguments
coerced to the declared parameter types (generic passes the value with its own
C++ type, for templates), an omitted one as its default, then the call site's
`const mx::Loc*` for errors. Its header is included only by programs that use
it, so unused modules cost nothing at compile time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from . import primitives
from .primitives import Param
from .specs import declare, spec_type
from .types import (ANY, BOOL, BYTES, FLOAT, INT, NONE, STR, AnyType, DictType, ListType, Prim, TupleType,
                    Type, VarTupleType, resolve)

# A result: a type spec, or computed from the argument types (None: not allowed;
# the checker then reports the arguments as wrong).
Result = Union[str, Callable[[List[Type]], Optional[Type]]]


@dataclass(frozen=True)
class ModuleFunction:
    module: str  # "math"
    name: str  # "sqrt"
    params: Tuple[Param, ...]  # as a builtin's (primitives.Param): names, specs, defaults
    types: Tuple[Type, ...]  # each parameter's spec as a Type; GENERIC: any type
    returns: Union[Type, Callable[[List[Type]], Optional[Type]]]
    cpp: str  # C++ callee, e.g. "mx::pymod::math_sqrt"
    header: str  # included by programs using it, e.g. "matx_nb/mod/math.h"
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
        return sum(1 for p in self.params if p.required)

    def result_type(self, args: List[Type]) -> Optional[Type]:
        return self.returns(args) if callable(self.returns) else self.returns


def declaration(owner: str, name: str, sig: str, returns: Result, cpp: str, header: str, *,
                pure: bool = True, varargs: bool = False, receiver: bool = False) -> ModuleFunction:
    """One module function, or an opaque type's method (`receiver`: a first
    parameter `self`), from its signature in CPython's syntax."""
    params, variadic = primitives.parse_signature(sig)
    if variadic:
        raise ValueError(f"{owner}.{name}: module functions take no *args (declare varargs=True)")
    if receiver:
        params = (Param("self", "generic"),) + params
    rt = spec_type(returns) if isinstance(returns, str) else returns
    return ModuleFunction(owner, name, params, tuple(spec_type(p.type) for p in params), rt, cpp, header, pure,
                          varargs=varargs)


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
UNSUPPORTED = ModuleFunction("", "", (), (), Prim("unsupported"), "", "")

MODULES: Dict[str, Dict[str, ModuleFunction]] = {}
CONSTANTS: Dict[str, Dict[str, Any]] = {}  # module -> name -> Python value (captured by value)


def register(module: str, name: str, sig: str, returns: Result, cpp: str, header: str, pure: bool = True):
    """Declares one module function: `sig` as in CPython (`x: float, base: float = None`);
    an omitted optional argument is passed to C++ as its default (None as mx::None{})."""
    MODULES.setdefault(module, {})[name] = declaration(module, name, sig, returns, cpp, header, pure=pure)


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
    """Declares an opaque type; its name becomes a type spec. Returns its static type."""
    TYPES[name] = OpaqueType(name, ctype, header, {})
    return declare(name)


def attribute(type_name: str, name: str, returns: Result, cpp: str):
    """Declares a read-only attribute of an opaque type (computed by cpp(self, loc))."""
    t = TYPES[type_name]
    t.attrs[name] = declaration(type_name, name, "", returns, cpp, t.header, receiver=True)


def method(type_name: str, name: str, sig: str, returns: Result, cpp: str, pure: bool = True,
           varargs: bool = False):
    """Declares a method of an opaque type: called in C++ as cpp(self, args..., loc);
    `sig` excludes self. A `__len__` method makes len(x) work."""
    t = TYPES[type_name]
    t.methods[name] = declaration(type_name, name, sig, returns, cpp, t.header, pure=pure, varargs=varargs,
                                  receiver=True)


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


def _math(name: str, sig: str, returns: Result):
    register("math", name, sig, returns, f"mx::pymod::math_{name}", _M)


for _n in ("sqrt", "exp", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan",
           "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "fabs", "log1p", "expm1",
           "erf", "erfc", "cbrt", "degrees", "radians"):
    _math(_n, "x: float, /", "float")
_math("atan2", "y: float, x: float, /", "float")
for _n in ("pow", "fmod", "copysign", "hypot"):
    _math(_n, "x: float, y: float, /", "float")
_math("log", "x: float, base: float = None, /", "float")
for _n in ("floor", "ceil", "trunc"):
    _math(_n, "x: generic, /", _one_of(INT, BOOL, FLOAT, result=INT))
for _n in ("isnan", "isinf", "isfinite"):
    _math(_n, "x: float, /", "bool")
for _n in ("gcd", "lcm"):
    _math(_n, "a: int, b: int, /", "int")
for _n in ("factorial", "isqrt"):
    _math(_n, "n: int, /", "int")
_math("comb", "n: int, k: int, /", "int")
_math("perm", "n: int, k: generic = None, /", lambda ts: INT if ts[1] in (INT, BOOL, NONE) else None)
_math("isclose", "a: float, b: float, *, rel_tol: float = 1e-09, abs_tol: float = 0.0", "bool")
_math("prod", "iterable: generic, /, *, start: generic = None",
      lambda ts: None if not _is_number_list(ts[0]) or ts[1] not in (INT, BOOL, FLOAT, NONE) else
      FLOAT if FLOAT in (resolve(ts[0].elem), ts[1]) else INT)
_math("fsum", "seq: generic, /", lambda ts: FLOAT if _is_number_list(ts[0]) else None)
import math as _math_values  # noqa: E402

for _n in ("pi", "e", "tau", "inf", "nan"):
    constant("math", _n, getattr(_math_values, _n))

# ---- random (one process-wide generator; not Python's own) ---------------------------
_R = "matx_nb/mod/random.h"


def _random(name: str, sig: str, returns: Result):
    register("random", name, sig, returns, f"mx::pymod::random_{name}", _R, pure=False)


_random("seed", "a: generic = None", _one_of(INT, BOOL, NONE, result=NONE))
_random("random", "", "float")
_random("uniform", "a: float, b: float", "float")
_random("gauss", "mu: float = 0.0, sigma: float = 1.0", "float")
_random("randint", "a: int, b: int", "int")
_random("randrange", "start: int, stop: generic = None, step: int = 1",
        lambda ts: INT if ts[1] in (INT, BOOL, NONE) else None)
_random("getrandbits", "k: int, /", "int")
_random("choice", "seq: generic", lambda ts: STR if ts[0] == STR else _list_elem(ts))
_random("shuffle", "x: generic", lambda ts: NONE if isinstance(resolve(ts[0]), ListType) else None)
_random("sample", "population: generic, k: int", lambda ts: ts[0] if isinstance(resolve(ts[0]), ListType) else None)

# ---- time -------------------------------------------------------------------------
for _n, _sig, _rt in (("time", "", "float"), ("perf_counter", "", "float"), ("monotonic", "", "float"),
                      ("time_ns", "", "int"), ("sleep", "secs: float, /", "None")):
    register("time", _n, _sig, _rt, f"mx::pymod::time_{_n}", "matx_nb/mod/time.h", pure=False)


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
register("json", "dumps", "obj: generic, *, indent: generic = None, sort_keys: bool = False, "
         "ensure_ascii: bool = True, separators: generic = None", _dumps_result, "mx::pymod::json_dumps", _J)
register("json", "loads", "s: generic", _one_of(STR, BYTES, result=ANY), "mx::pymod::json_loads", _J)

# ---- base64 -----------------------------------------------------------------------
_B = "matx_nb/mod/base64.h"
register("base64", "b64encode", "s: bytes, altchars: generic = None",
         lambda ts: BYTES if ts[1] in (BYTES, NONE) else None, "mx::pymod::base64_b64encode", _B)
register("base64", "b64decode", "s: generic, altchars: generic = None, validate: bool = False",
         lambda ts: BYTES if ts[0] in (STR, BYTES) and ts[1] in (STR, BYTES, NONE) else None,
         "mx::pymod::base64_b64decode", _B)
for _n in ("standard_b64encode", "urlsafe_b64encode"):
    register("base64", _n, "s: bytes", "bytes", f"mx::pymod::base64_{_n}", _B)
for _n in ("standard_b64decode", "urlsafe_b64decode"):
    register("base64", _n, "s: generic", _one_of(STR, BYTES, result=BYTES), f"mx::pymod::base64_{_n}", _B)

# ---- unicodedata (tables generated from CPython's unicodedata) ----------------------
_U = "matx_nb/mod/unicodedata.h"
for _n, _sig, _rt in (("normalize", "form: str, unistr: str, /", "str"),
                      ("is_normalized", "form: str, unistr: str, /", "bool"),
                      ("category", "chr: str, /", "str"), ("combining", "chr: str, /", "int")):
    register("unicodedata", _n, _sig, _rt, f"mx::pymod::unicodedata_{_n}", _U)
for _n in ("decimal", "digit"):
    register("unicodedata", _n, "chr: str, default: generic = None, /",
             lambda ts: INT if ts[1] in (INT, BOOL, NONE) else None, f"mx::pymod::unicodedata_{_n}", _U)
import unicodedata as _unicodedata  # noqa: E402

constant("unicodedata", "unidata_version", _unicodedata.unidata_version)

# ---- re (PCRE2) and matx_nb.Regex -------------------------------------------------------
import dataclasses as _dc  # noqa: E402

_RE = "matx_nb/mod/re.h"
LINK_FLAGS[_RE] = "-lpcre2-32"
PATTERN = opaque("re.Pattern", "mx::pymod::RePattern", _RE)
MATCH = opaque("re.Match", "mx::pymod::ReMatch", _RE)
REGEX = opaque("Regex", "mx::pymod::Regex", _RE)


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


def _re_fn(name: str, sig: str, returns: str, findall=False):
    """A function of re: the pattern (a str or an re.Pattern) first, flags among the rest."""
    register("re", name, "pattern: generic, " + sig, returns, f"mx::pymod::re_{name}", _RE)
    mf = MODULES["re"][name]
    flags_at = [p.name for p in mf.params].index("flags")
    rt = spec_type(returns)

    def refine(ts, consts):
        err, groups = _check_pattern(consts, flags_at)
        if err:
            return None, None, err
        if findall and groups is not None and groups >= 2:
            return ListType(TupleType(tuple([STR] * groups))), f"mx::pymod::re_findall_n<{groups}>", None
        return rt, mf.cpp, None

    MODULES["re"][name] = _dc.replace(mf, returns=lambda ts: rt if ts[0] in (STR, PATTERN) else None,
                                      refine=refine)


_re_fn("compile", "flags: int = 0", "re.Pattern")
for _n in ("match", "search", "fullmatch"):
    _re_fn(_n, "string: str, flags: int = 0", "re.Match")
_re_fn("findall", "string: str, flags: int = 0", "List[str]", findall=True)
_re_fn("finditer", "string: str, flags: int = 0", "List[re.Match]")
_re_fn("split", "string: str, maxsplit: int = 0, flags: int = 0", "List[str]")
_re_fn("sub", "repl: str, string: str, count: int = 0, flags: int = 0", "str")
_re_fn("subn", "repl: str, string: str, count: int = 0, flags: int = 0", "Tuple[str, int]")
register("re", "escape", "pattern: str", "str", "mx::pymod::re_escape", _RE)
# re's flag values (re.RegexFlag), spelled out so importing this registry does not import re.
for _n, _v in (("I", 2), ("IGNORECASE", 2), ("M", 8), ("MULTILINE", 8), ("S", 16), ("DOTALL", 16),
               ("X", 64), ("VERBOSE", 64), ("A", 256), ("ASCII", 256), ("U", 32), ("UNICODE", 32),
               ("NOFLAG", 0)):
    constant("re", _n, _v)


def _when(at: int, accepted: Tuple[Type, ...], result: str):
    """A result rule: `result` when argument `at` (self is 0) has one of the accepted types."""
    rt = spec_type(result)
    return lambda ts: rt if ts[at] in accepted else None


for _n in ("match", "search", "fullmatch"):
    method("re.Pattern", _n, "string: str, pos: int = 0, endpos: generic = None",
           _when(3, (INT, BOOL, NONE), "re.Match"), f"mx::pymod::re_pattern_{_n}")
method("re.Pattern", "findall", "string: str", "List[str]", "mx::pymod::re_pattern_findall")
method("re.Pattern", "finditer", "string: str", "List[re.Match]", "mx::pymod::re_pattern_finditer")
method("re.Pattern", "split", "string: str, maxsplit: int = 0", "List[str]", "mx::pymod::re_pattern_split")
method("re.Pattern", "sub", "repl: str, string: str, count: int = 0", "str", "mx::pymod::re_pattern_sub")
method("re.Pattern", "subn", "repl: str, string: str, count: int = 0", "Tuple[str, int]",
       "mx::pymod::re_pattern_subn")

for _n, _rt in (("group", "str"), ("start", "int"), ("end", "int"), ("span", "Tuple[int, int]")):
    method("re.Match", _n, "group: generic = None", _when(1, (INT, BOOL, STR, NONE), _rt),
           f"mx::pymod::re_match_{_n}")
for _n, _rt in (("groups", "List[str]"), ("groupdict", "Dict[str, str]")):
    method("re.Match", _n, "default: generic = None", _when(1, (STR, NONE), _rt), f"mx::pymod::re_match_{_n}")

for _mod in ("matx_nb", "matx_nb.regex"):
    register(_mod, "Regex", "pattern: str, ignore_case: bool = False, dotall: bool = False, "
             "extended: bool = False, anchored: bool = False, ucp: bool = True", "Regex",
             "mx::pymod::regex_new", _RE)
method("Regex", "split", "input: str, offset: int = 0", "List[str]", "mx::pymod::regex_split")
method("Regex", "replace", "input: str, repl: str, offset: int = 0", "str", "mx::pymod::regex_replace")
method("Regex", "match", "input: str, offset: int = 0", "Tuple[List[str], Dict[str, str]]",
       "mx::pymod::regex_match")


def constant_args(mf: ModuleFunction, slots) -> List[Any]:
    """The compile-time values of a call's arguments (NOT_CONST where unknown);
    an omitted argument has its default. Constants, module constants (re.I) and
    `|` of constant ints are known."""
    from . import ir
    out = []
    for i, a in enumerate(slots):
        if a is None:
            out.append(NOT_CONST if mf.params[i].required else mf.params[i].default)
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
register("matx_nb", "serialize", "obj: generic", "str", "mx::pymod::matx_serialize", _MATX)
register("matx_nb", "deserialize", "s: str", "any", "mx::pymod::matx_deserialize", _MATX)

# ---- matx_nb.NDArray (runtime/include/matx_nb/ndarray.h, mod/ndarray.h) -----------------
# The annotation `NDArray` / `matx.NDArray` is this opaque type (frontend._PRIMS);
# arrays cross the Python boundary through DLPack without a copy.
_ND = "matx_nb/mod/ndarray.h"
NDARRAY = opaque("NDArray", "mx::NDArray", _ND)
_INTS = ListType(INT)


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
    register(_mod, "NDArray", "data: generic, shape: generic = None, dtype: generic = None", _nd_new,
             "mx::pymod::ndarray_new", _ND)
register("matx_nb", "Device", "name: str", "str", "mx::pymod::device_new", _ND)
# numpy's attributes (a.shape, a.ndim...) and MATXScript's methods (a.shape(),
# a.ndim()) are both there; shape and strides are lists, as on the Python side.
for _n, _rt in (("shape", "List[int]"), ("strides", "List[int]"), ("dtype", "str"), ("ndim", "int"),
                ("size", "int")):
    attribute("NDArray", _n, _rt, f"mx::pymod::ndarray_{_n}")
_NUM_OR_ND = (INT, FLOAT, BOOL, NDARRAY, ANY)


def _nd_shape_arg(t: Type) -> bool:
    """reshape's argument: a list or tuple of ints, or one int (reshape(2, 3) is gathered into a list)."""
    t = resolve(t)
    if isinstance(t, TupleType):
        return all(resolve(x) in (INT, BOOL) for x in t.items)
    return t in (_INTS, INT)


for _n, _rt in (("shape", "List[int]"), ("strides", "List[int]"), ("dtype", "str"), ("ndim", "int"),
                ("size", "int"), ("device", "str"), ("is_contiguous", "bool"), ("contiguous", "NDArray"),
                ("tolist", "any")):
    method("NDArray", _n, "", _rt, f"mx::pymod::ndarray_{_n}")
method("NDArray", "reshape", "shape: generic", lambda ts: NDARRAY if _nd_shape_arg(ts[1]) else None,
       "mx::pymod::ndarray_reshape", varargs=True)
method("NDArray", "__len__", "", "int", "mx::pymod::ndarray_len")
# nd.torch() / nd.numpy() in compiled code: the array itself (it reaches Python as a
# matx_nb.NDArray, whose .torch() / .numpy() share its memory).
for _n in ("torch", "numpy", "asnumpy"):
    method("NDArray", _n, "", "NDArray", "mx::pymod::ndarray_self")
method("NDArray", "astype", "dtype: str", "NDArray", "mx::pymod::ndarray_astype")
method("NDArray", "get", "index: generic", lambda ts: ANY if ts[1] in (INT, BOOL, _INTS) else None,
       "mx::pymod::ndarray_get")
method("NDArray", "set", "index: generic, value: generic",
       lambda ts: NONE if ts[1] in (INT, _INTS) and ts[2] in _NUM_OR_ND else None,
       "mx::pymod::ndarray_set", pure=False)
for _n in ("add", "sub", "mul", "truediv"):
    method("NDArray", _n, "other: generic", lambda ts: NDARRAY if ts[1] in _NUM_OR_ND else None,
           f"mx::pymod::ndarray_{_n}")


# ---- matx_nb.vision's kernels (OpenCV) ---------------------------------------------
# Called by the ops in matx_nb/vision/ (Python classes compiled like user code);
# every kernel takes the op's name for its messages. C++: mod/vision.h, defined in
# mod/vision_impl.h, which is compiled once into the "vision" object.
_V = "matx_nb/mod/vision.h"
LINK_FLAGS[_V] = "-lopencv_imgcodecs -lopencv_imgproc -lopencv_core"
OBJECTS[_V] = "vision"
VISION_KERNELS = "matx_nb.vision._kernels"


def _vk(name: str, sig: str, returns: str, pure: bool = True, op: bool = True):
    """A kernel; `op` (the default): its last parameter is the calling op's name."""
    register(VISION_KERNELS, name, sig + (", op: str" if op and sig else "op: str" if op else ""), returns,
             f"mx::vision::{name}", _V, pure=pure)


_IMGS, _IL, _FL = "imgs: List[NDArray]", "List[int]", "List[float]"
_vk("imdecode", "bufs: List[bytes], fmt: str", "List[NDArray]")
_vk("imdecode_noexc", "bufs: List[bytes], fmt: str", "Tuple[List[NDArray], List[bool]]")
_vk("imencode", f"{_IMGS}, fmt: str, quality: int, optimized: bool", "List[bytes]")
_vk("imencode_noexc", f"{_IMGS}, fmt: str, quality: int, optimized: bool", "Tuple[List[bytes], List[bool]]")
_vk("resize", f"{_IMGS}, hs: {_IL}, ws: {_IL}, interp: str", "List[NDArray]")
_vk("crop", f"{_IMGS}, xs: {_IL}, ys: {_IL}, ws: {_IL}, hs: {_IL}", "List[NDArray]")
_vk("crop_resize", f"{_IMGS}, xs: {_IL}, ys: {_IL}, ws: {_IL}, hs: {_IL}, out_h: int, out_w: int, interp: str",
    "List[NDArray]")
_vk("flip", f"{_IMGS}, codes: {_IL}", "List[NDArray]")
_vk("pad", f"{_IMGS}, tops: {_IL}, bottoms: {_IL}, lefts: {_IL}, rights: {_IL}, border: str, value: {_FL}",
    "List[NDArray]")
for _w in ("warp_affine", "warp_perspective"):
    _vk(_w, f"{_IMGS}, mats: List[{_FL}], hs: {_IL}, ws: {_IL}, interp: str, border: str, value: {_FL}",
        "List[NDArray]")
_vk("rotation_matrix", "cx: float, cy: float, angle: float, scale: float", _FL, op=False)
_vk("cvt_color", f"{_IMGS}, code: str", "List[NDArray]")
_vk("normalize", f"{_IMGS}, mean: {_FL}, std: {_FL}, dtype: str, shift: float, scale: float", "List[NDArray]")
_vk("transpose_normalize", f"{_IMGS}, mean: {_FL}, std: {_FL}, in_layout: str, out_layout: str, dtype: str, "
    "shift: float, scale: float", "NDArray")
_vk("cast", f"{_IMGS}, dtype: str, alpha: float, beta: float", "List[NDArray]")
_vk("stack", _IMGS, "NDArray")
_vk("transpose", "batch: NDArray, in_layout: str, out_layout: str", "NDArray")
_vk("find_contours", "img: NDArray, mode: str, method: str", "List[NDArray]")
_vk("arc_length", "curve: NDArray, closed: bool", "float")
_vk("approx_poly_dp", "curve: NDArray, epsilon: float, closed: bool", "NDArray")
_vk("min_area_rect", "points: NDArray", _FL)
_vk("box_points", f"rect: {_FL}", "NDArray")
_vk("fill_poly", f"img: NDArray, polys: List[NDArray], color: {_FL}", "NDArray")
_vk("estimate_affine_partial_2d", "from_: NDArray, to: NDArray", f"Tuple[{_FL}, List[bool]]")
_vk("resize_target", "ih: int, iw: int, h: int, w: int, max_size: int, mode: str", "Tuple[int, int]", op=False)
_vk("eval_chain", f"bufs: List[bytes], fmt: str, h: int, w: int, max_size: int, interp: str, mode: str, "
    f"crop_h: int, crop_w: int, mean: {_FL}, std: {_FL}, in_layout: str, out_layout: str, dtype: str, "
    "shift: float, scale: float", "List[NDArray]")
_vk("set_num_threads", "n: int", "None", pure=False, op=False)
_vk("get_num_threads", "", "int", pure=False, op=False)
