// The `re` module and matx_nb.Regex for compiled code, over PCRE2's 32-bit
// library (one code unit per code point: it matches mx::Str's buffer in place).
// Programs using it link -lpcre2-32 (see the matx_nb-link line codegen writes).
//
// Python semantics kept: flags I/M/S/X/A, match/fullmatch anchoring, pos/endpos,
// the empty-match rule of findall/finditer/sub/split (Python 3.7+: an empty match
// may follow a non-empty one at the same position, never another empty one),
// sub's template syntax (\1, \g<1>, \g<name>, escapes), \Z and \uXXXX in patterns.
// Differences from Python's re are listed in docs/language.md (Modules).
#pragma once
#include "../linkage.h"
#define PCRE2_CODE_UNIT_WIDTH 32
#include <pcre2.h>

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "../runtime.h"

namespace mx::pymod {

constexpr int64_t RE_I = 2, RE_L = 4, RE_M = 8, RE_S = 16, RE_U = 32, RE_X = 64, RE_A = 256;

[[noreturn]] inline void re_error(const std::string& msg, const Loc* loc) { raise(ErrKind::ReError, msg, loc); }

MX_INLINE std::string pcre2_message(int code) {
  PCRE2_UCHAR32 buf[256];
  int n = pcre2_get_error_message(code, buf, 256);
  std::string out;
  for (int i = 0; i < n; ++i) out.push_back(buf[i] < 0x80 ? char(buf[i]) : '?');
  return out;
}

struct RePatternObj final : Object {
  pcre2_code* code = nullptr;
  Str pattern;
  int64_t flags = 0;
  uint32_t groups = 0;
  std::vector<std::pair<Str, uint32_t>> names;  // group name -> number
  ~RePatternObj() override {
    if (code) pcre2_code_free(code);
  }
  const char* type_name() const override { return "re.Pattern"; }
  int64_t group_index(const Str& name) const {
    for (auto& [n, i] : names)
      if (n == name) return i;
    return -1;
  }
};

// A compiled pattern (re.Pattern, or the pattern inside a matx_nb.Regex).
struct RePattern {
  Ref<RePatternObj> r;
  RePatternObj* operator->() const { return r.get(); }
};

// Python pattern syntax -> PCRE2: \Z is PCRE2's \z, \uXXXX and \UXXXXXXXX are \x{...}.
MX_INLINE std::u32string re_translate(const Str& p) {
  std::u32string out;
  out.reserve(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    char32_t c = p[i];
    if (c != U'\\' || i + 1 >= p.size()) {
      out.push_back(c);
      continue;
    }
    char32_t d = p[i + 1];
    size_t hex = d == U'u' ? 4 : d == U'U' ? 8 : 0;
    if (d == U'Z') {
      out += U"\\z";
      ++i;
    } else if (hex && i + 2 + hex <= p.size()) {
      out += U"\\x{";
      out.append(p.data() + i + 2, hex);
      out += U"}";
      i += 1 + hex;
    } else {
      out.push_back(c);
      out.push_back(d);
      ++i;
    }
  }
  return out;
}

// Compiles PCRE2 pattern text with the given options into a RePattern (group
// count and names read from the compiled code).
MX_INLINE RePattern re_wrap(const std::u32string& text, uint32_t opts, const Str& pattern, int64_t flags,
                         const Loc* loc) {
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), opts, &err, &off, nullptr);
  if (!code) re_error(pcre2_message(err) + " at position " + std::to_string(off), loc);
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // best effort: the interpreter runs otherwise
  RePattern p{Ref<RePatternObj>::make()};
  p->code = code;
  p->pattern = pattern;
  p->flags = flags;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &p->groups);
  uint32_t count = 0, entry = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
  pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
  for (uint32_t k = 0; k < count; ++k) {
    PCRE2_SPTR e = table + size_t(k) * entry;
    size_t len = 0;
    while (len + 1 < entry && e[1 + len]) ++len;
    p->names.emplace_back(Str(reinterpret_cast<const char32_t*>(e + 1), len), uint32_t(e[0]));
  }
  return p;
}

MX_INLINE uint32_t re_options(int64_t flags) {
  uint32_t opts = PCRE2_UTF;
  if (!(flags & RE_A)) opts |= PCRE2_UCP;
  if (flags & RE_I) opts |= PCRE2_CASELESS;
  if (flags & RE_M) opts |= PCRE2_MULTILINE;
  if (flags & RE_S) opts |= PCRE2_DOTALL;
  if (flags & RE_X) opts |= PCRE2_EXTENDED;
  return opts;
}

// re.compile with a per-library cache, like re's own (cleared when it grows past 512).
MX_INLINE RePattern re_compile(const Str& pattern, int64_t flags, const Loc* loc) {
  static std::mutex mu;
  static std::unordered_map<std::u32string, RePattern> cache;
  std::u32string key(pattern.data(), pattern.size());
  key.push_back(char32_t(0x110000 + flags));  // not a code point: flags never collide with text
  {
    std::lock_guard<std::mutex> g(mu);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  RePattern p = re_wrap(re_translate(pattern), re_options(flags), pattern, flags, loc);
  std::lock_guard<std::mutex> g(mu);
  if (cache.size() >= 512) cache.clear();
  cache.emplace(std::move(key), p);
  return p;
}
MX_INLINE RePattern re_compile(const RePattern& p, int64_t flags, const Loc* loc) {
  if (flags) raise(ErrKind::ValueError, "cannot process flags argument with a compiled pattern", loc);
  return p;
}

// ---- matches ---------------------------------------------------------------------

struct ReMatchObj final : Object {
  Ref<RePatternObj> pat;
  Str subject;
  std::vector<int64_t> ov;  // start, end per group; -1 when the group did not take part
  int64_t pos = 0, endpos = 0;
  const char* type_name() const override { return "re.Match"; }
};

// re.Match, or None when null.
struct ReMatch {
  Ref<ReMatchObj> r;
  ReMatchObj* operator->() const { return r.get(); }
  explicit operator bool() const { return bool(r); }
};

// One pcre2_match: fills ov (2 per group) and returns true on a match.
MX_INLINE bool re_exec(const RePatternObj& p, const Str& s, int64_t start, int64_t end, uint32_t options,
                    std::vector<int64_t>& ov, const Loc* loc) {
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(p.code, nullptr);
  if (!md) raise(ErrKind::MemoryError, "pcre2 match data", loc);
  int rc = pcre2_match(p.code, reinterpret_cast<PCRE2_SPTR>(s.data()), size_t(end), size_t(start), options, md,
                       nullptr);
  if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL) {
    pcre2_match_data_free(md);
    return false;
  }
  if (rc < 0) {
    std::string msg = pcre2_message(rc);
    pcre2_match_data_free(md);
    raise(ErrKind::ValueError, "regular expression match failed: " + msg, loc);
  }
  PCRE2_SIZE* v = pcre2_get_ovector_pointer(md);
  ov.assign(2 * (size_t(p.groups) + 1), -1);
  uint32_t n = pcre2_get_ovector_count(md);
  for (uint32_t i = 0; i < n && i <= p.groups; ++i) {
    if (v[2 * i] == PCRE2_UNSET) continue;
    ov[2 * i] = int64_t(v[2 * i]);
    ov[2 * i + 1] = int64_t(v[2 * i + 1]);
  }
  pcre2_match_data_free(md);
  return true;
}

// Python's slice-like clamping of pos/endpos.
MX_INLINE void re_bounds(const Str& s, int64_t& pos, int64_t& endpos) {
  int64_t n = int64_t(s.size());
  if (pos < 0) pos = 0;
  if (pos > n) pos = n;
  if (endpos < 0) endpos = 0;
  if (endpos > n) endpos = n;
}

MX_INLINE ReMatch re_run(const RePattern& p, const Str& s, int64_t pos, int64_t endpos, uint32_t options,
                      const Loc* loc) {
  re_bounds(s, pos, endpos);
  ReMatch m;
  std::vector<int64_t> ov;
  if (pos > endpos || !re_exec(*p.r, s, pos, endpos, options, ov, loc)) return m;
  m.r = Ref<ReMatchObj>::make();
  m->pat = p.r;
  m->subject = s;
  m->ov = std::move(ov);
  m->pos = pos;
  m->endpos = endpos;
  return m;
}

MX_INLINE int64_t re_endpos(None, const Str& s) { return int64_t(s.size()); }
MX_INLINE int64_t re_endpos(int64_t e, const Str&) { return e; }

template <class E>
inline ReMatch re_pattern_match(const RePattern& p, const Str& s, int64_t pos, E endpos, const Loc* loc) {
  return re_run(p, s, pos, re_endpos(endpos, s), PCRE2_ANCHORED, loc);
}
template <class E>
inline ReMatch re_pattern_fullmatch(const RePattern& p, const Str& s, int64_t pos, E endpos, const Loc* loc) {
  return re_run(p, s, pos, re_endpos(endpos, s), PCRE2_ANCHORED | PCRE2_ENDANCHORED, loc);
}
template <class E>
inline ReMatch re_pattern_search(const RePattern& p, const Str& s, int64_t pos, E endpos, const Loc* loc) {
  return re_run(p, s, pos, re_endpos(endpos, s), 0, loc);
}

// Calls f(ov) for each successive match of p in s[0:n] (at most limit; 0: all),
// with Python's rule for empty matches. f returns false to stop.
template <class F>
inline void re_each(const RePatternObj& p, const Str& s, int64_t limit, const Loc* loc, F&& f) {
  const int64_t n = int64_t(s.size());
  int64_t at = 0, found = 0;
  bool must_advance = false;
  std::vector<int64_t> ov;
  while (at <= n && (limit <= 0 || found < limit)) {
    bool ok;
    if (must_advance) {
      ok = re_exec(p, s, at, n, PCRE2_ANCHORED | PCRE2_NOTEMPTY_ATSTART, ov, loc);
      if (!ok) {
        must_advance = false;
        ++at;
        continue;
      }
    } else {
      ok = re_exec(p, s, at, n, 0, ov, loc);
      if (!ok) break;
    }
    ++found;
    if (!f(ov)) break;
    must_advance = ov[0] == ov[1];
    at = ov[1];
  }
}

MX_INLINE Str re_slice(const Str& s, int64_t a, int64_t b) { return a < 0 ? Str() : Str(s.data() + a, size_t(b - a)); }
MX_INLINE Str re_group_of(const Str& s, const std::vector<int64_t>& ov, size_t g) {
  return re_slice(s, ov[2 * g], ov[2 * g + 1]);
}

// ---- Match methods -----------------------------------------------------------------

MX_INLINE size_t re_group_number(const ReMatch& m, int64_t g, const Loc* loc) {
  if (g < 0 || g > int64_t(m->pat->groups)) raise(ErrKind::IndexError, "no such group", loc);
  return size_t(g);
}
MX_INLINE size_t re_group_number(const ReMatch&, None, const Loc*) { return 0; }
MX_INLINE size_t re_group_number(const ReMatch& m, bool g, const Loc* loc) { return re_group_number(m, int64_t(g), loc); }
MX_INLINE size_t re_group_number(const ReMatch& m, const Str& name, const Loc* loc) {
  int64_t g = m->pat->group_index(name);
  if (g < 0) raise(ErrKind::IndexError, "no such group", loc);
  return size_t(g);
}

MX_INLINE const ReMatch& re_live(const ReMatch& m, const Loc* loc) {
  if (!m) raise(ErrKind::AttributeError, "'NoneType' object has no attribute of a re.Match", loc);
  return m;
}

template <class G>
inline Str re_match_group(const ReMatch& m, const G& g, const Loc* loc) {
  re_live(m, loc);
  return re_group_of(m->subject, m->ov, re_group_number(m, g, loc));
}

template <class G>
inline int64_t re_match_start(const ReMatch& m, const G& g, const Loc* loc) {
  re_live(m, loc);
  return m->ov[2 * re_group_number(m, g, loc)];
}
template <class G>
inline int64_t re_match_end(const ReMatch& m, const G& g, const Loc* loc) {
  re_live(m, loc);
  return m->ov[2 * re_group_number(m, g, loc) + 1];
}
template <class G>
inline Tuple<int64_t, int64_t> re_match_span(const ReMatch& m, const G& g, const Loc* loc) {
  re_live(m, loc);
  size_t i = re_group_number(m, g, loc);
  return Tuple<int64_t, int64_t>{m->ov[2 * i], m->ov[2 * i + 1]};
}

MX_INLINE List<Str> re_match_groups(const ReMatch& m, const Str& dflt, const Loc* loc) {
  re_live(m, loc);
  List<Str> out;
  for (size_t g = 1; g <= m->pat->groups; ++g)
    out.push_back(m->ov[2 * g] < 0 ? dflt : re_group_of(m->subject, m->ov, g));
  return out;
}
MX_INLINE List<Str> re_match_groups(const ReMatch& m, None, const Loc* loc) { return re_match_groups(m, Str(), loc); }

MX_INLINE Dict<Str, Str> re_match_groupdict(const ReMatch& m, const Str& dflt, const Loc* loc) {
  re_live(m, loc);
  Dict<Str, Str> out;
  // Python orders groupdict by group number.
  std::vector<std::pair<uint32_t, Str>> byno;
  for (auto& [name, no] : m->pat->names) byno.emplace_back(no, name);
  std::sort(byno.begin(), byno.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (auto& [no, name] : byno) out.set(name, m->ov[2 * no] < 0 ? dflt : re_group_of(m->subject, m->ov, no));
  return out;
}
MX_INLINE Dict<Str, Str> re_match_groupdict(const ReMatch& m, None, const Loc* loc) {
  return re_match_groupdict(m, Str(), loc);
}

// ---- findall / finditer / split / sub ------------------------------------------------

template <size_t... I>
inline auto re_tuple_of(const Str& s, const std::vector<int64_t>& ov, std::index_sequence<I...>) {
  return Tuple<decltype((void)I, Str())...>{re_group_of(s, ov, I + 1)...};
}

// findall with a pattern of exactly N groups (N >= 2): tuples of N strings.
template <size_t N>
inline auto re_pattern_findall_n(const RePattern& p, const Str& s, const Loc* loc) {
  if (p->groups != N) raise(ErrKind::RuntimeError, "pattern group count differs from the one checked", loc);
  using T = decltype(re_tuple_of(s, {}, std::make_index_sequence<N>()));
  List<T> out;
  re_each(*p.r, s, 0, loc, [&](const std::vector<int64_t>& ov) {
    out.push_back(re_tuple_of(s, ov, std::make_index_sequence<N>()));
    return true;
  });
  return out;
}

// findall with 0 or 1 groups: strings. Several groups need the count at compile
// time (a constant pattern), for the tuple type.
MX_INLINE List<Str> re_pattern_findall(const RePattern& p, const Str& s, const Loc* loc) {
  if (p->groups > 1)
    raise(ErrKind::NotImplementedError,
          "findall with several groups returns tuples: compiled code needs the pattern as a constant", loc);
  List<Str> out;
  size_t g = p->groups;
  re_each(*p.r, s, 0, loc, [&](const std::vector<int64_t>& ov) {
    out.push_back(re_group_of(s, ov, g));
    return true;
  });
  return out;
}

MX_INLINE List<ReMatch> re_pattern_finditer(const RePattern& p, const Str& s, const Loc* loc) {
  List<ReMatch> out;
  re_each(*p.r, s, 0, loc, [&](const std::vector<int64_t>& ov) {
    ReMatch m{Ref<ReMatchObj>::make()};
    m->pat = p.r;
    m->subject = s;
    m->ov = ov;
    m->endpos = int64_t(s.size());
    out.push_back(m);
    return true;
  });
  return out;
}

// re.split: groups are included between the pieces (an unmatched one as "").
MX_INLINE List<Str> re_pattern_split(const RePattern& p, const Str& s, int64_t maxsplit, const Loc* loc) {
  List<Str> out;
  if (maxsplit < 0) {
    out.push_back(s);
    return out;
  }
  int64_t last = 0;
  re_each(*p.r, s, maxsplit, loc, [&](const std::vector<int64_t>& ov) {
    out.push_back(re_slice(s, last, ov[0]));
    for (size_t g = 1; g <= p->groups; ++g) out.push_back(re_group_of(s, ov, g));
    last = ov[1];
    return true;
  });
  out.push_back(re_slice(s, last, int64_t(s.size())));
  return out;
}

// A parsed sub() template: literal pieces and group numbers, like re._parser.parse_template.
struct ReTemplate {
  std::vector<std::pair<Str, int64_t>> parts;  // (literal, group or -1)
};

MX_INLINE ReTemplate re_parse_template(const RePattern& p, const Str& repl, const Loc* loc) {
  ReTemplate t;
  std::u32string lit;
  auto flush_group = [&](int64_t g) {
    if (g > int64_t(p->groups)) re_error("invalid group reference " + std::to_string(g), loc);
    t.parts.emplace_back(str_from_u32(lit), g);
    lit.clear();
  };
  const size_t n = repl.size();
  for (size_t i = 0; i < n; ++i) {
    char32_t c = repl[i];
    if (c != U'\\') {
      lit.push_back(c);
      continue;
    }
    if (i + 1 >= n) re_error("bad escape (end of pattern)", loc);
    char32_t d = repl[++i];
    if (d == U'g') {
      if (i + 1 >= n || repl[i + 1] != U'<') re_error("missing <", loc);
      size_t close = i + 2;
      while (close < n && repl[close] != U'>') ++close;
      if (close >= n) re_error("missing >, unterminated name", loc);
      Str name(repl.data() + i + 2, close - i - 2);
      if (name.size() == 0) re_error("missing group name", loc);
      int64_t g = 0;
      bool digits = true;
      for (char32_t x : name.view()) {
        if (x < U'0' || x > U'9') { digits = false; break; }
        g = g * 10 + (x - U'0');
        if (g > 1000000) break;
      }
      if (!digits) {
        g = p->group_index(name);
        if (g < 0) raise(ErrKind::IndexError, "unknown group name '" + utf8_encode(name) + "'", loc);
      }
      flush_group(g);
      i = close;
    } else if (d == U'0') {  // octal escape: up to 3 digits
      int v = 0, k = 0;
      while (k < 2 && i + 1 < n && repl[i + 1] >= U'0' && repl[i + 1] <= U'7') v = v * 8 + int(repl[++i] - U'0'), ++k;
      lit.push_back(char32_t(v));
    } else if (d >= U'1' && d <= U'9') {
      int64_t g = d - U'0';
      if (i + 1 < n && repl[i + 1] >= U'0' && repl[i + 1] <= U'9') {
        char32_t e = repl[i + 1];
        if (d <= U'7' && e <= U'7' && i + 2 < n && repl[i + 2] >= U'0' && repl[i + 2] <= U'7') {
          int v = int(d - U'0') * 64 + int(e - U'0') * 8 + int(repl[i + 2] - U'0');
          if (v > 0377) re_error("octal escape value outside of range 0-0o377", loc);
          lit.push_back(char32_t(v));
          i += 2;
          continue;
        }
        g = g * 10 + (e - U'0');
        ++i;
      }
      flush_group(g);
    } else {
      static const std::u32string simple = U"abfnrtv\\";
      static const std::u32string mapped = U"\a\b\f\n\r\t\v\\";
      size_t k = simple.find(d);
      if (k != std::u32string::npos) {
        lit.push_back(mapped[k]);
      } else if (d < 0x80 && ((d >= U'a' && d <= U'z') || (d >= U'A' && d <= U'Z'))) {
        re_error(std::string("bad escape \\") + char(d), loc);
      } else {
        lit.push_back(U'\\');
        lit.push_back(d);
      }
    }
  }
  t.parts.emplace_back(str_from_u32(lit), -1);
  return t;
}

MX_INLINE Tuple<Str, int64_t> re_pattern_subn(const RePattern& p, const Str& repl, const Str& s, int64_t count,
                                           const Loc* loc) {
  ReTemplate t = re_parse_template(p, repl, loc);
  std::u32string out;
  int64_t last = 0, n = 0;
  if (count >= 0) {
    re_each(*p.r, s, count, loc, [&](const std::vector<int64_t>& ov) {
      out.append(s.data() + last, size_t(ov[0] - last));
      for (auto& [lit, g] : t.parts) {
        out.append(lit.data(), lit.size());
        if (g >= 0 && ov[2 * g] >= 0) out.append(s.data() + ov[2 * g], size_t(ov[2 * g + 1] - ov[2 * g]));
      }
      last = ov[1];
      ++n;
      return true;
    });
  }
  if (n == 0) return Tuple<Str, int64_t>{s, 0};
  out.append(s.data() + last, s.size() - size_t(last));
  return Tuple<Str, int64_t>{str_from_u32(out), n};
}

MX_INLINE Str re_pattern_sub(const RePattern& p, const Str& repl, const Str& s, int64_t count, const Loc* loc) {
  return std::get<0>(re_pattern_subn(p, repl, s, count, loc));
}

// ---- module functions: re.f(pattern, ..., flags) = re.compile(pattern, flags).f(...) ----
template <class P>
inline ReMatch re_match(const P& pat, const Str& s, int64_t flags, const Loc* loc) {
  return re_pattern_match(re_compile(pat, flags, loc), s, 0, None{}, loc);
}
template <class P>
inline ReMatch re_search(const P& pat, const Str& s, int64_t flags, const Loc* loc) {
  return re_pattern_search(re_compile(pat, flags, loc), s, 0, None{}, loc);
}
template <class P>
inline ReMatch re_fullmatch(const P& pat, const Str& s, int64_t flags, const Loc* loc) {
  return re_pattern_fullmatch(re_compile(pat, flags, loc), s, 0, None{}, loc);
}
template <class P>
inline List<Str> re_findall(const P& pat, const Str& s, int64_t flags, const Loc* loc) {
  return re_pattern_findall(re_compile(pat, flags, loc), s, loc);
}
template <size_t N, class P>
inline auto re_findall_n(const P& pat, const Str& s, int64_t flags, const Loc* loc) {
  return re_pattern_findall_n<N>(re_compile(pat, flags, loc), s, loc);
}
template <class P>
inline List<ReMatch> re_finditer(const P& pat, const Str& s, int64_t flags, const Loc* loc) {
  return re_pattern_finditer(re_compile(pat, flags, loc), s, loc);
}
template <class P>
inline List<Str> re_split(const P& pat, const Str& s, int64_t maxsplit, int64_t flags, const Loc* loc) {
  return re_pattern_split(re_compile(pat, flags, loc), s, maxsplit, loc);
}
template <class P>
inline Str re_sub(const P& pat, const Str& repl, const Str& s, int64_t count, int64_t flags, const Loc* loc) {
  return re_pattern_sub(re_compile(pat, flags, loc), repl, s, count, loc);
}
template <class P>
inline Tuple<Str, int64_t> re_subn(const P& pat, const Str& repl, const Str& s, int64_t count, int64_t flags,
                                   const Loc* loc) {
  return re_pattern_subn(re_compile(pat, flags, loc), repl, s, count, loc);
}

// re.escape: Python 3.7+ escapes only the characters special in patterns.
MX_INLINE Str re_escape(const Str& s, const Loc*) {
  static const std::u32string special = U"()[]{}?*+-|^$\\.&~# \t\n\r\v\f";
  std::u32string out;
  for (char32_t c : s.view()) {
    if (special.find(c) != std::u32string::npos) out.push_back(U'\\');
    out.push_back(c);
  }
  return str_from_u32(out);
}

// ---- matx_nb.Regex (MATXScript's API) ------------------------------------------------

struct Regex {
  RePattern p;
  bool anchored = false;
};

MX_INLINE Regex regex_new(const Str& pattern, bool ignore_case, bool dotall, bool extended, bool anchored, bool ucp,
                       const Loc* loc) {
  int64_t flags = (ignore_case ? RE_I : 0) | (dotall ? RE_S : 0) | (extended ? RE_X : 0) | (ucp ? 0 : RE_A);
  // PCRE syntax as written (named groups as (?<name>...)), not translated from Python's.
  uint32_t opts = re_options(flags) | (anchored ? PCRE2_ANCHORED : 0);
  return Regex{re_wrap(std::u32string(pattern.data(), pattern.size()), opts, pattern, flags, loc), anchored};
}

// Pieces between matches, empty pieces left out (MATXScript's Regex.split). An
// anchored Regex matches once, at the start (split and replace alike).
MX_INLINE List<Str> regex_split(const Regex& r, const Str& s, int64_t offset, const Loc* loc) {
  List<Str> out;
  int64_t last = offset < 0 ? 0 : std::min<int64_t>(offset, int64_t(s.size()));
  Str tail(s.data() + last, s.size() - size_t(last));
  int64_t prev = 0;
  re_each(*r.p.r, tail, r.anchored ? 1 : 0, loc, [&](const std::vector<int64_t>& ov) {
    if (ov[0] > prev) out.push_back(re_slice(tail, prev, ov[0]));
    prev = ov[1];
    return true;
  });
  if (int64_t(tail.size()) > prev) out.push_back(re_slice(tail, prev, int64_t(tail.size())));
  return out;
}

// Every match replaced by repl, where $1, ${1} and ${name} insert groups and $$ is a $.
MX_INLINE Str regex_replace(const Regex& r, const Str& s, const Str& repl, int64_t offset, const Loc* loc) {
  std::u32string out;
  int64_t start = offset < 0 ? 0 : std::min<int64_t>(offset, int64_t(s.size()));
  out.append(s.data(), size_t(start));
  Str tail(s.data() + start, s.size() - size_t(start));
  int64_t last = 0;
  re_each(*r.p.r, tail, r.anchored ? 1 : 0, loc, [&](const std::vector<int64_t>& ov) {
    out.append(tail.data() + last, size_t(ov[0] - last));
    for (size_t i = 0; i < repl.size(); ++i) {
      char32_t c = repl[i];
      if (c != U'$' || i + 1 >= repl.size()) {
        out.push_back(c);
        continue;
      }
      char32_t d = repl[i + 1];
      int64_t g = -1;
      size_t next = i + 1;
      if (d == U'$') {
        out.push_back(U'$');
        ++i;
        continue;
      }
      if (d >= U'0' && d <= U'9') {
        g = 0;
        while (next < repl.size() && repl[next] >= U'0' && repl[next] <= U'9') g = g * 10 + (repl[next++] - U'0');
      } else if (d == U'{') {
        size_t close = i + 2;
        while (close < repl.size() && repl[close] != U'}') ++close;
        if (close >= repl.size()) re_error("unterminated ${ in replacement", loc);
        Str name(repl.data() + i + 2, close - i - 2);
        bool digits = name.size() > 0;
        int64_t v = 0;
        for (char32_t x : name.view()) {
          if (x < U'0' || x > U'9') digits = false;
          else v = v * 10 + (x - U'0');
        }
        g = digits ? v : r.p->group_index(name);
        next = close + 1;
      }
      if (g < 0 || g > int64_t(r.p->groups)) re_error("invalid group reference in replacement", loc);
      if (ov[2 * g] >= 0) out.append(tail.data() + ov[2 * g], size_t(ov[2 * g + 1] - ov[2 * g]));
      i = next - 1;
    }
    last = ov[1];
    return true;
  });
  out.append(tail.data() + last, tail.size() - size_t(last));
  return str_from_u32(out);
}

// (groups, named groups) of the first match at or after offset; ([], {}) if none.
MX_INLINE Tuple<List<Str>, Dict<Str, Str>> regex_match(const Regex& r, const Str& s, int64_t offset, const Loc* loc) {
  List<Str> groups;
  Dict<Str, Str> named;
  ReMatch m = re_run(r.p, s, offset, int64_t(s.size()), r.anchored ? PCRE2_ANCHORED : 0, loc);
  if (m) {
    for (size_t g = 0; g <= r.p->groups; ++g) groups.push_back(re_group_of(s, m->ov, g));
    named = re_match_groupdict(m, Str(), loc);
  }
  return Tuple<List<Str>, Dict<Str, Str>>{groups, named};
}

}  // namespace mx::pymod

namespace mx {
// `if m:` on a re.Match: a null handle is None.
MX_INLINE bool truth(const pymod::ReMatch& m) { return bool(m); }
}  // namespace mx
