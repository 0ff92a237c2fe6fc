// Generators (`def f(): ... yield x`): the body runs lazily on its own stack
// (a ucontext coroutine), so values are produced one at a time, interleaved
// with the consumer exactly as in CPython. Exceptions raised by the body reach
// the consumer at the next(); a generator dropped before its end is unwound
// (its locals released) as CPython's close() does.
// Included by generated code only when it defines a generator.
#pragma once
#include <sys/mman.h>
#include <ucontext.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <utility>

#include "runtime.h"

namespace mx {

namespace detail {
struct GenExit {};  // thrown at a yield to unwind a generator that is closed early
constexpr size_t kGenStack = size_t(1) << 20;   // reserved, committed lazily by the kernel
constexpr size_t kGenMargin = size_t(128) << 10;  // RecursionError below this much headroom
}  // namespace detail

template <class T>
class GenObj final : public Object {
 public:
  explicit GenObj(std::function<void(GenObj&)> body) : body_(std::move(body)) {}
  ~GenObj() override {
    if (state_ == kSuspended) {  // close(): unwind the body's frames
      closing_ = true;
      resume();
    }
    if (stack_) munmap(stack_, detail::kGenStack);
  }
  TypeTag tag() const override { return TypeTag::Other; }
  const char* type_name() const override { return "generator"; }

  // The next value into out; false when the generator is exhausted.
  bool next(T& out) {
    if (state_ == kDone) return false;
    if (state_ == kRunning) raise(ErrKind::ValueError, "generator already executing", nullptr);
    resume();
    if (exc_) {
      std::exception_ptr e = exc_;
      exc_ = nullptr;
      std::rethrow_exception(e);
    }
    if (state_ == kDone) return false;
    out = std::move(value_);
    return true;
  }

  // Called by the body at `yield v`.
  void yield(T v) {
    value_ = std::move(v);
    state_ = kSuspended;
    swapcontext(&self_, &caller_);
    state_ = kRunning;
    if (closing_) throw detail::GenExit{};
  }

 private:
  enum State { kFresh, kRunning, kSuspended, kDone };

  void resume() {
    if (state_ == kFresh) start();
    char* saved_limit = detail::stack_limit();
    detail::stack_limit() = stack_ + detail::kGenMargin;
    state_ = kRunning;
    swapcontext(&caller_, &self_);
    detail::stack_limit() = saved_limit;
  }

  void start() {
    void* p = mmap(nullptr, detail::kGenStack, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) raise(ErrKind::MemoryError, "cannot allocate a generator stack", nullptr);
    stack_ = static_cast<char*>(p);
    getcontext(&self_);
    self_.uc_stack.ss_sp = stack_;
    self_.uc_stack.ss_size = detail::kGenStack;
    self_.uc_link = &caller_;  // the body's end returns to whoever resumed it last
    uintptr_t me = reinterpret_cast<uintptr_t>(this);
    makecontext(&self_, reinterpret_cast<void (*)()>(&GenObj::entry), 2, unsigned(me >> 32),
                unsigned(me & 0xffffffffu));
  }

  static void entry(unsigned hi, unsigned lo) {
    auto* g = reinterpret_cast<GenObj*>((uintptr_t(hi) << 32) | uintptr_t(lo));
    try {
      g->body_(*g);
    } catch (const detail::GenExit&) {
    } catch (...) {
      g->exc_ = std::current_exception();
    }
    g->body_ = nullptr;  // release what the body captured
    g->state_ = kDone;
  }

  std::function<void(GenObj&)> body_;
  T value_{};
  State state_ = kFresh;
  bool closing_ = false;
  std::exception_ptr exc_;
  char* stack_ = nullptr;
  ucontext_t caller_{}, self_{};
};

// A generator value (shared, like a Python reference to a generator object).
template <class T>
class Gen {
 public:
  Gen() = default;
  explicit Gen(Ref<GenObj<T>> r) : r_(std::move(r)) {}
  bool next(T& out) const { return r_ && r_->next(out); }
  GenObj<T>* get() const { return r_.get(); }

  // Input iteration, so generic runtime helpers (list(), sum(), ...) accept generators.
  class iterator {
   public:
    iterator() = default;
    explicit iterator(const Gen* g) : g_(g) { advance(); }
    const T& operator*() const { return cur_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    bool operator!=(const iterator& o) const { return g_ != o.g_; }
    bool operator==(const iterator& o) const { return g_ == o.g_; }

   private:
    void advance() {
      if (g_ && !g_->next(cur_)) g_ = nullptr;
    }
    const Gen* g_ = nullptr;
    T cur_{};
  };
  iterator begin() const { return iterator(this); }
  iterator end() const { return iterator(); }

 private:
  Ref<GenObj<T>> r_;
};

template <class T, class F>
inline Gen<T> make_gen(F&& body) {
  return Gen<T>(Ref<GenObj<T>>::make(std::function<void(GenObj<T>&)>(std::forward<F>(body))));
}

template <class T>
inline bool truth(const Gen<T>&) { return true; }
template <class T>
inline void repr_into(StrBuilder& b, const Gen<T>& g) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "<generator object at %p>", static_cast<const void*>(g.get()));
  b.put_ascii(buf);
}

// Generic runtime helpers (list(), set(), sorted()...) consume generators too.
template <class T, class F>
inline void for_each(const Gen<T>& g, F&& f) {
  T v{};
  while (g.next(v)) f(v);
}

// iter(items): an iterator over a list (a snapshot of its items).
template <class T>
inline Gen<T> gen_iter(const List<T>& items) {
  return make_gen<T>([items](GenObj<T>& g) {
    for (int64_t i = 0; i < items.size(); ++i) g.yield(items[i]);
  });
}

// next(g) and next(g, default).
template <class T>
inline T gen_next(const Gen<T>& g, const Loc* loc) {
  T v{};
  if (!g.next(v)) raise(ErrKind::StopIteration, "", loc);
  return v;
}
template <class T>
inline T gen_next(const Gen<T>& g, const T& dflt, const Loc*) {
  T v{};
  return g.next(v) ? v : dflt;
}

// A generator returned to Python arrives as a list of all its values.
template <class T>
struct Conv<Gen<T>> {
  static std::string name() { return "Iterator[" + Conv<T>::name() + "]"; }
  static mx_host_obj to_host(const mx_host_api* h, const Gen<T>& g) {
    List<T> items;
    T v{};
    while (g.next(v)) items.push_back(v);
    return Conv<List<T>>::to_host(h, items);
  }
};

}  // namespace mx
