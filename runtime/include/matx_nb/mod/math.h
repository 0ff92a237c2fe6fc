// The `math` module for compiled code: each function raises what CPython's does
// (ValueError "math domain error", OverflowError "math range error"), using the
// same rules as CPython's mathmodule.c (math_1 / math_2 and the special cases of
// log, pow and fmod), on the same libm.
#pragma once
#include "../linkage.h"
#include <cmath>
#include <numeric>

#include "../runtime.h"

namespace mx::pymod {

[[noreturn]] inline void math_domain_error(const Loc* loc) { raise(ErrKind::ValueError, "math domain error", loc); }
[[noreturn]] inline void math_range_error(const Loc* loc) { raise(ErrKind::OverflowError, "math range error", loc); }

// CPython's math_1: a NaN from a non-NaN argument is a domain error; an infinity
// from a finite one is a range error where the function can overflow.
MX_INLINE double math_1(double x, double r, bool can_overflow, const Loc* loc) {
  if (std::isnan(r) && !std::isnan(x)) math_domain_error(loc);
  if (std::isinf(r) && std::isfinite(x)) {
    if (can_overflow) math_range_error(loc);
    math_domain_error(loc);
  }
  return r;
}

MX_INLINE double math_2(double x, double y, double r, const Loc* loc) {
  if (std::isnan(r) && !std::isnan(x) && !std::isnan(y)) math_domain_error(loc);
  if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) math_range_error(loc);
  return r;
}

#define MX_MATH_1(name, fn, can_overflow) \
  MX_INLINE double math_##name(double x, const Loc* loc) { return math_1(x, fn(x), can_overflow, loc); }
MX_MATH_1(sqrt, std::sqrt, false)
MX_MATH_1(exp, std::exp, true)
MX_MATH_1(expm1, std::expm1, true)
MX_MATH_1(log1p, std::log1p, false)
MX_MATH_1(fabs, std::fabs, false)
MX_MATH_1(sin, std::sin, false)
MX_MATH_1(cos, std::cos, false)
MX_MATH_1(tan, std::tan, false)
MX_MATH_1(asin, std::asin, false)
MX_MATH_1(acos, std::acos, false)
MX_MATH_1(atan, std::atan, false)
MX_MATH_1(sinh, std::sinh, true)
MX_MATH_1(cosh, std::cosh, true)
MX_MATH_1(tanh, std::tanh, false)
MX_MATH_1(asinh, std::asinh, false)
MX_MATH_1(acosh, std::acosh, false)
MX_MATH_1(atanh, std::atanh, false)
MX_MATH_1(erf, std::erf, false)
MX_MATH_1(erfc, std::erfc, false)
MX_MATH_1(cbrt, std::cbrt, false)
#undef MX_MATH_1

MX_INLINE double math_degrees(double x, const Loc*) { return x * (180.0 / M_PI); }
MX_INLINE double math_radians(double x, const Loc*) { return x * (M_PI / 180.0); }

// CPython's loghelper over m_log/m_log2/m_log10: zero and negatives are
// domain errors, inf and NaN pass through.
template <double (*F)(double)>
inline double math_loghelper(double x, const Loc* loc) {
  if (std::isnan(x) || x == INFINITY) return x;
  if (x <= 0) math_domain_error(loc);
  return F(x);
}
MX_INLINE double m_log(double x) { return std::log(x); }
MX_INLINE double m_log2(double x) { return std::log2(x); }
MX_INLINE double m_log10(double x) { return std::log10(x); }

MX_INLINE double math_log(double x, None, const Loc* loc) { return math_loghelper<m_log>(x, loc); }
MX_INLINE double math_log(double x, double base, const Loc* loc) {
  double num = math_loghelper<m_log>(x, loc), den = math_loghelper<m_log>(base, loc);
  if (den == 0) raise(ErrKind::ZeroDivisionError, "float division by zero", loc);
  return num / den;
}
MX_INLINE double math_log2(double x, const Loc* loc) { return math_loghelper<m_log2>(x, loc); }
MX_INLINE double math_log10(double x, const Loc* loc) { return math_loghelper<m_log10>(x, loc); }

MX_INLINE double math_atan2(double y, double x, const Loc* loc) { return math_2(y, x, std::atan2(y, x), loc); }
MX_INLINE double math_copysign(double x, double y, const Loc*) { return std::copysign(x, y); }
MX_INLINE double math_hypot(double x, double y, const Loc* loc) { return math_2(x, y, std::hypot(x, y), loc); }

MX_INLINE double math_fmod(double x, double y, const Loc* loc) {
  if (std::isinf(y) && std::isfinite(x)) return x;
  double r = std::fmod(x, y);
  if (std::isnan(r) && !std::isnan(x) && !std::isnan(y)) math_domain_error(loc);
  return r;
}

MX_INLINE double math_pow(double x, double y, const Loc* loc) {
  // Non-finite arguments follow C99 Annex F, as CPython's special cases do.
  if (!std::isfinite(x) || !std::isfinite(y)) return std::pow(x, y);
  double r = std::pow(x, y);
  if (std::isnan(r)) math_domain_error(loc);
  if (std::isinf(r)) {
    if (x == 0) math_domain_error(loc);
    math_range_error(loc);
  }
  return r;
}

MX_INLINE bool math_isnan(double x, const Loc*) { return std::isnan(x); }
MX_INLINE bool math_isinf(double x, const Loc*) { return std::isinf(x); }
MX_INLINE bool math_isfinite(double x, const Loc*) { return std::isfinite(x); }

MX_INLINE bool math_isclose(double a, double b, double rel_tol, double abs_tol, const Loc* loc) {
  if (rel_tol < 0.0 || abs_tol < 0.0) raise(ErrKind::ValueError, "tolerances must be non-negative", loc);
  if (a == b) return true;
  if (std::isinf(a) || std::isinf(b)) return false;
  double diff = std::fabs(b - a);
  return ((diff <= std::fabs(rel_tol * b)) || (diff <= std::fabs(rel_tol * a))) || (diff <= abs_tol);
}

// floor/ceil/trunc: ints pass through; floats convert like int() does.
#define MX_MATH_ROUND(name, fn)                                                            \
  MX_INLINE int64_t math_##name(int64_t x, const Loc*) { return x; }                          \
  MX_INLINE int64_t math_##name(bool x, const Loc*) { return x; }                             \
  MX_INLINE int64_t math_##name(double x, const Loc* loc) { return to_int(fn(x), loc); }
MX_MATH_ROUND(floor, std::floor)
MX_MATH_ROUND(ceil, std::ceil)
MX_MATH_ROUND(trunc, std::trunc)
#undef MX_MATH_ROUND

// ---- integer functions (64-bit; results past int64 raise OverflowError) --------

MX_INLINE uint64_t math_uabs(int64_t a) { return a < 0 ? uint64_t(0) - uint64_t(a) : uint64_t(a); }

MX_INLINE int64_t math_gcd(int64_t a, int64_t b, const Loc* loc) {
  uint64_t g = std::gcd(math_uabs(a), math_uabs(b));
  if (g > uint64_t(INT64_MAX)) raise_int_overflow(loc);
  return int64_t(g);
}

MX_INLINE int64_t math_lcm(int64_t a, int64_t b, const Loc* loc) {
  if (a == 0 || b == 0) return 0;
  uint64_t g = std::gcd(math_uabs(a), math_uabs(b));
  unsigned __int128 r = (unsigned __int128)(math_uabs(a) / g) * math_uabs(b);
  if (r > (unsigned __int128)INT64_MAX) raise_int_overflow(loc);
  return int64_t(r);
}

MX_INLINE int64_t math_isqrt(int64_t n, const Loc* loc) {
  if (n < 0) raise(ErrKind::ValueError, "isqrt() argument must be nonnegative", loc);
  uint64_t r = uint64_t(std::sqrt(double(n)));
  while (r * r > uint64_t(n)) --r;
  while ((r + 1) * (r + 1) <= uint64_t(n)) ++r;
  return int64_t(r);
}

MX_INLINE int64_t math_factorial(int64_t n, const Loc* loc) {
  if (n < 0) raise(ErrKind::ValueError, "factorial() not defined for negative values", loc);
  int64_t r = 1;
  for (int64_t k = 2; k <= n; ++k) r = mul(r, k, loc);
  return r;
}

MX_INLINE void math_check_nonneg(int64_t v, const char* what, const Loc* loc) {
  if (v < 0) raise(ErrKind::ValueError, std::string(what) + " must be a non-negative integer", loc);
}

MX_INLINE int64_t math_perm(int64_t n, int64_t k, const Loc* loc) {
  math_check_nonneg(n, "n", loc);
  math_check_nonneg(k, "k", loc);
  if (k > n) return 0;
  int64_t r = 1;
  for (int64_t i = 0; i < k; ++i) r = mul(r, n - i, loc);
  return r;
}
MX_INLINE int64_t math_perm(int64_t n, None, const Loc* loc) { return math_perm(n, n, loc); }

MX_INLINE int64_t math_comb(int64_t n, int64_t k, const Loc* loc) {
  math_check_nonneg(n, "n", loc);
  math_check_nonneg(k, "k", loc);
  if (k > n) return 0;
  if (k > n - k) k = n - k;
  // r = C(n, i) stays exact: C(n, i+1) = C(n, i) * (n - i) / (i + 1); the
  // product is formed in 128 bits so only a result past int64 overflows.
  __int128 r = 1;
  for (int64_t i = 0; i < k; ++i) {
    r = r * (n - i) / (i + 1);
    if (r > INT64_MAX) raise_int_overflow(loc);
  }
  return int64_t(r);
}

// prod(iterable, start=1): ints multiply with overflow checks; floats as Python.
MX_INLINE int64_t math_prod_step(int64_t a, int64_t b, const Loc* loc) { return mul(a, b, loc); }
MX_INLINE double math_prod_step(double a, double b, const Loc*) { return a * b; }
template <class R, class T>
inline R math_prod_of(const List<T>& xs, R start, const Loc* loc) {
  R r = start;
  for (int64_t i = 0; i < xs.size(); ++i) r = math_prod_step(r, R(xs[i]), loc);
  return r;
}
template <class T>
inline auto math_prod(const List<T>& xs, None, const Loc* loc) {
  if constexpr (std::is_same_v<T, double>) return math_prod_of<double>(xs, 1.0, loc);
  else return math_prod_of<int64_t>(xs, 1, loc);
}
template <class T, class S>
inline auto math_prod(const List<T>& xs, S start, const Loc* loc) {
  if constexpr (std::is_same_v<T, double> || std::is_same_v<S, double>) return math_prod_of<double>(xs, double(start), loc);
  else return math_prod_of<int64_t>(xs, int64_t(start), loc);
}

// fsum: CPython's math_fsum (Shewchuk's exact partials, then correct rounding
// of the last step), including its special cases for infinities and NaN.
template <class T>
inline double math_fsum(const List<T>& xs, const Loc* loc) {
  std::vector<double> p;
  double special_sum = 0.0, inf_sum = 0.0;
  for (int64_t k = 0; k < xs.size(); ++k) {
    double x = double(xs[k]);
    double xsave = x;
    size_t i = 0;
    for (size_t j = 0; j < p.size(); ++j) {
      double y = p[j];
      if (std::fabs(x) < std::fabs(y)) std::swap(x, y);
      double hi = x + y;
      double lo = y - (hi - x);
      if (lo != 0.0) p[i++] = lo;
      x = hi;
    }
    p.resize(i);
    if (x != 0.0) {
      if (!std::isfinite(x)) {
        if (std::isfinite(xsave)) raise(ErrKind::OverflowError, "intermediate overflow in fsum", loc);
        if (std::isinf(xsave)) inf_sum += xsave;
        special_sum += xsave;
        p.clear();
      } else {
        p.push_back(x);
      }
    }
  }
  if (special_sum != 0.0) {
    if (std::isnan(inf_sum)) raise(ErrKind::ValueError, "-inf + inf in fsum", loc);
    return special_sum;
  }
  double hi = 0.0;
  size_t n = p.size();
  if (n > 0) {
    hi = p[--n];
    double lo = 0;
    while (n > 0) {
      double x = hi;
      double y = p[--n];
      hi = x + y;
      double yr = hi - x;
      lo = y - yr;
      if (lo != 0.0) break;
    }
    if (n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0))) {
      double y = lo * 2.0;
      double x = hi + y;
      double yr = x - hi;
      if (y == yr) hi = x;
    }
  }
  return hi;
}

}  // namespace mx::pymod
