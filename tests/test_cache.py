"""The compile cache: concurrent cold compiles, warm hits, what changes the key and
what does not, and MATX_NB_CACHE.

Each scenario runs in child processes (a fresh interpreter is the only way to see
a real cache hit) against a cache directory of its own, compiling a function
written to a temporary module with a body unique to this test run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

import matx_nb

REPO = Path(__file__).resolve().parent.parent

SOURCE = '''\
from typing import List


def pick(xs: List[int], i: int) -> int:
    k = {k}
    y = xs[0]
    return xs[i] + k + y  # FAILING LINE
'''

CHILD = textwrap.dedent('''
    import importlib, json, sys, time
    moddir, modname, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
    sys.path.insert(0, moddir)
    import matx_nb
    mod = importlib.import_module(modname)
    while time.time() < start_at:
        time.sleep(0.001)
    t0 = time.perf_counter()
    f = matx_nb.script(mod.pick)
    seconds = time.perf_counter() - t0
    out = {"library": str(f.matx.library), "cache_hit": f.matx.cache_hit, "seconds": seconds,
           "result": f([5, 6, 7], 2), "expected": mod.pick([5, 6, 7], 2)}
    try:
        f([1], 3)
    except IndexError as e:
        out["error"] = {"line": e.matx_line, "file": e.matx_file, "message": str(e)}
    print("RESULT " + json.dumps(out), flush=True)
''')


def child_env(cache: Path) -> dict:
    env = dict(os.environ)
    env["MATX_NB_CACHE"] = str(cache)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # rewritten modules must be read again, never from a stale .pyc
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def start_child(moddir: Path, modname: str, cache: Path, start_at: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(moddir), modname, repr(start_at)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env(cache), cwd=str(moddir))


def finish(p: subprocess.Popen, timeout: float = 240) -> dict:
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, f"child failed (rc={p.returncode}):\n{out[-3000:]}\n{err[-6000:]}"
    lines = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"no result from child:\n{out}\n{err}"
    return json.loads(lines[-1][len("RESULT "):])


def run_child(moddir: Path, modname: str, cache: Path) -> dict:
    return finish(start_child(moddir, modname, cache))


def wait_for_background_builds(cache: Path, timeout: float = 120):
    """The precompiled header is built in the background after a first compile; let it end."""
    end = time.time() + timeout
    while time.time() < end and list(cache.glob("pch/*/building")):
        time.sleep(0.1)


def line_of(path: Path, marker: str) -> int:
    lines = path.read_text().splitlines()
    hits = [i + 1 for i, text in enumerate(lines) if marker in text]
    assert len(hits) == 1
    return hits[0]


class Scenario:
    def __init__(self, root: Path):
        self.root = root
        self.cache = root / "cache"
        self.moddir = root / "mods"
        self.moddir.mkdir(parents=True)
        self.tag = uuid.uuid4().int % (10 ** 12)  # a body no earlier run has compiled
        self.modname = f"cachemod_{uuid.uuid4().hex[:12]}"
        self.path = self.moddir / f"{self.modname}.py"
        self.path.write_text(SOURCE.format(k=self.tag))


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    """Two processes compile the same new function at the same time into an empty cache."""
    sc = Scenario(tmp_path_factory.mktemp("cache_test"))
    assert not sc.cache.exists()
    start_at = time.time() + 2.0  # both children have imported everything by then
    procs = [start_child(sc.moddir, sc.modname, sc.cache, start_at) for _ in range(2)]
    results = [finish(p) for p in procs]
    wait_for_background_builds(sc.cache)
    return sc, results


def test_concurrent_cold_compiles_agree(cold):
    sc, (a, b) = cold
    for r in (a, b):
        assert r["result"] == r["expected"] == 7 + sc.tag + 5
        assert r["cache_hit"] is False  # neither found it in the cache when it started
    assert a["library"] == b["library"]
    lib = Path(a["library"])
    assert lib.is_file()
    libs = list((sc.cache / "lib").rglob("*.so"))
    assert libs == [lib], libs  # one library, built once
    leftovers = [p for p in (sc.cache / "lib").rglob("*") if ".tmp" in p.name]
    assert not leftovers, leftovers


def test_warm_cache_hits_fast(cold):
    sc, (a, _) = cold
    r = run_child(sc.moddir, sc.modname, sc.cache)
    assert r["cache_hit"] is True
    assert r["library"] == a["library"]
    assert r["result"] == r["expected"]
    assert r["seconds"] < 0.2, f"script() took {r['seconds']:.3f} s on a warm cache"


def test_cache_dir_honored(cold):
    sc, (a, _) = cold
    lib = Path(a["library"]).resolve()
    assert sc.cache.resolve() in lib.parents
    # another cache directory starts empty: the same function is compiled again there
    other = sc.root / "other_cache"
    r = run_child(sc.moddir, sc.modname, other)
    assert r["cache_hit"] is False
    assert other.resolve() in Path(r["library"]).resolve().parents
    wait_for_background_builds(other)


def add_one(x: int) -> int:
    return x + 1


def test_cache_dir_honored_in_process():
    cache = Path(os.environ["MATX_NB_CACHE"]).resolve()  # set by conftest.py for this run
    f = matx_nb.script(add_one)
    assert f(41) == 42
    assert cache in Path(f.matx.library).resolve().parents


def test_edit_changes_key(cold):
    sc, (a, _) = cold
    sc.path.write_text(SOURCE.format(k=sc.tag + 1))
    try:
        r = run_child(sc.moddir, sc.modname, sc.cache)
    finally:
        sc.path.write_text(SOURCE.format(k=sc.tag))
    assert r["cache_hit"] is False
    assert r["library"] != a["library"]
    assert r["result"] == r["expected"] == 7 + sc.tag + 1 + 5
    wait_for_background_builds(sc.cache)


def test_blank_lines_keep_key_and_move_error_lines(cold):
    sc, (a, _) = cold
    old_line = line_of(sc.path, "FAILING LINE")
    assert a["error"]["line"] == old_line
    assert Path(a["error"]["file"]).resolve() == sc.path.resolve()
    original = sc.path.read_text()
    sc.path.write_text("\n\n" + original)
    try:
        new_line = line_of(sc.path, "FAILING LINE")
        assert new_line == old_line + 2
        r = run_child(sc.moddir, sc.modname, sc.cache)
    finally:
        sc.path.write_text(original)
    assert r["cache_hit"] is True
    assert r["library"] == a["library"]
    err = r["error"]
    assert err["line"] == new_line
    assert Path(err["file"]).resolve() == sc.path.resolve()
    assert f"line {new_line}" in err["message"]
    assert "return xs[i] + k + y" in err["message"]


def test_copy_elsewhere_shares_library_and_reports_its_own_file(cold):
    """The same function in another file (say a copy of the project) reuses the library,
    and its errors point at the copy."""
    sc, (a, _) = cold
    other = sc.root / "copy"
    other.mkdir()
    path = other / f"{sc.modname}.py"
    path.write_text("# a copy\n\n\n" + sc.path.read_text())
    r = run_child(other, sc.modname, sc.cache)
    assert r["cache_hit"] is True
    assert r["library"] == a["library"]
    assert Path(r["error"]["file"]).resolve() == path.resolve()
    assert r["error"]["line"] == line_of(path, "FAILING LINE")


def test_compiler_change_changes_library_key(monkeypatch):
    # A change to the code generator must not be served a library it did not write.
    from matx_nb.compiler import toolchain
    cache = toolchain.LibraryCache(toolchain.Toolchain())
    before = cache.entry("some-program-key")
    monkeypatch.setitem(toolchain._memo, "compiler_hash", "a-different-compiler")
    assert cache.entry("some-program-key") != before


def test_compiler_hash_reads_every_compiler_package(monkeypatch, tmp_path):
    """The code generator lives in compiler/ and its packages (check/, emit/,
    analysis/): a change in any of them gives another compiler hash."""
    from matx_nb.compiler import toolchain
    monkeypatch.setattr(toolchain, "cache_dir", lambda: tmp_path / "cache")
    root = Path(toolchain.__file__).resolve().parent
    subs = {p.parent.relative_to(root) for p in root.rglob("*.py")} - {Path(".")}
    assert {Path("check"), Path("emit"), Path("analysis")} <= subs
    seen = []
    monkeypatch.setattr(toolchain, "tree_hash", lambda *a, **k: seen.append((a, k)) or "h")
    monkeypatch.delitem(toolchain._memo, "compiler_hash", raising=False)
    toolchain.compiler_hash()
    (where, suffix, _), kw = seen[0]
    assert Path(where) == root and suffix == ".py" and kw.get("recursive", True)


def test_tree_hash_sees_a_change_in_a_subfolder(monkeypatch, tmp_path):
    from matx_nb.compiler import toolchain
    monkeypatch.setattr(toolchain, "cache_dir", lambda: tmp_path / "cache")
    (tmp_path / "src" / "emit").mkdir(parents=True)
    (tmp_path / "src" / "a.py").write_text("a = 1\n")
    deep = tmp_path / "src" / "emit" / "b.py"
    deep.write_text("b = 1\n")
    before = toolchain.tree_hash(tmp_path / "src", ".py", "")
    deep.write_text("b = 22\n")
    assert toolchain.tree_hash(tmp_path / "src", ".py", "") != before
