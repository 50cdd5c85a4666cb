"""The geometry backend: expressions as blendshape-driven landmark motion, rendered as a dense warp.

No trained network: each request becomes ARKit blendshape weights (`editor.geometry.prototypes`), the
weights of all requests are summed (composition in blendshape space), the blendshape basis turns them
into target positions of the face's 478 landmarks (`editor.geometry.motion`), and the photo's own pixels
are moved there by a feathered thin-plate-spline warp at full resolution (`editor.warp`); the shared
completion stage (`editor.completion`) then adds what a warp cannot make: a real mouth interior where
the lips part, the shading of folds and wrinkles, a lash line over closed eyes. A face region longer
than 1600 px is warped and completed on a reduced view, carried back onto its own full-resolution
pixels (`editor.backends.reduced`). It is the baseline every learnt backend must beat and the generator
of synthetic training pairs.

Signed strength: positive adds the expression; negative suppresses one already present, by the amount
FaceLandmarker measures on the photo (you cannot remove a smile that is not there). ``neutral`` removes
whatever expression the face shows (gaze excepted).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

import cv2
import numpy as np

from editor import vocabulary as vocab
from editor.backends.base import BackendEdit
from editor.backends.reduced import apply_at_full_resolution, reduced_size, to_reduced
from editor.completion import Completion, CompletionStage
from editor.face import Face
from editor.geometry.basis import BlendshapeBasis, load_basis
from editor.geometry.motion import landmark_motion
from editor.geometry.plausibility import keep_brow_shapes, keep_lip_order, plausible_fraction
from editor.geometry.prototypes import PROTOTYPES, prototype, saturate_weights
from editor.landmark_indices import face_mesh_indices
from editor.requests import EditRequest
from editor.transfer.reference import transfer_weights
from editor.warp import WarpConfig, WarpResult, warp_face

logger = logging.getLogger(__name__)

#: The attribute that removes expression rather than adding one.
NEUTRAL = "neutral"
#: Blendshapes that describe gaze, not expression: never suppressed by "neutral".
GAZE_PREFIX = "eyeLook"
#: Clip range of the eyelid-motion scale (the person's eye opening relative to the basis face's).
EYELID_SCALE_RANGE = (0.5, 1.2)


class GeometryBackend:
    """Blendshape-driven flow edits for every expression attribute of the vocabulary.

    Args:
        basis: the landmark-space blendshape basis (default: the shipped one).
        config: warp settings (default: the tuned `WarpConfig`).
    """

    name = "geometry"

    def __init__(
        self,
        *,
        basis: BlendshapeBasis | None = None,
        config: WarpConfig | None = None,
        completion: CompletionStage | None = None,
    ) -> None:
        self.basis = basis or load_basis()
        self.config = config or WarpConfig()
        self.completion = completion or CompletionStage()
        self._basis_eye_opening = _eye_opening(self.basis.neutral)

    def supports(self, attribute: str) -> bool:
        return attribute in (NEUTRAL, vocab.REFERENCE) or attribute in PROTOTYPES

    # ------------------------------------------------------------------ weights

    def weights(self, face: Face, requests: Sequence[EditRequest], scale: float = 1.0) -> dict[str, float]:
        """Summed ARKit weights of ``requests`` on this face (before ``scale`` only the sign matters)."""
        total: dict[str, float] = {}
        for request in requests:
            for name, weight in self._request_weights(face, request).items():
                total[name] = total.get(name, 0.0) + weight * scale
        return {name: weight for name, weight in saturate_weights(total).items() if abs(weight) > 1e-6}

    def _request_weights(self, face: Face, request: EditRequest) -> dict[str, float]:
        strength = request.strength
        if request.attribute == NEUTRAL:
            return _suppression(face.blendshapes, _expression_shapes(face.blendshapes), abs(strength))
        if request.attribute == vocab.REFERENCE:  # a reference photo's measured expression (editor.transfer)
            return transfer_weights(face, request)
        recipe = prototype(request.attribute)
        if strength >= 0:
            return {name: strength * weight for name, weight in recipe.items()}
        targeted = [name for name, weight in recipe.items() if weight > 0]
        return _suppression(face.blendshapes, targeted, abs(strength))

    def targets(self, request: EditRequest, face: Face) -> dict[str, float]:
        """Blendshapes this request moves most, name -> +1 (should rise) or -1 (should fall).

        "Most": at least 0.4 of the largest weight (the smile's mouthSmile is 0.44 of its upper-lip raise).
        """
        weights = self._request_weights(face, request)
        if not weights:
            return {}
        strongest = max(abs(w) for w in weights.values())
        return {name: float(np.sign(w)) for name, w in weights.items() if abs(w) >= 0.4 * strongest}

    # ------------------------------------------------------------------ rendering

    def edit(
        self,
        image: np.ndarray,
        face: Face,
        requests: Sequence[EditRequest],
        *,
        scale: float = 1.0,
        steps: int = 5,
        preview_side: int = 512,
    ) -> BackendEdit:
        """Warp ``image`` so the face shows ``requests`` (times ``scale``); K = ``steps`` preview frames."""
        started = time.perf_counter()
        notes: list[str] = []
        weights = self.weights(face, requests, scale)
        for request in requests:
            removing = request.strength < 0 or request.attribute == NEUTRAL
            if removing and not self._request_weights(face, request):
                notes.append(
                    f"There is no {vocab.describe(request.attribute, abs(request.strength))} expression "
                    "on the photo to remove."
                    if request.attribute != NEUTRAL
                    else "The face already looks neutral."
                )
        config = self.warp_config_for(face)
        target, fraction = self.plausible_target(face, weights, notes)
        adding, removing = _split(weights)
        smile = self.smile_level(removing) + fraction * self.smile_level(adding)
        lip_raise = fraction * self.lip_raise_level(adding)
        result, completed = self.render_region(
            image, face.landmarks, target, config, smile=smile, lip_raise=lip_raise
        )
        if result.folded:
            notes.append(
                f"Part of the face folded over in the warp ({result.fold_fraction:.1%}); "
                "try a lower strength."
            )
        frames = self._frames(image, face, (smile, lip_raise), target, config, steps, preview_side)
        elapsed = time.perf_counter() - started
        return BackendEdit(
            image=completed,
            frames=frames,
            notes=tuple(notes),
            diagnostics={
                "fold_fraction": result.fold_fraction,
                "plausible_fraction": fraction,
                "min_jacobian": result.min_jacobian,
                "warp_ms": result.timings.get("total", 0.0),
                "completion_ms": result.timings.get("completion", 0.0),
                "ms": 1000 * elapsed,
            },
        )

    def render(
        self,
        image: np.ndarray,
        source: np.ndarray,
        target: np.ndarray,
        config: WarpConfig,
        *,
        smile: float = 0.0,
        lip_raise: float = 0.0,
    ) -> tuple[WarpResult, Completion]:
        """Warp ``image`` from ``source`` to ``target`` landmarks and complete it: (warp, completion)."""
        result = warp_face(image, source, target, config)
        completed = self.completion.complete(
            result.image,
            image,
            source,
            result.target,
            result.flow,
            result.mask,
            smile=smile,
            lip_raise=lip_raise,
        )
        return result, completed

    def render_region(
        self, image: np.ndarray, source: np.ndarray, target: np.ndarray, config: WarpConfig, **levels: float
    ) -> tuple[WarpResult, np.ndarray]:
        """`render` for a face region of any size: (warp, completed (H, W, 3) uint8 image).

        A region longer than `reduced.REDUCED_SIDE` is warped and completed on a reduced view, and
        the result carried back onto its full-resolution pixels (`reduced.apply_at_full_resolution`);
        the warp's diagnostics are then the reduced view's (its fold fractions and Jacobians are
        ratios, the same at any scale). Its ``timings`` gain "completion" (ms). ``levels``: `render`'s
        ``smile`` and ``lip_raise``. A smaller region is rendered exactly as `render` does.
        """
        size = reduced_size(image.shape[:2])
        if size is None:
            result, completed = self.render(image, source, target, config, **levels)
            result.timings["completion"] = completed.timings["total"]
            return result, completed.image
        started = time.perf_counter()
        scales = (size[0] / image.shape[1], size[1] / image.shape[0])
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        result, completed = self.render(
            small, to_reduced(source, scales), to_reduced(target, scales), config, **levels
        )
        gain = np.exp(completed.shading)
        shaded = cv2.multiply(result.image, cv2.merge([gain, gain, gain]), dtype=cv2.CV_8U)
        painted = completed.mouth_alpha
        if completed.lid_alpha is not None:
            painted = np.maximum(painted, completed.lid_alpha)
        carried = time.perf_counter()
        out = apply_at_full_resolution(
            image, result.flow, completed.shading, shaded, completed.image, painted
        )
        result.timings["completion"] = completed.timings["total"]
        result.timings["full_resolution"] = 1000 * (time.perf_counter() - carried)
        result.timings["reduced_total"] = 1000 * (time.perf_counter() - started)
        logger.debug(
            "edited a %dx%d face region on a %dx%d view", image.shape[1], image.shape[0], size[0], size[1]
        )
        return result, out

    def plausible_target(
        self, face: Face, weights: Mapping[str, float], notes: list[str] | None = None
    ) -> tuple[np.ndarray, float]:
        """Target landmarks of ``weights`` with smooth brows, the ADDED expression scaled back into the
        plausible range.

        Taking away what the photo shows (negative weights, bounded by what was measured) is always
        plausible: the check applies to what is added, measured from the face with that taken away.
        Returns (target (478, 3), the fraction of the added motion kept); a note when scaled back.
        """
        adding, removing = _split(weights)
        base = np.asarray(face.landmarks, np.float64)
        if removing:
            base = base + landmark_motion(face.landmarks, removing, self.basis)
        moved = base + landmark_motion(face.landmarks, adding, self.basis)
        full = keep_lip_order(face.landmarks, keep_brow_shapes(face.landmarks, moved))
        motion = full - base
        fraction, violated = plausible_fraction(base, motion)
        if fraction < 1.0 and notes is not None:
            features = ", ".join(name.replace("_", " ") for name in sorted(violated))
            notes.append(
                f"Held the expression at {fraction:.0%} of what was asked: beyond it the {features} would "
                "move further than a face can."
            )
        return base + fraction * motion, fraction

    def lip_raise_level(self, weights: Mapping[str, float]) -> float:
        """Upper-lip raise beyond what the smile in ``weights`` brings, in units of the typical smile's."""
        raised = _share_of_typical_smile({n: max(w, 0.0) for n, w in weights.items()}, "mouthUpperUp")
        return max(raised - max(self.smile_level(weights), 0.0), 0.0)

    def smile_level(self, weights: Mapping[str, float]) -> float:
        """How much of a typical real smile ``weights`` hold (1 = happy at strength 1; negative: removed)."""
        return _share_of_typical_smile(weights, "mouthSmile")

    def _frames(
        self,
        image: np.ndarray,
        face: Face,
        detail: tuple[float, float],
        target: np.ndarray,
        config: WarpConfig,
        steps: int,
        preview_side: int,
    ) -> tuple[np.ndarray, ...]:
        """K previews at i/K of the motion, rendered on a downscaled copy (they are for viewing)."""
        if steps < 1:
            return ()
        height, width = image.shape[:2]
        factor = min(1.0, preview_side / max(height, width))
        small = (
            image
            if factor == 1.0
            else cv2.resize(
                image, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA
            )
        )
        source = face.landmarks[:, :2] * factor
        motion = (target[:, :2] - face.landmarks[:, :2]) * factor
        smile, lip_raise = detail  # the completion's smile and lip-raise levels at the full edit
        frames = []
        for i in range(1, steps + 1):
            fraction = i / steps
            moved = source + motion * fraction
            frames.append(
                self.render(
                    small, source, moved, config, smile=smile * fraction, lip_raise=lip_raise * fraction
                )[1].image
            )
        return tuple(frames)

    def warp_config_for(self, face: Face) -> WarpConfig:
        """The warp settings with eyelid motion scaled to this person's eye opening."""
        ratio = _eye_opening(face.landmarks) / self._basis_eye_opening
        eyelid_scale = float(np.clip(ratio, *EYELID_SCALE_RANGE))
        if abs(eyelid_scale - self.config.eyelid_scale) < 1e-3:
            return self.config
        return replace(self.config, eyelid_scale=eyelid_scale)


def _split(weights: Mapping[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """(adding, removing): the positive weights and the negative ones."""
    return {n: w for n, w in weights.items() if w > 0}, {n: w for n, w in weights.items() if w < 0}


def _share_of_typical_smile(weights: Mapping[str, float], prefix: str) -> float:
    """Sum of the ``prefix`` shapes (both sides) in ``weights`` over their sum in happy at strength 1."""
    reference = prototype("happy")
    names = [n for n in reference if n.startswith(prefix)]
    typical = sum(reference[n] for n in names)
    return float(sum(weights.get(n, 0.0) for n in names) / typical) if typical > 0 else 0.0


def _suppression(measured: Mapping[str, float], names: Sequence[str], amount: float) -> dict[str, float]:
    """Weights that take back ``amount`` (0..1) of the measured blendshapes ``names``."""
    amount = min(amount, 1.0)
    return {name: -amount * measured.get(name, 0.0) for name in names if measured.get(name, 0.0) > 0.05}


def _expression_shapes(measured: Mapping[str, float]) -> list[str]:
    return [name for name in measured if name != "_neutral" and not name.startswith(GAZE_PREFIX)]


def _eye_opening(landmarks: np.ndarray) -> float:
    """Mean eye opening (lid-to-lid height over eye width) of both eyes."""
    indices = face_mesh_indices()
    openings = []
    for upper, lower in (
        (indices.right_eye_upper, indices.right_eye_lower),
        (indices.left_eye_upper, indices.left_eye_lower),
    ):
        up, low = landmarks[list(upper), :2], landmarks[list(lower), :2]
        width = np.linalg.norm(up[0] - up[-1])
        middle = slice(len(upper) // 3, 2 * len(upper) // 3 + 1)
        openings.append(np.linalg.norm(up[middle] - low[middle], axis=1).mean() / max(width, 1e-6))
    return float(np.mean(openings))
