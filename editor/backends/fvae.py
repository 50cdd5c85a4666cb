"""The Flow VAE backend: expressions as latent-space moves of a trained Flow VAE, rendered as a flow.

Each request becomes a latent direction (`editor.fvae.labels`), all requests of a turn are summed in
latent space (Algorithm 1 of Yeh et al., `editor.fvae.edit`), the decoder predicts a flow on the aligned
128 x 128 crop, and that flow moves the full-resolution photo's own pixels (flow upsampling through the
crop's inverse transform). The warped photo then goes through the SAME completion stage as the geometry
backend's (`GeometryBackend.completion`, one shared instance: mouth interior where the lips part,
expression detail, lash lines): its inputs are the photo-size flow, the crop's feathered mask, the
landmarks before and after (the flow's own motion of each landmark, `editor.fvae.edit.moved_landmarks`)
and the request's smile and lip-raise levels (the geometry backend's reading of the same requests, so
both backends shade a smile of the same strength the same way).

Which attributes it serves by default is decided by the benchmark (`eval.bench_fvae`, written to
editor/data/fvae/routing.json and read by `editor.backends.registry.default_registry`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from editor.alignment import AlignedCrop
from editor.backends.base import BackendEdit
from editor.face import Face
from editor.fvae import shipped_checkpoint
from editor.requests import EditRequest

if TYPE_CHECKING:
    from editor.backends.geometry import GeometryBackend

logger = logging.getLogger(__name__)

#: The benchmark's routing decision, next to the shipped checkpoint.
ROUTING_FILE = "routing.json"


def routed_attributes(folder: str | Path | None = None) -> frozenset[str]:
    """The attributes the benchmark routed to the Flow VAE (``routing.json`` of the checkpoint folder,
    default the shipped one); empty when the file or the checkpoint is missing."""
    folder = Path(folder) if folder is not None else shipped_checkpoint()
    path = folder / ROUTING_FILE
    if not path.is_file() or not (folder / "model.safetensors").is_file():
        return frozenset()
    return frozenset(json.loads(path.read_text())["routed"])


def routed_backend(geometry: GeometryBackend | None = None) -> FVAEBackend | None:
    """The shipped Flow VAE serving only its routed attributes, or None when nothing is routed to it
    (what `editor.backends.registry.default_registry` puts first)."""
    attributes = routed_attributes()
    return FVAEBackend(attributes=attributes, geometry=geometry) if attributes else None


class FVAEBackend:
    """Flow VAE edits for every expression attribute the checkpoint has a direction for.

    Args:
        checkpoint: a folder written by `facechat train-fvae` (default: the shipped editor/data/fvae).
        attributes: serve only these (the benchmark's routing); None: every attribute it has.
        geometry: the geometry backend whose completion stage and smile reading are shared (built
            lazily when None).
    """

    name = "fvae"

    def __init__(
        self,
        checkpoint: str | Path | None = None,
        *,
        attributes: Iterable[str] | None = None,
        geometry: GeometryBackend | None = None,
    ) -> None:
        from editor.fvae.edit import FlowEditor

        self.editor = FlowEditor.from_pretrained(checkpoint)
        self.attributes = None if attributes is None else frozenset(attributes)
        self._geometry = geometry

    @property
    def geometry(self) -> GeometryBackend:
        """The geometry backend this one shares its completion stage and smile reading with."""
        if self._geometry is None:
            from editor.backends.geometry import GeometryBackend

            self._geometry = GeometryBackend()
        return self._geometry

    def supports(self, attribute: str) -> bool:
        if self.attributes is not None and attribute not in self.attributes:
            return False
        return self.editor.supports(attribute)

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
        """Render all ``requests`` at once from the original photo; K = ``steps`` preview frames."""
        clock = time.perf_counter()
        editor = self.editor
        crop = editor.align(image, face)
        flows = editor.edit_flows(crop.image, requests, steps=max(steps, 1), scale=scale)
        network_ms = 1000 * (time.perf_counter() - clock)
        weights = self.geometry.weights(face, requests, scale)
        detail = (self.geometry.smile_level(weights), self.geometry.lip_raise_level(weights))
        edited, completion_ms = self._render(image, face.landmarks, crop, flows[-1], detail)
        frames: tuple[np.ndarray, ...] = ()
        if steps:
            small, factor, small_crop = editor.preview_copy(image, face, preview_side)
            landmarks = face.landmarks * np.array([factor, factor, factor], np.float32)
            frames = tuple(
                self._render(
                    small, landmarks, small_crop, flow, (detail[0] * i / steps, detail[1] * i / steps)
                )[0]
                for i, flow in enumerate(flows[:steps], 1)
            )
        return BackendEdit(
            image=edited,
            frames=frames,
            diagnostics={
                "ms": 1000 * (time.perf_counter() - clock),
                "network_ms": network_ms,
                "completion_ms": completion_ms,
            },
        )

    def _render(
        self,
        image: np.ndarray,
        landmarks: np.ndarray,
        crop: AlignedCrop,
        crop_flow: np.ndarray,
        detail: tuple[float, float],
    ) -> tuple[np.ndarray, float]:
        """Warp ``image`` by a crop flow and complete it: (completed image, completion ms)."""
        from editor.fvae.edit import moved_landmarks, warp_photo

        warped = warp_photo(image, crop, crop_flow, self.editor.border_mask)
        target = moved_landmarks(landmarks, warped.flow)
        completed = self.geometry.completion.complete(
            warped.image,
            image,
            landmarks,
            target,
            warped.flow,
            warped.mask,
            smile=detail[0],
            lip_raise=detail[1],
        )
        return completed.image, completed.timings["total"]

    def targets(self, request: EditRequest, face: Face) -> dict[str, float]:
        """Blendshapes the request should move: the expression prototypes' (the same recipes labelled
        the synthetic training pairs), so both backends are measured against the same expectation."""
        return self.geometry.targets(request, face)
