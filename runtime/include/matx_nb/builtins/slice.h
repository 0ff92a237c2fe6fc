// Slicing: slice bounds (SliceArg), PySlice_GetIndicesEx, and slices of lists,
// str and bytes. Part of builtins.h, which includes the builtins/ headers in order.
#pragma once
#include "../linkage.h"
#include "../ops.h"

namespace mx {

// A slice bound or step: given, or omitted (None), e.g. xs[::2].
struct Omit {};
struct SliceArg {
  bool given;
  int64_t v;
  SliceArg(int64_t x) : given(true), v(x) {}
  SliceArg(Omit) : given(false), v(0) {}
};

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
