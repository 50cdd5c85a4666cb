"""Routing requests to backends."""

from __future__ import annotations

from editor.backends import Backend, BackendRegistry
from editor.requests import EditRequest


class _Named:
    """A minimal backend that supports a fixed set of attributes (routing is all that is tested)."""

    def __init__(self, name: str, attributes: set[str]) -> None:
        self.name, self._attributes = name, attributes

    def supports(self, attribute: str) -> bool:
        return attribute in self._attributes

    def edit(self, image, face, requests, *, scale=1.0, steps=5, preview_side=512):  # pragma: no cover
        raise NotImplementedError

    def targets(self, request, face):  # pragma: no cover
        return {}


def test_first_supporting_backend_wins_and_unsupported_are_returned():
    flow = _Named("flow", {"happy"})
    geometry = _Named("geometry", {"happy", "brow_raise"})
    registry = BackendRegistry([flow, geometry])
    assert isinstance(flow, Backend)
    assert registry.route("happy") is flow and registry.route("brow_raise") is geometry
    assert registry.route("glasses") is None
    requests = [
        EditRequest(attribute="brow_raise", strength=0.5),
        EditRequest(attribute="glasses", strength=0.7),
        EditRequest(attribute="happy", strength=0.7),
    ]
    groups, unsupported = registry.group(requests)
    assert [(b.name, [r.attribute for r in rs]) for b, rs in groups] == [
        ("flow", ["happy"]),
        ("geometry", ["brow_raise"]),
    ]
    assert [r.attribute for r in unsupported] == ["glasses"]


def test_register_first_takes_precedence():
    registry = BackendRegistry([_Named("geometry", {"happy"})])
    registry.register(_Named("fvae", {"happy"}), first=True)
    assert registry.route("happy").name == "fvae"


def test_a_backend_that_refuses_a_request_passes_it_on_or_explains_why():
    class Drawer(_Named):
        def refuses(self, request):
            return "I can't remove glasses." if request.strength < 0 else None

    drawer, painter = Drawer("appearance", {"glasses"}), _Named("latent", {"glasses"})
    put_on, take_off = (
        EditRequest(attribute="glasses", strength=0.7),
        EditRequest(attribute="glasses", strength=-0.7),
    )
    assert BackendRegistry([drawer, painter]).route_request(put_on) is drawer
    assert BackendRegistry([drawer, painter]).route_request(take_off) is painter
    alone = BackendRegistry([drawer])
    groups, unsupported = alone.group([put_on.model_copy(), take_off])
    assert [r.strength for r in unsupported] == [-0.7] and alone.refusal(
        take_off
    ) == "I can't remove glasses."
    assert alone.refusal(put_on) is None
