// The host ABI (abi.h) implemented over mx::Any, so that a C++ program with no
// Python can load compiled libraries and call their functions and classes:
//
//   mx::CompiledLibrary lib("/path/lib.so");
//   mx::Any r = lib.call("fib", {mx::Any(int64_t(20))});
//   mx::Any t = lib.construct("Text2Ids", {});
//   mx::Any ids = lib.call_method(t, "__call__", {mx::Any(words)});
//
// ---- handles -----------------------------------------------------------------
//
// Every handle this host gives out or receives is an `mx::Any*` cast to void*.
// Two kinds of handle exist; the read callbacks (kind, as_int, str_data,
// seq_item, ...) treat both alike, as a `const Any*`:
//
//  * Owned handles (new references: new_*, iter, iter_next, handle_of) point to
//    an AnyBox, a heap block deriving from Any. Each box has exactly one owner
//    (the ABI has no incref), so decref deletes it; *_set steal it by copying
//    its value into the container and deleting it.
//  * Borrowed handles (seq_item, dict_next, and the call arguments built by
//    CompiledLibrary) point straight at an Any stored in the container: the
//    list/tuple's item slot, the dict entry's key or value, the caller's
//    argument vector. They cost no allocation and stay valid while the
//    container lives and is not mutated, like CPython's PyList_GET_ITEM.
//
// Nothing owned by a borrowed handle needs freeing, and a box never refers to
// memory of another box, so no handle can dangle while the ABI's rules hold.
//
// Strings: str_data points into the string object (no copy): unit 1 for a
// kind-1 (Latin-1) string, unit 4 for a kind-4 one; new_str keeps 1-byte units
// as they are, widens 2-byte ones and narrows 4-byte ones when they fit.
//
// Class instances: an Any holding a Ref<Object> (TypeTag::Instance). Any has no
// room for the class, so new_object records, per dynamic C++ type of the
// instance (its std::type_info, one per class per library), the class
// descriptor that made it; object_ptr looks it up and accepts the instance for
// any class with the same layout_id (the same class compiled into another
// library), like the Python binding does. Every instance reaches a host through
// new_object, so instances nested in containers are recognized as well.
//
// Libraries stay mapped once loaded (no dlclose): instances may outlive the
// CompiledLibrary and their vtables live in the library. Origin file names are
// interned for the life of the process for the same reason.
//
// Not done here (the Python binding has it): the SIGSEGV guard that turns C
// stack exhaustion in allocation-free recursive code (MX_FN_MAY_RECURSE) into
// RecursionError; keyword arguments.
#pragma once
#include "linkage.h"
#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "runtime.h"
#include "dl.h"

namespace mx {

// An owned host handle: an Any on the heap (see above). iter_pos >= 0 marks an
// iterator over the container in `value` (set, list, tuple or dict keys).
struct AnyBox : Any {
  explicit AnyBox(Any v) : Any(std::move(v)) {}
  int64_t iter_pos = -1;
};

namespace host_detail {

MX_INLINE const Any& A(mx_host_obj h) { return *static_cast<const Any*>(h); }
MX_INLINE mx_host_obj box(Any v) { return static_cast<Any*>(new AnyBox(std::move(v))); }
MX_INLINE mx_host_obj borrowed(const Any& a) { return const_cast<Any*>(&a); }
MX_INLINE AnyBox* owned(mx_host_obj h) { return static_cast<AnyBox*>(static_cast<Any*>(h)); }

MX_INLINE List<Any>::storage& items_of(const Any& a) { return static_cast<ListObj<Any>*>(a.obj())->items; }
MX_INLINE OrderedTable<Any, Any>& dict_table(const Any& a) { return static_cast<DictObj<Any, Any>*>(a.obj())->table; }
MX_INLINE OrderedTable<Any, Unit>& set_table(const Any& a) { return static_cast<SetObj<Any>*>(a.obj())->table; }

// Class descriptor per dynamic type of compiled instances (see the header comment).
struct ClassRegistry {
  std::mutex mu;
  std::unordered_map<const std::type_info*, const mx_class_desc*> by_type;
};
MX_INLINE ClassRegistry& class_registry() {
  static ClassRegistry r;
  return r;
}
MX_INLINE void register_class(const Object* obj, const mx_class_desc* cls) {
  ClassRegistry& r = class_registry();
  const std::type_info* t = &typeid(*obj);
  std::lock_guard<std::mutex> lock(r.mu);
  r.by_type.emplace(t, cls);
}

MX_INLINE bool same_class(const mx_class_desc* a, const mx_class_desc* b) {
  return a == b || (a && b && a->layout_id && b->layout_id && std::strcmp(a->layout_id, b->layout_id) == 0);
}

// ---- callbacks ---------------------------------------------------------------

MX_INLINE int h_kind(mx_host_obj h) {
  switch (A(h).tag()) {
    case TypeTag::None: return MX_HK_NONE;
    case TypeTag::Bool: return MX_HK_BOOL;
    case TypeTag::Int: return MX_HK_INT;
    case TypeTag::Float: return MX_HK_FLOAT;
    case TypeTag::Str: return MX_HK_STR;
    case TypeTag::Bytes: return MX_HK_BYTES;
    case TypeTag::List: return MX_HK_LIST;
    case TypeTag::Tuple: return MX_HK_TUPLE;
    case TypeTag::Dict: return MX_HK_DICT;
    case TypeTag::Set: return MX_HK_SET;
    case TypeTag::Instance: return MX_HK_OBJECT;
    default: return MX_HK_OTHER;
  }
}
MX_INLINE const char* h_type_name(mx_host_obj h) {
  const Any& a = A(h);
  // A tuple is a list object with the Tuple tag; the object would say "list".
  return a.tag() == TypeTag::Tuple ? "tuple" : a.type_name();
}
MX_INLINE int h_as_int(mx_host_obj h, int64_t* out) {
  const Any& a = A(h);
  if (a.tag() == TypeTag::Int) { *out = a.i(); return 0; }
  if (a.tag() == TypeTag::Bool) { *out = a.b(); return 0; }
  *out = 0;
  return 1;
}
MX_INLINE double h_as_float(mx_host_obj h) {
  const Any& a = A(h);
  switch (a.tag()) {
    case TypeTag::Float: return a.f();
    case TypeTag::Int: return double(a.i());
    case TypeTag::Bool: return a.b() ? 1.0 : 0.0;
    default: return std::nan("");
  }
}
MX_INLINE const void* h_str_data(mx_host_obj h, int* unit, int64_t* len) {
  auto* s = static_cast<const StrObj*>(A(h).obj());
  *len = s ? int64_t(s->size()) : 0;
  if (!s) { *unit = 1; return ""; }
  *unit = s->kind();
  return s->kind() == 1 ? static_cast<const void*>(s->data8()) : static_cast<const void*>(s->data());
}
MX_INLINE const char* h_bytes_data(mx_host_obj h, int64_t* len) {
  auto* b = static_cast<const BytesObj*>(A(h).obj());
  *len = b ? int64_t(b->size()) : 0;
  return b ? b->data() : "";
}
MX_INLINE int64_t h_seq_len(mx_host_obj h) {
  const Any& a = A(h);
  switch (a.tag()) {
    case TypeTag::List: case TypeTag::Tuple: return int64_t(items_of(a).size());
    case TypeTag::Dict: return dict_table(a).size();
    case TypeTag::Set: return set_table(a).size();
    default: return 0;
  }
}
MX_INLINE mx_host_obj h_seq_item(mx_host_obj h, int64_t i) {
  return borrowed(items_of(A(h))[size_t(i)]);
}
MX_INLINE int h_dict_next(mx_host_obj h, int64_t* pos, mx_host_obj* k, mx_host_obj* v) {
  auto& entries = dict_table(A(h)).entries();
  for (size_t i = size_t(*pos); i < entries.size(); ++i) {
    if (!entries[i].live) continue;
    *pos = int64_t(i + 1);
    *k = borrowed(entries[i].key);
    *v = borrowed(entries[i].value);
    return 1;
  }
  *pos = int64_t(entries.size());
  return 0;
}
MX_INLINE mx_host_obj h_iter(mx_host_obj h) {
  if (!h) return nullptr;
  const Any& a = A(h);
  switch (a.tag()) {
    case TypeTag::Set: case TypeTag::List: case TypeTag::Tuple: case TypeTag::Dict: break;
    default: return nullptr;
  }
  auto* it = new AnyBox(a);
  it->iter_pos = 0;
  return static_cast<Any*>(it);
}
// The next live key of a set or dict table at or after p (an iterator step).
template <class Entries>
inline mx_host_obj next_key(AnyBox* it, const Entries& entries, size_t p) {
  for (; p < entries.size(); ++p)
    if (entries[p].live) {
      it->iter_pos = int64_t(p + 1);
      return box(entries[p].key);
    }
  it->iter_pos = int64_t(p);
  return nullptr;
}
MX_INLINE mx_host_obj h_iter_next(mx_host_obj h) {
  if (!h) return nullptr;
  AnyBox* it = owned(h);
  if (it->iter_pos < 0) return nullptr;
  size_t p = size_t(it->iter_pos);
  switch (it->tag()) {
    case TypeTag::List: case TypeTag::Tuple: {
      auto& items = items_of(*it);
      if (p >= items.size()) return nullptr;
      it->iter_pos = int64_t(p + 1);
      return box(items[p]);
    }
    case TypeTag::Set: return next_key(it, set_table(*it).entries(), p);
    case TypeTag::Dict: return next_key(it, dict_table(*it).entries(), p);
    default: return nullptr;
  }
}
MX_INLINE const mx_class_desc* class_of_object(const Object* obj) {
  if (!obj) return nullptr;
  ClassRegistry& r = class_registry();
  const std::type_info* t = &typeid(*obj);
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.by_type.find(t);
  return it == r.by_type.end() ? nullptr : it->second;
}
MX_INLINE Object* h_object_ptr(mx_host_obj h, const mx_class_desc* cls) {
  const Any& a = A(h);
  if (a.tag() != TypeTag::Instance || !a.obj()) return nullptr;
  return same_class(class_of_object(a.obj()), cls) ? a.obj() : nullptr;
}

MX_INLINE mx_host_obj h_new_none() { return box(Any()); }
MX_INLINE mx_host_obj h_new_bool(int v) { return box(Any(v != 0)); }
MX_INLINE mx_host_obj h_new_int(int64_t v) { return box(Any(v)); }
MX_INLINE mx_host_obj h_new_float(double v) { return box(Any(v)); }
MX_INLINE mx_host_obj h_new_str(int unit, const void* data, int64_t len) {
  if (len <= 0) return box(Any(Str()));
  if (unit == 1) return box(Any(Str::latin1(data, size_t(len))));
  if (unit == 4) return box(Any(Str(static_cast<const char32_t*>(data), size_t(len))));
  Str s = Str::uninit(size_t(len));
  char32_t* out = s.mutable_data();
  const uint16_t* p = static_cast<const uint16_t*>(data);
  for (int64_t i = 0; i < len; ++i) out[i] = p[i];
  s.finish();  // the real width, not the unit
  return box(Any(s));
}
MX_INLINE mx_host_obj h_new_bytes(const char* data, int64_t len) {
  return box(Any(Bytes(data, size_t(len < 0 ? 0 : len))));
}
MX_INLINE mx_host_obj h_new_list(int64_t n) {
  List<Any> l;
  l.vec().resize(size_t(n < 0 ? 0 : n));  // None until set
  return box(Any(l));
}
MX_INLINE void h_list_set(mx_host_obj l, int64_t i, mx_host_obj x) {
  AnyBox* item = owned(x);
  items_of(A(l))[size_t(i)] = std::move(static_cast<Any&>(*item));
  delete item;
}
MX_INLINE mx_host_obj h_new_tuple(int64_t n) {
  List<Any> l;
  l.vec().resize(size_t(n < 0 ? 0 : n));
  return box(Any::tuple_of(l));
}
MX_INLINE void h_tuple_set(mx_host_obj t, int64_t i, mx_host_obj x) { h_list_set(t, i, x); }
MX_INLINE mx_host_obj h_new_dict() { return box(Any(Dict<Any, Any>())); }
MX_INLINE void h_dict_set(mx_host_obj d, mx_host_obj k, mx_host_obj v) {
  AnyBox* key = owned(k);
  AnyBox* value = owned(v);
  try {
    dict_table(A(d)).insert(*key, std::move(static_cast<Any&>(*value)));
  } catch (...) {
    // Unhashable key: compiled code only builds dicts with hashable keys, and
    // nothing may unwind into the library from here.
  }
  delete key;
  delete value;
}
MX_INLINE mx_host_obj h_new_set() { return box(Any(Set<Any>())); }
MX_INLINE void h_set_add(mx_host_obj s, mx_host_obj x) {
  AnyBox* item = owned(x);
  try {
    set_table(A(s)).insert(*item, Unit{});
  } catch (...) {
  }
  delete item;
}
MX_INLINE mx_host_obj h_new_object(const mx_class_desc* cls, Object* obj) {
  if (!obj) return box(Any());
  register_class(obj, cls);
  return box(Any(Ref<Object>::adopt(obj)));  // the reference handed over
}
MX_INLINE void h_decref(mx_host_obj h) {
  if (h) delete owned(h);
}
MX_INLINE void* h_nogil_begin() { return nullptr; }
MX_INLINE void h_nogil_end(void*) {}
MX_INLINE void default_write_stdout(const char* s, size_t n) {
  std::fwrite(s, 1, n, stdout);
  std::fflush(stdout);
}
// Where print() in compiled code writes; an embedding host (the Python binding)
// points it at its own stdout.
inline void (*g_stdout_writer)(const char*, size_t) = &default_write_stdout;
MX_INLINE void h_write_stdout(const char* s, size_t n) { g_stdout_writer(s, n); }
// Arrays are Any instances holding an NDArrayObj (ndarray.h).
MX_INLINE DLManagedTensor* h_dlpack_in(mx_host_obj h) {
  const Any& a = A(h);
  if (a.tag() != TypeTag::Instance || !is_ndarray_object(a.obj())) return nullptr;
  return static_cast<NDArrayObj*>(a.obj())->to_dlpack();
}
MX_INLINE void h_assign_contents(mx_host_obj dst, mx_host_obj src) {
  const Any& d = A(dst);
  const Any& s = A(src);
  if (d.tag() != s.tag() || !d.obj() || !s.obj()) return;
  switch (d.tag()) {
    case TypeTag::List: items_of(d) = items_of(s); break;
    case TypeTag::Dict: dict_table(d) = dict_table(s); break;
    case TypeTag::Set: set_table(d) = set_table(s); break;
    default: break;
  }
}
MX_INLINE int h_is_frozenset(mx_host_obj h) {
  const Any& a = A(h);
  return a.tag() == TypeTag::Set && a.obj() && static_cast<SetObj<Any>*>(a.obj())->frozen;
}
MX_INLINE mx_host_obj h_freeze_set(mx_host_obj h) {
  const Any& a = A(h);
  if (a.tag() == TypeTag::Set && a.obj()) static_cast<SetObj<Any>*>(a.obj())->frozen = true;
  return h;
}
MX_INLINE mx_host_obj h_dlpack_out(DLManagedTensor* t) {
  return box(Any(NDArray::from_dlpack(t).ref()));
}

// ABI 8's bulk callbacks, over the per-item ones (abi.h).
MX_INLINE int64_t h_str_items(mx_host_obj h, int64_t start, int64_t n, mx_text* out) {
  for (int64_t j = 0; j < n; ++j) {
    mx_host_obj x = h_seq_item(h, start + j);
    if (h_kind(x) != MX_HK_STR) return j;
    int unit = 1;
    out[j].data = h_str_data(x, &unit, &out[j].len);
    out[j].unit = unit;
  }
  return n;
}
MX_INLINE int64_t h_int_items(mx_host_obj h, int64_t start, int64_t n, int64_t* out) {
  for (int64_t j = 0; j < n; ++j) {
    mx_host_obj x = h_seq_item(h, start + j);
    if (h_kind(x) != MX_HK_INT || h_as_int(x, &out[j])) return j;
  }
  return n;
}
MX_INLINE mx_host_obj h_new_int_list(const int64_t* v, int64_t n) {
  mx_host_obj l = h_new_list(n);
  for (int64_t i = 0; i < n; ++i) h_list_set(l, i, h_new_int(v[i]));
  return l;
}
MX_INLINE mx_host_obj h_new_str_list(const mx_text* v, int64_t n) {
  mx_host_obj l = h_new_list(n);
  for (int64_t i = 0; i < n; ++i) h_list_set(l, i, h_new_str(v[i].unit, v[i].data, v[i].len));
  return l;
}

}  // namespace host_detail

// The host callback table over mx::Any.
MX_INLINE const mx_host_api* any_host() {
  using namespace host_detail;
  static const mx_host_api api = {
      MATX_NB_ABI_VERSION, h_kind, h_type_name, h_as_int, h_as_float, h_str_data, h_bytes_data,
      h_seq_len, h_seq_item, h_dict_next, h_iter, h_iter_next, h_object_ptr,
      h_new_none, h_new_bool, h_new_int, h_new_float, h_new_str, h_new_bytes,
      h_new_list, h_list_set, h_new_tuple, h_tuple_set, h_new_dict, h_dict_set,
      h_new_set, h_set_add, h_new_object, h_decref,
      h_nogil_begin, h_nogil_end, h_write_stdout, h_dlpack_in, h_dlpack_out, h_assign_contents,
      &irq::g_word, irq::take, h_is_frozenset, h_freeze_set,
      h_str_items, h_int_items, h_new_int_list, h_new_str_list};
  return &api;
}

// The value behind a handle (owned or borrowed); the handle is left as it is.
MX_INLINE Any handle_value(mx_host_obj h) { return h ? host_detail::A(h) : Any(); }

// A new (owned) handle holding a copy of `a`; release it with any_host()->decref.
MX_INLINE mx_host_obj handle_of(const Any& a) { return host_detail::box(a); }

// Takes the value out of an owned handle and releases the handle.
MX_INLINE Any take_handle(mx_host_obj h) {
  if (!h) return Any();
  AnyBox* b = host_detail::owned(h);
  Any v = std::move(static_cast<Any&>(*b));
  delete b;
  return v;
}

// The compiled class an instance belongs to (null for other values).
MX_INLINE const mx_class_desc* class_of(const Any& a) {
  return a.tag() == TypeTag::Instance ? host_detail::class_of_object(a.obj()) : nullptr;
}

// ---- errors ------------------------------------------------------------------

namespace host_detail {

MX_INLINE std::string source_line(const char* file, int line) {
  if (!file || line <= 0) return "";
  std::ifstream in(file);
  if (!in) return "";
  std::string s;
  for (int i = 0; i < line; ++i)
    if (!std::getline(in, s)) return "";
  size_t b = s.find_first_not_of(" \t\r\n\f\v"), e = s.find_last_not_of(" \t\r\n\f\v");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The start of the location raise_error appends to a message.
MX_INLINE std::string location_prefix(const std::string& file, int32_t line, const std::string& func) {
  return "\n  File \"" + file + "\", line " + std::to_string(line) + ", in " + func;
}

// Frees the strings of an mx_error (the host owns them).
MX_INLINE void free_error(mx_error* err) {
  std::free(err->message);
  std::free(err->file);
  std::free(err->func);
  std::free(err->codec_encoding);
  std::free(err->codec_object);
  std::free(err->codec_reason);
  *err = mx_error{};
}

// Throws the mx::Error for err (an mx::CodecError for the Unicode errors). The
// message gets the user's file, line, function and source text appended like
// the Python binding's; file(), line(), func() and col() give them too.
[[noreturn]] inline void raise_error(mx_error* err) {
  ErrKind kind = static_cast<ErrKind>(err->kind);
  std::string msg = err->message ? err->message : "";
  std::string where;
  std::string file = err->file ? err->file : "";
  std::string func = err->func ? err->func : "?";
  int32_t line = err->line, col = err->col;
  if (err->file) {
    where = location_prefix(file, line, func);
    std::string text = source_line(err->file, line);
    if (!text.empty()) where += "\n    " + text;
  }
  bool codec = (kind == ErrKind::UnicodeDecodeError || kind == ErrKind::UnicodeEncodeError) && err->codec_object;
  std::string encoding, object, reason;
  int64_t start = 0, end = 0;
  if (codec) {
    encoding = err->codec_encoding ? err->codec_encoding : "utf-8";
    object.assign(err->codec_object, size_t(err->codec_object_len));
    start = err->codec_start;
    end = err->codec_end;
    reason = (err->codec_reason ? std::string(err->codec_reason) : msg) + where;
  }
  free_error(err);
  Origin origin{file.c_str(), line, func.c_str()};
  Loc loc{&origin, 1, col};
  if (codec) {
    CodecError e(kind, msg + where, encoding, object, start, end, reason);
    if (!file.empty()) e.set_loc(&loc);
    throw e;
  }
  Error e(kind, msg + where);
  if (!file.empty()) e.set_loc(&loc);
  throw e;
}

// An error's message without the location raise_error appended, for a host
// that shows the location its own way (the Python binding: KeyError's args[0]
// is the key, the location a note).
MX_INLINE std::string unlocated_message(const Error& e) {
  const std::string& msg = e.message();
  if (!e.has_loc()) return msg;
  size_t at = msg.rfind(location_prefix(e.file(), e.line(), e.func()));
  return at == std::string::npos ? msg : msg.substr(0, at);
}

MX_INLINE std::string call_name(const mx_func_desc* d, const mx_class_desc* cls) {
  return cls ? std::string(cls->name) + "." + d->name : std::string(d->name);
}

// CPython's TypeError for a call with the wrong number of positional arguments.
[[noreturn]] inline void bad_arg_count(const mx_func_desc* d, const mx_class_desc* cls, size_t nargs) {
  std::string name = call_name(d, cls);
  size_t self = cls ? 1 : 0;
  if (nargs > size_t(d->nargs) || int(nargs) >= d->n_required) {
    size_t takes = size_t(d->nargs) + self, given = nargs + self, least = size_t(d->n_required) + self;
    std::string range = least < takes ? "from " + std::to_string(least) + " to " + std::to_string(takes)
                                      : std::to_string(takes);
    throw Error(ErrKind::TypeError, name + "() takes " + range + " positional argument" +
                                        (takes == 1 ? "" : "s") + " but " + std::to_string(given) + " " +
                                        (given == 1 ? "was" : "were") + " given");
  }
  std::vector<const char*> names;
  for (int i = int(nargs); i < d->n_required; ++i) names.push_back(d->param_names[i]);
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) list += names.size() == 2 ? " and " : (i + 1 == names.size() ? ", and " : ", ");
    list += "'" + std::string(names[i]) + "'";
  }
  throw Error(ErrKind::TypeError, name + "() missing " + std::to_string(names.size()) +
                                      " required positional argument" + (names.size() == 1 ? "" : "s") + ": " + list);
}

// Interned origin file names: never freed, since errors raised by instances of
// a library may outlive any one CompiledLibrary.
MX_INLINE const char* intern_file(const std::string& file) {
  static std::mutex mu;
  static std::unordered_set<std::string> pool;
  std::lock_guard<std::mutex> lock(mu);
  return pool.insert(file).first->c_str();
}

}  // namespace host_detail

// Calls an entry point with positional arguments (borrowed: they point into
// `args`); cls names the class in bad-call messages (methods and __init__).
// `given`, when set, marks the slots of `args` that hold an argument (keyword
// arguments placed by name leave the others out: their defaults apply).
MX_INLINE Any call_entry(const mx_func_desc* d, const mx_class_desc* cls, Object* self, const std::vector<Any>& args,
                      const std::vector<bool>* given = nullptr) {
  if (args.size() > size_t(d->nargs) || int(args.size()) < d->n_required)
    host_detail::bad_arg_count(d, cls, args.size());
  if (given)
    for (int i = 0; i < d->n_required; ++i)
      if (size_t(i) >= given->size() || !(*given)[size_t(i)]) host_detail::bad_arg_count(d, cls, size_t(i));
  std::vector<mx_host_obj> handles(size_t(d->nargs), nullptr);  // null: the parameter's default
  for (size_t i = 0; i < args.size(); ++i)
    if (!given || (i < given->size() && (*given)[i])) handles[i] = host_detail::borrowed(args[i]);
  mx_host_obj result = nullptr;
  mx_error err{};
  if (d->call(any_host(), self, handles.data(), int64_t(handles.size()), &result, &err) != 0) {
    if (result) any_host()->decref(result);
    host_detail::raise_error(&err);
  }
  if (!result) throw Error(ErrKind::RuntimeError, "compiled function returned no value");
  return take_handle(result);
}

// A compiled library loaded into this process, called with mx::Any values.
class CompiledLibrary {
 public:
  explicit CompiledLibrary(const std::string& path) : path_(path) {
    dl_ = dlopen_current(path);
    if (!dl_) {
      const char* why = dlerror();
      throw Error(ErrKind::RuntimeError, std::string("cannot load compiled library: ") + (why ? why : path));
    }
    auto fn = reinterpret_cast<mx_module_fn>(dlsym(dl_, "matx_nb_module"));
    if (!fn) throw Error(ErrKind::RuntimeError, "not a matx_nb library (no matx_nb_module): " + path);
    mod_ = fn();
    if (!mod_ || mod_->abi_version != MATX_NB_ABI_VERSION)
      throw Error(ErrKind::RuntimeError, "library built for ABI " + std::to_string(mod_ ? mod_->abi_version : -1) +
                                             ", runtime has ABI " + std::to_string(MATX_NB_ABI_VERSION) + ": " + path);
    mod_->set_host(any_host());
  }
  // The library stays mapped after this object goes (see the header comment).
  CompiledLibrary(const CompiledLibrary&) = delete;
  CompiledLibrary& operator=(const CompiledLibrary&) = delete;
  CompiledLibrary(CompiledLibrary&&) = default;
  CompiledLibrary& operator=(CompiledLibrary&&) = default;

  const std::string& path() const { return path_; }
  const mx_module_desc* module() const { return mod_; }
  const char* runtime_version() const { return mod_->runtime_version; }

  std::vector<std::string> function_names() const {
    std::vector<std::string> out;
    for (int i = 0; i < mod_->n_funcs; ++i) out.push_back(mod_->funcs[i].name);
    return out;
  }
  std::vector<std::string> class_names() const {
    std::vector<std::string> out;
    for (int i = 0; i < mod_->n_classes; ++i) out.push_back(mod_->classes[i].name);
    return out;
  }
  // Qualified names of the compiled objects, in origin order (for set_origin).
  std::vector<std::string> origin_names() const {
    std::vector<std::string> out;
    for (int i = 0; i < mod_->n_origins; ++i) out.push_back(mod_->origins[i].qualname ? mod_->origins[i].qualname : "");
    return out;
  }
  // Where compiled object i lives in the user's files: errors name this file
  // and lines counted from first_line.
  void set_origin(int i, const std::string& file, int first_line) {
    if (i < 0 || i >= mod_->n_origins) throw Error(ErrKind::IndexError, "origin index out of range");
    mod_->origins[i].file = host_detail::intern_file(file);
    mod_->origins[i].first_line = first_line;
  }

  const mx_func_desc* find_function(const std::string& name) const {
    for (int i = 0; i < mod_->n_funcs; ++i)
      if (name == mod_->funcs[i].name) return &mod_->funcs[i];
    return nullptr;
  }
  const mx_class_desc* find_class(const std::string& name) const {
    for (int i = 0; i < mod_->n_classes; ++i)
      if (name == mod_->classes[i].name) return &mod_->classes[i];
    return nullptr;
  }

  Any call(const std::string& function, const std::vector<Any>& args,
           const std::vector<bool>* given = nullptr) const {
    const mx_func_desc* d = find_function(function);
    if (!d) throw Error(ErrKind::AttributeError, "compiled library has no function '" + function + "'");
    return call_entry(d, nullptr, nullptr, args, given);
  }

  // A new instance of class `cls`: an Any holding the instance.
  Any construct(const std::string& cls, const std::vector<Any>& args,
                const std::vector<bool>* given = nullptr) const {
    const mx_class_desc* c = find_class(cls);
    if (!c) throw Error(ErrKind::AttributeError, "compiled library has no class '" + cls + "'");
    return call_entry(&c->init, c, nullptr, args, given);
  }

  Any call_method(const Any& instance, const std::string& method, const std::vector<Any>& args,
                  const std::vector<bool>* given = nullptr) const {
    const mx_class_desc* c = class_for(instance);
    for (int i = 0; i < c->n_methods; ++i)
      if (method == c->methods[i].name) return call_entry(&c->methods[i], c, instance.obj(), args, given);
    throw Error(ErrKind::AttributeError, "'" + std::string(c->name) + "' object has no attribute '" + method + "'");
  }

  Any get_attr(const Any& instance, const std::string& name) const {
    const mx_attr_desc* a = find_attr(instance, name);
    mx_host_obj result = nullptr;
    mx_error err{};
    if (a->get(any_host(), instance.obj(), &result, &err) != 0) {
      if (result) any_host()->decref(result);
      host_detail::raise_error(&err);
    }
    return take_handle(result);
  }

  void set_attr(const Any& instance, const std::string& name, const Any& value) const {
    const mx_attr_desc* a = find_attr(instance, name);
    mx_error err{};
    if (a->set(any_host(), instance.obj(), host_detail::borrowed(value), &err) != 0) host_detail::raise_error(&err);
  }

  // This library's class for an instance (its own, or the same layout compiled
  // here), or null.
  const mx_class_desc* find_class_for(const Any& instance) const {
    const mx_class_desc* c = class_of(instance);
    if (c)
      for (int i = 0; i < mod_->n_classes; ++i)
        if (host_detail::same_class(&mod_->classes[i], c)) return &mod_->classes[i];
    return nullptr;
  }
  const mx_class_desc* class_for(const Any& instance) const {
    if (const mx_class_desc* c = find_class_for(instance)) return c;
    throw Error(ErrKind::TypeError, std::string("expected an instance of a class compiled in ") + path_ + ", got " +
                                        (instance.tag() == TypeTag::Tuple ? "tuple" : instance.type_name()));
  }
 private:

  const mx_attr_desc* find_attr(const Any& instance, const std::string& name) const {
    const mx_class_desc* c = class_for(instance);
    for (int i = 0; i < c->n_attrs; ++i)
      if (name == c->attrs[i].name) return &c->attrs[i];
    throw Error(ErrKind::AttributeError, "'" + std::string(c->name) + "' object has no attribute '" + name + "'");
  }

  std::string path_;
  void* dl_ = nullptr;
  const mx_module_desc* mod_ = nullptr;
};

}  // namespace mx
