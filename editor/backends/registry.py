"""Which backend edits which attribute: an ordered list of backends, first match wins."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from editor import vocabulary as vocab
from editor.backends.base import Backend, refusal
from editor.errors import ConfigError
from editor.requests import EditRequest

if TYPE_CHECKING:
    from editor.latent.config import LatentConfig

logger = logging.getLogger(__name__)


#: What ``facechat edit --backend``, the app's sidebar and ``Assistant(backend=...)`` choose from.
BACKEND_CHOICES: tuple[str, ...] = ("auto", "geometry", "appearance", "latent", "fvae")


class BackendRegistry:
    """Routes each request to the first registered backend that supports its attribute.

    Args:
        backends: in order of preference.
        missing: a sentence saying what would enable the attributes no backend here supports (added
            to the editor's "I can't do that" replies), or "".
    """

    def __init__(self, backends: Iterable[Backend] = (), *, missing: str = "") -> None:
        self._backends: list[Backend] = list(backends)
        self.missing = missing

    def register(self, backend: Backend, *, first: bool = False) -> None:
        """Add a backend (at the front when ``first``, to take precedence)."""
        if first:
            self._backends.insert(0, backend)
        else:
            self._backends.append(backend)

    @property
    def backends(self) -> tuple[Backend, ...]:
        return tuple(self._backends)

    def route(self, attribute: str) -> Backend | None:
        """The backend for ``attribute``, or None when no installed backend supports it."""
        return next((b for b in self._backends if b.supports(attribute)), None)

    def route_request(self, request: EditRequest) -> Backend | None:
        """The first backend that supports ``request``'s attribute and does not refuse the request
        (so "remove her glasses" passes over the appearance backend, which only draws them)."""
        supporting = (b for b in self._backends if b.supports(request.attribute))
        return next((b for b in supporting if not refusal(b, request)), None)

    def refusal(self, request: EditRequest) -> str | None:
        """Why no backend here takes ``request`` although one supports its attribute, or None."""
        if self.route_request(request) is not None:
            return None
        supporting = (b for b in self._backends if b.supports(request.attribute))
        return next((r for b in supporting if (r := refusal(b, request))), None)

    def group(
        self, requests: Sequence[EditRequest]
    ) -> tuple[list[tuple[Backend, list[EditRequest]]], list[EditRequest]]:
        """Split requests into (backend, its requests) groups in backend order, plus the unsupported
        (no backend supports the attribute, or every one that does refuses the request)."""
        groups: dict[str, tuple[Backend, list[EditRequest]]] = {}
        unsupported: list[EditRequest] = []
        for request in requests:
            backend = self.route_request(request)
            if backend is None:
                unsupported.append(request)
            else:
                groups.setdefault(backend.name, (backend, []))[1].append(request)
        order = {b.name: i for i, b in enumerate(self._backends)}
        return sorted(groups.values(), key=lambda g: order[g[0].name]), unsupported


def default_registry() -> BackendRegistry:
    """The backends installed in this build, best first (`build_registry` with ``"auto"``)."""
    return build_registry("auto")


def build_registry(choice: str = "auto", *, latent: LatentConfig | None = None) -> BackendRegistry:
    """The registry for a backend ``choice`` (one of `BACKEND_CHOICES`).

    - ``"auto"``: the built-in backends, expression (the Flow VAE for the attributes its benchmark routed
      to it, editor/data/fvae/routing.json; geometry for the rest) before appearance, so a turn with both
      renders the expression first and recolours the warped result (a lipstick follows the lips to where
      the smile put them); then, when a latent model is configured, the latent backend for the
      appearance attributes no built-in backend supports (glasses, age, beard, hair style).
    - ``"geometry"``, ``"appearance"``, ``"fvae"``: that backend alone.
    - ``"latent"``: the latent backend alone, for every attribute it has a prompt for (expressions too).

    Args:
        latent: the latent backend's configuration (default: `LatentConfig.from_env`, i.e.
            ``FACECHAT_LATENT_MODEL``). Without a model the latent backend is absent, and the registry's
            `missing` sentence says how to configure one.

    Raises:
        ConfigError: an unknown choice, or a configured latent model folder that is not usable.
    """
    from editor.latent.config import ENABLE_HINT, LatentConfig

    if choice not in BACKEND_CHOICES:
        raise ConfigError(f"Unknown backend {choice!r}; choose one of: {', '.join(BACKEND_CHOICES)}.")
    config = latent if latent is not None else LatentConfig.from_env()
    if choice == "geometry":
        from editor.backends.geometry import GeometryBackend

        return BackendRegistry([GeometryBackend()])
    if choice == "appearance":
        from editor.appearance import AppearanceBackend

        return BackendRegistry([AppearanceBackend()])
    if choice == "fvae":
        from editor.backends.fvae import FVAEBackend

        return BackendRegistry([FVAEBackend()])
    if choice == "latent":
        if not config.configured:
            return BackendRegistry([], missing=ENABLE_HINT)
        from editor.latent.backend import LatentBackend

        return BackendRegistry([LatentBackend(config)])
    from editor.appearance import AppearanceBackend
    from editor.backends.fvae import routed_backend
    from editor.backends.geometry import GeometryBackend

    geometry = GeometryBackend()
    fvae = routed_backend(geometry)  # first for the attributes eval.bench_fvae routed to it, if any
    registry = BackendRegistry([*([fvae] if fvae is not None else []), geometry, AppearanceBackend()])
    if not config.configured:
        registry.missing = ENABLE_HINT
        return registry
    from editor.latent.backend import LatentBackend

    appearance = [a.name for a in vocab.ATTRIBUTES if a.family == vocab.APPEARANCE]
    registry.register(LatentBackend(config, attributes=appearance))
    return registry
