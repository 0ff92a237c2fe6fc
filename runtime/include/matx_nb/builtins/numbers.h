// Numbers: exact int/float comparison, tuple ordering, min/max, int(), float(),
// ord() and chr(). Part of builtins.h, which includes the builtins/ headers in order.
#pragma once
#include "../linkage.h"
#include "../ops.h"
#include <cerrno>

namespace mx {

// ---- numbers ---------------------------------------------------------------------

// Exact comparison of an int with a float, as Python does (no rounding of the int).
MX_INLINE int num_cmp(int64_t a, double b) {
  if (std::isnan(b)) return 2;  // unordered
  if (b >= 9223372036854775808.0) return -1;
  if (b < -9223372036854775808.0) return 1;
  double fl = std::floor(b);
  int64_t bi = int64_t(fl);
  if (a < bi) return -1;
  if (a > bi) return 1;
  return fl == b ? 0 : -1;
}
MX_INLINE int num_cmp(double a, int64_t b) {
  int r = num_cmp(b, a);
  return r == 2 ? 2 : -r;
}
MX_INLINE int num_cmp(double a, double b) { return a < b ? -1 : (a > b ? 1 : (a == b ? 0 : 2)); }
MX_INLINE int num_cmp(bool a, double b) { return num_cmp(int64_t(a), b); }
MX_INLINE int num_cmp(double a, bool b) { return num_cmp(a, int64_t(b)); }
template <class A, class B> inline bool num_eq(A a, B b) { return num_cmp(a, b) == 0; }
template <class A, class B> inline bool num_ne(A a, B b) { return num_cmp(a, b) != 0; }
template <class A, class B> inline bool num_lt(A a, B b) { return num_cmp(a, b) == -1; }
template <class A, class B> inline bool num_le(A a, B b) { int r = num_cmp(a, b); return r == -1 || r == 0; }
template <class A, class B> inline bool num_gt(A a, B b) { return num_cmp(a, b) == 1; }
template <class A, class B> inline bool num_ge(A a, B b) { int r = num_cmp(a, b); return r == 1 || r == 0; }

// Comparisons of tuples go item by item with Python's rules.
template <size_t I = 0, class... T>
inline int tuple_cmp(const Tuple<T...>& a, const Tuple<T...>& b) {
  if constexpr (I == sizeof...(T)) {
    return 0;
  } else {
    const auto& x = std::get<I>(a);
    const auto& y = std::get<I>(b);
    if (!eq(x, y)) return lt(x, y) ? -1 : 1;
    return tuple_cmp<I + 1>(a, b);
  }
}
template <class... T>
inline bool lt(const Tuple<T...>& a, const Tuple<T...>& b) { return tuple_cmp(a, b) < 0; }

template <class T>
inline T min_(T a) { return a; }
template <class T, class... R>
inline T min_(T a, T b, R... rest) { return min_(lt(b, a) ? b : a, rest...); }
template <class T>
inline T max_(T a) { return a; }
template <class T, class... R>
inline T max_(T a, T b, R... rest) { return max_(lt(a, b) ? b : a, rest...); }

MX_INLINE int64_t to_int(int64_t v, const Loc*) { return v; }
MX_INLINE int64_t to_int(bool v, const Loc*) { return v; }
MX_INLINE int64_t to_int(double v, const Loc* loc) {
  if (std::isnan(v)) raise(ErrKind::ValueError, "cannot convert float NaN to integer", loc);
  if (std::isinf(v)) raise(ErrKind::OverflowError, "cannot convert float infinity to integer", loc);
  double t = std::trunc(v);
  if (t >= 9223372036854775808.0 || t < -9223372036854775808.0)
    raise(ErrKind::OverflowError, "int too large to convert to a 64-bit int", loc);
  return int64_t(t);
}
MX_INLINE int64_t to_int_base(const Str& s, int64_t base, const Loc* loc) {
  if (base != 0 && (base < 2 || base > 36)) raise(ErrKind::ValueError, "int() base must be >= 2 and <= 36, or 0", loc);
  U32Of u(s);
  auto r = numconv::parse_int(u.data(), u.size(), int(base), &unicode::decimal_value);
  if (r.overflow) raise(ErrKind::OverflowError, "int too large to convert to a 64-bit int", loc);
  if (!r.ok)
    raise(ErrKind::ValueError, "invalid literal for int() with base " + std::to_string(base) + ": " +
                                   utf8_encode(repr(s)), loc);
  return r.value;
}
MX_INLINE int64_t to_int(const Str& s, const Loc* loc) { return to_int_base(s, 10, loc); }
MX_INLINE int64_t to_int(const Bytes& s, const Loc* loc) {
  auto r = numconv::parse_int_bytes(s.data(), s.size(), 10);
  if (r.overflow) raise(ErrKind::OverflowError, "int too large to convert to a 64-bit int", loc);
  if (!r.ok) raise(ErrKind::ValueError, "invalid literal for int() with base 10: " + utf8_encode(repr(s)), loc);
  return r.value;
}
MX_INLINE double to_float(double v, const Loc*) { return v; }
MX_INLINE double to_float(int64_t v, const Loc*) { return double(v); }
MX_INLINE double to_float(bool v, const Loc*) { return v ? 1.0 : 0.0; }
MX_INLINE double to_float(const Str& s, const Loc* loc) {
  U32Of u(s);
  auto r = numconv::parse_float(u.data(), u.size(), &unicode::decimal_value);
  if (!r.ok) raise(ErrKind::ValueError, "could not convert string to float: " + utf8_encode(repr(s)), loc);
  return r.value;
}
MX_INLINE int64_t ord(const Str& s, const Loc* loc) {
  if (s.size() != 1)
    raise(ErrKind::TypeError, "ord() expected a character, but string of length " + std::to_string(s.size()) + " found", loc);
  return int64_t(s[0]);
}
MX_INLINE Str chr(int64_t c, const Loc* loc) {
  // CPython converts the argument to a C int first.
  if (c > INT32_MAX || c < INT32_MIN) raise(ErrKind::OverflowError, "Python int too large to convert to C int", loc);
  if (c < 0 || c > 0x10FFFF) raise(ErrKind::ValueError, "chr() arg not in range(0x110000)", loc);
  return str_char(char32_t(c));
}

}  // namespace mx
