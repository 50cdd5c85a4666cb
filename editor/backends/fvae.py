"""The Flow VAE backend: expressions as latent-space moves of a trained Flow VAE, rendered as a flow.

Each request becomes a latent direction (`editor.fvae.labels`), all requests of a turn are summed in
latent space (Algorithm 1 of Yeh et al., `editor.fvae.edit`), the decoder predicts a flow on the aligned
128 x 128 crop, and that flow moves the full-resolution photo's own pixels (flow upsampling through the
crop's inverse transform). Not registered by default: the benchmark (eval/bench_fvae.py) decides.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from editor.backends.base import BackendEdit
from editor.face import Face
from editor.requests import EditRequest

logger = logging.getLogger(__name__)


class FVAEBackend:
    """Flow VAE edits for every expression attribute the checkpoint has a direction for.

    Args:
        checkpoint: a folder written by `facechat train-fvae` (default: the shipped editor/data/fvae).
    """

    name = "fvae"

    def __init__(self, checkpoint: str | Path | None = None) -> None:
        from editor.fvae.edit import FlowEditor

        self.editor = FlowEditor.from_pretrained(checkpoint)
        self._geometry = None

    def supports(self, attribute: str) -> bool:
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
        edited, frames, timings = self.editor.edit(
            image,
            face,
            requests,
            steps=max(steps, 1),
            scale=scale,
            preview_side=preview_side if steps else None,
        )
        return BackendEdit(
            image=edited,
            frames=tuple(frames[:steps]) if steps else (),
            diagnostics={
                "ms": timings["total"],
                **{f"{k}_ms": v for k, v in timings.items() if k != "total"},
            },
        )

    def targets(self, request: EditRequest, face: Face) -> dict[str, float]:
        """Blendshapes the request should move: the expression prototypes' (the same recipes labelled
        the synthetic training pairs), so both backends are measured against the same expectation."""
        if self._geometry is None:
            from editor.backends.geometry import GeometryBackend

            self._geometry = GeometryBackend()
        return self._geometry.targets(request, face)
