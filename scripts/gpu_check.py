"""The torch bridge on a GPU: the checks behind scripts/gpu_check.sh (which
builds and installs matx_nb first; run that).

Each check runs on its own (one failure does not hide the rest) and ends PASS,
FAIL, SKIP (no CUDA, --cpu, or a check it needs failed) or NOTE (a fact to read,
not a failure). The summary lists them with their figures; summary.json and the
logs go to $OUT. Exit status 1 when a check failed.

    python3 scripts/gpu_check.py [--cpu] [--device N]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List

import numpy as np

try:  # the checks report a failed build; the script itself must still start
    from matx_nb import NDArray
except Exception:  # noqa: BLE001
    NDArray = None

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(os.environ.get("OUT") or ROOT / "build" / "gpu_check" / "out")
WORK = ROOT / "build" / "gpu_check" / "work"
MAX_LEN = 32
RTOL, ATOL = 1e-4, 1e-5  # cuda vs CPU kernels (softmax scores in [0, 1])


class Skip(Exception):
    """The check does not apply here (no CUDA, or what it needs is missing)."""


class Note(Exception):
    """Not a failure, but not what the check looks for: reported as NOTE."""


class Checks:
    def __init__(self):
        self.rows: List[Dict[str, Any]] = []
        self.state: Dict[str, Any] = {}

    def run(self, name: str, fn: Callable[[], Any], needs=()):
        t = time.perf_counter()
        missing = [n for n in needs if n not in self.state]
        try:
            if missing:
                raise Skip("needs " + ", ".join(missing))
            status, detail = "PASS", fn()
        except Skip as e:
            status, detail = "SKIP", str(e)
        except Note as e:
            status, detail = "NOTE", str(e)
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            status, detail = "FAIL", f"{type(e).__name__}: {e}"
            print(traceback.format_exc(), flush=True)
        row = {"check": name, "status": status, "seconds": round(time.perf_counter() - t, 2),
               "detail": detail if isinstance(detail, (dict, list)) else str(detail or "")}
        self.rows.append(row)
        print(f"[{status}] {name} ({row['seconds']}s): {row['detail']}", flush=True)


def sh(cmd, timeout=300, **kw) -> subprocess.CompletedProcess:
    print("$ " + " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)


def log_file(name: str, text: str) -> str:
    path = OUT / name
    path.write_text(text)
    return str(path)


def close(a, b) -> float:
    """The largest absolute difference, after asserting the two agree within tolerance."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shapes {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    return float(np.abs(a - b).max()) if a.size else 0.0


def median_ms(fn, n: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return round(statistics.median(ts) * 1e3, 3)


def texts(n: int) -> List[bytes]:
    import pipeline as example  # examples/text_pipeline
    base = [s.encode() for s in example.CORPUS] + ["unseen wörds ★ 你好".encode(), b"", b"hello world"]
    return [base[i % len(base)] for i in range(n)]


def feed_json(batch: List[bytes]) -> str:
    return json.dumps({"texts": [{"$bytes": t.decode("utf-8")} for t in batch]})


# Compiled by the checks (the compiler reads this file): a CUDA tensor passed
# through compiled code, and compiled code reading one (which must raise).
def passthrough(a: NDArray) -> NDArray:
    return a


def first_item(a: NDArray) -> Any:
    return a.get([0, 0])


# ---- the checks -----------------------------------------------------------------------------
class GPUCheck:
    def __init__(self, args):
        self.args = args
        self.c = Checks()
        self.dev = args.device

    @property
    def s(self):
        return self.c.state

    def need_cuda(self):
        if "cuda" not in self.s:
            raise Skip(self.s.get("no_cuda", "no CUDA"))

    def environment(self):
        import torch
        info = {"python": sys.version.split()[0], "torch": torch.__version__, "torch_cuda": torch.version.cuda,
                "build": os.environ.get("GPU_CHECK_BUILD_STATUS", "(run through gpu_check.sh)"),
                "build_seconds": os.environ.get("GPU_CHECK_BUILD_SECONDS")}
        if self.args.cpu:
            self.s["no_cuda"] = "--cpu: CUDA checks skipped"
        elif not torch.cuda.is_available():
            self.s["no_cuda"] = "no CUDA device visible to torch"
        elif self.dev >= torch.cuda.device_count():
            self.s["no_cuda"] = f"cuda:{self.dev} does not exist ({torch.cuda.device_count()} devices)"
        else:
            self.s["cuda"] = True
            info["gpu"] = torch.cuda.get_device_name(self.dev)
        info["cuda_checks"] = "run" if "cuda" in self.s else "SKIP: " + self.s["no_cuda"]
        return info

    def build(self):
        status = os.environ.get("GPU_CHECK_BUILD_STATUS", "ok")
        if status == "failed":
            raise AssertionError(f"the build failed (see {OUT / 'build.log'})")
        import matx_nb
        from matx_nb import _native
        self.s["built"] = True
        detail = {"status": status, "seconds": os.environ.get("GPU_CHECK_BUILD_SECONDS"),
                  "matx_nb": str(Path(matx_nb.__file__).parent), "_native": _native.__file__}
        if status.startswith("pip failed"):
            raise Note(f"pip install failed, the CMake fallback worked: {detail}")
        return detail

    def runner(self):
        """The libtorch runner built by runtime/torch/CMakeLists.txt (find_package(Torch))."""
        from matx_nb.pipeline import torch_op
        lib = torch_op.runner_library()
        info = torch_op.runner_info()
        log = Path(info.get("log", "")) if info.get("log") else None
        if log and log.exists():
            info["log"] = log_file("runner_build.log", log.read_text())
        nm = sh(["nm", "-D", "--defined-only", lib]).stdout
        exported = sorted(w for w in nm.split() if w.startswith("mx_torch_"))
        info["exports"] = exported
        ldd = sh(["ldd", lib]).stdout
        info["links_torch_cuda"] = "libtorch_cuda" in ldd
        self.s["runner"] = lib
        assert "mx_torch_to_cpu" in exported, f"runner exports {exported}"
        if "cuda" in self.s:
            assert info["links_torch_cuda"], "the runner does not load libtorch_cuda.so (models could not move to cuda)"
        if info.get("builder") not in ("cmake", "package"):
            raise Note(f"built by {info.get('builder')}, not CMake (the CMake build failed? see the log): {info}")
        return info

    def pipelines(self):
        """The example pipeline (compiled text ops + TinyBert) on the CPU, and the same weights on cuda:N."""
        import torch
        import matx_nb
        sys.path.insert(0, str(ROOT / "examples" / "text_pipeline"))
        import pipeline as example
        shutil.rmtree(WORK, ignore_errors=True)
        cpu = example.build(WORK / "model", max_len=MAX_LEN)
        self.s["cpu_pipe"] = cpu
        self.s["vocab"] = str(WORK / "model" / "vocab.txt")
        batch = texts(8)
        self.s["cpu_scores"] = cpu.eval(batch).numpy()
        detail = {"cpu_scores_shape": list(self.s["cpu_scores"].shape)}
        if "cuda" in self.s:
            buf = io.BytesIO()
            torch.jit.save(cpu.model_op.model, buf)
            buf.seek(0)
            model = torch.jit.load(buf, map_location="cpu")
            gpu = example.EvalPipeline(self.s["vocab"], model, MAX_LEN, device=self.dev)
            out = gpu.eval(batch)
            assert out.device() == f"cuda:{self.dev}", out.device()
            detail["max_abs_diff_cuda_vs_cpu"] = close(out.numpy(), self.s["cpu_scores"])
            self.s["gpu_pipe"] = gpu
        else:
            detail["cuda"] = "skipped: " + self.s["no_cuda"]
        assert isinstance(matx_nb.NDArray, type)
        return detail

    def eager_cuda(self):
        self.need_cuda()
        import torch
        gpu = self.s["gpu_pipe"]
        ids, seg, mask = gpu.text_pipe.process(texts(8))
        with torch.no_grad():
            eager = gpu.model_op.model(ids.torch().to(f"cuda:{self.dev}"), seg.torch().to(f"cuda:{self.dev}"),
                                       mask.torch().to(f"cuda:{self.dev}"))
        assert eager.is_cuda
        return {"max_abs_diff_eager_cuda_vs_cpu": close(eager.cpu().numpy(), self.s["cpu_scores"])}

    def save(self):
        import matx_nb
        pipe = self.s.get("gpu_pipe") or self.s["cpu_pipe"]
        batch = texts(8)
        mod = matx_nb.trace(pipe.eval, batch)
        folder = WORK / "saved"
        shutil.rmtree(folder, ignore_errors=True)
        mod.save(folder)
        spec = json.loads((folder / "model.spec.json").read_text())
        torch_nodes = [n["op"] for n in spec["nodes"] if n["op"]["kind"] == "torch"]
        assert torch_nodes and all(op.get("runner") for op in torch_nodes), torch_nodes
        self.s["folder"] = folder
        return {"folder": str(folder), "traced_on": torch_nodes[0]["device"], "runner": torch_nodes[0]["runner"]}

    def load_python(self, device: int):
        import matx_nb
        if device >= 0:
            self.need_cuda()
        loaded = matx_nb.load(self.s["folder"], device)
        assert loaded.runs_in_cpp, "not run by the C++ Session"
        out = loaded.run({"texts": texts(8)})
        want = "cpu" if device < 0 else f"cuda:{device}"
        assert out.device() == want, f"output on {out.device()}, expected {want}"
        detail = {"device": out.device(), "max_abs_diff_vs_cpu_eager": close(out.numpy(), self.s["cpu_scores"])}
        if device >= 0:
            t = out.torch()
            assert t.is_cuda and t.device.index == device, t.device
            detail["torch_tensor"] = str(t.device)
        self.s[f"loaded{device}"] = loaded
        return detail

    def bad_device(self):
        """A device that does not exist is a clear error naming it, not a crash."""
        import matx_nb
        import torch
        bad = torch.cuda.device_count() if "cuda" in self.s else 0
        try:
            matx_nb.load(self.s["folder"], bad)
        except ValueError as e:
            assert f"cuda:{bad}" in str(e), str(e)
            return {"device": bad, "message": str(e)[:300]}
        raise AssertionError(f"load(dir, {bad}) did not raise")

    def matx_run(self, device: int):
        if device >= 0:
            self.need_cuda()
        batch = texts(4)
        script = Path(sys.executable).parent / "matx-run"  # the console script pip installed
        cmd = [script] if script.exists() else [sys.executable, "-m", "matx_nb.cli"]
        r = sh(cmd + [self.s["folder"], "--feed", feed_json(batch), "--device", str(device)], timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        out = json.loads(r.stdout)
        return {"command": str(cmd[-1]), "max_abs_diff_vs_cpu_eager": close(out["data"], self.s["cpu_scores"][:4])}

    def cpp_build(self):
        """examples/cpp built with CMake against find_package(matx_nb)."""
        cmake_dir = sh([sys.executable, "-m", "matx_nb", "--cmake-dir"]).stdout.strip()
        build = ROOT / "build" / "gpu_check" / "examples"
        shutil.rmtree(build, ignore_errors=True)
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        r = sh(["cmake", "-S", ROOT / "examples" / "cpp", "-B", build, *gen, "-DCMAKE_BUILD_TYPE=Release",
                f"-Dmatx_nb_DIR={cmake_dir}"])
        log = r.stdout + r.stderr
        if r.returncode == 0:
            r = sh(["cmake", "--build", build, "--target", "run_pipeline", "--parallel", str(os.cpu_count() or 4)])
            log += r.stdout + r.stderr
        log_file("cpp_build.log", log)
        assert r.returncode == 0, log[-2000:]
        exe = build / "run_pipeline"
        assert "libpython" not in sh(["ldd", exe]).stdout, "run_pipeline links libpython"
        self.s["exe"] = exe
        return {"exe": str(exe)}

    def cpp_run(self, device: int):
        if device >= 0:
            self.need_cuda()
        r = sh([self.s["exe"], self.s["folder"], feed_json(texts(4)), "--device", str(device)], timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        out = json.loads(r.stdout)
        return {"max_abs_diff_vs_cpu_eager": close(out["data"], self.s["cpu_scores"][:4])}

    def dlpack_cpu(self):
        """numpy arrays and CPU tensors pass through compiled code without a copy."""
        import torch
        import matx_nb
        fn = matx_nb.script(passthrough)
        self.s["passthrough"] = fn
        x = np.arange(6, dtype=np.float32).reshape(2, 3)
        assert fn(x).numpy().ctypes.data == x.ctypes.data
        t = torch.arange(6.0).reshape(2, 3)
        assert fn(t).torch().data_ptr() == t.data_ptr()
        return "numpy and torch CPU: same address"

    def dlpack_cuda(self):
        """A CUDA tensor in matx_nb.NDArray, and back with .torch(): same device, same address."""
        self.need_cuda()
        import torch
        import matx_nb
        t = torch.arange(12, dtype=torch.float32, device=f"cuda:{self.dev}").reshape(3, 4)
        nd = matx_nb.NDArray(t)
        back = nd.torch()
        assert nd.device() == f"cuda:{self.dev}", nd.device()
        assert back.data_ptr() == t.data_ptr() and back.device == t.device, (back.device, back.data_ptr())
        assert nd.shape() == [3, 4] and nd.dtype() == "float32"
        assert np.array_equal(nd.numpy(), t.cpu().numpy())
        from matx_nb.ndarray import _from_capsule
        cap = _from_capsule(t.__dlpack__(max_version=(1, 0)), 2, self.dev)
        assert cap.torch().data_ptr() == t.data_ptr(), "versioned capsule -> torch copied"
        return {"data_ptr": hex(t.data_ptr()), "device": nd.device()}

    def dlpack_cuda_compiled(self):
        """A CUDA tensor through a compiled function that only passes it on."""
        self.need_cuda()
        import torch
        t = torch.arange(6, dtype=torch.float32, device=f"cuda:{self.dev}").reshape(2, 3)
        try:
            out = self.s["passthrough"](t)
        except Exception as e:  # noqa: BLE001
            raise Note(f"compiled code refused the CUDA array at the call: {type(e).__name__}: {e}")
        back = out.torch()
        assert out.device() == f"cuda:{self.dev}", out.device()
        assert back.data_ptr() == t.data_ptr(), "copied"
        return {"data_ptr": hex(t.data_ptr()), "device": out.device()}

    def guard(self):
        """Compiled (CPU) code reading a CUDA array raises a clear error (in a
        child process, so that a crash is reported, not suffered)."""
        cuda = "cuda" in self.s
        r = sh([sys.executable, __file__, "--guard-child", "--device", str(self.dev)] + ([] if cuda else ["--cpu"]),
               timeout=180)
        if r.returncode != 0:
            raise AssertionError(f"the child exited with {r.returncode} (a crash?): {r.stderr[-1500:]}")
        res = json.loads(r.stdout.strip().splitlines()[-1])
        if not cuda:
            raise Skip(f"{self.s['no_cuda']} (the child compiled and ran the reader on the CPU: {res})")
        assert res["raised"], f"compiled code read device memory without an error: {res}"
        return res

    def timing(self):
        """The saved model pipeline (C++ Session from Python; C++ program) on the CPU and on cuda:N;
        each run includes the host copy of the scores (it waits for the device)."""
        import matx_nb
        n = self.args.runs
        figs: Dict[str, Any] = {"runs": n, "unit": "ms per batch (median)"}
        devices = [-1] + ([self.dev] if "cuda" in self.s else [])
        for device in devices:
            loaded = matx_nb.load(self.s["folder"], device)
            for bs in (8, 128):
                feed = {"texts": texts(bs)}
                figs[f"session_{'cpu' if device < 0 else 'cuda'}_batch{bs}"] = median_ms(
                    lambda: loaded.run(feed).numpy(), n)
        if "exe" in self.s:
            for device in devices:
                r = sh([self.s["exe"], self.s["folder"], feed_json(texts(8)), "--device", str(device),
                        "--bench", str(n)], timeout=300)
                if r.returncode == 0:
                    figs[f"cpp_{'cpu' if device < 0 else 'cuda'}_batch8_p50"] = float(
                        r.stdout.split("p50")[1].split()[0]) / 1e3
        if "cuda" not in self.s:
            figs["cuda"] = "skipped: " + self.s["no_cuda"]
        else:
            for bs in (8, 128):
                c, g = figs[f"session_cpu_batch{bs}"], figs[f"session_cuda_batch{bs}"]
                figs[f"speedup_batch{bs}"] = round(c / g, 2) if g else None
        return figs

    def pytest_torch(self):
        """tests/test_torch.py here (its CUDA tests run where CUDA is)."""
        try:
            import pytest  # noqa: F401
        except ImportError:
            raise Skip("pytest is not installed")
        if time.perf_counter() - self.t0 > self.args.pytest_after:
            raise Skip(f"over {self.args.pytest_after}s already; left out to stay in time")
        r = sh([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", ROOT / "tests" / "test_torch.py"],
               timeout=240, cwd=ROOT)
        log_file("pytest_torch.log", r.stdout + r.stderr)
        tail = (r.stdout.strip().splitlines() or ["(no output)"])[-1]
        assert r.returncode == 0, tail
        return tail

    # ---- all of them --------------------------------------------------------------------------
    def main(self) -> int:
        self.t0 = time.perf_counter()
        c = self.c
        c.run("environment", self.environment)
        c.run("build and import matx_nb", self.build)
        if "built" not in self.s:
            return self.summary()
        c.run("libtorch runner (CMake build)", self.runner)
        c.run("example pipeline: compiled text ops + model, CPU and cuda", self.pipelines)
        c.run("eager torch on cuda vs CPU", self.eager_cuda, needs=["gpu_pipe"])
        c.run("trace -> save (the model op on cuda where there is one)", self.save, needs=["cpu_pipe"])
        c.run("matx_nb.load(dir, -1) scores", lambda: self.load_python(-1), needs=["folder"])
        c.run(f"matx_nb.load(dir, {self.dev}) scores on cuda", lambda: self.load_python(self.dev), needs=["folder"])
        c.run("a missing device is a clear error", self.bad_device, needs=["folder"])
        c.run("matx-run --device -1", lambda: self.matx_run(-1), needs=["folder"])
        c.run(f"matx-run --device {self.dev}", lambda: self.matx_run(self.dev), needs=["folder"])
        c.run("examples/cpp built with CMake", self.cpp_build)
        c.run("run_pipeline --device -1", lambda: self.cpp_run(-1), needs=["folder", "exe"])
        c.run(f"run_pipeline --device {self.dev}", lambda: self.cpp_run(self.dev), needs=["folder", "exe"])
        c.run("DLPack zero-copy, CPU, through compiled code", self.dlpack_cpu)
        c.run("DLPack zero-copy of a cuda tensor in matx_nb.NDArray", self.dlpack_cuda)
        c.run("cuda tensor through a compiled function (passthrough)", self.dlpack_cuda_compiled,
              needs=["passthrough"])
        c.run("compiled code reading cuda memory raises", self.guard)
        c.run("timing: model pipeline CPU vs cuda", self.timing, needs=["folder"])
        c.run("pytest tests/test_torch.py", self.pytest_torch)
        return self.summary()

    def summary(self) -> int:
        rows = self.c.rows
        counts = {s: sum(r["status"] == s for r in rows) for s in ("PASS", "FAIL", "SKIP", "NOTE")}
        total = round(time.perf_counter() - self.t0, 1)
        (OUT / "summary.json").write_text(json.dumps({"counts": counts, "seconds": total, "checks": rows}, indent=1,
                                                     default=str))
        print("\n================ gpu_check summary ================")
        for r in rows:
            print(f"{r['status']:5} {r['check']}  ({r['seconds']}s)")
            d = r["detail"]
            if isinstance(d, dict):
                for k, v in d.items():
                    print(f"        {k}: {v}")
            elif d:
                print(f"        {d}")
        print(f"{counts} in {total}s; summary.json in {OUT}")
        return 1 if counts["FAIL"] else 0


def guard_child(device: int, cpu_only: bool) -> int:
    import torch
    import matx_nb
    fn = matx_nb.script(first_item)
    assert fn(np.arange(6.0).reshape(2, 3) + 1) == 1.0  # the CPU path works
    if cpu_only:
        print(json.dumps({"cpu_read": "ok"}))
        return 0
    t = torch.arange(6.0, device=f"cuda:{device}").reshape(2, 3)
    try:
        v = fn(t)
        res = {"raised": None, "value": repr(v)}
    except Exception as e:  # noqa: BLE001
        res = {"raised": type(e).__name__, "message": str(e)[:500]}
    print(json.dumps(res))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cpu", action="store_true", help="skip the CUDA checks")
    ap.add_argument("--device", type=int, default=0, help="the CUDA device (default 0)")
    ap.add_argument("--runs", type=int, default=30, help="timed runs per figure (median)")
    ap.add_argument("--pytest-after", type=float, default=240.0,
                    help="skip the pytest check when the checks took longer than this many seconds")
    ap.add_argument("--guard-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.guard_child:
        return guard_child(args.device, args.cpu)
    OUT.mkdir(parents=True, exist_ok=True)
    WORK.mkdir(parents=True, exist_ok=True)
    return GPUCheck(args).main()


if __name__ == "__main__":
    sys.exit(main())
