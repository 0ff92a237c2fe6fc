// NDArrays held in Any values (dyn.h dispatches here), and the builtins' view of an
// array (truth, iteration). Part of mod/ndarray.h.
#pragma once
#include "../linkage.h"
#include "ndarray.h"

namespace mx::pymod {

// ---- arrays held in Any values (dyn.h dispatches here) ------------------------------
MX_INLINE Any nd_dyn_binop(const char* op, const Any& a, const Any& b, const Loc* loc) {
  std::string o(op);
  NdOp k = o == "+" ? NdOp::Add : o == "-" ? NdOp::Sub : o == "*" ? NdOp::Mul : NdOp::TrueDiv;
  if (o != "+" && o != "-" && o != "*" && o != "/")
    raise(ErrKind::TypeError, "unsupported operand type(s) for " + o + ": '" +
                                  (a.tag() == TypeTag::Tuple ? "tuple" : a.type_name()) + "' and '" +
                                  (b.tag() == TypeTag::Tuple ? "tuple" : b.type_name()) + "' (NDArray supports + - * /)",
          loc);
  if (nd_is_array(a)) return Any(nd_arith_any(nd_of_any(a), b, k, loc, false).ref());
  return Any(nd_arith_any(nd_of_any(b), a, k, loc, true).ref());
}
MX_INLINE List<Any> nd_dyn_iter(const NDArray& a, const Loc* loc) {
  List<Any> out;
  int64_t n = ndarray_iter_len(a, loc);
  for (int64_t i = 0; i < n; ++i) out.push_back(ndarray_getitem(a, i, loc));
  return out;
}

}  // namespace mx::pymod

namespace mx {
// `if a:` as numpy: an array of one element is that element's truth; an empty
// or a longer one raises ValueError.
MX_INLINE bool truth(const NDArray& a) {
  if (!a) return false;
  int64_t n = a->numel();
  if (n == 0)
    raise(ErrKind::ValueError, "The truth value of an empty array is ambiguous. Use `array.size > 0` to check that "
                               "an array is not empty.", nullptr);
  if (n > 1)
    raise(ErrKind::ValueError, "The truth value of an array with more than one element is ambiguous. Use a.any() or "
                               "a.all()", nullptr);
  pymod::nd_check_read(a, nullptr);
  return truth(pymod::nd_scalar(static_cast<const char*>(a->data), a->dtype));
}

// list(a), sorted(a), zip(a, b)...: the builtins that walk an iterable (builtins.h).
template <class F>
inline void for_each(const NDArray& a, F&& f) {
  int64_t n = pymod::ndarray_iter_len(a, nullptr);
  for (int64_t i = 0; i < n; ++i) f(pymod::ndarray_getitem(a, i, nullptr));
}
}  // namespace mx
