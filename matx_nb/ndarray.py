"""`matx_nb.NDArray` in Python: the array compiled code returns, and the
constructor MATXScript code calls (`matx.NDArray(data, shape, dtype)`).

It is a thin view over a numpy array, or over a torch tensor for memory on
another device (a CUDA tensor, anything whose `__dlpack_device__` is not the
CPU): nothing is copied on the way in or out of compiled code, where arrays
travel as DLPack tensors. `nd.numpy()` and `nd.torch()` share its memory (for
a CUDA array `nd.torch()` is the tensor itself, same device and address, and
`nd.numpy()` a host copy), and numpy arrays, torch tensors and anything with
`__dlpack__` are accepted where compiled code declares an `NDArray` parameter.
Compiled code runs on the CPU: reading a CUDA array there raises an error.

The methods are those compiled code has (docs/ndarray.md), so an op behaves the
same run as Python or compiled.
"""
from __future__ import annotations

import sys
from typing import Any, List, Optional

import numpy as np

_DLPACK_CPU = 1


class NDArray:
    """An n-dimensional array: dtype, shape, strides, device."""

    __slots__ = ("_a",)

    def __init__(self, data: Any = None, shape: Optional[List[int]] = None, dtype: Optional[str] = None):
        if isinstance(data, NDArray):
            data = data._a
        t = _device_tensor(data)
        if t is not None:  # device memory stays where it is, as a torch tensor
            if dtype is not None:
                t = t.to(_torch_dtype(dtype))
            self._a = t.reshape(list(shape)) if shape else t
            return
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
        """A numpy array sharing this array's memory (a host copy of a device array)."""
        if not isinstance(self._a, np.ndarray):
            return self._a.detach().cpu().numpy()
        return self._a

    def asnumpy(self) -> np.ndarray:
        """MATXScript's name for numpy()."""
        return self.numpy()

    def torch(self, copy: bool = False):
        """A torch tensor sharing this array's memory (through DLPack); for a
        device array, the tensor itself (same device, same address)."""
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
    # numpy's attributes (a.shape is a list here, as in compiled code); each
    # can also be called, MATXScript's spelling: a.shape() == a.shape.
    @property
    def shape(self) -> List[int]:
        return _Shape(self._a.shape)

    @property
    def dtype(self) -> str:
        return _Str(str(self._a.dtype).replace("torch.", ""))

    @property
    def ndim(self) -> int:
        return _Int(self._a.ndim)

    @property
    def size(self) -> int:
        return _Int(int(np.prod(self._a.shape)) if self._a.ndim else 1)

    @property
    def strides(self) -> List[int]:
        """In bytes, as numpy's."""
        a = self._a
        if isinstance(a, np.ndarray):
            return _Shape(a.strides)
        return _Shape(s * a.element_size() for s in a.stride())

    def device(self) -> str:
        """"cpu" or "cuda:N" (torch's name for any other device)."""
        if not isinstance(self._a, np.ndarray):
            d = self._a.device
            return d.type if d.type == "cpu" or d.index is None else f"{d.type}:{d.index}"
        return "cpu"

    def is_contiguous(self) -> bool:
        if not isinstance(self._a, np.ndarray):
            return bool(self._a.is_contiguous())
        return bool(self._a.flags.c_contiguous)

    def contiguous(self) -> "NDArray":
        if self.is_contiguous():
            return self
        a = self._a
        return NDArray._wrap(np.ascontiguousarray(a) if isinstance(a, np.ndarray) else a.contiguous())

    def reshape(self, *shape) -> "NDArray":
        """a.reshape([2, 3]), a.reshape((2, 3)) or a.reshape(2, 3), as numpy."""
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = shape[0]
        return NDArray._wrap(self._a.reshape(list(shape)))

    def tolist(self) -> Any:
        return self._a.tolist()

    def get(self, index) -> Any:
        r = self._a[tuple(index) if isinstance(index, (list, tuple)) else index]
        if isinstance(r, np.ndarray) or (not isinstance(self._a, np.ndarray) and r.ndim > 0):
            return NDArray._wrap(r)
        return r.item()

    def set(self, index, value) -> None:
        self._a[tuple(index) if isinstance(index, (list, tuple)) else index] = _operand(value)

    def astype(self, dtype: str) -> "NDArray":
        if not isinstance(self._a, np.ndarray):
            return NDArray._wrap(self._a.to(_torch_dtype(dtype)))
        return NDArray._wrap(self._a.astype(_np_dtype(dtype)))

    def add(self, other) -> "NDArray":
        return self._binary(np.add, other)

    def sub(self, other) -> "NDArray":
        return self._binary(np.subtract, other)

    def mul(self, other) -> "NDArray":
        return self._binary(np.multiply, other)

    def truediv(self, other) -> "NDArray":
        return self._binary(np.true_divide, other)

    def _binary(self, ufunc, other) -> "NDArray":
        a, b = self._a, _operand(other)
        if isinstance(a, np.ndarray) and not _is_tensor(b):
            return NDArray._wrap(ufunc(a, b))
        import torch  # a device array: torch does the arithmetic where the data is
        fn = {np.add: torch.add, np.subtract: torch.sub, np.multiply: torch.mul, np.true_divide: torch.true_divide}
        return NDArray._wrap(fn[ufunc](_as_torch(a), _as_torch(b) if isinstance(b, np.ndarray) else b))

    __add__, __sub__, __mul__, __truediv__ = add, sub, mul, truediv

    # 2 - a, 1 / a; and a += v in place (numpy's casting), as compiled code does.
    def __radd__(self, other):
        return NDArray._wrap(_operand(other) + self._a)

    def __rsub__(self, other):
        return NDArray._wrap(_operand(other) - self._a)

    def __rmul__(self, other):
        return NDArray._wrap(_operand(other) * self._a)

    def __rtruediv__(self, other):
        return NDArray._wrap(_operand(other) / self._a)

    def __iadd__(self, other):
        self._a += _operand(other)
        return self

    def __isub__(self, other):
        self._a -= _operand(other)
        return self

    def __imul__(self, other):
        self._a *= _operand(other)
        return self

    def __itruediv__(self, other):
        self._a /= _operand(other)
        return self

    def sum(self) -> Any:
        return self._a.sum().item()

    def __len__(self) -> int:
        return len(self._a)

    def __getitem__(self, index):
        return self.get(index)

    def __setitem__(self, index, value):
        self._a[index] = _operand(value)

    def __iter__(self):
        """Rows of the first axis (numbers for a 1-d array), as compiled code iterates."""
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self.get(i) for i in range(len(self._a)))

    def __bool__(self) -> bool:  # numpy's: one element's truth; more raise ValueError
        return bool(self._a)

    def __eq__(self, other):
        if not isinstance(other, NDArray) or self.shape() != other.shape():
            return False
        if isinstance(self._a, np.ndarray) and isinstance(other._a, np.ndarray):
            return bool(np.array_equal(self._a, other._a))
        a, b = _as_torch(self._a), _as_torch(other._a)
        return a.device == b.device and bool((a == b).all())

    __hash__ = None

    def __repr__(self) -> str:
        dev = self.device()
        where = "" if dev == "cpu" else f", device='{dev}'"
        return f"NDArray({self._a.tolist()!r}, shape={self.shape()}, dtype='{self.dtype()}'{where})"


class _Shape(list):
    """A list that calling gives back: `a.shape` and MATXScript's `a.shape()`."""

    __slots__ = ()

    def __call__(self) -> List[int]:
        return list(self)


class _Str(str):
    __slots__ = ()

    def __call__(self) -> str:
        return str(self)


class _Int(int):
    __slots__ = ()

    def __call__(self) -> int:
        return int(self)


def _np_dtype(dtype: str):
    return {"int": np.int64, "float": np.float64}.get(dtype, dtype)


def _torch_dtype(dtype: str):
    import torch
    name = {"int": "int64", "float": "float64"}.get(dtype, dtype)
    t = getattr(torch, name, None)
    if not isinstance(t, torch.dtype):
        raise TypeError(f"unknown dtype {dtype!r}")
    return t


def _operand(x):
    return x._a if isinstance(x, NDArray) else x


def _is_tensor(x) -> bool:
    torch = sys.modules.get("torch")  # no torch imported: x cannot be a tensor
    return torch is not None and isinstance(x, torch.Tensor)


def _as_torch(a):
    import torch
    return torch.from_numpy(a) if isinstance(a, np.ndarray) else a


def _device_tensor(data):
    """`data` as a torch tensor if its memory is not the CPU's (a CUDA tensor,
    or any DLPack producer on a device: taken through torch.from_dlpack, no
    copy); None for CPU data and for everything else."""
    if _is_tensor(data):
        return data if data.device.type != "cpu" else None
    dev = getattr(data, "__dlpack_device__", None)
    if dev is None or isinstance(data, np.ndarray):
        return None
    try:
        kind = int(dev()[0])
    except Exception:
        return None
    if kind == _DLPACK_CPU:
        return None
    import torch
    return torch.from_dlpack(data)


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
