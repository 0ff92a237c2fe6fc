"""The thread model (runtime lock.h, docs/language.md "Threads"): compiled code
runs without the GIL, and a call from a host into a method of a compiled
instance holds that instance's lock, so threads sharing an instance never
corrupt it, in Python threads and in Session::Run from many threads."""
import io
import sys
import threading
from contextlib import redirect_stdout
from typing import Dict, List

import matx_nb


class Counter:
    def __init__(self) -> None:
        self.d: Dict[str, int] = {}
        self.log: List[str] = []

    def add(self, k: str) -> int:
        self.d[k] = self.d.get(k, 0) + 1
        return len(self.d)

    def note(self, k: str) -> int:
        self.log.append(k)
        if len(self.log) > 500:
            self.log = self.log[250:]
        return len(self.log)

    def bump(self, k: str) -> int:
        self.d[k] = self.d.get(k, 0) + 1
        return sum(self.d.values())

    def shout(self, k: str) -> int:
        print(k)  # takes the GIL from inside the locked call
        return 1

    def peek(self, k: str) -> int:  # reads only: its calls hold the lock shared (analysis/readonly.py)
        return self.d.get(k, 0) + len(self.log) + (1 if k in self.d else 0)


def run_threads(n, target):
    errors = []

    def guarded():
        try:
            target()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
    ts = [threading.Thread(target=guarded) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
        assert not t.is_alive(), "a thread is stuck (deadlock?)"
    assert not errors, errors


def test_threads_sharing_an_instance_keep_it_whole():
    c = matx_nb.script(Counter)()

    def work():
        for i in range(20000):
            c.add("k%d" % (i % 100))
            c.note("x")
    run_threads(8, work)
    assert sum(c.d.values()) == 8 * 20000 and len(c.d) == 100
    assert 250 <= len(c.log) <= 501


def test_attribute_reads_and_writes_while_methods_run():
    c = matx_nb.script(Counter)()
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            c.add("w%d" % (i % 1000))
            i += 1

    def reader():
        for _ in range(3000):
            d = c.d  # converted under the instance's lock: never a torn dict
            assert all(isinstance(v, int) and v > 0 for v in d.values())
            c.log = ["a", "b"]
        stop.set()
    run_threads(1, lambda: (threading.Thread(target=writer).start(), reader()))
    stop.set()


def test_a_locked_call_can_take_the_gil_without_deadlock():
    c = matx_nb.script(Counter)()
    out = io.StringIO()
    with redirect_stdout(out):
        run_threads(4, lambda: [c.shout("hi") for _ in range(200)])
    assert out.getvalue().count("hi") == 800


def test_session_run_from_many_threads_on_an_op_with_state(tmp_path):
    c = matx_nb.script(Counter)()

    def pipeline(k):
        return c.bump(k)
    matx_nb.trace(pipeline, "a").save(tmp_path / "counter")
    sess = matx_nb.load(tmp_path / "counter")

    def work():
        for i in range(5000):
            sess.run({"k": "k%d" % (i % 50)})
    run_threads(8, work)
    # the loaded op has its own instance: every call counted, none lost or torn
    assert sess.run({"k": "k0"}) == 8 * 5000 + 1


SEEN = ["start"]
COUNTS = {"calls": 0}
VOCAB = {"a": 1, "b": 2}


def remember(w: str) -> int:
    SEEN.append(w)
    if len(SEEN) > 1000:
        SEEN.clear()
    COUNTS["calls"] = COUNTS["calls"] + 1
    return COUNTS["calls"]


def lookup(w: str) -> int:
    return VOCAB.get(w, 0) + len(VOCAB)


def test_functions_changing_a_module_container_are_serialized():
    f = matx_nb.script(remember)
    run_threads(8, lambda: [f("w%d" % i) for i in range(20000)])
    assert f("x") == 8 * 20000 + 1  # no update lost
    cpp = f.matx.load_details().cpp
    assert "mx::HostLock module_held" in cpp


def test_read_only_module_constants_take_no_lock():
    g = matx_nb.script(lookup)
    assert g("a") == 3
    assert "module_held" not in g.matx.load_details().cpp


def test_module_state_analysis():
    from matx_nb.compiler.driver import analyze
    from matx_nb.compiler.analysis.shared_state import changes_module_state
    for fn, changes in ((remember, True), (lookup, False)):
        program, _ = analyze(fn)
        assert changes_module_state(program) is changes, fn.__name__


def test_read_only_methods_hold_the_lock_shared():
    cpp = matx_nb.script(Counter).matx.load_details().cpp

    def lock_of(method):
        body = cpp[cpp.index(f"int w_7Counter_{len(method)}{method}("):]
        body = body[:body.index("\n}\n")]
        return "HostLockShared" if "mx::HostLockShared held" in body else "HostLock"
    for method in ("peek", "shout"):  # read the object (printing does not change it)
        assert lock_of(method) == "HostLockShared", method
    for method in ("add", "note", "bump"):  # change it
        assert lock_of(method) == "HostLock", method


def test_readers_and_writers_of_one_instance_from_many_threads():
    c = matx_nb.script(Counter)()
    keys = [f"k{i}" for i in range(40)]

    def work():
        for i in range(3000):
            k = keys[i % 40]
            if i % 3 == 0:
                c.add(k)
            else:
                assert c.peek(k) >= 0
    run_threads(4, work)
    assert sum(c.d.values()) == 4 * 1000


class Nested:
    def __init__(self) -> None:
        self.xss: List[List[int]] = [[1], [2]]
        self.names: List[str] = ["a"]
        self.d: Dict[str, List[int]] = {"a": [1]}

    def through_iteration(self) -> int:
        for xs in self.xss:  # xs is the instance's own inner list
            xs.append(1)
        return 0

    def through_index(self) -> int:
        self.xss[0].append(2)
        return 0

    def through_get(self) -> int:
        v = self.d.get("a")
        if v is not None:
            v.append(3)
        return 0

    def through_alias(self) -> int:
        names = self.names
        names.append("b")
        return 0

    def returns_state(self) -> List[str]:
        return self.names

    def reads(self, k: str) -> int:
        n = 0
        for s in self.names:
            n += len(s)
        return n + len(self.xss) + (1 if k in self.d else 0) + len(sorted(self.names))


def wrapper_locks(cls) -> Dict[str, str]:
    import re
    cpp = matx_nb.script(cls).matx.load_details().cpp
    out = {}
    for m in re.finditer(r"int w_\d+%s_\d+(\w+)\(const mx_host_api\* h, mx::Object\* self, const mx_host_obj" % cls.__name__,
                         cpp):
        body = cpp[m.start():cpp.index("\n}\n", m.start())]
        if "HostLock" in body:
            out[m.group(1)] = "shared" if "HostLockShared" in body else "exclusive"
    return out


def test_state_reached_through_an_alias_keeps_the_lock_exclusive():
    locks = wrapper_locks(Nested)
    assert locks["reads"] == "shared"
    for m in ("through_iteration", "through_index", "through_get", "through_alias", "returns_state", "__init__"):
        assert locks[m] == "exclusive", m


class Scale:
    def __init__(self, k: int) -> None:
        self.k = k

    def __call__(self, x: int) -> int:
        return x * self.k


class Tally:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, x: int) -> int:
        self.n += x
        return self.n


class Holder:
    """Ops held as attributes and called as `self.op(x)` (their __call__)."""

    def __init__(self) -> None:
        self.scale = Scale(3)
        self.tally = Tally()

    def scaled(self, x: int) -> int:
        return self.scale(x) + self.scale(1)

    def tallied(self, x: int) -> int:
        return self.tally(x)


def test_calling_an_attribute_object_reads_only_where_its_call_does():
    locks = wrapper_locks(Holder)
    assert locks["scaled"] == "shared"
    assert locks["tallied"] == "exclusive"
    h = matx_nb.script(Holder)()
    assert h.scaled(2) == 9 and h.tallied(2) == 2 and h.tallied(3) == 5
