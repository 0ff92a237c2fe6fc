// str's methods that build a new string: strip, replace, padding, encode.
// Part of str_methods.h, the entry point.
#pragma once
#include "../linkage.h"
#include "str.h"

namespace mx {

// ---- strip, replace, padding ----------------------------------------------------------

MX_INLINE Str strip_impl(const Str& s, const Str* chars, bool left, bool right) {
  size_t b = 0, e = s.size();

  auto strip_it = [&](char32_t c) {
    if (!chars) return py_space(c);
    for (char32_t x : *chars) if (x == c) return true;
    return false;
  };
  if (left) while (b < e && strip_it(s[b])) ++b;
  if (right) while (e > b && strip_it(s[e - 1])) --e;
  if (b == 0 && e == s.size()) return s;
  return detail::piece(s, b, e - b);
}
MX_INLINE Str str_strip(const Str& s, const Loc*) { return strip_impl(s, nullptr, true, true); }
MX_INLINE Str str_strip(const Str& s, None, const Loc*) { return strip_impl(s, nullptr, true, true); }
MX_INLINE Str str_strip(const Str& s, const Str& c, const Loc*) { return strip_impl(s, &c, true, true); }
MX_INLINE Str str_lstrip(const Str& s, const Loc*) { return strip_impl(s, nullptr, true, false); }
MX_INLINE Str str_lstrip(const Str& s, None, const Loc*) { return strip_impl(s, nullptr, true, false); }
MX_INLINE Str str_lstrip(const Str& s, const Str& c, const Loc*) { return strip_impl(s, &c, true, false); }
MX_INLINE Str str_rstrip(const Str& s, const Loc*) { return strip_impl(s, nullptr, false, true); }
MX_INLINE Str str_rstrip(const Str& s, None, const Loc*) { return strip_impl(s, nullptr, false, true); }
MX_INLINE Str str_rstrip(const Str& s, const Str& c, const Loc*) { return strip_impl(s, &c, false, true); }

namespace detail {
// Index of the first `old` (o[0, m)) in d[from, n), or n.
template <class U>
inline size_t find_units(const U* d, size_t n, const U* o, size_t m, size_t from) {
  size_t p = find_in(d, n, o, m, from);
  return p == std::string_view::npos ? n : p;
}
// Replaces in d (the original text, or an exact copy of it) the `count` first
// matches of o[0, m) by r[0, m), from the first match at p.
template <class U>
inline void replace_same_length(U* d, size_t n, const U* o, const U* r, size_t m, int64_t count, size_t p) {
  if (m == 1) {
    U a = o[0], b = r[0];
#if defined(__SSE2__)
    if constexpr (std::is_same<U, uint8_t>::value) {
      if (count == INT64_MAX) {
        // d is a kind-1 buffer (its 16 bytes of padding take the last block's
        // overshoot): 16 bytes at a time, the terminator put back after.
        const __m128i va = _mm_set1_epi8(char(a)), vb = _mm_set1_epi8(char(b));
        for (size_t i = p & ~size_t(15); i < n; i += 16) {
          __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
          __m128i eq = _mm_cmpeq_epi8(x, va);
          _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i),
                           _mm_or_si128(_mm_and_si128(eq, vb), _mm_andnot_si128(eq, x)));
        }
        d[n] = 0;
        return;
      }
    }
#endif
    if (count == INT64_MAX) {
      for (size_t i = p; i < n; ++i) d[i] = d[i] == a ? b : d[i];  // vectorized
    } else {
      for (size_t i = p; i < n && count > 0; ++i)
        if (d[i] == a) { d[i] = b; --count; }
    }
    return;
  }
  // Overwriting a match leaves the text after it, where the next is looked for, as it was.
  while (p < n && count-- > 0) {
    std::memcpy(d + p, r, m * sizeof(U));
    p = find_units(d, n, o, m, p + m);
  }
}
// s.replace(old, rep, count) over code units U (old found in s, count > 0, m > 0);
// width: the result's exact width if known, else 0.
template <class U>
inline Str replace_units(const Str& s, const U* d, const U* od, size_t m, const U* rd, size_t k, int64_t count,
                         int width) {
  size_t n = s.size();
  if (m == 1 && k == 1 && count == INT64_MAX) {  // one character for another: vectorized
    U a = od[0], b = rd[0];
    uint32_t hit = 0;
    for (size_t i = 0; i < n; ++i) hit |= uint32_t(d[i] == a);
    if (!hit) return s;
    Str r = Units<U>::make(n);
    U* o = Units<U>::out(r);
    for (size_t i = 0; i < n; ++i) o[i] = d[i] == a ? b : d[i];
    Units<U>::done(r, width);
    return r;
  }
  size_t p = find_units(d, n, od, m, 0);
  if (p == n) return s;
  Str r;
  if (m == k) {
    r = Units<U>::make(n);
    std::memcpy(Units<U>::out(r), d, n * sizeof(U));
    replace_same_length(Units<U>::out(r), n, od, rd, m, count, p);
  } else {
    size_t hits = 0;
    for (size_t q = p; q < n && int64_t(hits) < count; q = find_units(d, n, od, m, q + m)) ++hits;
    if (k > m && hits > (SIZE_MAX / 8 - n) / (k - m)) throw std::length_error("replace");
    r = Units<U>::make(n - hits * m + hits * k);
    U* o = Units<U>::out(r);
    size_t i = 0;
    // An empty result or replacement has no buffer: memcpy's pointers must not be
    // null even for 0 bytes (UBSan), so empty pieces are not copied.
    for (size_t h = 0; h < hits; ++h) {
      if (p > i) std::memcpy(o, d + i, (p - i) * sizeof(U));
      o += p - i;
      if (k) std::memcpy(o, rd, k * sizeof(U));
      o += k;
      i = p + m;
      if (h + 1 < hits) p = find_units(d, n, od, m, i);
    }
    if (n > i) std::memcpy(o, d + i, (n - i) * sizeof(U));
  }
  Units<U>::done(r, width);
  return r;
}
}  // namespace detail

MX_RT Str str_replace(const Str& s, const Str& old, const Str& rep, int64_t count, const Loc*);
#if MX_RT_DEFINE
MX_RT Str str_replace(const Str& s, const Str& old, const Str& rep, int64_t count, const Loc*) {
  if (count < 0) count = INT64_MAX;
  size_t n = s.size(), m = old.size(), k = rep.size();
  if (m != 0) {
    // One allocation at the final size (no intermediate), or none if nothing matches.
    if (count == 0 || m > n) return s;
    detail::Search mode = detail::search_mode(s, old);
    if (mode == detail::Search::Never) return s;
    if (mode == detail::Search::Bytes && rep.narrow())
      return detail::replace_units<uint8_t>(s, s.data8(), old.data8(), m, rep.data8(), k, count, 1);
    int width = s.width() == 1 && rep.width() == 1 ? 1 : 0;
    return detail::replace_units<char32_t>(s, s.data(), old.data(), m, rep.data(), k, count, width);
  }
  std::u32string out;
  if (old.empty()) {
    // 'ab'.replace('', '-') == '-a-b-'
    size_t i = 0;
    for (; i <= s.size() && count > 0; ++i, --count) {
      out.append(rep.data(), rep.size());
      if (i < s.size()) out.push_back(s[i]);
    }
    if (i <= s.size()) out.append(s.data() + i, s.size() - i);
    return str_from_u32(out);
  }
  return s;
}
#endif
MX_INLINE Str str_replace(const Str& s, const Str& old, const Str& rep, const Loc* loc) { return str_replace(s, old, rep, -1, loc); }
// A temporary nobody else holds (`s.replace(a, b).replace(c, d)`) takes
// replacements of the same length in place.
MX_INLINE Str str_replace(Str&& s, const Str& old, const Str& rep, int64_t count, const Loc* loc) {
  size_t m = old.size();
  if (m != 0 && m == rep.size() && count != 0 && s.unique() && old.object() != s.object() &&
      rep.object() != s.object()) {
    if (count < 0) count = INT64_MAX;
    size_t n = s.size();
    // Overwrites the matches in s's own buffer (bytes or code points); false if none.
    auto in_place = [&](auto* d, const auto* o, const auto* r) {
      size_t p = 0;
      if (m > 1 || count != INT64_MAX) {  // one character for another, all of them: no search
        p = m > n ? n : detail::find_units(d, n, o, m, 0);
        if (p == n) return false;
      }
      detail::replace_same_length(d, n, o, r, m, count, p);
      s.object()->forget_hash();
      return true;
    };
    if (s.narrow()) {
      if (old.width() > 1) return std::move(s);  // cannot occur
      if (old.narrow() && rep.narrow()) {
        in_place(s.mutable_data8(), old.data8(), rep.data8());
        return std::move(s);
      }
    } else {
      if (in_place(s.mutable_data(), old.data(), rep.data()) && !(s.width() == 1 && rep.width() == 1)) s.finish();
      return std::move(s);
    }
  }
  return str_replace(static_cast<const Str&>(s), old, rep, count, loc);
}
MX_INLINE Str str_replace(Str&& s, const Str& old, const Str& rep, const Loc* loc) { return str_replace(std::move(s), old, rep, -1, loc); }

// s padded with fill to width; the size is checked before allocating, so a
// huge width raises MemoryError at the user's line like CPython.
MX_INLINE Str pad_impl(const Str& s, int64_t width, char32_t fill, int align, const Loc* loc) {
  int64_t n = int64_t(s.size());
  if (width <= n) return s;
  int64_t total = width - n, left = align < 0 ? 0 : (align > 0 ? total : total / 2 + (total & width & 1));
  Str r = alloc_buf<Str>(width, "padded string is too long", loc);
  char32_t* d = r.mutable_data();
  std::fill_n(d, left, fill);
  std::memcpy(d + left, s.data(), size_t(n) * sizeof(char32_t));
  std::fill_n(d + left + n, total - left, fill);
  r.finish();
  return r;
}
MX_INLINE char32_t fill_char(const Str& f, const Loc* loc) {
  if (f.size() != 1) raise(ErrKind::TypeError, "The fill character must be exactly one character long", loc);
  return f[0];
}
MX_INLINE Str str_center(const Str& s, int64_t w, const Loc* loc) { return pad_impl(s, w, ' ', 0, loc); }
MX_INLINE Str str_center(const Str& s, int64_t w, const Str& f, const Loc* loc) { return pad_impl(s, w, fill_char(f, loc), 0, loc); }
MX_INLINE Str str_ljust(const Str& s, int64_t w, const Loc* loc) { return pad_impl(s, w, ' ', -1, loc); }
MX_INLINE Str str_ljust(const Str& s, int64_t w, const Str& f, const Loc* loc) { return pad_impl(s, w, fill_char(f, loc), -1, loc); }
MX_INLINE Str str_rjust(const Str& s, int64_t w, const Loc* loc) { return pad_impl(s, w, ' ', 1, loc); }
MX_INLINE Str str_rjust(const Str& s, int64_t w, const Str& f, const Loc* loc) { return pad_impl(s, w, fill_char(f, loc), 1, loc); }
MX_INLINE Str str_zfill(const Str& s, int64_t width, const Loc* loc) {
  Str r = pad_impl(s, width, U'0', 1, loc);
  int64_t n = int64_t(s.size());
  if (width > n && n && (s[0] == '+' || s[0] == '-')) {
    char32_t* d = r.mutable_data();  // r is a new buffer: move the sign to the front
    d[0] = s[0];
    d[width - n] = U'0';
  }
  return r;
}
MX_INLINE Tuple<Str, Str, Str> str_partition(const Str& s, const Str& sep, const Loc* loc) {
  if (sep.empty()) raise(ErrKind::ValueError, "empty separator", loc);
  auto p = s.view().find(sep.view());
  if (p == std::u32string_view::npos) return Tuple<Str, Str, Str>(s, Str(), Str());
  return Tuple<Str, Str, Str>(Str(s.data(), p), sep, Str(s.data() + p + sep.size(), s.size() - p - sep.size()));
}
MX_INLINE Tuple<Str, Str, Str> str_rpartition(const Str& s, const Str& sep, const Loc* loc) {
  if (sep.empty()) raise(ErrKind::ValueError, "empty separator", loc);
  auto p = s.view().rfind(sep.view());
  if (p == std::u32string_view::npos) return Tuple<Str, Str, Str>(Str(), Str(), s);
  return Tuple<Str, Str, Str>(Str(s.data(), p), sep, Str(s.data() + p + sep.size(), s.size() - p - sep.size()));
}
MX_INLINE Str str_removeprefix(const Str& s, const Str& p, const Loc*) {
  if (s.view().substr(0, p.size()) == p.view()) return Str(s.data() + p.size(), s.size() - p.size());
  return s;
}
MX_INLINE Str str_removesuffix(const Str& s, const Str& p, const Loc*) {
  if (!p.empty() && s.size() >= p.size() && s.view().substr(s.size() - p.size()) == p.view())
    return Str(s.data(), s.size() - p.size());
  return s;
}
MX_INLINE Str str_expandtabs(const Str& s, int64_t tab, const Loc* loc) {
  // CPython takes the tab size as a C int.
  if (tab > INT_MAX) raise(ErrKind::OverflowError, "Python int too large to convert to C int", loc);
  if (tab < INT_MIN) raise(ErrKind::OverflowError, "signed integer is less than minimum", loc);
  // The result's length first (CPython does the same), so that a huge one
  // raises MemoryError before anything is allocated.
  int64_t total = 0, col = 0;
  for (char32_t c : s) {
    if (c == '\t') {
      if (tab > 0) {
        int64_t k = tab - col % tab;
        total += k;
        col += k;
      }
    } else {
      ++total;
      col = (c == '\n' || c == '\r') ? 0 : col + 1;
    }
    if (total > kMaxBufLen) raise_too_long("expanded string is too long", loc);
  }
  Str r = alloc_buf<Str>(total, "expanded string is too long", loc);
  char32_t* d = r.mutable_data();
  col = 0;
  for (char32_t c : s) {
    if (c == '\t') {
      if (tab > 0) {
        int64_t k = tab - col % tab;
        d = std::fill_n(d, k, U' ');
        col += k;
      }
    } else {
      *d++ = c;
      col = (c == '\n' || c == '\r') ? 0 : col + 1;
    }
  }
  r.finish();
  return r;
}
MX_INLINE Str str_expandtabs(const Str& s, const Loc* loc) { return str_expandtabs(s, 8, loc); }

namespace detail {
MX_INLINE bool is_surrogate(char32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

[[noreturn]] inline void throw_codec_error(CodecError e, const Loc* loc) {
  e.set_loc(loc);
  throw e;
}

// CPython's UnicodeEncodeError for the run of surrogates starting at `start`.
[[noreturn]] __attribute__((noinline, cold)) inline void raise_encode_error(const Str& s, size_t start,
                                                                            const Loc* loc) {
  size_t end = start + 1;
  while (end < s.size() && is_surrogate(s[end])) ++end;
  const char* reason = "surrogates not allowed";
  char where[96];
  if (end == start + 1)
    std::snprintf(where, sizeof where, "character '\\u%04x' in position %zu", unsigned(s[start]), start);
  else
    std::snprintf(where, sizeof where, "characters in position %zu-%zu", start, end - 1);
  std::string object(reinterpret_cast<const char*>(s.data()), s.size() * sizeof(char32_t));
  throw_codec_error(CodecError(ErrKind::UnicodeEncodeError,
                               std::string("'utf-8' codec can't encode ") + where + ": " + reason, "utf-8",
                               std::move(object), int64_t(start), int64_t(end), reason),
                    loc);
}

// CPython's UnicodeDecodeError for the invalid UTF-8 sequence at `start`: the
// same reason and bad range as CPython's decoder (Objects/stringlib/codecs.h).
// End of the invalid UTF-8 sequence at `start` as CPython's decoder delimits it;
// *code is 0 for unexpected end of data, 1 for an invalid start byte, k >= 2 for
// an invalid continuation byte after k - 1 good bytes.
MX_INLINE size_t utf8_error_end(const Bytes& b, size_t start, int* code_out) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(b.data()) + start;
  size_t left = b.size() - start;
  auto cont = [&](size_t k) { return (p[k] & 0xC0) == 0x80; };
  int code = 1;
  unsigned c = p[0];
  if (c >= 0xC2 && c < 0xE0) {
    code = left < 2 ? 0 : 2;
  } else if (c >= 0xE0 && c < 0xF0) {
    if (left < 2) code = 0;
    else if (!cont(1) || (p[1] < 0xA0 ? c == 0xE0 : c == 0xED)) code = 2;
    else if (left < 3) code = 0;
    else code = 3;
  } else if (c >= 0xF0 && c < 0xF5) {
    if (left < 2) code = 0;
    else if (!cont(1) || (p[1] < 0x90 ? c == 0xF0 : c == 0xF4)) code = 2;
    else if (left < 3) code = 0;
    else if (!cont(2)) code = 3;
    else if (left < 4) code = 0;
    else code = 4;
  }
  *code_out = code;
  return code == 0 ? b.size() : start + (code == 1 ? 1 : size_t(code) - 1);
}

[[noreturn]] __attribute__((noinline, cold)) inline void raise_decode_error(const Bytes& b, size_t start,
                                                                            const Loc* loc) {
  unsigned c = static_cast<unsigned char>(b[start]);
  int code;
  size_t end = utf8_error_end(b, start, &code);
  const char* reason = code == 0 ? "unexpected end of data" : code == 1 ? "invalid start byte" : "invalid continuation byte";
  char where[96];
  if (end == start + 1)
    std::snprintf(where, sizeof where, "byte 0x%02x in position %zu", c, start);
  else
    std::snprintf(where, sizeof where, "bytes in position %zu-%zu", start, end - 1);
  throw_codec_error(CodecError(ErrKind::UnicodeDecodeError,
                               std::string("'utf-8' codec can't decode ") + where + ": " + reason, "utf-8",
                               std::string(b.data(), b.size()), int64_t(start), int64_t(end), reason),
                    loc);
}
}  // namespace detail

MX_INLINE Bytes str_encode(const Str& s, const Loc* loc) {
  for (size_t i = 0; i < s.size(); ++i)
    if (detail::is_surrogate(s[i])) detail::raise_encode_error(s, i, loc);
  return bytes_from(utf8_encode(s));
}
MX_INLINE bool is_utf8_name(const Str& e) {
  std::string n = utf8_encode(e);
  for (auto& c : n) c = char(std::tolower(static_cast<unsigned char>(c)));
  return n == "utf-8" || n == "utf8" || n == "utf_8";
}
MX_INLINE Bytes str_encode(const Str& s, const Str& enc, const Str& errors, const Loc* loc);
MX_INLINE Bytes str_encode(const Str& s, const Str& enc, const Loc* loc) {
  if (!is_utf8_name(enc)) return str_encode(s, enc, str_from_ascii("strict"), loc);
  return str_encode(s, loc);
}

}  // namespace mx
