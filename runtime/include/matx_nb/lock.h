// The thread model of compiled code (docs/language.md, "Threads").
//
// Compiled code runs without the GIL, so two threads may call into the same
// compiled instance at once (a DataLoader's workers, Session::Run from many
// threads). Like free-threaded CPython's per-object critical sections, but per
// call: a call from a host (Python, a Session) into a method of a compiled
// instance, or a read or write of one of its attributes, holds that instance's
// lock for the whole call. The method's reads and writes of its own state are
// then never torn, and compound updates (`self.d[k] = self.d.get(k, 0) + 1`)
// are atomic, which CPython does not even promise. Pure functions, and methods
// of instances no other thread uses, pay one uncontended compare-and-swap.
//
// A thread never waits for an instance lock while it holds the host's GIL: it
// releases the GIL first (HostLock), so a lock holder that calls back into
// Python can always take the GIL.
#pragma once
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <atomic>
#include <cstdint>

namespace mx {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// A recursive lock of two words (a thread that holds it may take it again: a
// method calling back into Python that calls the same instance).
class RecursiveLock {
 public:
  bool try_lock() noexcept {
    uintptr_t me = self_id();
    if (owner_.load(std::memory_order_relaxed) == me) {
      ++depth_;
      return true;
    }
    uintptr_t none = 0;
    if (owner_.compare_exchange_strong(none, me, std::memory_order_acquire, std::memory_order_relaxed)) {
      depth_ = 1;
      return true;
    }
    return false;
  }
  void lock() noexcept {
    for (unsigned spins = 0; !try_lock(); ++spins) {
      if (spins < 64) {
        cpu_relax();
      } else if (spins < 4096) {
        sched_yield();
      } else {
        struct timespec ts {0, 50 * 1000};
        nanosleep(&ts, nullptr);
      }
    }
  }
  void unlock() noexcept {
    if (--depth_ == 0) owner_.store(0, std::memory_order_release);
  }
  bool held_by_me() const noexcept { return owner_.load(std::memory_order_relaxed) == self_id(); }
  // After a jump out of compiled code that skipped the unlock (the host's C stack
  // guard, native.cc): drops this thread's innermost hold.
  void unlock_if_mine() noexcept {
    if (held_by_me()) unlock();
  }

 private:
  static uintptr_t self_id() noexcept { return static_cast<uintptr_t>(pthread_self()); }
  std::atomic<uintptr_t> owner_{0};
  uint32_t depth_ = 0;
};

namespace detail {
// A library's lock for its module-level containers (one per library: the
// runtime's inline variables are hidden in each compiled library).
inline RecursiveLock g_module_lock;
}  // namespace detail

}  // namespace mx
