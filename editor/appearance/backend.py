"""The appearance backend: region edits on CPU (lipstick, eye colour, tan, makeup, hair colour, glasses,
age, beard).

Each attribute is one effect module (a function ``apply(image, landmarks, strength, value)`` that
returns an `Applied`); the backend applies the requests of a turn one after another on the photo it
is given (the expression backends' output when a turn has both, so expression renders first), then
measures each: the region's size and the colour reached there against the colour asked for.
Pixels outside every region are the input's, bit for bit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

import cv2
import numpy as np

from editor import vocabulary as vocab
from editor.appearance import age, beard, eyes, glasses, hair, lipstick, makeup, tan
from editor.appearance.colour import delta_e, weighted_mean
from editor.appearance.effect import Applied, Refusal
from editor.backends.base import BackendEdit
from editor.face import Face
from editor.images import to_lab
from editor.requests import EditRequest

logger = logging.getLogger(__name__)

Effect = Callable[[np.ndarray, np.ndarray, float, "str | None"], Applied]

#: Attribute -> effect. Attributes missing here stay unsupported (the editor says so).
EFFECTS: MappingProxyType[str, Effect] = MappingProxyType(
    {
        "lipstick": lipstick.apply,
        "eye_color": eyes.apply,
        "hair_color": hair.apply,
        "tan": tan.apply,
        "makeup": makeup.apply,
        "glasses": glasses.apply,
        "age": age.apply,
        "beard": beard.apply,
    }
)

#: Attribute -> why its negative direction is refused (what drawing cannot undo: glasses, beard, makeup).
NEGATIVE_REFUSALS: MappingProxyType[str, str] = MappingProxyType(
    {"glasses": glasses.REMOVAL, "beard": beard.SHAVING, "makeup": makeup.REMOVAL}
)

#: About this many region pixels are read to measure a region's mean colour.
MEASURE_PIXELS = 20_000


class AppearanceBackend:
    """Landmark-region edits of colour and texture, at full resolution, no model weights.

    Args:
        effects: attribute -> effect (default: every effect built so far, `EFFECTS`).
    """

    name = "appearance"

    def __init__(self, *, effects: Mapping[str, Effect] | None = None) -> None:
        self.effects = dict(EFFECTS if effects is None else effects)
        for attribute in self.effects:
            if vocab.family(attribute) != vocab.APPEARANCE:
                raise ValueError(f"{attribute!r} is not an appearance attribute of the vocabulary.")

    def supports(self, attribute: str) -> bool:
        return attribute in self.effects

    def refuses(self, request: EditRequest) -> str | None:
        """The sentence declining ``request`` (removing glasses, a beard or makeup), or None."""
        return NEGATIVE_REFUSALS.get(request.attribute) if request.strength < 0 else None

    def targets(self, request: EditRequest, face: Face) -> dict[str, float]:
        """Appearance edits move no blendshapes (measured by colour instead: see the diagnostics)."""
        return {}

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
        """Apply ``requests`` (strengths times ``scale``) in order; K = ``steps`` previews."""
        started = time.perf_counter()
        current = image
        notes: list[str] = []
        diagnostics: dict[str, float] = {}
        for request in requests:
            strength = request.strength * scale
            try:
                applied = self.effects[request.attribute](current, face.landmarks, strength, request.value)
            except Refusal as refusal:
                notes.append(str(refusal))
                continue
            measures = measure(current, applied)
            diagnostics.update({f"{request.attribute}.{k}": v for k, v in measures.items()})
            notes.extend(applied.notes)
            if (
                request.value is None
                and strength > 0
                and applied.goal is not None
                and vocab.takes_value(request.attribute)
            ):
                label = vocab.attribute(request.attribute).label
                notes.append(f"No colour was named for the {label}, so I used {applied.colour}.")
            current = applied.image
        diagnostics["ms"] = 1000 * (time.perf_counter() - started)
        frames = _frames(image, current, steps, preview_side)
        return BackendEdit(image=current, frames=frames, notes=tuple(notes), diagnostics=diagnostics)


def measure(before: np.ndarray, applied: Applied) -> dict[str, float]:
    """Region size and colour: ``pixels`` (alpha > 0), ``area`` (sum of alpha), and, with a colour
    goal, ``delta_e_before`` / ``delta_e_after`` of the region's mean CIELAB colour to the goal and
    ``delta_e_gain`` (their difference: how far the colour moved toward the goal)."""
    region = applied.region
    support = region.support
    out = {"pixels": float(support), "area": region.area}
    if support == 0:
        return out
    step = max(1, int(np.sqrt(support / MEASURE_PIXELS)))  # a regular subsample suffices for a mean
    weights = region.alpha[::step, ::step]
    mean_before = weighted_mean(to_lab(region.crop(before)[::step, ::step]), weights)
    mean_after = weighted_mean(to_lab(region.crop(applied.image)[::step, ::step]), weights)
    out.update({"L": float(mean_after[0]), "a": float(mean_after[1]), "b": float(mean_after[2]),
                "delta_e_change": delta_e(mean_before, mean_after)})  # fmt: skip
    if applied.goal is not None:
        out["delta_e_before"] = delta_e(mean_before, applied.goal)
        out["delta_e_after"] = delta_e(mean_after, applied.goal)
        out["delta_e_gain"] = out["delta_e_before"] - out["delta_e_after"]
    return out


def _frames(before: np.ndarray, after: np.ndarray, steps: int, preview_side: int) -> tuple[np.ndarray, ...]:
    """K previews blending from ``before`` to ``after`` (an appearance edit fades in)."""
    scale = min(1.0, preview_side / max(before.shape[:2]))
    size = (max(1, round(before.shape[1] * scale)), max(1, round(before.shape[0] * scale)))
    small_before = cv2.resize(before, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    small_after = cv2.resize(after, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    return tuple(
        np.round(small_before + (k / steps) * (small_after - small_before)).astype(np.uint8)
        for k in range(1, steps + 1)
    )
