"""Benchmark workloads: plain annotated Python.

This one file is what CPython runs, what matx_nb compiles and what MATXScript
compiles, unchanged. Only the constructs matx_nb supports today are used (no
default arguments, no Optional, no try/except, no lambdas, no f-strings, no
generator expressions except in `gen_sum`, whose cell is about them), and nothing from the standard library: accent stripping
and Unicode punctuation come in as tables built by bench/data.py with
`unicodedata` (see BertTokenizer).

TorchScript and Numba need small adaptations: bench/peers/torch_workloads.py and
bench/peers/numba_workloads.py.
"""
from typing import Dict, List, Set


# --- recursion ----------------------------------------------------------------

def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


# --- integer loop -------------------------------------------------------------

def int_loop(n: int) -> int:
    total = 0
    for i in range(n):
        if i % 3 == 0:
            total += i * 2
        else:
            total -= i // 2
    return total


# --- text -> ids: Dict[str, int] vocabulary with an UNK default ---------------

class Text2Ids:
    def __init__(self, vocab: Dict[str, int], unk: int) -> None:
        self.vocab: Dict[str, int] = vocab
        self.unk: int = unk

    def __call__(self, words: List[str]) -> List[int]:
        return [self.vocab.get(w, self.unk) for w in words]


# --- BERT basic tokenization + greedy WordPiece -------------------------------

class BertTokenizer:
    """BERT BasicTokenizer (lower case, strip accents, split on whitespace,
    punctuation and CJK ideographs) followed by greedy longest-match-first
    WordPiece with '##' continuations and [UNK].

    `accents` maps a lower-case character to itself with its combining marks
    removed (unicodedata NFD, then drop category Mn; '' for a bare combining mark;
    several characters for e.g. a Hangul syllable),
    `spaces` is BERT's whitespace (space, tab, newline, carriage return and
    category Zs), `punct` its punctuation (ASCII symbols and category P*): all
    three are computed by bench/data.py from `unicodedata`, which the
    compilers do not offer, so every system gets the same tables.
    """

    def __init__(self, vocab: Dict[str, int], accents: Dict[str, str], spaces: Set[str],
                 punct: Set[str], unk: int, max_chars: int) -> None:
        self.vocab: Dict[str, int] = vocab
        self.accents: Dict[str, str] = accents
        self.spaces: Set[str] = spaces
        self.punct: Set[str] = punct
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
        lowered = text.lower()  # named: MATXScript 1.8.1 iterates a freed temporary otherwise
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

    def __call__(self, texts: List[str]) -> List[List[int]]:
        out: List[List[int]] = []
        for text in texts:
            ids: List[int] = []
            for word in self.basic(text):
                for i in self.wordpiece(word):
                    ids.append(i)
            out.append(ids)
        return out


# --- str pipeline: strip / lower / replace / split / join ---------------------

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


# --- inverted index: Dict[str, List[int]] -------------------------------------

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


# --- a generator expression consumed by sum() -----------------------------------

def gen_sum(n: int) -> int:
    return sum(i * i % 7 for i in range(n))


# --- a small class's method called in a loop ----------------------------------

class Lcg:
    """A linear congruential generator; `run` calls the `next` method n times."""

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


# --- the boundary: calls from Python ------------------------------------------

def add(a: int, b: int) -> int:
    return a + b


def list_len(items: List[str]) -> int:
    return len(items)
