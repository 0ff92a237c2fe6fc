// Interrupting compiled loops: Ctrl-C / a kernel interrupt in the host's main
// thread, or a cancelled Session request, stops a running loop at its next
// iteration with KeyboardInterrupt at the user's line.
//
// Two sides share one protocol through the host ABI (abi.h):
// - the library: every loop iteration reads one word (poll). Zero means "nothing
//   pending" and costs a load and a predicted branch; nonzero takes the slow
//   path, which asks the host whether *this* thread is to stop (take).
// - the host (the Python binding, a C++ Session): owns the word, sets it from its
//   SIGINT handler or when a request is cancelled, and answers take().
#pragma once
#include "linkage.h"
#include <atomic>
#include <cstdint>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"

namespace mx {

// ---- the library side -----------------------------------------------------------
namespace detail {
inline std::atomic<int32_t> g_no_interrupt{0};
// Set by the library's set_host() to the host's word and answer.
inline std::atomic<int32_t>* g_interrupt_word = &g_no_interrupt;
inline int (*g_interrupt_take)(void) = nullptr;

[[gnu::cold, gnu::noinline]] inline void interrupt_slow(const Loc* loc) {
  if (g_interrupt_take && g_interrupt_take()) raise(ErrKind::KeyboardInterrupt, "interrupted", loc);
}
}  // namespace detail

// At the top of every loop iteration in generated code.
MX_INLINE void poll(const Loc* loc) {
  if (__builtin_expect(detail::g_interrupt_word->load(std::memory_order_relaxed) != 0, 0))
    detail::interrupt_slow(loc);
}

// Loops poll once per block of this many iterations: the inner loop of a block
// has no poll at all, so g++ optimizes it as before (unrolling, vectorizing).
constexpr int64_t kPollBlock = 4096;

// For loops without a counter to block (while, dict, generators): polls once
// every kPollBlock iterations, counting down a local the compiler keeps in a
// register (a decrement and a predicted branch per iteration).
MX_INLINE void poll_every(int32_t& budget, const Loc* loc) {
  if (__builtin_expect(--budget < 0, 0)) {
    budget = int32_t(kPollBlock);
    poll(loc);
  }
}

// The end of the block starting at k in a loop running to e (no overflow).
MX_INLINE int64_t block_end(int64_t k, int64_t e) { return e - k > kPollBlock ? k + kPollBlock : e; }

// ---- the host side --------------------------------------------------------------

// A request's cancellation: the thread running it registers the token (Scope);
// cancel() from any thread stops the request's loops at their next iteration.
class CancelToken {
 public:
  void cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

 private:
  friend struct InterruptScope;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> counted_{false};  // holds one count in the host's pending_cancels
};

namespace irq {
inline std::atomic<int32_t> g_word{0};          // the word libraries poll
inline volatile int32_t g_sigint = 0;           // SIGINT for the main thread, not yet taken
inline int32_t g_main_took = 0;                 // the main thread's compiled code took one
inline std::atomic<int32_t> g_pending_cancels{0};
inline thread_local CancelToken* t_token = nullptr;

MX_INLINE bool is_main_thread() {
  static thread_local int main = -1;
  if (main < 0) main = syscall(SYS_gettid) == getpid();
  return main == 1;
}

MX_INLINE void refresh() {
  g_word.store((g_sigint || g_pending_cancels.load() > 0) ? 1 : 0, std::memory_order_release);
}

// Async-signal-safe: called from the host's SIGINT handler while the main thread
// runs compiled code.
MX_INLINE void signal_main() {
  g_sigint = 1;
  g_word.store(1, std::memory_order_release);
}

// Clears a main-thread interrupt nobody took (the compiled call has ended).
MX_INLINE void clear_main() {
  if (g_sigint) {
    g_sigint = 0;
    refresh();
  }
}

// The host's answer to "does this thread stop?" (mx_host_api::interrupt_take).
MX_INLINE int take() {
  if (CancelToken* t = t_token) {
    if (t->cancelled()) return 1;
  }
  if (g_sigint && is_main_thread()) {
    g_sigint = 0;
    g_main_took = 1;
    refresh();
    return 1;
  }
  return 0;
}
}  // namespace irq

inline void CancelToken::cancel() {
  cancelled_.store(true, std::memory_order_release);
  if (!counted_.exchange(true)) {
    irq::g_pending_cancels.fetch_add(1);
    irq::refresh();
  }
}

// Registers `token` for the calls made on this thread while it lives.
struct InterruptScope {
  CancelToken* token;
  CancelToken* outer;
  explicit InterruptScope(CancelToken* t) : token(t), outer(irq::t_token) { irq::t_token = t; }
  ~InterruptScope() {
    irq::t_token = outer;
    if (token && token->counted_.exchange(false)) {
      irq::g_pending_cancels.fetch_sub(1);
      irq::refresh();
    }
  }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
};

}  // namespace mx
