"""matx_nb: compile annotated Python to C++ and ship it as a deployable pipeline.

    import matx_nb
    fast = matx_nb.script(fn_or_class)

Everything heavy is imported on first use, so `import matx_nb` stays cheap.
"""
from typing import Any, Optional  # re-exported annotation names

__version__ = "0.1.0"


__all__ = ["script", "trace", "load", "path_args", "CompileError", "TraceError", "PipelineError", "Any", "Dict", "List", "Optional", "Set", "Tuple",
           "FTList", "FTDict", "FTSet", "NDArray", "Device", "serialize", "deserialize", "__version__"]


# MATXScript's names (matx_nb/compat.py): containers usable as constructors and
# annotations, NDArray, serialize/deserialize.
_COMPAT = ("List", "Dict", "Set", "Tuple", "FTList", "FTDict", "FTSet", "NDArray", "serialize",
           "deserialize")


def __getattr__(name):
    if name == "script":
        from .scripting import script
        return script
    if name in ("trace", "TraceError"):
        from .pipeline import trace
        return getattr(trace, name)
    if name in ("load", "PipelineError", "path_args"):
        from .pipeline import export
        return getattr(export, name)
    if name == "NDArray":  # the real array (matx_nb/ndarray.py), not compat's placeholder
        from .ndarray import NDArray
        return NDArray
    if name in _COMPAT:
        from . import compat
        return getattr(compat, name)
    if name == "CompileError":
        from .compiler.diagnostics import CompileError
        return CompileError
    if name == "Device":
        from .device import Device
        return Device
    if name in ("vision", "array"):  # subpackages reached as attributes: matx.vision.ResizeOp
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    if name == "Regex":
        from .regex import Regex
        return Regex
    if name == "Diagnostic":
        from .compiler.diagnostics import Diagnostic
        return Diagnostic
    raise AttributeError(f"module 'matx_nb' has no attribute {name!r}")


def _install_alias():
    from . import _alias
    _alias.install()


_install_alias()


def load_ipython_extension(ip):
    """`%load_ext matx_nb`: the notebook integration lives in kernel_ext."""
    __import__("kernel_ext").load_ipython_extension(ip)
