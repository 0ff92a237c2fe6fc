// The C ABI between a compiled library and its host (the Python binding or the
// C++ Session), and the converters between host values and typed runtime values.
//
// A library exports `matx_nb_module()`, returning a ModuleDesc: tables of
// functions and classes. Every entry point takes the host's HostApi, so the
// generated code never includes Python headers: it reads and builds host values
// through these callbacks and converts straight into typed C++ values.
#pragma once
#include "linkage.h"
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "containers.h"
#include "dlpack.h"
#include "error.h"
#include "interrupt.h"
#include "nest.h"
#include "lock.h"

#define MATX_NB_ABI_VERSION 8

extern "C" {

typedef void* mx_host_obj;

enum mx_host_kind {
  MX_HK_NONE = 0, MX_HK_BOOL, MX_HK_INT, MX_HK_FLOAT, MX_HK_STR, MX_HK_BYTES,
  MX_HK_LIST, MX_HK_TUPLE, MX_HK_DICT, MX_HK_SET, MX_HK_OBJECT, MX_HK_OTHER
};

struct mx_class_desc;

// ABI 8: the text of a string as the bulk callbacks pass it: `len` code units
// of `unit` bytes each (1, 2 or 4) at `data`.
struct mx_text {
  const void* data;
  int64_t len;
  int32_t unit;
  int32_t reserved;
};

// Host callbacks. Handles returned by new_* and iter_next are new references;
// seq_item and dict_next return borrowed ones; *_set functions steal the item.
struct mx_host_api {
  int32_t abi_version;
  int (*kind)(mx_host_obj);
  const char* (*type_name)(mx_host_obj);
  int (*as_int)(mx_host_obj, int64_t* out);  // 0 ok, 1 does not fit in 64 bits
  // The value of a float or int as a double. An int too large for a double gives
  // +-inf (any other failure NaN); the host clears its own error, Conv<double>
  // raises OverflowError like float(10**400).
  double (*as_float)(mx_host_obj);
  // Code units of a str: *unit is 1, 2 or 4 bytes; *len is in code points.
  const void* (*str_data)(mx_host_obj, int* unit, int64_t* len);
  const char* (*bytes_data)(mx_host_obj, int64_t* len);
  int64_t (*seq_len)(mx_host_obj);
  mx_host_obj (*seq_item)(mx_host_obj, int64_t);
  int (*dict_next)(mx_host_obj, int64_t* pos, mx_host_obj* key, mx_host_obj* value);
  mx_host_obj (*iter)(mx_host_obj);
  mx_host_obj (*iter_next)(mx_host_obj);
  // The runtime object behind a compiled class instance of `cls`, or null.
  mx::Object* (*object_ptr)(mx_host_obj, const mx_class_desc* cls);

  mx_host_obj (*new_none)(void);
  mx_host_obj (*new_bool)(int);
  mx_host_obj (*new_int)(int64_t);
  mx_host_obj (*new_float)(double);
  mx_host_obj (*new_str)(int unit, const void* data, int64_t len);
  mx_host_obj (*new_bytes)(const char* data, int64_t len);
  mx_host_obj (*new_list)(int64_t n);
  void (*list_set)(mx_host_obj list, int64_t i, mx_host_obj item);
  mx_host_obj (*new_tuple)(int64_t n);
  void (*tuple_set)(mx_host_obj tuple, int64_t i, mx_host_obj item);
  mx_host_obj (*new_dict)(void);
  void (*dict_set)(mx_host_obj dict, mx_host_obj key, mx_host_obj value);
  mx_host_obj (*new_set)(void);
  void (*set_add)(mx_host_obj set, mx_host_obj item);
  // Wraps a compiled instance (a new reference to `obj` is handed over).
  mx_host_obj (*new_object)(const mx_class_desc* cls, mx::Object* obj);
  void (*decref)(mx_host_obj);

  // Released around the compiled body (the GIL for Python; no-op in C++).
  void* (*nogil_begin)(void);
  void (*nogil_end)(void*);
  void (*write_stdout)(const char* utf8, size_t n);

  // ABI 4: arrays, as DLPack managed tensors (no copy). dlpack_in returns a
  // tensor viewing the host value (the caller calls its deleter), or null when
  // the value is not an array; dlpack_out wraps one as a host array and takes
  // it over.
  DLManagedTensor* (*dlpack_in)(mx_host_obj);
  mx_host_obj (*dlpack_out)(DLManagedTensor*);

  // ABI 5: replaces the contents of the caller's list/dict/set `dst` by those of
  // `src` (a container of the same kind made by to_host), so that a compiled
  // function changing its argument in place changes the caller's object, as in
  // Python. Containers of another kind (a tuple for a List parameter) are left
  // as they are.
  void (*assign_contents)(mx_host_obj dst, mx_host_obj src);

  // ABI 6: interrupting compiled loops (interrupt.h): the word loops poll, and
  // whether the calling thread is to stop (it then raises KeyboardInterrupt).
  std::atomic<int32_t>* interrupt_word;
  int (*interrupt_take)(void);

  // ABI 7: frozensets, which kind() reports as MX_HK_SET. is_frozenset tells
  // them apart; freeze_set turns a set made by new_set into a frozenset (it
  // takes the set over and returns a new handle).
  int (*is_frozenset)(mx_host_obj);
  mx_host_obj (*freeze_set)(mx_host_obj set);

  // ABI 8: lists converted in bulk, one callback per block of items instead of
  // three per item. str_items writes the text of the items [start, start + n)
  // of a list or tuple and returns how many of them, from the first, are exact
  // strs (the data stays valid while the sequence is alive and unchanged, which
  // the caller's reference ensures for the duration of the call); int_items does
  // the same for exact ints that fit in 64 bits (not bools). A shorter count
  // sends the item after them through the per-item path, which converts or
  // rejects it. new_int_list and new_str_list build a list of n items (strs
  // from unit-1 or unit-4 text), or return null with the host's error set.
  int64_t (*str_items)(mx_host_obj seq, int64_t start, int64_t n, mx_text* out);
  int64_t (*int_items)(mx_host_obj seq, int64_t start, int64_t n, int64_t* out);
  mx_host_obj (*new_int_list)(const int64_t* v, int64_t n);
  mx_host_obj (*new_str_list)(const mx_text* v, int64_t n);
};

// Error reported across the ABI; strings are malloc'd and freed by the host,
// which zero-initializes the struct.
struct mx_error {
  int32_t kind;  // mx::ErrKind
  char* message;
  char* file;
  char* func;
  int32_t line;
  int32_t col;
  // UnicodeDecodeError / UnicodeEncodeError only (null otherwise): the arguments
  // of CPython's constructor. codec_object is the bytes being decoded, or the str
  // being encoded as UTF-32 code units; [codec_start, codec_end) is the bad range
  // in items (bytes or code points); codec_reason has no location.
  char* codec_encoding;
  char* codec_object;
  int64_t codec_object_len;  // in bytes
  int64_t codec_start;
  int64_t codec_end;
  char* codec_reason;
};

typedef int (*mx_call_fn)(const mx_host_api* host, mx::Object* self, const mx_host_obj* args,
                          int64_t nargs, mx_host_obj* result, mx_error* err);
typedef int (*mx_getattr_fn)(const mx_host_api* host, mx::Object* self, mx_host_obj* result,
                             mx_error* err);
typedef int (*mx_setattr_fn)(const mx_host_api* host, mx::Object* self, mx_host_obj value,
                             mx_error* err);

enum mx_func_flags {
  MX_FN_RELEASES_GIL = 1,
  MX_FN_MAY_RECURSE = 2,  // reaches recursive code: the host guards the C stack
};

struct mx_func_desc {
  const char* name;
  int32_t nargs;  // not counting self
  const char* const* param_names;
  const char* const* param_types;  // Python spelling, e.g. "List[str]"
  const char* return_type;
  mx_call_fn call;
  int32_t flags;
  // Parameters without a default value: the first n_required. A missing
  // optional argument is passed as a null handle; the callee uses its default.
  int32_t n_required;
  // ABI 6: the library's lock for its module-level containers, held by each call
  // when its code may change them (lock.h), or null.
  mx::RecursiveLock* module_lock;
};

// ABI 6: typed operations on one container type (live.h), so that a host can
// hand out a live handle on a container attribute. Each returns 0, or -1 with
// err filled; getitem of an absent dict key returns 0 with *out null.
struct mx_container_ops {
  int32_t kind;  // MX_HK_LIST, MX_HK_DICT or MX_HK_SET
  int64_t (*len)(mx::Object* c);
  int (*getitem)(const mx_host_api* h, mx::Object* c, mx_host_obj key, mx_host_obj* out, mx_error* err);
  int (*setitem)(const mx_host_api* h, mx::Object* c, mx_host_obj key, mx_host_obj value, mx_error* err);
  int (*delitem)(const mx_host_api* h, mx::Object* c, mx_host_obj key, mx_error* err);
  int (*contains)(const mx_host_api* h, mx::Object* c, mx_host_obj item, int* out, mx_error* err);
  int (*add)(const mx_host_api* h, mx::Object* c, mx_host_obj item, mx_error* err);  // append / add
  int (*snapshot)(const mx_host_api* h, mx::Object* c, mx_host_obj* out, mx_error* err);  // a host copy
  int (*assign)(const mx_host_api* h, mx::Object* c, mx_host_obj src, mx_error* err);  // contents := src
};

struct mx_attr_desc {
  const char* name;
  const char* type;
  mx_getattr_fn get;
  mx_setattr_fn set;
  // ABI 6, container attributes only (else null): the container object itself
  // (a new reference) and its operations, for a live handle.
  mx::Object* (*ref)(mx::Object* self);
  const mx_container_ops* ops;
};

struct mx_class_desc {
  const char* name;
  // Equal for two libraries that compiled the same class source, so an
  // instance made by one can be passed to the other (same C++ layout).
  const char* layout_id;
  mx_func_desc init;  // call() returns the new instance as a host object
  int32_t n_methods;
  const mx_func_desc* methods;
  int32_t n_attrs;
  const mx_attr_desc* attrs;
};

struct mx_module_desc {
  int32_t abi_version;
  const char* runtime_version;
  int32_t n_funcs;
  const mx_func_desc* funcs;
  int32_t n_classes;
  const mx_class_desc* classes;
  int32_t n_origins;
  mx::Origin* origins;  // file and first_line are filled by the loader
  void (*set_host)(const mx_host_api* host);
};

typedef const mx_module_desc* (*mx_module_fn)(void);

}  // extern "C"

namespace mx {

// ---- codec errors --------------------------------------------------------------

// A UnicodeDecodeError / UnicodeEncodeError with the fields CPython's exception
// carries, so that the host raises the real class; message() is CPython's str()
// of it. object() is the bytes decoded, or the str encoded as UTF-32 code units.
class CodecError : public Error {
 public:
  CodecError(ErrKind kind, std::string message, std::string encoding, std::string object, int64_t start,
             int64_t end, std::string reason)
      : Error(kind, std::move(message)), encoding_(std::move(encoding)), object_(std::move(object)),
        start_(start), end_(end), reason_(std::move(reason)) {}
  const std::string& encoding() const { return encoding_; }
  const std::string& object() const { return object_; }
  int64_t start() const { return start_; }
  int64_t end() const { return end_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string encoding_, object_;
  int64_t start_, end_;
  std::string reason_;
};

// ---- conversion errors -------------------------------------------------------

// Where inside an argument a conversion failed: "[3]", "['key']", ...
struct ConvError {
  std::string path;
  std::string expected;
  std::string got;
  // A value of the right type that does not fit (an int past 64 bits): raised
  // as this kind with this message, instead of "expected ..., got ...".
  ErrKind kind = ErrKind::TypeError;
  std::string message;
  // The error without the name of the argument: "expected int, got str[0]".
  std::string text() const;
};

[[noreturn]] MX_RT void conv_overflow(const char* message);
[[noreturn]] MX_RT void conv_fail(const mx_host_api* h, mx_host_obj o, const char* expected);
// Prefixes the path of the ConvError being handled with "[i]" and rethrows it.
[[noreturn]] MX_RT void conv_rethrow_at(int64_t i);

#if MX_RT_DEFINE
MX_RT std::string ConvError::text() const {
  if (kind != ErrKind::TypeError) return message + (path.empty() ? "" : " (at " + path + ")");
  return "expected " + expected + ", got " + got + path;
}

MX_RT void conv_overflow(const char* message) {
  ConvError e;
  e.kind = ErrKind::OverflowError;
  e.message = message;
  throw e;
}

MX_RT void conv_fail(const mx_host_api* h, mx_host_obj o, const char* expected) {
  throw ConvError{"", expected, h->type_name(o)};
}

MX_RT void conv_rethrow_at(int64_t i) {
  try {
    throw;
  } catch (ConvError& e) {
    e.path = "[" + std::to_string(i) + "]" + e.path;
    throw;
  }
}
#endif

template <class T, class = void>
struct Conv;

template <>
struct Conv<int64_t> {
  static std::string name() { return "int"; }
  static int64_t from_host(const mx_host_api* h, mx_host_obj o) {
    int k = h->kind(o);
    if (k != MX_HK_INT && k != MX_HK_BOOL) conv_fail(h, o, "int");
    int64_t v;
    if (h->as_int(o, &v)) conv_overflow("Python int too large to convert to a 64-bit int");
    return v;
  }
  static mx_host_obj to_host(const mx_host_api* h, int64_t v) { return h->new_int(v); }
};
template <>
struct Conv<bool> {
  static std::string name() { return "bool"; }
  static bool from_host(const mx_host_api* h, mx_host_obj o) {
    if (h->kind(o) != MX_HK_BOOL) conv_fail(h, o, "bool");
    int64_t v = 0;
    h->as_int(o, &v);
    return v != 0;
  }
  static mx_host_obj to_host(const mx_host_api* h, bool v) { return h->new_bool(v); }
};
template <>
struct Conv<double> {
  static std::string name() { return "float"; }
  static double from_host(const mx_host_api* h, mx_host_obj o) {
    int k = h->kind(o);
    if (k == MX_HK_FLOAT) return h->as_float(o);
    if (k == MX_HK_INT || k == MX_HK_BOOL) {
      int64_t v;
      if (!h->as_int(o, &v)) return double(v);
      // Beyond 64 bits: the host converts, giving +-inf past the largest double.
      double d = h->as_float(o);
      if (std::isinf(d)) conv_overflow("int too large to convert to float");
      if (std::isnan(d)) conv_fail(h, o, "float");
      return d;
    }
    conv_fail(h, o, "float");
  }
  static mx_host_obj to_host(const mx_host_api* h, double v) { return h->new_float(v); }
};
template <>
struct Conv<None> {
  static std::string name() { return "None"; }
  static None from_host(const mx_host_api* h, mx_host_obj o) {
    if (h->kind(o) != MX_HK_NONE) conv_fail(h, o, "None");
    return None{};
  }
  static mx_host_obj to_host(const mx_host_api* h, None) { return h->new_none(); }
};
template <>
struct Conv<Str> {
  static std::string name() { return "str"; }
  static Str from_host(const mx_host_api* h, mx_host_obj o) {
    if (h->kind(o) != MX_HK_STR) conv_fail(h, o, "str");
    int unit;
    int64_t n;
    const void* d = h->str_data(o, &unit, &n);
    return from_text(unit, d, n);
  }
  static Str from_text(int unit, const void* d, int64_t n) {
    if (n == 0) return Str();
    if (unit == 1) return Str::latin1(d, size_t(n));  // CPython's 1-byte kind: one copy
    return wide(unit, d, size_t(n));
  }
  // 2- and 4-byte units (kept out of line: rare, and every library converts str).
  __attribute__((noinline)) static Str wide(int unit, const void* d, size_t n) {
    if (unit == 4) return Str(static_cast<const char32_t*>(d), n);  // C++ hosts: narrowed when it fits
    Str s = Str::uninit(n);
    char32_t* out = s.mutable_data();
    const uint16_t* p = static_cast<const uint16_t*>(d);
    for (size_t i = 0; i < n; ++i) out[i] = p[i];
    s.set_width(2);  // CPython's kinds are exact: a 2-byte string has a code point > 0xFF
    return s;
  }
  // Kind-1 strings go as Latin-1 bytes (CPython copies them as they are); kind-4
  // ones as code points, the host picking the narrowest storage as it copies.
  static mx_host_obj to_host(const mx_host_api* h, const Str& s) {
    if (s.narrow()) return h->new_str(1, s.data8(), int64_t(s.size()));
    return h->new_str(4, s.data(), int64_t(s.size()));
  }
};
template <>
struct Conv<Bytes> {
  static std::string name() { return "bytes"; }
  static Bytes from_host(const mx_host_api* h, mx_host_obj o) {
    if (h->kind(o) != MX_HK_BYTES) conv_fail(h, o, "bytes");
    int64_t n;
    const char* d = h->bytes_data(o, &n);
    return Bytes(d, size_t(n));
  }
  static mx_host_obj to_host(const mx_host_api* h, const Bytes& s) {
    return h->new_bytes(s.data(), int64_t(s.size()));
  }
};

// Releases a host reference when it goes out of scope (exceptions included).
struct HostRef {
  const mx_host_api* h;
  mx_host_obj o;
  ~HostRef() { if (o) h->decref(o); }
};

// A host container being filled by to_host: released if converting an item
// throws (a value nested too deep), so nothing is leaked. Hosts free a list or
// tuple with unset items (CPython's hold NULL, the C++ host's None).
struct HostBuild {
  const mx_host_api* h;
  mx_host_obj o;
  ~HostBuild() { if (o) h->decref(o); }
  mx_host_obj done() {
    mx_host_obj r = o;
    o = nullptr;
    return r;
  }
};

template <class T>
struct Conv<List<T>> {
  static std::string name() { return "List[" + Conv<T>::name() + "]"; }
  static List<T> from_host(const mx_host_api* h, mx_host_obj o) {
    int k = h->kind(o);
    if (k != MX_HK_LIST && k != MX_HK_TUPLE) conv_fail(h, o, "list");
    int64_t n = h->seq_len(o);
    List<T> out;
    out.reserve(n);
    for (int64_t i = 0; i < n;) {
      if constexpr (std::is_same_v<T, Str> || std::is_same_v<T, int64_t>) {  // a block at a time
        int64_t k = bulk_in(h, o, i, n - i, out);
        i += k;
        if (i == n) break;
      }
      try {  // one item: any item of a general list, or one the block left out
        out.push_back(Conv<T>::from_host(h, h->seq_item(o, i)));
      } catch (ConvError&) {
        conv_rethrow_at(i);
      }
      ++i;
    }
    out.object()->from_tuple = k == MX_HK_TUPLE;  // changing it raises as for the tuple (builtins.h)
    return out;
  }
  static mx_host_obj to_host(const mx_host_api* h, const List<T>& v) {
    int64_t n = v.size();
    if constexpr (std::is_same_v<T, Str> || std::is_same_v<T, int64_t>) return bulk_out(h, v);
    mx_host_obj l = h->new_list(n);
    HostBuild building{h, l};
    for (int64_t i = 0; i < n; ++i) h->list_set(l, i, Conv<T>::to_host(h, v[i]));
    return building.done();
  }

 private:
  static constexpr int64_t kBlock = 256;
  // Converts the items from i on, a block at a time, while the host reports them
  // all of the fast kind; returns how many it converted.
  static int64_t bulk_in(const mx_host_api* h, mx_host_obj o, int64_t i, int64_t left, List<T>& out) {
    int64_t done = 0;
    while (left > 0) {
      int64_t m = left < kBlock ? left : kBlock;
      int64_t k;
      if constexpr (std::is_same_v<T, Str>) {
        mx_text buf[kBlock];
        k = h->str_items(o, i + done, m, buf);
        for (int64_t j = 0; j < k; ++j) out.push_back(Conv<Str>::from_text(buf[j].unit, buf[j].data, buf[j].len));
      } else if constexpr (std::is_same_v<T, int64_t>) {
        int64_t buf[kBlock];
        k = h->int_items(o, i + done, m, buf);
        for (int64_t j = 0; j < k; ++j) out.push_back(buf[j]);
      } else {  // other item types never come here (from_host), but prebuilt.h instantiates every member
        (void)h, (void)o, (void)i, (void)out;
        return 0;
      }
      done += k;
      left -= k;
      if (k < m) break;
    }
    return done;
  }
  static mx_host_obj bulk_out(const mx_host_api* h, const List<T>& v) {
    int64_t n = v.size();
    if constexpr (std::is_same_v<T, int64_t>) {
      static_assert(std::is_same_v<std::remove_cv_t<std::remove_reference_t<decltype(v.vec()[0])>>, int64_t>);
      mx_host_obj r = h->new_int_list(v.vec().data(), n);
      if (!r) throw std::bad_alloc();
      return r;
    } else if constexpr (std::is_same_v<T, Str>) {
      // Kind-1 and inline strings go as their bytes (an inline one's are in its
      // word, inside the list), others as code points.
      std::vector<mx_text> texts(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        const Str& s = v[i];
        if (s.narrow()) texts[i] = mx_text{s.data8(), int64_t(s.size()), 1, 0};
        else texts[i] = mx_text{s.data(), int64_t(s.size()), 4, 0};
      }
      mx_host_obj r = h->new_str_list(texts.data(), n);
      if (!r) throw std::bad_alloc();
      return r;
    } else {  // other item types never come here (to_host)
      (void)h, (void)n;
      return nullptr;
    }
  }
};

// An entry point's result, converted for the host as the last use of r. A list
// nobody else holds gives each item back right after converting it, while it is
// still in cache, instead of in a second pass over cold memory when r dies.
//
// A value going back that contains itself (`d["x"] = d` on an Any dict) raises
// ValueError, as an argument does: Python would get the cycle, but values cross
// the boundary as copies (nest.h), and a copy of a cycle has no end.
template <class F>
inline mx_host_obj to_caller(const char* what, F&& convert) {
  try {
    return convert();
  } catch (const NestError& e) {
    if (!e.cycle()) throw;
    throw NestError(ErrKind::ValueError, std::string(what) + " contains itself (a reference cycle): compiled "
                                                             "code gives back only values without cycles");
  }
}
template <class T>
mx_host_obj result_to_host(const mx_host_api* h, T& r) {
  return to_caller("the result", [&] { return Conv<T>::to_host(h, r); });
}
template <class T>
mx_host_obj result_to_host(const mx_host_api* h, List<T>& r) {
  if (!r.object() || r.object()->refcount() != 1)
    return to_caller("the result", [&] { return Conv<List<T>>::to_host(h, r); });
  auto& items = r.vec();
  int64_t n = int64_t(items.size());
  mx_host_obj l = h->new_list(n);
  HostBuild building{h, l};
  // Last to first, as ~ListObj releases (alloc.h: the blocks return in their order).
  for (int64_t i = n - 1; i >= 0; --i) {
    h->list_set(l, i, to_caller("the result", [&] { return Conv<T>::to_host(h, r[i]); }));
    items[size_t(i)] = typename Slot<T>::type();
  }
  return building.done();
}

template <class T>
struct Conv<VTuple<T>> {
  static std::string name() { return "Tuple[" + Conv<T>::name() + ", ...]"; }
  static VTuple<T> from_host(const mx_host_api* h, mx_host_obj o) {
    int k = h->kind(o);
    if (k != MX_HK_TUPLE && k != MX_HK_LIST) conv_fail(h, o, "tuple");
    return VTuple<T>::adopt(Conv<List<T>>::from_host(h, o));
  }
  static mx_host_obj to_host(const mx_host_api* h, const VTuple<T>& v) {
    int64_t n = v.size();
    mx_host_obj r = h->new_tuple(n);
    HostBuild building{h, r};
    for (int64_t i = 0; i < n; ++i) h->tuple_set(r, i, Conv<T>::to_host(h, v[i]));
    return building.done();
  }
};

template <class K, class V>
struct Conv<Dict<K, V>> {
  static std::string name() { return "Dict[" + Conv<K>::name() + ", " + Conv<V>::name() + "]"; }
  static Dict<K, V> from_host(const mx_host_api* h, mx_host_obj o) {
    if (h->kind(o) != MX_HK_DICT) conv_fail(h, o, "dict");
    Dict<K, V> out;
    out.table().reserve(h->seq_len(o));  // sized once, not regrown as the entries come
    int64_t pos = 0;
    mx_host_obj k, v;
    while (h->dict_next(o, &pos, &k, &v)) {
      K key;
      try {
        key = Conv<K>::from_host(h, k);
      } catch (ConvError& e) {
        e.path = " (a key)" + e.path;
        throw;
      }
      try {
        out.set(key, Conv<V>::from_host(h, v));
      } catch (ConvError& e) {
        e.path = "[" + utf8_encode(repr(key)) + "]" + e.path;
        throw;
      }
    }
    return out;
  }
  static mx_host_obj to_host(const mx_host_api* h, const Dict<K, V>& d) {
    mx_host_obj r = h->new_dict();
    HostBuild building{h, r};
    for (auto& e : d.table().entries())
      if (e.live) {
        HostRef key{h, Conv<K>::to_host(h, e.key)};
        mx_host_obj value = Conv<V>::to_host(h, e.value);
        h->dict_set(r, key.o, value);  // takes both
        key.o = nullptr;
      }
    return building.done();
  }
};

template <class T>
struct Conv<Set<T>> {
  static std::string name() { return "Set[" + Conv<T>::name() + "]"; }
  static Set<T> from_host(const mx_host_api* h, mx_host_obj o) {
    int k = h->kind(o);
    if (k != MX_HK_SET) conv_fail(h, o, "set");
    Set<T> out;
    HostRef it{h, h->iter(o)};
    while (mx_host_obj x = h->iter_next(it.o)) {
      HostRef item{h, x};
      out.add(Conv<T>::from_host(h, x));
    }
    out.object()->frozen = h->abi_version >= 7 && h->is_frozenset && h->is_frozenset(o);
    return out;
  }
  static mx_host_obj to_host(const mx_host_api* h, const Set<T>& s) {
    mx_host_obj r = h->new_set();
    HostBuild building{h, r};
    for (auto& e : s.table().entries())
      if (e.live) h->set_add(r, Conv<T>::to_host(h, e.key));
    r = building.done();
    return s.object()->frozen && h->abi_version >= 7 && h->freeze_set && r ? h->freeze_set(r) : r;
  }
};

template <class... T>
struct Conv<Tuple<T...>> {
  static std::string name() {
    std::string s = "Tuple[";
    size_t i = 0;
    ((s += (i++ ? ", " : "") + Conv<T>::name()), ...);
    return s + "]";
  }
  // Item i, naming its position in a ConvError like lists do: "[1]".
  template <class U>
  static U item(const mx_host_api* h, mx_host_obj o, size_t i) {
    try {
      return Conv<U>::from_host(h, h->seq_item(o, int64_t(i)));
    } catch (ConvError&) {
      conv_rethrow_at(int64_t(i));
    }
  }
  template <size_t... I>
  static Tuple<T...> from_impl(const mx_host_api* h, mx_host_obj o, std::index_sequence<I...>) {
    return Tuple<T...>{item<T>(h, o, I)...};  // braces: items convert left to right
  }
  static Tuple<T...> from_host(const mx_host_api* h, mx_host_obj o) {
    int k = h->kind(o);
    if ((k != MX_HK_TUPLE && k != MX_HK_LIST) || h->seq_len(o) != int64_t(sizeof...(T)))
      throw ConvError{"", "a tuple of " + std::to_string(sizeof...(T)) + " items", h->type_name(o)};
    return from_impl(h, o, std::index_sequence_for<T...>{});
  }
  static mx_host_obj to_host(const mx_host_api* h, const Tuple<T...>& t) {
    mx_host_obj r = h->new_tuple(int64_t(sizeof...(T)));
    int64_t i = 0;
    std::apply([&](const auto&... x) { ((h->tuple_set(r, i++, Conv<std::decay_t<decltype(x)>>::to_host(h, x))), ...); },
               static_cast<const std::tuple<T...>&>(t));
    return r;
  }
};

// ---- error transport ---------------------------------------------------------

MX_RT char* dup_cstr(const std::string& s);
MX_RT void fill_error(mx_error* out, const Error& e);
MX_RT void fill_error(mx_error* out, const CodecError& e);
MX_RT void fill_error(mx_error* out, ErrKind kind, const std::string& msg);
// Fills err from the exception being handled (any C++ exception); returns -1.
MX_RT int fill_error_from_current(mx_error* err) noexcept;
// Rethrows the exception being handled while converting argument `param` of `fn`
// (or attribute `attr` of class `cls`), as the TypeError (or other error) that
// names it; `type_name` gives the expected type's Python spelling.
[[noreturn]] MX_RT void rethrow_arg_error(const char* fn, const char* param, std::string (*type_name)());
[[noreturn]] MX_RT void rethrow_attr_error(const char* cls, const char* attr, std::string (*type_name)());

// Runs an entry point body, turning every C++ exception into an mx_error so
// nothing unwinds through the host.
template <class F>
inline int guarded(mx_error* err, F&& body) {
  EntryScope scope;
  try {
    body();
    return 0;
  } catch (...) {
    return fill_error_from_current(err);
  }
}

// Converts argument i, naming the parameter in the TypeError.
template <class T>
T arg_from_host(const mx_host_api* h, mx_host_obj o, const char* fn, const char* param) {
  try {
    return Conv<T>::from_host(h, o);
  } catch (...) {
    rethrow_arg_error(fn, param, &Conv<T>::name);
  }
}

// Converts a value set on attribute `attr` of an instance of class `cls` from
// the host, naming the attribute in the error.
template <class T>
T attr_from_host(const mx_host_api* h, mx_host_obj o, const char* cls, const char* attr) {
  try {
    return Conv<T>::from_host(h, o);
  } catch (...) {
    rethrow_attr_error(cls, attr, &Conv<T>::name);
  }
}

#if MX_RT_DEFINE
MX_RT char* dup_cstr(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  std::memcpy(p, s.data(), s.size() + 1);
  return p;
}

MX_RT void fill_error(mx_error* out, const Error& e) {
  out->kind = int32_t(e.kind());
  out->message = dup_cstr(e.message());
  out->file = e.has_loc() ? dup_cstr(e.file()) : nullptr;
  out->func = e.has_loc() ? dup_cstr(e.func()) : nullptr;
  out->line = e.line();
  out->col = e.col();
}

MX_RT void fill_error(mx_error* out, const CodecError& e) {
  fill_error(out, static_cast<const Error&>(e));
  out->codec_encoding = dup_cstr(e.encoding());
  out->codec_object = static_cast<char*>(std::malloc(e.object().size() + 1));
  std::memcpy(out->codec_object, e.object().data(), e.object().size());
  out->codec_object_len = int64_t(e.object().size());
  out->codec_start = e.start();
  out->codec_end = e.end();
  out->codec_reason = dup_cstr(e.reason());
}

MX_RT void fill_error(mx_error* out, ErrKind kind, const std::string& msg) {
  fill_error(out, Error(kind, msg));
}

MX_RT int fill_error_from_current(mx_error* err) noexcept {
  try {
    try {
      throw;
    } catch (const CodecError& e) {
      fill_error(err, e);
    } catch (const Error& e) {
      fill_error(err, e);
    } catch (const ConvError& e) {
      fill_error(err, e.kind, e.text());
    } catch (const std::bad_alloc&) {
      fill_error(err, ErrKind::MemoryError, "out of memory");
    } catch (const std::length_error&) {
      // A size past what a std container can hold: Python's MemoryError.
      fill_error(err, ErrKind::MemoryError, "out of memory: result too large");
    } catch (const std::exception& e) {
      fill_error(err, ErrKind::RuntimeError, e.what());
    } catch (...) {
      fill_error(err, ErrKind::RuntimeError, "unknown C++ exception");
    }
  } catch (...) {  // out of memory while copying the message
    err->kind = int32_t(ErrKind::MemoryError);
  }
  return -1;
}

MX_RT void rethrow_arg_error(const char* fn, const char* param, std::string (*type_name)()) {
  try {
    throw;
  } catch (const NestError& e) {
    std::string arg = std::string(fn) + "() argument '" + param + "'";
    if (e.cycle())
      throw NestError(ErrKind::ValueError, arg + " contains itself (a reference cycle): compiled code takes "
                                                 "only values without cycles");
    throw NestError(ErrKind::RecursionError, arg + ": " + e.message());
  } catch (ConvError& e) {
    std::string where = e.path.empty() ? "" : " at " + std::string(param) + e.path;
    if (e.kind != ErrKind::TypeError)  // f() argument 'n': Python int too large to convert to a 64-bit int
      throw Error(e.kind, std::string(fn) + "() argument '" + param + "'" + where + ": " + e.message);
    throw Error(ErrKind::TypeError, std::string(fn) + "() argument '" + param + "' must be " + type_name() +
                                        ", got " + e.got + where);
  }
}

MX_RT void rethrow_attr_error(const char* cls, const char* attr, std::string (*type_name)()) {
  try {
    throw;
  } catch (const NestError& e) {
    std::string what = std::string("attribute '") + attr + "' of '" + cls + "' objects";
    if (e.cycle())
      throw NestError(ErrKind::ValueError, what + ": the value contains itself (a reference cycle)");
    throw NestError(ErrKind::RecursionError, what + ": " + e.message());
  } catch (ConvError& e) {
    std::string what = std::string("attribute '") + attr + "' of '" + cls + "' objects";
    std::string where = e.path.empty() ? "" : " at " + std::string(attr) + e.path;
    if (e.kind != ErrKind::TypeError) throw Error(e.kind, what + where + ": " + e.message);
    throw Error(ErrKind::TypeError, what + " must be " + type_name() + ", got " + e.got + where);
  }
}
#endif

// ---- calls from the host into parameters it cannot tell apart -----------------
// The host fills an entry point's slots by position or by name. Keyword-only
// parameters (and classmethods, whose `cls` CPython counts) sit after `guards`
// unnamed slots: a positional argument landing there is one too many, reported
// with CPython's message. npos: positional parameters; least: those without a
// default; self_: 1 where CPython counts self or cls.
MX_RT void check_positional(const mx_host_obj* args, int64_t npos, int64_t least, int64_t guards,
                            int64_t nkwonly, int64_t self_, const char* name);

// CPython's TypeError for required keyword-only parameters left out; `names`
// holds each one's name, or null where it was given.
MX_RT void check_kwonly_given(const char* name, std::initializer_list<const char*> names);

#if MX_RT_DEFINE
MX_RT void check_positional(const mx_host_obj* args, int64_t npos, int64_t least, int64_t guards,
                             int64_t nkwonly, int64_t self_, const char* name) {
  if (guards == 0 || !args[npos]) return;
  int64_t given = npos;
  while (given < npos + guards && args[given]) ++given;
  int64_t kw = 0;
  for (int64_t i = npos + guards; i < npos + guards + nkwonly; ++i) kw += args[i] ? 1 : 0;
  int64_t takes = npos + self_, atleast = least + self_;
  given += self_;
  std::string sig = atleast < takes ? "from " + std::to_string(atleast) + " to " + std::to_string(takes)
                                    : std::to_string(takes);
  bool plural = atleast < takes || takes != 1;
  std::string kwsig;
  if (kw)
    kwsig = std::string(" positional argument") + (given != 1 ? "s" : "") + " (and " + std::to_string(kw) +
            " keyword-only argument" + (kw != 1 ? "s" : "") + ")";
  throw Error(ErrKind::TypeError, std::string(name) + "() takes " + sig + " positional argument" +
                                      (plural ? "s" : "") + " but " + std::to_string(given) + kwsig + " " +
                                      (given == 1 && !kw ? "was" : "were") + " given");
}

MX_RT void check_kwonly_given(const char* name, std::initializer_list<const char*> names) {
  std::vector<std::string> missing;
  for (const char* n : names)
    if (n) missing.push_back("'" + std::string(n) + "'");
  if (missing.empty()) return;
  std::string list;
  for (size_t i = 0; i < missing.size(); ++i) {
    if (i > 0) list += missing.size() == 2 ? " and " : (i + 1 == missing.size() ? ", and " : ", ");
    list += missing[i];
  }
  throw Error(ErrKind::TypeError, std::string(name) + "() missing " + std::to_string(missing.size()) +
                                      " required keyword-only argument" + (missing.size() == 1 ? "" : "s") +
                                      ": " + list);
}
#endif

// Holds the GIL released for the lifetime of the scope.
// The library's set_host(): where its loops look for an interrupt.
MX_INLINE void bind_interrupts(const mx_host_api* h) {
  if (h->abi_version >= 6 && h->interrupt_word && h->interrupt_take) {
    detail::g_interrupt_word = h->interrupt_word;
    detail::g_interrupt_take = h->interrupt_take;
  }
}

// Holds `lock` for a call from host h (lock.h): if another thread has it, waits
// with the host's GIL released, so that the holder can call back into Python.
class HostLock {
 public:
  HostLock(const mx_host_api* h, RecursiveLock& lock) : lock_(lock) {
    if (lock.held_shared_by_me())  // a read-only method's callback into Python wants to change the object
      throw Error(ErrKind::RuntimeError, "a method that only reads this compiled object called back into the "
                                         "host, which called one that changes the object: not supported");
    if (!lock.try_lock()) {
      void* state = h->nogil_begin();
      lock.lock();
      h->nogil_end(state);
    }
  }
  ~HostLock() { lock_.unlock(); }
  HostLock(const HostLock&) = delete;
  HostLock& operator=(const HostLock&) = delete;

 private:
  RecursiveLock& lock_;
};

// HostLock's shared form, for a method that only reads its instance
// (compiler/readonly.py): many threads run such calls at once.
class HostLockShared {
 public:
  HostLockShared(const mx_host_api* h, RecursiveLock& lock) : lock_(lock) {
    if (!lock.try_lock_shared()) {
      void* state = h->nogil_begin();
      lock.lock_shared();
      h->nogil_end(state);
    }
  }
  ~HostLockShared() { lock_.unlock_shared(); }
  HostLockShared(const HostLockShared&) = delete;
  HostLockShared& operator=(const HostLockShared&) = delete;

 private:
  RecursiveLock& lock_;
};

struct NoGil {
  const mx_host_api* h;
  void* state;
  explicit NoGil(const mx_host_api* host) : h(host), state(host->nogil_begin()) {}
  ~NoGil() { h->nogil_end(state); }
};

// After a call: the caller's container `dst` takes the contents of the
// argument `v` the compiled function may have changed in place (codegen emits it
// for the parameters compiler/writeback.py finds).
template <class T>
inline void write_back(const mx_host_api* h, mx_host_obj dst, const T& v) {
  if (!dst) return;  // a default value, not the caller's object
  mx_host_obj src = to_caller("an argument changed in place", [&] { return Conv<T>::to_host(h, v); });
  if (!src) return;
  h->assign_contents(dst, src);
  h->decref(src);
}

}  // namespace mx
