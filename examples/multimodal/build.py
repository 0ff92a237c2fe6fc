"""Builds the seed's multimodal pipeline, traces it, saves it and runs the saved
folder in every runner:

    python examples/multimodal/build.py OUT_DIR [--device N] [--train-steps K]

- a vocabulary from the example captions, the model (BERT + ResNet-18 + head,
  random weights seeded, or trained K steps on the example pairs through
  TrainPipeline in a DataLoader with worker processes);
- `matx.trace(pipe.eval, texts, images)`, saved to OUT_DIR, with OUT_DIR/feed.json
  (the example inputs, images as {"$b64": base64});
- the scores from eager Python, the traced module, matx_nb.load (the C++
  Session), and the commands for matx-run and examples/cpp/run_pipeline.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import List, Tuple

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import matx_nb  # noqa: E402
from model import MultimodalModel  # noqa: E402
from pipelines import MultimodalEvalPipeline, TrainPipeline  # noqa: E402

CAPTIONS = [
    "an astronaut in a white suit in front of a flag",
    "a cat with green eyes looks at the camera",
    "a cup of coffee on a saucer",
    "a rocket on the launch pad under a blue sky",
    "galaxies scattered across the deep field",
    "stained tissue under the microscope",
    "the retina of an eye, with its blood vessels",
    "a red motorcycle parked in a workshop",
]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def photos(n: int = len(CAPTIONS), size: Tuple[int, int] = (500, 375)) -> List[bytes]:
    """n JPEGs of about size (width, height): scikit-image's photos where it is
    installed (one per caption, in order), else drawn gradients; encoded with
    matx_nb.vision.ImencodeOp."""
    from matx_nb import vision
    w, h = size
    try:
        from skimage import data
        srcs = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket(), data.hubble_deep_field(),
                data.immunohistochemistry(), data.retina(), data.stereo_motorcycle()[0]]
    except ImportError:
        yy, xx = np.mgrid[0:h, 0:w]
        srcs = [np.stack([(xx * (k + 1)) % 256, (yy * (k + 2)) % 256, ((xx + yy) * k) % 256], -1).astype(np.uint8)
                for k in range(len(CAPTIONS))]
    resize = vision.ResizeOp(matx_nb.Device("cpu"), (h, w))
    encode = vision.ImencodeOp(matx_nb.Device("cpu"), "RGB", quality=90)
    images = resize([matx_nb.array.from_numpy(np.ascontiguousarray(srcs[i % len(srcs)][..., :3]))
                     for i in range(n)])
    return list(encode(images))


def write_vocab(path: Path) -> Path:
    """The captions' words (BasicTokenizer: lower case, punctuation apart) after
    BERT's special tokens."""
    from matx_nb import text
    words = sorted({w for ws in text.BasicTokenizer()(CAPTIONS) for w in ws})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(SPECIALS + words) + "\n", encoding="utf-8")
    return path


def examples(n: int = len(CAPTIONS)) -> Tuple[List[bytes], List[bytes]]:
    texts = [CAPTIONS[i % len(CAPTIONS)].encode() for i in range(n)]
    return texts, photos(n)


def train(model: MultimodalModel, vocab: Path, steps: int, batch: int = 8, workers: int = 2) -> None:
    """`steps` Adam steps on the example pairs (label: the caption's index mod
    the classes), batches made by TrainPipeline in DataLoader workers."""
    texts, images = examples()
    classes = model.head[-1].out_features
    samples = [(t, i, k % classes) for k, (t, i) in enumerate(zip(texts, images))]
    loader = torch.utils.data.DataLoader(samples, batch_size=batch, shuffle=True, num_workers=workers,
                                         collate_fn=TrainPipeline(str(vocab)))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()
    done = 0
    while done < steps:
        for input_ids, segment_ids, mask, pixels, labels in loader:
            loss = torch.nn.functional.nll_loss(torch.log(model(input_ids, segment_ids, mask, pixels) + 1e-9),
                                                labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            print(f"step {done}: loss {loss.item():.4f}")
            if done == steps:
                break
    model.eval()


def build(workdir: Path, device: int = -1, train_steps: int = 0, max_len: int = 32) -> MultimodalEvalPipeline:
    vocab = write_vocab(workdir / "vocab.txt")
    torch.manual_seed(0)
    n_vocab = sum(1 for _ in open(vocab, encoding="utf-8"))
    model = MultimodalModel(n_vocab, max_len=max_len).eval()
    if train_steps:
        train(model, vocab, train_steps)
    return MultimodalEvalPipeline(str(vocab), model, max_len, device=device)


def feed_json(texts: List[bytes], images: List[bytes]) -> str:
    return json.dumps({"texts": [{"$bytes": t.decode("utf-8")} for t in texts],
                       "images": [{"$b64": base64.b64encode(i).decode("ascii")} for i in images]})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default="out/multimodal")
    ap.add_argument("--device", type=int, default=-1, help="the model's device: -1 the CPU, N cuda:N")
    ap.add_argument("--train-steps", type=int, default=0)
    ap.add_argument("--batch", type=int, default=4, help="example batch size")
    a = ap.parse_args(argv)
    out = Path(a.out)
    pipe = build(out.parent / (out.name + "_work"), a.device, a.train_steps)
    texts, images = examples(a.batch)
    mod = matx_nb.trace(pipe.eval, texts, images)
    mod.save(out)
    (out / "feed.json").write_text(feed_json(texts, images))
    show = lambda scores: np.array2string(np.asarray(scores.numpy()), precision=5, separator=", ")  # noqa: E731
    print("eager:\n" + show(pipe.eval(texts, images)))
    print("traced:\n" + show(mod.run({"texts": texts, "images": images})))
    loaded = matx_nb.load(out, device=a.device)
    print("loaded" + (" (the C++ Session)" if loaded.runs_in_cpp else "") + ":\n" +
          show(loaded.run({"texts": texts, "images": images})))
    print(f"saved to {out}; run it with:\n  matx-run {out} --feed @{out / 'feed.json'}\n"
          f"  examples/cpp/run_pipeline {out} @{out / 'feed.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
