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
    return isinstance(obj, (torch.nn.Module, torch.jit.ScriptModule, torch.export.ExportedProgram))


FORMATS = ("torchscript", "aoti")


class TorchOp:
    """A torch model as a pipeline op, in one of two formats:

    - "torchscript": the module as TorchScript (torch.jit.script), saved as a .pt
      file; the format MATXScript's users know.
    - "aoti": torch.export, then AOTInductor: the model compiled ahead of time to
      C++ kernels, saved as a .pt2 package (torch 2.13's successor of TorchScript
      for running without Python). An nn.Module is exported at its first call, on
      the arguments of that call, with the batch dimension (dim 0 of every input)
      dynamic; an ExportedProgram is compiled as it is. Once compiled, Python runs
      the package too, so every runner computes with the same kernels.
    """

    def __init__(self, model, device: int = -1, format: str = "torchscript"):
        import torch
        if format not in FORMATS:
            raise ValueError(f"TorchOp: format {format!r} is not one of {', '.join(map(repr, FORMATS))}")
        self.format = format
        self.device = device_index(device)
        _check_device(torch, self.device)
        self.torch_device = torch.device("cpu" if self.device < 0 else f"cuda:{self.device}")
        self.package = None  # aoti: the .pt2 file, once compiled
        self._runner = None
        self._compiling = threading.Lock()  # the first calls from several threads compile once
        self.export_seconds = self.compile_seconds = 0.0
        if format == "aoti":
            if isinstance(model, (str, Path)):  # a package (a saved folder's resource)
                self.package, self.model = Path(model), None
                self._load_package()
                return
            self.exported = model if isinstance(model, torch.export.ExportedProgram) else None
            self.model = model.module() if self.exported is not None else model.eval()
            return
        if not isinstance(model, (torch.jit.ScriptModule, torch.jit.ScriptFunction)):
            model = torch.jit.script(model.eval())
        self.model = _frozen(torch, model.eval())
        self.model.to(self.torch_device)
        self._fast = _optimized(torch, self.model, self.torch_device)

    def __call__(self, *args):
        for a in args:
            if isinstance(a, Traced):
                return _record(a._graph, self, args)
        return self.forward(*args)

    def forward(self, *args):
        import torch
        tensors = [_as_tensor(a).to(self.torch_device) for a in args]
        with torch.inference_mode():
            if self.format == "aoti":
                if self._runner is None:
                    with self._compiling:
                        if self._runner is None:
                            self._compile(tensors)
                out = self._runner(*[t.contiguous() for t in tensors])
            else:
                out = self._fast(*tensors)
        return _as_output(out)

    def _compile(self, tensors) -> None:
        """torch.export (unless given an ExportedProgram) and AOTInductor, into
        the compile cache; then loads the package."""
        import time
        import uuid
        import torch
        from ..compiler.toolchain import cache_dir
        t0 = time.perf_counter()
        ep = self.exported
        if ep is None:
            batch = torch.export.Dim("batch", min=1, max=1 << 20)
            with torch.inference_mode(False):
                ep = torch.export.export(self.model.to(self.torch_device), tuple(tensors),
                                         dynamic_shapes=tuple({0: batch} for _ in tensors))
        t1 = time.perf_counter()
        out = cache_dir() / "torch" / "aoti"
        out.mkdir(parents=True, exist_ok=True)
        with torch.inference_mode(False):
            path = torch._inductor.aoti_compile_and_package(ep, package_path=str(out / f"{uuid.uuid4().hex}.pt2"))
        self.export_seconds, self.compile_seconds = t1 - t0, time.perf_counter() - t1
        self.package = Path(path)
        self._load_package()

    def _load_package(self) -> None:
        import torch
        self._runner = torch._inductor.aoti_load_package(str(self.package),
                                                         device_index=self.device if self.device >= 0 else -1)

    @property
    def file_suffix(self) -> str:
        """The model file's suffix in a saved folder (the C++ runner picks the
        format by it)."""
        return ".pt2" if self.format == "aoti" else ".pt"

    # DataLoader workers (num_workers > 0) receive the op pickled: the model
    # travels as TorchScript bytes, or as the package's bytes (an AOTInductor op
    # not compiled yet travels as the module).
    def __getstate__(self):
        import io
        import torch
        if self.format == "aoti":
            if self.package is None:
                return {"format": "aoti", "module": self.model, "device": self.device}
            return {"format": "aoti", "package": self.package.read_bytes(), "device": self.device}
        buf = io.BytesIO()
        torch.jit.save(self.model, buf)
        return {"model": buf.getvalue(), "device": self.device}

    def __setstate__(self, state):
        import io
        import torch
        if state.get("format") == "aoti":
            if "module" in state:
                self.__init__(state["module"], state["device"], "aoti")
                return
            from ..compiler.toolchain import cache_dir
            path = cache_dir() / "torch" / "aoti" / f"{hashlib.sha256(state['package']).hexdigest()}.pt2"
            if not path.exists():  # by content: a worker unpickling the op again reuses the file
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
                tmp.write_bytes(state["package"])
                os.replace(tmp, path)
            self.__init__(path, state["device"], "aoti")
            return
        self.__init__(torch.jit.load(io.BytesIO(state["model"]), map_location="cpu"), state["device"])

    def __repr__(self):
        what = type(self.model).__name__ if self.model is not None else self.package.name
        return f"<matx_nb.TorchOp {what} ({self.format}) on {self.torch_device}>"


def _frozen(torch, model):
    """The TorchScript module frozen (torch.jit.freeze: parameters and attributes
    become constants of the graph), which is what a saved folder holds; the module
    as it is where freezing does not apply (a function, a module freezing refuses)."""
    if not isinstance(model, torch.jit.ScriptModule) or not hasattr(model, "training"):
        return model  # a function, or frozen already
    try:
        return torch.jit.freeze(model)
    except Exception:  # noqa: BLE001 - freezing is an optimization
        return model


def _optimized(torch, model, device):
    """What runs the model: torch.jit.optimize_for_inference of a copy of the
    frozen module (conv + batch-norm folding, oneDNN layouts on the CPU: ResNet-18
    runs ~1.5x faster than eager). Its graph does not serialize, so the folder
    holds the frozen module and the C++ runner applies the same passes when it
    loads it (torch_runner.cc), computing with the same kernels as here."""
    if not isinstance(model, torch.jit.ScriptModule):
        return model
    import io
    try:
        buf = io.BytesIO()
        torch.jit.save(model, buf)
        buf.seek(0)
        return torch.jit.optimize_for_inference(torch.jit.load(buf, map_location=device))
    except Exception:  # noqa: BLE001 - an optimization only
        return model


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
    """Writes the model file (path's suffix is op.file_suffix)."""
    if op.format == "aoti":
        if op.package is None:
            raise ValueError("an AOTInductor torch op is compiled at its first call: call it (or trace through it) "
                             "before saving")
        import shutil
        shutil.copyfile(op.package, path)
        return
    import torch
    torch.jit.save(op.model, str(path))


def load_op(path: str, device: int) -> TorchOp:
    if path.endswith(".pt2"):
        return TorchOp(path, device, "aoti")
    import torch
    return TorchOp(torch.jit.load(path, map_location="cpu"), device)
