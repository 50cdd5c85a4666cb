"""Latent edits by a local diffusers pipeline (inpainting or instruction editing), absent by default.

Enabled by ``FACECHAT_LATENT_MODEL=/path/to/diffusers/folder`` (`config`); the folder's model_index.json
picks the family (`loading`); prompts come from ``prompts/latent.yaml`` (`prompts`); regions from the
appearance masks (`masks`); the result is pasted back through them (`paste`) and gated for identity
(`backend`). Importing this package imports neither torch, diffusers nor transformers.
"""

from editor.latent.config import ENABLE_HINT, LatentConfig

__all__ = ["ENABLE_HINT", "LatentBackend", "LatentConfig"]


def __getattr__(name: str):
    if name == "LatentBackend":
        from editor.latent.backend import LatentBackend

        return LatentBackend
    raise AttributeError(f"module 'editor.latent' has no attribute {name!r}")
