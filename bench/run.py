"""The benchmark suite: matx_nb against CPython and its peers, side by side.

    make bench                # = .venv/bin/python bench/run.py; writes bench/RESULTS.md

One orchestrator. Each system runs in its own process, and each peer in its own
virtual environment under bench/_work/venvs/ (created on the first run, reused
after; versions pinned below), so clashing versions never share a process:

    system         venv                         runner (prints one JSON object)
    CPython        .venv (the project's)        runners/script_runner.py cpython
    matx_nb        .venv                        runners/script_runner.py matx_nb
    MATXScript     _work/venvs/matxscript       runners/script_runner.py matxscript
    TorchScript    _work/venvs/torchscript      runners/torch_runner.py
    Numba          _work/venvs/numba            runners/numba_runner.py
    HF tokenizers  _work/venvs/hf_tokenizers    runners/hf_runner.py
    C++ (g++ -O2)  -                            runners/handwritten.cc

CPython, matx_nb and MATXScript run the very same source, bench/workloads.py;
TorchScript and Numba run small adaptations (runners/*_workloads.py, each says
what differs). All read the same generated data (bench/data.py, fixed seed,
files under bench/_work/data/). Every result is reduced to a canonical text and
its hash compared with CPython's; a mismatch is marked WRONG in the table.

Options: --quick (fewer compile-latency runs), --only SYSTEM[,SYSTEM] (the rest of
the table is left empty), --no-peers (CPython, matx_nb and C++ only).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work"
VENVS = WORK / "venvs"
RUNNERS = HERE / "runners"
sys.path.insert(0, str(HERE))

import data  # noqa: E402
import harness  # noqa: E402

# Pinned peers. torch 2.13.0: this machine has its CPU build as a local wheel
# (any other version would download gigabytes of CUDA libraries).
PEERS = {
    "matxscript": {"pkgs": ["matxscript==1.8.1"], "module": "matx"},
    "torchscript": {"pkgs": ["torch==2.13.0"], "module": "torch"},
    "numba": {"pkgs": ["numba==0.68.0"], "module": "numba"},
    "hf_tokenizers": {"pkgs": ["tokenizers==0.23.2"], "module": "tokenizers"},
}
SYSTEMS = ["cpython", "matx_nb", "matxscript", "torchscript", "numba", "hf_tokenizers", "cpp"]
TITLES = {"cpython": "CPython", "matx_nb": "matx_nb", "matxscript": "MATXScript",
          "torchscript": "TorchScript", "numba": "Numba", "hf_tokenizers": "HF tokenizers",
          "cpp": "C++ -O2"}
ROWS = {
    "fib": "fib(30), recursion",
    "text2ids": "text→ids, 1M words, Dict[str, int] + UNK",
    "wordpiece": "BERT basic + WordPiece, 8000 en/zh sentences",
    "str_pipeline": "str pipeline, 200k lines",
    "inverted_index": "inverted index, 200k pairs (5k docs × 40 words)",
    "class_method": "class method in a loop, 1M calls",
    "int_loop": "integer loop, 3M iterations",
    "gen_sum": "sum(i*i % 7 for i in range(10M)), generator expression",
    "add": "add(1, 2) from Python, per call",
    "list_len": "List[str] × 1000 passed in, per call",
}
RUNNER_TIMEOUT = 480

# Why missed targets are missed: a dated, hand-measured analysis (perf, callgrind,
# experiments), kept as static text and included in RESULTS.md under its own heading.
# Its "### " blocks say which targets they explain with a comment `<!-- targets: KEY ... -->`;
# the keys are matched to the target rows by these label prefixes.
ANALYSIS = HERE / "ANALYSIS.md"
TARGET_KEYS = [  # (label prefix, key)
    ("fib(30)", "fib"), ("text→ids", "text2ids"), ("BERT basic + WordPiece", "wordpiece"),
    ("WordPiece: HF tokenizers", "wordpiece_hf"), ("str pipeline", "str_pipeline"),
    ("inverted index", "inverted_index"), ("class method", "class_method"),
    ("integer loop", "int_loop"), ("sum(i*i % 7", "gen_sum"), ("add(1, 2)", "add"), ("List[str]", "list_len"),
    ("cold compile, small function", "cold_fn"), ("cold compile, class", "cold_class"),
    ("cache hit", "cache_hit"), ("`import matx_nb`", "import"),
]

# Causes found by hand for wrong results (printed only when that cell is WRONG).
KNOWN_WRONG = {
    ("torchscript", "class_method"):
        "TorchScript 2.13.0 evaluates the method call twice in `self.next() % 1000`: its "
        "graph has two `prim::CallMethod[name=\"next\"]` before `aten::remainder` (checked "
        "with `.graph`), so the generator advances twice per iteration.",
    ("torchscript", "wordpiece"):
        "TorchScript iterates a `str` by UTF-8 byte, not by character (`for ch in text`), so "
        "CJK, accented and other non-ASCII characters are split into bytes.",
}


def log(msg: str) -> None:
    print("[bench %6.1fs] %s" % (time.perf_counter() - T0, msg), file=sys.stderr, flush=True)


T0 = time.perf_counter()


# ----------------------------------------------------------------- environments

def base_python() -> str:
    return getattr(sys, "_base_executable", None) or sys.executable


def other_pythons() -> List[str]:
    """Older interpreters to fall back on for a peer that does not run on ours."""
    out = []
    for v in ("3.10", "3.9", "3.8"):
        p = shutil.which("python" + v)
        if p is None:
            found = sorted(Path.home().glob(".pyenv/versions/%s*/bin/python%s" % (v, v)))
            p = str(found[-1]) if found else None
        if p:
            out.append(p)
    return out


def tail(text: str, n: int = 400) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else "…" + text[-n:]


def ensure_venv(name: str) -> dict:
    """Creates (or reuses) the peer's venv. Returns {"python": path} or {"error": text}."""
    spec = PEERS[name]
    d = VENVS / name
    marker = d / ".bench-spec.json"
    want = {"pkgs": spec["pkgs"]}
    py = d / "bin" / "python"
    if py.exists() and marker.exists():
        try:
            have = json.loads(marker.read_text())
            if have.get("pkgs") == spec["pkgs"]:
                return {"python": str(py), "interpreter": have.get("interpreter", "")}
        except ValueError:
            pass
    errors = []
    for base in [base_python()] + (other_pythons() if name == "matxscript" else []):
        shutil.rmtree(d, ignore_errors=True)
        t = time.perf_counter()
        log("creating venv %s with %s: pip install %s" % (name, base, " ".join(spec["pkgs"])))
        r = subprocess.run([base, "-m", "venv", str(d)], capture_output=True, text=True)
        if r.returncode == 0:
            r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                                *spec["pkgs"]], capture_output=True, text=True, timeout=900)
        if r.returncode == 0:  # it installed: does it import?
            r = subprocess.run([str(py), "-c", "import " + spec["module"]], capture_output=True,
                               text=True, cwd=str(WORK), timeout=300)
        if r.returncode == 0:
            ver = subprocess.run([str(py), "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True).stdout.strip()
            marker.write_text(json.dumps(dict(want, interpreter=ver)))
            log("venv %s ready in %.1f s" % (name, time.perf_counter() - t))
            return {"python": str(py), "interpreter": ver}
        errors.append("%s: %s" % (base, tail(r.stderr or r.stdout)))
        log("venv %s with %s failed: %s" % (name, base, errors[-1]))
    shutil.rmtree(d, ignore_errors=True)
    return {"error": "could not install/import %s: %s" % (" ".join(spec["pkgs"]), " | ".join(errors))}


# ----------------------------------------------------------------- runners

def run_json(cmd: List[str], env_extra: Dict[str, str], timeout: int = RUNNER_TIMEOUT,
             cwd: Optional[Path] = None) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users run with bytecode caching
    env.update(env_extra)
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                           cwd=str(cwd or WORK))
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return {"error": "timed out after %d s; last output: %s" % (timeout, tail(err, 300))}
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        return {"error": "exit %d: %s" % (r.returncode, tail(r.stderr, 400))}
    out = json.loads(lines[-1])
    out["stderr_tail"] = tail(r.stderr, 2000)
    return out


def build_cpp() -> dict:
    exe = WORK / "handwritten"
    src = RUNNERS / "handwritten.cc"
    cxx = os.environ.get("CXX", "g++")
    r = subprocess.run([cxx, "-O2", "-std=c++17", "-o", str(exe), str(src)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return {"error": "g++ failed: " + tail(r.stderr)}
    return {"exe": str(exe)}


def run_cpp() -> dict:
    b = build_cpp()
    if "error" in b:
        return b
    outdir = WORK / "cpp_out"
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    res = run_json([b["exe"], str(data.DATA), str(outdir)], {})
    if "error" in res:
        return res
    for name, cell in res["cells"].items():
        text = (outdir / (name + ".txt")).read_text(encoding="utf-8")
        cell["digest"] = data.digest(text)
    note = "hand-written, not generated: the practical limit"
    for name in harness.WORKLOADS:
        if name not in res["cells"]:
            res["cells"][name] = {"na": "not written"}
        else:
            res["cells"][name]["note"] = note
    res["version"] = gpp_version()
    return res


def gpp_version() -> str:
    try:
        return subprocess.run([os.environ.get("CXX", "g++"), "--version"], capture_output=True,
                              text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "?"


# ----------------------------------------------------------------- compile latency

def latency(pythons: Dict[str, str], runs: int) -> dict:
    """Cold (empty cache), cold with matx_nb's precompiled header ready, and cache
    hit in a new process; `import` times. Each one a fresh process."""
    lat_py = str(RUNNERS / "latency.py")
    out: dict = {"compile": {}, "import": {}}
    lat_dir = WORK / "latency"
    shutil.rmtree(lat_dir, ignore_errors=True)
    lat_dir.mkdir(parents=True)
    for system in ("matx_nb", "matxscript"):
        py = pythons.get(system)
        if py is None:
            continue
        for obj in ("fib", "Text2Ids", "BertTokenizer"):
            cold, pch, hit, errs = [], [], [], []
            for i in range(runs):
                cache = Path(tempfile.mkdtemp(prefix="%s_%s_" % (system, obj), dir=lat_dir))
                env = {"MATX_NB_CACHE": str(cache)} if system == "matx_nb" else \
                    {"MATX_DSO_DIR": str(cache / "dso")}
                r = run_json([py, lat_py, "compile", system, obj], env, timeout=300)
                if "error" in r:
                    errs.append(r["error"])
                    break
                cold.append(r["script"])
                if system == "matx_nb":  # the header build the cold compile started: let it end
                    subprocess.run([py, "-c", "from matx_nb.compiler.toolchain import Toolchain;"
                                    "Toolchain().wait_for_pch()"],
                                   env=dict(os.environ, MATX_NB_CACHE=str(cache)), cwd=str(WORK))
                r = run_json([py, lat_py, "compile", system, obj], env, timeout=300)
                if "error" in r:
                    errs.append(r["error"])
                    break
                if system == "matx_nb" and r.get("hit") is not True:
                    errs.append("second compile was not a cache hit")
                hit.append(r["script"])
                if system == "matx_nb":  # same cache, library removed: the header is ready
                    shutil.rmtree(cache / "lib", ignore_errors=True)
                    r = run_json([py, lat_py, "compile", system, obj], env, timeout=300)
                    if "error" not in r:
                        pch.append(r["script"])
                shutil.rmtree(cache, ignore_errors=True)
            med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
            out["compile"]["%s:%s" % (system, obj)] = {
                "cold": med(cold), "cold_pch": med(pch), "hit": med(hit), "runs": len(cold),
                "error": errs[0] if errs else None}
            log("compile latency %s %s: %s" % (system, obj, out["compile"]["%s:%s" % (system, obj)]))
    mods = [("matx_nb", "matx_nb", 7), ("matxscript", "matx", 5), ("torchscript", "torch", 3),
            ("numba", "numba", 3), ("hf_tokenizers", "tokenizers", 3)]
    for system, mod, n in mods:
        py = pythons.get(system)
        if py is None:
            continue
        ts = []
        for _ in range(n):
            r = run_json([py, lat_py, "import", mod], {}, timeout=120)
            if "error" in r:
                out["import"][mod] = {"error": r["error"]}
                break
            ts.append(r["import"])
        else:
            out["import"][mod] = {"time": statistics.median(ts), "runs": n}
    return out


# ----------------------------------------------------------------- report

def fmt(s: Optional[float]) -> str:
    if s is None:
        return "–"
    if s >= 1:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.2f ms" % (s * 1e3)
    if s >= 1e-6:
        return "%.2f µs" % (s * 1e6)
    return "%.0f ns" % (s * 1e9)


def fmt_ratio(r: float) -> str:
    if r >= 100:
        return "%.0f×" % r
    if r >= 10:
        return "%.1f×" % r
    if r >= 0.01:
        return "%.2f×" % r
    return "%.2g×" % r


def cell_md(results: dict, system: str, name: str) -> str:
    res = results.get(system)
    if res is None:
        return "not run"
    if "error" in res and "cells" not in res:
        return "not run: " + md_escape(res["error"][:160])
    c = res["cells"].get(name, {})
    if "na" in c:
        return "n/a"
    if "error" in c:
        return "✗ " + md_escape(c["error"][:140] + ("…" if len(c["error"]) > 140 else ""))
    ref = results["cpython"]["cells"].get(name, {}) if "cpython" in results else {}
    t = fmt(c["time"])
    if ref.get("digest") and c.get("digest") != ref["digest"]:
        return "**❌ WRONG RESULT** (%s)" % t
    if system == "cpython" or "time" not in ref:
        return t
    return "%s (%s)" % (t, fmt_ratio(ref["time"] / c["time"]))


def md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def git_state() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(ROOT), capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "matx_nb", "runtime"],
                               cwd=str(ROOT), capture_output=True, text=True).stdout.strip()
    except OSError:
        return "not a git checkout"
    if not rev:
        return "not a git checkout"
    return "git %s%s" % (rev, ", with uncommitted changes under matx_nb/ or runtime/" if dirty else "")


def machine_line() -> str:
    cpu = "?"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        mem = 0
    return "%s, %d cores, %.0f GiB RAM; %s; Python %s; %s" % (
        cpu, os.cpu_count() or 0, mem, platform.platform(), platform.python_version(), gpp_version())


def targets(results: dict, lat: dict) -> List[tuple]:
    """(target, measured, status) for every target of the issue."""
    def cells(system):
        return results.get(system, {}).get("cells", {})

    def cpython_over_matx(name):
        py, mx = cells("cpython").get(name, {}), cells("matx_nb").get(name, {})
        if "time" not in mx:
            return None, mx.get("error", "not run")
        if py.get("digest") != mx.get("digest"):
            return None, "WRONG RESULT"
        return py["time"] / mx["time"], None

    def limit(name):
        py, c = cells("cpython").get(name, {}), cells("cpp").get(name, {})
        if "time" in c and "time" in py and c.get("digest") == py.get("digest"):
            return fmt_ratio(py["time"] / c["time"])
        return ""

    rows = []
    for name, need in (("fib", 150), ("text2ids", 2), ("wordpiece", 5), ("str_pipeline", 2),
                       ("inverted_index", 1.5), ("class_method", 3), ("int_loop", 45),
                       ("gen_sum", 40)):
        r, err = cpython_over_matx(name)
        label = "%s: CPython / matx_nb ≥ %g×" % (ROWS[name].split(",")[0], need)
        if r is None:
            rows.append((label, err[:80], "**MISSED**", limit(name)))
        else:
            rows.append((label, fmt_ratio(r), "met" if r >= need else "**MISSED**", limit(name)))
        if name == "wordpiece":
            hf, mx = cells("hf_tokenizers").get(name, {}), cells("matx_nb").get(name, {})
            label = "WordPiece: HF tokenizers (1 thread) / matx_nb ≥ 3×"
            if "time" in hf and "time" in mx and r is not None:
                q = hf["time"] / mx["time"]
                rows.append((label, fmt_ratio(q), "met" if q >= 3 else "**MISSED**", ""))
            else:
                rows.append((label, "not measured", "**MISSED**", ""))
    for name, lim in (("add", 150e-9), ("list_len", 25e-6)):
        c = cells("matx_nb").get(name, {})
        label = "%s ≤ %s" % (ROWS[name].replace(", per call", ""), fmt(lim))
        if "time" in c:
            rows.append((label, fmt(c["time"]), "met" if c["time"] <= lim else "**MISSED**", ""))
        else:
            rows.append((label, c.get("error", "not run")[:80], "**MISSED**", ""))
    comp = lat.get("compile", {})
    for key, label, bound, field in (
            ("matx_nb:fib", "cold compile, small function (fib), empty cache ≤ 0.5 s", 0.5, "cold"),
            ("matx_nb:Text2Ids", "cold compile, class (Text2Ids), empty cache ≤ 0.8 s", 0.8, "cold"),
            ("matx_nb:fib", "cache hit in a new process (fib) ≤ 20 ms", 0.02, "hit"),
            ("matx_nb:Text2Ids", "cache hit in a new process (Text2Ids) ≤ 20 ms", 0.02, "hit")):
        v = comp.get(key, {}).get(field)
        if v is None:
            rows.append((label, "not measured", "**MISSED**", ""))
        else:
            rows.append((label, fmt(v), "met" if v <= bound else "**MISSED**", ""))
    imp = lat.get("import", {}).get("matx_nb", {}).get("time")
    rows.append(("`import matx_nb` ≤ 0.3 s", fmt(imp),
                 "met" if imp is not None and imp <= 0.3 else "**MISSED**", ""))
    return rows


def target_key(label: str) -> str:
    for prefix, key in TARGET_KEYS:
        if label.startswith(prefix):
            return key
    return label


def short_rev() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(ROOT), capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return ""


def analysis_section(rows: List[tuple], rev: Optional[str] = None) -> List[str]:
    """'## Why targets are missed (profiled)': bench/ANALYSIS.md, with a line relating
    it to this run (its commit `rev`, and which of this run's misses it covers)."""
    L = ["## Why targets are missed (profiled)", ""]
    if not ANALYSIS.exists():
        return L + ["bench/ANALYSIS.md is missing: no profiled explanation.", ""]
    text = ANALYSIS.read_text(encoding="utf-8")
    meta = re.search(r"<!--\s*measured-at:\s*([0-9a-f]+);\s*date:\s*([0-9-]+)\s*-->", text)
    covered = set()
    for m in re.finditer(r"<!--\s*targets:([^>]*)-->", text):
        covered.update(m.group(1).split())
    body = re.sub(r"<!--.*?-->\n?", "", text, flags=re.S).strip()
    missed = [t for t, _, st, _ in rows if "MISSED" in st]
    at, date = (meta.group(1), meta.group(2)) if meta else ("?", "?")
    rev = short_rev() if rev is None else rev
    same = bool(rev) and (rev.startswith(at) or at.startswith(rev))
    note = ("Not measured by this run: a separate profiling session on %s at commit %s (%s), kept in "
            "bench/ANALYSIS.md; its figures are its own, not this run's." % (
                date, at, "the commit of this run" if same else "this run is at %s" % (rev or "?")))
    uncovered = [t for t in missed if target_key(t) not in covered]
    met_now = [t for t, _, st, _ in rows if "MISSED" not in st and target_key(t) in covered]
    if uncovered:
        note += " Missed in this run but not explained below: %s." % "; ".join(uncovered)
    if met_now:
        note += " Explained below but met in this run: %s." % "; ".join(met_now)
    return L + [note, "", body, ""]


def report(results: dict, lat: dict, venvs: dict, wall: float, load: tuple, cmd: str) -> str:
    L = ["# Benchmark results", "",
         "Written by `%s` (bench/run.py); every figure below comes from that one run, except the "
         "last section's (a dated profiling session, bench/ANALYSIS.md)." % cmd, "",
         "- Machine: " + machine_line() + ".",
         "- Load average (1/5/15 min) at start %s, at end %s: other processes may share "
         "the 2 cores (this is a shared development machine)." % (
             "/".join("%.2f" % x for x in load[0]), "/".join("%.2f" % x for x in load[1])),
         "- Whole run: %.0f s wall (target ≤ 15 min)." % wall,
         "- matx_nb measured from this checkout: %s." % git_state(), ""]
    L.append("Versions: " + "; ".join(
        "%s %s" % (TITLES[s], results[s].get("version", "?")) for s in SYSTEMS
        if s in results and "version" in results[s]) + ".")
    interp = {s: v.get("interpreter") for s, v in venvs.items() if v.get("interpreter")}
    if interp:
        L.append("Peer venvs' Python: " + ", ".join("%s %s" % (TITLES[s], v) for s, v in interp.items())
                 + " (bench/_work/venvs/).")
    for s, v in venvs.items():
        if "error" in v:
            L.append("**%s could not be installed:** %s" % (TITLES[s], md_escape(v["error"])))
    L += ["",
          "## Run time (median; in parentheses CPython time / system time)", "",
          "Each cell is one whole call from Python: argument conversion and the result's "
          "conversion back included (C++: data already in memory). Median over ≥ 5 samples "
          "(≤ 41, about 1.5 s per cell) after one warm-up call; per-call rows time a loop of "
          "calls (the loop's own ~5 ns included). Every result is compared with CPython's "
          "(canonical text, SHA-1): **❌ WRONG RESULT** marks a mismatch; ✗ is an error "
          "(compile error text, shortened); n/a: the system does not apply or was not adapted.", ""]
    cols = [s for s in SYSTEMS if s in results]
    L.append("| workload | " + " | ".join(TITLES[s] for s in cols) + " |")
    L.append("|---" * (len(cols) + 1) + "|")
    for name in harness.WORKLOADS:
        L.append("| %s | %s |" % (ROWS[name], " | ".join(cell_md(results, s, name) for s in cols)))
    L += ["", "## Targets (CPython time / matx_nb time, argument conversion included)", "",
          "The last column is the same ratio for the hand-written C++ (g++ -O2), where there "
          "is one: what a practical implementation reaches on this machine.", "",
          "| target | measured | status | C++ -O2, for scale |", "|---|---|---|---|"]
    rows = targets(results, lat)
    for t, m, st, lim in rows:
        L.append("| %s | %s | %s | %s |" % (t, md_escape(m), st, lim))
    missed = [t for t, _, st, _ in rows if "MISSED" in st]
    L += ["", ("**Missed: %d of %d targets** — %s." % (len(missed), len(rows), "; ".join(missed)))
          if missed else "All targets met.", ""]
    L += ["## Compile latency (each a fresh process; median of %s runs)" % (
        max([v.get("runs", 0) for v in lat.get("compile", {}).values()] or [0])), "",
          "Cold: empty cache. matx_nb builds its precompiled runtime header in the background "
          "after the first compile in an empty cache; 'header ready' is a compile with that "
          "header built but the library not cached (every compile after the first). "
          "Hit: the same object in a new process with the cache filled. Times are "
          "`script(obj)` only; `import` is below.", "",
          "| system | object | cold, empty cache | cold, header ready | cache hit, new process |",
          "|---|---|---|---|---|"]
    for key, v in lat.get("compile", {}).items():
        system, obj = key.split(":")
        if v.get("error") and v.get("cold") is None:
            L.append("| %s | %s | ✗ %s | | |" % (TITLES[system], obj, md_escape(v["error"][:150])))
            continue
        L.append("| %s | %s | %s | %s | %s |" % (
            TITLES[system], obj, fmt(v.get("cold")),
            fmt(v.get("cold_pch")) if system == "matx_nb" else "n/a", fmt(v.get("hit"))))
    L += ["", "`import` in a fresh process (median): " + ", ".join(
        "`import %s` %s" % (m, fmt(v.get("time")) if "time" in v else "✗ " + v.get("error", ""))
        for m, v in lat.get("import", {}).items()) + ".", ""]
    L += ["## Notes", "",
          "- CPython, matx_nb and MATXScript run the same file, `bench/workloads.py`, unchanged. "
          "TorchScript runs `bench/runners/torch_workloads.py` (classes as `nn.Module`, `Set` as "
          "`Dict[str, bool]`, the LCG class driven by a scripted function; TorchScript has no "
          "recursion, so fib stays as written and fails to compile) and Numba "
          "`bench/runners/numba_workloads.py` (`@njit`, `@jitclass`; the vocabulary as a "
          "`numba.typed.Dict`; the WordPiece, str pipeline and inverted index workloads are "
          "not adapted). The C++ is `bench/runners/handwritten.cc`.",
          "- MATXScript results come back as `matx.List`/`matx.Dict` (not converted in the "
          "timed call; converted afterwards for the check); matx_nb returns Python objects, "
          "conversion included. MATXScript is compiled in a fresh cache each run.",
          "- `bench/workloads.py` names `text.lower()` before iterating it: iterating the "
          "temporary directly gives corrupted characters under MATXScript 1.8.1 (a freed "
          "temporary); the named form is the same Python for every system.",
          "- Accent stripping, BERT whitespace and punctuation come in as tables built with "
          "`unicodedata` by bench/data.py (NFD, drop category Mn; Zs; P* and ASCII symbols) "
          "since no compiler here offers `unicodedata`; the same tables for every system. "
          "HF tokenizers' `BertWordPieceTokenizer` (same vocab file, lower case, strip "
          "accents, CJK splitting, no special tokens) must give identical ids.",
          "- TorchScript's WordPiece cell runs with the graph executor's optimizations off "
          "(`torch._C._get_graph_executor_optimize(False)`): with the default, each call is "
          "slower than the one before (320 sentences 6 s, 640 sentences 34 s, measured by "
          "hand); every other TorchScript cell runs with the default. TorchScript runs on one "
          "thread (`torch.set_num_threads(1)`), HF tokenizers with `RAYON_NUM_THREADS=1`.",
          ]
    for (s, name), why in KNOWN_WRONG.items():
        c = results.get(s, {}).get("cells", {}).get(name, {})
        ref = results.get("cpython", {}).get("cells", {}).get(name, {})
        if c.get("digest") and ref.get("digest") and c["digest"] != ref["digest"]:
            L.append("- %s %s is WRONG: %s" % (TITLES[s], name, why))
    for s in cols:
        for name, c in results[s].get("cells", {}).items():
            if "note" in c and s not in ("cpp", "hf_tokenizers"):
                L.append("- %s, %s: %s." % (TITLES[s], name, c["note"]))
    L.append("")
    L += analysis_section(rows)
    return "\n".join(L)


# ----------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one compile-latency run instead of three")
    ap.add_argument("--only", default="", help="comma-separated systems to run")
    ap.add_argument("--no-peers", action="store_true", help="CPython, matx_nb and C++ only")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else set(SYSTEMS)
    if args.no_peers:
        only &= {"cpython", "matx_nb", "cpp"}
    load0 = os.getloadavg()
    WORK.mkdir(parents=True, exist_ok=True)

    log("data")
    data.ensure()

    pythons: Dict[str, str] = {"cpython": sys.executable, "matx_nb": sys.executable}
    venvs: Dict[str, dict] = {}
    for name in PEERS:
        if name in only:
            venvs[name] = ensure_venv(name)
            if "python" in venvs[name]:
                pythons[name] = venvs[name]["python"]

    results: Dict[str, dict] = {}
    runs = WORK / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    script_runner = str(RUNNERS / "script_runner.py")
    for system in SYSTEMS:
        if system not in only:
            continue
        log("running " + system)
        t = time.perf_counter()
        if system == "cpp":
            res = run_cpp()
        elif system in venvs and "error" in venvs[system]:
            res = {"error": venvs[system]["error"]}
        elif system in ("cpython", "matx_nb", "matxscript"):
            env = {"MATX_NB_CACHE": tempfile.mkdtemp(prefix="matx_nb_", dir=runs),
                   "MATX_DSO_DIR": tempfile.mkdtemp(prefix="matxscript_", dir=runs)}
            res = run_json([pythons[system], script_runner, system], env)
        else:
            runner = {"torchscript": "torch_runner.py", "numba": "numba_runner.py",
                      "hf_tokenizers": "hf_runner.py"}[system]
            res = run_json([pythons[system], str(RUNNERS / runner)],
                           {"RAYON_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
        res["wall_s"] = time.perf_counter() - t
        results[system] = res
        (runs / (system + ".json")).write_text(json.dumps(res, indent=1))
        log("%s done in %.1f s%s" % (system, res["wall_s"],
                                     (": " + res["error"]) if "error" in res else ""))

    lat = latency({k: v for k, v in pythons.items() if k in ("matx_nb", "matxscript", "torchscript",
                                                              "numba", "hf_tokenizers") and k in only},
                  1 if args.quick else 3)
    wall = time.perf_counter() - T0
    cmd = "make bench" if not (args.quick or args.only or args.no_peers) else \
        "python bench/run.py " + " ".join(sys.argv[1:])
    text = report(results, lat, venvs, wall, (load0, os.getloadavg()), cmd)
    Path(args.out).write_text(text, encoding="utf-8")
    (WORK / "results.json").write_text(json.dumps({"results": results, "latency": lat}, indent=1))
    print(text)
    log("wrote %s" % args.out)


if __name__ == "__main__":
    main()
