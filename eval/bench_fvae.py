"""Benchmark of the Flow VAE (issue 5) on London people it never trained on.

    python -m eval.bench_fvae --data /work/shared/data/london [--checkpoint editor/data/fvae]
        [--pixel-vae DIR] [--out results.json] [--limit N] [--identity-people N]

Test people: the London ids whose person split (`editor.geometry.pairs.split_of`) is 'test'; the
shipped checkpoint never saw them (nor their photos' synthetic pairs).

(a) The paper's Table 1: reconstruct the real smiling crop from the neutral crop with the smiling crop's
    own latent, Z = mu(smiling): PSNR and LPIPS at the model's crop size for the FVAE, the FVAE with its
    confidence (out = M * warped + (1 - M) * source: where the flow is not trusted the source stays), the
    pixel VAE of the same architecture (when --pixel-vae names one), the average-flow baseline (mean
    reconstruction flow of the TRAINING people's real smiles) and no change (the neutral crop itself).
(b) Editing: Algorithm 1 'happy' at strength 1.0 on the full-resolution neutral photo against the real
    smiling photo: LPIPS on 256 x 256 aligned crops (each photo aligned by its own detected key points),
    2D landmark error after rigid alignment in inter-iris units (all 478 points and the 40 lip points;
    `editor.geometry.calibrate_happy`), FaceLandmarker's mouthSmile, and SFace identity to the neutral
    photo; for the FVAE, the geometry backend, the average flow, no edit and the real smile itself.
(c) Identity similarity to the source for every attribute at strengths 0.3 / 0.7 / 1.0 (FVAE and geometry),
    next to the real smiles' own similarity to their neutral twins.
(d) Time per edit at full resolution (1350 x 1350), warm, median of 5, and the model's load time.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from editor.alignment import align_face
from editor.backends.fvae import FVAEBackend
from editor.backends.geometry import GeometryBackend
from editor.face import FaceAnalyzer
from editor.flow import flow_from_normalized, warp_image
from editor.fvae.data import to_image, to_tensor
from editor.fvae.edit import FlowEditor, apply_crop_flow, shipped_checkpoint
from editor.fvae.model import FlowVAE
from editor.geometry.calibrate_happy import align_to, lip_points, smile_error
from editor.geometry.pairs import split_of
from editor.geometry.prototypes import PROTOTYPES
from editor.identity import IdentityScorer
from editor.images import load_image
from editor.requests import EditRequest
from eval.metrics.image_quality import psnr
from eval.metrics.lpips import lpips_distance

logger = logging.getLogger(__name__)

STRENGTHS = (0.3, 0.7, 1.0)
COMPARE_SIDE = 256


def test_ids(data: Path) -> list[str]:
    """London ids in the test split (by person), sorted."""
    ids = sorted(p.stem for p in (data / "neutral").glob("*.jpg") if (data / "smiling" / p.name).is_file())
    return [i for i in ids if split_of(f"{data.name}/{i}") == "test"]


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 4) if values else float("nan")


def _smile(face) -> float:
    return (face.blendshapes["mouthSmileLeft"] + face.blendshapes["mouthSmileRight"]) / 2


@torch.no_grad()
def table1(editor: FlowEditor, neutral: np.ndarray, smiling: np.ndarray, pixel: FlowVAE | None) -> dict:
    """(a) for one person: crops (S, S, 3) uint8 -> method -> (psnr, lpips)."""
    source, target = to_tensor(neutral)[None], to_tensor(smiling)[None]
    model = editor.model
    z = model.encode(target, source)[0]
    features = model.source_features(source)
    flow = model.decode_flow(source, z, features)
    warped = model.warp(source, flow)
    confidence = model.confidence(source, z, features)
    outputs = {
        "fvae": to_image(warped[0]),
        "fvae_confidence": to_image((confidence * warped + (1 - confidence) * source)[0]),
        "no_change": neutral,
    }
    if "happy" in editor.labels.average_flows:
        outputs["average_flow"] = warp_image(
            neutral, flow_from_normalized(editor.labels.average_flows["happy"])
        )
    if pixel is not None:
        outputs["pixel_vae"] = to_image(pixel(source, target, sample=False).prediction[0])
    return {k: (psnr(v, smiling), lpips_distance(v, smiling)) for k, v in outputs.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_fvae", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the London folder (neutral/, smiling/)")
    parser.add_argument("--checkpoint", type=Path, default=None, help="Flow VAE folder (default: shipped)")
    parser.add_argument("--pixel-vae", type=Path, default=None, help="pixel-VAE baseline folder (optional)")
    parser.add_argument("--limit", type=int, default=None, help="at most N test people")
    parser.add_argument("--identity-people", type=int, default=5, help="people for (c) (0 skips it)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(1)

    checkpoint = args.checkpoint or shipped_checkpoint()
    started = time.perf_counter()
    fvae = FVAEBackend(checkpoint)
    load_seconds = time.perf_counter() - started
    editor = fvae.editor
    geometry = GeometryBackend()
    pixel = FlowVAE.from_pretrained(args.pixel_vae) if args.pixel_vae else None
    scorer = IdentityScorer()
    analyzer = FaceAnalyzer()
    lips = lip_points()
    ids = test_ids(args.data)[: args.limit]
    logger.info("%d test people: %s", len(ids), ", ".join(ids))

    table_a: dict[str, list[tuple[float, float]]] = {}
    methods_b = ("fvae", "geometry", "average_flow", "no_edit", "real_smile")
    table_b: dict[str, dict[str, list[float]]] = {m: {} for m in methods_b}
    identity: dict[str, dict[str, list[float]]] = {"fvae": {}, "geometry": {}}
    real_identity: list[float] = []
    timings: list[float] = []
    happy = [EditRequest(attribute="happy", strength=1.0)]
    for number, face_id in enumerate(ids):
        photo = load_image(args.data / "neutral" / f"{face_id}.jpg")
        smile_photo = load_image(args.data / "smiling" / f"{face_id}.jpg")
        face = analyzer.analyze_one(photo, 0)
        smile_face = analyzer.analyze_one(smile_photo, 0)
        crop, smile_crop = editor.align(photo, face), editor.align(smile_photo, smile_face)
        for method, values in table1(editor, crop.image, smile_crop.image, pixel).items():
            table_a.setdefault(method, []).append(values)

        neutral_lm = face.landmarks.astype(np.float64)
        real = align_to(smile_face.landmarks.astype(np.float64), neutral_lm)
        reference = align_face(smile_photo, smile_face.points5, COMPARE_SIDE).image
        embedding = scorer.embed(photo, face)
        edits = {
            "fvae": fvae.edit(photo, face, happy, steps=0).image,
            "geometry": geometry.edit(photo, face, happy, steps=0).image,
            "no_edit": photo,
            "real_smile": smile_photo,
        }
        if "happy" in editor.labels.average_flows:
            flow = flow_from_normalized(editor.labels.average_flows["happy"]) * editor.border_mask
            edits["average_flow"] = apply_crop_flow(photo, crop, flow)
        for method, image in edits.items():
            measured = analyzer.analyze_one(image, 0)
            row = table_b[method]
            moved = align_to(measured.landmarks.astype(np.float64), neutral_lm)
            row.setdefault("landmark_error", []).append(smile_error(moved, real, neutral_lm))
            row.setdefault("landmark_error_lips", []).append(smile_error(moved, real, neutral_lm, lips))
            crop_b = align_face(image, measured.points5, COMPARE_SIDE).image
            row.setdefault("lpips", []).append(lpips_distance(crop_b, reference))
            row.setdefault("mouthSmile", []).append(_smile(measured))
            row.setdefault("identity", []).append(scorer.similarity(embedding, scorer.embed(image, measured)))
        real_identity.append(table_b["real_smile"]["identity"][-1])

        if number < args.identity_people:
            for attribute in sorted(PROTOTYPES):
                for strength in STRENGTHS:
                    request = [EditRequest(attribute=attribute, strength=strength)]
                    for name, backend in (("fvae", fvae), ("geometry", geometry)):
                        if not backend.supports(attribute):
                            continue
                        image = backend.edit(photo, face, request, steps=0).image
                        similarity = scorer.similarity(embedding, scorer.embed(image, face))
                        identity[name].setdefault(f"{attribute}@{strength}", []).append(similarity)
        if number == 0:
            for _ in range(6):
                clock = time.perf_counter()
                fvae.edit(photo, face, happy, steps=0)
                timings.append(1000 * (time.perf_counter() - clock))
        logger.info("%d/%d %s done", number + 1, len(ids), face_id)

    results = {
        "checkpoint": str(checkpoint),
        "test_people": ids,
        "scorer": scorer.name,
        "a_table1_psnr_lpips": {
            m: {"psnr": _mean([v[0] for v in values]), "lpips": _mean([v[1] for v in values])}
            for m, values in table_a.items()
        },
        "b_edit_happy_vs_real_smile": {
            m: {metric: _mean(values) for metric, values in row.items()} for m, row in table_b.items()
        },
        "c_identity": {
            "real_smile_vs_neutral": _mean(real_identity),
            "threshold": scorer.threshold,
            **{
                name: {key: _mean(values) for key, values in sorted(table.items())}
                for name, table in identity.items()
            },
        },
        "d_time": {
            "edit_ms_median_of_5_warm": round(statistics.median(timings[1:]), 1) if timings else None,
            "photo_side": int(max(photo.shape[:2])) if ids else None,
            "model_load_ms": round(1000 * load_seconds, 1),
            "threads": torch.get_num_threads(),
        },
    }
    text = json.dumps(results, indent=2)
    sys.stdout.write(text + "\n")
    if args.out:
        args.out.write_text(text + "\n")
    analyzer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
