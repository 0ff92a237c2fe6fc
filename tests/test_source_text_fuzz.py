"""Source text that reaches the generated C++ (the `// line N:` marks, string
constants) never changes what the code does: sources full of backslashes, `*/`,
`??/` trigraphs, CR line ends, control characters, NUL and lone surrogates in
strings, line continuations and strings ending in a backslash compile to code
that returns what CPython returns (issue 15)."""
import importlib.util
import sys

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import matx_nb  # noqa: E402
from matx_nb.compiler.emit.cpp import comment_text, u32_literal  # noqa: E402

TRICKY = ["\\", "*/", "/*", "??/", "??=", "???/", "?", "\t", "\x0c", "\x1c", "\x0b", "\u2028", "\x85",
          '"', "'", "é", "\u4e2d", " ", "a", "0", "f"]
comment = st.lists(st.sampled_from(TRICKY), max_size=8).map("".join)
value = st.lists(st.one_of(st.sampled_from(TRICKY + ["\x00", "\r", "\n", "\ud800", "\udfff", "F"]),
                           st.characters()), max_size=8).map("".join)
newline = st.sampled_from(["\n", "\r\n", "\r"])


def statement(kind, text, s):
    """One or two physical lines of Python that change `out`."""
    if kind == "comment":
        return [f"    out.append({s!r})  #{text}"]
    if kind == "continued":  # a backslash continuation, a comment on the next line
        return [f"    out.append({s!r} + \\", f"        {text!r})  #{text}"]
    if kind == "string_ends_in_backslash":
        return [f"    out.append({(s + chr(92))!r})  # {text}\\"]
    if kind == "string_continued":  # a backslash-newline inside a string literal
        return ['    out.append("ab\\', f'cd" + {s!r})']
    return [f"    n = n * 31 + {len(s)}  # {text}", "    out.append(str(n))"]


line = st.tuples(st.sampled_from(["comment", "continued", "string_ends_in_backslash",
                                  "string_continued", "count"]), comment, value, newline)


def write_module(tmp_path, lines, tag):
    name = f"srcfuzz_{tag}"
    body = ["from typing import List", "def fz(a: int) -> List[str]:", "    out = [str(a)]", "    n = a"]
    ends = ["\n"] * len(body)
    for kind, text, s, nl in lines:
        for phys in statement(kind, text, s):
            body.append(phys)
            ends.append(nl)
    body.append("    return out")
    ends.append("\n")
    path = tmp_path / f"{name}.py"
    path.write_bytes("".join(b + e for b, e in zip(body, ends)).encode("utf-8", "surrogatepass"))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(line, min_size=1, max_size=10), st.integers(-5, 5))
def test_tricky_source_text_compiles_as_cpython_runs(tmp_path, lines, a):
    test_tricky_source_text_compiles_as_cpython_runs.n = getattr(
        test_tricky_source_text_compiles_as_cpython_runs, "n", 0) + 1
    try:
        mod = write_module(tmp_path, lines, test_tricky_source_text_compiles_as_cpython_runs.n)
    except (SyntaxError, ValueError):
        return  # not a Python program (e.g. a raw CR ended a comment mid-string)
    assert matx_nb.script(mod.fz)(a) == mod.fz(a)


@given(st.lists(st.one_of(st.sampled_from(TRICKY + ["\r", "\n", "\x00", "\ud800"]), st.characters())).map("".join))
def test_comment_text_never_continues_or_breaks_the_line(text):
    out = comment_text(text)
    assert "\n" not in out and "\r" not in out and "\x00" not in out
    assert not out.rstrip(" \t\x0b\x0c").endswith("\\")
    assert "??" not in out
    out.encode("utf-8")  # no lone surrogate reaches the C++ file


@given(st.text(st.one_of(st.sampled_from(["\ud800", "\udfff", "a", "F", "0", "?", "\\", '"']), st.characters())))
def test_u32_literal_escapes_end_where_they_should(text):
    lit = u32_literal(text)
    lit.encode("ascii")
    i = 2
    while i < len(lit) - 1:  # a \x escape is never followed by a hex digit it would swallow
        if lit[i] == "\\":
            if lit[i + 1] == "x":
                j = i + 2
                while lit[j] in "0123456789abcdefABCDEF":
                    j += 1
                assert j - i - 2 <= 4
                i = j
                continue
            i += 2
            continue
        i += 1
