// matx_nb.NDArray for compiled code: construction from (nested) lists, shape,
// dtype, reshape, indexing through get/set, tolist, astype and the elementwise
// operators with numpy's broadcasting and type promotion (numpy 2, NEP 50:
// a Python scalar takes the array's dtype). Declared in compiler/modules.py.
//
// Arithmetic runs on CPU memory; an array on a GPU can be passed through
// (to a torch op) but not computed on here.
#pragma once
#include <string>
#include <type_traits>
#include <vector>

#include "../runtime.h"

namespace mx::pymod {

// ---- element access ------------------------------------------------------------
inline bool nd_float(DLDataType t) { return t.code == kDLFloat; }

inline void nd_check_cpu(const NDArray& a, const Loc* loc) {
  if (!a) raise(ErrKind::TypeError, "NDArray is None", loc);
  if (a->device.device_type != kDLCPU && a->device.device_type != kDLCUDAHost)
    raise(ErrKind::TypeError, "this NDArray operation needs CPU memory, the array is on cuda:" +
                                  std::to_string(a->device.device_id), loc);
}

inline void nd_check_dtype(DLDataType t, const Loc* loc) {
  bool ok = t.lanes == 1 && ((t.code == kDLInt || t.code == kDLUInt) && (t.bits == 8 || t.bits == 16 || t.bits == 32 || t.bits == 64));
  ok = ok || (t.lanes == 1 && t.code == kDLFloat && (t.bits == 32 || t.bits == 64));
  ok = ok || (t.lanes == 1 && t.code == kDLBool && t.bits == 8);
  if (!ok) raise(ErrKind::TypeError, "NDArray operations do not support dtype " + dtype_name(t) + " yet", loc);
}

inline int64_t nd_load_i(const char* p, DLDataType t) {
  switch (t.code) {
    case kDLInt:
      switch (t.bits) {
        case 8: return *reinterpret_cast<const int8_t*>(p);
        case 16: return *reinterpret_cast<const int16_t*>(p);
        case 32: return *reinterpret_cast<const int32_t*>(p);
        default: return *reinterpret_cast<const int64_t*>(p);
      }
    case kDLUInt:
      switch (t.bits) {
        case 8: return *reinterpret_cast<const uint8_t*>(p);
        case 16: return *reinterpret_cast<const uint16_t*>(p);
        case 32: return *reinterpret_cast<const uint32_t*>(p);
        default: return int64_t(*reinterpret_cast<const uint64_t*>(p));
      }
    case kDLBool: return *reinterpret_cast<const uint8_t*>(p) != 0;
    default: return t.bits == 32 ? int64_t(*reinterpret_cast<const float*>(p)) : int64_t(*reinterpret_cast<const double*>(p));
  }
}
inline double nd_load_f(const char* p, DLDataType t) {
  if (t.code == kDLFloat) return t.bits == 32 ? double(*reinterpret_cast<const float*>(p)) : *reinterpret_cast<const double*>(p);
  if (t.code == kDLUInt && t.bits == 64) return double(*reinterpret_cast<const uint64_t*>(p));
  return double(nd_load_i(p, t));
}
// Integers wrap to the element width, like numpy's integer arithmetic.
inline void nd_store_i(char* p, DLDataType t, int64_t v) {
  switch (t.code) {
    case kDLFloat:
      if (t.bits == 32) *reinterpret_cast<float*>(p) = float(v);
      else *reinterpret_cast<double*>(p) = double(v);
      return;
    case kDLBool: *reinterpret_cast<uint8_t*>(p) = v != 0; return;
    default:
      switch (t.bits) {
        case 8: *reinterpret_cast<uint8_t*>(p) = uint8_t(v); return;
        case 16: *reinterpret_cast<uint16_t*>(p) = uint16_t(v); return;
        case 32: *reinterpret_cast<uint32_t*>(p) = uint32_t(v); return;
        default: *reinterpret_cast<uint64_t*>(p) = uint64_t(v); return;
      }
  }
}
// A float stored into an integer array is truncated toward zero (numpy's astype).
inline void nd_store_f(char* p, DLDataType t, double v) {
  if (t.code == kDLFloat) {
    if (t.bits == 32) *reinterpret_cast<float*>(p) = float(v);
    else *reinterpret_cast<double*>(p) = v;
  } else if (t.code == kDLBool) {
    *reinterpret_cast<uint8_t*>(p) = v != 0;
  } else {
    nd_store_i(p, t, std::isfinite(v) && std::fabs(v) < 9.2e18 ? int64_t(v) : INT64_MIN);
  }
}

inline char* nd_at(const NDArray& a, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * a->strides[d];
  return static_cast<char*>(a->data) + off * a->itemsize();
}

inline std::string nd_shape_str(const std::vector<int64_t>& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

// ---- construction --------------------------------------------------------------
template <class T> struct nd_is_list : std::false_type {};
template <class T> struct nd_is_list<List<T>> : std::true_type {};
template <class T> struct nd_leaf { using type = T; };
template <class T> struct nd_leaf<List<T>> { using type = typename nd_leaf<T>::type; };

template <class T, class Leaf>
void nd_flatten(const T& x, size_t depth, std::vector<int64_t>& shape, bool& shape_done, std::vector<Leaf>& out,
                const Loc* loc) {
  if constexpr (nd_is_list<T>::value) {
    if (!shape_done && depth == shape.size()) shape.push_back(x.size());
    else if (depth >= shape.size() || shape[depth] != x.size())
      raise(ErrKind::ValueError, "setting an array element with a sequence. The requested array has an "
                                 "inhomogeneous shape after " + std::to_string(depth) + " dimensions", loc);
    if (x.size() == 0) shape_done = true;
    for (int64_t i = 0; i < x.size(); ++i) nd_flatten(x[i], depth + 1, shape, shape_done, out, loc);
  } else {
    shape_done = true;
    if (depth != shape.size())
      raise(ErrKind::ValueError, "setting an array element with a sequence. The requested array has an "
                                 "inhomogeneous shape after " + std::to_string(depth) + " dimensions", loc);
    out.push_back(Leaf(x));
  }
}

inline DLDataType nd_dtype_arg(const Str& name, const Loc* loc) {
  DLDataType t;
  if (!dtype_parse(utf8_encode(name), &t)) raise(ErrKind::TypeError, "data type '" + utf8_encode(name) + "' not understood", loc);
  return t;
}

// The shape after reshape: one -1 is inferred; the sizes must agree.
inline std::vector<int64_t> nd_reshape_dims(int64_t numel, const List<int64_t>& shape, const Loc* loc) {
  std::vector<int64_t> dims(shape.vec().begin(), shape.vec().end());
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      if (infer >= 0) raise(ErrKind::ValueError, "can only specify one unknown dimension", loc);
      infer = int64_t(i);
    } else if (dims[i] < 0) {
      raise(ErrKind::ValueError, "negative dimensions not allowed", loc);
    } else {
      known *= dims[i];
    }
  }
  if (infer >= 0 && known != 0 && numel % known == 0) dims[size_t(infer)] = numel / known;
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  if (n != numel || (infer >= 0 && known == 0))
    raise(ErrKind::ValueError, "cannot reshape array of size " + std::to_string(numel) + " into shape " +
                                   nd_shape_str(std::vector<int64_t>(shape.vec().begin(), shape.vec().end())), loc);
  return dims;
}

inline NDArray nd_copy(const NDArray& a, DLDataType dtype);

// matx_nb.NDArray(data, shape=None, dtype=None): data is a number or a nested
// list of numbers (or an NDArray, copied); shape reshapes it; dtype defaults
// to numpy's choice (int64, float64, bool).
template <class T, class S, class D>
NDArray ndarray_new(const T& data, const S& shape, const D& dtype, const Loc* loc) {
  NDArray out;
  if constexpr (std::is_same_v<T, NDArray>) {
    nd_check_cpu(data, loc);
    DLDataType t = data->dtype;
    if constexpr (std::is_same_v<D, Str>) t = nd_dtype_arg(dtype, loc);
    out = nd_copy(data, t);
  } else {
    using Leaf = typename nd_leaf<T>::type;
    static_assert(std::is_arithmetic_v<Leaf>, "NDArray data: numbers or nested lists of numbers");
    std::vector<int64_t> dims;
    std::vector<Leaf> flat;
    bool done = false;
    nd_flatten(data, 0, dims, done, flat, loc);
    DLDataType t = std::is_same_v<Leaf, bool> ? DLDataType{kDLBool, 8, 1}
                   : std::is_floating_point_v<Leaf> ? DLDataType{kDLFloat, 64, 1} : DLDataType{kDLInt, 64, 1};
    if constexpr (std::is_same_v<D, Str>) t = nd_dtype_arg(dtype, loc);
    nd_check_dtype(t, loc);
    out = NDArray::empty(dims, t);
    char* p = static_cast<char*>(out->data);
    int64_t step = out->itemsize();
    for (size_t i = 0; i < flat.size(); ++i, p += step) {
      if constexpr (std::is_floating_point_v<Leaf>) nd_store_f(p, t, double(flat[i]));
      else nd_store_i(p, t, int64_t(flat[i]));
    }
  }
  if constexpr (std::is_same_v<S, List<int64_t>>) {
    if (shape.size() > 0 || out->numel() == 1) {
      out->shape = nd_reshape_dims(out->numel(), shape, loc);
      out->strides = row_major_strides(out->shape);
    }
  }
  return out;
}

// ---- shape and layout ----------------------------------------------------------
inline List<int64_t> ndarray_shape(const NDArray& a, const Loc* loc) {
  if (!a) raise(ErrKind::TypeError, "NDArray is None", loc);
  List<int64_t> out;
  for (int64_t d : a->shape) out.push_back(d);
  return out;
}
inline List<int64_t> ndarray_strides(const NDArray& a, const Loc* loc) {  // in bytes, as numpy
  List<int64_t> out;
  for (int64_t d : a->strides) out.push_back(d * a->itemsize());
  return out;
}
inline Str ndarray_dtype(const NDArray& a, const Loc*) { return str_from_ascii(dtype_name(a->dtype).c_str()); }
inline int64_t ndarray_ndim(const NDArray& a, const Loc*) { return int64_t(a->shape.size()); }
inline int64_t ndarray_size(const NDArray& a, const Loc*) { return a->numel(); }
inline Str ndarray_device(const NDArray& a, const Loc*) {
  if (a->device.device_type == kDLCUDA) return str_from_ascii(("cuda:" + std::to_string(a->device.device_id)).c_str());
  return str_from_ascii("cpu");
}
inline bool ndarray_is_contiguous(const NDArray& a, const Loc*) { return a->contiguous(); }

// A compact copy with the given dtype.
inline NDArray nd_copy(const NDArray& a, DLDataType dtype) {
  NDArray out = NDArray::empty(a->shape, dtype);
  int64_t n = a->numel();
  std::vector<int64_t> idx(a->shape.size(), 0);
  char* dst = static_cast<char*>(out->data);
  bool fl = nd_float(a->dtype);
  for (int64_t i = 0; i < n; ++i, dst += out->itemsize()) {
    const char* src = nd_at(a, idx);
    if (fl) nd_store_f(dst, dtype, nd_load_f(src, a->dtype));
    else if (a->dtype.code == kDLUInt && a->dtype.bits == 64 && nd_float(dtype)) nd_store_f(dst, dtype, nd_load_f(src, a->dtype));
    else nd_store_i(dst, dtype, nd_load_i(src, a->dtype));
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < a->shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

inline NDArray ndarray_contiguous(const NDArray& a, const Loc* loc) {
  nd_check_cpu(a, loc);
  return a->contiguous() ? a : nd_copy(a, a->dtype);
}

inline NDArray ndarray_astype(const NDArray& a, const Str& dtype, const Loc* loc) {
  nd_check_cpu(a, loc);
  nd_check_dtype(a->dtype, loc);
  DLDataType t = nd_dtype_arg(dtype, loc);
  nd_check_dtype(t, loc);
  return nd_copy(a, t);
}

// A view when the array is contiguous (numpy: a view whenever it can be).
inline NDArray ndarray_reshape(const NDArray& a, const List<int64_t>& shape, const Loc* loc) {
  if (!a) raise(ErrKind::TypeError, "NDArray is None", loc);
  std::vector<int64_t> dims = nd_reshape_dims(a->numel(), shape, loc);
  NDArray src = a;
  if (!a->contiguous()) {
    nd_check_cpu(a, loc);
    src = nd_copy(a, a->dtype);
  }
  Ref<NDArrayObj> v = Ref<NDArrayObj>::make();
  v->data = src->data;
  v->device = src->device;
  v->dtype = src->dtype;
  v->shape = dims;
  v->strides = row_major_strides(dims);
  v->base = Ref<Object>(src.ref());
  return NDArray(std::move(v));
}

// ---- indexing --------------------------------------------------------------------
inline int64_t nd_index(int64_t i, int64_t size, size_t axis, const Loc* loc) {
  int64_t j = i < 0 ? i + size : i;
  if (j < 0 || j >= size)
    raise(ErrKind::IndexError, "index " + std::to_string(i) + " is out of bounds for axis " + std::to_string(axis) +
                                   " with size " + std::to_string(size), loc);
  return j;
}

inline std::vector<int64_t> nd_index_list(const NDArray& a, const std::vector<int64_t>& index, const Loc* loc) {
  if (index.size() > a->shape.size())
    raise(ErrKind::IndexError, "too many indices for array: array is " + std::to_string(a->shape.size()) +
                                   "-dimensional, but " + std::to_string(index.size()) + " were indexed", loc);
  std::vector<int64_t> idx(index.size());
  for (size_t d = 0; d < index.size(); ++d) idx[d] = nd_index(index[d], a->shape[d], d, loc);
  return idx;
}

inline Any nd_scalar(const char* p, DLDataType t) {
  if (t.code == kDLFloat) return Any(nd_load_f(p, t));
  if (t.code == kDLBool) return Any(nd_load_i(p, t) != 0);
  return Any(nd_load_i(p, t));
}

// a.get(i) / a.get([i, j]): a number when every axis is indexed, else a view.
inline Any nd_get(const NDArray& a, const std::vector<int64_t>& index, const Loc* loc) {
  nd_check_cpu(a, loc);
  nd_check_dtype(a->dtype, loc);
  std::vector<int64_t> idx = nd_index_list(a, index, loc);
  char* p = nd_at(a, idx);
  if (idx.size() == a->shape.size()) return nd_scalar(p, a->dtype);
  Ref<NDArrayObj> v = Ref<NDArrayObj>::make();
  v->data = p;
  v->device = a->device;
  v->dtype = a->dtype;
  v->shape.assign(a->shape.begin() + idx.size(), a->shape.end());
  v->strides.assign(a->strides.begin() + idx.size(), a->strides.end());
  v->base = Ref<Object>(a.ref());
  return Any(Ref<Object>(v));
}
inline Any ndarray_get(const NDArray& a, int64_t i, const Loc* loc) { return nd_get(a, {i}, loc); }
inline Any ndarray_get(const NDArray& a, const List<int64_t>& i, const Loc* loc) {
  return nd_get(a, std::vector<int64_t>(i.vec().begin(), i.vec().end()), loc);
}

template <class I, class V>
None ndarray_set(const NDArray& a, const I& index, const V& value, const Loc* loc) {
  nd_check_cpu(a, loc);
  nd_check_dtype(a->dtype, loc);
  std::vector<int64_t> raw;
  if constexpr (std::is_same_v<I, int64_t>) raw.push_back(index);
  else raw.assign(index.vec().begin(), index.vec().end());
  std::vector<int64_t> idx = nd_index_list(a, raw, loc);
  if (idx.size() != a->shape.size())
    raise(ErrKind::ValueError, "set() takes an index for every axis", loc);
  char* p = nd_at(a, idx);
  if constexpr (std::is_floating_point_v<V>) nd_store_f(p, a->dtype, value);
  else nd_store_i(p, a->dtype, int64_t(value));
  return None{};
}

// Nested lists of numbers (a number for a 0-d array).
inline Any nd_tolist(const NDArray& a, size_t axis, char* p) {
  if (axis == a->shape.size()) return nd_scalar(p, a->dtype);
  List<Any> out;
  out.reserve(a->shape[axis]);
  for (int64_t i = 0; i < a->shape[axis]; ++i)
    out.push_back(nd_tolist(a, axis + 1, p + i * a->strides[axis] * a->itemsize()));
  return Any(out);
}
inline Any ndarray_tolist(const NDArray& a, const Loc* loc) {
  nd_check_cpu(a, loc);
  nd_check_dtype(a->dtype, loc);
  return nd_tolist(a, 0, static_cast<char*>(a->data));
}

// ---- elementwise arithmetic ------------------------------------------------------
// numpy's promotion of two array dtypes (bool counts as the smallest int).
inline DLDataType nd_promote(DLDataType a, DLDataType b) {
  auto fl = [](DLDataType t) { return t.code == kDLFloat; };
  auto bits_of = [](DLDataType t) { return t.code == kDLBool ? 8 : int(t.bits); };
  if (a.code == kDLBool && b.code == kDLBool) return a;
  if (a.code == kDLBool) return b;
  if (b.code == kDLBool) return a;
  if (fl(a) && fl(b)) return DLDataType{kDLFloat, uint8_t(std::max(a.bits, b.bits)), 1};
  if (fl(a) || fl(b)) {
    DLDataType f = fl(a) ? a : b, i = fl(a) ? b : a;
    int need = bits_of(i) <= 8 ? 16 : bits_of(i) <= 16 ? 32 : 64;
    return DLDataType{kDLFloat, uint8_t(std::max(int(f.bits), need)), 1};
  }
  if (a.code == b.code) return DLDataType{a.code, uint8_t(std::max(a.bits, b.bits)), 1};
  DLDataType u = a.code == kDLUInt ? a : b, s = a.code == kDLUInt ? b : a;
  if (s.bits > u.bits) return s;
  if (u.bits < 64) return DLDataType{kDLInt, uint8_t(u.bits * 2), 1};
  return DLDataType{kDLFloat, 64, 1};
}

enum class NdOp { Add, Sub, Mul, TrueDiv };

// out = a op b, both broadcast to the result's shape (numpy's rules).
inline NDArray nd_binary(const NDArray& a, const NDArray& b, DLDataType rt, NdOp op, const Loc* loc) {
  size_t nd = std::max(a->shape.size(), b->shape.size());
  std::vector<int64_t> shape(nd), sa(nd, 0), sb(nd, 0);
  for (size_t k = 0; k < nd; ++k) {
    int64_t da = k < nd - a->shape.size() ? 1 : a->shape[k - (nd - a->shape.size())];
    int64_t db = k < nd - b->shape.size() ? 1 : b->shape[k - (nd - b->shape.size())];
    if (da != db && da != 1 && db != 1)
      raise(ErrKind::ValueError, "operands could not be broadcast together with shapes " + nd_shape_str(a->shape) +
                                     " " + nd_shape_str(b->shape), loc);
    shape[k] = da == 1 ? db : da;
    if (k >= nd - a->shape.size() && da != 1) sa[k] = a->strides[k - (nd - a->shape.size())] * a->itemsize();
    if (k >= nd - b->shape.size() && db != 1) sb[k] = b->strides[k - (nd - b->shape.size())] * b->itemsize();
  }
  NDArray out = NDArray::empty(shape, rt);
  int64_t n = out->numel();
  std::vector<int64_t> idx(nd, 0);
  const char* pa = static_cast<const char*>(a->data);
  const char* pb = static_cast<const char*>(b->data);
  char* po = static_cast<char*>(out->data);
  bool fl = nd_float(rt);
  for (int64_t i = 0; i < n; ++i, po += out->itemsize()) {
    if (fl) {
      double x = nd_load_f(pa, a->dtype), y = nd_load_f(pb, b->dtype), r;
      switch (op) {
        case NdOp::Add: r = x + y; break;
        case NdOp::Sub: r = x - y; break;
        case NdOp::Mul: r = x * y; break;
        default: r = x / y; break;  // IEEE: inf/nan on zero, as numpy (which warns)
      }
      nd_store_f(po, rt, r);
    } else {
      uint64_t x = uint64_t(nd_load_i(pa, a->dtype)), y = uint64_t(nd_load_i(pb, b->dtype)), r;
      switch (op) {
        case NdOp::Add: r = x + y; break;
        case NdOp::Sub: r = x - y; break;
        default: r = x * y; break;
      }
      nd_store_i(po, rt, int64_t(r));
    }
    for (size_t d = nd; d-- > 0;) {
      pa += sa[d];
      pb += sb[d];
      if (++idx[d] < shape[d]) break;
      pa -= sa[d] * shape[d];
      pb -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

// A Python scalar as a 0-d array of the dtype NEP 50 gives it against `arr`.
template <class V>
NDArray nd_scalar_operand(const NDArray& arr, const V& v, DLDataType* rt) {
  DLDataType t = arr->dtype;
  if constexpr (std::is_floating_point_v<V>) {
    if (!nd_float(t)) t = DLDataType{kDLFloat, 64, 1};
  } else if constexpr (std::is_same_v<V, bool>) {
  } else {
    if (t.code == kDLBool) t = DLDataType{kDLInt, 64, 1};
  }
  *rt = t;
  NDArray s = NDArray::empty({}, t);
  if constexpr (std::is_floating_point_v<V>) nd_store_f(static_cast<char*>(s->data), t, v);
  else nd_store_i(static_cast<char*>(s->data), t, int64_t(v));
  return s;
}

template <class V>
NDArray nd_arith(const NDArray& a, const V& b, NdOp op, const Loc* loc) {
  nd_check_cpu(a, loc);
  nd_check_dtype(a->dtype, loc);
  DLDataType rt;
  NDArray other;
  if constexpr (std::is_same_v<V, NDArray>) {
    nd_check_cpu(b, loc);
    nd_check_dtype(b->dtype, loc);
    rt = nd_promote(a->dtype, b->dtype);
    other = b;
  } else {
    other = nd_scalar_operand(a, b, &rt);
  }
  if (op == NdOp::TrueDiv && !nd_float(rt)) rt = DLDataType{kDLFloat, 64, 1};
  if (op == NdOp::Sub && rt.code == kDLBool)
    raise(ErrKind::TypeError, "numpy boolean subtract, the `-` operator, is not supported", loc);
  if (rt.code == kDLBool && op != NdOp::TrueDiv) {
    // bool + bool is logical or, bool * bool logical and (numpy).
    NDArray r = nd_binary(a, other, DLDataType{kDLInt, 64, 1}, op, loc);
    return nd_copy(r, rt);
  }
  return nd_binary(a, other, rt, op, loc);
}

template <class V> NDArray ndarray_add(const NDArray& a, const V& b, const Loc* loc) { return nd_arith(a, b, NdOp::Add, loc); }
template <class V> NDArray ndarray_sub(const NDArray& a, const V& b, const Loc* loc) { return nd_arith(a, b, NdOp::Sub, loc); }
template <class V> NDArray ndarray_mul(const NDArray& a, const V& b, const Loc* loc) { return nd_arith(a, b, NdOp::Mul, loc); }
template <class V> NDArray ndarray_truediv(const NDArray& a, const V& b, const Loc* loc) {
  return nd_arith(a, b, NdOp::TrueDiv, loc);
}

}  // namespace mx::pymod
