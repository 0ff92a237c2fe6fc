// Small-block allocator for strings: per-thread free lists by size class.
//
// Converting a batch of a million words allocates and frees a million small
// buffers per call; glibc's malloc spends more time on that than the work itself.
// Freed blocks are kept per thread (up to a byte budget) and reused by the next
// allocation of the same class. A block may be freed by another thread or
// another compiled library: every block carries its class in a header.
#pragma once
#include "linkage.h"
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

namespace mx {
namespace alloc {

constexpr size_t kHeader = 8;                   // keeps the payload 8-byte aligned
constexpr int kSmall = 16;                      // 16, 32, ..., 256 bytes (16-byte steps)
constexpr int kClasses = kSmall + 4;            // then 512, 1024, 2048, 4096
constexpr size_t kMaxCachedBytes = 64 << 20;    // per thread
constexpr uint8_t kLarge = 0xFF;

MX_INLINE int size_class(size_t total) {
  if (total <= 256) return int((total + 15) / 16) - 1;
  if (total > 4096) return kLarge;
  int c = kSmall;
  size_t s = 512;
  while (s < total) { s <<= 1; ++c; }
  return c;
}
MX_INLINE size_t class_bytes(int c) { return c < kSmall ? size_t(c + 1) * 16 : size_t(512) << (c - kSmall); }

struct FreeBlock { FreeBlock* next; };

// Trivially constructible and destructible, so that reaching it costs one TLS
// lookup (a thread_local with a destructor also needs its guard variable: two
// __tls_get_addr calls per allocation in a -fPIC library). The blocks are given
// back at thread exit by a Reaper, registered the first time a thread caches one.
struct ThreadCache {
  FreeBlock* head[kClasses];
  size_t cached_bytes;
  bool registered;  // the Reaper is armed for this thread
  bool dead;        // thread exit: the Reaper has run, cache nothing more
};

MX_INLINE ThreadCache& cache() {
  static thread_local ThreadCache tc;  // zero-initialized
  return tc;
}

struct Reaper {
  ~Reaper() {
    ThreadCache& tc = cache();
    for (int c = 0; c < kClasses; ++c) {
      while (FreeBlock* b = tc.head[c]) {
        tc.head[c] = b->next;
        ::operator delete(static_cast<void*>(b));
      }
    }
    tc.cached_bytes = 0;
    tc.dead = true;
  }
};

// Slow path, once per thread: arms the Reaper. False at thread exit.
MX_INLINE bool arm(ThreadCache& tc) {
  if (tc.dead) return false;
  static thread_local Reaper reaper;
  (void)reaper;
  tc.registered = true;
  return true;
}

MX_INLINE void* allocate(size_t payload) {
  size_t total = payload + kHeader;
  int c = size_class(total);
  char* block;
  if (c == kLarge) {
    block = static_cast<char*>(::operator new(total));
  } else {
    ThreadCache& tc = cache();
    if (FreeBlock* b = tc.head[c]) {
      tc.head[c] = b->next;
      tc.cached_bytes -= class_bytes(c);
      block = reinterpret_cast<char*>(b);
    } else {
      block = static_cast<char*>(::operator new(class_bytes(c)));
    }
  }
  block[0] = char(uint8_t(c));
  return block + kHeader;
}

MX_INLINE void deallocate(void* p) {
  char* block = static_cast<char*>(p) - kHeader;
  int c = uint8_t(block[0]);
  if (c != kLarge) {
    ThreadCache& tc = cache();
    size_t bytes = class_bytes(c);
    if (tc.cached_bytes + bytes <= kMaxCachedBytes && (tc.registered || arm(tc))) {
      FreeBlock* b = reinterpret_cast<FreeBlock*>(block);
      b->next = tc.head[c];
      tc.head[c] = b;
      tc.cached_bytes += bytes;
      return;
    }
  }
  ::operator delete(static_cast<void*>(block));
}

// Destroys a vector's items last to first (see ~ListObj), leaving it empty. The
// item 8 places ahead is prefetched (prefetch_for_release, found by ADL for the
// item types that own a buffer): the misses on cold items overlap.
template <class T>
inline void prefetch_for_release(const T&) {}
template <class V>
inline void release_backwards(V& v) {
  if constexpr (!std::is_trivially_destructible<typename V::value_type>::value) {
    for (size_t i = v.size(); i-- > 0;) {
      if (i >= 8) prefetch_for_release(v[i - 8]);
      v.pop_back();
    }
  } else {
    v.clear();
  }
}

// std::allocator over the size classes, for the buffers of containers (a list's
// items grow 4, 8, 16...: each step is a free-list pop instead of a malloc).
template <class T>
struct Pool {
  using value_type = T;
  Pool() noexcept = default;
  template <class U>
  Pool(const Pool<U>&) noexcept {}
  T* allocate(size_t n) {
    if (n > size_t(-1) / 2 / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(alloc::allocate(n * sizeof(T)));
  }
  void deallocate(T* p, size_t) noexcept { alloc::deallocate(p); }
  template <class U>
  friend bool operator==(const Pool&, const Pool<U>&) noexcept { return true; }
  template <class U>
  friend bool operator!=(const Pool&, const Pool<U>&) noexcept { return false; }
};

}  // namespace alloc
}  // namespace mx
