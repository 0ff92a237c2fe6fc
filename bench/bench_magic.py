"""%%matx latency in an IPython shell, against the targets of the compile-latency
issue. Writes bench/MAGIC_RESULTS.md.

    .venv/bin/python bench/bench_magic.py        # or: make bench-magic

Each session is a fresh Python process with a fresh, empty compile cache, as
on a fresh install: the precompiled runtime header is the one the install
built (matx_nb/pch/), or, where the install has none, none at all. Times are
wall clock from run_cell to its return with --sync (compiled, loaded, output
rendered), medians over every session's samples, with the spread (min-max):

- first cell: `%load_ext matx_nb` then the fib cell, the first cell of the session;
- small function / class, cold: the fib cell and the seed's Text2Ids cell with
  --force (a cache miss; g++ runs). A cell built at the default level returns
  when its quick -Og build is bound; the rows "until its -O3 build is bound"
  time the build that replaces it in the background, and the "one -O3 build"
  rows a cell run with `-O 3` (one build, no quick tier), alternating with the
  default ones;
- edit: a cell of three functions (a word count), run once, then its second
  function edited (a new constant each time) and the cell run again;
- re-run: the unchanged fib cell (a cache hit in the session);
- cache hit in a new process: `matx_nb.script(fib)` in a new Python whose cache
  has fib; "script()" is the call alone after `import matx_nb` and the compiler's
  imports, "import + script()" adds `import matx_nb` and the first call's imports.
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
RERUNS = 10
FORCED = 5
EDITS = 5
HITS = 10
FIB = '''
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)
'''
TEXT2IDS = '''
class Text2Ids:
    def __init__(self) -> None:
        self.table: Dict[str, int] = {"hello": 0, "world": 1, "[UNK]": 2}

    def lookup(self, word: str) -> int:
        return self.table.get(word, 2)

    def __call__(self, words: List[str]) -> List[int]:
        return [self.lookup(w) for w in words]
'''
WORDS = '''
def tokens(text: str) -> List[str]:
    return [w.lower() for w in text.split() if w]

def counts(words: List[str]) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for w in words:
        out[w] = out.get(w, 0) + EDIT
    return out

def top(text: str, k: int) -> List[str]:
    c = counts(tokens(text))
    return sorted(c.keys(), key=lambda w: -c[w])[:k]
'''
# (row key, what, target in seconds or None)
ROWS = [
    ("first", "first cell of a fresh install: `%load_ext` + the fib cell (`--sync`)", 1.0),
    ("fib_cold", "small function cold: the fib cell (`--sync --force`)", 0.4),
    ("class_cold", "class cold: the Text2Ids cell (`--sync --force`)", 0.8),
    ("edit", "edit one function of a three-function cell (`--sync`)", 0.4),
    ("fib_cold_final", "… the fib cell, until its -O3 build is bound (background)", None),
    ("class_cold_final", "… the Text2Ids cell, until its -O3 build is bound (background)", None),
    ("edit_final", "… the edit, until its -O3 build is bound (background)", None),
    ("fib_cold_O3", "one -O3 build (`-O 3`): the fib cell (`--sync --force -O 3`)", None),
    ("class_cold_O3", "one -O3 build: the Text2Ids cell (`--sync --force -O 3`)", None),
    ("edit_O3", "one -O3 build: the edit (`--sync -O 3`)", None),
    ("hit_call", "cache hit in a new process: `script()`", 0.020),
    ("hit_total", "cache hit in a new process: `import matx_nb` + `script()`", None),
    ("rerun", "re-run of the unchanged cell in the session (`--sync`)", 0.050),
    ("returns", "the fib cell returns without `--sync` (g++ goes on in the background)", None),
    ("load_ext", "`%load_ext matx_nb`", None),
]


def session() -> dict:
    """One kernel-like session (runs in a child process)."""
    from IPython.core.interactiveshell import InteractiveShell
    sh = InteractiveShell.instance()
    sh.run_cell("from typing import Dict, List", store_history=True)
    out = {}
    t = time.perf_counter()
    sh.run_cell("%load_ext matx_nb", store_history=True)
    out["load_ext"] = [time.perf_counter() - t]

    ext = None

    def cell(opts: str, body: str, key: str = "") -> float:
        """Runs the cell; the time it took to return, and under key + "_final"
        the time until its last tier was bound. Each sample waits for the
        background build of the one before, so that none competes with it."""
        nonlocal ext
        t = time.perf_counter()
        r = sh.run_cell(f"%%matx {opts}\n{body}", store_history=True)
        dt = time.perf_counter() - t
        if not r.success:
            raise RuntimeError(f"cell failed: {r.error_in_exec}")
        ext = ext or __import__("kernel_ext").extension(sh)
        build = ext.manager.builds[-1]
        build.wait()
        build.wait_final()
        if key:
            out.setdefault(key + "_final", []).append(time.perf_counter() - t)
        return dt

    out["first"] = [out["load_ext"][0] + cell("--sync", FIB)]  # cache miss: first cell of the session
    out["rerun"] = [cell("--sync", FIB) for _ in range(RERUNS)]
    stamp = time.time_ns() % 10**6  # constants no earlier session compiled
    cell("--sync", WORDS.replace("EDIT", str(stamp)))
    cell("--sync -O 3", WORDS.replace("EDIT", str(stamp)))
    for i in range(FORCED):  # the two kinds of build alternate, so that load hits both
        for tiers, suffix in (("", ""), (" -O 3", "_O3")):
            out.setdefault("fib_cold" + suffix, []).append(cell("--sync --force" + tiers, FIB, "fib_cold"))
            out.setdefault("class_cold" + suffix, []).append(
                cell("--sync --force" + tiers, TEXT2IDS, "class_cold"))
            n = stamp + 2 * i + 1 + (0 if suffix else 1000)
            out.setdefault("edit" + suffix, []).append(cell("--sync" + tiers, WORDS.replace("EDIT", str(n)), "edit"))
    for k in ("fib_cold", "class_cold", "edit"):  # "_final" of the quick builds only
        out[k + "_final"] = out[k + "_final"][0::2]
    t = time.perf_counter()
    for _ in range(FORCED):
        t = time.perf_counter()
        sh.run_cell("%%matx --force\n" + FIB, store_history=True)
        out.setdefault("returns", []).append(time.perf_counter() - t)
        ext.manager.builds[-1].wait()
        ext.manager.builds[-1].wait_final()
    return out


HIT = '''
import sys, time
t0 = time.perf_counter()
import matx_nb
sys.path.insert(0, sys.argv[1])
from fibmod import fib
import matx_nb.scripting, matx_nb.compiler.driver  # the compiler's imports, for the "call alone" figure
t1 = time.perf_counter()
matx_nb.script(fib)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
'''


def hits(env: dict, tmp: Path) -> dict:
    (tmp / "fibmod.py").write_text("from typing import List\n" + FIB)
    code = HIT
    subprocess.run([sys.executable, "-c", code, str(tmp)], env=env, cwd=ROOT, check=True, capture_output=True)
    call, total = [], []
    for _ in range(HITS):
        r = subprocess.run([sys.executable, "-c", code, str(tmp)], env=env, cwd=ROOT, check=True,
                           capture_output=True, text=True)
        imports, script = map(float, r.stdout.split())
        call.append(script)
    # import + script(), measured without the extra imports
    total_code = code.replace("import matx_nb.scripting, matx_nb.compiler.driver", "pass")
    for _ in range(HITS):
        r = subprocess.run([sys.executable, "-c", total_code, str(tmp)], env=env, cwd=ROOT, check=True,
                           capture_output=True, text=True)
        imports, script = map(float, r.stdout.split())
        total.append(imports + script)
    return {"hit_call": call, "hit_total": total}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--session":
        sys.stdout.write("MAGIC-RESULT " + json.dumps(session()) + "\n")
        return 0
    sys.path.insert(0, str(ROOT))
    from matx_nb.compiler import toolchain
    installed = toolchain.installed_pch(toolchain.Toolchain().key())
    samples: dict = {}
    for _ in range(SESSIONS):
        with tempfile.TemporaryDirectory(prefix="matx_nb_bench_magic_") as cache:
            env = dict(os.environ, MATX_NB_CACHE=cache)
            r = subprocess.run([sys.executable, __file__, "--session"], env=env, cwd=ROOT,
                               capture_output=True, text=True)
            if r.returncode != 0:
                sys.stderr.write(r.stderr)
                return 2
            res = json.loads(next(line for line in r.stdout.splitlines()[::-1]
                                  if line.startswith("MAGIC-RESULT "))[len("MAGIC-RESULT "):])
            res.update(hits(env, Path(cache)))
            for k, v in res.items():
                samples.setdefault(k, []).extend(v)
    ms = lambda s: f"{s * 1e3:.0f} ms" if s >= 0.01 else f"{s * 1e3:.1f} ms"  # noqa: E731
    # How fast this machine is now (shared machines vary by 2x from day to day):
    # a CPython loop of 10**7 additions, median of 5.
    loop = []
    for _ in range(5):
        t = time.perf_counter()
        acc = 0
        for i in range(10 ** 7):
            acc += i
        loop.append(time.perf_counter() - t)
    lines = [
        "# %%matx latency (bench/bench_magic.py)",
        "",
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; {SESSIONS} fresh "
        f"sessions, each with an empty compile cache; precompiled header: "
        f"{'the one the install built' if installed else 'NONE (the install built none)'}. "
        "Medians of all samples, spread min-max.",
        "",
        f"Speed of this machine during the run: a CPython loop of 10**7 additions takes "
        f"{statistics.median(loop):.2f} s (median of 5).",
        "",
        "| what | median | spread | samples | target |",
        "|---|---|---|---|---|",
    ]
    all_met = True
    for key, what, target in ROWS:
        xs = samples[key]
        med = statistics.median(xs)
        verdict = ""
        if target is not None:
            met = med <= target
            all_met &= met
            verdict = f"≤ {ms(target)}: {'met' if met else 'MISSED'}"
        lines.append(f"| {what} | {ms(med)} | {ms(min(xs))}-{ms(max(xs))} | {len(xs)} | {verdict} |")
    lines.append("")
    text = "\n".join(lines)
    (ROOT / "bench" / "MAGIC_RESULTS.md").write_text(text)
    print(text)
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
