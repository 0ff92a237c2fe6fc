// Operators on `Any` values: run-time dispatch on the value's type, with the
// result and the exception CPython gives (TypeError for unsupported operand
// types, IndexError/KeyError for lookups, OverflowError for int overflow).
// Included by generated code only when it uses dynamic operations. An Any
// holding an NDArray dispatches to mod/ndarray.h (indexing, len, iteration,
// + - * /).
#pragma once
#include "linkage.h"
#include <string>

#include "runtime.h"
#include "mod/ndarray.h"

namespace mx {

MX_INLINE const char* dyn_tname(const Any& a) { return a.tag() == TypeTag::Tuple ? "tuple" : a.type_name(); }
MX_INLINE bool dyn_is_int(const Any& a) { return a.tag() == TypeTag::Int || a.tag() == TypeTag::Bool; }
MX_INLINE bool dyn_is_num(const Any& a) { return dyn_is_int(a) || a.tag() == TypeTag::Float; }
MX_INLINE int64_t dyn_int(const Any& a) { return a.tag() == TypeTag::Int ? a.i() : int64_t(a.b()); }
MX_INLINE double dyn_float(const Any& a) { return a.tag() == TypeTag::Float ? a.f() : double(dyn_int(a)); }
MX_INLINE bool dyn_is_seq(const Any& a) { return a.tag() == TypeTag::List || a.tag() == TypeTag::Tuple; }

[[noreturn]] __attribute__((noinline, cold)) inline void dyn_operand_error(const char* op, const Any& a,
                                                                           const Any& b, const Loc* loc) {
  raise(ErrKind::TypeError, std::string("unsupported operand type(s) for ") + op + ": '" + dyn_tname(a) +
                                "' and '" + dyn_tname(b) + "'",
        loc);
}

MX_INLINE Any dyn_seq(const List<Any>& items, bool tuple) { return tuple ? Any::tuple_of(items) : Any(items); }

// Numbers: int op int stays int (overflow raises), anything with a float is float.
template <class IntOp, class FloatOp>
inline Any dyn_num(const char* op, const Any& a, const Any& b, const Loc* loc, IntOp iop, FloatOp fop) {
  if (dyn_is_int(a) && dyn_is_int(b)) return Any(iop(dyn_int(a), dyn_int(b), loc));
  if (dyn_is_num(a) && dyn_is_num(b)) return Any(fop(dyn_float(a), dyn_float(b), loc));
  if (pymod::nd_is_array(a) || pymod::nd_is_array(b)) return pymod::nd_dyn_binop(op, a, b, loc);
  dyn_operand_error(op, a, b, loc);
}

#define MX_DYN_NUM(op, f)                                                                   \
  dyn_num(op, a, b, loc, [](int64_t x, int64_t y, const Loc* l) { return f(x, y, l); }, \
          [](double x, double y, const Loc* l) { return f(x, y, l); })

MX_INLINE Any dyn_add(const Any& a, const Any& b, const Loc* loc) {
  if (a.tag() == b.tag()) {
    switch (a.tag()) {
      case TypeTag::Str: return Any(add(a.str(), b.str(), loc));
      case TypeTag::Bytes: return Any(add(a.bytes(), b.bytes(), loc));
      case TypeTag::List: case TypeTag::Tuple:
        return dyn_seq(add(a.list(), b.list(), loc), a.tag() == TypeTag::Tuple);
      default: break;
    }
  }
  return MX_DYN_NUM("+", add);
}
MX_INLINE Any dyn_sub(const Any& a, const Any& b, const Loc* loc) {
  if (a.tag() == TypeTag::Set && b.tag() == TypeTag::Set) {
    Set<Any> out;
    for (auto& e : a.set().table().entries())
      if (e.live && !b.set().contains(e.key)) out.add(e.key);
    return Any(out);
  }
  return MX_DYN_NUM("-", sub);
}
MX_INLINE Any dyn_repeat(const Any& seq, int64_t n, const Loc* loc) {
  switch (seq.tag()) {
    case TypeTag::Str: return Any(mul(seq.str(), n, loc));
    case TypeTag::Bytes: return Any(mul(seq.bytes(), n, loc));
    default: return dyn_seq(mul(seq.list(), n, loc), seq.tag() == TypeTag::Tuple);
  }
}
MX_INLINE bool dyn_is_repeatable(const Any& a) {
  return a.tag() == TypeTag::Str || a.tag() == TypeTag::Bytes || dyn_is_seq(a);
}
MX_INLINE Any dyn_mul(const Any& a, const Any& b, const Loc* loc) {
  if (dyn_is_repeatable(a) && dyn_is_int(b)) return dyn_repeat(a, dyn_int(b), loc);
  if (dyn_is_int(a) && dyn_is_repeatable(b)) return dyn_repeat(b, dyn_int(a), loc);
  return MX_DYN_NUM("*", mul);
}
MX_INLINE Any dyn_truediv(const Any& a, const Any& b, const Loc* loc) {
  if (dyn_is_int(a) && dyn_is_int(b)) return Any(truediv(dyn_int(a), dyn_int(b), loc));
  if (dyn_is_num(a) && dyn_is_num(b)) return Any(truediv(dyn_float(a), dyn_float(b), loc));
  if (pymod::nd_is_array(a) || pymod::nd_is_array(b)) return pymod::nd_dyn_binop("/", a, b, loc);
  dyn_operand_error("/", a, b, loc);
}
MX_INLINE Any dyn_floordiv(const Any& a, const Any& b, const Loc* loc) { return MX_DYN_NUM("//", floordiv); }
MX_INLINE Any dyn_mod(const Any& a, const Any& b, const Loc* loc) { return MX_DYN_NUM("%", mod); }
MX_INLINE Any dyn_pow(const Any& a, const Any& b, const Loc* loc) {
  if (dyn_is_int(a) && dyn_is_int(b) && dyn_int(b) < 0) return Any(pow(dyn_float(a), dyn_float(b), loc));
  return MX_DYN_NUM("** or pow()", pow);
}
#undef MX_DYN_NUM

template <class F>
inline Any dyn_bits(const char* op, const Any& a, const Any& b, const Loc* loc, F f, bool bool_result) {
  if (dyn_is_int(a) && dyn_is_int(b)) {
    int64_t r = f(dyn_int(a), dyn_int(b));
    if (bool_result && a.tag() == TypeTag::Bool && b.tag() == TypeTag::Bool) return Any(r != 0);
    return Any(r);
  }
  dyn_operand_error(op, a, b, loc);
}
MX_INLINE Any dyn_and(const Any& a, const Any& b, const Loc* loc) {
  if (a.tag() == TypeTag::Set && b.tag() == TypeTag::Set) {
    Set<Any> out;
    for (auto& e : a.set().table().entries())
      if (e.live && b.set().contains(e.key)) out.add(e.key);
    return Any(out);
  }
  return dyn_bits("&", a, b, loc, [](int64_t x, int64_t y) { return x & y; }, true);
}
MX_INLINE Any dyn_or(const Any& a, const Any& b, const Loc* loc) {
  if (a.tag() == TypeTag::Set && b.tag() == TypeTag::Set) {
    Set<Any> out;
    for (auto& e : a.set().table().entries()) if (e.live) out.add(e.key);
    for (auto& e : b.set().table().entries()) if (e.live) out.add(e.key);
    return Any(out);
  }
  if (a.tag() == TypeTag::Dict && b.tag() == TypeTag::Dict) {
    Dict<Any, Any> out;
    for (auto& e : a.dict().table().entries()) if (e.live) out.set(e.key, e.value);
    for (auto& e : b.dict().table().entries()) if (e.live) out.set(e.key, e.value);
    return Any(out);
  }
  return dyn_bits("|", a, b, loc, [](int64_t x, int64_t y) { return x | y; }, true);
}
MX_INLINE Any dyn_xor(const Any& a, const Any& b, const Loc* loc) {
  if (a.tag() == TypeTag::Set && b.tag() == TypeTag::Set) {
    Set<Any> out;
    for (auto& e : a.set().table().entries()) if (e.live && !b.set().contains(e.key)) out.add(e.key);
    for (auto& e : b.set().table().entries()) if (e.live && !a.set().contains(e.key)) out.add(e.key);
    return Any(out);
  }
  return dyn_bits("^", a, b, loc, [](int64_t x, int64_t y) { return x ^ y; }, true);
}
MX_INLINE Any dyn_lshift(const Any& a, const Any& b, const Loc* loc) {
  if (dyn_is_int(a) && dyn_is_int(b)) return Any(lshift(dyn_int(a), dyn_int(b), loc));
  dyn_operand_error("<<", a, b, loc);
}
MX_INLINE Any dyn_rshift(const Any& a, const Any& b, const Loc* loc) {
  if (dyn_is_int(a) && dyn_is_int(b)) return Any(rshift(dyn_int(a), dyn_int(b), loc));
  dyn_operand_error(">>", a, b, loc);
}

[[noreturn]] __attribute__((noinline, cold)) inline void dyn_unary_error(const char* op, const Any& a,
                                                                         const Loc* loc) {
  raise(ErrKind::TypeError, std::string("bad operand type for unary ") + op + ": '" + dyn_tname(a) + "'", loc);
}
MX_INLINE Any dyn_neg(const Any& a, const Loc* loc) {
  if (dyn_is_int(a)) return Any(neg(dyn_int(a), loc));
  if (a.tag() == TypeTag::Float) return Any(-a.f());
  dyn_unary_error("-", a, loc);
}
MX_INLINE Any dyn_pos(const Any& a, const Loc* loc) {
  if (dyn_is_int(a)) return Any(dyn_int(a));
  if (a.tag() == TypeTag::Float) return a;
  dyn_unary_error("+", a, loc);
}
MX_INLINE Any dyn_invert(const Any& a, const Loc* loc) {
  if (dyn_is_int(a)) return Any(~dyn_int(a));
  dyn_unary_error("~", a, loc);
}

// ---- ordering -------------------------------------------------------------------
[[noreturn]] __attribute__((noinline, cold)) inline void dyn_order_error(const char* op, const Any& a,
                                                                         const Any& b, const Loc* loc) {
  raise(ErrKind::TypeError, std::string("'") + op + "' not supported between instances of '" + dyn_tname(a) +
                                "' and '" + dyn_tname(b) + "'",
        loc);
}
// Three-way comparison for <, <=, >, >=; NaN makes every comparison false.
MX_INLINE bool dyn_less(const Any& a, const Any& b, const char* op, const Loc* loc, bool or_equal,
                     bool swapped = false) {
  if (dyn_is_num(a) && dyn_is_num(b)) {
    if (dyn_is_int(a) && dyn_is_int(b)) return or_equal ? dyn_int(a) <= dyn_int(b) : dyn_int(a) < dyn_int(b);
    if (a.tag() == TypeTag::Float && b.tag() == TypeTag::Float) return or_equal ? a.f() <= b.f() : a.f() < b.f();
    if (a.tag() == TypeTag::Float) return or_equal ? num_le(a.f(), dyn_int(b)) : num_lt(a.f(), dyn_int(b));
    return or_equal ? num_le(dyn_int(a), b.f()) : num_lt(dyn_int(a), b.f());
  }
  if (a.tag() == b.tag()) {
    switch (a.tag()) {
      case TypeTag::Str: return or_equal ? le(a.str(), b.str()) : lt(a.str(), b.str());
      case TypeTag::Bytes: return or_equal ? le(a.bytes(), b.bytes()) : lt(a.bytes(), b.bytes());
      case TypeTag::List: case TypeTag::Tuple: {
        Nest level(nullptr, "compared");  // deep values: RecursionError, as in CPython
        List<Any> x = a.list(), y = b.list();
        int64_t n = std::min(x.size(), y.size());
        for (int64_t i = 0; i < n; ++i)
          if (!(x[i] == y[i])) return dyn_less(x[i], y[i], op, loc, false, swapped);
        return or_equal ? x.size() <= y.size() : x.size() < y.size();
      }
      case TypeTag::Set: return or_equal ? le(a.set(), b.set()) : lt(a.set(), b.set());
      default: break;
    }
  }
  if (swapped) dyn_order_error(op, b, a, loc);
  dyn_order_error(op, a, b, loc);
}
MX_INLINE bool dyn_lt(const Any& a, const Any& b, const Loc* loc) { return dyn_less(a, b, "<", loc, false); }
// The ordering sorted/min/max/list.sort use for Any items (TypeError between
// kinds CPython cannot order, e.g. int and str).
MX_INLINE bool lt(const Any& a, const Any& b) { return dyn_lt(a, b, nullptr); }
MX_INLINE bool dyn_le(const Any& a, const Any& b, const Loc* loc) { return dyn_less(a, b, "<=", loc, true); }
MX_INLINE bool dyn_gt(const Any& a, const Any& b, const Loc* loc) { return dyn_less(b, a, ">", loc, false, true); }
MX_INLINE bool dyn_ge(const Any& a, const Any& b, const Loc* loc) { return dyn_less(b, a, ">=", loc, true, true); }

// ---- containers --------------------------------------------------------------------
MX_INLINE Any dyn_getitem(const Any& a, const Any& key, const Loc* loc) {
  switch (a.tag()) {
    case TypeTag::List: case TypeTag::Tuple:
      if (!dyn_is_int(key))
        raise(ErrKind::TypeError, std::string(dyn_tname(a)) + " indices must be integers or slices, not " +
                                      dyn_tname(key), loc);
      return a.list()[norm_index(dyn_int(key), a.list().size(), dyn_tname(a), loc)];
    case TypeTag::Str:
      if (!dyn_is_int(key))
        raise(ErrKind::TypeError, std::string("string indices must be integers, not '") + dyn_tname(key) + "'", loc);
      return Any(getitem(a.str(), dyn_int(key), loc));
    case TypeTag::Bytes:
      if (!dyn_is_int(key))
        raise(ErrKind::TypeError, std::string("byte indices must be integers or slices, not ") + dyn_tname(key), loc);
      return Any(getitem(a.bytes(), dyn_int(key), loc));
    case TypeTag::Dict: {
      Any* v = a.dict().lookup(key);
      if (!v) raise(ErrKind::KeyError, utf8_encode(repr(key)), loc);
      return *v;
    }
    default:
      if (pymod::nd_is_array(a)) return pymod::ndarray_item(pymod::nd_of_any(a), {pymod::nd_ix(key, loc)}, loc);
      raise(ErrKind::TypeError, std::string("'") + dyn_tname(a) + "' object is not subscriptable", loc);
  }
}
MX_INLINE None dyn_setitem(const Any& a, const Any& key, const Any& v, const Loc* loc) {
  switch (a.tag()) {
    case TypeTag::List:
      if (!dyn_is_int(key))
        raise(ErrKind::TypeError, std::string("list indices must be integers or slices, not ") + dyn_tname(key), loc);
      a.list()[norm_index(dyn_int(key), a.list().size(), "list assignment", loc)] = v;
      return None{};
    case TypeTag::Dict:
      a.dict().set(key, v);
      return None{};
    default:
      if (pymod::nd_is_array(a)) return pymod::ndarray_setitem(pymod::nd_of_any(a), {pymod::nd_ix(key, loc)}, v, loc);
      raise(ErrKind::TypeError, std::string("'") + dyn_tname(a) + "' object does not support item assignment", loc);
  }
}
MX_INLINE int64_t dyn_len(const Any& a, const Loc* loc) {
  switch (a.tag()) {
    case TypeTag::Str: return int64_t(a.str().size());
    case TypeTag::Bytes: return int64_t(a.bytes().size());
    case TypeTag::List: case TypeTag::Tuple: return a.list().size();
    case TypeTag::Dict: return a.dict().size();
    case TypeTag::Set: return a.set().size();
    default:
      if (pymod::nd_is_array(a)) return pymod::ndarray_len(pymod::nd_of_any(a), loc);
      raise(ErrKind::TypeError, std::string("object of type '") + dyn_tname(a) + "' has no len()", loc);
  }
}
MX_INLINE bool dyn_contains(const Any& container, const Any& x, const Loc* loc) {
  switch (container.tag()) {
    case TypeTag::List: case TypeTag::Tuple: {
      List<Any> items = container.list();
      for (int64_t i = 0; i < items.size(); ++i)
        if (items[i] == x) return true;
      return false;
    }
    case TypeTag::Dict: return container.dict().lookup(x) != nullptr;
    case TypeTag::Set: return container.set().contains(x);
    case TypeTag::Str:
      if (x.tag() != TypeTag::Str)
        raise(ErrKind::TypeError, std::string("'in <string>' requires string as left operand, not ") + dyn_tname(x), loc);
      return contains(container.str(), x.str());
    default:
      raise(ErrKind::TypeError, std::string("argument of type '") + dyn_tname(container) + "' is not iterable", loc);
  }
}
// The items `for x in a` visits, as a list (a snapshot).
MX_INLINE List<Any> dyn_iter(const Any& a, const Loc* loc) {
  List<Any> out;
  switch (a.tag()) {
    case TypeTag::List: case TypeTag::Tuple: {
      List<Any> items = a.list();
      for (int64_t i = 0; i < items.size(); ++i) out.push_back(items[i]);
      return out;
    }
    case TypeTag::Str: {
      Str s = a.str();
      for (size_t i = 0; i < s.size(); ++i) out.push_back(Any(str_char(s[i])));
      return out;
    }
    case TypeTag::Bytes: {
      Bytes s = a.bytes();
      for (size_t i = 0; i < s.size(); ++i) out.push_back(Any(int64_t(static_cast<unsigned char>(s[i]))));
      return out;
    }
    case TypeTag::Dict:
      for (auto& e : a.dict().table().entries()) if (e.live) out.push_back(e.key);
      return out;
    case TypeTag::Set:
      for (auto& e : a.set().table().entries()) if (e.live) out.push_back(e.key);
      return out;
    default:
      if (pymod::nd_is_array(a)) return pymod::nd_dyn_iter(pymod::nd_of_any(a), loc);
      raise(ErrKind::TypeError, std::string("'") + dyn_tname(a) + "' object is not iterable", loc);
  }
}

// ---- methods on Any values -----------------------------------------------------------
[[noreturn]] __attribute__((noinline, cold)) inline void dyn_no_method(const Any& a, const char* name,
                                                                       const Loc* loc) {
  raise(ErrKind::AttributeError, std::string("'") + dyn_tname(a) + "' object has no attribute '" + name + "'", loc);
}
MX_INLINE void dyn_nargs(const char* name, size_t given, size_t lo, size_t hi, const Loc* loc) {
  if (given < lo || given > hi)
    raise(ErrKind::TypeError, std::string(name) + "() takes " + std::to_string(hi) + " argument" +
                                  (hi == 1 ? "" : "s") + " (" + std::to_string(given) + " given)", loc);
}
MX_INLINE Str dyn_want_str(const Any& a, const char* what, const Loc* loc) {
  if (a.tag() != TypeTag::Str)
    raise(ErrKind::TypeError, std::string(what) + " must be str, not " + dyn_tname(a), loc);
  return a.str();
}

// Arguments of a builtin method called on an Any (emitter.dyn_method_call): the
// value as the declared parameter's type, or CPython's TypeError.
[[noreturn]] __attribute__((noinline, cold)) inline void dyn_arg_error(const Any& a, const char* what,
                                                                       const Loc* loc) {
  raise(ErrKind::TypeError, std::string(what) + ", not " + dyn_tname(a), loc);
}
template <class T> struct DynArg;
template <> struct DynArg<Str> {
  static constexpr const char* name = "str";
  static bool is(const Any& a) { return a.tag() == TypeTag::Str; }
  static Str of(const Any& a, const Loc* loc = nullptr) { return a.str(); }
};
template <> struct DynArg<Bytes> {
  static constexpr const char* name = "bytes";
  static bool is(const Any& a) { return a.tag() == TypeTag::Bytes; }
  static Bytes of(const Any& a, const Loc* loc = nullptr) { return a.bytes(); }
};
template <> struct DynArg<int64_t> {
  static constexpr const char* name = "int";
  static bool is(const Any& a) { return dyn_is_int(a); }
  static int64_t of(const Any& a, const Loc* loc = nullptr) { return dyn_int(a); }
};
template <> struct DynArg<bool> {  // keepends=1 is keepends=True
  static constexpr const char* name = "bool";
  static bool is(const Any& a) { return dyn_is_int(a); }
  static bool of(const Any& a, const Loc* loc = nullptr) { return dyn_int(a) != 0; }
};
template <> struct DynArg<double> {
  static constexpr const char* name = "float";
  static bool is(const Any& a) { return dyn_is_num(a); }
  static double of(const Any& a, const Loc* loc = nullptr) { return dyn_float(a); }
};
template <> struct DynArg<Dict<Any, Any>> {
  static constexpr const char* name = "dict";
  static bool is(const Any& a) { return a.tag() == TypeTag::Dict; }
  static Dict<Any, Any> of(const Any& a, const Loc* loc = nullptr) { return a.dict(); }
};
template <class T> inline bool dyn_is(const Any& a) { return DynArg<T>::is(a); }
template <class T> inline T dyn_as(const Any& a, const char* what, const Loc* loc) {
  if (!DynArg<T>::is(a)) dyn_arg_error(a, (std::string(what) + " must be " + DynArg<T>::name).c_str(), loc);
  return DynArg<T>::of(a, loc);
}
// A slice bound: an int, or None for its default.
MX_INLINE int64_t dyn_index(const Any& a, int64_t none_is, const char* what, const Loc* loc) {
  if (a.tag() == TypeTag::None) return none_is;
  if (!dyn_is_int(a)) dyn_arg_error(a, (std::string(what) + " must be int or None").c_str(), loc);
  return dyn_int(a);
}
// A list or set parameter takes any iterable, as CPython's methods do.
template <class T> struct DynArg<List<T>> {
  static constexpr const char* name = "an iterable";
  static bool is(const Any&) { return true; }
  static List<T> of(const Any& a, const Loc* loc = nullptr) {
    if constexpr (std::is_same_v<T, Any>) return a.tag() == TypeTag::List ? a.list() : dyn_iter(a, loc);
    else {
      List<Any> items = dyn_iter(a, loc);
      List<T> out;
      out.reserve(items.size());
      for (int64_t i = 0; i < items.size(); ++i) {
        if (!DynArg<T>::is(items[i]))
          raise(ErrKind::TypeError, "sequence item " + std::to_string(i) + ": expected " + DynArg<T>::name +
                                        " instance, " + dyn_tname(items[i]) + " found", loc);
        out.push_back(DynArg<T>::of(items[i], loc));
      }
      return out;
    }
  }
};
template <> struct DynArg<Set<Any>> {
  static constexpr const char* name = "an iterable";
  static bool is(const Any&) { return true; }
  static Set<Any> of(const Any& a, const Loc* loc = nullptr) {
    if (a.tag() == TypeTag::Set) return a.set();
    Set<Any> out;
    List<Any> items = dyn_iter(a, loc);
    for (int64_t i = 0; i < items.size(); ++i) out.add(items[i]);
    return out;
  }
};

// x.name(args...) where x is an Any: the common list, dict, set and str methods.
MX_RT Any dyn_method(const Any& a, const char* name, const List<Any>& args, const Loc* loc);
#if MX_RT_DEFINE
MX_RT Any dyn_method(const Any& a, const char* name, const List<Any>& args, const Loc* loc) {
  std::string m(name);
  size_t n = size_t(args.size());
  switch (a.tag()) {
    case TypeTag::List: {
      List<Any> l = a.list();
      if (m == "append") { dyn_nargs("append", n, 1, 1, loc); l.push_back(args[0]); return Any(); }
      if (m == "pop") {
        dyn_nargs("pop", n, 0, 1, loc);
        return list_pop(l, n ? dyn_int(args[0]) : -1, loc);
      }
      if (m == "extend") {
        dyn_nargs("extend", n, 1, 1, loc);
        List<Any> src = dyn_iter(args[0], loc);
        for (int64_t i = 0; i < src.size(); ++i) l.push_back(src[i]);
        return Any();
      }
      if (m == "insert") { dyn_nargs("insert", n, 2, 2, loc); list_insert(l, dyn_int(args[0]), args[1], loc); return Any(); }
      if (m == "index") { dyn_nargs("index", n, 1, 1, loc); return Any(list_index(l, args[0], loc)); }
      if (m == "count") { dyn_nargs("count", n, 1, 1, loc); return Any(list_count(l, args[0], loc)); }
      if (m == "remove") { dyn_nargs("remove", n, 1, 1, loc); list_remove(l, args[0], loc); return Any(); }
      if (m == "reverse") { dyn_nargs("reverse", n, 0, 0, loc); list_reverse(l, loc); return Any(); }
      if (m == "clear") { dyn_nargs("clear", n, 0, 0, loc); list_clear(l, loc); return Any(); }
      if (m == "copy") { dyn_nargs("copy", n, 0, 0, loc); return Any(list_copy(l, loc)); }
      break;
    }
    case TypeTag::Tuple: {
      List<Any> l = a.list();
      if (m == "index") { dyn_nargs("index", n, 1, 1, loc); return Any(list_index(l, args[0], loc)); }
      if (m == "count") { dyn_nargs("count", n, 1, 1, loc); return Any(list_count(l, args[0], loc)); }
      break;
    }
    case TypeTag::Dict: {
      Dict<Any, Any> d = a.dict();
      if (m == "get") {
        dyn_nargs("get", n, 1, 2, loc);
        Any* v = d.lookup(args[0]);
        return v ? *v : (n == 2 ? args[1] : Any());
      }
      if (m == "keys" || m == "values" || m == "items") {
        dyn_nargs(name, n, 0, 0, loc);
        List<Any> out;
        for (auto& e : d.table().entries()) {
          if (!e.live) continue;
          if (m == "keys") out.push_back(e.key);
          else if (m == "values") out.push_back(e.value);
          else out.push_back(Any::tuple_of(List<Any>{e.key, e.value}));
        }
        return Any(out);
      }
      if (m == "setdefault") {
        dyn_nargs("setdefault", n, 1, 2, loc);
        Any* v = d.lookup(args[0]);
        if (v) return *v;
        Any dflt = n == 2 ? args[1] : Any();
        d.set(args[0], dflt);
        return dflt;
      }
      if (m == "pop") {
        dyn_nargs("pop", n, 1, 2, loc);
        if (d.size() == 0) {  // CPython answers before hashing the key
          if (n == 2) return args[1];
          raise(ErrKind::KeyError, utf8_encode(repr(args[0])), loc);
        }
        return n == 2 ? dict_pop(d, args[0], args[1], loc) : dict_pop(d, args[0], loc);
      }
      if (m == "update") {
        dyn_nargs("update", n, 1, 1, loc);
        if (args[0].tag() != TypeTag::Dict) raise(ErrKind::TypeError, "dict.update() needs a dict here", loc);
        for (auto& e : args[0].dict().table().entries()) if (e.live) d.set(e.key, e.value);
        return Any();
      }
      if (m == "clear") { dyn_nargs("clear", n, 0, 0, loc); dict_clear(d, loc); return Any(); }
      break;
    }
    case TypeTag::Set: {
      Set<Any> s = a.set();
      if (m == "add") { dyn_nargs("add", n, 1, 1, loc); set_add(s, args[0], loc); return Any(); }
      if (m == "discard") { dyn_nargs("discard", n, 1, 1, loc); set_discard(s, args[0], loc); return Any(); }
      if (m == "remove") { dyn_nargs("remove", n, 1, 1, loc); set_remove(s, args[0], loc); return Any(); }
      break;
    }
    case TypeTag::Str: {
      Str s = a.str();
      if (m == "lower") { dyn_nargs("lower", n, 0, 0, loc); return Any(str_lower(s, loc)); }
      if (m == "upper") { dyn_nargs("upper", n, 0, 0, loc); return Any(str_upper(s, loc)); }
      if (m == "strip") { dyn_nargs("strip", n, 0, 0, loc); return Any(str_strip(s, loc)); }
      if (m == "split") {
        dyn_nargs("split", n, 0, 1, loc);
        List<Str> parts = n ? str_split(s, dyn_want_str(args[0], "separator", loc), loc) : str_split(s, loc);
        List<Any> out;
        for (int64_t i = 0; i < parts.size(); ++i) out.push_back(Any(parts[i]));
        return Any(out);
      }
      if (m == "replace") {
        dyn_nargs("replace", n, 2, 2, loc);
        return Any(str_replace(s, dyn_want_str(args[0], "replace() argument 1", loc),
                               dyn_want_str(args[1], "replace() argument 2", loc), loc));
      }
      if (m == "startswith") {
        dyn_nargs("startswith", n, 1, 1, loc);
        return Any(str_startswith(s, dyn_want_str(args[0], "startswith first arg", loc), loc));
      }
      if (m == "endswith") {
        dyn_nargs("endswith", n, 1, 1, loc);
        return Any(str_endswith(s, dyn_want_str(args[0], "endswith first arg", loc), loc));
      }
      if (m == "find") { dyn_nargs("find", n, 1, 1, loc); return Any(str_find(s, dyn_want_str(args[0], "must be str", loc), loc)); }
      if (m == "join") {
        dyn_nargs("join", n, 1, 1, loc);
        List<Any> items = dyn_iter(args[0], loc);
        List<Str> parts;
        for (int64_t i = 0; i < items.size(); ++i) {
          if (items[i].tag() != TypeTag::Str)
            raise(ErrKind::TypeError, "sequence item " + std::to_string(i) + ": expected str instance, " +
                                          dyn_tname(items[i]) + " found", loc);
          parts.push_back(items[i].str());
        }
        return Any(str_join(s, parts, loc));
      }
      break;
    }
    default:
      break;
  }
  dyn_no_method(a, name, loc);
}
#endif

}  // namespace mx
