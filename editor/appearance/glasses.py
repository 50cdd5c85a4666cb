"""Glasses: a parametric 3-D frame put on the face at the head's pose, shaded, with a soft shadow.

The frame lives in the canonical face's space (`editor.appearance.pose`, interocular units): two
lenses (superellipses: round, rounded-rectangle or square) in a plane a little in front of the eyes,
a bridge over the nose, and temple arms from the hinges back to the ears. The head pose fitted to the
landmarks maps that plane to the photo, so the frame turns, tilts and foreshortens with the head; an
arm is drawn only on a side of the head that faces the camera. Each part is drawn from its distance
field (anti-aliased by construction) and shaded as a round bar lit from above, scaled by the photo's
own low-frequency lighting; the frame casts a soft shadow down onto the skin of the face; sunglasses
have tinted lenses (darker at the top) with a faint reflection, clear lenses only a faint reflection.
Refraction is not modelled. Removing glasses is refused: that needs a generative model.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import cv2
import numpy as np

from editor.appearance.effect import Applied, Refusal, paste_rgb
from editor.appearance.pose import HeadPose, head_pose
from editor.appearance.regions import RegionMask, face_oval_mask

__all__ = ["STYLES", "Style", "apply", "render"]


@dataclass(frozen=True)
class Style:
    """One kind of glasses, in canonical units (1 = the distance between the iris centres).

    Attributes:
        centre: (x, y) of the right lens's centre (the left is mirrored); irises are at (±0.5, 0).
        half_width, half_height: the lens's half axes.
        exponent: superellipse exponent (2: ellipse; 3-5: rounded rectangle to square).
        thickness: rim width; ``top`` multiplies it at the top of the lens (browline frames).
        colour: frame RGB 0..255.
        shine: specular strength (metal high, acetate low); ``shininess`` its exponent.
        tint: lens RGB seen where the lens blocks light; ``transmission`` how much light passes (1 clear).
    """

    centre: tuple[float, float]
    half_width: float
    half_height: float
    exponent: float
    thickness: float
    top: float
    colour: tuple[float, float, float]
    shine: float
    shininess: float
    tint: tuple[float, float, float] = (240.0, 244.0, 246.0)
    transmission: float = 0.96


#: The styles a request can name (``value``); None means "default": everyday dark acetate frames.
STYLES: MappingProxyType[str, Style] = MappingProxyType(
    {
        "default": Style((0.53, 0.03), 0.40, 0.27, 3.0, 0.045, 1.3, (42.0, 33.0, 29.0), 0.35, 30.0),
        "round": Style((0.52, 0.03), 0.34, 0.34, 2.0, 0.024, 1.0, (172.0, 140.0, 84.0), 0.9, 60.0),
        "square": Style((0.54, 0.03), 0.42, 0.28, 5.0, 0.060, 1.4, (20.0, 20.0, 22.0), 0.35, 30.0),
        "sunglasses": Style(
            (0.55, 0.05), 0.45, 0.33, 3.0, 0.055, 1.2, (24.0, 24.0, 26.0), 0.4, 30.0,
            tint=(26.0, 30.0, 28.0), transmission=0.15,
        ),
    }
)  # fmt: skip
DEFAULT_STYLE = "default"
#: Why removing glasses is refused.
REMOVAL = (
    "I can't remove glasses: that needs repainting the eyes and skin behind the frame, which only a "
    "generative (latent) backend can do, and none is installed."
)

#: The lens plane's depth (canonical z; the eyes are at about 0, the nose bridge at -0.15).
LENS_PLANE = -0.25
#: Where each temple arm ends: just above the ear (canonical, right side; the left is mirrored).
EAR = (1.17, -0.03, 1.0)
#: Arm and bridge widths, canonical units.
ARM_WIDTH = 0.035
BRIDGE_WIDTH = 0.04
#: Light direction (image x right, y down, z toward the viewer): from above, a little from the left.
LIGHT = np.array([-0.35, -0.75, 0.6]) / np.linalg.norm([-0.35, -0.75, 0.6])
#: The shadow falls this far (canonical units) down the face from the frame, this soft, this dark.
SHADOW_DROP = 0.07
SHADOW_SOFT = 0.025
SHADOW_DARK = 0.38


def apply(image: np.ndarray, landmarks: np.ndarray, strength: float, value: str | None) -> Applied:
    """Glasses of style ``value`` (`STYLES`; None: the default) on (H, W, 3) uint8 RGB ``image``.

    Positive strength puts them on (above 0 the frame is always whole; sunglasses' tint follows the
    strength up to 1.3); negative strength (removing glasses) is refused.
    """
    if strength < 0:
        raise Refusal(REMOVAL)
    name = value if value in STYLES else DEFAULT_STYLE
    notes = () if value in (None, *STYLES) else (f"I don't know {value!r} glasses, so I drew everyday ones.",)
    out, region = render(image, landmarks, STYLES[name], tint_amount=float(np.clip(strength, 0.3, 1.3)))
    return Applied(out, region, colour=None, notes=notes)


def render(
    image: np.ndarray, landmarks: np.ndarray, style: Style, *, tint_amount: float = 1.0
) -> tuple[np.ndarray, RegionMask]:
    """(the photo with the glasses drawn, the region it changed) for ``style`` at the landmarks' pose."""
    pose = head_pose(landmarks)
    shape = image.shape[:2]
    box = _box(pose, style, shape)
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return image.copy(), RegionMask(np.zeros((0, 0), np.float32), (0, 0, 0, 0), shape)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)  # (h, w) pixel centres
    frame, normal, lens, lens_uv = _draw(pose, style, xs, ys)
    shadow = _shadow(pose, frame, landmarks, shape, box)  # (h, w)
    crop = image[y0:y1, x0:x1].astype(np.float32)  # (h, w, 3)
    light = _lighting(crop, pose.scale)  # (h, w, 1) the photo's low-frequency lighting, about 1
    base = crop * (1.0 - SHADOW_DARK * shadow * (1.0 - frame))[..., None]
    base = _lens(base, lens, lens_uv, style, tint_amount)
    colour = _shade(normal, style) * light  # (h, w, 3)
    out = base * (1.0 - frame[..., None]) + colour * frame[..., None]
    alpha = np.maximum(np.maximum(frame, lens), shadow).astype(np.float32)
    region = RegionMask(alpha, box, shape)
    return paste_rgb(image, region, out), region


def _lens_field(
    cx: np.ndarray, cy: np.ndarray, style: Style, side: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(superellipse level G, u, v) of one lens at canonical plane points (cx, cy); G < 0 inside."""
    u = (cx - side * style.centre[0]) / style.half_width
    v = (cy - style.centre[1]) / style.half_height
    n = style.exponent
    level = (np.abs(u) ** n + np.abs(v) ** n) ** (1.0 / n) - 1.0
    return level, u * side, v


def _draw(
    pose: HeadPose, style: Style, xs: np.ndarray, ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frame coverage (h, w), its normals (h, w, 3), lens coverage (h, w), lens coordinates (h, w, 2).

    Each part is computed only inside its own window of the box (the box is mostly empty).
    """
    # Pixels -> points of the lens plane (orthographic: an affine map of the plane onto the photo).
    matrix = pose.scale * pose.rotation[:2, :2]  # (2, 2) plane (x, y) -> pixels
    offset = pose.scale * pose.rotation[:2, 2] * LENS_PLANE + pose.translation[:2]
    inverse = np.linalg.inv(matrix).astype(np.float32)
    frame = np.zeros_like(xs)
    normal = np.zeros((*xs.shape, 3), np.float32)
    normal[..., 2] = 1.0
    lens = np.zeros_like(xs)
    lens_uv = np.zeros((*xs.shape, 2), np.float32)
    sx, sy = style.centre
    rim = style.thickness * style.top + 0.02
    for side in (-1.0, 1.0):
        corners = [
            [side * sx + a * (style.half_width + rim), sy + b * (style.half_height + rim), LENS_PLANE]
            for a in (-1, 1) for b in (-1, 1)
        ]  # fmt: skip
        window = _window(xs, ys, pose.project(np.array(corners))[:, :2], 2.0)
        if xs[window].shape[0] < 2 or xs[window].shape[1] < 2:
            continue  # this lens lies outside the photo
        wx, wy = xs[window] - offset[0], ys[window] - offset[1]
        cx = inverse[0, 0] * wx + inverse[0, 1] * wy  # (h', w') canonical plane x
        cy = inverse[1, 0] * wx + inverse[1, 1] * wy
        level, u, v = _lens_field(cx, cy, style, side)
        gy, gx = np.gradient(level)  # per pixel
        norm = np.sqrt(gx * gx + gy * gy) + 1e-9
        d = level / norm  # (h', w') signed distance to the lens edge, pixels (< 0 inside)
        inside = np.clip(0.5 - d, 0.0, 1.0)
        np.maximum(lens[window], inside, out=lens[window])
        lens_uv[window] = np.where((inside > 0)[..., None], np.stack([u, v], axis=-1), lens_uv[window])
        width = pose.scale * style.thickness * (1.0 + (style.top - 1.0) * np.clip(-v, 0.0, 1.0))
        _merge(frame[window], normal[window], d - width / 2, width / 2, gx / norm, gy / norm)
    # Bridge: an arch in the lens plane between the lenses' inner edges, over the nose.
    lift = 0.45
    inner = sx - style.half_width * (1.0 - lift**style.exponent) ** (1.0 / style.exponent)
    t = np.linspace(-1.0, 1.0, 9)
    bridge = np.stack(
        [t * inner, sy - lift * style.half_height - 0.04 * (1 - t**2), np.full_like(t, LENS_PLANE)], 1
    )
    _polyline(frame, normal, xs, ys, pose.project(bridge)[:, :2], pose.scale * BRIDGE_WIDTH / 2)
    # Temple arms, from the hinge at the lens's outer edge back to the ear, on a side that faces the camera.
    for side in (-1.0, 1.0):
        hinge_y = sy - 0.35 * style.half_height
        hinge_x = sx + style.half_width * (1.0 - 0.35**style.exponent) ** (1.0 / style.exponent)
        outer = hinge_x + style.thickness
        arm = np.array([[outer, hinge_y, LENS_PLANE], [outer + 0.06, hinge_y, LENS_PLANE + 0.15], EAR])
        arm[:, 0] *= side
        visible = float(np.clip((pose.facing((side, 0.0, 0.0)) + 0.1) / 0.1, 0.0, 1.0))
        if visible > 0:
            _polyline(frame, normal, xs, ys, pose.project(arm)[:, :2], pose.scale * ARM_WIDTH / 2, visible)
    return frame, normal, lens * (1.0 - frame), lens_uv


def _window(xs: np.ndarray, ys: np.ndarray, points: np.ndarray, pad: float) -> tuple[slice, slice]:
    """(rows, columns) of the box grid (xs, ys) holding the (N, 2) pixel ``points`` grown by ``pad``."""
    x0, y0 = float(xs[0, 0]), float(ys[0, 0])
    low = np.floor(points.min(axis=0) - pad - (x0, y0)).astype(int)
    high = np.ceil(points.max(axis=0) + pad - (x0, y0)).astype(int) + 1
    rows = slice(int(np.clip(low[1], 0, xs.shape[0])), int(np.clip(high[1], 0, xs.shape[0])))
    columns = slice(int(np.clip(low[0], 0, xs.shape[1])), int(np.clip(high[0], 0, xs.shape[1])))
    return rows, columns


def _merge(
    frame: np.ndarray,
    normal: np.ndarray,
    offset: np.ndarray,
    radius,
    ux: np.ndarray,
    uy: np.ndarray,
    opacity: float = 1.0,
) -> None:
    """Add a bar (``offset``: signed pixels from its centre line, ``radius`` its half width) in place.

    (ux, uy) is the unit direction in which ``offset`` grows; the bar is shaded as flat across its
    middle and rounded at its edges.
    """  # fmt: skip
    coverage = np.clip(radius - np.abs(offset) + 0.5, 0.0, 1.0) * opacity
    q = np.clip(offset / np.maximum(radius, 0.5), -1.0, 1.0)
    q = 0.9 * q**3  # a flat front with rounded edges (acetate and wire alike), not a tube
    nz = np.sqrt(1.0 - q * q)
    better = coverage > frame
    frame[better] = coverage[better]
    normal[better] = np.stack([ux * q, uy * q, nz], axis=-1)[better]


def _polyline(
    frame: np.ndarray,
    normal: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    points: np.ndarray,
    radius: float,
    opacity: float = 1.0,
) -> None:
    """Add a rod along the (N, 2) pixel polyline ``points`` of half width ``radius`` in place."""  # fmt: skip
    window = _window(xs, ys, points, radius + 2.0)
    xs, ys = xs[window], ys[window]
    best = np.full(xs.shape, np.inf, np.float32)
    ux = np.zeros_like(xs)
    uy = np.zeros_like(xs)
    for a, b in zip(points[:-1].astype(np.float32), points[1:].astype(np.float32), strict=True):
        ab = b - a
        t = np.clip(((xs - a[0]) * ab[0] + (ys - a[1]) * ab[1]) / max(float(ab @ ab), 1e-9), 0.0, 1.0)
        ex, ey = xs - (a[0] + t * ab[0]), ys - (a[1] + t * ab[1])  # (h', w') from the nearest point
        dist = np.sqrt(ex * ex + ey * ey)
        closer = dist < best
        best[closer] = dist[closer]
        ux[closer] = (ex / (dist + 1e-6))[closer]
        uy[closer] = (ey / (dist + 1e-6))[closer]
    _merge(frame[window], normal[window], best, radius, ux, uy, opacity)


def _shade(normal: np.ndarray, style: Style) -> np.ndarray:
    """(h, w, 3) frame colour: diffuse + ambient from `LIGHT`, plus a specular highlight."""
    diffuse = np.clip(normal @ LIGHT.astype(np.float32), 0.0, 1.0)[..., None]
    half = LIGHT + np.array([0.0, 0.0, 1.0])
    half = (half / np.linalg.norm(half)).astype(np.float32)
    specular = np.clip(normal @ half, 0.0, 1.0)[..., None] ** style.shininess
    base = np.asarray(style.colour, np.float32)
    return base * (0.45 + 0.75 * diffuse) + 255.0 * style.shine * specular


def _lens(base: np.ndarray, lens: np.ndarray, uv: np.ndarray, style: Style, tint_amount: float) -> np.ndarray:
    """Light through the lenses: tint (sunglasses, darker at the top) and a faint diagonal reflection."""
    u, v = uv[..., 0], uv[..., 1]
    gradient = np.clip(0.5 - 0.5 * v, 0.0, 1.0)  # 1 at the lens's top, 0 at its bottom
    blocked = (1.0 - style.transmission) * (0.8 + 0.3 * gradient) * min(tint_amount, 1.3)
    blocked = np.clip(blocked, 0.0, 0.95)[..., None]  # (h, w, 1)
    seen = base * (1.0 - blocked) + np.asarray(style.tint, np.float32) * blocked
    tinted = style.transmission < 0.9
    streak = np.exp(-(((u + 0.7 * v + 0.25) / 0.22) ** 2)) * (0.10 if tinted else 0.05)
    sky = (0.05 if tinted else 0.0) * gradient**2
    seen = seen + (255.0 - seen) * (streak + sky)[..., None]
    weight = lens[..., None]
    return base * (1.0 - weight) + seen * weight


def _shadow(
    pose: HeadPose,
    frame: np.ndarray,
    landmarks: np.ndarray,
    shape: tuple[int, int],
    box: tuple[int, int, int, int],
) -> np.ndarray:
    """(h, w) the frame's shadow on the face: its coverage dropped down the face and blurred."""
    down = pose.rotation[:2, 1] * pose.scale * SHADOW_DROP  # (2,) pixels, the face's own "down"
    shift = np.float32([[1, 0, down[0]], [0, 1, down[1]]])
    moved = cv2.warpAffine(frame, shift, frame.shape[::-1], flags=cv2.INTER_LINEAR)
    sigma = max(0.8, SHADOW_SOFT * pose.scale)
    shadow = cv2.GaussianBlur(moved, (0, 0), sigma)
    x0, y0, x1, y1 = box
    oval = face_oval_mask(landmarks, shape, feather=0.03 * pose.scale)
    on_face = RegionMask(oval.alpha, oval.box, shape).full()[y0:y1, x0:x1]
    shadow = shadow * on_face
    shadow[shadow < 2e-3] = 0.0
    return shadow


def _lighting(crop: np.ndarray, scale: float) -> np.ndarray:
    """(h, w, 1) the photo's low-frequency luminance around the eyes relative to an evenly lit face."""
    grey = crop.mean(axis=-1)
    small = cv2.resize(grey, None, fx=0.1, fy=0.1, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), max(1.0, 0.03 * scale))
    low = cv2.resize(small, grey.shape[::-1], interpolation=cv2.INTER_LINEAR)
    relative = low / max(float(np.median(low)), 1.0)
    level = float(np.clip(np.median(low) / 150.0, 0.6, 1.25))  # a dim photo: a dimmer frame
    return (level * np.clip(relative, 0.6, 1.4) ** 0.6)[..., None].astype(np.float32)


def _box(pose: HeadPose, style: Style, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The pixel box holding the frame, the arms and the shadow."""
    sx, sy = style.centre
    reach = sx + style.half_width + style.thickness * style.top
    top, bottom = sy - style.half_height - 0.2, sy + style.half_height + 0.2
    corners = np.array(
        [[x, y, LENS_PLANE] for x in (-reach - 0.05, reach + 0.05) for y in (top, bottom)]
        + [[s * EAR[0], EAR[1], EAR[2]] for s in (-1, 1)]
    )
    projected = pose.project(corners)[:, :2]
    pad = (SHADOW_DROP + 3 * SHADOW_SOFT + 0.05) * pose.scale + 3
    x0, y0 = np.floor(projected.min(axis=0) - pad).astype(int)
    x1, y1 = np.ceil(projected.max(axis=0) + pad).astype(int)
    height, width = shape
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)
