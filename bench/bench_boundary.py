"""Text workloads where the Python <-> C++ boundary is a large part of the work,
compiled with matx_nb and run by CPython side by side in one process, and what
crossing the boundary alone costs. Writes bench/BOUNDARY_RESULTS.md.

    .venv/bin/python bench/bench_boundary.py      # or: make bench-boundary

The workloads are of the kinds issue #21 names (held-out pre-processing code,
written as users write it, on data unlike bench/'s other workloads):
- ids: word -> id over a 1M-word list with a 50k-entry vocabulary dict;
- clean: strip / lower / replace / split / join over 200k lines;
- index: an inverted index Dict[str, List[int]] built by position over two lists;
- vocab: a vocabulary class built from a word list, its lookup method called
  once per word from Python (200k calls);
- fib(27) and an integer loop, for the compiled code's own speed.
Probes: a compiled function that only receives a 1M-word List[str], one that
only receives a 50k Dict[str, int], one that only returns a List[int] of 1M
(`list(range(n))` in compiled code) against CPython's list(range(n)).

Every variant runs once per round in a rotating order; medians of the rounds,
and the quartiles of the paired ratios (CPython / compiled).
"""
from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("MATX_NB_BENCH_ROUNDS", "7"))


# ---- the workloads, as users write them (compiled as they are, and run by CPython)

def word_ids(words: List[str], vocab: Dict[str, int]) -> List[int]:
    out: List[int] = []
    for w in words:
        out.append(vocab.get(w, 1))
    return out


def clean_lines(lines: List[str]) -> List[str]:
    out: List[str] = []
    for line in lines:
        t = line.strip().lower().replace(",", " ").replace(".", " ")
        out.append(" ".join(t.split()))
    return out


def inverted_index(docs: List[str], ids: List[int]) -> Dict[str, List[int]]:
    index: Dict[str, List[int]] = {}
    for i in range(len(docs)):
        for w in docs[i].split():
            if w in index:
                index[w].append(ids[i])
            else:
                index[w] = [ids[i]]
    return index


class Vocab:
    def __init__(self, words: List[str]) -> None:
        self.ids: Dict[str, int] = {}
        for w in words:
            if w not in self.ids:
                self.ids[w] = len(self.ids) + 2

    def lookup(self, w: str) -> int:
        return self.ids.get(w, 1)


# Other ways of writing the same work (issue #21: not one shape of loop).
def word_ids_index(words: List[str], vocab: Dict[str, int]) -> List[int]:
    out: List[int] = []
    for i in range(len(words)):
        w = words[i]
        if w in vocab:
            out.append(vocab[w])
        else:
            out.append(1)
    return out


def word_ids_comp(words: List[str], vocab: Dict[str, int]) -> List[int]:
    return [vocab.get(w, 1) for w in words]


def clean_comp(lines: List[str]) -> List[str]:
    return [" ".join(line.lower().replace(",", "").replace(".", "").split()) for line in lines]


def clean_fields(lines: List[str]) -> List[str]:
    out: List[str] = []
    for line in lines:
        parts = line.strip().split(",")
        words: List[str] = []
        for p in parts:
            p = p.strip().rstrip(".").lower()
            if p:
                words.append(p)
        out.append("|".join(words))
    return out


def index_zip(docs: List[str], ids: List[int]) -> Dict[str, List[int]]:
    index: Dict[str, List[int]] = {}
    for doc, i in zip(docs, ids):
        for w in doc.lower().split():
            index.setdefault(w, []).append(i)
    return index


def index_enumerate(docs: List[str], ids: List[int]) -> Dict[str, List[int]]:
    index: Dict[str, List[int]] = {}
    for k, doc in enumerate(docs):
        seen: Dict[str, int] = {}
        for w in doc.split():
            if w not in seen:
                seen[w] = 1
                if w not in index:
                    index[w] = []
                index[w].append(ids[k])
    return index


def vocab_in_call(words: List[str], queries: List[str]) -> List[int]:
    v = Vocab(words)
    out: List[int] = []
    for q in queries:
        out.append(v.lookup(q))
    return out


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def int_loop(n: int) -> int:
    s = 0
    for i in range(n):
        s = (s + i * i) % 1000003
    return s


def take_words(words: List[str]) -> int:
    return len(words)


def take_vocab(vocab: Dict[str, int]) -> int:
    return len(vocab)


def give_ints(n: int) -> List[int]:
    return list(range(n))


# ---- data

def corpus(seed: int = 7):
    """A 50k vocabulary of made-up words (Zipf-like use), 1M words drawn from it
    plus 5% unknown ones, 200k lines of 8-20 words with punctuation and case."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab_words = []
    seen = set()
    while len(vocab_words) < 50_000:
        w = "".join(rng.choice(letters) for _ in range(rng.randint(2, 10)))
        if w not in seen:
            seen.add(w)
            vocab_words.append(w)
    weights = [1.0 / (k + 1) for k in range(len(vocab_words))]
    words = rng.choices(vocab_words, weights, k=1_000_000)
    for k in range(0, len(words), 20):
        words[k] = words[k] + "q"  # unknown
    lines = []
    for k in range(200_000):
        n = rng.randint(8, 20)
        ws = words[k * 5 % 999_000:k * 5 % 999_000 + n]
        ws = [w.capitalize() if rng.random() < 0.2 else w for w in ws]
        lines.append("  " + ", ".join(ws[:n // 2]) + ". " + " ".join(ws[n // 2:]) + " \n")
    vocab = {w: i + 2 for i, w in enumerate(vocab_words)}
    return vocab_words, vocab, words, lines


def main() -> int:
    import matx_nb
    vocab_words, vocab, words, lines = corpus()
    docs = lines[:100_000]
    doc_ids = list(range(100_000, 200_000))
    lookups = words[:200_000]
    c = {f.__name__: matx_nb.script(f) for f in (word_ids, clean_lines, inverted_index, fib, int_loop, take_words,
                                                 take_vocab, give_ints, word_ids_index, word_ids_comp, clean_comp,
                                                 clean_fields, index_zip, index_enumerate, vocab_in_call)}
    words300k, lines50k = words[::3][:300_000], lines[::4][:50_000]
    CVocab = matx_nb.script(Vocab)
    py_vocab, c_vocab = Vocab(vocab_words), CVocab(vocab_words)

    def vocab_calls(v):
        look = v.lookup
        return [look(w) for w in lookups]

    pairs = {  # name -> (CPython, compiled, goal of CPython / compiled or None)
        "ids: word -> id, 1M words, 50k vocabulary": (lambda: word_ids(words, vocab),
                                                     lambda: c["word_ids"](words, vocab), 2.0),
        "clean: strip/lower/replace/split/join, 200k lines": (lambda: clean_lines(lines),
                                                              lambda: c["clean_lines"](lines), 2.0),
        "index: inverted index over 100k lines": (lambda: inverted_index(docs, doc_ids),
                                                   lambda: c["inverted_index"](docs, doc_ids), 1.5),
        "vocab: Vocab.lookup called 200k times from Python": (lambda: vocab_calls(py_vocab),
                                                               lambda: vocab_calls(c_vocab), 3.0),
        "ids, `in` then index by position, 1M words": (lambda: word_ids_index(words, vocab),
                                                       lambda: c["word_ids_index"](words, vocab), 2.0),
        "ids, a comprehension, 300k words": (lambda: word_ids_comp(words300k, vocab),
                                             lambda: c["word_ids_comp"](words300k, vocab), 2.0),
        "clean, a comprehension, 200k lines": (lambda: clean_comp(lines), lambda: c["clean_comp"](lines), 2.0),
        "clean, fields split on commas, 50k lines": (lambda: clean_fields(lines50k),
                                                     lambda: c["clean_fields"](lines50k), 2.0),
        "index, zip + setdefault, 100k lines": (lambda: index_zip(docs, doc_ids),
                                                 lambda: c["index_zip"](docs, doc_ids), 1.5),
        "index, enumerate, once per line, 100k lines": (lambda: index_enumerate(docs, doc_ids),
                                                         lambda: c["index_enumerate"](docs, doc_ids), 1.5),
        "vocab built in the call, 200k lookups": (lambda: vocab_in_call(vocab_words, lookups),
                                                   lambda: c["vocab_in_call"](vocab_words, lookups), 3.0),
        "fib(27)": (lambda: fib(27), lambda: c["fib"](27), 150.0),
        "integer loop, 1M": (lambda: int_loop(1_000_000), lambda: c["int_loop"](1_000_000), 45.0),
    }
    probes = {
        "pass a 1M-word List[str] in": lambda: c["take_words"](words),
        "pass a 50k Dict[str, int] in": lambda: c["take_vocab"](vocab),
        "return a List[int] of 1M": lambda: c["give_ints"](1_000_000),
        "CPython: list(range(1M))": lambda: list(range(1_000_000)),
    }
    for name, (py, cc, _) in pairs.items():  # same results before anything is timed
        a, b = py(), cc()
        assert a == b, name
    variants = {}
    for name, (py, cc, _) in pairs.items():
        variants[("py", name)] = py
        variants[("c", name)] = cc
    for name, fn in probes.items():
        variants[("probe", name)] = fn
    for fn in variants.values():
        fn()
    times = {k: [] for k in variants}
    keys = list(variants)
    for r in range(ROUNDS):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            t = time.perf_counter()
            variants[k]()
            times[k].append(time.perf_counter() - t)

    def ms(ts):
        return statistics.median(ts) * 1e3

    lines_out = ["# The Python <-> C++ boundary on text workloads (bench/bench_boundary.py)", "",
                 f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}. "
                 f"{ROUNDS} rounds, every variant once per round in a rotating order; medians, and the quartiles of "
                 "the paired ratios. Each call is timed from Python, arguments and results converted as a user "
                 "pays them.", "",
                 "The goals are issue #21's for its held-out workload of the same kind (its data and code differ "
                 "from these), so a row's status says where this workload stands against that bar.", "",
                 "| workload | CPython | matx_nb | CPython / matx_nb | ratio quartiles | goal (#21) | status |",
                 "|---|---|---|---|---|---|---|"]
    for name, (_, _, goal) in pairs.items():
        rs = [a / b for a, b in zip(times[("py", name)], times[("c", name)])]
        q = statistics.quantiles(rs, n=4)
        med = statistics.median(rs)
        lines_out.append(f"| {name} | {ms(times[('py', name)]):.1f} ms | {ms(times[('c', name)]):.2f} ms | "
                         f"**{med:.2f}×** | {q[0]:.2f}–{q[-1]:.2f} | ≥ {goal:g}× | "
                         f"{'met' if med >= goal else 'missed'} |")
    lines_out += ["", "## Crossing the boundary alone", "", "| probe | median | min–max |", "|---|---|---|"]
    for name in probes:
        ts = times[("probe", name)]
        lines_out.append(f"| {name} | {ms(ts):.1f} ms | {min(ts) * 1e3:.1f}–{max(ts) * 1e3:.1f} ms |")
    lines_out.append("")
    text = "\n".join(lines_out)
    (ROOT / "bench" / "BOUNDARY_RESULTS.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
