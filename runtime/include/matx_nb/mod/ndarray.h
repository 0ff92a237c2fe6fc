// matx_nb.NDArray for compiled code: construction from (nested) lists, shape,
// dtype, reshape, indexing through get/set, tolist, astype and the elementwise
// operators with numpy's broadcasting and type promotion (numpy 2, NEP 50:
// a Python scalar takes the array's dtype). Declared in compiler/modules.py.
//
// Arithmetic runs on CPU memory; an array on a GPU can be passed through
// (to a torch op) but not computed on here.
#pragma once
#include "../linkage.h"
#include <string>
#include <type_traits>
#include <vector>

#include "../runtime.h"

namespace mx::pymod {

// ---- element access ------------------------------------------------------------
MX_INLINE bool nd_float(DLDataType t) { return t.code == kDLFloat; }

// Compiled code reads and writes array data on the CPU only (views and
// metadata of a device array are fine); a device array raises TypeError, as
// torch's tensor.numpy() does.
MX_INLINE void nd_check_cpu(const NDArray& a, const Loc* loc) {
  if (!a) raise(ErrKind::TypeError, "NDArray is None", loc);
  if (a->device.device_type != kDLCPU && a->device.device_type != kDLCUDAHost) {
    std::string dev = a->device.device_type == kDLCUDA ? "cuda:" + std::to_string(a->device.device_id)
                                                       : "DLPack device type " + std::to_string(a->device.device_type);
    raise(ErrKind::TypeError, "this NDArray operation needs CPU memory, the array is on " + dev +
                                  " (copy it to the CPU first, e.g. tensor.cpu())", loc);
  }
}

MX_INLINE void nd_check_dtype(DLDataType t, const Loc* loc) {
  bool ok = t.lanes == 1 && ((t.code == kDLInt || t.code == kDLUInt) && (t.bits == 8 || t.bits == 16 || t.bits == 32 || t.bits == 64));
  ok = ok || (t.lanes == 1 && t.code == kDLFloat && (t.bits == 32 || t.bits == 64));
  ok = ok || (t.lanes == 1 && t.code == kDLBool && t.bits == 8);
  if (!ok) raise(ErrKind::TypeError, "NDArray operations do not support dtype " + dtype_name(t) + " yet", loc);
}

MX_INLINE int64_t nd_load_i(const char* p, DLDataType t) {
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
MX_INLINE double nd_load_f(const char* p, DLDataType t) {
  if (t.code == kDLFloat) return t.bits == 32 ? double(*reinterpret_cast<const float*>(p)) : *reinterpret_cast<const double*>(p);
  if (t.code == kDLUInt && t.bits == 64) return double(*reinterpret_cast<const uint64_t*>(p));
  return double(nd_load_i(p, t));
}
// Integers wrap to the element width, like numpy's integer arithmetic.
MX_INLINE void nd_store_i(char* p, DLDataType t, int64_t v) {
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
MX_INLINE void nd_store_f(char* p, DLDataType t, double v) {
  if (t.code == kDLFloat) {
    if (t.bits == 32) *reinterpret_cast<float*>(p) = float(v);
    else *reinterpret_cast<double*>(p) = v;
  } else if (t.code == kDLBool) {
    *reinterpret_cast<uint8_t*>(p) = v != 0;
  } else {
    nd_store_i(p, t, std::isfinite(v) && std::fabs(v) < 9.2e18 ? int64_t(v) : INT64_MIN);
  }
}

// A Python int stored as numpy's setitem and array() store it (NEP 50): out of
// the dtype's range raises OverflowError instead of wrapping.
MX_INLINE void nd_put_int(char* p, DLDataType t, int64_t v, const Loc* loc) {
  bool ok = true;
  if (t.code == kDLUInt) ok = v >= 0 && (t.bits == 64 || v < (int64_t(1) << t.bits));
  else if (t.code == kDLInt && t.bits < 64) ok = v >= -(int64_t(1) << (t.bits - 1)) && v < (int64_t(1) << (t.bits - 1));
  if (!ok) raise(ErrKind::OverflowError, "Python integer " + std::to_string(v) + " out of bounds for " + dtype_name(t), loc);
  nd_store_i(p, t, v);
}
// A Python float: an integer dtype takes int(v), as numpy does (NaN and
// infinity raise; so does a value beyond 64 bits).
MX_INLINE void nd_put_float(char* p, DLDataType t, double v, const Loc* loc) {
  if (t.code != kDLInt && t.code != kDLUInt) {
    nd_store_f(p, t, v);
    return;
  }
  if (std::isnan(v)) raise(ErrKind::ValueError, "cannot convert float NaN to integer", loc);
  if (std::isinf(v)) raise(ErrKind::OverflowError, "cannot convert float infinity to integer", loc);
  double w = std::trunc(v);
  if (t.code == kDLUInt && t.bits == 64 && w >= 9223372036854775808.0 && w < 18446744073709551616.0) {
    *reinterpret_cast<uint64_t*>(p) = uint64_t(w);
    return;
  }
  if (w < -9223372036854775808.0 || w >= 9223372036854775808.0)
    raise(ErrKind::OverflowError, "Python int too large to convert to C long", loc);
  nd_put_int(p, t, int64_t(w), loc);
}

MX_INLINE char* nd_at(const NDArray& a, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * a->strides[d];
  return static_cast<char*>(a->data) + off * a->itemsize();
}

MX_INLINE std::string nd_shape_str(const std::vector<int64_t>& s) {
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

MX_INLINE DLDataType nd_dtype_arg(const Str& name, const Loc* loc) {
  DLDataType t;
  if (!dtype_parse(utf8_encode(name), &t)) raise(ErrKind::TypeError, "data type '" + utf8_encode(name) + "' not understood", loc);
  return t;
}

// The shape after reshape: one -1 is inferred; the sizes must agree.
MX_INLINE std::vector<int64_t> nd_reshape_dims(int64_t numel, const List<int64_t>& shape, const Loc* loc) {
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

MX_INLINE NDArray nd_copy(const NDArray& a, DLDataType dtype);

// A new array from a number or nested lists of numbers; dtype (when given)
// overrides numpy's choice (int64, float64, bool). Values are checked as numpy
// checks them (OverflowError for 300 in a uint8 array).
template <class T>
NDArray nd_from_data(const T& data, const DLDataType* dtype, const Loc* loc) {
  using Leaf = typename nd_leaf<T>::type;
  static_assert(std::is_arithmetic_v<Leaf>, "NDArray data: numbers or nested lists of numbers");
  std::vector<int64_t> dims;
  std::vector<Leaf> flat;
  bool done = false;
  nd_flatten(data, 0, dims, done, flat, loc);
  DLDataType t = std::is_same_v<Leaf, bool> ? DLDataType{kDLBool, 8, 1}
                 : std::is_floating_point_v<Leaf> ? DLDataType{kDLFloat, 64, 1} : DLDataType{kDLInt, 64, 1};
  if (dtype) t = *dtype;
  nd_check_dtype(t, loc);
  NDArray out = NDArray::empty(dims, t);
  char* p = static_cast<char*>(out->data);
  int64_t step = out->itemsize();
  for (size_t i = 0; i < flat.size(); ++i, p += step) {
    if constexpr (std::is_floating_point_v<Leaf>) nd_put_float(p, t, double(flat[i]), loc);
    else nd_put_int(p, t, int64_t(flat[i]), loc);
  }
  return out;
}

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
    DLDataType t;
    if constexpr (std::is_same_v<D, Str>) t = nd_dtype_arg(dtype, loc);
    out = nd_from_data(data, std::is_same_v<D, Str> ? &t : nullptr, loc);
  }
  if constexpr (std::is_same_v<S, List<int64_t>>) {
    if (shape.size() > 0 || out->numel() == 1) {
      out->shape = nd_reshape_dims(out->numel(), shape, loc);
      out->strides = row_major_strides(out->shape);
    }
  }
  return out;
}

// A value held in an Any (nested lists/tuples of numbers, or an array) as an
// array of the given dtype, for a[...] = value.
MX_INLINE void nd_flatten_any(const Any& x, size_t depth, std::vector<int64_t>& shape, bool& shape_done,
                           std::vector<Any>& out, const Loc* loc) {
  if (x.tag() == TypeTag::List || x.tag() == TypeTag::Tuple) {
    List<Any> items = x.list();
    if (!shape_done && depth == shape.size()) shape.push_back(items.size());
    else if (depth >= shape.size() || shape[depth] != items.size())
      raise(ErrKind::ValueError, "setting an array element with a sequence. The requested array has an "
                                 "inhomogeneous shape after " + std::to_string(depth) + " dimensions", loc);
    if (items.size() == 0) shape_done = true;
    for (int64_t i = 0; i < items.size(); ++i) nd_flatten_any(items[i], depth + 1, shape, shape_done, out, loc);
    return;
  }
  if (x.tag() != TypeTag::Int && x.tag() != TypeTag::Float && x.tag() != TypeTag::Bool)
    raise(x.tag() == TypeTag::Str ? ErrKind::ValueError : ErrKind::TypeError,
          std::string("an NDArray element must be a number, not ") +
              (x.tag() == TypeTag::Tuple ? "tuple" : x.type_name()), loc);
  shape_done = true;
  if (depth != shape.size())
    raise(ErrKind::ValueError, "setting an array element with a sequence. The requested array has an "
                               "inhomogeneous shape after " + std::to_string(depth) + " dimensions", loc);
  out.push_back(x);
}

MX_INLINE NDArray nd_from_any(const Any& v, DLDataType dtype, const Loc* loc) {
  if (v.tag() == TypeTag::Instance && is_ndarray_object(v.obj()))
    return NDArray(Ref<NDArrayObj>::borrow(static_cast<NDArrayObj*>(v.obj())));
  std::vector<int64_t> dims;
  std::vector<Any> flat;
  bool done = false;
  nd_flatten_any(v, 0, dims, done, flat, loc);
  nd_check_dtype(dtype, loc);
  NDArray out = NDArray::empty(dims, dtype);
  char* p = static_cast<char*>(out->data);
  for (size_t i = 0; i < flat.size(); ++i, p += out->itemsize()) {
    const Any& x = flat[i];
    if (x.tag() == TypeTag::Float) nd_put_float(p, dtype, x.f(), loc);
    else nd_put_int(p, dtype, x.tag() == TypeTag::Int ? x.i() : int64_t(x.b()), loc);
  }
  return out;
}

// ---- shape and layout ----------------------------------------------------------
MX_INLINE List<int64_t> ndarray_shape(const NDArray& a, const Loc* loc) {
  if (!a) raise(ErrKind::TypeError, "NDArray is None", loc);
  List<int64_t> out;
  for (int64_t d : a->shape) out.push_back(d);
  return out;
}
MX_INLINE List<int64_t> ndarray_strides(const NDArray& a, const Loc* loc) {  // in bytes, as numpy
  List<int64_t> out;
  for (int64_t d : a->strides) out.push_back(d * a->itemsize());
  return out;
}
MX_INLINE Str ndarray_dtype(const NDArray& a, const Loc*) { return str_from_ascii(dtype_name(a->dtype).c_str()); }
MX_INLINE int64_t ndarray_ndim(const NDArray& a, const Loc*) { return int64_t(a->shape.size()); }
MX_INLINE int64_t ndarray_size(const NDArray& a, const Loc*) { return a->numel(); }
MX_INLINE Str ndarray_device(const NDArray& a, const Loc*) {
  if (a->device.device_type == kDLCUDA) return str_from_ascii(("cuda:" + std::to_string(a->device.device_id)).c_str());
  return str_from_ascii("cpu");
}
MX_INLINE bool ndarray_is_contiguous(const NDArray& a, const Loc*) { return a->contiguous(); }
MX_INLINE NDArray ndarray_self(const NDArray& a, const Loc*) { return a; }

// matx_nb.Device(name) in compiled code: the device's name, checked as the Python
// class (matx_nb/device.py) checks it: "cpu", "cpu:N", "cuda:N" or "gpu:N".
MX_INLINE Str device_new(const Str& name, const Loc* loc) {
  std::string n = utf8_encode(name);
  auto numbered = [&](const char* prefix) {
    size_t k = std::strlen(prefix);
    if (n.compare(0, k, prefix) != 0) return false;
    if (n.size() == k - 1) return true;  // "cuda" / "gpu" without ":N"
    if (n.size() == k) return false;
    for (size_t i = k; i < n.size(); ++i)
      if (n[i] < '0' || n[i] > '9') return false;
    return n.size() - k <= 6;
  };
  if (n == "cpu" || numbered("cpu:") || numbered("cuda:") || numbered("gpu:")) return name;
  raise(ErrKind::ValueError, "Device: '" + n + "' is not a device: 'cpu', 'cuda:N' or 'gpu:N'", loc);
}

// A compact copy with the given dtype.
MX_INLINE_DEF NDArray nd_copy(const NDArray& a, DLDataType dtype) {
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

MX_INLINE NDArray ndarray_contiguous(const NDArray& a, const Loc* loc) {
  nd_check_cpu(a, loc);
  return a->contiguous() ? a : nd_copy(a, a->dtype);
}

MX_INLINE NDArray ndarray_astype(const NDArray& a, const Str& dtype, const Loc* loc) {
  nd_check_cpu(a, loc);
  nd_check_dtype(a->dtype, loc);
  DLDataType t = nd_dtype_arg(dtype, loc);
  nd_check_dtype(t, loc);
  return nd_copy(a, t);
}

// A view when the array is contiguous (numpy: a view whenever it can be).
MX_INLINE NDArray ndarray_reshape(const NDArray& a, const List<int64_t>& shape, const Loc* loc) {
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
// a.reshape(6) and a.reshape((2, 3)) (the checker turns a.reshape(2, 3) into a list).
MX_INLINE NDArray ndarray_reshape(const NDArray& a, int64_t n, const Loc* loc) {
  return ndarray_reshape(a, List<int64_t>{n}, loc);
}
template <class... T>
NDArray ndarray_reshape(const NDArray& a, const Tuple<T...>& shape, const Loc* loc) {
  List<int64_t> dims;
  std::apply([&](const auto&... d) { (dims.push_back(int64_t(d)), ...); }, static_cast<const std::tuple<T...>&>(shape));
  return ndarray_reshape(a, dims, loc);
}

// ---- indexing: a[i], a[i, j], a[lo:hi:step], a[..., None] -----------------------
// One item of an index: an integer, a slice, `...` or None (numpy.newaxis).
struct NdIdx {
  enum Kind : uint8_t { Int, Slice, Ellipsis, NewAxis };
  Kind kind = Int;
  int64_t i = 0;
  SliceArg lo{Omit{}}, hi{Omit{}}, st{Omit{}};
};
// The items of an index, e.g. {nd_ix(i), nd_sl(...)} at the call (alive for the call).
class NdIndex {
 public:
  NdIndex(std::initializer_list<NdIdx> items) : b_(items.begin()), e_(items.end()) {}
  explicit NdIndex(const std::vector<NdIdx>& items) : b_(items.data()), e_(items.data() + items.size()) {}
  const NdIdx* begin() const { return b_; }
  const NdIdx* end() const { return e_; }

 private:
  const NdIdx* b_;
  const NdIdx* e_;
};

MX_INLINE NdIdx nd_ix(int64_t i, const Loc*) {
  NdIdx x;
  x.i = i;
  return x;
}
MX_INLINE NdIdx nd_sl(SliceArg lo, SliceArg hi, SliceArg st, const Loc*) {
  NdIdx x;
  x.kind = NdIdx::Slice;
  x.lo = lo;
  x.hi = hi;
  x.st = st;
  return x;
}
MX_INLINE NdIdx nd_ellipsis(const Loc*) {
  NdIdx x;
  x.kind = NdIdx::Ellipsis;
  return x;
}
MX_INLINE NdIdx nd_newaxis(const Loc*) {
  NdIdx x;
  x.kind = NdIdx::NewAxis;
  return x;
}
// An index item known only at run time (an Any): an int or None.
MX_INLINE NdIdx nd_ix(const Any& a, const Loc* loc) {
  if (a.tag() == TypeTag::Int) return nd_ix(a.i(), loc);
  if (a.tag() == TypeTag::None) return nd_newaxis(loc);
  if (a.tag() == TypeTag::Bool)
    raise(ErrKind::IndexError, "boolean array indexing is not supported in compiled code", loc);
  raise(ErrKind::IndexError, "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer "
                             "or boolean arrays are valid indices", loc);
}

MX_INLINE int64_t nd_index(int64_t i, int64_t size, size_t axis, const Loc* loc) {
  int64_t j = i < 0 ? i + size : i;
  if (j < 0 || j >= size)
    raise(ErrKind::IndexError, "index " + std::to_string(i) + " is out of bounds for axis " + std::to_string(axis) +
                                   " with size " + std::to_string(size), loc);
  return j;
}

[[noreturn]] inline void nd_too_many(size_t ndim, size_t n, const Loc* loc) {
  raise(ErrKind::IndexError, "too many indices for array: array is " + std::to_string(ndim) +
                                 "-dimensional, but " + std::to_string(n) + " were indexed", loc);
}

// A view sharing a's memory.
MX_INLINE NDArray nd_make_view(const NDArray& a, char* data, std::vector<int64_t> shape, std::vector<int64_t> strides) {
  Ref<NDArrayObj> v = Ref<NDArrayObj>::make();
  v->data = data;
  v->device = a->device;
  v->dtype = a->dtype;
  v->shape = std::move(shape);
  v->strides = std::move(strides);
  v->base = Ref<Object>(a.ref());
  return NDArray(std::move(v));
}

// numpy's basic indexing. Sets *scalar when every axis gets an integer (the
// result is then the element at the returned view's data pointer). Reads no
// memory, so arrays on any device can be viewed.
MX_INLINE NDArray nd_index_view(const NDArray& a, NdIndex index, bool* scalar, const Loc* loc) {
  if (!a) raise(ErrKind::TypeError, "'NoneType' object is not subscriptable", loc);
  size_t ndim = a->shape.size(), used = 0, ellipses = 0;
  bool all_int = true;
  for (const NdIdx& x : index) {
    if (x.kind == NdIdx::Int || x.kind == NdIdx::Slice) ++used;
    if (x.kind == NdIdx::Ellipsis) ++ellipses;
    if (x.kind != NdIdx::Int) all_int = false;
  }
  if (ellipses > 1) raise(ErrKind::IndexError, "an index can only have a single ellipsis ('...')", loc);
  if (used > ndim) nd_too_many(ndim, used, loc);
  std::vector<int64_t> shape, strides;
  char* p = static_cast<char*>(a->data);
  int64_t item = a->itemsize();
  size_t axis = 0;
  for (const NdIdx& x : index) {
    switch (x.kind) {
      case NdIdx::Int:
        p += nd_index(x.i, a->shape[axis], axis, loc) * a->strides[axis] * item;
        ++axis;
        break;
      case NdIdx::Slice: {
        int64_t start, step;
        int64_t n = slice_indices(a->shape[axis], x.lo, x.hi, x.st, &start, &step, loc);
        if (n > 0) p += start * a->strides[axis] * item;
        shape.push_back(n);
        strides.push_back(a->strides[axis] * step);
        ++axis;
        break;
      }
      case NdIdx::Ellipsis:
        for (size_t k = 0; k < ndim - used; ++k, ++axis) {
          shape.push_back(a->shape[axis]);
          strides.push_back(a->strides[axis]);
        }
        break;
      case NdIdx::NewAxis:
        shape.push_back(1);
        strides.push_back(0);
        break;
    }
  }
  for (; axis < ndim; ++axis) {
    shape.push_back(a->shape[axis]);
    strides.push_back(a->strides[axis]);
  }
  *scalar = all_int && used == ndim;
  return nd_make_view(a, p, std::move(shape), std::move(strides));
}

MX_INLINE void nd_check_read(const NDArray& a, const Loc* loc) {
  nd_check_cpu(a, loc);
  nd_check_dtype(a->dtype, loc);
}

// An element as a Python number: int, float or bool.
MX_INLINE Any nd_scalar(const char* p, DLDataType t, const Loc* loc = nullptr) {
  if (t.code == kDLFloat) return Any(nd_load_f(p, t));
  if (t.code == kDLBool) return Any(nd_load_i(p, t) != 0);
  int64_t v = nd_load_i(p, t);
  if (t.code == kDLUInt && t.bits == 64 && v < 0)
    raise(ErrKind::OverflowError, "uint64 value " + std::to_string(uint64_t(v)) + " does not fit a 64-bit int", loc);
  return Any(v);
}

// a[i]: a number for a 1-d array, else a view of row i.
MX_INLINE Any ndarray_getitem(const NDArray& a, int64_t i, const Loc* loc) {
  if (!a) raise(ErrKind::TypeError, "'NoneType' object is not subscriptable", loc);
  size_t ndim = a->shape.size();
  if (ndim == 0) nd_too_many(0, 1, loc);
  char* p = static_cast<char*>(a->data) + nd_index(i, a->shape[0], 0, loc) * a->strides[0] * a->itemsize();
  if (ndim == 1) {
    nd_check_read(a, loc);
    return nd_scalar(p, a->dtype, loc);
  }
  return Any(nd_make_view(a, p, std::vector<int64_t>(a->shape.begin() + 1, a->shape.end()),
                          std::vector<int64_t>(a->strides.begin() + 1, a->strides.end())).ref());
}

// The element an index of one integer per axis names (no view is made: the
// fast path of a[i, j] in loops); nullptr for any other index.
MX_INLINE char* nd_element(const NDArray& a, NdIndex index, const Loc* loc) {
  size_t n = size_t(index.end() - index.begin());
  if (!a || n != a->shape.size()) return nullptr;
  for (const NdIdx& x : index)
    if (x.kind != NdIdx::Int) return nullptr;
  char* p = static_cast<char*>(a->data);
  size_t axis = 0;
  for (const NdIdx& x : index) {
    p += nd_index(x.i, a->shape[axis], axis, loc) * a->strides[axis] * a->itemsize();
    ++axis;
  }
  return p;
}

// a[i, j, ...] with integers (or Any items): a number when every axis is indexed, else a view.
MX_INLINE Any ndarray_item(const NDArray& a, NdIndex index, const Loc* loc) {
  if (char* p = nd_element(a, index, loc)) {
    nd_check_read(a, loc);
    return nd_scalar(p, a->dtype, loc);
  }
  bool scalar;
  NDArray v = nd_index_view(a, index, &scalar, loc);
  if (!scalar) return Any(v.ref());
  nd_check_read(a, loc);
  return nd_scalar(static_cast<const char*>(v->data), a->dtype, loc);
}

// a[lo:hi], a[i, ::2], a[..., None]: always an array (a view).
MX_INLINE NDArray ndarray_view(const NDArray& a, NdIndex index, const Loc* loc) {
  bool scalar;
  return nd_index_view(a, index, &scalar, loc);
}

MX_INLINE int64_t ndarray_len(const NDArray& a, const Loc* loc) {
  if (!a) raise(ErrKind::TypeError, "object of type 'NoneType' has no len()", loc);
  if (a->shape.empty()) raise(ErrKind::TypeError, "len() of unsized object", loc);
  return a->shape[0];
}
// The number of items `for x in a` visits.
MX_INLINE int64_t ndarray_iter_len(const NDArray& a, const Loc* loc) {
  if (!a) raise(ErrKind::TypeError, "'NoneType' object is not iterable", loc);
  if (a->shape.empty()) raise(ErrKind::TypeError, "iteration over a 0-d array", loc);
  return a->shape[0];
}

// a.get(i) / a.get([i, j]) (MATXScript's spelling of a[i] / a[i, j]).
MX_INLINE Any ndarray_get(const NDArray& a, int64_t i, const Loc* loc) { return ndarray_getitem(a, i, loc); }
MX_INLINE Any ndarray_get(const NDArray& a, const List<int64_t>& index, const Loc* loc) {
  std::vector<NdIdx> items;
  for (int64_t i : index.vec()) items.push_back(nd_ix(i, loc));
  bool scalar;
  NDArray v = nd_index_view(a, NdIndex(items), &scalar, loc);
  if (!scalar) return Any(v.ref());
  nd_check_read(a, loc);
  return nd_scalar(static_cast<const char*>(v->data), a->dtype, loc);
}

// ---- assignment: a[i] = v, a[lo:hi] = v, a[i, j] += v ------------------------------
// Calls f(p0, p1) for each element of `shape`, walking two arrays with the
// given strides in bytes (a stride of 0 broadcasts).
template <class F>
void nd_walk2(const std::vector<int64_t>& shape, char* p0, const std::vector<int64_t>& s0, char* p1,
              const std::vector<int64_t>& s1, F f) {
  size_t nd = shape.size();
  for (int64_t d : shape)
    if (d == 0) return;
  std::vector<int64_t> idx(nd, 0);
  while (true) {
    f(p0, p1);
    size_t d = nd;
    while (d-- > 0) {
      p0 += s0[d];
      p1 += s1[d];
      if (++idx[d] < shape[d]) break;
      p0 -= s0[d] * shape[d];
      p1 -= s1[d] * shape[d];
      idx[d] = 0;
    }
    if (d == size_t(-1)) return;
  }
}

MX_INLINE std::vector<int64_t> nd_byte_strides(const NDArray& a) {
  std::vector<int64_t> s(a->strides);
  for (int64_t& x : s) x *= a->itemsize();
  return s;
}

// One element converted between dtypes as numpy's astype does (unsafe casting).
MX_INLINE void nd_convert(char* dst, DLDataType dt, const char* src, DLDataType st) {
  if (nd_float(st) || (st.code == kDLUInt && st.bits == 64 && nd_float(dt))) nd_store_f(dst, dt, nd_load_f(src, st));
  else nd_store_i(dst, dt, nd_load_i(src, st));
}

// The bytes a view may touch, for the overlap test.
MX_INLINE void nd_extent(const NDArray& a, const char** lo, const char** hi) {
  const char* p = static_cast<const char*>(a->data);
  int64_t first = 0, last = 0;
  for (size_t d = 0; d < a->shape.size(); ++d) {
    if (a->shape[d] == 0) {
      *lo = *hi = p;
      return;
    }
    int64_t span = (a->shape[d] - 1) * a->strides[d];
    (span < 0 ? first : last) += span;
  }
  *lo = p + first * a->itemsize();
  *hi = p + (last + 1) * a->itemsize();
}

// src's strides in bytes, broadcast to `shape` as numpy's setitem broadcasts
// (leading 1s of src dropped; 0 where a dimension is repeated); false if it cannot be.
MX_INLINE bool nd_broadcast_to(const NDArray& src, const std::vector<int64_t>& shape, std::vector<int64_t>* out) {
  size_t nd = shape.size(), skip = 0;
  while (src->shape.size() - skip > nd && src->shape[skip] == 1) ++skip;
  size_t sn = src->shape.size() - skip;
  if (sn > nd) return false;
  out->assign(nd, 0);
  for (size_t k = 0; k < sn; ++k) {
    int64_t s = src->shape[skip + k], d = shape[nd - sn + k];
    if (s == d) (*out)[nd - sn + k] = src->strides[skip + k] * src->itemsize();
    else if (s != 1) return false;
  }
  return true;
}

// dst[...] = src, cast as numpy's setitem casts arrays (astype); a source
// overlapping dst (a[1:] = a[:-1]) is copied first.
MX_INLINE void nd_assign(const NDArray& dst, NDArray src, const Loc* loc) {
  nd_check_read(src, loc);
  std::vector<int64_t> bstr;
  if (!nd_broadcast_to(src, dst->shape, &bstr))
    raise(ErrKind::ValueError, "could not broadcast input array from shape " + nd_shape_str(src->shape) +
                                   " into shape " + nd_shape_str(dst->shape), loc);
  const char *dlo, *dhi, *slo, *shi;
  nd_extent(dst, &dlo, &dhi);
  nd_extent(src, &slo, &shi);
  if (slo < dhi && dlo < shi) {
    src = nd_copy(src, src->dtype);
    nd_broadcast_to(src, dst->shape, &bstr);
  }
  DLDataType dt = dst->dtype, st = src->dtype;
  nd_walk2(dst->shape, static_cast<char*>(dst->data), nd_byte_strides(dst), static_cast<char*>(src->data), bstr,
           [&](char* d, char* s) { nd_convert(d, dt, s, st); });
}

// Fills every element of dst with one Python number (checked as numpy's setitem checks it).
template <class V>
void nd_fill(const NDArray& dst, const V& v, const Loc* loc) {
  char one[8] = {0};
  if constexpr (std::is_floating_point_v<V>) nd_put_float(one, dst->dtype, double(v), loc);
  else nd_put_int(one, dst->dtype, int64_t(v), loc);
  int64_t item = dst->itemsize();
  std::vector<int64_t> zero(dst->shape.size(), 0);
  nd_walk2(dst->shape, static_cast<char*>(dst->data), nd_byte_strides(dst), one, zero,
           [&](char* d, char* s) { std::memcpy(d, s, size_t(item)); });
}

// dst[...] = value, for every value type compiled code may store.
template <class V>
void nd_store_value(const NDArray& dst, const V& value, const Loc* loc) {
  if constexpr (std::is_same_v<V, NDArray>) {
    if (!value) raise(ErrKind::TypeError, "cannot store None in an NDArray", loc);
    nd_assign(dst, value, loc);
  } else if constexpr (std::is_same_v<V, Any>) {
    switch (value.tag()) {
      case TypeTag::Int: nd_fill(dst, value.i(), loc); return;
      case TypeTag::Bool: nd_fill(dst, value.b(), loc); return;
      case TypeTag::Float: nd_fill(dst, value.f(), loc); return;
      default: nd_assign(dst, nd_from_any(value, dst->dtype, loc), loc); return;
    }
  } else if constexpr (std::is_arithmetic_v<V>) {
    nd_fill(dst, value, loc);
  } else {
    nd_assign(dst, nd_from_data(value, &dst->dtype, loc), loc);
  }
}

// a[i] = v
template <class V>
None ndarray_setitem(const NDArray& a, int64_t i, const V& value, const Loc* loc) {
  if (!a) raise(ErrKind::TypeError, "'NoneType' object does not support item assignment", loc);
  nd_check_read(a, loc);
  if (a->shape.empty()) nd_too_many(0, 1, loc);
  char* p = static_cast<char*>(a->data) + nd_index(i, a->shape[0], 0, loc) * a->strides[0] * a->itemsize();
  if constexpr (std::is_arithmetic_v<V>) {
    if (a->shape.size() == 1) {
      if constexpr (std::is_floating_point_v<V>) nd_put_float(p, a->dtype, double(value), loc);
      else nd_put_int(p, a->dtype, int64_t(value), loc);
      return None{};
    }
  }
  nd_store_value(nd_make_view(a, p, std::vector<int64_t>(a->shape.begin() + 1, a->shape.end()),
                              std::vector<int64_t>(a->strides.begin() + 1, a->strides.end())),
                 value, loc);
  return None{};
}

// a[i, j] = v, a[lo:hi] = v, a[..., 0] = v
template <class V>
None ndarray_setitem(const NDArray& a, NdIndex index, const V& value, const Loc* loc) {
  if constexpr (std::is_arithmetic_v<V>) {
    if (char* p = nd_element(a, index, loc)) {
      nd_check_read(a, loc);
      if constexpr (std::is_floating_point_v<V>) nd_put_float(p, a->dtype, double(value), loc);
      else nd_put_int(p, a->dtype, int64_t(value), loc);
      return None{};
    }
  }
  bool scalar;
  NDArray v = nd_index_view(a, index, &scalar, loc);
  nd_check_read(a, loc);
  nd_store_value(v, value, loc);
  return None{};
}

// a.set(i, v) / a.set([i, j], v) (MATXScript's spelling of a[i] = v / a[i, j] = v).
template <class V>
None ndarray_set(const NDArray& a, int64_t index, const V& value, const Loc* loc) {
  return ndarray_setitem(a, index, value, loc);
}
template <class V>
None ndarray_set(const NDArray& a, const List<int64_t>& index, const V& value, const Loc* loc) {
  std::vector<NdIdx> items;
  for (int64_t i : index.vec()) items.push_back(nd_ix(i, loc));
  return ndarray_setitem(a, NdIndex(items), value, loc);
}

// Nested lists of numbers (a number for a 0-d array).
MX_INLINE Any nd_tolist(const NDArray& a, size_t axis, char* p, const Loc* loc) {
  if (axis == a->shape.size()) return nd_scalar(p, a->dtype, loc);
  List<Any> out;
  out.reserve(a->shape[axis]);
  for (int64_t i = 0; i < a->shape[axis]; ++i)
    out.push_back(nd_tolist(a, axis + 1, p + i * a->strides[axis] * a->itemsize(), loc));
  return Any(out);
}
MX_INLINE Any ndarray_tolist(const NDArray& a, const Loc* loc) {
  nd_check_read(a, loc);
  return nd_tolist(a, 0, static_cast<char*>(a->data), loc);
}

// ---- elementwise arithmetic ------------------------------------------------------
// numpy's promotion of two array dtypes (bool counts as the smallest int).
MX_INLINE DLDataType nd_promote(DLDataType a, DLDataType b) {
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
MX_INLINE NDArray nd_binary(const NDArray& a, const NDArray& b, DLDataType rt, NdOp op, const Loc* loc) {
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

// A Python scalar as a 0-d array of the dtype NEP 50 gives it against `arr`
// (an int out of that dtype's range raises OverflowError, as in numpy 2).
template <class V>
NDArray nd_scalar_operand(const NDArray& arr, const V& v, DLDataType* rt, const Loc* loc) {
  DLDataType t = arr->dtype;
  if constexpr (std::is_floating_point_v<V>) {
    if (!nd_float(t)) t = DLDataType{kDLFloat, 64, 1};
  } else if constexpr (std::is_same_v<V, bool>) {
  } else {
    if (t.code == kDLBool) t = DLDataType{kDLInt, 64, 1};
  }
  *rt = t;
  NDArray s = NDArray::empty({}, t);
  if constexpr (std::is_floating_point_v<V>) nd_put_float(static_cast<char*>(s->data), t, v, loc);
  else nd_put_int(static_cast<char*>(s->data), t, int64_t(v), loc);
  return s;
}

MX_INLINE const char* nd_op_symbol(NdOp op) {
  switch (op) {
    case NdOp::Add: return "+";
    case NdOp::Sub: return "-";
    case NdOp::Mul: return "*";
    default: return "/";
  }
}

MX_INLINE NDArray nd_arith_any(const NDArray& a, const Any& v, NdOp op, const Loc* loc, bool reflected);

// a op b (b op a when reflected, for 2 - a); b is an array, a Python number or an Any.
template <class V>
NDArray nd_arith(const NDArray& a, const V& b, NdOp op, const Loc* loc, bool reflected = false) {
  if constexpr (std::is_same_v<V, Any>) {
    return nd_arith_any(a, b, op, loc, reflected);
  } else {
    nd_check_read(a, loc);
    DLDataType rt;
    NDArray other;
    if constexpr (std::is_same_v<V, NDArray>) {
      nd_check_read(b, loc);
      rt = nd_promote(a->dtype, b->dtype);
      other = b;
    } else {
      other = nd_scalar_operand(a, b, &rt, loc);
    }
    const NDArray& x = reflected ? other : a;
    const NDArray& y = reflected ? a : other;
    if (op == NdOp::TrueDiv && !nd_float(rt)) rt = DLDataType{kDLFloat, 64, 1};
    if (op == NdOp::Sub && rt.code == kDLBool)
      raise(ErrKind::TypeError, "numpy boolean subtract, the `-` operator, is not supported", loc);
    if (rt.code == kDLBool && op != NdOp::TrueDiv) {
      // bool + bool is logical or, bool * bool logical and (numpy).
      NDArray r = nd_binary(x, y, DLDataType{kDLInt, 64, 1}, op, loc);
      return nd_copy(r, rt);
    }
    return nd_binary(x, y, rt, op, loc);
  }
}

MX_INLINE bool nd_is_array(const Any& v) { return v.tag() == TypeTag::Instance && is_ndarray_object(v.obj()); }
MX_INLINE NDArray nd_of_any(const Any& v) { return NDArray(Ref<NDArrayObj>::borrow(static_cast<NDArrayObj*>(v.obj()))); }

// a op v with v known only at run time: a number or an array (a[i] += b[j]).
MX_INLINE_DEF NDArray nd_arith_any(const NDArray& a, const Any& v, NdOp op, const Loc* loc, bool reflected) {
  switch (v.tag()) {
    case TypeTag::Int: return nd_arith(a, v.i(), op, loc, reflected);
    case TypeTag::Float: return nd_arith(a, v.f(), op, loc, reflected);
    case TypeTag::Bool: return nd_arith(a, v.b(), op, loc, reflected);
    default:
      if (nd_is_array(v)) return reflected ? nd_arith(nd_of_any(v), a, op, loc) : nd_arith(a, nd_of_any(v), op, loc);
      const char* other = v.tag() == TypeTag::Tuple ? "tuple" : v.type_name();
      raise(ErrKind::TypeError, std::string("unsupported operand type(s) for ") + nd_op_symbol(op) + ": '" +
                                    (reflected ? other : "NDArray") + "' and '" + (reflected ? "NDArray" : other) + "'",
            loc);
  }
}

template <class V> NDArray ndarray_add(const NDArray& a, const V& b, const Loc* loc) { return nd_arith(a, b, NdOp::Add, loc); }
template <class V> NDArray ndarray_sub(const NDArray& a, const V& b, const Loc* loc) { return nd_arith(a, b, NdOp::Sub, loc); }
template <class V> NDArray ndarray_mul(const NDArray& a, const V& b, const Loc* loc) { return nd_arith(a, b, NdOp::Mul, loc); }
template <class V> NDArray ndarray_truediv(const NDArray& a, const V& b, const Loc* loc) {
  return nd_arith(a, b, NdOp::TrueDiv, loc);
}
// 2 - a, 1 / a: a number on the left of an array.
template <class V> NDArray ndarray_rsub(const NDArray& a, const V& b, const Loc* loc) {
  return nd_arith(a, b, NdOp::Sub, loc, true);
}
template <class V> NDArray ndarray_rtruediv(const NDArray& a, const V& b, const Loc* loc) {
  return nd_arith(a, b, NdOp::TrueDiv, loc, true);
}

// numpy's "same_kind" casting of an in-place operator's result: bool < uint <
// int < float; a result of a higher kind raises (int array += 1.5).
MX_INLINE void nd_check_same_kind(DLDataType from, DLDataType to, NdOp op, const Loc* loc) {
  auto rank = [](DLDataType t) { return t.code == kDLBool ? 0 : t.code == kDLUInt ? 1 : t.code == kDLInt ? 2 : 3; };
  if (rank(from) <= rank(to)) return;
  static const char* names[] = {"add", "subtract", "multiply", "divide"};
  raise(ErrKind::TypeError, std::string("Cannot cast ufunc '") + names[int(op)] + "' output from dtype('" +
                                dtype_name(from) + "') to dtype('" + dtype_name(to) + "') with casting rule 'same_kind'",
        loc);
}

// a[index] op= v, and a op= v (index `...`): in place, computed with numpy's
// promotion (int8 127 + 1 wraps). An element takes the result as a[i] = r does;
// an array (a view) only a result of the same kind, as numpy's in-place ufuncs.
template <class I, class V>
None ndarray_augitem(const NDArray& a, const I& index, NdOp op, const V& value, const Loc* loc) {
  bool scalar;
  NDArray target;
  if constexpr (std::is_same_v<I, int64_t>) target = nd_index_view(a, {nd_ix(index, loc)}, &scalar, loc);
  else target = nd_index_view(a, index, &scalar, loc);
  NDArray r = nd_arith(target, value, op, loc);
  if (!scalar) nd_check_same_kind(r->dtype, target->dtype, op, loc);
  nd_assign(target, r, loc);
  return None{};
}

}  // namespace mx::pymod

#include "ndarray_any.h"
