"""Per-call overhead of running a one-op saved pipeline versus calling the op.

    make bench-export          # = .venv/bin/python bench/export_overhead.py

Two ops (bench/export_ops.py): add(1, 2) (a compiled function) and Text2Ids
(a compiled class, called on a List[str] of 10 words). Each is traced into a
one-node pipeline and saved under bench/_work/export/. Five ways to call it:

  (1) Python: the compiled op called directly          fn(1, 2) / t2i(words)
  (2) Python: matx_nb.load(dir).run(feeds)              the C++ Session through the binding
  (3) Python: the traced module's mod.run(feeds)        the pure-Python executor
  (4) C++:    the op via mx::CompiledLibrary            lib.call / lib.call_method on the saved lib.so
  (5) C++:    matx_nb::Session::Run(feeds)              bench/runners/session_bench.cc

Each figure is a median over batches of the per-call mean (each batch about
BATCH_MS of back-to-back calls; the ways of one language are interleaved batch
by batch so that drift on a shared machine hits them alike). The feed dict /
argument list is built once and reused; the call's result is produced (and,
in Python, converted back) as a user pays it. Overhead = pipeline row - direct
row of the same language. Writes bench/EXPORT_RESULTS.md; whole run well
under 2 minutes.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work" / "export"
OUT_MD = HERE / "EXPORT_RESULTS.md"
DRIVER_SRC = HERE / "runners" / "session_bench.cc"
sys.path.insert(0, str(HERE))

import export_ops as ops  # noqa: E402
import matx_nb  # noqa: E402
from run import git_state, gpp_version, machine_line  # noqa: E402  (bench/run.py's, same wording)
from harness import call_loop  # noqa: E402

BATCHES = 15
BATCH_MS = 20.0
CXX = os.environ.get("CXX", "g++")
CXXFLAGS = ["-O2", "-std=c++17"]


def log(msg: str) -> None:
    print("[bench-export] " + msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ Python timing

def time_python(ways: dict) -> dict:
    """ways: name -> (fn, args). Median ns per call of each, batches interleaved."""
    loops, ns = {}, {}
    for name, (fn, args) in ways.items():
        loop = call_loop(fn, args)
        n = 1
        while loop(n) < BATCH_MS / 1000 and n < 1 << 24:
            n *= 2
        loops[name], ns[name] = (loop, n), []
    for _ in range(BATCHES):
        for name, (loop, n) in loops.items():
            ns[name].append(loop(n) / n * 1e9)
    return {name: {"ns": statistics.median(v), "min_ns": min(v), "calls_per_batch": loops[name][1],
                   "batches": len(v)} for name, v in ns.items()}


# ------------------------------------------------------------------ C++ timing

def run_cpp(add_dir: Path, t2i_dir: Path) -> dict:
    exe = WORK / "session_bench"
    cmd = [CXX, *CXXFLAGS, "-I", str(ROOT / "runtime" / "include"), str(DRIVER_SRC), "-o", str(exe),
           "-ldl", "-lpthread"]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, timeout=180)
    log("built %s in %.1f s" % (exe.relative_to(ROOT), time.perf_counter() - t))
    r = subprocess.run([str(exe), str(add_dir), str(t2i_dir), *ops.WORDS, "--batches", str(BATCHES),
                        "--batch-ms", str(BATCH_MS)], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("session_bench failed (%d): %s" % (r.returncode, r.stderr.strip()))
    return json.loads(r.stdout)


# ------------------------------------------------------------------ report

def fmt(ns: float) -> str:
    return "%.0f ns" % ns if abs(ns) < 1000 else "%.2f µs" % (ns / 1000)


def overhead(ns: float, base: float) -> str:
    return "+%s (%.1f×)" % (fmt(ns - base), ns / base)


def main() -> None:
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)

    # The ops, their one-op pipelines, saved.
    t = time.perf_counter()
    add_pipe, t2i_pipe = ops.AddPipeline(), ops.Text2IdsPipeline()
    add_mod = matx_nb.trace(add_pipe.process, 1, 2)
    t2i_mod = matx_nb.trace(t2i_pipe.process, list(ops.WORDS))
    add_dir, t2i_dir = add_mod.save(WORK / "add"), t2i_mod.save(WORK / "text2ids")
    add_loaded, t2i_loaded = matx_nb.load(add_dir), matx_nb.load(t2i_dir)
    assert add_loaded.runs_in_cpp and t2i_loaded.runs_in_cpp, "the saved libraries did not load in the C++ Session"
    log("compiled, traced, saved and loaded in %.1f s" % (time.perf_counter() - t))

    words = list(ops.WORDS)
    add_feeds, t2i_feeds = {"a": 1, "b": 2}, {"words": words}
    py_ways = {
        "add": {"direct": (add_pipe.add, (1, 2)), "load_run": (add_loaded.run, (add_feeds,)),
                "mod_run": (add_mod.run, (add_feeds,))},
        "text2ids": {"direct": (t2i_pipe.t2i, (words,)), "load_run": (t2i_loaded.run, (t2i_feeds,)),
                     "mod_run": (t2i_mod.run, (t2i_feeds,))},
    }
    expected = {"add": 3, "text2ids": ops.EXPECTED_IDS}
    for op, ways in py_ways.items():  # warm-up, checked
        for way, (fn, args) in ways.items():
            got = fn(*args)
            if got != expected[op]:
                raise AssertionError("%s %s returned %r, expected %r" % (op, way, got, expected[op]))

    py = {}
    for op, ways in py_ways.items():
        t = time.perf_counter()
        py[op] = time_python(ways)
        log("Python %s timed in %.1f s" % (op, time.perf_counter() - t))

    t = time.perf_counter()
    cpp = run_cpp(add_dir, t2i_dir)
    log("C++ timed in %.1f s" % (time.perf_counter() - t))
    for op in ("add", "text2ids"):
        for k in ("direct_result", "session_result"):
            if cpp[op][k] != expected[op]:
                raise AssertionError("C++ %s %s is %r, expected %r" % (op, k, cpp[op][k], expected[op]))

    wall = time.perf_counter() - t_start
    md = report(py, cpp, wall, load_start, os.getloadavg())
    OUT_MD.write_text(md)
    print(md)
    log("wrote %s (%.1f s in all)" % (OUT_MD.relative_to(ROOT), wall))


def report(py: dict, cpp: dict, wall: float, load_start, load_end) -> str:
    def cell(ns, base=None):
        return fmt(ns) if base is None else "%s | %s" % (fmt(ns), overhead(ns, base))

    a, t = py["add"], py["text2ids"]
    ca, ct = cpp["add"], cpp["text2ids"]
    rows = [
        ("(1) Python: compiled op called directly", "`add(1, 2)` / `t2i(words)`",
         cell(a["direct"]["ns"]) + " | —", cell(t["direct"]["ns"]) + " | —"),
        ("(2) Python: `matx_nb.load(dir).run(feeds)`", "C++ Session via the binding",
         cell(a["load_run"]["ns"], a["direct"]["ns"]), cell(t["load_run"]["ns"], t["direct"]["ns"])),
        ("(3) Python: traced `mod.run(feeds)`", "pure-Python executor",
         cell(a["mod_run"]["ns"], a["direct"]["ns"]), cell(t["mod_run"]["ns"], t["direct"]["ns"])),
        ("(4) C++: op via `mx::CompiledLibrary`", "`lib.call` / `lib.call_method` on the saved lib.so",
         cell(ca["direct_ns"]) + " | —", cell(ct["direct_ns"]) + " | —"),
        ("(5) C++: `Session::Run(feeds)`", "`session.h`",
         cell(ca["session_ns"], ca["direct_ns"]), cell(ct["session_ns"], ct["direct_ns"])),
    ]
    lines = [
        "# Export overhead: one-op pipeline vs. the op called directly",
        "",
        "Written by `make bench-export` (bench/export_overhead.py); every figure below comes from that one run.",
        "",
        "- Machine: %s." % machine_line(),
        "- Load average (1/5/15 min) at start %s, at end %s: other processes may share the cores." % (
            "/".join("%.2f" % x for x in load_start), "/".join("%.2f" % x for x in load_end)),
        "- Versions: matx_nb %s (%s); Python %s; C++ driver %s %s (bench/runners/session_bench.cc)." % (
            matx_nb.__version__, git_state(), sys.version.split()[0], gpp_version(), " ".join(CXXFLAGS)),
        "- Whole run: %.1f s wall (target < 2 min)." % wall,
        "",
        "## Per call (median)",
        "",
        "Ops (bench/export_ops.py): `add(a: int, b: int) -> int`, a compiled function; `Text2Ids`, a compiled "
        "class whose `__call__` maps a `List[str]` of 10 words to ids through a `Dict[str, int]` (2 unknown "
        "→ UNK). Each is traced into a one-node pipeline and saved (bench/_work/export/); rows (2), (3) and (5) "
        "run that pipeline, (1) and (4) call the op itself. Overhead = the row minus the direct call in the "
        "same language, (1) for Python rows, (4) for C++ rows; in parentheses the ratio to it.",
        "",
        "| way | what runs | add(1, 2) | overhead | Text2Ids, 10 words | overhead |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| %s | %s | %s | %s |" % r for r in rows]
    pa = a["load_run"]["ns"] - ca["session_ns"]
    pt = t["load_run"]["ns"] - ct["session_ns"]
    lines += [
        "",
        "Overhead per call of the Session (Session::Run − direct call): C++ **%s** (add), **%s** (Text2Ids); "
        "from Python, `load(dir).run` − direct call: **%s** (add), **%s** (Text2Ids). "
        "The Python binding around `Session::Run` (feed dict in, result out, GIL release; (2) − (5)): "
        "%s (add), %s (Text2Ids)." % (
            fmt(ca["session_ns"] - ca["direct_ns"]), fmt(ct["session_ns"] - ct["direct_ns"]),
            fmt(a["load_run"]["ns"] - a["direct"]["ns"]), fmt(t["load_run"]["ns"] - t["direct"]["ns"]),
            fmt(pa), fmt(pt)),
        "",
        "## Method",
        "",
        "- Every figure is the median, over %d batches, of the mean time per call in a batch of back-to-back "
        "calls (about %.0f ms per batch; the calls per batch are fixed per way in Python, per op in C++ from the "
        "slower Session way). The ways of one language are interleaved batch by batch." % (BATCHES, BATCH_MS),
        "- Python: `fn(*args)` in a `for _ in repeat(None, n)` loop (the loop's own few ns included); the feed "
        "dict is built once and reused; results are checked against the expected values before timing. "
        "`mod.run` builds its executor from the live graph on every call, as `TracedModule.run` does.",
        "- C++: the folder's library is opened a second time with `mx::CompiledLibrary` (the same mapping: "
        "`dlopen` returns the Session's handle); the direct way constructs its own `Text2Ids` instance. "
        "`lib.call(\"add\", args)` / `lib.call_method(inst, \"__call__\", args)` look the entry point up by name "
        "on each call, as a user of that API does; the argument vector and `Feeds` are built once. Both results "
        "are checked.",
        "- Fastest batch (min) for reference: Python add %s / %s / %s, Text2Ids %s / %s / %s (rows 1/2/3); "
        "C++ add %s / %s, Text2Ids %s / %s (rows 4/5)." % (
            fmt(a["direct"]["min_ns"]), fmt(a["load_run"]["min_ns"]), fmt(a["mod_run"]["min_ns"]),
            fmt(t["direct"]["min_ns"]), fmt(t["load_run"]["min_ns"]), fmt(t["mod_run"]["min_ns"]),
            fmt(ca["direct_min_ns"]), fmt(ca["session_min_ns"]), fmt(ct["direct_min_ns"]),
            fmt(ct["session_min_ns"])),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
