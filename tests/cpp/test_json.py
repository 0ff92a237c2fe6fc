"""Differential tests of runtime/include/matx_nb/json.h against CPython's json.

A C++ driver (g++ -std=c++17 -O1 -I runtime/include) reads one request per
line on stdin and answers one line per request:

    <ensure_ascii 0|1><indent n|0-9><sort_keys 0|1> <hex of the UTF-8 document>
 -> OK <hex of dumps(loads(doc), ...)>   |   ERR <ErrKind name> <hex of message>

Documents travel hex-encoded so that any code point (newlines, NUL, lone
surrogates as 'surrogatepass' UTF-8) survives the pipe.  Every answer is
compared with json.dumps(json.loads(doc), ...) computed by this CPython: the
output byte for byte, for invalid documents the exception class and the
json.JSONDecodeError message.

Deliberate divergences (documented in json.h) are checked as such:
  * an integer outside int64 raises OverflowError where Python returns a big int;
  * nesting deeper than Python's recursion limit parses (up to 10000 levels,
    then ValueError) where Python raises RecursionError.
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading

import pytest

try:
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INCLUDE = os.path.join(ROOT, "runtime", "include")
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
MAX_DEPTH = 10000

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not available")

DRIVER_SRC = r'''
#include "matx_nb/runtime.h"
#include "matx_nb/json.h"
#include <cmath>
#include <iostream>
#include <limits>
#include <string>

using namespace mx;

#include "hex_io.h"

struct Opts { bool ascii; int indent; bool sort; };
static Opts parse_opts(const std::string& f) {
  return Opts{f[0] == '1', f[1] == 'n' ? -1 : f[1] - '0', f[2] == '1'};
}

template <class F> static std::string answer(F&& f) {
  try {
    return "OK " + hexs(f());
  } catch (const Error& e) {
    return std::string("ERR ") + errkind_name(e.kind()) + " " + hexs(e.message());
  }
}

static Any S(const char* s) { return Any(str_from_ascii(s)); }

// Values that loads() cannot produce: dumps-only checks (see UNIT in the test).
static void unit(const Opts& o) {
  auto out = [&](const char* name, Any v) {
    std::cout << name << " " << answer([&] { return json::dumps(v, o.ascii, o.indent, o.sort); }) << "\n";
  };
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  { Set<Any> s; s.add(Any(int64_t(1))); out("set", Any(s)); }
  out("bytes", Any(bytes_from("ab")));
  { List<Any> l; l.push_back(Any(int64_t(1))); l.push_back(Any(Set<Any>())); out("set_in_list", Any(l)); }
  { Dict<Any, Any> d; d.set(Any::tuple_of(List<Any>{Any(int64_t(1)), Any(int64_t(2))}), Any(int64_t(3))); out("tuple_key", Any(d)); }
  { Dict<Any, Any> d; d.set(Any(bytes_from("k")), Any(int64_t(3))); out("bytes_key", Any(d)); }
  { Dict<Any, Any> d;
    d.set(Any(1.5), Any(int64_t(1))); d.set(Any(true), Any(int64_t(2))); d.set(Any(), Any(int64_t(3)));
    d.set(Any(nan), Any(int64_t(4))); d.set(Any(inf), Any(int64_t(5))); d.set(Any(-0.0), Any(int64_t(6)));
    d.set(Any(int64_t(-7)), Any(int64_t(7))); d.set(Any(false), Any(int64_t(8))); d.set(Any(-inf), Any(int64_t(9)));
    d.set(Any(1e100), Any(int64_t(10)));
    out("scalar_keys", Any(d)); }
  { Dict<Any, Any> d; d.set(S("a"), Any(int64_t(1))); d.set(Any(int64_t(2)), Any(int64_t(3))); out("mixed_keys", Any(d)); }
  { Dict<Any, Any> d; d.set(Any(int64_t(2)), Any(int64_t(3))); d.set(S("a"), Any(int64_t(1))); out("mixed_keys2", Any(d)); }
  { Dict<Any, Any> d; d.set(Any(), Any(int64_t(0))); d.set(S("a"), Any(int64_t(1))); out("none_str_keys", Any(d)); }
  { Dict<Any, Any> d;
    d.set(Any(int64_t(3)), S("three")); d.set(Any(1.5), S("one and a half")); d.set(Any(true), S("true"));
    d.set(Any(int64_t(-2)), S("minus two")); d.set(Any(2.5), S("two and a half"));
    d.set(Any(int64_t(9007199254740993)), S("big")); d.set(Any(9007199254740992.0), S("bigf"));
    out("numeric_keys", Any(d)); }
  { Dict<Any, Any> d;
    for (int k = 0; k < 100; ++k) d.set(Any(int64_t((k * 37) % 101 - 50)), Any(int64_t(k)));
    d.set(Any(0.5), Any(int64_t(-1)));
    out("many_numeric_keys", Any(d)); }
  { Dict<Any, Any> d; d.set(Any::tuple_of(List<Any>{Any(int64_t(1))}), Any(int64_t(1))); d.set(Any::tuple_of(List<Any>{Any(int64_t(0))}), Any(int64_t(2))); out("tuple_keys2", Any(d)); }
  { List<Any> l; l.push_back(Any(int64_t(1))); l.push_back(Any(l)); out("circular_list", Any(l)); }
  { Dict<Any, Any> d; List<Any> l; l.push_back(Any(d)); d.set(S("x"), Any(l)); out("circular_dict", Any(d)); }
  { List<Any> inner; inner.push_back(Any(int64_t(1))); List<Any> l; l.push_back(Any(inner)); l.push_back(Any(inner));
    out("shared_not_circular", Any(l)); }
  { List<Any> items{Any(int64_t(1)), S("two"), Any::tuple_of(List<Any>{}), Any::tuple_of(List<Any>{Any(2.5)})};
    Dict<Any, Any> d; d.set(S("t"), Any::tuple_of(items)); out("tuples", Any(d)); }
  { Dict<Any, Any> d; d.set(S("k"), Any(int64_t(1))); d.set(S("j"), Any(int64_t(2))); d.set(S("l"), Any(int64_t(3)));
    d.table().erase(S("j")); out("deleted_entry", Any(d)); }
  { List<Any> l{Any(INT64_MIN), Any(INT64_MAX), Any(0.1), Any(1e16), Any(1e-7), Any(-0.0), Any(nan), Any(-inf), Any(5e-324)};
    out("numbers", Any(l)); }
  { Any v = S("x"); for (int k = 0; k < 10001; ++k) { List<Any> l; l.push_back(v); v = Any(l); } out("too_deep", v); }
}

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::string mode = argc > 1 ? argv[1] : "docs";
  if (mode == "unit") { unit(parse_opts(argv[2])); return 0; }
  if (mode == "file") {
    Opts o = parse_opts(argv[2]);
    std::cout << answer([&] { return json::dumps(json::load_file(argv[3]), o.ascii, o.indent, o.sort); }) << "\n";
    return 0;
  }
  if (mode == "str") {  // loads(const Str&): the document as code points
    std::string line;
    while (std::getline(std::cin, line)) {
      Opts o = parse_opts(line.substr(0, 3));
      std::string doc = unhex(line.substr(4));
      std::cout << answer([&] {
        std::u32string u;
        json::detail::decode_utf8(doc, u, nullptr);
        return json::dumps(json::loads(Str(u.data(), u.size())), o.ascii, o.indent, o.sort);
      }) << "\n" << std::flush;
    }
    return 0;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    Opts o = parse_opts(line.substr(0, 3));
    std::string doc = unhex(line.substr(4));
    std::cout << answer([&] { return json::dumps(json::loads(doc), o.ascii, o.indent, o.sort); }) << "\n" << std::flush;
  }
  return 0;
}
'''


@pytest.fixture(scope="module")
def exe(tmp_path_factory):
    d = tmp_path_factory.mktemp("json_driver")
    src = d / "driver.cpp"
    src.write_text(DRIVER_SRC)
    out = d / "driver"
    cmd = ["g++", "-std=c++17", "-O1", "-Wall", "-Wextra", "-I", INCLUDE, "-I", os.path.dirname(os.path.abspath(__file__)),
           str(src), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, "driver build failed:\n%s\n%s" % (" ".join(cmd), r.stderr)
    # json.h itself must compile warning-free (other headers are not this test's business).
    own = [l for l in r.stderr.splitlines() if "json.h" in l and ("warning" in l or "error" in l)]
    assert not own, "\n".join(own)
    return str(out)


class Driver:
    def __init__(self, exe, mode="docs"):
        self.p = subprocess.Popen([exe, mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def ask(self, doc, flags):
        raw = doc.encode("utf-8", "surrogatepass")
        self.p.stdin.write(("%s %s\n" % (flags, raw.hex() or "-")).encode())
        self.p.stdin.flush()
        line = self.p.stdout.readline().decode()
        assert line, "driver died (rc=%s) on %r" % (self.p.poll(), doc[:200])
        return decode_answer(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def decode_answer(line):
    parts = line.split()
    if parts[0] == "OK":
        return ("OK", _unhex(parts[1]))
    return ("ERR", parts[1], _unhex(parts[2]))


def _unhex(h):
    return "" if h == "-" else bytes.fromhex(h).decode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def driver(exe):
    d = Driver(exe)
    yield d
    d.close()


def flags_of(ensure_ascii, indent, sort_keys):
    return "%d%s%d" % (ensure_ascii, "n" if indent is None else str(indent), sort_keys)


def has_big_int(v):
    todo = [v]
    while todo:
        x = todo.pop()
        if isinstance(x, bool):
            continue
        if isinstance(x, int) and not INT64_MIN <= x <= INT64_MAX:
            return True
        if isinstance(x, list):
            todo.extend(x)
        elif isinstance(x, dict):
            todo.extend(x.values())
    return False


def _expected(doc, ensure_ascii, indent, sort_keys):
    try:
        v = json.loads(doc)
    except ValueError as e:  # json.JSONDecodeError, or the int digit limit
        return ("ERR", "ValueError", str(e))
    if has_big_int(v):
        return ("ERR", "OverflowError", None)
    return ("OK", json.dumps(v, ensure_ascii=ensure_ascii, indent=indent, sort_keys=sort_keys))


def _unlimited(fn):
    """fn() without Python's recursion limit (in a thread with a large stack)."""
    res = {}

    def run():
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(1_000_000)
        try:
            res["v"] = fn()
        except BaseException as e:  # pragma: no cover
            res["e"] = e
        finally:
            sys.setrecursionlimit(old)

    old_size = threading.stack_size(1 << 30)
    try:
        t = threading.Thread(target=run)
        t.start()
        t.join()
    finally:
        threading.stack_size(old_size)
    if "e" in res:
        raise res["e"]
    return res["v"]


def expected(doc, ensure_ascii, indent, sort_keys):
    """What the C++ side must answer. Documents nested deeper than Python's
    recursion limit are answered by CPython without the limit, marked DEEP."""
    try:
        return _expected(doc, ensure_ascii, indent, sort_keys)
    except RecursionError:
        return ("DEEP",) + _unlimited(lambda: _expected(doc, ensure_ascii, indent, sort_keys))


def nesting(doc):
    depth = best = 0
    for c in doc:
        if c in "[{":
            depth += 1
            best = max(best, depth)
        elif c in "]}":
            depth -= 1
    return best


def check(driver, doc, ensure_ascii=True, indent=None, sort_keys=False):
    exp = expected(doc, ensure_ascii, indent, sort_keys)
    got = driver.ask(doc, flags_of(ensure_ascii, indent, sort_keys))
    return compare(doc, exp, got)


def compare(doc, exp, got):
    """None when the answer is right, else a description."""
    if exp[0] == "DEEP":  # beyond Python's recursion limit; ours is MAX_DEPTH levels
        if got[0] == "ERR" and got[2].startswith("maximum nesting depth (%d) exceeded" % MAX_DEPTH):
            return None if nesting(doc) > MAX_DEPTH else "%r: spurious depth error" % doc[:60]
        exp = exp[1:]
    if exp[0] == "OK":
        return None if got == exp else "%r:\n  expected %r\n  got      %r" % (doc[:200], exp, got)
    if got[0] != "ERR" or got[1] != exp[1]:
        return "%r:\n  expected %s %r\n  got      %r" % (doc[:200], exp[1], exp[2], got)
    if exp[2] is None:  # OverflowError: our own message
        return None if got[2].startswith("int too large to convert to a 64-bit int: line ") else \
            "%r: bad OverflowError message %r" % (doc[:200], got[2])
    if sys.version_info >= (3, 13) and exp[2].startswith("Illegal trailing comma"):
        return None  # newer CPython words trailing commas differently; json.h follows 3.11/3.12
    return None if got[2] == exp[2] else "%r:\n  expected %r\n  got      %r" % (doc[:200], exp[2], got[2])


VALID = [
    "0", "-0", "1", "-1", "123456789", "9223372036854775807", "-9223372036854775808",
    "1.5", "-1.5e10", "1E5", "1e-5", "1E+5", "1.0", "0.1", "-0.0", "0e0", "1e400", "-1e400", "1e-400",
    "2.2250738585072014e-308", "4.9e-324", "2.4e-324", "1.7976931348623157e308", "1.7976931348623159e308",
    "0.30000000000000004", "123456789012345678901234567890.5", "1" * 400 + ".5", "9007199254740993.0",
    "1e-99999999999999999999", "1e99999999999999999999", "0." + "0" * 500 + "1",
    "NaN", "Infinity", "-Infinity", "[NaN, Infinity, -Infinity]",
    "true", "false", "null", '""', '"abc"', r'"\"\\\/\b\f\n\r\t"', r'"\u0041\u00e9\u4e2d\u0000\u001f\u007f"',
    r'"\ud83d\ude00"', r'"\uD83D\uDE00"', r'"\ud800"', r'"\udc00"', r'"\ud800\ud800"', r'"\udc00\ud800"',
    r'"\ud800x"', r'"\ud800\u0041"', r'"\ud83d\ude00\ud83d"', r'"\ud83dabcdef\ude00"', r'"\ud800\n\udc00"',
    '"\U0001F600\u00e9\u4e2d"', '"\x7f"', '"\u2028\u2029"', '"\ud800"', '"\ud83d\ude00"',
    "[]", "{}", "[ ]", "{ }", "[\n]", "{\t}", "[1,2,3]", "[1, [2, [3, []]]]",
    '{"a": 1, "b": [true, false, null]}', '{"a":1,"a":2}', '{"a":1,"b":2,"a":3}', '{"b":1,"a":2,"c":{"z":0,"y":1}}',
    '{"":0}', ' \t\n\r[1 , 2 ]\r\n\t ', '\n\n  {"x"\n:\n1}', '{"z": {"y": {"x": []}}}', '[{"a": {}}, [], [{}]]',
    r'{"\u00e9": "\u00e9", "\ud83d\ude00": 1}', '[1e5, 1E+5, 1e-0, 0e0, -0.0, 0.0, 1E-2]', "[-0]", "[0, -1, 10]",
    '{"B": 1, "a": 2, "\u00e9": 3, "\U0001F600": 4, "\uffff": 5}', '["a\\"b", "c\\\\d"]',
    "[" * 500 + "]" * 500, '{"a":' * 300 + "1" + "}" * 300, "[" * 5000 + "]" * 5000,
    "[" * MAX_DEPTH + "]" * MAX_DEPTH, '{"k":[' * 2000 + "1" + "]}" * 2000,
    "1" * 4300,  # fits Python, overflows int64
    "-" + "9" * 30, "9223372036854775808", "-9223372036854775809", "[1, 99999999999999999999]",
    '{"big": 18446744073709551616}',
]

INVALID = [
    "", " ", "\n", "[", "[ ", "[1,]", "[1,2,]", '{"a":1,}', "{", '{"a"', '{"a":', '{"a" 1}', "{1:2}", "{'a':1}",
    '"abc', '"abc\\', '"\\', '"\\u', '"\\u0041', '"\\ud83d\\ude00', r'"\x"', r'"\u12"', r'"\u123g"', r'"\U0041"',
    r'"\ud800\u12"', r'"\ud800\uzzzz"', r'"\ud800\u123"', r'"\ud800\udcxx"', r'"\ud800\u00zz"', r'"\'"',
    '"\x01"', '"a\nb"', '"\t"', '"abc\x1f', '"\x00"', '["ok", "bad\x07"]', '{"k\x0b": 1}',
    "01", "00", "-01", "1.", ".5", "+1", "1e", "1e+", "1.5e", "1.5E-", "--1", "-", "-a", "1.e5", "0x10", "1_000",
    "nul", "tru", "fals", "True", "None", "nan", "inf", "-Inf", "Infinit", "-Infinit", "NaN1", "nulll", "n",
    "[1 2]", "[1,,2]", "[,1]", "[1:2]", '{"a":1 "b":2}', '{"a":1,,}', '{"a":1;}', '{"a"::1}', '{,}', '{"a",1}',
    "1 2", "[] []", "{} x", '"a" "b"', "[1]]", '{"a":1}}', "x", "\u00a0 1", "\x0c1", "[1\x0b]", "1\x00",
    "\ufeff1", "\ufeff", "\ufeff[]",
    "[\n1,\n2,\n]", '{\n"a": 1\n"b": 2}', "\n\n\n x", '[\n  {"a": 1},\n  {"b": 2,}\n]', "[1,\r\n2\r\n3]",
    '["\U0001F600", x]', '"\U0001F600" x', "[\"\u00e9\u00e9\u00e9\"\n, @]",
    "1" * 4301, "-" + "1" * 5000, "[" + "2" * 4301 + "]",
    "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "[" * 200000, '{"a":' * (MAX_DEPTH + 1), "[" * 999 + "]" * 998,
]


def test_handwritten_documents(driver):
    assert len(VALID) + len(INVALID) >= 80
    bad = []
    for doc in VALID + INVALID:
        for opts in [(True, None, False), (False, None, True), (True, 2, True), (False, 0, False)]:
            if opts[1] is not None and nesting(doc) > 600:
                continue  # indented output grows with the square of the depth
            r = check(driver, doc, *opts)
            if r:
                bad.append("opts=%r %s" % (opts, r))
    # Valid ones really are valid for Python (up to the documented divergences), invalid ones invalid.
    for doc in INVALID:
        assert expected(doc, True, None, False)[-3] == "ERR" or nesting(doc) > MAX_DEPTH, doc[:60]
    assert not bad, "%d mismatches:\n%s" % (len(bad), "\n".join(bad[:25]))


def test_error_messages_covered(driver):
    seen = set()
    for doc in INVALID:
        got = driver.ask(doc, "1n0")
        if got[0] == "ERR":
            seen.add(got[2].rsplit(": line ", 1)[0])
    for msg in ["Expecting value", "Expecting property name enclosed in double quotes",
                "Unterminated string starting at", "Extra data", "Invalid control character at",
                "Expecting ',' delimiter", "Expecting ':' delimiter", "Invalid \\escape", "Invalid \\uXXXX escape",
                "Unexpected UTF-8 BOM (decode using utf-8-sig)"]:
        assert msg in seen, msg


def test_divergences(driver):
    # Beyond int64: OverflowError with a position.
    assert driver.ask("[1, 99999999999999999999]", "1n0") == (
        "ERR", "OverflowError", "int too large to convert to a 64-bit int: line 1 column 5 (char 4)")
    assert driver.ask("-9223372036854775808", "1n0") == ("OK", "-9223372036854775808")
    # Deeper than Python's recursion limit but within ours.
    doc = "[" * 5000 + "]" * 5000
    with pytest.raises(RecursionError):
        json.loads(doc)
    assert driver.ask(doc, "1n0") == ("OK", doc)
    assert driver.ask("[" * (MAX_DEPTH + 1), "1n0") == (
        "ERR", "ValueError",
        "maximum nesting depth (10000) exceeded while decoding a JSON array: line 1 column 10001 (char 10000)")


def test_utf8_input(driver, exe):
    # Malformed UTF-8: UnicodeDecodeError with CPython's wording.
    cases = [b'"\xff"', b'"\xc3"', b'"\xe4\x41"', b'"\xe0\x80\x80"', b'"\xf4\x90\x80\x80"', b"\x80", b'"\xf0\x9f\x98"']
    for raw in cases:
        with pytest.raises(UnicodeDecodeError) as ei:
            raw.decode("utf-8", "surrogatepass")
        p = subprocess.run([exe], input=("1n0 %s\n" % raw.hex()).encode(), capture_output=True)
        kind, msg = p.stdout.decode().split()[1:3]
        assert kind == "UnicodeDecodeError", raw
        e = ei.value
        want = "'utf-8' codec can't decode byte 0x%02x in position %d: %s" % (raw[e.start], e.start, e.reason)
        assert bytes.fromhex(msg).decode() == want, raw


UNIT = None  # built lazily: the Python counterparts of the driver's unit() values


def unit_values():
    nan, inf = float("nan"), float("inf")
    l = [1]
    l.append(l)
    d = {}
    d["x"] = [d]
    inner = [1]
    many = {}
    for k in range(100):
        many[(k * 37) % 101 - 50] = k
    many[0.5] = -1
    deep = "x"
    for _ in range(10001):
        deep = [deep]
    dd = {"k": 1, "j": 2, "l": 3}
    del dd["j"]
    return {
        "set": {1}, "bytes": b"ab", "set_in_list": [1, set()], "tuple_key": {(1, 2): 3}, "bytes_key": {b"k": 3},
        "scalar_keys": {1.5: 1, True: 2, None: 3, nan: 4, inf: 5, -0.0: 6, -7: 7, False: 8, -inf: 9, 1e100: 10},
        "mixed_keys": {"a": 1, 2: 3}, "mixed_keys2": {2: 3, "a": 1}, "none_str_keys": {None: 0, "a": 1},
        "numeric_keys": {3: "three", 1.5: "one and a half", True: "true", -2: "minus two", 2.5: "two and a half",
                         9007199254740993: "big", 9007199254740992.0: "bigf"},
        "many_numeric_keys": many, "tuple_keys2": {(1,): 1, (0,): 2},
        "circular_list": l, "circular_dict": d, "shared_not_circular": [inner, inner],
        "tuples": {"t": (1, "two", (), (2.5,))}, "deleted_entry": dd,
        "numbers": [INT64_MIN, INT64_MAX, 0.1, 1e16, 1e-7, -0.0, nan, -inf, 5e-324],
        "too_deep": deep,
    }


@pytest.mark.parametrize("opts", [(True, None, False), (False, None, True), (True, 2, True), (True, 0, False)])
def test_dumps_of_built_values(exe, opts):
    p = subprocess.run([exe, "unit", flags_of(*opts)], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    got = {}
    for line in p.stdout.decode().splitlines():
        name, rest = line.split(" ", 1)
        got[name] = decode_answer(rest)
    vals = unit_values()
    assert set(got) == set(vals)
    bad = []
    for name, v in vals.items():
        try:
            exp = ("OK", json.dumps(v, ensure_ascii=opts[0], indent=opts[1], sort_keys=opts[2]))
        except RecursionError:
            exp = ("ERR", "RecursionError", "maximum recursion depth exceeded while encoding a JSON object")
        except (TypeError, ValueError) as e:
            exp = ("ERR", type(e).__name__, str(e))
        if got[name] != exp:
            bad.append("%s: expected %r, got %r" % (name, exp, got[name]))
    assert not bad, "\n".join(bad)


def test_load_file(exe, tmp_path):
    f = tmp_path / "doc.json"
    f.write_bytes(b"\xef\xbb\xbf" + '{"\u00e9": [1, 2.5, "\U0001F600"]}\n'.encode())
    p = subprocess.run([exe, "file", "0n0", str(f)], capture_output=True)
    assert decode_answer(p.stdout.decode()) == ("OK", '{"\u00e9": [1, 2.5, "\U0001F600"]}')
    f.write_bytes(b'[1,\n2,,]')
    p = subprocess.run([exe, "file", "1n0", str(f)], capture_output=True)
    with pytest.raises(json.JSONDecodeError) as ei:
        json.loads(f.read_bytes())
    assert decode_answer(p.stdout.decode()) == ("ERR", "ValueError", str(ei.value))
    assert str(ei.value) == "Expecting value: line 2 column 3 (char 6)"
    p = subprocess.run([exe, "file", "1n0", str(tmp_path / "missing.json")], capture_output=True)
    kind, msg = decode_answer(p.stdout.decode())[1:]
    assert kind == "RuntimeError" and msg == "cannot open JSON file '%s': No such file or directory" % (
        tmp_path / "missing.json")


def test_str_overload(exe):
    d = Driver(exe, "str")
    try:
        bad = [r for doc in VALID[:60] + INVALID[:60] if (r := check(d, doc))]
    finally:
        d.close()
    assert not bad, "\n".join(bad[:20])


# ---- property-based -----------------------------------------------------------------

if given is not None:
    SPECIAL = st.sampled_from(['"', "\\", "/", "\x00", "\x1f", "\x7f", "\x80", "\ud800", "\udfff", "\ud83d",
                               "\ude00", "\U0001F600", "\u2028", "\ufeff", "\uffff", "\n", "\t", " "])
    CHARS = st.one_of(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), SPECIAL)
    TEXT = st.text(CHARS, max_size=12)
    SCALARS = st.one_of(st.none(), st.booleans(), st.integers(INT64_MIN, INT64_MAX),
                        st.floats(allow_nan=True, allow_infinity=True), TEXT)
    VALUES = st.recursive(SCALARS, lambda ch: st.one_of(st.lists(ch, max_size=6),
                                                        st.dictionaries(TEXT, ch, max_size=6)), max_leaves=40)
    SRC_FORMAT = st.tuples(st.booleans(), st.sampled_from([None, 0, 1, 4]),
                           st.sampled_from([None, (",", ":"), (" , ", " : "), (",\n", ":\t")]))
    OUT_OPTS = st.tuples(st.booleans(), st.sampled_from([None, 2]), st.booleans())

    @settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
    @given(v=VALUES, src=SRC_FORMAT, out=OUT_OPTS)
    def test_hypothesis_values(driver, v, src, out):
        ea, indent, seps = src
        doc = json.dumps(v, ensure_ascii=ea, indent=indent, separators=seps)
        r = check(driver, doc, *out)
        assert r is None, r

    # Random JSON-ish text: exercises error kinds, messages and positions.
    NOISE = st.text(st.sampled_from(list('[]{}:,"\\ \n\t\r0123456789.eE+-ntrufalsNIiy/bu') + ["\x01", "\u00e9", "x"]),
                    max_size=40)

    @settings(max_examples=800, deadline=None, suppress_health_check=list(HealthCheck))
    @given(doc=st.one_of(NOISE, VALUES.map(json.dumps).flatmap(
        lambda d: st.tuples(st.integers(0, len(d)), NOISE).map(lambda t: d[:t[0]] + t[1][:3] + d[t[0]:]))))
    def test_hypothesis_noise(driver, doc):
        assume(not re.search(r"\d{19}", doc))  # int64 overflow ordering differs by design
        r = check(driver, doc, True, None, False)
        assert r is None, r
