// Python builtins and the methods of str, bytes, list, dict and set, as free
// functions named <type>_<method> (str_split is str.split). Every function that
// can raise takes the caller's Loc last.
#pragma once
#include "linkage.h"
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "ops.h"

namespace mx {

// A slice bound or step: given, or omitted (None), e.g. xs[::2].
struct Omit {};
struct SliceArg {
  bool given;
  int64_t v;
  SliceArg(int64_t x) : given(true), v(x) {}
  SliceArg(Omit) : given(false), v(0) {}
};

// ---- errors shared by loops ----------------------------------------------------

[[noreturn]] __attribute__((noinline, cold)) inline void raise_changed_size(const Loc* loc) {
  raise(ErrKind::RuntimeError, "dictionary changed size during iteration", loc);
}
MX_INLINE void check_unpack(size_t have, size_t want, const Loc* loc) {
  if (have != want) {
    if (have > want)
      raise(ErrKind::ValueError, "too many values to unpack (expected " + std::to_string(want) + ")", loc);
    raise(ErrKind::ValueError, "not enough values to unpack (expected " + std::to_string(want) + ", got " +
                                   std::to_string(have) + ")", loc);
  }
}

// A read of a local that may not be assigned yet (Python's UnboundLocalError,
// a NameError subclass).
template <class T>
inline const T& bound_read(const T& v, bool bound, const char* name, const Loc* loc) {
  if (__builtin_expect(!bound, 0))
    raise(ErrKind::UnboundLocalError, std::string("cannot access local variable '") + name +
                                          "' where it is not associated with a value", loc);
  return v;
}

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

// ---- range -----------------------------------------------------------------------

// Number of items of range(lo, hi, step). Up to 2**64 - 1 of them fit in a
// uint64; a length over 2**63 - 1 raises OverflowError like CPython's len().
MX_INLINE int64_t range_len(int64_t lo, int64_t hi, int64_t step, const Loc* loc) {
  if (step == 0) raise(ErrKind::ValueError, "range() arg 3 must not be zero", loc);
  uint64_t n;
  if (step > 0) {
    if (lo >= hi) return 0;
    n = (uint64_t(hi) - uint64_t(lo) - 1) / uint64_t(step) + 1;
  } else {
    if (lo <= hi) return 0;
    n = (uint64_t(lo) - uint64_t(hi) - 1) / (0 - uint64_t(step)) + 1;
  }
  if (__builtin_expect(n > uint64_t(INT64_MAX), 0))
    raise(ErrKind::OverflowError, "Python int too large to convert to C ssize_t", loc);
  return int64_t(n);
}
MX_INLINE int64_t range_len_of(int64_t hi, const Loc* loc) { return range_len(0, hi, 1, loc); }
MX_INLINE int64_t range_len_of(int64_t lo, int64_t hi, const Loc* loc) { return range_len(lo, hi, 1, loc); }
MX_INLINE int64_t range_len_of(int64_t lo, int64_t hi, int64_t st, const Loc* loc) { return range_len(lo, hi, st, loc); }
MX_INLINE bool range_contains(int64_t x, int64_t hi) { return x >= 0 && x < hi; }
MX_INLINE bool range_contains(int64_t x, int64_t lo, int64_t hi) { return x >= lo && x < hi; }
MX_INLINE bool range_contains(int64_t x, int64_t lo, int64_t hi, int64_t st) {
  if (st == 0) return false;
  if (st > 0 ? (x < lo || x >= hi) : (x > lo || x <= hi)) return false;
  return mod(sub(x, lo, nullptr), st, nullptr) == 0;
}
MX_INLINE List<int64_t> range_list3(int64_t lo, int64_t hi, int64_t st, const Loc* loc) {
  int64_t n = range_len(lo, hi, st, loc);
  if (n > (int64_t(1) << 36)) raise(ErrKind::MemoryError, "range too large for a list", loc);
  List<int64_t> out;
  out.reserve(n);
  for (int64_t k = 0; k < n; ++k) out.push_back(lo + k * st);
  return out;
}
MX_INLINE List<int64_t> range_list(int64_t hi, const Loc* loc) { return range_list3(0, hi, 1, loc); }
MX_INLINE List<int64_t> range_list(int64_t lo, int64_t hi, const Loc* loc) { return range_list3(lo, hi, 1, loc); }
MX_INLINE List<int64_t> range_list(int64_t lo, int64_t hi, int64_t st, const Loc* loc) { return range_list3(lo, hi, st, loc); }

// ---- generic iteration helpers -----------------------------------------------------

// Calls f on each item of a container, in Python's iteration order.
template <class T, class F> inline void for_each(const List<T>& v, F&& f) {
  for (int64_t i = 0; i < v.size(); ++i) f(v[i]);
}
template <class T, class F> inline void for_each(const Set<T>& s, F&& f) {
  auto& es = s.table().entries();
  for (size_t i = 0; i < es.size(); ++i) if (es[i].live) f(es[i].key);
}
template <class K, class V, class F> inline void for_each(const Dict<K, V>& d, F&& f) {
  auto& es = d.table().entries();
  for (size_t i = 0; i < es.size(); ++i) if (es[i].live) f(es[i].key);
}
template <class F> inline void for_each(const Str& s, F&& f) {
  for (size_t i = 0; i < s.size(); ++i) f(str_char(s[i]));
}
template <class F> inline void for_each(const Bytes& s, F&& f) {
  for (size_t i = 0; i < s.size(); ++i) f(int64_t(static_cast<unsigned char>(s[i])));
}
template <class... T, class F> inline void for_each(const Tuple<T...>& t, F&& f) {
  std::apply([&](const auto&... x) { (f(x), ...); }, static_cast<const std::tuple<T...>&>(t));
}

template <class T, class C> inline List<T> list_from(const C& c) {
  List<T> out;
  for_each(c, [&](const auto& x) { out.push_back(T(x)); });
  return out;
}
template <class T, class C> inline Set<T> set_from(const C& c) {
  Set<T> out;
  for_each(c, [&](const auto& x) { out.add(T(x)); });
  return out;
}
template <class T, class A> inline void sort_items(std::vector<T, A>& v) {
  std::stable_sort(v.begin(), v.end(), [](const T& a, const T& b) { return lt(a, b); });
}
template <class A> inline void sort_items(std::vector<double, A>& v) {
  // NaN never compares less, like Python's sort (which leaves NaN runs in place).
  std::stable_sort(v.begin(), v.end(), [](double a, double b) { return a < b; });
}
template <class T, class C> inline List<T> sorted_from(const C& c) {
  List<T> out = list_from<T>(c);
  sort_items(out.vec());
  return out;
}
template <class K, class V> inline Dict<K, V> dict_copy(const Dict<K, V>& d) {
  Dict<K, V> out;
  for (auto& e : d.table().entries()) if (e.live) out.set(e.key, e.value);
  return out;
}
template <class R, class C> inline R sum_of(const C& c, const Loc* loc) {
  R total = R(0);
  for_each(c, [&](const auto& x) { total = add(total, R(x), loc); });
  return total;
}
template <class C> inline auto min_of(const C& c, const Loc* loc) {
  using T = typename C::value_type;
  if (c.size() == 0) raise(ErrKind::ValueError, "min() arg is an empty sequence", loc);
  T best = c[0];
  for (int64_t i = 1; i < c.size(); ++i) if (lt(c[i], best)) best = c[i];
  return best;
}
template <class C> inline auto max_of(const C& c, const Loc* loc) {
  using T = typename C::value_type;
  if (c.size() == 0) raise(ErrKind::ValueError, "max() arg is an empty sequence", loc);
  T best = c[0];
  for (int64_t i = 1; i < c.size(); ++i) if (lt(best, c[i])) best = c[i];
  return best;
}
template <class T> inline T min_of(const Set<T>& s, const Loc* loc) { return min_of(list_from<T>(s), loc); }
template <class T> inline T max_of(const Set<T>& s, const Loc* loc) { return max_of(list_from<T>(s), loc); }
template <class K, class V> inline K min_of(const Dict<K, V>& s, const Loc* loc) { return min_of(list_from<K>(s), loc); }
template <class K, class V> inline K max_of(const Dict<K, V>& s, const Loc* loc) { return max_of(list_from<K>(s), loc); }
inline Str min_of(const Str& s, const Loc* loc) { return min_of(list_from<Str>(s), loc); }
MX_INLINE Str max_of(const Str& s, const Loc* loc) { return max_of(list_from<Str>(s), loc); }

// ---- tuples ----------------------------------------------------------------------

template <class T, class... U> inline std::vector<T> tuple_items(const Tuple<U...>& t) {
  std::vector<T> v;
  v.reserve(sizeof...(U));
  std::apply([&](const auto&... x) { (v.push_back(T(x)), ...); }, static_cast<const std::tuple<U...>&>(t));
  return v;
}
template <class T, class... U> inline T tuple_getitem(const Tuple<U...>& t, int64_t i, const Loc* loc) {
  auto v = tuple_items<T>(t);
  return v[size_t(norm_index(i, int64_t(v.size()), "tuple", loc))];
}
template <class X, class... U> inline bool tuple_contains(const Tuple<U...>& t, const X& x) {
  return tuple_count(t, x, nullptr) > 0;
}
template <class... A, class... B> inline Tuple<A..., B...> tuple_cat(const Tuple<A...>& a, const Tuple<B...>& b) {
  return Tuple<A..., B...>(std::tuple_cat(static_cast<const std::tuple<A...>&>(a), static_cast<const std::tuple<B...>&>(b)));
}
template <class... T> inline Tuple<T...> make_tuple(T... x) { return Tuple<T...>(x...); }

// ---- slicing -----------------------------------------------------------------------

// Python's PySlice_GetIndicesEx: fills start and step, returns the length.
MX_INLINE int64_t slice_indices(int64_t n, SliceArg lo, SliceArg hi, SliceArg st, int64_t* start,
                             int64_t* step_out, const Loc* loc) {
  int64_t step = st.given ? st.v : 1;
  if (step == 0) raise(ErrKind::ValueError, "slice step cannot be zero", loc);
  if (step < -INT64_MAX) step = -INT64_MAX;  // so -step cannot overflow
  int64_t s, e;
  if (!lo.given) s = step < 0 ? n - 1 : 0;
  else {
    s = lo.v;
    if (s < 0) { s = s < -n ? -1 : s + n; if (s < 0) s = step < 0 ? -1 : 0; }
    else if (s >= n) s = step < 0 ? n - 1 : n;
  }
  if (!hi.given) e = step < 0 ? -1 : n;
  else {
    e = hi.v;
    if (e < 0) { e = e < -n ? -1 : e + n; if (e < 0) e = step < 0 ? -1 : 0; }
    else if (e >= n) e = step < 0 ? n - 1 : n;
  }
  *start = s;
  *step_out = step;
  if (step < 0) return e < s ? (s - e - 1) / (-step) + 1 : 0;
  return s < e ? (e - s - 1) / step + 1 : 0;
}
template <class T>
inline List<T> getslice(const List<T>& v, SliceArg lo, SliceArg hi, SliceArg st, const Loc* loc) {
  int64_t start, step;
  int64_t n = slice_indices(v.size(), lo, hi, st, &start, &step, loc);
  List<T> out;
  out.reserve(n);
  for (int64_t k = 0; k < n; ++k) out.push_back(v[start + k * step]);
  out.object()->from_tuple = v.object()->from_tuple;  // a slice of a tuple is a tuple
  return out;
}
template <class T>
inline VTuple<T> getslice(const VTuple<T>& v, SliceArg lo, SliceArg hi, SliceArg st, const Loc* loc) {
  return VTuple<T>::adopt(getslice(static_cast<const List<T>&>(v), lo, hi, st, loc));
}
// tuple(iterable): a new tuple of the items (never the list itself).
template <class T, class C> inline VTuple<T> vtuple_from(const C& c) {
  VTuple<T> out;
  for_each(c, [&](const auto& x) { out.push_back(T(x)); });
  return out;
}
template <class B>
inline B getslice_buf(const B& s, SliceArg lo, SliceArg hi, SliceArg st, const Loc* loc) {
  int64_t start, step;
  int64_t n = slice_indices(int64_t(s.size()), lo, hi, st, &start, &step, loc);
  if (n == int64_t(s.size()) && step == 1) return s;
  B out = B::uninit(size_t(n));
  auto* d = out.mutable_data();
  for (int64_t k = 0; k < n; ++k) d[k] = s[size_t(start + k * step)];
  out.finish();
  return out;
}
MX_INLINE Str getslice(const Str& s, SliceArg lo, SliceArg hi, SliceArg st, const Loc* loc) {
  if (!s.narrow()) return getslice_buf(s, lo, hi, st, loc);
  int64_t start, step;
  int64_t n = slice_indices(int64_t(s.size()), lo, hi, st, &start, &step, loc);
  if (n == int64_t(s.size()) && step == 1) return s;
  if (step == 1) return Str::latin1(s.data8() + start, size_t(n));
  Str out = Str::uninit8(size_t(n));
  uint8_t* d = out.mutable_data8();
  const uint8_t* p = s.data8();
  for (int64_t k = 0; k < n; ++k) d[k] = p[start + k * step];
  return out;
}
MX_INLINE Bytes getslice(const Bytes& s, SliceArg lo, SliceArg hi, SliceArg st, const Loc* loc) { return getslice_buf(s, lo, hi, st, loc); }

}  // namespace mx

#include "builtins/list_dict_set.h"
#include "builtins/functions.h"

#include "str_methods.h"
