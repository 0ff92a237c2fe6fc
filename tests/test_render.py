"""The %%matx output's content: --bench timings (sampling, spread, noise, slowdowns,
the chart's axis), the status line's wording and glyphs, the Annotate view's
line mapping checked against the C++ tab's badges, and the static HTML copy."""
import html
import re
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("IPython")
pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import kernel_ext  # noqa: E402
from kernel_ext import measure, render  # noqa: E402
from kernel_ext.builds import Options  # noqa: E402


def text(markup):
    markup = re.sub(r"<style>.*?</style>", "", markup, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


# ---- --bench: sampling


def test_bench_interleaves_at_least_20_samples_and_waits_for_quiet():
    order = []
    py_ns = {"f": lambda: order.append("p")}
    c_ns = {"f": lambda: order.append("c")}
    quiet = []
    rows = measure.bench(["f()"], py_ns, c_ns, quiet=lambda: quiet.append(len(order)))
    (row,) = rows
    assert not row["error"] and row["python"]["n"] >= measure.MIN_SAMPLES <= row["compiled"]["n"]
    assert row["python"]["loops"] > 1 and row["compiled"]["loops"] > 1  # calibrated to >= SAMPLE_S
    # each sample is a block of one side's calls; the sides take turns (ABBA:
    # p c c p p c ...), so after the calibration no run is longer than two samples
    runs = [[k, 1] for k in order[:1]]
    for k in order[1:]:
        if k == runs[-1][0]:
            runs[-1][1] += 1
        else:
            runs.append([k, 1])
    loops = {"p": row["python"]["loops"], "c": row["compiled"]["loops"]}
    assert len(runs) > measure.MIN_SAMPLES
    assert all(n <= 2 * loops[k] for k, n in runs[2:])
    assert len(quiet) == 1 and quiet[0] == 2  # after the two warm-up calls, before any sample
    for side in ("python", "compiled"):
        s = row[side]
        assert s["min"] <= s["q1"] <= s["median"] <= s["q3"] <= s["max"]
        assert row[f"{side}_s"] == s["median"]
    lo, hi = row["speedup_q"]
    assert lo <= hi and row["speedup"] == pytest.approx(row["python_s"] / row["compiled_s"])


def test_a_slow_expression_stops_at_the_budget(monkeypatch):
    monkeypatch.setattr(measure, "BUDGET_S", 0.3)
    ns = {"f": lambda: time.sleep(0.02)}
    t = time.perf_counter()
    (row,) = measure.bench(["f()"], ns, dict(ns))
    assert time.perf_counter() - t < 3
    assert measure.MIN_SLOW_SAMPLES <= row["python"]["n"] < measure.MIN_SAMPLES


def test_noisy_flag():
    quiet = measure.summary([1.0] * 20, 1)
    assert not quiet["noisy"] and quiet["iqr"] == 0
    assert measure.summary([1.0] * 10 + [1.5] * 10, 1)["noisy"]  # IQR 50% of the median
    assert measure.summary([0.5] + [1.0] * 19, 1)["noisy"]  # the minimum far under the median


def test_ratios_read_in_significant_digits():
    assert [measure.ratio(x) for x in (0.0001, 0.00012345, 0.37, 2.14, 10.0, 53.71, 200.7)] == \
        ["0.0001×", "0.00012×", "0.37×", "2.1×", "10×", "53.7×", "201×"]
    assert measure.ratio(None) == "–"


def slow_row():
    """A compiled call much slower than Python: a big list converted on each call."""
    xs = list(range(50_000))
    py_ns = {"count": len, "xs": xs}
    c_ns = {"count": lambda v: sum(1 for _ in v), "xs": xs}
    (row,) = measure.bench(["count(xs)"], py_ns, c_ns)
    return row


def test_a_slowdown_says_why():
    row = slow_row()
    assert measure.slower(row) and row["speedup"] < 0.01
    assert row["why"] == "argument conversion dominates" and "50,000 items" in row["why_detail"]
    build = fake_build(state="compiled", timing=[row], bench=["count(xs)"])
    table = text(render.timing_body(build))
    assert re.search(r"0\.0*\d+× \(slower: argument conversion dominates\)", table)
    assert "×0.0" not in table and "IQR" in table
    status = render.status_text(build)
    assert re.search(r"0\.0*\d+× on count\(xs\) \(slower: argument conversion dominates\)", status)
    # tiny work: the call itself dominates
    ns = {"g": lambda: None}
    (row,) = measure.bench(["g()"], ns, {"g": lambda: [0] * 20})
    assert measure.slower(row) and row["why"] == "call overhead dominates"


def spread(med, lo, hi, noisy=False):
    return {"median": med, "min": lo, "max": hi, "q1": med, "q3": med, "iqr": 0.0, "n": 20, "loops": 1,
            "noisy": noisy}


def chart_limits_cover(rows):
    fig = render.chart_figure(rows)
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    bars = [(p.get_x(), p.get_x() + p.get_width()) for p in ax.patches]
    assert len(bars) == 2 * len(rows)
    for a, b in bars:
        assert x0 <= a and b <= x1, (x0, x1, a, b)
    for r in rows:
        for side in ("python", "compiled"):
            s = r[side] or spread(r[f"{side}_s"], r[f"{side}_s"], r[f"{side}_s"])
            assert x0 < s["min"] and s["max"] < x1  # whiskers inside too
    return fig


def test_chart_axis_covers_every_bar_and_whisker():
    rows = [
        {"expr": "fast(1)", "python_s": 2e-3, "compiled_s": 1e-5, "speedup": 200.0, "speedup_q": (190, 210),
         "python": spread(2e-3, 1.9e-3, 2.4e-3), "compiled": spread(1e-5, 0.9e-5, 3e-5, noisy=True),
         "noisy": True},
        # compiled slower than Python, by far: its bar is the longest
        {"expr": "count(xs)", "python_s": 4e-8, "compiled_s": 3e-3, "speedup": 4e-8 / 3e-3,
         "speedup_q": (1e-5, 2e-5), "python": spread(4e-8, 3e-8, 9e-8), "compiled": spread(3e-3, 2e-3, 9e-3),
         "noisy": False, "why": "argument conversion dominates"},
    ]
    fig = chart_limits_cover(rows)
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert labels == ["200× ! noisy", "0.000013× (slower)"]
    assert render.chart_png(rows)[:8] == b"\x89PNG\r\n\x1a\n"
    # rows without a spread still chart
    chart_limits_cover([{"expr": "f()", "python_s": 1e-3, "compiled_s": 2e-3, "speedup": 0.5,
                         "python": None, "compiled": None}])


# ---- the status line


def fake_build(state="compiled", timing=(), checks=(), bench=(), check=(), phase=None, failed=(), **kw):
    b = SimpleNamespace(name="fib", state=state, done=state in ("compiled", "failed"), started=time.perf_counter() - 3,
                        failed=list(failed), cache_hits=False, build_seconds=0.31, checks=list(checks),
                        timing=list(timing), measure_error="", objects={},
                        options=Options(bench=list(bench), check=list(check)), **kw)
    if phase:
        b.phase, b.phase_since = phase, time.time() - 1.25
    return b


def check_rows(n_same, n_diff):
    return ([{"expr": "a", "python": "1", "compiled": "1", "same": True}] * n_same
            + [{"expr": "b", "python": "1", "compiled": "2", "same": False}] * n_diff)


def test_status_wording():
    def status(**kw):
        return render.status_text(fake_build(**kw))
    assert "· 1 check agrees" in status(checks=check_rows(1, 0))
    assert "· 3 checks agree" in status(checks=check_rows(3, 0))
    assert "1 check differs" in status(checks=check_rows(2, 1))
    assert "2 checks differ" in status(checks=check_rows(0, 2))
    assert "checks agree" not in status(checks=check_rows(1, 0))
    assert "compiled in 0.31 s" in status()
    fast = {"expr": "fib(25)", "python_s": 2e-2, "compiled_s": 1e-4, "speedup": 200.0, "speedup_q": (190, 210),
            "noisy": True}
    assert "200× on fib(25) (! noisy)" in status(timing=[fast])
    # progress: the phase and its time, from builds.py's phase / phase_since
    assert re.fullmatch(r"[◐◓◑◒] compiling fib · g\+\+ 1\.\d s", status(state="compiling", phase="compiling"))
    assert "type check" in status(state="compiling", phase="checking")
    assert re.fullmatch(r"[◐◓◑◒] compiling fib · \d\.\d s", status(state="compiling"))  # no phase attributes
    assert re.search(r"compiled in 0\.31 s · [◐◓◑◒] timing \d\.\d s", status(state="measuring", bench=["f()"]))
    b = fake_build(state="compiling", phase="compiling")
    assert "saved while building" in text(render.status_fragment(b, final=True))


def emoji_chars(s):
    """The characters of s that have the Unicode Emoji property (perl knows it; Python does not)."""
    perl = shutil.which("perl")
    if perl is None:
        pytest.skip("perl (for the Unicode Emoji property) is not installed")
    chars = sorted({c for c in s if ord(c) > 127})
    out = subprocess.run([perl, "-CSA", "-e", 'print join("", grep { /\\p{Emoji}/ } split(//, $ARGV[0]))',
                          "".join(chars)], capture_output=True, text=True, check=True).stdout
    return out


def test_status_glyphs_render_without_an_emoji_font():
    assert set(emoji_chars("⏳✔a✓⚠")) == set("⏳✔⚠")  # the probe itself works
    failed = SimpleNamespace(name="fib", line=2)
    texts = [render.status_fragment(fake_build(**kw)) for kw in (
        {"state": "compiling", "phase": "generating"}, {"state": "measuring", "check": ["a"]},
        {"state": "failed", "failed": [failed]}, {"checks": check_rows(1, 1)},
        {"timing": [{"expr": "f()", "python_s": 1e-7, "compiled_s": 1e-3, "speedup": 1e-4,
                     "speedup_q": (1e-4, 1e-4), "noisy": True, "why": "call overhead dominates"}]})]
    texts += [render.check_body(fake_build(checks=check_rows(1, 1), check=["a"])),
              render.diagnostics_body(fake_build(failed=[]))[:200]]
    texts += [render.SPIN, render.OK, render.BAD, render.WARN]
    assert emoji_chars("".join(texts)) == ""


# ---- Annotate against the C++ tab


@pytest.fixture(scope="module")
def shell():
    from IPython.core.interactiveshell import InteractiveShell
    sh = InteractiveShell.instance()
    assert sh.run_cell("%load_ext matx_nb", store_history=True).success
    return sh


def build_of(sh, code):
    r = sh.run_cell(code, store_history=True)
    assert r.success, r.error_in_exec
    ext = kernel_ext.extension(sh)
    build, view = ext.manager.builds[-1], ext.views[-1]
    assert build.wait(120) and build.state == "compiled", build.failed
    return build, view


ROW = re.compile(r'<div class="(l[^"]*)" title="[^"]*"><span class="n">(\d+)</span>(.*?)</div>')
BADGE = re.compile(r'<div class="l mark"><span class="n">(\d+)</span><span class="matx-badge">line (\d+)</span>')

CELLS = {
    "blank lines and a comment first": '''%%matx --sync


# leading blank lines and a comment: Annotate must not shift
def annot_a(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total
''',
    "decorators and a class": '''%%matx --sync
from typing import Any, List

class AnnotK:
    """A class with decorated methods."""
    def __init__(self, k: int) -> None:
        self.k: int = k

    @staticmethod
    def twice(x: int) -> int:
        return 2 * x

    @classmethod
    def make(cls, k: int) -> "AnnotK":
        return cls(k)

    def scaled(self, x: int) -> int:
        return self.k * x

def annot_dyn(n: int) -> int:
    xs: List[Any] = [1, "a"]
    y = xs[0]
    return n + len(xs)
''',
}


@pytest.mark.parametrize("name", list(CELLS))
def test_annotate_rows_are_the_cell_lines_the_cpp_badges_name(shell, name):
    build, view = build_of(shell, CELLS[name])
    cell_lines = build.cell.text.split("\n")  # line 1 stands for %%matx
    rows = {int(n): (cls, text(frag)) for cls, n, frag in ROW.findall(render.annotate_body(build))}
    assert sorted(rows) == list(range(1, len(cell_lines) + 1))
    assert rows[1][1] == "%%matx"
    source = CELLS[name].split("\n")
    for n in range(2, len(cell_lines) + 1):
        assert rows[n][1] == cell_lines[n - 1] == source[n - 1], n  # row n is the editor's line n
    # every annotated line is a line of code, in its row
    kinds = {}
    for b in build.objects.values():
        for file, line, kind in b.result.annotate:
            if file == build.cell.filename:
                kinds[line] = "dynamic" if kinds.get(line) == "dynamic" else kind
    assert kinds
    for line, kind in kinds.items():
        cls, row_text = rows[line]
        assert cls == f"l matx-{kind}" and row_text.strip(), (line, row_text)
    for n, (cls, _) in rows.items():
        assert (n in kinds) == ("matx-" in cls)
    # each C++ badge "line N" marks the C++ of cell line N: its comment quotes that
    # line, and Annotate's row N shows the same line, marked
    cpp = render.cpp_body(build)
    badges = [int(py) for _, py in BADGE.findall(cpp)]
    assert badges
    quoted = {}
    for b in build.objects.values():
        cpp_lines = b.result.cpp.split("\n")
        for cpp_line, file, py_line in b.result.line_map:
            if file == build.cell.filename:
                quoted[py_line] = cpp_lines[cpp_line - 1].strip()
    for py_line in badges:
        assert quoted[py_line] == f"// line {py_line}: {rows[py_line][1].strip()}"
        assert "matx-" in rows[py_line][0]
    def_lines = [build.cell.lines[n] for n in build.cell.names]
    assert all(rows[d][1].lstrip().startswith(("def ", "class ")) for d in def_lines)
    if name == "decorators and a class":
        dyn = [n for n, k in kinds.items() if k == "dynamic"]
        assert dyn and all("xs" in rows[n][1] for n in dyn)
        assert rows[build.cell.lines["AnnotK"] + 5][1].strip() == "@staticmethod"


def test_highlight_keeps_leading_blank_lines():
    frags = render.highlight_lines("\n\n# c\n@d\ndef f():\n    pass", "python")
    assert [text(f) for f in frags] == ["", "", "# c", "@d", "def f():", "    pass"]
    assert [text(f) for f in render.highlight_lines("\nint x;\n", "cpp")] == ["", "int x;", ""]


RACE = """
import sys, threading
sys.path.insert(0, sys.argv[1])
from kernel_ext import render
assert "pygments.formatters" not in sys.modules
errors, gate = [], threading.Barrier(4)
def go(text, lexer):
    gate.wait()
    try:
        assert render.highlight_lines(text, lexer)
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=go, args=(f"x = {i}", lexer))
           for i, lexer in enumerate(["cpp", "python", "cpp", "python"])]
[t.start() for t in threads]
[t.join() for t in threads]
print(errors)
"""


def test_first_highlights_on_several_threads_at_once():
    """A cell's C++ is highlighted on a thread of its own while the view
    highlights the cell's Python: pygments' first import from two threads
    at once fails without render's lock (9 runs in 10 before it)."""
    import sys
    root = str(Path(kernel_ext.__file__).resolve().parent.parent)
    for _ in range(3):  # a fresh interpreter each time: the race is in the first import
        r = subprocess.run([sys.executable, "-c", RACE, root], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "[]", r.stdout


# ---- the static copy and the output bundle


def test_output_bundle_carries_a_static_copy_of_the_final_state(shell):
    fib = "def stat_fib(n: int) -> int:\n    return n if n < 2 else stat_fib(n - 1) + stat_fib(n - 2)\n"
    build, view = build_of(shell, '%%matx --sync --bench "stat_fib(15)" --check "stat_fib(10)"\n' + fib)
    data = view.bundle()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == view.widget.model_id
    assert data["text/plain"].startswith("✓ stat_fib compiled")
    static = data["text/html"]
    assert "<script" not in static and static.startswith("<style>")
    shown = text(static)
    for what in ("✓ stat_fib compiled", "1 check agrees", "stat_fib(15)", "IQR", "No problems", "%%matx"):
        assert what in shown, what
    assert 'class="matx-chart"' in static and "data:image/png;base64," in static
    assert "f_stat_fib" in static and '<span class="matx-badge">line 3</span>' in static
    assert re.search(r'class="l matx-typed"[^>]*><span class="n">3</span>', static)
    for title in ("C++", "Diagnostics", "Annotate", "Timing", "Check"):
        assert f"<summary>{title}</summary>" in static
    # the static copy is built from the same tab bodies as the widgets
    assert view.bodies["Timing"] in static and view.bodies["Timing"] in view.panes["Timing"].value
