"""The compiled code's speed at two commits, side by side in one run: a change to
the compiler or the runtime must not make a row of `make bench` slower.

    .venv/bin/python bench/ab_commits.py OLD [--rounds 3] [--only fib,text2ids]
    .venv/bin/python bench/ab_commits.py OLD --magic     # %%matx latency instead

--magic runs bench_magic.py's sessions (cold cells, an edit, a re-run) for OLD and
NEW alternately, each with an empty compile cache and its own install-time
runtime (OLD's is built into its exported tree first).

OLD (any git revision) is exported into bench/_work/ab/<rev>/ and run with its
own compiler and runtime headers, and with this install's native module where
the Python <-> C++ ABI is the same at both (else OLD's own, built with g++ from
its runtime/python); NEW is the working tree as installed. The
matx_nb runner of `make bench` (runners/script_runner.py) runs for each,
alternating, `rounds` times, each in a fresh process with its own empty compile
cache. Each row gives both medians of the per-round medians, new/old, and the
spread of the rounds. Writes bench/AB_RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNNER = HERE / "runners" / "script_runner.py"

# Runs a script (or -m module) of an exported tree: the editable install's import
# hook would otherwise map `matx_nb` back to the working tree.
BOOT = """
import runpy, sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__]
sys.path.insert(0, sys.argv[1])
sys.argv = sys.argv[2:]
if sys.argv[0] == "-m":
    sys.argv = sys.argv[1:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    runpy.run_path(sys.argv[0], run_name="__main__")
"""


def export(rev: str) -> Path:
    sha = subprocess.run(["git", "rev-parse", rev], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    d = HERE / "_work" / "ab" / sha[:12]
    if not (d / "matx_nb").exists():
        d.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha, "matx_nb", "runtime", "bench", "kernel_ext"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(d)], input=archive, check=True)
    # the same input data for both (bench/data.py writes it on first use)
    sys.path.insert(0, str(HERE))
    import data
    data.ensure()
    (d / "bench" / "_work").mkdir(parents=True, exist_ok=True)
    link = d / "bench" / "_work" / "data"
    if not link.exists():
        link.symlink_to(HERE / "_work" / "data")
    import importlib.util
    native = importlib.util.find_spec("matx_nb._native").origin
    target = d / "matx_nb" / Path(native).name
    if abi_version(d) == abi_version(ROOT):
        shutil.copy2(native, target)
    elif not target.exists():  # OLD talks to compiled code another way: build its own module
        build_native(d, target)
    return d


def abi_version(tree: Path) -> str:
    import re
    text = (tree / "runtime" / "include" / "matx_nb" / "abi.h").read_text()
    return re.search(r"#define MATX_NB_ABI_VERSION (\d+)", text).group(1)


def build_native(tree: Path, target: Path) -> None:
    """OLD's matx_nb._native from its own runtime/python, as CMakeLists.txt builds it."""
    import sysconfig
    try:
        import pybind11
    except ImportError:
        raise SystemExit(f"OLD's native module is built with pybind11: {sys.executable} -m pip install pybind11")
    cmd = ["g++", "-O2", "-ftls-model=initial-exec", "-std=c++17", "-shared", "-fPIC", "-fvisibility=hidden",
           f"-I{pybind11.get_include()}", f"-I{sysconfig.get_paths()['include']}",
           f"-I{tree / 'runtime' / 'include'}", str(tree / "runtime" / "python" / "native.cc"),
           "-o", str(target), "-ldl"]
    print(f"building {target.name} of the old tree (ABI {abi_version(tree)})", file=sys.stderr)
    subprocess.run(cmd, check=True)


def run_once(tree: Path | None, only: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="matx_nb_ab_") as cache:
        env = dict(os.environ, MATX_NB_CACHE=cache)
        if only:
            env["BENCH_ONLY"] = only
        if tree is None:
            cmd = [sys.executable, str(RUNNER), "matx_nb"]
        else:
            cmd = [sys.executable, "-c", BOOT, str(tree), str(tree / "bench" / "runners" / "script_runner.py"),
                   "matx_nb"]
        r = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stderr[-4000:])
            raise SystemExit(f"the runner failed for {tree or 'the working tree'}")
        return json.loads(r.stdout.strip().splitlines()[-1])["cells"]


MAGIC_ROWS = ("first", "fib_cold", "class_cold", "edit", "rerun")


def session_result(stdout: str) -> dict:
    """A bench_magic.py --session's samples: its "MAGIC-RESULT {json}" line (what a
    cell prints may follow it), or the last line for trees that printed the JSON alone."""
    lines = stdout.strip().splitlines()
    marked = [line for line in lines if line.startswith("MAGIC-RESULT ")]
    return json.loads(marked[-1][len("MAGIC-RESULT "):] if marked else lines[-1])


def magic(old_tree: Path, rounds: int) -> dict:
    """bench_magic.py's session rows for both trees: {(row, side): samples}."""
    # OLD's install-time runtime, as its install would have built it
    subprocess.run([sys.executable, "-c", BOOT, str(old_tree), "-m", "matx_nb.compiler.toolchain", "--build-pch",
                    str(old_tree / "matx_nb" / "pch")], cwd=old_tree, check=True, capture_output=True)
    rows: dict = {}
    for _ in range(rounds):
        for side, tree in (("old", old_tree), ("new", ROOT)):
            with tempfile.TemporaryDirectory(prefix="matx_nb_ab_") as cache:
                script = str(tree / "bench" / "bench_magic.py")
                cmd = ([sys.executable, "-c", BOOT, str(tree), script, "--session"] if side == "old"
                       else [sys.executable, script, "--session"])
                r = subprocess.run(cmd, env=dict(os.environ, MATX_NB_CACHE=cache), cwd=tree,
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    sys.stderr.write(r.stderr[-4000:])
                    raise SystemExit(f"bench_magic failed for {side}")
                for k, v in session_result(r.stdout).items():
                    rows.setdefault((k, side), []).extend(v)
    return rows


def fmt(s: float) -> str:
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    if s >= 1e-6:
        return f"{s * 1e6:.2f} µs"
    return f"{s * 1e9:.1f} ns"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--magic", action="store_true", help="%%%%matx latency (bench_magic.py) instead")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    old_tree = export(args.old)
    if args.magic:
        rows = magic(old_tree, args.rounds)
        lines = [f"# %%matx latency at {args.old} (old) and the working tree (new)", "",
                 f"{platform.node()}: {os.cpu_count()} cores; `bench/ab_commits.py {args.old} --magic --rounds "
                 f"{args.rounds}`: bench_magic.py's sessions, old and new alternating, each with an empty "
                 "compile cache and its install-time runtime. Medians of all samples; spread min-max.", "",
                 "| row | old | new | new / old |", "|---|---|---|---|"]
        for k in MAGIC_ROWS:
            o, n = rows[(k, "old")], rows[(k, "new")]
            lines.append(f"| {k} | {fmt(statistics.median(o))} ({fmt(min(o))}-{fmt(max(o))}) | "
                         f"{fmt(statistics.median(n))} ({fmt(min(n))}-{fmt(max(n))}) | "
                         f"{statistics.median(n) / statistics.median(o):.2f} |")
        text = "\n".join(lines) + "\n"
        Path(args.out or HERE / "AB_MAGIC_RESULTS.md").write_text(text)
        print(text)
        return 0
    samples: dict = {"old": {}, "new": {}}
    digests: dict = {"old": {}, "new": {}}
    for _ in range(args.rounds):
        for side, tree in (("old", old_tree), ("new", None)):
            for name, cell in run_once(tree, args.only).items():
                if "error" in cell:
                    raise SystemExit(f"{name} failed for {side}: {cell['error']}")
                if "time" in cell:
                    samples[side].setdefault(name, []).append(cell["time"])
                    digests[side][name] = cell.get("digest")
    lines = [f"# Compiled code at {args.old} (old) and the working tree (new)", "",
             f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"`bench/ab_commits.py {args.old} --rounds {args.rounds}`: the matx_nb runner of `make bench`, "
             "old and new alternating, each round a fresh process and compile cache. Median of the "
             "rounds' medians; spread: the rounds' min-max. On a shared machine whose speed drifts, the "
             "fastest rounds' ratio is the steadier figure of the code's own speed.", "",
             "| workload | old | new | new / old | old spread | new spread | new / old, fastest rounds | same result |",
             "|---|---|---|---|---|---|---|---|"]
    worst = 0.0
    for name in samples["new"]:
        o, n = samples["old"].get(name), samples["new"][name]
        if not o:
            continue
        mo, mn = statistics.median(o), statistics.median(n)
        ratio = mn / mo
        worst = max(worst, ratio)
        same = "yes" if digests["old"].get(name) == digests["new"].get(name) else "NO"
        lines.append(f"| {name} | {fmt(mo)} | {fmt(mn)} | {ratio:.2f} | {fmt(min(o))}-{fmt(max(o))} | "
                     f"{fmt(min(n))}-{fmt(max(n))} | {min(n) / min(o):.2f} | {same} |")
    lines += ["", f"Largest new/old of the medians: {worst:.2f}.", ""]
    text = "\n".join(lines)
    Path(args.out or HERE / "AB_RESULTS.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
