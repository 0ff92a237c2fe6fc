// Live container attributes: reading `c.d` from a host gives a handle on the
// instance's own dict (as a Python attribute would), not a copy, so that
// `c.d["b"] = 2` and `c.xs.append(9)` change the instance. The library gives
// the host one table of typed operations per container type (mx_container_ops,
// abi.h); the host wraps the container object with it (native.cc LiveContainer)
// and holds the owner instance's lock around each operation.
#pragma once
#include "abi.h"
#include "mutate.h"
#include "prebuilt.h"

namespace mx {
namespace live {

template <class C>
struct Ops;

template <class C>
inline C handle(Object* o) {
  return C(Ref<typename C::Obj>::borrow(static_cast<typename C::Obj*>(o)));
}

// A key of another type cannot be in a typed container: lookups say "absent".
template <class K>
inline bool key_from_host(const mx_host_api* h, mx_host_obj o, K* out) {
  try {
    *out = Conv<K>::from_host(h, o);
    return true;
  } catch (const ConvError&) {
    return false;
  }
}

template <class T>
inline T item_from_host(const mx_host_api* h, mx_host_obj o, const char* what) {
  try {
    return Conv<T>::from_host(h, o);
  } catch (ConvError& e) {
    e.path = std::string(" (") + what + ")" + e.path;
    throw;
  }
}

template <class T>
struct Ops<List<T>> {
  using C = List<T>;
  static constexpr int32_t kind = MX_HK_LIST;
  static void swap(const C& a, const C& b) { std::swap(a.vec(), b.vec()); }
  static int64_t len(Object* o) { return handle<C>(o).size(); }
  static int64_t index(const mx_host_api* h, const C& l, mx_host_obj key) {
    int64_t i;
    if (!key_from_host(h, key, &i)) raise(ErrKind::TypeError, "list indices must be integers");
    return i;
  }
  static int getitem(const mx_host_api* h, Object* o, mx_host_obj key, mx_host_obj* out, mx_error* err) {
    return guarded(err, [&] {
      C l = handle<C>(o);
      *out = Conv<T>::to_host(h, mx::getitem(l, index(h, l, key), nullptr));
    });
  }
  static int setitem(const mx_host_api* h, Object* o, mx_host_obj key, mx_host_obj value, mx_error* err) {
    return guarded(err, [&] {
      C l = handle<C>(o);
      int64_t i = index(h, l, key);
      mx::setitem(l, i, item_from_host<T>(h, value, "a list item"), nullptr);
    });
  }
  static int delitem(const mx_host_api* h, Object* o, mx_host_obj key, mx_error* err) {
    return guarded(err, [&] {
      C l = handle<C>(o);
      list_delitem(l, index(h, l, key), nullptr);
    });
  }
  static int contains(const mx_host_api* h, Object* o, mx_host_obj item, int* out, mx_error* err) {
    return guarded(err, [&] {
      T x;
      *out = key_from_host(h, item, &x) && mx::contains(handle<C>(o), x);
    });
  }
  static int add(const mx_host_api* h, Object* o, mx_host_obj item, mx_error* err) {
    return guarded(err, [&] { handle<C>(o).push_back(item_from_host<T>(h, item, "a list item")); });
  }
};

template <class K, class V>
struct Ops<Dict<K, V>> {
  using C = Dict<K, V>;
  static constexpr int32_t kind = MX_HK_DICT;
  static void swap(const C& a, const C& b) { std::swap(a.object()->table, b.object()->table); }
  static int64_t len(Object* o) { return handle<C>(o).size(); }
  static int getitem(const mx_host_api* h, Object* o, mx_host_obj key, mx_host_obj* out, mx_error* err) {
    return guarded(err, [&] {
      K k;
      V* v = key_from_host(h, key, &k) ? handle<C>(o).lookup(k) : nullptr;
      if (!v) {
        *out = nullptr;  // the host raises KeyError with its own key
        return;
      }
      *out = Conv<V>::to_host(h, *v);
    });
  }
  static int setitem(const mx_host_api* h, Object* o, mx_host_obj key, mx_host_obj value, mx_error* err) {
    return guarded(err, [&] {
      K k = item_from_host<K>(h, key, "a key");
      handle<C>(o).set(k, item_from_host<V>(h, value, "a value"));
    });
  }
  static int delitem(const mx_host_api* h, Object* o, mx_host_obj key, mx_error* err) {
    return guarded(err, [&] {
      K k;
      C d = handle<C>(o);
      if (!key_from_host(h, key, &k) || !d.lookup(k)) raise(ErrKind::KeyError, "");
      dict_delitem(d, k, nullptr);
    });
  }
  static int contains(const mx_host_api* h, Object* o, mx_host_obj item, int* out, mx_error* err) {
    return guarded(err, [&] {
      K k;
      *out = key_from_host(h, item, &k) && handle<C>(o).lookup(k) != nullptr;
    });
  }
  static constexpr auto add = nullptr;
};

template <class T>
struct Ops<Set<T>> {
  using C = Set<T>;
  static constexpr int32_t kind = MX_HK_SET;
  static void swap(const C& a, const C& b) { std::swap(a.object()->table, b.object()->table); }
  static int64_t len(Object* o) { return handle<C>(o).size(); }
  static constexpr auto getitem = nullptr;
  static constexpr auto setitem = nullptr;
  static constexpr auto delitem = nullptr;
  static int contains(const mx_host_api* h, Object* o, mx_host_obj item, int* out, mx_error* err) {
    return guarded(err, [&] {
      T x;
      *out = key_from_host(h, item, &x) && handle<C>(o).contains(x);
    });
  }
  static int add(const mx_host_api* h, Object* o, mx_host_obj item, mx_error* err) {
    return guarded(err, [&] { handle<C>(o).add(item_from_host<T>(h, item, "a set item")); });
  }
};

template <class C>
inline int snapshot(const mx_host_api* h, Object* o, mx_host_obj* out, mx_error* err) {
  return guarded(err, [&] { *out = Conv<C>::to_host(h, handle<C>(o)); });
}

// Replaces the contents with those of the host container src (a mutating method
// run on a copy by the host): the object itself stays, as do other references to it.
template <class C>
inline int assign(const mx_host_api* h, Object* o, mx_host_obj src, mx_error* err) {
  return guarded(err, [&] {
    C fresh = Conv<C>::from_host(h, src);
    Ops<C>::swap(handle<C>(o), fresh);
  });
}

template <class C>
const mx_container_ops* ops_of() {
  static const mx_container_ops ops = {
      Ops<C>::kind, Ops<C>::len, Ops<C>::getitem, Ops<C>::setitem, Ops<C>::delitem, Ops<C>::contains, Ops<C>::add,
      snapshot<C>, assign<C>};
  return &ops;
}

#ifdef MX_PREBUILT_EXTERN
#define MX_PREBUILT_OPS(...) MX_PREBUILT_EXTERN template const mx_container_ops* ops_of<__VA_ARGS__>();
MX_PREBUILT_CONTAINERS(MX_PREBUILT_OPS)
#endif

}  // namespace live
}  // namespace mx
