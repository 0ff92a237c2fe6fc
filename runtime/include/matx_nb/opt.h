// Optional[T]: a T or None. Using one where a T is needed checks for None and
// raises what CPython raises there (TypeError, or AttributeError for attribute
// and method access on None).
#pragma once
#include <optional>
#include <type_traits>
#include <utility>

#include "abi.h"
#include "any.h"
#include "ops.h"

namespace mx {

template <class T>
class Opt {
 public:
  Opt() = default;
  Opt(None) {}
  Opt(const T& v) : v_(v) {}
  Opt(T&& v) : v_(std::move(v)) {}
  bool has_value() const { return v_.has_value(); }
  const T& operator*() const { return *v_; }
  T& operator*() { return *v_; }
  friend bool operator==(const Opt& a, const Opt& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a.has_value() || eq(*a, *b);
  }

 private:
  std::optional<T> v_;
};

[[noreturn]] __attribute__((noinline, cold)) inline void raise_none(ErrKind kind, const char* msg,
                                                                    const Loc* loc) {
  raise(kind, msg, loc);
}

// msg is CPython's message for the operation, e.g. "'NoneType' object is not subscriptable".
template <class T>
inline const T& unwrap(const Opt<T>& o, const char* msg, const Loc* loc) {
  if (__builtin_expect(!o.has_value(), 0)) raise_none(ErrKind::TypeError, msg, loc);
  return *o;
}
template <class T>
inline const T& unwrap_attr(const Opt<T>& o, const char* msg, const Loc* loc) {
  if (__builtin_expect(!o.has_value(), 0)) raise_none(ErrKind::AttributeError, msg, loc);
  return *o;
}

// Optional[int] -> Optional[float] and the like.
template <class T, class U>
inline Opt<T> opt_cast(const Opt<U>& o) { return o.has_value() ? Opt<T>(T(*o)) : Opt<T>(); }

template <class T>
inline bool is_none(const Opt<T>& o) { return !o.has_value(); }
template <class T>
inline bool truth(const Opt<T>& o) { return o.has_value() && truth(*o); }

// == between an Optional and a plain value (None never equals a value).
template <class T, class U>
inline bool opt_eq(const Opt<T>& a, const U& b) { return a.has_value() && eq(*a, T(b)); }
template <class T, class U>
inline bool opt_eq(const U& b, const Opt<T>& a) { return opt_eq(a, b); }
template <class T>
inline bool opt_eq(const Opt<T>& a, const Opt<T>& b) { return a == b; }
template <class T>
inline bool opt_eq(const Opt<T>& a, None) { return !a.has_value(); }
template <class T>
inline bool opt_eq(None, const Opt<T>& a) { return !a.has_value(); }

template <class T>
inline void repr_into(StrBuilder& b, const Opt<T>& o) {
  if (o.has_value())
    repr_into(b, *o);
  else
    b.put_ascii("None");
}
template <class T>
inline Str to_str(const Opt<T>& o) { return o.has_value() ? to_str(*o) : to_str(None{}); }

template <class T>
inline Any opt_to_any(const Opt<T>& o) { return o.has_value() ? Any(*o) : Any(); }

template <class T>
struct Conv<Opt<T>> {
  static std::string name() { return "Optional[" + Conv<T>::name() + "]"; }
  static Opt<T> from_host(const mx_host_api* h, mx_host_obj o) {
    if (h->kind(o) == MX_HK_NONE) return Opt<T>();
    return Opt<T>(Conv<T>::from_host(h, o));
  }
  static mx_host_obj to_host(const mx_host_api* h, const Opt<T>& v) {
    return v.has_value() ? Conv<T>::to_host(h, *v) : h->new_none();
  }
};

// dict.get(key) without a default: None when the key is missing.
template <class K, class V>
inline Opt<V> dict_get(const Dict<K, V>& d, const K& k, const Loc*) {
  V* v = d.lookup(k);
  return v ? Opt<V>(*v) : Opt<V>();
}
// Ordering Optional values (sort keys such as `key=d.get`): values compare as
// themselves; None against anything is CPython's TypeError.
template <class T>
inline const char* opt_type_name() {
  if constexpr (std::is_same<T, int64_t>::value) return "int";
  else if constexpr (std::is_same<T, double>::value) return "float";
  else if constexpr (std::is_same<T, bool>::value) return "bool";
  else if constexpr (std::is_same<T, Str>::value) return "str";
  else if constexpr (std::is_same<T, Bytes>::value) return "bytes";
  else return "object";
}
template <class T>
inline bool lt(const Opt<T>& a, const Opt<T>& b) {
  if (a.has_value() && b.has_value()) return lt(*a, *b);
  raise(ErrKind::TypeError, std::string("'<' not supported between instances of '") +
                                (a.has_value() ? opt_type_name<T>() : "NoneType") + "' and '" +
                                (b.has_value() ? opt_type_name<T>() : "NoneType") + "'");
}

// dict.pop(key, None): the value, or None when the key is missing.
template <class K, class V>
inline Opt<V> dict_pop(const Dict<K, V>& d, const K& k, None, const Loc*) {
  V* v = d.lookup(k);
  if (!v) return Opt<V>();
  Opt<V> out(*v);
  d.table().erase(k);
  return out;
}
template <class K>
inline Any dict_get(const Dict<K, Any>& d, const K& k, const Loc*) {
  Any* v = d.lookup(k);
  return v ? *v : Any();
}

}  // namespace mx
