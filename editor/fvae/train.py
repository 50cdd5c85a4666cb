"""Train the Flow VAE as the paper does, then its confidence network, then the label directions.

1. Flow model: Adam (3e-4), gradient norm clipped at 5, random horizontal flips, sources
   colour-transferred to their targets (`editor.fvae.data`), loss = L2 + 0.003 KL + 0.001 coherence; after
   every epoch the validation loss (Z = mu, so it is deterministic) on the person-disjoint validation
   split decides the best checkpoint and early stopping (``patience`` epochs without improvement).
2. Confidence network M(S, Z): the flow model frozen, per-pixel cross-entropy against the soft labels.
3. Label directions for Algorithm 1 (`editor.fvae.labels`), from the training split only.

Everything lands in ``out``: config.json + model.safetensors (the best epoch), labels.json,
average_flows.npz, training_log.csv (one row per epoch and stage) and training.json (command, data,
seed, settings, times, curves). ``facechat train-fvae`` is the command line.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from editor.fvae.data import PairSet, hflip, load_pairs
from editor.fvae.labels import fit_labels
from editor.fvae.model import FlowVAE, FVAEConfig, count_parameters, flow_coherence, kl_divergence

logger = logging.getLogger(__name__)

LOG_FILE = "training_log.csv"
SUMMARY_FILE = "training.json"


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (the paper's where it gives them)."""

    seed: int = 0  # seeds initialisation, shuffling, flips and the reparameterisation noise
    epochs: int = 40  # at most this many epochs of the flow model
    batch_size: int = 16  # pairs per step
    lr: float = 3e-4  # Adam learning rate (the paper)
    clip: float = 5.0  # gradient-norm clipping (the paper)
    patience: int = 4  # early stopping: epochs without a better validation loss
    max_minutes: float = 22.0  # wall-clock budget of the flow stage in THIS invocation (a resumed run
    #   gets a fresh budget); the best epoch so far is kept
    real_repeats: int = 4  # real pairs are seen this many times per epoch (they are few, and the target)
    real_weight: float = 1.0  # weight of the real pairs' reconstruction term (their flow term is not scaled)
    expression_supervision: float = 0.0  # weight of the `ExpressionHead` term (0: the paper's latent)
    kl_warmup_steps: int = 0  # the KL weight ramps up linearly over this many steps (0: full from the
    #   start, the paper); without it the posterior collapsed to the prior before the decoder used Z
    mask_epochs: int = 3  # epochs of the confidence network
    mask_minutes: float = 4.0  # wall-clock budget of the confidence stage
    threads: int = 1  # torch CPU threads: on shared, busy cores one thread beats two (no stalls at barriers)
    save_every: int = 50  # steps between saves of the resumable state (when a state folder is given)


STATE_FILE = "state.pt"


class ExpressionHead(nn.Module):
    """Training-only: a linear read-out of the 52 blendshape weights a synthetic pair added, from mu.

    Not in the paper and not saved with the model. It gives the encoder a direct reason to put the
    expression change into Z from the first step; without it the encoder only learns through a decoder
    that starts ignoring Z (editor/data/fvae/README.md, the diagnostic runs).
    """

    def __init__(self, latent: int, outputs: int = 52) -> None:
        super().__init__()
        self.linear = nn.Linear(latent, outputs)

    def loss(self, mu: torch.Tensor, change: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        """Summed squared error of the read-out (B, 52) against ``change`` over the ``known`` pairs."""
        if not known.any():
            return mu.new_zeros(())
        guess = self.linear(mu.flatten(1))  # (B, 52)
        return (guess - change).pow(2).sum(1)[known].mean()


def _mirror_index() -> list[int]:
    """Index that swaps every Left/Right blendshape pair (what a horizontal flip does to a face)."""
    from editor.fvae.data import expression_names

    names = list(expression_names())
    swapped = [n.replace("Left", "\0").replace("Right", "Left").replace("\0", "Right") for n in names]
    return [names.index(n) for n in swapped]


_MIRROR = _mirror_index()


def _write_log(path: Path, rows: list[dict]) -> None:
    """The loss log: one CSV row per epoch and stage (rewritten whole, it is small)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        keys = sorted({k for r in rows for k in r}, key=lambda k: (k not in ("stage", "epoch"), k))
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


def _epoch_order(train: PairSet, repeats: int, generator: torch.Generator) -> torch.Tensor:
    real = torch.tensor([row["kind"] == "real" for row in train.rows])
    index = torch.cat([torch.arange(len(train))] + [torch.nonzero(real).flatten()] * (repeats - 1))
    return index[torch.randperm(len(index), generator=generator)]


@torch.no_grad()
def evaluate(model: FlowVAE, pairs: PairSet, batch_size: int = 64) -> dict[str, float]:
    """Validation figures with Z = mu: loss terms (per-pair sums), flow error in crop pixels, real-pair L2.

    ``flow_epe_px`` is the mean end-point error against the known flows (synthetic pairs, and registered
    real pairs), ``flow_epe_px_shuffled`` the same with each pair's Z swapped for another pair's (equal
    to ``flow_epe_px`` when the decoder ignores Z) and ``flow_epe_px_zero`` that of the zero flow.
    """
    model.eval()
    sums: dict[str, float] = {}
    real_error, real_count = 0.0, 0
    epe = {"flow_epe_px": 0.0, "flow_epe_px_shuffled": 0.0, "flow_epe_px_zero": 0.0}
    flow_count = 0
    size = model.config.image_size
    config = model.config
    for start in range(0, len(pairs), batch_size):
        index = torch.arange(start, min(start + batch_size, len(pairs)))
        source, target, flow = pairs.batch(index)
        out = model(source, target, sample=False)
        per_pair = (out.prediction - target).pow(2).flatten(1).sum(1)  # (B,)
        terms = {"reconstruction": float(per_pair.sum())}
        terms["kl"] = float(kl_divergence(out.mu, out.logvar)) * len(index)
        if out.flow is not None:
            terms["coherence"] = float(
                flow_coherence(out.native_flow, target, config.coherence_window, config.coherence_sigma)
            ) * len(index)
            has = pairs.has_flow[index]
            if has.any():
                truth = flow[has] * (size / 2)  # (b, 2, H, W) crop pixels
                error = (out.flow[has] * (size / 2) - truth).pow(2)  # (b, 2, H, W)
                terms["flow_supervision"] = float(error.flatten(1).sum(1).sum())
                shuffled = model.decode_flow(source, out.mu.roll(1, 0))[has] * (size / 2)
                for key, guess in (
                    ("flow_epe_px", out.flow[has] * (size / 2)),
                    ("flow_epe_px_shuffled", shuffled),
                    ("flow_epe_px_zero", torch.zeros_like(truth)),
                ):
                    epe[key] += float((guess - truth).pow(2).sum(1).sqrt().mean((1, 2)).sum())
                flow_count += int(has.sum())
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + value
        real = torch.tensor([pairs.rows[i]["kind"] == "real" for i in index.tolist()])
        real_error += float(per_pair[real].sum())
        real_count += int(real.sum())
    n = len(pairs)
    result = {key: value / n for key, value in sums.items()}
    result["loss"] = (
        result["reconstruction"]
        + config.kl_weight * result["kl"]
        + config.coherence_weight * result.get("coherence", 0.0)
        + config.flow_supervision * result.get("flow_supervision", 0.0)
    )
    if flow_count:
        result |= {key: value / flow_count for key, value in epe.items()}
    if real_count:
        result["real_reconstruction"] = real_error / real_count
    return result


@torch.no_grad()
def evaluate_mask(model: FlowVAE, pairs: PairSet, batch_size: int = 64) -> float:
    """Mean per-pixel cross-entropy of the confidence network on ``pairs``."""
    model.eval()
    total = 0.0
    for start in range(0, len(pairs), batch_size):
        index = torch.arange(start, min(start + batch_size, len(pairs)))
        source, target, _ = pairs.batch(index)
        total += float(model.mask_loss(source, target)) * len(index)
    return total / len(pairs)


def train(
    data: Sequence[Path],
    out: Path,
    *,
    model_config: FVAEConfig | None = None,
    config: TrainConfig | None = None,
    command: str | None = None,
    state_dir: Path | None = None,
    resume: bool = False,
    init_from: Path | None = None,
) -> dict:
    """Train, keep the best epoch, fit the confidence network and label directions; write ``out``.

    With ``state_dir``, the whole optimisation state (model, optimiser, epoch order and position, random
    generators, best epoch, log) is saved there every ``save_every`` steps and at every epoch's end, and
    ``resume`` continues from it (same data, same settings: the state's model config is used). The best
    flow model so far is also written to ``out`` at every new best epoch, so a stopped run leaves a
    checkpoint (without labels until `finish` runs). ``init_from`` (a Flow VAE folder written by
    `FlowVAE.save_pretrained`, e.g. the shipped checkpoint) starts a NEW run from its weights: its model
    config replaces ``model_config``; optimiser, epochs and log start afresh (continuation training on
    new pairs). Returns the summary written to training.json.
    """
    config = config or TrainConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    started = time.perf_counter()
    if resume and init_from is not None:
        raise ValueError("Resume a run or start one from a checkpoint (init_from), not both.")
    state_path = Path(state_dir) / STATE_FILE if state_dir is not None else None
    saved = (
        torch.load(state_path, weights_only=False) if resume and state_path and state_path.is_file() else None
    )
    if resume and saved is None:
        raise FileNotFoundError(f"Nothing to resume: {state_path} does not exist.")
    initial = FlowVAE.from_pretrained(init_from) if init_from is not None else None
    if saved is not None:
        model_config = FVAEConfig(**saved["model_config"])
    elif initial is not None:
        if model_config is not None and model_config != initial.config:
            logger.warning("Starting from %s: its model settings replace the ones given.", init_from)
        model_config = initial.config
    model_config = model_config or FVAEConfig.cpu()

    train_set = load_pairs(data, "train")
    val_set = load_pairs(data, "val")
    model = initial if initial is not None else FlowVAE(model_config)  # put in train mode per epoch
    if initial is not None:
        logger.info("Starting from the weights in %s", init_from)
    logger.info("Flow VAE with %.2f M parameters", count_parameters(model) / 1e6)
    head = ExpressionHead(model.config.latent_channels * model.config.latent_size**2)
    optimizer = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=config.lr)
    real = torch.tensor([row["kind"] == "real" for row in train_set.rows])

    log_rows: list[dict] = []
    best: dict = {"loss": math.inf, "epoch": -1}
    best_state = None
    first_epoch, first_step, order, totals = 1, 0, None, {}
    previous_seconds = 0.0
    if saved is not None:
        model.load_state_dict(saved["model"])
        head.load_state_dict(saved["head"])
        optimizer.load_state_dict(saved["optimizer"])
        generator.set_state(saved["generator"])
        torch.set_rng_state(saved["torch_rng"])
        log_rows, best, best_state = saved["log_rows"], saved["best"], saved["best_state"]
        first_epoch, first_step, order, totals = (
            saved["epoch"],
            saved["step"],
            saved["order"],
            saved["totals"],
        )
        previous_seconds = saved["seconds"]
        logger.info("Resumed %s at epoch %d, step %d", state_path, first_epoch, first_step)
    log_path = out / LOG_FILE

    def log(row: dict) -> None:
        log_rows.append(row)
        _write_log(log_path, log_rows)

    flow_started = time.perf_counter()

    def save_state(epoch: int, step: int, order: torch.Tensor | None, totals: dict) -> None:
        if state_path is None:
            return
        state_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "model_config": asdict(model_config),
            "train_config": asdict(config),
            "model": model.state_dict(),
            "head": head.state_dict(),
            "optimizer": optimizer.state_dict(),
            "generator": generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "epoch": epoch,
            "step": step,
            "order": order,
            "totals": totals,
            "best": best,
            "best_state": best_state,
            "log_rows": log_rows,
            "seconds": previous_seconds + time.perf_counter() - flow_started,
        }
        torch.save(payload, state_path.with_suffix(".tmp"))
        state_path.with_suffix(".tmp").replace(state_path)  # atomic: a kill never leaves half a state

    stopped = "epochs"
    for epoch in range(first_epoch, config.epochs + 1):
        model.train()
        if order is None:
            order, totals = _epoch_order(train_set, config.real_repeats, generator), {}
        steps = math.ceil(len(order) / config.batch_size)
        bar = tqdm(
            range(first_step, steps), desc=f"epoch {epoch}", file=sys.stderr, leave=False, mininterval=5.0
        )
        step = first_step - 1
        for step in bar:
            index = order[step * config.batch_size : (step + 1) * config.batch_size]
            source, target, flow = train_set.batch(index)
            flip = torch.rand(len(index), generator=generator) < 0.5
            if flip.any():
                fs, ft, ff = hflip(source[flip], target[flip], flow[flip])
                source[flip], target[flip], flow[flip] = fs, ft, ff
            weight = torch.where(real[index], config.real_weight, 1.0)  # (B,)
            done = (epoch - 1) * steps + step  # steps so far (epochs are of one size)
            warm = min(1.0, done / config.kl_warmup_steps) if config.kl_warmup_steps else 1.0
            terms, forward = model.losses(
                source,
                target,
                flow,
                train_set.has_flow[index],
                weight=weight,
                kl_scale=warm,
                return_output=True,
            )
            if config.expression_supervision > 0:
                change = train_set.expression[index]  # (B, 52)
                change[flip] = change[flip][:, _MIRROR]  # a mirrored pair shows the other side's shapes
                terms["expression"] = head.loss(forward.mu, change, train_set.has_expression[index])
                terms["loss"] = terms["loss"] + config.expression_supervision * terms["expression"]
            optimizer.zero_grad(set_to_none=True)
            terms["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            optimizer.step()
            for key, value in terms.items():
                totals[key] = totals.get(key, 0.0) + float(value.detach())
            bar.set_postfix(loss=f"{totals['loss'] / (step + 1):.1f}")
            if (step + 1) % config.save_every == 0:
                save_state(epoch, step + 1, order, totals)
            if time.perf_counter() - flow_started > 60 * config.max_minutes:
                break
        bar.close()
        if time.perf_counter() - flow_started > 60 * config.max_minutes and step + 1 < steps:
            save_state(epoch, step + 1, order, totals)
            stopped = f"time budget of {config.max_minutes} minutes (mid-epoch {epoch}; resumable)"
            break
        first_step = 0
        validation = evaluate(model, val_set)
        elapsed = previous_seconds + time.perf_counter() - flow_started
        row = {"stage": "flow", "epoch": epoch, "seconds": round(elapsed, 1)}
        row |= {f"train_{k}": round(v / steps, 4) for k, v in totals.items()}
        row |= {f"val_{k}": round(v, 4) for k, v in validation.items()}
        log(row)
        logger.info("epoch %d: %s", epoch, json.dumps(row))
        order = None
        if validation["loss"] < best["loss"]:
            best = {
                "loss": validation["loss"],
                "epoch": epoch,
                **{f"val_{k}": v for k, v in validation.items()},
            }
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            model.save_pretrained(out)
        save_state(epoch + 1, 0, None, {})
        if epoch - best["epoch"] >= config.patience:
            stopped = f"early stopping: no better validation loss for {config.patience} epochs"
            break
        per_epoch = (time.perf_counter() - flow_started) / max(epoch - first_epoch + 1, 1)
        if time.perf_counter() - flow_started + per_epoch > 60 * config.max_minutes:
            stopped = f"time budget of {config.max_minutes} minutes (resumable)"
            break
    assert best_state is not None, "No epoch finished; raise --max-minutes or lower --batch-size."
    flow_seconds = previous_seconds + time.perf_counter() - flow_started
    return finish(
        model,
        best_state,
        train_set,
        val_set,
        out,
        config=config,
        summary={
            "command": command,
            "data": [str(Path(d)) for d in data],
            "best_epoch": best,
            "stopped": stopped,
            "flow_seconds": round(flow_seconds, 1),
            "curves": log_rows,
            "started_from": None if init_from is None else lineage(init_from),
        },
        started=started,
    )


def lineage(folder: Path) -> dict:
    """Where a run started from: the folder and, from its training.json when it has one, the command,
    best epoch and time of the run that made it, and where THAT run started from (recursively)."""
    entry: dict = {"folder": str(folder)}
    path = Path(folder) / SUMMARY_FILE
    if path.is_file():
        try:
            earlier = json.loads(path.read_text())
        except (OSError, ValueError):
            return entry
        best = earlier.get("best_epoch") or {}
        entry.update(
            command=earlier.get("command"),
            data=earlier.get("data"),
            seed=earlier.get("seed"),
            best_epoch={"epoch": best.get("epoch"), "val_loss": best.get("val_loss", best.get("loss"))},
            seconds=earlier.get("seconds"),
            started_from=earlier.get("started_from"),
        )
    return entry


def finish(
    model: FlowVAE,
    best_state: dict,
    train_set: PairSet,
    val_set: PairSet,
    out: Path,
    *,
    config: TrainConfig,
    summary: dict,
    started: float,
) -> dict:
    """Stages 2 and 3 on the best flow model: the confidence network, then the label directions; writes
    the checkpoint folder and training.json (``summary`` holds the flow stage's figures)."""
    model.load_state_dict(best_state)
    model_config = model.config
    log_rows = summary["curves"]
    log_path = Path(out) / LOG_FILE

    def log(row: dict) -> None:
        log_rows.append(row)
        _write_log(log_path, log_rows)

    generator = torch.Generator().manual_seed(config.seed + 1)
    torch.manual_seed(config.seed + 1)

    # Stage 2: the confidence network, everything else frozen.
    mask_started = time.perf_counter()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for parameter in model.mask_parameters():
        parameter.requires_grad_(True)
    mask_optimizer = torch.optim.Adam(model.mask_parameters(), lr=config.lr)
    mask_best, mask_state = math.inf, None
    if model_config.decoder_output == "flow":
        for epoch in range(1, config.mask_epochs + 1):
            model.train()
            order = torch.randperm(len(train_set), generator=generator)
            steps = math.ceil(len(order) / config.batch_size)
            total = 0.0
            for step in tqdm(
                range(steps), desc=f"mask {epoch}", file=sys.stderr, leave=False, mininterval=2.0
            ):
                index = order[step * config.batch_size : (step + 1) * config.batch_size]
                source, target, _ = train_set.batch(index)
                loss = model.mask_loss(source, target)
                mask_optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.mask_parameters(), config.clip)
                mask_optimizer.step()
                total += float(loss)
            validation = evaluate_mask(model, val_set)
            log(
                {
                    "stage": "mask",
                    "epoch": epoch,
                    "seconds": round(time.perf_counter() - mask_started, 1),
                    "train_mask_bce": round(total / steps, 5),
                    "val_mask_bce": round(validation, 5),
                }
            )
            if validation < mask_best:
                mask_best = validation
                mask_state = {k: v.detach().clone() for k, v in model.mask_decoder.state_dict().items()}
            if time.perf_counter() - mask_started > 60 * config.mask_minutes:
                break
        if mask_state is not None:
            model.mask_decoder.load_state_dict(mask_state)
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    model.eval()
    model.save_pretrained(out)

    # Stage 3: the label directions and average flows, from the training split only.
    labels = fit_labels(model, train_set)
    labels.save(out)
    summary = {
        "command": summary["command"],
        "data": summary["data"],
        "seed": config.seed,
        "model_config": asdict(model_config),
        "train_config": asdict(config),
        "parameters": count_parameters(model),
        "pairs": {"train": len(train_set), "val": len(val_set)},
        "people": {
            "train": len({r["face_id"] for r in train_set.rows}),
            "val": len({r["face_id"] for r in val_set.rows}),
        },
        "best_epoch": summary["best_epoch"],
        "stopped": summary["stopped"],
        "started_from": summary.get("started_from"),
        "mask_val_bce": None if mask_state is None else mask_best,
        "seconds": {
            "flow": summary["flow_seconds"],
            "mask": round(time.perf_counter() - mask_started, 1),
            "total": round(time.perf_counter() - started, 1),
        },
        "torch": torch.__version__,
        "threads": config.threads,
        "curves": log_rows,
    }
    (Path(out) / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    weights_mb = (out / "model.safetensors").stat().st_size / 2**20
    logger.info("Saved %s (%.1f MB), best epoch %d", out, weights_mb, summary["best_epoch"]["epoch"])
    return summary


def finish_from_state(
    data: Sequence[Path], out: Path, state_dir: Path, *, config: TrainConfig | None = None
) -> dict:
    """A usable checkpoint from a (possibly still running) run's saved state: the best flow model so
    far, then its confidence network and label directions (`finish`), written to ``out``."""
    started = time.perf_counter()
    config = config or TrainConfig()
    torch.set_num_threads(config.threads)
    saved = torch.load(Path(state_dir) / STATE_FILE, weights_only=False)
    if saved["best_state"] is None:
        raise ValueError(f"{state_dir} has no finished epoch yet: nothing to finish.")
    model = FlowVAE(FVAEConfig(**saved["model_config"]))
    Path(out).mkdir(parents=True, exist_ok=True)
    summary = {
        "command": None,
        "data": [str(Path(d)) for d in data],
        "best_epoch": saved["best"],
        "stopped": (
            f"finished from the saved state of {state_dir} (epoch {saved['epoch']}, step {saved['step']})"
        ),
        "flow_seconds": round(saved["seconds"], 1),
        "curves": [dict(r) for r in saved["log_rows"]],
    }
    train_set, val_set = load_pairs(data, "train"), load_pairs(data, "val")
    return finish(
        model, saved["best_state"], train_set, val_set, out, config=config, summary=summary, started=started
    )
