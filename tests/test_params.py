"""Calls from Python into compiled functions with keyword-only parameters,
*args, static and class methods: the results, and CPython's exact TypeError
messages for bad calls (the differential corpus compares exception classes
only; tests/cases/params.test holds the results)."""
from __future__ import annotations

from typing import Dict, List, Tuple

import pytest

import matx_nb

_compiled = {}


def compiled(obj):
    if obj not in _compiled:
        _compiled[obj] = matx_nb.script(obj)
    return _compiled[obj]


def same_error(py_call, nb_call):
    with pytest.raises(TypeError) as py:
        py_call()
    with pytest.raises(TypeError) as nb:
        nb_call()
    assert str(nb.value) == str(py.value)


# ---------------------------------------------------------------------------
# Keyword-only parameters.

def scaled(a: int, b: int = 1, *, scale: int = 2, off: int) -> int:
    return (a + b) * scale + off


def only_kw(*, name: str, n: int = 1) -> str:
    return name * n


class Box:
    def __init__(self, k: int, *, name: str = "box") -> None:
        self.k = k
        self.name = name

    def get(self, x: int, *, twice: bool = False) -> int:
        return x * self.k * (2 if twice else 1)


KWONLY_CALLS = [
    ((1,), {"off": 0}), ((1, 2), {"off": 3, "scale": 4}), ((), {"a": 1, "off": 2}),
    ((1, 2, 3), {}), ((1, 2, 3), {"off": 1}), ((1, 2, 3, 4), {"scale": 1, "off": 1}),
    ((1,), {}), ((), {}), ((1,), {"off": 1, "zz": 2}), ((1,), {"off": 1, "a": 2}),
    ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), {}),
]


@pytest.mark.parametrize("args,kwargs", KWONLY_CALLS)
def test_kwonly_calls_like_cpython(args, kwargs):
    try:
        want = scaled(*args, **kwargs)
    except TypeError:
        same_error(lambda: scaled(*args, **kwargs), lambda: compiled(scaled)(*args, **kwargs))
        return
    assert compiled(scaled)(*args, **kwargs) == want


@pytest.mark.parametrize("args,kwargs", [
    ((), {"name": "ab"}), ((), {"name": "ab", "n": 3}), (("ab",), {}), ((), {}),
    (("ab",), {"name": "x"}), (("a", "b"), {"n": 2}), ((), {"n": 2}),
])
def test_bare_star_like_cpython(args, kwargs):
    try:
        want = only_kw(*args, **kwargs)
    except TypeError:
        same_error(lambda: only_kw(*args, **kwargs), lambda: compiled(only_kw)(*args, **kwargs))
        return
    assert compiled(only_kw)(*args, **kwargs) == want


def test_kwonly_methods_and_constructor():
    B = compiled(Box)
    b = B(3, name="b")
    assert (b.name, b.get(2), b.get(2, twice=True)) == ("b", 6, 12)
    same_error(lambda: Box(3, "b"), lambda: B(3, "b"))
    same_error(lambda: Box(3).get(1, True), lambda: B(3).get(1, True))
    same_error(lambda: Box(3).get(1, True, twice=False), lambda: B(3).get(1, True, twice=False))


# ---------------------------------------------------------------------------
# Static and class methods, on the compiled class and its instances.

class Unit:
    FACTOR = 1

    def __init__(self, n: int) -> None:
        self.n = n

    @staticmethod
    def add(a: int, b: int = 0) -> int:
        return a + b

    @classmethod
    def make(cls, n: int, *, times: int = 1) -> "Unit":
        return cls(n * times * cls.FACTOR)

    @classmethod
    def name(cls) -> str:
        return "unit"


class Kilo(Unit):
    FACTOR = 1000

    @classmethod
    def name(cls) -> str:
        return "kilo"


def test_static_and_class_methods_from_python():
    U, K = compiled(Unit), compiled(Kilo)
    assert (U.add(1, 2), U(0).add(5), U.add(a=1, b=1)) == (3, 5, 2)
    u = U.make(3, times=2)
    assert type(u) is U and u.n == 6
    k = K.make(2)  # inherited: cls is Kilo
    assert type(k) is K and k.n == 2000 and K.name() == "kilo" and k.name() == "kilo"
    assert U(1).make(4).n == 4 and U.name() == "unit"


@pytest.mark.parametrize("call", [
    lambda C: C.add(), lambda C: C.add(1, 2, 3), lambda C: C.add(1, c=2),
    lambda C: C.make(), lambda C: C.make(1, 2), lambda C: C.make(1, 2, times=3),
    lambda C: C.name(1), lambda C: C(1).add(1, 2, 3), lambda C: C(1).make(1, 2),
])
def test_static_and_class_method_bad_calls_like_cpython(call):
    same_error(lambda: call(Unit), lambda: call(compiled(Unit)))


# ---------------------------------------------------------------------------
# *args: a tuple, from Python too.

def total(*nums: int) -> int:
    return sum(nums)


def describe(sep: str, *parts: str, upper: bool = False) -> Tuple[str, Tuple[str, ...]]:
    out = sep.join(parts)
    return (out.upper() if upper else out, parts)


@pytest.mark.parametrize("args,kwargs", [
    ((), {}), ((1,), {}), (tuple(range(40)), {}), ((), {"nums": 1}), ((1, 2), {"x": 3}),
])
def test_varargs_calls_like_cpython(args, kwargs):
    try:
        want = total(*args, **kwargs)
    except TypeError:
        same_error(lambda: total(*args, **kwargs), lambda: compiled(total)(*args, **kwargs))
        return
    assert compiled(total)(*args, **kwargs) == want


@pytest.mark.parametrize("args,kwargs", [
    (("-",), {}), (("-", "a", "b"), {}), ((", ", "x"), {"upper": True}), ((), {}),
    (("-", "a"), {"sep": "+"}), (("-",), {"parts": ("a",)}),
])
def test_varargs_with_keyword_only_like_cpython(args, kwargs):
    try:
        want = describe(*args, **kwargs)
    except TypeError:
        same_error(lambda: describe(*args, **kwargs), lambda: compiled(describe)(*args, **kwargs))
        return
    got = compiled(describe)(*args, **kwargs)
    assert got == want and type(got[1]) is tuple


def test_varargs_up_to_the_host_limit():
    """From Python a compiled function takes at most 64 arguments in all."""
    assert compiled(total)(*range(64)) == sum(range(64))
    with pytest.raises(TypeError):
        compiled(total)(*range(65))


# ---------------------------------------------------------------------------
# **kwargs: a Dict[str, T] of the keywords no parameter takes.

def options(a: int, *rest: int, sep: str = ",", **extra: int) -> Tuple[int, Tuple[int, ...], str, Dict[str, int]]:
    return (a, rest, sep, extra)


class Settings:
    def __init__(self, name: str, **values: int) -> None:
        self.name = name
        self.values = values

    def get(self, key: str, **defaults: int) -> int:
        return self.values.get(key, defaults.get(key, -1))


@pytest.mark.parametrize("args,kwargs", [
    ((1,), {}), ((1, 2, 3), {"x": 4, "b": 5}), ((), {"a": 1, "q": 2, "sep": ";"}), ((1,), {"a": 2}),
    ((), {}), ((1,), {"rest": 2}), ((1,), {"extra": 3}),
])
def test_kwargs_calls_like_cpython(args, kwargs):
    try:
        want = options(*args, **kwargs)
    except TypeError:
        same_error(lambda: options(*args, **kwargs), lambda: compiled(options)(*args, **kwargs))
        return
    got = compiled(options)(*args, **kwargs)
    assert got == want and list(got[3]) == list(want[3])


def test_kwargs_in_methods_and_constructor():
    S = compiled(Settings)
    s = S("s", a=1, b=2)
    assert (s.name, s.values, s.get("a"), s.get("z", z=7), s.get(key="q")) == ("s", {"a": 1, "b": 2}, 1, 7, -1)
    same_error(lambda: Settings("s", name="t"), lambda: S("s", name="t"))
    same_error(lambda: Settings("s", 1), lambda: S("s", 1))
    same_error(lambda: Settings("s").get("a", 1), lambda: S("s").get("a", 1))


# ---------------------------------------------------------------------------
# Exported pipelines call ops with the keywords recorded by tracing.

class Tokens:
    def __init__(self, *, lower: bool = True) -> None:
        self.lower = lower

    @staticmethod
    def split(text: str, *, sep: str = " ") -> List[str]:
        return text.split(sep)

    def lengths(self, words: List[str], pad: int = 0, *, scale: int = 1, **boost: int) -> List[int]:
        return [(len(w) + pad) * scale + boost.get(w.lower() if self.lower else w, 0) for w in words]


def test_exported_pipeline_replays_keywords(tmp_path):
    T = compiled(Tokens)
    tok = T(lower=False)

    def pipeline(text):
        return tok.lengths(T.split(text, sep=","), scale=2, a=5)

    want = Tokens(lower=False).lengths(Tokens.split("a,bb,A", sep=","), scale=2, a=5)
    assert pipeline("a,bb,A") == want
    module = matx_nb.trace(pipeline, "a,bb,A")
    module.save(str(tmp_path / "p"))
    # pad is left out: the exported call uses its default, scale and **boost come by name
    assert matx_nb.load(str(tmp_path / "p")).run({"text": "a,xyz"}) == [7, 6]
