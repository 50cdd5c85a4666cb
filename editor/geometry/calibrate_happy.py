"""Calibrate the `happy` prototype on real smiles (London set: each person neutral and smiling).

    python -m editor.geometry.calibrate_happy --data /work/shared/data/london
        [--out editor/data/happy_calibration.json] [--cache /tmp/london_landmarks.npz]

For each person, FaceLandmarker's landmarks on the smiling photo are aligned onto the neutral photo's
on rigid points (3D similarity on forehead, nose and eye corners: otherwise head motion between the two
photos dominates), giving the real smile's landmark motion. The prediction for a recipe (ARKit weights)
is `editor.geometry.motion.target_landmarks(neutral, weights)`. A bounded linear least-squares fit
(weights 0..1.5, left and right tied) of a handful of ARKit shapes to the real motion is made on some
people and reported on the others (person-disjoint split, fixed by ID order). About half the smiles
part the lips (teeth show): the shipped recipe ("fitted") is fitted on the closed-lip smiles only, with
shapes that do not part the lips, since one recipe for both kinds parts the lips halfway, which a warp
renders as a dark slit; the fit on all smiles with lip-parting shapes too ("fitted_all_smiles") is
reported beside it.

Error = mean over the 478 landmarks of the 2D distance to the aligned real smile, divided by the
neutral photo's inter-iris distance. Reported for no edit, the textbook FACS recipe and the fitted one:
on the predicted landmarks, and end to end (`warped_photo_check`): each held-out neutral photo warped
with the recipe by `editor.warp` and re-measured by FaceLandmarker, with its mouthSmile score.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import lsq_linear

from editor.geometry.basis import load_basis
from editor.geometry.motion import RIGID_POINTS, face_similarity, fit_similarity
from editor.geometry.prototypes import facs_weights

logger = logging.getLogger(__name__)

RIGHT_IRIS, LEFT_IRIS = 468, 473
INNER_UPPER_MID, INNER_LOWER_MID = 13, 14
#: A smile whose inner-lip gap opens by less than this (inter-iris units) counts as closed-lip.
CLOSED_LIP_PARTING = 0.03
#: The shapes the shipped (closed-lip) fit may use, each a Left/Right pair tied to one weight: none
#: that parts the lips, which a warp can only render as a dark gap (no teeth).
CANDIDATES: tuple[str, ...] = ("mouthSmile", "cheekSquint", "eyeSquint", "mouthStretch", "mouthDimple")
#: The all-smiles fit (reported for comparison) may also part the lips.
ALL_SMILES_CANDIDATES: tuple[str, ...] = (*CANDIDATES, "mouthLowerDown", "mouthUpperUp", "jawOpen")
WEIGHT_BOUNDS = (0.0, 1.5)
TEST_EVERY = 3  # every third person (sorted by ID) is held out for the report


def expand(group: str) -> list[str]:
    """ARKit names of a candidate: "jawOpen" -> ["jawOpen"], "mouthSmile" -> both sides."""
    return [group] if group == "jawOpen" else [group + "Left", group + "Right"]


def align_to(moving: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(478, 3) `moving` landmarks mapped onto `reference` by a 3D similarity fitted on RIGID_POINTS."""
    rigid = list(RIGID_POINTS)
    return fit_similarity(moving[rigid], reference[rigid]).apply(moving)


def inter_iris(landmarks: np.ndarray) -> float:
    """2D distance between the iris centres, pixels."""
    return float(np.linalg.norm(landmarks[LEFT_IRIS, :2] - landmarks[RIGHT_IRIS, :2]))


def smile_error(
    predicted: np.ndarray, real_aligned: np.ndarray, neutral: np.ndarray, points: list[int] | None = None
) -> float:
    """Mean 2D landmark distance between a prediction and the aligned real smile, in inter-iris units,
    over all 478 landmarks or the given `points`."""
    distance = np.linalg.norm(predicted[:, :2] - real_aligned[:, :2], axis=1)
    return float((distance if points is None else distance[points]).mean() / inter_iris(neutral))


def lip_points() -> list[int]:
    """The 40 inner and outer lip-contour landmarks (where a smile moves most)."""
    from editor.landmark_indices import face_mesh_indices

    m = face_mesh_indices()
    return sorted(set(m.inner_lip_upper + m.inner_lip_lower + m.outer_lip_upper + m.outer_lip_lower))


def measure_landmarks(data: Path, cache: Path | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """ID -> (neutral (478, 3), smiling (478, 3)) landmarks, via editor.face.FaceAnalyzer."""
    if cache is not None and cache.exists():
        with np.load(cache) as stored:
            return {
                key[:-8]: (stored[key], stored[key[:-8] + "_smiling"])
                for key in stored
                if key.endswith("_neutral")
            }
    from editor.face import FaceAnalyzer
    from editor.images import load_image

    ids = sorted(p.stem for p in (data / "neutral").glob("*.jpg") if (data / "smiling" / p.name).exists())
    if not ids:
        raise FileNotFoundError(
            f"No neutral/ID.jpg + smiling/ID.jpg pairs under {data}; pass --data <london>."
        )
    result = {}
    with FaceAnalyzer() as analyzer:
        for face_id in ids:
            pair = []
            for kind in ("neutral", "smiling"):
                faces = analyzer.analyze(load_image(data / kind / f"{face_id}.jpg"))
                if not faces:
                    logger.warning("no face in %s/%s.jpg: person left out", kind, face_id)
                    break
                pair.append(faces[0].landmarks.astype(np.float64))
            if len(pair) == 2:
                result[face_id] = (pair[0], pair[1])
    if cache is not None:
        arrays = {
            f"{k}_{kind}": v[i] for k, v in result.items() for i, kind in enumerate(("neutral", "smiling"))
        }
        np.savez_compressed(cache, **arrays)
    return result


def _design(neutral: np.ndarray, basis, candidates: tuple[str, ...]) -> np.ndarray:
    """(478*2, len(candidates)) image motion (x, y, inter-iris units) of each candidate at weight 1."""
    similarity = face_similarity(neutral, basis)
    columns = []
    for group in candidates:
        motion = similarity.apply_vectors(basis.displacement({name: 1.0 for name in expand(group)}))
        columns.append(motion[:, :2].ravel() / inter_iris(neutral))
    return np.stack(columns, axis=1)


def lip_parting(neutral: np.ndarray, smiling: np.ndarray) -> float:
    """How much wider the inner-lip gap (landmarks 13-14) is in the aligned smile, inter-iris units."""
    real = align_to(smiling, neutral)
    gap = (real[INNER_LOWER_MID, 1] - real[INNER_UPPER_MID, 1]) - (
        neutral[INNER_LOWER_MID, 1] - neutral[INNER_UPPER_MID, 1]
    )
    return float(gap / inter_iris(neutral))


def fit_recipe(
    pairs: dict[str, tuple[np.ndarray, np.ndarray]],
    ids: list[str],
    basis,
    candidates: tuple[str, ...] = CANDIDATES,
) -> dict[str, float]:
    """Bounded least squares of the candidates' image motion to the real smiles of `ids`: group weights."""
    rows, targets = [], []
    for face_id in ids:
        neutral, smiling = pairs[face_id]
        real = align_to(smiling, neutral)
        rows.append(_design(neutral, basis, candidates))
        targets.append(((real - neutral)[:, :2] / inter_iris(neutral)).ravel())
    solution = lsq_linear(np.concatenate(rows), np.concatenate(targets), bounds=WEIGHT_BOUNDS)
    return {group: round(float(w), 3) for group, w in zip(candidates, solution.x, strict=True)}


def _expanded(group_weights: dict[str, float]) -> dict[str, float]:
    return {name: w for group, w in group_weights.items() if w > 0 for name in expand(group)}


def calibrate(pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
    """Fit on the training people, report on the held-out ones (see the module docstring).

    About half the London smiles part the lips (teeth show), half keep them closed: one least-squares
    recipe for both parts the lips halfway, which a warp renders as a dark slit, not a smile. The
    shipped recipe is fitted on the closed-lip smiles (what a warp can render); the all-smiles fit is
    reported beside it.
    """
    from editor.geometry.motion import target_landmarks

    basis = load_basis()
    ids = sorted(pairs)
    test_ids = ids[TEST_EVERY - 1 :: TEST_EVERY]
    fit_ids = [i for i in ids if i not in set(test_ids)]
    closed = {i for i in ids if lip_parting(*pairs[i]) < CLOSED_LIP_PARTING}
    closed_groups = fit_recipe(pairs, [i for i in fit_ids if i in closed], basis)
    all_groups = fit_recipe(pairs, fit_ids, basis, ALL_SMILES_CANDIDATES)
    recipes = {
        "no_edit": {},
        "textbook": facs_weights("happy"),
        "fitted": _expanded(closed_groups),
        "fitted_all_smiles": _expanded(all_groups),
    }
    lips = lip_points()

    def errors(people: list[str], points: list[int] | None = None) -> dict[str, dict[str, float]]:
        table: dict[str, list[float]] = {key: [] for key in recipes}
        for face_id in people:
            neutral, smiling = pairs[face_id]
            real = align_to(smiling, neutral)
            for key, weights in recipes.items():
                predicted = target_landmarks(neutral, weights, basis)
                table[key].append(smile_error(predicted, real, neutral, points))
        baseline = np.array(table["no_edit"])
        return {
            key: {
                "mean": round(float(np.mean(values)), 4),
                "median": round(float(np.median(values)), 4),
                "better_than_no_edit": int(np.sum(np.array(values) < baseline)),
            }
            for key, values in table.items()
        }

    test_closed = [i for i in test_ids if i in closed]
    basis_path = Path(__file__).resolve().parents[1] / "data" / "blendshape_basis.npz"
    return {
        "description": "happy prototype fitted on real London smiles (closed-lip ones: 'fitted'; all: "
        "'fitted_all_smiles'); errors = mean 2D landmark distance to the rigid-aligned real smile / "
        "inter-iris distance (all 478 points, or the 40 lip points)",
        "command": "python -m editor.geometry.calibrate_happy --data <shared>/data/london",
        "fitted_weights": recipes["fitted"],
        "fitted_group_weights": closed_groups,
        "fitted_all_smiles_group_weights": all_groups,
        "textbook_weights": recipes["textbook"],
        "bounds": list(WEIGHT_BOUNDS),
        "closed_lip_parting_below": CLOSED_LIP_PARTING,
        "closed_lip_people": len(closed),
        "fit_people": {"closed_lip": len([i for i in fit_ids if i in closed]), "all": len(fit_ids)},
        "test_people": len(test_ids),
        "test_closed_lip_people": len(test_closed),
        "test_ids": test_ids,
        "test_closed_lip_ids": test_closed,
        "test_error": errors(test_ids),
        "test_error_lips": errors(test_ids, lips),
        "test_error_closed_lip": errors(test_closed),
        "test_error_closed_lip_lips": errors(test_closed, lips),
        "basis_sha256": hashlib.sha256(basis_path.read_bytes()).hexdigest() if basis_path.exists() else None,
    }


def warped_photo_check(data: Path, result: dict) -> dict:
    """End to end on the held-out people: warp each neutral photo (`editor.warp.warp_face`) with each
    recipe, re-measure the result with FaceLandmarker, and report the landmark error to the real smile
    (after rigid alignment, as above) and the mean mouthSmile score. Needs the photos (not the cache)."""
    from editor.face import FaceAnalyzer
    from editor.geometry.motion import target_landmarks
    from editor.images import load_image
    from editor.warp import warp_face

    recipes = {
        "no_edit": {},
        "textbook": result["textbook_weights"],
        "fitted": result["fitted_weights"],
        "fitted_all_smiles": _expanded(result["fitted_all_smiles_group_weights"]),
    }
    lips = lip_points()
    table: dict[str, dict[str, list[float]]] = {
        key: {"error": [], "error_lips": [], "mouthSmile": []}
        for key in (*recipes, "real_smile", "real_smile_closed_lip")
    }
    with FaceAnalyzer() as analyzer:
        for face_id in result["test_ids"]:
            photo = load_image(data / "neutral" / f"{face_id}.jpg")
            neutral_face = analyzer.analyze_one(photo)
            neutral = neutral_face.landmarks.astype(np.float64)
            smiling_face = analyzer.analyze_one(load_image(data / "smiling" / f"{face_id}.jpg"))
            real = align_to(smiling_face.landmarks.astype(np.float64), neutral)
            for key, weights in recipes.items():
                face = neutral_face
                if weights:
                    edited = warp_face(photo, neutral, target_landmarks(neutral, weights)).image
                    face = analyzer.analyze_one(edited)
                measured = align_to(face.landmarks.astype(np.float64), neutral)
                table[key]["error"].append(smile_error(measured, real, neutral))
                table[key]["error_lips"].append(smile_error(measured, real, neutral, lips))
                table[key]["mouthSmile"].append(
                    (face.blendshapes["mouthSmileLeft"] + face.blendshapes["mouthSmileRight"]) / 2
                )
            score = (
                smiling_face.blendshapes["mouthSmileLeft"] + smiling_face.blendshapes["mouthSmileRight"]
            ) / 2
            table["real_smile"]["mouthSmile"].append(score)
            if face_id in result["test_closed_lip_ids"]:
                table["real_smile_closed_lip"]["mouthSmile"].append(score)
    return {
        key: {metric: round(float(np.mean(values)), 4) for metric, values in metrics.items() if values}
        for key, metrics in table.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the London folder (neutral/, smiling/)")
    parser.add_argument("--out", type=Path, default=Path("editor/data/happy_calibration.json"))
    parser.add_argument("--cache", type=Path, default=None, help="npz to keep the measured landmarks in")
    parser.add_argument(
        "--no-warp-check", action="store_true", help="skip warping the held-out photos (about 40 s)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    result = calibrate(measure_landmarks(args.data, args.cache))
    if not args.no_warp_check:
        result["warped_photo_check"] = warped_photo_check(args.data, result)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    keys = (
        "fitted_group_weights",
        "fitted_all_smiles_group_weights",
        "test_people",
        "test_closed_lip_people",
        "test_error",
        "test_error_closed_lip",
        "test_error_lips",
        "warped_photo_check",
    )
    summary = {k: result[k] for k in keys if k in result}
    sys.stdout.write(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
