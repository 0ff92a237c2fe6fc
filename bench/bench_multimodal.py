"""The seed's multimodal pipeline (examples/multimodal) end to end, against what a
team writes today in eager Python. Writes bench/MULTIMODAL_RESULTS.md.

    .venv/bin/python bench/bench_multimodal.py      # or: make bench-multimodal

Both sides take the same captions (bytes) and the same JPEG photos (~500x375) and
run the same model (BERT + ResNet-18 + head, random weights, seeded):
- eager Python: the HF `tokenizers` BERT WordPiece tokenizer (padded to 32),
  PIL + torchvision transforms (Resize 256, CenterCrop 224, ToTensor,
  Normalize), torch.stack, and the model as an eager nn.Module;
- matx_nb: the saved folder, run by the C++ Session (matx_nb.load), the model
  as TorchScript in libtorch.
"Pre-processing" is the same without the model: for matx_nb a saved pipeline of
the text and vision pipelines alone. Batches of 1, 8 and 32 pairs; every variant
once per round in a rotating order; medians of the rounds and the quartiles of the
paired ratios. Threads: torch's default (all cores) and our ops' default on both
sides. Then where the time of a batch of 8 goes, op by op.
"""
from __future__ import annotations

import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "multimodal"))
sys.path.insert(0, str(ROOT / "bench"))
ROUNDS = int(os.environ.get("MATX_NB_BENCH_ROUNDS", "7"))
BATCHES = (1, 8, 32)
MAX_LEN = 32


def stats(ts):
    q = statistics.quantiles(ts, n=4) if len(ts) >= 4 else [min(ts), statistics.median(ts), max(ts)]
    return {"median": statistics.median(ts), "min": min(ts), "max": max(ts), "q1": q[0], "q3": q[-1]}


def eager_side(vocab: Path, model):
    """(pre-process, end to end) as a team writes them in eager Python."""
    import torch
    import tokenizers
    from PIL import Image
    from model import torchvision
    from pipelines import MEAN, STD
    tf = torchvision().transforms
    tok = tokenizers.BertWordPieceTokenizer(str(vocab), lowercase=True)
    tok.enable_padding(length=MAX_LEN)
    tok.enable_truncation(MAX_LEN)
    image_tf = tf.Compose([tf.Resize(256), tf.CenterCrop(224), tf.ToTensor(),
                           tf.Normalize([m / 255 for m in MEAN], [s / 255 for s in STD])])

    def pre(texts, images):
        enc = tok.encode_batch([t.decode("utf-8") for t in texts])
        ids = torch.tensor([e.ids for e in enc])
        segments = torch.tensor([e.type_ids for e in enc])
        mask = torch.tensor([e.attention_mask for e in enc])
        pixels = torch.stack([image_tf(Image.open(io.BytesIO(b)).convert("RGB")) for b in images])
        return ids, segments, mask, pixels

    def end_to_end(texts, images):
        with torch.inference_mode():
            return model(*pre(texts, images))
    return pre, end_to_end


def our_side(pipe, tmp: Path, texts, images):
    """(pre-process, end to end): saved folders run by the C++ Session."""
    import matx_nb

    def preprocess(texts, images):
        input_ids, segment_ids, mask = pipe.text_pipe.process(texts)
        return input_ids, segment_ids, mask, pipe.vision_pipe.process(images)
    matx_nb.trace(preprocess, texts[:2], images[:2]).save(tmp / "pre")
    matx_nb.trace(pipe.eval, texts[:2], images[:2]).save(tmp / "e2e")
    pre, e2e = matx_nb.load(tmp / "pre"), matx_nb.load(tmp / "e2e")
    assert pre.runs_in_cpp and e2e.runs_in_cpp
    return (lambda t, i: pre.run({"texts": t, "images": i}),
            lambda t, i: e2e.run({"texts": t, "images": i}))


def breakdown(pipe, model, texts, images, reps: int = 5):
    """ms per batch of each step, ours and eager, medians of reps."""
    from matx_nb import vision
    vp = pipe.vision_pipe
    decoded = vp.decode(images)
    resized = vp.resize(decoded)
    cropped = vp.center_crop(resized)
    ids = pipe.text_pipe.process(texts)
    pixels = vp.transpose_norm(cropped, vision.SYNC)
    tensors = [a.torch() for a in ids] + [pixels.torch()]
    steps = {
        "tokenize (text pipeline)": lambda: pipe.text_pipe.process(texts),
        "decode (ImdecodeOp)": lambda: vp.decode(images),
        "resize + crop (ResizeOp, CenterCropOp)": lambda: vp.center_crop(vp.resize(decoded)),
        "normalize, NCHW (TransposeNormalizeOp)": lambda: vp.transpose_norm(cropped, vision.SYNC),
        "model (TorchScript)": lambda: pipe.tx_model_op(*tensors),
        "model (eager nn.Module)": lambda: _eager(model, tensors),
    }
    out = {}
    for name, fn in steps.items():
        fn()
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        out[name] = statistics.median(ts) * 1e3
    return out


def formats(model, tmp: Path, tensors, reps: int = 7):
    """Per model format: the export (script, first call, save) in seconds and the
    saved model run by the C++ Session at this batch, ms (median of reps)."""
    import numpy as np
    import matx_nb
    out = {}
    feeds = {f"x{k}": np.asarray(t) for k, t in enumerate(tensors)}
    for fmt in ("torchscript", "aoti"):
        t0 = time.perf_counter()
        op = matx_nb.script(model, format=fmt)

        def run_model(x0, x1, x2, x3, op=op):
            return op(x0, x1, x2, x3)
        mod = matx_nb.trace(run_model, *feeds.values())
        mod.save(tmp / fmt)
        export_s = time.perf_counter() - t0
        loaded = matx_nb.load(tmp / fmt)
        loaded.run(feeds)
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            loaded.run(feeds)
            ts.append(time.perf_counter() - t)
        out[fmt] = (export_s, statistics.median(ts) * 1e3)
    return out


def _eager(model, tensors):
    import torch
    with torch.inference_mode():
        return model(*tensors)


def main() -> int:
    import numpy as np
    import torch
    import build as mm
    import bench_vision
    tmp = Path(tempfile.mkdtemp(prefix="matx_nb_bench_mm_"))
    pipe = mm.build(tmp / "work", max_len=MAX_LEN)
    vocab = tmp / "work" / "vocab.txt"
    torch.manual_seed(0)  # the weights build() gave the pipeline's model (scripted and frozen there)
    eager_model = mm.MultimodalModel(sum(1 for _ in open(vocab)), max_len=MAX_LEN).eval()
    n = max(BATCHES)
    images = bench_vision.photos(n)
    texts = [mm.CAPTIONS[i % len(mm.CAPTIONS)].encode() for i in range(n)]
    eager_pre, eager_e2e = eager_side(vocab, eager_model)
    our_pre, our_e2e = our_side(pipe, tmp, texts, images)
    # the two sides agree where they do the same thing: the model on the same inputs
    ours = np.asarray(our_e2e(texts[:8], images[:8]).numpy())
    same = _eager(eager_model, [torch.from_numpy(np.asarray(a.numpy())) for a in our_pre(texts[:8], images[:8])])
    assert np.allclose(ours, same.numpy(), rtol=1e-4, atol=1e-5)

    variants = {}
    for b in BATCHES:
        t_, i_ = texts[:b], images[:b]
        variants[("pre", "eager", b)] = lambda t_=t_, i_=i_: eager_pre(t_, i_)
        variants[("pre", "matx_nb", b)] = lambda t_=t_, i_=i_: our_pre(t_, i_)
        variants[("e2e", "eager", b)] = lambda t_=t_, i_=i_: eager_e2e(t_, i_)
        variants[("e2e", "matx_nb", b)] = lambda t_=t_, i_=i_: our_e2e(t_, i_)
    for fn in variants.values():
        fn()
    times = {k: [] for k in variants}
    names = list(variants)
    for r in range(ROUNDS):
        for k in names[r % len(names):] + names[:r % len(names)]:
            t = time.perf_counter()
            variants[k]()
            times[k].append(time.perf_counter() - t)
    parts = breakdown(pipe, eager_model, texts[:8], images[:8])
    tensors8 = [np.asarray(a.numpy()) for a in our_pre(texts[:8], images[:8])]
    fmts = formats(eager_model, tmp, tensors8)

    def row(kind, b):
        e, o = times[(kind, "eager", b)], times[(kind, "matx_nb", b)]
        rs = stats([x / y for x, y in zip(e, o)])
        return (f"| {b} | {b / statistics.median(e):.1f} | {b / statistics.median(o):.1f} | "
                f"**{statistics.median([x / y for x, y in zip(e, o)]):.2f}×** | {rs['q1']:.2f}–{rs['q3']:.2f} |"), \
            statistics.median([x / y for x, y in zip(e, o)])

    lines = ["# The multimodal pipeline end to end (bench/bench_multimodal.py)", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
             f"torch {torch.__version__} ({torch.get_num_threads()} threads). {ROUNDS} rounds, every variant once "
             "per round in a rotating order. Captions as bytes and ~500x375 JPEG photos (quality 90); the model "
             "is BERT (2 layers, 64 wide) + ResNet-18 + a head, random weights.", ""]
    verdicts = []
    for kind, title, goal, at in (("pre", "Pre-processing alone (tokenize, decode, resize, crop, normalize)", 3.0, None),
                                  ("e2e", "End to end (pre-processing and the model)", 1.5, 8)):
        lines += [f"## {title}", "", "| batch | eager Python, pairs/s | matx_nb Session, pairs/s | "
                  "speed-up (median of paired ratios) | ratio quartiles |", "|---|---|---|---|---|"]
        for b in BATCHES:
            text, ratio = row(kind, b)
            lines.append(text)
            if at is None or b == at:
                verdicts.append((title, b, ratio, goal))
        lines.append("")
    lines += ["## Targets", "", "| target | measured | status |", "|---|---|---|"]
    for title, b, ratio, goal in verdicts:
        lines.append(f"| {title.split(' (')[0]} ≥ {goal}× (batch {b}) | {ratio:.2f}× | "
                     f"{'met' if ratio >= goal else 'missed'} |")
    lines += ["", "## Where the time of a batch of 8 goes (ms, medians)", "", "| step | ms |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in parts.items()]
    lines += ["", "## The model's formats (batch 8)", "",
              "| format | export: script, first call, save (s) | run by the C++ Session (ms, median) |",
              "|---|---|---|"]
    lines += [f"| {k} | {e:.1f} | {r:.1f} |" for k, (e, r) in fmts.items()]
    lines += ["", f"(The eager nn.Module: {parts['model (eager nn.Module)']:.1f} ms.) TorchScript runs after "
              "torch.jit.optimize_for_inference (docs/torch.md); AOTInductor compiles the model to C++ kernels "
              "ahead of time."]
    lines.append("")
    out = ROOT / "bench" / "MULTIMODAL_RESULTS.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
