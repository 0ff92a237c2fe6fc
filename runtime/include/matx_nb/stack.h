// Stack depth checks for recursive compiled functions: deep recursion raises
// RecursionError instead of overflowing the C stack.
#pragma once
#include "linkage.h"
#include <pthread.h>

#include "error.h"

namespace mx {
namespace detail {
// Lowest address this thread's compiled code may reach (null: not known).
MX_INLINE char*& stack_limit() {
  static thread_local char* limit = nullptr;
  return limit;
}
}  // namespace detail

// Called by entry points of libraries with checked recursion: learns this
// thread's stack bounds once, keeping a margin for runtime calls.
MX_INLINE void enter_stack() {
  char*& limit = detail::stack_limit();
  if (limit) return;
  pthread_attr_t a;
  if (pthread_getattr_np(pthread_self(), &a) != 0) return;
  void* lo = nullptr;
  size_t size = 0;
  // A margin of 512 KiB, or a quarter of a small stack (a thread started with
  // threading.stack_size(256 << 10)).
  if (pthread_attr_getstack(&a, &lo, &size) == 0 && size >= (64u << 10))
    limit = static_cast<char*>(lo) + (size > (2u << 20) ? size_t(512) << 10 : size / 4);
  pthread_attr_destroy(&a);
}

MX_INLINE void check_stack(const Loc* loc) {
  char* limit = detail::stack_limit();
  if (__builtin_expect(limit != nullptr && static_cast<char*>(__builtin_frame_address(0)) < limit, 0))
    raise(ErrKind::RecursionError, "maximum recursion depth exceeded", loc);
}

}  // namespace mx
