// Live handles on container attributes of compiled instances (runtime live.h):
// `c.d` is a matx_nb.Dict sharing the instance's own dict, so `c.d["b"] = 2`,
// `c.xs.append(9)` and `del c.d["a"]` change the instance, as they would a
// Python object's attribute. Item access, `in`, len and append/add go straight
// to the typed container; other methods run on a copy that then replaces the
// contents (mutating ones: pop, update, sort...), or just read a copy (keys,
// count...). Every operation holds the owner instance's lock (runtime lock.h).
// Included once, by native.cc, after kPythonHost and raise_error.
#pragma once

struct Live {
  PyObject_HEAD
  PyObject* owner;  // the compiled instance (keeps it and its library alive)
  mx::Object* obj;  // the container (one reference)
  const mx_container_ops* ops;
};

PyTypeObject LiveListType = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject LiveDictType = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject LiveSetType = {PyVarObject_HEAD_INIT(nullptr, 0)};

inline Live* L(PyObject* o) { return reinterpret_cast<Live*>(o); }

// The owner's lock for one operation (waits with the GIL released).
struct LiveLock {
  mx::HostLock held;
  explicit LiveLock(PyObject* self)
      : held(&kPythonHost,
             static_cast<mx::Instance*>(reinterpret_cast<ScriptedObject*>(L(self)->owner)->ptr)->host_lock) {}
};

PyObject* live_new(PyObject* owner, mx::Object* obj, const mx_container_ops* ops) {
  PyTypeObject* tp = ops->kind == MX_HK_DICT ? &LiveDictType : ops->kind == MX_HK_SET ? &LiveSetType : &LiveListType;
  Live* l = PyObject_New(Live, tp);
  if (!l) {
    obj->decref();
    return nullptr;
  }
  Py_INCREF(owner);
  l->owner = owner;
  l->obj = obj;
  l->ops = ops;
  return reinterpret_cast<PyObject*>(l);
}

void live_dealloc(PyObject* o) {
  Live* l = L(o);
  if (l->obj) l->obj->decref();
  Py_XDECREF(l->owner);
  PyObject_Free(o);
}

// A plain Python copy of the contents (the caller holds the lock).
PyObject* live_copy_locked(PyObject* self) {
  mx_host_obj out = nullptr;
  mx_error err{};
  if (L(self)->ops->snapshot(&kPythonHost, L(self)->obj, &out, &err) != 0) return raise_error(&err);
  return O(out);
}
PyObject* live_copy(PyObject* self) {
  LiveLock lock(self);
  return live_copy_locked(self);
}
PyObject* live_copy_method(PyObject* self, PyObject*) { return live_copy(self); }

Py_ssize_t live_len(PyObject* self) {
  LiveLock lock(self);
  return Py_ssize_t(L(self)->ops->len(L(self)->obj));
}

PyObject* live_getitem(PyObject* self, PyObject* key) {
  const mx_container_ops* ops = L(self)->ops;
  if (ops->kind == MX_HK_LIST && PySlice_Check(key)) {
    PyObject* copy = live_copy(self);
    if (!copy) return nullptr;
    PyObject* r = PyObject_GetItem(copy, key);
    Py_DECREF(copy);
    return r;
  }
  if (!ops->getitem) {
    PyErr_Format(PyExc_TypeError, "'%s' object is not subscriptable", Py_TYPE(self)->tp_name);
    return nullptr;
  }
  LiveLock lock(self);
  mx_host_obj out = nullptr;
  mx_error err{};
  if (ops->getitem(&kPythonHost, L(self)->obj, key, &out, &err) != 0) return raise_error(&err);
  if (!out) {
    PyErr_SetObject(PyExc_KeyError, key);
    return nullptr;
  }
  return O(out);
}

// Runs `name` of a copy, then puts the copy's contents back (under one lock).
PyObject* live_mutate(PyObject* self, const char* name, PyObject* args, PyObject* kwargs) {
  LiveLock lock(self);
  PyObject* copy = live_copy_locked(self);
  if (!copy) return nullptr;
  PyObject* method = PyObject_GetAttrString(copy, name);
  PyObject* none = args ? nullptr : PyTuple_New(0);
  PyObject* r = method && (args || none) ? PyObject_Call(method, args ? args : none, kwargs) : nullptr;
  Py_XDECREF(none);
  Py_XDECREF(method);
  if (r) {
    mx_error err{};
    if (L(self)->ops->assign(&kPythonHost, L(self)->obj, copy, &err) != 0) {
      Py_CLEAR(r);
      raise_error(&err);
    }
  }
  Py_DECREF(copy);
  return r;
}

int live_setitem(PyObject* self, PyObject* key, PyObject* value) {
  const mx_container_ops* ops = L(self)->ops;
  if (!ops->setitem || (ops->kind == MX_HK_LIST && PySlice_Check(key))) {
    if (!ops->setitem) {
      PyErr_Format(PyExc_TypeError, "'%s' object does not support item assignment", Py_TYPE(self)->tp_name);
      return -1;
    }
    PyObject* args = value ? PyTuple_Pack(2, key, value) : PyTuple_Pack(1, key);
    PyObject* r = live_mutate(self, value ? "__setitem__" : "__delitem__", args, nullptr);
    Py_XDECREF(args);
    Py_XDECREF(r);
    return r ? 0 : -1;
  }
  LiveLock lock(self);
  mx_error err{};
  int rc;
  if (value) {
    rc = ops->setitem(&kPythonHost, L(self)->obj, key, value, &err);
  } else {
    if (ops->kind == MX_HK_DICT) {
      int present = 0;
      if (ops->contains(&kPythonHost, L(self)->obj, key, &present, &err) == 0 && !present) {
        PyErr_SetObject(PyExc_KeyError, key);
        return -1;
      }
    }
    rc = ops->delitem(&kPythonHost, L(self)->obj, key, &err);
  }
  if (rc != 0) {
    raise_error(&err);
    return -1;
  }
  return 0;
}

int live_contains(PyObject* self, PyObject* item) {
  LiveLock lock(self);
  int present = 0;
  mx_error err{};
  if (L(self)->ops->contains(&kPythonHost, L(self)->obj, item, &present, &err) != 0) {
    raise_error(&err);
    return -1;
  }
  return present;
}

PyObject* live_add(PyObject* self, PyObject* item) {  // list.append / set.add
  LiveLock lock(self);
  mx_error err{};
  if (L(self)->ops->add(&kPythonHost, L(self)->obj, item, &err) != 0) return raise_error(&err);
  Py_RETURN_NONE;
}

PyObject* live_iter(PyObject* self) {
  PyObject* copy = live_copy(self);
  if (!copy) return nullptr;
  PyObject* it = PyObject_GetIter(copy);
  Py_DECREF(copy);
  return it;
}

PyObject* live_repr(PyObject* self) {
  PyObject* copy = live_copy(self);
  if (!copy) return nullptr;
  PyObject* r = PyObject_Repr(copy);
  Py_DECREF(copy);
  return r;
}

bool is_live(PyObject* o) {
  PyTypeObject* t = Py_TYPE(o);
  return t == &LiveListType || t == &LiveDictType || t == &LiveSetType;
}

PyObject* live_richcompare(PyObject* self, PyObject* other, int op) {
  PyObject* a = live_copy(self);
  if (!a) return nullptr;
  PyObject* b = is_live(other) ? live_copy(other) : (Py_INCREF(other), other);
  if (!b) {
    Py_DECREF(a);
    return nullptr;
  }
  PyObject* r = PyObject_RichCompare(a, b, op);
  Py_DECREF(a);
  Py_DECREF(b);
  return r;
}

// Methods not defined below read a copy (keys, values, items, get, count, index, copy...).
PyObject* live_getattro(PyObject* self, PyObject* name) {
  PyObject* r = PyObject_GenericGetAttr(self, name);
  if (r || !PyErr_ExceptionMatches(PyExc_AttributeError)) return r;
  PyErr_Clear();
  PyObject* copy = live_copy(self);
  if (!copy) return nullptr;
  r = PyObject_GetAttr(copy, name);
  Py_DECREF(copy);
  return r;
}

PyObject* live_reduce(PyObject* self, PyObject*) {  // pickles as the plain container
  PyObject* copy = live_copy(self);
  if (!copy) return nullptr;
  return Py_BuildValue("(O(N))", reinterpret_cast<PyObject*>(Py_TYPE(copy)), copy);
}

#define MATX_LIVE_MUTATOR(n) \
  PyObject* live_##n(PyObject* self, PyObject* args, PyObject* kwargs) { return live_mutate(self, #n, args, kwargs); }
MATX_LIVE_MUTATOR(extend)
MATX_LIVE_MUTATOR(insert)
MATX_LIVE_MUTATOR(pop)
MATX_LIVE_MUTATOR(remove)
MATX_LIVE_MUTATOR(clear)
MATX_LIVE_MUTATOR(sort)
MATX_LIVE_MUTATOR(reverse)
MATX_LIVE_MUTATOR(update)
MATX_LIVE_MUTATOR(setdefault)
MATX_LIVE_MUTATOR(popitem)
MATX_LIVE_MUTATOR(discard)
MATX_LIVE_MUTATOR(difference_update)
MATX_LIVE_MUTATOR(intersection_update)
MATX_LIVE_MUTATOR(symmetric_difference_update)
#undef MATX_LIVE_MUTATOR

#define MATX_LIVE_M(n) {#n, reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(live_##n)), \
                        METH_VARARGS | METH_KEYWORDS, nullptr}
PyMethodDef live_list_methods[] = {
    {"append", live_add, METH_O, "append an item to the instance's list"},
    MATX_LIVE_M(extend), MATX_LIVE_M(insert), MATX_LIVE_M(pop), MATX_LIVE_M(remove), MATX_LIVE_M(clear),
    MATX_LIVE_M(sort), MATX_LIVE_M(reverse),
    {"copy", live_copy_method, METH_NOARGS, "a plain list with the items"},
    {"__reduce__", live_reduce, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};
PyMethodDef live_dict_methods[] = {
    MATX_LIVE_M(pop), MATX_LIVE_M(clear), MATX_LIVE_M(update), MATX_LIVE_M(setdefault), MATX_LIVE_M(popitem),
    {"copy", live_copy_method, METH_NOARGS, "a plain dict with the items"},
    {"__reduce__", live_reduce, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};
PyMethodDef live_set_methods[] = {
    {"add", live_add, METH_O, "add an item to the instance's set"},
    MATX_LIVE_M(pop), MATX_LIVE_M(remove), MATX_LIVE_M(discard), MATX_LIVE_M(clear), MATX_LIVE_M(update),
    MATX_LIVE_M(difference_update), MATX_LIVE_M(intersection_update), MATX_LIVE_M(symmetric_difference_update),
    {"copy", live_copy_method, METH_NOARGS, "a plain set with the items"},
    {"__reduce__", live_reduce, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};
#undef MATX_LIVE_M

PyMappingMethods live_mapping = {live_len, live_getitem, live_setitem};
PySequenceMethods live_sequence = {live_len, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, live_contains};

bool live_ready() {
  struct Kind {
    PyTypeObject* t;
    const char* name;
    PyMethodDef* methods;
  } kinds[] = {{&LiveListType, "matx_nb.List", live_list_methods},
               {&LiveDictType, "matx_nb.Dict", live_dict_methods},
               {&LiveSetType, "matx_nb.Set", live_set_methods}};
  for (auto& k : kinds) {
    k.t->tp_name = k.name;
    k.t->tp_doc = "A live handle on a container attribute of a compiled instance: changes go to the instance.";
    k.t->tp_basicsize = sizeof(Live);
    k.t->tp_flags = Py_TPFLAGS_DEFAULT;
    k.t->tp_dealloc = live_dealloc;
    k.t->tp_as_mapping = &live_mapping;
    k.t->tp_as_sequence = &live_sequence;
    k.t->tp_iter = live_iter;
    k.t->tp_repr = live_repr;
    k.t->tp_richcompare = live_richcompare;
    k.t->tp_hash = PyObject_HashNotImplemented;
    k.t->tp_getattro = live_getattro;
    k.t->tp_methods = k.methods;
    if (PyType_Ready(k.t) < 0) return false;
  }
  return true;
}
