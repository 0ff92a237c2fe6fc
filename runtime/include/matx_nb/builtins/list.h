// list's methods (mx::list_append...), called by generated code as declared in
// compiler/primitives.py. Part of builtins.h, which includes the builtins/ headers in order.
#pragma once
#include "../linkage.h"
#include "../ops.h"

namespace mx {

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
MX_INLINE void check_reserve(int64_t n, const Loc* loc) {
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

}  // namespace mx
