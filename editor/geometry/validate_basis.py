"""Validate the blendshape basis on renders of `anny`: does FaceLandmarker see each blendshape?

    python -m editor.geometry.validate_basis [--basis editor/data/blendshape_basis.npz] [--weight 1.0]
        [--json out.json]

For each of the 51 blendshapes MediaPipe scores (anny's 52 minus "tongueOut"), render anny with that
target alone at `--weight` and report:

- the FaceLandmarker score of the same-named blendshape on the render, against the neutral render;
- how well the basis predicts the landmark motion FaceLandmarker measures between the two renders:
  cosine between the measured (478 x 2) image motion and the basis displacement projected into the
  render, and the ratio of their magnitudes (FaceLandmarker is known to under-report skin sliding).

Build-time only (needs anny). Writes a markdown table to stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from editor.geometry import anny_render
from editor.geometry.basis import read_basis

logger = logging.getLogger(__name__)


def validate(basis_path: Path, weight: float = 1.0, size: int = 512) -> list[dict]:
    """One row per MediaPipe-scored blendshape (see the module docstring for the columns)."""
    from editor.face import FaceAnalyzer

    basis = read_basis(basis_path)
    head = anny_render.load_anny_head()
    camera = anny_render.default_camera(head, size=size)
    # canonical unit -> render pixels: the basis unit is metres_per_unit; the camera is frontal, and the
    # canonical frame is image-aligned (x right, y down), so x, y map with one scale.
    px_per_unit = camera.ppm * float(basis.provenance["metres_per_unit"])
    rows = []
    with FaceAnalyzer() as analyzer:
        neutral = analyzer.analyze_one(anny_render.render(head, head.vertices, camera).image)
        for name in basis.names:
            if name not in neutral.blendshapes:
                logger.info("skipping %s: FaceLandmarker does not score it", name)
                continue
            image = anny_render.render(head, head.posed({name: weight}), camera).image
            faces = analyzer.analyze(image)
            if not faces:
                rows.append({"name": name, "tracked": False})
                continue
            face = faces[0]
            measured = (face.landmarks[:, :2] - neutral.landmarks[:, :2]).astype(np.float64).ravel()
            predicted = (weight * px_per_unit * basis.displacements[basis.index(name), :, :2]).ravel()
            norm = np.linalg.norm(measured) * np.linalg.norm(predicted)
            rows.append(
                {
                    "name": name,
                    "tracked": True,
                    "neutral_score": round(neutral.blendshapes[name], 3),
                    "edited_score": round(face.blendshapes[name], 3),
                    "rise": round(face.blendshapes[name] - neutral.blendshapes[name], 3),
                    "motion_cosine": round(float(measured @ predicted / norm), 3) if norm > 0 else None,
                    "motion_ratio": round(float(np.linalg.norm(measured) / np.linalg.norm(predicted)), 3)
                    if np.linalg.norm(predicted) > 0
                    else None,
                    "basis_max_motion": round(
                        float(np.linalg.norm(basis.displacements[basis.index(name)], axis=1).max()), 3
                    ),
                }
            )
            logger.info("%s", rows[-1])
    return rows


def markdown(rows: list[dict]) -> str:
    """The rows as a markdown table, with a summary line."""
    lines = [
        "| blendshape | neutral | edited | rise | motion cos | measured/basis | basis max (IPD) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if not r["tracked"]:
            lines.append(f"| {r['name']} | not tracked | | | | | |")
            continue
        lines.append(
            f"| {r['name']} | {r['neutral_score']:.3f} | {r['edited_score']:.3f} | {r['rise']:+.3f} | "
            f"{r['motion_cosine']} | {r['motion_ratio']} | {r['basis_max_motion']} |"
        )
    rose = sum(1 for r in rows if r.get("rise", 0) > 0.05)
    lines.append(f"\n{rose} of {len(rows)} blendshapes rise by more than 0.05.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--basis", type=Path, default=Path("editor/data/blendshape_basis.npz"))
    parser.add_argument("--weight", type=float, default=1.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    rows = validate(args.basis, args.weight)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    sys.stdout.write(markdown(rows) + "\n")


if __name__ == "__main__":
    main()
