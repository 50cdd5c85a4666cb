"""Where the latent backend's model is and how it runs: `LatentConfig`, read from the environment.

Nothing here imports torch, diffusers or transformers: reading the configuration is part of the default
path, loading the model is not (`editor.latent.loading`).

Environment:

- ``FACECHAT_LATENT_MODEL``: a local folder holding a diffusers pipeline (``model_index.json`` and its
  component folders, written by ``save_pretrained``). Unset: the latent backend is absent.
- ``FACECHAT_LATENT_DEVICE``: a torch device (default ``cpu``; e.g. ``cuda``, ``cuda:1``, ``mps``).
- ``FACECHAT_LATENT_DTYPE``: ``float32`` (default), ``float16`` or ``bfloat16``.
- ``FACECHAT_LATENT_MAX_SECONDS``: a turn's sampling time budget (default 300).
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
MAX_SECONDS_ENV = "FACECHAT_LATENT_MAX_SECONDS"
#: The dtypes a pipeline may be loaded in.
DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16")

#: What a person is told when a latent edit is asked for and no model is configured.
ENABLE_HINT = (
    "Latent edits (a new hairstyle, and what the built-in backends cannot do) need a local diffusers "
    f"pipeline: install `pip install 'facechat[latent]'` and set {MODEL_ENV}=/path/to/diffusers/folder "
    "(a Stable Diffusion inpainting or InstructPix2Pix folder written by save_pretrained); nothing is "
    "downloaded."
)


@dataclass(frozen=True)
class LatentConfig:
    """How the latent backend loads and samples its pipeline.

    Attributes:
        model: the pipeline folder (None: not configured, the backend is absent).
        device: torch device the pipeline runs on ("cpu" unless asked).
        dtype: one of `DTYPES` (float32 unless asked: CPU and float32 by default, like diffusers).
        seed: seed of a turn's first sample (a turn is reproducible); its retries use seed + 1, ...
        tries: samples per render the editor's identity gate asks for, each with the next seed.
        max_seconds: a turn's time budget (`MAX_SECONDS_ENV`); no new sample starts once it is spent.
        identity_threshold: the backend's own same-person threshold (None: the identity scorer's
            calibrated one plus `editor.latent.backend.GENERATIVE_MARGIN`). -1.0 lets every sample pass
            the backend's check (tests); the editor's own identity gate still applies.
    """

    model: Path | None = None
    device: str = "cpu"
    dtype: str = "float32"
    seed: int = 0
    tries: int = 1
    max_seconds: float = 300.0
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
        seconds = env.get(MAX_SECONDS_ENV, "").strip()
        try:
            budget = float(seconds) if seconds else cls.max_seconds
        except ValueError:
            raise ConfigError(
                f"{MAX_SECONDS_ENV}={seconds!r} is not a number of seconds (e.g. 120)."
            ) from None
        config = cls(
            model=Path(model).expanduser() if model else None,
            device=env.get(DEVICE_ENV, "").strip() or "cpu",
            dtype=env.get(DTYPE_ENV, "").strip().lower() or "float32",
            max_seconds=budget,
        )
        return replace(config, **overrides) if overrides else config
