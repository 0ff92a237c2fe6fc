"""The seed article's VisionPipeline, with the `process` method exactly as the
article writes it (an unannotated parameter, branches on the mode, `.torch()`).
The article elides `__init__`; this one builds MATXScript's ops the way its
examples do (`vision.<Op>(device, ...)` attributes). Its one change: `import matx`
becomes `import matx_nb as matx`, after which `from matx import vision` works."""
from typing import List, Dict, Tuple
import matx_nb as matx
from matx import vision


class VisionPipeline:
    def __init__(self, device_id: int = 0, mode: str = "eval", image_size: int = 224,):
        self.is_training = mode == 'train'
        self.mode = mode
        device = matx.Device("cpu")
        self.random_crop_decode = vision.ImdecodeRandomCropOp(device, "RGB", (0.08, 1.0), (0.75, 1.333))
        self.random_flip = vision.FlipOp(device, vision.HORIZONTAL_FLIP, 0.5)
        self.decode = vision.ImdecodeOp(device, "RGB")
        if self.is_training:
            self.resize = vision.ResizeOp(device, (image_size, image_size))
        else:
            self.resize = vision.ResizeOp(device, (256, 256), mode=vision.RESIZE_NOT_SMALLER)
        self.center_crop = vision.CenterCropOp(device, (image_size, image_size))
        self.transpose_norm = vision.TransposeNormalizeOp(device, [123.675, 116.28, 103.53],
                                                          [58.395, 57.12, 57.375], vision.NHWC, vision.NCHW)

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


def reference(images: List[bytes], image_size: int = 224):
    """The eval chain with cv2 and numpy, one image at a time."""
    import cv2
    import numpy as np
    out = []
    for b in images:
        im = cv2.cvtColor(cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        h, w = im.shape[:2]
        s = 256 / min(h, w)
        nh, nw = (256, int(w * s)) if h <= w else (int(h * s), 256)
        im = cv2.resize(im, (nw, nh))
        y, x = (nh - image_size) // 2, (nw - image_size) // 2
        im = im[y:y + image_size, x:x + image_size].astype(np.float32)
        im = (im - np.float32([123.675, 116.28, 103.53])) / np.float32([58.395, 57.12, 57.375])
        out.append(im.transpose(2, 0, 1))
    return np.stack(out)
