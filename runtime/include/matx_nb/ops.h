// Python operators on runtime values: arithmetic with Python's rounding and
// overflow rules, comparison, truth, len, indexing, membership, str()/repr().
#pragma once
#include "linkage.h"
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "containers.h"
#include "nest.h"
#include "numconv.h"
#include "unicode.h"

namespace mx {

class Any;

// ---- integer arithmetic: 64-bit, OverflowError instead of wrapping -----------

[[noreturn]] __attribute__((noinline, cold)) inline void raise_int_overflow(const Loc* loc) {
  raise(ErrKind::OverflowError, "integer overflow: result does not fit in 64 bits", loc);
}
[[noreturn]] __attribute__((noinline, cold)) inline void raise_zero_div(const char* what, const Loc* loc) {
  raise(ErrKind::ZeroDivisionError, what, loc);
}

MX_INLINE int64_t add(int64_t a, int64_t b, const Loc* loc) {
  int64_t r;
  if (__builtin_expect(__builtin_add_overflow(a, b, &r), 0)) raise_int_overflow(loc);
  return r;
}
MX_INLINE int64_t sub(int64_t a, int64_t b, const Loc* loc) {
  int64_t r;
  if (__builtin_expect(__builtin_sub_overflow(a, b, &r), 0)) raise_int_overflow(loc);
  return r;
}
// a + c and a - c with a constant c >= 0: a plain comparison, which the
// optimizer folds away where it knows a's range (n - 1 after `if n < 2: return`).
MX_INLINE int64_t add_c(int64_t a, int64_t c, const Loc* loc) {
  if (__builtin_expect(a > INT64_MAX - c, 0)) raise_int_overflow(loc);
  return a + c;
}
MX_INLINE int64_t sub_c(int64_t a, int64_t c, const Loc* loc) {
  if (__builtin_expect(a < INT64_MIN + c, 0)) raise_int_overflow(loc);
  return a - c;
}
MX_INLINE int64_t mul(int64_t a, int64_t b, const Loc* loc) {
  int64_t r;
  if (__builtin_expect(__builtin_mul_overflow(a, b, &r), 0)) raise_int_overflow(loc);
  return r;
}
// Range loops whose body multiplies run a copy for bounds within 32 bits
// (codegen version_small_range), where the counter's range lets g++ prove that
// products of the counter cannot overflow and drop those checks.
constexpr int64_t kSmallRange = int64_t(1) << 31;
MX_INLINE bool small_range(int64_t lo, int64_t hi) { return lo >= -kSmallRange && hi <= kSmallRange; }
MX_INLINE void assume_small_range(int64_t k) {
  if (k < -kSmallRange || k >= kSmallRange) __builtin_unreachable();
}
MX_INLINE int64_t neg(int64_t a, const Loc* loc) {
  if (__builtin_expect(a == INT64_MIN, 0)) raise_int_overflow(loc);
  return -a;
}
MX_INLINE int64_t floordiv(int64_t a, int64_t b, const Loc* loc) {
  if (__builtin_expect(b == 0, 0)) raise_zero_div("integer division or modulo by zero", loc);
  if (__builtin_expect(b == -1 && a == INT64_MIN, 0)) raise_int_overflow(loc);
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
MX_INLINE int64_t mod(int64_t a, int64_t b, const Loc* loc) {
  if (__builtin_expect(b == 0, 0)) raise_zero_div("integer modulo by zero", loc);
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
MX_INLINE double truediv(int64_t a, int64_t b, const Loc* loc) {
  if (__builtin_expect(b == 0, 0)) raise_zero_div("division by zero", loc);
  const int64_t lim = int64_t(1) << 53;
  if (a > -lim && a < lim && b > -lim && b < lim) return double(a) / double(b);
  return double((long double)a / (long double)b);
}
MX_INLINE int64_t pow(int64_t base, int64_t exp, const Loc* loc) {
  if (exp < 0)
    raise(ErrKind::ValueError,
          "negative exponent on int: the result would be a float; write float(x) ** y", loc);
  int64_t result = 1;
  while (exp) {
    if (exp & 1) result = mul(result, base, loc);
    exp >>= 1;
    if (exp) base = mul(base, base, loc);
  }
  return result;
}
// int ** int where a float is wanted: Python gives a float for negative exponents.
MX_INLINE double pow_to_float(int64_t base, int64_t exp, const Loc* loc) {
  if (exp >= 0) return double(pow(base, exp, loc));
  if (base == 0) raise_zero_div("0.0 cannot be raised to a negative power", loc);
  return std::pow(double(base), double(exp));
}
MX_INLINE int64_t lshift(int64_t a, int64_t n, const Loc* loc) {
  if (n < 0) raise(ErrKind::ValueError, "negative shift count", loc);
  if (a == 0) return 0;
  if (n >= 64) raise_int_overflow(loc);
  int64_t r = int64_t(uint64_t(a) << n);
  if ((r >> n) != a) raise_int_overflow(loc);
  return r;
}
MX_INLINE int64_t rshift(int64_t a, int64_t n, const Loc* loc) {
  if (n < 0) raise(ErrKind::ValueError, "negative shift count", loc);
  if (n >= 64) return a < 0 ? -1 : 0;
  return a >> n;
}
MX_INLINE int64_t abs(int64_t a, const Loc* loc) { return a < 0 ? neg(a, loc) : a; }

// ---- float arithmetic ------------------------------------------------------

MX_INLINE double add(double a, double b, const Loc*) { return a + b; }
MX_INLINE double sub(double a, double b, const Loc*) { return a - b; }
MX_INLINE double mul(double a, double b, const Loc*) { return a * b; }
MX_INLINE double neg(double a, const Loc*) { return -a; }
MX_INLINE double abs(double a, const Loc*) { return std::fabs(a); }
MX_INLINE double truediv(double a, double b, const Loc* loc) {
  if (__builtin_expect(b == 0.0, 0)) raise_zero_div("float division by zero", loc);
  return a / b;
}
// CPython's float_divmod, so signs and rounding match exactly.
MX_INLINE void float_divmod(double vx, double wx, double* floordiv_out, double* mod_out) {
  double m = std::fmod(vx, wx);
  double div = (vx - m) / wx;
  if (m != 0.0) {
    if ((wx < 0) != (m < 0)) {
      m += wx;
      div -= 1.0;
    }
  } else {
    m = std::copysign(0.0, wx);
  }
  double fd;
  if (div != 0.0) {
    fd = std::floor(div);
    if (div - fd > 0.5) fd += 1.0;
  } else {
    fd = std::copysign(0.0, vx / wx);
  }
  *floordiv_out = fd;
  *mod_out = m;
}
MX_INLINE double floordiv(double a, double b, const Loc* loc) {
  if (__builtin_expect(b == 0.0, 0)) raise_zero_div("float floor division by zero", loc);
  double q, r;
  float_divmod(a, b, &q, &r);
  return q;
}
MX_INLINE double mod(double a, double b, const Loc* loc) {
  if (__builtin_expect(b == 0.0, 0)) raise_zero_div("float modulo", loc);
  double q, r;
  float_divmod(a, b, &q, &r);
  return r;
}
MX_INLINE double pow(double a, double b, const Loc* loc) {
  if (a == 0.0 && b < 0.0) raise_zero_div("0.0 cannot be raised to a negative power", loc);
  if (a < 0.0 && std::isfinite(a) && std::isfinite(b) && b != std::floor(b))
    raise(ErrKind::ValueError, "negative number cannot be raised to a fractional power (complex result)", loc);
  double r = std::pow(a, b);
  if (std::isinf(r) && std::isfinite(a) && std::isfinite(b))
    raise(ErrKind::OverflowError, "(34, 'Numerical result out of range')", loc);
  return r;
}

// ---- sequences: +, * ---------------------------------------------------------

MX_INLINE Str add(const Str& a, const Str& b, const Loc*) { return str_concat(a, b); }
MX_INLINE Bytes add(const Bytes& a, const Bytes& b, const Loc*) { return bytes_concat(a, b); }
template <class T>
inline List<T> add(const List<T>& a, const List<T>& b, const Loc* loc) {
  bool ta = a.object()->from_tuple, tb = b.object()->from_tuple;  // tuples passed for List parameters
  if (__builtin_expect(ta != tb, 0))
    raise(ErrKind::TypeError, ta ? "can only concatenate tuple (not \"list\") to tuple"
                                 : "can only concatenate list (not \"tuple\") to list", loc);
  List<T> r;
  r.reserve(a.size() + b.size());
  for (int64_t i = 0; i < a.size(); ++i) r.push_back(a[i]);
  for (int64_t i = 0; i < b.size(); ++i) r.push_back(b[i]);
  r.object()->from_tuple = ta;
  return r;
}
// Longest str or bytes a runtime operation builds: 2**40 code units (4 TiB of
// str). Larger results, and allocations that fail, raise MemoryError at the
// user's line before anything is written, as CPython does.
constexpr int64_t kMaxBufLen = int64_t(1) << 40;
[[noreturn]] __attribute__((noinline, cold)) inline void raise_too_long(const char* what, const Loc* loc) {
  raise(ErrKind::MemoryError, what, loc);
}
// A writable str or bytes buffer of n units (fill it, then call finish()).
template <class B>
inline B alloc_buf(int64_t n, const char* what, const Loc* loc) {
  if (__builtin_expect(n < 0 || n > kMaxBufLen, 0)) raise_too_long(what, loc);
  try {
    return B::uninit(size_t(n));
  } catch (const std::bad_alloc&) {
    raise_too_long(what, loc);
  }
}
template <class B>
inline B repeat_buf(const B& s, int64_t n, const Loc* loc) {
  if (n <= 0 || s.empty()) return B();
  int64_t total;
  // Past the largest size CPython raises OverflowError; a size that merely
  // cannot be allocated is MemoryError.
  if (__builtin_mul_overflow(int64_t(s.size()), n, &total))
    raise(ErrKind::OverflowError, std::is_same<B, Str>::value ? "repeated string is too long"
                                                              : "repeated bytes are too long", loc);
  B r = alloc_buf<B>(total, "repeated sequence is too long", loc);
  auto* d = r.mutable_data();
  for (int64_t k = 0; k < n; ++k) std::memcpy(d + k * s.size(), s.data(), s.size() * sizeof(*d));
  r.finish();
  return r;
}
MX_INLINE Str mul(const Str& s, int64_t n, const Loc* loc) { return repeat_buf(s, n, loc); }
MX_INLINE Str mul(int64_t n, const Str& s, const Loc* loc) { return repeat_buf(s, n, loc); }
MX_INLINE Bytes mul(const Bytes& s, int64_t n, const Loc* loc) { return repeat_buf(s, n, loc); }
MX_INLINE Bytes mul(int64_t n, const Bytes& s, const Loc* loc) { return repeat_buf(s, n, loc); }
template <class T>
inline List<T> mul(const List<T>& a, int64_t n, const Loc* loc) {
  List<T> r;
  r.object()->from_tuple = a.object()->from_tuple;  // a tuple repeated is a tuple
  if (n <= 0) return r;
  int64_t total;
  if (__builtin_mul_overflow(a.size(), n, &total) || total > (int64_t(1) << 36))
    raise(ErrKind::MemoryError, "repeated list is too long", loc);
  r.reserve(total);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t i = 0; i < a.size(); ++i) r.push_back(a[i]);
  return r;
}
template <class T>
inline List<T> mul(int64_t n, const List<T>& a, const Loc* loc) { return mul(a, n, loc); }
template <class T>
inline VTuple<T> add(const VTuple<T>& a, const VTuple<T>& b, const Loc* loc) {
  return VTuple<T>::adopt(add(static_cast<const List<T>&>(a), static_cast<const List<T>&>(b), loc));
}
template <class T>
inline VTuple<T> mul(const VTuple<T>& a, int64_t n, const Loc* loc) {
  return VTuple<T>::adopt(mul(static_cast<const List<T>&>(a), n, loc));
}
template <class T>
inline VTuple<T> mul(int64_t n, const VTuple<T>& a, const Loc* loc) { return mul(a, n, loc); }

// ---- truth -----------------------------------------------------------------

MX_INLINE bool truth(bool v) { return v; }
MX_INLINE bool truth(int64_t v) { return v != 0; }
MX_INLINE bool truth(double v) { return v != 0.0; }
MX_INLINE bool truth(None) { return false; }
MX_INLINE bool truth(const Str& s) { return !s.empty(); }
MX_INLINE bool truth(const Bytes& s) { return !s.empty(); }
template <class T>
inline bool truth(const List<T>& v) { return v.size() != 0; }
template <class K, class V>
inline bool truth(const Dict<K, V>& v) { return v.size() != 0; }
template <class T>
inline bool truth(const Set<T>& v) { return v.size() != 0; }
template <class... T>
inline bool truth(const Tuple<T...>&) { return sizeof...(T) != 0; }

// ---- len -------------------------------------------------------------------

MX_INLINE int64_t len(const Str& s) { return int64_t(s.size()); }
MX_INLINE int64_t len(const Bytes& s) { return int64_t(s.size()); }
template <class T>
inline int64_t len(const List<T>& v) { return v.size(); }
template <class K, class V>
inline int64_t len(const Dict<K, V>& v) { return v.size(); }
template <class T>
inline int64_t len(const Set<T>& v) { return v.size(); }
template <class... T>
inline int64_t len(const Tuple<T...>&) { return int64_t(sizeof...(T)); }

// ---- ordering (lexicographic for sequences, like Python) ---------------------

template <class T>
inline bool lt(const T& a, const T& b) { return a < b; }
template <class T>
inline bool lt(const List<T>& a, const List<T>& b) {
  int64_t n = std::min(a.size(), b.size());
  for (int64_t i = 0; i < n; ++i) {
    if (!(a[i] == b[i])) return lt(a[i], b[i]);
  }
  return a.size() < b.size();
}
template <class T>
inline bool lt(const VTuple<T>& a, const VTuple<T>& b) {
  return lt(static_cast<const List<T>&>(a), static_cast<const List<T>&>(b));
}
template <class T>
inline bool le(const T& a, const T& b) { return !lt(b, a); }
template <class T>
inline bool gt(const T& a, const T& b) { return lt(b, a); }
template <class T>
inline bool ge(const T& a, const T& b) { return !lt(a, b); }
// Floats: NaN compares false both ways, so no derivation from lt.
MX_INLINE bool le(double a, double b) { return a <= b; }
MX_INLINE bool ge(double a, double b) { return a >= b; }
template <class T>
inline bool eq(const T& a, const T& b) { return a == b; }
// Sets: < is the proper-subset relation.
template <class T>
inline bool le(const Set<T>& a, const Set<T>& b) {
  if (a.size() > b.size()) return false;
  for (auto& e : a.table().entries())
    if (e.live && !b.contains(e.key)) return false;
  return true;
}
template <class T>
inline bool lt(const Set<T>& a, const Set<T>& b) { return a.size() < b.size() && le(a, b); }
template <class T>
inline bool ge(const Set<T>& a, const Set<T>& b) { return le(b, a); }
template <class T>
inline bool gt(const Set<T>& a, const Set<T>& b) { return lt(b, a); }

// ---- indexing --------------------------------------------------------------

[[noreturn]] __attribute__((noinline, cold)) inline void raise_index(const char* what, const Loc* loc) {
  raise(ErrKind::IndexError, std::string(what) + " index out of range", loc);
}
MX_INLINE int64_t norm_index(int64_t i, int64_t n, const char* what, const Loc* loc) {
  if (i < 0) i += n;
  if (__builtin_expect(i < 0 || i >= n, 0)) raise_index(what, loc);
  return i;
}
template <class T>
inline T& getitem(const List<T>& v, int64_t i, const Loc* loc) {
  return v[norm_index(i, v.size(), "list", loc)];
}
template <class T>
inline const T& getitem(const VTuple<T>& v, int64_t i, const Loc* loc) {
  return v[norm_index(i, v.size(), "tuple", loc)];
}
template <class T>
inline void setitem(const List<T>& v, int64_t i, T x, const Loc* loc) {
  if (__builtin_expect(v.object()->from_tuple, 0))  // a tuple passed for a List parameter (builtins.h)
    raise(ErrKind::TypeError, "'tuple' object does not support item assignment", loc);
  v[norm_index(i, v.size(), "list assignment", loc)] = std::move(x);
}

// Indexing and iterating a str allocate nothing for Latin-1 text: one code
// point <= 0xFF is an inline string.
MX_INLINE Str str_char(char32_t c) {
  if (c < 256) {
    uint8_t b = uint8_t(c);
    return Str::latin1(&b, 1);
  }
  return Str(&c, 1);
}
MX_INLINE Str getitem(const Str& s, int64_t i, const Loc* loc) {
  return str_char(s[size_t(norm_index(i, int64_t(s.size()), "string", loc))]);
}
MX_INLINE int64_t getitem(const Bytes& s, int64_t i, const Loc* loc) {
  return int64_t(static_cast<unsigned char>(s[size_t(norm_index(i, int64_t(s.size()), "index", loc))]));
}

MX_INLINE Str repr(const Str& s);
template <class T>
Str repr(const T& v);

template <class K, class V>
[[noreturn]] __attribute__((noinline, cold)) void raise_key(const K& k, const Loc* loc) {
  Str r = repr(k);
  raise(ErrKind::KeyError, utf8_encode(r), loc);
}
template <class K, class V>
inline V& getitem(const Dict<K, V>& d, const K& k, const Loc* loc) {
  V* v = d.lookup(k);
  if (__builtin_expect(v == nullptr, 0)) raise_key<K, V>(k, loc);
  return *v;
}
template <class K, class V>
inline void setitem(const Dict<K, V>& d, const K& k, V v, const Loc*) { d.set(k, std::move(v)); }

// ---- membership ------------------------------------------------------------

template <class T>
inline bool contains(const List<T>& v, const T& x) {
  for (int64_t i = 0; i < v.size(); ++i)
    if (v[i] == x) return true;
  return false;
}
template <class K, class V>
inline bool contains(const Dict<K, V>& d, const K& k) { return d.lookup(k) != nullptr; }
template <class T>
inline bool contains(const Set<T>& s, const T& x) { return s.contains(x); }
MX_INLINE bool contains(const Str& s, const Str& sub) {
  if (s.narrow()) {
    if (sub.width() > 1) return false;  // a code point above 0xFF never occurs in a kind-1 text
    if (sub.narrow()) {
      std::string_view v(reinterpret_cast<const char*>(s.data8()), s.size());
      return v.find(std::string_view(reinterpret_cast<const char*>(sub.data8()), sub.size())) != std::string_view::npos;
    }
  }
  return s.view().find(sub.view()) != std::u32string_view::npos;
}
MX_INLINE bool contains(const Bytes& s, const Bytes& sub) {
  return s.view().find(sub.view()) != std::string_view::npos;
}
MX_INLINE bool contains(const Bytes& s, int64_t byte, const Loc* loc) {
  if (byte < 0 || byte > 255) raise(ErrKind::ValueError, "byte must be in range(0, 256)", loc);
  return s.view().find(char(byte)) != std::string_view::npos;
}

// ---- str() and repr() --------------------------------------------------------

class StrBuilder {
 public:
  void put(char32_t c) { buf_.push_back(c); }
  void put(const Str& s) {
    if (s.narrow()) buf_.append(s.data8(), s.data8() + s.size());
    else buf_.append(s.data(), s.size());
  }
  void put_ascii(const char* s) { while (*s) buf_.push_back(char32_t(static_cast<unsigned char>(*s++))); }
  void put_ascii(const std::string& s) { for (char c : s) buf_.push_back(char32_t(static_cast<unsigned char>(c))); }
  void put_utf8(const std::string& s) {
    std::u32string t;
    if (utf8_decode(s.data(), s.size(), t, nullptr)) buf_ += t;
    else put_ascii(s);
  }
  Str build() const { return Str(buf_.data(), buf_.size()); }
  std::u32string& raw() { return buf_; }

 private:
  std::u32string buf_;
};

MX_INLINE void repr_into(StrBuilder& b, int64_t v) { b.put_ascii(std::to_string(v)); }
MX_INLINE void repr_into(StrBuilder& b, bool v) { b.put_ascii(v ? "True" : "False"); }
MX_INLINE void repr_into(StrBuilder& b, double v) { b.put_ascii(numconv::float_repr(v)); }
MX_INLINE void repr_into(StrBuilder& b, None) { b.put_ascii("None"); }
MX_RT void repr_into(StrBuilder& b, const Str& str);
#if MX_RT_DEFINE
MX_RT void repr_into(StrBuilder& b, const Str& str) {
  // Python's unicode_repr: prefer single quotes, escape what is not printable.
  U32Of s(str);
  bool has_sq = false, has_dq = false;
  for (char32_t c : s) {
    if (c == '\'') has_sq = true;
    else if (c == '"') has_dq = true;
  }
  char32_t q = (has_sq && !has_dq) ? '"' : '\'';
  b.put(q);
  static const char hexd[] = "0123456789abcdef";
  for (char32_t c : s) {
    if (c == q || c == '\\') { b.put('\\'); b.put(c); }
    else if (c == '\t') b.put_ascii("\\t");
    else if (c == '\n') b.put_ascii("\\n");
    else if (c == '\r') b.put_ascii("\\r");
    else if (c < 0x20 || c == 0x7F) {
      b.put_ascii("\\x"); b.put(hexd[(c >> 4) & 0xF]); b.put(hexd[c & 0xF]);
    } else if (c < 0x7F) b.put(c);
    else if (unicode::isprintable(c)) b.put(c);
    else if (c <= 0xFF) { b.put_ascii("\\x"); b.put(hexd[(c >> 4) & 0xF]); b.put(hexd[c & 0xF]); }
    else if (c <= 0xFFFF) {
      b.put_ascii("\\u");
      for (int sh = 12; sh >= 0; sh -= 4) b.put(hexd[(c >> sh) & 0xF]);
    } else {
      b.put_ascii("\\U");
      for (int sh = 28; sh >= 0; sh -= 4) b.put(hexd[(c >> sh) & 0xF]);
    }
  }
  b.put(q);
}
#endif
MX_RT void repr_into(StrBuilder& b, const Bytes& s);
#if MX_RT_DEFINE
MX_RT void repr_into(StrBuilder& b, const Bytes& s) {
  bool has_sq = false, has_dq = false;
  for (char c : s) {
    if (c == '\'') has_sq = true;
    else if (c == '"') has_dq = true;
  }
  char q = (has_sq && !has_dq) ? '"' : '\'';
  static const char hexd[] = "0123456789abcdef";
  b.put('b');
  b.put(q);
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == q || c == '\\') { b.put('\\'); b.put(c); }
    else if (c == '\t') b.put_ascii("\\t");
    else if (c == '\n') b.put_ascii("\\n");
    else if (c == '\r') b.put_ascii("\\r");
    else if (c < 0x20 || c >= 0x7F) { b.put_ascii("\\x"); b.put(hexd[c >> 4]); b.put(hexd[c & 0xF]); }
    else b.put(c);
  }
  b.put(q);
}
#endif
// A list or dict of Any may hold itself: CPython prints the inner one as [...]
// or {...}, and a value nested past kMaxNesting raises RecursionError.
template <class T>
inline void repr_into(StrBuilder& b, const List<T>& v) {
  if constexpr (std::is_same<T, Any>::value) {
    if (Nest::entered(v.object())) return b.put_ascii("[...]");
    Nest level(v.object(), "printed");
    return repr_items(b, v);
  }
  repr_items(b, v);
}
template <class T>
inline void repr_items(StrBuilder& b, const List<T>& v) {
  b.put('[');
  for (int64_t i = 0; i < v.size(); ++i) {
    if (i) b.put_ascii(", ");
    repr_into(b, v[i]);
  }
  b.put(']');
}
template <class K, class V>
inline void repr_into(StrBuilder& b, const Dict<K, V>& d) {
  if constexpr (std::is_same<V, Any>::value) {
    if (Nest::entered(d.object())) return b.put_ascii("{...}");
    Nest level(d.object(), "printed");
    return repr_items(b, d);
  }
  repr_items(b, d);
}
template <class K, class V>
inline void repr_items(StrBuilder& b, const Dict<K, V>& d) {
  b.put('{');
  bool first = true;
  for (auto& e : d.table().entries()) {
    if (!e.live) continue;
    if (!first) b.put_ascii(", ");
    first = false;
    repr_into(b, e.key);
    b.put_ascii(": ");
    repr_into(b, e.value);
  }
  b.put('}');
}
template <class T>
inline void repr_into(StrBuilder& b, const Set<T>& s) {
  bool frozen = s.object()->frozen;  // frozenset({1, 2}), frozenset()
  if (s.size() == 0) { b.put_ascii(frozen ? "frozenset()" : "set()"); return; }
  b.put_ascii(frozen ? "frozenset({" : "{");
  bool first = true;
  for (auto& e : s.table().entries()) {
    if (!e.live) continue;
    if (!first) b.put_ascii(", ");
    first = false;
    repr_into(b, e.key);
  }
  b.put_ascii(frozen ? "})" : "}");
}
template <class... T>
inline void repr_into(StrBuilder& b, const Tuple<T...>& t) {
  b.put('(');
  size_t i = 0;
  std::apply([&](const auto&... x) { ((b.put_ascii(i++ ? ", " : ""), repr_into(b, x)), ...); },
             static_cast<const std::tuple<T...>&>(t));
  if (sizeof...(T) == 1) b.put(',');
  b.put(')');
}

template <class T>
inline void repr_into(StrBuilder& b, const VTuple<T>& v) {
  b.put('(');
  for (int64_t i = 0; i < v.size(); ++i) {
    if (i) b.put_ascii(", ");
    repr_into(b, v[i]);
  }
  if (v.size() == 1) b.put(',');
  b.put(')');
}

template <class T>
inline Str repr(const T& v) {
  StrBuilder b;
  repr_into(b, v);
  return b.build();
}
MX_INLINE_DEF Str repr(const Str& s) {
  StrBuilder b;
  repr_into(b, s);
  return b.build();
}

// str(x): like repr except for str itself.
template <class T>
inline Str to_str(const T& v) { return repr(v); }
MX_INLINE Str to_str(const Str& s) { return s; }
MX_INLINE Str to_str(int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // digits are ASCII: one byte each
  return Str::latin1(buf, size_t(r.ptr - buf));
}

// ---- print -----------------------------------------------------------------

namespace detail {
MX_INLINE void default_write(const char* s, size_t n) {
  std::fwrite(s, 1, n, stdout);
  std::fflush(stdout);
}
// Where print() writes; the host (Python binding or C++ session) sets it at load.
inline void (*g_write_stdout)(const char*, size_t) = &default_write;
}  // namespace detail

MX_INLINE void print_parts(StrBuilder&) {}
template <class A, class... R>
inline void print_parts(StrBuilder& b, const A& a, const R&... rest) {
  b.put(to_str(a));
  if (sizeof...(R)) b.put(' ');
  print_parts(b, rest...);
}
template <class... A>
inline None print(const A&... a) {
  StrBuilder b;
  print_parts(b, a...);
  b.put('\n');
  std::string s = utf8_encode(b.raw().data(), b.raw().size());
  detail::g_write_stdout(s.data(), s.size());
  return None{};
}

}  // namespace mx
