"""Tiny random-weight pipelines, built from configs the way diffusers' own tests build theirs.

For the tests and the plumbing benchmark (eval/bench_latent.py) only: no weights can be had offline, so
the loading, masking, gating and paste-back code runs on pipelines of the real classes whose weights are
random (they draw noise, which the identity gate must refuse). About 6.5 MB each, built in about a
second: a two-block UNet of 32/64 channels, a two-block VAE with 4 latent channels, a two-layer CLIP text
model of width 32 and a CLIP tokenizer made from a small vocabulary written here.
"""

from __future__ import annotations

import json
from pathlib import Path

from editor.latent.prompts import INPAINT, INSTRUCT

#: Pipeline class per family.
CLASSES = {INPAINT: "StableDiffusionInpaintPipeline", INSTRUCT: "StableDiffusionInstructPix2PixPipeline"}
#: UNet input channels per family: noisy latents (4) + masked-image latents (4) + mask (1) for
#: inpainting; noisy latents + the input image's latents for InstructPix2Pix.
IN_CHANNELS = {INPAINT: 9, INSTRUCT: 8}
#: The tiny pipelines' native side: UNet sample size 32 times the VAE's factor 2 (two blocks).
SIZE = 64


def write_tokenizer(folder: Path) -> tuple[Path, Path]:
    """A byte-level BPE vocabulary of single letters (every word splits into letters) and no merges."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for character in "abcdefghijklmnopqrstuvwxyz0123456789.,'-!":
        vocab.setdefault(character, len(vocab))
        vocab.setdefault(f"{character}</w>", len(vocab))
    vocab_file, merges_file = folder / "vocab.json", folder / "merges.txt"
    vocab_file.write_text(json.dumps(vocab), encoding="utf-8")
    merges_file.write_text("#version: 0.2\n", encoding="utf-8")
    return vocab_file, merges_file


def build_tiny_pipeline(family: str, folder: str | Path, *, seed: int = 0) -> Path:
    """Build a random-weight pipeline of ``family`` (`INPAINT` or `INSTRUCT`) and ``save_pretrained`` it.

    Returns:
        ``folder``, now holding model_index.json and the component folders.
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        EulerAncestralDiscreteScheduler,
        StableDiffusionInpaintPipeline,
        StableDiffusionInstructPix2PixPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = Path(folder)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=SIZE // 2,
        in_channels=IN_CHANNELS[family],
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
    )
    vae = AutoencoderKL(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        sample_size=SIZE,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=32,
            intermediate_size=37,
            layer_norm_eps=1e-5,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=1000,
            max_position_embeddings=77,
        )  # fmt: skip
    )
    vocab_file, merges_file = write_tokenizer(folder.parent / f".{folder.name}-tokenizer")
    tokenizer = CLIPTokenizer(str(vocab_file), str(merges_file), model_max_length=77)
    betas = {"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear"}
    if family == INPAINT:
        scheduler = DDIMScheduler(**betas, clip_sample=False, set_alpha_to_one=False, steps_offset=1)
        pipeline_class = StableDiffusionInpaintPipeline
    else:
        scheduler = EulerAncestralDiscreteScheduler(**betas)
        pipeline_class = StableDiffusionInstructPix2PixPipeline
    pipeline = pipeline_class(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )  # fmt: skip
    pipeline.save_pretrained(folder)
    return folder
