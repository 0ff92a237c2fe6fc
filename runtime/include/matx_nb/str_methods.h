// Methods of str (code points, Unicode tables from unicodedata) and bytes.
#pragma once
#include <algorithm>
#include <climits>
#include <cstdio>
#include <string>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "abi.h"
#include "ops.h"

namespace mx {

namespace detail {
inline std::u32string u32(const Str& s) {
  if (s.narrow()) return std::u32string(s.data8(), s.data8() + s.size());
  return std::u32string(s.data(), s.size());
}
inline bool all_ascii(const Str& s) {
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
inline std::string_view bv(const Str& s) { return {reinterpret_cast<const char*>(s.data8()), s.size()}; }
// How to look for `sub` in `s`: in bytes (both kind 1), in code points, or not at
// all (a code point above 0xFF never occurs in a kind-1 text).
enum class Search { Bytes, Wide, Never };
inline Search search_mode(const Str& s, const Str& sub) {
  if (!s.narrow()) return Search::Wide;
  if (sub.width() > 1) return Search::Never;
  return sub.narrow() ? Search::Bytes : Search::Wide;
}
// Index of the first occurrence of p[0, m) in d[from, n), or npos.
inline size_t find_in(const uint8_t* d, size_t n, const uint8_t* p, size_t m, size_t from) {
  if (m == 1) {
    if (from >= n) return std::string_view::npos;
    const void* q = std::memchr(d + from, p[0], n - from);
    return q ? size_t(static_cast<const uint8_t*>(q) - d) : std::string_view::npos;
  }
  return std::string_view(reinterpret_cast<const char*>(d), n).find(std::string_view(reinterpret_cast<const char*>(p), m), from);
}
inline size_t find_in(const char32_t* d, size_t n, const char32_t* p, size_t m, size_t from) {
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
inline void adjust_bounds(int64_t n, int64_t& start, int64_t& end) {
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

inline Str str_lower(const Str& s, const Loc*) {
  if (s.width() == 1) {
    Str r;
    if (s.narrow() ? detail::lower_ascii(s, s.data8(), s.size(), &r) : detail::lower_ascii(s, s.data(), s.size(), &r))
      return r;
  }
  return str_from_u32(unicode::lower(detail::u32(s)));
}
// A temporary nobody else holds (`s.strip().lower()`) is lowered in place.
inline Str str_lower(Str&& s, const Loc* loc) {
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
inline Str str_upper(const Str& s, const Loc*) {
  if (detail::all_ascii(s)) {
    size_t n = s.size();
    Str r = Str::uninit8(n);
    uint8_t* d = r.mutable_data8();
    for (size_t i = 0; i < n; ++i) { uint32_t c = s[i]; d[i] = uint8_t((c - 'a' < 26u) ? c - 32 : c); }
    return r;
  }
  return str_from_u32(unicode::upper(detail::u32(s)));
}
inline Str str_casefold(const Str& s, const Loc*) { return str_from_u32(unicode::casefold(detail::u32(s))); }
inline Str str_swapcase(const Str& s, const Loc*) { return str_from_u32(unicode::swapcase(detail::u32(s))); }
inline Str str_title(const Str& s, const Loc*) { return str_from_u32(unicode::title(detail::u32(s))); }
inline Str str_capitalize(const Str& s, const Loc*) { return str_from_u32(unicode::capitalize(detail::u32(s))); }

#define MX_STR_PRED(name) \
  inline bool str_##name(const Str& s, const Loc*) { return unicode::str_##name(detail::u32(s)); }
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

inline int64_t str_find(const Str& s, const Str& sub, int64_t start, int64_t end, const Loc*) {
  int64_t n = int64_t(s.size());
  detail::adjust_bounds(n, start, end);
  if (start > n || end - start < int64_t(sub.size())) return -1;
  size_t p;
  switch (detail::search_mode(s, sub)) {
    case detail::Search::Never: return -1;
    case detail::Search::Bytes: p = detail::bv(s).substr(size_t(start), size_t(end - start)).find(detail::bv(sub)); break;
    default: p = s.view().substr(size_t(start), size_t(end - start)).find(sub.view());
  }
  return p == std::string_view::npos ? -1 : int64_t(p) + start;
}
inline int64_t str_find(const Str& s, const Str& sub, const Loc* loc) { return str_find(s, sub, 0, INT64_MAX, loc); }
inline int64_t str_find(const Str& s, const Str& sub, int64_t start, const Loc* loc) { return str_find(s, sub, start, INT64_MAX, loc); }
inline int64_t str_rfind(const Str& s, const Str& sub, int64_t start, int64_t end, const Loc*) {
  int64_t n = int64_t(s.size());
  detail::adjust_bounds(n, start, end);
  if (start > n || end - start < int64_t(sub.size())) return -1;
  size_t p;
  switch (detail::search_mode(s, sub)) {
    case detail::Search::Never: return -1;
    case detail::Search::Bytes: p = detail::bv(s).substr(size_t(start), size_t(end - start)).rfind(detail::bv(sub)); break;
    default: p = s.view().substr(size_t(start), size_t(end - start)).rfind(sub.view());
  }
  return p == std::string_view::npos ? -1 : int64_t(p) + start;
}
inline int64_t str_rfind(const Str& s, const Str& sub, const Loc* loc) { return str_rfind(s, sub, 0, INT64_MAX, loc); }
inline int64_t str_rfind(const Str& s, const Str& sub, int64_t start, const Loc* loc) { return str_rfind(s, sub, start, INT64_MAX, loc); }
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
inline int64_t str_count(const Str& s, const Str& sub, int64_t start, int64_t end, const Loc*) {
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
inline int64_t str_count(const Str& s, const Str& sub, const Loc* loc) { return str_count(s, sub, 0, INT64_MAX, loc); }
inline int64_t str_count(const Str& s, const Str& sub, int64_t start, const Loc* loc) { return str_count(s, sub, start, INT64_MAX, loc); }

inline bool str_match_at(const Str& s, const Str& p, int64_t start, int64_t end, bool at_end) {
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
inline bool str_startswith(const Str& s, const Str& p, int64_t start, int64_t end, const Loc*) { return str_match_at(s, p, start, end, false); }
inline bool str_startswith(const Str& s, const Str& p, const Loc* loc) { return str_startswith(s, p, 0, INT64_MAX, loc); }
inline bool str_startswith(const Str& s, const Str& p, int64_t start, const Loc* loc) { return str_startswith(s, p, start, INT64_MAX, loc); }
inline bool str_endswith(const Str& s, const Str& p, int64_t start, int64_t end, const Loc*) { return str_match_at(s, p, start, end, true); }
inline bool str_endswith(const Str& s, const Str& p, const Loc* loc) { return str_endswith(s, p, 0, INT64_MAX, loc); }
inline bool str_endswith(const Str& s, const Str& p, int64_t start, const Loc* loc) { return str_endswith(s, p, start, INT64_MAX, loc); }
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

inline bool py_space(char32_t c) { return c < 0x80 ? (c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f)) : unicode::isspace(c); }
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
inline bool py_space(uint8_t c) { return detail::kLatin1Space.t[c]; }

namespace detail {
// Bit i set when d[i] is whitespace (str.isspace()), for the 64 bytes at d of
// which n are the text's; bits past the end are set (the end is a boundary).
// padded: d has 15 readable bytes past its n (a kind-1 buffer's padding), so the
// last block is read 16 bytes at a time too.
inline uint64_t space_mask64(const uint8_t* d, size_t n, bool padded = false) {
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
inline Str piece(const Str& s, size_t b, size_t n) {
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

inline List<Str> str_split(const Str& s, const Str& sep, int64_t maxsplit, const Loc* loc) {
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
inline List<Str> str_split(const Str& s, const Loc* loc) { return str_split(s, None{}, -1, loc); }
inline List<Str> str_split(const Str& s, None n, const Loc* loc) { return str_split(s, n, -1, loc); }
inline List<Str> str_split(const Str& s, const Str& sep, const Loc* loc) { return str_split(s, sep, -1, loc); }

inline List<Str> str_rsplit(const Str& s, None, int64_t maxsplit, const Loc*) {
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
inline List<Str> str_rsplit(const Str& s, const Str& sep, int64_t maxsplit, const Loc* loc) {
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
inline List<Str> str_rsplit(const Str& s, const Loc* loc) { return str_rsplit(s, None{}, -1, loc); }
inline List<Str> str_rsplit(const Str& s, None n, const Loc* loc) { return str_rsplit(s, n, -1, loc); }
inline List<Str> str_rsplit(const Str& s, const Str& sep, const Loc* loc) { return str_rsplit(s, sep, -1, loc); }

namespace detail {
// Copies the code points of x to d (x's width fits in U).
inline uint8_t* put_units(uint8_t* d, const Str& x) {
  size_t n = x.size();
  if (x.narrow()) Str::copy_bytes(d, x.data8(), n);
  else { const char32_t* p = x.data(); for (size_t i = 0; i < n; ++i) d[i] = uint8_t(p[i]); }
  return d + n;
}
inline char32_t* put_units(char32_t* d, const Str& x) {
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
inline bool join_narrow(const Str& sep, const List<Str>& parts, Str* out) {
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

inline Str str_join(const Str& sep, const List<Str>& parts, const Loc*) {
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

inline List<Str> str_splitlines(const Str& s, bool keepends, const Loc*) {
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
inline List<Str> str_splitlines(const Str& s, const Loc* loc) { return str_splitlines(s, false, loc); }

// ---- strip, replace, padding ----------------------------------------------------------

inline Str strip_impl(const Str& s, const Str* chars, bool left, bool right) {
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
inline Str str_strip(const Str& s, const Loc*) { return strip_impl(s, nullptr, true, true); }
inline Str str_strip(const Str& s, None, const Loc*) { return strip_impl(s, nullptr, true, true); }
inline Str str_strip(const Str& s, const Str& c, const Loc*) { return strip_impl(s, &c, true, true); }
inline Str str_lstrip(const Str& s, const Loc*) { return strip_impl(s, nullptr, true, false); }
inline Str str_lstrip(const Str& s, None, const Loc*) { return strip_impl(s, nullptr, true, false); }
inline Str str_lstrip(const Str& s, const Str& c, const Loc*) { return strip_impl(s, &c, true, false); }
inline Str str_rstrip(const Str& s, const Loc*) { return strip_impl(s, nullptr, false, true); }
inline Str str_rstrip(const Str& s, None, const Loc*) { return strip_impl(s, nullptr, false, true); }
inline Str str_rstrip(const Str& s, const Str& c, const Loc*) { return strip_impl(s, &c, false, true); }

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
inline Str str_replace(const Str& s, const Str& old, const Str& rep, const Loc* loc) { return str_replace(s, old, rep, -1, loc); }
// A temporary nobody else holds (`s.replace(a, b).replace(c, d)`) takes
// replacements of the same length in place.
inline Str str_replace(Str&& s, const Str& old, const Str& rep, int64_t count, const Loc* loc) {
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
inline Str str_replace(Str&& s, const Str& old, const Str& rep, const Loc* loc) { return str_replace(std::move(s), old, rep, -1, loc); }

// s padded with fill to width; the size is checked before allocating, so a
// huge width raises MemoryError at the user's line like CPython.
inline Str pad_impl(const Str& s, int64_t width, char32_t fill, int align, const Loc* loc) {
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
inline char32_t fill_char(const Str& f, const Loc* loc) {
  if (f.size() != 1) raise(ErrKind::TypeError, "The fill character must be exactly one character long", loc);
  return f[0];
}
inline Str str_center(const Str& s, int64_t w, const Loc* loc) { return pad_impl(s, w, ' ', 0, loc); }
inline Str str_center(const Str& s, int64_t w, const Str& f, const Loc* loc) { return pad_impl(s, w, fill_char(f, loc), 0, loc); }
inline Str str_ljust(const Str& s, int64_t w, const Loc* loc) { return pad_impl(s, w, ' ', -1, loc); }
inline Str str_ljust(const Str& s, int64_t w, const Str& f, const Loc* loc) { return pad_impl(s, w, fill_char(f, loc), -1, loc); }
inline Str str_rjust(const Str& s, int64_t w, const Loc* loc) { return pad_impl(s, w, ' ', 1, loc); }
inline Str str_rjust(const Str& s, int64_t w, const Str& f, const Loc* loc) { return pad_impl(s, w, fill_char(f, loc), 1, loc); }
inline Str str_zfill(const Str& s, int64_t width, const Loc* loc) {
  Str r = pad_impl(s, width, U'0', 1, loc);
  int64_t n = int64_t(s.size());
  if (width > n && n && (s[0] == '+' || s[0] == '-')) {
    char32_t* d = r.mutable_data();  // r is a new buffer: move the sign to the front
    d[0] = s[0];
    d[width - n] = U'0';
  }
  return r;
}
inline Tuple<Str, Str, Str> str_partition(const Str& s, const Str& sep, const Loc* loc) {
  if (sep.empty()) raise(ErrKind::ValueError, "empty separator", loc);
  auto p = s.view().find(sep.view());
  if (p == std::u32string_view::npos) return Tuple<Str, Str, Str>(s, Str(), Str());
  return Tuple<Str, Str, Str>(Str(s.data(), p), sep, Str(s.data() + p + sep.size(), s.size() - p - sep.size()));
}
inline Tuple<Str, Str, Str> str_rpartition(const Str& s, const Str& sep, const Loc* loc) {
  if (sep.empty()) raise(ErrKind::ValueError, "empty separator", loc);
  auto p = s.view().rfind(sep.view());
  if (p == std::u32string_view::npos) return Tuple<Str, Str, Str>(Str(), Str(), s);
  return Tuple<Str, Str, Str>(Str(s.data(), p), sep, Str(s.data() + p + sep.size(), s.size() - p - sep.size()));
}
inline Str str_removeprefix(const Str& s, const Str& p, const Loc*) {
  if (s.view().substr(0, p.size()) == p.view()) return Str(s.data() + p.size(), s.size() - p.size());
  return s;
}
inline Str str_removesuffix(const Str& s, const Str& p, const Loc*) {
  if (!p.empty() && s.size() >= p.size() && s.view().substr(s.size() - p.size()) == p.view())
    return Str(s.data(), s.size() - p.size());
  return s;
}
inline Str str_expandtabs(const Str& s, int64_t tab, const Loc* loc) {
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
inline Str str_expandtabs(const Str& s, const Loc* loc) { return str_expandtabs(s, 8, loc); }

namespace detail {
inline bool is_surrogate(char32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

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
inline size_t utf8_error_end(const Bytes& b, size_t start, int* code_out) {
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

inline Bytes str_encode(const Str& s, const Loc* loc) {
  for (size_t i = 0; i < s.size(); ++i)
    if (detail::is_surrogate(s[i])) detail::raise_encode_error(s, i, loc);
  return bytes_from(utf8_encode(s));
}
inline bool is_utf8_name(const Str& e) {
  std::string n = utf8_encode(e);
  for (auto& c : n) c = char(std::tolower(static_cast<unsigned char>(c)));
  return n == "utf-8" || n == "utf8" || n == "utf_8";
}
inline Bytes str_encode(const Str& s, const Str& enc, const Str& errors, const Loc* loc);
inline Bytes str_encode(const Str& s, const Str& enc, const Loc* loc) {
  if (!is_utf8_name(enc)) return str_encode(s, enc, str_from_ascii("strict"), loc);
  return str_encode(s, loc);
}

// ---- bytes --------------------------------------------------------------------------

inline Str bytes_decode(const Bytes& b, const Loc* loc) {
  std::u32string out;
  size_t bad = 0;
  if (!utf8_decode(b.data(), b.size(), out, &bad)) detail::raise_decode_error(b, bad, loc);
  return str_from_u32(out);
}
inline Str bytes_decode(const Bytes& b, const Str& enc, const Str& errors, const Loc* loc);
inline Str bytes_decode(const Bytes& b, const Str& enc, const Loc* loc) {
  if (!is_utf8_name(enc)) return bytes_decode(b, enc, str_from_ascii("strict"), loc);
  return bytes_decode(b, loc);
}
inline bool bytes_startswith(const Bytes& s, const Bytes& p, const Loc*) { return s.view().substr(0, p.size()) == p.view(); }
inline bool bytes_endswith(const Bytes& s, const Bytes& p, const Loc*) {
  return s.size() >= p.size() && s.view().substr(s.size() - p.size()) == p.view();
}
inline int64_t bytes_find(const Bytes& s, const Bytes& p, const Loc*) {
  auto r = s.view().find(p.view());
  return r == std::string_view::npos ? -1 : int64_t(r);
}
inline int64_t bytes_count(const Bytes& s, const Bytes& p, const Loc*) {
  if (p.empty()) return int64_t(s.size()) + 1;
  int64_t c = 0;
  size_t i = 0;
  while ((i = s.view().find(p.view(), i)) != std::string_view::npos) { ++c; i += p.size(); }
  return c;
}
inline Bytes bytes_replace(const Bytes& s, const Bytes& old, const Bytes& rep, const Loc* loc) {
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
inline bool bytes_space(char c) { return c == ' ' || (c >= 9 && c <= 13); }
inline List<Bytes> bytes_split(const Bytes& s, None, int64_t maxsplit, const Loc*) {
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
inline List<Bytes> bytes_split(const Bytes& s, const Bytes& sep, int64_t maxsplit, const Loc* loc) {
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
inline List<Bytes> bytes_split(const Bytes& s, const Loc* loc) { return bytes_split(s, None{}, -1, loc); }
inline List<Bytes> bytes_split(const Bytes& s, None n, const Loc* loc) { return bytes_split(s, n, -1, loc); }
inline List<Bytes> bytes_split(const Bytes& s, const Bytes& sep, const Loc* loc) { return bytes_split(s, sep, -1, loc); }
inline Bytes bytes_join(const Bytes& sep, const List<Bytes>& parts, const Loc*) {
  std::string out;
  for (int64_t i = 0; i < parts.size(); ++i) {
    if (i) out.append(sep.data(), sep.size());
    out.append(parts[i].data(), parts[i].size());
  }
  return bytes_from(out);
}
inline Bytes bytes_strip(const Bytes& s, const Loc*) {
  size_t b = 0, e = s.size();
  while (b < e && bytes_space(s[b])) ++b;
  while (e > b && bytes_space(s[e - 1])) --e;
  return Bytes(s.data() + b, e - b);
}
inline Bytes bytes_strip(const Bytes& s, const Bytes& chars, const Loc*) {
  size_t b = 0, e = s.size();
  auto in = [&](char c) { return chars.view().find(c) != std::string_view::npos; };
  while (b < e && in(s[b])) ++b;
  while (e > b && in(s[e - 1])) --e;
  return Bytes(s.data() + b, e - b);
}
inline Bytes bytes_lower(const Bytes& s, const Loc*) {
  std::string out(s.data(), s.size());
  for (auto& c : out) if (c >= 'A' && c <= 'Z') c = char(c + 32);
  return bytes_from(out);
}
inline Bytes bytes_upper(const Bytes& s, const Loc*) {
  std::string out(s.data(), s.size());
  for (auto& c : out) if (c >= 'a' && c <= 'z') c = char(c - 32);
  return bytes_from(out);
}
inline Str bytes_hex(const Bytes& s, const Loc*) {
  static const char d[] = "0123456789abcdef";
  std::string out;
  for (char c : s) { out.push_back(d[(static_cast<unsigned char>(c)) >> 4]); out.push_back(d[c & 0xF]); }
  return str_from_ascii(out.c_str());
}

// ---- more bytes methods: the str algorithms over bytes read as Latin-1 ----------------
// (only where bytes and str agree; case, classes and whitespace are ASCII-only for bytes)

namespace detail {
inline Str widen(const Bytes& b) {
  std::u32string u(b.size(), 0);
  for (size_t i = 0; i < b.size(); ++i) u[i] = static_cast<unsigned char>(b[i]);
  return str_from_u32(u);
}
inline Bytes narrow(const Str& s) {
  std::string o(s.size(), '\0');
  for (size_t i = 0; i < s.size(); ++i) o[i] = char(s[i]);
  return bytes_from(o);
}
inline List<Bytes> narrow(const List<Str>& v) {
  List<Bytes> out;
  for (int64_t i = 0; i < v.size(); ++i) out.push_back(narrow(v[i]));
  return out;
}
inline Tuple<Bytes, Bytes, Bytes> narrow(const Tuple<Str, Str, Str>& t) {
  return Tuple<Bytes, Bytes, Bytes>(narrow(std::get<0>(t)), narrow(std::get<1>(t)), narrow(std::get<2>(t)));
}
inline Str byte_arg(const Bytes& b, const Loc*) { return widen(b); }
inline Str byte_arg(int64_t c, const Loc* loc) {
  if (c < 0 || c > 255) raise(ErrKind::ValueError, "byte must be in range(0, 256)", loc);
  return str_char(char32_t(c));
}
inline bool ascii_lower(char c) { return c >= 'a' && c <= 'z'; }
inline bool ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool ascii_alpha(char c) { return ascii_lower(c) || ascii_upper(c); }
inline bool ascii_digit(char c) { return c >= '0' && c <= '9'; }
inline char to_lower(char c) { return ascii_upper(c) ? char(c + 32) : c; }
inline char to_upper(char c) { return ascii_lower(c) ? char(c - 32) : c; }
template <class F> inline bool all_bytes(const Bytes& s, F f) {
  if (s.empty()) return false;
  for (char c : s) if (!f(c)) return false;
  return true;
}
inline Bytes bytes_strip_impl(const Bytes& s, const Bytes* chars, bool left, bool right) {
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
  inline bool bytes_##name(const Bytes& s, const Bytes& p, int64_t start, int64_t end, const Loc* loc) { \
    return str_##name(detail::widen(s), detail::widen(p), start, end, loc);                            \
  }                                                                                                    \
  inline bool bytes_##name(const Bytes& s, const Bytes& p, int64_t start, const Loc* loc) {            \
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

inline Bytes bytes_replace(const Bytes& s, const Bytes& old, const Bytes& rep, int64_t count, const Loc* loc) {
  return detail::narrow(str_replace(detail::widen(s), detail::widen(old), detail::widen(rep), count, loc));
}
inline Bytes bytes_strip(const Bytes& s, None, const Loc*) { return detail::bytes_strip_impl(s, nullptr, true, true); }
inline Bytes bytes_lstrip(const Bytes& s, const Loc*) { return detail::bytes_strip_impl(s, nullptr, true, false); }
inline Bytes bytes_lstrip(const Bytes& s, None, const Loc*) { return detail::bytes_strip_impl(s, nullptr, true, false); }
inline Bytes bytes_lstrip(const Bytes& s, const Bytes& c, const Loc*) { return detail::bytes_strip_impl(s, &c, true, false); }
inline Bytes bytes_rstrip(const Bytes& s, const Loc*) { return detail::bytes_strip_impl(s, nullptr, false, true); }
inline Bytes bytes_rstrip(const Bytes& s, None, const Loc*) { return detail::bytes_strip_impl(s, nullptr, false, true); }
inline Bytes bytes_rstrip(const Bytes& s, const Bytes& c, const Loc*) { return detail::bytes_strip_impl(s, &c, false, true); }

inline List<Bytes> bytes_rsplit(const Bytes& s, None, int64_t maxsplit, const Loc*) {
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
inline List<Bytes> bytes_rsplit(const Bytes& s, const Bytes& sep, int64_t maxsplit, const Loc* loc) {
  return detail::narrow(str_rsplit(detail::widen(s), detail::widen(sep), maxsplit, loc));
}
inline List<Bytes> bytes_rsplit(const Bytes& s, const Loc* loc) { return bytes_rsplit(s, None{}, -1, loc); }
inline List<Bytes> bytes_rsplit(const Bytes& s, None n, const Loc* loc) { return bytes_rsplit(s, n, -1, loc); }
inline List<Bytes> bytes_rsplit(const Bytes& s, const Bytes& sep, const Loc* loc) { return bytes_rsplit(s, sep, -1, loc); }
inline Tuple<Bytes, Bytes, Bytes> bytes_partition(const Bytes& s, const Bytes& sep, const Loc* loc) {
  return detail::narrow(str_partition(detail::widen(s), detail::widen(sep), loc));
}
inline Tuple<Bytes, Bytes, Bytes> bytes_rpartition(const Bytes& s, const Bytes& sep, const Loc* loc) {
  return detail::narrow(str_rpartition(detail::widen(s), detail::widen(sep), loc));
}
inline Bytes bytes_removeprefix(const Bytes& s, const Bytes& p, const Loc* loc) {
  return detail::narrow(str_removeprefix(detail::widen(s), detail::widen(p), loc));
}
inline Bytes bytes_removesuffix(const Bytes& s, const Bytes& p, const Loc* loc) {
  return detail::narrow(str_removesuffix(detail::widen(s), detail::widen(p), loc));
}
inline Bytes bytes_expandtabs(const Bytes& s, int64_t tab, const Loc* loc) {
  return detail::narrow(str_expandtabs(detail::widen(s), tab, loc));
}
inline Bytes bytes_expandtabs(const Bytes& s, const Loc* loc) { return bytes_expandtabs(s, 8, loc); }
inline Bytes bytes_zfill(const Bytes& s, int64_t w, const Loc* loc) { return detail::narrow(str_zfill(detail::widen(s), w, loc)); }
#define MX_BYTES_PAD(name)                                                                       \
  inline Bytes bytes_##name(const Bytes& s, int64_t w, const Loc* loc) {                         \
    return detail::narrow(str_##name(detail::widen(s), w, loc));                                 \
  }                                                                                              \
  inline Bytes bytes_##name(const Bytes& s, int64_t w, const Bytes& f, const Loc* loc) {         \
    return detail::narrow(str_##name(detail::widen(s), w, detail::widen(f), loc));               \
  }
MX_BYTES_PAD(ljust)
MX_BYTES_PAD(rjust)
MX_BYTES_PAD(center)
#undef MX_BYTES_PAD

inline bool bytes_isdigit(const Bytes& s, const Loc*) { return detail::all_bytes(s, detail::ascii_digit); }
inline bool bytes_isalpha(const Bytes& s, const Loc*) { return detail::all_bytes(s, detail::ascii_alpha); }
inline bool bytes_isalnum(const Bytes& s, const Loc*) {
  return detail::all_bytes(s, [](char c) { return detail::ascii_alpha(c) || detail::ascii_digit(c); });
}
inline bool bytes_isspace(const Bytes& s, const Loc*) { return detail::all_bytes(s, bytes_space); }
inline bool bytes_isascii(const Bytes& s, const Loc*) {
  for (char c : s) if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}
inline bool bytes_islower(const Bytes& s, const Loc*) {
  bool cased = false;
  for (char c : s) { if (detail::ascii_upper(c)) return false; cased |= detail::ascii_lower(c); }
  return cased;
}
inline bool bytes_isupper(const Bytes& s, const Loc*) {
  bool cased = false;
  for (char c : s) { if (detail::ascii_lower(c)) return false; cased |= detail::ascii_upper(c); }
  return cased;
}
inline bool bytes_istitle(const Bytes& s, const Loc*) {
  bool cased = false, prev_cased = false;
  for (char c : s) {
    if (detail::ascii_upper(c)) { if (prev_cased) return false; prev_cased = cased = true; }
    else if (detail::ascii_lower(c)) { if (!prev_cased) return false; prev_cased = cased = true; }
    else prev_cased = false;
  }
  return cased;
}
inline Bytes bytes_title(const Bytes& s, const Loc*) {
  std::string o(s.data(), s.size());
  bool prev_cased = false;
  for (auto& c : o) {
    c = prev_cased ? detail::to_lower(c) : detail::to_upper(c);
    prev_cased = detail::ascii_alpha(c);
  }
  return bytes_from(o);
}
inline Bytes bytes_capitalize(const Bytes& s, const Loc*) {
  std::string o(s.data(), s.size());
  for (size_t i = 0; i < o.size(); ++i) o[i] = i ? detail::to_lower(o[i]) : detail::to_upper(o[i]);
  return bytes_from(o);
}
inline Bytes bytes_swapcase(const Bytes& s, const Loc*) {
  std::string o(s.data(), s.size());
  for (auto& c : o) c = detail::ascii_upper(c) ? detail::to_lower(c) : detail::to_upper(c);
  return bytes_from(o);
}
inline List<Bytes> bytes_splitlines(const Bytes& s, bool keepends, const Loc*) {
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
inline List<Bytes> bytes_splitlines(const Bytes& s, const Loc* loc) { return bytes_splitlines(s, false, loc); }

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

// ---- codecs with an errors= handler: utf-8, ascii, latin-1 --------------------------------

namespace detail {
enum class Codec { Utf8, Ascii, Latin1 };
inline Codec codec_of(const Str& enc, const Loc* loc) {
  std::string n = utf8_encode(enc);
  for (auto& c : n) c = char(c == '_' ? '-' : std::tolower(static_cast<unsigned char>(c)));
  if (n == "utf-8" || n == "utf8" || n == "u8") return Codec::Utf8;
  if (n == "ascii" || n == "us-ascii") return Codec::Ascii;
  if (n == "latin-1" || n == "latin1" || n == "iso-8859-1" || n == "l1") return Codec::Latin1;
  raise(ErrKind::LookupError, "unknown encoding: " + n, loc);
}
// 0 strict, 1 ignore, 2 replace; an unknown name is only an error once a
// character needs the handler, as in CPython.
inline int handler_of(const Str& errors, const Loc*) {
  std::string e = utf8_encode(errors);
  return e == "strict" ? 0 : e == "ignore" ? 1 : e == "replace" ? 2 : -1;
}
inline void check_handler(int h, const Str& errors, const Loc* loc) {
  if (h < 0) raise(ErrKind::LookupError, "unknown error handler name '" + utf8_encode(errors) + "'", loc);
}
}  // namespace detail

inline Str bytes_decode(const Bytes& b, const Str& enc, const Str& errors, const Loc* loc) {
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
inline Bytes str_encode(const Str& s, const Str& enc, const Str& errors, const Loc* loc) {
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
