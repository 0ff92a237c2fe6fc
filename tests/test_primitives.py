"""Every method declared in compiler/primitives.py, called on an `Any` value,
against CPython over generated receivers and arguments.

The test is generated from the declarations: one compiled function calls each
method name with 0..max arguments on an Any receiver (so the call is dispatched
on the value's type at run time), and hypothesis draws a receiver of each type
that declares the name and arguments from the declared parameter types, now and
then of a wrong type. Compiled and CPython must give the same result, leave the
receiver the same, or raise the same exception class. A method added to the
registry is tested here without a line written for it.
"""
from __future__ import annotations

import importlib.util
import inspect
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matx_nb
from matx_nb.compiler import primitives

# Names whose outcome CPython leaves to hashing order, whose rule is not one a
# declaration states, or that CPython lacks (MATXScript's reserve); each is
# tested by its own cases.
SKIP = {("set", "pop"), ("str", "format"), ("list", "sort"), ("list", "reserve"), ("dict", "reserve"),
        ("set", "reserve")}

NAMES = sorted({n for (k, n) in primitives.METHODS if (k, n) not in SKIP and k != "file"})


def _source() -> str:
    lines = ["from typing import Any, List", "", "",
             "def call_any(op: str, x: Any, args: List[Any]) -> Any:",
             "    n = len(args)"]
    for name in NAMES:
        hi = max(m.arity[1] for k, m in primitives.named(name).items() if (k, name) not in SKIP)
        lines.append(f"    if op == {name!r}:")
        for k in range(hi + 1):
            call = f"x.{name}(" + ", ".join(f"args[{i}]" for i in range(k)) + ")"
            lines.append(f"        if n == {k}:")
            lines.append(f"            r = {call}")
            lines.append("            return [r, x]")
    lines.append("    raise ValueError(op)")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def impls(tmp_path_factory):
    path = tmp_path_factory.mktemp("primitives") / "prim_calls.py"
    path.write_text(_source())
    spec = importlib.util.spec_from_file_location("prim_calls", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["prim_calls"] = mod
    spec.loader.exec_module(mod)
    return mod.call_any, matx_nb.script(mod.call_any)


TEXT = st.text(alphabet="ab A\t\nxé€-1", max_size=8)
BYTES = st.binary(max_size=6) | st.sampled_from([b"ab", b"a b", b"AbC", b"\t1\n", b"-"])
SMALL = st.integers(-4, 12)
ITEM = st.integers(0, 4) | st.sampled_from(["a", "b"])

RECEIVERS = {
    "str": TEXT,
    "bytes": BYTES,
    "list": st.lists(ITEM, max_size=5),
    "tuple": st.lists(ITEM, max_size=5).map(tuple),
    "dict": st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 3), max_size=3),
    "set": st.sets(st.integers(0, 4), max_size=4),
}


def value_of(spec: str, kind: str):
    """Values of a declared parameter type, for a receiver of this kind."""
    parts = primitives.spec_union(spec)
    if len(parts) > 1:
        return st.one_of(*[value_of(p, kind) for p in parts])
    item = primitives.spec_iter(spec)
    if item is not None:
        items = value_of(item, kind)
        return st.lists(items, max_size=4) | st.lists(items, max_size=3).map(tuple)
    if spec.startswith("tuple["):
        return st.lists(value_of(spec[6:-1], kind), min_size=1, max_size=3).map(tuple)
    if spec == "Self":
        return RECEIVERS[kind]
    return {"str": TEXT, "bytes": BYTES, "int": SMALL, "index": SMALL | st.none(), "bool": st.booleans(),
            "None": st.none(),
            "any": ITEM, "T": ITEM if kind != "set" else st.integers(0, 4), "K": st.sampled_from(["a", "b", "z"]),
            "V": st.integers(0, 3)}[spec]


PY_TYPES = {"str": str, "bytes": bytes, "list": list, "tuple": tuple, "dict": dict, "set": set}


def cpython_max_args(kind: str, name: str):
    """How many positional arguments CPython's method takes (None: any number or unknown)."""
    try:
        sig = inspect.signature(getattr(PY_TYPES[kind], name))
    except (ValueError, TypeError):
        return None
    ps = list(sig.parameters.values())[1:]
    if any(p.kind is p.VAR_POSITIONAL for p in ps):
        return None
    return sum(1 for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


WRONG = st.none() | st.floats(0, 1) | st.sampled_from([[1], 3, "s", b"b"])


@st.composite
def calls(draw):
    name = draw(st.sampled_from(NAMES))
    kinds = sorted(k for k in primitives.named(name) if (k, name) not in SKIP and k in RECEIVERS)
    kind = draw(st.sampled_from(kinds))
    m = primitives.lookup(kind, name)
    lo, hi = m.arity
    n = draw(st.integers(lo, hi))
    if not draw(st.integers(0, 9)) and cpython_max_args(kind, name) == hi:
        n = hi + 1  # one too many, where CPython takes no more than the declaration

    args = []
    for i in range(n):
        ok = value_of(m.params[i].type, kind) if i < len(m.params) else ITEM
        args.append(draw(ok if draw(st.integers(0, 7)) else WRONG))
    x = draw(RECEIVERS[kind])
    return name, x, args


def outcome(fn, name, x, args):
    x = x.copy() if isinstance(x, (list, dict, set)) else x
    try:
        return "ok", fn(name, x, list(args))
    except Exception as e:  # noqa: BLE001 - the class is what is compared
        return "raise", type(e)


def plain(v):
    """Values as compared: types kept (True is not 1), containers walked."""
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, [plain(x) for x in v])
    if type(v).__name__ in ("dict_keys", "dict_values", "dict_items"):
        return ("list", [plain(x) for x in v])  # compiled keys(), values(), items() are lists
    if isinstance(v, dict):
        return ("dict", [(plain(k), plain(x)) for k, x in v.items()])
    if isinstance(v, set):
        return ("set", sorted(map(repr, v)))
    return (type(v).__name__, v)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(calls())
def test_every_declared_method_on_any_matches_cpython(impls, call):
    py, compiled = impls
    name, x, args = call
    want = outcome(py, name, x, args)
    got = outcome(compiled, name, x, args)
    if want[0] == "raise":
        assert got == want, f"{name} on {x!r} with {args!r}: CPython raises {want[1].__name__}, compiled {got}"
    else:
        assert got[0] == "ok", f"{name} on {x!r} with {args!r}: CPython {want[1]!r}, compiled raises {got[1]}"
        assert plain(got[1]) == plain(want[1]), f"{name} on {x!r} with {args!r}"


def test_every_kind_and_name_is_generated():
    """The generator covers each declaration (so that a new one is tested)."""
    covered = {(k, n) for n in NAMES for k in primitives.named(n) if (k, n) not in SKIP}
    assert {(k, n) for (k, n) in primitives.METHODS if k != "file"} - covered == SKIP
