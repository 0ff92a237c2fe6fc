"""sources.source_lines: the source block of a function or class as
inspect.getsourcelines gives it, found by indentation where that is sure (a
cache hit's main cost was inspect's tokenizer). Compared with inspect on every
function and class of a set of real modules, and on blocks built to mislead
an indentation scan (strings, brackets and backslashes reaching column 0)."""
import importlib
import importlib.util
import inspect
import sys
import textwrap
import types

import pytest

from matx_nb.compiler.sources import _block_by_indentation, source_lines

MODULES = ["json", "textwrap", "inspect", "ast", "dataclasses", "argparse", "typing", "pathlib",
           "email.message", "http.client", "collections", "difflib", "tokenize", "unittest.case",
           "asyncio.tasks", "logging", "matx_nb.compiler.check.checker", "matx_nb.compiler.emit.emitter",
           "matx_nb.compiler.sources", "matx_nb.text.wordpiece", "kernel_ext.builds"]


def objects_of(mod):
    for v in vars(mod).values():
        if isinstance(v, (types.FunctionType, type)) and getattr(v, "__module__", None) == mod.__name__:
            yield v
            if isinstance(v, type):
                yield from (f for f in vars(v).values() if isinstance(f, types.FunctionType))


def test_same_as_inspect_on_real_modules():
    seen = fast = 0
    for name in MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        for obj in objects_of(mod):
            try:
                want = inspect.getsourcelines(obj)
            except (OSError, TypeError):
                continue
            seen += 1
            assert source_lines(obj) == want, obj.__qualname__
            fast += _block_by_indentation(obj) is not None
    assert seen > 1000 and fast > 0.8 * seen, (seen, fast)


TRICKY = '''
import typing


def plain(a: int) -> int:
    return a + 1
# a comment after it, at the outer level


def backslash(a: int) -> int:
    x = a + \\
1
    return x


def string_at_col0(a: int) -> str:
    s = """
not code
"""
    return s


def brackets_at_col0(a: int) -> int:
    xs = [1,
2, 3]
    return a + len(xs)


def comment_at_col0(a: int) -> int:
    b = a * 2
# a comment at column 0 inside the body
    return b


def decorated(f):
    return f


@decorated
def with_decorator(a: int) -> int:
    return a


@decorated
class Box:
    """A class, decorated, its methods after a docstring."""
    size: int = 3

    def get(self) -> int:
        return self.size
    # a trailing comment of the class body


class Outer:
    class Box:
        def inner(self) -> int:
            return 1

    def method(self) -> int:
        return 2


class NoMethods:
    x: int = 1
'''


@pytest.fixture(scope="module")
def tricky(tmp_path_factory):
    path = tmp_path_factory.mktemp("src") / "tricky_sources.py"
    path.write_text(TRICKY)
    spec = importlib.util.spec_from_file_location("tricky_sources", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["tricky_sources"] = mod
    spec.loader.exec_module(mod)
    yield mod
    del sys.modules["tricky_sources"]


@pytest.mark.parametrize("name", ["plain", "backslash", "string_at_col0", "brackets_at_col0", "comment_at_col0",
                                  "with_decorator", "Box", "Outer", "NoMethods"])
def test_same_as_inspect_on_misleading_blocks(tricky, name):
    obj = getattr(tricky, name)
    assert source_lines(obj) == inspect.getsourcelines(obj)


def test_cell_sources_from_linecache():
    """IPython registers each cell's text in linecache under a made-up file name."""
    import linecache
    text = "def cell_fn(n: int) -> int:\n    return n * 3\n\n\nprint(cell_fn(2))\n"
    name = "<ipython-input-matx-test>"
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    ns: dict = {}
    exec(compile(text, name, "exec"), ns)
    try:
        assert source_lines(ns["cell_fn"]) == (["def cell_fn(n: int) -> int:\n", "    return n * 3\n"], 1)
    finally:
        del linecache.cache[name]
