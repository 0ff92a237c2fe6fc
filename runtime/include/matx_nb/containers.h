// list, dict, set, tuple and None with Python's reference semantics.
#pragma once
#include "linkage.h"
#include <cmath>
#include <cstring>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "error.h"
#include "object.h"
#include "str.h"

namespace mx {

struct None {
  friend bool operator==(None, None) { return true; }
  friend bool operator!=(None, None) { return false; }
};

// ---- hashing and key equality (Python: equal values hash equal) ---------------

MX_INLINE uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

template <class T, class = void>
struct Hash;
template <>
struct Hash<int64_t> {
  static uint64_t of(int64_t v) { return mix64(uint64_t(v)); }
};
template <>
struct Hash<bool> {
  static uint64_t of(bool v) { return mix64(uint64_t(v)); }
};
template <>
struct Hash<double> {
  static uint64_t of(double v) {
    // 1.0 and 1 are the same key in Python.
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.2e18) return mix64(uint64_t(int64_t(v)));
    if (v == 0) return mix64(0);
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    return mix64(bits);
  }
};
template <>
struct Hash<None> {
  static uint64_t of(None) { return 0x9e3779b97f4a7c15ULL; }
};
template <>
struct Hash<Str> {
  static uint64_t of(const Str& s) { return s.hash(); }
};
template <>
struct Hash<Bytes> {
  static uint64_t of(const Bytes& s) { return s.hash() ^ 0x5bd1e995ULL; }
};

template <class T>
inline uint64_t hash_of(const T& v) { return Hash<T>::of(v); }

// ---- list ------------------------------------------------------------------

// How a list stores its items: std::vector<bool> is a bitset whose items cannot
// be referenced, so bools are boxed in a byte.
struct BoolSlot {
  bool b;
  BoolSlot(bool v = false) : b(v) {}
  operator bool() const { return b; }
};
template <class T>
struct Slot {
  using type = T;
  static T& get(T& s) { return s; }
};
template <>
struct Slot<bool> {
  using type = BoolSlot;
  static bool& get(BoolSlot& s) { return s.b; }
};

// Whether a value of type T may hold values nested without bound: an Any or a
// class instance may (a list in a list in a list...), a typed container only
// through its items (List[List[str]] is two levels at most). Freeing a
// container of such items goes through free_nested (object.h FreesNested).
template <class T, class = void>
struct Unbounded : std::true_type {};
template <class T>
struct Unbounded<T, std::enable_if_t<std::is_arithmetic<T>::value>> : std::false_type {};
template <>
struct Unbounded<None> : std::false_type {};
template <>
struct Unbounded<BoolSlot> : std::false_type {};
template <>
struct Unbounded<Str> : std::false_type {};
template <>
struct Unbounded<Bytes> : std::false_type {};
template <class T>
class List;
template <class K, class V>
class Dict;
template <class T>
class Set;
template <class T>
class VTuple;
template <class... T>
struct Tuple;
template <class T>
struct Unbounded<List<T>> : Unbounded<T> {};
template <class T>
struct Unbounded<VTuple<T>> : Unbounded<T> {};
template <class T>
struct Unbounded<Set<T>> : Unbounded<T> {};
template <class K, class V>
struct Unbounded<Dict<K, V>> : std::bool_constant<Unbounded<K>::value || Unbounded<V>::value> {};
template <class... T>
struct Unbounded<Tuple<T...>> : std::bool_constant<(Unbounded<T>::value || ...)> {};

template <class T>
class ListObj;
template <class T>
struct FreesNested<ListObj<T>> : Unbounded<T> {};

template <class T>
class ListObj final : public Object {
 public:
  TypeTag tag() const override { return TypeTag::List; }
  const char* type_name() const override { return "list"; }
  // Converted from a host tuple (a tuple passed for a List parameter): changing it
  // raises what changing that tuple raises in CPython (abi.h sets, builtins.h checks).
  bool from_tuple = false;
  std::vector<typename Slot<T>::type, alloc::Pool<typename Slot<T>::type>> items;
  // From the per-thread size classes (alloc.h): text code makes many short-lived ones.
  static void* operator new(size_t n) { return alloc::allocate(n); }
  static void operator delete(void* p) { alloc::deallocate(p); }
  // Items are released last to first: the allocator's free lists are LIFO, so the
  // blocks come back in the order they were made (usually ascending addresses), and
  // the next batch of allocations walks memory forward, where the prefetcher helps.
  ~ListObj() override { alloc::release_backwards(items); }
};

template <class T>
class List {
 public:
  using value_type = T;
  using Obj = ListObj<T>;
  List() : r_(Ref<Obj>::make()) {}
  List(std::initializer_list<T> il) : r_(Ref<Obj>::make()) { r_->items.assign(il.begin(), il.end()); }
  static List uninit_() { return List(Ref<Obj>()); }
  using storage = std::vector<typename Slot<T>::type, alloc::Pool<typename Slot<T>::type>>;
  explicit List(storage v) : r_(Ref<Obj>::make()) { r_->items = std::move(v); }
  // From a plain std::vector (runtime helpers that build items before the list).
  explicit List(std::vector<typename Slot<T>::type>&& v) : r_(Ref<Obj>::make()) {
    r_->items.assign(std::make_move_iterator(v.begin()), std::make_move_iterator(v.end()));
  }
  explicit List(const std::vector<typename Slot<T>::type>& v) : r_(Ref<Obj>::make()) {
    r_->items.assign(v.begin(), v.end());
  }
  explicit List(Ref<Obj> r) : r_(std::move(r)) {}

  storage& vec() const { return r_->items; }
  int64_t size() const { return int64_t(r_->items.size()); }
  T& operator[](int64_t i) const { return Slot<T>::get(r_->items[size_t(i)]); }
  void push_back(T v) const {
    auto& items = r_->items;
    // CPython's first growth step (4 items) instead of 1, 2, 4 (also for a
    // list made with one item, `[doc_id]`): fewer reallocations for the many
    // short lists of text processing.
    if (items.size() == items.capacity() && items.capacity() < 4) items.reserve(4);
    items.push_back(std::move(v));
  }
  void reserve(int64_t n) const { r_->items.reserve(size_t(n)); }
  Obj* object() const { return r_.get(); }
  const Ref<Obj>& ref() const { return r_; }

 private:
  Ref<Obj> r_;
};

// `x = []` for a local list variable: a list nobody else holds is emptied and
// kept, with its buffer unless that grew large, instead of being freed and made
// anew each time round a loop (nobody can tell the difference).
template <class T>
inline void list_renew(List<T>& l) {
  auto* o = l.object();
  if (!o || !o->sole() || o->from_tuple) {
    l = List<T>();
    return;
  }
  if (o->items.capacity() <= 1024) {
    alloc::release_backwards(o->items);
  } else {
    typename List<T>::storage old;
    old.swap(o->items);
    alloc::release_backwards(old);
  }
}

// ---- insertion-ordered hash table (CPython's compact dict layout) --------------

struct Unit {
  friend bool operator==(Unit, Unit) { return true; }
};

// The storage of an OrderedTable: a growable array with the few operations the
// table and its iterations use. Instead of std::vector, whose instantiation
// (allocator traits, relocation, iterators) g++ compiles again in every library
// that uses a dict or a set. Items are moved one by one when it grows.
template <class T>
class TableVec {
 public:
  TableVec() = default;
  TableVec(const TableVec& o) { reserve(o.n_); for (size_t i = 0; i < o.n_; ++i) new (p_ + i) T(o.p_[i]); n_ = o.n_; }
  TableVec(TableVec&& o) noexcept : p_(o.p_), n_(o.n_), cap_(o.cap_) { o.p_ = nullptr; o.n_ = o.cap_ = 0; }
  TableVec& operator=(TableVec o) noexcept { swap(o); return *this; }
  ~TableVec() { clear(); ::operator delete(p_); }
  void swap(TableVec& o) noexcept { std::swap(p_, o.p_); std::swap(n_, o.n_); std::swap(cap_, o.cap_); }
  size_t size() const { return n_; }
  size_t capacity() const { return cap_; }
  bool empty() const { return n_ == 0; }
  T* begin() { return p_; }
  T* end() { return p_ + n_; }
  const T* begin() const { return p_; }
  const T* end() const { return p_ + n_; }
  T* data() { return p_; }
  const T* data() const { return p_; }
  T& operator[](size_t i) { return p_[i]; }
  const T& operator[](size_t i) const { return p_[i]; }
  T& back() { return p_[n_ - 1]; }
  void push_back(T&& v) {
    if (n_ == cap_) reserve(cap_ ? cap_ * 2 : 8);
    new (p_ + n_) T(std::move(v));
    ++n_;
  }
  void push_back(const T& v) { push_back(T(v)); }  // a copy first: v may be an item
  template <class... A> T& emplace_back(A&&... a) { push_back(T{std::forward<A>(a)...}); return back(); }
  void pop_back() { p_[--n_].~T(); }
  void clear() { for (size_t i = n_; i > 0; --i) p_[i - 1].~T(); n_ = 0; }
  void reserve(size_t want) {
    if (want <= cap_) return;
    T* q = static_cast<T*>(::operator new(want * sizeof(T)));
    if (std::is_trivially_copyable<T>::value) {
      if (n_) std::memcpy(static_cast<void*>(q), static_cast<const void*>(p_), n_ * sizeof(T));
    } else {
      for (size_t i = 0; i < n_; ++i) { new (q + i) T(std::move(p_[i])); p_[i].~T(); }
    }
    ::operator delete(p_);
    p_ = q;
    cap_ = want;
  }
  void assign(size_t n, const T& v) { clear(); reserve(n); for (size_t i = 0; i < n; ++i) new (p_ + i) T(v); n_ = n; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0, cap_ = 0;
};

template <class K, class V>
class OrderedTable {
 public:
  struct Entry {
    uint64_t hash;
    K key;
    V value;
    bool live;
  };
  static constexpr int32_t kEmpty = -1;
  static constexpr int32_t kDummy = -2;

  int64_t size() const { return used_; }
  // Slots in entries() include deleted ones; iterate with live().
  const TableVec<Entry>& entries() const { return entries_; }
  TableVec<Entry>& entries() { return entries_; }
  uint64_t version() const { return version_; }

  // Index of the entry for key, or -1.
  int64_t find(const K& key) const { return find_h(key, hash_of(key)); }
  int64_t find_h(const K& key, uint64_t h) const {
    if (index_.empty()) return -1;
    size_t mask = index_.size() - 1, i = h & mask;
    uint64_t perturb = h;
    for (;;) {
      int32_t ix = index_[i];
      if (ix == kEmpty) return -1;
      if (ix >= 0) {
        const Entry& e = entries_[size_t(ix)];
        if (e.hash == h && e.key == key) return ix;
      }
      perturb >>= 5;
      i = (i * 5 + perturb + 1) & mask;
    }
  }
  // Inserts or overwrites; returns the entry index.
  int64_t insert(const K& key, V value) {
    uint64_t h = hash_of(key);
    int64_t ix = find_h(key, h);
    if (ix >= 0) {
      entries_[size_t(ix)].value = std::move(value);
      return ix;
    }
    if ((entries_.size() + 1) * 3 >= index_.size() * 2) grow();
    entries_.push_back(Entry{h, key, std::move(value), true});
    place(h, int32_t(entries_.size() - 1));
    ++used_;
    ++version_;
    return int64_t(entries_.size() - 1);
  }
  bool erase(const K& key) {
    uint64_t h = hash_of(key);
    if (index_.empty()) return false;
    size_t mask = index_.size() - 1, i = h & mask;
    uint64_t perturb = h;
    for (;;) {
      int32_t ix = index_[i];
      if (ix == kEmpty) return false;
      if (ix >= 0) {
        Entry& e = entries_[size_t(ix)];
        if (e.hash == h && e.key == key) {
          index_[i] = kDummy;
          e.live = false;
          e.key = K();
          e.value = V();
          --used_;
          ++version_;
          return true;
        }
      }
      perturb >>= 5;
      i = (i * 5 + perturb + 1) & mask;
    }
  }
  void clear() {
    entries_.clear();
    index_.clear();
    used_ = 0;
    ++version_;
  }
  void reserve(int64_t n) {
    if (size_t(n) > entries_.size()) entries_.reserve(size_t(n));
    if (size_t(n) * 3 >= index_.size() * 2) rebuild(size_t(n));
  }

 private:
  void place(uint64_t h, int32_t ix) {
    size_t mask = index_.size() - 1, i = h & mask;
    uint64_t perturb = h;
    while (index_[i] >= 0) {
      perturb >>= 5;
      i = (i * 5 + perturb + 1) & mask;
    }
    index_[i] = ix;
  }
  void grow() { rebuild(size_t(used_) + 1); }
  void rebuild(size_t want) {
    size_t n = 8;
    while (n * 2 < want * 3 + 3) n <<= 1;
    if (size_t(used_) != entries_.size()) {
      TableVec<Entry> live;
      live.reserve(size_t(used_) + 1);
      for (auto& e : entries_)
        if (e.live) live.push_back(std::move(e));
      entries_.swap(live);
    }
    index_.assign(n, kEmpty);
    for (size_t k = 0; k < entries_.size(); ++k) place(entries_[k].hash, int32_t(k));
  }

  TableVec<Entry> entries_;
  TableVec<int32_t> index_;
  int64_t used_ = 0;
  uint64_t version_ = 0;
};

// ---- dict ----------------------------------------------------------------

template <class K, class V>
class DictObj;
template <class K, class V>
struct FreesNested<DictObj<K, V>> : std::bool_constant<Unbounded<K>::value || Unbounded<V>::value> {};

template <class K, class V>
class DictObj final : public Object {
 public:
  TypeTag tag() const override { return TypeTag::Dict; }
  const char* type_name() const override { return "dict"; }
  OrderedTable<K, V> table;
  // From the per-thread size classes (alloc.h): text code makes many short-lived ones.
  static void* operator new(size_t n) { return alloc::allocate(n); }
  static void operator delete(void* p) { alloc::deallocate(p); }
};

template <class K, class V>
class Dict {
 public:
  using key_type = K;
  using mapped_type = V;
  using Obj = DictObj<K, V>;
  Dict() : r_(Ref<Obj>::make()) {}
  Dict(std::initializer_list<std::pair<K, V>> il) : r_(Ref<Obj>::make()) {
    for (auto& kv : il) r_->table.insert(kv.first, kv.second);
  }
  explicit Dict(Ref<Obj> r) : r_(std::move(r)) {}
  OrderedTable<K, V>& table() const { return r_->table; }
  int64_t size() const { return r_->table.size(); }
  void set(const K& k, V v) const { r_->table.insert(k, std::move(v)); }
  // Pointer to the value for k, or null.
  V* lookup(const K& k) const {
    int64_t ix = r_->table.find(k);
    return ix < 0 ? nullptr : &r_->table.entries()[size_t(ix)].value;
  }
  Obj* object() const { return r_.get(); }
  const Ref<Obj>& ref() const { return r_; }

 private:
  Ref<Obj> r_;
};

// ---- set -----------------------------------------------------------------

template <class T>
class SetObj;
template <class T>
struct FreesNested<SetObj<T>> : Unbounded<T> {};

template <class T>
class SetObj final : public Object {
 public:
  TypeTag tag() const override { return TypeTag::Set; }
  const char* type_name() const override { return frozen ? "frozenset" : "set"; }
  // Converted from a host frozenset: it goes back as one, and changing it raises
  // AttributeError as in CPython (set_check_mutable).
  bool frozen = false;
  OrderedTable<T, Unit> table;
  // From the per-thread size classes (alloc.h): text code makes many short-lived ones.
  static void* operator new(size_t n) { return alloc::allocate(n); }
  static void operator delete(void* p) { alloc::deallocate(p); }
};

template <class T>
class Set {
 public:
  using value_type = T;
  using Obj = SetObj<T>;
  Set() : r_(Ref<Obj>::make()) {}
  Set(std::initializer_list<T> il) : r_(Ref<Obj>::make()) {
    for (auto& v : il) r_->table.insert(v, Unit{});
  }
  explicit Set(Ref<Obj> r) : r_(std::move(r)) {}
  OrderedTable<T, Unit>& table() const { return r_->table; }
  int64_t size() const { return r_->table.size(); }
  void add(const T& v) const { r_->table.insert(v, Unit{}); }
  bool contains(const T& v) const { return r_->table.find(v) >= 0; }
  Obj* object() const { return r_.get(); }
  const Ref<Obj>& ref() const { return r_; }

 private:
  Ref<Obj> r_;
};

// The AttributeError of a set method that would change a frozenset.
[[noreturn]] __attribute__((noinline, cold)) inline void raise_frozenset_method(const char* name, const Loc* loc) {
  raise(ErrKind::AttributeError, std::string("'frozenset' object has no attribute '") + name + "'", loc);
}
template <class T> inline void set_check_mutable(const Set<T>& s, const char* method, const Loc* loc) {
  if (__builtin_expect(s.object()->frozen, 0)) raise_frozenset_method(method, loc);
}

// ---- tuple ---------------------------------------------------------------

template <class... T>
struct Tuple : std::tuple<T...> {
  using std::tuple<T...>::tuple;
  Tuple() = default;
  Tuple(const std::tuple<T...>& t) : std::tuple<T...>(t) {}
  static constexpr size_t arity = sizeof...(T);
};

template <class... T>
struct Hash<Tuple<T...>> {
  static uint64_t of(const Tuple<T...>& t) {
    uint64_t h = 0x345678ULL;
    std::apply([&](const auto&... x) { ((h = mix64(h * 1000003ULL ^ hash_of(x))), ...); }, static_cast<const std::tuple<T...>&>(t));
    return h;
  }
};

// ---- variable-length tuple ------------------------------------------------

// Tuple[T, ...] (a function's *args): a list that compiled code never mutates,
// with tuple behaviour where it differs (repr, hashing, "tuple index out of
// range", a Python tuple at the boundary). Functions taking a List<T> read it.
template <class T>
class VTuple : public List<T> {
 public:
  VTuple() = default;
  VTuple(std::initializer_list<T> il) : List<T>(il) {}
  explicit VTuple(typename List<T>::storage v) : List<T>(std::move(v)) {}
  // Shares the items: the list must not change afterwards (a fresh result). A
  // tuple's storage is never marked from_tuple: only a List from a tuple is.
  static VTuple adopt(const List<T>& items) {
    items.object()->from_tuple = false;
    return VTuple(items.ref());
  }

 private:
  explicit VTuple(const Ref<ListObj<T>>& r) : List<T>(r) {}
};

template <class T>
struct Hash<VTuple<T>> {
  static uint64_t of(const VTuple<T>& t) {
    uint64_t h = 0x345678ULL;
    for (int64_t i = 0; i < t.size(); ++i) h = mix64(h * 1000003ULL ^ hash_of(t[i]));
    return h;
  }
};

// ---- container equality (deep, like Python's ==) ---------------------------

template <class T>
inline bool operator==(const List<T>& a, const List<T>& b) {
  if (a.object() == b.object()) return true;
  if (a.size() != b.size()) return false;
  for (int64_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i])) return false;
  return true;
}
template <class T>
inline bool operator!=(const List<T>& a, const List<T>& b) { return !(a == b); }

template <class K, class V>
inline bool operator==(const Dict<K, V>& a, const Dict<K, V>& b) {
  if (a.object() == b.object()) return true;
  if (a.size() != b.size()) return false;
  for (auto& e : a.table().entries()) {
    if (!e.live) continue;
    V* v = b.lookup(e.key);
    if (!v || !(*v == e.value)) return false;
  }
  return true;
}
template <class K, class V>
inline bool operator!=(const Dict<K, V>& a, const Dict<K, V>& b) { return !(a == b); }

template <class T>
inline bool operator==(const Set<T>& a, const Set<T>& b) {
  if (a.object() == b.object()) return true;
  if (a.size() != b.size()) return false;
  for (auto& e : a.table().entries())
    if (e.live && !b.contains(e.key)) return false;
  return true;
}
template <class T>
inline bool operator!=(const Set<T>& a, const Set<T>& b) { return !(a == b); }

}  // namespace mx
