"""Compiled libraries as Python objects: a library is loaded once per file (a
file replaced at its path is loaded anew) and its functions and classes get
Python faces: a compiled function with the Python original's name, docstring
and keyword handling, a compiled class whose instances live in C++. Used by
`matx_nb.script` (scripting.py) and by the pipeline executor for a saved
folder's ops (open_library)."""
from __future__ import annotations

import dataclasses
import os
import threading
from typing import Any, Callable, Dict, List, Optional

from .compiler.diagnostics import CompileError
from .compiler.driver import CompileResult, report

_loaded: Dict[tuple, tuple] = {}  # (path, file identity) -> (capsule, function names, class names)
_lock = threading.Lock()
_classes: Dict[tuple, type] = {}  # (Python class, library path) -> its compiled class


def _native():
    from . import _native
    return _native


def _open(path) -> tuple:
    """(capsule, function names, class names) of the library file at path, loaded
    once per file: a file replaced at the same path (a pipeline saved again, a
    forced rebuild) is loaded anew (the runtime's dlopen_current)."""
    path = str(path)
    try:
        st = os.stat(path)
        key = (path, st.st_dev, st.st_ino, st.st_mtime_ns)
    except OSError:
        key = (path,)  # load_library raises the clear error
    with _lock:
        lib = _loaded.get(key)
        if lib is None:
            lib = _native().load_library(path)[:3]
            _loaded[key] = lib
    return lib


def load_library(result: CompileResult, collector) -> tuple:
    """dlopens a compiled library once per process and tells it where its code lives."""
    lib = _open(result.library)
    cap = lib[0]
    # File and first line of each object, as of now: the cached library is shared
    # by copies of the code at other places.
    result.origins = []
    for i, name in enumerate(collector.order):
        src = collector.sources[name]
        _native().set_origin(cap, i, src.file, src.first_line)
        result.origins.append([src.file, src.first_line, name])
    return lib


def open_library(path: str, origins=()) -> tuple:
    """Loads a compiled library by path (an exported pipeline's op): returns
    ({function name: compiled function}, {class name: compiled class})."""
    cap, funcs, classes = _open(path)
    for i, (file, line, _name) in enumerate(origins):
        _native().set_origin(cap, i, file, int(line))
    fns = {name: _with_kwargs(_native().function(cap, i)) for i, name in enumerate(funcs)}
    result = CompileResult(entry="", library=path, cpp=None, cache_hit=True)
    result.origins = [list(o) for o in origins]
    for f in fns.values():
        f.matx = result
    cls = {}
    for i, name in enumerate(classes):
        shell = type(name, (), {"__module__": "matx_nb.exported", "__qualname__": name, "__doc__": None})
        cls[name] = _wrap_class(shell, cap, classes, result, idx=i,
                                register=not _native().class_registered(cap, i), func_names=funcs)
    return fns, cls


def _with_kwargs(fn):
    """A compiled function with **kwargs takes the keywords none of its
    parameters names as one dict, in its slot "**name": this adapter collects
    them (other functions are returned as they are)."""
    params = [name for name, _ in fn.signature[0]]
    slot = next((p for p in params if p.startswith("**")), None)
    if slot is None:
        return fn
    named = frozenset(p for p in params if not p.startswith("*"))

    def call(*args, **kwargs):
        if slot not in kwargs:  # (a replayed call, e.g. by tracing, passes the dict itself)
            kwargs[slot] = {k: kwargs.pop(k) for k in [k for k in kwargs if k not in named]}
        return fn(*args, **kwargs)
    call.__matx_native__ = fn
    call.__name__ = getattr(fn, "__name__", "compiled")
    return call


def _wrap_function(fn, cap, names, result):
    native = _native()
    if result.entry not in names:
        from .compiler.diagnostics import Diagnostic, Span
        code = fn.__code__
        raise CompileError([Diagnostic(
            Span(code.co_filename, code.co_firstlineno, 0),
            f"{fn.__name__}() takes or returns a function value, so it can be called only from "
            "compiled code", "compile a function that calls it instead")])
    native_fn = native.function(cap, names.index(result.entry))
    f = _with_kwargs(native_fn)
    for g in {id(f): f, id(native_fn): native_fn}.values():  # tracing sees the native one
        g.py_func = fn
        g.__matx_py__ = fn
        g.__doc__ = fn.__doc__
        g.__qualname__ = fn.__qualname__
        g.__module__ = fn.__module__
        g.__wrapped__ = fn
        g.matx = result
    return f


def _wrap_class(cls, cap, class_names, result, idx=None, register=True, func_names=(),
                rebuild: Optional[Callable] = None):
    native = _native()
    if idx is None:
        idx = class_names.index(result.entry)
    init, methods, attrs, types = native.class_members(cap, idx)
    # Static and class methods are the library's functions named "Class.method",
    # held as staticmethods: C.m(...) and obj.m(...) call them without the instance
    # (a classmethod's compiled copy for this class already knows its cls).
    prefix = class_names[idx] + "."
    for i, name in enumerate(func_names):
        if name.startswith(prefix):
            methods = dict(methods)
            f = native.function(cap, i)
            f.matx = result  # a function op for tracing
            methods[name[len(prefix):]] = staticmethod(_with_kwargs(f))
    methods = {k: _with_kwargs(v) if not isinstance(v, staticmethod) else v for k, v in methods.items()}
    ns = {"__matx_init__": _with_kwargs(init), "__matx_py__": cls, "py_class": cls, "matx": result,
          "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__,
          "__annotations__": dict(types), "__slots__": ()}
    ns.update(methods)
    ns.update(attrs)
    if "__repr__" not in methods:
        ns["__repr__"] = lambda self: f"<compiled {cls.__qualname__} object at {id(self):#x}>"
    attr_names = list(attrs)

    def __reduce__(self):
        # Pickled as "compile the class again, call it with the recorded
        # constructor arguments, restore the attributes" (DataLoader workers).
        ctor = getattr(self, "__matx_ctor__", None)
        if ctor is None or rebuild is None:
            raise TypeError(f"cannot pickle this compiled {cls.__qualname__}: it was not constructed "
                            "from Python with arguments that can be recorded")
        state = {a: getattr(self, a) for a in attr_names}
        return (rebuild, (cls, tuple(ctor[0]), dict(ctor[1] or {}), state))
    ns["__reduce__"] = __reduce__
    compiled = type(cls.__name__, (native.ScriptedObject,), ns)
    if register:
        native.register_class(cap, idx, compiled)
    return compiled


def faces(result, col, names: List[str], rebuild: Optional[Callable] = None) -> List[Any]:
    """The Python faces of the named objects of a compiled program. rebuild(cls,
    args, kwargs, state): how a pickled instance of a compiled class is made
    again (a module-level function: scripting.py compiles the class again)."""
    report("loading")
    cap, funcs, classes = load_library(result, col)
    # Classes compiled as dependencies get a Python face too, so their instances
    # returned to Python read like the class (unless already scripted on their own).
    for i, name in enumerate(classes):
        if name not in names and not _native().class_registered(cap, i):
            _wrap_class(col.sources[name].obj, cap, classes, result, idx=i, func_names=funcs, rebuild=rebuild)
    out = []
    for name in names:
        try:
            out.append(_face(dataclasses.replace(result, entry=name) if name != result.entry else result,
                               col.sources[name].obj, cap, funcs, classes, rebuild))
        except CompileError as e:  # this object only (it takes function values): not the others
            if len(names) == 1:
                raise
            out.append(e)
    return out


def _face(result, target, cap, funcs, classes, rebuild):
    if isinstance(target, type):
        # One compiled class per Python class and library: scripting it again
        # (a cache hit, or unpickling in a worker) gives the same type.
        key = (target, str(result.library))
        with _lock:
            wrapped = _classes.get(key)
        if wrapped is None:
            wrapped = _wrap_class(target, cap, classes, result, func_names=funcs, rebuild=rebuild)
            with _lock:
                wrapped = _classes.setdefault(key, wrapped)
        return wrapped
    return _wrap_function(target, cap, funcs, result)
