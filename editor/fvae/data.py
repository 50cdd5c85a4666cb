"""Flow VAE training data: pair folders written by `editor.geometry.pairs`, loaded as tensors.

The paper's preprocessing: the source is colour-transferred to the target (Reinhard et al. 2001, "Color
Transfer between Images": match each channel's mean and standard deviation in a perceptual colour space,
here OpenCV's 8-bit CIELAB), so the reconstruction loss asks the flow to explain shape, not lighting; and
random horizontal flips (the flow's x component changes sign).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from editor.fvae.splits import fvae_split
from editor.geometry.pairs import read_manifest
from editor.images import load_image

logger = logging.getLogger(__name__)


def reinhard_transfer(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``source`` with the colour statistics of ``target`` (per-channel mean and std in CIELAB).

    Both (H, W, 3) uint8 RGB; returns (H, W, 3) uint8 RGB.
    """
    src = cv2.cvtColor(source, cv2.COLOR_RGB2LAB).astype(np.float32)
    tgt = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(np.float32)
    s_mean, s_std = src.reshape(-1, 3).mean(0), src.reshape(-1, 3).std(0) + 1e-6
    t_mean, t_std = tgt.reshape(-1, 3).mean(0), tgt.reshape(-1, 3).std(0)
    moved = (src - s_mean) * (t_std / s_std) + t_mean
    return cv2.cvtColor(np.clip(moved + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (3, H, W) float32 in 0..1."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float() / 255.0


def to_image(tensor: torch.Tensor) -> np.ndarray:
    """(3, H, W) float in 0..1 -> (H, W, 3) uint8."""
    array = tensor.detach().clamp(0, 1).mul(255).add(0.5).byte().cpu().numpy()
    return array.transpose(1, 2, 0)


def hflip(source: torch.Tensor, target: torch.Tensor, flow: torch.Tensor | None = None):
    """Mirror a batch of pairs left-right: images (B, 3, H, W); flow (B, 2, H, W) with dx negated."""
    source, target = source.flip(-1), target.flip(-1)
    if flow is not None:
        flow = flow.flip(-1) * torch.tensor([-1.0, 1.0], dtype=flow.dtype).view(1, 2, 1, 1)
    return source, target, flow


@dataclass
class PairSet:
    """Pairs of one split, in memory.

    Attributes:
        rows: the manifest rows, in order.
        sources: (N, 3, H, W) uint8 colour-transferred sources (raw ones in ``raw_sources``).
        raw_sources: (N, 3, H, W) uint8 sources as written.
        targets: (N, 3, H, W) uint8.
        flows: (N, 2, H, W) float16 ground-truth normalised flows (zeros where none) and ``has_flow`` (N,).
        expression: (N, 52) float32 the ARKit blendshape weights the generator ADDED from source to target
            (`expression_names` order; zeros for real pairs) and ``has_expression`` (N,) where known.
    """

    rows: list[dict]
    sources: torch.Tensor
    raw_sources: torch.Tensor
    targets: torch.Tensor
    flows: torch.Tensor
    has_flow: torch.Tensor
    expression: torch.Tensor | None = None
    has_expression: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def batch(self, index: torch.Tensor, *, transferred: bool = True) -> tuple[torch.Tensor, ...]:
        """(source, target, flow) float tensors in 0..1 for the given indices."""
        sources = self.sources if transferred else self.raw_sources
        return (
            sources[index].float() / 255.0,
            self.targets[index].float() / 255.0,
            self.flows[index].float(),
        )


def load_pairs(
    folders: Sequence[Path], split: str, *, kinds: Sequence[str] | None = None, held_out: bool = True
) -> PairSet:
    """All pairs of ``split`` ('train', 'val', 'test') from the dataset folders, colour-transferred.

    With ``held_out`` (the default) the split is `editor.fvae.splits.fvae_split` (the project's held-out
    people are 'test', whatever the manifest says); otherwise the manifest's own split.
    """
    rows: list[dict] = []
    sources, raws, targets, flows, has_flow = [], [], [], [], []
    cache: dict[Path, np.ndarray] = {}

    def image(path: Path) -> np.ndarray:
        if path not in cache:
            cache[path] = load_image(path)
        return cache[path]

    for folder in folders:
        folder = Path(folder)
        for row in read_manifest(folder):
            row_split = fvae_split(row["face_id"], row["split"]) if held_out else row["split"]
            if row_split != split or (kinds is not None and row["kind"] not in kinds):
                continue
            source, target = image(folder / row["source"]), image(folder / row["target"])
            rows.append({**row, "split": row_split, "folder": str(folder)})
            raws.append(source.transpose(2, 0, 1))
            sources.append(reinhard_transfer(source, target).transpose(2, 0, 1))
            targets.append(target.transpose(2, 0, 1))
            if row["flow"]:
                flows.append(np.load(folder / row["flow"]).transpose(2, 0, 1))
                has_flow.append(True)
            else:
                flows.append(np.zeros((2, *source.shape[:2]), np.float16))
                has_flow.append(False)
    if not rows:
        raise ValueError(f"No {split} pairs in {', '.join(map(str, folders))}.")
    real_with_flow = [r["kind"] == "real" and h for r, h in zip(rows, has_flow, strict=True)]
    if any(real_with_flow):  # registered real pairs (editor.fvae.real_pairs) replace unregistered ones
        keep = [i for i, r in enumerate(rows) if r["kind"] != "real" or has_flow[i]]
        if len(keep) < len(rows):
            logger.info("%s: %d real pairs without a flow left out", split, len(rows) - len(keep))
        rows = [rows[i] for i in keep]
        sources, raws, targets = ([x[i] for i in keep] for x in (sources, raws, targets))
        flows, has_flow = [flows[i] for i in keep], [has_flow[i] for i in keep]
    logger.info("%s: %d pairs", split, len(rows))
    expression, has_expression = expression_changes(rows)
    return PairSet(
        rows=rows,
        sources=torch.from_numpy(np.stack(sources)),
        raw_sources=torch.from_numpy(np.stack(raws)),
        targets=torch.from_numpy(np.stack(targets)),
        flows=torch.from_numpy(np.stack(flows).astype(np.float16)),
        has_flow=torch.tensor(has_flow),
        expression=expression,
        has_expression=has_expression,
    )


def expression_names() -> tuple[str, ...]:
    """The 52 ARKit blendshape names of the geometry basis (the order of `PairSet.expression`)."""
    from editor.geometry.basis import load_basis

    return tuple(load_basis().names)


def expression_changes(rows: Sequence[dict]) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 52) target minus source blendshape weights of synthetic rows, and (N,) which rows have them."""
    names = {name: i for i, name in enumerate(expression_names())}
    change = np.zeros((len(rows), len(names)), np.float32)
    known = np.zeros(len(rows), bool)
    for i, row in enumerate(rows):
        if row["kind"] == "real":
            continue
        known[i] = True
        for name, value in row.get("weights", {}).items():
            change[i, names[name]] += value
        for name, value in row.get("source_weights", {}).items():
            change[i, names[name]] -= value
    return torch.from_numpy(change), torch.from_numpy(known)
