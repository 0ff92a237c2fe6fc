"""The torch bridge: `matx_nb.script(torch_module, device=-1)` returns a TorchOp,
an op usable in a traced pipeline. In Python it runs the module (TorchScript)
on tensors shared with the NDArrays it is given (DLPack, no copy); a saved
pipeline stores the model as TorchScript (resources/<id>.pt) and the C++
Session runs it with libtorch through runtime/torch/torch_runner.cc, built here
against the installed torch wheel and bundled as ops/torch/libmatx_nb_torch.so.

device: -1 the CPU, N cuda:N.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

from .ndarray import NDArray

_RUNNER_SRC = Path(__file__).resolve().parent.parent / "runtime" / "torch" / "torch_runner.cc"
_lock = threading.Lock()


def is_torch_module(obj: Any) -> bool:
    mod = type(obj).__module__ or ""
    if not mod.startswith("torch") and not any(c.__module__.startswith("torch.nn") for c in type(obj).__mro__):
        return False
    import torch
    return isinstance(obj, (torch.nn.Module, torch.jit.ScriptModule))


class TorchOp:
    """A torch model as a pipeline op."""

    def __init__(self, model, device: int = -1):
        import torch
        if not isinstance(model, (torch.jit.ScriptModule, torch.jit.ScriptFunction)):
            model = torch.jit.script(model.eval())
        self.model = model.eval()
        self.device = int(device)
        self.torch_device = torch.device("cpu" if self.device < 0 else f"cuda:{self.device}")
        self.model.to(self.torch_device)

    def __call__(self, *args):
        from .tracing import Traced
        for a in args:
            if isinstance(a, Traced):
                return _record(a._graph, self, args)
        return self.forward(*args)

    def forward(self, *args):
        import torch
        tensors = [_as_tensor(a).to(self.torch_device) for a in args]
        with torch.inference_mode():
            out = self.model(*tensors)
        return _as_output(out)

    # DataLoader workers (num_workers > 0) receive the op pickled: the model
    # travels as TorchScript bytes.
    def __getstate__(self):
        import io
        import torch
        buf = io.BytesIO()
        torch.jit.save(self.model, buf)
        return {"model": buf.getvalue(), "device": self.device}

    def __setstate__(self, state):
        import io
        import torch
        self.__init__(torch.jit.load(io.BytesIO(state["model"]), map_location="cpu"), state["device"])

    def __repr__(self):
        return f"<matx_nb.TorchOp {type(self.model).__name__} on {self.torch_device}>"


def _as_tensor(x):
    import torch
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, NDArray):
        return x.torch()
    if hasattr(x, "__dlpack__"):
        return torch.from_dlpack(x)
    return torch.as_tensor(x)


def _as_output(out):
    import torch
    if isinstance(out, torch.Tensor):
        t = out.contiguous()
        return NDArray._wrap(t.numpy() if t.device.type == "cpu" else t)
    if isinstance(out, (tuple, list)):
        return tuple(_as_output(o) for o in out)
    raise TypeError(f"a torch op must return tensors (or tuples of them), got {type(out).__name__}")


def _record(graph, op: TorchOp, args):
    from .tracing import Traced
    plain = [a._value if isinstance(a, Traced) else a for a in args]
    result = op.forward(*plain)
    mid = next((k for k, v in graph.live.items() if v is op), None)
    if mid is None:
        mid = f"torch{sum(1 for v in graph.live.values() if isinstance(v, TorchOp))}"
        graph.live[mid] = op
    nid = graph.new_id("n")
    graph.nodes.append({"id": nid, "op": {"kind": "torch", "model": mid, "device": op.device},
                        "args": [graph.arg(a) for a in args], "kwargs": {}})
    return Traced(graph, nid, result)


# ---- the C++ runner ------------------------------------------------------------------------
def torch_paths():
    import torch
    base = Path(torch.__file__).resolve().parent
    return base / "include", base / "lib", int(torch._C._GLIBCXX_USE_CXX11_ABI)


def runner_library() -> Path:
    """Builds (once, cached by source and torch version) the libtorch runner."""
    import torch
    from .compiler.toolchain import cache_dir
    inc, lib, abi = torch_paths()
    src = _RUNNER_SRC.read_bytes()
    key = hashlib.sha256(src + torch.__version__.encode() + str(inc).encode()).hexdigest()[:16]
    out = Path(cache_dir()) / "torch" / key / "libmatx_nb_torch.so"
    with _lock:
        if out.exists():
            return out
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        cmd = ["g++", "-std=c++17", "-O2", "-w", "-fPIC", "-shared", f"-D_GLIBCXX_USE_CXX11_ABI={abi}",
               f"-I{inc}", f"-I{inc / 'torch' / 'csrc' / 'api' / 'include'}", str(_RUNNER_SRC), "-o", str(tmp),
               f"-L{lib}", f"-Wl,-rpath,{lib}", "-ltorch", "-ltorch_cpu", "-lc10"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("building the libtorch runner failed:\n" + r.stderr[-4000:])
        os.replace(tmp, out)
        return out


def save_model(op: TorchOp, path: Path) -> None:
    import torch
    torch.jit.save(op.model, str(path))


def load_op(path: str, device: int) -> TorchOp:
    import torch
    return TorchOp(torch.jit.load(path, map_location="cpu"), device)
