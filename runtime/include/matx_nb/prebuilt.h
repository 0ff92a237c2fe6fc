// Boundary code for the types most signatures use, compiled once into the
// runtime archive (linkage.h) instead of into every library: converting
// arguments, attributes and results between host values and typed values.
//
// Generated code (MATX_NB_LINKED_RUNTIME) sees these as extern templates and
// links the archive's copies; the archive (MATX_NB_RT_ARCHIVE) instantiates
// them; a header-only build instantiates what it uses, as for any other type.
// Only code run once per call belongs here: hot paths (a dict lookup, a list
// append) stay inline in the generated code.
#pragma once
#include "abi.h"

// Types converted by value: arg_from_host, attr_from_host and result_to_host.
#define MX_PREBUILT_SCALARS(X) X(int64_t) X(double) X(bool) X(Str) X(Bytes) X(NDArray)

// Containers: also their Conv (and, in live.h, their attribute operations).
#define MX_PREBUILT_CONTAINERS(X)                                                               \
  X(List<int64_t>) X(List<double>) X(List<bool>) X(List<Str>) X(List<Bytes>) X(List<NDArray>)  \
  X(List<List<int64_t>>) X(List<List<double>>) X(List<List<Str>>)                               \
  X(Dict<Str, int64_t>) X(Dict<Str, double>) X(Dict<Str, Str>) X(Dict<Str, bool>)               \
  X(Dict<int64_t, int64_t>) X(Dict<int64_t, Str>) X(Dict<Str, List<int64_t>>)                   \
  X(Dict<Str, List<Str>>) X(Set<Str>) X(Set<int64_t>)

#if defined(MATX_NB_LINKED_RUNTIME)
#define MX_PREBUILT_EXTERN extern
#elif defined(MATX_NB_RT_ARCHIVE)
#define MX_PREBUILT_EXTERN
#endif

#ifdef MX_PREBUILT_EXTERN
namespace mx {

#define MX_PREBUILT_CONVERT(...)                                                                           \
  MX_PREBUILT_EXTERN template __VA_ARGS__ arg_from_host<__VA_ARGS__>(const mx_host_api*, mx_host_obj,      \
                                                                     const char*, const char*);            \
  MX_PREBUILT_EXTERN template __VA_ARGS__ attr_from_host<__VA_ARGS__>(const mx_host_api*, mx_host_obj,     \
                                                                      const char*, const char*);

#define MX_PREBUILT_SCALAR(...)  \
  MX_PREBUILT_CONVERT(__VA_ARGS__) \
  MX_PREBUILT_EXTERN template mx_host_obj result_to_host<__VA_ARGS__>(const mx_host_api*, __VA_ARGS__&);

#define MX_PREBUILT_CONTAINER(...)                    \
  MX_PREBUILT_EXTERN template struct Conv<__VA_ARGS__>; \
  MX_PREBUILT_CONVERT(__VA_ARGS__)

MX_PREBUILT_SCALARS(MX_PREBUILT_SCALAR)
MX_PREBUILT_CONTAINERS(MX_PREBUILT_CONTAINER)

// Results: a list's own overload (it frees items as it converts them).
#define MX_PREBUILT_RESULT_LIST(T) \
  MX_PREBUILT_EXTERN template mx_host_obj result_to_host<T>(const mx_host_api*, List<T>&);
MX_PREBUILT_RESULT_LIST(int64_t)
MX_PREBUILT_RESULT_LIST(double)
MX_PREBUILT_RESULT_LIST(bool)
MX_PREBUILT_RESULT_LIST(Str)
MX_PREBUILT_RESULT_LIST(Bytes)
MX_PREBUILT_RESULT_LIST(NDArray)
MX_PREBUILT_RESULT_LIST(List<int64_t>)
MX_PREBUILT_RESULT_LIST(List<double>)
MX_PREBUILT_RESULT_LIST(List<Str>)
#define MX_PREBUILT_RESULT(...) \
  MX_PREBUILT_EXTERN template mx_host_obj result_to_host<__VA_ARGS__>(const mx_host_api*, __VA_ARGS__&);
MX_PREBUILT_RESULT(Dict<Str, int64_t>)
MX_PREBUILT_RESULT(Dict<Str, double>)
MX_PREBUILT_RESULT(Dict<Str, Str>)
MX_PREBUILT_RESULT(Dict<Str, bool>)
MX_PREBUILT_RESULT(Dict<int64_t, int64_t>)
MX_PREBUILT_RESULT(Dict<int64_t, Str>)
MX_PREBUILT_RESULT(Dict<Str, List<int64_t>>)
MX_PREBUILT_RESULT(Dict<Str, List<Str>>)
MX_PREBUILT_RESULT(Set<Str>)
MX_PREBUILT_RESULT(Set<int64_t>)

// The container objects: their vtables and destructors (freeing a list of str
// frees each item: code every library would otherwise compile again).
#define MX_PREBUILT_OBJECT(...) MX_PREBUILT_EXTERN template class __VA_ARGS__;
MX_PREBUILT_OBJECT(ListObj<int64_t>)
MX_PREBUILT_OBJECT(ListObj<double>)
MX_PREBUILT_OBJECT(ListObj<bool>)
MX_PREBUILT_OBJECT(ListObj<Str>)
MX_PREBUILT_OBJECT(ListObj<Bytes>)
MX_PREBUILT_OBJECT(ListObj<NDArray>)
MX_PREBUILT_OBJECT(ListObj<List<int64_t>>)
MX_PREBUILT_OBJECT(ListObj<List<Str>>)
MX_PREBUILT_OBJECT(DictObj<Str, int64_t>)
MX_PREBUILT_OBJECT(DictObj<Str, double>)
MX_PREBUILT_OBJECT(DictObj<Str, Str>)
MX_PREBUILT_OBJECT(DictObj<int64_t, int64_t>)
MX_PREBUILT_OBJECT(DictObj<Str, List<int64_t>>)
MX_PREBUILT_OBJECT(SetObj<Str>)
MX_PREBUILT_OBJECT(SetObj<int64_t>)

}  // namespace mx
#endif
