// Part of native.cc (included once, after the per-item host callbacks it builds on).
// ABI 8's bulk callbacks (abi.h): the items of a list or tuple read straight from
// its array, and lists built in one call. Called with the GIL held.
int64_t h_str_items(mx_host_obj h, int64_t start, int64_t n, mx_text* out) {
  PyObject** items = PySequence_Fast_ITEMS(O(h)) + start;
  for (int64_t j = 0; j < n; ++j) {
    PyObject* x = items[j];
    if (!PyUnicode_CheckExact(x) || !PyUnicode_IS_READY(x)) return j;
    out[j].data = PyUnicode_DATA(x);
    out[j].len = PyUnicode_GET_LENGTH(x);
    out[j].unit = int32_t(PyUnicode_KIND(x));
  }
  return n;
}
int64_t h_int_items(mx_host_obj h, int64_t start, int64_t n, int64_t* out) {
  PyObject** items = PySequence_Fast_ITEMS(O(h)) + start;
  for (int64_t j = 0; j < n; ++j) {
    PyObject* x = items[j];
    if (!PyLong_CheckExact(x)) return j;
#if PY_VERSION_HEX >= 0x030C0000
    if (PyUnstable_Long_IsCompact(reinterpret_cast<PyLongObject*>(x))) {
      out[j] = int64_t(PyUnstable_Long_CompactValue(reinterpret_cast<PyLongObject*>(x)));
      continue;
    }
#else
    Py_ssize_t size = Py_SIZE(x);  // digits, signed: one digit (30 bits) covers most ints
    if (size >= -1 && size <= 1) {
      out[j] = size == 0 ? 0 : size * int64_t(reinterpret_cast<PyLongObject*>(x)->ob_digit[0]);
      continue;
    }
#endif
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(x, &overflow);
    if (overflow) return j;  // the per-item path raises OverflowError
    out[j] = int64_t(v);
  }
  return n;
}
mx_host_obj h_new_int_list(const int64_t* v, int64_t n) {
  PyObject* l = PyList_New(n);
  if (!l) return nullptr;
  for (int64_t i = 0; i < n; ++i) {
    PyObject* x = static_cast<PyObject*>(h_new_int(v[i]));
    if (!x) {
      Py_DECREF(l);
      return nullptr;
    }
    PyList_SET_ITEM(l, i, x);
  }
  return l;
}
mx_host_obj h_new_str_list(const mx_text* v, int64_t n) {
  PyObject* l = PyList_New(n);
  if (!l) return nullptr;
  for (int64_t i = 0; i < n; ++i) {
    PyObject* x = static_cast<PyObject*>(h_new_str(v[i].unit, v[i].data, v[i].len));
    if (!x) {
      Py_DECREF(l);
      return nullptr;
    }
    PyList_SET_ITEM(l, i, x);
  }
  return l;
}
