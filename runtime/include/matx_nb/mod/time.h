// The `time` module for compiled code: clocks and sleep.
#pragma once
#include "../linkage.h"
#include <time.h>

#include <cmath>

#include "../runtime.h"

namespace mx::pymod {

MX_INLINE double time_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

MX_INLINE double time_time(const Loc*) { return time_clock(CLOCK_REALTIME); }
MX_INLINE double time_monotonic(const Loc*) { return time_clock(CLOCK_MONOTONIC); }
MX_INLINE double time_perf_counter(const Loc*) { return time_clock(CLOCK_MONOTONIC); }
MX_INLINE int64_t time_time_ns(const Loc*) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

MX_INLINE None time_sleep(double secs, const Loc* loc) {
  if (std::isnan(secs)) raise(ErrKind::ValueError, "Invalid value NaN (not a number)", loc);
  if (secs < 0) raise(ErrKind::ValueError, "sleep length must be non-negative", loc);
  if (secs > 9.2e9) raise(ErrKind::OverflowError, "timestamp too large to convert to C _PyTime_t", loc);
  struct timespec ts;
  ts.tv_sec = time_t(secs);
  ts.tv_nsec = long((secs - double(ts.tv_sec)) * 1e9);
  while (nanosleep(&ts, &ts) != 0) {
  }
  return None{};
}

}  // namespace mx::pymod
