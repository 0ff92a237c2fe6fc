// Python builtins and the methods of the builtin types, as free functions named
// <type>_<method> (str_split is str.split), one header per type or builtin under
// builtins/, included below in an order where each finds what it calls (the
// str and bytes ones through str_methods.h). Every function that can raise takes
// the caller's Loc last. runtime.h includes this; generated code includes
// runtime.h (precompiled).
#pragma once
#include "linkage.h"
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "ops.h"

namespace mx {

// ---- errors shared by loops ----------------------------------------------------

[[noreturn]] __attribute__((noinline, cold)) inline void raise_changed_size(const Loc* loc) {
  raise(ErrKind::RuntimeError, "dictionary changed size during iteration", loc);
}
MX_INLINE void check_unpack(size_t have, size_t want, const Loc* loc) {
  if (have != want) {
    if (have > want)
      raise(ErrKind::ValueError, "too many values to unpack (expected " + std::to_string(want) + ")", loc);
    raise(ErrKind::ValueError, "not enough values to unpack (expected " + std::to_string(want) + ", got " +
                                   std::to_string(have) + ")", loc);
  }
}

// A read of a local that may not be assigned yet (Python's UnboundLocalError,
// a NameError subclass).
template <class T>
inline const T& bound_read(const T& v, bool bound, const char* name, const Loc* loc) {
  if (__builtin_expect(!bound, 0))
    raise(ErrKind::UnboundLocalError, std::string("cannot access local variable '") + name +
                                          "' where it is not associated with a value", loc);
  return v;
}

}  // namespace mx

#include "builtins/numbers.h"
#include "builtins/range.h"
#include "builtins/iteration.h"
#include "builtins/tuple.h"
#include "builtins/slice.h"
#include "builtins/list.h"
#include "builtins/dict.h"
#include "builtins/set.h"
#include "builtins/file.h"
#include "builtins/print.h"
#include "builtins/functions.h"

#include "str_methods.h"
