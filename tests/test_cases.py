"""The differential corpus: every case in tests/cases/*.test, CPython vs compiled."""
from pathlib import Path

import pytest

from difftest import load_cases, run_case

CASES = load_cases(Path(__file__).parent / "cases")


@pytest.fixture(scope="session")
def case_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cases")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case, case_dir):
    if case.xfail:
        pytest.xfail(case.xfail)
    problems = run_case(case, case_dir)
    assert not problems, "\n".join(problems)


def test_corpus_is_large_and_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) >= 200
    assert sum(len(c.calls) for c in CASES) >= 1000
