// Python-style exceptions raised by compiled code, with the user's source location.
#pragma once
#include <cstdint>
#include <exception>
#include <string>
#include <utility>

#include "linkage.h"

namespace mx {

// The Python exception class an Error maps to at the boundary. The numbering is
// part of the C ABI (ErrorOut::kind); append only.
enum class ErrKind : int32_t {
  Exception = 0,
  TypeError,
  ValueError,
  IndexError,
  KeyError,
  ZeroDivisionError,
  OverflowError,
  AttributeError,
  RuntimeError,
  NotImplementedError,
  AssertionError,
  StopIteration,
  UnicodeDecodeError,
  UnicodeEncodeError,
  MemoryError,
  RecursionError,
  LookupError,
  ArithmeticError,
  NameError,
  UnboundLocalError,
  OSError,
  FileNotFoundError,
  JSONDecodeError,  // json.JSONDecodeError (a ValueError)
  BinasciiError,    // binascii.Error (a ValueError)
  ReError,          // re.error
  KeyboardInterrupt,  // an interrupted loop (interrupt.h); not an Exception
};

MX_INLINE const char* errkind_name(ErrKind k) {
  static const char* const names[] = {
      "Exception", "TypeError", "ValueError", "IndexError", "KeyError",
      "ZeroDivisionError", "OverflowError", "AttributeError", "RuntimeError",
      "NotImplementedError", "AssertionError", "StopIteration", "UnicodeDecodeError",
      "UnicodeEncodeError", "MemoryError", "RecursionError", "LookupError",
      "ArithmeticError", "NameError", "UnboundLocalError", "OSError",
      "FileNotFoundError", "JSONDecodeError", "binascii.Error", "re.error", "KeyboardInterrupt"};
  auto i = static_cast<int32_t>(k);
  return (i >= 0 && i < int32_t(sizeof(names) / sizeof(names[0]))) ? names[i] : "Exception";
}

// The base class of each kind, as in Python's exception hierarchy.
MX_INLINE ErrKind errkind_parent(ErrKind k) {
  switch (k) {
    case ErrKind::IndexError:
    case ErrKind::KeyError:
      return ErrKind::LookupError;
    case ErrKind::ZeroDivisionError:
    case ErrKind::OverflowError:
      return ErrKind::ArithmeticError;
    case ErrKind::NotImplementedError:
    case ErrKind::RecursionError:
      return ErrKind::RuntimeError;
    case ErrKind::UnicodeDecodeError:
    case ErrKind::UnicodeEncodeError:
    case ErrKind::JSONDecodeError:
    case ErrKind::BinasciiError:
      return ErrKind::ValueError;
    case ErrKind::UnboundLocalError:
      return ErrKind::NameError;
    case ErrKind::FileNotFoundError:
      return ErrKind::OSError;
    default:
      return ErrKind::Exception;
  }
}

// `except target:` catches an error of kind k.
MX_INLINE bool errkind_is(ErrKind k, ErrKind target) {
  if (k == ErrKind::KeyboardInterrupt || target == ErrKind::KeyboardInterrupt) return k == target;
  for (;;) {
    if (k == target || target == ErrKind::Exception) return true;
    if (k == ErrKind::Exception) return false;
    k = errkind_parent(k);
  }
}

// One compiled Python object (function or class) of a library. Lines in Loc are
// relative to its first line so the compiled library does not change when the
// object moves in its file; the loader fills file and first_line.
struct Origin {
  const char* file;
  int32_t first_line;
  const char* qualname;
};

// A source position in the user's Python code; generated code keeps one static
// Loc per operation that can raise and passes its address to the runtime.
struct Loc {
  const Origin* origin;
  int32_t rel_line;  // 1-based, relative to the origin's first line
  int32_t col;       // 0-based column
};

class Error : public std::exception {
 public:
  Error() : kind_(ErrKind::Exception) {}  // a local not yet bound by `except ... as e`
  Error(ErrKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }
  ErrKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // Innermost location wins: set once, where the error was raised.
  void set_loc(const Loc* loc) {
    if (has_loc_ || loc == nullptr || loc->origin == nullptr) return;
    has_loc_ = true;
    file_ = loc->origin->file ? loc->origin->file : "<unknown>";
    func_ = loc->origin->qualname ? loc->origin->qualname : "?";
    line_ = loc->origin->first_line + loc->rel_line - 1;
    col_ = loc->col;
  }
  bool has_loc() const { return has_loc_; }
  const std::string& file() const { return file_; }
  const std::string& func() const { return func_; }
  int32_t line() const { return line_; }
  int32_t col() const { return col_; }

 private:
  ErrKind kind_;
  std::string message_;
  bool has_loc_ = false;
  std::string file_, func_;
  int32_t line_ = 0, col_ = 0;
};

[[noreturn]] __attribute__((noinline, cold)) MX_RT void raise(ErrKind kind, std::string msg,
                                                           const Loc* loc = nullptr);
#if MX_RT_DEFINE
[[noreturn]] __attribute__((noinline, cold)) MX_RT void raise(ErrKind kind, std::string msg, const Loc* loc) {
  Error e(kind, std::move(msg));
  e.set_loc(loc);
  throw e;
}
#endif

// Attaches a location to an Error thrown by a runtime helper that had none.
template <class F>
inline auto at(const Loc* loc, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (Error& e) {
    e.set_loc(loc);
    throw;
  }
}

}  // namespace mx
