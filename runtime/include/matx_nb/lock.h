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
#include "linkage.h"
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <atomic>
#include <cstdint>

namespace mx {

MX_INLINE void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

MX_INLINE void backoff(unsigned spins) noexcept {
  if (spins < 64) {
    cpu_relax();
  } else if (spins < 4096) {
    sched_yield();
  } else {
    struct timespec ts {0, 50 * 1000};
    nanosleep(&ts, nullptr);
  }
}

class RecursiveLock;
namespace detail {
// The locks this thread holds shared, innermost last (a method that only reads
// its instance runs under a shared hold; compiler/readonly.py says which).
struct SharedHolds {
  static constexpr int kMax = 32;
  const RecursiveLock* locks[kMax];
  int n = 0;
  bool has(const RecursiveLock* l) const noexcept {
    for (int i = n < kMax ? n : kMax; i-- > 0;)
      if (locks[i] == l) return true;
    return false;
  }
};
inline thread_local SharedHolds t_shared;
}  // namespace detail

// A recursive lock of two words (a thread that holds it may take it again: a
// method calling back into Python that calls the same instance), which can also
// be held shared: by any number of threads at once, each running a method that
// only reads the instance, while no thread holds it exclusively.
class RecursiveLock {
 public:
  // Exclusive: held by this thread alone, and by no shared holder.
  bool try_lock() noexcept {
    uintptr_t me = self_id();
    if (owner_.load(std::memory_order_relaxed) == me) {
      ++depth_;
      return true;
    }
    uintptr_t none = 0;
    if (owner_.compare_exchange_strong(none, me, std::memory_order_seq_cst, std::memory_order_relaxed)) {
      if (readers_.load(std::memory_order_seq_cst) == 0) {
        depth_ = 1;
        return true;
      }
      owner_.store(0, std::memory_order_release);
    }
    return false;
  }
  void lock() noexcept {
    uintptr_t me = self_id();
    if (owner_.load(std::memory_order_relaxed) == me) {
      ++depth_;
      return;
    }
    for (unsigned spins = 0;; ++spins) {
      uintptr_t none = 0;
      if (owner_.compare_exchange_strong(none, me, std::memory_order_seq_cst, std::memory_order_relaxed)) {
        // Owned: no new shared holder gets in; wait for those inside to leave.
        for (unsigned w = 0; readers_.load(std::memory_order_seq_cst) != 0; ++w) backoff(w);
        depth_ = 1;
        return;
      }
      backoff(spins);
    }
  }
  void unlock() noexcept {
    if (--depth_ == 0) owner_.store(0, std::memory_order_release);
  }
  // Shared: returns false where this thread holds the lock exclusively (the hold
  // is then taken as a recursive exclusive one: release it with unlock()).
  bool try_lock_shared() noexcept {
    if (owner_.load(std::memory_order_relaxed) == self_id()) {
      ++depth_;
      return true;
    }
    if (detail::t_shared.has(this)) {  // again in this thread: an exclusive waiter waits for this hold anyway
      readers_.fetch_add(1, std::memory_order_seq_cst);
      push_shared();
      return true;
    }
    if (owner_.load(std::memory_order_seq_cst) == 0) {
      readers_.fetch_add(1, std::memory_order_seq_cst);
      if (owner_.load(std::memory_order_seq_cst) == 0) {
        push_shared();
        return true;
      }
      readers_.fetch_sub(1, std::memory_order_seq_cst);
    }
    return false;
  }
  void lock_shared() noexcept {
    for (unsigned spins = 0; !try_lock_shared(); ++spins) backoff(spins);
  }
  // Releases a hold taken by try_lock_shared/lock_shared.
  void unlock_shared() noexcept {
    if (owner_.load(std::memory_order_relaxed) == self_id() && !detail::t_shared.has(this)) {
      unlock();
      return;
    }
    pop_shared();
    readers_.fetch_sub(1, std::memory_order_release);
  }
  bool held_by_me() const noexcept { return owner_.load(std::memory_order_relaxed) == self_id(); }
  bool held_shared_by_me() const noexcept { return detail::t_shared.has(this); }
  // After a jump out of compiled code that skipped the unlock (the host's C stack
  // guard, native.cc): drops this thread's innermost hold.
  void unlock_if_mine() noexcept {
    if (held_by_me()) unlock();
    else if (held_shared_by_me()) unlock_shared();
  }

 private:
  static uintptr_t self_id() noexcept { return static_cast<uintptr_t>(pthread_self()); }
  void push_shared() noexcept {
    auto& s = detail::t_shared;
    if (s.n < detail::SharedHolds::kMax) s.locks[s.n] = this;
    ++s.n;
  }
  void pop_shared() noexcept {
    auto& s = detail::t_shared;
    for (int i = (s.n < detail::SharedHolds::kMax ? s.n : detail::SharedHolds::kMax); i-- > 0;)
      if (s.locks[i] == this) {
        for (int k = i; k + 1 < s.n && k + 1 < detail::SharedHolds::kMax; ++k) s.locks[k] = s.locks[k + 1];
        break;
      }
    --s.n;
  }
  std::atomic<uintptr_t> owner_{0};
  uint32_t depth_ = 0;
  std::atomic<int32_t> readers_{0};
};

namespace detail {
// A library's lock for its module-level containers (one per library: the
// runtime's inline variables are hidden in each compiled library).
inline RecursiveLock g_module_lock;
}  // namespace detail

}  // namespace mx
