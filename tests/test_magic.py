"""%%matx in a real IPython InteractiveShell (in process): background builds,
waiting calls, type errors failing the cell, the widgets' contents, the cache,
failed g++ builds, two builds at once and %matx_export."""
import html
import re
import stat
import time

import pytest

pytest.importorskip("IPython")
pytest.importorskip("ipywidgets")

import matx_nb  # noqa: E402
import kernel_ext  # noqa: E402
from kernel_ext.builds import BuildFailed, Pending  # noqa: E402

FIB = '''
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)
'''


@pytest.fixture(scope="module")
def shell():
    from IPython.core.interactiveshell import InteractiveShell
    sh = InteractiveShell.instance()
    assert sh.run_cell("%load_ext matx_nb", store_history=True).success
    return sh


def run(sh, code, ok=True):
    r = sh.run_cell(code, store_history=True)
    if ok and not r.success:
        raise AssertionError(f"cell failed: {r.error_before_exec or r.error_in_exec!r}")
    return r


def last(sh):
    ext = kernel_ext.extension(sh)
    return ext.manager.builds[-1], ext.views[-1]


def text(markup):
    return html.unescape(re.sub(r"<[^>]+>", "", markup.split("</style>")[-1]))


def test_cell_returns_before_the_build_and_a_call_waits(shell):
    t = time.perf_counter()
    run(shell, "%%matx --force\n" + FIB.replace("fib", "fib_wait"))
    returned = time.perf_counter() - t
    build, view = last(shell)
    assert isinstance(shell.user_ns["fib_wait"], Pending)
    assert "compiling" in text(view.status.value)
    assert returned < build.objects["fib_wait"].seconds or not build.done
    assert run(shell, "fib_wait(20)").result == 6765  # waits for the build
    f = shell.user_ns["fib_wait"]
    assert not isinstance(f, Pending) and f.matx is not None  # rebound to the compiled function
    assert f.py_func(15) == 610 and f.py_func.__globals__["fib_wait"] is f.py_func  # pure Python
    build.wait()
    assert build.state == "compiled" and "compiled in" in text(view.status.value)


def test_type_error_fails_the_cell_with_cell_lines(shell):
    before = shell.user_ns.get("broken")
    r = run(shell, '%%matx\ndef broken(n: int) -> int:\n    s = n + "a"\n    return nope\n', ok=False)
    err = r.error_in_exec
    assert isinstance(err, matx_nb.CompileError)
    assert [d.line for d in err.diagnostics] == [3, 4]  # the notebook's lines: %%matx is line 1
    out = "\n".join(err._render_traceback_())
    assert "line 3, col 9" in out and "^~~~~~~" in out and "hint:" in out
    assert shell.user_ns.get("broken") is before  # nothing bound


def test_widget_tabs_timing_check_and_annotate(shell):
    run(shell, '%%matx --sync --bench "fibt(22)" --check "fibt(10), fibt(20), big(70)"\n'
        + FIB.replace("fib", "fibt") + "\ndef big(n: int) -> int:\n    return 2 ** n\n")
    build, view = last(shell)
    assert build.done and not build.failed
    assert list(view.tabs.titles) == ["C++", "Diagnostics", "Annotate", "Timing", "Check"]
    row = build.timing[0]
    assert row["python_s"] > 0 and row["compiled_s"] > 0 and row["speedup"] > 1
    timing = view.panes["Timing"].value
    assert "fibt(22)" in timing and 'class="matx-chart"' in timing and "data:image/png;base64," in timing
    same = {r["expr"]: r["same"] for r in build.checks}
    assert same == {"fibt(10)": True, "fibt(20)": True, "big(70)": False}  # 64-bit ints overflow
    check = view.panes["Check"].value
    assert check.count('class="matx-diff"') == 1 and "OverflowError" in check and "1180591620717411303424" in check
    assert "1 check differs" in text(view.status.value)
    cpp = view.panes["C++"].value
    assert "f_fibt" in cpp and '<span class="matx-badge">line 4</span>' in cpp and "var(--jp-mirror-editor" in cpp
    annotate = view.panes["Annotate"].value
    assert re.search(r'class="l matx-typed"[^>]*><span class="n">4</span>', annotate)
    assert "No problems" in view.panes["Diagnostics"].value


def test_rerun_is_a_cache_hit_and_an_edit_rebuilds_only_what_changed(shell):
    cell = "%%matx --sync\ndef f1(n: int) -> int:\n    return n + 1\n\ndef f2(n: int) -> int:\n    return n * {k}\n"
    run(shell, cell.format(k=2))
    run(shell, cell.format(k=2))
    build, _ = last(shell)
    assert build.cache_hits and shell.user_ns["f2"](4) == 8
    run(shell, cell.format(k=3))
    build, _ = last(shell)
    hits = {n: b.result.cache_hit for n, b in build.objects.items()}
    assert hits == {"f1": True, "f2": False} and shell.user_ns["f2"](4) == 12


WORDS = """%%matx
from typing import Callable, Dict, List

def tokens(text: str) -> List[str]:
    return [w.lower() for w in text.split()]

def counts(words: List[str]) -> Dict[str, int]:
    out: Dict[str, int] = {{}}
    for w in words:
        out[w] = out.get(w, 0) + {k}
    return out

def top(text: str, k: int) -> List[str]:
    c = counts(tokens(text))
    return sorted(c.keys(), key=lambda w: (-c[w], w))[:k]

def apply(f: Callable[[int], int], x: int) -> int:
    return f(x)

def double(x: int) -> int:
    return apply(lambda y: y * 2, x)

def unrelated(n: int) -> int:
    return n - 1
"""


def test_a_cell_s_related_objects_compile_into_one_library(shell):
    """Objects that call one another (tokens, counts, top; apply, double) are one
    library and one g++ run; an unrelated one has its own, so an edit elsewhere
    leaves it a cache hit. An object without a Python face fails alone."""
    run(shell, WORDS.format(k=1))
    build, _ = last(shell)
    build.wait()
    lib = {n: b.result.library for n, b in build.objects.items() if b.result is not None}
    assert lib["tokens"] == lib["counts"] == lib["top"] != lib["unrelated"]
    assert lib["double"] != lib["top"] and lib["double"] != lib["unrelated"]
    ns = shell.user_ns
    assert ns["top"]("b a B c b", 2) == ["b", "a"] and ns["counts"](["x", "x"]) == {"x": 2}
    assert ns["double"](21) == 42 and ns["unrelated"](1) == 0
    r = run(shell, "apply(abs, 1)", ok=False)
    assert isinstance(r.error_in_exec, BuildFailed) and "function value" in str(r.error_in_exec)
    run(shell, WORDS.format(k=3))  # counts edited: its group rebuilds, the rest are cache hits
    build, _ = last(shell)
    build.wait()
    hits = {n: b.result.cache_hit for n, b in build.objects.items() if b.result is not None}
    assert hits == {"tokens": False, "counts": False, "top": False, "double": True, "unrelated": True}
    assert ns["counts"](["x", "x"]) == {"x": 6} and ns["top"]("a b b", 1) == ["b"]


def fake_cxx(tmp_path, body):
    p = tmp_path / "fake-g++"
    p.write_text('#!/bin/bash\ncase "$1" in --version) exec g++ "$@";; esac\n' + body + "\n")
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return str(p)


def test_failed_gxx_keeps_the_shell_usable(shell, tmp_path, monkeypatch):
    monkeypatch.setenv("MATX_NB_CXX", fake_cxx(tmp_path, 'echo "fake-g++: planted failure" >&2; exit 1'))
    cell_run = run(shell, "%%matx --force\ndef gxx_fails(n: int) -> int:\n    return n * 7\n")
    build, view = last(shell)
    build.wait()
    assert build.state == "failed" and "build failed" in text(view.status.value)
    assert "planted failure" in view.panes["Diagnostics"].value
    assert view.tabs.selected_index == list(view.panes).index("Diagnostics")
    assert view.button.disabled and "nothing to export" in view.button.tooltip
    r = run(shell, "gxx_fails(3)", ok=False)
    assert isinstance(r.error_in_exec, BuildFailed)
    assert f"(line 2 of cell [{cell_run.execution_count}])" in str(r.error_in_exec)
    assert run(shell, "1 + 1").result == 2
    r = run(shell, "%%matx --force --sync\ndef gxx_fails2(n: int) -> int:\n    return n * 7\n", ok=False)
    assert isinstance(r.error_in_exec, matx_nb.CompileError) and "planted failure" in str(r.error_in_exec)


def test_two_cells_building_at_once_both_finish(shell, tmp_path, monkeypatch):
    # a compiler slow enough that both builds are surely in flight together
    monkeypatch.setenv("MATX_NB_CXX", fake_cxx(tmp_path, 'sleep 0.5; exec g++ "$@"'))
    run(shell, "%%matx --force\ndef twin_a(n: int) -> int:\n    return n + 10\n")
    a, _ = last(shell)
    run(shell, "%%matx --force\ndef twin_b(n: int) -> int:\n    return n + 20\n")
    b, _ = last(shell)
    assert not a.done and not b.done
    assert a.wait(60) and b.wait(60)
    assert a.state == b.state == "compiled"
    assert run(shell, "twin_a(1) + twin_b(1)").result == 32


def test_options(shell):
    doc = kernel_ext.extension(shell).matx.__doc__
    for opt in ("--bench", "--check", "--sync", "--force", "--show-cpp", "--hide-cpp", "-O", "--name"):
        assert opt in doc
    run(shell, "%%matx --sync --hide-cpp -O 1 --name tiny\ndef tiny(n: int) -> int:\n    return n - 1\n")
    build, view = last(shell)
    assert "C++" not in view.panes and build.options.opt == "-O1" and "tiny" in text(view.status.value)
    r = run(shell, "%%matx -O 9\ndef tiny2(n: int) -> int:\n    return n\n", ok=False)
    assert r.error_in_exec is not None


def test_classes_and_constants(shell):
    run(shell, "from typing import Dict, List")
    run(shell, '%%matx --sync\nVOCAB = {"hello": 0, "world": 1}\n\nclass Ids:\n'
        '    def __init__(self) -> None:\n        self.table: Dict[str, int] = VOCAB\n'
        '    def __call__(self, words: List[str]) -> List[int]:\n'
        '        return [self.table.get(w, 2) for w in words]\n')
    assert run(shell, 'Ids()(["hello", "x"])').result == [0, 2]
    assert shell.user_ns["VOCAB"] == {"hello": 0, "world": 1}
    assert shell.user_ns["Ids"].py_class.__name__ == "Ids"


def test_export_magic_and_button(shell, tmp_path):
    run(shell, "%%matx\n" + FIB.replace("fib", "fibx"))
    out = tmp_path / "fibx"
    r = run(shell, f"%matx_export fibx 12 --out {out}")
    exported = r.result
    assert exported.round_trip_ok and exported.expected == 144
    assert {"model.spec.json", "ops/lib0/lib.so", "ops/lib0/source.cc"} <= {p for p, _ in exported.files}
    assert matx_nb.load(out).run({"n": 10}) == 55
    shown = text(exported._repr_html_())
    assert f"matx-run {out} --feed '{{\"n\": 12}}'" in shown and "Session::Load" in shown
    # the Export button of a cell, with its default example from --check
    run(shell, '%%matx --check "fiby(9)"\n' + FIB.replace("fib", "fiby"))
    _, view = last(shell)
    assert view.args.value == "9"
    view.out.value = str(tmp_path / "fiby")
    view.button.click()
    assert "loaded back and ran: 34" in view.result.value
    assert matx_nb.load(tmp_path / "fiby").run({"n": 11}) == 89
    view.args.value = '"not an int"'
    view.button.click()
    assert "Export failed" in view.result.value


class FakeComm:
    def __init__(self):
        self.sent, self.handlers = [], {}

    def send(self, data):
        self.sent.append(data)

    def on_msg(self, fn):
        self.handlers["msg"] = fn

    def on_close(self, fn):
        self.handlers["close"] = fn


def test_side_panel_comm_lists_builds_and_exports(shell, tmp_path):
    panel = kernel_ext.extension(shell).panel
    comm = FakeComm()
    panel.opened(comm)
    run(shell, '%%matx --sync --name panel-demo --check "fibp(7)"\n' + FIB.replace("fib", "fibp"))
    last_state = [m for m in comm.sent if m["type"] == "builds"][-1]
    demo = last_state["builds"][-1]
    assert demo["name"] == "panel-demo" and demo["state"] == "compiled" and demo["examples"] == {"fibp": "7"}
    (obj,) = demo["objects"]
    assert (obj["name"], obj["line"], obj["kind"], obj["failed"]) == ("fibp", 3, "function", False)
    comm.handlers["msg"]({"content": {"data": {"action": "export", "function": "fibp", "args": "7",
                                               "out": str(tmp_path / "p"), "request": 1}}})
    reply = comm.sent[-1]
    assert reply["type"] == "exported" and reply["request"] == 1 and "loaded back and ran: 13" in reply["html"]
    comm.handlers["close"](None)
    assert comm not in panel.comms


def test_status_line_shows_the_phase_and_ticks_while_building(shell, tmp_path, monkeypatch):
    monkeypatch.setenv("MATX_NB_CXX", fake_cxx(tmp_path, 'sleep 1.5; exec g++ "$@"'))
    run(shell, "%%matx --force\ndef tick_a(n: int) -> int:\n    return n + 1\n")
    build, view = last(shell)
    seen, t = [], time.perf_counter()
    while not build.done and time.perf_counter() - t < 60:
        seen.append(text(view.status.value))
        time.sleep(0.1)
    gxx = {s for s in seen if re.fullmatch(r"[◐◓◑◒] compiling tick_a · g\+\+ \d+\.\d s", s)}
    assert len(gxx) >= 2, seen  # the elapsed time moves on by itself (the view's timer)
    assert "✓ tick_a compiled in" in text(view.status.value)


def test_a_compiled_slowdown_reads_as_one_with_its_reason(shell):
    run(shell, "slow_xs = list(range(200_000))")
    run(shell, '%%matx --sync --bench "count_xs(slow_xs)"\n'
        "def count_xs(xs: List[int]) -> int:\n    return len(xs)\n")
    build, view = last(shell)
    (row,) = build.timing
    assert row["speedup"] < 0.1 and row["python"]["n"] >= 20 and row["compiled"]["n"] >= 20
    status = text(view.status.value)
    assert re.search(r"0\.0*[1-9]\d?× on count_xs\(slow_xs\) \(slower: argument conversion dominates\)", status)
    timing = text(view.panes["Timing"].value)
    assert "(slower: argument conversion dominates)" in timing and "×0.0" not in timing


def test_help_starts_with_the_usage_line(shell):
    doc = shell.find_cell_magic("matx").__doc__
    assert doc.startswith("%%matx [--bench EXPR] [--check EXPR] [--sync]") and "::" not in doc
    assert "--name NAME" in doc and "Compile the functions and classes" in doc


def test_side_panel_lists_syntax_and_type_errors(shell):
    panel = kernel_ext.extension(shell).panel
    comm = FakeComm()
    panel.opened(comm)
    try:
        run(shell, "%%matx\ndef synbad(n: int) -> int:\n    return n +\n", ok=False)
        run(shell, "%%matx\ndef typebad(n: int) -> int:\n    return n + 'x'\n", ok=False)
        builds = [m for m in comm.sent if m["type"] == "builds"][-1]["builds"]
        failures = [b for b in builds if b["state"] == "failed" and b.get("diagnostics")]
        messages = [(d["line"], d["message"]) for b in failures for d in b["diagnostics"]]
        assert any(line == 3 and "syntax error" in m for line, m in messages), messages
        assert any(line == 3 and "str" in m for line, m in messages), messages
    finally:
        comm.handlers["close"](None)


def test_export_row_offers_a_class_and_its_methods(shell, tmp_path):
    run(shell, '%%matx --sync --check "Vocab({\'a\': 1})([\'a\', \'b\'])" --check "Vocab({\'a\': 1}).get(\'a\')"\n'
        "class Vocab:\n"
        "    def __init__(self, table: Dict[str, int]) -> None:\n"
        "        self.table: Dict[str, int] = table\n"
        "    def get(self, w: str) -> int:\n"
        "        return self.table.get(w, 0)\n"
        "    def __call__(self, ws: List[str]) -> List[int]:\n"
        "        return [self.get(w) for w in ws]\n")
    _, view = last(shell)
    assert list(view.fn.options) == ["Vocab", "Vocab.get"]
    assert (view.init.value, view.args.value) == ("{'a': 1}", "['a', 'b']")
    assert view.init.layout.display != "none"
    view.out.value = str(tmp_path / "vocab")
    view.button.click()
    assert "loaded back and ran: [1, 0]" in view.result.value, view.result.value
    view.fn.value = "Vocab.get"
    assert view.args.value == "'a'"


def test_a_quick_build_answers_first_and_the_optimized_one_replaces_it(shell):
    """By default a cell is bound to a -Og build, then to the -O3 build when that
    is ready (in the background); the status line and the Timing tab say which.
    -O LEVEL builds once; a cache hit at -O3 skips the quick build."""
    cell = "%%matx --sync --force\ndef tier_f(n: int) -> int:\n    return n * 3 + {k}\n"
    run(shell, cell.format(k=1))
    build, view = last(shell)
    b = build.objects["tier_f"]
    first = shell.user_ns["tier_f"]
    assert b.tier == "-Og" and first(2) == 7 and build.options.tiers == ["-Og", "-O3"]
    if build.optimizing:
        assert "-O3 building" in text(view.status.value)
    assert build.wait_final(120) and not build.optimizing
    final = shell.user_ns["tier_f"]
    assert b.tier == "-O3" and final is not first and final(2) == 7 and b.final_error is None
    assert '"opt": "-O3"' in (b.result.library.parent / "meta.json").read_text()
    assert "-O3" in text(render_status(build)) and "later" in text(render_status(build))
    # The optimized build is in the cache now: the same cell binds it at once.
    run(shell, cell.format(k=1).replace(" --force", ""))
    build, _ = last(shell)
    assert build.objects["tier_f"].tier == "-O3" and build.cache_hits and not build.optimizing
    # One level asked for: one build.
    run(shell, "%%matx --sync --force -O 2\ndef tier_g(n: int) -> int:\n    return n - 3\n")
    build, _ = last(shell)
    assert build.objects["tier_g"].tier == "-O2" and not build.optimizing and shell.user_ns["tier_g"](5) == 2


def test_a_name_rebound_before_the_optimized_build_stays_the_user_s(shell, monkeypatch):
    import threading
    from kernel_ext import builds
    real, gate = builds.compile_group, threading.Event()

    def gated(group, opt, force, prefer_cached=""):
        if opt == "-O3":
            gate.wait(60)
        return real(group, opt, force, prefer_cached)
    monkeypatch.setattr(builds, "compile_group", gated)
    run(shell, "%%matx --sync --force\ndef tier_m(n: int) -> int:\n    return n * 5\n")
    build, _ = last(shell)
    assert build.optimizing and shell.user_ns["tier_m"](2) == 10
    run(shell, "tier_m = 'mine'")
    gate.set()
    assert build.wait_final(120) and build.objects["tier_m"].tier == "-O3"
    assert shell.user_ns["tier_m"] == "mine"


def test_timing_waits_for_and_names_the_optimized_build(shell):
    run(shell, '%%matx --sync --force --bench "tier_h(20)"\n' + FIB.replace("fib", "tier_h"))
    build, view = last(shell)
    assert build.timing and build.timing_tiers == ["-O3"] and build.objects["tier_h"].tier == "-O3"
    assert "Timed: the -O3 build." in text(view.panes["Timing"].value)


def test_a_failed_optimized_build_keeps_the_quick_one(shell, monkeypatch):
    from kernel_ext import builds
    real = builds.compile_group

    def no_O3(group, opt, force, prefer_cached=""):
        if opt == "-O3":
            return [RuntimeError("planted -O3 failure")] * len(group)
        return real(group, opt, force, prefer_cached)
    monkeypatch.setattr(builds, "compile_group", no_O3)
    run(shell, "%%matx --sync --force\ndef tier_k(n: int) -> int:\n    return n + 40\n")
    build, view = last(shell)
    assert build.wait_final(120)
    b = build.objects["tier_k"]
    assert b.tier == "-Og" and "planted" in str(b.final_error) and shell.user_ns["tier_k"](2) == 42
    assert "the -O3 build failed" in text(render_status(build))


def render_status(build):
    from kernel_ext.render import status_html
    return status_html(build)
