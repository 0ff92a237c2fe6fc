// Large literals as data tables (emit/emitter.py: LITERAL_TABLE_MIN items or more).
//
// Written as one braced initializer, a 10,000-string list literal took g++ over
// two minutes: every item is a constructor call with its own cleanup. As a table
// the items are plain data (numbers, or the strings as one text with each item's
// end offset), turned into runtime values by a loop, so g++ time grows linearly
// and slowly with the literal's size.
#pragma once

#include <cstdint>
#include <vector>

#include "containers.h"
#include "str.h"

namespace mx {

// The items of a str (char32_t) or bytes (char) table, made into values once,
// when the library loads; a literal's every evaluation shares them, as CPython
// shares a code object's constants.
template <class V, class C>
struct TextTable {
  std::vector<V> items;
  TextTable(const C* text, const uint32_t* ends, size_t n) {
    items.reserve(n);
    size_t begin = 0;
    for (size_t i = 0; i < n; ++i) {
      items.emplace_back(text + begin, size_t(ends[i]) - begin);
      begin = ends[i];
    }
  }
  const V* data() const { return items.data(); }
};
using StrTable = TextTable<Str, char32_t>;
using BytesTable = TextTable<Bytes, char>;

// A new container holding the n items at p (a literal is a new object each time).
template <class T, class S>
List<T> table_list(const S* p, size_t n) {
  List<T> out;
  out.reserve(int64_t(n));
  for (size_t i = 0; i < n; ++i) out.push_back(T(p[i]));
  return out;
}

template <class T, class S>
Set<T> table_set(const S* p, size_t n) {
  Set<T> out;
  for (size_t i = 0; i < n; ++i) out.add(T(p[i]));
  return out;
}

// Keys and values side by side; a repeated key keeps its first place and takes
// the last value, as a dict display does.
template <class K, class V, class SK, class SV>
Dict<K, V> table_dict(const SK* keys, const SV* values, size_t n) {
  Dict<K, V> out;
  for (size_t i = 0; i < n; ++i) out.set(K(keys[i]), V(values[i]));
  return out;
}

}  // namespace mx
