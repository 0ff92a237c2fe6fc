"""Range loops with checked products run a second copy for bounds within 32 bits
(codegen `version_small_range`), where g++ drops the overflow checks it can prove.
Both copies must keep Python's values, and raise OverflowError exactly where a
64-bit intermediate would not hold the value (CPython's ints are unbounded)."""
from __future__ import annotations

from typing import List

from hypothesis import given, settings, strategies as st
import pytest

import matx_nb

INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1


def products(lo: int, hi: int, k: int) -> int:
    t = 0
    for i in range(lo, hi):
        t += i * k - i * i
    return t


def squares_mod(n: int) -> int:
    return sum(i * i % 7 for i in range(n))


def kept_products(lo: int, hi: int) -> List[int]:
    out = [i * (i + 1) for i in range(lo, hi) if i % 2 == 0]
    return out


def model_products(lo: int, hi: int, k: int):
    """products() with every intermediate held in 64 bits, as compiled code does."""
    def fit(v):
        if not INT64_MIN <= v <= INT64_MAX:
            raise OverflowError
        return v
    t = 0
    for i in range(lo, hi):
        t = fit(t + fit(fit(i * k) - fit(i * i)))
    return t


_cache = {}


def compiled(fn):
    if fn not in _cache:
        _cache[fn] = matx_nb.script(fn)
    return _cache[fn]


def outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except OverflowError:
        return ("raise", "OverflowError")


bounds = st.one_of(st.integers(-50, 50), st.integers(2 ** 31 - 20, 2 ** 31 + 20),
                   st.integers(-2 ** 31 - 20, -2 ** 31 + 20), st.integers(3037000480, 3037000520))


@settings(max_examples=300, deadline=None)
@given(lo=bounds, span=st.integers(0, 40),
       k=st.one_of(st.integers(-1000, 1000), st.sampled_from([2 ** 31, 2 ** 32 + 1, -2 ** 33, 2 ** 40, 3037000499])))
def test_products_match_64_bit_model(lo, span, k):
    hi = lo + span
    assert outcome(compiled(products), lo, hi, k) == outcome(model_products, lo, hi, k), (lo, hi, k)


@pytest.mark.parametrize("n", [0, -3, 1, 7, 1000, 100_003])
def test_squares_mod(n):
    assert compiled(squares_mod)(n) == squares_mod(n)


def test_square_past_64_bits_in_the_wide_copy():
    # bounds past 2**31: the checked copy runs, and i * i overflows at 3037000500
    with pytest.raises(OverflowError):
        compiled(kept_products)(3037000498, 3037000502)
    assert compiled(kept_products)(3037000490, 3037000498) == kept_products(3037000490, 3037000498)


def test_product_overflow_inside_the_small_copy():
    with pytest.raises(OverflowError):
        compiled(products)(2 ** 30, 2 ** 30 + 3, 2 ** 40)
    for lo, hi, k in ((-2 ** 31, -2 ** 31 + 2, 2 ** 31), (-2 ** 31, -2 ** 31 + 1, 2 ** 31), (2 ** 31 - 1, 2 ** 31, 1)):
        assert outcome(compiled(products), lo, hi, k) == outcome(model_products, lo, hi, k)
