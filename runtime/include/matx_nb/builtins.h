// Python builtins and the methods of str, bytes, list, dict and set, as free
// functions named <type>_<method> (str_split is str.split). Every function that
// can raise takes the caller's Loc last.
#pragma once
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
inline void check_unpack(size_t have, size_t want, const Loc* loc) {
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
inline int num_cmp(int64_t a, double b) {
  if (std::isnan(b)) return 2;  // unordered
  if (b >= 9223372036854775808.0) return -1;
  if (b < -9223372036854775808.0) return 1;
  double fl = std::floor(b);
  int64_t bi = int64_t(fl);
  if (a < bi) return -1;
  if (a > bi) return 1;
  return fl == b ? 0 : -1;
}
inline int num_cmp(double a, int64_t b) {
  int r = num_cmp(b, a);
  return r == 2 ? 2 : -r;
}
inline int num_cmp(double a, double b) { return a < b ? -1 : (a > b ? 1 : (a == b ? 0 : 2)); }
inline int num_cmp(bool a, double b) { return num_cmp(int64_t(a), b); }
inline int num_cmp(double a, bool b) { return num_cmp(a, int64_t(b)); }
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

inline int64_t to_int(int64_t v, const Loc*) { return v; }
inline int64_t to_int(bool v, const Loc*) { return v; }
inline int64_t to_int(double v, const Loc* loc) {
  if (std::isnan(v)) raise(ErrKind::ValueError, "cannot convert float NaN to integer", loc);
  if (std::isinf(v)) raise(ErrKind::OverflowError, "cannot convert float infinity to integer", loc);
  double t = std::trunc(v);
  if (t >= 9223372036854775808.0 || t < -9223372036854775808.0)
    raise(ErrKind::OverflowError, "int too large to convert to a 64-bit int", loc);
  return int64_t(t);
}
inline int64_t to_int_base(const Str& s, int64_t base, const Loc* loc) {
  if (base != 0 && (base < 2 || base > 36)) raise(ErrKind::ValueError, "int() base must be >= 2 and <= 36, or 0", loc);
  U32Of u(s);
  auto r = numconv::parse_int(u.data(), u.size(), int(base), &unicode::decimal_value);
  if (r.overflow) raise(ErrKind::OverflowError, "int too large to convert to a 64-bit int", loc);
  if (!r.ok)
    raise(ErrKind::ValueError, "invalid literal for int() with base " + std::to_string(base) + ": " +
                                   utf8_encode(repr(s)), loc);
  return r.value;
}
inline int64_t to_int(const Str& s, const Loc* loc) { return to_int_base(s, 10, loc); }
inline int64_t to_int(const Bytes& s, const Loc* loc) {
  auto r = numconv::parse_int_bytes(s.data(), s.size(), 10);
  if (r.overflow) raise(ErrKind::OverflowError, "int too large to convert to a 64-bit int", loc);
  if (!r.ok) raise(ErrKind::ValueError, "invalid literal for int() with base 10: " + utf8_encode(repr(s)), loc);
  return r.value;
}
inline double to_float(double v, const Loc*) { return v; }
inline double to_float(int64_t v, const Loc*) { return double(v); }
inline double to_float(bool v, const Loc*) { return v ? 1.0 : 0.0; }
inline double to_float(const Str& s, const Loc* loc) {
  U32Of u(s);
  auto r = numconv::parse_float(u.data(), u.size(), &unicode::decimal_value);
  if (!r.ok) raise(ErrKind::ValueError, "could not convert string to float: " + utf8_encode(repr(s)), loc);
  return r.value;
}
inline int64_t ord(const Str& s, const Loc* loc) {
  if (s.size() != 1)
    raise(ErrKind::TypeError, "ord() expected a character, but string of length " + std::to_string(s.size()) + " found", loc);
  return int64_t(s[0]);
}
inline Str chr(int64_t c, const Loc* loc) {
  if (c < 0 || c > 0x10FFFF) raise(ErrKind::ValueError, "chr() arg not in range(0x110000)", loc);
  return str_char(char32_t(c));
}

// ---- range -----------------------------------------------------------------------

// Number of items of range(lo, hi, step). Up to 2**64 - 1 of them fit in a
// uint64; a length over 2**63 - 1 raises OverflowError like CPython's len().
inline int64_t range_len(int64_t lo, int64_t hi, int64_t step, const Loc* loc) {
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
inline int64_t range_len_of(int64_t hi, const Loc* loc) { return range_len(0, hi, 1, loc); }
inline int64_t range_len_of(int64_t lo, int64_t hi, const Loc* loc) { return range_len(lo, hi, 1, loc); }
inline int64_t range_len_of(int64_t lo, int64_t hi, int64_t st, const Loc* loc) { return range_len(lo, hi, st, loc); }
inline bool range_contains(int64_t x, int64_t hi) { return x >= 0 && x < hi; }
inline bool range_contains(int64_t x, int64_t lo, int64_t hi) { return x >= lo && x < hi; }
inline bool range_contains(int64_t x, int64_t lo, int64_t hi, int64_t st) {
  if (st == 0) return false;
  if (st > 0 ? (x < lo || x >= hi) : (x > lo || x <= hi)) return false;
  return mod(sub(x, lo, nullptr), st, nullptr) == 0;
}
inline List<int64_t> range_list3(int64_t lo, int64_t hi, int64_t st, const Loc* loc) {
  int64_t n = range_len(lo, hi, st, loc);
  if (n > (int64_t(1) << 36)) raise(ErrKind::MemoryError, "range too large for a list", loc);
  List<int64_t> out;
  out.reserve(n);
  for (int64_t k = 0; k < n; ++k) out.push_back(lo + k * st);
  return out;
}
inline List<int64_t> range_list(int64_t hi, const Loc* loc) { return range_list3(0, hi, 1, loc); }
inline List<int64_t> range_list(int64_t lo, int64_t hi, const Loc* loc) { return range_list3(lo, hi, 1, loc); }
inline List<int64_t> range_list(int64_t lo, int64_t hi, int64_t st, const Loc* loc) { return range_list3(lo, hi, st, loc); }

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
inline Str max_of(const Str& s, const Loc* loc) { return max_of(list_from<Str>(s), loc); }

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
inline int64_t slice_indices(int64_t n, SliceArg lo, SliceArg hi, SliceArg st, int64_t* start,
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
inline Str getslice(const Str& s, SliceArg lo, SliceArg hi, SliceArg st, const Loc* loc) {
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
inline Bytes getslice(const Bytes& s, SliceArg lo, SliceArg hi, SliceArg st, const Loc* loc) { return getslice_buf(s, lo, hi, st, loc); }

// ---- list methods --------------------------------------------------------------------

template <class T>
inline const T& zip_star_item(const List<T>& row, int64_t k) { return row[k]; }
template <class... T>
inline auto zip_star_item(const Tuple<T...>& row, int64_t k) {
  using F = std::tuple_element_t<0, std::tuple<T...>>;
  F out{};
  int64_t i = 0;
  std::apply([&](const auto&... x) { ((i++ == k ? (void)(out = x) : (void)0), ...); },
             static_cast<const std::tuple<T...>&>(row));
  return out;
}
// zip(*rows): column k of rows (lists, Tuple[T, ...] or tuples of one item
// type) as a tuple, for k below the shortest row's length.
template <class T, class R>
inline List<VTuple<T>> zip_star(const List<R>& rows) {
  List<VTuple<T>> out;
  int64_t n = rows.size();
  if (n == 0) return out;
  int64_t cols = INT64_MAX;
  for (int64_t i = 0; i < n; ++i) cols = std::min(cols, int64_t(len(rows[i])));
  out.reserve(cols);
  for (int64_t k = 0; k < cols; ++k) {
    typename List<T>::storage items;
    items.reserve(size_t(n));
    for (int64_t i = 0; i < n; ++i) items.push_back(T(zip_star_item(rows[i], k)));
    out.push_back(VTuple<T>(std::move(items)));
  }
  return out;
}
// A list converted from a host tuple (ListObj::from_tuple: a tuple passed for a
// List parameter) raises what changing the tuple raises in CPython: AttributeError
// for the list methods, TypeError for item assignment and deletion.
[[noreturn]] __attribute__((noinline, cold)) inline void raise_tuple_method(const char* name, const Loc* loc) {
  raise(ErrKind::AttributeError, std::string("'tuple' object has no attribute '") + name + "'", loc);
}
template <class T> inline void check_not_tuple(const List<T>& v, const char* method, const Loc* loc) {
  if (__builtin_expect(v.object()->from_tuple, 0)) raise_tuple_method(method, loc);
}
template <class T> inline void check_not_tuple_item(const List<T>& v, bool del, const Loc* loc) {
  if (__builtin_expect(v.object()->from_tuple, 0))
    raise(ErrKind::TypeError, del ? "'tuple' object doesn't support item deletion"
                                  : "'tuple' object does not support item assignment", loc);
}

template <class T> inline None list_append(const List<T>& v, T x, const Loc* loc) {
  check_not_tuple(v, "append", loc);
  v.push_back(std::move(x));
  return None{};
}
template <class T> inline T list_pop(const List<T>& v, const Loc* loc) {
  check_not_tuple(v, "pop", loc);
  if (v.size() == 0) raise(ErrKind::IndexError, "pop from empty list", loc);
  T x = std::move(v[v.size() - 1]);
  v.vec().pop_back();
  return x;
}
template <class T> inline T list_pop(const List<T>& v, int64_t i, const Loc* loc) {
  check_not_tuple(v, "pop", loc);
  if (v.size() == 0) raise(ErrKind::IndexError, "pop from empty list", loc);
  int64_t n = v.size();
  if (i < 0) i += n;
  if (i < 0 || i >= n) raise(ErrKind::IndexError, "pop index out of range", loc);
  T x = std::move(v[i]);
  v.vec().erase(v.vec().begin() + i);
  return x;
}
template <class T, class C> inline None list_extend(const List<T>& v, const C& c, const Loc* loc = nullptr) {
  check_not_tuple(v, "extend", loc);
  return list_extend_unchecked(v, c);
}
template <class C> struct IsVTuple : std::false_type {};
template <class T> struct IsVTuple<VTuple<T>> : std::true_type {};
// xs += ys for a list xs: a tuple xs takes only a tuple (a new tuple in CPython:
// here the items are appended, as nobody else can see the difference).
template <class T, class C> inline None list_iadd(const List<T>& v, const C& c, const Loc* loc) {
  if (__builtin_expect(v.object()->from_tuple, 0) && !IsVTuple<C>::value)
    raise(ErrKind::TypeError, "can only concatenate tuple (not \"list\") to tuple", loc);
  return list_extend_unchecked(v, c);
}
template <class T, class C> inline None list_extend_unchecked(const List<T>& v, const C& c) {
  if constexpr (std::is_same_v<C, List<T>>) {
    if (v.object() == c.object()) {  // xs.extend(xs)
      auto copy = c.vec();
      v.vec().insert(v.vec().end(), copy.begin(), copy.end());
      return None{};
    }
  }
  for_each(c, [&](const auto& x) { v.push_back(T(x)); });
  return None{};
}
template <class T> inline None list_insert(const List<T>& v, int64_t i, T x, const Loc* loc) {
  check_not_tuple(v, "insert", loc);
  int64_t n = v.size();
  if (i < 0) { i += n; if (i < 0) i = 0; }
  if (i > n) i = n;
  v.vec().insert(v.vec().begin() + i, std::move(x));
  return None{};
}
template <class T> inline None list_remove(const List<T>& v, const T& x, const Loc* loc) {
  check_not_tuple(v, "remove", loc);
  for (int64_t i = 0; i < v.size(); ++i)
    if (eq(v[i], x)) { v.vec().erase(v.vec().begin() + i); return None{}; }
  raise(ErrKind::ValueError, "list.remove(x): x not in list", loc);
}
template <class T> inline int64_t list_index(const List<T>& v, const T& x, const Loc* loc) {
  for (int64_t i = 0; i < v.size(); ++i) if (eq(v[i], x)) return i;
  raise(ErrKind::ValueError, utf8_encode(repr(x)) + " is not in list", loc);
}
template <class T> inline int64_t list_index(const List<T>& v, const T& x, int64_t lo, const Loc* loc) {
  return list_index(v, x, lo, v.size(), loc);
}
template <class T> inline int64_t list_index(const List<T>& v, const T& x, int64_t lo, int64_t hi, const Loc* loc) {
  int64_t n = v.size();
  if (lo < 0) { lo += n; if (lo < 0) lo = 0; }
  if (hi < 0) { hi += n; if (hi < 0) hi = 0; }
  for (int64_t i = lo; i < std::min(hi, n); ++i) if (eq(v[i], x)) return i;
  raise(ErrKind::ValueError, utf8_encode(repr(x)) + " is not in list", loc);
}
template <class T> inline int64_t list_count(const List<T>& v, const T& x, const Loc*) {
  int64_t c = 0;
  for (int64_t i = 0; i < v.size(); ++i) c += eq(v[i], x);
  return c;
}
template <class T> inline None list_clear(const List<T>& v, const Loc* loc) {
  check_not_tuple(v, "clear", loc);
  v.vec().clear();
  return None{};
}
// MATXScript's reserve(n): room for n items; negative n is CPython-style ValueError.
inline void check_reserve(int64_t n, const Loc* loc) {
  if (n < 0) raise(ErrKind::ValueError, "reserve() argument must not be negative", loc);
}
template <class T> inline None list_reserve(const List<T>& v, int64_t n, const Loc* loc) {
  check_reserve(n, loc);
  if (n <= (int64_t(1) << 32)) v.vec().reserve(size_t(n));
  return None{};
}
template <class K, class V> inline None dict_reserve(const Dict<K, V>&, int64_t n, const Loc* loc) {
  check_reserve(n, loc);
  return None{};
}
template <class T> inline None set_reserve(const Set<T>&, int64_t n, const Loc* loc) {
  check_reserve(n, loc);
  return None{};
}
template <class T> inline List<T> list_copy(const List<T>& v, const Loc*) { return List<T>(v.vec()); }
template <class T> inline None list_reverse(const List<T>& v, const Loc* loc) {
  check_not_tuple(v, "reverse", loc);
  std::reverse(v.vec().begin(), v.vec().end());
  return None{};
}
template <class T> inline None list_sort(const List<T>& v, const Loc* loc) {
  check_not_tuple(v, "sort", loc);
  sort_items(v.vec());
  return None{};
}

// ---- dict methods ----------------------------------------------------------------------

template <class K, class V> inline V dict_get(const Dict<K, V>& d, const K& k, const V& dflt, const Loc*) {
  V* v = d.lookup(k);
  return v ? *v : dflt;
}
template <class K, class V> inline List<K> dict_keys(const Dict<K, V>& d, const Loc*) {
  List<K> out;
  out.reserve(d.size());
  for (auto& e : d.table().entries()) if (e.live) out.push_back(e.key);
  return out;
}
template <class K, class V> inline List<V> dict_values(const Dict<K, V>& d, const Loc*) {
  List<V> out;
  out.reserve(d.size());
  for (auto& e : d.table().entries()) if (e.live) out.push_back(e.value);
  return out;
}
template <class K, class V> inline List<Tuple<K, V>> dict_items(const Dict<K, V>& d, const Loc*) {
  List<Tuple<K, V>> out;
  out.reserve(d.size());
  for (auto& e : d.table().entries()) if (e.live) out.push_back(Tuple<K, V>(e.key, e.value));
  return out;
}
template <class K, class V> inline V dict_pop(const Dict<K, V>& d, const K& k, const Loc* loc) {
  V* v = d.lookup(k);
  if (!v) raise_key<K, V>(k, loc);
  V out = *v;
  d.table().erase(k);
  return out;
}
template <class K, class V> inline V dict_pop(const Dict<K, V>& d, const K& k, const V& dflt, const Loc*) {
  V* v = d.lookup(k);
  if (!v) return dflt;
  V out = *v;
  d.table().erase(k);
  return out;
}
template <class K, class V> inline V dict_setdefault(const Dict<K, V>& d, const K& k, const V& dflt, const Loc*) {
  V* v = d.lookup(k);
  if (v) return *v;
  d.set(k, dflt);
  return dflt;
}
template <class K, class V> inline None dict_update(const Dict<K, V>& d, const Dict<K, V>& o, const Loc*) {
  std::vector<std::pair<K, V>> items;
  for (auto& e : o.table().entries()) if (e.live) items.emplace_back(e.key, e.value);
  for (auto& kv : items) d.set(kv.first, kv.second);
  return None{};
}
template <class K, class V> inline None dict_clear(const Dict<K, V>& d, const Loc*) { d.table().clear(); return None{}; }
template <class K, class V> inline Dict<K, V> dict_copy(const Dict<K, V>& d, const Loc*) { return dict_copy(d); }
template <class K, class V> inline Tuple<K, V> dict_popitem(const Dict<K, V>& d, const Loc* loc) {
  auto& es = d.table().entries();
  for (size_t i = es.size(); i-- > 0;) {
    if (es[i].live) {
      Tuple<K, V> out(es[i].key, es[i].value);
      d.table().erase(es[i].key);
      return out;
    }
  }
  raise(ErrKind::KeyError, "'popitem(): dictionary is empty'", loc);
}

// ---- set methods -------------------------------------------------------------------------

template <class T> inline None set_add(const Set<T>& s, const T& x, const Loc* loc) { set_check_mutable(s, "add", loc); s.add(x); return None{}; }
template <class T> inline None set_remove(const Set<T>& s, const T& x, const Loc* loc) {
  if (set_check_mutable(s, "remove", loc), !s.table().erase(x)) raise(ErrKind::KeyError, utf8_encode(repr(x)), loc);
  return None{};
}
template <class T> inline None set_discard(const Set<T>& s, const T& x, const Loc* loc) { set_check_mutable(s, "discard", loc); s.table().erase(x); return None{}; }
template <class T> inline T set_pop(const Set<T>& s, const Loc* loc) {
  set_check_mutable(s, "pop", loc);
  for (auto& e : s.table().entries()) {
    if (e.live) {
      T x = e.key;
      s.table().erase(x);
      return x;
    }
  }
  raise(ErrKind::KeyError, "'pop from an empty set'", loc);
}
template <class T> inline None set_clear(const Set<T>& s, const Loc* loc) { set_check_mutable(s, "clear", loc); s.table().clear(); return None{}; }
template <class T> inline Set<T> set_copy(const Set<T>& s, const Loc* = nullptr) { return set_from<T>(s); }
template <class T> inline Set<T> set_union_(const Set<T>& a, const Set<T>& b) {
  Set<T> out = set_copy(a);
  for_each(b, [&](const T& x) { out.add(x); });
  return out;
}
template <class T> inline Set<T> set_intersection(const Set<T>& a, const Set<T>& b) {
  Set<T> out;
  for_each(a, [&](const T& x) { if (b.contains(x)) out.add(x); });
  return out;
}
template <class T> inline Set<T> set_difference(const Set<T>& a, const Set<T>& b) {
  Set<T> out;
  for_each(a, [&](const T& x) { if (!b.contains(x)) out.add(x); });
  return out;
}
template <class T> inline Set<T> set_symmetric_difference(const Set<T>& a, const Set<T>& b) {
  Set<T> out;
  for_each(a, [&](const T& x) { if (!b.contains(x)) out.add(x); });
  for_each(b, [&](const T& x) { if (!a.contains(x)) out.add(x); });
  return out;
}
template <class T> inline Set<T> set_union(const Set<T>& a, const Set<T>& b, const Loc*) { return set_union_(a, b); }
template <class T> inline Set<T> set_intersection(const Set<T>& a, const Set<T>& b, const Loc*) { return set_intersection(a, b); }
template <class T> inline Set<T> set_difference(const Set<T>& a, const Set<T>& b, const Loc*) { return set_difference(a, b); }
template <class T> inline Set<T> set_symmetric_difference(const Set<T>& a, const Set<T>& b, const Loc*) { return set_symmetric_difference(a, b); }
// b's items first: a and b may be the same set.
template <class T> inline std::vector<T> set_items(const Set<T>& b) {
  std::vector<T> items;
  for_each(b, [&](const T& x) { items.push_back(x); });
  return items;
}
template <class T> inline None set_update(const Set<T>& a, const Set<T>& b, const Loc* loc) {
  set_check_mutable(a, "update", loc);
  for (auto& x : set_items(b)) a.add(x);
  return None{};
}
template <class T> inline bool set_issubset(const Set<T>& a, const Set<T>& b, const Loc*) { return le(a, b); }
template <class T> inline bool set_issuperset(const Set<T>& a, const Set<T>& b, const Loc*) { return le(b, a); }
template <class T> inline bool set_isdisjoint(const Set<T>& a, const Set<T>& b, const Loc*) {
  bool dis = true;
  for_each(a, [&](const T& x) { if (b.contains(x)) dis = false; });
  return dis;
}

// ---- text files: open(path).read() / .readlines() / for line in open(path) ---------

// A text file opened for reading: read whole at open() (UTF-8), like reading a
// vocabulary at construction; lines keep their '\n' as in Python.
class TextFileObj final : public Object {
 public:
  const char* type_name() const override { return "TextIOWrapper"; }
  Str text;
  bool consumed = false;
};
using TextFile = Ref<TextFileObj>;

inline TextFile file_open(const Str& path, const Loc* loc) {
  std::string p = utf8_encode(path);
  FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) {
    int err = errno;
    raise(err == ENOENT ? ErrKind::FileNotFoundError : ErrKind::OSError,
          "[Errno " + std::to_string(err) + "] " + std::strerror(err) + ": '" + p + "'", loc);
  }
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  std::fclose(f);
  auto file = TextFile::make();
  std::string norm;  // universal newlines: \r\n and \r read as \n
  norm.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\r') {
      norm.push_back('\n');
      if (i + 1 < data.size() && data[i + 1] == '\n') ++i;
    } else {
      norm.push_back(data[i]);
    }
  }
  file->text = str_from_utf8(norm);
  return file;
}
inline TextFile file_open(const Str& path, const Str& mode, const Loc* loc) {
  if (!(mode == str_from_ascii("r") || mode == str_from_ascii("rt")))
    raise(ErrKind::ValueError, "compiled code opens files for reading text only (mode 'r')", loc);
  return file_open(path, loc);
}
inline Str file_read(const TextFile& f, const Loc*) {
  if (f->consumed) return Str();
  f->consumed = true;
  return f->text;
}
inline List<Str> file_readlines(const TextFile& f, const Loc* loc) {
  List<Str> out;
  if (f->consumed) return out;
  f->consumed = true;
  const Str& t = f->text;
  size_t start = 0;
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i] == '\n') {
      out.push_back(Str(t.data() + start, i + 1 - start));
      start = i + 1;
    }
  if (start < t.size()) out.push_back(Str(t.data() + start, t.size() - start));
  (void)loc;
  return out;
}
inline None file_close(const TextFile&, const Loc*) { return None{}; }

// ---- print with sep= and end= ------------------------------------------------------------

template <class... A>
inline None print_with(const Str& sep, bool has_sep, const Str& end, bool has_end, const A&... a) {
  StrBuilder b;
  Str s = has_sep ? sep : str_char(' ');
  size_t i = 0;
  ((b.put(i++ ? s : Str()), b.put(to_str(a))), ...);
  b.put(has_end ? end : str_char('\n'));
  std::string out = utf8_encode(b.raw().data(), b.raw().size());
  detail::g_write_stdout(out.data(), out.size());
  return None{};
}

// ---- builtins added for Python parity ---------------------------------------------------

[[noreturn]] __attribute__((noinline, cold)) inline void raise_type_error(const char* msg, const Loc* loc) {
  raise(ErrKind::TypeError, msg, loc);
}
[[noreturn]] __attribute__((noinline, cold)) inline void raise_empty_arg(const char* name, const Loc* loc) {
  raise(ErrKind::ValueError, std::string(name) + "() arg is an empty sequence", loc);
}

// round(): half to even, exactly as CPython (float results via numconv::py_round).
inline int64_t round_(int64_t x, const Loc*) { return x; }
inline int64_t round_(double x, const Loc* loc) {
  auto r = numconv::py_round_int(x);
  if (!r.ok) raise(ErrKind::ValueError, "cannot convert float NaN to integer", loc);
  if (r.overflow)
    raise(ErrKind::OverflowError, std::isinf(x) ? "cannot convert float infinity to integer"
                                                : "int too large to convert to a 64-bit int", loc);
  return r.value;
}
inline double round_(double x, int64_t ndigits, const Loc* loc) {
  try {
    return numconv::py_round(x, ndigits);
  } catch (const std::overflow_error& e) {
    raise(ErrKind::OverflowError, e.what(), loc);
  }
}
inline int64_t round_(int64_t x, int64_t ndigits, const Loc* loc) {
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
inline int64_t py_hash(int64_t v) {
  uint64_t a = v < 0 ? 0 - uint64_t(v) : uint64_t(v);
  int64_t x = int64_t(a % kPyHashModulus);
  if (v < 0) x = -x;
  return x == -1 ? -2 : x;
}
inline int64_t py_hash(bool v) { return v ? 1 : 0; }
inline int64_t py_hash(double v) {
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

inline Tuple<int64_t, int64_t> divmod(int64_t a, int64_t b, const Loc* loc) {
  return Tuple<int64_t, int64_t>(floordiv(a, b, loc), mod(a, b, loc));
}
inline Tuple<double, double> divmod(double a, double b, const Loc* loc) {
  if (b == 0.0) raise_zero_div("float divmod()", loc);
  double q, r;
  float_divmod(a, b, &q, &r);
  return Tuple<double, double>(q, r);
}

// pow(b, e, m): the result has m's sign; a negative e uses b's inverse mod m.
inline int64_t pow_mod(int64_t b, int64_t e, int64_t m, const Loc* loc) {
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

inline Str int_hex(int64_t v) { return str_from_ascii(numconv::format_int(v, 16).c_str()); }
inline Str int_oct(int64_t v) { return str_from_ascii(numconv::format_int(v, 8).c_str()); }
inline Str int_bin(int64_t v) { return str_from_ascii(numconv::format_int(v, 2).c_str()); }

inline Bytes bytes_zeros(int64_t n, const Loc* loc) {
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

// ---- dict and set operators ---------------------------------------------------------------

template <class K, class V> inline Dict<K, V> dict_merge(const Dict<K, V>& a, const Dict<K, V>& b) {
  Dict<K, V> out = dict_copy(a);
  dict_update(out, b, nullptr);
  return out;
}
template <class K, class V> inline None dict_ior(const Dict<K, V>& a, const Dict<K, V>& b, const Loc* loc) {
  return dict_update(a, b, loc);
}
template <class K, class V, class P> inline Dict<K, V> dict_from_pairs(const List<P>& pairs) {
  Dict<K, V> out;
  for (int64_t i = 0; i < pairs.size(); ++i) out.set(K(std::get<0>(pairs[i])), V(std::get<1>(pairs[i])));
  return out;
}
template <class K, class V, class C> inline Dict<K, V> dict_fromkeys(const C& keys, const V& v) {
  Dict<K, V> out;
  for_each(keys, [&](const auto& k) { out.set(K(k), v); });
  return out;
}
// In place on a frozenset too: CPython makes a new one with the same items.
template <class T> inline None set_ior(const Set<T>& a, const Set<T>& b, const Loc*) { for (auto& x : set_items(b)) a.add(x); return None{}; }
template <class T> inline None set_iand(const Set<T>& a, const Set<T>& b, const Loc*) {
  std::vector<T> gone;
  for_each(a, [&](const T& x) { if (!b.contains(x)) gone.push_back(x); });
  for (auto& x : gone) a.table().erase(x);
  return None{};
}
template <class T> inline None set_isub(const Set<T>& a, const Set<T>& b, const Loc*) {
  if (a.object() == b.object()) { a.table().clear(); return None{}; }
  std::vector<T> items;
  for_each(b, [&](const T& x) { items.push_back(x); });
  for (auto& x : items) a.table().erase(x);
  return None{};
}
template <class T> inline None set_ixor(const Set<T>& a, const Set<T>& b, const Loc*) {
  if (a.object() == b.object()) { a.table().clear(); return None{}; }
  std::vector<T> items;
  for_each(b, [&](const T& x) { items.push_back(x); });
  for (auto& x : items) {
    if (a.contains(x)) a.table().erase(x);
    else a.add(x);
  }
  return None{};
}

// ---- tuple methods -------------------------------------------------------------------------

// Whether tuple item v equals x (items of other types are simply unequal).
template <class T> inline auto as_number(T v) {
  if constexpr (std::is_same_v<T, bool>) return int64_t(v);
  else return v;
}
template <class V, class X> inline bool tuple_item_eq(const V& v, const X& x) {
  if constexpr (std::is_same_v<V, X>) return eq(v, x);
  else if constexpr (std::is_integral_v<V> && std::is_integral_v<X>) return int64_t(v) == int64_t(x);
  else if constexpr (std::is_arithmetic_v<V> && std::is_arithmetic_v<X>) return num_eq(as_number(v), as_number(x));
  else return false;
}
template <class X, class... U> inline int64_t tuple_count(const Tuple<U...>& t, const X& x, const Loc*) {
  int64_t n = 0;
  std::apply([&](const auto&... y) { ((n += tuple_item_eq(y, x)), ...); }, static_cast<const std::tuple<U...>&>(t));
  return n;
}
template <class X, class... U>
inline int64_t tuple_index(const Tuple<U...>& t, const X& x, int64_t lo, int64_t hi, const Loc* loc) {
  int64_t n = int64_t(sizeof...(U)), i = 0, found = -1;
  if (lo < 0) { lo += n; if (lo < 0) lo = 0; }
  if (hi < 0) { hi += n; if (hi < 0) hi = 0; }
  std::apply([&](const auto&... y) {
    ((found < 0 && i >= lo && i < hi && tuple_item_eq(y, x) ? (found = i, ++i) : ++i), ...);
  }, static_cast<const std::tuple<U...>&>(t));
  if (found < 0) raise(ErrKind::ValueError, "tuple.index(x): x not in tuple", loc);
  return found;
}
template <class X, class T> inline int64_t tuple_count(const VTuple<T>& t, const X& x, const Loc*) {
  int64_t n = 0;
  for (int64_t i = 0; i < t.size(); ++i) n += tuple_item_eq(t[i], x);
  return n;
}
template <class X, class T>
inline int64_t tuple_index(const VTuple<T>& t, const X& x, int64_t lo, int64_t hi, const Loc* loc) {
  int64_t n = t.size();
  if (lo < 0) { lo += n; if (lo < 0) lo = 0; }
  if (hi < 0) { hi += n; if (hi < 0) hi = 0; }
  for (int64_t i = lo; i < hi && i < n; ++i)
    if (tuple_item_eq(t[i], x)) return i;
  raise(ErrKind::ValueError, "tuple.index(x): x not in tuple", loc);
}
template <class X, class T> inline int64_t tuple_index(const VTuple<T>& t, const X& x, const Loc* loc) {
  return tuple_index(t, x, 0, INT64_MAX, loc);
}
template <class X, class T> inline int64_t tuple_index(const VTuple<T>& t, const X& x, int64_t lo, const Loc* loc) {
  return tuple_index(t, x, lo, INT64_MAX, loc);
}
template <class X, class... U> inline int64_t tuple_index(const Tuple<U...>& t, const X& x, const Loc* loc) {
  return tuple_index(t, x, 0, INT64_MAX, loc);
}
template <class X, class... U> inline int64_t tuple_index(const Tuple<U...>& t, const X& x, int64_t lo, const Loc* loc) {
  return tuple_index(t, x, lo, INT64_MAX, loc);
}

}  // namespace mx

#include "str_methods.h"
