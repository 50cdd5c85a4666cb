"""Check the expression prototypes and the pose transfer of `motion` on renders of `anny`.

    python -m editor.geometry.validate_prototypes [--json out.json]

1. Prototypes: render anny with each prototype (strength 1.0) and report which of FaceLandmarker's
   blendshape scores rise against the neutral render: the mean rise of the prototype's own shapes that
   FaceLandmarker can see (`prototypes.measured_shapes`, weighted by their weights) and the biggest
   rises of shapes the prototype does not use (confounds, such as a smile score in an angry face).
2. Pose transfer: for heads turned by yaw/pitch, predict the landmark motion of a few expressions from
   FaceLandmarker's landmarks of the turned neutral render (`motion.landmark_motion`) and compare it
   with the true image motion of the attached mesh points; report the relative error
   |predicted - true| / |true| over the points that move.

3. With `--photos <london>`: the same prototype check end to end on real photos instead of renders:
   each held-out neutral London photo (the happy calibration's test people) warped by `editor.warp`
   with each prototype at strength 1.0 and re-measured; reports the mean weighted rise of the
   prototype's measurable shapes, the share of people on whom it rises by more than 0.02, confounds
   and the warp's fold fraction. (Needs no anny: `--photos DIR --skip-renders`.)

Parts 1 and 2 are build-time only (need anny). Writes markdown tables to stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from editor.geometry import anny_render, build_basis
from editor.geometry.motion import landmark_motion
from editor.geometry.prototypes import PROTOTYPES, measured_shapes, prototype

logger = logging.getLogger(__name__)

POSES = ((0.0, 0.0), (30.0, 0.0), (-30.0, 0.0), (0.0, 15.0), (0.0, -15.0), (25.0, 10.0))
POSE_EXPRESSIONS = ("happy", "surprised", "angry", "mouth_open")


def check_prototypes(head, analyzer, size: int = 512) -> list[dict]:
    """One row per prototype: own-shape rise and the top confounding rises."""
    camera = anny_render.default_camera(head, size=size)
    neutral = analyzer.analyze_one(anny_render.render(head, head.vertices, camera).image).blendshapes
    rows = []
    for name in PROTOTYPES:
        weights = prototype(name)
        anny_weights = {k: v for k, v in weights.items() if k in head.target_names}
        faces = analyzer.analyze(anny_render.render(head, head.posed(anny_weights), camera).image)
        if not faces:
            rows.append({"name": name, "tracked": False})
            continue
        scores = faces[0].blendshapes
        rise = {k: scores[k] - neutral[k] for k in scores if k != "_neutral"}
        measured = measured_shapes(name)
        own = [k for k in measured if k in rise]
        total = sum(measured[k] for k in own)
        confounds = sorted((k for k in rise if k not in weights), key=lambda k: -rise[k])[:3]
        rows.append(
            {
                "name": name,
                "tracked": True,
                "own_rise": round(sum(measured[k] * rise[k] for k in own) / total, 3) if total else None,
                "own_rises": {k: round(rise[k], 3) for k in own},
                "confounds": {k: round(rise[k], 3) for k in confounds if rise[k] > 0.05},
            }
        )
        logger.info("%s", rows[-1])
    return rows


def check_pose_transfer(head, analyzer, size: int = 512) -> list[dict]:
    """Relative error of the predicted landmark motion on turned heads (see the module docstring)."""
    frontal = anny_render.default_camera(head, size=size)
    _, triangles, bary, _ = build_basis.attach_to_neutral(head, frontal, analyzer)
    rows = []
    for yaw, pitch in POSES:
        camera = anny_render.default_camera(head, size=size, yaw=yaw, pitch=pitch)
        face = analyzer.analyze_one(anny_render.render(head, head.vertices, camera).image)
        before = camera.project(build_basis.mesh_points(head, head.vertices, triangles, bary))[:, :2]
        row: dict = {"yaw": yaw, "pitch": pitch}
        for name in POSE_EXPRESSIONS:
            weights = {k: v for k, v in prototype(name).items() if k in head.target_names}
            posed = build_basis.mesh_points(head, head.posed(weights), triangles, bary)
            true = camera.project(posed)[:, :2] - before
            predicted = landmark_motion(face.landmarks, weights)[:, :2]
            moving = np.linalg.norm(true, axis=1) > 0.1 * np.linalg.norm(true, axis=1).max()
            error = np.linalg.norm(predicted[moving] - true[moving], axis=1).sum()
            row[name] = round(float(error / np.linalg.norm(true[moving], axis=1).sum()), 3)
        rows.append(row)
        logger.info("%s", row)
    return rows


def check_on_photos(data: Path, analyzer, people: int = 12) -> list[dict]:
    """Part 3 of the module docstring: prototypes on warped held-out London photos."""
    from editor.geometry.motion import target_landmarks
    from editor.geometry.prototypes import happy_calibration
    from editor.images import load_image
    from editor.warp import warp_face

    calibration = happy_calibration()
    if calibration is None:
        raise FileNotFoundError("editor/data/happy_calibration.json is missing: run calibrate_happy first.")
    ids = calibration["test_ids"][:people]
    rises: dict[str, list[dict[str, float]]] = {name: [] for name in PROTOTYPES}
    folds: dict[str, list[float]] = {name: [] for name in PROTOTYPES}
    for face_id in ids:
        photo = load_image(data / "neutral" / f"{face_id}.jpg")
        face = analyzer.analyze_one(photo)
        landmarks = face.landmarks.astype(np.float64)
        for name in PROTOTYPES:
            result = warp_face(photo, landmarks, target_landmarks(landmarks, prototype(name)))
            scores = analyzer.analyze_one(result.image).blendshapes
            rises[name].append({k: scores[k] - face.blendshapes[k] for k in scores if k != "_neutral"})
            folds[name].append(result.fold_fraction)
    rows = []
    for name in PROTOTYPES:
        measured = measured_shapes(name)
        total = sum(measured.values())
        per_person = [sum(w * r[k] for k, w in measured.items()) / total for r in rises[name]]
        mean = {k: float(np.mean([r[k] for r in rises[name]])) for k in rises[name][0]}
        confounds = sorted((k for k in mean if k not in prototype(name)), key=lambda k: -mean[k])[:3]
        rows.append(
            {
                "name": name,
                "people": len(ids),
                "own_rise": round(float(np.mean(per_person)), 3),
                "rose": round(float(np.mean(np.array(per_person) > 0.02)), 3),
                "own_rises": {k: round(mean[k], 3) for k in measured},
                "confounds": {k: round(mean[k], 3) for k in confounds if mean[k] > 0.05},
                "fold": round(float(np.mean(folds[name])), 5),
            }
        )
        logger.info("%s", rows[-1])
    return rows


def photo_markdown(rows: list[dict]) -> str:
    lines = [
        f"Warped held-out London photos ({rows[0]['people']} people), strength 1.0:",
        "",
        "| prototype | own rise (weighted) | rose > 0.02 | per shape | confounds (>0.05) | fold |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['own_rise']:+.3f} | {r['rose']:.0%} | {r['own_rises']} | "
            f"{r['confounds'] or '-'} | {r['fold']} |"
        )
    return "\n".join(lines)


def markdown(prototype_rows: list[dict], pose_rows: list[dict]) -> str:
    lines = [
        "| prototype | own shapes' rise (weighted) | per shape | confounds (>0.05) |",
        "|---|---|---|---|",
    ]
    for r in prototype_rows:
        if not r["tracked"]:
            lines.append(f"| {r['name']} | not tracked | | |")
            continue
        lines.append(f"| {r['name']} | {r['own_rise']:+.3f} | {r['own_rises']} | {r['confounds'] or '-'} |")
    lines += [
        "",
        "| yaw | pitch | " + " | ".join(POSE_EXPRESSIONS) + " |",
        "|---|---|" + "---|" * len(POSE_EXPRESSIONS),
    ]
    for r in pose_rows:
        lines.append(
            f"| {r['yaw']:+.0f} | {r['pitch']:+.0f} | "
            + " | ".join(f"{r[n]:.3f}" for n in POSE_EXPRESSIONS)
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from editor.face import FaceAnalyzer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    parser.add_argument("--photos", type=Path, default=None, help="the London folder: also check on photos")
    parser.add_argument("--people", type=int, default=12, help="held-out people for --photos")
    parser.add_argument("--skip-renders", action="store_true", help="only the photo check (no anny needed)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    report: dict = {}
    with FaceAnalyzer() as analyzer:
        if not args.skip_renders:
            head = anny_render.load_anny_head()
            report["prototypes"] = check_prototypes(head, analyzer)
            report["pose_transfer"] = check_pose_transfer(head, analyzer)
            sys.stdout.write(markdown(report["prototypes"], report["pose_transfer"]) + "\n\n")
        if args.photos is not None:
            report["photos"] = check_on_photos(args.photos, analyzer, args.people)
            sys.stdout.write(photo_markdown(report["photos"]) + "\n")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
