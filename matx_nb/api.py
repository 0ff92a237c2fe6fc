"""`matx_nb.script`: compile a function or class and return its compiled twin."""
from __future__ import annotations

import dataclasses
import inspect
import os
import threading
from typing import Any, Dict, List

from .compiler.diagnostics import CompileError
from .compiler.driver import CompileResult, compile_object, report
from .compiler.sources import unwrap
from .compiler.toolchain import DEFAULT_OPT

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


def _from_torch(obj) -> bool:
    """Cheap test (no torch or numpy import) for objects of torch classes."""
    return any((getattr(c, "__module__", "") or "").startswith("torch") for c in type(obj).__mro__)


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


def _wrap_class(cls, cap, class_names, result, idx=None, register=True, func_names=()):
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
        if ctor is None or cls.__module__ == "matx_nb.exported":
            raise TypeError(f"cannot pickle this compiled {cls.__qualname__}: it was not constructed "
                            "from Python with arguments that can be recorded")
        state = {a: getattr(self, a) for a in attr_names}
        return (_rebuild_instance, (cls, tuple(ctor[0]), dict(ctor[1] or {}), state))
    ns["__reduce__"] = __reduce__
    compiled = type(cls.__name__, (native.ScriptedObject,), ns)
    if register:
        native.register_class(cap, idx, compiled)
    return compiled


def _rebuild_instance(cls, args, kwargs, state):
    obj = script(cls)(*args, **kwargs)
    for name, value in state.items():
        setattr(obj, name, value)
    return obj


def script(obj: Any = None, *, opt: str = DEFAULT_OPT, force: bool = False, device: int = -1):
    """Compiles an annotated function or class to C++ and returns its compiled twin.

    The result behaves like the Python object: same arguments, same results, the
    same exception classes. Compiled libraries are cached by source.
    Usable as a decorator, with or without arguments (``@script(opt="-O3")``).
    A torch module (or TorchScript module) gives a TorchOp on `device` (-1: CPU).
    """
    if obj is None:
        return lambda o: script(o, opt=opt, force=force, device=device)
    if _from_torch(obj):  # a torch model becomes a pipeline op (matx_nb/torch_bridge.py)
        from .torch_bridge import TorchOp, is_torch_module
        if is_torch_module(obj):
            return TorchOp(obj, device=device)
    result, col = compile_object(obj, opt=opt, force=force)
    return _faces(result, col, [result.entry])[0]


def script_together(objs: List[Any], *, opt: str = DEFAULT_OPT, force: bool = False,
                    split: bool = True, prefer_cached: str = "") -> List[Any]:
    """script() of each of objs, compiled into one library (not one per object,
    each with its callees again): a notebook cell's functions and classes.
    split: one translation unit per function and class, each object reused while
    its code is unchanged (editing one function of the cell recompiles only it);
    else one translation unit (calls between them may be inlined).
    Returns their compiled twins in the order given; an object that can have no
    Python face (it takes or returns function values) is given as the
    CompileError that says so, and the others still work. prefer_cached: an
    optimization level whose library is taken instead if the cache has it
    (`.matx.opt` says which level each face runs)."""
    objs = list(objs)
    if len(objs) == 1 and not (split and inspect.isclass(unwrap(objs[0]))):
        if not prefer_cached:
            return [script(objs[0], opt=opt, force=force)]
        split = False  # one object: one translation unit, as script() builds it
    result, col = compile_object(objs[0], opt=opt, force=force, together=tuple(objs[1:]), split=split,
                                 prefer_cached=prefer_cached)
    if len(objs) == 1 and not split:
        return [_faces(result, col, [result.entry])[0]]
    return _faces(result, col, [unwrap(o).__name__ for o in objs])


def _faces(result, col, names: List[str]) -> List[Any]:
    """The Python faces of the named objects of a compiled program."""
    report("loading")
    cap, funcs, classes = load_library(result, col)
    # Classes compiled as dependencies get a Python face too, so their instances
    # returned to Python read like the class (unless already scripted on their own).
    for i, name in enumerate(classes):
        if name not in names and not _native().class_registered(cap, i):
            _wrap_class(col.sources[name].obj, cap, classes, result, idx=i, func_names=funcs)
    faces = []
    for name in names:
        try:
            faces.append(_face(dataclasses.replace(result, entry=name) if name != result.entry else result,
                               col.sources[name].obj, cap, funcs, classes))
        except CompileError as e:  # this object only (it takes function values): not the others
            if len(names) == 1:
                raise
            faces.append(e)
    return faces


def _face(result, target, cap, funcs, classes):
    if isinstance(target, type):
        # One compiled class per Python class and library: scripting it again
        # (a cache hit, or unpickling in a worker) gives the same type.
        key = (target, str(result.library))
        with _lock:
            wrapped = _classes.get(key)
        if wrapped is None:
            wrapped = _wrap_class(target, cap, classes, result, func_names=funcs)
            with _lock:
                wrapped = _classes.setdefault(key, wrapped)
        return wrapped
    return _wrap_function(target, cap, funcs, result)
