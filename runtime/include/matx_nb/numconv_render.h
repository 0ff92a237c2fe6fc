// Rendering numbers: float repr and str, format specs applied to ints and floats.
// Part of numconv.h (which includes it at its end).
#pragma once
#include "linkage.h"
#include "numconv.h"

namespace mx {
namespace numconv {
namespace detail {

// --------------------------------------------------- number rendering ----
struct LocaleInfo {
  char32_t thousands_sep = 0;  // 0: none
  int grouping = 0;            // group size repeated forever; 0: no grouping
};

MX_INLINE LocaleInfo locale_info(int thousands, bool current_locale) {
  LocaleInfo li;
  if (current_locale) return li;  // "C" locale: no grouping, '.' decimal point
  switch (thousands) {
    case LT_DEFAULT: li.thousands_sep = U','; li.grouping = 3; break;
    case LT_UNDERSCORE: li.thousands_sep = U'_'; li.grouping = 3; break;
    case LT_UNDER_FOUR: li.thousands_sep = U'_'; li.grouping = 4; break;
    default: break;
  }
  return li;
}

// Port of _PyUnicode_InsertThousandsGrouping (producing the text).
MX_INLINE std::u32string insert_grouping(const std::u32string& digits, int64_t min_width, const LocaleInfo& li) {
  min_width = std::max<int64_t>(0, min_width);
  std::u32string rev;  // built right to left
  int64_t remaining = static_cast<int64_t>(digits.size());
  size_t digits_pos = digits.size();
  bool use_separator = false;
  const int64_t sep_len = li.thousands_sep ? 1 : 0;
  auto fill = [&](int64_t n_chars, int64_t n_zeros) {
    if (use_separator && sep_len) rev.push_back(li.thousands_sep);
    for (int64_t i = 0; i < n_chars; ++i) rev.push_back(digits[--digits_pos]);
    for (int64_t i = 0; i < n_zeros; ++i) rev.push_back(U'0');
  };
  bool loop_broken = false;
  if (li.grouping > 0) {
    for (;;) {
      int64_t len = li.grouping;
      len = std::min(len, std::max(std::max(remaining, min_width), int64_t(1)));
      int64_t n_zeros = std::max(int64_t(0), len - remaining);
      int64_t n_chars = std::max(int64_t(0), std::min(remaining, len));
      fill(n_chars, n_zeros);
      use_separator = true;
      remaining -= n_chars;
      min_width -= len;
      if (remaining <= 0 && min_width <= 0) {
        loop_broken = true;
        break;
      }
      min_width -= sep_len;
    }
  }
  if (!loop_broken) {
    int64_t len = std::max(std::max(remaining, min_width), int64_t(1));
    int64_t n_zeros = std::max(int64_t(0), len - remaining);
    int64_t n_chars = std::max(int64_t(0), std::min(remaining, len));
    fill(n_chars, n_zeros);
  }
  return std::u32string(rev.rbegin(), rev.rend());
}

MX_INLINE char32_t ascii_upper(char32_t c) { return (c >= U'a' && c <= U'z') ? c - 32 : c; }

// Port of calc_number_widths + fill_number.  `number` is the text after the
// sign: <digits>[.]<remainder>.
MX_INLINE std::u32string render_number(char32_t sign_char, const std::string& prefix, const std::u32string& number,
                                    int64_t n_remainder, bool has_decimal, const Spec& f, const LocaleInfo& li,
                                    bool toupper) {
  const int64_t n_digits = static_cast<int64_t>(number.size()) - n_remainder - (has_decimal ? 1 : 0);
  const int64_t n_prefix = static_cast<int64_t>(prefix.size());
  const int64_t n_decimal = has_decimal ? 1 : 0;
  char32_t sign = 0;
  int64_t n_sign = 0;
  switch (f.sign) {
    case U'+':
      n_sign = 1;
      sign = sign_char == U'-' ? U'-' : U'+';
      break;
    case U' ':
      n_sign = 1;
      sign = sign_char == U'-' ? U'-' : U' ';
      break;
    default:
      if (sign_char == U'-') {
        n_sign = 1;
        sign = U'-';
      }
  }
  const int64_t n_non_digit_non_padding = n_sign + n_prefix + n_decimal + n_remainder;
  const int64_t n_min_width = (f.fill_char == U'0' && f.align == U'=') ? f.width - n_non_digit_non_padding : 0;
  std::u32string grouped;
  if (n_digits != 0) grouped = insert_grouping(number.substr(0, static_cast<size_t>(n_digits)), n_min_width, li);
  const int64_t n_padding = f.width - (n_non_digit_non_padding + static_cast<int64_t>(grouped.size()));
  int64_t lpad = 0, spad = 0, rpad = 0;
  if (n_padding > 0) {
    switch (f.align) {
      case U'<': rpad = n_padding; break;
      case U'^': lpad = n_padding / 2; rpad = n_padding - lpad; break;
      case U'=': spad = n_padding; break;
      default: lpad = n_padding; break;
    }
  }
  std::u32string out;
  out.append(static_cast<size_t>(lpad), f.fill_char);
  if (n_sign) out.push_back(sign);
  for (char c : prefix) out.push_back(toupper ? ascii_upper(static_cast<unsigned char>(c)) : static_cast<unsigned char>(c));
  out.append(static_cast<size_t>(spad), f.fill_char);
  for (char32_t c : grouped) out.push_back(toupper ? ascii_upper(c) : c);
  if (has_decimal) out.push_back(U'.');
  out.append(number, static_cast<size_t>(number.size() - n_remainder), std::u32string::npos);
  out.append(static_cast<size_t>(rpad), f.fill_char);
  return out;
}

MX_INLINE std::u32string ascii_to_u32(const std::string& s, size_t from = 0) {
  std::u32string r;
  r.reserve(s.size() - from);
  for (size_t i = from; i < s.size(); ++i) r.push_back(static_cast<unsigned char>(s[i]));
  return r;
}

// Port of format_float_internal.
MX_INLINE std::u32string format_float_internal(double val, const Spec& f) {
  if (f.precision > INT_MAX) value_error("precision too big");
  int64_t precision = f.precision;
  int64_t default_precision = 6;
  bool add_dot_0 = false;
  char32_t type = f.type;
  if (type == 0) {
    add_dot_0 = true;
    type = U'r';
    default_precision = 0;
  }
  if (type == U'n') type = U'g';
  bool add_pct = false;
  if (type == U'%') {
    type = U'f';
    val *= 100;
    add_pct = true;
  }
  if (precision < 0)
    precision = default_precision;
  else if (type == U'r')
    type = U'g';
  bool upper = false;
  char code = 'r';
  int mode = 0;
  switch (type) {
    case U'E': upper = true; /* fall through */
    case U'e': code = 'e'; mode = 2; ++precision; break;
    case U'F': upper = true; /* fall through */
    case U'f': code = 'f'; mode = 3; break;
    case U'G': upper = true; /* fall through */
    case U'g':
      code = 'g';
      mode = 2;
      if (precision == 0) precision = 1;
      break;
    case U'r': code = 'r'; mode = 0; break;
    default: throw std::logic_error("numconv: bad float type");
  }
  std::string buf = format_float_short(val, code, mode, precision, false, add_dot_0, f.alternate, f.no_neg_0, upper);
  if (add_pct) buf.push_back('%');
  char32_t sign_char = 0;
  size_t idx = 0;
  if (buf[0] == '-') {
    sign_char = U'-';
    idx = 1;
  }
  size_t pos = idx;
  while (pos < buf.size() && is_digit(buf[pos])) ++pos;
  const bool has_decimal = pos < buf.size() && buf[pos] == '.';
  const size_t rem_start = pos + (has_decimal ? 1 : 0);
  const int64_t n_remainder = static_cast<int64_t>(buf.size() - rem_start);
  return render_number(sign_char, std::string(), ascii_to_u32(buf, idx), n_remainder, has_decimal, f,
                       locale_info(f.thousands, f.type == U'n'), false);
}

MX_INLINE std::string magnitude_digits(int64_t v, int base) {
  uint64_t m = v < 0 ? uint64_t(0) - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  char buf[72];
  auto r = std::to_chars(buf, buf + sizeof buf, m, base);
  return std::string(buf, r.ptr);
}

// Port of format_long_internal.
MX_INLINE std::u32string format_long_internal(int64_t v, const Spec& f) {
  if (f.precision != -1) value_error("Precision not allowed in integer format specifier");
  if (f.no_neg_0) value_error("Negative zero coercion (z) not allowed in integer format specifier");
  char32_t sign_char = 0;
  std::string prefix;
  std::u32string number;
  int64_t n_remainder = 0;
  if (f.type == U'c') {
    if (f.sign != 0) value_error("Sign not allowed with integer format specifier 'c'");
    if (f.alternate) value_error("Alternate form (#) not allowed with integer format specifier 'c'");
    if (v < 0 || v > 0x10ffff) throw std::overflow_error("%c arg not in range(0x110000)");
    number.push_back(static_cast<char32_t>(v));
    n_remainder = 1;
  } else {
    int base = 10;
    const char* pfx = "";
    switch (f.type) {
      case U'b': base = 2; pfx = "0b"; break;
      case U'o': base = 8; pfx = "0o"; break;
      case U'x': case U'X': base = 16; pfx = "0x"; break;
      default: base = 10; break;
    }
    if (f.alternate) prefix = pfx;
    if (v < 0) sign_char = U'-';
    number = ascii_to_u32(magnitude_digits(v, base));
  }
  return render_number(sign_char, prefix, number, n_remainder, false, f, locale_info(f.thousands, f.type == U'n'),
                       f.type == U'X');
}

// Port of format_string_internal.
MX_INLINE std::u32string format_string_internal(const std::u32string& value, const Spec& f) {
  if (f.sign != 0) {
    if (f.sign == U' ') value_error("Space not allowed in string format specifier");
    value_error("Sign not allowed in string format specifier");
  }
  if (f.no_neg_0) value_error("Negative zero coercion (z) not allowed in string format specifier");
  if (f.alternate) value_error("Alternate form (#) not allowed in string format specifier");
  if (f.align == U'=') value_error("'=' alignment not allowed in string format specifier");
  int64_t len = static_cast<int64_t>(value.size());
  if (f.precision >= 0 && len >= f.precision) len = f.precision;
  int64_t total = (f.width >= 0 && f.width > len) ? f.width : len;
  int64_t lpad = 0;
  if (f.align == U'>')
    lpad = total - len;
  else if (f.align == U'^')
    lpad = (total - len) / 2;
  const int64_t rpad = total - len - lpad;
  std::u32string out;
  out.reserve(static_cast<size_t>(total));
  out.append(static_cast<size_t>(lpad), f.fill_char);
  out.append(value, 0, static_cast<size_t>(len));
  out.append(static_cast<size_t>(rpad), f.fill_char);
  return out;
}

}  // namespace detail

// =================================================================== API ==

// repr(x) == str(x) for a Python float.
MX_INLINE std::string float_repr(double x) {
  return detail::format_float_short(x, 'r', 0, 0, false, true, false, false, false);
}

// str(v) for an int.
MX_INLINE std::string int_to_string(int64_t v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// bin(v) (base 2), oct(v) (8), hex(v) (16), str(v) (10).
MX_INLINE std::string format_int(int64_t v, int base) {
  const char* pfx;
  switch (base) {
    case 2: pfx = "0b"; break;
    case 8: pfx = "0o"; break;
    case 16: pfx = "0x"; break;
    case 10: return int_to_string(v);
    default: throw std::invalid_argument("format_int: base must be 2, 8, 10 or 16");
  }
  std::string out;
  if (v < 0) out.push_back('-');
  out += pfx;
  out += detail::magnitude_digits(v, base);
  return out;
}

// int(s, base) for a str; base 0 or 2..36 (anything else: ok == false, as
// CPython raises ValueError).
MX_INLINE IntParseResult parse_int(const char32_t* s, size_t n, int base = 10,
                                DecimalValueFn decimal_value = ascii_decimal_value) {
  return detail::parse_int_ascii(detail::transform_decimal_and_space(s, n, decimal_value), base);
}
MX_INLINE IntParseResult parse_int(const std::u32string& s, int base = 10,
                                DecimalValueFn decimal_value = ascii_decimal_value) {
  return parse_int(s.data(), s.size(), base, decimal_value);
}
// int(b, base) for bytes / bytearray (no Unicode handling, as in CPython).
MX_INLINE IntParseResult parse_int_bytes(const char* s, size_t n, int base = 10) {
  return detail::parse_int_ascii(detail::clean_bytes(s, n), base);
}

// float(s) for a str.
MX_INLINE FloatParseResult parse_float(const char32_t* s, size_t n,
                                    DecimalValueFn decimal_value = ascii_decimal_value) {
  return detail::parse_float_ascii(detail::transform_decimal_and_space(s, n, decimal_value));
}
MX_INLINE FloatParseResult parse_float(const std::u32string& s, DecimalValueFn decimal_value = ascii_decimal_value) {
  return parse_float(s.data(), s.size(), decimal_value);
}
// float(b) for bytes.
MX_INLINE FloatParseResult parse_float_bytes(const char* s, size_t n) {
  return detail::parse_float_ascii(detail::clean_bytes(s, n));
}

// format(x, spec) for a float.  Throws std::invalid_argument (ValueError).
MX_INLINE std::string float_format(double x, const std::string& spec,
                                DecimalValueFn decimal_value = ascii_decimal_value) {
  if (spec.empty()) return float_repr(x);
  const std::u32string s = detail::utf8_decode(spec);
  const detail::Spec f = detail::parse_spec(s, spec, "float", 0, U'>', decimal_value);
  switch (f.type) {
    case 0: case U'e': case U'E': case U'f': case U'F': case U'g': case U'G': case U'n': case U'%':
      return detail::utf8_encode(detail::format_float_internal(x, f));
    default:
      detail::unknown_presentation_type(f.type, "float");
  }
}

// format(v, spec) for an int.  Throws std::invalid_argument (ValueError) or
// std::overflow_error (OverflowError, for 'c' out of range).
MX_INLINE std::string int_format(int64_t v, const std::string& spec,
                              DecimalValueFn decimal_value = ascii_decimal_value) {
  if (spec.empty()) return int_to_string(v);
  const std::u32string s = detail::utf8_decode(spec);
  const detail::Spec f = detail::parse_spec(s, spec, "int", U'd', U'>', decimal_value);
  switch (f.type) {
    case U'b': case U'c': case U'd': case U'o': case U'x': case U'X': case U'n':
      return detail::utf8_encode(detail::format_long_internal(v, f));
    case U'e': case U'E': case U'f': case U'F': case U'g': case U'G': case U'%':
      return detail::utf8_encode(detail::format_float_internal(static_cast<double>(v), f));
    default:
      detail::unknown_presentation_type(f.type, "int");
  }
}

// format(s, spec) for a str.  Throws std::invalid_argument (ValueError).
MX_INLINE std::u32string str_format(const std::u32string& value, const std::string& spec,
                                 DecimalValueFn decimal_value = ascii_decimal_value) {
  if (spec.empty()) return value;
  const std::u32string s = detail::utf8_decode(spec);
  const detail::Spec f = detail::parse_spec(s, spec, "str", U's', U'<', decimal_value);
  if (f.type != U's') detail::unknown_presentation_type(f.type, "str");
  return detail::format_string_internal(value, f);
}

// round(x, ndigits) for a float (CPython's double_round: correctly rounded,
// half to even on the exact binary value).  Throws std::overflow_error
// ("rounded value too large to represent") like CPython.
MX_INLINE double py_round(double x, int64_t ndigits) {
  if (!std::isfinite(x)) return x;
  constexpr int64_t kNdigitsMax = 323;   // (DBL_MANT_DIG - DBL_MIN_EXP) * 0.30103
  constexpr int64_t kNdigitsMin = -308;  // -(DBL_MAX_EXP + 1) * 0.30103
  if (ndigits > kNdigitsMax) return x;
  if (ndigits < kNdigitsMin) return 0.0 * x;
  int64_t decpt = 0;
  bool sign = false;
  const std::string digits = detail::dtoa(x, 3, ndigits, decpt, sign);
  std::string t = "0";
  t += digits;
  t.push_back('e');
  t += std::to_string(decpt - static_cast<int64_t>(digits.size()));
  double r = 0.0;
  auto res = std::from_chars(t.data(), t.data() + t.size(), r);
  if (res.ec == std::errc::result_out_of_range) {
    if (decpt > 0) throw std::overflow_error("rounded value too large to represent");
    r = 0.0;
  }
  return sign ? -r : r;
}

// round(x) -> int (half to even).  See RoundIntResult semantics above.
MX_INLINE RoundIntResult py_round_int(double x) {
  if (std::isnan(x)) return RoundIntResult{false, false, 0};
  if (std::isinf(x)) return RoundIntResult{true, true, 0};
  double r = std::round(x);
  if (std::fabs(x - r) == 0.5) r = 2.0 * std::round(x / 2.0);
  if (r >= 9223372036854775808.0 || r < -9223372036854775808.0) return RoundIntResult{true, true, 0};
  return RoundIntResult{true, false, static_cast<int64_t>(r)};
}

}  // namespace numconv
}  // namespace mx
