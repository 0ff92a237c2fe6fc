// String formatting: format(value, spec), the fields of f-strings and
// str.format, printf-style '%' conversions, and ascii(). The format-spec
// engine itself is numconv's port of CPython's formatter_unicode.c.
#pragma once
#include "linkage.h"
#include <stdexcept>
#include <string>

#include "any.h"
#include "builtins.h"

namespace mx {

namespace detail {
// Runs a numconv formatter, turning its exceptions into Python's.
template <class F>
inline auto formatting(F&& f, const Loc* loc) -> decltype(f()) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    raise(ErrKind::ValueError, e.what(), loc);
  } catch (const std::overflow_error& e) {
    raise(ErrKind::OverflowError, e.what(), loc);
  }
}
}  // namespace detail

MX_INLINE Str format_value(int64_t v, const Str& spec, const Loc* loc) {
  return str_from_utf8(detail::formatting([&] { return numconv::int_format(v, utf8_encode(spec)); }, loc));
}
MX_INLINE Str format_value(bool v, const Str& spec, const Loc* loc) {
  if (spec.empty()) return str_from_ascii(v ? "True" : "False");
  return format_value(int64_t(v), spec, loc);
}
MX_INLINE Str format_value(double v, const Str& spec, const Loc* loc) {
  return str_from_utf8(detail::formatting([&] { return numconv::float_format(v, utf8_encode(spec)); }, loc));
}
MX_INLINE Str format_value(const Str& v, const Str& spec, const Loc* loc) {
  if (spec.empty()) return v;
  return str_from_u32(detail::formatting(
      [&] { return numconv::str_format(std::u32string(v.data(), v.size()), utf8_encode(spec)); }, loc));
}
template <class T> inline Str type_name_of(const T&) { return str_from_ascii("object"); }
inline Str type_name_of(None) { return str_from_ascii("NoneType"); }
MX_INLINE Str type_name_of(const Bytes&) { return str_from_ascii("bytes"); }
template <class T> inline Str type_name_of(const List<T>&) { return str_from_ascii("list"); }
template <class K, class V> inline Str type_name_of(const Dict<K, V>&) { return str_from_ascii("dict"); }
template <class T> inline Str type_name_of(const Set<T>&) { return str_from_ascii("set"); }
template <class... T> inline Str type_name_of(const Tuple<T...>&) { return str_from_ascii("tuple"); }
template <class T> inline Str type_name_of(const VTuple<T>&) { return str_from_ascii("tuple"); }

// Containers, None, instances: object.__format__ takes only an empty spec.
template <class T>
inline Str format_value(const T& v, const Str& spec, const Loc* loc) {
  if (!spec.empty()) {
    StrBuilder b;
    b.put_ascii("unsupported format string passed to ");
    b.put(type_name_of(v));
    b.put_ascii(".__format__");
    raise(ErrKind::TypeError, utf8_encode(b.build()), loc);
  }
  return to_str(v);
}
MX_INLINE Str format_value(const Any& v, const Str& spec, const Loc* loc) {
  switch (v.tag()) {
    case TypeTag::Int: return format_value(any_cast<int64_t>(v), spec, loc);
    case TypeTag::Bool: return format_value(any_cast<bool>(v), spec, loc);
    case TypeTag::Float: return format_value(any_cast<double>(v), spec, loc);
    case TypeTag::Str: return format_value(any_cast<Str>(v), spec, loc);
    default: return format_value<Any>(v, spec, loc);
  }
}

// ascii(x): repr(x) with non-ASCII code points escaped.
template <class T>
inline Str ascii(const T& v) {
  Str r = repr(v);
  StrBuilder b;
  static const char hexd[] = "0123456789abcdef";
  for (char32_t c : r) {
    if (c < 0x80) { b.put(c); continue; }
    int digits = c <= 0xFF ? 2 : c <= 0xFFFF ? 4 : 8;
    b.put_ascii(digits == 2 ? "\\x" : digits == 4 ? "\\u" : "\\U");
    for (int sh = (digits - 1) * 4; sh >= 0; sh -= 4) b.put(hexd[(c >> sh) & 0xF]);
  }
  return b.build();
}

// ---- printf-style: 'fmt' % args, one conversion at a time ----------------------------

namespace detail {
MX_INLINE bool has_flag(const char* flags, char f) { return std::strchr(flags, f) != nullptr; }
MX_INLINE Str pad_field(const Str& s, const char* flags, int64_t width) {
  if (int64_t(s.size()) >= width) return s;
  std::u32string pad(size_t(width) - s.size(), U' ');
  std::u32string body(s.data(), s.size());
  return str_from_u32(has_flag(flags, '-') ? body + pad : pad + body);
}
MX_INLINE Str percent_int(int64_t v, const char* flags, int64_t width, int64_t prec, char conv) {
  int base = conv == 'o' ? 8 : (conv == 'x' || conv == 'X') ? 16 : 10;
  uint64_t a = v < 0 ? 0 - uint64_t(v) : uint64_t(v);
  std::string digits;
  do {
    digits.insert(digits.begin(), "0123456789abcdef"[a % unsigned(base)]);
    a /= unsigned(base);
  } while (a);
  if (conv == 'X')
    for (auto& c : digits) c = char(std::toupper(static_cast<unsigned char>(c)));
  if (prec > int64_t(digits.size())) digits.insert(0, size_t(prec) - digits.size(), '0');
  std::string head = v < 0 ? "-" : has_flag(flags, '+') ? "+" : has_flag(flags, ' ') ? " " : "";
  if (has_flag(flags, '#') && base != 10) head += conv == 'o' ? "0o" : conv == 'x' ? "0x" : "0X";
  if (!has_flag(flags, '-') && has_flag(flags, '0') && int64_t(head.size() + digits.size()) < width)
    digits.insert(0, size_t(width) - head.size() - digits.size(), '0');
  return pad_field(str_from_ascii((head + digits).c_str()), flags, width);
}
}  // namespace detail

template <class T>
inline Str percent_one(const T& v, const char* flags, int64_t width, int64_t prec, char conv, const Loc* loc) {
  using D = std::decay_t<T>;
  if (conv == 's' || conv == 'r' || conv == 'a') {
    Str s = conv == 's' ? to_str(v) : conv == 'r' ? repr(v) : ascii(v);
    if (prec >= 0 && int64_t(s.size()) > prec) s = Str(s.data(), size_t(prec));
    return detail::pad_field(s, flags, width);
  }
  if constexpr (std::is_same_v<D, int64_t> || std::is_same_v<D, bool> || std::is_same_v<D, double>) {
    if (conv == 'c') {
      if constexpr (std::is_same_v<D, double>) {
        raise(ErrKind::TypeError, "%c requires int or char", loc);
      } else {
        int64_t c = int64_t(v);
        if (c < 0 || c > 0x10FFFF) raise(ErrKind::OverflowError, "%c arg not in range(0x110000)", loc);
        return detail::pad_field(str_char(char32_t(c)), flags, width);
      }
    }
    if (conv == 'd' || conv == 'i' || conv == 'u' || conv == 'o' || conv == 'x' || conv == 'X') {
      int64_t i;
      if constexpr (std::is_same_v<D, double>) {
        if (conv != 'd' && conv != 'i' && conv != 'u')
          raise(ErrKind::TypeError, std::string("%") + conv + " format: an integer is required, not float", loc);
        i = to_int(v, loc);
      } else {
        i = int64_t(v);
      }
      return detail::percent_int(i, flags, width, prec, conv);
    }
    // e E f F g G: through the format-spec engine.
    std::string spec;
    bool left = detail::has_flag(flags, '-');
    if (left) spec += '<';
    if (detail::has_flag(flags, '+')) spec += '+';
    else if (detail::has_flag(flags, ' ')) spec += ' ';
    if (detail::has_flag(flags, '#')) spec += '#';
    if (!left && detail::has_flag(flags, '0')) spec += '0';
    if (width > 0) spec += std::to_string(width);
    spec += '.' + std::to_string(prec < 0 ? 6 : prec);
    spec += conv;
    return format_value(double(v), str_from_ascii(spec.c_str()), loc);
  } else {
    if (conv == 'c' && std::is_same_v<D, Str>) {
      if constexpr (std::is_same_v<D, Str>) {
        if (v.size() != 1) raise(ErrKind::TypeError, "%c requires int or char", loc);
        return detail::pad_field(v, flags, width);
      }
    }
    raise(ErrKind::TypeError, std::string("%") + conv + " format: a real number is required", loc);
  }
}

// isinstance(x, (kinds...)) for a dynamic value.
MX_INLINE bool any_isinstance(const Any& a, std::initializer_list<const char*> kinds) {
  for (const char* k : kinds) {
    std::string n(k);
    TypeTag t = a.tag();
    if (n == "object") return true;
    if (n == "int" && (t == TypeTag::Int || t == TypeTag::Bool)) return true;
    if ((n == "bool" && t == TypeTag::Bool) || (n == "float" && t == TypeTag::Float) ||
        (n == "str" && t == TypeTag::Str) || (n == "bytes" && t == TypeTag::Bytes) ||
        (n == "list" && t == TypeTag::List) || (n == "dict" && t == TypeTag::Dict) ||
        (n == "set" && t == TypeTag::Set) || (n == "tuple" && t == TypeTag::Tuple))
      return true;
  }
  return false;
}

}  // namespace mx
