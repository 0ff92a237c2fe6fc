"""Golden tests of code generation (tests/codegen/*.test): the C++ that a case
gives must contain each `[out contains]` line and none of its `[out lacks]`
lines. They pin optimisations whose loss would not change a result (borrowed
loop variables, in-place str methods, split without a list...). The C++ comes
from compiler.driver.generate_cpp: no g++ runs here."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import List, NamedTuple

import pytest

from matx_nb.compiler.driver import generate_cpp

HERE = Path(__file__).resolve().parent / "codegen"
PRELUDE = "from typing import Any, Dict, List, Optional, Set, Tuple\n\n"


class Case(NamedTuple):
    name: str
    source: str
    contains: List[str]
    lacks: List[str]


def parse(path: Path) -> List[Case]:
    cases, cur, section = [], None, None
    for line in path.read_text().splitlines():
        m = re.match(r"\[case (\w+)\]$", line)
        if m:
            cur = Case(m.group(1), "", [], [])
            cases.append(cur)
            section = "source"
            continue
        if line in ("[out contains]", "[out lacks]"):
            section = line
            continue
        if cur is None:
            continue
        if section == "source":
            cases[-1] = cur = cur._replace(source=cur.source + line + "\n")
        elif line.strip():
            (cur.contains if section == "[out contains]" else cur.lacks).append(line.strip())
    return cases


CASES = [c for p in sorted(HERE.glob("*.test")) for c in parse(p)]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_codegen(case: Case, tmp_path):
    path = tmp_path / f"golden_{case.name}.py"
    path.write_text(PRELUDE + case.source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = mod
    spec.loader.exec_module(mod)
    entry = re.findall(r"^def (\w+)", case.source, re.M)[-1]
    cpp = generate_cpp(getattr(mod, entry))
    missing = [s for s in case.contains if s not in cpp]
    present = [s for s in case.lacks if s in cpp]
    assert not missing and not present, f"missing {missing}, present {present} in:\n{cpp}"


def test_the_cases_were_read():
    assert len(CASES) >= 8 and all(c.contains or c.lacks for c in CASES)
