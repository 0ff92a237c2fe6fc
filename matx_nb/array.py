"""matx_nb.array: MATXScript's constructors of NDArrays from other arrays.

    nd = matx_nb.array.from_numpy(a)   # shares a's memory (DLPack), no copy
    a2 = nd.asnumpy()                  # the same memory again
"""
from typing import Any

from .ndarray import NDArray


def from_numpy(a: Any, device: str = "cpu") -> NDArray:
    """An NDArray over numpy array a's memory (a copy only when a cannot be
    shared, e.g. a non-contiguous view is kept as a view). device: "cpu", or a
    CUDA device, where the array is copied to it with torch."""
    import numpy as np
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: a is {type(a).__name__}, not a numpy.ndarray")
    d = str(device)
    if d == "cpu" or d.startswith("cpu:"):
        return NDArray(a)
    if d.startswith(("cuda", "gpu")):
        import torch
        return NDArray(torch.from_numpy(a).to(d.replace("gpu", "cuda")))
    raise ValueError(f"from_numpy: {d!r} is not a device: 'cpu', 'cuda:N' or 'gpu:N'")


def from_torch(t: Any) -> NDArray:
    """An NDArray over a torch tensor's memory (no copy)."""
    return NDArray(t)
