"""Numba (@njit, nopython mode) adaptations of bench/workloads.py.

Numba applies to the numeric workloads; what differs from the shared source:
- `Lcg` is a `@jitclass` (with its field types spelled out), driven by an
  @njit function `lcg_run`: a jitclass method called from Python does not run
  the loop compiled;
- text -> ids takes the vocabulary as a `numba.typed.Dict` built once, and the
  words as a plain Python list (Numba converts it, "reflected list", on every
  call) -- the function body is the shared one;
- BERT WordPiece, the str pipeline and the inverted index are not adapted: they
  need Set/nested containers of str, str building and Dict[str, List[int]],
  which would mean rewriting them against numba.typed containers.
"""
from typing import List

from numba import int64, njit
from numba.experimental import jitclass


@njit(cache=False)
def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


@njit(cache=False)
def int_loop(n: int) -> int:
    total = 0
    for i in range(n):
        if i % 3 == 0:
            total += i * 2
        else:
            total -= i // 2
    return total


@njit(cache=False)
def text2ids(vocab, unk: int, words: List[str]) -> List[int]:
    return [vocab.get(w, unk) for w in words]


@jitclass([("state", int64)])
class Lcg:
    def __init__(self, seed: int) -> None:
        self.state = seed

    def next(self) -> int:
        self.state = (self.state * 1103515245 + 12345) % 2147483648
        return self.state

    def run(self, n: int) -> int:
        total = 0
        for i in range(n):
            total += self.next() % 1000
        return total


@njit(cache=False)
def lcg_run(seed: int, n: int) -> int:
    return Lcg(seed).run(n)


@njit(cache=False)
def add(a: int, b: int) -> int:
    return a + b


@njit(cache=False)
def list_len(items: List[str]) -> int:
    return len(items)
