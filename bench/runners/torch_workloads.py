"""TorchScript adaptations of bench/workloads.py (torch.jit.script).

What differs from the shared source, and why (TorchScript's language):
- classes called from Python are `torch.nn.Module`s with `forward` (a scripted
  plain class cannot be constructed and called from Python);
- no `Set`: BERT's whitespace and punctuation are `Dict[str, bool]`;
- no recursion at all in TorchScript: `fib` is kept as written and fails to
  compile, which the table shows;
- `Lcg` is a TorchScript class driven by a scripted function `lcg_run`.
Everything else is the same code, line for line.
"""
from typing import Dict, List

import torch


def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def int_loop(n: int) -> int:
    total = 0
    for i in range(n):
        if i % 3 == 0:
            total += i * 2
        else:
            total -= i // 2
    return total


class Text2Ids(torch.nn.Module):
    def __init__(self, vocab: Dict[str, int], unk: int) -> None:
        super().__init__()
        self.vocab: Dict[str, int] = vocab
        self.unk: int = unk

    def forward(self, words: List[str]) -> List[int]:
        return [self.vocab.get(w, self.unk) for w in words]


class BertTokenizer(torch.nn.Module):
    def __init__(self, vocab: Dict[str, int], accents: Dict[str, str], spaces: Dict[str, bool],
                 punct: Dict[str, bool], unk: int, max_chars: int) -> None:
        super().__init__()
        self.vocab: Dict[str, int] = vocab
        self.accents: Dict[str, str] = accents
        self.spaces: Dict[str, bool] = spaces
        self.punct: Dict[str, bool] = punct
        self.unk: int = unk
        self.max_chars: int = max_chars

    def is_cjk(self, cp: int) -> bool:
        return ((0x4E00 <= cp <= 0x9FFF) or (0x3400 <= cp <= 0x4DBF)
                or (0x20000 <= cp <= 0x2A6DF) or (0x2A700 <= cp <= 0x2B73F)
                or (0x2B740 <= cp <= 0x2B81F) or (0x2B820 <= cp <= 0x2CEAF)
                or (0xF900 <= cp <= 0xFAFF) or (0x2F800 <= cp <= 0x2FA1F))

    def basic(self, text: str) -> List[str]:
        words: List[str] = []
        buf: List[str] = []
        lowered = text.lower()
        for ch in lowered:
            if ch in self.accents:
                ch = self.accents[ch]
                if ch == "":
                    continue
            if ch in self.spaces:
                if len(buf) > 0:
                    words.append("".join(buf))
                    buf = []
            elif ch in self.punct or (len(ch) == 1 and self.is_cjk(ord(ch))):
                if len(buf) > 0:
                    words.append("".join(buf))
                    buf = []
                words.append(ch)
            else:
                buf.append(ch)
        if len(buf) > 0:
            words.append("".join(buf))
        return words

    def wordpiece(self, word: str) -> List[int]:
        n = len(word)
        if n > self.max_chars:
            return [self.unk]
        ids: List[int] = []
        start = 0
        while start < n:
            end = n
            found = -1
            while start < end:
                piece = word[start:end]
                if start > 0:
                    piece = "##" + piece
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found < 0:
                return [self.unk]
            ids.append(found)
            start = end
        return ids

    def forward(self, texts: List[str]) -> List[List[int]]:
        out: List[List[int]] = []
        for text in texts:
            ids: List[int] = []
            for word in self.basic(text):
                for i in self.wordpiece(word):
                    ids.append(i)
            out.append(ids)
        return out


def str_pipeline(lines: List[str]) -> List[str]:
    out: List[str] = []
    for line in lines:
        s = line.strip().lower()
        s = s.replace(",", " ").replace(".", " ").replace("!", " ").replace("?", " ")
        parts = s.split()
        kept: List[str] = []
        for p in parts:
            if len(p) > 2:
                kept.append(p)
        out.append(" ".join(kept))
    return out


def inverted_index(docs: List[str]) -> Dict[str, List[int]]:
    index: Dict[str, List[int]] = {}
    for doc_id in range(len(docs)):
        for word in docs[doc_id].split():
            if word in index:
                postings = index[word]
                if postings[len(postings) - 1] != doc_id:
                    postings.append(doc_id)
            else:
                index[word] = [doc_id]
    return index


@torch.jit.script
class Lcg:
    def __init__(self, seed: int) -> None:
        self.state: int = seed

    def next(self) -> int:
        self.state = (self.state * 1103515245 + 12345) % 2147483648
        return self.state

    def run(self, n: int) -> int:
        total = 0
        for i in range(n):
            total += self.next() % 1000
        return total


def lcg_run(seed: int, n: int) -> int:
    return Lcg(seed).run(n)


def add(a: int, b: int) -> int:
    return a + b


def list_len(items: List[str]) -> int:
    return len(items)
