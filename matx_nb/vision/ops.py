"""matx_nb.vision's ops, written in the compiled subset: each is a class, compiled
with matx_nb.script on first use (eagerly) or as part of the user's class that
holds it. The pixels are moved by the kernels in `_kernels` (C++ over OpenCV);
what is here is MATXScript's API: options, per-image arguments, sizes.

Every op takes a device first (`matx_nb.Device("cpu")`) and a batch of images
(List[NDArray], HxWxC or HxW) per call; `sync` is accepted for MATXScript's
callers and changes nothing on the CPU.
"""
import math
import random
from typing import Any, List, Optional, Tuple

from matx_nb.ndarray import NDArray

from . import _kernels as K
from .constants import (ASYNC, BORDER_CONSTANT, HORIZONTAL_FLIP, INTER_LINEAR, RESIZE_DEFAULT,
                        RESIZE_NOT_LARGER, RESIZE_NOT_SMALLER)


def _cpu(device: Any, op: str) -> str:
    """The device's name; the ops run on the CPU."""
    d = str(device)
    if d != "cpu" and not d.startswith("cpu:"):
        raise ValueError(op + ": the vision ops run on the CPU, not on '" + d + "' (use matx_nb.Device('cpu'))")
    return d


class ImdecodeOp:
    """Decodes JPEG, PNG, WebP, BMP... bytes into HxWx3 uint8 images, as
    cv2.imdecode(buf, IMREAD_COLOR); fmt "BGR" (OpenCV's order) or "RGB"."""

    def __init__(self, device: Any, fmt: str = "BGR", pool_size: int = 8) -> None:
        self.device: str = _cpu(device, "ImdecodeOp")
        self.fmt: str = fmt

    def __call__(self, images: List[bytes], sync: int = ASYNC) -> List[NDArray]:
        return K.imdecode(images, self.fmt, "ImdecodeOp")


class ImdecodeNoExceptionOp:
    """ImdecodeOp that does not raise for an image it cannot decode: it returns the
    images and a flag per image (1 decoded, 0 failed: its image is empty, 0x0x3)."""

    def __init__(self, device: Any, fmt: str = "BGR", pool_size: int = 8) -> None:
        self.device: str = _cpu(device, "ImdecodeNoExceptionOp")
        self.fmt: str = fmt

    def __call__(self, images: List[bytes], sync: int = ASYNC) -> Tuple[List[NDArray], List[int]]:
        imgs, ok = K.imdecode_noexc(images, self.fmt, "ImdecodeNoExceptionOp")
        flags: List[int] = []
        for f in ok:
            flags.append(1 if f else 0)
        return imgs, flags


class ImencodeOp:
    """Encodes uint8 images (HxWx3 in fmt's channel order, or HxW) as JPEG bytes."""

    def __init__(self, device: Any, fmt: str = "BGR", quality: int = 95, optimized_Huffman: bool = False,
                 pool_size: int = 8) -> None:
        self.device: str = _cpu(device, "ImencodeOp")
        self.fmt: str = fmt
        self.quality: int = quality
        self.optimized: bool = optimized_Huffman

    def __call__(self, images: List[NDArray], sync: int = ASYNC) -> List[bytes]:
        return K.imencode(images, self.fmt, self.quality, self.optimized, "ImencodeOp")


class ImencodeNoExceptionOp:
    """ImencodeOp returning a flag per image (1 encoded, 0 failed: its bytes are empty)."""

    def __init__(self, device: Any, fmt: str = "BGR", quality: int = 95, optimized_Huffman: bool = False,
                 pool_size: int = 8) -> None:
        self.device: str = _cpu(device, "ImencodeNoExceptionOp")
        self.fmt: str = fmt
        self.quality: int = quality
        self.optimized: bool = optimized_Huffman

    def __call__(self, images: List[NDArray], sync: int = ASYNC) -> Tuple[List[bytes], List[int]]:
        out, ok = K.imencode_noexc(images, self.fmt, self.quality, self.optimized, "ImencodeNoExceptionOp")
        flags: List[int] = []
        for f in ok:
            flags.append(1 if f else 0)
        return out, flags


class ResizeOp:
    """Resizes to size (h, w) with cv2.resize's interpolations. mode RESIZE_NOT_LARGER
    keeps the aspect ratio inside (h, w), RESIZE_NOT_SMALLER keeps it around (h, w)
    (the shorter side becomes its target; max_size bounds the longer one)."""

    def __init__(self, device: Any, size: Tuple[int, int] = (-1, -1), max_size: int = 0,
                 interp: str = INTER_LINEAR, mode: str = RESIZE_DEFAULT) -> None:
        self.device: str = _cpu(device, "ResizeOp")
        self.height: int = size[0]
        self.width: int = size[1]
        self.max_size: int = max_size
        self.interp: str = interp
        self.mode: str = mode
        if mode != RESIZE_DEFAULT and mode != RESIZE_NOT_LARGER and mode != RESIZE_NOT_SMALLER:
            raise ValueError("ResizeOp: mode '" + mode + "' is not RESIZE_DEFAULT, RESIZE_NOT_LARGER or "
                             "RESIZE_NOT_SMALLER")

    def __call__(self, images: List[NDArray], size: Optional[List[Tuple[int, int]]] = None,
                 sync: int = ASYNC) -> List[NDArray]:
        n = len(images)
        if size is not None and len(size) != n:
            raise ValueError("ResizeOp: size has " + str(len(size)) + " items for " + str(n) + " images")
        if size is None and (self.height <= 0 or self.width <= 0):
            raise ValueError("ResizeOp: give the target size either to the op or to the call")
        hs: List[int] = []
        ws: List[int] = []
        for i in range(n):
            h = self.height
            w = self.width
            if size is not None:
                h = size[i][0]
                w = size[i][1]
            shape: List[int] = images[i].shape
            if len(shape) < 2:
                raise ValueError("ResizeOp: image " + str(i) + " has " + str(len(shape)) +
                                 " dimensions; an image is HxW or HxWxC")
            h, w = K.resize_target(shape[0], shape[1], h, w, self.max_size, self.mode)
            hs.append(h)
            ws.append(w)
        return K.resize(images, hs, ws, self.interp, "ResizeOp")


class CenterCropOp:
    """Crops the (h, w) center of each image: x = (W - w) // 2, y = (H - h) // 2."""

    def __init__(self, device: Any, size: Tuple[int, int]) -> None:
        self.device: str = _cpu(device, "CenterCropOp")
        self.height: int = size[0]
        self.width: int = size[1]

    def __call__(self, images: List[NDArray], sync: int = ASYNC) -> List[NDArray]:
        xs: List[int] = []
        ys: List[int] = []
        ws: List[int] = []
        hs: List[int] = []
        for img in images:
            shape: List[int] = img.shape
            if len(shape) < 2:
                raise ValueError("CenterCropOp: an image is HxW or HxWxC")
            xs.append((shape[1] - self.width) // 2)
            ys.append((shape[0] - self.height) // 2)
            ws.append(self.width)
            hs.append(self.height)
        return K.crop(images, xs, ys, ws, hs, "CenterCropOp")


class CropOp:
    """Crops (x, y, width, height) of each image, as image[y:y+height, x:x+width]."""

    def __init__(self, device: Any) -> None:
        self.device: str = _cpu(device, "CropOp")

    def __call__(self, images: List[NDArray], x: List[int], y: List[int], width: List[int], height: List[int],
                 sync: int = ASYNC) -> List[NDArray]:
        return K.crop(images, x, y, width, height, "CropOp")


def _random_box(ih: int, iw: int, scale_lo: float, scale_hi: float, ratio_lo: float,
                ratio_hi: float) -> Tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop.get_params: (x, y, w, h) of a random crop of
    scale (of the area) and ratio (w/h, log-uniform); 10 tries, then a center crop
    within ratio."""
    area = ih * iw
    log_lo = math.log(ratio_lo)
    log_hi = math.log(ratio_hi)
    for _ in range(10):
        target = area * random.uniform(scale_lo, scale_hi)
        r = math.exp(random.uniform(log_lo, log_hi))
        w = int(round(math.sqrt(target * r)))
        h = int(round(math.sqrt(target / r)))
        if 0 < w <= iw and 0 < h <= ih:
            y = random.randint(0, ih - h)
            x = random.randint(0, iw - w)
            return x, y, w, h
    in_ratio = iw / ih
    w = iw
    h = ih
    if in_ratio < ratio_lo:
        h = int(round(w / ratio_lo))
    elif in_ratio > ratio_hi:
        w = int(round(h * ratio_hi))
    return (iw - w) // 2, (ih - h) // 2, w, h


def _random_boxes(images: List[NDArray], scale_lo: float, scale_hi: float, ratio_lo: float, ratio_hi: float,
                  op: str) -> Tuple[List[int], List[int], List[int], List[int]]:
    """_random_box for each image: the lists of x, y, width and height."""
    xs: List[int] = []
    ys: List[int] = []
    ws: List[int] = []
    hs: List[int] = []
    for img in images:
        shape: List[int] = img.shape
        if len(shape) < 2:
            raise ValueError(op + ": an image is HxW or HxWxC")
        x, y, w, h = _random_box(shape[0], shape[1], scale_lo, scale_hi, ratio_lo, ratio_hi)
        xs.append(x)
        ys.append(y)
        ws.append(w)
        hs.append(h)
    return xs, ys, ws, hs


class ImdecodeRandomCropOp:
    """ImdecodeOp, then a random crop of each image as RandomResizedCropOp picks it
    (scale of the area, ratio w/h), not resized."""

    def __init__(self, device: Any, fmt: str = "BGR", scale: Tuple[float, float] = (0.08, 1.0),
                 ratio: Tuple[float, float] = (0.75, 1.3333333333333333), pool_size: int = 8) -> None:
        self.device: str = _cpu(device, "ImdecodeRandomCropOp")
        self.fmt: str = fmt
        self.scale_lo: float = scale[0]
        self.scale_hi: float = scale[1]
        self.ratio_lo: float = ratio[0]
        self.ratio_hi: float = ratio[1]

    def __call__(self, images: List[bytes], sync: int = ASYNC) -> List[NDArray]:
        imgs = K.imdecode(images, self.fmt, "ImdecodeRandomCropOp")
        xs, ys, ws, hs = _random_boxes(imgs, self.scale_lo, self.scale_hi, self.ratio_lo, self.ratio_hi,
                                       "ImdecodeRandomCropOp")
        return K.crop(imgs, xs, ys, ws, hs, "ImdecodeRandomCropOp")


class RandomResizedCropOp:
    """torchvision's RandomResizedCrop: a random crop of scale (of the area) and
    ratio (w/h, log-uniform), resized to size (h, w); 10 tries, then a center crop
    within ratio."""

    def __init__(self, device: Any, size: Tuple[int, int], scale: Tuple[float, float] = (0.08, 1.0),
                 ratio: Tuple[float, float] = (0.75, 1.3333333333333333), interp: str = INTER_LINEAR) -> None:
        self.device: str = _cpu(device, "RandomResizedCropOp")
        self.height: int = size[0]
        self.width: int = size[1]
        self.scale_lo: float = scale[0]
        self.scale_hi: float = scale[1]
        self.ratio_lo: float = ratio[0]
        self.ratio_hi: float = ratio[1]
        self.interp: str = interp

    def __call__(self, images: List[NDArray], sync: int = ASYNC) -> List[NDArray]:
        xs, ys, ws, hs = _random_boxes(images, self.scale_lo, self.scale_hi, self.ratio_lo, self.ratio_hi,
                                       "RandomResizedCropOp")
        return K.crop_resize(images, xs, ys, ws, hs, self.height, self.width, self.interp, "RandomResizedCropOp")


class FlipOp:
    """cv2.flip: HORIZONTAL_FLIP (1), VERTICAL_FLIP (0), DIAGONAL_FLIP (-1); any
    other code leaves the image as it is. Each image flips with probability prob."""

    def __init__(self, device: Any, flip_code: int = HORIZONTAL_FLIP, prob: float = 1.1) -> None:
        self.device: str = _cpu(device, "FlipOp")
        self.flip_code: int = flip_code
        self.prob: float = prob

    def __call__(self, images: List[NDArray], flip_code: Optional[List[int]] = None,
                 sync: int = ASYNC) -> List[NDArray]:
        codes: List[int] = []
        for i in range(len(images)):
            c = self.flip_code
            if flip_code is not None and i < len(flip_code):
                c = flip_code[i]
            if self.prob < 1.0 and random.random() >= self.prob:
                c = 2
            codes.append(c)
        if flip_code is not None and len(flip_code) != len(images):
            raise ValueError("FlipOp: flip_code has " + str(len(flip_code)) + " items for " +
                             str(len(images)) + " images")
        return K.flip(images, codes, "FlipOp")


class PadOp:
    """Pads each image up to size (h, w): centered, or at the bottom and right with
    with_corner; pad_type is a BORDER_* name, pad_values the constant border's value."""

    def __init__(self, device: Any, size: Tuple[int, int], pad_values: Tuple[int, int, int] = (0, 0, 0),
                 pad_type: str = BORDER_CONSTANT, with_corner: bool = False) -> None:
        self.device: str = _cpu(device, "PadOp")
        self.height: int = size[0]
        self.width: int = size[1]
        self.value: List[float] = [float(pad_values[0]), float(pad_values[1]), float(pad_values[2])]
        self.pad_type: str = pad_type
        self.with_corner: bool = with_corner

    def __call__(self, images: List[NDArray], sync: int = ASYNC) -> List[NDArray]:
        tops: List[int] = []
        bottoms: List[int] = []
        lefts: List[int] = []
        rights: List[int] = []
        for img in images:
            shape: List[int] = img.shape
            if len(shape) < 2:
                raise ValueError("PadOp: an image is HxW or HxWxC")
            t = 0
            b = 0
            le = 0
            r = 0
            if self.width > shape[1]:
                if self.with_corner:
                    r = self.width - shape[1]
                else:
                    le = (self.width - shape[1]) // 2
                    r = self.width - shape[1] - le
            if self.height > shape[0]:
                if self.with_corner:
                    b = self.height - shape[0]
                else:
                    t = (self.height - shape[0]) // 2
                    b = self.height - shape[0] - t
            tops.append(t)
            bottoms.append(b)
            lefts.append(le)
            rights.append(r)
        return K.pad(images, tops, bottoms, lefts, rights, self.pad_type, self.value, "PadOp")


class PadWithBorderOp:
    """cv2.copyMakeBorder with per-image top, bottom, left and right paddings."""

    def __init__(self, device: Any, pad_values: Tuple[int, int, int] = (0, 0, 0),
                 pad_type: str = BORDER_CONSTANT) -> None:
        self.device: str = _cpu(device, "PadWithBorderOp")
        self.value: List[float] = [float(pad_values[0]), float(pad_values[1]), float(pad_values[2])]
        self.pad_type: str = pad_type

    def __call__(self, images: List[NDArray], top_pads: List[int], bottom_pads: List[int], left_pads: List[int],
                 right_pads: List[int], sync: int = ASYNC) -> List[NDArray]:
        return K.pad(images, top_pads, bottom_pads, left_pads, right_pads, self.pad_type, self.value,
                     "PadWithBorderOp")


class CvtColorOp:
    """cv2.cvtColor with a COLOR_* code (its name as a string)."""

    def __init__(self, device: Any, color_code: str) -> None:
        self.device: str = _cpu(device, "CvtColorOp")
        self.code: str = color_code

    def __call__(self, images: List[NDArray], sync: int = ASYNC) -> List[NDArray]:
        return K.cvt_color(images, self.code, "CvtColorOp")


class NormalizeOp:
    """(image - mean) / std * global_scale + global_shift per channel, as dtype
    (float32 or float64); mean and std have one value or one per channel."""

    def __init__(self, device: Any, mean: List[float], std: List[float], dtype: str = "float32",
                 global_shift: float = 0.0, global_scale: float = 1.0) -> None:
        self.device: str = _cpu(device, "NormalizeOp")
        self.mean: List[float] = [float(m) for m in mean]
        self.std: List[float] = [float(s) for s in std]
        self.dtype: str = dtype
        self.shift: float = global_shift
        self.scale: float = global_scale

    def __call__(self, images: List[NDArray], sync: int = ASYNC) -> List[NDArray]:
        return K.normalize(images, self.mean, self.std, self.dtype, self.shift, self.scale, "NormalizeOp")


class TransposeNormalizeOp:
    """NormalizeOp, StackOp and TransposeOp in one pass: one array, (N, C, H, W) for
    output_layout NCHW; the images share one shape."""

    def __init__(self, device: Any, mean: List[float], std: List[float], input_layout: str, output_layout: str,
                 dtype: str = "float32", global_shift: float = 0.0, global_scale: float = 1.0) -> None:
        self.device: str = _cpu(device, "TransposeNormalizeOp")
        self.mean: List[float] = [float(m) for m in mean]
        self.std: List[float] = [float(s) for s in std]
        self.input_layout: str = input_layout
        self.output_layout: str = output_layout
        self.dtype: str = dtype
        self.shift: float = global_shift
        self.scale: float = global_scale

    def __call__(self, images: List[NDArray], sync: int = ASYNC) -> NDArray:
        return K.transpose_normalize(images, self.mean, self.std, self.input_layout, self.output_layout,
                                     self.dtype, self.shift, self.scale, "TransposeNormalizeOp")


class CastOp:
    """image * alpha + beta as dtype (saturated and rounded for integer dtypes)."""

    def __init__(self, device: Any) -> None:
        self.device: str = _cpu(device, "CastOp")

    def __call__(self, images: List[NDArray], dtype: str, alpha: float = 1.0, beta: float = 0.0,
                 sync: int = ASYNC) -> List[NDArray]:
        return K.cast(images, dtype, alpha, beta, "CastOp")


class StackOp:
    """Stacks images of one shape and dtype into one (N, ...) array."""

    def __init__(self, device: Any) -> None:
        self.device: str = _cpu(device, "StackOp")

    def __call__(self, images: List[NDArray], sync: int = ASYNC) -> NDArray:
        return K.stack(images, "StackOp")


class TransposeOp:
    """Changes a batch's layout between NHWC and NCHW."""

    def __init__(self, device: Any, input_layout: str, output_layout: str) -> None:
        self.device: str = _cpu(device, "TransposeOp")
        self.input_layout: str = input_layout
        self.output_layout: str = output_layout

    def __call__(self, images: NDArray, sync: int = ASYNC) -> NDArray:
        return K.transpose(images, self.input_layout, self.output_layout, "TransposeOp")


def set_num_threads(n: int) -> None:
    """Threads the ops spread a batch over (OpenCV's pool, shared by every op in
    the process); 1 runs each batch on the calling thread."""
    K.set_num_threads(n)


def get_num_threads() -> int:
    return K.get_num_threads()
