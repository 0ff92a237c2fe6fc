// bytes' methods, most of them the str algorithms over bytes read as Latin-1.
// Part of str_methods.h, the entry point.
#pragma once
#include "../linkage.h"
#include "str_edit.h"

namespace mx {

// ---- bytes --------------------------------------------------------------------------

MX_INLINE Str bytes_decode(const Bytes& b, const Loc* loc) {
  std::u32string out;
  size_t bad = 0;
  if (!utf8_decode(b.data(), b.size(), out, &bad)) detail::raise_decode_error(b, bad, loc);
  return str_from_u32(out);
}
MX_INLINE Str bytes_decode(const Bytes& b, const Str& enc, const Str& errors, const Loc* loc);
MX_INLINE Str bytes_decode(const Bytes& b, const Str& enc, const Loc* loc) {
  if (!is_utf8_name(enc)) return bytes_decode(b, enc, str_from_ascii("strict"), loc);
  return bytes_decode(b, loc);
}
MX_INLINE bool bytes_startswith(const Bytes& s, const Bytes& p, const Loc*) { return s.view().substr(0, p.size()) == p.view(); }
MX_INLINE bool bytes_endswith(const Bytes& s, const Bytes& p, const Loc*) {
  return s.size() >= p.size() && s.view().substr(s.size() - p.size()) == p.view();
}
MX_INLINE int64_t bytes_find(const Bytes& s, const Bytes& p, const Loc*) {
  auto r = s.view().find(p.view());
  return r == std::string_view::npos ? -1 : int64_t(r);
}
MX_INLINE int64_t bytes_count(const Bytes& s, const Bytes& p, const Loc*) {
  if (p.empty()) return int64_t(s.size()) + 1;
  int64_t c = 0;
  size_t i = 0;
  while ((i = s.view().find(p.view(), i)) != std::string_view::npos) { ++c; i += p.size(); }
  return c;
}
MX_INLINE Bytes bytes_replace(const Bytes& s, const Bytes& old, const Bytes& rep, const Loc* loc) {
  if (old.empty()) {
    std::string out;
    for (size_t i = 0; i <= s.size(); ++i) { out.append(rep.data(), rep.size()); if (i < s.size()) out.push_back(s[i]); }
    return bytes_from(out);
  }
  std::string out;
  size_t i = 0, p;
  while ((p = s.view().find(old.view(), i)) != std::string_view::npos) {
    out.append(s.data() + i, p - i);
    out.append(rep.data(), rep.size());
    i = p + old.size();
  }
  out.append(s.data() + i, s.size() - i);
  (void)loc;
  return bytes_from(out);
}
MX_INLINE bool bytes_space(char c) { return c == ' ' || (c >= 9 && c <= 13); }
MX_INLINE List<Bytes> bytes_split(const Bytes& s, None, int64_t maxsplit, const Loc*) {
  List<Bytes> out;
  size_t n = s.size(), i = 0;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  while (i < n) {
    while (i < n && bytes_space(s[i])) ++i;
    if (i == n) break;
    if (maxsplit-- == 0) {
      size_t e = n;
      while (e > i && bytes_space(s[e - 1])) --e;
      out.push_back(Bytes(s.data() + i, e - i));
      break;
    }
    size_t j = i;
    while (j < n && !bytes_space(s[j])) ++j;
    out.push_back(Bytes(s.data() + i, j - i));
    i = j;
  }
  return out;
}
MX_INLINE List<Bytes> bytes_split(const Bytes& s, const Bytes& sep, int64_t maxsplit, const Loc* loc) {
  if (sep.empty()) raise(ErrKind::ValueError, "empty separator", loc);
  List<Bytes> out;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  size_t i = 0, p;
  while (maxsplit-- > 0 && (p = s.view().find(sep.view(), i)) != std::string_view::npos) {
    out.push_back(Bytes(s.data() + i, p - i));
    i = p + sep.size();
  }
  out.push_back(Bytes(s.data() + i, s.size() - i));
  return out;
}
MX_INLINE List<Bytes> bytes_split(const Bytes& s, const Loc* loc) { return bytes_split(s, None{}, -1, loc); }
MX_INLINE List<Bytes> bytes_split(const Bytes& s, None n, const Loc* loc) { return bytes_split(s, n, -1, loc); }
MX_INLINE List<Bytes> bytes_split(const Bytes& s, const Bytes& sep, const Loc* loc) { return bytes_split(s, sep, -1, loc); }
MX_INLINE Bytes bytes_join(const Bytes& sep, const List<Bytes>& parts, const Loc*) {
  std::string out;
  for (int64_t i = 0; i < parts.size(); ++i) {
    if (i) out.append(sep.data(), sep.size());
    out.append(parts[i].data(), parts[i].size());
  }
  return bytes_from(out);
}
MX_INLINE Bytes bytes_strip(const Bytes& s, const Loc*) {
  size_t b = 0, e = s.size();
  while (b < e && bytes_space(s[b])) ++b;
  while (e > b && bytes_space(s[e - 1])) --e;
  return Bytes(s.data() + b, e - b);
}
MX_INLINE Bytes bytes_strip(const Bytes& s, const Bytes& chars, const Loc*) {
  size_t b = 0, e = s.size();
  auto in = [&](char c) { return chars.view().find(c) != std::string_view::npos; };
  while (b < e && in(s[b])) ++b;
  while (e > b && in(s[e - 1])) --e;
  return Bytes(s.data() + b, e - b);
}
MX_INLINE Bytes bytes_lower(const Bytes& s, const Loc*) {
  std::string out(s.data(), s.size());
  for (auto& c : out) if (c >= 'A' && c <= 'Z') c = char(c + 32);
  return bytes_from(out);
}
MX_INLINE Bytes bytes_upper(const Bytes& s, const Loc*) {
  std::string out(s.data(), s.size());
  for (auto& c : out) if (c >= 'a' && c <= 'z') c = char(c - 32);
  return bytes_from(out);
}
MX_INLINE Str bytes_hex(const Bytes& s, const Loc*) {
  static const char d[] = "0123456789abcdef";
  std::string out;
  for (char c : s) { out.push_back(d[(static_cast<unsigned char>(c)) >> 4]); out.push_back(d[c & 0xF]); }
  return str_from_ascii(out.c_str());
}

// ---- more bytes methods: the str algorithms over bytes read as Latin-1 ----------------
// (only where bytes and str agree; case, classes and whitespace are ASCII-only for bytes)

namespace detail {
MX_INLINE Str widen(const Bytes& b) {
  std::u32string u(b.size(), 0);
  for (size_t i = 0; i < b.size(); ++i) u[i] = static_cast<unsigned char>(b[i]);
  return str_from_u32(u);
}
MX_INLINE Bytes narrow(const Str& s) {
  std::string o(s.size(), '\0');
  for (size_t i = 0; i < s.size(); ++i) o[i] = char(s[i]);
  return bytes_from(o);
}
MX_INLINE List<Bytes> narrow(const List<Str>& v) {
  List<Bytes> out;
  for (int64_t i = 0; i < v.size(); ++i) out.push_back(narrow(v[i]));
  return out;
}
MX_INLINE Tuple<Bytes, Bytes, Bytes> narrow(const Tuple<Str, Str, Str>& t) {
  return Tuple<Bytes, Bytes, Bytes>(narrow(std::get<0>(t)), narrow(std::get<1>(t)), narrow(std::get<2>(t)));
}
MX_INLINE Str byte_arg(const Bytes& b, const Loc*) { return widen(b); }
MX_INLINE Str byte_arg(int64_t c, const Loc* loc) {
  if (c < 0 || c > 255) raise(ErrKind::ValueError, "byte must be in range(0, 256)", loc);
  return str_char(char32_t(c));
}
MX_INLINE bool ascii_lower(char c) { return c >= 'a' && c <= 'z'; }
MX_INLINE bool ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
MX_INLINE bool ascii_alpha(char c) { return ascii_lower(c) || ascii_upper(c); }
MX_INLINE bool ascii_digit(char c) { return c >= '0' && c <= '9'; }
MX_INLINE char to_lower(char c) { return ascii_upper(c) ? char(c + 32) : c; }
MX_INLINE char to_upper(char c) { return ascii_lower(c) ? char(c - 32) : c; }
template <class F> inline bool all_bytes(const Bytes& s, F f) {
  if (s.empty()) return false;
  for (char c : s) if (!f(c)) return false;
  return true;
}
MX_INLINE Bytes bytes_strip_impl(const Bytes& s, const Bytes* chars, bool left, bool right) {
  auto in = [&](char c) { return chars ? chars->view().find(c) != std::string_view::npos : bytes_space(c); };
  size_t b = 0, e = s.size();
  if (left) while (b < e && in(s[b])) ++b;
  if (right) while (e > b && in(s[e - 1])) --e;
  return Bytes(s.data() + b, e - b);
}
}  // namespace detail

#define MX_BYTES_SEARCH(name, R)                                                                      \
  template <class S> inline R bytes_##name(const Bytes& s, const S& sub, int64_t start, int64_t end,  \
                                           const Loc* loc) {                                          \
    return str_##name(detail::widen(s), detail::byte_arg(sub, loc), start, end, loc);                 \
  }                                                                                                   \
  template <class S> inline R bytes_##name(const Bytes& s, const S& sub, int64_t start, const Loc* loc) { \
    return bytes_##name(s, sub, start, INT64_MAX, loc);                                               \
  }                                                                                                   \
  template <class S> inline R bytes_##name(const Bytes& s, const S& sub, const Loc* loc) {            \
    return bytes_##name(s, sub, 0, INT64_MAX, loc);                                                   \
  }
MX_BYTES_SEARCH(find, int64_t)
MX_BYTES_SEARCH(rfind, int64_t)
MX_BYTES_SEARCH(index, int64_t)
MX_BYTES_SEARCH(rindex, int64_t)
MX_BYTES_SEARCH(count, int64_t)
#undef MX_BYTES_SEARCH

#define MX_BYTES_AFFIX(name)                                                                           \
  MX_INLINE bool bytes_##name(const Bytes& s, const Bytes& p, int64_t start, int64_t end, const Loc* loc) { \
    return str_##name(detail::widen(s), detail::widen(p), start, end, loc);                            \
  }                                                                                                    \
  MX_INLINE bool bytes_##name(const Bytes& s, const Bytes& p, int64_t start, const Loc* loc) {            \
    return bytes_##name(s, p, start, INT64_MAX, loc);                                                  \
  }                                                                                                    \
  template <class... P, class... A> inline bool bytes_##name(const Bytes& s, const Tuple<P...>& ps, A... a) { \
    bool r = false;                                                                                    \
    std::apply([&](const auto&... p) { ((r = r || bytes_##name(s, p, a...)), ...); },                  \
               static_cast<const std::tuple<P...>&>(ps));                                              \
    return r;                                                                                          \
  }                                                                                                    \
  template <class... A> inline bool bytes_##name(const Bytes& s, const List<Bytes>& ps, A... a) {      \
    for (int64_t i = 0; i < ps.size(); ++i)                                                            \
      if (bytes_##name(s, ps[i], a...)) return true;                                                   \
    return false;                                                                                      \
  }
MX_BYTES_AFFIX(startswith)
MX_BYTES_AFFIX(endswith)
#undef MX_BYTES_AFFIX

MX_INLINE Bytes bytes_replace(const Bytes& s, const Bytes& old, const Bytes& rep, int64_t count, const Loc* loc) {
  return detail::narrow(str_replace(detail::widen(s), detail::widen(old), detail::widen(rep), count, loc));
}
MX_INLINE Bytes bytes_strip(const Bytes& s, None, const Loc*) { return detail::bytes_strip_impl(s, nullptr, true, true); }
MX_INLINE Bytes bytes_lstrip(const Bytes& s, const Loc*) { return detail::bytes_strip_impl(s, nullptr, true, false); }
MX_INLINE Bytes bytes_lstrip(const Bytes& s, None, const Loc*) { return detail::bytes_strip_impl(s, nullptr, true, false); }
MX_INLINE Bytes bytes_lstrip(const Bytes& s, const Bytes& c, const Loc*) { return detail::bytes_strip_impl(s, &c, true, false); }
MX_INLINE Bytes bytes_rstrip(const Bytes& s, const Loc*) { return detail::bytes_strip_impl(s, nullptr, false, true); }
MX_INLINE Bytes bytes_rstrip(const Bytes& s, None, const Loc*) { return detail::bytes_strip_impl(s, nullptr, false, true); }
MX_INLINE Bytes bytes_rstrip(const Bytes& s, const Bytes& c, const Loc*) { return detail::bytes_strip_impl(s, &c, false, true); }

MX_INLINE List<Bytes> bytes_rsplit(const Bytes& s, None, int64_t maxsplit, const Loc*) {
  List<Bytes> out;
  int64_t i = int64_t(s.size());
  if (maxsplit < 0) maxsplit = INT64_MAX;
  while (i > 0) {
    while (i > 0 && bytes_space(s[size_t(i - 1)])) --i;
    if (i == 0) break;
    if (maxsplit-- == 0) {
      int64_t b = 0;
      while (b < i && bytes_space(s[size_t(b)])) ++b;
      out.push_back(Bytes(s.data() + b, size_t(i - b)));
      break;
    }
    int64_t j = i;
    while (j > 0 && !bytes_space(s[size_t(j - 1)])) --j;
    out.push_back(Bytes(s.data() + j, size_t(i - j)));
    i = j;
  }
  std::reverse(out.vec().begin(), out.vec().end());
  return out;
}
MX_INLINE List<Bytes> bytes_rsplit(const Bytes& s, const Bytes& sep, int64_t maxsplit, const Loc* loc) {
  return detail::narrow(str_rsplit(detail::widen(s), detail::widen(sep), maxsplit, loc));
}
MX_INLINE List<Bytes> bytes_rsplit(const Bytes& s, const Loc* loc) { return bytes_rsplit(s, None{}, -1, loc); }
MX_INLINE List<Bytes> bytes_rsplit(const Bytes& s, None n, const Loc* loc) { return bytes_rsplit(s, n, -1, loc); }
MX_INLINE List<Bytes> bytes_rsplit(const Bytes& s, const Bytes& sep, const Loc* loc) { return bytes_rsplit(s, sep, -1, loc); }
MX_INLINE Tuple<Bytes, Bytes, Bytes> bytes_partition(const Bytes& s, const Bytes& sep, const Loc* loc) {
  return detail::narrow(str_partition(detail::widen(s), detail::widen(sep), loc));
}
MX_INLINE Tuple<Bytes, Bytes, Bytes> bytes_rpartition(const Bytes& s, const Bytes& sep, const Loc* loc) {
  return detail::narrow(str_rpartition(detail::widen(s), detail::widen(sep), loc));
}
MX_INLINE Bytes bytes_removeprefix(const Bytes& s, const Bytes& p, const Loc* loc) {
  return detail::narrow(str_removeprefix(detail::widen(s), detail::widen(p), loc));
}
MX_INLINE Bytes bytes_removesuffix(const Bytes& s, const Bytes& p, const Loc* loc) {
  return detail::narrow(str_removesuffix(detail::widen(s), detail::widen(p), loc));
}
MX_INLINE Bytes bytes_expandtabs(const Bytes& s, int64_t tab, const Loc* loc) {
  return detail::narrow(str_expandtabs(detail::widen(s), tab, loc));
}
MX_INLINE Bytes bytes_expandtabs(const Bytes& s, const Loc* loc) { return bytes_expandtabs(s, 8, loc); }
MX_INLINE Bytes bytes_zfill(const Bytes& s, int64_t w, const Loc* loc) { return detail::narrow(str_zfill(detail::widen(s), w, loc)); }
#define MX_BYTES_PAD(name)                                                                       \
  MX_INLINE Bytes bytes_##name(const Bytes& s, int64_t w, const Loc* loc) {                         \
    return detail::narrow(str_##name(detail::widen(s), w, loc));                                 \
  }                                                                                              \
  MX_INLINE Bytes bytes_##name(const Bytes& s, int64_t w, const Bytes& f, const Loc* loc) {         \
    return detail::narrow(str_##name(detail::widen(s), w, detail::widen(f), loc));               \
  }
MX_BYTES_PAD(ljust)
MX_BYTES_PAD(rjust)
MX_BYTES_PAD(center)
#undef MX_BYTES_PAD

MX_INLINE bool bytes_isdigit(const Bytes& s, const Loc*) { return detail::all_bytes(s, detail::ascii_digit); }
MX_INLINE bool bytes_isalpha(const Bytes& s, const Loc*) { return detail::all_bytes(s, detail::ascii_alpha); }
MX_INLINE bool bytes_isalnum(const Bytes& s, const Loc*) {
  return detail::all_bytes(s, [](char c) { return detail::ascii_alpha(c) || detail::ascii_digit(c); });
}
MX_INLINE bool bytes_isspace(const Bytes& s, const Loc*) { return detail::all_bytes(s, bytes_space); }
MX_INLINE bool bytes_isascii(const Bytes& s, const Loc*) {
  for (char c : s) if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}
MX_INLINE bool bytes_islower(const Bytes& s, const Loc*) {
  bool cased = false;
  for (char c : s) { if (detail::ascii_upper(c)) return false; cased |= detail::ascii_lower(c); }
  return cased;
}
MX_INLINE bool bytes_isupper(const Bytes& s, const Loc*) {
  bool cased = false;
  for (char c : s) { if (detail::ascii_lower(c)) return false; cased |= detail::ascii_upper(c); }
  return cased;
}
MX_INLINE bool bytes_istitle(const Bytes& s, const Loc*) {
  bool cased = false, prev_cased = false;
  for (char c : s) {
    if (detail::ascii_upper(c)) { if (prev_cased) return false; prev_cased = cased = true; }
    else if (detail::ascii_lower(c)) { if (!prev_cased) return false; prev_cased = cased = true; }
    else prev_cased = false;
  }
  return cased;
}
MX_INLINE Bytes bytes_title(const Bytes& s, const Loc*) {
  std::string o(s.data(), s.size());
  bool prev_cased = false;
  for (auto& c : o) {
    c = prev_cased ? detail::to_lower(c) : detail::to_upper(c);
    prev_cased = detail::ascii_alpha(c);
  }
  return bytes_from(o);
}
MX_INLINE Bytes bytes_capitalize(const Bytes& s, const Loc*) {
  std::string o(s.data(), s.size());
  for (size_t i = 0; i < o.size(); ++i) o[i] = i ? detail::to_lower(o[i]) : detail::to_upper(o[i]);
  return bytes_from(o);
}
MX_INLINE Bytes bytes_swapcase(const Bytes& s, const Loc*) {
  std::string o(s.data(), s.size());
  for (auto& c : o) c = detail::ascii_upper(c) ? detail::to_lower(c) : detail::to_upper(c);
  return bytes_from(o);
}
MX_INLINE List<Bytes> bytes_splitlines(const Bytes& s, bool keepends, const Loc*) {
  List<Bytes> out;
  size_t i = 0, n = s.size();
  while (i < n) {
    size_t j = i;
    while (j < n && s[j] != '\n' && s[j] != '\r') ++j;
    size_t eol = j;
    if (j < n) j += (s[j] == '\r' && j + 1 < n && s[j + 1] == '\n') ? 2 : 1;
    out.push_back(Bytes(s.data() + i, (keepends ? j : eol) - i));
    i = j;
  }
  return out;
}
MX_INLINE List<Bytes> bytes_splitlines(const Bytes& s, const Loc* loc) { return bytes_splitlines(s, false, loc); }

// b.hex(sep, bytes_per_sep): sep between groups counted from the right (from the
// left for a negative count).
template <class S>
inline Str bytes_hex(const Bytes& s, const S& sep, int64_t per, const Loc* loc) {
  Str sp;
  if constexpr (std::is_same_v<S, Bytes>) sp = detail::widen(sep);
  else if constexpr (std::is_same_v<S, Str>) sp = sep;
  else return bytes_hex(s, loc);
  if (sp.size() != 1) raise(ErrKind::ValueError, "sep must be length 1.", loc);
  if (sp[0] >= 0x80) raise(ErrKind::ValueError, "sep must be ASCII.", loc);
  Str h = bytes_hex(s, loc);
  if (per == 0 || s.size() == 0) return h;
  size_t g = size_t(per < 0 ? -per : per), n = s.size();
  std::u32string out;
  for (size_t i = 0; i < n; ++i) {
    bool boundary = per > 0 ? (i > 0 && (n - i) % g == 0) : (i > 0 && i % g == 0);
    if (boundary) out.push_back(sp[0]);
    out.push_back(h[2 * i]);
    out.push_back(h[2 * i + 1]);
  }
  return str_from_u32(out);
}
template <class S> inline Str bytes_hex(const Bytes& s, const S& sep, const Loc* loc) { return bytes_hex(s, sep, 1, loc); }

}  // namespace mx
