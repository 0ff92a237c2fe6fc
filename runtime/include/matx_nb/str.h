// str (Unicode, one char32_t per code point) and bytes: immutable, shared buffers.
#pragma once
#include "linkage.h"
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "alloc.h"
#include "error.h"
#include "object.h"

namespace mx {

// The 1-7 bytes at p as one little-endian word, zero-padded (two overlapping
// 4-byte loads from 4 bytes up; no read past p + n).
MX_INLINE uint64_t load_short(const unsigned char* p, size_t n) {
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return uint64_t(lo) | (uint64_t(hi) << (8 * (n - 4)));
  }
  uint64_t w = p[0];
  if (n > 1) w |= uint64_t(p[1]) << 8;
  if (n > 2) w |= uint64_t(p[2]) << 16;
  return w;
}

MX_INLINE uint64_t hash_bytes(const void* data, size_t n) {
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
  if (n) h = (h ^ load_short(p, n)) * 1099511628211ULL;  // the last 1-7 bytes as one word
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h;
}

// An immutable buffer of code units allocated in one block with its header
// (bytes; str has its own object below).
template <class C, TypeTag Tag>
class BufObj final : public Object {
 public:
  TypeTag tag() const override { return Tag; }
  const char* type_name() const override { return "bytes"; }
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

 private:
  BufObj() = default;
  size_t size_ = 0;
  mutable uint64_t hash_ = 0;
  mutable bool hash_valid_ = false;
};

using BytesObj = BufObj<char, TypeTag::Bytes>;
template <class C, TypeTag Tag>
struct FreesNested<BufObj<C, Tag>> : std::false_type {};

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
    }
  }
  // Writable buffer of n units.
  static Buf uninit(size_t n) {
    Buf b;
    if (n) b.r_ = Ref<Obj>::adopt(Obj::alloc(n));
    return b;
  }
  C* mutable_data() { return r_ ? r_->data() : nullptr; }
  void finish() {}
  bool unique() const { return r_ && r_->sole(); }

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

using Bytes = Buf<char, TypeTag::Bytes>;

// ---- str ---------------------------------------------------------------------------
//
// A str stores its code points in one of two kinds, like CPython: kind 1, one byte
// per code point (every code point <= 0xFF: ASCII and Latin-1 text, nearly all of
// the text pre-processing sees), or kind 4, one char32_t per code point. Code that
// reads code points (data(), begin(), view()) works on either: a kind-1 string
// makes a UTF-32 copy of itself the first time it is asked and keeps it. The hot
// methods (split, strip, replace, join, lower, find, hashing, comparison and the
// conversions to and from Python) work on the bytes of kind-1 strings directly.
//
// `width` is the exact class of the largest code point (1: <= 0xFF, 2: <= 0xFFFF,
// 4), independent of the kind: a kind-4 string may hold only Latin-1 text (a
// result built code point by code point). Hash and equality depend only on the
// code points, never on the kind.

// The FNV-1a of hash_bytes over the code points of a Latin-1 text held as
// char32_t: equal to hash_bytes() of its one-byte form.
MX_INLINE uint64_t hash_latin1(const char32_t* d, size_t n) {
  uint64_t h = 1469598103934665603ULL ^ n;
  while (n >= 8) {
    uint64_t w = 0;
    for (int k = 0; k < 8; ++k) w |= uint64_t(uint8_t(d[k])) << (8 * k);
    h = (h ^ w) * 1099511628211ULL;
    h ^= h >> 29;
    d += 8;
    n -= 8;
  }
  if (n) {
    uint64_t w = 0;
    for (size_t k = 0; k < n; ++k) w |= uint64_t(uint8_t(d[k])) << (8 * k);
    h = (h ^ w) * 1099511628211ULL;
  }
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h;
}

class StrObj;
template <>
struct FreesNested<StrObj> : std::false_type {};

class StrObj final : public Object {
 public:
  TypeTag tag() const override { return TypeTag::Str; }
  const char* type_name() const override { return "str"; }
  // n code points of storage kind 1 or 4 (width 1 for kind 1; callers filling a
  // kind-4 buffer set the width).
  static constexpr size_t kPad = 16;
  static StrObj* alloc(size_t n, int kind = 4) {
    // Kind 1 keeps 16 bytes after the last code point (its terminator and padding):
    // code that copies bytes reads and writes whole words past the end (join, split).
    void* mem = alloc::allocate(sizeof(StrObj) + (kind == 1 ? n + kPad : (n + 1) * 4));
    StrObj* b = new (mem) StrObj();
    b->size_ = n;
    b->kind_ = uint8_t(kind);
    if (kind == 1) b->data8()[n] = 0;
    else b->data32()[n] = 0;
    return b;
  }
  // decref() without the virtual call: StrObj is final, so `delete this` here calls
  // its own destructor and operator delete directly (Str's hot path).
  void drop() const noexcept {
    if (release_ref()) free_this();
  }
  // Deletes the buffer (out of line: every Str destructor calls drop()).
  __attribute__((noinline)) void free_this() const noexcept;
  ~StrObj() override {
    if (char32_t* w = wide_.load(std::memory_order_relaxed)) alloc::deallocate(w);
  }
  static void operator delete(void* p) { alloc::deallocate(p); }
  int kind() const { return kind_; }
  uint8_t* data8() { return reinterpret_cast<uint8_t*>(this + 1); }
  const uint8_t* data8() const { return reinterpret_cast<const uint8_t*>(this + 1); }
  char32_t* data32() { return reinterpret_cast<char32_t*>(this + 1); }
  // The code points as char32_t, whatever the kind.
  const char32_t* data() const {
    if (kind_ == 4) return reinterpret_cast<const char32_t*>(this + 1);
    char32_t* w = wide_.load(std::memory_order_acquire);
    return w ? w : widen();
  }
  size_t size() const { return size_; }
  void forget_hash() {  // the holder of the only reference edited it: no other thread reads it
    hash_valid_ = false;
    if (char32_t* w = wide_.load(std::memory_order_relaxed)) {
      wide_.store(nullptr, std::memory_order_relaxed);
      alloc::deallocate(w);
    }
  }
  uint64_t hash() const {
    if (!hash_valid_) compute_hash();
    return hash_;
  }
  bool hash_known() const { return hash_valid_; }
  // The one-byte fields first: they fill the 4 bytes after Object's count, which
  // keeps the header at 40 bytes.
  uint8_t width = 1;

 private:
  mutable bool hash_valid_ = false;
  uint8_t kind_ = 4;
  StrObj() = default;
  // Out of line: computed once per string, and keeping the callers small keeps
  // g++ fast on every library that hashes strings.
  __attribute__((noinline)) void compute_hash() const;
  // The UTF-32 copy of a kind-1 string, made once; threads that race both build
  // one and the loser frees its own.
  __attribute__((noinline)) const char32_t* widen() const;
  size_t size_ = 0;
  mutable uint64_t hash_ = 0;
  mutable std::atomic<char32_t*> wide_{nullptr};
};
static_assert(sizeof(StrObj) == 40, "StrObj header layout");

#if MX_RT_DEFINE
MX_RT void StrObj::free_this() const noexcept { delete this; }

MX_RT void StrObj::compute_hash() const {
  if (kind_ == 1) hash_ = hash_bytes(data8(), size_);
  else if (width == 1) hash_ = hash_latin1(reinterpret_cast<const char32_t*>(this + 1), size_);
  else hash_ = hash_bytes(this + 1, size_ * 4);
  hash_valid_ = true;
}

MX_RT const char32_t* StrObj::widen() const {
  char32_t* w = static_cast<char32_t*>(alloc::allocate((size_ + 1) * 4));
  const uint8_t* s = data8();
  for (size_t i = 0; i <= size_; ++i) w[i] = s[i];
  char32_t* expected = nullptr;
  if (wide_.compare_exchange_strong(expected, w, std::memory_order_acq_rel)) return w;
  alloc::deallocate(w);
  return expected;
}
#endif

// ---- short strings held inline ---------------------------------------------------
//
// A Str is one machine word. A str of 1 to 7 Latin-1 code points is stored in the
// word itself (low bit set, length in bits 1-3 of the first byte, the code points
// in the next 7 bytes), so the words that split, slicing and conversion produce
// cost no allocation and no reference count. Anything else points to a StrObj
// (null: the empty string). Code that reads code points as char32_t (data(),
// view(), begin()) gets, for an inline string, a UTF-32 copy from a per-thread
// table keyed by the word's value: every such read of one value returns the same
// buffer, which stays valid until the outermost compiled call of the thread
// returns (abi.h guarded() holds an EntryScope).

namespace detail {

struct WideEntry {
  uint64_t key;
  char32_t w[8];
};
struct ThreadStrState {
  WideEntry** slots;  // open addressing, capacity cap (a power of two)
  size_t cap, n;
  int depth;          // compiled entry points active on this thread
};
MX_INLINE ThreadStrState& str_state() {
  static thread_local ThreadStrState s;  // zero-initialized, no destructor
  return s;
}

__attribute__((noinline)) MX_RT const char32_t* wide_of_inline(uint64_t v);
#if MX_RT_DEFINE
__attribute__((noinline)) MX_RT const char32_t* wide_of_inline(uint64_t v) {
  ThreadStrState& t = str_state();
  if ((t.n + 1) * 2 > t.cap) {
    size_t cap = t.cap ? t.cap * 2 : 64;
    WideEntry** slots = static_cast<WideEntry**>(std::calloc(cap, sizeof(WideEntry*)));
    if (!slots) throw std::bad_alloc();
    for (size_t i = 0; i < t.cap; ++i) {
      if (WideEntry* e = t.slots[i]) {
        size_t j = size_t((e->key * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = e;
      }
    }
    std::free(t.slots);
    t.slots = slots;
    t.cap = cap;
  }
  size_t mask = t.cap - 1;
  size_t i = size_t((v * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
  while (WideEntry* e = t.slots[i]) {
    if (e->key == v) return e->w;
    i = (i + 1) & mask;
  }
  WideEntry* e = static_cast<WideEntry*>(alloc::allocate(sizeof(WideEntry)));
  e->key = v;
  size_t n = (v & 0xFF) >> 1;
  for (size_t k = 0; k < 8; ++k) e->w[k] = k < n ? char32_t((v >> (8 * (k + 1))) & 0xFF) : 0;
  t.slots[i] = e;
  ++t.n;
  return e->w;
}
#endif

__attribute__((noinline)) MX_RT void release_wides(ThreadStrState& t);
#if MX_RT_DEFINE
__attribute__((noinline)) MX_RT void release_wides(ThreadStrState& t) {
  for (size_t i = 0; i < t.cap; ++i)
    if (t.slots[i]) alloc::deallocate(t.slots[i]);
  std::free(t.slots);
  t.slots = nullptr;
  t.cap = t.n = 0;
}
#endif

}  // namespace detail

// Marks a compiled entry point on the stack; the last one to return frees the
// UTF-32 copies of inline strings made meanwhile.
struct EntryScope {
  detail::ThreadStrState& t = detail::str_state();
  EntryScope() { ++t.depth; }
  ~EntryScope() {
    if (--t.depth == 0 && t.slots) detail::release_wides(t);
  }
  EntryScope(const EntryScope&) = delete;
  EntryScope& operator=(const EntryScope&) = delete;
};

class Str {
 public:
  using Obj = StrObj;
  using value_type = char32_t;
  static constexpr size_t kInlineMax = 7;

  Str() = default;
  explicit Str(Ref<StrObj> r) : v_(reinterpret_cast<uintptr_t>(r.release())) {}
  Str(const Str& o) noexcept : v_(o.v_) {
    if (StrObj* p = o.heap()) p->incref();
  }
  Str(Str&& o) noexcept : v_(o.v_) { o.v_ = 0; }
  ~Str() {
    if (StrObj* p = heap()) p->drop();
  }
  Str& operator=(const Str& o) noexcept {
    if (StrObj* p = o.heap()) p->incref();
    if (StrObj* p = heap()) p->drop();
    v_ = o.v_;
    return *this;
  }
  Str& operator=(Str&& o) noexcept {
    if (this != &o) {
      if (StrObj* p = heap()) p->drop();
      v_ = o.v_;
      o.v_ = 0;
    }
    return *this;
  }

  // A copy of n code points, stored in the narrowest kind that holds them.
  Str(const char32_t* s, size_t n) {
    if (n) *this = from_u32(s, n);
  }
  __attribute__((noinline)) static Str from_u32(const char32_t* s, size_t n);
  // A copy of n Latin-1 code points (one byte each): inline up to 7, else kind 1.
  static Str latin1(const void* s, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(s);
    if (n <= kInlineMax) return small(p, n);
    return heap_latin1<copy_bytes>(p, n);
  }
  // The n (< 8) bytes at p as an inline string, reading a whole word: p must have
  // 8 readable bytes (a kind-1 buffer before its last code point, or a Str's word).
  static Str latin1_word(const uint8_t* p, size_t n) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    Str b;
    b.v_ = n ? uintptr_t(((w & (~0ULL >> (64 - 8 * n))) << 8) | (n << 1) | 1) : 0;
    return b;
  }
  // A copy of n bytes at p, which has 8 readable bytes past p + n - 1 (see latin1_word).
  static Str latin1_padded(const uint8_t* p, size_t n) {
    if (n <= kInlineMax) return latin1_word(p, n);
    return heap_latin1<copy_words>(p, n);
  }
  // Copies n bytes a word at a time: reads and writes up to 7 bytes past n.
  static void copy_words(uint8_t* d, const uint8_t* s, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      std::memcpy(d + i, &w, 8);
    }
  }
  // A narrow string's bytes for copying 16 at a time: (p, n) with 16 readable bytes
  // at p (an inline string's are put in *word, two words long). False for kind 4.
  bool bytes16(const uint8_t*& p, size_t& n, uint64_t* word) const {
    if ((v_ & 1) || !v_) {
      word[0] = uint64_t(v_) >> 8;
      word[1] = 0;
      p = reinterpret_cast<const uint8_t*>(word);
      n = (v_ & 0xFF) >> 1;
      return true;
    }
    const StrObj* o = heap();
    p = o->data8();
    n = o->size();
    return o->kind() == 1;
  }
  // Copies n bytes from s (16 readable) to d (room for 16 more than n), 16 at a time.
  static void copy16(uint8_t* d, const uint8_t* s, size_t n) {
    size_t i = 0;
    do {
      uint64_t a, b;
      std::memcpy(&a, s + i, 8);
      std::memcpy(&b, s + i + 8, 8);
      std::memcpy(d + i, &a, 8);
      std::memcpy(d + i + 8, &b, 8);
      i += 16;
    } while (i < n);
  }
  // memcpy, inline for the short pieces (words) that split and slicing copy.
  static void copy_bytes(uint8_t* d, const uint8_t* s, size_t n) {
    if (n >= 8 && n <= 16) {
      uint64_t a, z;
      std::memcpy(&a, s, 8);
      std::memcpy(&z, s + n - 8, 8);
      std::memcpy(d, &a, 8);
      std::memcpy(d + n - 8, &z, 8);
    } else if (n >= 4 && n < 8) {
      uint32_t a, z;
      std::memcpy(&a, s, 4);
      std::memcpy(&z, s + n - 4, 4);
      std::memcpy(d, &a, 4);
      std::memcpy(d + n - 4, &z, 4);
    } else if (n < 4) {
      for (size_t i = 0; i < n; ++i) d[i] = s[i];
    } else {
      std::memcpy(d, s, n);
    }
  }
  // Writable kind-4 buffer of n code points (on the heap); call finish() (or
  // set_width()) after filling it through mutable_data().
  static Str uninit(size_t n) {
    Str b;
    if (n) b.v_ = reinterpret_cast<uintptr_t>(StrObj::alloc(n, 4));
    return b;
  }
  // Writable kind-1 buffer of n code points <= 0xFF (on the heap), filled through
  // mutable_data8().
  static Str uninit8(size_t n) {
    Str b;
    if (n) b.v_ = reinterpret_cast<uintptr_t>(StrObj::alloc(n, 1));
    return b;
  }
  // Kind-4 storage only (a buffer from uninit()).
  char32_t* mutable_data() { return heap() ? heap()->data32() : nullptr; }
  // Kind-1 storage only (a buffer from uninit8()).
  uint8_t* mutable_data8() { return heap() ? heap()->data8() : nullptr; }
  // A copy of n code points whose width (1, 2 or 4) the caller knows, e.g. a slice
  // of a width-1 string: no scan; width 1 makes an inline or kind-1 string.
  __attribute__((noinline)) static Str copy_with_width(const char32_t* s, size_t n, int width);
  // Width set by a caller that knows it (instead of finish()).
  void set_width(int w) {
    if (StrObj* p = heap()) p->width = uint8_t(w);
  }
  // The only reference to a non-empty heap buffer: the holder of a temporary may
  // then edit it in place (mutable_data() or mutable_data8() by kind, then
  // forget_hash() on the object). Never true of an inline string.
  bool unique() const { return heap() && heap()->sole(); }
  // Sets the width of a kind-4 buffer filled through mutable_data().
  void finish() {
    StrObj* o = heap();
    if (!o || o->kind() != 4) return;
    uint32_t m = 0;
    const char32_t* d = o->data32();
    for (size_t i = 0, n = o->size(); i < n; ++i) m |= uint32_t(d[i]);
    o->width = m <= 0xFF ? 1 : (m <= 0xFFFF ? 2 : 4);
  }

  bool is_inline() const { return v_ & 1; }
  // Starts loading the buffer's header (a list releasing its items in bulk).
  void prefetch() const {
    if (!(v_ & 1) && v_) __builtin_prefetch(reinterpret_cast<const void*>(v_), 1);
  }
  size_t size() const { return (v_ & 1) ? (v_ & 0xFF) >> 1 : (v_ ? heap()->size() : 0); }
  bool empty() const { return size() == 0; }
  // Inline or kind 1: the code points are the bytes of data8().
  bool narrow() const { return (v_ & 1) || !v_ || heap()->kind() == 1; }
  // Inline: points into this Str, valid while it lives unchanged at this address.
  const uint8_t* data8() const {
    static const uint8_t kEmpty[1] = {0};
    if (v_ & 1) return reinterpret_cast<const uint8_t*>(&v_) + 1;
    return v_ ? heap()->data8() : kEmpty;
  }
  const char32_t* data() const {
    static const char32_t kEmpty[1] = {0};
    if (v_ & 1) return detail::wide_of_inline(uint64_t(v_));
    return v_ ? heap()->data() : kEmpty;
  }
  const char32_t* begin() const { return data(); }
  const char32_t* end() const { return data() + size(); }
  char32_t operator[](size_t i) const {
    if (v_ & 1) return char32_t((uint64_t(v_) >> (8 * (i + 1))) & 0xFF);
    const StrObj* o = heap();
    if (!o) return 0;
    return o->kind() == 1 ? char32_t(o->data8()[i]) : o->data()[i];
  }
  std::u32string_view view() const { return {data(), size()}; }
  uint64_t hash() const {
    if (v_ & 1) return hash_inline(uint64_t(v_));
    return v_ ? heap()->hash() : hash_bytes(nullptr, 0);
  }
  int width() const { return (v_ & 1) || !v_ ? 1 : heap()->width; }
  // The heap object; null for the empty string and for inline strings.
  StrObj* object() const { return heap(); }
  // A heap object holding this string (a new one for an inline string; null for
  // the empty string): for Any and other holders of plain Objects.
  Ref<StrObj> ref() const {
    if (v_ & 1) {
      size_t n = size();
      StrObj* o = StrObj::alloc(n, 1);
      std::memcpy(o->data8(), data8(), n);
      return Ref<StrObj>::adopt(o);
    }
    return Ref<StrObj>::borrow(heap());
  }

  friend bool operator==(const Str& a, const Str& b) {
    if (a.v_ == b.v_) return true;
    if ((a.v_ & b.v_) & 1) return false;  // two inline strings: equal only bit for bit
    size_t n = a.size();
    if (n != b.size()) return false;
    if (n == 0) return true;
    const StrObj* x = a.heap();
    const StrObj* y = b.heap();
    if (x && y) {
      if (x->width != y->width) return false;  // widths are exact
      if (x->kind() == y->kind()) return std::memcmp(x + 1, y + 1, n * size_t(x->kind())) == 0;
      return eq_mixed(x->kind() == 1 ? x->data8() : y->data8(), (x->kind() == 1 ? y : x)->data(), n);
    }
    // One inline (width 1) and one heap string.
    const StrObj* h = x ? x : y;
    const uint8_t* p = x ? b.data8() : a.data8();
    if (h->width != 1) return false;
    if (h->kind() == 1) return std::memcmp(h->data8(), p, n) == 0;
    return eq_mixed(p, h->data(), n);
  }
  __attribute__((noinline)) static bool eq_mixed(const uint8_t* p, const char32_t* q, size_t n) {
    for (size_t i = 0; i < n; ++i)
      if (p[i] != q[i]) return false;
    return true;
  }
  friend bool operator!=(const Str& a, const Str& b) { return !(a == b); }
  // <0, 0, >0 as a's code points compare with b's.
  static int compare(const Str& a, const Str& b) {
    if (a.narrow() && b.narrow()) {
      size_t n = a.size() < b.size() ? a.size() : b.size();
      int c = n ? std::memcmp(a.data8(), b.data8(), n) : 0;  // unsigned bytes: code point order
      if (c) return c;
      return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
    }
    return a.view().compare(b.view());
  }
  friend bool operator<(const Str& a, const Str& b) { return compare(a, b) < 0; }
  friend bool operator<=(const Str& a, const Str& b) { return compare(a, b) <= 0; }
  friend bool operator>(const Str& a, const Str& b) { return compare(a, b) > 0; }
  friend bool operator>=(const Str& a, const Str& b) { return compare(a, b) >= 0; }

 private:
  // A kind-1 heap string of the n bytes at p, copied by Copy.
  template <void (*Copy)(uint8_t*, const uint8_t*, size_t)>
  static Str heap_latin1(const uint8_t* p, size_t n) {
    Str b;
    StrObj* o = StrObj::alloc(n, 1);
    Copy(o->data8(), p, n);
    b.v_ = reinterpret_cast<uintptr_t>(o);
    return b;
  }
  // 1 to 7 bytes: one word, no allocation.
  static Str small(const uint8_t* s, size_t n) {
    Str b;
    if (!n) return b;
    b.v_ = uintptr_t((load_short(s, n) << 8) | (n << 1) | 1);
    return b;
  }
  StrObj* heap() const { return (v_ & 1) ? nullptr : reinterpret_cast<StrObj*>(v_); }
  // hash_bytes() of the 1-7 bytes, which the word holds zero-padded.
  static uint64_t hash_inline(uint64_t v) {
    uint64_t n = (v & 0xFF) >> 1;
    uint64_t h = (1469598103934665603ULL ^ n ^ (v >> 8)) * 1099511628211ULL;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return h;
  }

  uintptr_t v_ = 0;
};

MX_INLINE void prefetch_for_release(const Str& s) { s.prefetch(); }  // alloc::release_backwards

#if MX_RT_DEFINE
MX_RT Str Str::from_u32(const char32_t* s, size_t n) {
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) m |= uint32_t(s[i]);
  return copy_with_width(s, n, m <= 0xFF ? 1 : (m <= 0xFFFF ? 2 : 4));
}

MX_RT Str Str::copy_with_width(const char32_t* s, size_t n, int width) {
  Str b;
  if (!n) return b;
  if (width == 1) {
    if (n <= kInlineMax) {
      uint64_t v = 0;
      for (size_t i = 0; i < n; ++i) v |= uint64_t(uint8_t(s[i])) << (8 * (i + 1));
      b.v_ = uintptr_t(v | (n << 1) | 1);
      return b;
    }
    StrObj* o = StrObj::alloc(n, 1);
    uint8_t* d = o->data8();
    for (size_t i = 0; i < n; ++i) d[i] = uint8_t(s[i]);
    b.v_ = reinterpret_cast<uintptr_t>(o);
  } else {
    StrObj* o = StrObj::alloc(n, 4);
    std::memcpy(o->data32(), s, n * 4);
    o->width = uint8_t(width);
    b.v_ = reinterpret_cast<uintptr_t>(o);
  }
  return b;
}
#endif

// The code points of s for one pass: an inline string is widened into this
// object, on the caller's stack, rather than into the per-thread table (int(),
// float() and repr() of many distinct short strings in one call).
class U32Of {
 public:
  explicit U32Of(const Str& s) : n_(s.size()) {
    if (s.is_inline()) {
      const uint8_t* b = s.data8();
      for (size_t i = 0; i < n_; ++i) buf_[i] = b[i];
      buf_[n_] = 0;
      p_ = buf_;
    } else {
      p_ = s.data();
    }
  }
  U32Of(const U32Of&) = delete;
  U32Of& operator=(const U32Of&) = delete;
  const char32_t* data() const { return p_; }
  size_t size() const { return n_; }
  const char32_t* begin() const { return p_; }
  const char32_t* end() const { return p_ + n_; }

 private:
  char32_t buf_[8];
  const char32_t* p_;
  size_t n_;
};

// ---- construction helpers -------------------------------------------------

MX_INLINE Str str_from_ascii(const char* s) { return Str::latin1(s, std::strlen(s)); }

MX_INLINE Str str_from_u32(const std::u32string& s) { return Str(s.data(), s.size()); }

MX_INLINE Str str_concat(const Str& a, const Str& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  if (a.width() == 1 && b.width() == 1) {
    Str r = Str::uninit8(a.size() + b.size());
    uint8_t* d = r.mutable_data8();
    for (const Str* x : {&a, &b}) {
      if (x->narrow()) std::memcpy(d, x->data8(), x->size());
      else for (size_t i = 0; i < x->size(); ++i) d[i] = uint8_t(x->data()[i]);
      d += x->size();
    }
    return r;
  }
  Str r = Str::uninit(a.size() + b.size());
  std::memcpy(r.mutable_data(), a.data(), a.size() * 4);
  std::memcpy(r.mutable_data() + a.size(), b.data(), b.size() * 4);
  r.set_width(a.width() > b.width() ? a.width() : b.width());  // widths are exact: so is their max
  return r;
}

MX_INLINE Bytes bytes_concat(const Bytes& a, const Bytes& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  Bytes r = Bytes::uninit(a.size() + b.size());
  std::memcpy(r.mutable_data(), a.data(), a.size());
  std::memcpy(r.mutable_data() + a.size(), b.data(), b.size());
  return r;
}

// UTF-8 encoding of a code-point string (surrogates are encoded as-is, which
// Python would reject; callers that must match str.encode() check first).
MX_RT std::string utf8_encode(const char32_t* s, size_t n);
#if MX_RT_DEFINE
MX_RT std::string utf8_encode(const char32_t* s, size_t n) {
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
#endif
MX_INLINE std::string utf8_encode(const Str& s) { return utf8_encode(s.data(), s.size()); }

// Strict UTF-8 decoding (Python's 'strict' error handler). Returns false and the
// offset of the first bad byte on failure.
MX_INLINE bool utf8_decode(const char* p, size_t n, std::u32string& out, size_t* bad_at) {
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

MX_INLINE Str str_from_utf8(const char* p, size_t n) {
  std::u32string tmp;
  size_t bad = 0;
  if (!utf8_decode(p, n, tmp, &bad))
    raise(ErrKind::UnicodeDecodeError,
          "'utf-8' codec can't decode byte at position " + std::to_string(bad) +
              ": invalid utf-8");
  return Str(tmp.data(), tmp.size());
}
MX_INLINE Str str_from_utf8(const std::string& s) { return str_from_utf8(s.data(), s.size()); }

MX_INLINE Bytes bytes_from(const std::string& s) { return Bytes(s.data(), s.size()); }

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
