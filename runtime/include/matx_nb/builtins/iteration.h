// Iteration over any container (for_each) and what builds on it: list(), set(),
// sorted(), sum(), min(), max() of a container, dict copies. Part of builtins.h, which includes the builtins/ headers in order.
#pragma once
#include "../linkage.h"
#include "../ops.h"

namespace mx {

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

}  // namespace mx
