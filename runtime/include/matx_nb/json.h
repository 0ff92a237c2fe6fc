// JSON for compiled code: mx::json::loads / dumps / load_file with the
// semantics of CPython's json module (the C-accelerated scanner and encoder of
// CPython 3.11/3.12, default arguments).
//
//   Any         loads(const std::string& utf8, const Loc* loc = nullptr);
//   Any         loads(const Str& s, const Loc* loc = nullptr);
//   std::string dumps(const Any& v, bool ensure_ascii = true, int indent = -1,
//                     bool sort_keys = false, const Loc* loc = nullptr);
//   Any         load_file(const std::string& path, const Loc* loc = nullptr);
//
// loads
//   * objects -> Dict<Any, Any> with Str keys in document order; a duplicate key
//     keeps the position of its first occurrence and the last value (a Python
//     dict built by repeated assignment).  arrays -> List<Any>; strings -> Str
//     with every escape, \uXXXX surrogate pairs joined and lone surrogates kept
//     as code points; true/false/null; NaN, Infinity, -Infinity -> float.
//   * numbers: a literal with a fraction or exponent -> double, rounded exactly
//     as Python's float(); an integer literal -> int64.
//   * errors are ValueError with json.JSONDecodeError's text, positions in code
//     points: "Expecting value: line 1 column 1 (char 0)".
//   * The std::string overload takes UTF-8.  Encoded surrogates (ED A0..BF xx)
//     are accepted as code points, like json.loads(bytes), whose decoding uses
//     'surrogatepass'; other malformed UTF-8 raises UnicodeDecodeError (a
//     ValueError in Python).  A leading U+FEFF is an error, as for a Python str
//     ("Unexpected UTF-8 BOM (decode using utf-8-sig)"); load_file strips one.
//
// dumps
//   * separators ", " / ": " (indent < 0, Python's indent=None) or "," / ": "
//     with newlines and `indent` spaces per level (indent=0: newlines only).
//   * floats as repr(); NaN, Infinity, -Infinity (allow_nan=True); tuples are
//     arrays; dict keys: str as is, float/int/bool/None converted like Python
//     ("1.5", "1", "true", "null"); other keys raise TypeError "keys must be
//     str, int, float, bool or None, not tuple"; sets, bytes and instances
//     raise TypeError "Object of type set is not JSON serializable"; a list or
//     dict that contains itself raises ValueError "Circular reference detected".
//   * ensure_ascii escapes everything outside ' '..'~' as \uXXXX (lower-case
//     hex, astral code points as a surrogate pair); with ensure_ascii=false the
//     result is UTF-8, lone surrogates encoded as 3 bytes (as surrogatepass).
//   * sort_keys sorts the items by key with Python's `<`: str by code point,
//     numbers by value, mixed kinds raise TypeError "'<' not supported between
//     instances of 'int' and 'str'".
//
// DIVERGENCES FROM CPYTHON (deliberate)
//   * Integers outside int64: Python returns a big int; loads raises
//     OverflowError "int too large to convert to a 64-bit int: line L column C
//     (char P)".  Literals of more than 4300 digits raise Python's own
//     ValueError ("Exceeds the limit (4300 digits) for integer string
//     conversion: ...") in both.
//   * Nesting: Python raises RecursionError near its recursion limit (about
//     1000 levels).  This parser is iterative and accepts kMaxDepth (10000)
//     levels; one more raises ValueError "maximum nesting depth (10000)
//     exceeded while decoding a JSON array: line L column C (char P)".  dumps
//     accepts the same depth; deeper values raise RecursionError (or ValueError
//     "Circular reference detected" when the path repeats a container).
//   * sort_keys with mixed key kinds raises the same TypeError; the pair of
//     type names in the message follows CPython's timsort exactly for dicts of
//     fewer than 64 keys only (likewise the order of NaN keys).
#pragma once
#include "linkage.h"
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "any.h"
#include "numconv.h"

namespace mx {
namespace json {

constexpr size_t kMaxDepth = 10000;
constexpr size_t kMaxIntDigits = 4300;  // CPython's default int_max_str_digits

namespace detail {

// ---- errors -----------------------------------------------------------------

// json.JSONDecodeError's text: "<msg>: line L column C (char P)".
MX_INLINE std::string where(const char32_t* s, size_t pos) {
  size_t line = 1, last_nl = size_t(-1);
  for (size_t i = 0; i < pos; ++i)
    if (s[i] == U'\n') {
      ++line;
      last_nl = i;
    }
  size_t col = pos - last_nl;  // wraps to pos + 1 without a newline
  return ": line " + std::to_string(line) + " column " + std::to_string(col) + " (char " +
         std::to_string(pos) + ")";
}

[[noreturn]] __attribute__((noinline, cold)) inline void decode_error(const char* msg, const char32_t* s,
                                                                      size_t pos, const Loc* loc) {
  raise(ErrKind::ValueError, msg + where(s, pos), loc);
}

// ---- UTF-8 input (surrogatepass) ----------------------------------------------

[[noreturn]] __attribute__((noinline, cold)) inline void utf8_error(const unsigned char* s, size_t i,
                                                                    const char* why, const Loc* loc) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", unsigned(s[i]));
  raise(ErrKind::UnicodeDecodeError,
        std::string("'utf-8' codec can't decode byte ") + buf + " in position " + std::to_string(i) + ": " +
            why,
        loc);
}

MX_INLINE void decode_utf8(const std::string& in, std::u32string& out, const Loc* loc) {
  const unsigned char* s = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  out.clear();
  out.reserve(n);
  size_t i = 0;
  while (i < n) {
    uint32_t b = s[i];
    if (b < 0x80) {
      out.push_back(char32_t(b));
      ++i;
      continue;
    }
    int len;
    uint32_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) len = 2;
    else if (b >= 0xE0 && b <= 0xEF) { len = 3; if (b == 0xE0) lo = 0xA0; }  // ED A0..BF: surrogates pass
    else if (b >= 0xF0 && b <= 0xF4) { len = 4; if (b == 0xF0) lo = 0x90; if (b == 0xF4) hi = 0x8F; }
    else utf8_error(s, i, "invalid start byte", loc);
    uint32_t c = b & (0x7Fu >> len);
    for (int k = 1; k < len; ++k) {
      if (i + size_t(k) >= n) utf8_error(s, i, "unexpected end of data", loc);
      uint32_t cb = s[i + size_t(k)];
      bool ok = k == 1 ? (cb >= lo && cb <= hi) : (cb & 0xC0) == 0x80;
      if (!ok) utf8_error(s, i, "invalid continuation byte", loc);
      c = (c << 6) | (cb & 0x3F);
    }
    out.push_back(char32_t(c));
    i += size_t(len);
  }
}

// ---- the scanner (a port of Modules/_json.c, iterative) ----------------------

MX_INLINE bool is_ws(char32_t c) { return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r'; }
MX_INLINE bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
MX_INLINE int hex_value(char32_t c) {
  if (c >= U'0' && c <= U'9') return int(c - U'0');
  if (c >= U'a' && c <= U'f') return int(c - U'a' + 10);
  if (c >= U'A' && c <= U'F') return int(c - U'A' + 10);
  return -1;
}

class Parser {
 public:
  Parser(const char32_t* s, size_t n, const Loc* loc) : s_(s), n_(n), loc_(loc) {}

  Any document() {
    if (n_ > 0 && s_[0] == 0xFEFF) fail("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0);
    size_t idx = skip_ws(0);
    Any v = value(idx, &idx);
    idx = skip_ws(idx);
    if (idx != n_) fail("Extra data", idx);
    return v;
  }

 private:
  struct Frame {
    bool is_obj;
    std::vector<Any> items;  // arrays
    Dict<Any, Any> dict;     // objects
    Any key;                 // objects: the key whose value is being read
  };

  [[noreturn]] void fail(const char* msg, size_t pos) const { decode_error(msg, s_, pos, loc_); }

  size_t skip_ws(size_t i) const {
    while (i < n_ && is_ws(s_[i])) ++i;
    return i;
  }

  bool match(size_t i, const char* word) const {  // s_[i..] starts with word (ASCII)
    for (; *word; ++word, ++i)
      if (i >= n_ || s_[i] != char32_t(static_cast<unsigned char>(*word))) return false;
    return true;
  }

  // scanstring_unicode: `end` is the index after the opening quote.
  Str string(size_t end, size_t* next_end) {
    const size_t begin = end - 1;
    // Fast path: no escape before the closing quote.
    size_t i = end;
    while (i < n_) {
      char32_t d = s_[i];
      if (d == U'"' || d == U'\\') break;
      if (d <= 0x1F) fail("Invalid control character at", i);
      ++i;
    }
    if (i >= n_) fail("Unterminated string starting at", begin);
    if (s_[i] == U'"') {
      *next_end = i + 1;
      return Str(s_ + end, i - end);
    }
    std::u32string buf(s_ + end, i - end);
    end = i;
    for (;;) {
      size_t next = end;
      char32_t c = 0;
      for (; next < n_; ++next) {
        c = s_[next];
        if (c == U'"' || c == U'\\') break;
        if (c <= 0x1F) fail("Invalid control character at", next);
      }
      if (next >= n_) fail("Unterminated string starting at", begin);
      buf.append(s_ + end, next - end);
      ++next;
      if (c == U'"') {
        end = next;
        break;
      }
      if (next == n_) fail("Unterminated string starting at", begin);
      c = s_[next];
      if (c != U'u') {
        end = next + 1;
        switch (c) {
          case U'"': case U'\\': case U'/': break;
          case U'b': c = U'\b'; break;
          case U'f': c = U'\f'; break;
          case U'n': c = U'\n'; break;
          case U'r': c = U'\r'; break;
          case U't': c = U'\t'; break;
          default: fail("Invalid \\escape", end - 2);
        }
      } else {
        ++next;
        end = next + 4;
        if (end >= n_) fail("Invalid \\uXXXX escape", next - 1);
        c = 0;
        for (; next < end; ++next) {
          int h = hex_value(s_[next]);
          if (h < 0) fail("Invalid \\uXXXX escape", end - 5);
          c = (c << 4) | char32_t(h);
        }
        // A high surrogate followed by \u and a low surrogate is one code point.
        if (c >= 0xD800 && c <= 0xDBFF && end + 6 < n_ && s_[next] == U'\\' && s_[next + 1] == U'u') {
          next += 2;
          end += 6;
          char32_t c2 = 0;
          for (; next < end; ++next) {
            int h = hex_value(s_[next]);
            if (h < 0) fail("Invalid \\uXXXX escape", end - 5);
            c2 = (c2 << 4) | char32_t(h);
          }
          if (c2 >= 0xDC00 && c2 <= 0xDFFF)
            c = 0x10000 + (((c - 0xD800) << 10) | (c2 - 0xDC00));
          else
            end -= 6;
        }
      }
      buf.push_back(c);
    }
    *next_end = end;
    return Str(buf.data(), buf.size());
  }

  // _match_number_unicode; "Expecting value" when there is no number at start.
  Any number(size_t start, size_t* next_idx) {
    const size_t end_idx = n_ - 1;  // n_ > start here
    size_t idx = start;
    bool neg = false, is_float = false;
    if (s_[idx] == U'-') {
      neg = true;
      ++idx;
      if (idx > end_idx) fail("Expecting value", start);
    }
    if (s_[idx] >= U'1' && s_[idx] <= U'9') {
      ++idx;
      while (idx <= end_idx && is_digit(s_[idx])) ++idx;
    } else if (s_[idx] == U'0') {
      ++idx;
    } else {
      fail("Expecting value", start);
    }
    const size_t int_end = idx;
    if (idx < end_idx && s_[idx] == U'.' && is_digit(s_[idx + 1])) {
      is_float = true;
      idx += 2;
      while (idx <= end_idx && is_digit(s_[idx])) ++idx;
    }
    if (idx < end_idx && (s_[idx] == U'e' || s_[idx] == U'E')) {
      size_t e_start = idx;
      ++idx;
      if (idx < end_idx && (s_[idx] == U'-' || s_[idx] == U'+')) ++idx;
      while (idx <= end_idx && is_digit(s_[idx])) ++idx;
      if (is_digit(s_[idx - 1])) is_float = true;
      else idx = e_start;
    }
    *next_idx = idx;
    if (!is_float) {
      const size_t first = start + (neg ? 1 : 0), ndigits = int_end - first;
      if (ndigits > kMaxIntDigits)
        raise(ErrKind::ValueError,
              "Exceeds the limit (4300 digits) for integer string conversion: value has " +
                  std::to_string(ndigits) + " digits; use sys.set_int_max_str_digits() to increase the limit",
              loc_);
      // Accumulate negatively so that INT64_MIN fits.
      int64_t v = 0;
      bool overflow = false;
      for (size_t k = first; k < int_end; ++k) {
        int64_t d = int64_t(s_[k] - U'0');
        if (v < (std::numeric_limits<int64_t>::min() + d) / 10) { overflow = true; break; }
        v = v * 10 - d;
      }
      if (!neg && !overflow && v == std::numeric_limits<int64_t>::min()) overflow = true;
      if (overflow)
        raise(ErrKind::OverflowError, "int too large to convert to a 64-bit int" + where(s_, start), loc_);
      return Any(neg ? v : -v);
    }
    char small[64];
    std::string big;
    const size_t len = idx - start;
    char* p = small;
    if (len > sizeof small) {
      big.resize(len);
      p = &big[0];
    }
    for (size_t k = 0; k < len; ++k) p[k] = char(s_[start + k]);
    double d = 0;
    auto r = std::from_chars(p, p + len, d);
    if (r.ec != std::errc() || r.ptr != p + len) {
      // Out of range (or anything unusual): Python's float() rules.
      auto f = numconv::parse_float_bytes(p, len);
      d = f.value;
    }
    return Any(d);
  }

  // scan_once_unicode, with containers on an explicit stack.
  Any value(size_t idx, size_t* next_idx) {
    std::vector<Frame> stack;
    Any v;
    enum { kValue, kKey, kGot } state = kValue;
    for (;;) {
      if (state == kValue) {
        if (idx >= n_) fail("Expecting value", idx);
        switch (s_[idx]) {
          case U'"': v = Any(string(idx + 1, &idx)); state = kGot; continue;
          case U'{':
          case U'[': {
            const bool obj = s_[idx] == U'{';
            if (stack.size() >= kMaxDepth) {
              std::string msg = "maximum nesting depth (" + std::to_string(kMaxDepth) +
                                ") exceeded while decoding a JSON " + (obj ? "object" : "array");
              fail(msg.c_str(), idx);
            }
            stack.push_back(Frame{obj, {}, obj ? Dict<Any, Any>() : Dict<Any, Any>(Ref<DictObj<Any, Any>>()), Any()});
            idx = skip_ws(idx + 1);
            if (idx < n_ && s_[idx] == (obj ? U'}' : U']')) {
              ++idx;
              v = close(stack);
              state = kGot;
            } else {
              state = obj ? kKey : kValue;
            }
            continue;
          }
          case U'n':
            if (idx + 3 < n_ && match(idx + 1, "ull")) { v = Any(); idx += 4; state = kGot; continue; }
            break;
          case U't':
            if (idx + 3 < n_ && match(idx + 1, "rue")) { v = Any(true); idx += 4; state = kGot; continue; }
            break;
          case U'f':
            if (idx + 4 < n_ && match(idx + 1, "alse")) { v = Any(false); idx += 5; state = kGot; continue; }
            break;
          case U'N':
            if (idx + 2 < n_ && match(idx + 1, "aN")) {
              v = Any(std::numeric_limits<double>::quiet_NaN());
              idx += 3;
              state = kGot;
              continue;
            }
            break;
          case U'I':
            if (idx + 7 < n_ && match(idx + 1, "nfinity")) {
              v = Any(std::numeric_limits<double>::infinity());
              idx += 8;
              state = kGot;
              continue;
            }
            break;
          case U'-':
            if (idx + 8 < n_ && match(idx + 1, "Infinity")) {
              v = Any(-std::numeric_limits<double>::infinity());
              idx += 9;
              state = kGot;
              continue;
            }
            break;
          default: break;
        }
        v = number(idx, &idx);
        state = kGot;
      } else if (state == kKey) {
        if (idx >= n_ || s_[idx] != U'"') fail("Expecting property name enclosed in double quotes", idx);
        Str key = string(idx + 1, &idx);
        idx = skip_ws(idx);
        if (idx >= n_ || s_[idx] != U':') fail("Expecting ':' delimiter", idx);
        idx = skip_ws(idx + 1);
        stack.back().key = Any(key);
        state = kValue;
      } else {  // kGot: v is complete
        if (stack.empty()) {
          *next_idx = idx;
          return v;
        }
        Frame& f = stack.back();
        const char32_t closer = f.is_obj ? U'}' : U']';
        if (f.is_obj) f.dict.set(f.key, std::move(v));
        else f.items.push_back(std::move(v));
        idx = skip_ws(idx);
        if (idx < n_ && s_[idx] == closer) {
          ++idx;
          v = close(stack);
          continue;  // still kGot
        }
        if (idx >= n_ || s_[idx] != U',') fail("Expecting ',' delimiter", idx);
        idx = skip_ws(idx + 1);
        state = f.is_obj ? kKey : kValue;
      }
    }
  }

  static Any close(std::vector<Frame>& stack) {
    Frame& f = stack.back();
    Any out = f.is_obj ? Any(f.dict) : Any(List<Any>(std::move(f.items)));
    stack.pop_back();
    return out;
  }

  const char32_t* s_;
  size_t n_;
  const Loc* loc_;
};

// ---- the encoder ----------------------------------------------------------------

MX_INLINE void put_hex4(std::string& out, uint32_t c) {
  static const char* d = "0123456789abcdef";
  char b[6] = {'\\', 'u', d[(c >> 12) & 15], d[(c >> 8) & 15], d[(c >> 4) & 15], d[c & 15]};
  out.append(b, 6);
}

MX_INLINE void put_string(std::string& out, const char32_t* p, size_t n, bool ascii) {
  out.push_back('"');
  for (size_t i = 0; i < n; ++i) {
    char32_t c = p[i];
    if (c >= 0x20 && c <= 0x7E && c != U'"' && c != U'\\') {
      out.push_back(char(c));
      continue;
    }
    switch (c) {
      case U'"': out += "\\\""; continue;
      case U'\\': out += "\\\\"; continue;
      case U'\b': out += "\\b"; continue;
      case U'\f': out += "\\f"; continue;
      case U'\n': out += "\\n"; continue;
      case U'\r': out += "\\r"; continue;
      case U'\t': out += "\\t"; continue;
      default: break;
    }
    if (c < 0x20) {
      put_hex4(out, c);
    } else if (!ascii) {
      numconv::detail::utf8_append(out, c);  // surrogates as 3 bytes
    } else if (c >= 0x10000) {
      uint32_t v = uint32_t(c) - 0x10000;
      put_hex4(out, 0xD800 | ((v >> 10) & 0x3FF));
      put_hex4(out, 0xDC00 | (v & 0x3FF));
    } else {
      put_hex4(out, c);
    }
  }
  out.push_back('"');
}

MX_INLINE void put_float(std::string& out, double d) {
  if (std::isnan(d)) out += "NaN";
  else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
  else out += numconv::float_repr(d);
}

MX_INLINE void put_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Python's type name (Any::type_name() reports a tuple's list storage).
MX_INLINE const char* type_name(const Any& a) { return a.tag() == TypeTag::Tuple ? "tuple" : a.type_name(); }

// Python's `a < b` for dict keys (raises TypeError for unorderable kinds).
[[noreturn]] inline void unorderable(const Any& a, const Any& b, const Loc* loc) {
  raise(ErrKind::TypeError, std::string("'<' not supported between instances of '") + type_name(a) + "' and '" +
                                type_name(b) + "'", loc);
}
MX_INLINE bool is_num(const Any& a) {
  return a.tag() == TypeTag::Int || a.tag() == TypeTag::Float || a.tag() == TypeTag::Bool;
}
MX_INLINE bool py_lt(const Any& a, const Any& b, const Loc* loc) {
  if (is_num(a) && is_num(b)) {
    auto as_i = [](const Any& x) { return x.tag() == TypeTag::Int ? x.i() : int64_t(x.b()); };
    if (a.tag() == TypeTag::Float && b.tag() == TypeTag::Float) return a.f() < b.f();
    if (a.tag() == TypeTag::Float) return num_lt(a.f(), as_i(b));
    if (b.tag() == TypeTag::Float) return num_lt(as_i(a), b.f());
    return as_i(a) < as_i(b);
  }
  if (a.tag() != b.tag()) unorderable(a, b, loc);
  switch (a.tag()) {
    case TypeTag::Str: return a.str() < b.str();
    case TypeTag::Bytes: return a.bytes() < b.bytes();
    case TypeTag::Tuple: {
      List<Any> x = a.list(), y = b.list();
      int64_t k = 0;
      while (k < x.size() && k < y.size() && x[k] == y[k]) ++k;
      if (k >= x.size() || k >= y.size()) return x.size() < y.size();
      return py_lt(x[k], y[k], loc);
    }
    default: unorderable(a, b, loc);
  }
}

// CPython's list.sort for fewer than 64 items: count_run, then binary insertion.
template <class Less>
inline void small_timsort(std::vector<size_t>& v, Less lt) {
  const size_t n = v.size();
  if (n < 2) return;
  size_t run = 2;
  if (lt(v[1], v[0])) {
    while (run < n && lt(v[run], v[run - 1])) ++run;
    std::reverse(v.begin(), v.begin() + std::ptrdiff_t(run));
  } else {
    while (run < n && !lt(v[run], v[run - 1])) ++run;
  }
  for (size_t start = run; start < n; ++start) {
    size_t l = 0, r = start;
    const size_t pivot = v[start];
    do {
      size_t p = l + ((r - l) >> 1);
      if (lt(pivot, v[p])) r = p;
      else l = p + 1;
    } while (l < r);
    for (size_t p = start; p > l; --p) v[p] = v[p - 1];
    v[l] = pivot;
  }
}

class Encoder {
 public:
  Encoder(bool ascii, int indent, bool sort, const Loc* loc)
      : ascii_(ascii), indent_(indent), sort_(sort), loc_(loc), item_sep_(indent >= 0 ? "," : ", ") {}
  // json.dumps(separators=(item, key)); the defaults follow indent.
  void set_separators(std::string item, std::string key) {
    item_sep_ = std::move(item);
    key_sep_ = std::move(key);
  }

  std::string run(const Any& root) {
    put_value(root);
    while (!stack_.empty()) {
      Frame& f = stack_.back();
      const size_t depth = stack_.size();
      if (!f.is_dict) {
        List<Any>::storage& items = f.list.vec();
        if (f.i >= items.size()) {
          end(depth, ']');
          continue;
        }
        separator(f.i, depth);
        const Any& v = items[f.i++];
        put_value(v);  // may push: f is not used after this
      } else {
        auto& entries = f.dict.table().entries();
        size_t ix;
        if (f.sorted) {
          if (f.i >= f.order.size()) { end(depth, '}'); continue; }
          ix = f.order[f.i];
        } else {
          while (f.i < entries.size() && !entries[f.i].live) ++f.i;
          if (f.i >= entries.size()) { end(depth, '}'); continue; }
          ix = f.i;
        }
        const size_t pos = f.count++;
        ++f.i;
        const auto& e = entries[ix];
        put_key(e.key, pos, depth);
        put_value(e.value);
      }
    }
    return std::move(out_);
  }

 private:
  struct Frame {
    Frame(bool d, List<Any> l, Dict<Any, Any> m, Object* o)
        : is_dict(d), list(std::move(l)), dict(std::move(m)), obj(o) {}
    bool is_dict;
    List<Any> list;
    Dict<Any, Any> dict;
    Object* obj;
    size_t i = 0;
    size_t count = 0;  // dict items written
    bool sorted = false;
    std::vector<size_t> order;  // sorted entry indices
  };

  void newline(size_t depth) {
    out_.push_back('\n');
    out_.append(size_t(indent_) * depth, ' ');
  }
  void separator(size_t pos, size_t depth) {
    if (pos) out_ += item_sep_;
    if (indent_ >= 0) newline(depth);
  }
  void end(size_t depth, char closer) {
    if (indent_ >= 0) newline(depth - 1);
    out_.push_back(closer);
    stack_.pop_back();
  }

  void enter(Object* obj) {
    if (stack_.size() < kMaxDepth) return;
    for (const Frame& f : stack_)
      if (f.obj == obj) raise(ErrKind::ValueError, "Circular reference detected", loc_);
    raise(ErrKind::RecursionError, "maximum recursion depth exceeded while encoding a JSON object", loc_);
  }

  void put_key(const Any& k, size_t pos, size_t depth) {
    switch (k.tag()) {
      case TypeTag::Str: {
        separator(pos, depth);
        Str s = k.str();
        put_string(out_, s.data(), s.size(), ascii_);
        break;
      }
      case TypeTag::Float:
      case TypeTag::Int:
      case TypeTag::Bool:
      case TypeTag::None: {
        std::string t;
        if (k.tag() == TypeTag::Float) put_float(t, k.f());
        else if (k.tag() == TypeTag::Int) put_int(t, k.i());
        else if (k.tag() == TypeTag::Bool) t = k.b() ? "true" : "false";
        else t = "null";
        separator(pos, depth);
        out_.push_back('"');
        out_ += t;
        out_.push_back('"');
        break;
      }
      default:
        raise(ErrKind::TypeError,
              std::string("keys must be str, int, float, bool or None, not ") + type_name(k), loc_);
    }
    out_ += key_sep_;
  }

  void put_value(const Any& v) {
    switch (v.tag()) {
      case TypeTag::None: out_ += "null"; return;
      case TypeTag::Bool: out_ += v.b() ? "true" : "false"; return;
      case TypeTag::Int: put_int(out_, v.i()); return;
      case TypeTag::Float: put_float(out_, v.f()); return;
      case TypeTag::Str: {
        Str s = v.str();
        put_string(out_, s.data(), s.size(), ascii_);
        return;
      }
      case TypeTag::List:
      case TypeTag::Tuple: {
        List<Any> l = v.list();
        if (l.size() == 0) { out_ += "[]"; return; }
        enter(v.obj());
        out_.push_back('[');
        stack_.emplace_back(false, l, Dict<Any, Any>(Ref<DictObj<Any, Any>>()), v.obj());
        return;
      }
      case TypeTag::Dict: {
        Dict<Any, Any> d = v.dict();
        if (d.size() == 0) { out_ += "{}"; return; }
        enter(v.obj());
        Frame f(true, List<Any>::uninit_(), d, v.obj());
        if (sort_) {
          f.sorted = true;
          sort_entries(d, f.order);
        }
        out_.push_back('{');
        stack_.push_back(std::move(f));
        return;
      }
      default:
        raise(ErrKind::TypeError, std::string("Object of type ") + type_name(v) + " is not JSON serializable",
              loc_);
    }
  }

  void sort_entries(const Dict<Any, Any>& d, std::vector<size_t>& order) {
    const auto& entries = d.table().entries();
    order.reserve(size_t(d.size()));
    bool all_str = true, has_nan = false;
    for (size_t k = 0; k < entries.size(); ++k) {
      if (!entries[k].live) continue;
      order.push_back(k);
      const Any& key = entries[k].key;
      if (key.tag() != TypeTag::Str) all_str = false;
      if (key.tag() == TypeTag::Float && std::isnan(key.f())) has_nan = true;
    }
    auto key_lt = [&](size_t a, size_t b) { return py_lt(entries[a].key, entries[b].key, loc_); };
    if (all_str) {  // distinct keys, a total order: any sort gives CPython's result
      auto view = [&](size_t k) {
        const StrObj* o = static_cast<const StrObj*>(entries[k].key.obj());
        return std::u32string_view(o->data(), o->size());
      };
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return view(a) < view(b); });
      return;
    }
    if (order.size() < 64 || has_nan) {
      small_timsort(order, key_lt);
      return;
    }
    // Check that the kinds are mutually orderable before a std::sort.
    for (size_t k = 1; k < order.size(); ++k) (void)key_lt(order[k], order[k - 1]);
    std::stable_sort(order.begin(), order.end(), key_lt);
  }

  std::string out_;
  std::vector<Frame> stack_;
  bool ascii_;
  int indent_;
  bool sort_;
  const Loc* loc_;
  std::string item_sep_, key_sep_ = ": ";
};

}  // namespace detail

// ---- API ------------------------------------------------------------------------

MX_INLINE Any loads(const Str& s, const Loc* loc = nullptr) {
  return detail::Parser(s.data(), s.size(), loc).document();
}

MX_INLINE Any loads(const std::string& utf8, const Loc* loc = nullptr) {
  std::u32string text;
  detail::decode_utf8(utf8, text, loc);
  return detail::Parser(text.data(), text.size(), loc).document();
}

MX_INLINE std::string dumps(const Any& v, bool ensure_ascii = true, int indent = -1, bool sort_keys = false,
                         const Loc* loc = nullptr) {
  return detail::Encoder(ensure_ascii, indent, sort_keys, loc).run(v);
}

// json.loads(open(path, 'rb').read()) for a UTF-8 file: a leading UTF-8 BOM is
// skipped. An unreadable file raises RuntimeError naming the path and the reason.
MX_INLINE Any load_file(const std::string& path, const Loc* loc = nullptr) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    int err = errno;
    raise(ErrKind::RuntimeError, "cannot open JSON file '" + path + "': " + std::strerror(err), loc);
  }
  std::string data;
  char buf[65536];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, got);
  const bool bad = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (bad) raise(ErrKind::RuntimeError, "cannot read JSON file '" + path + "': " + std::strerror(err), loc);
  if (data.size() >= 3 && data.compare(0, 3, "\xEF\xBB\xBF") == 0) data.erase(0, 3);
  return loads(data, loc);
}

}  // namespace json
}  // namespace mx
