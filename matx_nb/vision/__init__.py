"""matx_nb.vision: MATXScript's vision ops on the CPU, over OpenCV.

    import matx_nb as matx
    from matx_nb import vision
    dev = matx.Device("cpu")
    decode = vision.ImdecodeOp(dev, "RGB")
    resize = vision.ResizeOp(dev, (256, 256), mode=vision.RESIZE_NOT_SMALLER)
    imgs = resize(decode([jpeg_bytes]))

Each op is a class written in the compiled subset (ops.py, geometry.py),
compiled with matx_nb.script on first use; as an attribute of a class you
compile, it is compiled into that class's library. See docs/vision.md.
"""
from __future__ import annotations

from .constants import *  # noqa: F401,F403
from .constants import COLOR_CODES  # noqa: F401

_OPS = {
    "ops": ("ImdecodeOp", "ImdecodeNoExceptionOp", "ImencodeOp", "ImencodeNoExceptionOp", "ResizeOp",
            "CenterCropOp", "CropOp", "RandomResizedCropOp", "ImdecodeRandomCropOp", "FlipOp", "PadOp", "PadWithBorderOp", "CvtColorOp",
            "NormalizeOp", "TransposeNormalizeOp", "CastOp", "StackOp", "TransposeOp",
            "set_num_threads", "get_num_threads"),
    "geometry": ("WarpAffineOp", "WarpPerspectiveOp", "RotateOp", "FindContoursOp", "ArcLengthOp",
                 "ApproxPolyDPOp", "MinAreaRectOp", "BoxPointsOp", "FillPolyOp", "EstimateAffinePartial2DOp"),
    "fused": ("EvalChainOp",),
}
_WHERE = {name: mod for mod, names in _OPS.items() for name in names}
_compiled: dict = {}


def _check_opencv() -> None:
    from ..compiler import system_libs, toolchain
    if toolchain.opencv_include() is None:
        lib = system_libs.library_for(header="opencv2/core.hpp")
        raise ImportError("matx_nb.vision needs OpenCV's C++ headers and libraries, which are not installed. "
                          "Install them with one of:\n" + "\n".join("  " + c for c in lib.install_commands()))


_check_opencv()


def _fuse(graph) -> None:
    """matx_nb.trace's pass over a recorded graph (fusion.py)."""
    from .fusion import fuse_eval_chains
    fuse_eval_chains(graph, __getattr__("EvalChainOp"))


def _register_passes() -> None:
    from ..pipeline.graph import PASSES
    if _fuse not in PASSES:
        PASSES.append(_fuse)


_register_passes()


def __matx_source__(name: str):
    """The Python object behind the op `name` (what compiled code refers to by
    vision.<name>), without compiling it; None if there is none."""
    if name not in _WHERE:
        return None
    import importlib
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


def __getattr__(name: str):
    if name in _WHERE:
        if name not in _compiled:
            import matx_nb
            _compiled[name] = matx_nb.script(__matx_source__(name))
        return _compiled[name]
    raise AttributeError(f"module 'matx_nb.vision' has no attribute {name!r}")


__all__ = sorted(_WHERE) + [n for n in dir() if n.isupper()]
