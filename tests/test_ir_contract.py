"""The IR's contract: every field the checker and the analyses fill in is
declared in compiler/ir.py. The compiler runs over every program of the case
files with a node's __setattr__ refusing an undeclared attribute.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from difftest import parse_file, write_module
from matx_nb.compiler import driver, ir

HERE = Path(__file__).resolve().parent
CASE_FILES = sorted((HERE / "cases").glob("*.test"))


@pytest.fixture
def strict_nodes(monkeypatch):
    declared = {}
    real = ir.Node.__setattr__

    def setattr_(node, name, value):
        cls = type(node)
        names = declared.get(cls)
        if names is None:
            names = declared[cls] = frozenset(f.name for f in dataclasses.fields(cls))
        if name not in names:
            raise AttributeError(f"{cls.__name__}.{name} is not declared in compiler/ir.py")
        real(node, name, value)
    monkeypatch.setattr(ir.Node, "__setattr__", setattr_)


def test_the_guard_refuses_an_undeclared_attribute(strict_nodes):
    with pytest.raises(AttributeError, match="Const.shiny is not declared"):
        ir.Const(None, 1).shiny = True


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_the_compiler_sets_only_declared_fields(strict_nodes, tmp_path, path):
    compiled = 0
    for case in parse_file(path):
        try:
            mod = write_module(case, tmp_path)
        except Exception:  # a case that CPython itself rejects at import
            continue
        for name, value in vars(mod).items():
            if getattr(value, "__module__", None) != mod.__name__ or not callable(value):
                continue
            try:
                driver.generate_cpp(value)
            except AttributeError:
                raise
            except Exception:  # compile errors are the other tests' business
                continue
            compiled += 1
    assert compiled > 0
