// Caught exceptions as values (`except ValueError as e:`): str(e), repr(e).
#pragma once
#include "linkage.h"
#include "ops.h"

namespace mx {

MX_INLINE Str to_str(const Error& e) {
  StrBuilder b;
  b.put_utf8(e.message());
  return b.build();
}
MX_INLINE void repr_into(StrBuilder& b, const Error& e) {
  b.put_ascii(errkind_name(e.kind()));
  b.put('(');
  if (!e.message().empty()) repr_into(b, to_str(e));
  b.put(')');
}
MX_INLINE bool truth(const Error&) { return true; }

}  // namespace mx
