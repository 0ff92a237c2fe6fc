"""Ops and pipelines used by tests/test_export.py (compiled code needs a source file)."""
from typing import Dict, List, Tuple

import matx_nb


class Text2Ids:
    def __init__(self) -> None:
        self.table: Dict[str, int] = {"hello": 0, "world": 1, "[UNK]": 2}

    def lookup(self, word: str) -> int:
        return self.table.get(word, 2)

    def __call__(self, words: List[str]) -> List[int]:
        return [self.lookup(w) for w in words]


class PathTagger:
    """Constructed with a file path: saving must bundle the file."""

    def __init__(self, path: str, unk: int) -> None:
        self.name: str = path.split("/")[-1]
        self.unk: int = unk

    def __call__(self, words: List[str]) -> List[str]:
        return [self.name + ":" + w for w in words]


def split_words(text: str) -> List[str]:
    return text.lower().split()


def pad(ids: List[int], n: int) -> Tuple[List[int], int]:
    out = ids[:n]
    while len(out) < n:
        out.append(0)
    return out, len(ids)


class WorkFlow:
    def __init__(self):
        self.text2ids = matx_nb.script(Text2Ids)()

    def process(self, texts):
        return self.text2ids(texts)


class ThreeOps:
    def __init__(self):
        self.split = matx_nb.script(split_words)
        self.t2i = matx_nb.script(Text2Ids)()
        self.pad = matx_nb.script(pad)

    def process(self, text, n):
        words = self.split(text)
        ids = self.t2i(words)
        padded, length = self.pad(ids, n)
        return padded, length, padded[0]


class Branchy:
    def __init__(self):
        self.t2i = matx_nb.script(Text2Ids)()

    def process(self, texts):
        ids = self.t2i(texts)
        if ids:  # Python control flow on a traced value
            return ids
        return ids


class WithResource:
    def __init__(self, path):
        self.tag = matx_nb.script(PathTagger)(path, 7)

    def process(self, words):
        return self.tag(words)


class Vocabulary:
    """Reads a vocab file (one token per line) when constructed."""

    def __init__(self, path: str, unk: str) -> None:
        self.ids: Dict[str, int] = {}
        for line in open(path, encoding="utf-8"):
            token = line.strip()
            if token:
                self.ids[token] = len(self.ids)
        self.unk: int = self.ids.get(unk, 0)

    def __call__(self, words: List[str]) -> List[int]:
        return [self.ids.get(w, self.unk) for w in words]


class VocabPipeline:
    """split -> vocabulary (bundled file) -> pad, with unpacking and indexing glue."""

    def __init__(self, vocab_path):
        self.split = matx_nb.script(split_words)
        self.vocab = matx_nb.script(Vocabulary)(vocab_path, "[UNK]")
        self.pad = matx_nb.script(pad)

    def process(self, text, n):
        ids = self.vocab(self.split(text))
        padded, length = self.pad(ids, n)
        return padded, length, padded[0]
