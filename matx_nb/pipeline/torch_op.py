"""The torch bridge: `matx_nb.script(torch_module, device=-1)` returns a TorchOp,
an op usable in a traced pipeline. In Python it runs the module (TorchScript)
on tensors shared with the NDArrays it is given (DLPack, no copy); a saved
pipeline stores the model as TorchScript (resources/<id>.pt) and the C++
Session runs it with libtorch through runtime/torch/torch_runner.cc, built here
against the installed torch wheel (runtime/torch/CMakeLists.txt) and bundled as
ops/torch/libmatx_nb_torch.so.

device: -1 the CPU, N cuda:N.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

from .graph import Traced, device_index
from ..ndarray import NDArray

_RUNNER_SRC = Path(__file__).resolve().parents[2] / "runtime" / "torch" / "torch_runner.cc"
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
        self.device = device_index(device)
        _check_device(torch, self.device)
        self.torch_device = torch.device("cpu" if self.device < 0 else f"cuda:{self.device}")
        self.model.to(self.torch_device)

    def __call__(self, *args):
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


def _check_device(torch, device: int) -> None:
    """A CUDA device this torch cannot use is refused with what to do instead
    (torch's own error is "Torch not compiled with CUDA enabled")."""
    if device < 0:
        return
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if device < count:
        return
    why = (f"this torch ({torch.__version__}) is built without CUDA" if torch.version.cuda is None else
           "torch sees no CUDA device" if count == 0 else f"torch sees {count} CUDA device(s)")
    raise ValueError(f"TorchOp: device {device} (cuda:{device}) asked for, but {why}; "
                     "device=-1 runs the model on the CPU")


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
# runtime/torch/CMakeLists.txt builds it against the installed wheel's libtorch
# (find_package(Torch) through torch.utils.cmake_prefix_path). Built once per
# torch version, C++ ABI, runner source and compiler into <cache>/torch/<key>/;
# without cmake (or if the CMake build fails) g++ is driven directly.
# MATX_NB_TORCH_BUILD=cmake|g++ picks one builder.
def torch_paths():
    import torch
    base = Path(torch.__file__).resolve().parent
    return base / "include", base / "lib", int(torch._C._GLIBCXX_USE_CXX11_ABI)


def _runner_dir() -> Path:
    return _RUNNER_SRC.parent


def _tool(name: str):
    """A build tool on PATH or next to this interpreter (a venv's pip-installed cmake/ninja)."""
    import shutil
    import sys
    env = os.environ.get(f"MATX_NB_{name.upper()}")
    if env:
        return env
    found = shutil.which(name)
    if found:
        return found
    cand = Path(sys.executable).parent / name
    return str(cand) if cand.exists() else None


def runner_key() -> str:
    import torch
    from ..compiler.toolchain import compiler
    inc, _lib, abi = torch_paths()
    parts = [_RUNNER_SRC.read_bytes(), (_runner_dir() / "CMakeLists.txt").read_bytes(),
             torch.__version__.encode(), str(abi).encode(), str(inc).encode(), compiler().encode()]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def _packaged_runner():
    """The runner built at install time (pip with -DMATX_NB_WITH_TORCH=AUTO|ON),
    if it was built for this torch and this runner source."""
    import json
    import torch
    try:
        from .. import _native
        d = Path(_native.__file__).resolve().parent / "torch_runner"
        info = json.loads((d / "runner.json").read_text())
    except (ImportError, OSError, ValueError):
        return None
    lib = d / "libmatx_nb_torch.so"
    ok = (info.get("torch") == torch.__version__
          and info.get("source_sha256") == hashlib.sha256(_RUNNER_SRC.read_bytes()).hexdigest())
    return lib if ok and lib.exists() else None


def runner_info() -> dict:
    """How the runner for this torch is (or would be) built: builder, paths, log."""
    import json
    lib = _packaged_runner()
    if lib is not None:
        return {"builder": "package", "path": str(lib)}
    from ..compiler.toolchain import cache_dir
    d = Path(cache_dir()) / "torch" / runner_key()
    try:
        return json.loads((d / "runner.json").read_text())
    except (OSError, ValueError):
        return {"builder": None, "path": str(d / "libmatx_nb_torch.so")}


def runner_library() -> Path:
    """The libtorch runner: the packaged one, or one built (once) into the cache."""
    import json
    import time
    from ..compiler.toolchain import cache_dir, file_lock
    lib = _packaged_runner()
    if lib is not None:
        return lib
    d = Path(cache_dir()) / "torch" / runner_key()
    out = d / "libmatx_nb_torch.so"
    if out.exists():
        return out
    with _lock, file_lock(d.with_name(d.name + ".lock")):
        if out.exists():  # another thread or process built it while we waited
            return out
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f"libmatx_nb_torch.so.{os.getpid()}.tmp"
        want = os.environ.get("MATX_NB_TORCH_BUILD", "")
        logs = []
        t0 = time.perf_counter()
        builder = None
        if want != "g++" and _tool("cmake"):
            try:
                _build_with_cmake(d / "build", tmp, logs)
                builder = "cmake"
            except RuntimeError as err:
                if want == "cmake":
                    raise
                logs.append(f"(the CMake build failed; building with g++ instead)\n{err}")
        elif want == "cmake":
            raise RuntimeError("MATX_NB_TORCH_BUILD=cmake, but no cmake was found (PATH, next to the "
                               "interpreter, or MATX_NB_CMAKE)")
        if builder is None:
            _build_with_gxx(tmp, logs)
            builder = "g++"
        os.replace(tmp, out)
        (d / "build.log").write_text("\n".join(logs))
        info = {"builder": builder, "path": str(out), "seconds": round(time.perf_counter() - t0, 1),
                "log": str(d / "build.log")}
        (d / "runner.json").write_text(json.dumps(info, indent=1))
        return out


def _run(cmd, logs, what):
    logs.append("$ " + " ".join(str(c) for c in cmd))
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    logs.append(r.stdout + r.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed:\n" + (r.stdout + r.stderr)[-4000:])


def _build_with_cmake(build: Path, dest: Path, logs) -> None:
    import shutil
    import sys
    from ..compiler.toolchain import compiler
    cmake = _tool("cmake")
    cfg = [cmake, "-S", _runner_dir(), "-B", build, "-DCMAKE_BUILD_TYPE=Release",
           f"-DPython_EXECUTABLE={sys.executable}", f"-DCMAKE_CXX_COMPILER={compiler()}"]
    cfg += _cuda_compiler_hint()
    ninja = _tool("ninja")
    if ninja and not (build / "CMakeCache.txt").exists():
        cfg += ["-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}"]
    _run(cfg, logs, "configuring the libtorch runner (cmake)")
    _run([cmake, "--build", build, "--parallel", str(os.cpu_count() or 2)], logs,
         "building the libtorch runner (cmake --build)")
    shutil.copy2(build / "libmatx_nb_torch.so", dest)


def _cuda_compiler_hint():
    """A CUDA wheel's CMake config enables the CUDA language: point CMake at nvcc
    when it is installed but not on PATH (CUDA_HOME, /usr/local/cuda)."""
    import torch
    if not torch.version.cuda or _tool("nvcc"):
        return []
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home and (Path(home) / "bin" / "nvcc").exists():
            return [f"-DCMAKE_CUDA_COMPILER={Path(home) / 'bin' / 'nvcc'}"]
    return []


def _build_with_gxx(dest: Path, logs) -> None:
    from ..compiler.toolchain import compiler
    inc, lib, abi = torch_paths()
    # A CUDA wheel: keep libtorch_cuda.so loaded (ld --as-needed would drop it,
    # and models could then not move to cuda:N).
    cuda = ["-Wl,--no-as-needed", "-ltorch_cuda", "-Wl,--as-needed"] if (lib / "libtorch_cuda.so").exists() else []
    cmd = [compiler(), "-std=c++17", "-O2", "-w", "-fPIC", "-shared", "-fvisibility=hidden",
           f"-D_GLIBCXX_USE_CXX11_ABI={abi}", f"-I{inc}", f"-I{inc / 'torch' / 'csrc' / 'api' / 'include'}",
           _RUNNER_SRC, "-o", dest, f"-L{lib}", f"-Wl,-rpath,{lib}", "-ltorch", "-ltorch_cpu", "-lc10", *cuda]
    _run(cmd, logs, "building the libtorch runner (g++)")


def save_model(op: TorchOp, path: Path) -> None:
    import torch
    torch.jit.save(op.model, str(path))


def load_op(path: str, device: int) -> TorchOp:
    import torch
    return TorchOp(torch.jit.load(path, map_location="cpu"), device)
