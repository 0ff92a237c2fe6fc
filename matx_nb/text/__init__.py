"""Text ops (matx_nb.text), written in the compiled subset and compiled on first
use with matx_nb.script: `matx_nb.text.BertTokenizer(vocab_path)` is the
compiled class. The Python originals are in matx_nb.text.bert (they run as
plain Python too). See docs/text.md.
"""
from __future__ import annotations

_OPS = ("utf8_decoder", "BasicTokenizer", "Vocabulary", "BertTokenizer", "TextNDArrayBuilder")
_compiled: dict = {}


def __getattr__(name):
    if name in _OPS:
        if name not in _compiled:
            import matx_nb
            from . import bert
            _compiled[name] = matx_nb.script(getattr(bert, name))
        return _compiled[name]
    raise AttributeError(f"module 'matx_nb.text' has no attribute {name!r}")


__all__ = list(_OPS)
