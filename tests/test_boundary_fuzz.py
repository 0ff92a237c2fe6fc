"""Boundary fuzzer (issue 15, acceptance): random Python values (nested containers,
cycles, deep nesting, large sizes, big ints, floats, lone surrogates, bytes,
sets, numpy arrays, objects compiled code cannot hold) are passed to compiled
methods taking Any, List[Any], Dict[str, Any] and typed containers, and come
back. Every call must return the value it was given or raise the Python
exception its input calls for (TypeError, OverflowError, ValueError for a cycle,
RecursionError past the nesting limit), and never crash.

The calls run in a worker process, so a crash is reported with the input that
caused it (and hypothesis shrinks it) instead of killing pytest. Bounded for CI:
a fixed seed and MATX_NB_FUZZ_EXAMPLES examples per test (default 120; the whole
file takes well under a minute once the worker's library is compiled);
MATX_NB_FUZZ_SEED=random explores new inputs.
"""
from __future__ import annotations

import math
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import time

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

EXAMPLES = int(os.environ.get("MATX_NB_FUZZ_EXAMPLES", "120"))
RANDOM = os.environ.get("MATX_NB_FUZZ_SEED") == "random"
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
LIMIT = 10000  # nest.h kMaxNesting

TARGETS = '''
from typing import Any, Dict, List, Optional, Set, Tuple


class Boundary:
    def __init__(self) -> None:
        self.n: int = 0

    def any_(self, x: Any) -> Any:
        return x

    def list_any(self, xs: List[Any]) -> List[Any]:
        return xs

    def dict_any(self, d: Dict[str, Any]) -> Dict[str, Any]:
        return d

    def list_int(self, xs: List[int]) -> List[int]:
        return xs

    def dict_floats(self, d: Dict[str, List[float]]) -> Dict[str, List[float]]:
        return d

    def pair(self, t: Tuple[int, str]) -> Tuple[int, str]:
        return t

    def set_str(self, s: Set[str]) -> Set[str]:
        return s

    def opt_bytes(self, b: Optional[List[bytes]]) -> Optional[List[bytes]]:
        return b
'''

# The worker: reads (method, recipe) requests, builds the value, calls the
# compiled method, answers (outcome, detail). Runs until stdin closes.
WORKER = r'''
import os, pickle, struct, sys, traceback
sys.path.insert(0, sys.argv[1])
import matx_nb
import fuzz_targets
B = matx_nb.script(fuzz_targets.Boundary)()

def build(recipe):
    kind = recipe[0]
    if kind == "plain":
        return recipe[1]
    if kind == "deep":  # n levels of a container kind around a leaf, built without recursion
        _, how, n, leaf = recipe
        x = leaf
        for _ in range(n):
            x = [x] if how == "list" else (x,) if how == "tuple" else {"k": x}
        return x
    if kind == "cycle":  # a container that holds itself, somewhere inside `around` wrappers
        _, how, inner, around = recipe
        if how == "list":
            c = [inner]
            c.append(c)
        else:
            c = {"v": inner}
            c["self"] = c
        for _ in range(around):
            c = [c]
        return c
    if kind == "big":  # a large flat container
        _, how, n = recipe
        return list(range(n)) if how == "ints" else ["w%d" % i for i in range(n)] if how == "strs" \
            else {"k%d" % i: [float(i)] for i in range(n)}
    raise ValueError(recipe)

inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = inp.read(4)
    if len(head) < 4:
        break
    method, recipe = pickle.loads(inp.read(struct.unpack("<I", head)[0]))
    value = build(recipe)
    try:
        r = getattr(B, method)(value)
        try:
            answer = ("ok", pickle.dumps(r))
        except RecursionError:
            answer = ("ok-deep", None)
    except Exception as e:
        answer = (type(e).__name__, str(e)[:500])
    data = pickle.dumps(answer)
    out.write(struct.pack("<I", len(data)) + data)
    out.flush()
'''


class Worker:
    """The worker process; restarted after a crash."""

    def __init__(self, directory):
        self.dir = directory
        self.p = None

    def start(self):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        self.p = subprocess.Popen([sys.executable, "-c", WORKER, str(self.dir)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

    def call(self, method, recipe):
        """(outcome, detail), or ("CRASH", how) if the worker died."""
        if self.p is None or self.p.poll() is not None:
            self.start()
        data = pickle.dumps((method, recipe))
        try:
            self.p.stdin.write(struct.pack("<I", len(data)) + data)
            self.p.stdin.flush()
            head = self.p.stdout.read(4)
            if len(head) == 4:
                return pickle.loads(self.p.stdout.read(struct.unpack("<I", head)[0]))
        except BrokenPipeError:
            pass
        rc = self.p.wait()
        err = self.p.stderr.read().decode(errors="replace")[-2000:]
        self.p = None
        return "CRASH", f"worker died with rc={rc}: {err}"

    def close(self):
        if self.p is not None and self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=30)


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    (d / "fuzz_targets.py").write_text(TARGETS)
    w = Worker(d)
    t0 = time.time()
    assert w.call("any_", ("plain", [1, "a"])) == ("ok", pickle.dumps([1, "a"])), "worker does not start"
    print(f"fuzz worker ready in {time.time() - t0:.1f} s")
    yield w
    w.close()


# ---- what an input should give ---------------------------------------------------

INT64 = (-(1 << 63), (1 << 63) - 1)


def problems(value, depth0: int = 1) -> set:
    """What keeps `value` from converting to Any: 'cycle', 'deep', 'bigint',
    'unsupported' (found without recursion). depth0: the nesting level of value
    itself (0 for the items of a List[Any] parameter: the list is not an Any)."""
    found = set()
    on_path = set()
    stack = [(value, depth0, False)]
    while stack:
        v, depth, leaving = stack.pop()
        if leaving:
            on_path.discard(id(v))
            continue
        if isinstance(v, bool) or v is None or isinstance(v, (float, str, bytes)):
            continue
        if isinstance(v, int):
            if not INT64[0] <= v <= INT64[1]:
                found.add("bigint")
            continue
        if isinstance(v, (list, tuple, dict, set, frozenset)):
            if id(v) in on_path:
                found.add("cycle")
                continue
            if depth > LIMIT:
                found.add("deep")
                continue
            on_path.add(id(v))
            stack.append((v, depth, True))
            items = list(v.keys()) + list(v.values()) if isinstance(v, dict) else list(v)
            if isinstance(v, (dict, set, frozenset)) and any(_holds_frozenset(k) for k in (v.keys() if isinstance(
                    v, dict) else v)):
                found.add("unsupported")  # a frozenset becomes a set: unhashable as a key
            stack.extend((x, depth + 1, False) for x in items)
            continue
        if type(v).__module__ == "numpy" and (hasattr(v, "__index__") or hasattr(v, "__dlpack__")
                                              or _numpy_float_or_bool(v)):
            continue  # arrays and numpy scalars convert, as the Python scalars they stand for
        found.add("unsupported")
    return found


def _numpy_float_or_bool(v) -> bool:
    import numpy
    return isinstance(v, (numpy.floating, numpy.bool_))


def _holds_frozenset(key) -> bool:
    if isinstance(key, frozenset):
        return True
    return isinstance(key, tuple) and any(_holds_frozenset(x) for x in key)


EXPECTED_ERROR = {"cycle": "ValueError", "deep": "RecursionError", "bigint": "OverflowError",
                  "unsupported": "TypeError"}


def as_any(v):
    """What a value becomes through Any and back (sets for frozensets)."""
    if isinstance(v, frozenset):
        return set(as_any(x) for x in v)
    if isinstance(v, list):
        return [as_any(x) for x in v]
    if isinstance(v, tuple):
        return tuple(as_any(x) for x in v)
    if isinstance(v, dict):
        return {as_any(k): as_any(x) for k, x in v.items()}
    if isinstance(v, set):
        return {as_any(x) for x in v}
    return v


def same(a, b) -> bool:
    """Equal values of equal types, NaN equal to NaN (shallow values only)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def check_any(worker, method, recipe, value):
    outcome, detail = worker.call(method, recipe)
    assert outcome != "CRASH", f"{method}({recipe!r:.300}): {detail}"
    found = problems(value, 0 if method in ("list_any", "dict_any") else 1)
    if method == "list_any" and not isinstance(value, (list, tuple)):
        found.add("unsupported")
    if method == "dict_any" and (not isinstance(value, dict) or any(type(k) is not str for k in value)):
        found.add("unsupported")
    if not found:
        assert outcome in ("ok", "ok-deep"), f"{method}({recipe!r:.300}) raised {outcome}: {detail}"
        if outcome == "ok" and recipe[0] == "plain" and not _has_numpy(value):
            back = pickle.loads(detail)
            want = as_any(value)
            if method == "list_any":
                want = list(want)
            assert same(back, want), f"{method}({value!r:.300}) returned {back!r:.300}"
    else:
        allowed = {EXPECTED_ERROR[p] for p in found}
        assert outcome in allowed, f"{method}({recipe!r:.300}): {outcome}: {detail}, expected one of {allowed}"


def _has_numpy(v) -> bool:
    stack = [v]
    while stack:
        x = stack.pop()
        if type(x).__module__ == "numpy":
            return True
        if isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, (list, tuple, set, frozenset)):
            stack.extend(x)
    return False


# ---- strategies -------------------------------------------------------------------

texts = st.text(st.characters(blacklist_categories=()), max_size=12)  # lone surrogates included
ints = st.one_of(st.integers(-(1 << 64), 1 << 64), st.sampled_from([INT64[0], INT64[1], INT64[1] + 1,
                                                                     -(1 << 200), 0, -1]))
hashable_leaves = st.one_of(st.none(), st.booleans(), ints, st.floats(allow_nan=False), texts,
                            st.binary(max_size=12))


def numpy_values():
    np = pytest.importorskip("numpy")
    return st.one_of(st.builds(lambda n: np.arange(n, dtype=np.int64), st.integers(0, 5)),
                     st.builds(np.int64, st.integers(-5, 5)), st.builds(np.float32, st.floats(-5, 5)))


# Values compiled code cannot hold (picklable, so the worker gets them as they are).
odd = st.one_of(st.builds(complex, st.floats(), st.floats()), st.just(Ellipsis), st.just(range(3)),
                st.builds(bytearray, st.binary(max_size=4)), st.builds(slice, st.integers()))
leaves = st.one_of(hashable_leaves, st.floats(), odd, numpy_values())
hashables = st.recursive(hashable_leaves, lambda c: st.tuples(c, c) | st.frozensets(c, max_size=3),
                         max_leaves=6)
values = st.recursive(
    leaves,
    lambda c: (st.lists(c, max_size=6) | st.tuples(c, c) | st.dictionaries(texts, c, max_size=5)
               | st.dictionaries(hashables, c, max_size=4) | st.sets(hashables, max_size=5)
               | st.frozensets(hashables, max_size=3)),
    max_leaves=25)
depths = st.sampled_from([1, 2, 100, 2000, LIMIT - 1, LIMIT, LIMIT + 1, 30000, 150000])
recipes = st.one_of(
    st.tuples(st.just("plain"), values),
    st.tuples(st.just("deep"), st.sampled_from(["list", "tuple", "dict"]), depths, hashable_leaves),
    st.tuples(st.just("cycle"), st.sampled_from(["list", "dict"]), values, st.integers(0, 3)),
    st.tuples(st.just("big"), st.sampled_from(["ints", "strs", "dict"]), st.sampled_from([0, 1000, 100000])),
)


def value_of(recipe):
    """The value the worker builds for a recipe (deep ones shallowly described)."""
    kind = recipe[0]
    if kind == "plain":
        return recipe[1]
    if kind == "deep":
        _, how, n, leaf = recipe
        x = leaf
        for _ in range(n):
            x = [x] if how == "list" else (x,) if how == "tuple" else {"k": x}
        return x
    if kind == "cycle":
        _, how, inner, around = recipe
        if how == "list":
            c = [inner]
            c.append(c)
        else:
            c = {"v": inner}
            c["self"] = c
        for _ in range(around):
            c = [c]
        return c
    _, how, n = recipe
    return list(range(n)) if how == "ints" else ["w%d" % i for i in range(n)] if how == "strs" \
        else {"k%d" % i: [float(i)] for i in range(n)}


# ---- the tests -----------------------------------------------------------------


@SETTINGS
@given(recipe=recipes, method=st.sampled_from(["any_", "list_any", "dict_any"]))
def test_any_parameters(worker, recipe, method):
    check_any(worker, method, recipe, value_of(recipe))


def fits(value, spec) -> bool:
    """Whether value converts to the typed parameter `spec` without error."""
    def is_int(x):
        return isinstance(x, int) and INT64[0] <= x <= INT64[1] or (type(x).__module__ == "numpy"
                                                                    and "int" in type(x).__name__)
    if spec == "list_int":
        return isinstance(value, (list, tuple)) and all(is_int(x) for x in value)
    if spec == "dict_floats":
        def is_float(f):  # an int converts as float(f) does
            return isinstance(f, float) or is_int(f) or isinstance(f, int) and abs(f) < 2 ** 1024
        return isinstance(value, dict) and all(type(k) is str and isinstance(v, (list, tuple)) and all(
            is_float(f) for f in v) for k, v in value.items())
    if spec == "pair":
        return isinstance(value, (list, tuple)) and len(value) == 2 and is_int(value[0]) and \
            isinstance(value[1], str)
    if spec == "set_str":
        return isinstance(value, (set, frozenset)) and all(isinstance(x, str) for x in value)
    if spec == "opt_bytes":
        return value is None or isinstance(value, (list, tuple)) and all(isinstance(x, bytes) for x in value)
    raise ValueError(spec)


typed_values = st.one_of(
    values,
    st.lists(ints, max_size=8), st.tuples(ints, texts), st.sets(texts, max_size=5),
    st.dictionaries(texts, st.lists(st.one_of(st.floats(), ints), max_size=4), max_size=4),
    st.lists(st.binary(max_size=6), max_size=5), st.none())


@SETTINGS
@given(value=typed_values, method=st.sampled_from(["list_int", "dict_floats", "pair", "set_str", "opt_bytes"]))
def test_typed_parameters(worker, value, method):
    outcome, detail = worker.call(method, ("plain", value))
    assert outcome != "CRASH", f"{method}({value!r:.300}): {detail}"
    if fits(value, method):
        assert outcome == "ok", f"{method}({value!r:.300}) raised {outcome}: {detail}"
    else:
        assert outcome in ("TypeError", "OverflowError"), f"{method}({value!r:.300}): {outcome}: {detail}"


def test_fuzzer_sees_a_crash(tmp_path):
    """The harness reports a dying worker as a crash, with the input."""
    (tmp_path / "fuzz_targets.py").write_text(
        "import os\nclass Boundary:\n    def any_(self, x):\n        os.abort()\n")
    w = Worker(tmp_path)
    w.dir = tmp_path
    # A plain-Python stand-in for the compiled class: matx_nb.script is only
    # called on it; replace it by the identity for this check.
    outcome, detail = _call_with_fake_script(w)
    assert outcome == "CRASH" and "rc=" in detail
    w.close()


def _call_with_fake_script(w):
    import subprocess as sp
    fake = WORKER.replace("import matx_nb\n", "").replace("matx_nb.script(fuzz_targets.Boundary)()",
                                                          "fuzz_targets.Boundary()")
    w.p = sp.Popen([sys.executable, "-c", fake, str(w.dir)], stdin=sp.PIPE, stdout=sp.PIPE, stderr=sp.PIPE)
    return w.call("any_", ("plain", 1))
