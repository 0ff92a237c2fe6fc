"""Property tests of the modules in compiled code against CPython on generated
inputs: json.dumps/loads, unicodedata.normalize, base64 (including malformed
input: same exception class), random sequences for any seed, re.sub/split."""
from __future__ import annotations

import base64
import json
import random
import re
import unicodedata
from typing import Any, Dict, List

from hypothesis import given, settings, strategies as st

import matx_nb

SETTINGS = settings(max_examples=150, deadline=None)


def outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except Exception as e:  # the class is what must agree
        return "raise", type(e)


def agree(py, compiled, *args):
    a, b = outcome(py, *args), outcome(compiled, *args)
    assert a == b, (args, a, b)
    if a[0] == "ok":
        assert type(a[1]) is type(b[1])


def dumps(x: Dict[str, Any]) -> str:
    return json.dumps(x)


def dumps_opts(x: List[Any], indent: int) -> str:
    return json.dumps(x, indent=indent, sort_keys=True, ensure_ascii=False)


def loads(s: str) -> Any:
    return json.loads(s)


def normalize(form: str, s: str) -> str:
    return unicodedata.normalize(form, s)


def b64(b: bytes) -> bytes:
    return base64.b64encode(b)


def unb64(b: bytes) -> bytes:
    return base64.b64decode(b)


def unb64_strict(b: bytes) -> bytes:
    return base64.b64decode(b, validate=True)


def draws(seed: int, n: int, k: int) -> List[float]:
    random.seed(seed)
    out = [random.random(), float(random.randrange(n)), float(random.getrandbits(k))]
    xs = list(range(n))
    random.shuffle(xs)
    return out + [float(x) for x in xs]


def resub(s: str) -> List[str]:
    return [re.sub(r"\s+|x*", "-", s), re.sub(r"(\w)(\d)", r"\2\1", s)] + re.split(r"[,\s]", s)


C = {f.__name__: matx_nb.script(f) for f in (dumps, dumps_opts, loads, normalize, b64, unb64, unb64_strict,
                                              draws, resub)}

scalars = st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) |
                           st.dictionaries(st.text(max_size=5), kids, max_size=4), max_leaves=12)
unicode_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@SETTINGS
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5))
def test_json_dumps_and_loads(x):
    s = json.dumps(x)
    assert C["dumps"](x) == s
    assert C["loads"](s) == json.loads(s)


@SETTINGS
@given(st.lists(json_values, max_size=4), st.integers(0, 3))
def test_json_dumps_options(x, indent):
    agree(dumps_opts, C["dumps_opts"], x, indent)


@SETTINGS
@given(st.text(alphabet='{}[]",:0123456789.eE+-truefalsn \\u', max_size=16))
def test_json_loads_malformed(s):
    agree(loads, C["loads"], s)


@SETTINGS
@given(st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]), unicode_text)
def test_normalize(form, s):
    assert C["normalize"](form, s) == unicodedata.normalize(form, s)


@SETTINGS
@given(st.binary(max_size=40))
def test_base64_round_trip(b):
    assert C["b64"](b) == base64.b64encode(b)
    assert C["unb64"](base64.b64encode(b)) == b


@SETTINGS
@given(st.text(alphabet="ABCab01+/=-_ \n!", max_size=14).map(str.encode))
def test_base64_malformed(b):
    agree(unb64, C["unb64"], b)
    agree(unb64_strict, C["unb64_strict"], b)


@SETTINGS
@given(st.integers(-2**63 + 1, 2**63 - 1), st.integers(1, 300), st.integers(0, 63))
def test_random_sequences(seed, n, k):
    assert C["draws"](seed, n, k) == draws(seed, n, k)


@SETTINGS
@given(st.text(alphabet="ab1 2x,é\t", max_size=12))
def test_re_sub_split(s):
    assert C["resub"](s) == resub(s)
