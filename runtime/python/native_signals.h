// Signals in compiled code: a stack overflow becomes RecursionError, Ctrl-C
// interrupts compiled loops (mx/interrupt.h).
// Included by native.cc inside its anonymous namespace, where it stands.

// ---- stack exhaustion in compiled code -> RecursionError ------------------------
//
// Deep recursion in compiled code would overflow the C stack and kill the
// process. Recursive functions that allocate check the stack themselves
// (mx::check_stack); for the others (pure arithmetic like fib, where a check
// would cost more than the call) a SIGSEGV on the thread's stack guard while
// compiled code runs jumps back to the entry point, which raises RecursionError.
// Nothing that takes locks runs in such functions, so the jump leaves no lock held.
namespace stack_guard {
thread_local sigjmp_buf* t_jump = nullptr;         // the entry point to return to
thread_local PyThreadState* t_released = nullptr;  // GIL state saved by nogil_begin
thread_local char* t_stack_lo = nullptr;
thread_local bool t_ready = false;
struct sigaction g_prev;
bool g_installed = false;

struct AltStack {
  void* mem = nullptr;
  ~AltStack() {
    if (!mem) return;
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
    std::free(mem);
  }
};
thread_local AltStack t_alt;

void on_segv(int sig, siginfo_t* info, void*) {
  char* addr = static_cast<char*>(info->si_addr);
  if (t_jump && t_stack_lo && addr < t_stack_lo + (256 << 10) && addr >= t_stack_lo - (1 << 20)) {
    sigjmp_buf* j = t_jump;
    t_jump = nullptr;
    siglongjmp(*j, 1);
  }
  // Not ours: restore the previous handler; the faulting instruction runs again
  // and reaches it (or the default action).
  sigaction(sig, &g_prev, nullptr);
}

void prepare_thread() {
  if (t_ready) return;
  t_ready = true;
  pthread_attr_t a;
  if (pthread_getattr_np(pthread_self(), &a) == 0) {
    void* lo = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&a, &lo, &size) == 0) t_stack_lo = static_cast<char*>(lo);
    pthread_attr_destroy(&a);
  }
  stack_t cur{};
  if (sigaltstack(nullptr, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) && cur.ss_size >= 32768) return;
  size_t size = 64 << 10;
  t_alt.mem = std::malloc(size);
  stack_t ss{};
  ss.ss_sp = t_alt.mem;
  ss.ss_size = size;
  sigaltstack(&ss, nullptr);
}

void install() {
  if (g_installed) return;
  struct sigaction sa {};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &g_prev) == 0) g_installed = true;
}
}  // namespace stack_guard

// ---- interrupting compiled loops (mx/interrupt.h) -------------------------------
//
// Python's SIGINT handler only trips a flag that bytecode checks, and the main
// thread runs no bytecode while it is in compiled code. So, while a main-thread
// call has lasted more than a tick, a watchdog thread puts our handler in front
// of Python's (and again whenever Python has put its own back): it sets the word
// compiled loops poll, then calls Python's handler as before. The loop raises
// KeyboardInterrupt at its line; raise_error then consumes Python's tripped flag.
// A call costs two stores; handlers are not touched for short calls.
namespace interrupts {
volatile sig_atomic_t g_main_in_call = 0;
std::atomic<uint64_t> g_main_calls{0};
struct sigaction g_prev;
std::atomic<bool> g_watchdog{false};

void on_sigint(int sig, siginfo_t* info, void* ctx) {
  struct sigaction prev = g_prev;
  if (prev.sa_handler == SIG_IGN) return;
  if (g_main_in_call) mx::irq::signal_main();
  if (prev.sa_handler == SIG_DFL) {
    sigaction(sig, &prev, nullptr);
    raise(sig);
  } else if (prev.sa_flags & SA_SIGINFO) {
    prev.sa_sigaction(sig, info, ctx);
  } else {
    prev.sa_handler(sig);
  }
}

// Puts on_sigint in front of the current handler unless it is there already.
void ensure_handler() {
  struct sigaction cur {};
  if (sigaction(SIGINT, nullptr, &cur) != 0) return;
  if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigint) return;
  g_prev = cur;
  struct sigaction sa = cur;
  sa.sa_sigaction = on_sigint;
  sa.sa_flags = (cur.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
}

void watchdog() {
  uint64_t seen = 0;
  for (;;) {
    struct timespec ts {0, 20 * 1000 * 1000};
    nanosleep(&ts, nullptr);
    uint64_t now = g_main_calls.load(std::memory_order_relaxed);
    if (g_main_in_call && now == seen) ensure_handler();  // the same call, a tick later
    seen = now;
  }
}

inline void main_call_begin() {
  if (!mx::irq::is_main_thread()) return;
  if (!g_watchdog.load(std::memory_order_relaxed) && !g_watchdog.exchange(true)) {
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);  // the watchdog never takes a signal
    pthread_create(&t, &a, [](void*) -> void* { watchdog(); return nullptr; }, nullptr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    pthread_attr_destroy(&a);
  }
  mx::irq::clear_main();  // a Ctrl-C from before this call is Python's to handle
  g_main_calls.fetch_add(1, std::memory_order_relaxed);
  g_main_in_call = 1;
}

inline void main_call_end() {
  if (!mx::irq::is_main_thread()) return;
  g_main_in_call = 0;
  mx::irq::clear_main();
}
}  // namespace interrupts

void* h_nogil_begin() {
  interrupts::main_call_begin();
  PyThreadState* st = PyEval_SaveThread();
  stack_guard::t_released = st;
  return st;
}
void h_nogil_end(void* st) {
  stack_guard::t_released = nullptr;
  interrupts::main_call_end();
  PyEval_RestoreThread(static_cast<PyThreadState*>(st));
  if (mx::irq::g_main_took && mx::irq::is_main_thread()) {
    // Compiled code took a Ctrl-C: it is that code's to raise or catch (a bare
    // `except:`), so Python's tripped flag for it goes, as Python would have
    // consumed it at the same point.
    mx::irq::g_main_took = 0;
    if (PyErr_CheckSignals() < 0) PyErr_Clear();
  }
}
void h_write_stdout(const char* s, size_t n) {
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject* text = PyUnicode_DecodeUTF8(s, Py_ssize_t(n), "replace");
  if (text) {
    PyObject* out = PySys_GetObject("stdout");  // borrowed
    if (out && out != Py_None) {
      PyObject* r = PyObject_CallMethod(out, "write", "O", text);
      Py_XDECREF(r);
    }
    Py_DECREF(text);
  }
  if (PyErr_Occurred()) PyErr_Clear();
  PyGILState_Release(g);
}
