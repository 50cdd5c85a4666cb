"""A real mouth interior where a warp parts the lips (after Averbuch-Elor et al., SIGGRAPH Asia 2017).

A warp can only move pixels: when it opens a closed mouth, the gap between the lips is filled by the lip
seam stretched across it. Here the opening is filled with a real interior from the shipped bank
(`editor.completion.mouth_bank`): the example whose opening fits best is warped so its inner-lip
contour lands on the new one (a thin-plate spline between the two contours), its colour is matched to
this photo's light from the example's OWN lip colour statistics (Poisson cloning tints borrowed teeth
green-blue: the dark lip boundary drives it), shadowed under the upper lip and toward the corners, and
composited with a soft edge inside the new opening.

Where the opening is not new, nothing is painted: target pixels whose source was already inside the
source opening and that the warp does not stretch much keep their real content (the person's own
teeth); a closed seam stretched open, or real teeth stretched tall, are painted over, and an opening
grown to twice its area or more is filled whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from editor.completion.masks import polygon_coverage
from editor.completion.mouth_bank import (
    MOUTH_WIDTH,
    MouthBank,
    MouthExample,
    inner_lip_loop,
    lip_ring,
    loop_chains,
    mouth_frame,
    opening_descriptor,
)
from editor.flow import jacobian_determinant
from editor.images import from_lab, to_lab


@dataclass(frozen=True)
class MouthConfig:
    """When and how the interior is painted. Lengths are fractions of the mouth width (inner corners)."""

    edge_softness: float = 0.012  # Gaussian sigma of the interior's edge
    stretch_from: float = 0.3  # real interior stretched to 1/0.3 of its area or more is painted over ...
    stretch_to: float = 0.5  # ... and kept where stretched less than 1/0.5 (the person's own teeth)
    replace_from: float = 1.5  # an opening grown to 1.5x its area starts to be replaced whole ...
    replace_to: float = 2.0  # ... and is replaced whole from twice its area
    min_area_growth: float = 0.01  # full opacity once the opening grew by this area (fraction of width^2)
    light_range: tuple[float, float] = (0.3, 2.5)  # bounds of the linear-light gain example -> photo
    cast_limit: float = 0.15  # white balance: no channel's gain more than this far from their mean ...
    # ... after keeping only this share of the measured cast: eye whites differ in colour by themselves
    # (the mouth bank's, all under one studio light: a* 1.3-9, b* -0.4-8), and at the whole cast a
    # red-eyed example's teeth came out mint-cyan in a photo with white eyes (2026-12-04).
    cast_share: float = 0.5
    lip_shadow: float = 0.3  # darkening right under the upper lip (the lip shades the teeth) ...
    lip_shadow_depth: float = 0.06  # ... fading over this depth
    corner_shadow: float = 0.35  # darkening toward the mouth corners (the cheeks shade the cavity)
    throat_shadow: float = 0.35  # darkening of a cavity opened wider than the example, toward its middle
    upper_band: float = 0.09  # a dropped jaw still shows this much upper teeth (fraction of the width)
    lower_band: float = 0.03  # ... and this much of the lower lip's inner edge and lower teeth, ...
    # ... until the jaw has clearly dropped: then this much. 0: at 0.03 the band was a 4-5 px strip of
    # shaded example rows that read as a grey line along the lower lip, not as teeth (seen on calibration
    # people's surprise, 2026-12-04); the tongue and the lip's inner edge meet instead.
    dropped_lower_band: float = 0.0
    lower_rim: float = 0.025  # the lower lip's inner edge, shaded as tissue, this deep (no lower teeth)
    lower_shadow: float = 0.45  # darkening of those lower teeth (the upper jaw shades them)
    min_cavity: float = 0.05  # the dark cavity fades in as the strip between the teeth grows to this height
    tongue_light: float = 0.8  # the tongue's lightness: the example's lips' L times this
    cavity_light: float = 0.18  # the cavity's lightness under the upper teeth: the lips' L times this
    # ... and its chroma: the lips' a*, b* times this. Shadowed tissue loses colour with its light; at the
    # lips' full chroma a dropped jaw's cavity and mouth corners were a saturated, painted-looking maroon
    # (dark red blobs at the corners; seen on calibration people's surprise, 2026-12-04).
    cavity_chroma: float = 0.55
    # The jaw has "clearly dropped" (no lower teeth, the cavity meeting the lower lip) once the opening is
    # 1.3x the example's height or more AND the strip between the teeth is this tall (fraction of the
    # width). Relative height alone also caught anger's bared teeth (AU10 + 25 + 26 at 0.3: twice a
    # closed-lip example's gap, a strip of 0.05-0.06): its lower teeth turned into cavity and the
    # classifier's read of anger on the 54 calibration people fell 54% -> 43% (2026-12-04).
    dropped_strip: tuple[float, float] = (0.08, 0.13)


def _smoothstep(edge0: float | np.ndarray, edge1: float | np.ndarray, x: np.ndarray) -> np.ndarray:
    """0 at edge0, 1 at edge1 (either order; scalars or arrays like x), smooth in between."""
    span = edge1 - edge0
    if np.ndim(span):
        span = np.where(np.abs(span) > 1e-9, span, 1e-9)
    elif abs(span) <= 1e-9:
        span = 1e-9
    t = np.clip((x - edge0) / span, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def paint_mouth_interior(
    image: np.ndarray,
    source: np.ndarray,
    target: np.ndarray,
    flow: np.ndarray,
    bank: MouthBank,
    config: MouthConfig | None = None,
    *,
    sclera: np.ndarray | None = None,
    exclude: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill the part of the mouth opening a warp created with a real interior.

    Args:
        image: (H, W, 3) uint8 RGB, the ALREADY WARPED photo.
        source: (478, 2|3) landmarks of the original photo, pixels.
        target: (478, 2|3) landmarks the warp moved them to (after editor.warp.apply_safety).
        flow: (H, W, 2) float32 backward flow the photo was warped with.
        bank: the mouth interiors to choose from.
        config: MouthConfig.
        sclera: (3,) CIELAB of the photo's eye whites (`mouth_bank.sclera_lab` of the ORIGINAL photo):
            the light reference; without it (or when NaN) the lips' lightness stands in.
        exclude: a bank face_id never to use (the edited person themself, in held-out evaluation).
    Returns:
        (image, alpha): the composited (H, W, 3) uint8 photo (a new array) and the (H, W) float32
        opacity in [0, 1] that was painted (all zero when the target opening is not larger).
    """
    config = config or MouthConfig()
    height, width = image.shape[:2]
    alpha_full = np.zeros((height, width), np.float32)
    poly_t, poly_s = inner_lip_loop(target), inner_lip_loop(source)
    mouth_w = float(np.linalg.norm(poly_t[10] - poly_t[0]))
    area_t, area_s = (abs(cv2.contourArea(p.astype(np.float32))) for p in (poly_t, poly_s))
    gate = float(np.clip((area_t - area_s) / (config.min_area_growth * mouth_w * mouth_w + 1e-9), 0.0, 1.0))
    if gate <= 0.0 or mouth_w < 2.0:
        return image.copy(), alpha_full

    pad = 0.1 * mouth_w + 4
    both = np.concatenate([poly_t, poly_s])
    x0, y0 = (max(int(math.floor(v - pad)), 0) for v in both.min(axis=0))
    x1 = min(int(math.ceil(both[:, 0].max() + pad)) + 1, width)
    y1 = min(int(math.ceil(both[:, 1].max() + pad)) + 1, height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return image.copy(), alpha_full
    box = (y1 - y0, x1 - x0)
    origin = np.array([x0, y0], np.float64)
    region = (slice(y0, y1), slice(x0, x1))

    # Where to paint: inside the target opening, softly, except where real interior maps back unstretched.
    sigma = max(config.edge_softness * mouth_w, 0.5)
    k = 2 * math.ceil(2 * sigma) + 1
    inside_t = cv2.GaussianBlur(polygon_coverage(box, poly_t, origin), (k, k), sigma)
    map_x = flow[region][..., 0] + np.arange(box[1], dtype=np.float32)[None, :]
    map_y = flow[region][..., 1] + np.arange(box[0], dtype=np.float32)[:, None]
    real = cv2.remap(
        polygon_coverage(box, poly_s, origin), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    unstretched = _smoothstep(config.stretch_from, config.stretch_to, jacobian_determinant(flow[region]))
    # An opening grown far beyond the photo's own is replaced whole: stretched real teeth mixed with
    # borrowed ones streak.
    grown = area_t / max(area_s, 1e-6)
    keep = 1.0 - _smoothstep(config.replace_from, config.replace_to, np.asarray(grown))
    real = cv2.GaussianBlur(real * unstretched * float(keep), (k, k), sigma)
    alpha = gate * inside_t * (1.0 - real)
    if not (alpha > 1e-3).any():
        return image.copy(), alpha_full

    # Which example: the one whose opening (in the mouth frame) looks most like the new one.
    matrix = mouth_frame(target)
    loop_frame = poly_t @ matrix[:, :2].T + matrix[:, 2]
    patch = image[region].astype(np.float32)
    ring = lip_ring(box, target, origin)
    lab_patch = to_lab(patch)
    lip_lab = lab_patch[ring].mean(axis=0) if ring.sum() > 8 else lab_patch.reshape(-1, 3).mean(axis=0)
    example = bank.choose(opening_descriptor(loop_frame), float(lip_lab[0]), exclude=exclude)

    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    in_frame = (np.stack([xs.ravel(), ys.ravel()], axis=1) @ matrix[:, :2].T + matrix[:, 2]).reshape(*box, 2)
    fitted = _fit_example(example, loop_frame, in_frame, config)
    lab = to_lab(_srgb(_linear(fitted.rgb) * _light_gains(example, sclera, lip_lab, config)))
    lab[..., 0] *= _shade(fitted, loop_frame, in_frame, config)
    colour = from_lab(np.clip(lab, [0, -127, -127], [100, 127, 127]))

    a = alpha[..., None]
    out = image.copy()
    out[region] = np.clip(patch * (1 - a) + colour * a + 0.5, 0, 255).astype(np.uint8)
    alpha_full[region] = alpha
    return out, alpha_full


def _chains(loop: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The upper and lower inner-lip edges of a mouth-frame loop (20, 2), at abscissae `x`."""
    upper, lower = loop_chains(loop)
    order_u, order_l = np.argsort(upper[:, 0]), np.argsort(lower[:, 0])
    return (
        np.interp(x, upper[order_u, 0], upper[order_u, 1]),
        np.interp(x, lower[order_l, 0], lower[order_l, 1]),
    )


def _lab_rgb(lab: np.ndarray) -> np.ndarray:
    return from_lab(np.asarray(lab, np.float32).reshape(1, 1, 3)).reshape(3)


def _linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB 0..255 -> linear light 0..1."""
    c = np.clip(np.asarray(rgb, np.float32) / 255.0, 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _srgb(linear: np.ndarray) -> np.ndarray:
    """linear light 0..1 -> sRGB 0..255 (float32, clipped)."""
    c = np.clip(linear, 0.0, 1.0)
    return (255.0 * np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)).astype(np.float32)


def _luma(rgb_linear: np.ndarray) -> float:
    return float(np.asarray(rgb_linear) @ np.array([0.2126, 0.7152, 0.0722]))


@dataclass(frozen=True)
class _Fitted:
    """An example fitted into the target opening, on the pixels of the photo's mouth box.

    rgb: (h, w, 3) float32 the example (and opened cavity) before relighting; below_top: (h, w) depth
    under the target's upper lip, mouth-frame pixels; cavity_depth: (h, w) 0..1 how deep into an opened
    cavity (0 outside it).
    """

    rgb: np.ndarray
    below_top: np.ndarray
    cavity_depth: np.ndarray


def _fit_example(
    example: MouthExample, loop_frame: np.ndarray, in_frame: np.ndarray, config: MouthConfig
) -> _Fitted:
    """Warp the example into the target opening, column by column of the mouth frame.

    The corners coincide in the frame. An opening no taller than the example's squeezes it. A taller one
    (a dropped jaw) keeps a band of the example under the upper lip (upper teeth) and over the lower lip
    at their own size, the bands narrowing toward `upper_band` / `lower_band` as the jaw drops further
    (the lips cover more of the teeth; a surprised "O" shows little of them; once the jaw has clearly
    dropped, the lower band goes to `dropped_lower_band`), and opens a dark cavity between them: dark
    under the upper teeth, a dimly lit tongue toward the lower lip, in the lips' hue, meeting the lower
    lip's inner edge as tissue in shadow. Between the two, as the opening grows, the bands go from the
    example's halves stretched to the whole opening to the bands at their own size, and the cavity between
    them grows from nothing to the whole strip: opaque wherever it is, never faded in over the teeth.

    Args:
        loop_frame: (20, 2) the target inner-lip loop in the mouth frame.
        in_frame: (h, w, 2) each box pixel's mouth-frame position.
    """
    fx, fy = in_frame[..., 0], in_frame[..., 1]
    top_t, bottom_t = _chains(loop_frame, fx)
    top_e, bottom_e = _chains(example.loop.astype(np.float64), fx)
    gap_t = np.maximum(bottom_t - top_t, 1e-3)
    gap_e = np.maximum(bottom_e - top_e, 1e-3)
    below_top = fy - top_t
    above_bottom = bottom_t - fy
    half = 0.5 * gap_e
    drop = np.clip((gap_t - gap_e) / gap_e, 0.0, 1.0)  # 0: fits the example, 1: twice its height
    upper = half - (half - np.minimum(config.upper_band * MOUTH_WIDTH, half)) * drop
    lower = half - (half - np.minimum(config.lower_band * MOUTH_WIDTH, half)) * drop
    # The cavity fades in with the drop and only once the strip between the bands is tall enough to read
    # as one: a thin crack of dark between the teeth looks like a drawn line. Until then the example is
    # stretched whole (the bands alone would repeat one of its rows across the strip).
    strip = np.maximum(gap_t - upper - lower, 0.0)
    opened = _smoothstep(0.1, 0.4, drop) * _smoothstep(
        0.4 * config.min_cavity * MOUTH_WIDTH, config.min_cavity * MOUTH_WIDTH, strip
    )
    span = max(loop_frame[10, 0] - loop_frame[0, 0], 1e-6)
    across = np.sin(np.pi * np.clip((fx - loop_frame[0, 0]) / span, 0, 1))  # 0 at the corners, 1 mid-mouth
    # Once the jaw has clearly dropped, the lower band shrinks to `dropped_lower_band` wherever the cavity
    # opens, whatever the column's own drop (a column dropped less kept a strip of shaded example rows: a
    # grey streak toward the corners).
    lower_min = min(config.dropped_lower_band * MOUTH_WIDTH, float(np.min(half)))
    dropped = _smoothstep(0.3, 0.6, float(np.max(drop))) * _smoothstep(
        config.dropped_strip[0] * MOUTH_WIDTH, config.dropped_strip[1] * MOUTH_WIDTH, float(np.max(strip))
    )
    lower = lower_min + (lower - lower_min) * (1.0 - opened * dropped)
    # In a dropped jaw the lower lip covers the lower teeth toward the corners: they show mid-mouth only.
    lower = lower * (1.0 - opened * (1.0 - across))
    lower = np.where(opened * (lower < 0.015 * MOUTH_WIDTH) > 0.5, 0.0, lower)  # no sliver of a band
    # The bands' example rows go from the example's halves (the whole example, stretched) to the bands as
    # the cavity opens, and their stretch from the opening's to none: the cavity between them grows from
    # nothing to the whole strip, opaque wherever it is. (A cavity fading in over the stretched example
    # drew ghosts: teeth seen through a grey patch, dark blots on the front teeth, at surprise 0.3-0.5.)
    source_upper = half + (upper - half) * opened
    source_lower = half + (lower - half) * opened
    stretch = 1.0 + (gap_t / gap_e - 1.0) * (1.0 - opened)
    upper_t = source_upper * stretch  # the upper teeth's height in the target, frame pixels
    lower_t = np.minimum(source_lower * stretch, gap_t - upper_t)
    open_height = np.maximum(gap_t - upper - lower, 1e-3)  # the whole strip, once fully opened
    source_y = np.where(
        below_top < upper_t,
        top_e + below_top / stretch,
        np.where(above_bottom < lower_t, bottom_e - above_bottom / stretch, top_e + source_upper),
    )
    rgb = cv2.remap(
        example.crop, fx.astype(np.float32), source_y.astype(np.float32), cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    ).astype(np.float32)  # fmt: skip
    # ... and sit in the shadow of the upper jaw and teeth.
    # (over the whole fade into the cavity below too: unshaded teeth there would draw a bright rim)
    lower_teeth = 1.0 - _smoothstep(lower_t, lower_t + 0.02 * MOUTH_WIDTH, above_bottom)  # (h, w)
    rgb *= (1.0 - config.lower_shadow * opened * lower_teeth)[..., None]

    into_cavity = np.minimum(below_top - upper_t, above_bottom - lower_t)  # > 0 in the opened cavity
    # The upper teeth end in a crisp edge; the shaded lower ones fade into the dark. Where no lower teeth
    # show, the cavity meets the lower lip itself, out to the soft edge of the painted area.
    into_lower = _smoothstep(-0.01 * MOUTH_WIDTH, 0.02 * MOUTH_WIDTH, above_bottom - lower_t)
    into_lower = 1.0 - _smoothstep(0.0, 0.015 * MOUTH_WIDTH, lower_t) * (1.0 - into_lower)
    cavity = _smoothstep(0.0, 0.012 * MOUTH_WIDTH, below_top - upper_t) * into_lower
    # The lower lip's wet inner edge is tissue in shadow wherever the jaw dropped and no lower teeth show
    # (toward the corners the example's own lower lip and teeth would show there, shaded grey).
    rim = (1.0 - _smoothstep(0.0, config.lower_rim * MOUTH_WIDTH, above_bottom)) * (lower <= 0.0)
    cavity = np.maximum(cavity, rim * _smoothstep(0.1, 0.4, drop))
    # Once the jaw has clearly dropped, all below the upper teeth is cavity, out to the corners where the
    # columns opened less: their stretched example drew pale streaks ("fangs") down to the lower lip.
    freed = dropped * _smoothstep(0.0, 0.012 * MOUTH_WIDTH, below_top - upper_t)
    cavity = np.maximum(cavity, freed)[..., None]
    down = np.clip((below_top - upper_t) / np.maximum(gap_t - upper_t - lower_t, 1e-3), 0, 1)
    tissue = np.asarray(example.lip_lab, np.float32)  # the mouth's soft tissue shares the lips' hue
    tongue = _lab_rgb(tissue * np.array([config.tongue_light, 1.0, 1.0], np.float32))
    dark = _lab_rgb(
        tissue * np.array([config.cavity_light, config.cavity_chroma, config.cavity_chroma], np.float32)
    )
    # The tongue fills the bottom of the cavity, in the middle (it curves away toward the corners).
    middle = across**0.5
    inside = dark + (tongue - dark) * (_smoothstep(0.45, 1.0, down) * middle)[..., None]
    return _Fitted(
        rgb=rgb * (1 - cavity) + inside * cavity,
        below_top=below_top,
        cavity_depth=np.clip(into_cavity, 0, None) / open_height,  # half the opened share of the strip
    )


def _light_gains(
    example: MouthExample, sclera: np.ndarray | None, lip_lab: np.ndarray, config: MouthConfig
) -> np.ndarray:
    """(3,) float32 linear-light gains taking the example's light to the photo's.

    From the eye whites, per channel (von Kries: exposure and white balance, not skin tone); the lips'
    luminance stands in where no eye white was measured.
    """
    if sclera is not None and np.isfinite(sclera).all() and np.isfinite(example.sclera_lab).all():
        ours, theirs = _linear(_lab_rgb(sclera)), _linear(_lab_rgb(example.sclera_lab))
        gains = ours / np.maximum(theirs, 1e-4)
        mean_gain = float(gains.mean())
        gains = mean_gain * (gains / mean_gain) ** config.cast_share
        gains = np.clip(gains, mean_gain * (1 - config.cast_limit), mean_gain * (1 + config.cast_limit))
    else:
        ours, theirs = _linear(_lab_rgb(lip_lab)), _linear(example.lip_rgb)
        gains = np.full(3, _luma(ours) / max(_luma(theirs), 1e-4))
    return np.clip(gains, *config.light_range).astype(np.float32)


def _shade(fitted: _Fitted, loop_frame: np.ndarray, in_frame: np.ndarray, config: MouthConfig) -> np.ndarray:
    """(h, w) lightness factor: under the upper lip, toward the corners, into an opened throat."""
    depth = fitted.below_top / MOUTH_WIDTH  # below the upper lip, mouth widths
    span = max(loop_frame[10, 0] - loop_frame[0, 0], 1e-6)
    across = np.clip((in_frame[..., 0] - loop_frame[0, 0]) / span, 0, 1)
    shade = 1.0 - config.lip_shadow * np.exp(-np.maximum(depth, 0.0) / config.lip_shadow_depth)
    shade *= 1.0 - config.corner_shadow * (1.0 - np.sin(np.pi * across)) ** 2
    shade *= 1.0 - config.throat_shadow * _smoothstep(0.0, 1.0, 2.0 * fitted.cavity_depth)
    return shade
