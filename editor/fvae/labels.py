"""Expression labels in the Flow VAE's latent space: the directions Algorithm 1 walks along.

The paper's Algorithm 1 moves a source's latent by (Z_target - Z_source), the difference of the mean
latents of faces labelled with the target and the source expression. Taking both means over PAIRS of the
same people (target and source of each training pair) cancels identity out of the difference:

- synthetic attributes (every emotion and action unit of `editor.geometry.prototypes`): one least-squares
  fit over all synthetic training pairs, mu(T) - mu(S) ~ sum_a (s_B[a] - s_A[a]) d_a, where s are the
  requested strengths of the target (B) and of the source (A, zero for an unedited photo). d_a is the
  latent change of the typical full expression (strength 1.0), and mixed pairs teach composition;
- ``happy`` from the real London pairs when there are enough of them: the mean of mu(smiling) -
  mu(neutral) over the training people (the real smile, the benchmark's target); the synthetic happy
  direction is kept as ``happy@synthetic``.

Also the paper's label means (mean mu of the targets of each single label, and of neutral photos), and
the average-flow baseline: per label, the mean flow per unit strength (synthetic: the ground truth; real
happy: the FVAE's reconstruction flow g(S, Z(T)), the best flow there is for real pairs).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from editor.errors import ModelFileError
from editor.geometry.prototypes import PROTOTYPES

logger = logging.getLogger(__name__)

LABELS_FILE = "labels.json"
AVERAGE_FLOWS_FILE = "average_flows.npz"
#: At least this many real training pairs are needed to take happy from real smiles.
MIN_REAL_PAIRS = 10
#: Ridge regulariser of the least-squares fit (in strength^2 units).
RIDGE = 1e-3


@dataclass
class Labels:
    """Latent directions and means.

    Attributes:
        latent_shape: (C, h, w) of Z.
        directions: attribute -> (C, h, w) float32 latent change of strength 1.0.
        means: label -> (C, h, w) float32 mean latent (the paper's label means).
        counts: label -> number of pairs behind its direction.
        sources: label -> where its direction comes from.
        average_flows: label -> (H, W, 2) float32 mean normalised flow per unit strength.
        gains: attribute -> multiplier of its direction at strength 1.0, calibrated on people outside the
            benchmark's held-out ones (`python -m eval.calibrate_fvae`) so that strength 1.0 is the
            typical expression, as for the geometry backend; 1.0 where none was calibrated.
    """

    latent_shape: tuple[int, int, int]
    directions: dict[str, np.ndarray]
    means: dict[str, np.ndarray] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    average_flows: dict[str, np.ndarray] = field(default_factory=dict)
    gains: dict[str, float] = field(default_factory=dict)

    def gain(self, attribute: str) -> float:
        """The calibrated multiplier of ``attribute``'s direction (1.0 when not calibrated)."""
        return float(self.gains.get(attribute, 1.0))

    def direction(self, attribute: str) -> np.ndarray:
        """(C, h, w) direction of ``attribute``; KeyError naming the known ones."""
        try:
            return self.directions[attribute]
        except KeyError:
            known = ", ".join(sorted(self.directions))
            raise KeyError(f"The Flow VAE has no direction for {attribute!r}; it knows: {known}.") from None

    def save(self, folder: Path) -> None:
        def flat(arrays: dict[str, np.ndarray]) -> dict[str, list[float]]:
            return {k: np.round(v.astype(np.float64).ravel(), 5).tolist() for k, v in sorted(arrays.items())}

        payload = {
            "latent_shape": list(self.latent_shape),
            "directions": flat(self.directions),
            "means": flat(self.means),
            "counts": self.counts,
            "sources": self.sources,
            "gains": self.gains,
        }
        (Path(folder) / LABELS_FILE).write_text(json.dumps(payload) + "\n")
        if self.average_flows:
            np.savez_compressed(
                Path(folder) / AVERAGE_FLOWS_FILE,
                **{k: v.astype(np.float16) for k, v in self.average_flows.items()},
            )

    @classmethod
    def load(cls, folder: Path) -> Labels:
        path = Path(folder) / LABELS_FILE
        if not path.is_file():
            raise ModelFileError(
                f"{path} is missing: the Flow VAE's label directions come with its checkpoint "
                "(`facechat train-fvae` writes them)."
            )
        raw = json.loads(path.read_text())
        shape = tuple(raw["latent_shape"])

        def arrays(values: dict[str, list[float]]) -> dict[str, np.ndarray]:
            return {k: np.asarray(v, np.float32).reshape(shape) for k, v in values.items()}

        flows = {}
        if (Path(folder) / AVERAGE_FLOWS_FILE).is_file():
            with np.load(Path(folder) / AVERAGE_FLOWS_FILE) as data:
                flows = {k: data[k].astype(np.float32) for k in data.files}
        gains = {k: float(v) for k, v in raw.get("gains", {}).items()}
        return cls(
            shape,
            arrays(raw["directions"]),
            arrays(raw["means"]),
            raw["counts"],
            raw["sources"],
            flows,
            gains,
        )


def _strengths(requests: list[dict], names: list[str]) -> np.ndarray:
    vector = np.zeros(len(names))
    for request in requests:
        vector[names.index(request["attribute"])] += request["strength"]
    return vector


@torch.no_grad()
def _latents(model, images: torch.Tensor, sources: torch.Tensor, batch_size: int = 64) -> np.ndarray:
    """mu of (N, 3, H, W) uint8 images, given their sources (for a pair encoder) -> (N, C, h, w)."""
    out = []
    for start in range(0, len(images), batch_size):
        chunk = slice(start, start + batch_size)
        mu, _ = model.encode(images[chunk].float() / 255.0, sources[chunk].float() / 255.0)
        out.append(mu.numpy())
    return np.concatenate(out)


@torch.no_grad()
def fit_labels(model, pairs) -> Labels:
    """Directions, means and average flows from a training `PairSet` (see the module docstring)."""
    model.eval()
    z_source = _latents(model, pairs.raw_sources, pairs.raw_sources)  # (N, C, h, w): Z(S) at edit time
    z_target = _latents(model, pairs.targets, pairs.raw_sources)
    delta = (z_target - z_source).reshape(len(pairs), -1)  # (N, D)
    shape = tuple(z_source.shape[1:])
    names = sorted(PROTOTYPES)
    synthetic = [i for i, r in enumerate(pairs.rows) if r["kind"] != "real"]
    directions: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    sources: dict[str, str] = {}
    means: dict[str, np.ndarray] = {}
    flows: dict[str, np.ndarray] = {}
    if synthetic:
        design = np.stack(
            [
                _strengths(pairs.rows[i]["requests"], names)
                - _strengths(pairs.rows[i]["source_requests"], names)
                for i in synthetic
            ]
        )  # (n, A)
        gram = design.T @ design + RIDGE * np.eye(len(names))
        solution = np.linalg.solve(gram, design.T @ delta[synthetic])  # (A, D)
        for a, name in enumerate(names):
            used = int((design[:, a] != 0).sum())
            if used:
                directions[name] = solution[a].reshape(shape).astype(np.float32)
                counts[name] = used
                sources[name] = f"least squares over {len(synthetic)} synthetic pairs ({used} with {name})"
        flow_sum: dict[str, np.ndarray] = {}
        flow_weight: dict[str, float] = {}
        target_sum: dict[str, list[np.ndarray]] = {}
        for i in synthetic:
            row = pairs.rows[i]
            if row["kind"] == "synthetic" and len(row["requests"]) == 1:
                name, strength = row["requests"][0]["attribute"], row["requests"][0]["strength"]
                flow = pairs.flows[i].float().numpy().transpose(1, 2, 0)  # (H, W, 2)
                flow_sum[name] = flow_sum.get(name, 0) + strength * flow
                flow_weight[name] = flow_weight.get(name, 0.0) + strength**2
                target_sum.setdefault(name, []).append(z_target[i])
        for name in flow_sum:
            flows[name] = (flow_sum[name] / flow_weight[name]).astype(np.float32)
            means[name] = np.mean(target_sum[name], axis=0).astype(np.float32)
        neutral = [
            i
            for i in synthetic
            if pairs.rows[i]["kind"] == "synthetic" and pairs.rows[i]["photo_state"] == "neutral"
        ]
        if neutral:
            means["neutral"] = z_source[neutral].mean(0).astype(np.float32)
    real = [i for i, r in enumerate(pairs.rows) if r["kind"] == "real"]
    if len(real) >= MIN_REAL_PAIRS:
        signs = np.array([pairs.rows[i]["requests"][0]["strength"] for i in real])  # +1 smile, -1 back
        if "happy" in directions:
            directions["happy@synthetic"] = directions["happy"]
            counts["happy@synthetic"], sources["happy@synthetic"] = counts["happy"], sources["happy"]
        directions["happy"] = (signs[:, None] * delta[real]).mean(0).reshape(shape).astype(np.float32)
        counts["happy"] = len(real)
        sources["happy"] = (
            f"mean latent change of {len(real)} real London pairs (neutral <-> smiling, both ways)"
        )
        smiling = [i for i, s in zip(real, signs, strict=True) if s > 0]
        means["happy@real"] = z_target[smiling].mean(0).astype(np.float32)
        if model.config.decoder_output == "flow":  # the pixel-VAE baseline decodes no flow to average
            if "happy" in flows:
                flows["happy@synthetic"] = flows["happy"]
            flows["happy"] = _real_average_flow(model, pairs, smiling)
    logger.info("Label directions: %s", ", ".join(f"{k} ({v})" for k, v in sorted(counts.items())))
    return Labels(shape, directions, means, counts, sources, flows)


@torch.no_grad()
def _real_average_flow(model, pairs, index: list[int]) -> np.ndarray:
    """Mean reconstruction flow g(S, Z(T)) of real neutral -> smiling pairs: (H, W, 2) normalised."""
    total = None
    for start in range(0, len(index), 32):
        chunk = torch.tensor(index[start : start + 32])
        source, target, _ = pairs.batch(chunk, transferred=False)
        out = model(source, target, sample=False)
        summed = out.flow.sum(0).numpy().transpose(1, 2, 0)
        total = summed if total is None else total + summed
    return (total / len(index)).astype(np.float32)
