"""Differential tests of runtime/include/matx_nb/numconv.h against CPython.

A small C++ driver is compiled with ``g++ -std=c++17 -O1 -I runtime/include``;
it reads one command per line on stdin and answers one line per command.
Strings travel hex-encoded (UTF-8) so that any code point (newlines, NUL,
non-ASCII fill characters) survives the pipe.  Every answer is compared with
what this CPython computes; the test fails on any mismatch and prints the
first ones.
"""
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import unicodedata

import pytest

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INCLUDE = os.path.join(ROOT, "runtime", "include")
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not available")

DRIVER_SRC = r'''
#include "matx_nb/numconv.h"
#include "decimal_table.h"
#include <cinttypes>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace nc = mx::numconv;

static int table_decimal(char32_t c) {
  size_t lo = 0, hi = sizeof(kDecimalTable) / sizeof(kDecimalTable[0]);
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (kDecimalTable[mid][0] < (uint32_t)c) lo = mid + 1; else hi = mid;
  }
  if (lo < sizeof(kDecimalTable) / sizeof(kDecimalTable[0]) && kDecimalTable[lo][0] == (uint32_t)c)
    return (int)kDecimalTable[lo][1];
  return -1;
}

#include "hex_io.h"
static std::u32string dec8(const std::string& s) {  // strict enough for test input
  std::u32string o;
  for (size_t i = 0; i < s.size();) {
    unsigned char b = s[i];
    int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t c = len == 1 ? b : (b & (0x7F >> len));
    for (int k = 1; k < len; ++k) c = (c << 6) | (s[i + k] & 0x3F);
    o.push_back(c);
    i += len;
  }
  return o;
}
static std::string enc8(const std::u32string& s) {
  std::string o;
  for (char32_t c : s) mx::numconv::detail::utf8_append(o, c);
  return o;
}
static double bits2d(const std::string& h) {
  uint64_t u = std::stoull(h, nullptr, 16);
  double d; std::memcpy(&d, &u, 8); return d;
}
static std::string d2bits(double d) {
  uint64_t u; std::memcpy(&u, &d, 8);
  char b[32]; std::snprintf(b, sizeof b, "%016" PRIx64, u); return b;
}
static std::string intres(bool ok, bool ovf, int64_t v) {
  if (!ok) return "ERR";
  if (ovf) return "OVF";
  return "I " + std::to_string(v);
}

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd, a, b;
    in >> cmd >> a >> b;
    std::string out;
    try {
      if (cmd == "R") out = "S " + hexs(nc::float_repr(bits2d(a)));
      else if (cmd == "IS") out = "S " + hexs(nc::int_to_string(std::stoll(a)));
      else if (cmd == "IB") out = "S " + hexs(nc::format_int(std::stoll(a), std::stoi(b)));
      else if (cmd == "PI") {
        std::u32string s = dec8(unhex(b));
        auto r = nc::parse_int(s.data(), s.size(), std::stoi(a), table_decimal);
        out = intres(r.ok, r.overflow, r.value);
      } else if (cmd == "PIB") {
        std::string s = unhex(b);
        auto r = nc::parse_int_bytes(s.data(), s.size(), std::stoi(a));
        out = intres(r.ok, r.overflow, r.value);
      } else if (cmd == "PFB") {
        std::string s = unhex(a);
        auto r = nc::parse_float_bytes(s.data(), s.size());
        out = r.ok ? "F " + d2bits(r.value) : "ERR";
      } else if (cmd == "PF") {
        std::u32string s = dec8(unhex(a));
        auto r = nc::parse_float(s.data(), s.size(), table_decimal);
        out = r.ok ? "F " + d2bits(r.value) : "ERR";
      } else if (cmd == "FF") out = "S " + hexs(nc::float_format(bits2d(a), unhex(b), table_decimal));
      else if (cmd == "FI") out = "S " + hexs(nc::int_format(std::stoll(a), unhex(b), table_decimal));
      else if (cmd == "FS") out = "S " + hexs(enc8(nc::str_format(dec8(unhex(a)), unhex(b), table_decimal)));
      else if (cmd == "RD") out = "F " + d2bits(nc::py_round(bits2d(a), std::stoll(b)));
      else if (cmd == "RI") { auto r = nc::py_round_int(bits2d(a)); out = intres(r.ok, r.overflow, r.value); }
      else out = "BADCMD";
    } catch (const std::invalid_argument& e) {
      out = std::string("E V ") + hexs(e.what());
    } catch (const std::overflow_error& e) {
      out = std::string("E O ") + hexs(e.what());
    } catch (const std::exception& e) {
      out = std::string("E X ") + hexs(e.what());
    }
    std::cout << out << '\n';
  }
  return 0;
}
'''


# ---------------------------------------------------------------- helpers --
def hexs(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    return b.hex() if b else "-"


def d2bits(x):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def bits2d(u):
    return struct.unpack("<d", struct.pack("<Q", u))[0]


def expect_call(fn):
    """Run a Python formatting call, returning the driver's answer format."""
    try:
        return "S " + hexs(fn())
    except ValueError as e:
        return "E V " + hexs(str(e))
    except OverflowError as e:
        return "E O " + hexs(str(e))


def int_answer(fn):
    try:
        v = fn()
    except ValueError:
        return "ERR"
    except OverflowError:
        return "OVF"
    if not INT64_MIN <= v <= INT64_MAX:
        return "OVF"
    return "I %d" % v


def float_answer(fn):
    try:
        return "F " + d2bits(fn())
    except ValueError:
        return "ERR"
    except OverflowError:
        return "OVF"


def round_answer(fn):
    try:
        return "F " + d2bits(fn())
    except OverflowError as e:
        return "E O " + hexs(str(e))


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    d = tmp_path_factory.mktemp("numconv")
    rows = []
    for cp in range(0x80, sys.maxunicode + 1):
        v = unicodedata.decimal(chr(cp), None)
        if v is not None:
            rows.append("{0x%x,%d}" % (cp, v))
    (d / "decimal_table.h").write_text(
        "#include <cstdint>\nstatic const uint32_t kDecimalTable[][2] = {\n" + ",\n".join(rows) + "};\n")
    src = d / "driver.cpp"
    src.write_text(DRIVER_SRC)
    exe = d / "driver"
    cmd = ["g++", "-std=c++17", "-O1", "-Wall", "-I", INCLUDE, "-I", str(d), "-I", os.path.dirname(os.path.abspath(__file__)),
           str(src), "-o", str(exe)]
    cmd += os.environ.get("NUMCONV_EXTRA_CXXFLAGS", "").split()  # e.g. "-fsanitize=address,undefined"
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, "compile failed:\n" + res.stderr
    return str(exe)


def run_cases(exe, cases):
    """cases: list of (command line, expected answer, description)."""
    inp = "".join(c[0] + "\n" for c in cases)
    res = subprocess.run([exe], input=inp, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    got = res.stdout.split("\n")[: len(cases)]
    assert len(got) == len(cases), "driver answered %d of %d lines" % (len(got), len(cases))
    bad = [(c, g) for c, g in zip(cases, got) if g != c[1]]
    if bad:
        lines = ["%d of %d mismatches; first ones:" % (len(bad), len(cases))]
        for (cmd, exp, desc), g in bad[:25]:
            lines.append("  %s\n     expected %s\n     got      %s" % (desc, decode(exp), decode(g)))
        pytest.fail("\n".join(lines))


def decode(ans):
    parts = ans.split(" ")
    try:
        if parts[0] == "S":
            return "S %r" % bytes.fromhex("" if parts[1] == "-" else parts[1]).decode()
        if parts[0] == "E":
            return "E %s %r" % (parts[1], bytes.fromhex(parts[2]).decode())
    except Exception:
        pass
    return ans


# ------------------------------------------------------------ value pools --
def special_doubles():
    vals = [0.0, -0.0, math.inf, -math.inf, math.nan, -math.nan, 1.0, -1.0, 0.1, 0.2, 0.3,
            1 / 3, 2 / 3, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
            1.7976931348623157e308, -1.7976931348623157e308, 9007199254740993.0, 2e16 + 8,
            1e16, 1e15, 9999999999999998.0, 0.0001, 0.00001, 0.00009999999999999999,
            123456789012345678.0, 1.5, 2.5, 0.5, 0.125, 0.375, 2.675, 1e22, 1e23, 4.35, 0.1 + 0.2]
    for e in range(-325, 309):
        try:
            p = float("1e%d" % e)
        except OverflowError:  # pragma: no cover
            continue
        vals += [p, math.nextafter(p, math.inf), math.nextafter(p, -math.inf), -p]
    # subnormals
    rng = random.Random(7)
    for _ in range(200):
        vals.append(bits2d(rng.getrandbits(52)))
    for k in range(0, 52, 3):
        vals.append(bits2d(1 << k))
    return vals


def random_doubles(n, seed):
    rng = random.Random(seed)
    return [bits2d(rng.getrandbits(64)) for _ in range(n)]


# ------------------------------------------------------------------ tests --
def test_float_repr(driver):
    vals = special_doubles() + random_doubles(20000, 1)
    cases = [("R " + d2bits(x), "S " + hexs(repr(x)), "repr(%r) bits=%s" % (x, d2bits(x))) for x in vals]
    # repr output must also round-trip through our float() parser
    cases += [("PF " + hexs(repr(x)), "F " + d2bits(float(repr(x))), "float(%r)" % repr(x))
              for x in vals if not math.isnan(x)]
    # longer / odd decimal inputs, correctly rounded
    rng = random.Random(2)
    for x in random_doubles(3000, 3):
        if math.isfinite(x):
            for s in ("%.25e" % x, "%.17g" % x, "%.40f" % x if abs(x) < 1e30 else "%.3e" % x,
                      "%.14e" % x, "%.1e" % x):
                s = s if rng.random() < 0.5 else s.upper()
                cases.append(("PF " + hexs(s), "F " + d2bits(float(s)), "float(%r)" % s))
    run_cases(driver, cases)


if given is not None:
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
                    min_size=1, max_size=40))
    def test_float_repr_hypothesis(driver, xs):
        cases = []
        for x in xs:
            cases.append(("R " + d2bits(x), "S " + hexs(repr(x)), "repr(%r)" % x))
            for spec in (".17g", "e", ".3f", "", "#.5", "%", ",.2f"):
                cases.append(("FF %s %s" % (d2bits(x), hexs(spec)),
                              expect_call(lambda: format(x, spec)), "format(%r, %r)" % (x, spec)))
        run_cases(driver, cases)


INT_VALUES = [0, 1, -1, 2, -2, 7, 10, 42, -42, 65, 255, -255, 256, 1000, -1000, 4095, 65535, 123456789,
              -987654321, 1234567890123, 2 ** 31 - 1, -2 ** 31, 2 ** 32, 2 ** 53 + 1, 0x10FFFF, 0x110000,
              INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, 10 ** 18, -10 ** 18]


def test_int_to_string_and_bases(driver):
    rng = random.Random(4)
    vals = INT_VALUES + [rng.randint(INT64_MIN, INT64_MAX) for _ in range(2000)] + \
        [rng.randint(-1000, 1000) for _ in range(200)]
    cases = []
    for v in vals:
        cases.append(("IS %d" % v, "S " + hexs(str(v)), "str(%d)" % v))
        for base, fn in ((2, bin), (8, oct), (16, hex), (10, str)):
            cases.append(("IB %d %d" % (v, base), "S " + hexs(fn(v)), "%s(%d)" % (fn.__name__, v)))
    run_cases(driver, cases)


INT_STRINGS = [
    "0", "-0", "+0", "1", "-1", "+1", "42", " 42", "42 ", "\t\n 42 \r\x0b\x0c", "  -17  ", "- 17", "+-1", "--1",
    "", " ", "+", "-", "_", "1_000", "1__000", "_1", "1_", "1_0_0", "0_0", "00", "000", "007",
    "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
    "99999999999999999999999", "-99999999999999999999999", "1_000_000_000_000_000_000_000",
    "1e5", "1.0", "1.5", "0x10", "0o17", "0b101", "0X1F", "0O17", "0B11", "0x", "0x_1f", "0x__1f", "0x1f_",
    "0_x1f", "ff", "FF", "z", "Z", "zz", "0xzz", "010", "0_10", "0010", "00_0", "0b", "0o", "0b2", "0o8",
    "0b1_0", "0b_1", "1 2", "12\x00", "\x001", "١٢", "١٢٣٤", "-١٢", "１２", "１２３", "+１２３", "１_２",
    "١f", "12\u00a0", "\u2003 12 \u3000", "\u20281\u2029", "\x8512\x85", "\u180e12", "\x1c12", "12\x1f",
    "12\u200b", "٣.٥", "٣e٢", "𝟏𝟐", "𝟘", "१२३", "௧௨", "0xａ", "ａ", "nan", "inf", "True", "1_2_3_4_5",
    "  0x1F  ", "-0x10", "+0b1", "0b1", "0B0", "-0o777", "0o7_7_7", "12abc", "abc12", "٠٠", "0" * 5000,
    "1" * 4300, "1" * 4301, "1" * 5000 + "x", "-" + "9" * 30,
]
INT_BASES = [10, 0, 2, 8, 16, 36, 3, 7, 1, 37, -1]


def test_int_parse(driver):
    cases = []
    for s in INT_STRINGS:
        for base in INT_BASES:
            cases.append(("PI %d %s" % (base, hexs(s)), int_answer(lambda: int(s, base)),
                          "int(%r, %d)" % (s[:40], base)))
    rng = random.Random(5)
    for _ in range(1500):
        v = rng.randint(INT64_MIN, INT64_MAX) if rng.random() < 0.9 else rng.randint(-2 ** 80, 2 ** 80)
        base = rng.choice([2, 8, 10, 16, 36, 0, 5, 12])
        if base in (0, 10):
            s = str(v)
        else:
            s = ("-" if v < 0 else "") + numberbase(abs(v), base)
        if rng.random() < 0.3 and len(s) > 2:
            i = rng.randrange(1, len(s) - 1)
            if s[i - 1].isalnum() and s[i].isalnum():
                s = s[:i] + "_" + s[i:]
        if base == 0 and rng.random() < 0.5:
            pfx, b = rng.choice([("0x", 16), ("0o", 8), ("0b", 2), ("0X", 16), ("0o", 16)])
            s = ("-" if v < 0 else "") + pfx + numberbase(abs(v), b)
        cases.append(("PI %d %s" % (base, hexs(s)), int_answer(lambda: int(s, base)), "int(%r, %d)" % (s, base)))
    run_cases(driver, cases)


def numberbase(v, base):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if v == 0:
        return "0"
    out = []
    while v:
        v, r = divmod(v, base)
        out.append(digits[r])
    return "".join(reversed(out))


FLOAT_STRINGS = [
    "0", "-0", "+0", "0.0", "-0.0", "1", "1.", ".5", "-.5", "+.5", ".", "-.", "e5", "1e5", "1E5", "1e+5", "1e-5",
    "1e", "1e+", "1e-", "1.5e3", "  1.5  ", "\t-2.25\n", "1_000.5", "1_000", "1__0", "_1", "1_", "1_.5", "1._5",
    "1.5_5", "1e1_0", "1_e5", "1e_5", "1.5e-0_3", "inf", "-inf", "+inf", "INF", "Inf", "infinity", "-Infinity",
    "INFINITY", "infinit", "infinityy", "in", "nan", "-nan", "+nan", "NaN", "NAN", "nan(1)", "nanx", "-nan ",
    " inf ", "i nf", "0x1p3", "0x10", "1.7976931348623157e308", "1.7976931348623159e308", "1e309", "-1e309",
    "1e-400", "-1e-400", "4.9406564584124654e-324", "2.4703282292062328e-324", "2.4703282292062327e-324",
    "1e99999999999999999999", "1e-99999999999999999999", "0e99999999999999", "0.000000000000000000001e21",
    "000000000000000000000000000000000000000001.5", "1" + "0" * 400 + "e-400", "0." + "0" * 400 + "1e400",
    "123456789012345678901234567890", "0.1", "0.30000000000000004", "2.675", "١٢", "١.٥", "-١٢.٥e١",
    "１２.５", "１_２", "12\u00a0", "\u3000 3.5 \u3000", "\x853.5", "\x1c3.5", "3.5\x1f", "3.5\x00", "\x00",
    "", " ", "+", "-", "1 2", "1.2.3", "--1", "+-1", "1e5.5", "True", "𝟏.𝟓", "٣e٢", "1,5", "1.5f", "1.5d",
    "9" * 800, "0." + "9" * 800, "2.2250738585072011e-308", "2.2250738585072012e-308",
    "9007199254740993", "9007199254740992.5000000000000000001", "  -0.0e-0  ",
]


def test_float_parse(driver):
    cases = [("PF " + hexs(s), float_answer(lambda: float(s)), "float(%r)" % s[:60]) for s in FLOAT_STRINGS]
    assert len(INT_STRINGS) + len(FLOAT_STRINGS) >= 100
    run_cases(driver, cases)


def test_bytes_parse(driver):
    # int(b)/float(b): no Unicode digit/space mapping at all
    samples = [x.encode("utf-8") for x in INT_STRINGS + FLOAT_STRINGS] + [b"\xa012", b"12\xa0", b"\x8512"]
    cases = []
    for b in samples:
        for base in (10, 0, 16, 2):
            cases.append(("PIB %d %s" % (base, hexs(b)), int_answer(lambda: int(b, base)),
                          "int(%r, %d)" % (b[:40], base)))
        cases.append(("PFB " + hexs(b), float_answer(lambda: float(b)), "float(%r)" % b[:40]))
    run_cases(driver, cases)


FLOAT_VALUES = [0.0, -0.0, 1.0, -1.0, 1.5, -1.5, 2.5, 0.5, 0.125, 0.375, 3.14159265358979, -2.675,
                1234567.891, -1234567.891, 12345.6789, 1e-7, -1e-7, 0.0001, 0.00001, 1e16, 1e15, 123456789e8,
                1e22, 1e300, -1e300, 5e-324, 1 / 3, 100.0, 999999.5, 0.999999, -0.0004, math.inf, -math.inf,
                math.nan]

FLOAT_SPECS = [
    "", "10", "<10", ">10", "^10", "=10", "^11", "*<12", "*>12", "*^12", "*=12", "0<12", "0>12", "0^12", "0=12",
    "\u2605^13", "\n>9", "+", "-", " ", "+10", " 10", "=+12", "z", "z.1f", "z.0f", "z.2e", "zg", "+z.3f",
    "#", "#.0f", "#.0e", "#.3g", "#g", "#10.0f", "010", "08.2f", "-012.3e", "+015,.2f", "010,", "012_.2f", ",",
    "_", ",.3f", "_.3e", ",g", "20,.10g", ",%", ".0", ".1", ".3", ".10", ".17", ".25", "e", ".0e", ".3e",
    ".20e", "E", ".2E", "f", ".0f", ".1f", ".2f", ".10f", ".30f", "F", ".3F", "g", ".0g", ".1g", ".2g", ".5g",
    ".12g", ".17g", "G", ".3G", "n", ".3n", "10n", "%", ".0%", ".1%", "10.2%", "x", "d", "s", "c", "b", "o",
    ",,", "_,", ",_", "__", ",n", "_n", ".", "10.", "abc", "^^^", "<<", "12.3.4", ".2147483648f",
    "99999999999999999999", ".99999999999999999999", "\u0661\u0660", ".\u0663f", "=", "0", "00", "+ ", "z#0",
    "<z", "#z", "\u2605", "1\u2605", "\x00^8",
]


def test_float_format(driver):
    cases = []
    for x in FLOAT_VALUES:
        for spec in FLOAT_SPECS:
            cases.append(("FF %s %s" % (d2bits(x), hexs(spec)), expect_call(lambda: format(x, spec)),
                          "format(%r, %r)" % (x, spec)))
    rng = random.Random(6)
    for x in random_doubles(1500, 8) + special_doubles()[::7]:
        for spec in (rng.choice(FLOAT_SPECS), rng.choice(FLOAT_SPECS),
                     "." + str(rng.randint(0, 40)) + rng.choice("eEfFgG%"), "." + str(rng.randint(0, 20))):
            cases.append(("FF %s %s" % (d2bits(x), hexs(spec)), expect_call(lambda: format(x, spec)),
                          "format(%r, %r)" % (x, spec)))
    run_cases(driver, cases)


INT_SPECS = [
    "", "d", "10", "<10", ">10", "^10", "=10", "*^11", "0=12", "x=12", "010", "-010", "+", "-", " ", "+d", " d",
    "=+10", "+010", "b", "#b", "o", "#o", "x", "#x", "X", "#X", "#010x", "#010X", "_b", "_x", "#_x", "_o", "_X",
    "#_b", "_d", ",", "_", ",d", "010,", "012_", "0=14,", "#012_x", "c", "5c", "<5c", "05c", "+c", "#c", ",c",
    "n", "10n", ",n", "e", ".2e", "E", "f", ".2f", ",.2f", "F", "g", ".3g", "G", "%", ".1%", "10.3f", "#.0f",
    "z", "z.2f", ".2", ".0", "#", "#d", ",x", ",b", "__", ",,", "y", "s", "abc", "=", "\u2605>9", ".", "#10.2e",
    "\u0661\u0660", "\u0661\u0660x",
]


def test_int_format(driver):
    cases = []
    for v in INT_VALUES:
        for spec in INT_SPECS:
            cases.append(("FI %d %s" % (v, hexs(spec)), expect_call(lambda: format(v, spec)),
                          "format(%d, %r)" % (v, spec)))
    run_cases(driver, cases)


STR_VALUES = ["", "a", "ab", "héllo", "\u2605", "abcdefghij", "\U0001f600x"]
STR_SPECS = ["", "s", "^6", "<6", ">6", "*^7", "\u2605>5", "^7.2", ".1", ".0", "10.2", "3", "05", "0<5", "=5",
             "+", "-", " ", "#", "z", ",", "_", "d", "x", "abc", ".", "<", "0", "\u0661\u0660", "\n^5"]


def test_str_format(driver):
    cases = []
    for s in STR_VALUES:
        for spec in STR_SPECS:
            cases.append(("FS %s %s" % (hexs(s), hexs(spec)), expect_call(lambda: format(s, spec)),
                          "format(%r, %r)" % (s, spec)))
    run_cases(driver, cases)


def test_format_case_count():
    assert len(FLOAT_VALUES) * len(FLOAT_SPECS) + len(INT_VALUES) * len(INT_SPECS) >= 150


def test_round(driver):
    vals = [0.5, 1.5, 2.5, -0.5, -2.5, 2.675, 0.125, 0.375, 1.0005, 1250.0, 1250.5, 1350.0, 50.0, 150.0, -150.0,
            0.045, 1e300, -1e300, 1.7976931348623157e308, 5e-324, 0.0, -0.0, math.inf, -math.inf, math.nan,
            123456.789, 4503599627370497.0, 9007199254740993.0, 2 ** 62 + 0.0, 2.0 ** 63, -2.0 ** 63,
            9.223372036854775e18, 1e19, 0.49999999999999994, 4.35, 5.5, 6.5, -7.5]
    vals += random_doubles(800, 9)
    rng = random.Random(10)
    vals += [rng.uniform(-1e6, 1e6) for _ in range(300)] + [rng.randint(-10 ** 6, 10 ** 6) / 8 for _ in range(100)]
    cases = []
    for x in vals:
        cases.append(("RI " + d2bits(x), int_answer(lambda: round(x)), "round(%r)" % x))
        nds = [0, 1, 2, 3, -1, -2, 5, 15, 17, 20, 300, 323, 324, -300, -308, -309, 400, -400]
        nds += [rng.randint(-320, 330) for _ in range(4)]
        if math.isfinite(x) and x != 0:
            e = math.floor(math.log10(abs(x)))
            nds += [-e, -e - 1, -e + 1, 15 - e, 16 - e]
        for nd in nds:
            cases.append(("RD %s %d" % (d2bits(x), nd), round_answer(lambda: round(x, nd)),
                          "round(%r, %d)" % (x, nd)))
    run_cases(driver, cases)
