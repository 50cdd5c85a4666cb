"""Colours of appearance edits: the vocabulary's colour values as CIELAB targets, and the recolouring.

Targets are per attribute (a "red" lip is not a "red" hair colour): typical CIELAB values of lipstick
shades, iris colours and hair dyes, picked by eye from product swatches and photographs (L 0..100;
a, b about -128..127; D65, as OpenCV's float conversion). Recolouring moves a region's MEAN colour
to the target and keeps every pixel's offset from that mean, so shading and texture survive.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

__all__ = ["LIPSTICK", "IRIS", "HAIR", "delta_e", "recolour", "target"]

#: Lipstick shades (matte). Keys are `editor.vocabulary.COLOUR_VALUES`.
LIPSTICK: MappingProxyType[str, tuple[float, float, float]] = MappingProxyType(
    {
        "red": (42.0, 62.0, 38.0),
        "burgundy": (30.0, 42.0, 14.0),
        "pink": (60.0, 52.0, 4.0),
        "coral": (60.0, 46.0, 36.0),
        "nude": (62.0, 18.0, 18.0),
        "brown": (40.0, 22.0, 22.0),
        "purple": (38.0, 44.0, -22.0),
        "orange": (58.0, 48.0, 56.0),
        "black": (18.0, 4.0, 2.0),
        "auburn": (40.0, 38.0, 30.0),
        "blue": (40.0, 10.0, -42.0),
        "teal": (45.0, -28.0, -10.0),
        "green": (45.0, -36.0, 20.0),
    }
)
#: Iris colours (mid-iris, not the limbal ring).
IRIS: MappingProxyType[str, tuple[float, float, float]] = MappingProxyType(
    {
        "blue": (48.0, -3.0, -15.0),
        "green": (46.0, -13.0, 20.0),
        "hazel": (42.0, 7.0, 25.0),
        "brown": (32.0, 14.0, 22.0),
        "amber": (52.0, 16.0, 48.0),
        "grey": (55.0, -2.0, -6.0),
        "silver": (62.0, -1.0, -5.0),
        "black": (18.0, 2.0, 2.0),
        "teal": (50.0, -24.0, -12.0),
        "purple": (42.0, 28.0, -30.0),
        "red": (38.0, 44.0, 24.0),
        "pink": (55.0, 34.0, -4.0),
    }
)
#: Hair dyes (the mean of dyed hair in a portrait: light from the side, deep shade in the strands).
HAIR: MappingProxyType[str, tuple[float, float, float]] = MappingProxyType(
    {
        "black": (14.0, 1.0, 1.0),
        "brown": (30.0, 8.0, 14.0),
        "blonde": (66.0, 4.0, 30.0),
        "platinum": (80.0, 0.0, 10.0),
        "red": (40.0, 34.0, 36.0),
        "auburn": (32.0, 22.0, 22.0),
        "grey": (58.0, 0.0, 2.0),
        "silver": (70.0, -1.0, -2.0),
        "white": (84.0, 0.0, 3.0),
        "blue": (38.0, 4.0, -38.0),
        "green": (45.0, -36.0, 16.0),
        "pink": (62.0, 40.0, 2.0),
        "purple": (36.0, 34.0, -30.0),
        "orange": (56.0, 36.0, 56.0),
        "teal": (48.0, -28.0, -10.0),
        "burgundy": (26.0, 30.0, 8.0),
        "coral": (60.0, 40.0, 32.0),
    }
)


def target(palette: MappingProxyType, value: str | None, default: str) -> tuple[str, np.ndarray]:
    """(colour name, (3,) CIELAB target) of ``value`` in ``palette``, ``default`` when None.

    Raises:
        ValueError: the palette has no such colour (the message lists the ones it has).
    """
    name = default if value is None else value
    if name not in palette:
        raise ValueError(
            f"There is no {name!r} shade for this edit; choose one of: {', '.join(sorted(palette))}."
        )
    return name, np.asarray(palette[name], np.float32)


def weighted_mean(lab: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """(3,) mean CIELAB colour of (h, w, 3) ``lab`` weighted by (h, w) ``alpha``."""
    inside = alpha > 0
    weight = alpha[inside]
    if weight.sum() <= 0:
        return np.zeros(3, np.float32)
    return (lab[inside] * weight[:, None]).sum(axis=0) / float(weight.sum())


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    """CIE76 colour difference between two CIELAB colours."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def recolour(
    lab: np.ndarray,
    alpha: np.ndarray,
    goal: np.ndarray,
    amount: float,
    *,
    contrast: float | None = None,
    chroma_texture: float = 0.5,
) -> np.ndarray:
    """Move the region's mean colour ``amount`` of the way to ``goal``, keeping each pixel's offset.

    Args:
        lab: (h, w, 3) float32 CIELAB.
        alpha: (h, w) float32 region weight 0..1 (also the blend weight).
        goal: (3,) CIELAB target.
        amount: 0 (no change) .. 1 (the region's mean becomes ``goal``).
        contrast: lightness offsets are scaled by this at amount 1 (None: goal L / mean L, so lighter
            colours lift the shading and darker ones compress it, clipped to 0.5..1.6).
        chroma_texture: fraction of the pixels' own a, b offsets kept (a dye replaces hue).

    Returns:
        (h, w, 3) float32 CIELAB, equal to ``lab`` where ``alpha`` is 0.
    """
    inside = alpha > 0  # (h, w): only these pixels are computed
    every = bool(inside.all())  # already only the region's pixels (see `effect.region_pixels`): no indexing
    if every:
        pixels, weight = lab.reshape(-1, 3), alpha.reshape(-1, 1)  # (N, 3), (N, 1)
    else:
        pixels, weight = lab[inside], alpha[inside][:, None]  # (N, 3), (N, 1)
    mean = (pixels * weight).sum(axis=0) / max(float(weight.sum()), 1e-6)  # (3,)
    if contrast is None:
        contrast = float(np.clip(goal[0] / max(mean[0], 1.0), 0.5, 1.6))
    offset = pixels - mean  # (N, 3)
    gain = np.array(
        [1.0 + amount * (contrast - 1.0), *(2 * [1.0 + amount * (chroma_texture - 1.0)])], np.float32
    )
    new = mean + amount * (goal - mean) + gain * offset  # (N, 3)
    blended = pixels + weight * (new - pixels)  # (N, 3)
    if every:
        return blended.reshape(lab.shape).astype(np.float32, copy=False)
    out = lab.copy()
    out[inside] = blended
    return out
