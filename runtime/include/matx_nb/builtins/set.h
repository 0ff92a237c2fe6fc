// set's methods (mx::set_union...) and in-place operators (|=, &=, -=, ^=), called
// by generated code as declared in compiler/primitives.py. Part of builtins.h, which includes the builtins/ headers in order.
#pragma once
#include "../linkage.h"
#include "../ops.h"

namespace mx {

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

}  // namespace mx
