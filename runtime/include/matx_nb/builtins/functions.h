// The builtin functions added for Python parity (enumerate, zip, sorted, round,
// hash, divmod...). Part of builtins.h, which includes the builtins/ headers in order.
#pragma once
#include "../linkage.h"
#include "../ops.h"

namespace mx {

// ---- builtins added for Python parity ---------------------------------------------------

[[noreturn]] __attribute__((noinline, cold)) inline void raise_type_error(const char* msg, const Loc* loc) {
  raise(ErrKind::TypeError, msg, loc);
}
[[noreturn]] __attribute__((noinline, cold)) inline void raise_empty_arg(const char* name, const Loc* loc) {
  raise(ErrKind::ValueError, std::string(name) + "() arg is an empty sequence", loc);
}

// round(): half to even, exactly as CPython (float results via numconv::py_round).
MX_INLINE int64_t round_(int64_t x, const Loc*) { return x; }
MX_INLINE int64_t round_(double x, const Loc* loc) {
  auto r = numconv::py_round_int(x);
  if (!r.ok) raise(ErrKind::ValueError, "cannot convert float NaN to integer", loc);
  if (r.overflow)
    raise(ErrKind::OverflowError, std::isinf(x) ? "cannot convert float infinity to integer"
                                                : "int too large to convert to a 64-bit int", loc);
  return r.value;
}
MX_INLINE double round_(double x, int64_t ndigits, const Loc* loc) {
  try {
    return numconv::py_round(x, ndigits);
  } catch (const std::overflow_error& e) {
    raise(ErrKind::OverflowError, e.what(), loc);
  }
}
MX_INLINE int64_t round_(int64_t x, int64_t ndigits, const Loc* loc) {
  if (ndigits >= 0) return x;
  if (ndigits < -19) return 0;
  if (ndigits == -19) {  // 10**19 does not fit: only |x| > 5 * 10**18 rounds away from 0
    if (x > 5000000000000000000LL || x < -5000000000000000000LL) raise_int_overflow(loc);
    return 0;
  }
  int64_t p = 1;
  for (int64_t k = 0; k < -ndigits; ++k) p *= 10;
  int64_t q = floordiv(x, p, loc), r = x - q * p;  // 0 <= r < p
  if (2 * r > p || (2 * r == p && (q & 1))) ++q;
  return mul(q, p, loc);
}

// hash(): CPython's values for int, bool, float and tuples of them (str and
// bytes hashes are salted per process, so the checker refuses them).
constexpr uint64_t kPyHashModulus = (uint64_t(1) << 61) - 1;
MX_INLINE int64_t py_hash(int64_t v) {
  uint64_t a = v < 0 ? 0 - uint64_t(v) : uint64_t(v);
  int64_t x = int64_t(a % kPyHashModulus);
  if (v < 0) x = -x;
  return x == -1 ? -2 : x;
}
MX_INLINE int64_t py_hash(bool v) { return v ? 1 : 0; }
MX_INLINE int64_t py_hash(double v) {
  if (std::isinf(v)) return v > 0 ? 314159 : -314159;
  if (std::isnan(v)) return 0;  // CPython hashes NaN by identity
  int e;
  double m = std::frexp(v, &e);
  int sign = 1;
  if (m < 0) { sign = -1; m = -m; }
  uint64_t x = 0;
  while (m) {
    x = ((x << 28) & kPyHashModulus) | x >> (61 - 28);
    m *= 268435456.0;
    e -= 28;
    uint64_t y = uint64_t(m);
    m -= double(y);
    x += y;
    if (x >= kPyHashModulus) x -= kPyHashModulus;
  }
  e = e >= 0 ? e % 61 : 61 - 1 - ((-1 - e) % 61);
  x = ((x << e) & kPyHashModulus) | x >> (61 - e);
  x = x * uint64_t(int64_t(sign));
  if (x == uint64_t(-1)) x = uint64_t(-2);
  return int64_t(x);
}
template <class... T>
inline int64_t py_hash(const Tuple<T...>& t) {  // CPython 3.8+ tuplehash (xxHash based)
  const uint64_t p1 = 11400714785074694791ULL, p2 = 14029467366897019727ULL, p5 = 2870177450012600261ULL;
  uint64_t acc = p5;
  std::apply([&](const auto&... x) {
    ((acc += uint64_t(py_hash(x)) * p2, acc = (acc << 31) | (acc >> 33), acc *= p1), ...);
  }, static_cast<const std::tuple<T...>&>(t));
  acc += uint64_t(sizeof...(T)) ^ (p5 ^ 3527539ULL);
  if (acc == uint64_t(-1)) return 1546275796;
  return int64_t(acc);
}

template <class T>
inline int64_t py_hash(const VTuple<T>& t) {  // the same tuplehash, over a run-time length
  const uint64_t p1 = 11400714785074694791ULL, p2 = 14029467366897019727ULL, p5 = 2870177450012600261ULL;
  uint64_t acc = p5;
  for (int64_t i = 0; i < t.size(); ++i) {
    acc += uint64_t(py_hash(t[i])) * p2;
    acc = (acc << 31) | (acc >> 33);
    acc *= p1;
  }
  acc += uint64_t(t.size()) ^ (p5 ^ 3527539ULL);
  if (acc == uint64_t(-1)) return 1546275796;
  return int64_t(acc);
}

MX_INLINE Tuple<int64_t, int64_t> divmod(int64_t a, int64_t b, const Loc* loc) {
  return Tuple<int64_t, int64_t>(floordiv(a, b, loc), mod(a, b, loc));
}
MX_INLINE Tuple<double, double> divmod(double a, double b, const Loc* loc) {
  if (b == 0.0) raise_zero_div("float divmod()", loc);
  double q, r;
  float_divmod(a, b, &q, &r);
  return Tuple<double, double>(q, r);
}

// pow(b, e, m): the result has m's sign; a negative e uses b's inverse mod m.
MX_INLINE int64_t pow_mod(int64_t b, int64_t e, int64_t m, const Loc* loc) {
  if (m == 0) raise(ErrKind::ValueError, "pow() 3rd argument cannot be 0", loc);
  __int128 M = m < 0 ? -(__int128)m : (__int128)m;
  __int128 base = (__int128)b % M;
  if (base < 0) base += M;
  uint64_t ue = e < 0 ? 0 - uint64_t(e) : uint64_t(e);
  if (e < 0) {  // extended Euclid
    __int128 r0 = base, r1 = M, s0 = 1, s1 = 0;
    while (r1 != 0) {
      __int128 q = r0 / r1, t = r0 - q * r1;
      r0 = r1; r1 = t;
      t = s0 - q * s1; s0 = s1; s1 = t;
    }
    if (r0 != 1) raise(ErrKind::ValueError, "base is not invertible for the given modulus", loc);
    base = s0 % M;
    if (base < 0) base += M;
  }
  __int128 r = 1 % M;
  while (ue) {
    if (ue & 1) r = r * base % M;
    base = base * base % M;
    ue >>= 1;
  }
  if (m < 0 && r != 0) r -= M;
  return int64_t(r);
}

MX_INLINE Str int_hex(int64_t v) { return str_from_ascii(numconv::format_int(v, 16).c_str()); }
MX_INLINE Str int_oct(int64_t v) { return str_from_ascii(numconv::format_int(v, 8).c_str()); }
MX_INLINE Str int_bin(int64_t v) { return str_from_ascii(numconv::format_int(v, 2).c_str()); }

MX_INLINE Bytes bytes_zeros(int64_t n, const Loc* loc) {
  if (n < 0) raise(ErrKind::ValueError, "negative count", loc);
  return bytes_from(std::string(size_t(n), '\0'));
}
template <class T> inline Bytes bytes_from_ints(const List<T>& v, const Loc* loc) {
  std::string out;
  for (int64_t i = 0; i < v.size(); ++i) {
    int64_t c = int64_t(v[i]);
    if (c < 0 || c > 255) raise(ErrKind::ValueError, "bytes must be in range(0, 256)", loc);
    out.push_back(char(c));
  }
  return bytes_from(out);
}

// sorted(xs, reverse=True) / xs.sort(reverse=True): stable, equal items keep their order.
template <class T, class A> inline void sort_items_reverse(std::vector<T, A>& v) {
  std::stable_sort(v.begin(), v.end(), [](const T& a, const T& b) { return lt(b, a); });
}
template <class A> inline void sort_items_reverse(std::vector<double, A>& v) {
  std::stable_sort(v.begin(), v.end(), [](double a, double b) { return b < a; });
}
template <class T, class C> inline List<T> sorted_from(const C& c, bool reverse) {
  List<T> out = list_from<T>(c);
  if (reverse) sort_items_reverse(out.vec());
  else sort_items(out.vec());
  return out;
}
// sort/sorted with key=: each key computed once; stable, and reverse keeps equal
// keys in their original order, as CPython's sort does.
template <class T, class A, class F> inline void sort_by_key(std::vector<T, A>& v, F&& key, bool reverse) {
  using K = std::decay_t<decltype(key(v[0]))>;
  std::vector<K> keys;
  keys.reserve(v.size());
  for (auto& x : v) keys.push_back(key(x));
  std::vector<size_t> order(v.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (reverse)
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lt(keys[b], keys[a]); });
  else
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lt(keys[a], keys[b]); });
  std::vector<T, A> out;
  out.reserve(v.size());
  for (size_t i : order) out.push_back(std::move(v[i]));
  v.swap(out);
}
template <class T, class C, class F> inline List<T> sorted_by_key(const C& c, F&& key, bool reverse) {
  List<T> out = list_from<T>(c);
  sort_by_key(out.vec(), key, reverse);
  return out;
}
template <class T, class F> inline None list_sort_by_key(const List<T>& v, F&& key, bool reverse, const Loc* loc) {
  check_not_tuple(v, "sort", loc);
  sort_by_key(v.vec(), key, reverse);
  return None{};
}
template <class T> inline None list_sort(const List<T>& v, bool reverse, const Loc* loc) {
  check_not_tuple(v, "sort", loc);
  if (reverse) sort_items_reverse(v.vec());
  else sort_items(v.vec());
  return None{};
}
template <class T> inline None list_imul(const List<T>& v, int64_t n, const Loc* loc) {
  if (n <= 0) { v.vec().clear(); return None{}; }
  auto items = v.vec();
  int64_t total;
  if (__builtin_mul_overflow(int64_t(items.size()), n, &total) || total > (int64_t(1) << 36))
    raise(ErrKind::MemoryError, "repeated list is too long", loc);
  for (int64_t k = 1; k < n; ++k) v.vec().insert(v.vec().end(), items.begin(), items.end());
  return None{};
}

}  // namespace mx
