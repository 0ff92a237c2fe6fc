// The `json` module for compiled code: dumps/loads over mx::json (json.h), with
// decode errors raised as json.JSONDecodeError.
#pragma once
#include "../linkage.h"
#include "../json.h"
#include "../runtime.h"

namespace mx::pymod {

MX_INLINE int json_indent(None) { return -1; }
MX_INLINE int json_indent(int64_t n) { return n < 0 ? 0 : int(n); }  // Python: a negative indent is ""

MX_INLINE void json_separators(mx::json::detail::Encoder&, None) {}
MX_INLINE void json_separators(mx::json::detail::Encoder& e, const Tuple<Str, Str>& seps) {
  e.set_separators(utf8_encode(std::get<0>(seps)), utf8_encode(std::get<1>(seps)));
}

template <class T, class I, class S>
inline Str json_dumps(const T& obj, I indent, bool sort_keys, bool ensure_ascii, const S& separators,
                      const Loc* loc) {
  mx::json::detail::Encoder e(ensure_ascii, json_indent(indent), sort_keys, loc);
  json_separators(e, separators);
  return str_from_utf8(e.run(Any(obj)));
}

// A ValueError of the parser is a JSONDecodeError in Python, except the int
// digit limit, which Python's int() raises as a plain ValueError.
template <class F>
inline Any json_decoding(F&& parse, const Loc* loc) {
  try {
    return parse();
  } catch (Error& e) {
    if (e.kind() != ErrKind::ValueError || e.message().rfind("Exceeds the limit", 0) == 0) throw;
    Error d(ErrKind::JSONDecodeError, e.message());
    d.set_loc(loc);
    throw d;
  }
}

MX_INLINE Any json_loads(const Str& s, const Loc* loc) {
  return json_decoding([&] { return mx::json::loads(s, loc); }, loc);
}
MX_INLINE Any json_loads(const Bytes& b, const Loc* loc) {
  std::string data(reinterpret_cast<const char*>(b.data()), b.size());
  if (data.compare(0, 3, "\xEF\xBB\xBF") == 0) data.erase(0, 3);  // json.detect_encoding: utf-8-sig
  return json_decoding([&] { return mx::json::loads(data, loc); }, loc);
}

}  // namespace mx::pymod
