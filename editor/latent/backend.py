"""`LatentBackend`: edits by a user-supplied local diffusers pipeline, masked, identity-gated, pasted back.

One request, one sample: the face is cut out aligned at the pipeline's native size, the pipeline is
asked for the request's prompt (inpainting: the region as the mask) or instruction (instruction editing),
and the generated crop is blended back into the full-resolution photo through the region's feathered
mask, so every pixel outside the region stays the photo's, bit for bit. Requests of a turn are applied
one after another.

Strength -> pipeline (``m`` = |strength| times the identity gate's scale, at most 2):

- inpainting: ``strength`` (how much of the masked latent is re-noised) = clip(0.15 + 0.65 m, 0.05, 1),
  so m = 1 gives 0.8 and m >= 1.31 regenerates the region fully; ``guidance_scale`` = 4 + 3.5 min(m,
  1.4) (7.5, Stable Diffusion's usual value, at m = 1). A request's ``steps`` are the denoising steps
  actually run: the pipeline is asked for ceil(steps / strength) steps, of which it runs the last
  ``steps``.
- instruction editing: ``guidance_scale`` (the text) = min(1 + 6.5 m, 12), ``image_guidance_scale``
  (the input photo) = clip(2 - 0.5 m, 1, 2): at m = 1 InstructPix2Pix's defaults 7.5 and 1.5; weaker
  requests stay closer to the photo. ``steps`` denoising steps.

The sign of the strength picks the template (``positive`` / ``opposite`` in ``prompts/latent.yaml``).

Identity: after each sample the edited face is compared with the original (SFace, or ArcFace when
configured, on the original's alignment) against a stricter threshold than a warp's (`GENERATIVE_MARGIN`).
The verdict goes back with the sample (`BackendEdit.identity`): when it says "different person", the
`editor.editor.Editor`'s identity gate takes it as its own and tries again at lower strength, where this
backend draws the turn's next seed; when nothing passes, the editor returns the ORIGINAL photo with a
sentence saying so. A turn's samples are bounded: ``tries`` per render of the gate (1 + its tries), and
no new sample once ``max_seconds`` are spent (the gate's remaining renders get the best failed sample
back at once, so the turn ends refused).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from editor import vocabulary as vocab
from editor.alignment import EDIT_EXPAND, align_face
from editor.backends.base import BackendEdit
from editor.errors import ConfigError
from editor.face import Face
from editor.identity import IdentityResult, IdentityScorer
from editor.latent import progress
from editor.latent.config import ENABLE_HINT, LatentConfig
from editor.latent.loading import LatentModelError, LoadedPipeline, read_index, shared_pipeline
from editor.latent.masks import crop_mask, region_mask
from editor.latent.paste import paste_region
from editor.latent.prompts import INPAINT, Prompt, prompt_book
from editor.requests import EditRequest

logger = logging.getLogger(__name__)

#: Largest magnitude ``m`` the strength mapping takes.
MAX_MAGNITUDE = 2.0
#: A generative edit must clear the scorer's same-person threshold by this much: a diffusion model can
#: draw a different person, which a warp cannot. For SFace, 0.409 + 0.2 = 0.609 lies in the gap between
#: the highest impostor pair of its calibration (0.564) and the lowest same-person neutral-vs-smiling
#: pair (0.819) (eval/results/identity_calibration_sface.md).
GENERATIVE_MARGIN = 0.2


@dataclass(frozen=True)
class SamplerSettings:
    """Pipeline arguments one request maps to (see the module docstring for the mapping).

    Attributes:
        num_inference_steps: what the pipeline is asked for.
        denoising_steps: how many of them it runs (the request's ``steps``).
        strength: the inpainting re-noise fraction (None for instruction pipelines).
        guidance_scale: text guidance.
        image_guidance_scale: image guidance of instruction pipelines (None for inpainting).
    """

    num_inference_steps: int
    denoising_steps: int
    strength: float | None
    guidance_scale: float
    image_guidance_scale: float | None


def sampler_settings(family: str, magnitude: float, steps: int) -> SamplerSettings:
    """The documented strength mapping for a pipeline ``family``, request magnitude and denoising steps."""
    m = float(min(max(magnitude, 0.0), MAX_MAGNITUDE))
    steps = max(1, int(steps))
    if family == INPAINT:
        strength = float(np.clip(0.15 + 0.65 * m, 0.05, 1.0))
        asked = max(steps, math.ceil(steps / strength) - 1)
        while int(asked * strength) < steps:  # diffusers runs int(num_inference_steps * strength) steps
            asked += 1
        return SamplerSettings(asked, int(asked * strength), strength, 4.0 + 3.5 * min(m, 1.4), None)
    guidance = min(1.0 + 6.5 * m, 12.0)
    return SamplerSettings(steps, steps, None, guidance, float(np.clip(2.0 - 0.5 * m, 1.0, 2.0)))


@dataclass
class _Turn:
    """One turn's samples: its requests, when it started, how many samples, the best one so far."""

    key: tuple
    started: float
    samples: int = 0
    best: tuple[float, np.ndarray, int] | None = None  # (similarity, image, seed)


class LatentBackend:
    """Edits by a local diffusers pipeline (inpainting or instruction editing), gated for identity.

    Args:
        config: where the model is and how to sample (default: `LatentConfig.from_env`).
        attributes: the attributes to serve (default: every attribute ``prompts/latent.yaml`` has a
            prompt for). The registry's "auto" choice passes the appearance attributes only.
        scorer: identity scorer of the backend's own check (default: one `IdentityScorer`, made on
            first use).

    Raises:
        ConfigError: no model is configured (the message says how to configure one), or the folder is
            not a usable pipeline folder (`editor.latent.loading.LatentModelError`, naming it).
    """

    name = "latent"

    def __init__(
        self,
        config: LatentConfig | None = None,
        *,
        attributes: Sequence[str] | None = None,
        scorer: IdentityScorer | None = None,
    ) -> None:
        self.config = config or LatentConfig.from_env()
        if not self.config.configured:
            raise ConfigError(ENABLE_HINT)
        self.index = read_index(self.config.model)  # checks the folder now; the weights load on first use
        self.book = prompt_book()
        self.attributes = None if attributes is None else frozenset(attributes)
        self._scorer = scorer
        self._lock = threading.Lock()
        self._turns = threading.local()
        self._geometry = None

    # ------------------------------------------------------------------ protocol

    def supports(self, attribute: str) -> bool:
        return self.book.supports(attribute) and (self.attributes is None or attribute in self.attributes)

    def targets(self, request: EditRequest, face: Face) -> dict[str, float]:
        """Expressions asked of the latent backend are measured like the geometry backend's; appearance
        edits move no blendshapes."""
        if vocab.family(request.attribute) != vocab.EXPRESSION:
            return {}
        with self._lock:
            if self._geometry is None:
                from editor.backends.geometry import GeometryBackend

                self._geometry = GeometryBackend()
        return self._geometry.targets(request, face)

    def edit(
        self,
        image: np.ndarray,
        face: Face,
        requests: Sequence[EditRequest],
        *,
        scale: float = 1.0,
        steps: int = 5,
        preview_side: int = 512,
    ) -> BackendEdit:
        """Sample ``requests`` (strengths times ``scale``) on ``image``; each request's ``steps`` are its
        denoising steps (``steps`` here only counts previews: one, the result)."""
        started = time.perf_counter()
        loaded = self.pipeline()
        scorer = self.scorer()
        threshold = self.threshold(scorer)
        original = scorer.embed(image, face)
        turn = self._turn(requests, image, scale)
        best: tuple[float, np.ndarray, int] | None = None
        sample_ms: list[float] = []
        for _ in range(self.config.tries):
            if turn.samples and time.perf_counter() - turn.started > self.config.max_seconds:
                logger.info(
                    "latent: the turn's %.0f s are spent after %d samples",
                    self.config.max_seconds,
                    turn.samples,
                )
                break
            seed = self.config.seed + turn.samples  # every sample of a turn has its own seed
            begun = time.perf_counter()
            current = image
            for request in requests:
                current = self._sample(loaded, current, face, request, scale, seed)
            sample_ms.append(1000 * (time.perf_counter() - begun))
            turn.samples += 1
            similarity = scorer.similarity(original, scorer.embed(current, face))
            logger.info("latent: seed %d, identity %.3f (threshold %.3f)", seed, similarity, threshold)
            if best is None or similarity > best[0]:
                best = (similarity, current, seed)
            if similarity >= threshold:
                break
        if best is None:
            best = turn.best  # the budget is spent: the turn's best sample (it failed), so the turn ends
        elif turn.best is None or best[0] > turn.best[0]:
            turn.best = best
        similarity, current, seed = best
        verdict = IdentityResult(
            similarity=float(similarity), scorer=scorer.name, threshold=float(threshold),
            same_person=bool(similarity >= threshold), calibrated=scorer.calibrated,
        )  # fmt: skip
        diagnostics = {
            "ms": 1000 * (time.perf_counter() - started),
            "sample_ms": float(np.mean(sample_ms)) if sample_ms else 0.0,
            "samples": float(len(sample_ms)),
            "seed": float(seed),
            "identity": float(similarity),
            "identity_threshold": float(threshold),
            "passed": float(similarity >= threshold),
        }
        return BackendEdit(
            image=current, frames=_preview(current, preview_side), diagnostics=diagnostics, identity=verdict
        )

    # ------------------------------------------------------------------ parts

    def _turn(self, requests: Sequence[EditRequest], image: np.ndarray, scale: float) -> _Turn:
        """This thread's turn: a new one at full strength (the editor's gate starts there) or for other
        requests; the editor's lower-strength retries continue it (next seeds, same time budget)."""
        key = (tuple(r.model_dump_json() for r in requests), image.shape)
        turn = getattr(self._turns, "turn", None)
        if scale >= 1.0 or turn is None or turn.key != key:
            turn = self._turns.turn = _Turn(key=key, started=time.perf_counter())
        return turn

    def pipeline(self) -> LoadedPipeline:
        """The configured pipeline (loaded on first use, shared by the process)."""
        return shared_pipeline(self.config)

    def scorer(self) -> IdentityScorer:
        """The identity scorer of the backend's own check (made on first use)."""
        with self._lock:
            if self._scorer is None:
                self._scorer = IdentityScorer()
            return self._scorer

    def threshold(self, scorer: IdentityScorer) -> float:
        """The same-person threshold samples must reach: the configured one, else the scorer's plus
        `GENERATIVE_MARGIN`."""
        if self.config.identity_threshold is not None:
            return float(self.config.identity_threshold)
        return scorer.threshold + GENERATIVE_MARGIN

    def prompt(self, request: EditRequest, family: str) -> Prompt:
        """The prompt ``request`` renders to for a pipeline ``family``."""
        return self.book.render(request, family)

    def _sample(
        self,
        loaded: LoadedPipeline,
        image: np.ndarray,
        face: Face,
        request: EditRequest,
        scale: float,
        seed: int,
    ) -> np.ndarray:
        """One request, one sample, pasted back into ``image`` ((H, W, 3) uint8 RGB)."""
        prompt = self.prompt(request, loaded.family)
        crop = align_face(image, face.points5, loaded.size, expand=EDIT_EXPAND)  # (S, S, 3) uint8
        region = region_mask(prompt.region, face.landmarks, image)
        settings = sampler_settings(loaded.family, abs(request.strength) * scale, request.steps)
        generated = run_pipeline(
            loaded, crop.image, crop_mask(region, crop.matrix, crop.size), prompt, settings, seed
        )
        return paste_region(image, generated, crop.inverse, region)


def run_pipeline(
    loaded: LoadedPipeline,
    crop: np.ndarray,
    mask: np.ndarray,
    prompt: Prompt,
    settings: SamplerSettings,
    seed: int,
) -> np.ndarray:
    """Sample the pipeline once on an aligned crop.

    Args:
        loaded: the pipeline.
        crop: (S, S, 3) uint8 RGB aligned face at the pipeline's native size S.
        mask: (S, S) float32 in {0, 1}, 1 = repaint (used by inpainting pipelines only).
        prompt: the rendered prompt or instruction.
        settings: `sampler_settings` of the request.
        seed: the generator's seed (same seed, same sample).

    Returns:
        (S, S, 3) uint8 RGB generated crop.
    """
    import torch
    from PIL import Image

    size = crop.shape[0]
    pipeline, accepts = loaded.pipeline, loaded.parameters
    device = str(pipeline.device)
    generator = torch.Generator(device="cpu" if device.startswith("mps") else device).manual_seed(seed)
    total = settings.denoising_steps
    text = f"latent edit: {prompt.text}"

    def on_step_end(_pipeline, step: int, _timestep, tensors: dict) -> dict:
        progress.report(min(step + 1, total), total, text)
        return tensors

    arguments = {
        "prompt": prompt.text,
        "image": Image.fromarray(crop),
        "mask_image": Image.fromarray((mask * 255).astype(np.uint8)),  # (S, S) uint8: mode "L"
        "negative_prompt": prompt.negative or None,
        "height": size,
        "width": size,
        "num_inference_steps": settings.num_inference_steps,
        "strength": settings.strength,
        "guidance_scale": settings.guidance_scale,
        "image_guidance_scale": settings.image_guidance_scale,
        "generator": generator,
        "output_type": "np",
        "callback_on_step_end": on_step_end,
    }
    arguments = {k: v for k, v in arguments.items() if v is not None and k in accepts}
    if loaded.family == INPAINT and "mask_image" not in arguments:
        raise ConfigError(f"{loaded.index.path}: {loaded.index.class_name} takes no mask_image.")
    progress.report(0, total, text)
    try:
        with loaded.lock, torch.inference_mode():
            output = pipeline(**arguments)
    except Exception as error:  # noqa: BLE001 - a pipeline that loads but cannot sample: one sentence
        raise LatentModelError(
            f"The pipeline in {loaded.index.path} failed while sampling ({type(error).__name__}: {error}). "
            "Check that its components belong together (e.g. the UNet's input channels fit the class)."
        ) from error
    images = np.asarray(output.images)  # (1, S', S', 3) float in [0, 1]
    out = np.clip(np.round(images[0] * 255.0), 0, 255).astype(np.uint8)  # (S', S', 3)
    if out.shape[:2] != (size, size):  # some pipelines round the size to their own multiple
        out = cv2.resize(out, (size, size), interpolation=cv2.INTER_AREA)
    return out


def _preview(image: np.ndarray, side: int) -> tuple[np.ndarray, ...]:
    """The result as the one preview frame (intermediate diffusion steps are noise, not an edit's steps)."""
    scale = min(1.0, side / max(image.shape[:2]))
    if scale == 1.0:
        return (image,)
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return (cv2.resize(image, size, interpolation=cv2.INTER_AREA),)
