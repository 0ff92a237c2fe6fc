"""The compile-error corpus: tests/errors/*.test. Each case is a function `f` with
one line marked `# error`; compiling it must fail with a diagnostic on that line
at the column and with the message its `[expect COL] MESSAGE` line gives
(COL 1-based, as the rendered diagnostic shows it)."""
from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

import pytest

import matx_nb
from difftest import CASE_RE, PRELUDE

EXPECT_RE = re.compile(r"\[expect (\d+)\] (.*)$")


@dataclass
class ErrorCase:
    name: str
    file: str
    source: List[str] = field(default_factory=list)
    col: int = 0
    message: str = ""


def load(directory: Path) -> List[ErrorCase]:
    cases: List[ErrorCase] = []
    for path in sorted(directory.glob("*.test")):
        cur = None
        for raw in path.read_text().splitlines():
            m = CASE_RE.match(raw)
            if m:
                cur = ErrorCase(m.group(1).strip(), str(path))
                cases.append(cur)
            elif cur is not None and (x := EXPECT_RE.match(raw)):
                cur.col, cur.message = int(x.group(1)), x.group(2)
            elif cur is not None and not cur.message:
                cur.source.append(raw)
    return cases


CASES = load(Path(__file__).parent / "errors")


def test_corpus_size_and_names():
    assert len(CASES) >= 45
    assert len({c.name for c in CASES}) == len(CASES)
    for c in CASES:
        assert c.message, f"{c.name}: no [expect] line"
        assert sum("# error" in line for line in c.source) == 1, f"{c.name}: mark one line '# error'"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_error_case(case: ErrorCase, tmp_path):
    path = tmp_path / f"err_{case.name}.py"
    path.write_text(PRELUDE + "\n".join(case.source) + "\n")
    spec = importlib.util.spec_from_file_location(f"err_{case.name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)  # the case is valid Python: only compiling it fails
    line = PRELUDE.count("\n") + 1 + [i for i, s in enumerate(case.source) if "# error" in s][0]
    with pytest.raises(matx_nb.CompileError) as ei:
        matx_nb.script(mod.f)
    got = [(d.line, d.col + 1, d.message) for d in ei.value.diagnostics]
    assert (line, case.col, case.message) in got, f"expected {line}:{case.col}: {case.message}\ngot {got}"
