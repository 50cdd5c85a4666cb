"""The Flow VAE (Yeh et al. 2016): model, data, training, latent-arithmetic editing.

Only this module is torch-free: the default path asks it where the shipped checkpoint is (and the
routing file beside it) without importing torch.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped_checkpoint() -> Path:
    """The checkpoint folder that ships in the package (editor/data/fvae)."""
    return Path(str(resources.files("editor") / "data" / "fvae"))
