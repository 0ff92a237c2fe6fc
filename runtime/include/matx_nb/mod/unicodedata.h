// The `unicodedata` module for compiled code: category, combining, decimal /
// digit / numeric-free helpers, and normalize (NFC, NFD, NFKC, NFKD) over tables
// generated from CPython's own unicodedata (unicodedata_data.h).
#pragma once
#include "../linkage.h"
#include <algorithm>
#include <string>

#include "../runtime.h"
#include "unicodedata_data.h"

namespace mx::pymod {

namespace ucd {

constexpr char32_t SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
constexpr int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

MX_INLINE int ccc(char32_t c) noexcept { return int(props(c) >> 5); }
MX_INLINE const char* category(char32_t c) noexcept { return kCategories[props(c) & 31]; }

// Appends the full decomposition of c (canonical, or compatibility if compat).
MX_INLINE void decompose_char(char32_t c, bool compat, std::u32string& out) {
  if (c >= SBase && c < SBase + SCount) {
    int s = int(c - SBase);
    out.push_back(LBase + s / NCount);
    out.push_back(VBase + (s % NCount) / TCount);
    if (s % TCount) out.push_back(TBase + s % TCount);
    return;
  }
  const std::uint32_t* end = kDecompCp + kDecompCount;
  const std::uint32_t* it = std::lower_bound(kDecompCp, end, std::uint32_t(c));
  if (it != end && *it == c) {
    std::uint32_t e = (compat ? kDecompNfkd : kDecompNfd)[it - kDecompCp];
    if (e) {
      out.append(kDecompData + (e >> 5), e & 31);
      return;
    }
  }
  out.push_back(c);
}

// The primary composite of (a, b), or 0.
MX_INLINE char32_t compose_pair(char32_t a, char32_t b) {
  if (a >= LBase && a < LBase + LCount && b >= VBase && b < VBase + VCount)
    return SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
  if (a >= SBase && a < SBase + SCount && (a - SBase) % TCount == 0 && b > TBase && b < TBase + TCount)
    return a + (b - TBase);
  std::uint64_t key = (std::uint64_t(a) << 21) | b;
  const std::uint64_t* end = kCompKey + kCompCount;
  const std::uint64_t* it = std::lower_bound(kCompKey, end, key);
  return it != end && *it == key ? char32_t(kCompValue[it - kCompKey]) : 0;
}

MX_INLINE std::u32string decompose(const char32_t* s, size_t n, bool compat) {
  std::u32string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) decompose_char(s[i], compat, out);
  // Canonical ordering: a stable sort of each run of non-starters by class.
  for (size_t i = 0; i < out.size();) {
    if (ccc(out[i]) == 0) { ++i; continue; }
    size_t j = i;
    while (j < out.size() && ccc(out[j]) != 0) ++j;
    std::stable_sort(out.begin() + long(i), out.begin() + long(j),
                     [](char32_t a, char32_t b) { return ccc(a) < ccc(b); });
    i = j;
  }
  return out;
}

// The canonical composition algorithm of UAX #15 over a decomposed string.
MX_INLINE void compose(std::u32string& b) {
  if (b.empty()) return;
  size_t starter = 0, out = 1;
  int last = ccc(b[0]) ? 256 : 0;
  for (size_t i = 1; i < b.size(); ++i) {
    char32_t ch = b[i];
    int cc = ccc(ch);
    char32_t comp = (ccc(b[starter]) == 0) ? compose_pair(b[starter], ch) : 0;
    if (comp && (last < cc || last == 0)) {
      b[starter] = comp;
      continue;
    }
    if (cc == 0) starter = out;
    last = cc;
    b[out++] = ch;
  }
  b.resize(out);
}

}  // namespace ucd

MX_INLINE char32_t unicodedata_char(const Str& ch, const char* fn, const Loc* loc) {
  if (ch.size() != 1)
    raise(ErrKind::TypeError, std::string(fn) + "() argument must be a unicode character, not str", loc);
  return ch[0];
}

MX_INLINE Str unicodedata_category(const Str& ch, const Loc* loc) {
  return str_from_ascii(ucd::category(unicodedata_char(ch, "category", loc)));
}

MX_INLINE int64_t unicodedata_combining(const Str& ch, const Loc* loc) {
  return ucd::ccc(unicodedata_char(ch, "combining", loc));
}

MX_INLINE Str unicodedata_normalize(const Str& form, const Str& s, const Loc* loc) {
  std::string f = utf8_encode(form);
  bool compat, comp;
  if (f == "NFC") { compat = false; comp = true; }
  else if (f == "NFD") { compat = false; comp = false; }
  else if (f == "NFKC") { compat = true; comp = true; }
  else if (f == "NFKD") { compat = true; comp = false; }
  else raise(ErrKind::ValueError, "invalid normalization form", loc);
  // Pure ASCII is invariant under every form.
  bool ascii = true;
  for (size_t i = 0; i < s.size() && ascii; ++i) ascii = s[i] < 0x80;
  if (ascii) return s;
  std::u32string r = ucd::decompose(s.data(), s.size(), compat);
  if (comp) ucd::compose(r);
  if (r.size() == s.size() && std::equal(r.begin(), r.end(), s.data())) return s;
  return str_from_u32(r);
}

MX_INLINE bool unicodedata_is_normalized(const Str& form, const Str& s, const Loc* loc) {
  return unicodedata_normalize(form, s, loc) == s;
}

MX_INLINE Str unicodedata_unidata_version() { return str_from_ascii(ucd::kUnidataVersion); }

template <class D>
inline auto unicodedata_value(int v, const D& dflt, const char* what, const Loc* loc) {
  if constexpr (std::is_same_v<D, None>) {
    if (v < 0) raise(ErrKind::ValueError, what, loc);
    return int64_t(v);
  } else {
    return v < 0 ? int64_t(dflt) : int64_t(v);
  }
}

template <class D>
inline auto unicodedata_decimal(const Str& ch, const D& dflt, const Loc* loc) {
  return unicodedata_value(unicode::decimal_value(unicodedata_char(ch, "decimal", loc)), dflt, "not a decimal", loc);
}
template <class D>
inline auto unicodedata_digit(const Str& ch, const D& dflt, const Loc* loc) {
  return unicodedata_value(unicode::digit_value(unicodedata_char(ch, "digit", loc)), dflt, "not a digit", loc);
}

}  // namespace mx::pymod
