"""`matx_nb.NDArray` in Python: the array compiled code returns, and the
constructor MATXScript code calls (`matx.NDArray(data, shape, dtype)`).

It is a thin view over a numpy array (a torch tensor for GPU memory): nothing
is copied on the way in or out of compiled code, where arrays travel as DLPack
tensors. `nd.numpy()` and `nd.torch()` share its memory, and numpy arrays,
torch tensors and anything with `__dlpack__` are accepted where compiled code
declares an `NDArray` parameter.

The methods are those compiled code has (docs/ndarray.md), so an op behaves the
same run as Python or compiled.
"""
from __future__ import annotations

from typing import Any, List, Optional

import numpy as np

_DLPACK_CPU = 1


class NDArray:
    """An n-dimensional array: dtype, shape, strides, device."""

    __slots__ = ("_a",)

    def __init__(self, data: Any = None, shape: Optional[List[int]] = None, dtype: Optional[str] = None):
        if isinstance(data, NDArray):
            data = data._a
        a = np.asarray(data, dtype=_np_dtype(dtype) if dtype is not None else None)  # arrays: shared
        if shape:
            a = a.reshape(list(shape))
        self._a = a

    def __class_getitem__(cls, params):  # NDArray[...] in annotations, as in MATXScript
        return cls

    @classmethod
    def _wrap(cls, a) -> "NDArray":
        nd = cls.__new__(cls)
        nd._a = a
        return nd

    # ---- exchange ---------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """A numpy array sharing this array's memory (CPU arrays only)."""
        if not isinstance(self._a, np.ndarray):
            return self._a.cpu().numpy()
        return self._a

    def torch(self, copy: bool = False):
        """A torch tensor sharing this array's memory (through DLPack)."""
        import torch
        if isinstance(self._a, np.ndarray):
            t = torch.from_dlpack(self._a) if self._a.flags.writeable else torch.from_numpy(self._a.copy())
        else:
            t = self._a
        return t.clone() if copy else t

    def __dlpack__(self, *args, **kwargs):
        return self._a.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    # ---- the methods compiled code has ------------------------------------
    def shape(self) -> List[int]:
        return list(self._a.shape)

    def dtype(self) -> str:
        return str(self._a.dtype).replace("torch.", "")

    def ndim(self) -> int:
        return self._a.ndim

    def size(self) -> int:
        return int(np.prod(self._a.shape)) if self._a.ndim else 1

    def device(self) -> str:
        kind, idx = self._a.__dlpack_device__()
        return "cpu" if int(kind) == _DLPACK_CPU else f"cuda:{idx}"

    def is_contiguous(self) -> bool:
        return bool(self._a.flags.c_contiguous)

    def contiguous(self) -> "NDArray":
        return self if self.is_contiguous() else NDArray._wrap(np.ascontiguousarray(self._a))

    def reshape(self, shape: List[int]) -> "NDArray":
        return NDArray._wrap(self._a.reshape(list(shape)))

    def tolist(self) -> Any:
        return self._a.tolist()

    def get(self, index) -> Any:
        r = self._a[tuple(index) if isinstance(index, (list, tuple)) else index]
        return NDArray._wrap(r) if isinstance(r, np.ndarray) else r.item()

    def set(self, index, value) -> None:
        self._a[tuple(index) if isinstance(index, (list, tuple)) else index] = value

    def astype(self, dtype: str) -> "NDArray":
        return NDArray._wrap(self._a.astype(_np_dtype(dtype)))

    def add(self, other) -> "NDArray":
        return NDArray._wrap(np.add(self._a, _operand(other)))

    def sub(self, other) -> "NDArray":
        return NDArray._wrap(np.subtract(self._a, _operand(other)))

    def mul(self, other) -> "NDArray":
        return NDArray._wrap(np.multiply(self._a, _operand(other)))

    def truediv(self, other) -> "NDArray":
        return NDArray._wrap(np.true_divide(self._a, _operand(other)))

    __add__, __sub__, __mul__, __truediv__ = add, sub, mul, truediv

    def sum(self) -> Any:
        return self._a.sum().item()

    def __len__(self) -> int:
        return len(self._a)

    def __getitem__(self, index):
        return self.get(index)

    def __eq__(self, other):
        return isinstance(other, NDArray) and self.shape() == other.shape() and bool(np.array_equal(self._a, other._a))

    __hash__ = None

    def __repr__(self) -> str:
        return f"NDArray({self._a.tolist()!r}, shape={self.shape()}, dtype='{self.dtype()}')"


def _np_dtype(dtype: str):
    return {"int": np.int64, "float": np.float64}.get(dtype, dtype)


def _operand(x):
    return x._a if isinstance(x, NDArray) else x


# ---- the binding's helpers (runtime/python/native.cc) -----------------------
class _Capsule:
    """Hands a DLPack capsule to from_dlpack, which wants an object with __dlpack__."""

    __slots__ = ("cap", "device")

    def __init__(self, cap, device):
        self.cap, self.device = cap, device

    def __dlpack__(self, *args, **kwargs):
        return self.cap

    def __dlpack_device__(self):
        return self.device


def _from_capsule(cap, device_type: int, device_id: int) -> NDArray:
    """An array compiled code returned, as a DLPack capsule: shared, not copied."""
    holder = _Capsule(cap, (device_type, device_id))
    if device_type == _DLPACK_CPU:
        return NDArray._wrap(np.from_dlpack(holder))
    import torch
    return NDArray._wrap(torch.from_dlpack(holder))


def _export(obj):
    """The DLPack capsule of an array passed to compiled code. Shared memory
    where the producer allows it; a read-only numpy array (numpy refuses to
    export it) and a tensor that requires grad are copied / detached."""
    if isinstance(obj, NDArray):
        obj = obj._a
    if isinstance(obj, np.ndarray) and not obj.flags.writeable:
        obj = obj.copy()
    if getattr(obj, "requires_grad", False):
        obj = obj.detach()
    return obj.__dlpack__()
