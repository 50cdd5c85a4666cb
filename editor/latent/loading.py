"""Loading a local diffusers pipeline folder: its family from ``model_index.json``, once per process.

``model_index.json``'s ``_class_name`` decides the family: mask-based inpainting (`INPAINT`: the prompt
describes the result, the region is the mask) or instruction editing (`INSTRUCT`: the request becomes an
instruction; the region restricts the result at paste-back). Only the classes in `FAMILIES` are taken;
anything else, a folder without ``model_index.json``, or weights that do not load (truncated, missing)
raises one `LatentModelError` that names the folder. Loading never downloads (``local_files_only``).

diffusers and transformers are imported here, on first load, never at facechat's import.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import json
import logging
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from editor.errors import ConfigError
from editor.latent.config import MODEL_ENV, LatentConfig
from editor.latent.prompts import INPAINT, INSTRUCT

logger = logging.getLogger(__name__)

#: Pipeline class (``_class_name`` of model_index.json) -> family. The two Stable Diffusion classes are
#: tested with tiny random-weight pipelines (tests/editor/latent); the others are taken by the same
#: code (arguments a class does not accept are not passed) but have not been run here.
FAMILIES: MappingProxyType[str, str] = MappingProxyType(
    {
        "StableDiffusionInpaintPipeline": INPAINT,
        "StableDiffusionXLInpaintPipeline": INPAINT,
        "FluxFillPipeline": INPAINT,
        "FluxKontextInpaintPipeline": INPAINT,
        "StableDiffusionInstructPix2PixPipeline": INSTRUCT,
        "StableDiffusionXLInstructPix2PixPipeline": INSTRUCT,
        "FluxKontextPipeline": INSTRUCT,
        "QwenImageEditPipeline": INSTRUCT,
        "QwenImageEditPlusPipeline": INSTRUCT,
    }
)
INDEX_FILE = "model_index.json"
#: Side used when a pipeline states no native sample size.
FALLBACK_SIZE = 512


class LatentModelError(ConfigError):
    """The latent model folder cannot be used; the message names the folder and what to do."""


@dataclass(frozen=True)
class ModelIndex:
    """What ``model_index.json`` says.

    Attributes:
        path: the pipeline folder.
        class_name: the pipeline class (``_class_name``).
        family: `INPAINT` or `INSTRUCT`.
    """

    path: Path
    class_name: str
    family: str


@dataclass(frozen=True)
class LoadedPipeline:
    """A pipeline ready to sample.

    Attributes:
        pipeline: the diffusers pipeline, on its device and dtype.
        index: what its folder's model_index.json said.
        size: native side, pixels (the UNet's or transformer's sample size times the VAE's factor).
        parameters: the names its ``__call__`` accepts (arguments are passed only when accepted).
        seconds: how long loading took.
        lock: held while sampling (a pipeline's scheduler keeps per-call state: one call at a time).
    """

    pipeline: Any
    index: ModelIndex
    size: int
    parameters: frozenset[str]
    seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def family(self) -> str:
        return self.index.family


def read_index(folder: str | Path) -> ModelIndex:
    """Read and check ``folder/model_index.json`` (no diffusers import).

    Raises:
        LatentModelError: the folder or the file is missing, unreadable, or names a class not in `FAMILIES`.
    """
    path = Path(folder).expanduser()
    index_file = path / INDEX_FILE
    if not path.is_dir():
        raise LatentModelError(
            f"The latent model folder {path} does not exist. Set {MODEL_ENV} to a local diffusers pipeline "
            "folder (one written by save_pretrained, holding model_index.json)."
        )
    if not index_file.is_file():
        raise LatentModelError(
            f"{path} is not a diffusers pipeline folder: it has no {INDEX_FILE}. Point {MODEL_ENV} at the "
            "folder save_pretrained wrote (it holds model_index.json and one folder per component)."
        )
    try:
        data = json.loads(index_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LatentModelError(f"{index_file} cannot be read as JSON ({error}).") from error
    class_name = data.get("_class_name") if isinstance(data, dict) else None
    if class_name not in FAMILIES:
        raise LatentModelError(
            f"{index_file} names the pipeline class {class_name!r}, which is not an image-editing pipeline "
            f"facechat uses. Use an inpainting or instruction-editing pipeline: {', '.join(FAMILIES)}."
        )
    return ModelIndex(path=path, class_name=class_name, family=FAMILIES[class_name])


def load_pipeline(config: LatentConfig) -> LoadedPipeline:
    """Load ``config.model`` on ``config.device`` in ``config.dtype`` (see `shared_pipeline` to share it).

    Raises:
        LatentModelError: no model configured, a bad folder (see `read_index`), diffusers missing, or
            weights that do not load.
    """
    if config.model is None:
        raise LatentModelError(f"No latent model is configured. Set {MODEL_ENV}=/path/to/diffusers/folder.")
    index = read_index(config.model)
    started = time.perf_counter()
    try:
        import torch
        from transformers.utils import logging as transformers_logging

        verbosity = transformers_logging.get_verbosity()
        transformers_logging.set_verbosity_error()  # "CLIPImageProcessor requires torchvision": not used here
        try:
            import diffusers

            pipeline_class = getattr(diffusers, index.class_name, None)
        finally:
            transformers_logging.set_verbosity(verbosity)
    except ImportError as error:
        raise LatentModelError(
            "The latent backend needs diffusers and transformers: `pip install 'facechat[latent]'` "
            f"({error})."
        ) from error
    if pipeline_class is None:
        raise LatentModelError(
            f"{index.path}: this diffusers ({diffusers.__version__}) has no {index.class_name}; "
            "upgrade diffusers."
        )
    options: dict[str, Any] = {"local_files_only": True, "torch_dtype": getattr(torch, config.dtype)}
    if importlib.util.find_spec("accelerate") is None:
        options["low_cpu_mem_usage"] = False  # the default wants accelerate, and warns without it
    try:
        with warnings.catch_warnings(), _quiet_loading():
            warnings.filterwarnings(
                "ignore", message=".*torch_dtype.*", category=FutureWarning
            )  # renamed in 0.42
            pipeline = pipeline_class.from_pretrained(str(index.path), **options)
        pipeline = pipeline.to(config.device)
    except Exception as error:  # noqa: BLE001 - diffusers raises OSError, ValueError, EnvironmentError, ...
        raise LatentModelError(
            f"The pipeline in {index.path} could not be loaded ({type(error).__name__}: {error}). Check that "
            "every component folder holds complete weights (a truncated or missing file fails here)."
        ) from error
    pipeline.set_progress_bar_config(disable=None, leave=False, desc="latent edit")  # tqdm on a terminal
    _bound_tokenizers(pipeline)
    loaded = LoadedPipeline(
        pipeline=pipeline,
        index=index,
        size=native_size(pipeline),
        parameters=frozenset(inspect.signature(pipeline.__call__).parameters),
        seconds=time.perf_counter() - started,
    )
    logger.info(
        "latent pipeline %s (%s) from %s: %d px, %s %s, loaded in %.2f s",
        index.class_name, index.family, index.path, loaded.size, config.device, config.dtype, loaded.seconds,
    )  # fmt: skip
    return loaded


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """No "Loading pipeline components" / "Loading weights" bars (the sampling bar stays)."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    restore = []
    for module in (diffusers_logging, transformers_logging):
        if module.is_progress_bar_enabled():
            module.disable_progress_bar()
            restore.append(module)
    try:
        yield
    finally:
        for module in restore:
            module.enable_progress_bar()


#: A tokenizer saved without ``model_max_length`` reloads with transformers' "very large" sentinel.
UNBOUNDED_TOKENS = 100_000


def _bound_tokenizers(pipeline: Any) -> None:
    """Give a tokenizer saved without a length its text encoder's (the pipeline would fail to pad)."""
    for name in ("tokenizer", "tokenizer_2", "tokenizer_3"):
        tokenizer = getattr(pipeline, name, None)
        encoder = getattr(pipeline, name.replace("tokenizer", "text_encoder"), None)
        positions = getattr(getattr(encoder, "config", None), "max_position_embeddings", None)
        if (
            tokenizer is not None
            and positions
            and getattr(tokenizer, "model_max_length", 0) > UNBOUNDED_TOKENS
        ):
            logger.warning(
                "%s has no model_max_length; using its text encoder's %d positions", name, positions
            )
            tokenizer.model_max_length = int(positions)


def native_size(pipeline: Any) -> int:
    """The side the pipeline was trained at: denoiser sample size times the VAE's downscale factor."""
    factor = int(getattr(pipeline, "vae_scale_factor", 8) or 8)
    denoiser = getattr(pipeline, "unet", None) or getattr(pipeline, "transformer", None)
    sample = getattr(getattr(denoiser, "config", None), "sample_size", None)
    if sample is None:
        sample = getattr(pipeline, "default_sample_size", None)
    if isinstance(sample, list | tuple):
        sample = min(sample)
    return int(sample) * factor if isinstance(sample, int) and sample > 0 else FALLBACK_SIZE


_shared: dict[tuple[str, str, str], LoadedPipeline] = {}
_shared_lock = threading.Lock()


def shared_pipeline(config: LatentConfig) -> LoadedPipeline:
    """The pipeline of ``config``, loaded on first use and shared by the whole process afterwards."""
    key = (
        str(Path(config.model).expanduser().resolve()) if config.model else "",
        config.device,
        config.dtype,
    )
    with _shared_lock:
        if key not in _shared:
            _shared[key] = load_pipeline(config)
        return _shared[key]
