"""%%matx latency in an IPython shell: the cold build of the fib cell and the
re-run of an unchanged cell, against the issue's targets (<= 1.0 s, <= 50 ms).

    .venv/bin/python bench/bench_magic.py        # or: make bench-magic

Each session is a fresh Python process with a fresh compile cache (its
precompiled runtime header built beforehand, as after the first use on a
machine). Times are wall clock from run_cell to its return with --sync, i.e.
until the cell is compiled, loaded and its output rendered; "returns" is the
same cell without --sync (the build goes on in the background). Writes
bench/MAGIC_RESULTS.md.
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

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = 3
RERUNS = 20
FORCED = 5
FIB = '''
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)
'''
TARGET_COLD_S, TARGET_RERUN_S = 1.0, 0.050


def session() -> dict:
    """One kernel-like session (runs in a child process)."""
    from IPython.core.interactiveshell import InteractiveShell
    sh = InteractiveShell.instance()
    t = time.perf_counter()
    sh.run_cell("%load_ext matx_nb", store_history=True)
    out = {"load_ext": time.perf_counter() - t}

    def cell(opts: str, body: str = FIB) -> float:
        t = time.perf_counter()
        r = sh.run_cell(f"%%matx {opts}\n{body}", store_history=True)
        dt = time.perf_counter() - t
        if not r.success:
            raise RuntimeError(f"cell failed: {r.error_in_exec}")
        return dt

    out["cold_first"] = cell("--sync")  # first %%matx cell of the session, cache miss
    out["rerun"] = [cell("--sync") for _ in range(RERUNS)]
    out["cold_forced"] = [cell("--sync --force") for _ in range(FORCED)]
    out["returns"] = [cell("--force") for _ in range(FORCED)]
    ext = __import__("kernel_ext").extension(sh)
    for b in ext.manager.builds:
        b.wait()
    out["gxx"] = [b.objects["fib"].result.seconds.get("cxx") for b in ext.manager.builds
                  if not b.objects["fib"].result.cache_hit]
    return out


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--session":
        sys.stdout.write(json.dumps(session()) + "\n")
        return 0
    sys.path.insert(0, str(ROOT))
    results = []
    for _ in range(SESSIONS):
        with tempfile.TemporaryDirectory(prefix="matx_nb_bench_magic_") as cache:
            env = dict(os.environ, MATX_NB_CACHE=cache)
            subprocess.run([sys.executable, "-c", "from matx_nb.compiler.toolchain import Toolchain; "
                            "assert Toolchain().wait_for_pch(300)"], env=env, check=True, cwd=ROOT)
            r = subprocess.run([sys.executable, __file__, "--session"], env=env, cwd=ROOT,
                               capture_output=True, text=True, check=True)
            results.append(json.loads(r.stdout.strip().splitlines()[-1]))
    med = statistics.median
    cold_first = med(r["cold_first"] for r in results)
    cold_forced = med(x for r in results for x in r["cold_forced"])
    rerun = med(x for r in results for x in r["rerun"])
    returns = med(x for r in results for x in r["returns"])
    gxx = med(x for r in results for x in r["gxx"] if x)
    load_ext = med(r["load_ext"] for r in results)
    ok_cold, ok_rerun = cold_first <= TARGET_COLD_S, rerun <= TARGET_RERUN_S
    ms = lambda s: f"{s * 1e3:.0f} ms" if s >= 0.01 else f"{s * 1e3:.1f} ms"  # noqa: E731
    lines = [
        "# %%matx latency (bench/bench_magic.py)",
        "",
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{SESSIONS} fresh sessions, each with a fresh compile cache (precompiled header present). Medians.",
        "",
        "| what | time | target |",
        "|---|---|---|",
        f"| cold build of the fib cell, first `%%matx` cell of a session (`--sync`) | {ms(cold_first)} | "
        f"≤ 1.0 s: {'met' if ok_cold else 'MISSED'} |",
        f"| cold build of the fib cell later in the session (`--sync --force`) | {ms(cold_forced)} | |",
        f"| of which g++ | {ms(gxx)} | |",
        f"| re-run of the unchanged cell (`--sync`, cache hit) | {ms(rerun)} | "
        f"≤ 50 ms: {'met' if ok_rerun else 'MISSED'} |",
        f"| the cell returns without `--sync` (g++ goes on in the background) | {ms(returns)} | |",
        f"| `%load_ext matx_nb` | {ms(load_ext)} | |",
        "",
    ]
    text = "\n".join(lines)
    (ROOT / "bench" / "MAGIC_RESULTS.md").write_text(text)
    print(text)
    return 0 if ok_cold and ok_rerun else 1


if __name__ == "__main__":
    sys.exit(main())
