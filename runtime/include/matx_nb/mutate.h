// del xs[i], del xs[a:b:c], del d[k] and slice assignment xs[a:b:c] = items,
// with CPython's results and errors (IndexError, KeyError, ValueError for an
// extended slice of the wrong size).
#pragma once
#include "builtins.h"

namespace mx {

template <class T>
inline None list_delitem(const List<T>& v, int64_t i, const Loc* loc) {
  check_not_tuple_item(v, true, loc);
  auto& items = v.vec();
  items.erase(items.begin() + norm_index(i, v.size(), "list assignment", loc));
  return None{};
}

template <class T>
inline None list_delslice(const List<T>& v, SliceArg lo, SliceArg hi, SliceArg st, const Loc* loc) {
  check_not_tuple_item(v, true, loc);
  int64_t start, step;
  int64_t n = slice_indices(v.size(), lo, hi, st, &start, &step, loc);
  if (n == 0) return None{};
  auto& items = v.vec();
  if (step == 1) {
    items.erase(items.begin() + start, items.begin() + start + n);
    return None{};
  }
  std::vector<bool> drop(items.size(), false);
  for (int64_t k = 0, i = start; k < n; ++k, i += step) drop[size_t(i)] = true;
  std::remove_reference_t<decltype(items)> kept;
  kept.reserve(items.size() - size_t(n));
  for (size_t i = 0; i < items.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(items[i]));
  items.swap(kept);
  return None{};
}

template <class K, class V>
inline None dict_delitem(const Dict<K, V>& d, const K& k, const Loc* loc) {
  if (!d.table().erase(k)) raise(ErrKind::KeyError, utf8_encode(repr(k)), loc);
  return None{};
}

template <class T>
inline None list_setslice(const List<T>& v, SliceArg lo, SliceArg hi, SliceArg st, const List<T>& src,
                          const Loc* loc) {
  check_not_tuple_item(v, false, loc);
  auto repl = src.vec();  // a copy: `xs[:] = xs` reads the old items
  int64_t start, step;
  int64_t n = slice_indices(v.size(), lo, hi, st, &start, &step, loc);
  auto& items = v.vec();
  if (step == 1) {
    if (n < 0) n = 0;
    items.erase(items.begin() + start, items.begin() + start + n);
    items.insert(items.begin() + start, repl.begin(), repl.end());
    return None{};
  }
  if (int64_t(repl.size()) != n)
    raise(ErrKind::ValueError, "attempt to assign sequence of size " + std::to_string(repl.size()) +
                                   " to extended slice of size " + std::to_string(n), loc);
  for (int64_t k = 0, i = start; k < n; ++k, i += step) items[size_t(i)] = repl[size_t(k)];
  return None{};
}

}  // namespace mx
