"""The builtin functions declared in compiler/primitives.py: the registry agrees
with its specializers and with CPython's signatures, and every builtin the
declaration says all of is compiled from it and run against CPython over
generated arguments (a function added to the registry is tested here without
a line written for it).
"""
from __future__ import annotations

import builtins
import importlib.util
import inspect
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matx_nb
from matx_nb.compiler.emit import builtins as builtin_emit
from matx_nb.compiler.check import builtins as builtin_rules
from matx_nb.compiler import primitives

FUNCTIONS = primitives.FUNCTIONS
# Declared ones: checked and emitted from the declaration alone (no rule).
DECLARED = sorted(n for n, f in FUNCTIONS.items() if f.supported and not f.rule and n != "open")
ANNOTATION = {"str": "str", "int": "int", "any": "Any", "bytes": "bytes", "float": "float", "bool": "bool"}


def test_every_rule_is_declared_and_every_declaration_has_its_rules():
    for name, f in FUNCTIONS.items():
        if not f.supported:
            assert name not in builtin_rules.RULES and name not in builtin_emit.RULES, name
        elif f.rule:
            assert name in builtin_rules.RULES, f"{name}: declared rule=True, no type rule"
            assert name in builtin_emit.RULES or name in builtin_emit.USED_IN_PLACE, \
                f"{name}: declared rule=True, no C++ rule"
        else:
            assert name not in builtin_rules.RULES and name not in builtin_emit.RULES, name
            assert f.result, f"{name}: no rule, so its declaration must give the result"
            assert all(p.type in builtin_rules.SPEC_TYPES or p.type == "any" for p in f.params), name
    assert set(builtin_rules.RULES) <= set(FUNCTIONS)
    assert set(builtin_emit.RULES) <= set(FUNCTIONS) | set(builtin_emit.EXTRA)
    assert DECLARED, "no builtin is compiled from its declaration alone"


def test_keyword_parameters_are_cpython_s():
    """What a keyword may name (`sum(xs, start=1)`, `sorted(xs, key=f)`) is what
    CPython's signature allows, under the same names."""
    checked = 0
    for name, f in FUNCTIONS.items():
        try:
            sig = inspect.signature(getattr(builtins, name))
        except (ValueError, TypeError):
            continue  # no signature in CPython (min, range, int...)
        kinds = {p.name: p.kind for p in sig.parameters.values()}
        for p in f.params:
            if p.kwonly:
                assert kinds.get(p.name) == inspect.Parameter.KEYWORD_ONLY, (name, p.name)
            elif p.keyword:
                assert kinds.get(p.name) == inspect.Parameter.POSITIONAL_OR_KEYWORD, (name, p.name)
        checked += 1
    assert checked >= 10


def _source() -> str:
    lines = ["from typing import Any", ""]
    for name in DECLARED:
        f = FUNCTIONS[name]
        params = ", ".join(f"{p.name}: {ANNOTATION[p.type]}" for p in f.params if p.required)
        args = ", ".join(p.name for p in f.params if p.required)
        lines += ["", f"def call_{name}({params}) -> Any:", f"    return {name}({args})"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def impls(tmp_path_factory):
    path = tmp_path_factory.mktemp("builtin_functions") / "builtin_calls.py"
    path.write_text(_source())
    spec = importlib.util.spec_from_file_location("builtin_calls", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["builtin_calls"] = mod
    spec.loader.exec_module(mod)
    fns = [getattr(mod, f"call_{n}") for n in DECLARED]
    from matx_nb.scripting import script_together
    return dict(zip(DECLARED, zip(fns, script_together(fns))))


VALUES = {
    "str": st.text(max_size=3),
    "int": st.one_of(st.integers(-5, 0x10FFFF + 5), st.integers(-2**63, 2**63 - 1), st.booleans()),
    "any": st.one_of(st.integers(-2**63, 2**63 - 1), st.text(max_size=4), st.floats(), st.none(),
                     st.lists(st.integers(-3, 3), max_size=3), st.binary(max_size=3)),
}


@st.composite
def calls(draw):
    name = draw(st.sampled_from(DECLARED))
    args = [draw(VALUES[p.type]) for p in FUNCTIONS[name].params if p.required]
    return name, args


def outcome(fn, args):
    try:
        return "ok", fn(*args)
    except Exception as e:  # the class is the comparable outcome
        return "raise", type(e)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls())
def test_every_declared_builtin_matches_cpython(impls, call):
    name, args = call
    py, compiled = impls[name]
    want, got = outcome(py, args), outcome(compiled, args)
    assert got == want, f"{name}{tuple(args)}: CPython {want}, compiled {got}"


@pytest.mark.parametrize("src, message", [
    ("def f(x: int) -> int:\n    return ord(x)\n", "ord() argument 'c' must be str, not int"),
    ("def f(x: str) -> str:\n    return chr(x)\n", "'str' object cannot be interpreted as an integer"),
    ("def f(x: str) -> str:\n    return hex(x, 1)\n", "hex() takes 1 argument, got 2"),
    ("def f(x: int) -> str:\n    return open(x).read()\n", "open() argument 'file' must be str, not int"),
    ("def f(x: str) -> int:\n    return id(x)\n", "id() is not supported yet"),
])
def test_a_declared_builtin_s_errors_name_the_argument_and_the_type(tmp_path, src, message):
    path = tmp_path / "bad_builtin_call.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("bad_builtin_call", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(matx_nb.CompileError) as err:
        matx_nb.script(mod.f)
    assert message in str(err.value) and "line 2" in str(err.value) or ":2:" in str(err.value)
