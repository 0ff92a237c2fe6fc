// Instances of compiled classes: the base of every generated class. Its virtual
// hooks carry the Python protocol methods a class defines (__repr__, __str__,
// __bool__/__len__, __eq__, __lt__, __hash__) to code that holds an instance
// through a base-class reference or inside a container.
#pragma once
#include <cstdio>
#include <type_traits>

#include "lock.h"
#include "ops.h"

namespace mx {

struct Instance : Object {
  TypeTag tag() const override { return TypeTag::Instance; }
  // Held by each call from a host into this instance (lock.h, abi.h HostLock).
  mutable RecursiveLock host_lock;
  // Python's default repr names the class and the address.
  virtual Str py_repr() const;
  virtual Str py_str() const { return py_repr(); }
  virtual bool py_bool() const { return true; }
  virtual bool py_eq(const Instance* other) const { return this == other; }
  virtual bool py_lt(const Instance* other, const Loc* loc) const;
  virtual int64_t py_hash() const { return int64_t(reinterpret_cast<uintptr_t>(this) >> 4); }
};

#if MX_RT_DEFINE
MX_RT Str Instance::py_repr() const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "<%s object at %p>", type_name(), static_cast<const void*>(this));
  StrBuilder b;
  b.put_ascii(buf);
  return b.build();
}

MX_RT bool Instance::py_lt(const Instance* other, const Loc* loc) const {
  raise(ErrKind::TypeError, std::string("'<' not supported between instances of '") + type_name() + "' and '" +
                                other->type_name() + "'",
        loc);
}
#endif

template <class T>
using if_instance = std::enable_if_t<std::is_base_of<Instance, T>::value, int>;

template <class T, if_instance<T> = 0>
inline void repr_into(StrBuilder& b, const Ref<T>& r) { b.put(r->py_repr()); }
template <class T, if_instance<T> = 0>
inline Str to_str(const Ref<T>& r) { return r->py_str(); }
template <class T, if_instance<T> = 0>
inline bool truth(const Ref<T>& r) { return r->py_bool(); }
template <class T, class U, if_instance<T> = 0, if_instance<U> = 0>
inline bool eq(const Ref<T>& a, const Ref<U>& b) { return a->py_eq(b.get()); }
template <class T, class U, if_instance<T> = 0, if_instance<U> = 0>
inline bool operator==(const Ref<T>& a, const Ref<U>& b) { return a->py_eq(b.get()); }
template <class T, if_instance<T> = 0>
inline bool lt(const Ref<T>& a, const Ref<T>& b) { return a->py_lt(b.get(), nullptr); }

}  // namespace mx
