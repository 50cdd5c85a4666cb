"""Recompute a run's figures from the photos it saved, and compare them with its metrics.json.

    python -m eval rescore OUT_FOLDER

Every turn's original, edited photo (and reference photo, when one was used) are read back from
``OUT_FOLDER/images`` and measured again by `eval.measure.Measurer`; the largest difference from the
stored figures is reported per figure. The report's promise, "every number is recomputable from the
photos it shows", holds when every difference is (close to) zero.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from editor.errors import FacechatError
from editor.images import load_image
from eval.measure import Measurer

#: Figures of `eval.measure.EditMeasure` compared.
FIGURES = (
    "identity",
    "lpips_outside",
    "changed_fraction",
    "psnr_db",
    "ssim",
    "reference_landmarks_edit",
    "reference_landmarks_original",
    "reference_lpips_edit",
    "reference_lpips_original",
)


@dataclass
class RescoreResult:
    """Largest absolute difference per figure, and the number of turns re-measured."""

    turns: int = 0
    differences: dict[str, float] = field(default_factory=dict)

    def worst(self) -> float:
        return max(self.differences.values(), default=0.0)


def rescore(out: Path, editor=None, *, limit: int | None = None) -> RescoreResult:
    """Re-measure the turns of the run in ``out`` (at most ``limit`` of them)."""
    from assistant.session import shared_editor

    path = Path(out) / "metrics.json"
    if not path.is_file():
        raise FacechatError(f"No metrics.json in {out}; give the --out folder of a `python -m eval run`.")
    data = json.loads(path.read_text(encoding="utf-8"))
    measurer = Measurer(editor or shared_editor())
    result = RescoreResult()
    for turn in data["turns"][:limit]:
        files = turn["files"]
        original = load_image(Path(out) / files["original"])
        edited = load_image(Path(out) / files["after"])
        reference = load_image(Path(out) / files["reference"]) if files.get("reference") else None
        after, measure = measurer.edit(original, edited, reference=reference)
        fresh = measure.as_dict()
        for name in FIGURES:
            _compare(result, name, turn["measure"].get(name), fresh.get(name))
        for name, value in after.blendshapes.items():
            _compare(result, "blendshapes", turn["blendshapes_after"].get(name), value)
        for name, value in (after.emotion or {}).items():
            _compare(result, "emotion", (turn["emotion_after"] or {}).get(name), value)
        result.turns += 1
    return result


def _compare(result: RescoreResult, name: str, stored, fresh) -> None:
    if stored is None and (fresh is None or (isinstance(fresh, float) and not math.isfinite(fresh))):
        difference = 0.0
    elif stored is None or fresh is None:
        difference = math.inf
    else:
        difference = abs(float(stored) - float(fresh))
    result.differences[name] = max(result.differences.get(name, 0.0), difference)
