"""Small, fast diagnostic runs of the Flow VAE: does it learn motion from the pair, and if not, why.

    python -m editor.fvae.diagnose --data PAIRS --name NAME [--steps 400] [--set key=value ...]
    python -m editor.fvae.diagnose --data PAIRS --stats      # data figures only

``--set`` overrides any `FVAEConfig` field (``flow_supervision=0.1``) or one of this module's run
settings (`RunSettings`: ``lr``, ``batch_size``, ``real_weight``, ``pairs``, ``people``). Every
``--every`` steps a row goes to ``OUT/NAME.csv`` with the training terms and the validation figures of
`probe`:

- ``epe`` / ``epe_zero``: mean end-point error of the predicted flow against the synthetic pairs' true
  flow (crop pixels, every pixel), and the same for the zero flow (the "no motion" answer);
- ``epe_moving`` / ``epe_moving_zero``: the same over the pixels that move by more than half a pixel;
- ``epe_shuffled``: the error when each pair's latent is swapped with another pair's; equal to ``epe``
  means the decoder ignores Z (it predicts the same flow whatever the target);
- ``kl_active``: latent units whose mean KL exceeds 0.01 nats (the rest have collapsed to the prior);
- ``rec_synthetic`` / ``rec_real``: reconstruction (summed squared error, RGB in 0..1) per kind.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import torch

from editor.fvae.data import PairSet, hflip, load_pairs
from editor.fvae.model import FlowVAE, FVAEConfig
from editor.fvae.train import _MIRROR, ExpressionHead

logger = logging.getLogger(__name__)

#: Flow magnitude (crop pixels) above which a pixel counts as moving.
MOVING_PX = 0.5


@dataclass(frozen=True)
class RunSettings:
    """Optimisation of a diagnostic run."""

    lr: float = 3e-4  # Adam learning rate
    batch_size: int = 16  # pairs per step
    real_weight: float = 1.0  # weight of the real pairs' loss (0: synthetic pairs only)
    pairs: int = 0  # train on the first N training pairs only (0: all)
    people: int = 0  # train on the pairs of the first N training people only (0: all)
    seed: int = 0  # initialisation, order, flips
    clip: float = 5.0  # gradient-norm clipping
    expression_supervision: float = 0.0  # weight of the training-only ExpressionHead term


def data_stats(pairs: PairSet) -> dict:
    """Per kind: count, mean |true flow| (px), moving-pixel share, identity-warp reconstruction."""
    size = pairs.sources.shape[-1]
    result: dict[str, dict] = {}
    kinds = sorted({row["kind"] for row in pairs.rows})
    for kind in kinds:
        index = torch.tensor([i for i, r in enumerate(pairs.rows) if r["kind"] == kind])
        source, target, flow = pairs.batch(index)
        identity = (source - target).pow(2).flatten(1).sum(1)  # (n,) reconstruction of the zero flow
        entry = {"pairs": len(index), "rec_zero_flow": round(float(identity.mean()), 2)}
        if bool(pairs.has_flow[index].all()):
            magnitude = flow.mul(size / 2).pow(2).sum(1).sqrt()  # (n, H, W) crop pixels
            per_pair = magnitude.flatten(1)
            moving = (per_pair > MOVING_PX).float().mean(1)  # (n,)
            entry |= {
                "flow_px_mean": round(float(per_pair.mean()), 3),
                "flow_px_max_median": round(float(per_pair.max(1).values.median()), 2),
                "moving_share_mean": round(float(moving.mean()), 4),
                "pairs_with_motion_over_1px": int((per_pair.max(1).values > 1.0).sum()),
            }
            warped = FlowVAE.warp(source, flow)
            entry["rec_true_flow"] = round(float((warped - target).pow(2).flatten(1).sum(1).mean()), 2)
        result[kind] = entry
    return result


@torch.no_grad()
def probe(model: FlowVAE, pairs: PairSet, index: torch.Tensor) -> dict[str, float]:
    """Validation figures on ``pairs[index]`` (see the module docstring); Z = mu."""
    model.eval()
    size = model.config.image_size
    source, target, flow = pairs.batch(index)
    mu, logvar = model.encode(target, source)  # (N, C, h, w)
    features = model.source_features(source)
    figures: dict[str, float] = {}
    kl_units = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)  # (N, C, h, w)
    figures["kl"] = float(kl_units.flatten(1).sum(1).mean())
    figures["kl_active"] = int((kl_units.mean(0) > 0.01).sum())
    predicted = model.decode_flow(source, mu, features)  # (N, 2, H, W)
    shuffled = model.decode_flow(source, mu.roll(1, 0), features)
    rec = (model.warp(source, predicted) - target).pow(2).flatten(1).sum(1)  # (N,)
    synthetic = pairs.has_flow[index]
    real = torch.tensor([pairs.rows[i]["kind"] == "real" for i in index.tolist()])
    if synthetic.any():
        truth = flow[synthetic].mul(size / 2)  # (n, 2, H, W) crop pixels
        moving = truth.pow(2).sum(1).sqrt() > MOVING_PX  # (n, H, W)

        def error(guess: torch.Tensor) -> tuple[float, float]:
            epe = (guess.mul(size / 2) - truth).pow(2).sum(1).sqrt()  # (n, H, W)
            return float(epe.mean()), float(epe[moving].mean()) if moving.any() else math.nan

        figures["epe"], figures["epe_moving"] = error(predicted[synthetic])
        figures["epe_zero"], figures["epe_moving_zero"] = error(torch.zeros_like(truth))
        figures["epe_shuffled"], figures["epe_moving_shuffled"] = error(shuffled[synthetic])
        figures["rec_synthetic"] = float(rec[synthetic].mean())
    if real.any():
        figures["rec_real"] = float(rec[real].mean())
        figures["rec_real_zero"] = float((source[real] - target[real]).pow(2).flatten(1).sum(1).mean())
    figures["flow_px_predicted"] = float(predicted.mul(size / 2).pow(2).sum(1).sqrt().mean())
    return {k: round(v, 4) for k, v in figures.items()}


def _subset(pairs: PairSet, settings: RunSettings) -> torch.Tensor:
    """Indices of the training pairs a run uses."""
    index = list(range(len(pairs)))
    if settings.people:
        keep = sorted({r["face_id"] for r in pairs.rows})[: settings.people]
        index = [i for i in index if pairs.rows[i]["face_id"] in keep]
    if settings.real_weight == 0:
        index = [i for i in index if pairs.rows[i]["kind"] != "real"]
    if settings.pairs:
        index = index[: settings.pairs]
    return torch.tensor(index)


def run(
    train_set: PairSet,
    val_set: PairSet,
    model_config: FVAEConfig,
    settings: RunSettings,
    *,
    steps: int,
    every: int,
    log_path: Path,
) -> list[dict]:
    """Train ``steps`` steps, probing every ``every``; rows also written to ``log_path`` (CSV)."""
    torch.manual_seed(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    model = FlowVAE(model_config)
    head = ExpressionHead(model_config.latent_channels * model_config.latent_size**2)
    optimizer = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=settings.lr)
    pool = _subset(train_set, settings)
    real = torch.tensor([r["kind"] == "real" for r in train_set.rows])
    val_index = torch.arange(min(len(val_set), 160))
    rows: list[dict] = []
    started = time.perf_counter()
    totals: dict[str, float] = {}
    count = 0
    for step in range(1, steps + 1):
        model.train()
        index = pool[torch.randint(len(pool), (settings.batch_size,), generator=generator)]
        source, target, flow = train_set.batch(index)
        flip = torch.rand(len(index), generator=generator) < 0.5
        if flip.any():
            source[flip], target[flip], flow[flip] = hflip(source[flip], target[flip], flow[flip])
        weight = torch.where(real[index], settings.real_weight, 1.0)  # (B,)
        terms, out = model.losses(
            source, target, flow, train_set.has_flow[index], weight=weight, return_output=True
        )
        if settings.expression_supervision > 0:
            change = train_set.expression[index]  # (B, 52)
            change[flip] = change[flip][:, _MIRROR]
            terms["expression"] = head.loss(out.mu, change, train_set.has_expression[index])
            terms["loss"] = terms["loss"] + settings.expression_supervision * terms["expression"]
        optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), settings.clip)
        optimizer.step()
        for key, value in terms.items():
            totals[key] = totals.get(key, 0.0) + float(value.detach())
        totals["grad_norm"] = totals.get("grad_norm", 0.0) + float(norm)
        count += 1
        if step % every == 0 or step == steps:
            row = {"step": step, "seconds": round(time.perf_counter() - started, 1)}
            row |= {f"train_{k}": round(v / count, 3) for k, v in totals.items()}
            row |= {f"val_{k}": v for k, v in probe(model, val_set, val_index).items()}
            rows.append(row)
            totals, count = {}, 0
            logger.info("%s", json.dumps(row))
            with open(log_path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[-1]))
                writer.writeheader()
                writer.writerows(rows)
    return rows


def _parse_sets(items: list[str]) -> tuple[dict, dict]:
    model_fields = {f.name: f for f in fields(FVAEConfig)}
    run_fields = {f.name: f for f in fields(RunSettings)}
    model_changes, run_changes = {}, {}
    for item in items:
        key, _, value = item.partition("=")
        target = model_changes if key in model_fields else run_changes
        known = model_fields if key in model_fields else run_fields
        if key not in known:
            raise SystemExit(f"--set {key}: not a FVAEConfig field nor a run setting.")
        kind = type(getattr(FVAEConfig() if key in model_fields else RunSettings(), key))
        target[key] = kind(value)
    return model_changes, run_changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m editor.fvae.diagnose", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", action="append", required=True, type=Path, help="pair folder")
    parser.add_argument("--name", default="run", help="name of the run (its CSV file)")
    parser.add_argument("--out", type=Path, default=Path("/work/fvae_runs/diag"), help="folder of the logs")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--stats", action="store_true", help="print the data figures and stop")
    parser.add_argument("--set", action="append", default=[], help="key=value (FVAEConfig or RunSettings)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    train_set = load_pairs(args.data, "train")
    if args.stats:
        logger.info("train: %s", json.dumps(data_stats(train_set)))
        return 0
    val_set = load_pairs(args.data, "val")
    order = torch.randperm(len(val_set), generator=torch.Generator().manual_seed(0))
    val_set = PairSet(
        [val_set.rows[i] for i in order.tolist()],
        val_set.sources[order],
        val_set.raw_sources[order],
        val_set.targets[order],
        val_set.flows[order],
        val_set.has_flow[order],
        val_set.expression[order],
        val_set.has_expression[order],
    )
    model_changes, run_changes = _parse_sets(args.set)
    model_config = replace(FVAEConfig.cpu(), **model_changes)
    settings = replace(RunSettings(), **run_changes)
    logger.info("run %s: %s %s", args.name, json.dumps(model_changes), json.dumps(asdict(settings)))
    run(
        train_set,
        val_set,
        model_config,
        settings,
        steps=args.steps,
        every=args.every,
        log_path=args.out / f"{args.name}.csv",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
