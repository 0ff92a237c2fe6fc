"""Property tests: every str method the compiler supports (checker.STR_METHODS), plus
indexing, slicing, len, `in`, `+`, `*` and comparisons, on text mixing ASCII,
accented Latin, Greek (with sigma), Chinese, emoji and Unicode whitespace and line
breaks. Each operation runs under CPython and compiled, and both must give the same
value of the same type, or raise the same exception class.

Operations are grouped into a few compiled functions that dispatch on an `op`
number (compiling costs ~0.5 s a function); the reference result is CPython
running the very same function.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import matx_nb
from matx_nb.compiler.primitives import of_kind
STR_METHODS = of_kind("str")

# ---------------------------------------------------------------------------
# Inputs.

ASCII = "abcXYZ019 _-+.,:'!?\t\n\r"
LATIN = "éÉàÀçÇñÑöÖßøÅ"
GREEK = "ΣσςΑαΒβΩωΐάΆ"
CHINESE = "你好中文字"
EMOJI = "😀👍🏽🇫🇷"
SPACES = "\x85\xa0\u2028\u2029\u3000\x1c\x1d\x1e\x1f\x0b\x0c\u2009"
SPECIAL = "İıﬁǅǆǄŉ²½١٣Ⅻ\u0301\x00"
ALPHABET = ASCII + LATIN + GREEK + CHINESE + EMOJI + SPACES + SPECIAL

chars = st.sampled_from(ALPHABET)
text = st.text(alphabet=chars, max_size=24)
short = st.text(alphabet=chars, max_size=3)
small_int = st.integers(min_value=-30, max_value=30)
index = st.integers(min_value=-30, max_value=30)
width = st.integers(min_value=-3, max_value=40)
bound = st.one_of(st.integers(min_value=-30, max_value=30), st.sampled_from([-2 ** 63, 2 ** 63 - 1]))


@st.composite
def text_and_sub(draw):
    """A string and a probe that is often a piece of it (so searches hit)."""
    s = draw(text)
    if s and draw(st.booleans()):
        i = draw(st.integers(0, len(s)))
        j = draw(st.integers(i, min(len(s), i + 4)))
        sub = s[i:j]
    else:
        sub = draw(short)
    return s, sub


SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# ---------------------------------------------------------------------------
# The compiled functions.

def unary(s: str, op: int) -> str:
    if op == 0:
        return s.lower()
    if op == 1:
        return s.upper()
    if op == 2:
        return s.casefold()
    if op == 3:
        return s.swapcase()
    if op == 4:
        return s.title()
    if op == 5:
        return s.capitalize()
    if op == 6:
        return s.strip()
    if op == 7:
        return s.lstrip()
    if op == 8:
        return s.rstrip()
    if op == 9:
        return s.expandtabs()
    if op == 10:
        return s[::-1]
    if op == 11:
        return str(s)
    return s


UNARY = ["lower", "upper", "casefold", "swapcase", "title", "capitalize", "strip", "lstrip",
         "rstrip", "expandtabs", "reverse", "str"]


def with_str(s: str, a: str, op: int) -> str:
    if op == 0:
        return s.strip(a)
    if op == 1:
        return s.lstrip(a)
    if op == 2:
        return s.rstrip(a)
    if op == 3:
        return s.removeprefix(a)
    if op == 4:
        return s.removesuffix(a)
    if op == 5:
        return s + a
    if op == 6:
        t = s
        t += a
        return t
    if op == 7:
        return s.strip(None)
    return s


WITH_STR = ["strip_chars", "lstrip_chars", "rstrip_chars", "removeprefix", "removesuffix", "add",
            "iadd", "strip_none"]


def replace(s: str, old: str, new: str, count: int, op: int) -> str:
    if op == 0:
        return s.replace(old, new)
    return s.replace(old, new, count)


def padding(s: str, n: int, fill: str, op: int) -> str:
    if op == 0:
        return s.zfill(n)
    if op == 1:
        return s.center(n)
    if op == 2:
        return s.ljust(n)
    if op == 3:
        return s.rjust(n)
    if op == 4:
        return s.center(n, fill)
    if op == 5:
        return s.ljust(n, fill)
    if op == 6:
        return s.rjust(n, fill)
    if op == 7:
        return s.expandtabs(n)
    if op == 8:
        return s * n
    if op == 9:
        return n * s
    return s


PADDING = ["zfill", "center", "ljust", "rjust", "center_fill", "ljust_fill", "rjust_fill",
           "expandtabs_n", "mul", "rmul"]


def search(s: str, sub: str, start: int, end: int, op: int) -> int:
    if op == 0:
        return s.find(sub)
    if op == 1:
        return s.find(sub, start)
    if op == 2:
        return s.find(sub, start, end)
    if op == 3:
        return s.rfind(sub)
    if op == 4:
        return s.rfind(sub, start)
    if op == 5:
        return s.rfind(sub, start, end)
    if op == 6:
        return s.index(sub)
    if op == 7:
        return s.index(sub, start)
    if op == 8:
        return s.index(sub, start, end)
    if op == 9:
        return s.rindex(sub)
    if op == 10:
        return s.rindex(sub, start)
    if op == 11:
        return s.rindex(sub, start, end)
    if op == 12:
        return s.count(sub)
    if op == 13:
        return s.count(sub, start)
    if op == 14:
        return s.count(sub, start, end)
    if op == 15:
        return len(s)
    return -99


SEARCH = ["find", "find_start", "find_start_end", "rfind", "rfind_start", "rfind_start_end",
          "index", "index_start", "index_start_end", "rindex", "rindex_start", "rindex_start_end",
          "count", "count_start", "count_start_end", "len"]


def predicates(s: str, op: int) -> bool:
    if op == 0:
        return s.isdigit()
    if op == 1:
        return s.isalpha()
    if op == 2:
        return s.isalnum()
    if op == 3:
        return s.isspace()
    if op == 4:
        return s.isupper()
    if op == 5:
        return s.islower()
    if op == 6:
        return s.isdecimal()
    if op == 7:
        return s.isnumeric()
    if op == 8:
        return s.istitle()
    if op == 9:
        return s.isascii()
    if op == 10:
        return s.isidentifier()
    if op == 11:
        return s.isprintable()
    return False


PREDICATES = ["isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "isdecimal",
              "isnumeric", "istitle", "isascii", "isidentifier", "isprintable"]


def affixes(s: str, a: str, b: str, start: int, end: int, op: int) -> bool:
    if op == 0:
        return s.startswith(a)
    if op == 1:
        return s.startswith(a, start)
    if op == 2:
        return s.startswith(a, start, end)
    if op == 3:
        return s.endswith(a)
    if op == 4:
        return s.endswith(a, start)
    if op == 5:
        return s.endswith(a, start, end)
    if op == 6:
        return s.startswith((a, b))
    if op == 7:
        return s.endswith((a, b))
    if op == 8:
        return s.startswith((a, b), start, end)
    if op == 9:
        return s.endswith((a, b), start, end)
    if op == 10:
        return a in s
    if op == 11:
        return a not in s
    if op == 12:
        return s == a
    if op == 13:
        return s != a
    if op == 14:
        return s < a
    if op == 15:
        return s <= a
    if op == 16:
        return s > a
    if op == 17:
        return s >= a
    return False


AFFIXES = ["startswith", "startswith_start", "startswith_start_end", "endswith", "endswith_start",
           "endswith_start_end", "startswith_tuple", "endswith_tuple", "startswith_tuple_start_end",
           "endswith_tuple_start_end", "in", "not_in", "eq", "ne", "lt", "le", "gt", "ge"]


def splitting(s: str, sep: str, n: int, op: int) -> List[str]:
    if op == 0:
        return s.split()
    if op == 1:
        return s.split(sep)
    if op == 2:
        return s.split(sep, n)
    if op == 3:
        return s.split(None, n)
    if op == 4:
        return s.rsplit()
    if op == 5:
        return s.rsplit(sep)
    if op == 6:
        return s.rsplit(sep, n)
    if op == 7:
        return s.rsplit(None, n)
    if op == 8:
        return s.splitlines()
    if op == 9:
        return s.splitlines(True)
    if op == 10:
        return s.splitlines(False)
    if op == 11:
        return list(s)
    return []


SPLITTING = ["split", "split_sep", "split_sep_max", "split_none_max", "rsplit", "rsplit_sep",
             "rsplit_sep_max", "rsplit_none_max", "splitlines", "splitlines_keepends",
             "splitlines_false", "list"]


def joining(sep: str, parts: List[str]) -> str:
    return sep.join(parts)


def in_place_chain(s: str, a: str, b: str) -> str:
    # temporaries nobody else holds are lowered and replaced in place (16 bytes at
    # a time over Latin-1 buffers, their padding included)
    t = (s + "|" + s).lower()
    t = t.replace(a, b).replace(b, a).replace(",", " ")
    return t.strip().lower().replace(" ", "_") + (s * 3).replace(a, b).lower()


def words_kept(s: str, sep: str, n: int) -> List[str]:
    # streamed split (64-byte blocks), each kept word moved into a list that is
    # emptied in place per line, and joined 16 bytes at a time
    out: List[str] = []
    for line in s.split("\n"):
        kept: List[str] = []
        for w in line.split():
            if len(w) > n:
                kept.append(w)
        out.append(sep.join(kept))
    return out


def partitions(s: str, sep: str, op: int) -> Tuple[str, str, str]:
    if op == 0:
        return s.partition(sep)
    return s.rpartition(sep)


def encoding(s: str, enc: str, op: int) -> bytes:
    if op == 0:
        return s.encode()
    return s.encode(enc)


def indexing(s: str, i: int) -> str:
    return s[i]


def slicing(s: str, a: int, b: int, c: int, op: int) -> str:
    if op == 0:
        return s[a:b]
    if op == 1:
        return s[a:b:c]
    if op == 2:
        return s[a:]
    if op == 3:
        return s[:b]
    if op == 4:
        return s[::c]
    if op == 5:
        return s[a::c]
    return s[:b:c]


SLICING = ["a:b", "a:b:c", "a:", ":b", "::c", "a::c", ":b:c"]


def iterate(s: str) -> List[str]:
    out: List[str] = []
    for ch in s:
        out.append(ch)
    return out


def formatting(s: str, t: str, n: int, op: int) -> str:
    if op == 0:
        return "{}|{!r}|{:>8}|{:^9}".format(s, t, s, t)
    if op == 1:
        return f"{s!a}|{t:*<{n}}|{s:.{n}}"
    return "%s|%r|%5s|%-6.2s|%a" % (s, t, s, t, s)


FORMATTING = ["str.format", "f-string", "percent"]


def codecs(s: str, enc: str, errors: str) -> str:
    return s.encode(enc, errors).decode(enc, errors=errors)


FUNCS = [unary, with_str, replace, padding, search, predicates, affixes, splitting, joining, words_kept,
         in_place_chain,
         partitions, encoding, indexing, slicing, iterate, formatting, codecs]
_compiled: Dict[Any, Any] = {}


def compiled(fn):
    """Compiles each function once, on first use."""
    if fn not in _compiled:
        _compiled[fn] = matx_nb.script(fn)
    return _compiled[fn]


def _outcome(fn, args):
    try:
        return "ok", fn(*args)
    except Exception as e:  # noqa: BLE001
        return "raise", type(e)


def check(fn, *args):
    """CPython and compiled agree on value and type, or raise the same exception class."""
    want = _outcome(fn, args)
    got = _outcome(compiled(fn), args)
    if want[0] == "raise" or got[0] == "raise":
        assert got == want, f"{fn.__name__}{args!r}: CPython {want}, compiled {got}"
        return
    assert type(got[1]) is type(want[1]), f"{fn.__name__}{args!r}: type {type(got[1])} != {type(want[1])}"
    if isinstance(want[1], (list, tuple)):
        assert [type(x) for x in got[1]] == [type(x) for x in want[1]]
    assert got[1] == want[1], f"{fn.__name__}{args!r}: CPython {want[1]!r}, compiled {got[1]!r}"


# ---------------------------------------------------------------------------
# Coverage of the supported methods.

COVERED = {"split", "rsplit", "join", "lower", "upper", "strip", "lstrip", "rstrip", "replace", "find",
           "rfind", "index", "rindex", "count", "startswith", "endswith", "isdigit", "isalpha",
           "isalnum", "isspace", "isupper", "islower", "isdecimal", "isnumeric", "istitle", "isascii",
           "isidentifier", "isprintable", "title", "capitalize", "swapcase", "casefold", "encode",
           "zfill", "center", "ljust", "rjust", "splitlines", "partition", "rpartition",
           "removeprefix", "removesuffix", "expandtabs", "format"}


def test_every_supported_str_method_is_covered():
    assert set(STR_METHODS) <= COVERED, sorted(set(STR_METHODS) - COVERED)


def test_all_functions_compile():
    for fn in FUNCS:
        compiled(fn)


# ---------------------------------------------------------------------------
# The properties.

@pytest.mark.parametrize("op", range(len(UNARY)), ids=UNARY)
@SETTINGS
@given(s=text)
def test_unary(op, s):
    check(unary, s, op)


@pytest.mark.parametrize("op", range(len(WITH_STR)), ids=WITH_STR)
@SETTINGS
@given(pair=text_and_sub())
def test_with_str(op, pair):
    s, a = pair
    check(with_str, s, a, op)


@pytest.mark.parametrize("op", [0, 1], ids=["replace", "replace_count"])
@SETTINGS
@given(pair=text_and_sub(), new=short, count=st.integers(-2, 5))
def test_replace(op, pair, new, count):
    s, old = pair
    check(replace, s, old, new, count, op)


@pytest.mark.parametrize("op", range(len(PADDING)), ids=PADDING)
@SETTINGS
@given(s=st.one_of(text, st.text(alphabet="+-0129\t\n ab", max_size=8)), n=width,
       fill=st.one_of(chars, short))
def test_padding(op, s, n, fill):
    check(padding, s, n, fill, op)


@pytest.mark.parametrize("op", range(len(SEARCH)), ids=SEARCH)
@SETTINGS
@given(pair=text_and_sub(), start=bound, end=bound)
def test_search(op, pair, start, end):
    s, sub = pair
    check(search, s, sub, start, end, op)


@pytest.mark.parametrize("op", range(len(PREDICATES)), ids=PREDICATES)
@SETTINGS
@given(s=st.one_of(text, st.text(alphabet=st.sampled_from(list(LATIN + GREEK + "ǅǄǆ '")), max_size=8),
                   st.text(alphabet=st.sampled_from(list("0123456789²½١٣Ⅻ")), max_size=5),
                   st.text(alphabet=st.sampled_from(list(SPACES + " \t\n")), max_size=5),
                   st.text(alphabet=st.sampled_from(list("_aZ9éΣ你\u0301")), max_size=5)))
def test_predicates(op, s):
    check(predicates, s, op)


@pytest.mark.parametrize("op", range(len(AFFIXES)), ids=AFFIXES)
@SETTINGS
@given(pair=text_and_sub(), b=short, start=bound, end=bound)
def test_affixes_and_comparisons(op, pair, b, start, end):
    s, a = pair
    check(affixes, s, a, b, start, end, op)


@pytest.mark.parametrize("op", range(len(SPLITTING)), ids=SPLITTING)
@SETTINGS
@given(pair=text_and_sub(), n=st.integers(-2, 6))
@example(pair=(" a b ", " "), n=1)
@example(pair=("0 ", "0"), n=0)
@example(pair=(" 0", "0"), n=0)
def test_splitting(op, pair, n):
    s, sep = pair
    check(splitting, s, sep, n, op)


@SETTINGS
@given(sep=short, parts=st.lists(text, max_size=6))
def test_join(sep, parts):
    check(joining, sep, parts)


# Latin-1 text (one byte per character inside the runtime): words of every length
# around the 7-character inline limit and the 16-byte copy steps, lists past 64.
latin1_text = st.text(alphabet=st.sampled_from(ASCII + LATIN + "\xa0\x85"), max_size=40)


@SETTINGS
@given(sep=st.one_of(st.text(alphabet=st.sampled_from(ASCII + LATIN), max_size=3), short),
       parts=st.lists(st.one_of(latin1_text, text), max_size=80))
def test_join_latin1(sep, parts):
    check(joining, sep, parts)


@SETTINGS
@given(s=st.one_of(latin1_text, st.text(alphabet=st.sampled_from("AZaz@[`{ ,\x00\x7f\x80\xc0\xdeÿ"), max_size=70),
                   text),
       a=st.sampled_from(list("aA ,\x00Zé中")), b=st.sampled_from(list("bB_\x00zÀ")))
def test_in_place_chain(s, a, b):
    check(in_place_chain, s, a, b)


@SETTINGS
@given(s=st.text(alphabet=st.sampled_from("ab cdefghijk\t\n\xa0\x85éÀ,." + "中"), max_size=300),
       sep=st.sampled_from([" ", "", "--", "·", "中"]), n=st.integers(0, 9))
def test_words_kept(s, sep, n):
    check(words_kept, s, sep, n)


@pytest.mark.parametrize("op", [0, 1], ids=["partition", "rpartition"])
@SETTINGS
@given(pair=text_and_sub())
def test_partition(op, pair):
    s, sep = pair
    check(partitions, s, sep, op)


@pytest.mark.parametrize("op", [0, 1], ids=["encode", "encode_utf8"])
@SETTINGS
@given(s=text, enc=st.sampled_from(["utf-8", "utf8", "UTF-8", "utf_8"]))
def test_encode(op, s, enc):
    check(encoding, s, enc, op)


@pytest.mark.parametrize("op", range(len(FORMATTING)), ids=FORMATTING)
@SETTINGS
@given(pair=text_and_sub(), n=st.integers(0, 12))
def test_formatting(op, pair, n):
    check(formatting, pair[0], pair[1], n, op)


@SETTINGS
@given(s=st.one_of(text, st.text(alphabet=chars.map(lambda c: c) | st.just("\ud800"), max_size=8)),
       enc=st.sampled_from(["utf-8", "ascii", "latin-1"]),
       errors=st.sampled_from(["strict", "ignore", "replace"]))
def test_codecs_with_errors(s, enc, errors):
    check(codecs, s, enc, errors)


def test_encode_surrogate_error_class():
    check(encoding, "a\ud800b", "utf-8", 0)


@SETTINGS
@given(s=text, i=index)
def test_indexing(s, i):
    check(indexing, s, i)


# Slice bounds as large as 64 bits allow, except -2**63 itself (see test_slice_bound_int64_min).
slice_bound = st.one_of(st.integers(min_value=-30, max_value=30), st.sampled_from([-2 ** 63 + 1, 2 ** 63 - 1]))


@pytest.mark.parametrize("op", range(len(SLICING)), ids=SLICING)
@SETTINGS
@given(s=text, a=slice_bound, b=slice_bound,
       c=st.one_of(st.integers(-5, 5), st.sampled_from([2 ** 63 - 1, -2 ** 63 + 1])))
def test_slicing(op, s, a, b, c):
    check(slicing, s, a, b, c, op)


@pytest.mark.parametrize("args", [
    ("abc", 0, -2 ** 63, 1, 0),       # s[0:-2**63]
    ("abc", 0, 3, -2 ** 63, 1),       # s[0:3:-2**63]
    ("abc", -2 ** 63, 0, -1, 1),      # s[-2**63:0:-1]
], ids=["stop", "step", "start_negative_step"])
def test_slice_bound_int64_min(args):
    check(slicing, *args)


@SETTINGS
@given(s=text)
def test_iteration(s):
    check(iterate, s)


# A few pinned examples that the properties above may or may not hit.
@pytest.mark.parametrize("fn,args", [
    (unary, ("ΑΣ", 0)),             # final sigma
    (unary, ("ΑΣ Α", 0)),
    (unary, ("ΑΣΑ", 0)),
    (unary, ("ß", 1)),              # SS
    (unary, ("ﬁ", 1)),              # FI
    (unary, ("ΐ", 1)),              # 3 code points
    (unary, ("İ", 0)),              # i + combining dot
    (unary, ("ß", 2)),              # casefold ss
    (unary, ("ǆemal", 5)),          # capitalize uses titlecase
    (unary, ("ǆ ǆ", 4)),
    (unary, ("hello wORLD's", 4)),
    (unary, ("ΑΣ", 3)),             # swapcase applies the final sigma rule
    (unary, ("\u3000 a\x85\x1c", 6)),
    (unary, ("a\tbc\td\n\tx", 9)),
    (predicates, ("ǅ", 8)),
    (predicates, ("١٢", 6)),
    (predicates, ("½", 7)),
    (predicates, ("²", 0)),
    (predicates, ("\xa0", 11)),
    (predicates, ("é_1", 10)),
    (splitting, ("a\x1cb\x85c\u2028d\r\ne\rf", "", 0, 8)),
    (splitting, ("a\x1cb\x85c\u2028d\r\ne\rf", "", 0, 9)),
    (splitting, ("a\u3000b\xa0c\x1fd", "", 0, 0)),
    (splitting, ("abc", "", 0, 1)),  # empty separator: ValueError
    (splitting, ("abc", "", 0, 5)),
    (partitions, ("abc", "", 0)),
    (padding, ("-42", 6, " ", 0)),
    (padding, ("+", 3, " ", 0)),
    (padding, ("ab", 5, "😀", 4)),
    (padding, ("ab", 5, "xy", 4)),  # fill must be one character: TypeError
    (search, ("abc", "", 5, 9, 12)),
    (search, ("abc", "", 3, 3, 2)),
    (search, ("abc", "", 4, 9, 2)),
    (replace, ("abc", "", "-", -1, 0)),
    (replace, ("abc", "", "-", 2, 1)),
    (slicing, ("abcdef", 0, 6, 0, 1)),  # step 0: ValueError
])
def test_pinned(fn, args):
    check(fn, *args)
