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
        cmd = [tc.cxx, *toolchain.base_flags(tc.opt), "-Winvalid-pch", "-H", "-fsyntax-only",
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
        gch = tc.pch_dir() / "matx_nb" / "runtime.h.gch"
        end = time.time() + 240
        while time.time() < end and not gch.exists():
            time.sleep(0.2)
        print(gch.exists())
    """, tmp_path)
    seconds, built = out.strip().splitlines()[-2:]
    assert float(seconds) < 2.0, f"%load_ext took {seconds} s: it must not wait for the header"
    assert built == "True"
