"""The backend protocol: what every editing backend (geometry, Flow VAE, latent) implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from editor.face import Face
from editor.identity import IdentityResult
from editor.requests import EditRequest


@dataclass(frozen=True)
class BackendEdit:
    """One backend's rendering of a set of requests.

    Attributes:
        image: (H, W, 3) uint8 RGB edited photo at the input's full resolution.
        frames: K previews (h, w, 3) uint8 of the intermediate steps 1/K .. K/K, at preview size.
        notes: caveats for the person ("the mouth opening was capped ...").
        diagnostics: numbers worth logging or reporting (e.g. "fold_fraction").
        identity: the backend's own identity verdict, for backends that check their samples (latent);
            when it says "different person" the editor's identity gate takes it as its verdict.
    """

    image: np.ndarray
    frames: tuple[np.ndarray, ...] = ()
    notes: tuple[str, ...] = ()
    diagnostics: Mapping[str, float] = field(default_factory=dict)
    identity: IdentityResult | None = None


@runtime_checkable
class Backend(Protocol):
    """An editing backend.

    ``edit`` renders ALL the given requests at once from the original photo (requests compose inside
    the backend, e.g. in blendshape or latent space), scaled by ``scale`` (the identity gate's back-off
    factor, 1.0 = as requested).
    """

    name: str

    def supports(self, attribute: str) -> bool:
        """Whether this backend can edit ``attribute`` (a vocabulary name)."""
        ...

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
        """Render ``requests`` on ``image`` (whose analysed face is ``face``)."""
        ...

    def targets(self, request: EditRequest, face: Face) -> dict[str, float]:
        """Blendshapes the request should move, name -> expected sign (+1 rise, -1 fall)."""
        ...


def refusal(backend: Backend, request: EditRequest) -> str | None:
    """The sentence with which ``backend`` declines ``request`` although it supports its attribute
    (e.g. removing glasses: the appearance backend draws glasses but cannot take them off), or None.

    Backends may define ``refuses(request) -> str | None``; those that do not refuse nothing.
    """
    refuses = getattr(backend, "refuses", None)
    return refuses(request) if refuses is not None else None
