"""Lists of str and int crossing the boundary a block at a time (abi.h, ABI 8).

A List[str] or List[int] argument is read through str_items / int_items, which
hand over the items of a list or tuple in blocks and stop at the first item
that is not an exact str (or an int fitting 64 bits, bools excluded); that item
goes through the per-item path, which converts it (a str subclass, a bool) or
raises naming its index. Results go back through new_str_list / new_int_list.
Every case is compared with what CPython does with the same values.
"""
from __future__ import annotations

import enum
from typing import List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matx_nb

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def same_strs(xs: List[str]) -> List[str]:
    return xs


def upper_strs(xs: List[str]) -> List[str]:
    out: List[str] = []
    for x in xs:
        out.append(x.upper() + "|")
    return out


def str_lengths(xs: List[str]) -> List[int]:
    return [len(x) for x in xs]


def same_ints(xs: List[int]) -> List[int]:
    return xs


def doubled(xs: List[int]) -> List[int]:
    return [x * 2 for x in xs]


def total(xs: List[int]) -> int:
    s = 0
    for x in xs:
        s += x
    return s


def pair(a: List[str], b: List[int]) -> Tuple[List[str], List[int]]:
    return a, b


@pytest.fixture(scope="module")
def c():
    return {f.__name__: matx_nb.script(f)
            for f in (same_strs, upper_strs, str_lengths, same_ints, doubled, total, pair)}


class Tag(str):
    pass


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2 ** 40


# Text of every CPython storage kind: ASCII, Latin-1, UCS-2, UCS-4 (emoji),
# short (inline in a Str) and long (on the heap), empty.
TEXT = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=12),
    st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=20),
    st.text(alphabet=st.characters(min_codepoint=0x100, max_codepoint=0xFFFF, blacklist_categories=("Cs",)),
            max_size=20),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(["", "a", "naïve", "Ωmega", "😀", "a😀b" * 5, "x" * 7, "y" * 8, "z" * 300]),
)
# Sizes around the block of 256 items.
SIZES = st.sampled_from([0, 1, 2, 7, 255, 256, 257, 511, 513, 1000])


@st.composite
def str_lists(draw):
    n = draw(SIZES)
    base = draw(st.lists(TEXT, min_size=1, max_size=40))
    return [base[i % len(base)] for i in range(n)]


@SETTINGS
@given(str_lists(), st.booleans())
def test_str_lists_round_trip(c, xs, as_tuple):
    arg = tuple(xs) if as_tuple else xs
    assert c["same_strs"](arg) == list(xs)
    assert c["upper_strs"](arg) == upper_strs(list(xs))
    assert c["str_lengths"](arg) == [len(x) for x in xs]


@SETTINGS
@given(str_lists(), st.integers(0, 1000), st.sampled_from(["subclass", "int", "none", "bytes"]))
def test_one_odd_item_anywhere(c, xs, where, odd):
    """A str subclass converts (per item); anything else raises TypeError naming
    its index, wherever it sits in the blocks."""
    if not xs:
        xs = ["a"]
    k = where % len(xs)
    item = {"subclass": Tag("tagged"), "int": 5, "none": None, "bytes": b"x"}[odd]
    arg = list(xs)
    arg[k] = item
    if odd == "subclass":
        assert c["same_strs"](arg) == [str(x) for x in arg]
        assert type(c["same_strs"](arg)[k]) is str
        return
    with pytest.raises(TypeError) as e:
        c["same_strs"](arg)
    assert f"xs[{k}]" in str(e.value) and "str" in str(e.value)


INT64 = st.integers(-2 ** 63, 2 ** 63 - 1)
INTS = st.one_of(INT64, st.integers(-300, 300), st.integers(-2 ** 31, 2 ** 31), st.sampled_from([0, 1, -1, 2 ** 30, -2 ** 30, 2 ** 30 - 1]))


@st.composite
def int_lists(draw):
    n = draw(SIZES)
    base = draw(st.lists(INTS, min_size=1, max_size=40))
    return [base[i % len(base)] for i in range(n)]


@SETTINGS
@given(int_lists(), st.booleans())
def test_int_lists_round_trip(c, xs, as_tuple):
    arg = tuple(xs) if as_tuple else xs
    out = c["same_ints"](arg)
    assert out == list(xs) and all(type(v) is int for v in out)
    assert c["total"](arg) == sum(xs) if -2 ** 63 <= sum(xs) < 2 ** 63 else True
    small = [v // 4 for v in xs]
    assert c["doubled"](small) == [v * 2 for v in small]


@SETTINGS
@given(int_lists(), st.integers(0, 1000), st.sampled_from(["bool", "intenum", "big", "negbig", "float", "str"]))
def test_one_odd_int_anywhere(c, xs, where, odd):
    """bool and int subclasses convert (per item), as CPython's ints; an int
    past 64 bits raises OverflowError and anything else TypeError, naming the
    index."""
    if not xs:
        xs = [1]
    k = where % len(xs)
    item = {"bool": True, "intenum": Level.HIGH, "big": 2 ** 63, "negbig": -2 ** 63 - 1, "float": 1.5,
            "str": "1"}[odd]
    arg = list(xs)
    arg[k] = item
    if odd in ("bool", "intenum"):
        out = c["same_ints"](arg)
        assert out == [int(v) for v in arg] and type(out[k]) is int
        return
    exc = OverflowError if odd in ("big", "negbig") else TypeError
    with pytest.raises(exc) as e:
        c["same_ints"](arg)
    assert f"xs[{k}]" in str(e.value)


def test_results_are_new_lists_of_exact_types(c):
    words = ["alpha", "β", "😀", "", "a" * 100] * 100
    out = c["same_strs"](words)
    assert out == words and out is not words and all(type(w) is str for w in out)
    ints = list(range(-1000, 1000)) + [2 ** 62, -2 ** 63]
    r = c["same_ints"](ints)
    assert r == ints and r is not ints
    r[0] = 99
    assert ints[0] == -1000  # the result aliases nothing of the argument
    a, b = c["pair"](("x", "y"), (1, 2))
    assert (a, b) == (["x", "y"], [1, 2])


def test_small_ints_are_cpythons(c):
    out = c["same_ints"]([5, 256, -5])
    assert out[0] is 5 and out[1] is 256 and out[2] is -5  # noqa: F632  (CPython's cached ints)


def test_threads_share_one_list(c):
    """Several threads pass the same lists at once (the bulk reads happen with
    the GIL held; the compiled bodies run without it)."""
    from concurrent.futures import ThreadPoolExecutor
    words = [f"w{i}" * (i % 5) for i in range(5000)]
    ints = list(range(5000))
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda _: (c["upper_strs"](words), c["doubled"](ints)), range(16)))
    want = (upper_strs(words), [v * 2 for v in ints])
    assert all(o == want for o in outs)
