"""The seed's TextPipeline end to end: bytes -> words -> WordPiece ids ->
input_ids / segment_ids / mask NDArrays -> a tiny BERT-like torch model.

    python examples/text_pipeline/pipeline.py OUT_DIR

trains nothing (random weights, seeded), builds a vocabulary from a small
corpus with HF tokenizers if it is installed (else a fixed word list), traces
the pipeline, saves it to OUT_DIR and prints the scores from Python, from the
saved folder (matx_nb.load: the C++ Session with libtorch) and the command for
matx-run.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List

import torch

import matx_nb
import matx_nb.text as text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "multimodal"))
from pipelines import TextPipeline  # noqa: E402  the seed's TextPipeline, shared with the multimodal example

CORPUS = [
    "hello, world! the quick brown fox jumps over the lazy dog.",
    "Café crème brûlée; naïve résumé — 中文分词测试，你好世界。",
    "tokenizers split words into word pieces: token ##izer ##s",
]


class TinyBert(torch.nn.Module):
    """Embeddings (token + segment + position), one transformer layer, a scorer
    on [CLS]: BERT's shape in miniature."""

    def __init__(self, vocab_size: int, dim: int = 32, max_len: int = 64):
        super().__init__()
        self.tok = torch.nn.Embedding(vocab_size, dim)
        self.seg = torch.nn.Embedding(2, dim)
        self.pos = torch.nn.Embedding(max_len, dim)
        self.layer = torch.nn.TransformerEncoderLayer(dim, nhead=4, dim_feedforward=64, batch_first=True,
                                                      dropout=0.0)
        self.head = torch.nn.Linear(dim, 2)

    def forward(self, input_ids: torch.Tensor, segment_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.tok(input_ids) + self.seg(segment_ids) + self.pos(pos)
        x = self.layer(x, src_key_padding_mask=mask == 0)
        return torch.softmax(self.head(x[:, 0]), dim=-1)


def write_vocab(path: Path) -> Path:
    try:
        import tokenizers
        hf = tokenizers.BertWordPieceTokenizer(lowercase=True)
        hf.train_from_iterator(CORPUS * 4, vocab_size=300, min_frequency=1,
                               special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        hf.save_model(str(path.parent))
        return path.parent / "vocab.txt"
    except ImportError:
        words = sorted({w for s in CORPUS for w in text.BasicTokenizer()(([s]))[0]})
        path.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words) + "\n", encoding="utf-8")
        return path


class EvalPipeline:
    def __init__(self, vocab_path: str, model: torch.nn.Module, max_len: int = 32, device: int = -1):
        self.text_pipe = TextPipeline(vocab_path, max_len, mode="eval")
        self.model_op = matx_nb.script(model, device=device)

    def eval(self, texts: List[bytes]):
        input_ids, segment_ids, mask = self.text_pipe.process(texts)
        return self.model_op(input_ids, segment_ids, mask)


def build(workdir: Path, max_len: int = 32):
    workdir.mkdir(parents=True, exist_ok=True)
    vocab = write_vocab(workdir / "vocab.txt")
    torch.manual_seed(0)
    n_vocab = sum(1 for _ in open(vocab, encoding="utf-8"))
    model = TinyBert(n_vocab, max_len=max_len).eval()
    return EvalPipeline(str(vocab), model, max_len)


def main(out: str) -> None:
    out_dir = Path(out)
    pipe = build(out_dir.parent / (out_dir.name + "_work"))
    examples = [s.encode() for s in CORPUS]
    mod = matx_nb.trace(pipe.eval, examples)
    scores = mod.run({"texts": examples})
    mod.save(out_dir)
    loaded = matx_nb.load(out_dir, device=-1)
    print("python:", pipe.eval(examples).numpy().tolist())
    print("traced:", scores.numpy().tolist())
    print("loaded (C++ Session):", loaded.run({"texts": examples}).numpy().tolist(), loaded.runs_in_cpp)
    print(f"matx-run {out_dir} --feed '{{\"texts\": [{{\"$bytes\": \"hello world\"}}]}}'")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/text_pipeline")
