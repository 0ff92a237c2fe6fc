"""Errors: wrong arguments at the call, runtime errors inside compiled code (same
exception class as CPython, located at the user's line), compile errors (all at
once, with line, column, caret and hints) and nasty inputs that must not crash
the process.

Line numbers are never written by hand: they are computed with inspect from a
marker text on the line, and cross-checked with CPython's own traceback.
"""
from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple, Union

import pytest

import matx_nb

HERE = Path(__file__).resolve()
_compiled: Dict[Any, Any] = {}


def compiled(obj):
    if obj not in _compiled:
        _compiled[obj] = matx_nb.script(obj)
    return _compiled[obj]


def line_of(obj, marker: str) -> int:
    """Absolute line number in this file of the only source line of obj containing marker."""
    lines, first = inspect.getsourcelines(obj)
    hits = [first + i for i, text in enumerate(lines) if marker in text]
    assert len(hits) == 1, f"marker {marker!r} found {len(hits)} times in {obj.__name__}"
    return hits[0]


def text_of(line: int) -> str:
    return HERE.read_text().splitlines()[line - 1]


def cpython_error_line(fn, *args) -> Tuple[type, int]:
    """The exception class CPython raises for fn(*args) and the line of fn's innermost frame."""
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001
        frames = [f for f in traceback.extract_tb(e.__traceback__) if Path(f.filename).resolve() == HERE]
        return type(e), frames[-1].lineno
    raise AssertionError(f"CPython did not raise for {fn.__name__}{args}")


# ---------------------------------------------------------------------------
# Wrong arguments at the call.

def f_int(n: int) -> int:
    return n


def f_float(x: float) -> float:
    return x


def f_str(s: str) -> str:
    return s


def f_bool(flag: bool) -> bool:
    return flag


def f_bytes(data: bytes) -> int:
    return len(data)


def f_list_str(words: List[str]) -> int:
    return len(words)


def f_list_list(rows: List[List[int]]) -> int:
    return len(rows)


def f_dict(table: Dict[str, int]) -> int:
    return len(table)


def f_dict_list(index: Dict[str, List[int]]) -> int:
    return len(index)


def f_set(ids: Set[int]) -> int:
    return len(ids)


def f_tuple(pair: Tuple[int, str]) -> int:
    return pair[0]


def f_two(a: int, b: str) -> str:
    return b * a


@pytest.mark.parametrize("fn,arg,param,expected,got", [
    (f_int, "x", "n", "int", "str"),
    (f_int, 1.5, "n", "int", "float"),
    (f_int, None, "n", "int", "NoneType"),
    (f_int, [1], "n", "int", "list"),
    (f_float, "x", "x", "float", "str"),
    (f_str, 1, "s", "str", "int"),
    (f_str, b"x", "s", "str", "bytes"),
    (f_bool, 1, "flag", "bool", "int"),
    (f_bytes, "x", "data", "bytes", "str"),
    (f_list_str, "ab", "words", "List[str]", "str"),
    (f_list_str, None, "words", "List[str]", "NoneType"),
    (f_dict, [("a", 1)], "table", "Dict[str, int]", "list"),
    (f_tuple, (1,), "pair", "Tuple[int, str]", "tuple"),
])
def test_wrong_argument_type_names_parameter_and_type(fn, arg, param, expected, got):
    with pytest.raises(TypeError) as ei:
        compiled(fn)(arg)
    msg = str(ei.value)
    assert f"argument '{param}' must be {expected}" in msg, msg
    assert got in msg, msg


def test_wrong_argument_type_message_exact():
    with pytest.raises(TypeError) as ei:
        compiled(f_int)("x")
    assert "argument 'n' must be int, got str" in str(ei.value)


def test_wrong_second_argument_and_keyword():
    with pytest.raises(TypeError) as ei:
        compiled(f_two)(2, 3)
    assert "argument 'b' must be str, got int" in str(ei.value)
    with pytest.raises(TypeError) as ei:
        compiled(f_two)(b="x", a="y")
    assert "argument 'a' must be int, got str" in str(ei.value)


@pytest.mark.parametrize("fn,arg,where", [
    (f_list_str, ["a", 3], "[1]"),
    (f_list_str, ["a", "b", None], "[2]"),
    (f_list_list, [[1], [2, "x"]], "[1][1]"),
    (f_dict, {"a": "x"}, "['a']"),
    (f_dict_list, {"k": [1, 2, "x"]}, "['k'][2]"),
])
def test_wrong_nested_item_names_its_position(fn, arg, where):
    with pytest.raises(TypeError) as ei:
        compiled(fn)(arg)
    assert where in str(ei.value), str(ei.value)


def test_wrong_dict_key_type():
    with pytest.raises(TypeError) as ei:
        compiled(f_dict)({1: 1})
    assert "table" in str(ei.value) and "key" in str(ei.value)


def test_wrong_set_item_type():
    with pytest.raises(TypeError) as ei:
        compiled(f_set)({1, "a"})
    assert "ids" in str(ei.value) and "Set[int]" in str(ei.value)


def test_wrong_tuple_item_names_its_position():
    with pytest.raises(TypeError) as ei:
        compiled(f_tuple)((1, 2))
    assert "[1]" in str(ei.value), str(ei.value)


@pytest.mark.parametrize("value", [2 ** 63, -2 ** 63 - 1, 2 ** 100, -(10 ** 30)])
def test_int_too_large_raises_overflow(value):
    with pytest.raises(OverflowError):
        compiled(f_int)(value)


def test_int_64_bit_limits_accepted():
    assert compiled(f_int)(2 ** 63 - 1) == 2 ** 63 - 1
    assert compiled(f_int)(-2 ** 63) == -2 ** 63


def test_int_too_large_inside_container():
    with pytest.raises(OverflowError):
        compiled(f_list_list)([[1], [2 ** 64]])


def test_huge_int_to_float_parameter_overflows():
    with pytest.raises(OverflowError):
        r = compiled(f_float)(10 ** 400)
        print("got", r)


def test_int_accepted_for_float_parameter():
    r = compiled(f_float)(3)
    assert type(r) is float and r == 3.0


# ---------------------------------------------------------------------------
# Runtime errors inside compiled code.

def err_index(xs: List[int], i: int) -> int:
    y = xs[0]
    return xs[i] + y  # MARK-index


def err_key(d: Dict[str, int], k: str) -> int:
    total = 0
    total += d[k]  # MARK-key
    return total


def err_zero(a: int, b: int) -> int:
    c = a + 1
    return c // b  # MARK-zero


def err_fzero(a: float, b: float) -> float:
    return a / b  # MARK-fzero


def err_value(s: str) -> int:
    t = s.strip()
    return int(t)  # MARK-value


def err_overflow(a: int, b: int) -> int:
    c = a * b  # MARK-overflow
    return c


def err_str_index(s: str, i: int) -> str:
    return s[i]  # MARK-strindex


def err_pop(xs: List[int]) -> int:
    return xs.pop()  # MARK-pop


def err_list_index_value(xs: List[str], x: str) -> int:
    return xs.index(x)  # MARK-listindex


def err_raise(n: int) -> int:
    if n > 3:
        raise ValueError("n is too big")  # MARK-raise
    return n


def err_loop(xs: List[int]) -> int:
    total = 0
    for x in xs:
        if x > 0:
            total += 100 // x
        else:
            total += 100 % x  # MARK-loop
    return total


def err_comprehension(xs: List[int]) -> List[int]:
    return [10 // x for x in xs]  # MARK-comp


def err_multiline(xs: List[int], i: int) -> int:
    return (xs[0] +
            xs[i])  # MARK-multiline


def err_callee(xs: List[int], i: int) -> int:
    return xs[i] * 2  # MARK-callee


def err_caller(xs: List[int], i: int) -> int:
    y = len(xs)
    return err_callee(xs, i) + y


class Holder:
    def __init__(self, n: int) -> None:
        self.items: List[int] = [n]
        self.d: Dict[str, int] = {}

    def get(self, i: int) -> int:
        return self.items[i]  # MARK-method

    def via(self, i: int) -> int:
        return self.get(i) + 1

    def lookup(self, k: str) -> int:
        return self.d[k]  # MARK-mkey


RUNTIME_CASES = [
    (err_index, ([1, 2, 3], 5), "MARK-index"),
    (err_index, ([1, 2, 3], -4), "MARK-index"),
    (err_key, ({"a": 1}, "b"), "MARK-key"),
    (err_zero, (1, 0), "MARK-zero"),
    (err_fzero, (1.0, 0.0), "MARK-fzero"),
    (err_value, (" x ",), "MARK-value"),
    (err_value, ("1.5",), "MARK-value"),
    (err_overflow, (2 ** 62, 2 ** 62), "MARK-overflow"),
    (err_str_index, ("h\u00e9\U0001f600", 3), "MARK-strindex"),
    (err_pop, ([],), "MARK-pop"),
    (err_list_index_value, (["a"], "b"), "MARK-listindex"),
    (err_raise, (5,), "MARK-raise"),
    (err_loop, ([5, 2, 0, 1],), "MARK-loop"),
    (err_comprehension, ([1, 0],), "MARK-comp"),
    (err_multiline, ([1, 2], 7), "MARK-multiline"),
    (err_caller, ([1], 3), "MARK-callee"),
]


def _check_located(exc, line: int):
    # A KeyError's str() is the repr of its key, as in CPython: the location is a note.
    msg = "\n".join(getattr(exc, "__notes__", [])) if isinstance(exc, KeyError) else str(exc)
    assert str(HERE) in msg, msg
    assert f"line {line}" in msg, msg
    src = text_of(line).strip()
    assert src in msg, f"source line {src!r} not in {msg!r}"
    assert Path(exc.matx_file).resolve() == HERE
    assert exc.matx_line == line


@pytest.mark.parametrize("fn,args,marker", RUNTIME_CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(RUNTIME_CASES)])
def test_runtime_error_class_and_location(fn, args, marker):
    if fn is err_overflow:
        want_cls = OverflowError  # CPython has big ints; compiled int is 64-bit
        py_line = line_of(fn, marker)
    else:
        want_cls, py_line = cpython_error_line(fn, *args)
    line = line_of(err_callee if fn is err_caller else fn, marker)
    assert py_line == line  # the marker agrees with CPython's traceback
    with pytest.raises(Exception) as ei:
        compiled(fn)(*args)
    assert type(ei.value) is want_cls, f"{type(ei.value).__name__}: {ei.value}"
    _check_located(ei.value, line)


@pytest.mark.parametrize("call,marker,cls", [
    (lambda H: H(1).get(4), "MARK-method", IndexError),
    (lambda H: H(1).via(-2), "MARK-method", IndexError),
    (lambda H: H(1).lookup("zz"), "MARK-mkey", KeyError),
])
def test_runtime_error_in_method(call, marker, cls):
    with pytest.raises(Exception) as ei:
        call(Holder)
    assert type(ei.value) is cls
    with pytest.raises(Exception) as ei:
        call(compiled(Holder))
    assert type(ei.value) is cls
    _check_located(ei.value, line_of(Holder, marker))


def test_exception_messages_keep_cpython_text():
    with pytest.raises(ValueError) as ei:
        compiled(err_raise)(9)
    assert str(ei.value).startswith("n is too big")
    with pytest.raises(IndexError) as ei:
        compiled(err_index)([1], 3)
    assert str(ei.value).startswith("list index out of range")
    with pytest.raises(ValueError) as ei:
        compiled(err_value)("abc")
    assert str(ei.value).startswith("invalid literal for int() with base 10: 'abc'")


def test_compiled_code_still_works_after_error():
    f = compiled(err_index)
    for _ in range(3):
        with pytest.raises(IndexError):
            f([1], 9)
    assert f([1, 2], 1) == 3


def enc(s: str) -> bytes:
    return s.encode()  # MARK-enc


def dec(b: bytes) -> str:
    return b.decode()  # MARK-dec


@pytest.mark.parametrize("fn,arg", [(enc, "a\ud800"), (dec, b"\xff")])
def test_unicode_errors_keep_their_class(fn, arg):
    want, _ = cpython_error_line(fn, arg)
    with pytest.raises(Exception) as ei:
        compiled(fn)(arg)
    assert type(ei.value) is want, f"{type(ei.value).__name__} is not {want.__name__}"


@pytest.mark.parametrize("fn,arg", [(enc, "a\ud800"), (dec, b"\xff")])
def test_unicode_errors_are_value_errors_at_least(fn, arg):
    with pytest.raises(ValueError) as ei:
        compiled(fn)(arg)
    _check_located(ei.value, line_of(fn, "MARK-"))


# ---------------------------------------------------------------------------
# Compile errors.

def three_problems(n: int) -> int:
    x = undefined_name  # PROBLEM-1
    s = "a" + n  # PROBLEM-2
    f = lambda y: y  # PROBLEM-3
    return n


def undefined_in_expression(n: int) -> int:
    return undefined_thing + n


def no_annotation(n) -> int:
    return n


def calls_undefined(n: int) -> int:
    return no_such_function(n)


# (function, marker on the failing line, token the column points at, keyword in the message)
def bad_str_plus_int(n: int) -> str:
    return "a" + n


def bad_try(n: int) -> int:
    try:
        n += 1
    except CustomThing:
        pass
    return n


def bad_lambda(n: int) -> int:
    f = lambda x: x + 1
    return n


def bad_with(n: int) -> int:
    with range(n) as r:
        pass
    return n


def bad_yield(n: int) -> int:  # a generator annotated as returning int
    yield n


def bad_list_method(xs: List[int]) -> int:
    return xs.frobnicate()


def bad_global(n: int) -> int:
    global _G
    return n


def bad_len_int(n: int) -> int:
    return len(n)


def bad_method_arity(s: str) -> str:
    return s.upper(1)


def bad_int_attribute(n: int) -> int:
    return n.numerator_of_doom


def bad_import(n: int) -> int:
    import os
    return n


def bad_dict_key(d: Dict[str, int]) -> int:
    return d[1]


def bad_return_type(count: int) -> str:
    return count


def bad_del(n: int) -> int:
    del n
    return 1


def bad_list_item(n: int) -> int:
    xs: List[int] = [1, "a"]
    return n


def bad_posonly(n: int, /, m: int = 0) -> int:
    return n


def bad_int_plus_none(n: int) -> int:
    return n + None


def bad_compare(xs: List[int]) -> bool:
    return xs < 3


def bad_optional(n: int) -> Union[int, str]:
    return n


def bad_fstring(n: int) -> int:
    return (y := n)


def bad_nested_def(n: int) -> int:
    def inner(x: int) -> int:
        return inner(x - 1) if x else 0
    return inner(n)


def bad_retype_local(n: int) -> int:
    x = 1
    x = "s"
    return n


def bad_branches(n: int) -> int:
    return n if n else "x"


def two_args(a: int, b: int) -> int:
    return a + b


def bad_arity(n: int) -> int:
    return two_args(n)


def bad_arg_type(n: int) -> int:
    return two_args(n, "x")


def bad_unpack(xs: List[int]) -> int:
    for a, b in xs:
        pass
    return 0


class BadAttr:
    def __init__(self, n: int) -> None:
        self.n: int = n

    def bump(self) -> int:
        self.undeclared = 3
        return self.n


SNIPPETS = [
    (bad_str_plus_int, '"a" + n', '"a"', "unsupported operand"),
    (bad_try, "except CustomThing", "except", "CustomThing"),
    (bad_lambda, "lambda x", "lambda", "lambda"),
    (bad_with, "with range", "with", "with"),
    (bad_yield, "def bad_yield", "int:", "Iterator"),
    (bad_list_method, "frobnicate", "xs.", "frobnicate"),
    (bad_global, "global _G", "global", "global"),
    (bad_len_int, "len(n)", "n)", "len"),
    (bad_method_arity, "upper(1)", "s.upper", "argument"),
    (bad_int_attribute, "numerator_of_doom", "n.", "numerator_of_doom"),
    (bad_import, "import os", "import", "import"),
    (bad_dict_key, "d[1]", "1]", "key"),
    (bad_return_type, "return count", "count", "str"),
    (bad_del, "del n", "del", "delete"),
    (bad_list_item, '[1, "a"]', '"a"', "str"),
    (bad_posonly, "n: int, /", "n: int", "positional-only"),
    (bad_int_plus_none, "n + None", "n + None", "none"),
    (bad_compare, "xs < 3", "3", "<"),
    (bad_optional, "Union[int, str]", "Union", "union"),
    (bad_fstring, "y := n", "y := n", "NamedExpr"),
    (bad_nested_def, "def inner", "def inner", "itself"),
    (bad_retype_local, 'x = "s"', '"s"', "str"),
    (bad_branches, 'else "x"', "n if", "branches"),
    (bad_arity, "two_args(n)", "two_args", "missing"),
    (bad_arg_type, 'two_args(n, "x")', '"x"', "must be int"),
    (bad_unpack, "for a, b", "xs:", "unpack"),
    (BadAttr, "self.undeclared", "self.undeclared", "undeclared"),
    (undefined_in_expression, "undefined_thing", "undefined_thing", "not defined"),
]


def _col_of(line: int, token: str) -> int:
    text = text_of(line)
    assert text.count(token) >= 1, (token, text)
    return text.index(token)


@pytest.mark.parametrize("fn,marker,token,keyword", SNIPPETS, ids=[s[0].__name__ for s in SNIPPETS])
def test_compile_error_snippet(fn, marker, token, keyword):
    with pytest.raises(matx_nb.CompileError) as ei:
        matx_nb.script(fn)
    line = line_of(fn, marker)
    col = _col_of(line, token)
    diags = ei.value.diagnostics
    assert diags, "no diagnostics"
    here = [d for d in diags if d.line == line]
    assert here, f"no diagnostic on line {line}: {[(d.line, d.message) for d in diags]}"
    assert any(keyword.lower() in d.message.lower() for d in here), [d.message for d in here]
    assert any(d.col == col for d in here), f"columns {[d.col for d in here]}, expected {col}"
    for d in diags:
        assert d.message.strip()
        assert Path(d.file).resolve() == HERE


def test_snippet_count():
    assert len({s[0] for s in SNIPPETS}) >= 12


def test_three_problems_reported_at_once():
    with pytest.raises(matx_nb.CompileError) as ei:
        matx_nb.script(three_problems)
    err = ei.value
    expected = []
    for marker, token, keyword in [("PROBLEM-1", "undefined_name", "undefined_name"),
                                   ("PROBLEM-2", '"a" + n', "+"),
                                   ("PROBLEM-3", "lambda", "lambda")]:
        line = line_of(three_problems, marker)
        expected.append((line, _col_of(line, token), keyword))
    for line, col, keyword in expected:
        match = [d for d in err.diagnostics if d.line == line and d.col == col]
        assert match, f"nothing at {line}:{col}: {[(d.line, d.col, d.message) for d in err.diagnostics]}"
        assert any(keyword in d.message for d in match), [d.message for d in match]
        assert all(d.message.strip() for d in match)
    assert len({d.line for d in err.diagnostics}) == 3


def test_compile_error_rendering_shows_source_and_caret():
    with pytest.raises(matx_nb.CompileError) as ei:
        matx_nb.script(three_problems)
    err = ei.value
    rendered = str(err).splitlines()
    assert rendered[0].startswith(f"{len(err.diagnostics)} error")
    for d in err.diagnostics:
        header = f"{d.file}:{d.line}:{d.col + 1}: error: {d.message}"
        assert header in rendered, header
        i = rendered.index(header)
        src = text_of(d.line)
        assert rendered[i + 1] == "    " + src, (rendered[i + 1], src)
        caret_line = rendered[i + 2]
        assert caret_line.lstrip(" ").startswith("^"), caret_line
        assert caret_line.index("^") == 4 + d.col, caret_line
        # the caret sits under the text the message is about
        assert src[d.col] != " "


def test_unannotated_parameter_is_any():
    # Gradual typing: no annotation is Any, checked where used as a typed value
    # (here the declared int result).
    f = matx_nb.script(no_annotation)
    assert f(5) == 5
    with pytest.raises(TypeError, match="expected int, got str"):
        f("x")


def test_compile_error_is_exception_with_diagnostic_dicts():
    with pytest.raises(matx_nb.CompileError) as ei:
        matx_nb.script(bad_str_plus_int)
    assert isinstance(ei.value, Exception)
    d = ei.value.diagnostics[0].to_dict()
    assert d["line"] == line_of(bad_str_plus_int, '"a" + n')
    assert d["message"] and d["source_line"].strip() == text_of(d["line"]).strip()


def test_undefined_name_reported_once():
    with pytest.raises(matx_nb.CompileError) as ei:
        matx_nb.script(undefined_in_expression)
    assert len(ei.value.diagnostics) == 1, [d.message for d in ei.value.diagnostics]


def test_calling_undefined_function_names_it():
    with pytest.raises(matx_nb.CompileError) as ei:
        matx_nb.script(calls_undefined)
    (d,) = ei.value.diagnostics
    assert d.line == line_of(calls_undefined, "no_such_function")
    assert "no_such_function" in d.message, d.message


def test_compile_error_from_dependency_points_into_it():
    with pytest.raises(matx_nb.CompileError) as ei:
        matx_nb.script(uses_bad_dependency)
    lines = {d.line for d in ei.value.diagnostics}
    assert line_of(bad_str_plus_int, '"a" + n') in lines


def uses_bad_dependency(n: int) -> str:
    return bad_str_plus_int(n)


# ---------------------------------------------------------------------------
# Nasty inputs: nothing may crash the process. Each runs in a child process so a
# crash is a test failure instead of the end of the test run.

def nasty_sum(xs: List[int]) -> int:
    s = 0
    for x in xs:
        s += x
    return s


def nasty_join(xs: List[str]) -> str:
    return ",".join(xs)


def nasty_dict(d: Dict[str, List[int]]) -> int:
    n = 0
    for k, v in d.items():
        n += len(k) + len(v)
    return n


def nasty_ints(a: int, b: int, op: int) -> int:
    if op == 0:
        return a // b
    if op == 1:
        return a % b
    if op == 2:
        return a << b
    if op == 3:
        return a >> b
    if op == 4:
        return a ** b
    if op == 5:
        return abs(a)
    return -a


def nasty_repeat(s: str, n: int) -> int:
    return len(s * n)


def nasty_list_repeat(n: int) -> int:
    return len([0] * n)


def nasty_index(xs: List[int], i: int) -> int:
    return xs[i]


def nasty_slice(xs: List[int], a: int, b: int, c: int) -> List[int]:
    return xs[a:b:c]


def nasty_insert(xs: List[int], i: int) -> List[int]:
    xs.insert(i, 9)
    return xs


def nasty_float_to_int(x: float) -> int:
    return int(x)


def nasty_range_len(a: int, b: int) -> int:
    return len(range(a, b))


def nasty_center(s: str, n: int) -> int:
    return len(s.center(n))


def walk(n: int, xs: List[int]) -> int:
    if n <= 0:
        return len(xs)
    r = walk(n - 1, xs)
    xs.append(r % 7)
    return r + xs[len(xs) - 1]


def pure_depth(n: int) -> int:
    # Not a tail call g++ can turn into a loop: the result of the call is used twice.
    if n <= 0:
        return 1
    r = pure_depth(n - 1)
    return (r * 31 + r // 7 + n) % 1000003


I64_MIN, I64_MAX = -2 ** 63, 2 ** 63 - 1

# (function name, arguments as Python source): each must give CPython's result, or
# CPython's exception class, or OverflowError where CPython's result needs > 64 bits.
NASTY = [
    ("nasty_sum", "[list(range(10**6))]"),
    ("nasty_sum", "[[]]"),
    ("nasty_join", "[['x' * 1000] * 10**4]"),
    ("nasty_join", "[['\\ud800', '\\U0010ffff', '\\x00']]"),
    ("nasty_dict", "[{str(i): list(range(i % 5)) for i in range(10**5)}]"),
    ("nasty_ints", f"[{I64_MIN}, -1, 0]"),
    ("nasty_ints", f"[{I64_MIN}, -1, 1]"),
    ("nasty_ints", "[1, 64, 2]"),
    ("nasty_ints", "[1, -1, 2]"),
    ("nasty_ints", "[5, 64, 3]"),
    ("nasty_ints", "[-5, 1000, 3]"),
    ("nasty_ints", "[5, -1, 3]"),
    ("nasty_ints", "[2, 64, 4]"),
    ("nasty_ints", "[3, 39, 4]"),
    ("nasty_ints", f"[{I64_MIN}, 0, 5]"),
    ("nasty_ints", f"[{I64_MIN}, 0, 6]"),
    ("nasty_ints", f"[{I64_MAX}, 0, 6]"),
    ("nasty_ints", "[0, 0, 1]"),
    ("nasty_repeat", "['ab', -3]"),
    ("nasty_repeat", "['ab', 2**62]"),
    ("nasty_repeat", "['', 2**62]"),
    ("nasty_list_repeat", "[2**62]"),
    ("nasty_list_repeat", "[-5]"),
    ("nasty_index", f"[[1, 2], {I64_MIN}]"),
    ("nasty_index", f"[[1, 2], {I64_MAX}]"),
    ("nasty_slice", f"[[1, 2, 3], {I64_MIN}, {I64_MAX}, -1]"),
    ("nasty_slice", "[[1, 2, 3], 0, 3, 0]"),
    ("nasty_slice", f"[[1, 2, 3], {I64_MAX}, {I64_MIN}, -1]"),
    ("nasty_insert", f"[[1, 2], {I64_MIN}]"),
    ("nasty_insert", f"[[1, 2], {I64_MAX}]"),
    ("nasty_float_to_int", "[float('nan')]"),
    ("nasty_float_to_int", "[float('inf')]"),
    ("nasty_float_to_int", "[-float('inf')]"),
    ("nasty_float_to_int", "[1e300]"),
    ("nasty_range_len", "[0, 10**18]"),
    ("walk", "[10**4, []]"),
]

CHILD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    sys.setrecursionlimit(100000)
    import matx_nb, test_errors as m
    out = []
    for name, args_src in json.loads(sys.argv[1]):
        fn = getattr(m, name)
        def run(f):
            try:
                r = f(*eval(args_src))
                return ["ok", repr(r)]
            except RecursionError:
                return ["exc", "RecursionError"]
            except Exception as e:
                return ["exc", type(e).__name__]
        py = run(fn)
        print("CALL", name, args_src[:60], flush=True)
        nb = run(matx_nb.script(fn))
        out.append([name, args_src, py, nb])
    print("RESULT " + json.dumps(out), flush=True)
""")


def _run_child(calls, timeout=300, stack_kb=None):
    code = CHILD.format(tests=str(HERE.parent))
    pre = None
    if stack_kb is not None:
        def pre():
            import resource
            resource.setrlimit(resource.RLIMIT_STACK, (stack_kb * 1024, stack_kb * 1024))
    return subprocess.run([sys.executable, "-c", code, json.dumps(calls)], capture_output=True,
                          text=True, timeout=timeout, preexec_fn=pre, env=dict(os.environ))


def _acceptable(py, nb) -> bool:
    if py == nb:
        return True
    if nb == ["exc", "OverflowError"] and py[0] == "ok":
        return True  # the compiled int is 64-bit
    if py == ["exc", "MemoryError"] and nb == ["exc", "OverflowError"]:
        return True
    if py == ["exc", "OverflowError"] and nb == ["exc", "MemoryError"]:
        return True  # "repeated string is too long": either is fine, as long as it is an exception
    return False


def test_nasty_inputs_do_not_crash():
    r = _run_child(NASTY)
    assert r.returncode == 0, f"child crashed (rc={r.returncode}) after:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    results = json.loads(line[len("RESULT "):])
    assert len(results) == len(NASTY)
    bad = [(name, args, py, nb) for name, args, py, nb in results if not _acceptable(py, nb)]
    assert not bad, "\n".join(f"{n}({a[:60]}): CPython {p}, compiled {c}" for n, a, p, c in bad)


def test_range_len_overflow():
    with pytest.raises(OverflowError):
        r = compiled(nasty_range_len)(I64_MIN, I64_MAX)
        print("got", r)


def test_center_huge_width():
    with pytest.raises((MemoryError, OverflowError)):
        compiled(nasty_center)("a", 2 ** 62)


@pytest.mark.parametrize("a,b,c", [(0, I64_MIN, 1), (0, 3, I64_MIN), (I64_MIN, 0, -1)])
def test_slice_int64_min_bound(a, b, c):
    xs = [1, 2, 3]
    assert compiled(nasty_slice)(xs, a, b, c) == xs[a:b:c]


@pytest.mark.parametrize("fn", ["walk", "pure_depth"])
def test_deep_recursion_raises_recursion_error(fn):
    # 10**7 frames do not fit an 8 MiB stack; CPython raises RecursionError, and so
    # must compiled code, both where it allocates (walk: an explicit stack check)
    # and in pure arithmetic (pure_depth: the host catches the stack overflow).
    r = _run_child([(fn, "[10**7, []]" if fn == "walk" else "[10**7]")], stack_kb=8192)
    assert r.returncode == 0, f"child died with rc={r.returncode}: {r.stderr[-500:]}"
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    (name, args, py, nb), = json.loads(line[len("RESULT "):])
    assert py == ["exc", "RecursionError"] and nb == ["exc", "RecursionError"], (py, nb)
