"""Benchmark expression edits on held-out people: does each edit read as the emotion, is the person kept.

Usage::

    python -m eval.bench_expressions --london ../shared/data/london --canada ../shared/data/canada
        [--limit N] [--strengths 0.3 0.7 1.0] [--emotions happy sad angry surprised fearful disgusted]
        [--out runs/bench_expressions]

Only people held out from every calibration are used: the London people listed as ``test_ids`` in
``editor/data/happy_calibration.json`` (neutral/ID.jpg and smiling/ID.jpg, 1350x1350) and every Canada
person (ID.jpg, neutral only, 1350x1800). Each neutral photo is edited through the product path,
``Editor().render(photo, [EditRequest(attribute, strength)], steps=0)`` (identity gate included, no
preview frames), at full resolution. Per emotion x strength:

- ``read``: share of faces whose top label by fer's FER2013 classifier (`eval.metrics.emotion`) is the
  target emotion; ``p``: median probability of the target; ``rose``: share where that probability rose
  against the unedited photo (for ``disgusted`` also the share where p(disgust) + p(angry) rose, the
  classifier's usual confusion);
- ``identity``: SFace similarity of the edit to the original (median, min, share at or above the
  calibrated threshold), over the edits the gate let through;
- ``motion``: the edited photo re-analysed by FaceLandmarker, its landmarks aligned to the original's on
  rigid points (`align_to`), mean displacement of the 40 landmarks that moved most, inter-iris units;
- ``lost``: edits after which no face was found; ``gated``: edits the identity gate backed off.

Baselines on the same people: the classifier on the real smiles and on the unedited photos, and the
real smile's SFace similarity to its neutral twin. For ``happy`` on London, the edit is compared with the
person's real smile: LPIPS between face crops (face box x1.3, 256x256, the same box for all photos; the
real smile first moved onto the neutral photo by a similarity on the rigid landmarks, so LPIPS sees the
expression rather than how the head sat in the other photo; the unaligned figures are in the JSON),
landmark error after rigid alignment (`smile_error`), and the direction cosine and size ratio of the
blendshape change (edited - neutral vs real smile - neutral, 51 expression blendshapes). LPIPS is mostly
the two sittings' difference (hair, light, the head's exact pose), which no expression edit may touch, so
each LPIPS figure has an ORACLE beside it: the neutral photo with the aligned real smile's face pasted in
(`oracle_photo`: the face oval, feathered). It is a bound, not a target: its face is the smile photo's own
pixels, so it also wins what no edit can know (that sitting's skin shine, micro-pose, stray hairs over
the face). "Gap closed" is the per-person share (unedited - edited) / (unedited - oracle) of that distance.
A second bound is the renderer's own: each person's real smile re-created on their neutral photo by
expression transfer (`own_smile_transfer`: the smile's measured blendshapes through the same warp and
completion stage). What it does not win, no recipe rendered this way can.

Timing: median wall time of one ``render`` call (photo already analysed; the first edit is left out as
warm-up), overall and for the 1350x1350 London photos. Writes ``bench_expressions.json`` and two montage
JPEGs to ``--out`` and prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from editor import vocabulary as vocab
from editor.alignment import umeyama
from editor.appearance.regions import face_oval_mask
from editor.backends.geometry import GeometryBackend
from editor.editor import Editor
from editor.errors import NoFaceError
from editor.face import Face
from editor.geometry import prototypes
from editor.geometry.calibrate_happy import align_to, inter_iris, smile_error
from editor.geometry.motion import RIGID_POINTS
from editor.images import load_image, save_image
from editor.landmark_indices import CHIN, face_mesh_indices
from editor.requests import EditRequest
from editor.transfer.reference import reference_expression
from eval.metrics.emotion import EMOTION_CLASSES, EMOTION_LABELS, shared_classifier

logger = logging.getLogger(__name__)

#: Landmarks averaged for the targeted motion: the ones that moved most.
TOP_MOVED = 40
#: Face box enlargement of the LPIPS crop, and its side.
LPIPS_ENLARGE, LPIPS_SIDE = 1.3, 256
#: The lower-face LPIPS crop (where a smile lives: cheeks, folds, mouth, chin), resized to this width.
LOWER_FACE_WIDTH = 224
#: Its top, above the nose tip, and its bottom, below the chin, in inter-iris distances.
LOWER_FACE_ABOVE_NOSE, LOWER_FACE_BELOW_CHIN = 0.25, 0.15
NOSE_TIP = 1
#: Face box enlargement of the montage tiles, and their side.
MONTAGE_ENLARGE, MONTAGE_SIDE = 1.5, 256
MONTAGE_PEOPLE = 6
#: Feather (Gaussian sigma) of the oracle's pasted face oval, in inter-iris distances.
ORACLE_FEATHER = 0.08
#: Reachable LPIPS distance (unedited - oracle) under which "gap closed" is not defined for a person.
MIN_GAP = 0.005


# ---------------------------------------------------------------------- pure helpers


def median(values: Iterable[float | None]) -> float | None:
    """Median of the values that are not None; None when there are none."""
    kept = [float(v) for v in values if v is not None]
    return float(statistics.median(kept)) if kept else None


def share(flags: Iterable[bool | None]) -> float | None:
    """Fraction of True among the flags that are not None; None when there are none."""
    kept = [bool(f) for f in flags if f is not None]
    return float(np.mean(kept)) if kept else None


def warm_median(times_ms: Sequence[float], skip: int = 1) -> float | None:
    """Median of ``times_ms`` without its first ``skip`` entries (warm-up); None when nothing is left."""
    return median(times_ms[skip:])


def label_shares(labels: Sequence[str], classes: Sequence[str] = EMOTION_LABELS) -> dict[str, float | None]:
    """``{class: share of labels equal to it}`` for every class (None for every class with no labels)."""
    if not labels:
        return {c: None for c in classes}
    return {c: sum(label == c for label in labels) / len(labels) for c in classes}


def crop_box(box: Sequence[float], image_shape: Sequence[int], enlarge: float) -> tuple[int, int, int, int]:
    """Square crop (x0, y0, x1, y1) around face ``box`` (x, y, w, h), its larger side times ``enlarge``.

    The square is moved inside the image when it sticks out, and cut to the image only when it is larger
    than the image, so the same box can crop several photos of one size.
    """
    x, y, w, h = (float(v) for v in box)
    height, width = int(image_shape[0]), int(image_shape[1])
    side = max(1, round(enlarge * max(w, h)))
    cx, cy = x + w / 2, y + h / 2
    x0 = int(round(min(max(cx - side / 2, 0), max(width - side, 0))))
    y0 = int(round(min(max(cy - side / 2, 0), max(height - side, 0))))
    return x0, y0, min(x0 + side, width), min(y0 + side, height)


def lower_face_box(landmarks: np.ndarray, image_shape: Sequence[int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the face oval's width, from just above the nose tip to just below the chin."""
    points = np.asarray(landmarks, np.float64)[:, :2]  # (478, 2) pixels
    oval = points[list(face_mesh_indices().face_oval)]
    unit = inter_iris(points)
    height, width = int(image_shape[0]), int(image_shape[1])
    x0, x1 = max(int(oval[:, 0].min()), 0), min(int(np.ceil(oval[:, 0].max())), width)
    y0 = max(int(points[NOSE_TIP, 1] - LOWER_FACE_ABOVE_NOSE * unit), 0)
    y1 = min(int(np.ceil(points[CHIN, 1] + LOWER_FACE_BELOW_CHIN * unit)), height)
    return x0, y0, x1, y1


def oracle_photo(neutral: np.ndarray, landmarks: np.ndarray, smile: np.ndarray) -> np.ndarray:
    """``neutral`` with ``smile`` (the real smile already aligned onto it) inside the face oval of
    ``landmarks`` (the neutral photo's), feathered by `ORACLE_FEATHER`: an edit that got the face exactly
    right and left everything else alone, as expression edits must."""
    feather = max(ORACLE_FEATHER * inter_iris(np.asarray(landmarks, np.float64)), 0.5)
    mask = face_oval_mask(landmarks, neutral.shape[:2], feather=feather).full()[..., None]  # (H, W, 1)
    mixed = mask * smile.astype(np.float32) + (1.0 - mask) * neutral.astype(np.float32)  # (H, W, 3)
    return np.clip(np.round(mixed), 0, 255).astype(np.uint8)


def gap_closed(edited: float | None, unedited: float | None, oracle: float | None) -> float | None:
    """(unedited - edited) / (unedited - oracle): the share of the distance a face-only edit can win that
    this edit won (1 = as close as the oracle, 0 = no closer than no edit, < 0 = further); None when a
    figure is missing or the oracle is less than `MIN_GAP` closer than no edit."""
    if edited is None or unedited is None or oracle is None or unedited - oracle < MIN_GAP:
        return None
    return (unedited - edited) / (unedited - oracle)


def crop_width(image: np.ndarray, box: tuple[int, int, int, int], width: int) -> np.ndarray:
    """``image[y0:y1, x0:x1]`` resized to ``width`` wide, its aspect kept (area interpolation)."""
    x0, y0, x1, y1 = box
    height = max(1, round(width * (y1 - y0) / max(x1 - x0, 1)))
    return cv2.resize(image[y0:y1, x0:x1], (width, height), interpolation=cv2.INTER_AREA)


def crop_resize(image: np.ndarray, box: tuple[int, int, int, int], side: int) -> np.ndarray:
    """``image[y0:y1, x0:x1]`` resized to ``side`` x ``side`` (area interpolation)."""
    x0, y0, x1, y1 = box
    return cv2.resize(image[y0:y1, x0:x1], (side, side), interpolation=cv2.INTER_AREA)


def top_motion(reference: np.ndarray, aligned: np.ndarray, unit: float, count: int = TOP_MOVED) -> float:
    """Mean 2D displacement of the ``count`` landmarks that moved most from ``reference`` to ``aligned``,
    divided by ``unit`` (the reference's inter-iris distance)."""
    moved = np.linalg.norm(np.asarray(aligned)[:, :2] - np.asarray(reference)[:, :2], axis=1)
    return float(np.sort(moved)[-count:].mean() / unit)


def blendshape_change(
    neutral: Mapping[str, float], edited: Mapping[str, float], real: Mapping[str, float]
) -> tuple[float | None, float | None]:
    """(direction cosine, size ratio) of the change neutral -> edited against neutral -> real.

    Over the blendshapes of ``neutral`` except "_neutral" (missing ones count as 0). The size ratio is
    |edited - neutral| / |real - neutral|. Either is None when a change it needs is zero.
    """
    names = [n for n in neutral if n != "_neutral"]
    base = np.array([neutral[n] for n in names], dtype=np.float64)
    ours = np.array([edited.get(n, 0.0) for n in names], dtype=np.float64) - base
    theirs = np.array([real.get(n, 0.0) for n in names], dtype=np.float64) - base
    ours_norm, theirs_norm = float(np.linalg.norm(ours)), float(np.linalg.norm(theirs))
    if theirs_norm == 0.0:
        return None, None
    ratio = ours_norm / theirs_norm
    if ours_norm == 0.0:
        return None, ratio
    return float(ours @ theirs / (ours_norm * theirs_norm)), ratio


def interleave(*groups: Sequence[str]) -> list[str]:
    """The groups' items taken in turn: interleave([a1, a2, a3], [b1]) -> [a1, b1, a2, a3]."""
    out: list[str] = []
    for i in range(max((len(g) for g in groups), default=0)):
        out.extend(g[i] for g in groups if i < len(g))
    return out


@dataclass
class EditRow:
    """What one edit of one photo measured (None: not measurable, e.g. the face was lost)."""

    person: str
    dataset: str
    probabilities: dict[str, float]  #: the classifier on the edited photo
    before: dict[str, float]  #: the classifier on the unedited photo
    identity: float | None = None
    same_person: bool | None = None
    motion: float | None = None
    lost_face: bool = False  #: no face found on the edit (at every strength the gate tried)
    unchanged: bool = False  #: the identity gate left the photo as it was
    scale: float = 1.0  #: fraction of the strength the gate applied
    after_landmarks: np.ndarray | None = field(default=None, repr=False)  #: aligned to the original
    after_blendshapes: dict[str, float] | None = field(default=None, repr=False)


def summarise(rows: Sequence[EditRow], target: str) -> dict:
    """Figures of one emotion x strength over ``rows``; ``target`` is the classifier's class name."""
    top = [max(r.probabilities, key=r.probabilities.__getitem__) for r in rows]
    applied = [r for r in rows if not r.unchanged and not r.lost_face]
    summary = {
        "faces": len(rows),
        "read_as_target": share(label == target for label in top),
        "p_target_median": median(r.probabilities[target] for r in rows),
        "p_target_rose": share(r.probabilities[target] > r.before[target] for r in rows),
        "identity_median": median(r.identity for r in applied),
        "identity_min": min((r.identity for r in applied if r.identity is not None), default=None),
        "same_person": share(r.same_person for r in applied),
        "motion_median": median(r.motion for r in applied),
        "lost_face": sum(r.lost_face for r in rows),
        "unchanged_by_gate": sum(r.unchanged and not r.lost_face for r in rows),
        "backed_off": sum(r.scale < 1.0 for r in rows),
        "scale_median": median(r.scale for r in rows),
        "labels": label_shares(top),
    }
    if target == "disgust":
        summary["p_disgust_rose"] = share(r.probabilities["disgust"] > r.before["disgust"] for r in rows)
        summary["p_disgust_or_angry_rose"] = share(
            r.probabilities["disgust"] + r.probabilities["angry"] > r.before["disgust"] + r.before["angry"]
            for r in rows
        )
    return summary


def summarise_smile_comparison(rows: Sequence[Mapping[str, float | None]]) -> dict:
    """Happy edit vs the real smile, over per-person rows with keys lpips_edited, lpips_unedited (to the
    real smile aligned onto the neutral photo; ``_unaligned`` as photographed), lpips_lower_edited,
    lpips_lower_unedited (the lower face only, aligned), lpips_oracle and lpips_lower_oracle
    (`oracle_photo`), error_edited, error_unedited, cosine, size_ratio (any may be None)."""

    def closer(edited: str, unedited: str) -> float | None:
        return share(
            None if r.get(edited) is None or r.get(unedited) is None else r[edited] < r[unedited]
            for r in rows
        )

    return {
        "people": len(rows),
        "lpips_edited_median": median(r.get("lpips_edited") for r in rows),
        "lpips_unedited_median": median(r.get("lpips_unedited") for r in rows),
        "lpips_closer": closer("lpips_edited", "lpips_unedited"),
        "lpips_oracle_median": median(r.get("lpips_oracle") for r in rows),
        "lpips_gap_closed_median": median(
            gap_closed(r.get("lpips_edited"), r.get("lpips_unedited"), r.get("lpips_oracle")) for r in rows
        ),
        "lpips_lower_edited_median": median(r.get("lpips_lower_edited") for r in rows),
        "lpips_lower_unedited_median": median(r.get("lpips_lower_unedited") for r in rows),
        "lpips_lower_closer": closer("lpips_lower_edited", "lpips_lower_unedited"),
        "lpips_lower_oracle_median": median(r.get("lpips_lower_oracle") for r in rows),
        "lpips_lower_gap_closed_median": median(
            gap_closed(*(r.get(f"lpips_lower_{k}") for k in ("edited", "unedited", "oracle"))) for r in rows
        ),
        "lpips_unaligned_edited_median": median(r.get("lpips_edited_unaligned") for r in rows),
        "lpips_unaligned_unedited_median": median(r.get("lpips_unedited_unaligned") for r in rows),
        "landmark_error_edited_median": median(r.get("error_edited") for r in rows),
        "landmark_error_unedited_median": median(r.get("error_unedited") for r in rows),
        "landmark_closer": closer("error_edited", "error_unedited"),
        "blendshape_cosine_median": median(r.get("cosine") for r in rows),
        "blendshape_size_ratio_median": median(r.get("size_ratio") for r in rows),
    }


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def markdown(report: dict) -> str:
    """The report's figures as markdown tables."""
    timing = report["timing"]
    backend_timing = report.get("backend_timing") or {}
    lines = [
        f"expression edits through Editor.render on {report['people']['total']} held-out people "
        f"({len(report['people']['london'])} London, {len(report['people']['canada'])} Canada); "
        f"emotion by {report['classifier']}; identity by {report['scorer']} "
        f"(threshold {report['threshold']:.3f})",
        f"median warm Editor.render time (edit + identity check + re-analysis) "
        f"{_fmt(timing['edit_ms_median'], '.0f')} ms over {timing['edits_timed']} edits; London 1350x1350 "
        f"{_fmt(timing['edit_ms_median_london'], '.0f')} ms",
        f"the edit alone (warp + completion, 1350x1350, strength 1, warm): median "
        f"{_fmt(backend_timing.get('edit_ms_median'), '.0f')} ms, "
        f"p90 {_fmt(backend_timing.get('edit_ms_p90'), '.0f')} ms, of which completion "
        f"{_fmt(backend_timing.get('completion_ms_median'), '.0f')} ms "
        f"({backend_timing.get('edits_timed', 0)} edits)",
        "",
        "| emotion@strength | faces | read as emotion | median p(emotion) | p rose | identity median | "
        "identity min | same person | motion top-40 (iris units) | face lost | gate backed off |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, s in report["edits"].items():
        s = s["all"]
        rose = _fmt(s["p_target_rose"], ".0%")
        if "p_disgust_or_angry_rose" in s:
            rose += f" (disgust+angry {_fmt(s['p_disgust_or_angry_rose'], '.0%')})"
        lines.append(
            f"| {key} | {s['faces']} | {_fmt(s['read_as_target'], '.0%')} | "
            f"{_fmt(s['p_target_median'], '.3f')} | {rose} | {_fmt(s['identity_median'], '.3f')} | "
            f"{_fmt(s['identity_min'], '.3f')} | {_fmt(s['same_person'], '.0%')} | "
            f"{_fmt(s['motion_median'], '.3f')} | {s['lost_face']} | {s['backed_off']} |"
        )
    base = report["baselines"]
    real = base["real_smile"]
    lines += [
        "",
        f"real smiles (London, {real['people']}): read happy {_fmt(real['read_as_happy'], '.0%')}, "
        f"median p(happy) {_fmt(real['p_happy_median'], '.3f')}, SFace similarity to the neutral twin "
        f"median {_fmt(real['identity_median'], '.3f')}",
        "",
        "| unedited photos | people | " + " | ".join(EMOTION_LABELS) + " |",
        "|---|---|" + "---|" * len(EMOTION_LABELS),
    ]
    for name, unedited in base["unedited"].items():
        cells = " | ".join(_fmt(unedited["labels"][c], ".0%") for c in EMOTION_LABELS)
        lines.append(f"| {name} | {unedited['people']} | {cells} |")
    if report["happy_vs_real_smile"]:
        lines += [
            "",
            "| happy@strength vs real smile (London) | people | LPIPS edited | LPIPS unedited (aligned) | "
            "oracle | gap closed | LPIPS closer | lower-face LPIPS edited | unedited | oracle | gap closed | "
            "closer | landmark error edited | unedited | closer | blendshape cosine | size ratio |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for key, s in report["happy_vs_real_smile"].items():
            lines.append(
                f"| happy@{key} | {s['people']} | {_fmt(s['lpips_edited_median'], '.3f')} | "
                f"{_fmt(s['lpips_unedited_median'], '.3f')} | {_fmt(s.get('lpips_oracle_median'), '.3f')} | "
                f"{_fmt(s.get('lpips_gap_closed_median'), '.0%')} | {_fmt(s['lpips_closer'], '.0%')} | "
                f"{_fmt(s.get('lpips_lower_edited_median'), '.3f')} | "
                f"{_fmt(s.get('lpips_lower_unedited_median'), '.3f')} | "
                f"{_fmt(s.get('lpips_lower_oracle_median'), '.3f')} | "
                f"{_fmt(s.get('lpips_lower_gap_closed_median'), '.0%')} | "
                f"{_fmt(s.get('lpips_lower_closer'), '.0%')} | "
                f"{_fmt(s['landmark_error_edited_median'], '.4f')} | "
                f"{_fmt(s['landmark_error_unedited_median'], '.4f')} | {_fmt(s['landmark_closer'], '.0%')} | "
                f"{_fmt(s['blendshape_cosine_median'], '.2f')} | "
                f"{_fmt(s['blendshape_size_ratio_median'], '.2f')} |"
            )
    transfer = report.get("own_smile_transfer")
    if transfer:
        lines += [
            "",
            f"each person's own real smile re-created by this renderer (expression transfer, "
            f"{transfer['people']} people): LPIPS {_fmt(transfer['lpips_transfer_median'], '.3f')} "
            f"(closer than unedited {_fmt(transfer['lpips_closer'], '.0%')}), lower face "
            f"{_fmt(transfer['lpips_lower_transfer_median'], '.3f')} "
            f"(closer {_fmt(transfer['lpips_lower_closer'], '.0%')})",
        ]
    return "\n".join(lines)


# ---------------------------------------------------------------------- measuring


@dataclass
class Baseline:
    """The classifier and identity figures of one person's unedited photos."""

    person: str
    dataset: str
    scores: dict[str, float]  #: the classifier on the neutral photo
    smile_scores: dict[str, float] | None = None  #: the classifier on the real smile
    smile_identity: float | None = None  #: SFace similarity of the real smile to the neutral photo


@dataclass
class Person:
    """One held-out person's photos, analysed."""

    image: np.ndarray
    face: Face
    baseline: Baseline
    smile: np.ndarray | None = None
    smile_face: Face | None = None


def held_out_people(london: Path | None, canada: Path | None, limit: int | None) -> list[tuple[str, Path]]:
    """(dataset, neutral photo path) of the held-out people, London and Canada interleaved."""
    test_ids = prototypes.happy_calibration()["test_ids"]
    groups: list[list[tuple[str, Path]]] = []
    if london is not None:
        paths = [london / "neutral" / f"{i}.jpg" for i in sorted(test_ids)]
        missing = [p for p in paths if not p.exists()]
        if missing:
            logger.warning("%d held-out London photos are missing, e.g. %s", len(missing), missing[0])
        groups.append([("london", p) for p in paths if p.exists()][:limit])
    if canada is not None:
        groups.append([("canada", p) for p in sorted(canada.glob("*.jpg"))][:limit])
    by_key = {f"{d}/{p.stem}": (d, p) for g in groups for d, p in g}
    return [by_key[k] for k in interleave(*[[f"{d}/{p.stem}" for d, p in g] for g in groups])]


def load_person(editor: Editor, dataset: str, path: Path) -> Person:
    """Analyse one neutral photo (and its real smile, when there is one). Raises NoFaceError."""
    image = load_image(path)
    face = editor.analyze(image)  # cached by the editor: render() does not analyse it again
    classifier = shared_classifier()
    person = Person(
        image, face, Baseline(path.stem, dataset, classifier.classify_box(image, face.box).as_dict())
    )
    smile_path = path.parent.parent / "smiling" / path.name
    if dataset == "london" and smile_path.exists():
        smile = load_image(smile_path)
        try:
            smile_face = editor.analyzer.analyze_one(smile)
        except NoFaceError:
            logger.warning("no face on the real smile %s", smile_path)
            return person
        person.smile, person.smile_face = smile, smile_face
        person.baseline.smile_scores = classifier.classify_box(smile, smile_face.box).as_dict()
        person.baseline.smile_identity = editor.scorer.similarity(
            editor.scorer.embed(image, face), editor.scorer.embed(smile, smile_face)
        )
    return person


def measure_edit(editor: Editor, person: Person, request: EditRequest) -> tuple[EditRow, np.ndarray, float]:
    """Edit one photo through `Editor.render` and measure it; returns (row, edited photo, wall ms)."""
    started = time.perf_counter()
    outcome = editor.render(person.image, [request], steps=0)
    elapsed = 1000 * (time.perf_counter() - started)
    # The edited photo measured as anyone would measure it: the whole photo analysed afresh (the editor's
    # own re-analysis, `outcome.face_after`, looks at the face's region only, which frames fer's crop and
    # FaceLandmarker's input differently from the unedited and real photos' analyses).
    after = editor.nearest_face(outcome.image, person.face) if outcome.applied else None
    box = after.box if after is not None else person.face.box
    row = EditRow(
        person=person.baseline.person,
        dataset=person.baseline.dataset,
        probabilities=shared_classifier().classify_box(outcome.image, box).as_dict(),
        before=person.baseline.scores,
        # The gate judges every rendering; no verdict at all means no face was found on any of them.
        lost_face=after is None and outcome.identity is None and not outcome.unsupported,
        unchanged=not outcome.applied,
        scale=outcome.scale,
    )
    if after is not None and outcome.applied:
        if outcome.identity is not None:
            row.identity, row.same_person = outcome.identity.similarity, outcome.identity.same_person
        reference = person.face.landmarks.astype(np.float64)
        row.after_landmarks = align_to(after.landmarks.astype(np.float64), reference)
        row.after_blendshapes = dict(after.blendshapes)
        row.motion = top_motion(reference, row.after_landmarks, inter_iris(reference))
    return row, outcome.image, elapsed


def align_photo(
    photo: np.ndarray, landmarks: np.ndarray, onto: np.ndarray, shape: Sequence[int]
) -> np.ndarray:
    """``photo`` warped by the 2D similarity taking its rigid landmarks onto ``onto``'s (same-size canvas)."""
    rigid = list(RIGID_POINTS)
    scale, rotation, translation = umeyama(
        np.asarray(landmarks, np.float64)[rigid, :2], np.asarray(onto, np.float64)[rigid, :2]
    )
    matrix = np.hstack([scale * rotation, translation[:, None]])
    return cv2.warpAffine(photo, matrix, (int(shape[1]), int(shape[0])), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REPLICATE)  # fmt: skip


@dataclass(frozen=True)
class SmileFrame:
    """Where a person's photos are compared with their real smile: the smile moved onto the neutral photo
    (`align_photo`), the face crop box and the lower-face box, in the neutral photo's pixels."""

    aligned: np.ndarray
    box: tuple[int, int, int, int]
    lower: tuple[int, int, int, int]

    @classmethod
    def of(cls, person: Person) -> SmileFrame:
        assert person.smile is not None and person.smile_face is not None
        neutral = person.face.landmarks.astype(np.float64)
        return cls(
            aligned=align_photo(person.smile, person.smile_face.landmarks, neutral, person.image.shape),
            box=crop_box(person.face.box, person.image.shape, LPIPS_ENLARGE),
            lower=lower_face_box(neutral, person.image.shape),
        )

    def lpips(self, photo: np.ndarray, lpips_model) -> tuple[float, float]:
        """LPIPS of ``photo`` to the aligned smile: (face crop, lower face)."""
        from eval.metrics.lpips import lpips_distance

        whole = lpips_distance(
            crop_resize(photo, self.box, LPIPS_SIDE),
            crop_resize(self.aligned, self.box, LPIPS_SIDE),
            model=lpips_model,
        )
        lower = lpips_distance(
            crop_width(photo, self.lower, LOWER_FACE_WIDTH),
            crop_width(self.aligned, self.lower, LOWER_FACE_WIDTH),
            model=lpips_model,
        )
        return whole, lower


def compare_with_smile(person: Person, row: EditRow, edited: np.ndarray, lpips_model) -> dict:
    """Happy edit of ``person`` vs their real smile: LPIPS, landmark error, blendshape change."""
    assert person.smile is not None and person.smile_face is not None
    neutral = person.face.landmarks.astype(np.float64)
    real = align_to(person.smile_face.landmarks.astype(np.float64), neutral)
    out: dict[str, float | None] = {"error_unedited": smile_error(neutral, real, neutral)}
    if lpips_model is not None:
        from eval.metrics.lpips import lpips_distance

        # The two photos were taken apart: the head sits a little differently. Compare with the real smile
        # moved onto the neutral photo (a similarity on the rigid landmarks), so LPIPS sees the
        # expression, not the framing; the unaligned figures are kept too. The lower face alone as well:
        # the face crop is mostly hair, brow and background that differ between the two sittings and that
        # no expression edit should touch.
        frame = SmileFrame.of(person)
        oracle = oracle_photo(person.image, neutral, frame.aligned)
        for name, photo in (("edited", edited), ("unedited", person.image), ("oracle", oracle)):
            out[f"lpips_{name}"], out[f"lpips_lower_{name}"] = frame.lpips(photo, lpips_model)
        smile_crop = crop_resize(person.smile, frame.box, LPIPS_SIDE)
        for name, photo in (("edited", edited), ("unedited", person.image)):
            out[f"lpips_{name}_unaligned"] = lpips_distance(
                crop_resize(photo, frame.box, LPIPS_SIDE), smile_crop, model=lpips_model
            )
    if row.after_landmarks is not None and row.after_blendshapes is not None:
        out["error_edited"] = smile_error(row.after_landmarks, real, neutral)
        out["cosine"], out["size_ratio"] = blendshape_change(
            person.face.blendshapes, row.after_blendshapes, person.smile_face.blendshapes
        )
    return out


def own_smile_transfer(editor: Editor, person: Person, lpips_model) -> dict[str, float]:
    """The person's OWN real smile re-created on their neutral photo by this renderer (expression
    transfer, `editor.transfer`: the smile's measured blendshapes through the same warp and completion
    stage), and its LPIPS to that smile, whole face and lower face, beside the unedited photo's.

    A second bound beside the oracle: the renderer given the very expression it should reach, so what
    it cannot win is the rendering's (skin sliding, folds, teeth as that person shows them), not the
    recipe's.
    """
    assert person.smile is not None and person.smile_face is not None
    request = EditRequest(
        attribute=vocab.REFERENCE, strength=1.0, expression=reference_expression(person.smile_face)
    )
    transferred = editor.render(person.image, [request], steps=0).image
    frame = SmileFrame.of(person)
    out = {}
    for name, photo in (("transfer", transferred), ("unedited", person.image)):
        out[f"lpips_{name}"], out[f"lpips_lower_{name}"] = frame.lpips(photo, lpips_model)
    return out


def summarise_transfer(rows: Sequence[Mapping[str, float]]) -> dict:
    """Medians of `own_smile_transfer` rows, and the share of people it brings closer than no edit."""
    return {
        "people": len(rows),
        "lpips_transfer_median": median(r["lpips_transfer"] for r in rows),
        "lpips_closer": share(r["lpips_transfer"] < r["lpips_unedited"] for r in rows),
        "lpips_lower_transfer_median": median(r["lpips_lower_transfer"] for r in rows),
        "lpips_lower_closer": share(r["lpips_lower_transfer"] < r["lpips_lower_unedited"] for r in rows),
    }


def _load_lpips():
    """The shared LPIPS-VGG model, or None (logged) when its weight packages are not installed."""
    try:
        from eval.metrics.lpips import shared_model

        return shared_model()
    except Exception as error:  # noqa: BLE001 - a missing weight package must not stop the benchmark
        logger.warning("LPIPS left out: %s", error)
        return None


def _labelled(tiles: list[np.ndarray], labels: Sequence[str]) -> np.ndarray:
    """Tiles side by side under a white header strip with each tile's label."""
    header = np.full((28, MONTAGE_SIDE * len(tiles), 3), 255, np.uint8)
    for i, label in enumerate(labels):
        cv2.putText(header, label, (6 + MONTAGE_SIDE * i, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1,
                    cv2.LINE_AA)  # fmt: skip
    return np.concatenate([header, np.concatenate(tiles, axis=1)], axis=0)


def _montage(rows: list[tuple[str, list[np.ndarray]]], columns: Sequence[str]) -> np.ndarray:
    """Rows of tiles, each row under a header naming the person and the columns."""
    blocks = [_labelled(tiles, [f"{person} {columns[0]}", *columns[1:]]) for person, tiles in rows]
    return np.concatenate(blocks, axis=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.bench_expressions", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--london", type=Path, default=None, help="folder with neutral/ID.jpg, smiling/ID.jpg"
    )
    parser.add_argument("--canada", type=Path, default=None, help="folder with ID.jpg (neutral photos)")
    parser.add_argument("--limit", type=int, default=None, help="at most N people per set")
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.3, 0.7, 1.0])
    parser.add_argument("--emotions", nargs="+", default=list(EMOTION_CLASSES), choices=list(EMOTION_CLASSES))
    parser.add_argument("--out", type=Path, default=Path("runs/bench_expressions"))
    args = parser.parse_args(argv)
    if args.london is None and args.canada is None:
        parser.error("give --london and/or --canada")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    editor, lpips_model = Editor(), _load_lpips()
    paths = held_out_people(args.london, args.canada, args.limit)
    montage_strength = 1.0 if 1.0 in args.strengths else max(args.strengths)
    edits: dict[tuple[str, float], list[EditRow]] = {}
    smile_rows: dict[float, list[dict]] = {}
    transfer_rows: list[dict[str, float]] = []
    times: list[tuple[str, float, float]] = []
    baselines: list[Baseline] = []
    skipped: list[str] = []
    emotion_tiles: list[tuple[str, list[np.ndarray]]] = []
    happy_tiles: list[tuple[str, list[np.ndarray]]] = []
    for dataset, path in tqdm(paths, desc="people", unit="person"):
        try:
            person = load_person(editor, dataset, path)
        except NoFaceError as error:
            logger.warning("%s/%s left out: %s", dataset, path.stem, error)
            skipped.append(f"{dataset}/{path.stem}")
            continue
        baselines.append(person.baseline)
        box = crop_box(person.face.box, person.image.shape, MONTAGE_ENLARGE)
        in_montage = len(emotion_tiles) < MONTAGE_PEOPLE
        in_happy_montage = person.smile is not None and len(happy_tiles) < MONTAGE_PEOPLE
        original_tile = crop_resize(person.image, box, MONTAGE_SIDE)
        tiles, happy = [original_tile], [original_tile]
        for emotion in args.emotions:
            for strength in args.strengths:
                row, edited, ms = measure_edit(
                    editor, person, EditRequest(attribute=emotion, strength=strength)
                )
                times.append((dataset, ms, row.scale))
                if emotion == "happy" and person.smile is not None:
                    smile_rows.setdefault(strength, []).append(
                        compare_with_smile(person, row, edited, lpips_model)
                    )
                if in_montage and strength == montage_strength:
                    tiles.append(crop_resize(edited, box, MONTAGE_SIDE))
                if in_happy_montage and emotion == "happy":
                    happy.append(crop_resize(edited, box, MONTAGE_SIDE))
                row.after_landmarks = row.after_blendshapes = None  # only needed above
                edits.setdefault((emotion, strength), []).append(row)
        label = f"{dataset} {path.stem}"
        if in_montage:
            emotion_tiles.append((label, tiles))
        if person.smile is not None and lpips_model is not None and "happy" in args.emotions:
            transfer_rows.append(own_smile_transfer(editor, person, lpips_model))
        if in_happy_montage and person.smile is not None and "happy" in args.emotions:
            happy_tiles.append((label, [*happy, crop_resize(person.smile, box, MONTAGE_SIDE)]))

    report = build_report(editor, baselines, skipped, edits, smile_rows, times)
    if transfer_rows:
        report["own_smile_transfer"] = summarise_transfer(transfer_rows)
    report["backend_timing"] = time_backend(editor, paths, args.emotions)
    report["command"] = " ".join([parser.prog, *(sys.argv[1:] if argv is None else argv)])
    args.out.mkdir(parents=True, exist_ok=True)
    if emotion_tiles:
        path = args.out / "montage_emotions.jpg"
        columns = ["original", *(f"{e} {montage_strength:g}" for e in args.emotions)]
        save_image(_montage(emotion_tiles, columns), path)
        report["montages"].append(str(path))
    if happy_tiles:
        path = args.out / "montage_happy.jpg"
        columns = ["original", *(f"happy {s:g}" for s in args.strengths), "real smile"]
        save_image(_montage(happy_tiles, columns), path)
        report["montages"].append(str(path))
    (args.out / "bench_expressions.json").write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(markdown(report) + "\n")
    return 0


def time_backend(
    editor: Editor,
    paths: Sequence[tuple[str, Path]],
    emotions: Sequence[str],
    people: int = 4,
    repeats: int = 3,
) -> dict:
    """Warm time of the edit alone (the geometry backend: warp + completion, no previews, no identity
    check) at full resolution on the first few 1350x1350 London photos, strength 1.0.

    Returns medians over people x emotions x repeats: total, and the completion stage's share.
    """
    backend = GeometryBackend()
    total, completion = [], []
    london = [path for dataset, path in paths if dataset == "london"][:people]
    for path in london:
        image = load_image(path)
        face = editor.analyzer.analyze_one(image)
        for emotion in emotions:
            request = [EditRequest(attribute=emotion, strength=1.0)]
            backend.edit(image, face, request, steps=0)  # warm: caches, first-call costs
            for _ in range(repeats):
                edit = backend.edit(image, face, request, steps=0)
                total.append(edit.diagnostics["ms"])
                completion.append(edit.diagnostics["completion_ms"])
    return {
        "photos": len(london),
        "edits_timed": len(total),
        "edit_ms_median": median(total),
        "completion_ms_median": median(completion),
        "edit_ms_p90": float(np.percentile(total, 90)) if total else None,
    }


def build_report(
    editor: Editor,
    baselines: list[Baseline],
    skipped: list[str],
    edits: dict[tuple[str, float], list[EditRow]],
    smile_rows: dict[float, list[dict]],
    times: list[tuple[str, float, float]],
) -> dict:
    """Every figure of the run, as the JSON written to ``--out``.

    ``times`` holds (dataset, wall ms, gate scale) per edit in the order they ran.
    """
    warm = times[1:]  # the first edit warms the models up
    smiles = [b for b in baselines if b.smile_scores is not None]
    real_scores = [b.smile_scores for b in smiles if b.smile_scores is not None]
    real_identity = [b.smile_identity for b in smiles if b.smile_identity is not None]
    by_set: dict[str, list[Baseline]] = {"all": baselines}
    for name in ("london", "canada"):
        if any(b.dataset == name for b in baselines):
            by_set[name] = [b for b in baselines if b.dataset == name]

    def top(scores: dict[str, float]) -> str:
        return max(scores, key=scores.__getitem__)

    return {
        "command": None,  # filled in by main
        "people": {
            "total": len(baselines),
            "london": [b.person for b in baselines if b.dataset == "london"],
            "canada": [b.person for b in baselines if b.dataset == "canada"],
            "skipped_no_face": skipped,
        },
        "classifier": "fer mini-Xception (FER2013)",
        "scorer": editor.scorer.name,
        "threshold": editor.scorer.threshold,
        "timing": {
            "edits_timed": len(warm),
            "edit_ms_median": warm_median([ms for _, ms, _ in times]),
            "edit_ms_median_london": median(ms for d, ms, _ in warm if d == "london"),
            "edit_ms_median_canada": median(ms for d, ms, _ in warm if d == "canada"),
            "edit_ms_median_not_backed_off": median(ms for _, ms, scale in warm if scale >= 1.0),
        },
        "edits": {
            f"{emotion}@{strength:g}": {
                name: summarise(
                    [r for r in rows if name == "all" or r.dataset == name], EMOTION_CLASSES[emotion]
                )
                for name in by_set
            }
            for (emotion, strength), rows in edits.items()
        },
        "baselines": {
            "real_smile": {
                "people": len(real_scores),
                "read_as_happy": share(top(s) == "happy" for s in real_scores),
                "p_happy_median": median(s["happy"] for s in real_scores),
                "labels": label_shares([top(s) for s in real_scores]),
                "identity_median": median(real_identity),
                "identity_min": min(real_identity, default=None),
                "same_person": share(s >= editor.scorer.threshold for s in real_identity),
            },
            "unedited": {
                name: {"people": len(group), "labels": label_shares([top(b.scores) for b in group])}
                for name, group in by_set.items()
            },
        },
        "happy_vs_real_smile": {f"{s:g}": summarise_smile_comparison(rows) for s, rows in smile_rows.items()},
        "montages": [],
    }


if __name__ == "__main__":
    raise SystemExit(main())
