"""A notebook cell's functions and classes compile as one translation unit each
(compiler/units.py), linked into one library; editing one function recompiles
only its unit. The units must behave as one program: shared module state,
classes, inheritance, exceptions, recursion and generators across units."""
import importlib
import sys
import textwrap

import pytest

import matx_nb
from matx_nb.scripting import script_together

SHARED = '''
from typing import Dict, Iterator, List

SEEN = {"": 0}
LOG = ["start"]


class Shape:
    def __init__(self, name: str) -> None:
        self.name = name
        self.tags: Dict[str, int] = {}

    def area(self) -> float:
        return 0.0

    def describe(self) -> str:
        return self.name + ":" + str(round(self.area(), 2))


class Square(Shape):
    def __init__(self, side: float) -> None:
        super().__init__("square")
        self.side = side

    def area(self) -> float:
        return self.side * self.side


def note(word: str) -> int:
    SEEN[word] = SEEN.get(word, 0) + 1
    LOG.append(word)
    return SEEN[word]


def is_even(n: int) -> bool:
    return True if n == 0 else is_odd(n - 1)


def is_odd(n: int) -> bool:
    return False if n == 0 else is_even(n - 1)


def squares(n: int) -> Iterator[int]:
    for i in range(n):
        yield i * i


def fail(x: int) -> int:
    if x < 0:
        raise ValueError("negative: " + str(x))
    return x * 2


def driver(words: List[str], side: float) -> str:
    total = 0
    for w in words:
        total += note(w)
    s = Square(side)
    s.tags["n"] = total
    parts = [s.describe(), str(total), str(is_even(10)), str(sum(squares(5)))]
    try:
        fail(-3)
    except ValueError as e:
        parts.append(str(e))
    return "|".join(parts)
'''


def load(tmp_path, name, text):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(text))
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))


def objects(mod):
    return [mod.Shape, mod.Square, mod.note, mod.is_even, mod.is_odd, mod.squares, mod.fail, mod.driver]


def test_units_behave_as_one_program(tmp_path, monkeypatch):
    monkeypatch.setenv("MATX_NB_CACHE", str(tmp_path / "cache"))
    py = load(tmp_path, "units_shared_py", SHARED)
    mod = load(tmp_path, "units_shared", SHARED)
    faces = script_together(objects(mod))
    Shape, Square, note, is_even, is_odd, squares, fail, driver = faces
    assert driver.matx.seconds["units"] == (9, 9)  # 8 objects and the entry points
    assert driver(["a", "b", "a"], 1.5) == py.driver(["a", "b", "a"], 1.5)
    # module state is one object for all units: note() and driver() share SEEN
    assert note("a") == py.note("a") == 3
    assert driver(["a"], 2.0) == py.driver(["a"], 2.0)
    assert [is_even(7), is_odd(7)] == [False, True]
    assert list(squares(4)) == [0, 1, 4, 9]
    with pytest.raises(ValueError, match="negative: -1") as e:
        fail(-1)
    line = next(i for i, x in enumerate(textwrap.dedent(SHARED).splitlines(), 1) if "raise ValueError" in x)
    assert f"units_shared.py\", line {line}, in fail" in str(e.value)  # the first lines the loader set
    sq = Square(3.0)
    assert sq.describe() == "square:9.0"
    sq.tags["x"] = 5
    assert dict(sq.tags) == {"x": 5}
    with pytest.raises(TypeError, match="side"):
        Square("3")


def test_editing_one_function_recompiles_only_its_unit(tmp_path, monkeypatch):
    monkeypatch.setenv("MATX_NB_CACHE", str(tmp_path / "cache"))
    cell = '''
    from typing import Dict, List

    def tokens(text: str) -> List[str]:
        return [w.lower() for w in text.split() if w]

    def counts(words: List[str]) -> Dict[str, int]:
        out: Dict[str, int] = {}
        for w in words:
            out[w] = out.get(w, 0) + STEP
        return out

    def top(text: str, k: int) -> List[str]:
        c = counts(tokens(text))
        return sorted(c.keys(), key=lambda w: -c[w])[:k]
    '''
    seen = []
    for i, step in enumerate((1, 2, 3)):
        # the edit also moves the code below it down a line: objects do not depend on lines
        text = cell.replace("STEP", str(step)).replace("    def top", "\n" * i + "    def top")
        mod = load(tmp_path, f"units_edit{i}", text)
        tokens, counts, top = script_together([mod.tokens, mod.counts, mod.top])
        seen.append(top.matx.seconds["units"])
        assert counts(["x", "y", "x"]) == {"x": 2 * step, "y": step}
        assert top("b a B c a b", 2) == ["b", "a"]
    assert seen == [(4, 4), (1, 4), (1, 4)]


def test_one_object_is_one_unit(tmp_path, monkeypatch):
    monkeypatch.setenv("MATX_NB_CACHE", str(tmp_path / "cache"))
    mod = load(tmp_path, "units_one", '''
    def twice(x: int) -> int:
        return 2 * x

    def thrice(x: int) -> int:
        return 3 * x
    ''')
    f = matx_nb.script(mod.twice)
    assert f(4) == 8 and "units" not in f.matx.seconds  # script(): one translation unit
    a, b = script_together([mod.twice, mod.thrice], split=False)
    assert (a(2), b(2)) == (4, 6) and "units" not in a.matx.seconds


def test_a_class_is_its_unit_and_its_entry_points(tmp_path, monkeypatch):
    """A class alone: its methods in one unit, its entry points (wrappers, attribute
    operations) in another, so editing a method's body recompiles the class only."""
    monkeypatch.setenv("MATX_NB_CACHE", str(tmp_path / "cache"))
    cell = '''
    from typing import Dict, List

    class Text2Ids:
        def __init__(self) -> None:
            self.table: Dict[str, int] = {"hello": 0, "world": 1, "[UNK]": 2}

        def lookup(self, word: str) -> int:
            return self.table.get(word, UNK)

        def __call__(self, words: List[str]) -> List[int]:
            return [self.lookup(w) for w in words]
    '''
    seen = []
    for i, unk in enumerate((2, 1)):
        mod = load(tmp_path, f"units_class{i}", cell.replace("UNK", str(unk)))
        (T,) = script_together([mod.Text2Ids])
        t = T()
        assert t(["hello", "x"]) == [0, unk]
        t.table["x"] = 5
        assert t(["x"]) == [5] and dict(t.table)["x"] == 5
        seen.append(T.matx.seconds["units"])
    assert seen == [(2, 2), (1, 2)]


def test_the_saved_source_is_one_translation_unit(tmp_path, monkeypatch):
    """A split library's source.cc (shown in the C++ tab, saved by export, rebuilt
    by matx-run --rebuild) compiles on its own, header-only, as one unit."""
    import subprocess
    from matx_nb.compiler import toolchain
    monkeypatch.setenv("MATX_NB_CACHE", str(tmp_path / "cache"))
    mod = load(tmp_path, "units_source", SHARED)
    faces = script_together(objects(mod))
    src = faces[-1].matx.library.parent / "source.cc"
    assert "the translation unit of def note" in src.read_text()
    cmd = [toolchain.compiler(), *toolchain.base_flags("-O0"), "-fsyntax-only", "-I", str(toolchain.include_dir()),
           str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
