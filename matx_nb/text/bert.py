"""BERT text ops written in the compiled subset (matx_nb.script compiles this
file as is): UTF-8 decoding, the basic tokenizer, greedy WordPiece over a
vocabulary file and the batch builder. Semantics are those of HF tokenizers'
BertWordPieceTokenizer (BertNormalizer + BertPreTokenizer + WordPiece), in its
order: clean text, pad CJK characters, strip accents (NFD, drop Mn), lower-case;
split on whitespace and punctuation; longest-match-first pieces with '##'.
"""
import unicodedata
from typing import Dict, List, Tuple

import matx_nb
from matx_nb import NDArray


def utf8_decoder(texts: List[bytes]) -> List[str]:
    """List[bytes] -> List[str]; invalid UTF-8 becomes U+FFFD (then dropped by the cleaner)."""
    return [t.decode("utf-8", "replace") for t in texts]


def is_bert_whitespace(ch: str) -> bool:
    if ch == " " or ch == "\t" or ch == "\n" or ch == "\r":
        return True
    return unicodedata.category(ch) == "Zs"


def is_bert_control(ch: str) -> bool:
    if ch == "\t" or ch == "\n" or ch == "\r":
        return False
    return unicodedata.category(ch)[0] == "C"


def is_bert_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (123 <= cp <= 126):
        return True
    return unicodedata.category(ch)[0] == "P"


def is_cjk(cp: int) -> bool:
    return ((0x4E00 <= cp <= 0x9FFF) or (0x3400 <= cp <= 0x4DBF) or (0x20000 <= cp <= 0x2A6DF)
            or (0x2A700 <= cp <= 0x2B73F) or (0x2B740 <= cp <= 0x2B81F) or (0x2B820 <= cp <= 0x2CEAF)
            or (0xF900 <= cp <= 0xFAFF) or (0x2F800 <= cp <= 0x2FA1F))


class BasicTokenizer:
    """Text -> words: BertNormalizer (clean_text, handle_chinese_chars,
    strip_accents = lowercase, lowercase) then BertPreTokenizer."""

    def __init__(self, lowercase: bool = True) -> None:
        self.lowercase: bool = lowercase

    def normalize(self, text: str) -> str:
        out: List[str] = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or is_bert_control(ch):
                continue
            if is_bert_whitespace(ch):
                out.append(" ")
            elif is_cjk(cp):
                out.append(" " + ch + " ")
            else:
                out.append(ch)
        s = "".join(out)
        if self.lowercase:
            # Character by character, as HF does: no final-sigma rule ('Σ' -> 'σ' everywhere).
            kept: List[str] = []
            for ch in unicodedata.normalize("NFD", s):
                if unicodedata.category(ch) != "Mn":
                    kept.append(ch.lower())
            s = "".join(kept)
        return s

    def split_words(self, text: str) -> List[str]:
        words: List[str] = []
        for chunk in text.split():
            start = 0
            for i in range(len(chunk)):
                if is_bert_punctuation(chunk[i]):
                    if start < i:
                        words.append(chunk[start:i])
                    words.append(chunk[i])
                    start = i + 1
            if start < len(chunk):
                words.append(chunk[start:])
        return words

    def tokenize(self, text: str) -> List[str]:
        return self.split_words(self.normalize(text))

    def __call__(self, texts: List[str]) -> List[List[str]]:
        return [self.tokenize(t) for t in texts]


@matx_nb.path_args("vocab_path")  # save() bundles the vocab file into the pipeline folder
class Vocabulary:
    """A vocab file (one token a line, its line number is its id) and greedy
    longest-match-first WordPiece over it: words -> ids."""

    def __init__(self, vocab_path: str, unk_token: str = "[UNK]", max_input_chars_per_word: int = 100) -> None:
        self.vocab: Dict[str, int] = {}
        self.tokens: List[str] = []
        f = open(vocab_path, encoding="utf-8")
        for line in f:
            tok = line.rstrip()
            if tok not in self.vocab:
                self.vocab[tok] = len(self.tokens)
            self.tokens.append(tok)
        self.unk_token: str = unk_token
        self.unk_id: int = self.vocab.get(unk_token, 0)
        self.max_chars: int = max_input_chars_per_word

    def token_id(self, token: str) -> int:
        return self.vocab.get(token, self.unk_id)

    def wordpiece(self, word: str) -> List[str]:
        n = len(word)
        if n > self.max_chars:
            return [self.unk_token]
        pieces: List[str] = []
        start = 0
        while start < n:
            end = n
            found = ""
            while start < end:
                sub = word[start:end]
                if start > 0:
                    sub = "##" + sub
                if sub in self.vocab:
                    found = sub
                    break
                end -= 1
            if found == "":
                return [self.unk_token]
            pieces.append(found)
            start = end
        return pieces

    def word_ids(self, word: str) -> List[int]:
        return [self.vocab[p] if p in self.vocab else self.unk_id for p in self.wordpiece(word)]

    def lookup(self, words: List[str]) -> List[int]:
        ids: List[int] = []
        for w in words:
            ids.extend(self.word_ids(w))
        return ids

    def __call__(self, batch: List[List[str]]) -> List[List[int]]:
        return [self.lookup(words) for words in batch]


@matx_nb.path_args("vocab_path")
class BertTokenizer:
    """Basic tokenizer + WordPiece in one op: texts -> pieces or ids."""

    def __init__(self, vocab_path: str, lowercase: bool = True, unk_token: str = "[UNK]") -> None:
        self.basic: BasicTokenizer = BasicTokenizer(lowercase)
        self.vocab: Vocabulary = Vocabulary(vocab_path, unk_token, 100)

    def tokenize(self, text: str) -> List[str]:
        pieces: List[str] = []
        for w in self.basic.tokenize(text):
            pieces.extend(self.vocab.wordpiece(w))
        return pieces

    def encode(self, text: str) -> List[int]:
        return self.vocab.lookup(self.basic.tokenize(text))

    def __call__(self, texts: List[str]) -> List[List[int]]:
        return [self.encode(t) for t in texts]


class TextNDArrayBuilder:
    """Token ids of a batch -> input_ids, segment_ids, mask (int64 [batch, max_len]):
    [CLS] ids [SEP], truncated to max_len, padded with pad_id (mask 0)."""

    def __init__(self, cls_id: int, sep_id: int, pad_id: int = 0) -> None:
        self.cls_id: int = cls_id
        self.sep_id: int = sep_id
        self.pad_id: int = pad_id

    def __call__(self, batch_ids: List[List[int]], max_len: int) -> Tuple[NDArray, NDArray, NDArray]:
        if max_len < 2:
            raise ValueError("max_len must leave room for [CLS] and [SEP]")
        ids: List[int] = []
        segments: List[int] = []
        mask: List[int] = []
        for row in batch_ids:
            body = row[:max_len - 2]
            n = len(body) + 2
            ids.append(self.cls_id)
            ids.extend(body)
            ids.append(self.sep_id)
            for i in range(max_len - n):
                ids.append(self.pad_id)
            for i in range(max_len):
                segments.append(0)
                mask.append(1 if i < n else 0)
        shape = [len(batch_ids), max_len]
        return (matx_nb.NDArray(ids, shape, "int64"), matx_nb.NDArray(segments, shape, "int64"),
                matx_nb.NDArray(mask, shape, "int64"))
