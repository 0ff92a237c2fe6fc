// str (Unicode, one char32_t per code point) and bytes: immutable, shared buffers.
#pragma once
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "alloc.h"
#include "error.h"
#include "object.h"

namespace mx {

inline uint64_t hash_bytes(const void* data, size_t n) {
  // FNV-1a over 8-byte words with a final mix; fast for short words.
  const unsigned char* p = static_cast<const unsigned char*>(data);
  uint64_t h = 1469598103934665603ULL ^ n;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 1099511628211ULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  while (n--) h = (h ^ *p++) * 1099511628211ULL;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h;
}

// An immutable buffer of code units allocated in one block with its header.
template <class C, TypeTag Tag>
class BufObj final : public Object {
 public:
  TypeTag tag() const override { return Tag; }
  const char* type_name() const override { return Tag == TypeTag::Str ? "str" : "bytes"; }
  static BufObj* alloc(size_t n) {
    void* mem = alloc::allocate(sizeof(BufObj) + (n + 1) * sizeof(C));
    BufObj* b = new (mem) BufObj();
    b->size_ = n;
    b->data()[n] = 0;
    return b;
  }
  static void operator delete(void* p) { alloc::deallocate(p); }
  C* data() { return reinterpret_cast<C*>(this + 1); }
  const C* data() const { return reinterpret_cast<const C*>(this + 1); }
  size_t size() const { return size_; }
  // For in-place edits of a buffer nobody else references (see Buf::unique()).
  void forget_hash() { hash_valid_ = false; }
  uint64_t hash() const {
    if (!hash_valid_) {
      hash_ = hash_bytes(data(), size_ * sizeof(C));
      hash_valid_ = true;
    }
    return hash_;
  }
  // Largest code unit class: 1 (<=0xFF), 2 (<=0xFFFF) or 4; lets the host build
  // its own string without a scan.
  uint8_t width = 1;

 private:
  BufObj() = default;
  size_t size_ = 0;
  mutable uint64_t hash_ = 0;
  mutable bool hash_valid_ = false;
};

using StrObj = BufObj<char32_t, TypeTag::Str>;
using BytesObj = BufObj<char, TypeTag::Bytes>;

template <class C, TypeTag Tag>
class Buf {
 public:
  using Obj = BufObj<C, Tag>;
  using value_type = C;
  Buf() = default;
  explicit Buf(Ref<Obj> r) : r_(std::move(r)) {}
  Buf(const C* s, size_t n) {
    if (n) {
      Obj* o = Obj::alloc(n);
      std::memcpy(o->data(), s, n * sizeof(C));
      r_ = Ref<Obj>::adopt(o);
      finish();
    }
  }
  // Writable buffer of n units; call finish() after filling it.
  static Buf uninit(size_t n) {
    Buf b;
    if (n) b.r_ = Ref<Obj>::adopt(Obj::alloc(n));
    return b;
  }
  C* mutable_data() { return r_ ? r_->data() : nullptr; }
  // A copy of n units whose width (Str: 1, 2 or 4, see BufObj::width) the caller
  // knows, e.g. a slice of a width-1 string: no scan.
  static Buf copy_with_width(const C* s, size_t n, int width) {
    Buf b;
    if (n) {
      Obj* o = Obj::alloc(n);
      std::memcpy(o->data(), s, n * sizeof(C));
      o->width = uint8_t(width);
      b.r_ = Ref<Obj>::adopt(o);
    }
    return b;
  }
  // Width set by a caller that knows it (instead of finish()).
  void set_width(int w) { if (r_) r_->width = uint8_t(w); }
  // The only reference to a non-empty buffer: the holder of a temporary may then
  // edit it in place (mutable_data(), then forget_hash() on the object).
  bool unique() const { return r_ && r_->refcount() == 1; }
  void finish() {
    if (!r_) return;
    if (Tag == TypeTag::Str) {
      uint32_t m = 0;
      const C* d = r_->data();
      for (size_t i = 0, n = r_->size(); i < n; ++i) m |= uint32_t(d[i]);
      r_->width = m <= 0xFF ? 1 : (m <= 0xFFFF ? 2 : 4);
    }
  }

  size_t size() const { return r_ ? r_->size() : 0; }
  bool empty() const { return size() == 0; }
  const C* data() const {
    static const C kEmpty[1] = {0};
    return r_ ? r_->data() : kEmpty;
  }
  const C* begin() const { return data(); }
  const C* end() const { return data() + size(); }
  C operator[](size_t i) const { return data()[i]; }
  std::basic_string_view<C> view() const { return {data(), size()}; }
  uint64_t hash() const { return r_ ? r_->hash() : hash_bytes(nullptr, 0); }
  int width() const { return r_ ? r_->width : 1; }
  Obj* object() const { return r_.get(); }
  const Ref<Obj>& ref() const { return r_; }

  friend bool operator==(const Buf& a, const Buf& b) {
    if (a.r_.get() == b.r_.get()) return true;
    size_t n = a.size();
    return n == b.size() && std::memcmp(a.data(), b.data(), n * sizeof(C)) == 0;
  }
  friend bool operator!=(const Buf& a, const Buf& b) { return !(a == b); }
  friend bool operator<(const Buf& a, const Buf& b) { return a.view() < b.view(); }
  friend bool operator<=(const Buf& a, const Buf& b) { return a.view() <= b.view(); }
  friend bool operator>(const Buf& a, const Buf& b) { return a.view() > b.view(); }
  friend bool operator>=(const Buf& a, const Buf& b) { return a.view() >= b.view(); }

 private:
  Ref<Obj> r_;
};

using Str = Buf<char32_t, TypeTag::Str>;
using Bytes = Buf<char, TypeTag::Bytes>;

// ---- construction helpers -------------------------------------------------

inline Str str_from_ascii(const char* s) {
  size_t n = std::strlen(s);
  Str r = Str::uninit(n);
  char32_t* d = r.mutable_data();
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<unsigned char>(s[i]);
  r.finish();
  return r;
}

inline Str str_from_u32(const std::u32string& s) { return Str(s.data(), s.size()); }

inline Str str_concat(const Str& a, const Str& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  Str r = Str::uninit(a.size() + b.size());
  std::memcpy(r.mutable_data(), a.data(), a.size() * 4);
  std::memcpy(r.mutable_data() + a.size(), b.data(), b.size() * 4);
  r.set_width(a.width() > b.width() ? a.width() : b.width());  // widths are exact: so is their max
  return r;
}

inline Bytes bytes_concat(const Bytes& a, const Bytes& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  Bytes r = Bytes::uninit(a.size() + b.size());
  std::memcpy(r.mutable_data(), a.data(), a.size());
  std::memcpy(r.mutable_data() + a.size(), b.data(), b.size());
  return r;
}

// UTF-8 encoding of a code-point string (surrogates are encoded as-is, which
// Python would reject; callers that must match str.encode() check first).
inline std::string utf8_encode(const char32_t* s, size_t n) {
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t c = s[i];
    if (c < 0x80) {
      out.push_back(char(c));
    } else if (c < 0x800) {
      out.push_back(char(0xC0 | (c >> 6)));
      out.push_back(char(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(char(0xE0 | (c >> 12)));
      out.push_back(char(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(char(0x80 | (c & 0x3F)));
    } else {
      out.push_back(char(0xF0 | (c >> 18)));
      out.push_back(char(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(char(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(char(0x80 | (c & 0x3F)));
    }
  }
  return out;
}
inline std::string utf8_encode(const Str& s) { return utf8_encode(s.data(), s.size()); }

// Strict UTF-8 decoding (Python's 'strict' error handler). Returns false and the
// offset of the first bad byte on failure.
inline bool utf8_decode(const char* p, size_t n, std::u32string& out, size_t* bad_at) {
  out.clear();
  out.reserve(n);
  const unsigned char* s = reinterpret_cast<const unsigned char*>(p);
  size_t i = 0;
  while (i < n) {
    uint32_t c = s[i];
    if (c < 0x80) { out.push_back(c); ++i; continue; }
    int len;
    uint32_t min;
    if ((c & 0xE0) == 0xC0) { len = 2; c &= 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; c &= 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; c &= 0x07; min = 0x10000; }
    else { if (bad_at) *bad_at = i; return false; }
    if (i + len > n) { if (bad_at) *bad_at = i; return false; }
    for (int k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) { if (bad_at) *bad_at = i; return false; }
      c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
      if (bad_at) *bad_at = i;
      return false;
    }
    out.push_back(c);
    i += len;
  }
  return true;
}

inline Str str_from_utf8(const char* p, size_t n) {
  std::u32string tmp;
  size_t bad = 0;
  if (!utf8_decode(p, n, tmp, &bad))
    raise(ErrKind::UnicodeDecodeError,
          "'utf-8' codec can't decode byte at position " + std::to_string(bad) +
              ": invalid utf-8");
  return Str(tmp.data(), tmp.size());
}
inline Str str_from_utf8(const std::string& s) { return str_from_utf8(s.data(), s.size()); }

inline Bytes bytes_from(const std::string& s) { return Bytes(s.data(), s.size()); }

}  // namespace mx

namespace std {
template <>
struct hash<mx::Str> {
  size_t operator()(const mx::Str& s) const { return s.hash(); }
};
template <>
struct hash<mx::Bytes> {
  size_t operator()(const mx::Bytes& s) const { return s.hash(); }
};
}  // namespace std
