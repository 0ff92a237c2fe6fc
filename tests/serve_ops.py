"""Pipelines served by tests/test_serve.py (compiled code needs a source file):
the seed's text pipeline, a pipeline whose cost is in its input (spin), one
that fails on some inputs (checked), one over arrays (scale) and one that is
not batchable along dimension 0 (batch_sum). Pipelines over lists of str for
the native front (tests/test_serve_front.py): words, spin_text, lengths, feats."""
import sys
from pathlib import Path
from typing import List

import matx_nb
from matx_nb import NDArray

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["hello, world! the quick brown fox", "Café crème brûlée; naïve résumé", "tokenizers split words",
         "中文分词测试，你好世界。"]


def spin(xs: List[int]) -> List[int]:
    """Each x costs x million steps of a linear congruential generator."""
    out: List[int] = []
    for x in xs:
        h = 1
        for i in range(x * 1000000):
            h = (h * 1103515245 + 12345 + i) % 2147483648
        out.append(h)
    return out


def checked(xs: List[int]) -> List[int]:
    out: List[int] = []
    for x in xs:
        if x < 0:
            raise ValueError("checked: negative input " + str(x))
        out.append(x * 10)
    return out


def scale(images: NDArray) -> NDArray:
    return images * 2.0 + 1.0


def batch_sum(xs: List[int]) -> List[int]:
    """Each row's result depends on the whole batch: not batchable."""
    total = 0
    for x in xs:
        total += x
    return [x + total for x in xs]


def add_k(xs: List[int], k: int) -> List[int]:
    return [x + k for x in xs]


def ragged(ns: List[int]) -> List[List[int]]:
    return [list(range(n)) for n in ns]


def words(texts: List[str]) -> List[str]:
    out: List[str] = []
    for t in texts:
        if t == "boom":
            raise ValueError("words: a text is 'boom'")
        out.append(t.lower().strip() + "|" + str(len(t)))
    return out


def spin_text(texts: List[str]) -> List[int]:
    """Each text, a number N, costs N million steps."""
    out: List[int] = []
    for t in texts:
        h = 1
        for i in range(int(t) * 1000000):
            h = (h * 1103515245 + 12345 + i) % 2147483648
        out.append(h)
    return out


def ratio(texts: List[str]) -> List[float]:
    return [len(t) / 3.0 for t in texts]


def counts(texts: List[str]) -> List[List[int]]:
    return [[len(t), t.count(" ")] for t in texts]


def even(texts: List[str]) -> List[bool]:
    return [len(t) % 2 == 0 for t in texts]


def vec(texts: List[str]) -> NDArray:
    flat: List[float] = []
    for t in texts:
        flat.append(len(t) * 0.1)
        flat.append(t.count(" ") / 7.0)
    return matx_nb.NDArray(flat, [len(texts), 2], "float32")


def size(texts: List[bytes]) -> List[int]:
    return [len(t) for t in texts]


def first(texts: List[bytes]) -> List[int]:
    return [t[0] if len(t) > 0 else -1 for t in texts]


def save_front(root: Path) -> dict:
    """The native front's pipelines, saved under root; {name: folder}: words
    (List[str] -> List[str]), spin_text (-> List[int]), lengths (a tuple of
    four outputs: floats, rows of ints, bools, a float32 array), feats
    (List[bytes] -> a dict of two outputs)."""
    ops = {fn.__name__: matx_nb.script(fn) for fn in (words, spin_text, ratio, counts, even, vec, size, first)}

    def lengths(texts):
        return ops["ratio"](texts), ops["counts"](texts), ops["even"](texts), ops["vec"](texts)

    def feats(texts):
        return {"size": ops["size"](texts), "first": ops["first"](texts)}

    example = ["Hello World", "a b c"]
    matx_nb.trace(ops["words"], example).save(root / "words", batch_dim0=True)
    matx_nb.trace(ops["spin_text"], ["0", "0"]).save(root / "spin_text", batch_dim0=True)
    matx_nb.trace(lengths, example).save(root / "lengths", batch_dim0=True, output_names=["ratio", "counts", "even", "vec"])
    matx_nb.trace(feats, [b"ab", b"c"]).save(root / "feats", batch_dim0=True)
    return {name: root / name for name in ("words", "spin_text", "lengths", "feats")}


def text_pipeline(workdir: Path, max_len: int = 16):
    sys.path.insert(0, str(ROOT / "examples" / "multimodal"))
    sys.path.insert(0, str(ROOT / "examples" / "text_pipeline"))
    from pipelines import TextPipeline
    import pipeline as example
    workdir.mkdir(parents=True, exist_ok=True)
    vocab = example.write_vocab(workdir / "vocab.txt")
    return TextPipeline(str(vocab), max_len)


def save_all(root: Path) -> dict:
    """Saves each pipeline under root; {name: folder}."""
    import numpy as np
    tp = text_pipeline(root / "work")
    folders = {}
    matx_nb.trace(tp.process, [t.encode() for t in TEXTS]).save(
        root / "text", output_names=["input_ids", "segment_ids", "mask"])
    folders["text"] = root / "text"
    for fn, example in [(spin, [1, 2]), (checked, [1, 2, 3]), (batch_sum, [1, 2, 3])]:
        matx_nb.trace(matx_nb.script(fn), example).save(root / fn.__name__)
        folders[fn.__name__] = root / fn.__name__
    matx_nb.trace(matx_nb.script(add_k), [1, 2], 5).save(root / "add_k", batch_dim0=True)
    folders["add_k"] = root / "add_k"
    imgs = NDArray(np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4))
    matx_nb.trace(matx_nb.script(scale), imgs).save(root / "scale", output_names=["scaled"])
    folders["scale"] = root / "scale"
    return folders
