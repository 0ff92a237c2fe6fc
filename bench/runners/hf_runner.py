"""HF tokenizers' BertWordPieceTokenizer on the WordPiece workload, one thread.

Same vocab file, same sentences; lower case, strip accents, CJK splitting, no
special tokens. The timed call is encode_batch plus reading the ids out, so that
it returns what the Python version returns (List[List[int]]).
"""
import os
import sys
from pathlib import Path

os.environ["RAYON_NUM_THREADS"] = "1"  # before the library starts its pool
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

import data  # noqa: E402
import harness as h  # noqa: E402
import tokenizers  # noqa: E402
from tokenizers import BertWordPieceTokenizer  # noqa: E402


def main() -> None:
    def wordpiece(d):
        tok = BertWordPieceTokenizer(str(data.DATA / "bert_vocab.txt"), clean_text=True,
                                     handle_chinese_chars=True, strip_accents=True,
                                     lowercase=True, unk_token="[UNK]",
                                     wordpieces_prefix="##")
        texts = d["sentences"]

        def call():
            return [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
        return call, (lambda r: r)

    na = "not a tokenizer workload"
    builders = {k: None for k in h.WORKLOADS}
    builders["wordpiece"] = wordpiece
    notes = {k: na for k in h.WORKLOADS if k != "wordpiece"}
    notes["wordpiece"] = "encode_batch, RAYON_NUM_THREADS=1"
    h.run_all("hf_tokenizers", tokenizers.__version__, builders, notes)


if __name__ == "__main__":
    main()
