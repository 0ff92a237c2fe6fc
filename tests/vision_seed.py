"""The seed article's VisionPipeline (examples/multimodal/pipelines.py, with the
`process` method exactly as the article writes it: an unannotated parameter,
branches on the mode, `.torch()`), and the eval chain it runs written with cv2
and numpy, which the tests and bench/bench_vision.py check it against."""
import sys
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "multimodal"))
from pipelines import VisionPipeline  # noqa: E402,F401


def reference(images: List[bytes], image_size: int = 224):
    """The eval chain with cv2 and numpy, one image at a time."""
    import cv2
    import numpy as np
    out = []
    for b in images:
        im = cv2.cvtColor(cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        h, w = im.shape[:2]
        s = 256 / min(h, w)
        nh, nw = (256, int(w * s)) if h <= w else (int(h * s), 256)
        im = cv2.resize(im, (nw, nh))
        y, x = (nh - image_size) // 2, (nw - image_size) // 2
        im = im[y:y + image_size, x:x + image_size].astype(np.float32)
        im = (im - np.float32([123.675, 116.28, 103.53])) / np.float32([58.395, 57.12, 57.375])
        out.append(im.transpose(2, 0, 1))
    return np.stack(out)
