"""The standard eval chain on a batch of real photos: decode -> resize (shorter
side 256) -> center crop 224 -> normalize -> NCHW float32, against its peers.
Writes bench/VISION_RESULTS.md.

    .venv/bin/python bench/bench_vision.py      # or: make bench-vision

Peers, in one process, measured round-robin (each round runs every variant once,
in a rotating order), so drifts of the machine's speed hit them alike:
- cv2: a Python loop over OpenCV's Python binding (decode, cvtColor, resize,
  slicing, numpy's normalize and transpose, np.stack);
- PIL + torchvision: Image.open + transforms (Resize, CenterCrop, ToTensor,
  Normalize), torch.stack, the usual PyTorch CPU path;
- matx_nb: the seed's VisionPipeline traced, saved and loaded (matx_nb.load: the
  Session that the C++ host and matx-run share), fed the JPEG bytes; trace fuses
  its four ops into one EvalChainOp, and "unfused" runs the four as traced
  without that pass.
Threads: "1 thread" pins OpenCV's pool (both cv2's and ours) and torch to one
thread; "2 threads" gives our ops two (the batch spreads over OpenCV's pool),
and "2 callers" runs two Python threads, each with half of the batch and one
thread of ours (a DataLoader with threads: the GIL is released while the ops run).

Medians over the rounds, with min-max and the ratio's quartiles over paired rounds.
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
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "examples" / "multimodal"))
BATCH = 64
ROUNDS = int(os.environ.get("MATX_NB_BENCH_ROUNDS", "15"))
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def photos(n: int = BATCH):
    """n JPEGs (quality 90) of about 500x375 (landscape) or 375x500 (portrait), cut
    from scikit-image's color photos at several places and scales."""
    import cv2
    from skimage import data
    srcs = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket(), data.hubble_deep_field(),
            data.immunohistochemistry(), data.retina(), data.stereo_motorcycle()[0]]
    out = []
    i = 0
    while len(out) < n:
        im = srcs[i % len(srcs)]
        k = i // len(srcs)
        h, w = im.shape[:2]
        portrait = k % 2 == 1
        th, tw = (500, 375) if portrait else (375, 500)
        scale = max(th / h, tw / w) * (1.0 + 0.15 * (k % 3))
        big = cv2.resize(im, (max(tw, round(w * scale)), max(th, round(h * scale))), interpolation=cv2.INTER_AREA)
        y = (big.shape[0] - th) * (k % 4) // 3
        x = (big.shape[1] - tw) * ((k + 1) % 4) // 3
        crop = big[y:y + th, x:x + tw]
        out.append(cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
        i += 1
    return out


def cv2_loop(images):
    """The chain as a Python loop over cv2 and numpy (tests/vision_seed.py, which
    the tests check the ops against too)."""
    import vision_seed
    return vision_seed.reference(images)


def import_transforms():
    """torchvision.transforms (examples/multimodal/model.py's torchvision(): next to
    a CPU build of torch, a CUDA build of torchvision cannot register its compiled
    ops, which the transforms do not use)."""
    from model import torchvision
    return torchvision().transforms


def torchvision_path():
    import torch
    from PIL import Image
    transforms = import_transforms()
    tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                             transforms.Normalize([m / 255 for m in MEAN], [s / 255 for s in STD])])

    def run(images):
        return torch.stack([tf(Image.open(io.BytesIO(b)).convert("RGB")) for b in images])
    return run


def ours(folder: Path, fuse: bool = True):
    """The traced pipeline, saved and loaded; fuse=False keeps trace's graph passes
    out (the four ops as four nodes, not one EvalChainOp: docs/vision.md)."""
    import matx_nb
    import vision_seed
    from matx_nb.pipeline.graph import PASSES
    pipe = vision_seed.VisionPipeline(mode="trace")
    kept = list(PASSES)
    if not fuse:
        PASSES.clear()
    try:
        mod = matx_nb.trace(pipe.process, photos(2))
    finally:
        PASSES[:] = kept
    mod.save(folder)
    loaded = matx_nb.load(folder)
    run = lambda images: loaded.run({"image": images})  # noqa: E731
    classes = {i["id"]: i["class"] for i in mod.spec["instances"]}
    run.nodes = [classes[n["op"]["instance"]] for n in mod.spec["nodes"]]
    return run


def two_callers(run, pool):
    half = BATCH // 2

    def go(images):
        a = pool.submit(run, images[:half])
        b = run(images[half:])
        return a.result(), b
    return go


def stats(ts):
    q = statistics.quantiles(ts, n=4) if len(ts) >= 4 else [min(ts), statistics.median(ts), max(ts)]
    return {"median": statistics.median(ts), "min": min(ts), "max": max(ts), "q1": q[0], "q3": q[-1]}


def main() -> int:
    import cv2
    import numpy as np
    import torch
    from concurrent.futures import ThreadPoolExecutor
    from matx_nb import vision
    images = photos()
    tmp = Path(tempfile.mkdtemp(prefix="matx_nb_bench_vision_"))
    ours_run = ours(tmp / "pipeline")
    steps_run = ours(tmp / "steps", fuse=False)
    tv_run = torchvision_path()
    pool = ThreadPoolExecutor(1)
    # The outputs agree before anything is timed.
    ref = cv2_loop(images)
    got = np.asarray(ours_run(images))
    assert got.shape == (BATCH, 3, 224, 224) and np.allclose(got, ref, rtol=1e-5, atol=1e-5)
    assert np.array_equal(got, np.asarray(steps_run(images)))
    tv = tv_run(images).numpy()
    tv_close = float(np.mean(np.abs(tv - ref) < 0.1))  # PIL resizes differently (antialiased)

    def threads(n):
        def set_():
            cv2.setNumThreads(n)
            torch.set_num_threads(n)
            vision.set_num_threads(n)
        return set_

    variants = {
        "cv2 loop, 1 thread": (threads(1), lambda: cv2_loop(images)),
        "PIL + torchvision, 1 thread": (threads(1), lambda: tv_run(images)),
        "matx_nb Session, 1 thread": (threads(1), lambda: ours_run(images)),
        "matx_nb Session, 1 thread, unfused": (threads(1), lambda: steps_run(images)),
        "matx_nb Session, 2 threads": (threads(2), lambda: ours_run(images)),
        "matx_nb Session, 2 callers x 1 thread": (threads(1), lambda: two_callers(ours_run, pool)(images)),
        "cv2 loop, 2 threads": (threads(2), lambda: cv2_loop(images)),
    }
    for setup, fn in variants.values():  # warm-up
        setup()
        fn()
    times = {k: [] for k in variants}
    names = list(variants)
    for r in range(ROUNDS):
        order = names[r % len(names):] + names[:r % len(names)]
        for k in order:
            setup, fn = variants[k]
            setup()
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    threads(2)()
    st = {k: stats(v) for k, v in times.items()}

    def ratio(a, b):  # a's time / b's time over paired rounds
        rs = [x / y for x, y in zip(times[a], times[b])]
        return statistics.median(rs), stats(rs)

    one = "matx_nb Session, 1 thread"
    rows = [
        ("≥ 1.3× cv2's Python loop, 1 thread", "cv2 loop, 1 thread", one, 1.3),
        ("≥ 3× PIL + torchvision", "PIL + torchvision, 1 thread", one, 3.0),
        ("≥ 1.8× from 1 to 2 threads", one, "matx_nb Session, 2 threads", 1.8),
    ]
    lines = ["# Vision: the eval chain on 64 photos (bench/bench_vision.py)", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
             f"OpenCV (ours, C++) {vision_opencv_version()}, cv2 {cv2.__version__}, torch {torch.__version__}. "
             f"{ROUNDS} rounds, every variant once per round in a rotating order; one call = the whole batch of "
             f"{BATCH} JPEGs (~500x375, quality 90) to a (64, 3, 224, 224) float32 array.", "",
             f"Our pipeline is the seed's VisionPipeline traced, saved and loaded; its graph is "
             f"{' -> '.join(ours_run.nodes)} (trace's fusion, docs/vision.md). \"unfused\" is the same "
             f"pipeline traced without it: {' -> '.join(steps_run.nodes)}.", "",
             "| target | measured (median of paired ratios) | ratio quartiles | status |", "|---|---|---|---|"]
    for title, slow, fast, goal in rows:
        med, s = ratio(slow, fast)
        lines.append(f"| {title} | **{med:.2f}×** ({st[slow]['median'] * 1e3:.1f} / {st[fast]['median'] * 1e3:.1f} ms) "
                     f"| {s['q1']:.2f}–{s['q3']:.2f} | {'met' if med >= goal else 'missed'} |")
    med, s = ratio(one, "matx_nb Session, 2 callers x 1 thread")
    lines += ["", f"Two Python threads, each calling the pipeline on half the batch with one thread of ours: "
                  f"**{med:.2f}×** the 1-thread time's speed (quartiles {s['q1']:.2f}–{s['q3']:.2f}): "
                  f"the GIL is released while the ops run.", "",
              "| variant | median ms | min–max | IQR |", "|---|---|---|---|"]
    for k in names:
        s = st[k]
        lines.append(f"| {k} | {s['median'] * 1e3:.1f} | {s['min'] * 1e3:.1f}–{s['max'] * 1e3:.1f} | "
                     f"{s['q1'] * 1e3:.1f}–{s['q3'] * 1e3:.1f} |")
    lines += ["", "Checks before timing: our output equals the cv2 loop's to 1e-5 and the unfused pipeline's bit "
                  "for bit; PIL + torchvision resizes "
                  f"with antialiasing, so its output differs ({tv_close:.0%} of values within 0.1).", ""]
    text = "\n".join(lines)
    (ROOT / "bench" / "VISION_RESULTS.md").write_text(text)
    print(text)
    return 0


def vision_opencv_version() -> str:
    for p in ("/usr/include/opencv4/opencv2/core/version.hpp",):
        try:
            t = Path(p).read_text()
        except OSError:
            continue
        import re
        v = [re.search(rf"#define CV_VERSION_{k}\s+(\d+)", t) for k in ("MAJOR", "MINOR", "REVISION")]
        if all(v):
            return ".".join(m.group(1) for m in v)
    return "?"


if __name__ == "__main__":
    sys.exit(main())
