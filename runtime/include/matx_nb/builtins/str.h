// str's methods (code points, Unicode tables from unicodedata): case, search, split and join.
// Part of str_methods.h, the entry point.
#pragma once
#include "../linkage.h"
#include <algorithm>
#include <climits>
#include <cstdio>
#include <string>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "../abi.h"
#include "../ops.h"

namespace mx {


namespace detail {
MX_INLINE std::u32string u32(const Str& s) {
  if (s.narrow()) return std::u32string(s.data8(), s.data8() + s.size());
  return std::u32string(s.data(), s.size());
}
MX_INLINE bool all_ascii(const Str& s) {
  if (s.width() != 1) return false;
  uint32_t m = 0;
  if (s.narrow()) {
    const uint8_t* d = s.data8();
    for (size_t i = 0, n = s.size(); i < n; ++i) m |= d[i];
  } else {
    const char32_t* d = s.data();
    for (size_t i = 0, n = s.size(); i < n; ++i) m |= d[i];
  }
  return m < 0x80;
}
// The bytes of a kind-1 string as chars (for std::string_view's searches).
MX_INLINE std::string_view bv(const Str& s) { return {reinterpret_cast<const char*>(s.data8()), s.size()}; }
// How to look for `sub` in `s`: in bytes (both kind 1), in code points, or not at
// all (a code point above 0xFF never occurs in a kind-1 text).
enum class Search { Bytes, Wide, Never };
MX_INLINE Search search_mode(const Str& s, const Str& sub) {
  if (!s.narrow()) return Search::Wide;
  if (sub.width() > 1) return Search::Never;
  return sub.narrow() ? Search::Bytes : Search::Wide;
}
// Index of the first occurrence of p[0, m) in d[from, n), or npos.
MX_INLINE size_t find_in(const uint8_t* d, size_t n, const uint8_t* p, size_t m, size_t from) {
  if (m == 1) {
    if (from >= n) return std::string_view::npos;
    const void* q = std::memchr(d + from, p[0], n - from);
    return q ? size_t(static_cast<const uint8_t*>(q) - d) : std::string_view::npos;
  }
  return std::string_view(reinterpret_cast<const char*>(d), n).find(std::string_view(reinterpret_cast<const char*>(p), m), from);
}
MX_INLINE size_t find_in(const char32_t* d, size_t n, const char32_t* p, size_t m, size_t from) {
  if (m == 1) {
    for (size_t i = from; i < n; ++i)
      if (d[i] == p[0]) return i;
    return std::u32string_view::npos;
  }
  return std::u32string_view(d, n).find(std::u32string_view(p, m), from);
}
// New strings of one code unit type: kind 1 for uint8_t, kind 4 for char32_t.
template <class U> struct Units;
template <> struct Units<uint8_t> {
  static const uint8_t* of(const Str& s) { return s.data8(); }
  static Str make(size_t n) { return Str::uninit8(n); }
  static uint8_t* out(Str& s) { return s.mutable_data8(); }
  static void done(Str&, int) {}
};
template <> struct Units<char32_t> {
  static const char32_t* of(const Str& s) { return s.data(); }
  static Str make(size_t n) { return Str::uninit(n); }
  static char32_t* out(Str& s) { return s.mutable_data(); }
  // width: the exact width when the caller knows it, else 0 (scan).
  static void done(Str& s, int width) { if (width) s.set_width(width); else s.finish(); }
};
// Python's find() bounds: start/end clamp like slice indices.
MX_INLINE void adjust_bounds(int64_t n, int64_t& start, int64_t& end) {
  if (end > n) end = n;
  else if (end < 0) { end += n; if (end < 0) end = 0; }
  if (start < 0) { start += n; if (start < 0) start = 0; }
}
}  // namespace detail

// ---- case ---------------------------------------------------------------------------

namespace detail {
// ASCII lowering of d[0, n) into a new string of the same kind, or s itself when
// nothing changes; false if a code point >= 0x80 is met (the Unicode path then).
template <class U>
inline bool lower_ascii(const Str& s, const U* p, size_t n, Str* out) {
  size_t i = 0;
  uint32_t seen = 0;
  for (; i < n; ++i) {  // up to the first capital nothing changes
    uint32_t c = p[i];
    seen |= c;
    if (c - 'A' < 26u) break;
  }
  if (seen >= 0x80) return false;
  if (i == n) { *out = s; return true; }
  Str r = Units<U>::make(n);
  U* d = Units<U>::out(r);
  std::memcpy(d, p, i * sizeof(U));
  for (; i < n; ++i) {
    uint32_t c = p[i];
    seen |= c;
    d[i] = U((c - 'A' < 26u) ? c + 32 : c);
  }
  if (seen >= 0x80) return false;
  Units<U>::done(r, 1);
  *out = std::move(r);
  return true;
}
}  // namespace detail

MX_INLINE Str str_lower(const Str& s, const Loc*) {
  if (s.width() == 1) {
    Str r;
    if (s.narrow() ? detail::lower_ascii(s, s.data8(), s.size(), &r) : detail::lower_ascii(s, s.data(), s.size(), &r))
      return r;
  }
  return str_from_u32(unicode::lower(detail::u32(s)));
}
// A temporary nobody else holds (`s.strip().lower()`) is lowered in place.
MX_INLINE Str str_lower(Str&& s, const Loc* loc) {
  if (s.unique() && s.width() == 1) {
    size_t n = s.size();
    uint32_t seen = 0;
    auto lower = [&](auto* d) {
      for (size_t i = 0; i < n; ++i) {
        uint32_t c = d[i];
        seen |= c;
        d[i] = (c - 'A' < 26u) ? c + 32 : c;
      }
    };
    if (s.narrow()) {
#if defined(__SSE2__)
      // Kind 1 (unique: on the heap, padded): 16 bytes at a time, the padding's
      // bytes kept out of `seen` and the terminator put back.
      uint8_t* d = s.mutable_data8();
      const __m128i bias = _mm_set1_epi8(char(0x80 - 'A')), lim = _mm_set1_epi8(char(0x80 + 26)),
                    gap = _mm_set1_epi8(0x20);
      for (size_t i = 0; i < n; i += 16) {
        __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
        uint32_t hi = uint32_t(_mm_movemask_epi8(x));
        if (n - i < 16) hi &= (1u << (n - i)) - 1;
        seen |= hi ? 0x80 : 0;
        // 'A'..'Z' biased to -128..-103: below -102 exactly for the capitals
        __m128i up = _mm_cmplt_epi8(_mm_add_epi8(x, bias), lim);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), _mm_add_epi8(x, _mm_and_si128(up, gap)));
      }
      d[n] = 0;
#else
      lower(s.mutable_data8());
#endif
    } else {
      lower(s.mutable_data());
    }
    s.object()->forget_hash();
    if (seen < 0x80) return std::move(s);
    // Not ASCII: the letters lowered so far lower the same way again.
    return str_from_u32(unicode::lower(detail::u32(s)));
  }
  return str_lower(static_cast<const Str&>(s), loc);
}
MX_INLINE Str str_upper(const Str& s, const Loc*) {
  if (detail::all_ascii(s)) {
    size_t n = s.size();
    Str r = Str::uninit8(n);
    uint8_t* d = r.mutable_data8();
    for (size_t i = 0; i < n; ++i) { uint32_t c = s[i]; d[i] = uint8_t((c - 'a' < 26u) ? c - 32 : c); }
    return r;
  }
  return str_from_u32(unicode::upper(detail::u32(s)));
}
MX_INLINE Str str_casefold(const Str& s, const Loc*) { return str_from_u32(unicode::casefold(detail::u32(s))); }
MX_INLINE Str str_swapcase(const Str& s, const Loc*) { return str_from_u32(unicode::swapcase(detail::u32(s))); }
MX_INLINE Str str_title(const Str& s, const Loc*) { return str_from_u32(unicode::title(detail::u32(s))); }
MX_INLINE Str str_capitalize(const Str& s, const Loc*) { return str_from_u32(unicode::capitalize(detail::u32(s))); }

#define MX_STR_PRED(name) \
  MX_INLINE bool str_##name(const Str& s, const Loc*) { return unicode::str_##name(detail::u32(s)); }
MX_STR_PRED(isalpha)
MX_STR_PRED(isdigit)
MX_STR_PRED(isdecimal)
MX_STR_PRED(isnumeric)
MX_STR_PRED(isspace)
MX_STR_PRED(isalnum)
MX_STR_PRED(isupper)
MX_STR_PRED(islower)
MX_STR_PRED(istitle)
MX_STR_PRED(isprintable)
MX_STR_PRED(isidentifier)
MX_STR_PRED(isascii)
#undef MX_STR_PRED

// ---- search -------------------------------------------------------------------------

namespace detail {
// s.find / s.rfind over s[start:end]: the first or the last place of sub, or -1.
template <bool Last>
inline int64_t find_in_range(const Str& s, const Str& sub, int64_t start, int64_t end) {
  int64_t n = int64_t(s.size());
  adjust_bounds(n, start, end);
  if (start > n || end - start < int64_t(sub.size())) return -1;
  auto in = [&](auto whole, auto part) {
    auto range = whole.substr(size_t(start), size_t(end - start));
    return Last ? range.rfind(part) : range.find(part);
  };
  size_t p;
  switch (search_mode(s, sub)) {
    case Search::Never: return -1;
    case Search::Bytes: p = in(bv(s), bv(sub)); break;
    default: p = in(s.view(), sub.view());
  }
  return p == std::string_view::npos ? -1 : int64_t(p) + start;
}
}  // namespace detail
MX_INLINE int64_t str_find(const Str& s, const Str& sub, int64_t start, int64_t end, const Loc*) {
  return detail::find_in_range<false>(s, sub, start, end);
}
MX_INLINE int64_t str_find(const Str& s, const Str& sub, const Loc* loc) { return str_find(s, sub, 0, INT64_MAX, loc); }
MX_INLINE int64_t str_find(const Str& s, const Str& sub, int64_t start, const Loc* loc) { return str_find(s, sub, start, INT64_MAX, loc); }
MX_INLINE int64_t str_rfind(const Str& s, const Str& sub, int64_t start, int64_t end, const Loc*) {
  return detail::find_in_range<true>(s, sub, start, end);
}
MX_INLINE int64_t str_rfind(const Str& s, const Str& sub, const Loc* loc) { return str_rfind(s, sub, 0, INT64_MAX, loc); }
MX_INLINE int64_t str_rfind(const Str& s, const Str& sub, int64_t start, const Loc* loc) { return str_rfind(s, sub, start, INT64_MAX, loc); }
template <class... A> inline int64_t str_index(const Str& s, const Str& sub, A... a) {
  int64_t r = str_find(s, sub, a...);
  if (r < 0) raise(ErrKind::ValueError, "substring not found", std::get<sizeof...(A) - 1>(std::tuple<A...>(a...)));
  return r;
}
template <class... A> inline int64_t str_rindex(const Str& s, const Str& sub, A... a) {
  int64_t r = str_rfind(s, sub, a...);
  if (r < 0) raise(ErrKind::ValueError, "substring not found", std::get<sizeof...(A) - 1>(std::tuple<A...>(a...)));
  return r;
}
MX_INLINE int64_t str_count(const Str& s, const Str& sub, int64_t start, int64_t end, const Loc*) {
  int64_t n = int64_t(s.size());
  detail::adjust_bounds(n, start, end);
  if (start > n || end < start) return 0;
  if (sub.empty()) return end - start + 1;
  int64_t c = 0;
  auto count = [&](auto v, auto needle) {
    size_t p = 0;
    while ((p = v.find(needle, p)) != decltype(v)::npos) { ++c; p += needle.size(); }
  };
  switch (detail::search_mode(s, sub)) {
    case detail::Search::Never: return 0;
    case detail::Search::Bytes: count(detail::bv(s).substr(size_t(start), size_t(end - start)), detail::bv(sub)); break;
    default: count(s.view().substr(size_t(start), size_t(end - start)), sub.view());
  }
  return c;
}
MX_INLINE int64_t str_count(const Str& s, const Str& sub, const Loc* loc) { return str_count(s, sub, 0, INT64_MAX, loc); }
MX_INLINE int64_t str_count(const Str& s, const Str& sub, int64_t start, const Loc* loc) { return str_count(s, sub, start, INT64_MAX, loc); }

MX_INLINE bool str_match_at(const Str& s, const Str& p, int64_t start, int64_t end, bool at_end) {
  int64_t n = int64_t(s.size());
  detail::adjust_bounds(n, start, end);
  if (start > n) return false;
  int64_t m = int64_t(p.size());
  if (end - start < m) return false;
  size_t at = size_t(at_end ? end - m : start);
  switch (detail::search_mode(s, p)) {
    case detail::Search::Never: return false;
    case detail::Search::Bytes: return m == 0 || std::memcmp(s.data8() + at, p.data8(), size_t(m)) == 0;
    default: return s.view().substr(at, size_t(m)) == p.view();
  }
}
MX_INLINE bool str_startswith(const Str& s, const Str& p, int64_t start, int64_t end, const Loc*) { return str_match_at(s, p, start, end, false); }
MX_INLINE bool str_startswith(const Str& s, const Str& p, const Loc* loc) { return str_startswith(s, p, 0, INT64_MAX, loc); }
MX_INLINE bool str_startswith(const Str& s, const Str& p, int64_t start, const Loc* loc) { return str_startswith(s, p, start, INT64_MAX, loc); }
MX_INLINE bool str_endswith(const Str& s, const Str& p, int64_t start, int64_t end, const Loc*) { return str_match_at(s, p, start, end, true); }
MX_INLINE bool str_endswith(const Str& s, const Str& p, const Loc* loc) { return str_endswith(s, p, 0, INT64_MAX, loc); }
MX_INLINE bool str_endswith(const Str& s, const Str& p, int64_t start, const Loc* loc) { return str_endswith(s, p, start, INT64_MAX, loc); }
template <class... P, class... A> inline bool str_startswith(const Str& s, const Tuple<P...>& ps, A... a) {
  bool any = false;
  std::apply([&](const auto&... p) { ((any = any || str_startswith(s, p, a...)), ...); }, static_cast<const std::tuple<P...>&>(ps));
  return any;
}
template <class... P, class... A> inline bool str_endswith(const Str& s, const Tuple<P...>& ps, A... a) {
  bool any = false;
  std::apply([&](const auto&... p) { ((any = any || str_endswith(s, p, a...)), ...); }, static_cast<const std::tuple<P...>&>(ps));
  return any;
}
// A tuple of prefixes known only at run time (a method called on an Any value).
template <class... A> inline bool str_startswith(const Str& s, const List<Str>& ps, A... a) {
  for (int64_t i = 0; i < ps.size(); ++i) if (str_startswith(s, ps[i], a...)) return true;
  return false;
}
template <class... A> inline bool str_endswith(const Str& s, const List<Str>& ps, A... a) {
  for (int64_t i = 0; i < ps.size(); ++i) if (str_endswith(s, ps[i], a...)) return true;
  return false;
}

// ---- split and join -----------------------------------------------------------------

MX_INLINE bool py_space(char32_t c) { return c < 0x80 ? (c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f)) : unicode::isspace(c); }
namespace detail {
// str.isspace() of the Latin-1 code points: 9-13, 0x1c-0x20, 0x85, 0xa0.
struct Latin1Space {
  bool t[256];
  constexpr Latin1Space() : t() {
    for (int c = 9; c <= 13; ++c) t[c] = true;
    for (int c = 0x1c; c <= 0x20; ++c) t[c] = true;
    t[0x85] = t[0xa0] = true;
  }
};
inline constexpr Latin1Space kLatin1Space{};
}  // namespace detail
MX_INLINE bool py_space(uint8_t c) { return detail::kLatin1Space.t[c]; }

namespace detail {
// Bit i set when d[i] is whitespace (str.isspace()), for the 64 bytes at d of
// which n are the text's; bits past the end are set (the end is a boundary).
// padded: d has 15 readable bytes past its n (a kind-1 buffer's padding), so the
// last block is read 16 bytes at a time too.
MX_INLINE uint64_t space_mask64(const uint8_t* d, size_t n, bool padded = false) {
  uint64_t m = 0;
#if defined(__SSE2__)
  if (n >= 64 || padded) {
    const __m128i sp = _mm_set1_epi8(' '), nine = _mm_set1_epi8(9), four = _mm_set1_epi8(4),
                  fs = _mm_set1_epi8(0x1c), three = _mm_set1_epi8(3), nel = _mm_set1_epi8(char(0x85)),
                  nbsp = _mm_set1_epi8(char(0xa0));
    size_t e = n < 64 ? n : 64;
    for (size_t k = 0; 16 * k < e; ++k) {
      __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + 16 * k));
      __m128i a = _mm_sub_epi8(x, nine);  // 9..13 -> 0..4
      __m128i b = _mm_sub_epi8(x, fs);    // 0x1c..0x1f -> 0..3
      __m128i w = _mm_or_si128(_mm_cmpeq_epi8(x, sp), _mm_cmpeq_epi8(_mm_min_epu8(a, four), a));
      w = _mm_or_si128(w, _mm_cmpeq_epi8(_mm_min_epu8(b, three), b));
      w = _mm_or_si128(w, _mm_or_si128(_mm_cmpeq_epi8(x, nel), _mm_cmpeq_epi8(x, nbsp)));
      m |= uint64_t(uint16_t(_mm_movemask_epi8(w))) << (16 * k);
    }
    if (n < 64) m = (m & ~(~0ULL << n)) | (~0ULL << n);
    return m;
  }
#endif
  size_t e = n < 64 ? n : 64;
  for (size_t i = 0; i < e; ++i) m |= uint64_t(kLatin1Space.t[d[i]]) << i;
  if (n < 64) m |= ~0ULL << n;
  return m;
}
// Calls add(begin, end) for each whitespace-separated word of d[0, n), 64 bytes
// at a time: word starts and ends are the bit transitions of the space mask, so
// the loop has no branch per character.
template <class Add>
inline void word_spans(const uint8_t* d, size_t n, Add&& add, bool padded = false) {
  bool in_word = false;
  size_t start = 0;
  for (size_t base = 0; base < n; base += 64) {
    uint64_t w = ~space_mask64(d + base, n - base, padded);
    uint64_t prev = (w << 1) | uint64_t(in_word);
    uint64_t starts = w & ~prev, ev = starts | (~w & prev);
    while (ev) {
      int b = __builtin_ctzll(ev);
      if ((starts >> b) & 1) start = base + size_t(b);
      else add(start, base + size_t(b));
      ev &= ev - 1;
    }
    in_word = (w >> 63) & 1;
  }
  if (in_word) add(start, n);
}
}  // namespace detail

namespace detail {
// A piece of s: no width scan when s is narrow (its pieces are too).
MX_INLINE Str piece(const Str& s, size_t b, size_t n) {
  if (s.narrow()) return Str::latin1(s.data8() + b, n);
  return s.width() == 1 ? Str::copy_with_width(s.data() + b, n, 1) : Str(s.data() + b, n);
}
}  // namespace detail

MX_RT List<Str> str_split(const Str& s, None, int64_t maxsplit, const Loc*);
#if MX_RT_DEFINE
MX_RT List<Str> str_split(const Str& s, None, int64_t maxsplit, const Loc*) {
  // The words' bounds first (on the stack for up to 64 words), so that the list
  // is allocated once, at its size.
  struct Span { size_t b, e; };
  Span local[64];
  std::vector<Span> more;
  size_t k = 0;
  auto add = [&](size_t b, size_t e) {
    if (k < 64) local[k] = Span{b, e};
    else more.push_back(Span{b, e});
    ++k;
  };
  size_t n = s.size();
  if (maxsplit < 0) maxsplit = INT64_MAX;
  auto scan = [&](const auto* d) {
    size_t i = 0;
    while (i < n) {
      while (i < n && py_space(d[i])) ++i;
      if (i == n) break;
      if (maxsplit-- == 0) {
        add(i, n);  // the rest, trailing whitespace kept
        break;
      }
      size_t j = i;
      while (j < n && !py_space(d[j])) ++j;
      add(i, j);
      i = j;
    }
  };
  if (s.narrow() && maxsplit == INT64_MAX) detail::word_spans(s.data8(), n, add, !s.is_inline());
  else if (s.narrow()) scan(s.data8());
  else scan(s.data());
  List<Str> out;
  out.reserve(int64_t(k));
  for (size_t x = 0; x < k; ++x) {
    const Span& sp = x < 64 ? local[x] : more[x - 64];
    out.push_back(detail::piece(s, sp.b, sp.e - sp.b));
  }
  return out;
}
#endif
// `for w in s.split()`: the words of s one at a time, without the list. Latin-1
// text is scanned 64 bytes at a time as in word_spans(); other text is split
// into a list first.
class SplitWords {
 public:
  explicit SplitWords(Str s) : s_(std::move(s)) {
    n_ = s_.size();
    if (!s_.narrow()) {
      words_ = str_split(s_, None{}, -1, nullptr);
      wide_ = true;
    } else if (s_.is_inline()) {
      std::memcpy(small_, s_.data8(), n_);  // words are read a word at a time: padded here
      d_ = reinterpret_cast<const uint8_t*>(small_);
    } else {
      d_ = s_.data8();  // kind 1: padded (StrObj::alloc)
    }
  }
  SplitWords(const SplitWords&) = delete;
  SplitWords& operator=(const SplitWords&) = delete;
  bool next(Str& out) {
    if (wide_) {
      if (k_ >= words_.size()) return false;
      out = words_[k_++];
      return true;
    }
    const uint8_t* d = d_;
    for (;;) {
      while (ev_) {
        size_t b = size_t(__builtin_ctzll(ev_));
        ev_ &= ev_ - 1;
        if ((starts_ >> b) & 1) {
          start_ = base_ + b;
        } else {
          out = Str::latin1_padded(d + start_, base_ + b - start_);
          return true;
        }
      }
      if (scanned_) base_ += 64;
      if (base_ >= n_) {
        if (!in_word_) return false;
        in_word_ = false;
        out = Str::latin1_padded(d + start_, n_ - start_);
        return true;
      }
      uint64_t w = ~detail::space_mask64(d + base_, n_ - base_, true);  // d_ is padded
      uint64_t prev = (w << 1) | uint64_t(in_word_);
      starts_ = w & ~prev;
      ev_ = starts_ | (~w & prev);
      in_word_ = (w >> 63) & 1;
      scanned_ = true;
    }
  }

 private:
  Str s_;
  const uint8_t* d_ = nullptr;  // s_'s bytes, with 8 readable bytes past each word
  uint64_t small_[2] = {0, 0};
  size_t n_ = 0, base_ = 0, start_ = 0;
  uint64_t starts_ = 0, ev_ = 0;
  bool in_word_ = false, scanned_ = false, wide_ = false;
  List<Str> words_ = List<Str>::uninit_();
  int64_t k_ = 0;
};

MX_INLINE List<Str> str_split(const Str& s, const Str& sep, int64_t maxsplit, const Loc* loc) {
  if (sep.empty()) raise(ErrKind::ValueError, "empty separator", loc);
  List<Str> out;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  size_t i = 0;
  auto split = [&](auto v, auto needle) {
    size_t p;
    while (maxsplit-- > 0 && (p = v.find(needle, i)) != decltype(v)::npos) {
      out.push_back(detail::piece(s, i, p - i));
      i = p + sep.size();
    }
  };
  switch (detail::search_mode(s, sep)) {
    case detail::Search::Never: break;
    case detail::Search::Bytes: split(detail::bv(s), detail::bv(sep)); break;
    default: split(s.view(), sep.view());
  }
  out.push_back(detail::piece(s, i, s.size() - i));
  return out;
}
MX_INLINE List<Str> str_split(const Str& s, const Loc* loc) { return str_split(s, None{}, -1, loc); }
MX_INLINE List<Str> str_split(const Str& s, None n, const Loc* loc) { return str_split(s, n, -1, loc); }
MX_INLINE List<Str> str_split(const Str& s, const Str& sep, const Loc* loc) { return str_split(s, sep, -1, loc); }

MX_INLINE List<Str> str_rsplit(const Str& s, None, int64_t maxsplit, const Loc*) {
  List<Str> out;
  const char32_t* d = s.data();
  int64_t i = int64_t(s.size());
  if (maxsplit < 0) maxsplit = INT64_MAX;
  while (i > 0) {
    while (i > 0 && py_space(d[i - 1])) --i;
    if (i == 0) break;
    if (maxsplit-- == 0) {
      out.push_back(detail::piece(s, 0, size_t(i)));  // the rest, leading whitespace kept
      break;
    }
    int64_t j = i;
    while (j > 0 && !py_space(d[j - 1])) --j;
    out.push_back(detail::piece(s, size_t(j), size_t(i - j)));
    i = j;
  }
  std::reverse(out.vec().begin(), out.vec().end());
  return out;
}
MX_INLINE List<Str> str_rsplit(const Str& s, const Str& sep, int64_t maxsplit, const Loc* loc) {
  if (sep.empty()) raise(ErrKind::ValueError, "empty separator", loc);
  if (maxsplit < 0) return str_split(s, sep, -1, loc);
  List<Str> out;
  auto v = s.view();
  size_t end = s.size();
  while (maxsplit-- > 0 && end >= sep.size()) {
    size_t p = v.substr(0, end).rfind(sep.view());
    if (p == std::u32string_view::npos) break;
    out.push_back(Str(s.data() + p + sep.size(), end - p - sep.size()));
    end = p;
  }
  out.push_back(Str(s.data(), end));
  std::reverse(out.vec().begin(), out.vec().end());
  return out;
}
MX_INLINE List<Str> str_rsplit(const Str& s, const Loc* loc) { return str_rsplit(s, None{}, -1, loc); }
MX_INLINE List<Str> str_rsplit(const Str& s, None n, const Loc* loc) { return str_rsplit(s, n, -1, loc); }
MX_INLINE List<Str> str_rsplit(const Str& s, const Str& sep, const Loc* loc) { return str_rsplit(s, sep, -1, loc); }

namespace detail {
// Copies the code points of x to d (x's width fits in U).
MX_INLINE uint8_t* put_units(uint8_t* d, const Str& x) {
  size_t n = x.size();
  if (x.narrow()) Str::copy_bytes(d, x.data8(), n);
  else { const char32_t* p = x.data(); for (size_t i = 0; i < n; ++i) d[i] = uint8_t(p[i]); }
  return d + n;
}
MX_INLINE char32_t* put_units(char32_t* d, const Str& x) {
  size_t n = x.size();
  if (x.narrow()) {
    const uint8_t* p = x.data8();
    for (size_t i = 0; i < n; ++i) d[i] = p[i];
  } else {
    std::memcpy(d, x.data(), n * 4);
  }
  return d + n;
}
template <class U>
inline Str join_units(const Str& sep, const List<Str>& parts, size_t total, int width) {
  Str r = Units<U>::make(total);
  U* d = Units<U>::out(r);
  int64_t n = parts.size();
  size_t sn = sep.size();
  U s0 = sn ? U(sep[0]) : U(0);
  for (int64_t i = 0; i < n; ++i) {
    if (i) {
      if (sn == 1) *d++ = s0;
      else d = put_units(d, sep);
    }
    d = put_units(d, parts[i]);
  }
  Units<U>::done(r, width);
  return r;
}
}  // namespace detail

namespace detail {
// " ".join(parts) of narrow (inline or kind-1) strings, at most 64: the parts'
// bytes are copied 16 at a time into a kind-1 buffer, whose padding takes the
// overshoot (no branch on each part's length). False if a part is kind 4.
MX_INLINE bool join_narrow(const Str& sep, const List<Str>& parts, Str* out) {
  int64_t n = parts.size();
  uint64_t words[2 * 65];
  const uint8_t* src[65];
  size_t len[65];
  if (!sep.bytes16(src[64], len[64], words + 128)) return false;
  size_t total = len[64] * size_t(n - 1);
  for (int64_t i = 0; i < n; ++i) {
    if (!parts[i].bytes16(src[i], len[i], words + 2 * i)) return false;
    total += len[i];
  }
  if (total <= Str::kInlineMax) return false;
  Str r = Str::uninit8(total);
  uint8_t* d = r.mutable_data8();
  Str::copy16(d, src[0], len[0]);
  d += len[0];
  for (int64_t i = 1; i < n; ++i) {
    Str::copy16(d, src[64], len[64]);
    d += len[64];
    Str::copy16(d, src[i], len[i]);
    d += len[i];
  }
  *d = 0;
  *out = std::move(r);
  return true;
}
}  // namespace detail

MX_INLINE Str str_join(const Str& sep, const List<Str>& parts, const Loc*) {
  int64_t n = parts.size();
  if (n == 0) return Str();
  if (n == 1) return parts[0];
  Str r;
  if (n <= 64 && detail::join_narrow(sep, parts, &r)) return r;
  size_t total = sep.size() * size_t(n - 1);
  int width = sep.width();
  for (int64_t i = 0; i < n; ++i) {
    const Str& x = parts[i];
    total += x.size();
    if (x.width() > width) width = x.width();
  }
  // The parts' widths are exact: so is their max.
  return width == 1 ? detail::join_units<uint8_t>(sep, parts, total, 1)
                    : detail::join_units<char32_t>(sep, parts, total, width);
}

MX_INLINE List<Str> str_splitlines(const Str& s, bool keepends, const Loc*) {
  List<Str> out;
  size_t n = s.size(), i = 0;
  const char32_t* d = s.data();
  auto is_break = [](char32_t c) {
    return c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e ||
           c == 0x85 || c == 0x2028 || c == 0x2029;
  };
  while (i < n) {
    size_t j = i;
    while (j < n && !is_break(d[j])) ++j;
    size_t eol = j;
    if (j < n) {
      if (d[j] == '\r' && j + 1 < n && d[j + 1] == '\n') j += 2;
      else ++j;
      if (keepends) eol = j;
    }
    out.push_back(Str(d + i, eol - i));
    i = j;
  }
  return out;
}
MX_INLINE List<Str> str_splitlines(const Str& s, const Loc* loc) { return str_splitlines(s, false, loc); }

}  // namespace mx
