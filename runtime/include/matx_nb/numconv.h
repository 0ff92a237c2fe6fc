// matx_nb/numconv.h -- Python-exact conversions between numbers and text.
//
// Header-only, C++17 (uses <charconv> floating-point std::to_chars /
// std::from_chars, available since g++ 11).  Everything lives in
// namespace mx::numconv.  The algorithms are ports of the CPython 3.11
// code paths (Objects/longobject.c, Objects/floatobject.c,
// Python/pystrtod.c, Python/formatter_unicode.c); the digit generation that
// CPython does with David Gay's dtoa is done here with the correctly
// rounded std::to_chars / std::from_chars.
//
// ERROR CONVENTION
//   * Parsing (int()/float()) never throws: it returns a result struct.
//       IntParseResult   {ok, overflow, value}
//         ok == false          -> Python raises ValueError
//         ok && overflow       -> Python would return an int that does not
//                                 fit in int64; the caller raises OverflowError
//         ok && !overflow      -> value is the result
//       FloatParseResult {ok, value}   ok == false -> ValueError
//   * py_round_int() returns RoundIntResult {ok, overflow, value} with the
//     same meaning: ok == false for NaN (ValueError "cannot convert float NaN
//     to integer"), overflow == true for +-inf (OverflowError "cannot convert
//     float infinity to integer") or a result outside int64.
//   * Formatting (float_format / int_format / str_format / format_int) and
//     py_round() THROW:
//       std::invalid_argument  <=> Python ValueError; what() is CPython's
//                              exact message, e.g.
//                              "Invalid format specifier '^^^' for object of type 'float'"
//       std::overflow_error    <=> Python OverflowError
//                              ("%c arg not in range(0x110000)" for format(n, 'c'),
//                               "rounded value too large to represent" for py_round)
//
// NOTES / DELIBERATE CHOICES
//   * Whitespace: py_isspace() is Python's str.isspace().  int()/float() of a
//     str, however, behave exactly as CPython: non-ASCII whitespace is
//     stripped, but of the ASCII characters only " \t\n\v\f\r" are, so
//     int('\x1c5') is a ValueError in CPython and here (U+001C..U+001F count
//     as whitespace only for str.isspace, not for int()/float()).
//   * Non-ASCII decimal digits (Unicode category Nd, e.g. '١٢', '１２') are
//     mapped through a caller-supplied hook `int (*)(char32_t)` returning the
//     digit value 0..9 or -1; the default accepts ASCII only.  The same hook
//     is used for the width/precision digits of a format spec (CPython
//     accepts format(5, '١٠')).
//   * int() applies CPython's default int_max_str_digits limit (4300 digits,
//     non power-of-two bases only): longer inputs are a ValueError.
//   * Format specs are UTF-8 std::string; a non-ASCII fill character is
//     allowed and float_format/int_format return UTF-8.
//   * The 'n' presentation type uses the "C" locale (as CPython does unless
//     the program calls locale.setlocale(LC_NUMERIC, ...)): no grouping, '.'.
#pragma once

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "linkage.h"
#include <string>
#include <system_error>

namespace mx {
namespace numconv {

using DecimalValueFn = int (*)(char32_t);

// Default decimal hook: ASCII '0'..'9' only.
MX_INLINE int ascii_decimal_value(char32_t c) noexcept {
  return (c >= U'0' && c <= U'9') ? static_cast<int>(c - U'0') : -1;
}

// Python's str.isspace() for a single code point.
MX_INLINE bool py_isspace(char32_t c) noexcept {
  if (c < 128) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

struct IntParseResult {
  bool ok;
  bool overflow;
  int64_t value;
};

struct FloatParseResult {
  bool ok;
  double value;
};

struct RoundIntResult {
  bool ok;
  bool overflow;
  int64_t value;
};

namespace detail {

// Py_ISSPACE: the ASCII-only whitespace test used inside CPython's parsers.
MX_INLINE bool ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
MX_INLINE bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// ---------------------------------------------------------------- UTF-8 ----
MX_INLINE void utf8_append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

MX_INLINE std::string utf8_encode(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) utf8_append(out, c);
  return out;
}

// Lenient decoder: malformed sequences become U+FFFD.
MX_INLINE std::u32string utf8_decode(const std::string& s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    int len = (b >= 0xF0 && b < 0xF8) ? 4 : (b >= 0xE0) ? 3 : (b >= 0xC0) ? 2 : 0;
    if (len == 0 || i + len > n) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t c = b & (0x7F >> len);
    bool good = true;
    for (int k = 1; k < len; ++k) {
      unsigned char cb = static_cast<unsigned char>(s[i + k]);
      if ((cb & 0xC0) != 0x80) {
        good = false;
        break;
      }
      c = (c << 6) | (cb & 0x3F);
    }
    if (!good) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(c);
    i += len;
  }
  return out;
}

// ------------------------------------------------------ input cleaning ----
// CPython's _PyUnicode_TransformDecimalAndSpaceToASCII: ASCII kept as is,
// Unicode whitespace -> ' ', Unicode decimal digits -> '0'..'9', anything
// else -> '?' (and the rest is dropped).  NUL (never valid) -> '?' too.
MX_INLINE std::string transform_decimal_and_space(const char32_t* s, size_t n, DecimalValueFn dv) {
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    char32_t ch = s[i];
    if (ch < 127) {
      if (ch == 0) {
        out.push_back('?');
        break;
      }
      out.push_back(static_cast<char>(ch));
    } else if (py_isspace(ch)) {
      out.push_back(' ');
    } else {
      int d = dv ? dv(ch) : -1;
      if (d < 0 || d > 9) {
        out.push_back('?');
        break;
      }
      out.push_back(static_cast<char>('0' + d));
    }
  }
  return out;
}

MX_INLINE std::string clean_bytes(const char* s, size_t n) {
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (s[i] == '\0') {
      out.push_back('?');
      break;
    }
    out.push_back(s[i]);
  }
  return out;
}

// ---------------------------------------------------------- int parse ----
MX_INLINE int digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 37;
}

constexpr size_t kMaxStrDigits = 4300;  // CPython's default int_max_str_digits

// Port of PyLong_FromString.  `buf` contains no NUL characters.
MX_INLINE IntParseResult parse_int_ascii(const std::string& buf, int base) {
  const IntParseResult bad{false, false, 0};
  if ((base != 0 && base < 2) || base > 36) return bad;
  const char* str = buf.c_str();
  while (*str && ascii_space(*str)) ++str;
  bool neg = false;
  if (*str == '+') {
    ++str;
  } else if (*str == '-') {
    ++str;
    neg = true;
  }
  bool error_if_nonzero = false;
  if (base == 0) {
    if (str[0] != '0')
      base = 10;
    else if (str[1] == 'x' || str[1] == 'X')
      base = 16;
    else if (str[1] == 'o' || str[1] == 'O')
      base = 8;
    else if (str[1] == 'b' || str[1] == 'B')
      base = 2;
    else {
      error_if_nonzero = true;  // old C-style octal: only zero is allowed
      base = 10;
    }
  }
  if (str[0] == '0' && ((base == 16 && (str[1] == 'x' || str[1] == 'X')) ||
                        (base == 8 && (str[1] == 'o' || str[1] == 'O')) ||
                        (base == 2 && (str[1] == 'b' || str[1] == 'B')))) {
    str += 2;
    if (*str == '_') ++str;  // one underscore allowed after the prefix
  }
  if (str[0] == '_') return bad;
  const char* start = str;
  const uint64_t limit = neg ? (uint64_t(1) << 63) : ((uint64_t(1) << 63) - 1);
  uint64_t acc = 0;
  bool ovf = false;
  size_t digits = 0;
  char prev = '\0';
  for (;; ++str) {
    char c = *str;
    if (c == '_') {
      if (prev == '_') return bad;  // only one underscore in a row
    } else {
      int d = digit_value(c);
      if (d >= base) break;
      ++digits;
      if (!ovf) {
        if (acc > (limit - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base))
          ovf = true;
        else
          acc = acc * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
      }
    }
    prev = c;
  }
  if (prev == '_') return bad;  // trailing underscore
  if ((base & (base - 1)) != 0 && digits > kMaxStrDigits) return bad;
  if (error_if_nonzero && (acc != 0 || ovf)) return bad;
  if (str == start) return bad;
  while (*str && ascii_space(*str)) ++str;
  if (*str != '\0') return bad;
  if (ovf) return IntParseResult{true, true, 0};
  int64_t v = neg ? static_cast<int64_t>(uint64_t(0) - acc) : static_cast<int64_t>(acc);
  return IntParseResult{true, false, v};
}

// -------------------------------------------------------- float parse ----
MX_INLINE bool ci_equal(const char* p, size_t n, const char* word) {
  size_t m = std::strlen(word);
  if (n != m) return false;
  for (size_t i = 0; i < n; ++i) {
    char c = p[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != word[i]) return false;
  }
  return true;
}

// Port of PyFloat_FromString after the Unicode transformation:
// _Py_string_to_number_with_underscores + float_from_string_inner +
// _Py_dg_strtod / _Py_parse_inf_or_nan grammar.
MX_INLINE FloatParseResult parse_float_ascii(std::string s) {
  const FloatParseResult bad{false, 0.0};
  if (s.find('_') != std::string::npos) {
    std::string dup;
    dup.reserve(s.size());
    char prev = '\0';
    for (char c : s) {
      if (c == '_') {
        if (!is_digit(prev)) return bad;  // only after digits
      } else {
        dup.push_back(c);
        if (prev == '_' && !is_digit(c)) return bad;  // only before digits
      }
      prev = c;
    }
    if (prev == '_') return bad;
    s.swap(dup);
  }
  size_t b = 0, e = s.size();
  while (b < e && ascii_space(s[b])) ++b;
  if (b == e) return bad;
  while (e - 1 > b && ascii_space(s[e - 1])) --e;
  const char* p = s.data() + b;
  const char* last = s.data() + e;
  bool neg = false;
  if (*p == '-') {
    neg = true;
    ++p;
  } else if (*p == '+') {
    ++p;
  }
  const double inf = std::numeric_limits<double>::infinity();
  std::string mant;
  const char* q = p;
  while (q < last && is_digit(*q)) mant.push_back(*q++);
  const size_t intlen = mant.size();
  if (q < last && *q == '.') {
    ++q;
    while (q < last && is_digit(*q)) mant.push_back(*q++);
  }
  if (mant.empty()) {
    size_t len = static_cast<size_t>(last - p);
    if (ci_equal(p, len, "inf") || ci_equal(p, len, "infinity"))
      return FloatParseResult{true, neg ? -inf : inf};
    if (ci_equal(p, len, "nan")) {
      double nan = std::numeric_limits<double>::quiet_NaN();
      return FloatParseResult{true, neg ? std::copysign(nan, -1.0) : std::copysign(nan, 1.0)};
    }
    return bad;
  }
  int64_t exp = 0;
  if (q < last && (*q == 'e' || *q == 'E')) {
    const char* r = q + 1;
    bool eneg = false;
    if (r < last && (*r == '+' || *r == '-')) {
      eneg = (*r == '-');
      ++r;
    }
    if (r < last && is_digit(*r)) {
      while (r < last && is_digit(*r)) {
        if (exp < 1000000000000LL) exp = exp * 10 + (*r - '0');  // saturate
        ++r;
      }
      if (eneg) exp = -exp;
      q = r;
    }
  }
  if (q != last) return bad;
  size_t lz = 0;
  while (lz < mant.size() && mant[lz] == '0') ++lz;
  if (lz == mant.size()) return FloatParseResult{true, neg ? -0.0 : 0.0};
  size_t tz = mant.size();
  while (mant[tz - 1] == '0') --tz;
  // value = 0.<mant[lz:tz]> * 10**e10
  const int64_t e10 = static_cast<int64_t>(intlen) - static_cast<int64_t>(lz) + exp;
  double v;
  if (e10 > 400) {
    v = inf;
  } else if (e10 < -400) {
    v = 0.0;
  } else {
    std::string t = "0.";
    t.append(mant, lz, tz - lz);
    t.push_back('e');
    t += std::to_string(e10);
    auto res = std::from_chars(t.data(), t.data() + t.size(), v);
    if (res.ec == std::errc::result_out_of_range)
      v = e10 > 0 ? inf : 0.0;
    else if (res.ec != std::errc() || res.ptr != t.data() + t.size())
      return bad;  // not reachable
  }
  return FloatParseResult{true, neg ? -v : v};
}

// ------------------------------------------------------ digit engine ----
MX_INLINE std::string chars_of(double a, std::chars_format fmt, int64_t precision, size_t cap) {
  std::string buf(cap, '\0');
  std::to_chars_result r;
  if (precision < 0)
    r = std::to_chars(&buf[0], &buf[0] + buf.size(), a, fmt);
  else
    r = std::to_chars(&buf[0], &buf[0] + buf.size(), a, fmt, static_cast<int>(precision));
  if (r.ec != std::errc()) throw std::length_error("numconv: to_chars buffer too small");
  buf.resize(static_cast<size_t>(r.ptr - buf.data()));
  return buf;
}

MX_INLINE void strip_trailing_zeros(std::string& d) {
  while (!d.empty() && d.back() == '0') d.pop_back();
}

// Emulation of _Py_dg_dtoa(x, mode, ndigits, &decpt, &sign) for finite x,
// modes 0 (shortest round-trip), 2 (max(1, ndigits) significant digits) and
// 3 (ndigits past the decimal point, may be negative).  Trailing zeros are
// suppressed; the value is 0.<digits> * 10**decpt.  Mode 3 may return an
// empty digit string (result rounds to zero) with decpt == -ndigits.
MX_RT std::string dtoa(double x, int mode, int64_t ndigits, int64_t& decpt, bool& sign);
#if MX_RT_DEFINE
MX_RT std::string dtoa(double x, int mode, int64_t ndigits, int64_t& decpt, bool& sign) {
  sign = std::signbit(x);
  const double a = std::fabs(x);
  if (a == 0.0) {
    decpt = 1;
    return "0";
  }
  if (mode == 0 || mode == 2) {
    std::string buf;
    if (mode == 0) {
      buf = chars_of(a, std::chars_format::scientific, -1, 64);
    } else {
      if (ndigits < 1) ndigits = 1;
      buf = chars_of(a, std::chars_format::scientific, ndigits - 1, static_cast<size_t>(ndigits) + 32);
    }
    std::string digits;
    size_t i = 0;
    for (; i < buf.size() && buf[i] != 'e'; ++i)
      if (buf[i] != '.') digits.push_back(buf[i]);
    int64_t e = 0;
    bool eneg = false;
    size_t j = i + 1;
    if (j < buf.size() && (buf[j] == '+' || buf[j] == '-')) {
      eneg = buf[j] == '-';
      ++j;
    }
    for (; j < buf.size(); ++j) e = e * 10 + (buf[j] - '0');
    if (eneg) e = -e;
    decpt = e + 1;
    strip_trailing_zeros(digits);
    if (digits.empty()) digits = "0";
    return digits;
  }
  // mode 3
  if (ndigits >= 0) {
    std::string buf = chars_of(a, std::chars_format::fixed, ndigits, static_cast<size_t>(ndigits) + 340);
    size_t dot = buf.find('.');
    size_t intlen = dot == std::string::npos ? buf.size() : dot;
    std::string all = buf.substr(0, intlen);
    if (dot != std::string::npos) all.append(buf, dot + 1, std::string::npos);
    size_t lz = 0;
    while (lz < all.size() && all[lz] == '0') ++lz;
    if (lz == all.size()) {
      decpt = -ndigits;
      return std::string();
    }
    decpt = static_cast<int64_t>(intlen) - static_cast<int64_t>(lz);
    std::string digits = all.substr(lz);
    strip_trailing_zeros(digits);
    return digits;
  }
  // mode 3, negative ndigits: round the exact integer part, using the
  // fractional part only as a sticky bit (round half to even).
  const double ip = std::trunc(a);
  const bool sticky = (a - ip) != 0.0;
  std::string I = ip == 0.0 ? std::string() : chars_of(ip, std::chars_format::fixed, 0, 340);
  const int64_t k = static_cast<int64_t>(I.size()) + ndigits;  // digits kept
  if (k < 0) {
    decpt = -ndigits;
    return std::string();
  }
  std::string kept = I.substr(0, static_cast<size_t>(k));
  bool up = false;
  const char r0 = I[static_cast<size_t>(k)];
  if (r0 > '5') {
    up = true;
  } else if (r0 == '5') {
    bool more = sticky || I.find_first_not_of('0', static_cast<size_t>(k) + 1) != std::string::npos;
    up = more || (k > 0 && ((kept.back() - '0') & 1));
  }
  const int64_t exp10 = static_cast<int64_t>(I.size()) - k;
  if (up) {
    int64_t i = static_cast<int64_t>(kept.size()) - 1;
    while (i >= 0 && kept[static_cast<size_t>(i)] == '9') kept[static_cast<size_t>(i--)] = '0';
    if (i < 0)
      kept.insert(kept.begin(), '1');
    else
      ++kept[static_cast<size_t>(i)];
  }
  if (kept.find_first_not_of('0') == std::string::npos) {
    decpt = -ndigits;
    return std::string();
  }
  decpt = static_cast<int64_t>(kept.size()) + exp10;
  strip_trailing_zeros(kept);
  return kept;
}
#endif

// Port of pystrtod.c format_float_short.  format_code is one of e f g r
// (lower case; `upper` selects INF/NAN/E).
MX_RT std::string format_float_short(double d, char format_code, int mode, int64_t precision,
                                      bool always_add_sign, bool add_dot_0_if_integer,
                                      bool use_alt_formatting, bool no_negative_zero, bool upper);
#if MX_RT_DEFINE
MX_RT std::string format_float_short(double d, char format_code, int mode, int64_t precision,
                                      bool always_add_sign, bool add_dot_0_if_integer,
                                      bool use_alt_formatting, bool no_negative_zero, bool upper) {
  std::string out;
  if (std::isnan(d)) {  // sign of a nan is ignored
    if (always_add_sign) out.push_back('+');
    out += upper ? "NAN" : "nan";
    return out;
  }
  if (std::isinf(d)) {
    if (std::signbit(d))
      out.push_back('-');
    else if (always_add_sign)
      out.push_back('+');
    out += upper ? "INF" : "inf";
    return out;
  }
  int64_t decpt = 0;
  bool sign = false;
  const std::string digits = dtoa(d, mode, precision, decpt, sign);
  const int64_t digits_len = static_cast<int64_t>(digits.size());
  if (no_negative_zero && sign && (digits_len == 0 || (digits_len == 1 && digits[0] == '0')))
    sign = false;

  int64_t vdigits_end = digits_len;
  bool use_exp = false;
  int64_t exp = 0;
  switch (format_code) {
    case 'e':
      use_exp = true;
      vdigits_end = precision;
      break;
    case 'f':
      vdigits_end = decpt + precision;
      break;
    case 'g':
      if (decpt <= -4 || decpt > (add_dot_0_if_integer ? precision - 1 : precision)) use_exp = true;
      if (use_alt_formatting) vdigits_end = precision;
      break;
    case 'r':
      if (decpt <= -4 || decpt > 16) use_exp = true;
      break;
    default:
      throw std::logic_error("numconv: bad format code");
  }
  if (use_exp) {
    exp = decpt - 1;
    decpt = 1;
  }
  const int64_t vdigits_start = decpt <= 0 ? decpt - 1 : 0;
  if (!use_exp && add_dot_0_if_integer)
    vdigits_end = std::max(vdigits_end, decpt + 1);
  else
    vdigits_end = std::max(vdigits_end, decpt);

  if (sign)
    out.push_back('-');
  else if (always_add_sign)
    out.push_back('+');

  auto zeros = [&out](int64_t n) {
    if (n > 0) out.append(static_cast<size_t>(n), '0');
  };
  if (decpt <= 0) {
    zeros(decpt - vdigits_start);
    out.push_back('.');
    zeros(-decpt);
  } else {
    zeros(-vdigits_start);
  }
  if (0 < decpt && decpt <= digits_len) {
    out.append(digits, 0, static_cast<size_t>(decpt));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(decpt), std::string::npos);
  } else {
    out += digits;
  }
  if (digits_len < decpt) {
    zeros(decpt - digits_len);
    out.push_back('.');
    zeros(vdigits_end - decpt);
  } else {
    zeros(vdigits_end - digits_len);
  }
  if (out.back() == '.' && !use_alt_formatting) out.pop_back();
  if (use_exp) {
    out.push_back(upper ? 'E' : 'e');
    char eb[32];
    std::snprintf(eb, sizeof eb, "%+.02lld", static_cast<long long>(exp));
    out += eb;
  }
  return out;
}
#endif

// ------------------------------------------------ format spec parsing ----
enum Thousands : int { LT_NO_LOCALE = 0, LT_DEFAULT = ',', LT_UNDERSCORE = '_', LT_UNDER_FOUR = 4 };

struct Spec {
  char32_t fill_char = U' ';
  char32_t align = U'>';
  bool alternate = false;
  bool no_neg_0 = false;
  char32_t sign = 0;
  int64_t width = -1;
  int thousands = LT_NO_LOCALE;
  int64_t precision = -1;
  char32_t type = 0;
};

[[noreturn]] inline void value_error(const std::string& msg) { throw std::invalid_argument(msg); }

MX_INLINE std::string hex_lower(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "%x", v);
  return b;
}

[[noreturn]] inline void unknown_presentation_type(char32_t t, const char* type_name) {
  if (t > 32 && t < 128)
    value_error(std::string("Unknown format code '") + static_cast<char>(t) + "' for object of type '" +
                type_name + "'");
  value_error("Unknown format code '\\x" + hex_lower(static_cast<uint32_t>(t)) + "' for object of type '" +
              type_name + "'");
}

[[noreturn]] inline void invalid_thousands_separator_type(char specifier, char32_t t) {
  if (t > 32 && t < 128)
    value_error(std::string("Cannot specify '") + specifier + "' with '" + static_cast<char>(t) + "'.");
  value_error(std::string("Cannot specify '") + specifier + "' with '\\x" + hex_lower(static_cast<uint32_t>(t)) +
              "'.");
}

MX_INLINE bool is_alignment_token(char32_t c) { return c == U'<' || c == U'>' || c == U'=' || c == U'^'; }
MX_INLINE bool is_sign_element(char32_t c) { return c == U' ' || c == U'+' || c == U'-'; }

// Returns the number of digits consumed.
MX_INLINE int64_t get_integer(const std::u32string& s, size_t& pos, int64_t& result, DecimalValueFn dv) {
  int64_t acc = 0, numdigits = 0;
  for (; pos < s.size(); ++pos, ++numdigits) {
    char32_t c = s[pos];
    int d = (c < 128) ? ascii_decimal_value(c) : (dv ? dv(c) : -1);
    if (d < 0 || d > 9) break;
    if (acc > (INT64_MAX - d) / 10) value_error("Too many decimal digits in format string");
    acc = acc * 10 + d;
  }
  result = acc;
  return numdigits;
}

// Port of parse_internal_render_format_spec.
MX_INLINE Spec parse_spec(const std::u32string& s, const std::string& spec_utf8, const char* type_name,
                       char32_t default_type, char32_t default_align, DecimalValueFn dv) {
  Spec f;
  f.align = default_align;
  f.type = default_type;
  size_t pos = 0;
  const size_t end = s.size();
  bool align_specified = false, fill_char_specified = false;
  if (end - pos >= 2 && is_alignment_token(s[pos + 1])) {
    f.align = s[pos + 1];
    f.fill_char = s[pos];
    fill_char_specified = align_specified = true;
    pos += 2;
  } else if (end - pos >= 1 && is_alignment_token(s[pos])) {
    f.align = s[pos];
    align_specified = true;
    ++pos;
  }
  if (end - pos >= 1 && is_sign_element(s[pos])) f.sign = s[pos++];
  if (end - pos >= 1 && s[pos] == U'z') {
    f.no_neg_0 = true;
    ++pos;
  }
  if (end - pos >= 1 && s[pos] == U'#') {
    f.alternate = true;
    ++pos;
  }
  if (!fill_char_specified && end - pos >= 1 && s[pos] == U'0') {
    f.fill_char = U'0';
    if (!align_specified && default_align == U'>') f.align = U'=';
    ++pos;
  }
  int64_t width = 0;
  if (get_integer(s, pos, width, dv) == 0)
    f.width = -1;
  else
    f.width = width;
  if (end - pos && s[pos] == U',') {
    f.thousands = LT_DEFAULT;
    ++pos;
  }
  if (end - pos && s[pos] == U'_') {
    if (f.thousands != LT_NO_LOCALE) value_error("Cannot specify both ',' and '_'.");
    f.thousands = LT_UNDERSCORE;
    ++pos;
  }
  if (end - pos && s[pos] == U',') {
    if (f.thousands == LT_UNDERSCORE) value_error("Cannot specify both ',' and '_'.");
  }
  if (end - pos && s[pos] == U'.') {
    ++pos;
    int64_t prec = 0;
    if (get_integer(s, pos, prec, dv) == 0) value_error("Format specifier missing precision");
    f.precision = prec;
  }
  if (end - pos > 1)
    value_error("Invalid format specifier '" + spec_utf8 + "' for object of type '" + type_name + "'");
  if (end - pos == 1) f.type = s[pos++];
  if (f.thousands) {
    switch (f.type) {
      case U'd': case U'e': case U'f': case U'g': case U'E': case U'G': case U'%': case U'F': case 0:
        break;
      case U'b': case U'o': case U'x': case U'X':
        if (f.thousands == LT_UNDERSCORE) {
          f.thousands = LT_UNDER_FOUR;
          break;
        }
        invalid_thousands_separator_type(static_cast<char>(f.thousands), f.type);
      default:
        invalid_thousands_separator_type(f.thousands == LT_UNDER_FOUR ? '_' : static_cast<char>(f.thousands),
                                         f.type);
    }
  }
  return f;
}

}  // namespace detail
}  // namespace numconv
}  // namespace mx

#include "numconv_render.h"
