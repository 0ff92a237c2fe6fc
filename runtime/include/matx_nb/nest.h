// Bounds on walks over nested values: the conversions at the boundary, and ==,
// repr, hashing and ordering of Any containers. A value nested too deep raises
// RecursionError and a container that contains itself raises ValueError (repr
// prints it as `[...]`, as CPython does), instead of overflowing the C stack.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "error.h"
#include "stack.h"

namespace mx {

// The deepest nesting a walk follows, as json.h's parser: deeper values raise
// RecursionError. (CPython's own recursive walks stop at its recursion limit,
// 1000 by default.) A thread with a small stack stops earlier, at stack.h's margin.
constexpr int kMaxNesting = 10000;

// The error of a walk that went too deep (RecursionError) or met a container
// inside itself (ValueError). arg_from_host names the argument it came from.
class NestError : public Error {
 public:
  NestError(ErrKind kind, std::string message) : Error(kind, std::move(message)) {}
  bool cycle() const { return kind() == ErrKind::ValueError; }
};

// One level of a walk, entered for each container: frames link through the C
// stack (no allocation), so a container can be looked up among those the walk
// is inside of.
class Nest {
 public:
  // `obj` identifies the container (a host handle or a runtime object), or is
  // null for walks that only count levels (==, <, hash: CPython raises
  // RecursionError for cycles there); `what` is for the message ("converted").
  Nest(const void* obj, const char* what)
      : top_(&top()), obj_(obj), up_(live(*top_, this)), depth_(up_ ? up_->depth_ + 1 : 1) {
    if (__builtin_expect(depth_ >= 16, 0)) check(what);
    *top_ = this;
  }
  ~Nest() { *top_ = up_; }  // top_: one TLS lookup per level, not two
  Nest(const Nest&) = delete;
  Nest& operator=(const Nest&) = delete;

  int depth() const { return depth_; }
  // Whether `obj` is a container the walk is already inside of (repr's `[...]`).
  static bool entered(const void* obj) {
    const char here = 0;  // frames of the walk sit above this one (see live())
    for (const Nest* n = live(top(), &here); n; n = n->up_)
      if (n->obj_ == obj) return true;
    return false;
  }

 private:
  static const Nest*& top() {
    static thread_local const Nest* t = nullptr;
    return t;
  }
  // The walk's frame `up` if it can still be live: an outer frame sits higher
  // on the stack. One below was left behind by the stack guard's longjmp
  // (native.cc) and is not followed. (Walks check the stack every 32 levels, so
  // a jump out of one takes an overflow between two checks.)
  static const Nest* live(const Nest* up, const void* self) {
    return reinterpret_cast<uintptr_t>(up) > reinterpret_cast<uintptr_t>(self) ? up : nullptr;
  }
  bool inside_itself() const {
    for (const Nest* n = up_; n; n = n->up_)
      if (n->obj_ == obj_) return true;
    return false;
  }
  // Deep walks only: a cycle is looked for at depths 16, 32, 64... (a cycle
  // of any length is found by twice its depth, for O(depth) work in all), and
  // the stack is checked every 32 levels.
  __attribute__((noinline)) void check(const char* what) const;

  const Nest** top_;
  const void* obj_;
  const Nest* up_;
  int depth_;
};

#if MX_RT_DEFINE
MX_RT void Nest::check(const char* what) const {
  bool pow2 = (depth_ & (depth_ - 1)) == 0;
  if (obj_ && (pow2 || depth_ > kMaxNesting) && inside_itself())
    throw NestError(ErrKind::ValueError, std::string("a container that contains itself cannot be ") + what +
                                             " (a reference cycle)");
  bool stack_low = false;
  if (depth_ % 32 == 0) {
    enter_stack();
    char* limit = detail::stack_limit();
    stack_low = limit && static_cast<char*>(__builtin_frame_address(0)) < limit;
  }
  if (depth_ > kMaxNesting || stack_low)
    throw NestError(ErrKind::RecursionError, "maximum recursion depth exceeded: a value nested deeper than " +
                                                 std::to_string(stack_low ? depth_ : kMaxNesting) +
                                                 " levels cannot be " + what);
}
#endif

}  // namespace mx
