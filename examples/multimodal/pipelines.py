"""The seed's multimodal pipelines, written as the seed writes them (with
matx_nb's names): TextPipeline (bytes -> words -> ids -> input_ids, segment_ids,
mask), VisionPipeline (JPEG bytes -> decode -> resize -> center crop ->
transpose-normalize to NCHW; random-resized-crop and flip in train mode),
MultimodalEvalPipeline (both, then the model op) and TrainPipeline (both in
train mode, as a DataLoader's collate_fn: batches of torch tensors)."""
from __future__ import annotations

from typing import List, Sequence, Tuple

import matx_nb as matx
from matx import text, vision  # the seed's `import matx` is this line: `from matx import ...` then works

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


class TextPipeline:
    def __init__(self, vocab_path: str, max_len: int = 32, mode: str = "eval"):
        self.mode = mode
        self.max_len = max_len
        self.decoder = text.utf8_decoder
        self.cut_engine = text.BasicTokenizer()
        self.vocab = text.Vocabulary(vocab_path)
        self.input_builder = text.TextNDArrayBuilder(self.vocab.token_id("[CLS]"), self.vocab.token_id("[SEP]"),
                                                     self.vocab.token_id("[PAD]"))

    def process(self, text: List[bytes]):
        # List[bytes] is C++'s vector<string>
        text: List[str] = self.decoder(text)
        words: List[List[str]] = self.cut_engine(text)
        batch_ids: List[List[int]] = self.vocab(words)
        input_ids, segment_ids, mask_ids = self.input_builder(batch_ids, self.max_len)
        if self.mode == "train":
            return input_ids.torch(), segment_ids.torch(), mask_ids.torch()
        return input_ids, segment_ids, mask_ids


class VisionPipeline:
    """The article elides `__init__`; this one builds MATXScript's ops the way its
    examples do (`vision.<Op>(device, ...)` attributes)."""

    def __init__(self, device_id: int = 0, mode: str = "eval", image_size: int = 224,):
        self.is_training = mode == 'train'
        self.mode = mode
        # The vision ops run on the CPU (the model may run on a GPU: device_id).
        device = matx.Device("cpu")
        self.random_crop_decode = vision.ImdecodeRandomCropOp(device, "RGB", (0.08, 1.0), (0.75, 1.333))
        self.random_flip = vision.FlipOp(device, vision.HORIZONTAL_FLIP, 0.5)
        self.decode = vision.ImdecodeOp(device, "RGB")
        if self.is_training:
            self.resize = vision.ResizeOp(device, (image_size, image_size))
        else:
            self.resize = vision.ResizeOp(device, (256, 256), mode=vision.RESIZE_NOT_SMALLER)
        self.center_crop = vision.CenterCropOp(device, (image_size, image_size))
        self.transpose_norm = vision.TransposeNormalizeOp(device, MEAN, STD, vision.NHWC, vision.NCHW)

    def process(self, image,):
        if self.is_training:
            decode_nds = self.random_crop_decode(image)
            flip_nds = self.random_flip(decode_nds)
            resize_nds = self.resize(flip_nds)
            transpose_nd = self.transpose_norm(resize_nds, vision.SYNC)
        else:
            decode_nds = self.decode(image)
            resize_nds = self.resize(decode_nds)
            crop_nds = self.center_crop(resize_nds)
            transpose_nd = self.transpose_norm(crop_nds, vision.SYNC)
        if self.mode == "trace":
            return transpose_nd
        return transpose_nd.torch()


class MultimodalEvalPipeline:
    def __init__(self, vocab_path: str, model, max_len: int = 32, device: int = -1):
        self.text_pipe = TextPipeline(vocab_path, max_len, mode="eval")
        self.vision_pipe = VisionPipeline(device_id=device, mode="eval")
        self.tx_model_op = matx.script(model, device=device)

    def eval(self, texts: List[bytes], images: List[bytes]):
        input_ids, segment_ids, mask_ids = self.text_pipe.process(texts)
        images = self.vision_pipe.process(images)
        scores = self.tx_model_op(input_ids, segment_ids, mask_ids, images)
        return scores


class TrainPipeline:
    """A DataLoader's collate_fn: a list of (text, JPEG, label) samples becomes
    (input_ids, segment_ids, mask, images, labels) torch tensors, through the
    pipelines' train modes (`.torch()` shares the NDArrays' memory). It pickles
    (compiled ops are compiled again in a spawned worker, from the cache), and
    one instance may serve several threads."""

    def __init__(self, vocab_path: str, max_len: int = 32, image_size: int = 224):
        self.text_pipe = TextPipeline(vocab_path, max_len, mode="train")
        self.vision_pipe = VisionPipeline(mode="train", image_size=image_size)

    def __call__(self, batch: Sequence[Tuple[bytes, bytes, int]]):
        import torch
        texts = [t for t, _, _ in batch]
        images = [i for _, i, _ in batch]
        input_ids, segment_ids, mask = self.text_pipe.process(texts)
        pixels = self.vision_pipe.process(images)
        return input_ids, segment_ids, mask, pixels, torch.tensor([y for _, _, y in batch])
