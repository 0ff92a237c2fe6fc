"""The precompiled runtime header: built at install time for the default flags
(CMakeLists.txt, toolchain.build_installed_pch) and found there by a fresh
cache, and otherwise started in the background by %load_ext, so the first cells
do not each parse the whole runtime."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(code: str, cache: Path, timeout=300) -> str:
    env = dict(os.environ, MATX_NB_CACHE=str(cache))
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                       env=env, timeout=timeout, cwd=ROOT / "tests")
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_a_fresh_cache_compiles_with_the_installed_header(tmp_path):
    out = run("""
        import matx_nb
        from matx_nb.compiler import toolchain
        tc = toolchain.Toolchain()
        installed = toolchain.installed_pch(tc.key())
        print(installed)
        res = tc.compile('#include <matx_nb/runtime.h>\\nint g() { return 1; }\\n', tc.pch_dir().parent / "probe.so")
        assert res.ok, res.log
        print(" ".join(res.command))
    """, tmp_path)
    installed, cmd = out.strip().splitlines()
    assert installed != "None", "pip install built no precompiled header (CMake MATX_NB_PREBUILD_PCH)"
    assert f"-I {installed}" in cmd
    assert f"{installed}/libmatx_nb_rt.o" in cmd and "-DMATX_NB_LINKED_RUNTIME" in cmd, cmd
    assert not (tmp_path / "pch").exists() or not any((tmp_path / "pch").rglob("*.gch"))


def test_installed_header_matches_what_gxx_accepts(tmp_path):
    """g++ takes the installed header (-Winvalid-pch says otherwise), so the key
    really matches the compiler and flags in use."""
    run("""
        import subprocess
        from matx_nb.compiler import toolchain
        tc = toolchain.Toolchain()
        inc = toolchain.installed_pch(tc.key())
        src = tc.pch_dir().parent / "probe.cc"
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text('#include <matx_nb/runtime.h>\\n')
        cmd = [tc.cxx, *toolchain.base_flags(tc.opt), toolchain.LINKED_FLAG, "-Winvalid-pch", "-H", "-fsyntax-only",
               "-I", str(inc), "-I", str(toolchain.include_dir()), str(src)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        first = r.stderr.splitlines()[0]
        assert first.startswith("! ") and first.endswith("runtime.h.gch"), r.stderr[:2000]
    """, tmp_path)


def test_load_ext_starts_the_header_build(tmp_path):
    out = run("""
        import time
        from matx_nb.compiler import toolchain
        toolchain.installed_pch = lambda key: None  # as on an install without one
        from IPython.core.interactiveshell import InteractiveShell
        sh = InteractiveShell.instance()
        t = time.perf_counter()
        sh.run_cell("%load_ext matx_nb")
        print(f"{time.perf_counter() - t:.3f}")
        tc = toolchain.Toolchain()
        end = time.time() + 240
        while time.time() < end and not toolchain.runtime_built(tc.pch_dir()):
            time.sleep(0.2)
        print(toolchain.runtime_built(tc.pch_dir()))
    """, tmp_path)
    seconds, built = out.strip().splitlines()[-2:]
    assert float(seconds) < 2.0, f"%load_ext took {seconds} s: it must not wait for the header"
    assert built == "True"



# Runs in both builds: generated code linked with the built runtime (the usual
# case), and header-only (before the runtime is built). Errors cross the boundary
# through the runtime's out-of-line code, so they are exercised most.
BOTH_MODULE = '''
from typing import Dict, List, Set, Tuple

def count(words: List[str]) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for w in words:
        out[w] = out.get(w, 0) + 1
    return out

def pick(d: Dict[str, List[int]], k: str) -> int:
    return d[k][-1]

def pair(t: Tuple[int, str]) -> str:
    return t[1] * t[0]

def uniq(xs: List[str]) -> Set[str]:
    return set(xs)

class Vocab:
    def __init__(self, words: List[str]) -> None:
        self.ids: Dict[str, int] = {w: i for i, w in enumerate(words)}

    def lookup(self, w: str) -> int:
        return self.ids[w]
'''

BOTH_RUN = '''
import json, sys
sys.path.insert(0, sys.argv[1])
from matx_nb.compiler import toolchain
if sys.argv[2] == "header-only":
    toolchain.installed_pch = lambda key: None
import matx_nb
import both_mod as m
fns = [matx_nb.script(f) for f in (m.count, m.pick, m.pair, m.uniq)]
Vocab = matx_nb.script(m.Vocab)
calls = [
    (0, (["a", "b", "a", "\\u00e9\\u00e9", "\\U0001f600"],)), (0, (["a", 1],)), (0, ("ab",)),
    (1, ({"x": [1, 2]}, "x")), (1, ({"x": [1, "2"]}, "x")), (1, ({"x": []}, "x")), (1, ({}, "y")),
    (2, ((3, "ab"),)), (2, ((3, 4),)), (2, ((1, "a", 2),)), (2, ((2**70, "a"),)),
    (3, (["q", "q", "r"],)), (3, ([None],)),
]
out = []
for i, args in calls:
    try:
        r = fns[i](*args)
        out.append(repr(sorted(r) if isinstance(r, set) else r))
    except Exception as e:
        out.append(type(e).__name__ + ": " + str(e))
v = Vocab(["a", "b"])
out.append(repr(v.lookup("b")))
for bad in (lambda: v.lookup("zz"), lambda: v.lookup(3), lambda: Vocab([1])):
    try:
        bad()
    except Exception as e:
        out.append(type(e).__name__ + ": " + str(e))
v.ids["c"] = 7
out.append(repr((dict(v.ids), v.lookup("c"), "c" in v.ids)))
try:
    v.ids = {"a": "b"}
except Exception as e:
    out.append(type(e).__name__ + ": " + str(e))
print(json.dumps(out))
'''


def test_linked_and_header_only_builds_agree(tmp_path):
    """The same programs, errors included, give the same results whether the
    library links the built runtime or compiles it all (header-only)."""
    import json
    results = []
    for mode in ("linked", "header-only"):
        d = tmp_path / mode
        d.mkdir()
        (d / "both_mod.py").write_text(BOTH_MODULE)
        env = dict(os.environ, MATX_NB_CACHE=str(d / "cache"), MATX_NB_NO_PCH="1")
        r = subprocess.run([sys.executable, "-c", BOTH_RUN, str(d), mode], capture_output=True, text=True,
                           env=env, timeout=600, cwd=ROOT / "tests")
        assert r.returncode == 0, r.stderr[-3000:]
        results.append(r.stdout.strip().splitlines()[-1].replace(str(d), "DIR"))
    linked, header_only = results
    assert linked == header_only
    out = json.loads(linked)
    assert out[0] == repr({"a": 2, "b": 1, "\u00e9\u00e9": 1, "\U0001f600": 1})
    assert out[1].startswith("TypeError: count() argument 'words' must be List[str], got int at words[1]"), out[1]
    assert out[4].startswith("TypeError") and "['x'][1]" in out[4], out[4]
    assert out[5].startswith("IndexError") and out[6].startswith("KeyError"), out
    assert out[10].startswith("OverflowError"), out[10]
    assert out[-1].startswith("TypeError") and "ids" in out[-1], out[-1]
