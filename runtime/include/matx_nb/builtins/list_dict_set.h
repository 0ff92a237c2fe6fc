// Methods of list, dict and set (mx::list_append, dict_get, set_union...), called by
// generated code as declared in compiler/primitives.py. Part of builtins.h.
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

}  // namespace mx
