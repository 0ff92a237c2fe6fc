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

    def __call__(self, images: List[bytes], sync: int = ASYNC) -> NDArray:
        rs = self.resize
        tn = self.norm
        out = K.eval_chain(images, self.decode.fmt, rs.height, rs.width, rs.max_size, rs.interp, rs.mode,
                           self.crop.height, self.crop.width, tn.mean, tn.std, tn.input_layout, tn.output_layout,
                           tn.dtype, tn.shift, tn.scale, "EvalChainOp")
        if len(out) == 1:
            return out[0]
        return self.norm(self.crop(self.resize(self.decode(images))))
