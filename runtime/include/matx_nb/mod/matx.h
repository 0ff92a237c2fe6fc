// matx_nb.serialize / matx_nb.deserialize in compiled code (matx_nb/compat.py is
// the Python side): the text is Python literal syntax, which repr() writes, so a
// value serialized by either side deserializes on either with its types.
#pragma once
#include "../linkage.h"
#include <cstdlib>
#include <string>

#include "../runtime.h"

namespace mx {
namespace pymod {

template <class T>
inline Str matx_serialize(const T& v, const Loc*) { return repr(v); }

namespace detail {
struct LiteralParser {
  const Str& s;
  size_t i = 0;
  const Loc* loc;

  [[noreturn]] void fail() {
    raise(ErrKind::ValueError, "deserialize: not a serialized value: " + utf8_encode(repr(s)), loc);
  }
  void ws() { while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i; }
  bool eat(char32_t c) {
    ws();
    if (i < s.size() && s[i] == c) { ++i; return true; }
    return false;
  }
  bool word(const char* w) {
    size_t n = std::strlen(w);
    if (i + n > s.size()) return false;
    for (size_t k = 0; k < n; ++k) if (s[i + k] != char32_t(w[k])) return false;
    if (i + n < s.size() && (std::isalnum(int(s[i + n] < 128 ? s[i + n] : 'a')) || s[i + n] == '_')) return false;
    i += n;
    return true;
  }
  uint32_t hex(size_t n) {
    if (i + n > s.size()) fail();
    uint32_t v = 0;
    for (size_t k = 0; k < n; ++k) {
      char32_t c = s[i++];
      int d = c >= '0' && c <= '9' ? int(c - '0') : c >= 'a' && c <= 'f' ? int(c - 'a' + 10)
              : c >= 'A' && c <= 'F' ? int(c - 'A' + 10) : -1;
      if (d < 0) fail();
      v = v * 16 + uint32_t(d);
    }
    return v;
  }
  std::u32string quoted() {
    char32_t q = s[i++];
    std::u32string out;
    while (i < s.size() && s[i] != q) {
      char32_t c = s[i++];
      if (c != '\\') { out.push_back(c); continue; }
      if (i >= s.size()) fail();
      char32_t e = s[i++];
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case '0': out.push_back(0); break;
        case 'x': out.push_back(hex(2)); break;
        case 'u': out.push_back(hex(4)); break;
        case 'U': out.push_back(hex(8)); break;
        default: out.push_back(e);
      }
    }
    if (i >= s.size()) fail();
    ++i;
    return out;
  }
  Any number() {
    size_t b = i;
    if (s[i] == '-' || s[i] == '+') ++i;
    if (word("inf")) return Any(s[b] == '-' ? -HUGE_VAL : HUGE_VAL);
    if (word("nan")) return Any(std::nan(""));
    bool fl = false;
    while (i < s.size() && (std::isdigit(int(s[i] < 128 ? s[i] : 'x')) || s[i] == '.' || s[i] == 'e' ||
                            s[i] == 'E' || ((s[i] == '-' || s[i] == '+') && (s[i - 1] == 'e' || s[i - 1] == 'E')))) {
      fl |= !std::isdigit(int(s[i]));
      ++i;
    }
    Str text(s.data() + b, i - b);
    if (i == b) fail();
    return fl ? Any(to_float(text, loc)) : Any(to_int(text, loc));
  }
  Any value() {
    ws();
    if (i >= s.size()) fail();
    char32_t c = s[i];
    if (c == '\'' || c == '"') return Any(str_from_u32(quoted()));
    if (c == 'b' && i + 1 < s.size() && (s[i + 1] == '\'' || s[i + 1] == '"')) {
      ++i;
      std::u32string u = quoted();
      std::string o;
      for (char32_t x : u) { if (x > 255) fail(); o.push_back(char(x)); }
      return Any(bytes_from(o));
    }
    if (word("True")) return Any(true);
    if (word("False")) return Any(false);
    if (word("None")) return Any(None{});
    if (word("set")) { if (!eat('(') || !eat(')')) fail(); return Any(Set<Any>()); }
    if (c == '[' || c == '(') {
      ++i;
      List<Any> items;
      char32_t close = c == '[' ? ']' : ')';
      bool comma = false;
      while (!eat(close)) {
        if (items.size() && !comma) fail();
        items.push_back(value());
        comma = eat(',');
      }
      if (c == '[') return Any(items);
      if (items.size() == 1 && !comma) return items[0];  // (x) is x
      return Any::tuple_of(items);
    }
    if (c == '{') {
      ++i;
      Dict<Any, Any> d;
      Set<Any> st;
      bool is_set = false, first = true;
      while (!eat('}')) {
        if (!first && !eat(',')) fail();
        if (!first && eat('}')) break;
        first = false;
        Any k = value();
        if (eat(':')) d.set(k, value());
        else { is_set = true; st.add(k); }
      }
      if (is_set && d.size()) fail();
      return is_set ? Any(st) : Any(d);
    }
    return number();
  }
};
}  // namespace detail

MX_INLINE Any matx_deserialize(const Str& s, const Loc* loc) {
  detail::LiteralParser p{s, 0, loc};
  Any v = p.value();
  p.ws();
  if (p.i != s.size()) p.fail();
  return v;
}

}  // namespace pymod
}  // namespace mx
