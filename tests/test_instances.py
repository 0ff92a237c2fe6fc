"""Compiled instances behave like Python's: __init__ runs again on an existing
instance, a Python subclass of a compiled class keeps its own methods and
__init__ (calling the compiled one through super()), and a class without
__init__ takes no arguments. Each case is checked against the Python class."""
from typing import Dict

import pytest

import matx_nb


class Vocab:
    def __init__(self, n: int) -> None:
        self.n: int = n
        self.d: Dict[str, int] = {"a": n}

    def get(self, w: str) -> int:
        return self.d.get(w, -1)


class NoInit:
    def val(self) -> int:
        return 7


@pytest.fixture(scope="module")
def compiled():
    return matx_nb.script(Vocab), matx_nb.script(NoInit)


def test_init_runs_again_on_an_existing_instance(compiled):
    V, _ = compiled
    for cls in (Vocab, V):
        v = cls(3)
        v.__init__(5)
        assert (v.n, v.get("a")) == (5, 5), cls


def test_python_subclass_keeps_its_methods_and_init(compiled):
    V, _ = compiled

    def subclass(base):
        class Sub(base):
            def __init__(self, k):
                super().__init__(k * 2)
                self.extra = "x"

            def twice(self, w):
                return 2 * self.get(w)
        return Sub
    for base in (Vocab, V):
        s = subclass(base)(4)
        assert (type(s).__name__, s.n, s.twice("a"), s.extra) == ("Sub", 8, 16, "x"), base
        assert isinstance(s, base)


def test_subclass_without_its_own_init_uses_the_compiled_one(compiled):
    V, _ = compiled

    class Plain(V):
        def shout(self, w):
            return str(self.get(w)) + "!"
    p = Plain(2)
    assert (p.n, p.shout("a")) == (2, "2!")


def test_bad_construction_raises_as_python_does(compiled):
    V, N = compiled
    for cls in (Vocab, V):
        with pytest.raises(TypeError, match=r"__init__\(\) missing 1 required positional argument: 'n'"):
            cls()
    for cls in (NoInit, N):
        assert cls().val() == 7
        with pytest.raises(TypeError, match="takes no arguments"):
            cls(1)
