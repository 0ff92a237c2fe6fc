// The `math` module for compiled code: each function raises what CPython's does
// (ValueError "math domain error", OverflowError "math range error").
#pragma once
#include <cmath>
#include <numeric>

#include "../runtime.h"

namespace mx::pymod {

inline double math_domain(double r, const Loc* loc) {
  if (std::isnan(r)) raise(ErrKind::ValueError, "math domain error", loc);
  return r;
}

inline double math_sqrt(double x, const Loc* loc) {
  if (x < 0) raise(ErrKind::ValueError, "math domain error", loc);
  return std::sqrt(x);
}

inline double math_log(double x, None, const Loc* loc) {
  if (x <= 0) raise(ErrKind::ValueError, "math domain error", loc);
  return std::log(x);
}

inline double math_log(double x, double base, const Loc* loc) {
  if (x <= 0 || base <= 0 || base == 1.0) raise(ErrKind::ValueError, "math domain error", loc);
  return std::log(x) / std::log(base);
}

#define MX_MATH_UNARY(name, expr)                       \
  inline double math_##name(double x, const Loc* loc) { \
    (void)loc;                                          \
    return expr;                                        \
  }
MX_MATH_UNARY(fabs, std::fabs(x))
MX_MATH_UNARY(sin, std::sin(x))
MX_MATH_UNARY(cos, std::cos(x))
MX_MATH_UNARY(tan, std::tan(x))
MX_MATH_UNARY(atan, std::atan(x))
MX_MATH_UNARY(tanh, std::tanh(x))
MX_MATH_UNARY(degrees, x * (180.0 / M_PI))
MX_MATH_UNARY(radians, x * (M_PI / 180.0))
#undef MX_MATH_UNARY

inline int64_t math_floor(int64_t x, const Loc*) { return x; }
inline int64_t math_floor(bool x, const Loc*) { return x; }
inline int64_t math_floor(double x, const Loc* loc) { return to_int(std::floor(x), loc); }
inline int64_t math_ceil(int64_t x, const Loc*) { return x; }
inline int64_t math_ceil(bool x, const Loc*) { return x; }
inline int64_t math_ceil(double x, const Loc* loc) { return to_int(std::ceil(x), loc); }

}  // namespace mx::pymod
