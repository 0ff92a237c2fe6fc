"""CI job (issue 15, acceptance): the runtime's C++ unit tests (tests/cpp) and a
sample of the differential corpus (tests/cases), built with
-fsanitize=address,undefined, run clean; bounded to a few minutes.

* tests/cpp builds its drivers with `g++` from PATH: a wrapper first on PATH
  adds the sanitizer flags.
* The corpus compiles through matx_nb's toolchain: MATX_NB_CXXFLAGS adds the
  flags (and keys the cache), and the Python that loads the libraries has the
  sanitizer runtimes preloaded (ASan must come first in a process; Python
  itself is not instrumented, PYTHONMALLOC=malloc lets ASan see its memory).
  The toolchain keeps the preload away from g++.

A first test proves the sanitizers are active (a planted overflow and a planted
UB are reported). MATX_NB_SANITIZE_CASES=all runs the whole corpus instead of
every CASE_STRIDE-th case.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from difftest import load_cases

REPO = Path(__file__).resolve().parent.parent
FLAGS = "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
SAN_ENV = {"ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1", "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
# The runtime tests with their own C++ drivers (test_host_any also needs the
# Python-side libraries; test_unicodedata repeats test_unicode's tables).
CPP_TESTS = ["tests/cpp/test_json.py", "tests/cpp/test_numconv.py", "tests/cpp/test_sha256.py",
             "tests/cpp/test_unicode.py"]
CASE_STRIDE = 40  # ~16 cases of the corpus, spread over every file
# Cases that exercise what sanitizers caught before: always in the sample.
ALWAYS = ["str_replace_to_empty"]
REPORTS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")


def _runtime(name: str) -> str:
    r = subprocess.run(["g++", f"-print-file-name={name}"], capture_output=True, text=True)
    return r.stdout.strip()


def _available() -> bool:
    if shutil.which("g++") is None:
        return False
    r = subprocess.run(["g++", *FLAGS.split(), "-x", "c++", "-", "-o", os.devnull], input="int main(){}",
                       capture_output=True, text=True)
    return r.returncode == 0 and os.path.isabs(_runtime("libasan.so"))


pytestmark = pytest.mark.skipif(not _available(), reason="g++ with ASan and UBSan is needed")


@pytest.fixture(scope="module")
def wrapper(tmp_path_factory) -> Path:
    """A folder holding `g++` that adds the sanitizer flags (and never runs under
    the preloaded runtimes itself)."""
    d = tmp_path_factory.mktemp("sanbin")
    gxx = d / "g++"
    gxx.write_text(f'#!/bin/sh\nexec env -u LD_PRELOAD {shutil.which("g++")} "$@" {FLAGS}\n')
    gxx.chmod(0o755)
    return d


def _clean(r: subprocess.CompletedProcess) -> str:
    """'' if the run passed without a sanitizer report, else what to show."""
    out = r.stdout + r.stderr
    if r.returncode == 0 and not any(s in out for s in REPORTS):
        return ""
    return f"rc={r.returncode}\n{out[-6000:]}"


def test_sanitizers_are_active(wrapper, tmp_path):
    src = tmp_path / "planted.cc"
    src.write_text("#include <cstdlib>\n#include <climits>\n"
                   "int main(int argc, char**) {\n"
                   "  if (argc > 1) { int x = INT_MAX; return x + argc; }  // signed overflow\n"
                   "  int* p = (int*)std::malloc(4 * sizeof(int));\n"
                   "  int v = p[argc + 3];  // one past the end\n"
                   "  std::free(p);\n  return v;\n}\n")
    exe = tmp_path / "planted"
    subprocess.run([str(wrapper / "g++"), "-O0", str(src), "-o", str(exe)], check=True)
    env = dict(os.environ, **SAN_ENV)
    r = subprocess.run([str(exe)], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "heap-buffer-overflow" in r.stderr, r.stderr[-2000:]
    r = subprocess.run([str(exe), "x"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "runtime error: signed integer overflow" in r.stderr, r.stderr[-2000:]


def test_runtime_unit_tests_are_clean(wrapper):
    env = dict(os.environ, **SAN_ENV, PATH=f"{wrapper}{os.pathsep}{os.environ['PATH']}")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *CPP_TESTS],
                       capture_output=True, text=True, env=env, cwd=str(REPO), timeout=900)
    problem = _clean(r)
    assert not problem, problem


def corpus_sample() -> list:
    cases = load_cases(REPO / "tests" / "cases")
    if os.environ.get("MATX_NB_SANITIZE_CASES") == "all":
        picked = cases
    else:
        picked = cases[::CASE_STRIDE] + [c for c in cases if c.name in ALWAYS]
    return sorted({c.name for c in picked if not c.xfail})


def test_corpus_sample_is_clean(tmp_path):
    env = dict(os.environ, **SAN_ENV, MATX_NB_CXXFLAGS=FLAGS, MATX_NB_CACHE=str(tmp_path / "cache"),
               LD_PRELOAD=f"{_runtime('libasan.so')} {_runtime('libubsan.so')}", PYTHONMALLOC="malloc")
    # The precompiled header first (with the same flags): every compile then uses it.
    pch = subprocess.run([sys.executable, "-c", "from matx_nb.compiler.toolchain import Toolchain\n"
                          "assert Toolchain().wait_for_pch(600)"],
                         capture_output=True, text=True, env=env, cwd=str(REPO), timeout=900)
    assert pch.returncode == 0, pch.stderr[-3000:]
    names = corpus_sample()
    assert len(names) >= 15
    ids = [f"tests/test_cases.py::test_case[{n}]" for n in names]
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *ids],
                       capture_output=True, text=True, env=env, cwd=str(REPO), timeout=1200)
    problem = _clean(r)
    assert not problem, problem
    assert f"{len(names)} passed" in r.stdout, r.stdout[-3000:]
