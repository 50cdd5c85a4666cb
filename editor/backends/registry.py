"""Which backend edits which attribute: an ordered list of backends, first match wins."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from editor.backends.base import Backend
from editor.requests import EditRequest

logger = logging.getLogger(__name__)


class BackendRegistry:
    """Routes each request to the first registered backend that supports its attribute.

    Args:
        backends: in order of preference.
    """

    def __init__(self, backends: Iterable[Backend] = ()) -> None:
        self._backends: list[Backend] = list(backends)

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

    def group(
        self, requests: Sequence[EditRequest]
    ) -> tuple[list[tuple[Backend, list[EditRequest]]], list[EditRequest]]:
        """Split requests into (backend, its requests) groups in backend order, plus the unsupported."""
        groups: dict[str, tuple[Backend, list[EditRequest]]] = {}
        unsupported: list[EditRequest] = []
        for request in requests:
            backend = self.route(request.attribute)
            if backend is None:
                unsupported.append(request)
            else:
                groups.setdefault(backend.name, (backend, []))[1].append(request)
        order = {b.name: i for i, b in enumerate(self._backends)}
        return sorted(groups.values(), key=lambda g: order[g[0].name]), unsupported


def default_registry() -> BackendRegistry:
    """The backends installed in this build, best first.

    Expression backends come before the appearance backend, so a turn with both renders the expression
    first and recolours the warped result (a lipstick follows the lips to where the smile put them).
    """
    from editor.appearance import AppearanceBackend
    from editor.backends.geometry import GeometryBackend

    return BackendRegistry([GeometryBackend(), AppearanceBackend()])
