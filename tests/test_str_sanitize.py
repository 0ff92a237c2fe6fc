"""The str and bytes methods on empty inputs and to empty results
(tests/cases/str_empty.test, and str.replace to an empty string) run clean under
-fsanitize=address,undefined: no memcpy/memmove/memcmp of zero bytes is handed a
null pointer anywhere in str.h / str_methods.h (issue 15 §5). Built as
tests/test_sanitizers.py builds its corpus sample."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from test_sanitizers import FLAGS, REPO, SAN_ENV, _available, _clean, _runtime

pytestmark = pytest.mark.skipif(not _available(), reason="g++ with ASan and UBSan is needed")

CASES = ["str_methods_on_empty", "bytes_methods_on_empty", "str_replace_to_empty"]


def test_str_methods_on_empty_strings_are_sanitizer_clean(tmp_path):
    env = dict(os.environ, **SAN_ENV, MATX_NB_CXXFLAGS=FLAGS, MATX_NB_CACHE=str(tmp_path / "cache"),
               LD_PRELOAD=f"{_runtime('libasan.so')} {_runtime('libubsan.so')}", PYTHONMALLOC="malloc")
    ids = [f"tests/test_cases.py::test_case[{n}]" for n in CASES]
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *ids],
                       capture_output=True, text=True, env=env, cwd=str(REPO), timeout=1500)
    problem = _clean(r)
    assert not problem, problem
    assert f"{len(CASES)} passed" in r.stdout, r.stdout[-3000:]
