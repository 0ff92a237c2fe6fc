// Codecs with an errors= handler (utf-8, ascii, latin-1) for str.encode and
// bytes.decode; str() of floats. Part of str_methods.h, the entry point.
#pragma once
#include "../linkage.h"
#include "bytes.h"

namespace mx {

// ---- codecs with an errors= handler: utf-8, ascii, latin-1 --------------------------------

namespace detail {
enum class Codec { Utf8, Ascii, Latin1 };
MX_INLINE Codec codec_of(const Str& enc, const Loc* loc) {
  std::string n = utf8_encode(enc);
  for (auto& c : n) c = char(c == '_' ? '-' : std::tolower(static_cast<unsigned char>(c)));
  if (n == "utf-8" || n == "utf8" || n == "u8") return Codec::Utf8;
  if (n == "ascii" || n == "us-ascii") return Codec::Ascii;
  if (n == "latin-1" || n == "latin1" || n == "iso-8859-1" || n == "l1") return Codec::Latin1;
  raise(ErrKind::LookupError, "unknown encoding: " + n, loc);
}
// 0 strict, 1 ignore, 2 replace; an unknown name is only an error once a
// character needs the handler, as in CPython.
MX_INLINE int handler_of(const Str& errors, const Loc*) {
  std::string e = utf8_encode(errors);
  return e == "strict" ? 0 : e == "ignore" ? 1 : e == "replace" ? 2 : -1;
}
MX_INLINE void check_handler(int h, const Str& errors, const Loc* loc) {
  if (h < 0) raise(ErrKind::LookupError, "unknown error handler name '" + utf8_encode(errors) + "'", loc);
}
}  // namespace detail

MX_INLINE_DEF Str bytes_decode(const Bytes& b, const Str& enc, const Str& errors, const Loc* loc) {
  if (b.empty()) return Str();  // CPython decodes nothing without looking the codec up
  auto codec = detail::codec_of(enc, loc);
  int h = detail::handler_of(errors, loc);
  std::u32string out;
  if (codec == detail::Codec::Latin1) return detail::widen(b);
  if (codec == detail::Codec::Ascii) {
    for (size_t i = 0; i < b.size(); ++i) {
      unsigned c = static_cast<unsigned char>(b[i]);
      if (c < 0x80) out.push_back(c);
      else if (detail::check_handler(h, errors, loc), h == 2) out.push_back(0xFFFD);
      else if (h == 0) {
        char where[64];
        std::snprintf(where, sizeof where, "byte 0x%02x in position %zu", c, i);
        detail::throw_codec_error(CodecError(ErrKind::UnicodeDecodeError,
                                             std::string("'ascii' codec can't decode ") + where +
                                                 ": ordinal not in range(128)", "ascii",
                                             std::string(b.data(), b.size()), int64_t(i), int64_t(i + 1),
                                             "ordinal not in range(128)"), loc);
      }
    }
    return str_from_u32(out);
  }
  size_t pos = 0;
  std::u32string part;
  while (pos < b.size()) {
    size_t bad = 0;
    if (utf8_decode(b.data() + pos, b.size() - pos, part, &bad)) {
      out += part;
      break;
    }
    detail::check_handler(h, errors, loc);
    if (h == 0) detail::raise_decode_error(b, pos + bad, loc);
    utf8_decode(b.data() + pos, bad, part, nullptr);
    out += part;
    int code;
    size_t end = detail::utf8_error_end(b, pos + bad, &code);
    if (h == 2) out.push_back(0xFFFD);
    pos = end;
  }
  return str_from_u32(out);
}
MX_INLINE_DEF Bytes str_encode(const Str& s, const Str& enc, const Str& errors, const Loc* loc) {
  auto codec = detail::codec_of(enc, loc);
  int h = detail::handler_of(errors, loc);
  char32_t limit = codec == detail::Codec::Ascii ? 0x80 : codec == detail::Codec::Latin1 ? 0x100 : 0x110000;
  std::u32string kept;
  for (size_t i = 0; i < s.size(); ++i) {
    char32_t c = s[i];
    bool bad = c >= limit || (codec == detail::Codec::Utf8 && detail::is_surrogate(c));
    if (!bad) { kept.push_back(c); continue; }
    detail::check_handler(h, errors, loc);
    if (h == 2) kept.push_back('?');
    else if (h == 0) {
      if (codec == detail::Codec::Utf8) detail::raise_encode_error(s, i, loc);
      const char* name = codec == detail::Codec::Ascii ? "ascii" : "latin-1";
      const char* reason = codec == detail::Codec::Ascii ? "ordinal not in range(128)" : "ordinal not in range(256)";
      size_t end = i + 1;
      while (end < s.size() && s[end] >= limit) ++end;
      char where[96];
      if (end == i + 1) {
        if (c <= 0xFF) std::snprintf(where, sizeof where, "character '\\x%02x' in position %zu", unsigned(c), i);
        else if (c <= 0xFFFF) std::snprintf(where, sizeof where, "character '\\u%04x' in position %zu", unsigned(c), i);
        else std::snprintf(where, sizeof where, "character '\\U%08x' in position %zu", unsigned(c), i);
      } else {
        std::snprintf(where, sizeof where, "characters in position %zu-%zu", i, end - 1);
      }
      std::string object(reinterpret_cast<const char*>(s.data()), s.size() * sizeof(char32_t));
      detail::throw_codec_error(CodecError(ErrKind::UnicodeEncodeError,
                                           std::string("'") + name + "' codec can't encode " + where + ": " + reason,
                                           name, std::move(object), int64_t(i), int64_t(end), reason), loc);
    }
  }
  if (codec == detail::Codec::Utf8) return bytes_from(utf8_encode(str_from_u32(kept)));
  std::string o(kept.size(), '\0');
  for (size_t i = 0; i < kept.size(); ++i) o[i] = char(kept[i]);
  return bytes_from(o);
}

// ---- str() of floats uses Python's repr ------------------------------------------------

}  // namespace mx
