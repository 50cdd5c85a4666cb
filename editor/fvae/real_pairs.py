"""Real neutral <-> smiling pairs, registered on the rigid face and given a landmark flow.

The pair generator (`editor.geometry.pairs`) aligns each real photo by its OWN five key points; two of
them are the mouth corners, which a smile moves, so the smiling crop is shifted and scaled against the
neutral one, and the pair's difference is part expression, part re-framing (and part lighting). Without
a ground-truth flow the Flow VAE has only that noisy photometric signal to learn real smiles from.

Here instead (one person, both photos analysed by FaceLandmarker):

- the neutral crop is aligned by its key points as at editing time (`editor.alignment.align_face`);
- the smiling photo is mapped into the SAME frame by the 2D similarity that puts its rigid landmarks
  (nose, forehead, inner eye corners: `editor.geometry.motion.RIGID_POINTS`) onto the neutral photo's,
  so what is left between the crops is the expression;
- the pair's flow is the geometry warp's dense backward flow (`editor.warp.dense_backward_flow`, the same
  field the synthetic pairs carry) that moves the neutral crop's landmarks to the registered smiling
  landmarks (and back, for the reverse pair): the real smile's landmark motion, person by person.

`register_pair` is also what the benchmark uses for the Table 1 crops, so training and evaluation see the
same framing. CLI: ``python -m editor.fvae.real_pairs --data LONDON --out DIR [--size 128]`` writes a pair
folder (images/, flows/, manifest.jsonl) that `editor.fvae.data.load_pairs` reads like any other.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from editor.alignment import align_face, similarity_transform, transform_points, warp_affine
from editor.face import Face, FaceAnalyzer
from editor.flow import flow_to_normalized, resize_flow
from editor.geometry.motion import RIGID_POINTS
from editor.geometry.pairs import MANIFEST, REAL_LABEL, split_of
from editor.images import load_image, save_image
from editor.warp import dense_backward_flow

logger = logging.getLogger(__name__)

#: The pair flows are computed at this multiple of the crop size, then shrunk (as the generator does).
RENDER_FACTOR = 2


@dataclass(frozen=True)
class RegisteredPair:
    """A neutral and a smiling crop in one frame.

    Attributes:
        neutral, smiling: (S, S, 3) uint8 crops.
        neutral_landmarks, smiling_landmarks: (478, 2) float64 landmarks in crop pixels.
    """

    neutral: np.ndarray
    smiling: np.ndarray
    neutral_landmarks: np.ndarray
    smiling_landmarks: np.ndarray


def register_pair(
    neutral: np.ndarray, neutral_face: Face, smiling: np.ndarray, smiling_face: Face, size: int
) -> RegisteredPair:
    """Both photos in the neutral photo's aligned crop frame (the smiling one registered on rigid points)."""
    crop = align_face(neutral, neutral_face.points5, size)
    rigid = list(RIGID_POINTS)
    onto_neutral = similarity_transform(
        smiling_face.landmarks[rigid, :2], neutral_face.landmarks[rigid, :2]
    )  # (2, 3) smiling photo -> neutral photo
    matrix = crop.matrix @ np.vstack([onto_neutral, [0.0, 0.0, 1.0]])  # (2, 3) smiling photo -> crop
    return RegisteredPair(
        neutral=crop.image,
        smiling=warp_affine(smiling, matrix, (size, size)),
        neutral_landmarks=transform_points(neutral_face.landmarks, crop.matrix),
        smiling_landmarks=transform_points(smiling_face.landmarks, matrix),
    )


def landmark_flow(source: np.ndarray, target: np.ndarray, size: int) -> np.ndarray:
    """(size, size, 2) float16 normalised backward flow moving ``source`` (478, 2) crop landmarks to
    ``target``, computed at RENDER_FACTOR x the size and shrunk."""
    render = size * RENDER_FACTOR
    flow, _ = dense_backward_flow(source * RENDER_FACTOR, target * RENDER_FACTOR, (render, render))
    return flow_to_normalized(resize_flow(flow, (size, size))).astype(np.float16)


def write_real_pairs(data: Path, out: Path, *, size: int = 128) -> dict:
    """A pair folder of the registered real pairs of every London person (both directions)."""
    data, out = Path(data), Path(out)
    for sub in ("images", "flows"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    ids = sorted(p.stem for p in (data / "neutral").glob("*.jpg") if (data / "smiling" / p.name).is_file())
    rows = []
    render = size * RENDER_FACTOR
    with FaceAnalyzer() as analyzer:
        for number, face_id in enumerate(ids, 1):
            photos = [load_image(data / kind / f"{face_id}.jpg") for kind in ("neutral", "smiling")]
            faces = [analyzer.analyze(photo) for photo in photos]
            if not all(faces):
                logger.warning("No face in one of %s's photos: left out.", face_id)
                continue
            pair = register_pair(photos[0], faces[0][0], photos[1], faces[1][0], render)
            person = f"{data.name}/{face_id}"
            names = {}
            for state, image in (("neutral", pair.neutral), ("smiling", pair.smiling)):
                small = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
                names[state] = f"images/{face_id}_{state}.png"
                save_image(small, out / names[state])
            marks = {
                "neutral": pair.neutral_landmarks / RENDER_FACTOR,
                "smiling": pair.smiling_landmarks / RENDER_FACTOR,
            }
            for source, target, strength in (("neutral", "smiling", 1.0), ("smiling", "neutral", -1.0)):
                flow_name = f"flows/{face_id}_{source}_to_{target}.npy"
                np.save(out / flow_name, landmark_flow(marks[source], marks[target], size))
                rows.append(
                    {
                        "id": f"{face_id}_{source}_to_{target}",
                        "face_id": person,
                        "split": split_of(person),
                        "kind": "real",
                        "photo": str(data / source / f"{face_id}.jpg"),
                        "target_photo": str(data / target / f"{face_id}.jpg"),
                        "photo_state": source,
                        "source": names[source],
                        "target": names[target],
                        "flow": flow_name,
                        "flow_from": "landmarks (registered on rigid points)",
                        "label": REAL_LABEL if strength > 0 else f"-{REAL_LABEL}",
                        "requests": [{"attribute": REAL_LABEL, "strength": strength, "steps": 1}],
                        "source_requests": [],
                        "weights": {},
                        "source_weights": {},
                    }
                )
            logger.info("%d/%d %s", number, len(ids), face_id)
    with open(out / MANIFEST, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    return {"people": len(rows) // 2, "pairs": len(rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m editor.fvae.real_pairs", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", required=True, type=Path, help="the London folder (neutral/, smiling/)")
    parser.add_argument("--out", required=True, type=Path, help="pair folder to write")
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logger.info("Wrote %s: %s", args.out, json.dumps(write_real_pairs(args.data, args.out, size=args.size)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
