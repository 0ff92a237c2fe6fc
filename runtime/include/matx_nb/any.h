// Any: a dynamically typed value for code annotated `Any`.
#pragma once
#include "linkage.h"
#include <string>
#include <vector>

#include "abi.h"
#include "builtins.h"
#include "ndarray.h"
#include "nest.h"

namespace mx {

class Any;
class AnyTupleObj;

// A value whose type is known only at run time. Heap values (str, bytes,
// containers, instances) are shared Objects, so copies alias like Python names.
class Any {
 public:
  Any() : tag_(TypeTag::None) {}
  Any(None) : tag_(TypeTag::None) {}
  Any(bool b) : tag_(TypeTag::Bool) { u_.b = b; }
  Any(int64_t i) : tag_(TypeTag::Int) { u_.i = i; }
  Any(int i) : tag_(TypeTag::Int) { u_.i = i; }
  Any(double f) : tag_(TypeTag::Float) { u_.f = f; }
  // An empty str/bytes has no buffer; Any keeps a real (empty) object instead.
  Any(const Str& s) : tag_(TypeTag::Str), obj_(s.ref()) {
    if (!obj_) obj_ = Ref<Object>(Ref<StrObj>::adopt(StrObj::alloc(0, 1)));
  }
  Any(const Bytes& s) : tag_(TypeTag::Bytes), obj_(s.ref()) {
    if (!obj_) obj_ = Ref<Object>(Ref<BytesObj>::adopt(BytesObj::alloc(0)));
  }
  template <class T> Any(const List<T>& v) : tag_(TypeTag::List), obj_(to_any_list(v).ref()) {}
  template <class K, class V> Any(const Dict<K, V>& v) : tag_(TypeTag::Dict), obj_(to_any_dict(v).ref()) {}
  template <class T> Any(const Set<T>& v) : tag_(TypeTag::Set), obj_(to_any_set(v).ref()) {}
  template <class T, class = std::enable_if_t<std::is_base_of<Object, T>::value>>
  Any(const Ref<T>& r) : tag_(TypeTag::Instance), obj_(r) {}
  // An array is held as an instance (None for a null array).
  Any(const NDArray& a) : tag_(a ? TypeTag::Instance : TypeTag::None), obj_(a.ref()) {}
  // A tuple is held as an immutable list of Any with the Tuple tag.
  template <class... T> Any(const Tuple<T...>& t) : tag_(TypeTag::Tuple) {
    List<Any> items;
    std::apply([&](const auto&... x) { (items.push_back(Any(x)), ...); }, static_cast<const std::tuple<T...>&>(t));
    obj_ = Ref<Object>(items.ref());
  }
  template <class T> Any(const VTuple<T>& v) : tag_(TypeTag::Tuple), obj_(to_any_list(v).ref()) {}
  static Any tuple_of(const List<Any>& items) {
    Any a;
    a.tag_ = TypeTag::Tuple;
    a.obj_ = Ref<Object>(items.ref());
    return a;
  }

  TypeTag tag() const { return tag_; }
  bool b() const { return u_.b; }
  int64_t i() const { return u_.i; }
  double f() const { return u_.f; }
  Object* obj() const { return obj_.get(); }
  Str str() const { return Str(Ref<StrObj>::borrow(static_cast<StrObj*>(obj_.get()))); }
  Bytes bytes() const { return Bytes(Ref<BytesObj>::borrow(static_cast<BytesObj*>(obj_.get()))); }
  // The items of a list or a tuple. (Templates: see MX_INLINE in linkage.h.)
  template <class = void> List<Any> list() const { return List<Any>(Ref<ListObj<Any>>::borrow(static_cast<ListObj<Any>*>(obj_.get()))); }
  template <class = void> Dict<Any, Any> dict() const { return Dict<Any, Any>(Ref<DictObj<Any, Any>>::borrow(static_cast<DictObj<Any, Any>*>(obj_.get()))); }
  template <class = void> Set<Any> set() const { return Set<Any>(Ref<SetObj<Any>>::borrow(static_cast<SetObj<Any>*>(obj_.get()))); }
  const char* type_name() const {
    switch (tag_) {
      case TypeTag::None: return "NoneType";
      case TypeTag::Bool: return "bool";
      case TypeTag::Int: return "int";
      case TypeTag::Float: return "float";
      default: return obj_ ? obj_->type_name() : "object";
    }
  }

 private:
  template <class T> static List<Any> to_any_list(const List<T>& v);
  template <class K, class V> static Dict<Any, Any> to_any_dict(const Dict<K, V>& v);
  template <class T> static Set<Any> to_any_set(const Set<T>& v);
  TypeTag tag_;
  union { bool b; int64_t i; double f; } u_{};
  Ref<Object> obj_;
};

template <class T> List<Any> Any::to_any_list(const List<T>& v) {
  if constexpr (std::is_same_v<T, Any>) return v;
  else {
    List<Any> out;
    out.reserve(v.size());
    for (int64_t k = 0; k < v.size(); ++k) out.push_back(Any(v[k]));
    return out;
  }
}
template <class K, class V> Dict<Any, Any> Any::to_any_dict(const Dict<K, V>& d) {
  if constexpr (std::is_same_v<K, Any> && std::is_same_v<V, Any>) return d;
  else {
    Dict<Any, Any> out;
    for (auto& e : d.table().entries()) if (e.live) out.set(Any(e.key), Any(e.value));
    return out;
  }
}
template <class T> Set<Any> Any::to_any_set(const Set<T>& s) {
  if constexpr (std::is_same_v<T, Any>) return s;
  else {
    Set<Any> out;
    for (auto& e : s.table().entries()) if (e.live) out.add(Any(e.key));
    return out;
  }
}

MX_RT bool operator==(const Any& a, const Any& b);
#if MX_RT_DEFINE
MX_RT bool operator==(const Any& a, const Any& b) {
  auto num = [](const Any& x) { return x.tag() == TypeTag::Bool || x.tag() == TypeTag::Int || x.tag() == TypeTag::Float; };
  if (num(a) && num(b)) {
    if (a.tag() == TypeTag::Float || b.tag() == TypeTag::Float) {
      double x = a.tag() == TypeTag::Float ? a.f() : double(a.tag() == TypeTag::Int ? a.i() : a.b());
      if (a.tag() != TypeTag::Float) return num_eq(a.tag() == TypeTag::Int ? a.i() : int64_t(a.b()), b.f());
      if (b.tag() != TypeTag::Float) return num_eq(a.f(), b.tag() == TypeTag::Int ? b.i() : int64_t(b.b()));
      return x == b.f();
    }
    int64_t x = a.tag() == TypeTag::Int ? a.i() : a.b(), y = b.tag() == TypeTag::Int ? b.i() : b.b();
    return x == y;
  }
  if (a.tag() != b.tag()) return false;
  switch (a.tag()) {
    case TypeTag::None: return true;
    case TypeTag::Str: return a.str() == b.str();
    case TypeTag::Bytes: return a.bytes() == b.bytes();
    // Deep values raise RecursionError, as in CPython (self-referencing ones too,
    // unless the two are the same object).
    case TypeTag::List: case TypeTag::Tuple: {
      if (a.obj() == b.obj()) return true;
      Nest level(nullptr, "compared");
      return a.list() == b.list();
    }
    case TypeTag::Dict: {
      if (a.obj() == b.obj()) return true;
      Nest level(nullptr, "compared");
      return a.dict() == b.dict();
    }
    case TypeTag::Set: return a.set() == b.set();
    default: return a.obj() == b.obj();
  }
}
#endif
inline bool operator!=(const Any& a, const Any& b) { return !(a == b); }

template <>
struct Hash<Any> {
  static uint64_t of(const Any& a) {
    switch (a.tag()) {
      case TypeTag::None: return hash_of(None{});
      case TypeTag::Bool: return hash_of(int64_t(a.b()));
      case TypeTag::Int: return hash_of(a.i());
      case TypeTag::Float: return hash_of(a.f());
      case TypeTag::Str: return hash_of(a.str());
      case TypeTag::Bytes: return hash_of(a.bytes());
      case TypeTag::Tuple: {
        uint64_t h = 0x345678ULL;
        Nest level(nullptr, "hashed");
        List<Any> items = a.list();
        for (int64_t i = 0; i < items.size(); ++i) h = mix64(h * 1000003ULL ^ Hash<Any>::of(items[i]));
        return h;
      }
      default:
        raise(ErrKind::TypeError, std::string("unhashable type: '") + a.type_name() + "'");
    }
  }
};

MX_INLINE bool truth(const Any& a) {
  switch (a.tag()) {
    case TypeTag::None: return false;
    case TypeTag::Bool: return a.b();
    case TypeTag::Int: return a.i() != 0;
    case TypeTag::Float: return a.f() != 0.0;
    case TypeTag::Str: return !a.str().empty();
    case TypeTag::Bytes: return !a.bytes().empty();
    case TypeTag::List: case TypeTag::Tuple: return a.list().size() != 0;
    case TypeTag::Dict: return a.dict().size() != 0;
    case TypeTag::Set: return a.set().size() != 0;
    default: return true;
  }
}

MX_RT void repr_into(StrBuilder& b, const Any& a);
#if MX_RT_DEFINE
MX_RT void repr_into(StrBuilder& b, const Any& a) {
  switch (a.tag()) {
    case TypeTag::None: b.put_ascii("None"); return;
    case TypeTag::Bool: repr_into(b, a.b()); return;
    case TypeTag::Int: repr_into(b, a.i()); return;
    case TypeTag::Float: repr_into(b, a.f()); return;
    case TypeTag::Str: repr_into(b, a.str()); return;
    case TypeTag::Bytes: repr_into(b, a.bytes()); return;
    case TypeTag::List: repr_into(b, a.list()); return;
    case TypeTag::Tuple: {
      if (Nest::entered(a.obj())) {  // a tuple inside a list inside itself: CPython's (...)
        b.put_ascii("(...)");
        return;
      }
      Nest level(a.obj(), "printed");
      List<Any> items = a.list();
      b.put('(');
      for (int64_t i = 0; i < items.size(); ++i) {
        if (i) b.put_ascii(", ");
        repr_into(b, items[i]);
      }
      if (items.size() == 1) b.put(',');
      b.put(')');
      return;
    }
    case TypeTag::Dict: repr_into(b, a.dict()); return;
    case TypeTag::Set: repr_into(b, a.set()); return;
    default: b.put_ascii("<"); b.put_ascii(a.type_name()); b.put_ascii(" object>"); return;
  }
}
#endif
MX_INLINE Str to_str(const Any& a) { return a.tag() == TypeTag::Str ? a.str() : repr(a); }

[[noreturn]] inline void any_type_error(const Any& a, const char* want) {
  raise(ErrKind::TypeError, std::string("expected ") + want + ", got " + a.type_name());
}

// Any -> typed value (a copy for containers whose item type is not Any).
template <class T, class = void> struct AnyCast;
template <> struct AnyCast<Any> { static Any of(const Any& a) { return a; } };
template <> struct AnyCast<int64_t> { static int64_t of(const Any& a) {
  if (a.tag() == TypeTag::Int) return a.i();
  if (a.tag() == TypeTag::Bool) return a.b();
  any_type_error(a, "int"); } };
template <> struct AnyCast<bool> { static bool of(const Any& a) {
  if (a.tag() == TypeTag::Bool) return a.b();
  any_type_error(a, "bool"); } };
template <> struct AnyCast<double> { static double of(const Any& a) {
  if (a.tag() == TypeTag::Float) return a.f();
  if (a.tag() == TypeTag::Int) return double(a.i());
  if (a.tag() == TypeTag::Bool) return a.b();
  any_type_error(a, "float"); } };
template <> struct AnyCast<Str> { static Str of(const Any& a) {
  if (a.tag() == TypeTag::Str) return a.str();
  any_type_error(a, "str"); } };
template <> struct AnyCast<Bytes> { static Bytes of(const Any& a) {
  if (a.tag() == TypeTag::Bytes) return a.bytes();
  any_type_error(a, "bytes"); } };
template <> struct AnyCast<None> { static None of(const Any& a) {
  if (a.tag() == TypeTag::None) return None{};
  any_type_error(a, "None"); } };
template <> struct AnyCast<NDArray> { static NDArray of(const Any& a) {
  if (a.tag() == TypeTag::Instance && is_ndarray_object(a.obj()))
    return NDArray(Ref<NDArrayObj>::borrow(static_cast<NDArrayObj*>(a.obj())));
  any_type_error(a, "NDArray"); } };
template <class T> struct AnyCast<List<T>> { static List<T> of(const Any& a) {
  if (a.tag() != TypeTag::List) any_type_error(a, "list");
  if constexpr (std::is_same_v<T, Any>) return a.list();
  else { List<Any> l = a.list(); List<T> out; out.reserve(l.size());
    for (int64_t i = 0; i < l.size(); ++i) out.push_back(AnyCast<T>::of(l[i])); return out; } } };
template <class K, class V> struct AnyCast<Dict<K, V>> { static Dict<K, V> of(const Any& a) {
  if (a.tag() != TypeTag::Dict) any_type_error(a, "dict");
  if constexpr (std::is_same_v<K, Any> && std::is_same_v<V, Any>) return a.dict();
  else { Dict<K, V> out; for (auto& e : a.dict().table().entries())
      if (e.live) out.set(AnyCast<K>::of(e.key), AnyCast<V>::of(e.value)); return out; } } };
template <class T> struct AnyCast<Set<T>> { static Set<T> of(const Any& a) {
  if (a.tag() != TypeTag::Set) any_type_error(a, "set");
  if constexpr (std::is_same_v<T, Any>) return a.set();
  else { Set<T> out; for (auto& e : a.set().table().entries()) if (e.live) out.add(AnyCast<T>::of(e.key)); return out; } } };

template <class... T> struct AnyCast<Tuple<T...>> { static Tuple<T...> of(const Any& a) {
  if (a.tag() != TypeTag::Tuple && a.tag() != TypeTag::List) any_type_error(a, "tuple");
  List<Any> items = a.list();
  if (items.size() != int64_t(sizeof...(T))) any_type_error(a, "a tuple of the declared length");
  size_t i = 0;
  return Tuple<T...>{AnyCast<T>::of(items[int64_t(i++)])...}; } };

template <class T> struct AnyCast<VTuple<T>> { static VTuple<T> of(const Any& a) {
  if (a.tag() != TypeTag::Tuple) any_type_error(a, "tuple");
  List<Any> l = a.list(); VTuple<T> out; out.reserve(l.size());
  for (int64_t i = 0; i < l.size(); ++i) out.push_back(AnyCast<T>::of(l[i])); return out; } };

template <class T> inline T any_cast(const Any& a) { return AnyCast<T>::of(a); }

// Host values of any type come in as Any; tuples become lists of Any.
template <> struct Conv<Any> {
  static std::string name() { return "Any"; }
  template <class = void> static Any from_host(const mx_host_api* h, mx_host_obj o) {
    switch (h->kind(o)) {
      case MX_HK_NONE: return Any();
      case MX_HK_BOOL: return Any(Conv<bool>::from_host(h, o));
      case MX_HK_INT: return Any(Conv<int64_t>::from_host(h, o));
      case MX_HK_FLOAT: return Any(h->as_float(o));
      case MX_HK_STR: return Any(Conv<Str>::from_host(h, o));
      case MX_HK_BYTES: return Any(Conv<Bytes>::from_host(h, o));
      // Containers nest without bound here: a cycle raises ValueError and
      // nesting past kMaxNesting RecursionError (nest.h), not a stack overflow.
      case MX_HK_LIST: {
        Nest level(o, "converted");
        return Any(Conv<List<Any>>::from_host(h, o));
      }
      case MX_HK_TUPLE: {
        Nest level(o, "converted");
        return Any::tuple_of(Conv<List<Any>>::from_host(h, o));
      }
      case MX_HK_DICT: {
        Nest level(o, "converted");
        return Any(Conv<Dict<Any, Any>>::from_host(h, o));
      }
      case MX_HK_SET: {
        Nest level(o, "converted");
        return Any(Conv<Set<Any>>::from_host(h, o));
      }
      default: {
        // An array (numpy, torch, anything with __dlpack__) is held without a copy.
        DLManagedTensor* t = h->abi_version >= 4 && h->dlpack_in ? h->dlpack_in(o) : nullptr;
        if (t) return Any(NDArray::from_dlpack(t).ref());
        conv_fail(h, o, "a value compiled code can hold");
      }
    }
  }
  template <class = void> static mx_host_obj to_host(const mx_host_api* h, const Any& a) {
    switch (a.tag()) {
      case TypeTag::None: return h->new_none();
      case TypeTag::Bool: return h->new_bool(a.b());
      case TypeTag::Int: return h->new_int(a.i());
      case TypeTag::Float: return h->new_float(a.f());
      case TypeTag::Str: return Conv<Str>::to_host(h, a.str());
      case TypeTag::Bytes: return Conv<Bytes>::to_host(h, a.bytes());
      case TypeTag::List: {
        Nest level(a.obj(), "converted");
        return Conv<List<Any>>::to_host(h, a.list());
      }
      case TypeTag::Tuple: {
        Nest level(a.obj(), "converted");
        List<Any> items = a.list();
        mx_host_obj t = h->new_tuple(items.size());
        HostBuild building{h, t};
        for (int64_t i = 0; i < items.size(); ++i) h->tuple_set(t, i, to_host(h, items[i]));
        return building.done();
      }
      case TypeTag::Dict: {
        Nest level(a.obj(), "converted");
        return Conv<Dict<Any, Any>>::to_host(h, a.dict());
      }
      case TypeTag::Set: {
        Nest level(a.obj(), "converted");
        return Conv<Set<Any>>::to_host(h, a.set());
      }
      case TypeTag::Instance:
        if (is_ndarray_object(a.obj()) && h->abi_version >= 4)
          return h->dlpack_out(static_cast<NDArrayObj*>(a.obj())->to_dlpack());
        return h->new_none();
      default: return h->new_none();
    }
  }
};

}  // namespace mx
