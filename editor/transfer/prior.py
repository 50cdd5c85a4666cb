"""A neutral-face shape prior: where a person's landmarks sit with no expression, in the canonical frame.

A photo shows identity and expression at once: a wide mouth may be a smile or just a wide mouth. To read
the expression of a reference photo (of a person whose neutral photo we do not have) we estimate their
neutral shape as the mean neutral face plus a few principal components of how neutral faces differ
(`NeutralPrior`), fitted jointly with the expression (`editor.transfer.measure`). The prior is built from
the neutral photos of the London calibration people (never the held-out ``test_ids``) by
``python -m editor.transfer.build_prior --data ../shared/data/london`` into
``editor/data/transfer_prior.npz``.

Canonical frame: the blendshape basis's (`editor.geometry.basis`): x toward image right, y down, z away
from the camera, unit = the basis face's inter-iris distance, origin between the irises.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from editor.errors import ModelFileError
from editor.geometry.basis import NUM_LANDMARKS, BlendshapeBasis, load_basis
from editor.geometry.motion import face_similarity

PRIOR_FILE = "transfer_prior.npz"


@dataclass(frozen=True)
class NeutralPrior:
    """Mean neutral landmarks and their principal modes of variation across people.

    Attributes:
        mean: (478, 3) float32 mean neutral landmarks, canonical frame.
        components: (K, 478, 3) float32 orthonormal modes (flattened, each has unit norm).
        sigma: (K,) float32 standard deviation of the people's coefficients along each mode.
        provenance: build facts (people used, data folder name, basis hash).
    """

    mean: np.ndarray
    components: np.ndarray
    sigma: np.ndarray
    provenance: dict


def canonical_landmarks(landmarks: np.ndarray, basis: BlendshapeBasis | None = None) -> np.ndarray:
    """(478, 3) image landmarks -> (478, 3) float64 in the canonical frame, head pose factored out.

    The inverse of the similarity (fitted on rigid points, `editor.geometry.motion.face_similarity`)
    that carries the basis's neutral face onto these landmarks.
    """
    similarity = face_similarity(np.asarray(landmarks, np.float64), basis or load_basis())
    return (
        (np.asarray(landmarks, np.float64) - similarity.translation) @ similarity.rotation / similarity.scale
    )


def build_prior(
    neutrals: list[np.ndarray], components: int = 12, provenance: dict | None = None
) -> NeutralPrior:
    """A `NeutralPrior` from neutral photos' (478, 3) image landmarks (at least ``components + 2``)."""
    if len(neutrals) < components + 2:
        raise ValueError(f"build_prior needs at least {components + 2} neutral faces, got {len(neutrals)}.")
    shapes = np.stack([canonical_landmarks(n) for n in neutrals])  # (P, 478, 3)
    mean = shapes.mean(axis=0)
    centred = (shapes - mean).reshape(len(shapes), -1)  # (P, 1434)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    sigma = singular[:components] / np.sqrt(len(shapes) - 1)
    return NeutralPrior(
        mean=mean.astype(np.float32),
        components=vt[:components].reshape(components, NUM_LANDMARKS, 3).astype(np.float32),
        sigma=sigma.astype(np.float32),
        provenance=provenance or {},
    )


def save_prior(path: Path, prior: NeutralPrior) -> None:
    """Write a prior as a compressed npz (float32 arrays, JSON provenance)."""
    np.savez_compressed(
        path,
        mean=prior.mean,
        components=prior.components,
        sigma=prior.sigma,
        provenance=np.array(json.dumps(prior.provenance, sort_keys=True)),
    )


def read_prior(path: Path) -> NeutralPrior:
    """Read a prior written by `save_prior`; a missing or damaged file raises `ModelFileError`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            prior = NeutralPrior(
                mean=data["mean"].astype(np.float32),
                components=data["components"].astype(np.float32),
                sigma=data["sigma"].astype(np.float32),
                provenance=json.loads(str(data["provenance"])),
            )
    except (OSError, KeyError, ValueError) as error:
        raise ModelFileError(
            f"The neutral-face prior {path} is missing or unreadable ({error}); rebuild it with "
            "`python -m editor.transfer.build_prior --data ../shared/data/london`."
        ) from error
    k = len(prior.sigma)
    if prior.mean.shape != (NUM_LANDMARKS, 3) or prior.components.shape != (k, NUM_LANDMARKS, 3):
        raise ModelFileError(f"The neutral-face prior {path} has unexpected shapes; rebuild it.")
    return prior


@functools.cache
def load_prior() -> NeutralPrior:
    """The shipped prior (read once, cached)."""
    with resources.as_file(resources.files("editor") / "data" / PRIOR_FILE) as path:
        return read_prior(Path(path))
