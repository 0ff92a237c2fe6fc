"""Tiny matx_nb demo: compile a function and a class, check them, time fib(27).

Run with `make demo` (or `.venv/bin/python examples/demo.py`).
"""
import time
from typing import Dict, List

import matx_nb


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Text2Ids:
    def __init__(self) -> None:
        self.table: Dict[str, int] = {"hello": 0, "world": 1, "[UNK]": 2}

    def lookup(self, word: str) -> int:
        return self.table.get(word, 2)

    def __call__(self, words: List[str]) -> List[int]:
        return [self.lookup(w) for w in words]


def best_of(fn, arg, repeat=3):
    best = float("inf")
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(arg)
        best = min(best, time.perf_counter() - t0)
    return result, best


def main() -> None:
    t0 = time.perf_counter()
    fast_fib = matx_nb.script(fib)
    print(f"compiled fib in {time.perf_counter() - t0:.2f}s (cached after the first run)")

    t0 = time.perf_counter()
    t = matx_nb.script(Text2Ids)()
    print(f"compiled Text2Ids in {time.perf_counter() - t0:.2f}s")

    words = ["hello", "world", "unknown", "hello"]
    ids = t(words)
    print(f"Text2Ids()({words}) = {ids}")
    assert ids == Text2Ids()(words), (ids, Text2Ids()(words))

    print(f"fib(10) = {fast_fib(10)}")
    py_result, py_time = best_of(fib, 27)
    c_result, c_time = best_of(fast_fib, 27)
    assert py_result == c_result, (py_result, c_result)
    print(f"fib(27) = {c_result}: Python {py_time * 1e3:.1f} ms, "
          f"matx_nb {c_time * 1e3:.2f} ms, speedup {py_time / c_time:.1f}x")


if __name__ == "__main__":
    main()
