"""Text pipeline benchmarks (issue #7): BERT WordPiece tokenization throughput
of matx_nb.text (compiled from our own subset) vs HF tokenizers (Rust) vs the
same source run by CPython; and the seed's TextPipeline as a DataLoader-style
transform run by a thread pool of 1 and 2 threads (compiled code releases the GIL).

    .venv/bin/python bench/bench_text.py [--n 2000] [--out bench/TEXT_RESULTS.md]
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tokenizers

import matx_nb.text as text
from matx_nb.text import bert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "text_pipeline"))
import pipeline as example  # noqa: E402

BASE = example.CORPUS + [
    "The seed's text pipeline decodes bytes, cuts words, maps them through a vocabulary and builds tensors.",
    "Résumé of naïve café owners in Zürich: 12 interviews, 3 déjà-vu moments, 1 crème brûlée.",
    "我们在北京的自然语言处理实验室里测试分词器的速度和正确性。",
]


def timeit(fn, repeat=5):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="sentences per run")
    ap.add_argument("--out", default=str(Path(__file__).with_name("TEXT_RESULTS.md")))
    args = ap.parse_args()
    texts = [BASE[i % len(BASE)] + f" #{i}" for i in range(args.n)]
    work = Path(tempfile.mkdtemp())
    hf0 = tokenizers.BertWordPieceTokenizer(lowercase=True)
    hf0.train_from_iterator(BASE * 4, vocab_size=500, min_frequency=1,
                            special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    hf0.save_model(str(work))
    vocab = str(work / "vocab.txt")
    hf = tokenizers.BertWordPieceTokenizer(vocab, lowercase=True)
    compiled = text.BertTokenizer(vocab)
    python = bert.BertTokenizer(vocab)
    assert compiled(texts[:50]) == [e.ids for e in hf.encode_batch(texts[:50], add_special_tokens=False)]
    rows = []
    t_c = timeit(lambda: compiled(texts))
    t_hf1 = timeit(lambda: [hf.encode(t, add_special_tokens=False) for t in texts])
    t_hfb = timeit(lambda: hf.encode_batch(texts, add_special_tokens=False))
    t_py = timeit(lambda: python(texts), repeat=1)
    for name, t in (("matx_nb.text.BertTokenizer (compiled, one call per batch)", t_c),
                    ("HF tokenizers encode, one call per sentence", t_hf1),
                    ("HF tokenizers encode_batch (Rust, parallel)", t_hfb),
                    ("same source under CPython", t_py)):
        rows.append(f"| {name} | {t * 1e3:.1f} ms | {args.n / t:,.0f} sentences/s | {t_py / t:.1f}x |")

    # The TextPipeline as a transform: batches of 32 sentences, thread pool.
    tp = example.TextPipeline(vocab, 64, mode="train")
    batches = [texts[i:i + 32] for i in range(0, len(texts), 32)]
    bytes_batches = [[s.encode() for s in b] for b in batches]
    t_pool = {}
    for threads in (1, 2):
        with ThreadPoolExecutor(threads) as pool:
            t_pool[threads] = timeit(lambda: list(pool.map(tp.process, bytes_batches)))
    pool_rows = [f"| {k} | {t_pool[k] * 1e3:.1f} ms | {args.n / t_pool[k]:,.0f} sentences/s | "
                 f"{t_pool[1] / t_pool[k]:.2f}x |" for k in (1, 2)]
    md = "\n".join([
        "# Text pipeline benchmarks (bench/bench_text.py)", "",
        f"{args.n} sentences (English, accents, Chinese), vocabulary of {sum(1 for _ in open(vocab))} WordPieces; "
        f"median of 5 runs (CPython: 1); {platform.processor() or platform.machine()}, "
        "a 2-core VM shared with other work, so absolute figures are noisy.", "",
        "## BERT WordPiece tokenization (text -> ids)", "",
        "| implementation | time | throughput | vs CPython |", "|---|---|---|---|", *rows, "",
        "## TextPipeline (decode, cut, WordPiece, build input_ids/segment_ids/mask, .torch()) in a thread pool", "",
        "| threads | time | throughput | speedup |", "|---|---|---|---|", *pool_rows, ""])
    Path(args.out).write_text(md)
    print(md)


if __name__ == "__main__":
    main()
