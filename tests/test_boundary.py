"""Values at the boundary that used to crash the host (issue 15, section 3) and
error messages at the boundary (section 6).

Self-referencing containers raise ValueError, values nested past the runtime's
limit (nest.h: 10000 levels, fewer on a small thread stack) raise RecursionError,
in both directions; deep values built by compiled code are freed without deep
recursion (object.h free_nested); repr, == and < of such values behave as in
CPython (`[[...]]`, RecursionError). Every probe runs in a child process, so a
crash fails its test instead of killing pytest.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

MODULE = '''
from typing import Any, Dict, List, Optional, Set


def ident(x: Any) -> Any:
    return x


def count(n: int, xs: List[Any]) -> int:
    return n + len(xs)


def keys(d: Dict[str, Any]) -> int:
    return len(d)


def nested(n: int) -> Any:
    x: Any = []
    for i in range(n):
        x = [x]
    return x


def build_and_free(n: int) -> int:
    x: Any = []
    d: Any = {}
    for i in range(n):
        x = [x]
        d = {"k": d}
    return n


class Node:
    def __init__(self, nxt: Any) -> None:
        self.nxt: Any = nxt


def chain(n: int) -> int:
    x: Any = None
    for i in range(n):
        x = Node(x)
    return n


def self_list_repr() -> str:
    a: List[Any] = [1]
    a.append(a)
    return repr(a)


def self_dict_str() -> str:
    d: Dict[Any, Any] = {}
    d["x"] = d
    return str(d)


def self_list_back() -> Any:
    a: List[Any] = []
    a.append(a)
    return a


def self_dict_back() -> Any:
    d: Any = {}
    d["x"] = d
    return d


def self_dict_arg(d: Any) -> Any:
    d["x"] = d
    return d


def self_dict_in_list(d: Any) -> Any:
    items: List[Any] = [1, d]
    d["x"] = items
    return [d]


def self_eq_same() -> bool:
    a: List[Any] = []
    a.append(a)
    return a == a


def self_eq_other() -> bool:
    a: List[Any] = []
    a.append(a)
    b: List[Any] = []
    b.append(b)
    return a == b


def deep_eq(n: int) -> bool:
    x: Any = []
    y: Any = []
    for i in range(n):
        x = [x]
        y = [y]
    return x == y


def deep_lt(n: int) -> bool:
    x: Any = []
    y: Any = [1]
    for i in range(n):
        x = [x]
        y = [y]
    return x < y


def deep_repr(n: int) -> int:
    x: Any = []
    for i in range(n):
        x = [x]
    return len(repr(x))


def one(n: int) -> int:
    return n


def floats(x: float) -> float:
    return x


def ints(xs: List[int]) -> int:
    return len(xs)


def lookup(d: Dict[str, int], k: str) -> int:
    return d[k]


def lookup_any(d: Any, k: Any) -> Any:
    return d[k]


def no_key() -> int:
    raise KeyError()


def repeat_str(s: str, n: int) -> str:
    return s * n


def repeat_bytes(s: bytes, n: int) -> bytes:
    return s * n


def fail_with(s: str) -> int:
    raise ValueError(s)


def flag(b: bool) -> bool:
    return b


def set_add_any(s: Any) -> Any:
    s.add(3)
    return s


def set_add_typed(s: Set[int]) -> int:
    s.add(3)
    return len(s)


def set_discard_typed(s: Set[int]) -> int:
    s.discard(1)
    return len(s)


def set_same(s: Set[int]) -> Set[int]:
    return s


def self_repr(x: Any) -> str:
    return repr(x)


def set_or_in_place(s: Set[int]) -> Set[int]:
    s |= {5}
    return s


class Box:
    def __init__(self, n: int) -> None:
        self.n: int = n
        self.items: Any = None
'''

PRELUDE = '''
import json, sys, threading
sys.path.insert(0, {moddir!r})
import matx_nb
import boundary_mod as m
class Compiled(dict):  # compiles what a probe uses, on first use
    def __missing__(self, name):
        self[name] = matx_nb.script(getattr(m, name))
        return self[name]
c = Compiled()

def deep(n, make=lambda x: [x]):
    x = []
    for _ in range(n):
        x = make(x)
    return x

def depth(v):  # of deep(n)'s shape, without recursion
    n = 0
    while v:
        v, n = v[0], n + 1
    return n

results = []
def probe(label, fn):
    try:
        r = fn()
        results.append([label, "ok", repr(r)[:200]])
    except BaseException as e:
        results.append([label, type(e).__name__, str(e)[:300]])
    print("PROBE " + json.dumps(results[-1]), flush=True)
'''


@pytest.fixture(scope="module")
def moddir(tmp_path_factory):
    d = tmp_path_factory.mktemp("boundary")
    (d / "boundary_mod.py").write_text(MODULE)
    return d


def run_probes(moddir: Path, body: str, timeout: float = 240) -> dict:
    """Runs the probes in `body` in a child process; {label: (outcome, text)}.
    A child that crashes fails the test, naming the probe it was running."""
    code = PRELUDE.format(moddir=str(moddir)) + textwrap.dedent(body)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                       cwd=str(moddir))
    done = {}
    for line in p.stdout.splitlines():
        if line.startswith("PROBE "):
            label, outcome, text = json.loads(line[len("PROBE "):])
            done[label] = (outcome, text)
    assert p.returncode == 0, (f"the child process died (rc={p.returncode}) after probes {list(done)}:\n"
                               f"{p.stderr[-3000:]}")
    return done


def test_self_referencing_arguments_raise_value_error(moddir):
    r = run_probes(moddir, '''
        a = []; a.append(a)
        d = {}; d["x"] = d
        deep_cycle = [[[1, {"k": (2, a)}]]]
        probe("list", lambda: c["ident"](a))
        probe("dict", lambda: c["ident"](d))
        probe("deeper", lambda: c["ident"](deep_cycle))
        probe("typed", lambda: c["count"](1, a))
        probe("dict_any", lambda: c["keys"](d))
        probe("shared_not_cyclic", lambda: c["ident"]([[1], [1]] * 3 + [a[:0]]))
        s = [1, 2]
        probe("same_list_twice", lambda: c["ident"]([s, s, [s]]))
        probe("after", lambda: c["ident"]([1, [2]]))
    ''')
    for label, arg in [("list", "x"), ("dict", "x"), ("deeper", "x"), ("typed", "xs"), ("dict_any", "d")]:
        outcome, text = r[label]
        assert outcome == "ValueError", (label, r[label])
        assert f"argument '{arg}'" in text and "contains itself" in text, (label, text)
    assert r["shared_not_cyclic"][0] == "ok"
    assert r["same_list_twice"] == ("ok", "[[1, 2], [1, 2], [[1, 2]]]")
    assert r["after"] == ("ok", "[1, [2]]")


def test_deep_arguments_raise_recursion_error(moddir):
    r = run_probes(moddir, '''
        probe("list_300k", lambda: c["ident"](deep(300000)))
        probe("dict_100k", lambda: c["ident"](deep(100000, lambda x: {"k": x})))
        probe("tuple_100k", lambda: c["ident"](deep(100000, lambda x: (x,))))
        probe("typed_50k", lambda: c["count"](1, deep(50000)))
        x = deep(9000)
        probe("fits", lambda: depth(c["ident"](x)))
        probe("after", lambda: c["ident"]([1, [2]]))
    ''')
    for label, arg in [("list_300k", "x"), ("dict_100k", "x"), ("tuple_100k", "x"), ("typed_50k", "xs")]:
        outcome, text = r[label]
        assert outcome == "RecursionError", (label, r[label])
        assert f"argument '{arg}'" in text and "nested deeper than" in text, (label, text)
    assert r["fits"] == ("ok", "9000")
    assert r["after"] == ("ok", "[1, [2]]")


def test_deep_results_raise_recursion_error_and_deep_values_free(moddir):
    r = run_probes(moddir, '''
        probe("free_300k", lambda: c["build_and_free"](300000))
        probe("free_chain_300k", lambda: c["chain"](300000))
        probe("return_300k", lambda: c["nested"](300000))
        probe("return_9000", lambda: depth(c["nested"](9000)))
        probe("after", lambda: c["ident"]([1, [2]]))
    ''')
    assert r["free_300k"] == ("ok", "300000")
    assert r["free_chain_300k"] == ("ok", "300000")
    assert r["return_300k"][0] == "RecursionError" and "nested deeper than" in r["return_300k"][1]
    assert r["return_9000"] == ("ok", "9000")
    assert r["after"] == ("ok", "[1, [2]]")


def test_self_referencing_values_in_compiled_code_behave_as_in_cpython(moddir):
    r = run_probes(moddir, '''
        for name in ["self_list_repr", "self_dict_str", "self_eq_same", "self_eq_other", "self_list_back"]:
            probe(name + "/py", getattr(m, name))
            probe(name, c[name])
        probe("deep_eq", lambda: c["deep_eq"](300000))
        probe("deep_lt", lambda: c["deep_lt"](300000))
        probe("deep_repr", lambda: c["deep_repr"](300000))
        probe("deep_repr_fits", lambda: c["deep_repr"](5000))
    ''')
    for name in ["self_list_repr", "self_dict_str", "self_eq_same"]:
        assert r[name] == r[name + "/py"], name
    assert r["self_list_repr"] == ("ok", repr("[1, [...]]"))
    assert r["self_eq_other"][0] == r["self_eq_other/py"][0] == "RecursionError"
    # CPython returns the cycle; values cross the boundary as copies, and a copy
    # of a cycle has no end: ValueError, as for arguments (nest.h).
    assert r["self_list_back"][0] == "ValueError" and "the result contains itself" in r["self_list_back"][1]
    assert r["deep_eq"][0] == "RecursionError"
    assert r["deep_lt"][0] == "RecursionError"
    assert r["deep_repr"][0] == "RecursionError"
    assert r["deep_repr_fits"] == ("ok", str(10002))


def test_self_referencing_dicts_through_any_raise_value_error_both_ways(moddir):
    r = run_probes(moddir, '''
        d = {}; d["x"] = d
        probe("in", lambda: c["ident"](d))
        probe("in_nested", lambda: c["ident"]([1, {"k": d}]))
        probe("out", c["self_dict_back"])
        arg = {"a": 1}
        probe("arg", lambda: c["self_dict_arg"](arg))
        probe("arg_after", lambda: sorted(arg))
        probe("in_list", lambda: c["self_dict_in_list"]({}))
        probe("py", lambda: (lambda r: r["x"] is r)(m.self_dict_arg({})))
        probe("after", lambda: c["ident"]({"x": {"x": 1}}))
    ''')
    for label in ("in", "in_nested"):
        assert r[label][0] == "ValueError", (label, r[label])
        assert "argument 'x' contains itself (a reference cycle)" in r[label][1], (label, r[label])
    for label in ("out", "arg", "in_list"):
        assert r[label] == ("ValueError", "the result contains itself (a reference cycle): compiled code "
                                          "gives back only values without cycles"), (label, r[label])
    assert r["arg_after"] == ("ok", "['a']")  # an Any argument is a copy: the caller's dict is as it was
    assert r["py"] == ("ok", "True")  # what CPython does instead
    assert r["after"] == ("ok", "{'x': {'x': 1}}")


def test_small_thread_stacks_raise_recursion_error(moddir):
    r = run_probes(moddir, '''
        x = deep(9000)
        def work():
            probe("in", lambda: c["ident"](x))
            probe("out", lambda: c["nested"](9000))
            probe("repr", lambda: c["deep_repr"](9000))
            probe("free", lambda: c["build_and_free"](100000))
        threading.stack_size(256 << 10)
        t = threading.Thread(target=work)
        t.start()
        t.join()
    ''')
    for label in ("in", "out", "repr"):
        assert r[label][0] == "RecursionError", (label, r[label])
    assert r["free"] == ("ok", "100000")


def test_error_messages_at_the_boundary(moddir):
    r = run_probes(moddir, '''
        import numpy as np
        def args_of(fn, *a):
            try:
                fn(*a)
            except KeyError as e:  # the key; the location in a note and matx_line
                notes = "\\n".join(getattr(e, "__notes__", []))
                return [type(e).__name__, list(e.args), "boundary_mod.py" in notes and "line" in notes,
                        e.matx_line > 0]
        probe("key_str", lambda: args_of(c["lookup"], {"a": 1}, "b"))
        probe("key_tuple", lambda: args_of(c["lookup_any"], {"a": 1}, (1, "x", None)))
        probe("key_int", lambda: args_of(c["lookup_any"], {"a": 1}, 7))
        probe("key_surrogate", lambda: args_of(c["lookup"], {"a": 1}, "\\ud800x"))
        probe("key_none", lambda: args_of(c["no_key"]))
        probe("int70", lambda: c["one"](2 ** 70))
        probe("int70_item", lambda: c["ints"]([1, 2, -2 ** 70]))
        probe("float_big", lambda: c["floats"](10 ** 400))
        probe("ndarray_int", lambda: c["one"](np.array([1, 2])))
        probe("ndarray0d_int", lambda: c["one"](np.array(7)))
        probe("np_int", lambda: c["one"](np.int64(7)))
        probe("ndarray_any", lambda: type(c["ident"](np.arange(3))).__name__)
        probe("str_repeat", lambda: c["repeat_str"]("ab", 2 ** 62))
        probe("bytes_repeat", lambda: c["repeat_bytes"](b"ab", 2 ** 62))
        probe("str_repeat/py", lambda: m.repeat_str("ab", 2 ** 62))
        probe("surrogate", lambda: c["fail_with"]("a\\ud800b\\udfff"))
        box = c["Box"](1)
        probe("attr_type", lambda: setattr(box, "n", "x"))
        probe("attr_big", lambda: setattr(box, "n", 2 ** 70))
        cyc = []; cyc.append(cyc)
        probe("attr_cycle", lambda: setattr(box, "items", cyc))
        probe("attr_deep", lambda: setattr(box, "items", deep(100000)))
        probe("attr_ok", lambda: (setattr(box, "n", 5), box.n)[1])
    ''')
    assert eval(r["key_str"][1]) == ["KeyError", ["b"], True, True]
    assert eval(r["key_tuple"][1])[:2] == ["KeyError", [(1, "x", None)]]
    assert eval(r["key_int"][1])[:2] == ["KeyError", [7]]
    assert eval(r["key_surrogate"][1])[:2] == ["KeyError", ["\ud800x"]]
    assert eval(r["key_none"][1])[:2] == ["KeyError", []]
    assert r["int70"][0] == "OverflowError" and "argument 'n'" in r["int70"][1]
    assert r["int70_item"][0] == "OverflowError" and "argument 'xs' at xs[2]" in r["int70_item"][1]
    assert r["float_big"][0] == "OverflowError" and "argument 'x'" in r["float_big"][1]
    assert r["ndarray_int"][0] == "TypeError" and "argument 'n' must be int" in r["ndarray_int"][1]
    assert r["ndarray0d_int"] == ("ok", "7")
    assert r["np_int"] == ("ok", "7")
    assert r["ndarray_any"] == ("ok", repr("NDArray"))
    assert r["str_repeat/py"][0] == r["str_repeat"][0] == "OverflowError"
    assert r["str_repeat"][1].startswith("repeated string is too long")
    assert r["bytes_repeat"][0] == "OverflowError"
    assert r["surrogate"][0] == "ValueError" and r["surrogate"][1].startswith("a\ud800b\udfff")
    assert r["attr_type"] == ("TypeError", "attribute 'n' of 'Box' objects must be int, got str")
    assert r["attr_big"][0] == "OverflowError" and r["attr_big"][1].startswith("attribute 'n' of 'Box' objects")
    assert r["attr_cycle"][0] == "ValueError" and "attribute 'items'" in r["attr_cycle"][1]
    assert r["attr_deep"][0] == "RecursionError" and "attribute 'items'" in r["attr_deep"][1]
    assert r["attr_ok"] == ("ok", "5")


def test_numpy_scalars_convert_as_python_scalars(moddir):
    r = run_probes(moddir, '''
        import numpy as np
        def kind(v):
            return [type(v).__name__, v]
        for name, v in [("f32", np.float32(1.5)), ("f16", np.float16(0.5)), ("i64", np.int64(3)),
                        ("u8", np.uint8(4)), ("b", np.bool_(True)), ("b0", np.bool_(False))]:
            probe("any_" + name, lambda: kind(c["ident"](v)))
            probe("nested_" + name, lambda: kind(c["ident"]([{"k": (v,)}])[0]["k"][0]))
            probe("float_" + name, lambda: c["floats"](v))
            probe("int_" + name, lambda: c["one"](v))
            probe("bool_" + name, lambda: c["flag"](v))
        probe("int_array", lambda: c["one"](np.array([1, 2])))
        probe("bool_array", lambda: c["flag"](np.array([True])))
    ''')
    assert r["any_f32"] == r["nested_f32"] == ("ok", "['float', 1.5]")
    assert r["any_f16"] == ("ok", "['float', 0.5]")
    assert r["any_i64"] == r["nested_i64"] == ("ok", "['int', 3]")
    assert r["any_b"] == r["nested_b"] == ("ok", "['bool', True]")
    assert r["any_b0"] == ("ok", "['bool', False]")
    assert r["float_f32"] == ("ok", "1.5") and r["float_i64"] == ("ok", "3.0") and r["float_b"] == ("ok", "1.0")
    assert r["int_i64"] == ("ok", "3") and r["int_b"] == ("ok", "1") and r["int_b0"] == ("ok", "0")
    assert r["bool_b"] == ("ok", "True") and r["bool_b0"] == ("ok", "False")
    # As for Python's float and int: a float is no int, and only a bool is a bool.
    assert r["int_f32"][0] == "TypeError" and "must be int, got numpy.float32" in r["int_f32"][1]
    assert r["bool_i64"][0] == "TypeError" and r["bool_f32"][0] == "TypeError"
    assert r["int_array"][0] == "TypeError" and "must be int, got numpy.ndarray" in r["int_array"][1]
    assert r["bool_array"][0] == "TypeError"


PIPELINE_MODULE = '''
from typing import Dict, List
import matx_nb


def total(words: List[str]) -> int:
    d: Dict[str, int] = {"a": 1}
    t = 0
    for w in words:
        t += d[w]
    return t


class Flow:
    def __init__(self):
        self.total = matx_nb.script(total)

    def process(self, words):
        return self.total(words)
'''


def test_key_error_through_a_loaded_pipeline_carries_the_key(moddir):
    (moddir / "keyflow_mod.py").write_text(PIPELINE_MODULE)
    r = run_probes(moddir, '''
        import keyflow_mod
        mod = matx_nb.trace(keyflow_mod.Flow().process, ["a"])
        mod.save("keyflow_saved")
        loaded = matx_nb.load("keyflow_saved")
        def key_error(run):
            try:
                run({"words": ["a", "zz"]})
            except KeyError as e:
                notes = "\\n".join(getattr(e, "__notes__", []))
                return [list(e.args), str(e), "keyflow_mod.py" in notes and "t += d[w]" in notes, e.matx_line]
        probe("traced", lambda: key_error(mod.run))
        probe("loaded", lambda: (loaded.runs_in_cpp, key_error(loaded.run)))
    ''')
    assert eval(r["traced"][1]) == [["zz"], "'zz'", True, 10]
    assert eval(r["loaded"][1]) == (True, [["zz"], "'zz'", True, 10])


def test_frozensets_stay_frozensets(moddir):
    r = run_probes(moddir, '''
        fs = frozenset({1, 2})
        def kind(v):
            return [type(v).__name__, v]
        probe("any", lambda: kind(c["ident"](fs)))
        probe("eq", lambda: c["ident"](fs) == fs)
        probe("nested", lambda: [type(x).__name__ for x in c["ident"]([fs, {"k": frozenset()}, {1}])])
        probe("empty", lambda: kind(c["ident"](frozenset())))
        probe("typed", lambda: kind(c["set_same"](fs)))
        probe("set_stays_set", lambda: kind(c["set_same"]({1})))
        probe("repr", lambda: c["self_repr"](fs))
        probe("or_in_place", lambda: kind(c["set_or_in_place"](fs)))
        for name in ["set_add_any", "set_add_typed", "set_discard_typed"]:
            probe(name, lambda: c[name](fs))
            probe(name + "/py", lambda: getattr(m, name)(fs))
        probe("fs_after", lambda: fs)
        s = {1}
        probe("set_add", lambda: (c["set_add_typed"](s), s))
    ''')
    assert r["any"] == ("ok", "['frozenset', frozenset({1, 2})]")
    assert r["eq"] == ("ok", "True")
    assert r["nested"] == ("ok", "['frozenset', 'dict', 'set']")
    assert r["empty"] == ("ok", "['frozenset', frozenset()]")
    assert r["typed"] == ("ok", "['frozenset', frozenset({1, 2})]")
    assert r["set_stays_set"] == ("ok", "['set', {1}]")
    assert r["repr"] == ("ok", repr("frozenset({1, 2})"))
    assert r["or_in_place"] == ("ok", "['frozenset', frozenset({1, 2, 5})]")  # CPython rebinds to a new one
    for name, method in [("set_add_any", "add"), ("set_add_typed", "add"), ("set_discard_typed", "discard")]:
        assert r[name][0] == r[name + "/py"][0] == "AttributeError", (name, r[name])
        assert r[name][1].startswith(f"'frozenset' object has no attribute '{method}'"), r[name]
    assert r["fs_after"] == ("ok", "frozenset({1, 2})")
    assert r["set_add"] == ("ok", "(2, {1, 3})")
