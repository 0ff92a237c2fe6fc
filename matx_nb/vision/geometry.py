"""matx_nb.vision's warps and shape ops, in the compiled subset (see ops.py):
RotateOp, WarpAffineOp, WarpPerspectiveOp over cv2's warps, and the thin ops
over cv2's contour and polygon functions. Points are (N, 2) arrays."""
from typing import Any, List, Optional, Tuple

from matx_nb.ndarray import NDArray

from . import _kernels as K
from .constants import ASYNC, BORDER_CONSTANT, CHAIN_APPROX_SIMPLE, INTER_LINEAR, RETR_EXTERNAL
from .ops import _cpu


def _flat(m: List[List[float]], rows: int, op: str, i: int) -> List[float]:
    """A rows x 3 matrix, row by row."""
    if len(m) != rows:
        raise ValueError(op + ": matrix " + str(i) + " has " + str(len(m)) + " rows; it needs " + str(rows))
    out: List[float] = []
    for r in m:
        if len(r) != 3:
            raise ValueError(op + ": matrix " + str(i) + " has a row of " + str(len(r)) + " numbers; it needs 3")
        for x in r:
            out.append(float(x))
    return out


def _sizes(images: List[NDArray], dsize: Optional[List[Tuple[int, int]]], op: str,
           hs: List[int], ws: List[int]) -> None:
    """Output (h, w) per image: dsize's, or the image's own."""
    if dsize is not None and len(dsize) != len(images):
        raise ValueError(op + ": dsize has " + str(len(dsize)) + " items for " + str(len(images)) + " images")
    for i in range(len(images)):
        if dsize is not None:
            hs.append(dsize[i][0])
            ws.append(dsize[i][1])
        else:
            shape: List[int] = images[i].shape
            if len(shape) < 2:
                raise ValueError(op + ": image " + str(i) + " is not HxW or HxWxC")
            hs.append(shape[0])
            ws.append(shape[1])


def _warp_args(images: List[NDArray], matrix: List[List[List[float]]], dsize: Optional[List[Tuple[int, int]]],
               rows: int, op: str) -> Tuple[List[List[float]], List[int], List[int]]:
    """A warp's per-image matrices (flat) and output heights and widths."""
    if len(matrix) != len(images):
        raise ValueError(op + ": matrix has " + str(len(matrix)) + " items for " + str(len(images)) + " images")
    mats: List[List[float]] = []
    for i in range(len(matrix)):
        mats.append(_flat(matrix[i], rows, op, i))
    hs: List[int] = []
    ws: List[int] = []
    _sizes(images, dsize, op, hs, ws)
    return mats, hs, ws


class WarpAffineOp:
    """cv2.warpAffine with a 2x3 matrix per image; dsize (h, w) per image, or the image's size."""

    def __init__(self, device: Any, pad_type: str = BORDER_CONSTANT, pad_values: Tuple[int, int, int] = (0, 0, 0),
                 interp: str = INTER_LINEAR) -> None:
        self.device: str = _cpu(device, "WarpAffineOp")
        self.pad_type: str = pad_type
        self.value: List[float] = [float(pad_values[0]), float(pad_values[1]), float(pad_values[2])]
        self.interp: str = interp

    def __call__(self, images: List[NDArray], matrix: List[List[List[float]]],
                 dsize: Optional[List[Tuple[int, int]]] = None, sync: int = ASYNC) -> List[NDArray]:
        mats, hs, ws = _warp_args(images, matrix, dsize, 2, "WarpAffineOp")
        return K.warp_affine(images, mats, hs, ws, self.interp, self.pad_type, self.value, "WarpAffineOp")


class WarpPerspectiveOp:
    """cv2.warpPerspective with a 3x3 matrix per image; dsize (h, w) per image, or the image's size."""

    def __init__(self, device: Any, pad_type: str = BORDER_CONSTANT, pad_values: Tuple[int, int, int] = (0, 0, 0),
                 interp: str = INTER_LINEAR) -> None:
        self.device: str = _cpu(device, "WarpPerspectiveOp")
        self.pad_type: str = pad_type
        self.value: List[float] = [float(pad_values[0]), float(pad_values[1]), float(pad_values[2])]
        self.interp: str = interp

    def __call__(self, images: List[NDArray], matrix: List[List[List[float]]],
                 dsize: Optional[List[Tuple[int, int]]] = None, sync: int = ASYNC) -> List[NDArray]:
        mats, hs, ws = _warp_args(images, matrix, dsize, 3, "WarpPerspectiveOp")
        return K.warp_perspective(images, mats, hs, ws, self.interp, self.pad_type, self.value,
                                  "WarpPerspectiveOp")


class RotateOp:
    """Rotates each image by its angle (degrees, counter-clockwise, as
    cv2.getRotationMatrix2D) about its center (y, x), by default (H // 2, W // 2).
    expand: the output grows to hold the whole rotated image; else it keeps the size."""

    def __init__(self, device: Any, pad_type: str = BORDER_CONSTANT, pad_values: Tuple[int, int, int] = (0, 0, 0),
                 interp: str = INTER_LINEAR, expand: bool = False) -> None:
        self.device: str = _cpu(device, "RotateOp")
        self.pad_type: str = pad_type
        self.value: List[float] = [float(pad_values[0]), float(pad_values[1]), float(pad_values[2])]
        self.interp: str = interp
        self.expand: bool = expand

    def __call__(self, images: List[NDArray], angles: List[float], center: Optional[List[Tuple[int, int]]] = None,
                 sync: int = ASYNC) -> List[NDArray]:
        n = len(images)
        if len(angles) != n:
            raise ValueError("RotateOp: angles has " + str(len(angles)) + " items for " + str(n) + " images")
        if center is not None and len(center) != n:
            raise ValueError("RotateOp: center has " + str(len(center)) + " items for " + str(n) + " images")
        mats: List[List[float]] = []
        hs: List[int] = []
        ws: List[int] = []
        for i in range(n):
            shape: List[int] = images[i].shape
            if len(shape) < 2:
                raise ValueError("RotateOp: image " + str(i) + " is not HxW or HxWxC")
            h = shape[0]
            w = shape[1]
            cy = h // 2
            cx = w // 2
            if center is not None:
                cy = center[i][0]
                cx = center[i][1]
            m = K.rotation_matrix(float(cx), float(cy), float(angles[i]), 1.0)
            if self.expand:
                cos = abs(m[0])
                sin = abs(m[1])
                nw = int(h * sin + w * cos + 0.5)
                nh = int(h * cos + w * sin + 0.5)
                m[2] += nw / 2.0 - cx
                m[5] += nh / 2.0 - cy
                h = nh
                w = nw
            mats.append(m)
            hs.append(h)
            ws.append(w)
        return K.warp_affine(images, mats, hs, ws, self.interp, self.pad_type, self.value, "RotateOp")


class FindContoursOp:
    """cv2.findContours on a one-channel uint8 image: the contours, each (N, 2) int32."""

    def __init__(self, device: Any, mode: str = RETR_EXTERNAL, method: str = CHAIN_APPROX_SIMPLE) -> None:
        self.device: str = _cpu(device, "FindContoursOp")
        self.mode: str = mode
        self.method: str = method

    def __call__(self, image: NDArray) -> List[NDArray]:
        return K.find_contours(image, self.mode, self.method, "FindContoursOp")


class ArcLengthOp:
    """cv2.arcLength of a curve of (N, 2) points."""

    def __init__(self, device: Any) -> None:
        self.device: str = _cpu(device, "ArcLengthOp")

    def __call__(self, curve: NDArray, closed: bool) -> float:
        return K.arc_length(curve, closed, "ArcLengthOp")


class ApproxPolyDPOp:
    """cv2.approxPolyDP of a curve of (N, 2) points."""

    def __init__(self, device: Any) -> None:
        self.device: str = _cpu(device, "ApproxPolyDPOp")

    def __call__(self, curve: NDArray, epsilon: float, closed: bool) -> NDArray:
        return K.approx_poly_dp(curve, epsilon, closed, "ApproxPolyDPOp")


class MinAreaRectOp:
    """cv2.minAreaRect of (N, 2) points: ((cx, cy), (w, h), angle)."""

    def __init__(self, device: Any) -> None:
        self.device: str = _cpu(device, "MinAreaRectOp")

    def __call__(self, points: NDArray) -> Tuple[Tuple[float, float], Tuple[float, float], float]:
        r = K.min_area_rect(points, "MinAreaRectOp")
        return (r[0], r[1]), (r[2], r[3]), r[4]


class BoxPointsOp:
    """cv2.boxPoints of a rotated rectangle ((cx, cy), (w, h), angle): (4, 2) float32."""

    def __init__(self, device: Any) -> None:
        self.device: str = _cpu(device, "BoxPointsOp")

    def __call__(self, rect: Tuple[Tuple[float, float], Tuple[float, float], float]) -> NDArray:
        return K.box_points([rect[0][0], rect[0][1], rect[1][0], rect[1][1], rect[2]], "BoxPointsOp")


class FillPolyOp:
    """cv2.fillPoly on a copy of the image: polygons of (N, 2) points, a color per channel."""

    def __init__(self, device: Any) -> None:
        self.device: str = _cpu(device, "FillPolyOp")

    def __call__(self, image: NDArray, polys: List[NDArray], color: List[float]) -> NDArray:
        return K.fill_poly(image, polys, [float(c) for c in color], "FillPolyOp")


class EstimateAffinePartial2DOp:
    """cv2.estimateAffinePartial2D(from, to) with its defaults (RANSAC, threshold 3):
    the 2x3 similarity (rotation, uniform scale, translation) mapping (N, 2) points
    `from_` to `to`, and an inlier flag (1/0) per point; an empty matrix where
    there is no estimate. Deterministic: the same points give the same answer."""

    def __init__(self, device: Any) -> None:
        self.device: str = _cpu(device, "EstimateAffinePartial2DOp")

    def __call__(self, from_: NDArray, to: NDArray) -> Tuple[List[List[float]], List[int]]:
        m, ok = K.estimate_affine_partial_2d(from_, to, "EstimateAffinePartial2DOp")
        mat: List[List[float]] = []
        if len(m) == 6:
            mat = [[m[0], m[1], m[2]], [m[3], m[4], m[5]]]
        flags: List[int] = []
        for f in ok:
            flags.append(1 if f else 0)
        return mat, flags
