"""Ops that matx_nb.trace puts in place of a run of ops (vision/fusion.py), written
in the compiled subset like the ops they replace."""
from typing import List

from matx_nb.ndarray import NDArray

from . import _kernels as K
from .constants import ASYNC
from .ops import CenterCropOp, ImdecodeOp, ResizeOp, TransposeNormalizeOp


class EvalChainOp:
    """ImdecodeOp -> ResizeOp -> CenterCropOp -> TransposeNormalizeOp as one op: each
    image goes through the four steps while its pixels are in cache, and the
    resize computes only what the crop keeps. The result is the four ops' own,
    bit for bit. Where the one-pass kernel does not take a batch (an image it
    cannot decode, a crop larger than a resized image...), the four ops run one
    after the other and give their result or their error."""

    def __init__(self, decode: ImdecodeOp, resize: ResizeOp, crop: CenterCropOp,
                 norm: TransposeNormalizeOp) -> None:
        self.decode: ImdecodeOp = decode
        self.resize: ResizeOp = resize
        self.crop: CenterCropOp = crop
        self.norm: TransposeNormalizeOp = norm
        # The options, as the one-pass kernel takes them (fields of this object, so
        # that a call only reads it: threads share it, runtime lock.h).
        self.fmt: str = decode.fmt
        self.height: int = resize.height
        self.width: int = resize.width
        self.max_size: int = resize.max_size
        self.interp: str = resize.interp
        self.mode: str = resize.mode
        self.crop_height: int = crop.height
        self.crop_width: int = crop.width
        self.mean: List[float] = norm.mean
        self.std: List[float] = norm.std
        self.input_layout: str = norm.input_layout
        self.output_layout: str = norm.output_layout
        self.dtype: str = norm.dtype
        self.shift: float = norm.shift
        self.scale: float = norm.scale

    def __call__(self, images: List[bytes], sync: int = ASYNC) -> NDArray:
        out = K.eval_chain(images, self.fmt, self.height, self.width, self.max_size, self.interp, self.mode,
                           self.crop_height, self.crop_width, self.mean, self.std, self.input_layout,
                           self.output_layout, self.dtype, self.shift, self.scale, "EvalChainOp")
        if len(out) == 1:
            return out[0]
        return self.norm(self.crop(self.resize(self.decode(images))))
