// Errors: compiled code's exceptions as Python's, with the user's file and line.
// Included by native.cc inside its anonymous namespace, where it stands.

// ---- errors ------------------------------------------------------------------

// A module's exception class (json.JSONDecodeError...), imported once; Exception
// if the import fails.
PyObject* module_exception(const char* module, const char* name) {
  PyObject* mod = PyImport_ImportModule(module);
  PyObject* cls = mod ? PyObject_GetAttrString(mod, name) : nullptr;  // kept: one reference for the process
  Py_XDECREF(mod);
  if (!cls) PyErr_Clear();
  return cls ? cls : PyExc_Exception;
}

PyObject* exception_class(int32_t kind) {
  switch (static_cast<mx::ErrKind>(kind)) {
    case mx::ErrKind::JSONDecodeError: {
      static PyObject* cls = module_exception("json", "JSONDecodeError");
      return cls;
    }
    case mx::ErrKind::BinasciiError: {
      static PyObject* cls = module_exception("binascii", "Error");
      return cls;
    }
    case mx::ErrKind::ReError: {
      static PyObject* cls = module_exception("re", "error");
      return cls;
    }
    case mx::ErrKind::TypeError: return PyExc_TypeError;
    case mx::ErrKind::ValueError: return PyExc_ValueError;
    case mx::ErrKind::IndexError: return PyExc_IndexError;
    case mx::ErrKind::KeyError: return PyExc_KeyError;
    case mx::ErrKind::ZeroDivisionError: return PyExc_ZeroDivisionError;
    case mx::ErrKind::OverflowError: return PyExc_OverflowError;
    case mx::ErrKind::AttributeError: return PyExc_AttributeError;
    case mx::ErrKind::RuntimeError: return PyExc_RuntimeError;
    case mx::ErrKind::NotImplementedError: return PyExc_NotImplementedError;
    case mx::ErrKind::AssertionError: return PyExc_AssertionError;
    case mx::ErrKind::StopIteration: return PyExc_StopIteration;
    case mx::ErrKind::UnicodeDecodeError: return PyExc_UnicodeDecodeError;  // 5 ctor args: see make_exception
    case mx::ErrKind::UnicodeEncodeError: return PyExc_UnicodeEncodeError;
    case mx::ErrKind::MemoryError: return PyExc_MemoryError;
    case mx::ErrKind::RecursionError: return PyExc_RecursionError;
    case mx::ErrKind::LookupError: return PyExc_LookupError;
    case mx::ErrKind::ArithmeticError: return PyExc_ArithmeticError;
    case mx::ErrKind::NameError: return PyExc_NameError;
    case mx::ErrKind::UnboundLocalError: return PyExc_UnboundLocalError;
    case mx::ErrKind::OSError: return PyExc_OSError;
    case mx::ErrKind::FileNotFoundError: return PyExc_FileNotFoundError;
    case mx::ErrKind::KeyboardInterrupt: return PyExc_KeyboardInterrupt;
    default: return PyExc_Exception;
  }
}

// Text from compiled code: UTF-8 with lone surrogates in their 3-byte forms
// (str.h utf8_encode), which "surrogatepass" gives back as they were.
PyObject* decode_text(const std::string& s) {
  PyObject* r = PyUnicode_DecodeUTF8(s.data(), Py_ssize_t(s.size()), "surrogatepass");
  if (!r) {
    PyErr_Clear();
    r = PyUnicode_DecodeUTF8(s.data(), Py_ssize_t(s.size()), "replace");
  }
  return r;
}

// The key of a KeyError: compiled code sends repr(key) (codegen, dyn.h), which
// ast.literal_eval turns back into the key for the literal kinds (str, bytes,
// numbers, tuples of them, None). Any other key stays its repr text. New reference.
PyObject* key_from_repr(PyObject* text) {
  static PyObject* literal_eval = [] {
    PyObject* ast = PyImport_ImportModule("ast");
    PyObject* f = ast ? PyObject_GetAttrString(ast, "literal_eval") : nullptr;  // kept for the process
    Py_XDECREF(ast);
    if (!f) PyErr_Clear();
    return f;
  }();
  PyObject* key = literal_eval ? PyObject_CallOneArg(literal_eval, text) : nullptr;
  if (key) return key;
  PyErr_Clear();
  Py_INCREF(text);
  return text;
}

// KeyError(key), as CPython raises it: args[0] is the key and str() its repr, so
// the location goes to a note (shown under the message in tracebacks) and to
// matx_file/matx_line (set by raise_error).
PyObject* make_key_error(PyObject* cls, const std::string& msg, const std::string& where) {
  PyObject* exc;
  if (msg.empty()) {
    exc = PyObject_CallNoArgs(cls);
  } else {
    PyObject* text = decode_text(msg);
    PyObject* key = text ? key_from_repr(text) : nullptr;
    Py_XDECREF(text);
    exc = key ? PyObject_CallOneArg(cls, key) : nullptr;
    Py_XDECREF(key);
  }
  if (exc && !where.empty()) {
    PyObject* note = decode_text(where.substr(where[0] == '\n' ? 1 : 0));
    PyObject* r = note ? PyObject_CallMethod(exc, "add_note", "O", note) : nullptr;  // Python >= 3.11
    Py_XDECREF(r);
    Py_XDECREF(note);
    PyErr_Clear();
  }
  return exc;
}

// A new exception of class cls for err. Most classes take the message; the
// Unicode errors take CPython's five arguments, with the location text (`where`)
// appended to the reason so that str() shows it like for the other classes.
PyObject* make_exception(PyObject* cls, const mx_error* err, const std::string& msg, const std::string& where) {
  bool decode = cls == PyExc_UnicodeDecodeError, encode = cls == PyExc_UnicodeEncodeError;
  if (decode || encode) {
    const char* encoding = err->codec_encoding ? err->codec_encoding : "utf-8";
    const char* data = err->codec_object ? err->codec_object : "";
    int64_t len = err->codec_object ? err->codec_object_len : 0;
    // Without the codec's fields (an error from older code), the message is the reason.
    std::string reason = (err->codec_reason ? std::string(err->codec_reason) : msg) + where;
    PyObject* r = decode_text(reason);
    if (!r) return nullptr;
    // The object decoded (bytes) or encoded (str), built here rather than with
    // "y#" so that no PY_SSIZE_T_CLEAN is needed.
    PyObject* obj = decode ? PyBytes_FromStringAndSize(data, Py_ssize_t(len))
                           : PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, data, Py_ssize_t(len / 4));
    PyObject* exc = obj ? PyObject_CallFunction(cls, "sOnnO", encoding, obj, Py_ssize_t(err->codec_start),
                                                Py_ssize_t(err->codec_end), r)
                        : nullptr;
    Py_XDECREF(obj);
    Py_DECREF(r);
    return exc;
  }
  if (cls == PyExc_KeyError) return make_key_error(cls, msg, where);
  std::string full = msg + where;
  PyObject* text = decode_text(full);
  if (!text) return nullptr;
  PyObject* exc;
  if (err->kind == int32_t(mx::ErrKind::JSONDecodeError)) {
    // JSONDecodeError(msg, doc, pos) formats its own text; ours already has the position.
    exc = PyObject_CallFunction(cls, "Osi", text, "", 0);
    PyObject* args = exc ? PyTuple_Pack(1, text) : nullptr;
    if (args) PyObject_SetAttrString(exc, "args", args);
    Py_XDECREF(args);
  } else {
    exc = PyObject_CallOneArg(cls, text);
  }
  Py_DECREF(text);
  return exc;
}

// Raises the Python exception for err; the message gets the user's file, line
// and source text appended, like a traceback's last frame.
PyObject* raise_error(mx_error* err) {
  if (err->kind == int32_t(mx::ErrKind::KeyboardInterrupt) && PyErr_CheckSignals() < 0) {
    // Python's handler ran for the same Ctrl-C: its KeyboardInterrupt gives way to
    // ours, which names the line; whatever else it raised (SystemExit...) stands.
    if (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
      std::free(err->message);
      std::free(err->file);
      std::free(err->func);
      return nullptr;
    }
    PyErr_Clear();
  }
  std::string msg = err->message ? err->message : "";
  std::string where;
  if (err->file) {
    where += "\n  File \"" + std::string(err->file) + "\", line " + std::to_string(err->line) +
             ", in " + (err->func ? err->func : "?");
    PyObject* linecache = PyImport_ImportModule("linecache");
    if (linecache) {
      PyObject* line = PyObject_CallMethod(linecache, "getline", "si", err->file, err->line);
      if (line && PyUnicode_Check(line)) {
        PyObject* stripped = PyObject_CallMethod(line, "strip", nullptr);
        if (stripped && PyUnicode_GET_LENGTH(stripped) > 0) {
          const char* text = PyUnicode_AsUTF8(stripped);
          if (text) {
            where += "\n    ";
            where += text;
          }
        }
        Py_XDECREF(stripped);
      }
      Py_XDECREF(line);
      Py_DECREF(linecache);
    }
    PyErr_Clear();
  }
  PyObject* cls = exception_class(err->kind);
  PyObject* exc = make_exception(cls, err, msg, where);
  if (exc) {
    if (err->file) {
      PyObject* f = PyUnicode_FromString(err->file);
      PyObject* l = PyLong_FromLong(err->line);
      PyObject_SetAttrString(exc, "matx_file", f);
      PyObject_SetAttrString(exc, "matx_line", l);
      Py_XDECREF(f);
      Py_XDECREF(l);
    }
    PyErr_SetObject(cls, exc);
    Py_DECREF(exc);
  }
  std::free(err->message);
  std::free(err->file);
  std::free(err->func);
  std::free(err->codec_encoding);
  std::free(err->codec_object);
  std::free(err->codec_reason);
  return nullptr;
}
