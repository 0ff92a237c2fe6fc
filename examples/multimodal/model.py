"""The multimodal model: a small BERT over the text pipeline's ids and a
torchvision ResNet-18 over the vision pipeline's NCHW images, fused by a head
into one score per class. Random weights (seeded) or a few training steps on
synthetic pairs (build.py --train-steps); nothing is downloaded."""
from __future__ import annotations

import sys
import types

import torch


def torchvision():
    """`torchvision`, importable next to a CPU build of torch: a torchvision wheel
    built for CUDA fails to register the meta kernels of its compiled ops (nms,
    roi_align...) there ("operator torchvision::nms does not exist"). The models
    and transforms use none of those ops, so that registration is skipped then."""
    try:
        import torchvision as tv
        return tv
    except RuntimeError as e:
        if "does not exist" not in str(e):
            raise
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    import torchvision as tv
    return tv


class BertEncoder(torch.nn.Module):
    """BERT in miniature: token, segment and position embeddings, LayerNorm,
    `layers` transformer encoder layers, and the pooler (tanh of a linear layer
    over the [CLS] position)."""

    def __init__(self, vocab_size: int, dim: int = 64, layers: int = 2, heads: int = 4, max_len: int = 64):
        super().__init__()
        self.tok = torch.nn.Embedding(vocab_size, dim)
        self.seg = torch.nn.Embedding(2, dim)
        self.pos = torch.nn.Embedding(max_len, dim)
        self.norm = torch.nn.LayerNorm(dim)
        layer = torch.nn.TransformerEncoderLayer(dim, nhead=heads, dim_feedforward=4 * dim, dropout=0.0,
                                                 batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        self.pooler = torch.nn.Linear(dim, dim)

    def forward(self, input_ids: torch.Tensor, segment_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.norm(self.tok(input_ids) + self.seg(segment_ids) + self.pos(pos))
        x = self.encoder(x, src_key_padding_mask=mask == 0)
        return torch.tanh(self.pooler(x[:, 0]))


class MultimodalModel(torch.nn.Module):
    """forward(input_ids, segment_ids, mask, images) -> scores (batch, classes):
    the seed's model signature. images: float32 NCHW, normalized."""

    def __init__(self, vocab_size: int, classes: int = 4, dim: int = 64, max_len: int = 64):
        super().__init__()
        self.text = BertEncoder(vocab_size, dim=dim, max_len=max_len)
        self.vision = torchvision().models.resnet18(weights=None, num_classes=dim)
        self.head = torch.nn.Sequential(torch.nn.Linear(2 * dim, dim), torch.nn.ReLU(), torch.nn.Linear(dim, classes))

    def forward(self, input_ids: torch.Tensor, segment_ids: torch.Tensor, mask: torch.Tensor,
                images: torch.Tensor) -> torch.Tensor:
        t = self.text(input_ids, segment_ids, mask)
        v = self.vision(images)
        return torch.softmax(self.head(torch.cat([t, v], dim=1)), dim=-1)
