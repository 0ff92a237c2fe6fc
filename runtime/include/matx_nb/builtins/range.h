// range(): its length with CPython's overflow rule, membership, range() as a list.
// Part of builtins.h, which includes the builtins/ headers in order.
#pragma once
#include "../linkage.h"
#include "../ops.h"

namespace mx {

// ---- range -----------------------------------------------------------------------

// Number of items of range(lo, hi, step). Up to 2**64 - 1 of them fit in a
// uint64; a length over 2**63 - 1 raises OverflowError like CPython's len().
MX_INLINE int64_t range_len(int64_t lo, int64_t hi, int64_t step, const Loc* loc) {
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
MX_INLINE int64_t range_len_of(int64_t hi, const Loc* loc) { return range_len(0, hi, 1, loc); }
MX_INLINE int64_t range_len_of(int64_t lo, int64_t hi, const Loc* loc) { return range_len(lo, hi, 1, loc); }
MX_INLINE int64_t range_len_of(int64_t lo, int64_t hi, int64_t st, const Loc* loc) { return range_len(lo, hi, st, loc); }
MX_INLINE bool range_contains(int64_t x, int64_t hi) { return x >= 0 && x < hi; }
MX_INLINE bool range_contains(int64_t x, int64_t lo, int64_t hi) { return x >= lo && x < hi; }
MX_INLINE bool range_contains(int64_t x, int64_t lo, int64_t hi, int64_t st) {
  if (st == 0) return false;
  if (st > 0 ? (x < lo || x >= hi) : (x > lo || x <= hi)) return false;
  return mod(sub(x, lo, nullptr), st, nullptr) == 0;
}
MX_INLINE List<int64_t> range_list3(int64_t lo, int64_t hi, int64_t st, const Loc* loc) {
  int64_t n = range_len(lo, hi, st, loc);
  if (n > (int64_t(1) << 36)) raise(ErrKind::MemoryError, "range too large for a list", loc);
  List<int64_t> out;
  out.reserve(n);
  for (int64_t k = 0; k < n; ++k) out.push_back(lo + k * st);
  return out;
}
MX_INLINE List<int64_t> range_list(int64_t hi, const Loc* loc) { return range_list3(0, hi, 1, loc); }
MX_INLINE List<int64_t> range_list(int64_t lo, int64_t hi, const Loc* loc) { return range_list3(lo, hi, 1, loc); }
MX_INLINE List<int64_t> range_list(int64_t lo, int64_t hi, int64_t st, const Loc* loc) { return range_list3(lo, hi, st, loc); }

}  // namespace mx
