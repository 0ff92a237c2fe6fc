"""Generated benchmark data (fixed seed), written once under bench/_work/data/.

    python bench/data.py            # (re)generate; bench/run.py calls ensure()

Every system reads the same files: the Python runners through `load()`, the
hand-written C++ and HF tokenizers through the plain-text files. Nothing here
needs more than the standard library, so every runner's venv can import it.
"""
from __future__ import annotations

import hashlib
import json
import random
import sys
import unicodedata
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
DATA = HERE / "_work" / "data"
SEED = 20240531
# the data is regenerated whenever this file changes
VERSION = hashlib.sha1(Path(__file__).read_bytes()).hexdigest()[:16]

N_WORDS = 1_000_000       # text -> ids
T2I_VOCAB = 30_000        # ... its vocabulary (the rest of the 40k word forms are OOV)
N_SENTENCES = 8_000       # WordPiece: English + Chinese sentences
N_LINES = 200_000         # str pipeline (the issue: 200k lines)
N_DOCS = 5_000            # inverted index: 5k docs x 40 words = 200k (word, doc) pairs
DOC_WORDS = 40
N_LIST = 1_000            # List[str] passed in

ONSETS = ["", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t",
          "v", "w", "z", "br", "ch", "cl", "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "io", "ou", "y"]
CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "ng", "rt", "st", "ck"]
SUFFIXES = ["ing", "ed", "s", "er", "ly", "tion", "ness", "able", "est", "ment"]
COMMON = ("the of and to in is was for that on with as by at from this it be are an or not "
          "but have had has which one were all their there been would will more when who "
          "can said about into time than them only some other its new also two first then "
          "could people may after most over such between through where many before state "
          "world years during house city water school group small large right under three "
          "music number known market history village family business children").split()
ACCENTED = ["café", "Café", "naïve", "résumé", "Zürich", "São", "Paulo", "jalapeño", "Ångström",
            "über", "Crème", "brûlée", "façade", "Señor", "déjà", "vu", "Élodie", "Müller",
            "smørrebrød", "Kraków", "Dvořák", "Łódź", "Ærø", "straße", "Göteborg"]
PUNCT_EN = [",", ",", ",", ";", ":", "-", "(", ")", "'", '"']
END_EN = [".", ".", ".", "!", "?"]
PUNCT_ZH = ["，", "，", "，", "、", "；", "：", "“", "”", "《", "》"]
END_ZH = ["。", "。", "！", "？"]


def _zipf_cdf(n: int, s: float = 1.05) -> List[float]:
    acc, out = 0.0, []
    for r in range(1, n + 1):
        acc += 1.0 / r ** s
        out.append(acc)
    return [x / acc for x in out]


def _word_forms(rng: random.Random, n: int) -> List[str]:
    seen = set(COMMON)
    forms = list(COMMON)
    while len(forms) < n:
        w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
                    for _ in range(rng.choice((1, 2, 2, 3))))
        if rng.random() < 0.2:
            w += rng.choice(SUFFIXES)
        if len(w) >= 2 and w not in seen:
            seen.add(w)
            forms.append(w)
    return forms


def _bert_tables() -> Dict[str, object]:
    """BERT's accent stripping, whitespace and punctuation, from unicodedata."""
    accents, spaces, punct = {}, [" ", "\t", "\n", "\r"], []
    for cp in range(0x30000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        cat = unicodedata.category(c)
        s = "".join(x for x in unicodedata.normalize("NFD", c) if unicodedata.category(x) != "Mn")
        if s != c:
            accents[c] = s
        if cat == "Zs" and c not in spaces:
            spaces.append(c)
        if (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (123 <= cp <= 126) \
                or cat.startswith("P"):
            punct.append(c)
    return {"accents": accents, "spaces": spaces, "punct": punct,
            "unicode": unicodedata.unidata_version}


def generate(out: Path = DATA) -> None:
    rng = random.Random(SEED)
    out.mkdir(parents=True, exist_ok=True)

    # ---- text -> ids: 40k word forms by Zipf rank; the 30k most frequent are the vocab
    forms = _word_forms(rng, 40_000)
    cdf = _zipf_cdf(len(forms))
    vocab = ["[UNK]"] + forms[:T2I_VOCAB - 1]
    rng_shuf = random.Random(SEED + 1)
    rng_shuf.shuffle(vocab)  # ids unrelated to frequency
    vocab.remove("[UNK]")
    vocab.insert(0, "[UNK]")  # id 0
    words = rng.choices(forms, cum_weights=cdf, k=N_WORDS)
    (out / "t2i_vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    (out / "t2i_words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")

    # ---- WordPiece: a BERT-style vocab and English + Chinese sentences
    cjk = rng.sample(range(0x4E00, 0x9FA6), 2500)
    cjk_common = cjk[:2000]  # in the vocab; the other 500 come out as [UNK]
    cjk_cdf = _zipf_cdf(len(cjk), 0.9)
    bert = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    bert += [c for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"]
    bert += list("，、；：“”《》。！？")
    bert += [str(d) for d in range(10)] + ["##" + str(d) for d in range(10)]
    bert += [chr(c) for c in range(ord("a"), ord("z") + 1)]
    bert += ["##" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    bert += ["##" + s for s in SUFFIXES]
    pieces = set()
    for o in ONSETS:
        for v in VOWELS:
            pieces.add(o + v)
    for c in CODAS:
        for v in VOWELS:
            if c:
                pieces.add(v + c)
    pieces = sorted(pieces)
    bert += [p for p in pieces if p not in bert]
    bert += ["##" + p for p in pieces]
    en_words = [w for w in forms[:8000] if w not in bert]
    bert += en_words[:5000] + ["cafe", "naive", "resume", "zurich", "sao", "paulo", "uber",
                               "creme", "facade", "deja", "vu", "muller", "krakow"]
    bert += [chr(c) for c in cjk_common]
    seen_b, bert_u = set(), []
    for t in bert:
        if t not in seen_b:
            seen_b.add(t)
            bert_u.append(t)
    (out / "bert_vocab.txt").write_text("\n".join(bert_u) + "\n", encoding="utf-8")

    en_cdf = _zipf_cdf(12_000)
    sentences = []
    for i in range(N_SENTENCES):
        parts: List[str] = []
        if i % 3 != 2:  # English
            n = rng.randint(8, 28)
            for j in range(n):
                r = rng.random()
                if r < 0.03:
                    w = rng.choice(ACCENTED)
                elif r < 0.06:
                    w = str(rng.randint(0, 3000))
                else:
                    w = rng.choices(forms[:12_000], cum_weights=en_cdf)[0]
                    if j == 0 or rng.random() < 0.05:
                        w = w[0].upper() + w[1:]
                    elif rng.random() < 0.01:
                        w = w.upper()
                parts.append(w)
                if j < n - 1 and rng.random() < 0.08:
                    p = rng.choice(PUNCT_EN)
                    parts[-1] = parts[-1] + p if p in ",;:)" else parts[-1] + " " + p
            sentences.append(" ".join(parts) + rng.choice(END_EN))
        else:  # Chinese, sometimes mixed with Latin words and digits
            n = rng.randint(12, 45)
            s = []
            for j in range(n):
                r = rng.random()
                if r < 0.07:
                    s.append(rng.choice(PUNCT_ZH))
                elif r < 0.10:
                    s.append(" " + rng.choice(forms[:3000]) + " ")
                elif r < 0.11:
                    s.append(str(rng.randint(0, 2024)))
                elif r < 0.115:
                    s.append("\u3000")
                else:
                    s.append(chr(rng.choices(cjk, cum_weights=cjk_cdf)[0]))
            sentences.append("".join(s) + rng.choice(END_ZH))
    (out / "bert_sentences.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")

    tables = _bert_tables()
    (out / "bert_tables.json").write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
    with open(out / "bert_tables.tsv", "w", encoding="utf-8") as f:  # for the C++ version
        for k, v in tables["accents"].items():
            f.write("A\t%d\t%s\n" % (ord(k), ",".join(str(ord(c)) for c in v)))
        for c in tables["spaces"]:
            f.write("S\t%d\n" % ord(c))
        for c in tables["punct"]:
            f.write("P\t%d\n" % ord(c))
        for cp in range(0x30000):  # str.lower(), which the C++ version needs too
            if 0xD800 <= cp <= 0xDFFF:
                continue
            lo = chr(cp).lower()
            if lo != chr(cp):
                f.write("L\t%d\t%s\n" % (cp, ",".join(str(ord(c)) for c in lo)))

    # ---- str pipeline: messy lines (padding, case, punctuation)
    lines = []
    for _ in range(N_LINES):
        n = rng.randint(4, 16)
        ws = []
        for _ in range(n):
            w = rng.choices(forms[:12_000], cum_weights=en_cdf)[0]
            r = rng.random()
            if r < 0.1:
                w = w.upper()
            elif r < 0.3:
                w = w.capitalize()
            if rng.random() < 0.12:
                w += rng.choice([",", ".", "!", "?"])
            ws.append(w)
        lines.append(rng.choice(["", " ", "  ", "\t"]) + " ".join(ws) + rng.choice(["", " ", "\t "]))
    (out / "pipeline_lines.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # ---- inverted index: lower-case documents over the Zipf vocabulary
    docs = [" ".join(rng.choices(forms, cum_weights=cdf, k=DOC_WORDS)) for _ in range(N_DOCS)]
    (out / "index_docs.txt").write_text("\n".join(docs) + "\n", encoding="utf-8")

    (out / "meta.json").write_text(json.dumps({"version": VERSION, "seed": SEED}))


def ensure(out: Path = DATA) -> None:
    meta = out / "meta.json"
    try:
        if json.loads(meta.read_text())["version"] == VERSION:
            return
    except (OSError, ValueError, KeyError):
        pass
    generate(out)


def _lines(path: Path) -> List[str]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return text[:-1].split("\n")


def load(out: Path = DATA) -> Dict[str, object]:
    """Everything the Python runners feed the workloads."""
    t2i_vocab = _lines(out / "t2i_vocab.txt")
    bert_vocab = _lines(out / "bert_vocab.txt")
    tables = json.loads((out / "bert_tables.json").read_text(encoding="utf-8"))
    words = _lines(out / "t2i_words.txt")
    return {
        "t2i_vocab": {w: i for i, w in enumerate(t2i_vocab)},
        "t2i_unk": 0,
        "words": words,
        "bert_vocab": {w: i for i, w in enumerate(bert_vocab)},
        "bert_unk": bert_vocab.index("[UNK]"),
        "accents": tables["accents"],
        "spaces": set(tables["spaces"]),
        "punct": set(tables["punct"]),
        "sentences": _lines(out / "bert_sentences.txt"),
        "lines": _lines(out / "pipeline_lines.txt"),
        "docs": _lines(out / "index_docs.txt"),
        "list1000": words[:N_LIST],
    }


# ---- canonical text of a result, the same for every system (C++ prints it) ----

def canon(kind: str, r) -> str:
    if kind == "int":
        return str(int(r))
    if kind == "ints":
        return " ".join(str(int(x)) for x in r)
    if kind == "intss":
        return "\n".join(" ".join(str(int(x)) for x in row) for row in r)
    if kind == "strs":
        return "\n".join(str(x) for x in r)
    if kind == "index":  # Dict[str, List[int]], compared regardless of key order
        return "\n".join(k + "\t" + " ".join(str(int(x)) for x in r[k]) for k in sorted(r))
    raise ValueError(kind)


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


if __name__ == "__main__":
    generate()
    print("data written to", DATA, file=sys.stderr)
