"""The torch bridge and the training side: a tiny BERT-like model behind the
seed's TextPipeline, traced, saved and loaded (the C++ Session runs the model
with libtorch) with the same scores; the pipeline as a DataLoader transform
with worker processes; TorchOp zero-copy and pickling."""
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("tokenizers")

import matx_nb  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "text_pipeline"))
import pipeline as example  # noqa: E402

TEXTS = [s.encode() for s in example.CORPUS] + ["unseen wörds ★ 你好".encode(), b""]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return example.build(tmp_path_factory.mktemp("tp"), max_len=24)


def eager_scores(pipe, texts):
    """The model run by plain torch on the pipeline's tensors."""
    tp = example.TextPipeline(pipe.text_pipe.vocab.__matx_ctor__[0][0], 24, mode="train")
    ids, seg, mask = tp.process(texts)
    with torch.no_grad():
        return pipe.model_op.model(ids, seg, mask).numpy()


def test_traced_saved_and_loaded_in_cpp_agree(built, tmp_path):
    mod = matx_nb.trace(built.eval, TEXTS)
    traced = mod.run({"texts": TEXTS}).numpy()
    want = eager_scores(built, TEXTS)
    np.testing.assert_allclose(traced, want, rtol=1e-5, atol=1e-6)
    mod.save(tmp_path / "p")
    spec = (tmp_path / "p" / "model.spec.json").read_text()
    assert '"kind": "torch"' in spec and (tmp_path / "p" / "resources" / "torch0.pt").exists()
    loaded = matx_nb.load(tmp_path / "p", device=-1)
    assert loaded.runs_in_cpp  # the C++ Session, with the bundled libtorch runner
    got = loaded.run({"texts": TEXTS[:3]}).numpy()
    np.testing.assert_allclose(got, want[:3], rtol=1e-5, atol=1e-6)
    assert got.shape == (3, 2)


def test_matx_run_prints_the_model_scores(built, tmp_path):
    """matx-run on the saved model pipeline: bytes fed as {"$bytes": ...}, the
    scores printed as an array, equal to eager torch."""
    import json
    import subprocess
    mod = matx_nb.trace(built.eval, TEXTS)
    mod.save(tmp_path / "p")
    texts = TEXTS[:4]
    feed = json.dumps({"texts": [{"$bytes": t.decode("utf-8")} for t in texts]})
    r = subprocess.run([sys.executable, "-m", "matx_nb.cli", str(tmp_path / "p"), "--feed", feed],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["shape"] == [len(texts), 2] and out["dtype"] == "float32"
    np.testing.assert_allclose(np.array(out["data"], dtype=np.float32), eager_scores(built, texts),
                               rtol=1e-5, atol=1e-6)


def test_standalone_cpp_program_runs_the_model_pipeline(built, tmp_path):
    """examples/cpp/run_pipeline.cc (no Python in the process, libtorch through
    the bundled runner) prints the same scores as eager torch."""
    import json
    import subprocess
    root = Path(__file__).resolve().parent.parent
    exe = tmp_path / "run_pipeline"
    subprocess.run(["g++", "-std=c++17", "-O1", "-I", str(root / "runtime" / "include"),
                    str(root / "examples" / "cpp" / "run_pipeline.cc"), "-o", str(exe), "-ldl", "-lpthread"],
                   check=True)
    assert "libpython" not in subprocess.run(["ldd", str(exe)], capture_output=True, text=True).stdout
    mod = matx_nb.trace(built.eval, TEXTS)
    mod.save(tmp_path / "p")
    texts = TEXTS[2:6]
    feed = json.dumps({"texts": [{"$bytes": t.decode("utf-8")} for t in texts]})
    r = subprocess.run([str(exe), str(tmp_path / "p"), feed], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["shape"] == [len(texts), 2] and out["dtype"] == "float32"
    np.testing.assert_allclose(np.array(out["data"], dtype=np.float32), eager_scores(built, texts),
                               rtol=1e-5, atol=1e-6)


def test_torch_op_shares_memory_and_pickles(built):
    op = matx_nb.script(torch.nn.Identity())
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = op(matx_nb.NDArray(x))
    assert y.numpy().ctypes.data == x.ctypes.data  # NDArray -> tensor -> NDArray, no copy
    op2 = pickle.loads(pickle.dumps(built.model_op))
    ids, seg, mask = built.text_pipe.process(TEXTS)
    np.testing.assert_allclose(op2(ids, seg, mask).numpy(), built.model_op(ids, seg, mask).numpy(), rtol=1e-6)


class TextDataset(torch.utils.data.Dataset):
    def __init__(self, pipe, texts):
        self.pipe, self.texts = pipe, texts

    def __len__(self):
        return len(self.texts)

    def __getitem__(self, i):
        ids, seg, mask = self.pipe.process([self.texts[i]])
        return ids[0], seg[0], mask[0]


def test_dataloader_with_worker_processes(built):
    vocab = built.text_pipe.vocab.__matx_ctor__[0][0]
    tp = example.TextPipeline(vocab, 24, mode="train")
    texts = TEXTS * 8
    ds = TextDataset(tp, texts)
    want = tp.process(texts)
    for workers in (0, 2):
        batches = list(torch.utils.data.DataLoader(ds, batch_size=5, num_workers=workers))
        for k, name in enumerate(("input_ids", "segment_ids", "mask")):
            got = torch.cat([b[k] for b in batches])
            assert torch.equal(got, want[k]), (workers, name)


# ---- the libtorch runner's build and device placement -------------------------------------
CUDA = torch.cuda.is_available()


def test_runner_is_built_by_cmake_or_else_by_gxx(built, tmp_path, monkeypatch):
    """runtime/torch/CMakeLists.txt builds the runner where cmake is found
    (once per key, reused); without cmake g++ builds the same library."""
    import ctypes
    import shutil
    from matx_nb.pipeline import torch_op
    mod = matx_nb.trace(built.eval, TEXTS[:2])
    mod.save(tmp_path / "p")  # builds the runner into this run's cache if it is not there yet
    info = torch_op.runner_info()
    assert info["builder"] == ("cmake" if torch_op._tool("cmake") else "g++"), info
    assert torch_op.runner_library() == Path(info["path"])  # reused, not rebuilt
    monkeypatch.setenv("MATX_NB_CACHE", str(tmp_path / "cache"))
    real_tool = torch_op._tool
    monkeypatch.setattr(torch_op, "_tool", lambda name: None if name == "cmake" else real_tool(name))
    lib = torch_op.runner_library()
    assert torch_op.runner_info()["builder"] == "g++"
    runner = ctypes.CDLL(str(lib))
    for name in ("mx_torch_load", "mx_torch_forward", "mx_torch_to_cpu", "mx_torch_free"):
        assert hasattr(runner, name), name
    # The folder runs with the g++-built runner too.
    shutil.rmtree(tmp_path / "p")
    mod.save(tmp_path / "p")
    got = matx_nb.load(tmp_path / "p", device=-1).run({"texts": TEXTS[:2]}).numpy()
    np.testing.assert_allclose(got, eager_scores(built, TEXTS[:2]), rtol=1e-5, atol=1e-6)


def test_load_device_reaches_the_torch_node(built, tmp_path, monkeypatch):
    """matx_nb.load(dir, N) runs the model on cuda:N in the C++ Session (here,
    without a GPU, the runner says so, naming the device); the Python executor
    takes the same device."""
    from matx_nb.pipeline import export, torch_op
    mod = matx_nb.trace(built.eval, TEXTS)
    mod.save(tmp_path / "p")
    if CUDA:
        out = matx_nb.load(tmp_path / "p", device=0).run({"texts": TEXTS[:3]})
        assert out.device() == "cuda:0" and out.torch().is_cuda
        np.testing.assert_allclose(out.numpy(), eager_scores(built, TEXTS[:3]), rtol=1e-4, atol=1e-5)
    else:
        with pytest.raises(ValueError, match=r"device 0 \(cuda:0\).*no CUDA device"):
            matx_nb.load(tmp_path / "p", device=0)
        with pytest.raises(ValueError, match=r"cuda:1"):
            matx_nb.load(tmp_path / "p", device="cuda:1")
    seen = []
    real = torch_op.load_op
    monkeypatch.setattr(torch_op, "load_op", lambda path, device: seen.append(device) or real(path, -1))
    export.Executor.from_folder(tmp_path / "p", 3)
    assert seen == [3]  # the load() device, not the one the model was traced on
    for d, want in ((-1, -1), ("cpu", -1), ("cuda", 0), ("cuda:2", 2), (torch.device("cuda:1"), 1), (0, 0)):
        assert export._device_index(d) == want
    for bad in (-2, "gpu", True):
        with pytest.raises((ValueError, TypeError)):
            export._device_index(bad)


def test_matx_run_and_cpp_program_take_the_device(built, tmp_path):
    """--device N goes from matx-run and examples/cpp/run_pipeline.cc to the Session."""
    import json
    import subprocess
    root = Path(__file__).resolve().parent.parent
    mod = matx_nb.trace(built.eval, TEXTS)
    mod.save(tmp_path / "p")
    feed = json.dumps({"texts": [{"$bytes": t.decode("utf-8")} for t in TEXTS[:2]]})
    exe = tmp_path / "run_pipeline"
    subprocess.run(["g++", "-std=c++17", "-O1", "-I", str(root / "runtime" / "include"),
                    str(root / "examples" / "cpp" / "run_pipeline.cc"), "-o", str(exe), "-ldl", "-lpthread"],
                   check=True)
    runs = {"matx-run": [sys.executable, "-m", "matx_nb.cli", str(tmp_path / "p"), "--feed", feed],
            "run_pipeline": [str(exe), str(tmp_path / "p"), feed]}
    for name, cmd in runs.items():
        r = subprocess.run(cmd + ["--device", "0"], capture_output=True, text=True, timeout=600)
        if CUDA:
            assert r.returncode == 0, (name, r.stderr)
            np.testing.assert_allclose(np.array(json.loads(r.stdout)["data"], dtype=np.float32),
                                       eager_scores(built, TEXTS[:2]), rtol=1e-4, atol=1e-5)
        else:
            assert r.returncode == 1 and "cuda:0" in r.stderr and "Traceback" not in r.stderr, (name, r.stderr)
    r = subprocess.run(runs["run_pipeline"] + ["--device"], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr


def test_device_tensors_stay_tensors_in_ndarray():
    """An array whose memory is not the CPU's is kept as the torch tensor it came
    as (no copy, same device); a meta tensor stands in for a CUDA one here."""
    t = torch.empty(2, 3, device="meta")
    nd = matx_nb.NDArray(t)
    assert nd.torch() is t and nd.device() == "meta"
    assert nd.shape() == [2, 3] and nd.dtype() == "float32" and nd.size() == 6 and nd.is_contiguous()
    r = matx_nb.NDArray(t, shape=[3, 2], dtype="float64")
    assert r.shape() == [3, 2] and r.dtype() == "float64" and r.device() == "meta"
    assert nd.reshape([6]).torch().device.type == "meta"
    assert nd.add(1).torch().device.type == "meta"
    c = torch.arange(4.0)  # CPU tensors still become numpy views, sharing memory
    assert matx_nb.NDArray(c).numpy().ctypes.data == c.data_ptr()


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_cuda_tensor_round_trips_through_ndarray():
    t = torch.arange(6, dtype=torch.float32, device="cuda:0").reshape(2, 3)
    nd = matx_nb.NDArray(t)
    assert nd.device() == "cuda:0" and nd.torch().data_ptr() == t.data_ptr()
    from matx_nb.ndarray import _from_capsule
    back = _from_capsule(t.__dlpack__(max_version=(1, 0)), 2, 0)
    assert back.torch().data_ptr() == t.data_ptr() and back.device() == "cuda:0"
    np.testing.assert_array_equal(nd.numpy(), t.cpu().numpy())


class Doubler(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2


def test_torch_of_a_traced_array_records_nothing(tmp_path):
    """The seed's pipelines end on `nd.torch()` and hand the tensor to the model
    op: traced, the call is the array itself (no node), and the saved folder
    gives the same result."""
    op = matx_nb.script(Doubler())

    def pipeline(x):
        return op(op(x).torch())
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    mod = matx_nb.trace(pipeline, x)
    assert [n["op"]["kind"] for n in mod.spec["nodes"]] == ["torch", "torch"]
    np.testing.assert_array_equal(mod.run({"x": x}).numpy(), x * 4)
    mod.save(tmp_path / "p")
    np.testing.assert_array_equal(matx_nb.load(tmp_path / "p").run({"x": x + 1}).numpy(), (x + 1) * 4)
    with pytest.raises(matx_nb.TraceError, match=r"\.numpy\(\)"):
        matx_nb.trace(lambda x: op(x).numpy(), x)


def test_a_gpu_model_where_torch_has_none_is_refused_clearly():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is here")
    with pytest.raises(ValueError, match=r"TorchOp: device 0 \(cuda:0\) asked for, but .*device=-1"):
        matx_nb.script(Doubler(), device=0)


class Scorer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.lin(x) * 2, dim=-1)


def test_aoti_format_runs_in_every_runner(tmp_path):
    """format="aoti": torch.export + AOTInductor at the first call (the batch
    dimension dynamic), a .pt2 package in the folder, run by the C++ runner with
    the same kernels as Python."""
    import json
    import subprocess
    torch.manual_seed(0)
    model = Scorer().eval()
    op = matx_nb.script(model, format="aoti")
    with pytest.raises(ValueError, match="compiled at its first call"):
        from matx_nb.pipeline.torch_op import save_model
        save_model(op, tmp_path / "early.pt2")
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    want = model(torch.from_numpy(x)).detach().numpy()
    mod = matx_nb.trace(lambda x: op(x), x[:2])
    np.testing.assert_allclose(mod.run({"x": x}).numpy(), want, rtol=1e-5, atol=1e-6)
    assert op.package.suffix == ".pt2" and op.compile_seconds > 0
    mod.save(tmp_path / "p")
    spec = json.loads((tmp_path / "p" / "model.spec.json").read_text())
    assert spec["nodes"][0]["op"]["path"] == "resources/torch0.pt2"
    loaded = matx_nb.load(tmp_path / "p")
    assert loaded.runs_in_cpp
    np.testing.assert_allclose(loaded.run({"x": x[1:]}).numpy(), want[1:], rtol=1e-5, atol=1e-6)
    feed = json.dumps({"x": {"dtype": "float32", "shape": [4, 3], "data": x.tolist()}})
    r = subprocess.run([sys.executable, "-m", "matx_nb.cli", str(tmp_path / "p"), "--feed", feed],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(np.array(json.loads(r.stdout)["data"], np.float32), want, rtol=1e-5, atol=1e-6)


def test_aoti_from_an_exported_program_and_bad_formats():
    model = Scorer().eval()
    x = torch.randn(2, 3)
    ep = torch.export.export(model, (x,))
    op = matx_nb.script(ep, format="aoti")
    np.testing.assert_allclose(op(x.numpy()).numpy(), model(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="format 'onnx' is not one of 'torchscript', 'aoti'"):
        matx_nb.script(model, format="onnx")
