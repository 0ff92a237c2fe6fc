"""The seed's multimodal pipeline (examples/multimodal): text + images through
the text and vision ops into BERT + ResNet-18, traced, saved, and run by every
runner with equal scores; its training side in a DataLoader with worker
processes (forked and spawned) and threads."""
from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("cv2")

import matx_nb  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "multimodal"))

import build as mm  # noqa: E402
from pipelines import TextPipeline, TrainPipeline, VisionPipeline  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(pipeline, its eager scores, the saved folder, texts, images)."""
    work = tmp_path_factory.mktemp("multimodal")
    pipe = mm.build(work / "work")
    texts, images = mm.examples(5)
    eager = pipe.eval(texts, images).numpy()
    mod = matx_nb.trace(pipe.eval, texts[:2], images[:2])  # traced on other examples than it is run on
    np.testing.assert_allclose(mod.run({"texts": texts, "images": images}).numpy(), eager, **TOL)
    mod.save(work / "out")
    (work / "feed.json").write_text(mm.feed_json(texts, images))
    return pipe, eager, work / "out", texts, images


def test_scores_are_a_distribution_per_pair(saved):
    _, eager, _, texts, _ = saved
    assert eager.shape == (len(texts), 4) and eager.dtype == np.float32
    np.testing.assert_allclose(eager.sum(axis=1), 1.0, rtol=1e-5)
    assert np.ptp(eager, axis=0).max() > 1e-4  # the inputs make a difference


def test_saved_folder_runs_in_the_session(saved):
    _, eager, out, texts, images = saved
    spec = json.loads((out / "model.spec.json").read_text())
    kinds = {n["op"].get("kind") for n in spec["nodes"]}
    assert "torch" in kinds and spec["inputs"] == ["texts", "images"]
    loaded = matx_nb.load(out, device=-1)
    assert loaded.runs_in_cpp
    np.testing.assert_allclose(loaded.run({"texts": texts, "images": images}).numpy(), eager, **TOL)
    # a batch of another size, in another order
    got = loaded.run({"texts": texts[::-1][:3], "images": images[::-1][:3]}).numpy()
    np.testing.assert_allclose(got, eager[::-1][:3], **TOL)


def data_of(stdout: str) -> np.ndarray:
    out = json.loads(stdout)
    assert out["dtype"] == "float32"
    return np.array(out["data"], dtype=np.float32).reshape(out["shape"])


def test_matx_run_with_a_feed_file(saved):
    _, eager, out, _, _ = saved
    r = subprocess.run([sys.executable, "-m", "matx_nb.cli", str(out), "--feed", f"@{out.parent / 'feed.json'}"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(data_of(r.stdout), eager, **TOL)


def test_standalone_cpp_program(saved, tmp_path):
    """examples/cpp/run_pipeline.cc: no Python in the process; the feed from a file."""
    _, eager, out, _, _ = saved
    exe = tmp_path / "run_pipeline"
    subprocess.run(["g++", "-std=c++17", "-O1", "-w", "-I", str(ROOT / "runtime" / "include"),
                    str(ROOT / "examples" / "cpp" / "run_pipeline.cc"), "-o", str(exe), "-ldl", "-lpthread"],
                   check=True)
    assert "libpython" not in subprocess.run(["ldd", str(exe)], capture_output=True, text=True).stdout
    r = subprocess.run([str(exe), str(out), f"@{out.parent / 'feed.json'}"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(data_of(r.stdout), eager, **TOL)
    r = subprocess.run([str(exe), str(out), f"@{out.parent / 'missing.json'}"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode != 0 and "missing.json" in r.stderr


def test_eval_pipelines_agree_with_their_parts(saved):
    """The vision half against the cv2 chain (tests/vision_seed.py), the text half's
    ids against the vocabulary."""
    import vision_seed
    pipe, _, _, texts, images = saved
    pixels = VisionPipeline(mode="eval").process(images)
    assert isinstance(pixels, torch.Tensor) and pixels.shape == (len(images), 3, 224, 224)
    np.testing.assert_allclose(pixels.numpy(), vision_seed.reference(images), rtol=1e-5, atol=1e-5)
    ids, segments, mask = pipe.text_pipe.process(texts)
    first = pipe.text_pipe.vocab(pipe.text_pipe.cut_engine([texts[0].decode()]))[0]
    row = ids.numpy()[0]
    assert row[0] == pipe.text_pipe.vocab.token_id("[CLS]") and list(row[1:1 + len(first)]) == first
    assert mask.numpy()[0].sum() == len(first) + 2 and not segments.numpy().any()


@pytest.fixture(scope="module")
def vocab(saved):
    return str(saved[2].parent / "work" / "vocab.txt")


@pytest.fixture(scope="module")
def samples(saved):
    _, _, _, texts, images = saved
    return [(t, i, k % 4) for k, (t, i) in enumerate(zip(texts * 2, images * 2))]


def check_batch(batch, n, max_len=32, size=224):
    input_ids, segment_ids, mask, pixels, labels = batch
    assert all(isinstance(t, torch.Tensor) for t in batch)
    assert input_ids.shape == segment_ids.shape == mask.shape == (n, max_len)
    assert input_ids.dtype == torch.int64 and pixels.dtype == torch.float32
    assert pixels.shape == (n, 3, size, size) and labels.shape == (n,)
    assert torch.isfinite(pixels).all() and pixels.abs().max() < 3.0  # normalized


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_with_worker_processes(vocab, samples, context):
    loader = torch.utils.data.DataLoader(samples, batch_size=4, num_workers=2, multiprocessing_context=context,
                                         collate_fn=TrainPipeline(vocab))
    batches = list(loader)
    assert [len(b[4]) for b in batches] == [4, 4, 2]
    for b in batches:
        check_batch(b, len(b[4]))
    assert sorted(torch.cat([b[4] for b in batches]).tolist()) == sorted(y for _, _, y in samples)


def test_train_pipeline_from_threads(vocab, samples):
    """One TrainPipeline serving several threads at once (the ops release the GIL)."""
    collate = TrainPipeline(vocab)
    with ThreadPoolExecutor(3) as pool:
        batches = list(pool.map(collate, [samples[k:k + 3] for k in range(0, len(samples), 3)]))
    for b in batches:
        check_batch(b, len(b[4]))


def test_train_mode_tensors_share_the_arrays_memory(vocab):
    """TextPipeline's train mode hands out `.torch()` of its NDArrays: the same
    memory, no copy."""
    eval_ids = TextPipeline(vocab, mode="eval").process([b"a cat"])[0]
    tensor = eval_ids.torch()
    assert tensor.data_ptr() == eval_ids.numpy().ctypes.data


def test_model_on_a_gpu_that_is_not_there_says_so():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is here")
    with pytest.raises(ValueError, match=r"TorchOp: device 0 \(cuda:0\) asked for, but .*device=-1"):
        matx_nb.script(torch.nn.Linear(2, 2), device=0)
    from matx_nb import vision
    with pytest.raises(ValueError, match=r"run on the CPU, not on 'cuda:0'"):
        vision.ResizeOp(matx_nb.Device("cuda:0"), (4, 4))
