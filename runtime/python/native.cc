// matx_nb._native: loads compiled libraries and exposes their functions and
// classes to Python. Built once at install; generated code never includes
// Python headers, it talks to this module through mx_host_api.
#include <pybind11/pybind11.h>

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>

#include <csetjmp>
#include <cstdlib>
#include <malloc.h>

#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "matx_nb/abi.h"
#include "matx_nb/session.h"
#include "native_runner.h"  // matx-serve: runs on a thread that never takes the GIL
#include "serve_front_py.h"  // matx-serve: the native HTTP front

namespace py = pybind11;

namespace {

// ---- ScriptedObject: the Python face of a compiled class instance -----------

struct ScriptedObject {
  PyObject_HEAD
  mx::Object* ptr;
  const mx_class_desc* cls;
  PyObject* weakrefs;
  PyObject* ctor;  // (args, kwargs) it was constructed with from Python; None if made in compiled code
};

// Set while matx_nb.trace runs: a call of a compiled op with a traced value goes
// to this Python callable instead, which records it in the graph.
PyObject* g_trace_hook = nullptr;
PyTypeObject* g_traced_type = nullptr;

PyTypeObject ScriptedObjectType = {PyVarObject_HEAD_INIT(nullptr, 0)};

// Python class registered for each compiled class layout, so instances returned
// from compiled code come back as that class, whichever library made them.
std::unordered_map<std::string, PyObject*>& class_registry() {
  static auto* m = new std::unordered_map<std::string, PyObject*>();
  return *m;
}

// ---- host callbacks over PyObject* -----------------------------------------

inline PyObject* O(mx_host_obj o) { return static_cast<PyObject*>(o); }

// MX_HK_BOOL or MX_HK_FLOAT for a numpy bool or floating scalar, else -1: they
// convert as Python's bool and float do (np.float64 is a float already; numpy
// integers have __index__). The GIL is held, so the lazy lookup needs no lock.
int numpy_scalar_kind(PyObject* o) {
  const char* name = Py_TYPE(o)->tp_name;
  if (std::strncmp(name, "numpy.", 6) != 0) return -1;
  static PyObject* bool_type = nullptr;
  static PyObject* floating = nullptr;
  if (!bool_type) {
    PyObject* np = PyImport_AddModule("numpy");  // borrowed; loaded, since o is one of its scalars
    bool_type = np ? PyObject_GetAttrString(np, "bool_") : nullptr;  // kept for the process
    floating = bool_type ? PyObject_GetAttrString(np, "floating") : nullptr;
    if (!floating) {
      PyErr_Clear();
      Py_CLEAR(bool_type);
      return -1;
    }
  }
  if (PyObject_TypeCheck(o, reinterpret_cast<PyTypeObject*>(bool_type))) return MX_HK_BOOL;
  if (PyObject_TypeCheck(o, reinterpret_cast<PyTypeObject*>(floating))) return MX_HK_FLOAT;
  return -1;
}

int h_kind(mx_host_obj h) {
  PyObject* o = O(h);
  if (PyUnicode_CheckExact(o)) return MX_HK_STR;  // the items of a List[str]: first
  if (o == Py_None) return MX_HK_NONE;
  if (PyBool_Check(o)) return MX_HK_BOOL;
  if (PyLong_Check(o)) return MX_HK_INT;
  if (PyFloat_Check(o)) return MX_HK_FLOAT;
  if (PyUnicode_Check(o)) return MX_HK_STR;
  if (PyBytes_Check(o)) return MX_HK_BYTES;
  if (PyList_Check(o)) return MX_HK_LIST;
  if (PyTuple_Check(o)) return MX_HK_TUPLE;
  if (PyDict_Check(o)) return MX_HK_DICT;
  if (PyAnySet_Check(o)) return MX_HK_SET;
  if (PyObject_TypeCheck(o, &ScriptedObjectType)) return MX_HK_OBJECT;
  int np_kind = numpy_scalar_kind(o);
  if (np_kind >= 0) return np_kind;
  if (PyIndex_Check(o)) {
    // numpy integers and friends; not a numpy array (its nb_index fails unless
    // it is a 0-d integer array), which is an array, or a TypeError for an int.
    PyObject* i = PyNumber_Index(o);
    if (i) {
      Py_DECREF(i);
      return MX_HK_INT;
    }
    PyErr_Clear();
  }
  return MX_HK_OTHER;
}
const char* h_type_name(mx_host_obj h) { return Py_TYPE(O(h))->tp_name; }
int h_as_int(mx_host_obj h, int64_t* out) {
  PyObject* o = O(h);
  int overflow = 0;
  long long v;
  if (PyLong_Check(o)) {
    v = PyLong_AsLongLongAndOverflow(o, &overflow);
  } else if (numpy_scalar_kind(o) == MX_HK_BOOL) {
    int t = PyObject_IsTrue(o);
    *out = t > 0;
    return t < 0 ? (PyErr_Clear(), 1) : 0;
  } else {
    PyObject* idx = PyNumber_Index(o);
    if (!idx) { PyErr_Clear(); *out = 0; return 1; }
    v = PyLong_AsLongLongAndOverflow(idx, &overflow);
    Py_DECREF(idx);
  }
  if (overflow) return 1;
  *out = v;
  return 0;
}
// PyFloat_AsDouble fails with OverflowError for an int past the largest double:
// report it as +-inf (NaN for any other failure), which Conv<double> turns into
// the OverflowError CPython raises; the Python error must not stay set.
double h_as_float(mx_host_obj h) {
  PyObject* o = O(h);
  double d = PyFloat_AsDouble(o);
  if (d == -1.0 && PyErr_Occurred()) {
    bool overflow = PyErr_ExceptionMatches(PyExc_OverflowError);
    PyErr_Clear();
    if (!overflow) return std::nan("");
    PyObject* zero = PyLong_FromLong(0);
    int negative = zero ? PyObject_RichCompareBool(o, zero, Py_LT) : -1;
    Py_XDECREF(zero);
    if (negative < 0) PyErr_Clear();
    return negative > 0 ? -HUGE_VAL : HUGE_VAL;
  }
  return d;
}
const void* h_str_data(mx_host_obj h, int* unit, int64_t* len) {
  PyObject* o = O(h);
  *unit = int(PyUnicode_KIND(o));
  *len = PyUnicode_GET_LENGTH(o);
  return PyUnicode_DATA(o);
}
const char* h_bytes_data(mx_host_obj h, int64_t* len) {
  *len = PyBytes_GET_SIZE(O(h));
  return PyBytes_AS_STRING(O(h));
}
int64_t h_seq_len(mx_host_obj h) {
  PyObject* o = O(h);
  if (PyList_Check(o)) return PyList_GET_SIZE(o);
  if (PyDict_Check(o)) return PyDict_GET_SIZE(o);  // how many entries a dict argument brings
  return PyTuple_GET_SIZE(o);
}
mx_host_obj h_seq_item(mx_host_obj h, int64_t i) {
  PyObject* o = O(h);
  return PyList_Check(o) ? PyList_GET_ITEM(o, i) : PyTuple_GET_ITEM(o, i);
}
int h_dict_next(mx_host_obj h, int64_t* pos, mx_host_obj* k, mx_host_obj* v) {
  Py_ssize_t p = *pos;
  PyObject *kk, *vv;
  int r = PyDict_Next(O(h), &p, &kk, &vv);
  *pos = p;
  *k = kk;
  *v = vv;
  return r;
}
mx_host_obj h_iter(mx_host_obj h) {
  PyObject* it = PyObject_GetIter(O(h));
  if (!it) PyErr_Clear();
  return it;
}
mx_host_obj h_iter_next(mx_host_obj it) {
  if (!it) return nullptr;
  PyObject* x = PyIter_Next(O(it));
  if (!x && PyErr_Occurred()) PyErr_Clear();
  return x;
}
mx::Object* h_object_ptr(mx_host_obj h, const mx_class_desc* cls) {
  PyObject* o = O(h);
  if (!PyObject_TypeCheck(o, &ScriptedObjectType)) return nullptr;
  auto* so = reinterpret_cast<ScriptedObject*>(o);
  // The same class compiled into two libraries shares one C++ layout.
  if (so->cls != cls && (so->cls == nullptr || std::strcmp(so->cls->layout_id, cls->layout_id) != 0))
    return nullptr;
  return so->ptr;
}
mx_host_obj h_new_none() { Py_RETURN_NONE; }
mx_host_obj h_new_bool(int v) { return PyBool_FromLong(v); }
// Ints converted in bulk repeat values (the postings of an inverted index are doc
// ids): a direct-mapped cache of int objects shares them as CPython's own result
// would. Ints are immutable; at most kIntCache of them are kept alive. Called with
// the GIL held, like every host callback that makes Python objects.
constexpr size_t kIntCache = 16384;
struct IntCache {
  int64_t key[kIntCache];
  PyObject* obj[kIntCache];
};
IntCache g_int_cache;
mx_host_obj h_new_int(int64_t v) {
  if (v >= -5 && v <= 256) return PyLong_FromLongLong(v);  // CPython's small ints
  size_t i = size_t(uint64_t(v) % kIntCache);
  PyObject* o = g_int_cache.obj[i];
  if (o && g_int_cache.key[i] == v) {
    Py_INCREF(o);
    return o;
  }
  PyObject* r = PyLong_FromLongLong(v);
  if (r) {
    Py_INCREF(r);
    g_int_cache.obj[i] = r;
    g_int_cache.key[i] = v;
    Py_XDECREF(o);
  }
  return r;
}
mx_host_obj h_new_float(double v) { return PyFloat_FromDouble(v); }
// Compiled code hands strings over as UTF-32 code points: one vectorized pass
// finds the narrowest storage (the OR of the code points is below 0x80, 0x100 or
// 0x10000 exactly when every code point is), a second copies them into it.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
mx_host_obj h_new_str(int unit, const void* data, int64_t len) {
  if (unit != 4 || len <= 1) return PyUnicode_FromKindAndData(unit, data, len);  // 1 char: CPython's shared ones
  const uint32_t* p = static_cast<const uint32_t*>(data);
  size_t n = size_t(len);
  uint32_t any = 0;
  for (size_t i = 0; i < n; ++i) any |= p[i];
  if (any > 0xFFFF) return PyUnicode_FromKindAndData(4, data, len);  // checks the range
  PyObject* r = PyUnicode_New(len, any);
  if (!r) return nullptr;
  if (any <= 0xFF) {
    Py_UCS1* d = PyUnicode_1BYTE_DATA(r);
    for (size_t i = 0; i < n; ++i) d[i] = Py_UCS1(p[i]);
  } else {
    Py_UCS2* d = PyUnicode_2BYTE_DATA(r);
    for (size_t i = 0; i < n; ++i) d[i] = Py_UCS2(p[i]);
  }
  return r;
}
mx_host_obj h_new_bytes(const char* data, int64_t len) { return PyBytes_FromStringAndSize(data, len); }
mx_host_obj h_new_list(int64_t n) { return PyList_New(n); }
void h_list_set(mx_host_obj l, int64_t i, mx_host_obj x) { PyList_SET_ITEM(O(l), i, O(x)); }
#include "native_lists.h"  // ABI 8's bulk callbacks
mx_host_obj h_new_tuple(int64_t n) { return PyTuple_New(n); }
void h_tuple_set(mx_host_obj t, int64_t i, mx_host_obj x) { PyTuple_SET_ITEM(O(t), i, O(x)); }
mx_host_obj h_new_dict() { return PyDict_New(); }
void h_dict_set(mx_host_obj d, mx_host_obj k, mx_host_obj v) {
  PyDict_SetItem(O(d), O(k), O(v));
  Py_DECREF(O(k));
  Py_DECREF(O(v));
}
mx_host_obj h_new_set() { return PySet_New(nullptr); }
void h_set_add(mx_host_obj s, mx_host_obj x) {
  PySet_Add(O(s), O(x));
  Py_DECREF(O(x));
}
mx_host_obj h_new_object(const mx_class_desc* cls, mx::Object* obj) {
  PyTypeObject* tp = &ScriptedObjectType;
  auto it = class_registry().find(cls->layout_id);
  if (it != class_registry().end()) tp = reinterpret_cast<PyTypeObject*>(it->second);
  PyObject* o = tp->tp_alloc(tp, 0);
  if (!o) {
    obj->decref();
    return nullptr;
  }
  auto* so = reinterpret_cast<ScriptedObject*>(o);
  so->ptr = obj;
  so->cls = cls;
  so->ctor = nullptr;
  return o;
}
void h_decref(mx_host_obj o) { Py_XDECREF(O(o)); }
#include "native_signals.h"
#include "native_arrays.h"
#include "native_errors.h"

// ---- Function: a compiled function or method, called with vectorcall ----------

struct Function {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  const mx_func_desc* desc;
  const mx_class_desc* owner;  // set for methods
  const mx_class_desc* named;  // class named in bad-call messages: owner, or the class of __init__
  PyObject* library;           // keeps the shared library loaded
  PyObject* self;              // bound instance, or null
  PyObject* dict;              // user attributes (py_func, matx, ...)
};

PyTypeObject FunctionType = {PyVarObject_HEAD_INIT(nullptr, 0)};

constexpr int kMaxArgs = 64;

// The name CPython gives the function in a bad-call TypeError: "add", or
// "Text2Ids.lookup" / "Text2Ids.__init__" for methods (cls set).
std::string call_name(const mx_func_desc* d, const mx_class_desc* cls) {
  return cls ? std::string(cls->name) + "." + d->name : std::string(d->name);
}

// "add() takes 2 positional arguments but 3 were given"; methods count self like CPython.
void too_many_positional(const mx_func_desc* d, const mx_class_desc* cls, size_t nargs) {
  size_t self = cls ? 1 : 0;
  size_t takes = size_t(d->nargs) + self, given = nargs + self, least = size_t(d->n_required) + self;
  std::string range = least < takes ? "from " + std::to_string(least) + " to " + std::to_string(takes)
                                    : std::to_string(takes);
  PyErr_Format(PyExc_TypeError, "%s() takes %s positional argument%s but %zu %s given", call_name(d, cls).c_str(),
               range.c_str(), takes == 1 ? "" : "s", given, given == 1 ? "was" : "were");
}

// "add() missing 2 required positional arguments: 'a' and 'b'" (CPython's format_missing).
void missing_positional(const mx_func_desc* d, const mx_class_desc* cls, PyObject* const* full) {
  std::vector<const char*> names;
  for (int i = 0; i < d->n_required; ++i)
    if (!full[i]) names.push_back(d->param_names[i]);
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) list += names.size() == 2 ? " and " : (i + 1 == names.size() ? ", and " : ", ");
    list += "'" + std::string(names[i]) + "'";
  }
  PyErr_Format(PyExc_TypeError, "%s() missing %zu required positional argument%s: %s", call_name(d, cls).c_str(),
               names.size(), names.size() == 1 ? "" : "s", list.c_str());
}

struct GcPause {
  explicit GcPause(bool on) : was_enabled_(on && PyGC_Disable() == 1) {}
  ~GcPause() {
    if (was_enabled_) PyGC_Enable();
  }
  GcPause(const GcPause&) = delete;
  GcPause& operator=(const GcPause&) = delete;

 private:
  bool was_enabled_;
};

// On every call: the first letter settles most return types ("int", "str"...).
inline bool returns_container(const mx_func_desc* d) {
  const char* t = d->return_type;
  if (!t) return false;
  switch (t[0]) {
    case 'L': return std::strncmp(t, "List[", 5) == 0;
    case 'D': return std::strncmp(t, "Dict[", 5) == 0;
    case 'S': return std::strncmp(t, "Set[", 4) == 0;
    case 'T': return std::strncmp(t, "Tuple[", 6) == 0;
    default: return false;
  }
}

// Calls a compiled entry point with vectorcall arguments. Bad calls raise the
// TypeError CPython raises for a plain `def` with the same parameters, checked
// in CPython's order: keywords, then too many positionals, then missing ones.
// cls names the class of a method or __init__ (null for a function).
PyObject* call_desc(const mx_func_desc* d, const mx_class_desc* cls, mx::Object* self, PyObject* const* args,
                    size_t nargs, PyObject* kwnames) {
  size_t nkw = kwnames ? size_t(PyTuple_GET_SIZE(kwnames)) : 0;
  if (nkw != 0 || nargs != size_t(d->nargs)) {
    if (d->nargs > kMaxArgs) {
      PyErr_Format(PyExc_TypeError, "%s() has more than %d parameters", call_name(d, cls).c_str(), kMaxArgs);
      return nullptr;
    }
    PyObject* full[kMaxArgs];
    for (int i = 0; i < d->nargs; ++i) full[i] = i < int(nargs) ? args[i] : nullptr;
    for (size_t k = 0; k < nkw; ++k) {
      const char* kw = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, k));
      if (!kw) return nullptr;
      int pos = -1;
      for (int i = 0; i < d->nargs; ++i)
        if (std::strcmp(d->param_names[i], kw) == 0) pos = i;
      if (pos < 0) {
        PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%s'", call_name(d, cls).c_str(), kw);
        return nullptr;
      }
      if (full[pos]) {
        PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", call_name(d, cls).c_str(), kw);
        return nullptr;
      }
      full[pos] = args[nargs + k];
    }
    if (nargs > size_t(d->nargs)) {
      too_many_positional(d, cls, nargs);
      return nullptr;
    }
    for (int i = 0; i < d->n_required; ++i)
      if (!full[i]) {
        missing_positional(d, cls, full);
        return nullptr;
      }
    // Optional parameters left out stay null: the entry point uses their defaults.
    return call_desc(d, cls, self, full, size_t(d->nargs), nullptr);
  }
  mx_host_obj result = nullptr;
  mx_error err{};
  // A container result becomes many Python objects at once: the cyclic GC is
  // paused meanwhile (they cannot form garbage cycles yet), as it would
  // otherwise scan the growing result again and again.
  GcPause gc_pause(returns_container(d));
  if (!(d->flags & MX_FN_MAY_RECURSE)) {
    if (d->call(&kPythonHost, self, reinterpret_cast<const mx_host_obj*>(args), d->nargs, &result, &err) != 0)
      return raise_error(&err);
    if (!result && !PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "compiled function returned no value");
    return O(result);
  }
  stack_guard::prepare_thread();
  sigjmp_buf jump;
  sigjmp_buf* outer = stack_guard::t_jump;
  if (sigsetjmp(jump, 0) != 0) {
    stack_guard::t_jump = outer;
    // The jump skipped the wrapper's unlock of the instance (abi.h HostLock).
    if (self && cls) static_cast<mx::Instance*>(self)->host_lock.unlock_if_mine();
    if (d->module_lock) d->module_lock->unlock_if_mine();
    if (stack_guard::t_released) {
      PyEval_RestoreThread(stack_guard::t_released);
      stack_guard::t_released = nullptr;
    }
    PyErr_Format(PyExc_RecursionError,
                 "maximum recursion depth exceeded in compiled code: %s() exhausted the C stack", d->name);
    return nullptr;
  }
  stack_guard::t_jump = &jump;
  int rc = d->call(&kPythonHost, self, reinterpret_cast<const mx_host_obj*>(args), d->nargs, &result, &err);
  stack_guard::t_jump = outer;
  if (rc != 0) return raise_error(&err);
  if (!result && !PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "compiled function returned no value");
  return O(result);
}

bool has_traced(PyObject* const* args, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (Py_TYPE(args[i]) == g_traced_type) return true;
  return false;
}

PyObject* function_vectorcall(PyObject* callable, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* f = reinterpret_cast<Function*>(callable);
  size_t nargs = PyVectorcall_NARGS(nargsf);
  if (g_trace_hook &&
      has_traced(args, nargs + (kwnames ? size_t(PyTuple_GET_SIZE(kwnames)) : 0))) {
    // hook(function, args tuple, kwargs dict) records the call in the graph.
    PyObject* pos = PyTuple_New(Py_ssize_t(nargs));
    for (size_t i = 0; i < nargs; ++i) {
      Py_INCREF(args[i]);
      PyTuple_SET_ITEM(pos, Py_ssize_t(i), args[i]);
    }
    PyObject* kw = PyDict_New();
    for (Py_ssize_t k = 0; kwnames && k < PyTuple_GET_SIZE(kwnames); ++k)
      PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, k), args[nargs + size_t(k)]);
    PyObject* r = PyObject_CallFunctionObjArgs(g_trace_hook, callable, pos, kw, nullptr);
    Py_DECREF(pos);
    Py_DECREF(kw);
    return r;
  }
  mx::Object* self = nullptr;
  if (f->owner) {
    PyObject* inst = f->self;
    if (!inst) {
      if (nargs == 0) {
        PyErr_Format(PyExc_TypeError, "%s.%s() needs an instance", f->owner->name, f->desc->name);
        return nullptr;
      }
      inst = args[0];
      ++args;
      --nargs;
    }
    self = h_object_ptr(inst, f->owner);
    if (!self) {
      PyErr_Format(PyExc_TypeError, "%s.%s() needs a %s instance, got %s", f->owner->name, f->desc->name,
                   f->owner->name, Py_TYPE(inst)->tp_name);
      return nullptr;
    }
  }
  return call_desc(f->desc, f->named, self, args, nargs, kwnames);
}

PyObject* new_function(const mx_func_desc* desc, const mx_class_desc* owner, PyObject* library, PyObject* self) {
  Function* f = PyObject_GC_New(Function, &FunctionType);
  if (!f) return nullptr;
  f->vectorcall = function_vectorcall;
  f->desc = desc;
  f->owner = owner;
  f->named = owner;
  Py_XINCREF(library);
  f->library = library;
  Py_XINCREF(self);
  f->self = self;
  f->dict = nullptr;
  PyObject_GC_Track(f);
  return reinterpret_cast<PyObject*>(f);
}

void function_dealloc(PyObject* o) {
  auto* f = reinterpret_cast<Function*>(o);
  PyObject_GC_UnTrack(o);
  Py_XDECREF(f->library);
  Py_XDECREF(f->self);
  Py_XDECREF(f->dict);
  PyObject_GC_Del(o);
}
int function_traverse(PyObject* o, visitproc visit, void* arg) {
  auto* f = reinterpret_cast<Function*>(o);
  Py_VISIT(f->library);
  Py_VISIT(f->self);
  Py_VISIT(f->dict);
  return 0;
}
PyObject* function_descr_get(PyObject* self, PyObject* obj, PyObject*) {
  auto* f = reinterpret_cast<Function*>(self);
  if (obj == nullptr || obj == Py_None || f->owner == nullptr || f->self) {
    Py_INCREF(self);
    return self;
  }
  return new_function(f->desc, f->owner, f->library, obj);
}
PyObject* function_repr(PyObject* o) {
  auto* f = reinterpret_cast<Function*>(o);
  if (f->owner)
    return PyUnicode_FromFormat("<compiled method %s.%s%s>", f->owner->name, f->desc->name, f->self ? " (bound)" : "");
  return PyUnicode_FromFormat("<compiled function %s>", f->desc->name);
}
PyObject* function_get_signature(PyObject* o, void*) {
  auto* d = reinterpret_cast<Function*>(o)->desc;
  PyObject* params = PyList_New(d->nargs);
  for (int i = 0; i < d->nargs; ++i)
    PyList_SET_ITEM(params, i, Py_BuildValue("(ss)", d->param_names[i], d->param_types[i]));
  PyObject* r = Py_BuildValue("(Os)", params, d->return_type);
  Py_DECREF(params);
  return r;
}
PyObject* function_get_name(PyObject* o, void*) {
  return PyUnicode_FromString(reinterpret_cast<Function*>(o)->desc->name);
}
PyObject* function_get_releases_gil(PyObject* o, void*) {
  return PyBool_FromLong(reinterpret_cast<Function*>(o)->desc->flags & MX_FN_RELEASES_GIL);
}
PyObject* function_get_self(PyObject* o, void*) {
  PyObject* s = reinterpret_cast<Function*>(o)->self;
  if (!s) Py_RETURN_NONE;
  Py_INCREF(s);
  return s;
}
PyObject* function_get_owner(PyObject* o, void*) {
  auto* f = reinterpret_cast<Function*>(o);
  if (!f->owner) Py_RETURN_NONE;
  return PyUnicode_FromString(f->owner->name);
}
PyGetSetDef function_getset[] = {
    {"__self__", function_get_self, nullptr, "the bound instance of a method, or None", nullptr},
    {"owner", function_get_owner, nullptr, "the class name of a method, or None", nullptr},
    {"signature", function_get_signature, nullptr, "((name, type), ...), return type", nullptr},
    {"__name__", function_get_name, nullptr, nullptr, nullptr},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {"releases_gil", function_get_releases_gil, nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

// ---- ScriptedObject type ------------------------------------------------------

// As object.__new__: an instance whose __init__ has not run (the library's
// "C.__matx_alloc__"), of `type` itself when it is a Python subclass; Python
// then calls __init__, the compiled one or the subclass's.
PyObject* scripted_alloc(PyTypeObject* type, PyObject* alloc) {
  PyObject* r = PyObject_CallNoArgs(alloc);
  // The library may hand back the class registered for this layout by another
  // Python face (a script() of the same class, an exported copy): the instance
  // is the same C++ object either way, so it is rewrapped as `type`.
  if (!r || Py_TYPE(r) == type || !PyObject_TypeCheck(r, &ScriptedObjectType) ||
      !PyType_IsSubtype(type, &ScriptedObjectType))
    return r;
  PyObject* o = type->tp_alloc(type, 0);
  if (!o) {
    Py_DECREF(r);
    return nullptr;
  }
  auto* src = reinterpret_cast<ScriptedObject*>(r);
  auto* dst = reinterpret_cast<ScriptedObject*>(o);
  dst->ptr = src->ptr;
  dst->cls = src->cls;
  dst->ctor = nullptr;
  src->ptr = nullptr;
  Py_DECREF(r);
  return o;
}

PyObject* scripted_new(PyTypeObject* type, PyObject* args, PyObject* kwds) {
  if (PyObject* alloc = PyObject_GetAttrString(reinterpret_cast<PyObject*>(type), "__matx_alloc__")) {
    PyObject* r = scripted_alloc(type, alloc);
    Py_DECREF(alloc);
    if (r && PyObject_TypeCheck(r, &ScriptedObjectType)) {
      auto* so = reinterpret_cast<ScriptedObject*>(r);
      PyObject* kw = kwds ? PyDict_Copy(kwds) : PyDict_New();
      Py_XSETREF(so->ctor, Py_BuildValue("(ON)", args, kw));
    }
    return r;
  }
  PyErr_Clear();  // a library from before __matx_alloc__: construct and initialize at once
  PyObject* init = PyObject_GetAttrString(reinterpret_cast<PyObject*>(type), "__matx_init__");
  if (!init) return nullptr;
  PyObject* r = PyObject_Call(init, args, kwds);
  Py_DECREF(init);
  if (r && PyObject_TypeCheck(r, &ScriptedObjectType)) {
    // Kept so an exported pipeline can construct the same op again.
    auto* so = reinterpret_cast<ScriptedObject*>(r);
    PyObject* kw = kwds ? PyDict_Copy(kwds) : PyDict_New();
    Py_XSETREF(so->ctor, Py_BuildValue("(ON)", args, kw));
  }
  return r;
}
// A class without __init__ (its own or a base's) takes no arguments, as object() does.
int scripted_init(PyObject* self, PyObject* args, PyObject* kwds) {
  if ((args && PyTuple_GET_SIZE(args) > 0) || (kwds && PyDict_GET_SIZE(kwds) > 0)) {
    PyObject* alloc = PyObject_GetAttrString(reinterpret_cast<PyObject*>(Py_TYPE(self)), "__matx_alloc__");
    if (!alloc) {
      PyErr_Clear();
      return 0;  // constructed and initialized by __matx_init__ in scripted_new
    }
    Py_DECREF(alloc);
    PyErr_Format(PyExc_TypeError, "%s() takes no arguments", Py_TYPE(self)->tp_name);
    return -1;
  }
  return 0;
}
void scripted_dealloc(PyObject* o) {
  auto* so = reinterpret_cast<ScriptedObject*>(o);
  if (so->weakrefs) PyObject_ClearWeakRefs(o);
  Py_CLEAR(so->ctor);
  if (so->ptr) so->ptr->decref();
  Py_TYPE(o)->tp_free(o);
}
PyObject* scripted_get_ctor(PyObject* o, void*) {
  auto* so = reinterpret_cast<ScriptedObject*>(o);
  if (!so->ctor) Py_RETURN_NONE;
  Py_INCREF(so->ctor);
  return so->ctor;
}
PyGetSetDef scripted_getset[] = {
    {"__matx_ctor__", scripted_get_ctor, nullptr, "(args, kwargs) of the Python construction, or None", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

// ---- Attr: a descriptor reading and writing one attribute of an instance ---------

struct Attr {
  PyObject_HEAD
  const mx_attr_desc* desc;
  const mx_class_desc* owner;
  PyObject* library;
};
PyTypeObject AttrType = {PyVarObject_HEAD_INIT(nullptr, 0)};

#include "live_container.h"

PyObject* attr_get(PyObject* self, PyObject* obj, PyObject*) {
  auto* a = reinterpret_cast<Attr*>(self);
  if (obj == nullptr || obj == Py_None) {
    Py_INCREF(self);
    return self;
  }
  mx::Object* p = h_object_ptr(obj, a->owner);
  if (!p) {
    PyErr_SetString(PyExc_TypeError, "attribute of a compiled class read from another object");
    return nullptr;
  }
  if (a->desc->ref && a->desc->ops) {  // a container: a live handle on the instance's own
    mx::Object* c;
    {
      mx::HostLock held(&kPythonHost, static_cast<mx::Instance*>(p)->host_lock);
      c = a->desc->ref(p);
    }
    if (c) return live_new(obj, c, a->desc->ops);
  }
  mx_host_obj result = nullptr;
  mx_error err{};
  if (a->desc->get(&kPythonHost, p, &result, &err) != 0) return raise_error(&err);
  return O(result);
}
int attr_set(PyObject* self, PyObject* obj, PyObject* value) {
  auto* a = reinterpret_cast<Attr*>(self);
  if (value == nullptr) {
    PyErr_Format(PyExc_AttributeError, "cannot delete attribute '%s' of a compiled class", a->desc->name);
    return -1;
  }
  mx::Object* p = h_object_ptr(obj, a->owner);
  if (!p) {
    PyErr_SetString(PyExc_TypeError, "attribute of a compiled class written on another object");
    return -1;
  }
  mx_error err{};
  if (a->desc->set(&kPythonHost, p, value, &err) != 0) {
    raise_error(&err);
    return -1;
  }
  return 0;
}
void attr_dealloc(PyObject* o) {
  Py_XDECREF(reinterpret_cast<Attr*>(o)->library);
  PyObject_Free(o);
}

// ---- Library -----------------------------------------------------------------

struct LibraryHandle {
  void* dl = nullptr;
  const mx_module_desc* mod = nullptr;
  std::vector<std::string> files;  // storage for Origin::file
};

void library_capsule_free(PyObject* cap) {
  // Libraries stay mapped: compiled objects may still be referenced by runtime
  // values created from them (their vtables live in the library).
  auto* lh = static_cast<LibraryHandle*>(PyCapsule_GetPointer(cap, "matx_nb.library"));
  (void)lh;
}

void init_types() {
  FunctionType.tp_name = "matx_nb._native.Function";
  FunctionType.tp_basicsize = sizeof(Function);
  FunctionType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
                          Py_TPFLAGS_METHOD_DESCRIPTOR;
  FunctionType.tp_vectorcall_offset = offsetof(Function, vectorcall);
  FunctionType.tp_call = PyVectorcall_Call;
  FunctionType.tp_dealloc = function_dealloc;
  FunctionType.tp_traverse = function_traverse;
  FunctionType.tp_descr_get = function_descr_get;
  FunctionType.tp_repr = function_repr;
  FunctionType.tp_getset = function_getset;
  FunctionType.tp_dictoffset = offsetof(Function, dict);
  FunctionType.tp_getattro = PyObject_GenericGetAttr;
  FunctionType.tp_setattro = PyObject_GenericSetAttr;
  FunctionType.tp_doc = "A function compiled by matx_nb.";

  ScriptedObjectType.tp_name = "matx_nb._native.ScriptedObject";
  ScriptedObjectType.tp_basicsize = sizeof(ScriptedObject);
  ScriptedObjectType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
  ScriptedObjectType.tp_new = scripted_new;
  ScriptedObjectType.tp_init = scripted_init;
  ScriptedObjectType.tp_dealloc = scripted_dealloc;
  ScriptedObjectType.tp_weaklistoffset = offsetof(ScriptedObject, weakrefs);
  ScriptedObjectType.tp_getset = scripted_getset;
  ScriptedObjectType.tp_doc = "An instance of a class compiled by matx_nb.";

  if (!live_ready()) throw py::error_already_set();
  AttrType.tp_name = "matx_nb._native.Attr";
  AttrType.tp_basicsize = sizeof(Attr);
  AttrType.tp_flags = Py_TPFLAGS_DEFAULT;
  AttrType.tp_descr_get = attr_get;
  AttrType.tp_descr_set = attr_set;
  AttrType.tp_dealloc = attr_dealloc;

  for (PyTypeObject* t : {&FunctionType, &ScriptedObjectType, &AttrType})
    if (PyType_Ready(t) < 0) throw py::error_already_set();
}

LibraryHandle* handle_of(const py::capsule& cap) {
  return static_cast<LibraryHandle*>(PyCapsule_GetPointer(cap.ptr(), "matx_nb.library"));
}

}  // namespace

// A Session's inputs from a dict of Python values (GIL held).
matx_nb::Feeds session_feeds(py::dict feeds) {
  matx_nb::Feeds f;
  for (auto kv : feeds) {
    std::string name = py::str(kv.first);
    try {
      f[name] = mx::Conv<mx::Any>::from_host(&kPythonHost, kv.second.ptr());
    } catch (const mx::ConvError& e) {
      if (e.kind != mx::ErrKind::TypeError)
        throw mx::Error(e.kind, "pipeline input '" + name + "': " + e.text());
      throw py::type_error("pipeline input '" + name + "': expected a value compiled code can hold, got " + e.got + e.path);
    } catch (const mx::NestError& e) {
      throw mx::Error(e.kind(), "pipeline input '" + name + "': " + e.message());
    }
  }
  return f;
}

PYBIND11_MODULE(_native, m) {
  m.doc() = "matx_nb runtime binding: loads compiled libraries";
  init_types();
  // Compiled code converts whole batches (a million strings) per call; without
  // this, glibc returns the freed memory to the OS after each call and the next
  // call pays the page faults again.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
  stack_guard::install();
  m.attr("Function") = py::handle(reinterpret_cast<PyObject*>(&FunctionType));
  m.attr("ScriptedObject") = py::handle(reinterpret_cast<PyObject*>(&ScriptedObjectType));
  m.attr("ABI_VERSION") = MATX_NB_ABI_VERSION;

  // Loads a compiled library; returns (capsule, function names, class names).
  m.def("load_library", [](const std::string& path) {
    void* dl = mx::dlopen_current(path);  // a file replaced since its last load is loaded anew
    if (!dl) throw py::import_error(std::string("cannot load compiled library: ") + dlerror());
    auto fn = reinterpret_cast<mx_module_fn>(dlsym(dl, "matx_nb_module"));
    if (!fn) throw py::import_error("not a matx_nb library (no matx_nb_module): " + path);
    const mx_module_desc* mod = fn();
    if (mod->abi_version != MATX_NB_ABI_VERSION)
      throw py::import_error("library built for ABI " + std::to_string(mod->abi_version) +
                             ", runtime has ABI " + std::to_string(MATX_NB_ABI_VERSION) + ": " + path);
    mod->set_host(&kPythonHost);
    auto* lh = new LibraryHandle{dl, mod, {}};
    lh->files.reserve(size_t(mod->n_origins));
    py::list funcs, classes;
    for (int i = 0; i < mod->n_funcs; ++i) funcs.append(mod->funcs[i].name);
    for (int i = 0; i < mod->n_classes; ++i) classes.append(mod->classes[i].name);
    py::capsule cap(lh, "matx_nb.library", &library_capsule_free);
    return py::make_tuple(cap, funcs, classes, py::str(mod->runtime_version));
  });

  // Tells the library where each compiled object lives in the user's files.
  m.def("set_origin", [](py::capsule lib, int index, const std::string& file, int first_line) {
    LibraryHandle* lh = handle_of(lib);
    if (index < 0 || index >= lh->mod->n_origins) throw py::index_error("origin index");
    lh->files.push_back(file);
    // Keep every file string alive: strings in `files` may move on growth.
    const char* stable = strdup(file.c_str());
    lh->mod->origins[index].file = stable;
    lh->mod->origins[index].first_line = first_line;
  });

  m.def("origins", [](py::capsule lib) {
    LibraryHandle* lh = handle_of(lib);
    py::list out;
    for (int i = 0; i < lh->mod->n_origins; ++i) out.append(lh->mod->origins[i].qualname);
    return out;
  });

  m.def("function", [](py::capsule lib, int index) {
    LibraryHandle* lh = handle_of(lib);
    if (index < 0 || index >= lh->mod->n_funcs) throw py::index_error("function index");
    return py::reinterpret_steal<py::object>(new_function(&lh->mod->funcs[index], nullptr, lib.ptr(), nullptr));
  });

  // Builds the members of a compiled class: (init, {method: Function}, {attr: Attr}).
  m.def("class_members", [](py::capsule lib, int index) {
    LibraryHandle* lh = handle_of(lib);
    if (index < 0 || index >= lh->mod->n_classes) throw py::index_error("class index");
    const mx_class_desc* c = &lh->mod->classes[index];
    py::object init = py::reinterpret_steal<py::object>(new_function(&c->init, nullptr, lib.ptr(), nullptr));
    if (!init) throw py::error_already_set();
    reinterpret_cast<Function*>(init.ptr())->named = c;  // "Text2Ids.__init__() missing ..."
    py::dict methods, attrs;
    for (int i = 0; i < c->n_methods; ++i)
      methods[c->methods[i].name] =
          py::reinterpret_steal<py::object>(new_function(&c->methods[i], c, lib.ptr(), nullptr));
    for (int i = 0; i < c->n_attrs; ++i) {
      Attr* a = PyObject_New(Attr, &AttrType);
      a->desc = &c->attrs[i];
      a->owner = c;
      a->library = lib.ptr();
      Py_INCREF(lib.ptr());
      attrs[c->attrs[i].name] = py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(a));
    }
    py::dict types;
    for (int i = 0; i < c->n_attrs; ++i) types[c->attrs[i].name] = c->attrs[i].type;
    return py::make_tuple(init, methods, attrs, types);
  });

  // Registers the Python class standing for compiled class `index` of `lib`.
  m.def("register_class", [](py::capsule lib, int index, py::object type) {
    LibraryHandle* lh = handle_of(lib);
    const mx_class_desc* c = &lh->mod->classes[index];
    type.inc_ref();
    auto& slot = class_registry()[c->layout_id];
    Py_XDECREF(slot);
    slot = type.ptr();
  });

  // Installs (or with None removes) the tracing hook and the traced-value type.
  m.def("set_trace_hook", [](py::object hook, py::object traced_type) {
    Py_CLEAR(g_trace_hook);
    if (!hook.is_none()) {
      g_trace_hook = hook.ptr();
      Py_INCREF(g_trace_hook);
      g_traced_type = reinterpret_cast<PyTypeObject*>(traced_type.ptr());
    }
  });

  // Errors from the C++ Session become the Python exception of their kind.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const mx::Error& e) {
      // raise_error adds the location (a note for a KeyError, whose args[0] is
      // the key): the message goes without the one the Session appended.
      mx_error err{};
      mx::fill_error(&err, e);
      std::free(err.message);
      err.message = mx::dup_cstr(mx::host_detail::unlocated_message(e));
      raise_error(&err);
    } catch (const mx::ConvError& e) {
      PyErr_SetString(exception_class(int32_t(e.kind)), e.text().c_str());
    }
  });
  // Compiled code run by a Session prints to Python's sys.stdout too.
  mx::host_detail::g_stdout_writer = &h_write_stdout;

  // The C++ Session, the same code a C++ program runs (matx_nb.load uses it).
  // A folder or spec it refuses raises matx_nb.PipelineError.
  auto pipeline_errors = [](auto&& body) {
    try {
      return body();
    } catch (const matx_nb::PipelineError& e) {
      py::object cls = py::module_::import("matx_nb.pipeline.export").attr("PipelineError");
      PyErr_SetString(cls.ptr(), e.what());
      throw py::error_already_set();
    }
  };
  py::class_<matx_nb::Session>(m, "Session")
      .def_static("load", [pipeline_errors](const std::string& dir, const std::string& spec, int device,
                                            bool rebuild) {
        return pipeline_errors([&] { return matx_nb::Session::Load(dir, spec, device, {rebuild}); });
      }, py::arg("directory"), py::arg("spec") = "model.spec.json", py::arg("device") = -1,
         py::arg("rebuild") = false)
      // Load()'s checks (spec, paths, checksums, library files) without loading anything.
      .def_static("verify", [pipeline_errors](const std::string& dir, const std::string& spec, bool rebuild) {
        return pipeline_errors([&] { return matx_nb::Session::Verify(dir, spec, {rebuild}); });
      }, py::arg("directory"), py::arg("spec") = "model.spec.json", py::arg("rebuild") = false)
      .def_property_readonly("spec_sha256", &matx_nb::Session::SpecSha256)
      .def_property_readonly("input_names", &matx_nb::Session::InputNames)
      .def("run", [](const matx_nb::Session& s, py::dict feeds) {
        matx_nb::Feeds f = session_feeds(feeds);
        mx::Any out;
        {
          // As for a compiled call: a Ctrl-C in the main thread stops the run's loops.
          struct MainCall {
            MainCall() { interrupts::main_call_begin(); }
            ~MainCall() { interrupts::main_call_end(); }
          } main_call;
          py::gil_scoped_release nogil;
          out = s.Run(f);
        }
        return py::reinterpret_steal<py::object>(O(mx::Conv<mx::Any>::to_host(&kPythonHost, out)));
      });
  using native_runner::AsyncRunner;
  struct ReleaseGilDelete {  // the destructor waits for the runner's thread
    void operator()(AsyncRunner* r) const {
      py::gil_scoped_release nogil;
      delete r;
    }
  };
  py::class_<AsyncRunner, std::unique_ptr<AsyncRunner, ReleaseGilDelete>>(m, "AsyncRunner")
      .def(py::init([](const matx_nb::Session& s) {
             return std::unique_ptr<AsyncRunner, ReleaseGilDelete>(new AsyncRunner(&s));
           }), py::keep_alive<1, 2>())
      .def_property_readonly("fd", &AsyncRunner::fd)
      .def("submit", [](AsyncRunner& r, py::dict feeds) { return r.submit(session_feeds(feeds)); })
      .def("ready", [](AsyncRunner& r) {
        py::list ids;
        for (uint64_t id : r.ready()) ids.append(py::int_(id));
        return ids;
      })
      // (output, seconds the run took)
      .def("take", [](AsyncRunner& r, uint64_t id) {
        double seconds = 0;
        mx::Any out = r.take(id, &seconds);
        return py::make_tuple(py::reinterpret_steal<py::object>(O(mx::Conv<mx::Any>::to_host(&kPythonHost, out))),
                              seconds);
      })
      .def("close", [](AsyncRunner& r) {
        py::gil_scoped_release nogil;
        r.close();
      });

  serve_front_py::bind(m);
  m.def("class_registered", [](py::capsule lib, int index) {
    LibraryHandle* lh = handle_of(lib);
    return class_registry().count(lh->mod->classes[index].layout_id) > 0;
  });
}
