"""Build the age prototypes (Burt & Perrett 1995; Tiddeman, Burt & Perrett 2001) from the London set.

Usage::

    python -m editor.appearance.build_age_prototypes --data ../shared/data/london

Only CALIBRATION people are read (those `editor/data/happy_calibration.json` does not hold out, a
person-level split). Each one's neutral photo is analysed (FaceAnalyzer's 478 landmarks) and warped
piecewise-affinely into the canonical frame (`editor.completion.frame`) on the mean shape. Within each
gender the youngest and the oldest third form two groups; the asset holds the differences between
the groups' prototypes (gender-balanced: each gender's difference weighted equally), scaled to
`YEARS_PER_UNIT` years:

- ``shape_delta`` (478, 2): mean landmark offset old - young, frame pixels.
- ``colour_delta`` (F, F, 3): CIELAB old - young of the aligned photos, the face-wide mean removed (so
  the groups' mix of skin tones does not become a tan), a and b kept only at low frequency.
- ``texture_log_ratio`` (F/2, F/2): log of the ratio of local high-frequency amplitude (detail finer
  than `DETAIL_SIGMA` frame px, energy pooled over `ENERGY_SIGMA`) old / young, relative to its
  median over the face and floored at 0: where wrinkles and coarser skin come with age.
- ``coverage`` (F, F): the share of people whose face mesh covers each frame pixel.
- ``meta``: JSON with the groups, their ages, and ``face_lightness``, the prototypes' median CIELAB L
  over the face (an edit scales the colour difference by the person's own over it).

Writes ``editor/data/age_prototypes.npz`` (a few hundred kB). Source: Face Research Lab London Set,
DeBruine & Jones (2017), doi 10.6084/m9.figshare.5047666.v5, CC BY 4.0.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from pathlib import Path

import cv2
import numpy as np

from editor.completion import frame
from editor.completion.build_assets import held_out_ids
from editor.images import load_image, to_lab

logger = logging.getLogger(__name__)

#: Where the asset is written and read.
ASSET = Path(__file__).resolve().parents[1] / "data" / "age_prototypes.npz"
#: The differences are stored per this many years (`editor.vocabulary.AGE_YEARS_PER_UNIT`).
YEARS_PER_UNIT = 20.0
#: Detail finer than this Gaussian sigma (frame pixels) counts as texture.
DETAIL_SIGMA = 1.5
#: Local texture energy is pooled over this sigma (frame pixels).
ENERGY_SIGMA = 5.0
#: The a and b channels of the colour difference are kept below this sigma (frame pixels); L is
#: smoothed only lightly (the photos are not registered more finely than that).
CHROMA_SIGMA = 6.0
LIGHTNESS_SIGMA = 1.0
#: |L difference| per unit is capped here (a few pixels of brow edge reach 8 L units: a bright band).
LIGHTNESS_LIMIT = 5.0
#: Each group is this share of a gender's calibration people.
GROUP_SHARE = 1.0 / 3.0


def read_ages(data: Path) -> dict[str, tuple[float, str]]:
    """ID -> (age, gender) from the London set's info.csv (people without an age left out)."""
    ages = {}
    with open(data / "info.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["face_age"].strip().isdigit():
                ages[row["face_id"]] = (float(row["face_age"]), row["face_gender"])
    return ages


def groups(ages: dict[str, tuple[float, str]]) -> dict[str, tuple[list[str], list[str]]]:
    """gender -> (youngest ids, oldest ids), each `GROUP_SHARE` of that gender's people."""
    out = {}
    for gender in sorted({g for _, g in ages.values()}):
        ids = sorted((a, i) for i, (a, g) in ages.items() if g == gender)
        size = max(1, round(GROUP_SHARE * len(ids)))
        out[gender] = ([i for _, i in ids[:size]], [i for _, i in ids[-size:]])
    return out


def aligned(image: np.ndarray, landmarks: np.ndarray, mean_shape: np.ndarray) -> tuple[np.ndarray, ...]:
    """(lab (F, F, 3), log texture energy (F, F), covered (F, F) bool) of one photo in the frame."""
    scale, _, _ = frame.to_frame_similarity(landmarks)  # frame px per photo px (about 0.45)
    smooth = cv2.GaussianBlur(image, (0, 0), 0.45 / scale)  # no aliasing when the warp shrinks it
    warped, covered = frame.photo_to_frame(smooth, landmarks, mean_shape)
    lab = to_lab(np.clip(warped, 0, 255))
    lightness = lab[..., 0]
    detail = lightness - cv2.GaussianBlur(lightness, (0, 0), DETAIL_SIGMA)
    energy = cv2.GaussianBlur(detail * detail, (0, 0), ENERGY_SIGMA)
    return lab, np.log(energy + 0.05), covered


def build(data: Path) -> dict[str, np.ndarray]:
    """The asset's arrays (see the module docstring) from the London set at ``data``."""
    from editor.face import FaceAnalyzer

    held = held_out_ids()
    ages = {
        i: v for i, v in read_ages(data).items() if i not in held and (data / "neutral" / f"{i}.jpg").exists()
    }
    split = groups(ages)
    wanted = sorted({i for young, old in split.values() for i in young + old})
    photos, shapes = {}, {}
    with FaceAnalyzer() as analyzer:
        for face_id in sorted(ages):
            image = load_image(data / "neutral" / f"{face_id}.jpg")
            faces = analyzer.analyze(image)
            if not faces:
                logger.warning("no face in neutral/%s.jpg: left out", face_id)
                continue
            shapes[face_id] = faces[0].landmarks.astype(np.float64)
            if face_id in wanted:
                photos[face_id] = image
    mean_shape = frame.mean_shape(list(shapes.values()))  # (478, 2) all calibration people
    per_person = {i: aligned(photos[i], shapes[i], mean_shape) for i in sorted(photos)}
    shape_delta = np.zeros_like(mean_shape)
    colour_delta = np.zeros((frame.FRAME_SIZE, frame.FRAME_SIZE, 3), np.float64)
    log_ratio = np.zeros((frame.FRAME_SIZE, frame.FRAME_SIZE), np.float64)
    coverage = np.mean([per_person[i][2] for i in per_person], axis=0)
    years = []
    for gender, (young, old) in split.items():
        young = [i for i in young if i in per_person]
        old = [i for i in old if i in per_person]
        young_age, old_age = np.mean([ages[i][0] for i in young]), np.mean([ages[i][0] for i in old])
        logger.info(
            "%s: %d young (mean %.1f), %d old (mean %.1f)", gender, len(young), young_age, len(old), old_age
        )
        years.append(old_age - young_age)
        factor = YEARS_PER_UNIT / years[-1] / len(split)  # per YEARS_PER_UNIT, genders weighted equally

        def mean(ids: list[str], k: int) -> np.ndarray:
            return np.mean([per_person[i][k] for i in ids], axis=0)

        normalised = {i: frame.normalise_shape(shapes[i]) for i in young + old}
        shape_delta += factor * (
            np.mean([normalised[i] for i in old], 0) - np.mean([normalised[i] for i in young], 0)
        )
        colour_delta += factor * (mean(old, 0) - mean(young, 0))
        log_ratio += factor * 0.5 * (mean(old, 1) - mean(young, 1))  # 0.5: energy -> amplitude
    inside = coverage > 0.9
    lightness = np.median(np.mean([per_person[i][0][..., 0] for i in per_person], axis=0)[inside])
    colour_delta -= colour_delta[inside].mean(axis=0)  # no overall tone shift: only where things change
    colour_delta[..., 0] = cv2.GaussianBlur(colour_delta[..., 0], (0, 0), LIGHTNESS_SIGMA)
    for k in (1, 2):
        colour_delta[..., k] = cv2.GaussianBlur(colour_delta[..., k], (0, 0), CHROMA_SIGMA)
    log_ratio -= np.median(log_ratio[inside])  # detail rises where age puts it, relative to the face
    # Age adds texture; where the older prototype holds LESS detail it is where brows and lids sit lower
    # (registration at ~100 px between the eyes), not smoother skin: those places are left alone.
    log_ratio = cv2.GaussianBlur(np.maximum(log_ratio, 0.0), (0, 0), 2.0)
    colour_delta[..., 0] = np.clip(colour_delta[..., 0], -LIGHTNESS_LIMIT, LIGHTNESS_LIMIT)
    half = frame.FRAME_SIZE // 2
    meta = {
        "source": "Face Research Lab London Set (DeBruine & Jones 2017), CC BY 4.0",
        "command": "python -m editor.appearance.build_age_prototypes --data ../shared/data/london",
        "groups": {g: {"young": y, "old": o} for g, (y, o) in split.items()},
        "years_between_groups": [float(y) for y in years],
        "years_per_unit": YEARS_PER_UNIT,
        "people_in_mean_shape": len(shapes),
        "face_lightness": float(lightness),
    }
    return {
        "mean_shape": mean_shape.astype(np.float32),
        "shape_delta": shape_delta.astype(np.float32),
        "colour_delta": colour_delta.astype(np.float16),
        "texture_log_ratio": cv2.resize(log_ratio, (half, half), interpolation=cv2.INTER_AREA).astype(
            np.float16
        ),
        "coverage": np.round(255 * coverage).astype(np.uint8),
        "meta": np.array(json.dumps(meta)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m editor.appearance.build_age_prototypes", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="the London set (neutral/, info.csv)")
    parser.add_argument("--out", type=Path, default=ASSET)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    arrays = build(args.data)
    np.savez_compressed(args.out, **arrays)
    logger.info("age prototypes written to %s (%.0f kB)", args.out, args.out.stat().st_size / 1024)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
