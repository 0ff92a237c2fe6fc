"""Modules in compiled code, beyond the differential cases: compile errors for
misuse (line, column, message), the process-wide random state, and the link
line that re adds to generated code."""
from __future__ import annotations

import base64  # noqa: F401  (used by the scripted functions)
import inspect
import json  # noqa: F401
import math  # noqa: F401
import random
import re
import unicodedata  # noqa: F401
from typing import List

import pytest

import matx_nb


def compile_error(fn, marker: str, text: str):
    """fn must fail to compile with a diagnostic on the line containing marker,
    at the column where marker starts, whose message contains text."""
    with pytest.raises(matx_nb.CompileError) as ei:
        matx_nb.script(fn)
    lines, first = inspect.getsourcelines(fn)
    [(i, src)] = [(i, s) for i, s in enumerate(lines) if marker in s]
    line, col = first + i, src.index(marker)
    got = [(d.line, d.col, d.message) for d in ei.value.diagnostics]
    assert any(d.line == line and d.col == col and text in d.message for d in ei.value.diagnostics), got


def test_unsupported_module_function():
    def f(x: float) -> float:
        return math.frexp(x)[0]
    compile_error(f, "math.frexp", "'math.frexp' is not supported in compiled code")


def test_wrong_argument_type():
    def f(s: str) -> float:
        return math.sqrt(s)
    compile_error(f, "s)", "argument 'x' of math.sqrt() must be float, got str")


def test_bad_constant_regex():
    def f(s: str) -> List[str]:
        return re.findall(r"(\w+", s)
    compile_error(f, 'r"(\\w+"', "bad regular expression")


def test_bad_constant_regex_in_compile():
    def f(s: str) -> bool:
        p = re.compile("a{2,1}")
        return bool(p.match(s))
    compile_error(f, '"a{2,1}"', "bad regular expression")


def test_json_dumps_of_a_set():
    def f(x: List[int]) -> str:
        return json.dumps(set(x))
    compile_error(f, "json.dumps(", "json.dumps() does not accept (Set[int])")


def test_b64encode_of_str():
    def f(s: str) -> bytes:
        return base64.b64encode(s)
    compile_error(f, "s)", "argument 's' of base64.b64encode() must be bytes, got str")


def test_unknown_keyword():
    def f(a: float, b: float) -> bool:
        return math.isclose(a, b, tol=0.1)
    compile_error(f, "tol=0.1", "math.isclose() got an unexpected keyword argument 'tol'")


def test_missing_argument():
    def f(s: str) -> str:
        return unicodedata.normalize(s)
    compile_error(f, "unicodedata.normalize(s)", "unicodedata.normalize() missing argument 'unistr'")


def test_unknown_match_method():
    def f(s: str) -> str:
        m = re.match("a", s)
        return m.lastgroup()
    compile_error(f, "m.lastgroup", "'re.Match' object has no method 'lastgroup'")


def test_choice_of_an_int():
    def f(n: int) -> int:
        return random.choice(n)
    compile_error(f, "random.choice(n)", "random.choice() does not accept (int)")


def test_module_constant_is_not_callable():
    def f() -> float:
        return math.pi()
    compile_error(f, "math.pi", "'math.pi' is a constant and cannot be called")


# ---- random: one generator per process, shared by separately compiled functions

def _seed(n: int) -> None:
    random.seed(n)


def _draw(k: int) -> List[float]:
    return [random.random() for _ in range(k)]


def test_random_state_is_shared_between_compiled_libraries():
    seed, draw = matx_nb.script(_seed), matx_nb.script(_draw)
    seed(1234)
    got = draw(3) + draw(2)
    random.seed(1234)
    assert got == [random.random() for _ in range(5)]


def test_random_state_is_not_pythons():
    seed, draw = matx_nb.script(_seed), matx_nb.script(_draw)
    seed(7)
    random.seed(99)
    first = draw(1)
    random.seed(7)
    assert first == [random.random()]


# ---- int results past 64 bits raise OverflowError (Python returns a big int)

def _factorial(n: int) -> int:
    return math.factorial(n)


def test_int_overflow_is_an_overflow_error():
    f = matx_nb.script(_factorial)
    assert f(20) == math.factorial(20)
    with pytest.raises(OverflowError):
        f(21)


# ---- re: generated code links PCRE2

def _words(s: str) -> List[str]:
    return re.findall(r"\w+", s)


def test_re_program_links_pcre2():
    from matx_nb.compiler import driver, passes
    from matx_nb.compiler.emit import emitter
    from matx_nb.compiler.emit.emitter import Emitter
    from matx_nb.compiler.toolchain import link_flags
    program, col = driver.analyze(_words)
    passes.run(program)
    src = emitter.emit(Emitter(program, driver._source_line(col.sources), driver.class_layouts(program)))
    assert link_flags(src) == ["-lpcre2-32"]
    assert matx_nb.script(_words)("a b") == ["a", "b"]


def test_regex_python_class_matches_matxscript_examples():
    r = matx_nb.Regex("name")
    assert r.split("mynameisHE") == ["my", "isHE"]
    assert r.replace("mynameisHE", "NAME") == "myNAMEisHE"
    assert r.match("mynameisHE") == (["name"], {})
    r2 = matx_nb.Regex("(?<first>.*) are (?<second>.*?) .*")
    assert r2.match("Cats are smarter than dogs") == (
        ["Cats are smarter than dogs", "Cats", "smarter"], {"first": "Cats", "second": "smarter"})
