"""`matx_nb.script`: compile a function or class and return its compiled twin
(its Python face: library.py), and script_together for a notebook cell's
objects in one library. (Not named script.py: importing a submodule
`matx_nb.script` would replace the `matx_nb.script` function.)"""
from __future__ import annotations

import inspect
from typing import Any, List

from .compiler.driver import compile_object
from .compiler.sources import unwrap
from .compiler.toolchain import DEFAULT_OPT
from .library import faces


def _from_torch(obj) -> bool:
    """Cheap test (no torch or numpy import) for objects of torch classes."""
    return any((getattr(c, "__module__", "") or "").startswith("torch") for c in type(obj).__mro__)


def script(obj: Any = None, *, opt: str = DEFAULT_OPT, force: bool = False, device: int = -1,
           format: str = "torchscript"):
    """Compiles an annotated function or class to C++ and returns its compiled twin.

    The result behaves like the Python object: same arguments, same results, the
    same exception classes. Compiled libraries are cached by source.
    Usable as a decorator, with or without arguments (``@script(opt="-O3")``).
    A torch module (a TorchScript module, or with format="aoti" an
    ExportedProgram) gives a TorchOp on `device` (-1: CPU), saved as TorchScript
    or, with format="aoti", as an AOTInductor package (docs/torch.md).
    """
    if obj is None:
        return lambda o: script(o, opt=opt, force=force, device=device, format=format)
    if _from_torch(obj):  # a torch model becomes a pipeline op (matx_nb/pipeline/torch_op.py)
        from .pipeline.torch_op import TorchOp, is_torch_module
        if is_torch_module(obj):
            return TorchOp(obj, device=device, format=format)
    result, col = compile_object(obj, opt=opt, force=force)
    return faces(result, col, [result.entry], _rebuild_instance)[0]


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
        return [faces(result, col, [result.entry], _rebuild_instance)[0]]
    return faces(result, col, [unwrap(o).__name__ for o in objs], _rebuild_instance)


def _rebuild_instance(cls, args, kwargs, state):
    obj = script(cls)(*args, **kwargs)
    for name, value in state.items():
        setattr(obj, name, value)
    return obj


def _script_at(py_func, opt: str):
    """Unpickling a compiled function: compiled again (a cache hit, in a
    DataLoader worker that was spawned rather than forked)."""
    return script(py_func, opt=opt)


def _reduce_function(fn):
    """A compiled function pickles as its Python original, by reference (the
    original must be importable by its module and name, as any function pickled)."""
    py_func = getattr(fn, "__matx_py__", None)
    if py_func is None:
        raise TypeError(f"cannot pickle the compiled function {fn.__name__}: it was not compiled here from a Python "
                        "function (an op of a loaded pipeline folder)")
    result = getattr(fn, "matx", None)
    return _script_at, (py_func, getattr(result, "opt", "") or DEFAULT_OPT)


def _register_pickling() -> None:
    import copyreg
    from . import _native
    copyreg.pickle(_native.Function, _reduce_function)


_register_pickling()
