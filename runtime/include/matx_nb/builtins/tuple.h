// Tuples: items, indexing, concatenation, membership, tuple.count and tuple.index.
// Part of builtins.h, which includes the builtins/ headers in order.
#pragma once
#include "../linkage.h"
#include "../ops.h"

namespace mx {

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
