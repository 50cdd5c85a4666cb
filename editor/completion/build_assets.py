"""Build the completion stage's derived assets from real London photos (CC BY 4.0).

Usage::

    python -m editor.completion.build_assets --data ../shared/data/london [--cache runs/london_landmarks.npz]

Only CALIBRATION people are used: the people `editor/data/happy_calibration.json` holds out
(``test_ids``) are never read, so held-out evaluation never sees its own people's teeth or folds.
Writes, into editor/data/completion/:

- ``mouth_bank.npz``: the mouth interiors of the calibration smiles whose lips part (see
  `editor.completion.mouth_bank`), in the mouth frame.
- ``smile_detail.npz``: the mean shading change of a real smile (log luminance ratio smile / neutral,
  Liu, Shan & Zhang 2001) in the canonical frame, deepened so its folds are as dark as the median
  person's (the mean of folds that sit a little apart is shallower than any of them), split into a
  cheek-and-fold map and an eye map, plus the canonical mean neutral shape (see `editor.completion.detail`).

Source: Face Research Lab London Set, DeBruine & Jones (2017), doi 10.6084/m9.figshare.5047666.v5.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

import cv2
import numpy as np

from editor.completion import detail, frame
from editor.completion.assets import asset_folder
from editor.completion.mouth_bank import (
    BANK_FILE,
    MOUTH_WIDTH,
    MouthBank,
    extract_example,
    inner_lip_loop,
    mouth_frame,
    opening_descriptor,
    sclera_lab,
)
from editor.geometry.calibrate_happy import measure_landmarks
from editor.geometry.prototypes import happy_calibration
from editor.images import load_image

logger = logging.getLogger(__name__)

#: An example must open at least this much (largest inner-lip gap over the mouth width) to show teeth.
MIN_OPENING = 0.06
#: An example whose teeth hold a stain beyond this (`MouthExample.teeth_stain`, b* units) is left out.
MAX_TEETH_STAIN = 12.0
#: Blur of each person's log-ratio map, frame pixels (the photos are not perfectly registered).
RATIO_BLUR = 1.5
#: Added to luminance (0..255) before the log ratio, so dark pixels do not dominate.
RATIO_OFFSET = 8.0
#: Log ratio below which the mean map counts as a fold (nasolabial folds, lower-lid creases).
FOLD_LEVEL = -0.02


def held_out_ids() -> set[str]:
    """The London people held out from every calibration."""
    calibration = happy_calibration()
    if calibration is None:
        raise FileNotFoundError("editor/data/happy_calibration.json (the held-out split) is missing.")
    return set(calibration["test_ids"])


def calibration_pairs(data: Path, cache: Path | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    pairs = measure_landmarks(data, cache)
    held = held_out_ids()
    return {k: v for k, v in sorted(pairs.items()) if k not in held}


def build_mouth_bank(data: Path, pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> MouthBank:
    examples = []
    for face_id, (neutral, smiling) in pairs.items():
        matrix = mouth_frame(smiling)
        loop = inner_lip_loop(smiling) @ matrix[:, :2].T + matrix[:, 2]
        opening = opening_descriptor(loop).max() / MOUTH_WIDTH
        if opening < MIN_OPENING:
            continue
        image = load_image(data / "smiling" / f"{face_id}.jpg")
        example = extract_example(image, smiling, face_id)
        # The light is read off the same session's neutral photo: a smile narrows the eyes.
        light = sclera_lab(load_image(data / "neutral" / f"{face_id}.jpg"), neutral)
        stain = example.teeth_stain()
        if stain > MAX_TEETH_STAIN:
            logger.info("mouth example %s left out: a stained tooth (%.1f b* above the rest)", face_id, stain)
            continue
        examples.append(dataclasses.replace(example, sclera_lab=light))
        logger.info("mouth example %s: opening %.3f, teeth stain %.1f", face_id, opening, stain)
    return MouthBank(examples)


def luminance(image: np.ndarray) -> np.ndarray:
    return np.asarray(image, np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def build_smile_detail(data: Path, pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    shape = frame.mean_shape([neutral for neutral, _ in pairs.values()])
    total = np.zeros((frame.FRAME_SIZE, frame.FRAME_SIZE), np.float64)
    count = np.zeros_like(total)
    keep = detail.detail_support(shape)  # skin only: no lips, eye openings, brows' hair
    ratios = []
    for face_id, (neutral, smiling) in pairs.items():
        maps = []
        for kind, landmarks in (("neutral", neutral), ("smiling", smiling)):
            image = load_image(data / kind / f"{face_id}.jpg")
            warped, valid = frame.photo_to_frame(luminance(image), landmarks, shape)
            maps.append((warped[..., 0], valid))
        (lum_n, valid_n), (lum_s, valid_s) = maps
        ratio = np.log((lum_s + RATIO_OFFSET) / (lum_n + RATIO_OFFSET))
        valid = valid_n & valid_s & (keep > 0.5)
        # Exposure differences between the two photos are not expression: centre on the forehead/nose.
        ratio -= np.median(ratio[valid & detail.reference_region(shape)])
        ratio = cv2.GaussianBlur(np.where(valid, ratio, 0).astype(np.float32), (0, 0), RATIO_BLUR)
        weight = cv2.GaussianBlur(valid.astype(np.float32), (0, 0), RATIO_BLUR)
        total += ratio
        count += weight
        ratios.append(ratio)
        logger.info("smile ratio %s", face_id)
    mean = np.where(count > 0.5 * len(pairs), total / np.maximum(count, 1e-6), 0.0).astype(np.float32)
    mean *= keep
    # Averaging people whose folds sit a little apart makes the mean fold wider and shallower than
    # anyone's: scale it so its fold is as deep as the median person's (`fold_depth`).
    folds = mean < FOLD_LEVEL
    typical = float(np.median([fold_depth(r, folds) for r in ratios]) / max(fold_depth(mean, folds), 1e-6))
    logger.info("typical fold depth: %.2f x the mean map's", typical)
    eyes = detail.eye_region(shape)
    return {
        "shape": shape.astype(np.float32),
        "smile_cheeks": (typical * mean * (1 - eyes)).astype(np.float16),
        "smile_eyes": (typical * mean * eyes).astype(np.float16),
        "depth_correction": np.float32(typical),
        "people": np.array(sorted(pairs)),
    }


def fold_depth(ratio: np.ndarray, folds: np.ndarray) -> float:
    """How dark a log-ratio map's folds are: minus the 10th percentile over the fold pixels."""
    return float(-np.percentile(ratio[folds], 10))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m editor.completion.build_assets", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="the London set (neutral/, smiling/)")
    parser.add_argument("--cache", type=Path, default=None, help="landmark cache (.npz) to reuse or write")
    parser.add_argument("--out", type=Path, default=asset_folder())
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    pairs = calibration_pairs(args.data, args.cache)
    args.out.mkdir(parents=True, exist_ok=True)
    bank = build_mouth_bank(args.data, pairs)
    bank.save(args.out / BANK_FILE)
    logger.info("mouth bank: %d examples from %d calibration people", len(bank), len(pairs))
    np.savez_compressed(args.out / detail.DETAIL_FILE, **build_smile_detail(args.data, pairs))
    logger.info("smile detail written to %s", args.out / detail.DETAIL_FILE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
