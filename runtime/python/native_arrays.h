// Arrays between Python and compiled code through DLPack.
// Included by native.cc inside its anonymous namespace, where it stands.

// ---- arrays (DLPack) -----------------------------------------------------------

// matx_nb.ndarray's helpers, imported on first use (a borrowed module reference
// kept for the life of the process).
PyObject* ndarray_helper(const char* name) {
  static PyObject* mod = nullptr;
  if (!mod) mod = PyImport_ImportModule("matx_nb.ndarray");
  return mod ? PyObject_GetAttrString(mod, name) : nullptr;
}

// Anything with __dlpack__ (numpy >= 1.22, torch, matx_nb.NDArray) enters without
// a copy; matx_nb.ndarray._export makes the capsule (and copies only arrays that
// cannot be shared: read-only numpy arrays, tensors requiring grad).
DLManagedTensor* h_dlpack_in(mx_host_obj h) {
  PyObject* o = O(h);
  if (PyUnicode_Check(o) || PyLong_Check(o) || PyFloat_Check(o) || PyList_Check(o) || PyTuple_Check(o) ||
      PyDict_Check(o) || PyBytes_Check(o) || o == Py_None)
    return nullptr;
  if (!PyObject_HasAttrString(o, "__dlpack__")) return nullptr;
  PyObject* fn = ndarray_helper("_export");
  PyObject* cap = fn ? PyObject_CallOneArg(fn, o) : nullptr;
  Py_XDECREF(fn);
  DLManagedTensor* t = nullptr;
  if (cap && PyCapsule_IsValid(cap, "dltensor")) {
    t = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
    PyCapsule_SetName(cap, "used_dltensor");  // consumed: the capsule no longer frees it
  }
  Py_XDECREF(cap);
  if (PyErr_Occurred()) PyErr_Clear();
  return t;
}

// Arrays leave as DLPack 1.0 capsules ("dltensor_versioned", writeable): numpy
// marks arrays made from legacy capsules read-only. The versioned tensor wraps
// the library's legacy one.
struct VersionedWrap {
  DLManagedTensorVersioned v;
  DLManagedTensor* inner;
};
void versioned_free(DLManagedTensorVersioned* self) {
  auto* w = static_cast<VersionedWrap*>(self->manager_ctx);
  if (w->inner->deleter) w->inner->deleter(w->inner);
  delete w;
}
void dltensor_capsule_free(PyObject* cap) {
  if (PyCapsule_IsValid(cap, "dltensor_versioned")) {  // never consumed
    auto* t = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(cap, "dltensor_versioned"));
    if (t && t->deleter) t->deleter(t);
  } else if (PyErr_Occurred()) {
    PyErr_Clear();
  }
}

// Wraps an array as matx_nb.NDArray (over a numpy array on the CPU, a torch
// tensor on a GPU), sharing its memory.
int h_is_frozenset(mx_host_obj h) { return PyFrozenSet_Check(O(h)) ? 1 : 0; }
// A failure (memory) keeps the set: a value, if not of the right type.
mx_host_obj h_freeze_set(mx_host_obj h) {
  PyObject* f = PyFrozenSet_New(O(h));
  if (!f) {
    PyErr_Clear();
    return h;
  }
  Py_DECREF(O(h));
  return f;
}
// See mx_host_api::assign_contents. A failure (memory) leaves dst as it was.
void h_assign_contents(mx_host_obj dst, mx_host_obj src) {
  PyObject* d = O(dst);
  PyObject* s = O(src);
  int rc = 0;
  if (PyList_Check(d) && PyList_Check(s)) {
    rc = PyList_SetSlice(d, 0, PyList_GET_SIZE(d), s);
  } else if (PyDict_Check(d) && PyDict_Check(s)) {
    PyDict_Clear(d);
    rc = PyDict_Update(d, s);
  } else if (PySet_Check(d) && PyAnySet_Check(s)) {
    rc = PySet_Clear(d);
    PyObject* it = rc == 0 ? PyObject_GetIter(s) : nullptr;
    while (PyObject* x = it ? PyIter_Next(it) : nullptr) {
      if (rc == 0) rc = PySet_Add(d, x);
      Py_DECREF(x);
    }
    Py_XDECREF(it);
  }
  if (rc < 0 || PyErr_Occurred()) PyErr_Clear();
}
mx_host_obj h_dlpack_out(DLManagedTensor* t) {
  auto* w = new VersionedWrap{};
  w->inner = t;
  w->v.version = DLPackVersion{1, 0};
  w->v.manager_ctx = w;
  w->v.deleter = versioned_free;
  w->v.flags = 0;
  w->v.dl_tensor = t->dl_tensor;
  PyObject* cap = PyCapsule_New(&w->v, "dltensor_versioned", dltensor_capsule_free);
  if (!cap) {
    versioned_free(&w->v);
    return nullptr;
  }
  PyObject* fn = ndarray_helper("_from_capsule");
  PyObject* r = fn ? PyObject_CallFunction(fn, "Oii", cap, int(t->dl_tensor.device.device_type),
                                           int(t->dl_tensor.device.device_id))
                   : nullptr;
  Py_XDECREF(fn);
  Py_DECREF(cap);
  return r;
}

const mx_host_api kPythonHost = {
    MATX_NB_ABI_VERSION, h_kind, h_type_name, h_as_int, h_as_float, h_str_data, h_bytes_data,
    h_seq_len, h_seq_item, h_dict_next, h_iter, h_iter_next, h_object_ptr,
    h_new_none, h_new_bool, h_new_int, h_new_float, h_new_str, h_new_bytes,
    h_new_list, h_list_set, h_new_tuple, h_tuple_set, h_new_dict, h_dict_set,
    h_new_set, h_set_add, h_new_object, h_decref,
    h_nogil_begin, h_nogil_end, h_write_stdout, h_dlpack_in, h_dlpack_out, h_assign_contents,
    &mx::irq::g_word, mx::irq::take, h_is_frozenset, h_freeze_set,
    h_str_items, h_int_items, h_new_int_list, h_new_str_list};
