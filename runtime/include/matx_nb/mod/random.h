// The `random` module for compiled code: CPython's Mersenne Twister (MT19937,
// init_by_array seeding, genrand_res53, getrandbits) and the algorithms of
// Lib/random.py on top of it, so that a seed gives CPython's sequence.
//
// One generator per process, shared by every compiled library (a GNU unique
// symbol: the dynamic loader merges it across dlopen'ed libraries) and guarded by
// a mutex. It is not Python's own `random` state: seeding one does not seed the
// other. Unseeded, it starts from std::random_device.
#pragma once
#include "../linkage.h"
#include <cmath>
#include <cstdint>
#include <mutex>
#include <random>

#include "../runtime.h"

namespace mx::pymod {

class MersenneTwister {
 public:
  static constexpr int N = 624, M = 397;

  void init_genrand(uint32_t s) {
    mt_[0] = s;
    for (int i = 1; i < N; i++) mt_[i] = 1812433253U * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + uint32_t(i);
    mti_ = N;
  }

  void init_by_array(const uint32_t* key, size_t len) {
    init_genrand(19650218U);
    size_t i = 1, j = 0;
    for (size_t k = (N > len ? N : len); k; k--) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[j] + uint32_t(j);
      i++;
      j++;
      if (i >= N) { mt_[0] = mt_[N - 1]; i = 1; }
      if (j >= len) j = 0;
    }
    for (size_t k = N - 1; k; k--) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) - uint32_t(i);
      i++;
      if (i >= N) { mt_[0] = mt_[N - 1]; i = 1; }
    }
    mt_[0] = 0x80000000U;
  }

  uint32_t next() {
    static const uint32_t mag01[2] = {0x0U, 0x9908b0dfU};
    uint32_t y;
    if (mti_ >= N) {
      int kk;
      for (kk = 0; kk < N - M; kk++) {
        y = (mt_[kk] & 0x80000000U) | (mt_[kk + 1] & 0x7fffffffU);
        mt_[kk] = mt_[kk + M] ^ (y >> 1) ^ mag01[y & 0x1U];
      }
      for (; kk < N - 1; kk++) {
        y = (mt_[kk] & 0x80000000U) | (mt_[kk + 1] & 0x7fffffffU);
        mt_[kk] = mt_[kk + (M - N)] ^ (y >> 1) ^ mag01[y & 0x1U];
      }
      y = (mt_[N - 1] & 0x80000000U) | (mt_[0] & 0x7fffffffU);
      mt_[N - 1] = mt_[M - 1] ^ (y >> 1) ^ mag01[y & 0x1U];
      mti_ = 0;
    }
    y = mt_[mti_++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= (y >> 18);
    return y;
  }

 private:
  uint32_t mt_[N];
  int mti_ = N + 1;
};

struct RandomState {
  std::mutex mu;
  MersenneTwister mt;
  bool seeded = false;
  bool has_gauss_next = false;
  double gauss_next = 0.0;

  // seed(n) for an int: the absolute value's 32-bit words, least significant first.
  void seed_int(int64_t n) {
    uint64_t a = n < 0 ? uint64_t(0) - uint64_t(n) : uint64_t(n);
    uint32_t key[2] = {uint32_t(a), uint32_t(a >> 32)};
    mt.init_by_array(key, key[1] ? 2 : 1);
    seeded = true;
    has_gauss_next = false;
  }
  void seed_random() {
    std::random_device rd;
    uint32_t key[N_KEY];
    for (auto& k : key) k = rd();
    mt.init_by_array(key, N_KEY);
    seeded = true;
    has_gauss_next = false;
  }
  void ensure_seeded() {
    if (!seeded) seed_random();
  }
  double random() {
    uint32_t a = mt.next() >> 5, b = mt.next() >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }
  uint64_t getrandbits(int k) {  // 0 <= k <= 64
    if (k == 0) return 0;
    if (k <= 32) return mt.next() >> (32 - k);
    uint64_t lo = mt.next();
    uint64_t hi = mt.next() >> (64 - k);
    return lo | (hi << 32);
  }
  // Lib/random.py's _randbelow_with_getrandbits: rejection on bit_length(n) bits.
  uint64_t randbelow(uint64_t n) {
    int k = 64 - __builtin_clzll(n);
    uint64_t r = getrandbits(k);
    while (r >= n) r = getrandbits(k);
    return r;
  }

 private:
  static constexpr int N_KEY = 20;  // 624 bits of entropy, as CPython's urandom seeding
};

// Visible (hence a GNU unique symbol), unlike the rest of the generated code.
__attribute__((visibility("default"))) inline RandomState& random_state() {
  static RandomState s;
  return s;
}

struct RandomLock {
  RandomState& s = random_state();
  std::lock_guard<std::mutex> g{s.mu};
  RandomLock() { s.ensure_seeded(); }
};

MX_INLINE None random_seed(int64_t n, const Loc*) {
  RandomState& s = random_state();
  std::lock_guard<std::mutex> g(s.mu);
  s.seed_int(n);
  return None{};
}
MX_INLINE None random_seed(bool n, const Loc* loc) { return random_seed(int64_t(n), loc); }
MX_INLINE None random_seed(None, const Loc*) {
  RandomState& s = random_state();
  std::lock_guard<std::mutex> g(s.mu);
  s.seed_random();
  return None{};
}

MX_INLINE double random_random(const Loc*) {
  RandomLock l;
  return l.s.random();
}

MX_INLINE int64_t random_getrandbits(int64_t k, const Loc* loc) {
  if (k < 0) raise(ErrKind::ValueError, "number of bits must be non-negative", loc);
  if (k > 63) raise(ErrKind::OverflowError, "getrandbits() results past 63 bits do not fit a 64-bit int", loc);
  RandomLock l;
  return int64_t(l.s.getrandbits(int(k)));
}

MX_INLINE int64_t random_randbelow_locked(RandomState& s, uint64_t n) { return int64_t(s.randbelow(n)); }

MX_INLINE int64_t random_randrange(int64_t start, None, int64_t step, const Loc* loc) {
  if (step != 1) raise(ErrKind::TypeError, "Missing a non-None stop argument", loc);
  if (start <= 0) raise(ErrKind::ValueError, "empty range for randrange()", loc);
  RandomLock l;
  return random_randbelow_locked(l.s, uint64_t(start));
}

// Lib/random.py's randrange with a stop; widths and counts in 128 bits so that
// any int64 range works.
MX_INLINE int64_t random_randrange_wide(int64_t start, __int128 stop, int64_t step, const Loc* loc) {
  __int128 width = stop - start;
  if (step == 1) {
    if (width <= 0)
      raise(ErrKind::ValueError, "empty range for randrange() (" + std::to_string(start) + ", " +
                                     std::to_string(int64_t(stop)) + ", " + std::to_string(int64_t(width)) + ")",
            loc);
    RandomLock l;
    return int64_t(start + __int128(random_randbelow_locked(l.s, uint64_t(width))));
  }
  if (step == 0) raise(ErrKind::ValueError, "zero step for randrange()", loc);
  __int128 num = step > 0 ? width + step - 1 : width + step + 1;
  __int128 n = num / step;
  if ((num % step != 0) && ((num < 0) != (step < 0))) n -= 1;  // Python's // floors
  if (n <= 0) raise(ErrKind::ValueError, "empty range for randrange()", loc);
  RandomLock l;
  return int64_t(start + __int128(step) * random_randbelow_locked(l.s, uint64_t(n)));
}

MX_INLINE int64_t random_randrange(int64_t start, int64_t stop, int64_t step, const Loc* loc) {
  return random_randrange_wide(start, stop, step, loc);
}

MX_INLINE int64_t random_randint(int64_t a, int64_t b, const Loc* loc) {
  return random_randrange_wide(a, __int128(b) + 1, 1, loc);
}

MX_INLINE double random_uniform(double a, double b, const Loc*) {
  RandomLock l;
  return a + (b - a) * l.s.random();
}

MX_INLINE double random_gauss(double mu, double sigma, const Loc*) {
  RandomLock l;
  RandomState& s = l.s;
  double z;
  if (s.has_gauss_next) {
    z = s.gauss_next;
    s.has_gauss_next = false;
  } else {
    double x2pi = s.random() * (2.0 * M_PI);
    double g2rad = std::sqrt(-2.0 * std::log(1.0 - s.random()));
    z = std::cos(x2pi) * g2rad;
    s.gauss_next = std::sin(x2pi) * g2rad;
    s.has_gauss_next = true;
  }
  return mu + z * sigma;
}

template <class T>
inline T random_choice(const List<T>& seq, const Loc* loc) {
  if (seq.size() == 0) raise(ErrKind::IndexError, "Cannot choose from an empty sequence", loc);
  RandomLock l;
  return seq[random_randbelow_locked(l.s, uint64_t(seq.size()))];
}
MX_INLINE Str random_choice(const Str& seq, const Loc* loc) {
  if (seq.size() == 0) raise(ErrKind::IndexError, "Cannot choose from an empty sequence", loc);
  RandomLock l;
  return Str(seq.data() + random_randbelow_locked(l.s, uint64_t(seq.size())), 1);
}

template <class T>
inline None random_shuffle(const List<T>& x, const Loc*) {
  RandomLock l;
  auto& v = x.vec();
  for (size_t i = v.size(); i-- > 1;) {
    size_t j = size_t(random_randbelow_locked(l.s, uint64_t(i + 1)));
    std::swap(v[i], v[j]);
  }
  return None{};
}

template <class T>
inline List<T> random_sample(const List<T>& population, int64_t k, const Loc* loc) {
  const int64_t n = population.size();
  if (!(0 <= k && k <= n)) raise(ErrKind::ValueError, "Sample larger than population or is negative", loc);
  List<T> result;
  result.reserve(k);
  int64_t setsize = 21;
  if (k > 5) setsize += int64_t(std::pow(4.0, std::ceil(std::log(double(k * 3)) / std::log(4.0))));
  RandomLock l;
  if (n <= setsize) {
    std::vector<int64_t> pool(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) pool[size_t(i)] = i;
    for (int64_t i = 0; i < k; ++i) {
      int64_t j = random_randbelow_locked(l.s, uint64_t(n - i));
      result.push_back(population[pool[size_t(j)]]);
      pool[size_t(j)] = pool[size_t(n - i - 1)];
    }
  } else {
    Set<int64_t> selected;
    for (int64_t i = 0; i < k; ++i) {
      int64_t j = random_randbelow_locked(l.s, uint64_t(n));
      while (selected.contains(j)) j = random_randbelow_locked(l.s, uint64_t(n));
      selected.add(j);
      result.push_back(population[j]);
    }
  }
  return result;
}

}  // namespace mx::pymod
