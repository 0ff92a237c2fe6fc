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
