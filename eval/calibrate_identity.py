"""Calibrate the identity scorer's "same person" threshold on real photos.

On the Face Research Lab London Set (81 people photographed neutral and smiling), this measures the
similarity distribution of

- genuine pairs: the same person, neutral vs smiling (a real expression change, what an edit is), and
- impostor pairs: different people, neutral vs smiling and neutral vs neutral,

and reports percentiles, the ROC (false accept / false reject rates), the equal error rate, and the
threshold facechat uses. Threshold rule: the lowest similarity that at most 0.1% of impostor pairs reach
(FAR <= 0.1%), so that an edit judged "same person" is very unlikely to have turned into someone else;
the false-reject rate of real expression changes at that threshold is reported beside it.

Usage::

    python -m eval.calibrate_identity --data ../shared/data/london [--arcface MODEL.onnx] [--write-package]

Writes ``eval/results/identity_calibration_<scorer>.json`` and ``.md``; with ``--write-package``, also
records the threshold in ``editor/data/identity_calibration.json`` (looked up by the model's sha256).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tqdm import tqdm

from editor.errors import FacechatError
from editor.face import FaceAnalyzer
from editor.identity import IdentityScorer
from editor.images import load_image

logger = logging.getLogger(__name__)

#: Impostor false-accept rate the threshold is set at.
TARGET_FAR = 1e-3
REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_TABLE = REPO_ROOT / "editor" / "data" / "identity_calibration.json"
RESULTS_DIR = REPO_ROOT / "eval" / "results"


def embed_folder(
    data: Path, scorer: IdentityScorer, analyzer: FaceAnalyzer
) -> dict[str, dict[str, np.ndarray]]:
    """Embeddings {person id: {"neutral": (D,), "smiling": (D,)}} for people with both photos."""
    ids = sorted(p.stem for p in (data / "neutral").glob("*.jpg") if (data / "smiling" / p.name).exists())
    if not ids:
        raise FacechatError(f"{data} has no neutral/ID.jpg with a matching smiling/ID.jpg.")
    embeddings: dict[str, dict[str, np.ndarray]] = {}
    for person in tqdm(ids, desc="embedding", unit="person"):
        entry = {}
        for expression in ("neutral", "smiling"):
            image = load_image(data / expression / f"{person}.jpg")
            try:
                face = analyzer.analyze_one(image)
            except FacechatError as error:
                logger.warning("skipping %s/%s: %s", expression, person, error)
                break
            entry[expression] = scorer.embed(image, face)
        else:
            embeddings[person] = entry
    return embeddings


def pair_similarities(embeddings: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Similarity arrays for genuine and impostor pairs."""
    ids = sorted(embeddings)
    neutral = np.stack([embeddings[i]["neutral"] for i in ids])  # (N, D)
    smiling = np.stack([embeddings[i]["smiling"] for i in ids])  # (N, D)
    cross = neutral @ smiling.T  # (N, N): neutral of i vs smiling of j
    within = neutral @ neutral.T  # (N, N)
    off_diagonal = ~np.eye(len(ids), dtype=bool)
    return {
        "genuine_neutral_vs_smiling": np.diag(cross).copy(),
        "impostor_neutral_vs_smiling": cross[off_diagonal],
        "impostor_neutral_vs_neutral": within[np.triu(off_diagonal, 1)],
    }


def roc(genuine: np.ndarray, impostor: np.ndarray) -> dict[str, float]:
    """Equal error rate and operating points from the two score distributions."""
    thresholds = np.unique(np.concatenate([genuine, impostor, [-1.0, 1.0]]))
    far = np.array([(impostor >= t).mean() for t in thresholds])  # false accept rate
    frr = np.array([(genuine < t).mean() for t in thresholds])  # false reject rate
    k = int(np.argmin(np.abs(far - frr)))
    at_target = thresholds[np.argmax(far <= TARGET_FAR)]
    return {
        "eer": float((far[k] + frr[k]) / 2),
        "eer_threshold": float(thresholds[k]),
        "far_target": TARGET_FAR,
        "threshold_at_far_target": float(at_target),
        "frr_at_far_target": float((genuine < at_target).mean()),
        "auc": float(
            np.mean(genuine[:, None] > impostor[None, :])
            + 0.5 * np.mean(genuine[:, None] == impostor[None, :])
        ),
    }


def bootstrap_threshold(
    genuine: np.ndarray, impostor: np.ndarray, rounds: int = 200, seed: int = 0
) -> dict[str, float]:
    """Spread of the FAR-target threshold when the pairs are resampled (how trustworthy it is)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        g = rng.choice(genuine, size=len(genuine))
        i = rng.choice(impostor, size=len(impostor))
        values.append(roc(g, i)["threshold_at_far_target"])
    return {
        "p05": float(np.percentile(values, 5)),
        "p50": float(np.median(values)),
        "p95": float(np.percentile(values, 95)),
    }


def summarise(similarities: dict[str, np.ndarray]) -> dict:
    """Percentiles of each distribution, ROC, threshold and its bootstrap spread."""
    percentiles = (0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 100)
    distributions = {
        name: {"count": int(len(values)), **{f"p{p:g}": float(np.percentile(values, p)) for p in percentiles}}
        for name, values in similarities.items()
    }
    genuine = similarities["genuine_neutral_vs_smiling"]
    impostor = np.concatenate(
        [similarities["impostor_neutral_vs_smiling"], similarities["impostor_neutral_vs_neutral"]]
    )
    curve = roc(genuine, impostor)
    return {
        "distributions": distributions,
        "roc": curve,
        "threshold": curve["threshold_at_far_target"],
        "threshold_bootstrap": bootstrap_threshold(genuine, impostor),
        "rule": f"lowest similarity reached by at most {TARGET_FAR:.1%} of impostor pairs",
        "separation_gap": [float(impostor.max()), float(genuine.min())],
    }


def markdown(report: dict) -> str:
    """The report as a Markdown page."""
    lines = [
        f"# Identity calibration: {report['scorer']}",
        "",
        f"Data: {report['data']} ({report['people']} people), {report['date']}.",
        f"Command: `{report['command']}`",
        "",
        "| pairs | count | p1 | p5 | p10 | p25 | p50 | p75 | p95 | p99 | p99.9 | max |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, d in report["distributions"].items():
        cells = " | ".join(
            f"{d[k]:.3f}" for k in ("p1", "p5", "p10", "p25", "p50", "p75", "p95", "p99", "p99.9", "p100")
        )
        lines.append(f"| {name.replace('_', ' ')} | {d['count']} | {cells} |")
    curve, boot, gap = report["roc"], report["threshold_bootstrap"], report["separation_gap"]
    lines += [
        "",
        f"- ROC AUC {curve['auc']:.4f}; equal error rate {curve['eer']:.2%}"
        + (
            f" (the distributions do not overlap: every threshold between the highest impostor, "
            f"{gap[0]:.3f}, "
            f"and the lowest genuine pair, {gap[1]:.3f}, separates them)."
            if gap[0] < gap[1]
            else f" at similarity {curve['eer_threshold']:.3f}."
        ),
        f"- **Threshold {report['threshold']:.3f}**: the {report['rule']} (false accept rate <= 0.1%). "
        f"At it, {curve['frr_at_far_target']:.1%} of real neutral-vs-smiling pairs of the same person fall "
        "below (false rejects).",
        f"- Bootstrap (200 resamplings of the pairs): threshold p5 {boot['p05']:.3f}, "
        f"median {boot['p50']:.3f}, p95 {boot['p95']:.3f}.",
        "",
    ]
    return "\n".join(lines)


def write_package_threshold(report: dict) -> None:
    """Record the threshold in the packaged table, replacing an older entry for the same model."""
    table = json.loads(PACKAGE_TABLE.read_text()) if PACKAGE_TABLE.exists() else {"models": []}
    entries = [e for e in table["models"] if e["model_sha256"] != report["model_sha256"]]
    entries.append(
        {
            "scorer": report["scorer"],
            "model_sha256": report["model_sha256"],
            "threshold": round(report["threshold"], 4),
            "rule": report["rule"],
            "eer": round(report["roc"]["eer"], 4),
            "frr_at_threshold": round(report["roc"]["frr_at_far_target"], 4),
            "data": report["data"],
            "people": report["people"],
            "date": report["date"],
            "source": f"eval/results/identity_calibration_{report['scorer_file']}.md",
        }
    )
    table["models"] = sorted(entries, key=lambda e: e["scorer"])
    PACKAGE_TABLE.write_text(json.dumps(table, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.calibrate_identity", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="folder with neutral/ID.jpg and smiling/ID.jpg"
    )
    parser.add_argument(
        "--arcface", type=Path, default=None, help="calibrate this ArcFace ONNX instead of SFace"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR, help="folder for the JSON and Markdown results"
    )
    parser.add_argument("--write-package", action="store_true", help="record the threshold in editor/data")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    scorer = IdentityScorer(arcface_model=args.arcface, threshold=0.0)
    with FaceAnalyzer() as analyzer:
        embeddings = embed_folder(args.data, scorer, analyzer)
    report = {
        "scorer": scorer.name,
        "scorer_file": scorer.name.replace(":", "_").replace(".onnx", ""),
        "model_sha256": scorer.model_sha256,
        "data": os.path.basename(os.path.normpath(args.data)),
        "people": len(embeddings),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "command": "python -m eval.calibrate_identity " + " ".join(sys.argv[1:] if argv is None else argv),
        **summarise(pair_similarities(embeddings)),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"identity_calibration_{report['scorer_file']}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    page = markdown(report)
    stem.with_suffix(".md").write_text(page)
    if args.write_package:
        write_package_threshold(report)
    sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
