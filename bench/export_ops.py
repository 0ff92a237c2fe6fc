"""The ops and one-op pipelines timed by bench/export_overhead.py (compiled code
needs a source file, so they live here rather than in the script)."""
from typing import Dict, List

import matx_nb

# The 10 words fed to Text2Ids: 8 in the table, 2 unknown.
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "zebra"]
EXPECTED_IDS = [0, 1, 2, 3, 4, 5, 0, 6, 7, 8]


def add(a: int, b: int) -> int:
    return a + b


class Text2Ids:
    def __init__(self) -> None:
        self.table: Dict[str, int] = {"the": 0, "quick": 1, "brown": 2, "fox": 3, "jumps": 4,
                                      "over": 5, "lazy": 6, "dog": 7, "[UNK]": 8}

    def lookup(self, word: str) -> int:
        return self.table.get(word, 8)

    def __call__(self, words: List[str]) -> List[int]:
        return [self.lookup(w) for w in words]


class AddPipeline:
    """One node: a compiled function."""

    def __init__(self):
        self.add = matx_nb.script(add)

    def process(self, a, b):
        return self.add(a, b)


class Text2IdsPipeline:
    """One node: a method of a compiled class instance."""

    def __init__(self):
        self.t2i = matx_nb.script(Text2Ids)()

    def process(self, words):
        return self.t2i(words)
