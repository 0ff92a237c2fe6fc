"""Foundation benchmarks: CPython vs matx_nb, side by side in one run.

    python bench/run.py            # writes bench/RESULTS.md

Every figure is a median; ratios are CPython time / matx_nb time. Compile
latency is measured in fresh processes: cold (empty cache) and cache hit.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))


def median_time(fn, *args, repeat=9, number=1):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn(*args)
        ts.append((time.perf_counter() - t) / number)
    return statistics.median(ts)


def child(code: str, cache: str) -> dict:
    env = dict(os.environ, MATX_NB_CACHE=cache, PYTHONPATH=f"{ROOT}:{HERE}")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure with bytecode caching, as users run
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


COMPILE = """
import json, time
t0 = time.perf_counter()
import matx_nb
t1 = time.perf_counter()
import workloads
f = matx_nb.script(workloads.{name})
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "script": t2 - t1, "hit": f.matx.cache_hit}}))
"""

IMPORT = """
import json, time
t0 = time.perf_counter()
import matx_nb
print(json.dumps({"import": time.perf_counter() - t0}))
"""


def compile_latency(name: str, runs: int = 3) -> dict:
    cold, cold_pch, hit = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            r = child(COMPILE.format(name=name), cache)
            assert not r["hit"]
            cold.append(r["script"])
            r = child(COMPILE.format(name=name), cache)
            assert r["hit"]
            hit.append(r["script"])
            # Same toolchain, precompiled header ready, library not cached yet.
            from matx_nb.compiler.toolchain import Toolchain
            os.environ["MATX_NB_CACHE"] = cache
            Toolchain().wait_for_pch()
            for p in (Path(cache) / "lib").glob("*/*"):
                if p.is_dir():
                    for f in p.iterdir():
                        f.unlink()
            r = child(COMPILE.format(name=name), cache)
            assert not r["hit"]
            cold_pch.append(r["script"])
    return {"cold": statistics.median(cold), "cold_pch": statistics.median(cold_pch),
            "hit": statistics.median(hit)}


def main():
    os.environ.setdefault("MATX_NB_CACHE", tempfile.mkdtemp(prefix="matx_nb_bench_"))
    import matx_nb
    import workloads as w

    rows = []
    fib_c = matx_nb.script(w.fib)
    assert fib_c(27) == w.fib(27), "fib: wrong result"
    py, mx = median_time(w.fib, 27, repeat=7), median_time(fib_c, 27, repeat=15)
    rows.append(("fib(27)", py, mx, "≥ 100×"))

    loop_c = matx_nb.script(w.int_loop)
    assert loop_c(10 ** 6) == w.int_loop(10 ** 6), "int_loop: wrong result"
    py, mx = median_time(w.int_loop, 10 ** 6, repeat=5), median_time(loop_c, 10 ** 6, repeat=9)
    rows.append(("integer loop (1e6 iterations)", py, mx, ""))

    T = matx_nb.script(w.Text2Ids)
    words = (["hello", "world", "unknown", "matx"] * 250_000)
    tp, tc = w.Text2Ids(), T()
    assert tc(words) == tp(words), "text2ids: wrong result"
    py, mx = median_time(tp, words, repeat=5), median_time(tc, words, repeat=5)
    rows.append(("Text2Ids over 1M words", py, mx, ""))

    add_c = matx_nb.script(w.add)
    py, mx = median_time(w.add, 1, 2, repeat=9, number=200_000), median_time(add_c, 1, 2, repeat=9, number=200_000)
    rows.append(("add(1, 2) call from Python", py, mx, ""))

    lat_fib = compile_latency("fib")
    lat_cls = compile_latency("Text2Ids")
    imports = [child(IMPORT, tempfile.gettempdir())["import"] for _ in range(7)]
    imp = statistics.median(imports)

    from matx_nb.compiler.toolchain import compiler_version, compiler
    lines = ["# Benchmark results", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
             f"Python {platform.python_version()}; {compiler_version(compiler())}; "
             f"matx_nb {matx_nb.__version__}.", "",
             "Command: `python bench/run.py` (medians; ratio = CPython time / matx_nb time).", "",
             "| workload | CPython | matx_nb | ratio | target |", "|---|---|---|---|---|"]
    for name, py, mx, target in rows:
        lines.append(f"| {name} | {fmt(py)} | {fmt(mx)} | {py / mx:.1f}× | {target} |")
    lines += ["", "## Compile latency (fresh processes)", "",
              "| object | cold, empty cache | cold, precompiled header ready | cache hit, new process | target |",
              "|---|---|---|---|---|",
              f"| fib | {fmt(lat_fib['cold'])} | {fmt(lat_fib['cold_pch'])} | {fmt(lat_fib['hit'])} | cold ≤ 1.0 s, hit ≤ 50 ms |",
              f"| Text2Ids (class) | {fmt(lat_cls['cold'])} | {fmt(lat_cls['cold_pch'])} | {fmt(lat_cls['hit'])} | |",
              "", f"`import matx_nb`: {fmt(imp)} (target ≤ 0.3 s).", ""]
    text = "\n".join(lines)
    (HERE / "RESULTS.md").write_text(text)
    print(text)


def fmt(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    if s >= 1e-6:
        return f"{s * 1e6:.2f} µs"
    return f"{s * 1e9:.0f} ns"


if __name__ == "__main__":
    main()
