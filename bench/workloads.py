"""Benchmark workloads: plain annotated Python, compiled by matx_nb unchanged."""
from typing import Dict, List


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Text2Ids:
    def __init__(self) -> None:
        self.table: Dict[str, int] = {"hello": 0, "world": 1, "[UNK]": 2}

    def lookup(self, word: str) -> int:
        return self.table.get(word, 2)

    def __call__(self, words: List[str]) -> List[int]:
        return [self.lookup(w) for w in words]


def add(a: int, b: int) -> int:
    return a + b


def int_loop(n: int) -> int:
    total = 0
    for i in range(n):
        if i % 3 == 0:
            total += i * 2
        else:
            total -= i // 2
    return total
