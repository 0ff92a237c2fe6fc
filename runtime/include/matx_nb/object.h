// Reference-counted heap objects: the base of str, bytes, containers and class instances.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "linkage.h"

namespace mx {

class Object;
MX_RT void free_nested(const Object* o) noexcept;

// Whether freeing a T may free further objects to any depth: Any's objects,
// containers of Any, class instances (a linked list of nodes). Those are freed
// through free_nested, which never recurses deeper than kFreeDepth. Specialized
// false for objects that hold no others, or only such (str, List[int]...).
template <class T, class = void>
struct FreesNested : std::true_type {};

// Runtime type tags; also used by Any for dynamic dispatch.
enum class TypeTag : int32_t {
  None = 0, Bool, Int, Float, Str, Bytes, List, Dict, Set, Tuple, Instance, Other
};

// Every heap value derives from Object. The count is atomic because compiled
// code runs without the GIL and one op instance may serve many threads.
class Object {
 public:
  Object() = default;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  virtual ~Object() = default;
  virtual TypeTag tag() const { return TypeTag::Other; }
  // Python's type name, for error messages and repr of Any values.
  virtual const char* type_name() const { return "object"; }

  void incref() const noexcept { rc_.fetch_add(1, std::memory_order_relaxed); }
  void decref() const noexcept {
    if (release_ref()) destroy();
  }
  // Deletes the object (out of line: the callers of decref stay small).
  __attribute__((noinline)) void destroy() const noexcept;
  // decref for an object whose freeing may go deep (see FreesNested).
  void decref_nested() const noexcept {
    if (release_ref()) free_nested(this);
  }
  // Drops one reference; true if it was the last (the caller then deletes). The
  // holder of the only reference frees without an atomic read-modify-write: nobody
  // else can reach the object to change the count meanwhile, and the acquire load
  // orders the deletion after other threads' earlier releases.
  bool release_ref() const noexcept {
    return rc_.load(std::memory_order_acquire) == 1 || rc_.fetch_sub(1, std::memory_order_acq_rel) == 1;
  }
  int32_t refcount() const noexcept { return rc_.load(std::memory_order_relaxed); }
  // Whether the caller's reference is the only one, so that it may edit the object
  // in place (acquire: other threads' last uses of it happen before the edit).
  bool sole() const noexcept { return rc_.load(std::memory_order_acquire) == 1; }

 private:
  mutable std::atomic<int32_t> rc_{1};  // a new object starts owned by its creator
};

// Owning pointer to an Object subclass. Null is a valid state (used for empty
// strings and for not-yet-assigned locals).
template <class T>
class Ref {
 public:
  Ref() noexcept = default;
  // Adopts a fresh object (refcount 1) without incrementing.
  static Ref adopt(T* p) noexcept { Ref r; r.p_ = p; return r; }
  static Ref borrow(T* p) noexcept { if (p) p->incref(); return adopt(p); }
  template <class... A>
  static Ref make(A&&... a) { return adopt(new T(std::forward<A>(a)...)); }

  Ref(const Ref& o) noexcept : p_(o.p_) { if (p_) p_->incref(); }
  Ref(Ref&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  template <class U, class = std::enable_if_t<std::is_convertible<U*, T*>::value>>
  Ref(const Ref<U>& o) noexcept : p_(o.get()) { if (p_) p_->incref(); }
  ~Ref() { if (p_) release(p_); }
  Ref& operator=(const Ref& o) noexcept {
    if (o.p_) o.p_->incref();
    if (p_) release(p_);
    p_ = o.p_;
    return *this;
  }
  Ref& operator=(Ref&& o) noexcept {
    if (this != &o) { if (p_) release(p_); p_ = o.p_; o.p_ = nullptr; }
    return *this;
  }
  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  // Gives up ownership without decrementing.
  T* release() noexcept { T* p = p_; p_ = nullptr; return p; }

 private:
  static void release(T* p) noexcept {
    if constexpr (FreesNested<T>::value) p->decref_nested();
    else p->decref();
  }
  T* p_ = nullptr;
};

// ---- freeing deep values without deep recursion ------------------------------
//
// Freeing a list that holds a list that holds a list... (300,000 levels, built
// by a loop) would recurse once per level and overflow the C stack. As CPython's
// trashcan does, past kFreeDepth nested frees the objects to free are queued,
// and the outermost free of the thread frees them one by one.
namespace detail {
constexpr int kFreeDepth = 256;
struct FreeState {
  int depth;
  std::vector<const Object*>* pending;
};
MX_INLINE FreeState& free_state() {
  static thread_local FreeState s;  // zero-initialized, no destructor: one TLS lookup
  return s;
}
}  // namespace detail

#if MX_RT_DEFINE
MX_RT void Object::destroy() const noexcept { delete this; }

MX_RT void free_nested(const Object* o) noexcept {
  TypeTag tag = o->tag();
  if (tag == TypeTag::Str || tag == TypeTag::Bytes) {  // the usual item of an Any: nothing deeper, no TLS
    delete o;
    return;
  }
  detail::FreeState& s = detail::free_state();
  if (__builtin_expect(s.depth >= detail::kFreeDepth, 0)) {
    try {
      if (!s.pending) s.pending = new std::vector<const Object*>();
      s.pending->push_back(o);
      return;
    } catch (...) {
      // No memory for the queue: free it here after all.
    }
  }
  ++s.depth;
  delete o;
  if (__builtin_expect(s.depth == 1 && s.pending != nullptr, 0)) {
    while (!s.pending->empty()) {  // frees at depth 1 again; deeper ones queue more
      const Object* p = s.pending->back();
      s.pending->pop_back();
      delete p;
    }
    delete s.pending;
    s.pending = nullptr;
  }
  --s.depth;
}
#endif

template <class T, class U>
inline bool same_object(const Ref<T>& a, const Ref<U>& b) {
  return static_cast<const void*>(a.get()) == static_cast<const void*>(b.get());
}

}  // namespace mx
