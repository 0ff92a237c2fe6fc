// dict's methods (mx::dict_get...) and operators (|, |=, fromkeys), called by
// generated code as declared in compiler/primitives.py. Part of builtins.h, which includes the builtins/ headers in order.
#pragma once
#include "../linkage.h"
#include "../ops.h"

namespace mx {

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

}  // namespace mx
