"""Where the latent backend's model is and how it runs: `LatentConfig`, read from the environment.

Nothing here imports torch, diffusers or transformers: reading the configuration is part of the default
path, loading the model is not (`editor.latent.loading`).

Environment:

- ``FACECHAT_LATENT_MODEL``: a local folder holding a diffusers pipeline (``model_index.json`` and its
  component folders, written by ``save_pretrained``). Unset: the latent backend is absent.
- ``FACECHAT_LATENT_DEVICE``: a torch device (default ``cpu``; e.g. ``cuda``, ``cuda:1``, ``mps``).
- ``FACECHAT_LATENT_DTYPE``: ``float32`` (default), ``float16`` or ``bfloat16``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from editor.errors import ConfigError

MODEL_ENV = "FACECHAT_LATENT_MODEL"
DEVICE_ENV = "FACECHAT_LATENT_DEVICE"
DTYPE_ENV = "FACECHAT_LATENT_DTYPE"
#: The dtypes a pipeline may be loaded in.
DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16")

#: What a person is told when a latent edit is asked for and no model is configured.
ENABLE_HINT = (
    f"Latent edits (hair style, glasses, age, beard and more) need a local diffusers pipeline: install "
    f"`pip install 'facechat[latent]'` and set {MODEL_ENV}=/path/to/diffusers/folder (a Stable Diffusion "
    "inpainting or InstructPix2Pix folder written by save_pretrained); nothing is downloaded."
)


@dataclass(frozen=True)
class LatentConfig:
    """How the latent backend loads and samples its pipeline.

    Attributes:
        model: the pipeline folder (None: not configured, the backend is absent).
        device: torch device the pipeline runs on ("cpu" unless asked).
        dtype: one of `DTYPES` (float32 unless asked: CPU and float32 by default, like diffusers).
        seed: seed of the first sample of every edit (a turn is reproducible); retries use seed + 1, ...
        tries: samples per edit, each with its own seed, before the edit counts as refused.
        max_seconds: time budget of one edit's samples; no new sample starts once it is spent.
        identity_threshold: the backend's own same-person threshold (None: the identity scorer's
            calibrated one plus `editor.latent.backend.GENERATIVE_MARGIN`). -1.0 lets every sample pass
            the backend's check (tests); the editor's own identity gate still applies.
    """

    model: Path | None = None
    device: str = "cpu"
    dtype: str = "float32"
    seed: int = 0
    tries: int = 2
    max_seconds: float = 600.0
    identity_threshold: float | None = None

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ConfigError(
                f"{DTYPE_ENV}={self.dtype!r} is not a dtype facechat loads; use one of {DTYPES}."
            )
        if self.tries < 1:
            raise ConfigError(f"The latent backend needs at least one try per edit (got {self.tries}).")

    @property
    def configured(self) -> bool:
        """Whether a model folder is named."""
        return self.model is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> LatentConfig:
        """The configuration `MODEL_ENV`, `DEVICE_ENV` and `DTYPE_ENV` describe, with ``overrides``."""
        env = os.environ if environ is None else environ
        model = env.get(MODEL_ENV, "").strip()
        config = cls(
            model=Path(model).expanduser() if model else None,
            device=env.get(DEVICE_ENV, "").strip() or "cpu",
            dtype=env.get(DTYPE_ENV, "").strip().lower() or "float32",
        )
        return replace(config, **overrides) if overrides else config
