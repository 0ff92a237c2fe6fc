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


def test_multiple_values_for_an_argument():
    def f(s: str) -> str:
        return re.sub("a", "b", s, count=1, string=s)
    compile_error(f, "string=s", "re.sub() got multiple values for argument 'string'")


def test_positional_only_by_keyword():
    def f(a: float) -> float:
        return math.sqrt(x=a)
    compile_error(f, "x=a", "math.sqrt() takes no keyword arguments")

    def g(a: float) -> float:
        return math.prod([a], iterable=[a])
    compile_error(g, "iterable=", "positional-only arguments passed as keyword arguments: 'iterable'")


def test_keyword_only_given_by_position():
    def f(a: float, b: float) -> bool:
        return math.isclose(a, b, 0.5)
    compile_error(f, "math.isclose(", "math.isclose() takes at most 2 positional arguments but 3 were given")

    def g(d: List[int]) -> str:
        return json.dumps(d, 2)
    compile_error(g, "json.dumps(", "json.dumps() takes at most 1 positional argument but 2 were given")


def test_keywords_bind_as_in_cpython():
    """Module functions bind keywords by the same path as the builtins' methods
    (primitives.bind): any parameter by name, in any order, defaults filled."""
    def f(s: str, x: float) -> str:
        a = re.sub(string=s, repl="-", pattern=r"\s+", count=1)
        b = math.prod([x, 2.0], start=3.0) + math.log(x, 2.0)
        c = json.dumps({"k": [1, 2]}, sort_keys=True, indent=None)
        d = math.isclose(b=x + 1e-12, a=x, abs_tol=1e-9)
        return f"{a}|{b}|{c}|{d}"
    g = matx_nb.script(f)
    for s, x in (("a  b c", 8.0), ("", 1.5), ("x\ty", 1024.0)):
        assert g(s, x) == f(s, x)


def test_declarations_share_the_builtins_language():
    """Every module function and opaque-type method is declared as a builtin is:
    primitives.Param parameters with specs that specs.py reads as types."""
    from matx_nb.compiler import modules, primitives, specs
    entries = [mf for fns in modules.MODULES.values() for mf in fns.values()]
    entries += [mf for t in modules.TYPES.values() for mf in (*t.methods.values(), *t.attrs.values())]
    assert len(entries) > 100
    for mf in entries:
        assert all(isinstance(p, primitives.Param) for p in mf.params), mf
        assert mf.types == tuple(specs.spec_type(p.type) for p in mf.params), mf


def _kind(p) -> str:
    return "POSITIONAL_ONLY" if not p.keyword else "KEYWORD_ONLY" if p.kwonly else "POSITIONAL_OR_KEYWORD"


def test_declarations_bind_as_cpython_does():
    """Each declared parameter of a standard-library function has CPython's name
    and kind (positional-only, either, keyword-only), and no required parameter
    of CPython's is missing: a call binds the same arguments in both, or fails in
    both. (Parameters we do not support may be left out.)"""
    import importlib
    from matx_nb.compiler import modules
    checked = 0
    for mod, fns in modules.MODULES.items():
        if mod.startswith("matx_nb"):
            continue
        m = importlib.import_module(mod)
        for name, mf in fns.items():
            try:
                real = inspect.signature(getattr(m, name)).parameters
            except ValueError:  # no signature (math.log, time.sleep): positional only
                assert not any(p.keyword for p in mf.params), (mod, name)
                continue
            if any(p.kind == p.VAR_POSITIONAL for p in real.values()):  # math.gcd(*integers)
                assert not any(p.keyword for p in mf.params), (mod, name)
                continue
            ours = {p.name: _kind(p) for p in mf.params}
            for pname, kind in ours.items():
                assert pname in real and real[pname].kind.name == kind, (mod, name, pname, kind)
            for pname, p in real.items():
                if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                    assert pname in ours, (mod, name, pname)
            positional = [p for p in real.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            assert [p.name for p in mf.params if not p.kwonly] == [p.name for p in positional][:len(
                [p for p in mf.params if not p.kwonly])], (mod, name)
            checked += 1
    assert checked > 30


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
