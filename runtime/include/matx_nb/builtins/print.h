// print() with sep= and end=. Part of builtins.h, which includes the builtins/ headers in order.
#pragma once
#include "../linkage.h"
#include "../ops.h"

namespace mx {

// ---- print with sep= and end= ------------------------------------------------------------

template <class... A>
inline None print_with(const Str& sep, bool has_sep, const Str& end, bool has_end, const A&... a) {
  StrBuilder b;
  Str s = has_sep ? sep : str_char(' ');
  size_t i = 0;
  ((b.put(i++ ? s : Str()), b.put(to_str(a))), ...);
  b.put(has_end ? end : str_char('\n'));
  std::string out = utf8_encode(b.raw().data(), b.raw().size());
  detail::g_write_stdout(out.data(), out.size());
  return None{};
}

}  // namespace mx
