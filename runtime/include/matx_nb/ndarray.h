// NDArray: an n-dimensional array (dtype, shape, strides, byte offset, device),
// reference counted like every runtime value. Its memory is either its own
// (allocated by compiled code) or a host's array received through DLPack
// without a copy (a numpy array, a torch tensor): the DLManagedTensor is kept
// and its deleter called when the last reference goes.
//
// Across the ABI an array travels as a DLManagedTensor (host callbacks
// dlpack_in / dlpack_out, ABI 4), so a library never depends on numpy or torch.
// The array operations compiled code calls (matx_nb.NDArray(...), methods) are
// in mod/ndarray.h.
#pragma once
#include "linkage.h"
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "abi.h"
#include "dlpack.h"

namespace mx {

// "int64", "float32"...: numpy's names of the DLPack types.
MX_INLINE std::string dtype_name(DLDataType t) {
  std::string bits = std::to_string(int(t.bits));
  switch (t.code) {
    case kDLInt: return "int" + bits;
    case kDLUInt: return "uint" + bits;
    case kDLFloat: return "float" + bits;
    case kDLBfloat: return "bfloat" + bits;
    case kDLComplex: return "complex" + bits;
    case kDLBool: return "bool";
    default: return "opaque" + bits;
  }
}

// The dtype named `name` (numpy's spelling); false if unknown.
MX_INLINE bool dtype_parse(const std::string& name, DLDataType* out) {
  static const struct { const char* n; uint8_t code, bits; } table[] = {
      {"int8", kDLInt, 8}, {"int16", kDLInt, 16}, {"int32", kDLInt, 32}, {"int64", kDLInt, 64},
      {"uint8", kDLUInt, 8}, {"uint16", kDLUInt, 16}, {"uint32", kDLUInt, 32}, {"uint64", kDLUInt, 64},
      {"float16", kDLFloat, 16}, {"float32", kDLFloat, 32}, {"float64", kDLFloat, 64},
      {"bool", kDLBool, 8}, {"int", kDLInt, 64}, {"float", kDLFloat, 64}};
  for (auto& e : table)
    if (name == e.n) {
      *out = DLDataType{e.code, e.bits, 1};
      return true;
    }
  return false;
}

MX_INLINE bool dtype_is_float(DLDataType t) { return t.code == kDLFloat; }

class NDArrayObj : public Object {
 public:
  void* data = nullptr;  // the first element (byte_offset already applied)
  DLDevice device{kDLCPU, 0};
  DLDataType dtype{kDLFloat, 32, 1};
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // in elements
  DLManagedTensor* owner = nullptr;  // foreign memory, released through its deleter
  void* own = nullptr;               // memory allocated here
  Ref<Object> base;                  // a view keeps the array it looks into alive

  ~NDArrayObj() override;
  const char* type_name() const override { return "NDArray"; }

  int64_t itemsize() const { return (int64_t(dtype.bits) * dtype.lanes + 7) / 8; }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  bool contiguous() const {
    int64_t expect = 1;
    for (size_t i = shape.size(); i-- > 0;) {
      if (shape[i] != 1 && strides[i] != expect) return false;
      expect *= shape[i];
    }
    return true;
  }

  // A new managed tensor that keeps this array alive until its deleter runs.
  // Virtual so that the library that made the array builds it (hosts call it
  // on arrays made by any library).
  virtual DLManagedTensor* to_dlpack();
};

// Compact row-major strides (in elements) for `shape`.
MX_INLINE std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size());
  int64_t step = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = step;
    step *= shape[i];
  }
  return s;
}

class NDArray {
 public:
  NDArray() = default;
  explicit NDArray(Ref<NDArrayObj> r) : r_(std::move(r)) {}

  // A new zero-filled CPU array.
  static NDArray empty(const std::vector<int64_t>& shape, DLDataType dtype) {
    Ref<NDArrayObj> r = Ref<NDArrayObj>::make();
    r->dtype = dtype;
    r->shape = shape;
    r->strides = row_major_strides(shape);
    size_t bytes = size_t(r->numel() * r->itemsize());
    r->own = std::calloc(bytes ? bytes : 1, 1);
    if (!r->own) throw std::bad_alloc();
    r->data = r->own;
    return NDArray(std::move(r));
  }

  // Takes ownership of a managed tensor (its deleter runs when the array goes).
  static NDArray from_dlpack(DLManagedTensor* t);

  NDArrayObj* operator->() const { return r_.get(); }
  NDArrayObj* get() const { return r_.get(); }
  const Ref<NDArrayObj>& ref() const { return r_; }
  explicit operator bool() const { return bool(r_); }

 private:
  Ref<NDArrayObj> r_;
};

// An array held by an Any (as an instance) is recognized by its type name, not
// by RTTI: each library has its own copy of this inline class.
MX_INLINE bool is_ndarray_object(const Object* o) {
  return o && std::strcmp(o->type_name(), "NDArray") == 0;
}

template <>
struct Conv<NDArray> {
  static std::string name() { return "NDArray"; }
  static NDArray from_host(const mx_host_api* h, mx_host_obj o) {
    DLManagedTensor* t = h->abi_version >= 4 && h->dlpack_in ? h->dlpack_in(o) : nullptr;
    if (!t) conv_fail(h, o, "NDArray (an object with __dlpack__: numpy array, torch tensor, matx_nb.NDArray)");
    return NDArray::from_dlpack(t);
  }
  static mx_host_obj to_host(const mx_host_api* h, const NDArray& a) {
    if (!a) return h->new_none();
    return h->dlpack_out(a->to_dlpack());
  }
};

#if MX_RT_DEFINE
MX_RT NDArrayObj::~NDArrayObj() {
  if (owner && owner->deleter) owner->deleter(owner);
  std::free(own);
}
#endif

#if MX_RT_DEFINE
MX_RT DLManagedTensor* NDArrayObj::to_dlpack() {
  struct Ctx {
    DLManagedTensor t;
    std::vector<int64_t> shape, strides;
    NDArrayObj* keep;
  };
  Ctx* c = new Ctx{{}, shape, strides, this};
  incref();
  c->t.dl_tensor.data = data;
  c->t.dl_tensor.device = device;
  c->t.dl_tensor.ndim = int32_t(shape.size());
  c->t.dl_tensor.dtype = dtype;
  c->t.dl_tensor.shape = c->shape.data();
  c->t.dl_tensor.strides = c->strides.data();
  c->t.dl_tensor.byte_offset = 0;
  c->t.manager_ctx = c;
  c->t.deleter = [](DLManagedTensor* self) {
    Ctx* ctx = static_cast<Ctx*>(self->manager_ctx);
    ctx->keep->decref();
    delete ctx;
  };
  return &c->t;
}
#endif

#if MX_RT_DEFINE
MX_RT NDArray NDArray::from_dlpack(DLManagedTensor* t) {
  Ref<NDArrayObj> r = Ref<NDArrayObj>::make();
  r->owner = t;
  const DLTensor& d = t->dl_tensor;
  r->data = static_cast<char*>(d.data) + d.byte_offset;
  r->device = d.device;
  r->dtype = d.dtype;
  r->shape.assign(d.shape, d.shape + d.ndim);
  r->strides = d.strides ? std::vector<int64_t>(d.strides, d.strides + d.ndim) : row_major_strides(r->shape);
  return NDArray(std::move(r));
}
#endif

}  // namespace mx
