"""`CompletionStage`: mouth interior, expression detail and lash lines, applied after a warp."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from editor.alignment import face_axes
from editor.completion.detail import (
    DetailConfig,
    DetailMaps,
    furrows,
    saturate_beyond_typical,
    shipped_detail,
)
from editor.completion.eyelids import LidConfig, paint_closed_lids
from editor.completion.frame import frame_to_photo, remap_channels
from editor.completion.mouth_bank import MouthBank, sclera_lab, shipped_bank
from editor.completion.mouth_interior import MouthConfig, paint_mouth_interior
from editor.landmark_indices import as_array, face_mesh_indices

logger = logging.getLogger(__name__)

#: Detail is computed on a copy of the face region at most this many pixels high (it is smooth).
DETAIL_SIDE = 320
#: Faces whose canonical maps are kept (a photo is re-rendered many times).
CACHED_FACES = 4


@dataclass(frozen=True)
class CompletionConfig:
    """Which completions run (None switches one off) and how."""

    mouth: MouthConfig | None = field(default_factory=MouthConfig)
    detail: DetailConfig | None = field(default_factory=DetailConfig)
    lids: LidConfig | None = field(default_factory=LidConfig)


@dataclass(frozen=True)
class Completion:
    """A completed photo and what was added.

    Attributes:
        image: (H, W, 3) uint8 the completed photo.
        mouth_alpha: (H, W) float32 opacity of the painted mouth interior (zeros when none).
        shading: (H, W) float32 log-luminance change the detail added (zeros outside the face).
        timings: milliseconds per part.
        lid_alpha: (H, W) float32 opacity of the painted lash lines (None when the lids stage is off).
    """

    image: np.ndarray
    mouth_alpha: np.ndarray
    shading: np.ndarray
    timings: dict[str, float]
    lid_alpha: np.ndarray | None = None


class CompletionStage:
    """Fills what a warp cannot produce. Assets load once, lazily, and are shared by all edits.

    Args:
        config: which parts run and how.
        bank: mouth interiors (default: the shipped bank).
        maps: canonical detail maps (default: the shipped ones).
    """

    def __init__(
        self,
        config: CompletionConfig | None = None,
        *,
        bank: MouthBank | None = None,
        maps: DetailMaps | None = None,
    ) -> None:
        self.config = config or CompletionConfig()
        self._bank = bank
        self._maps = maps
        self._cache: list[tuple[tuple, np.ndarray]] = []
        self._sclera_cache: tuple[tuple, np.ndarray] | None = None

    @property
    def bank(self) -> MouthBank:
        if self._bank is None:
            self._bank = shipped_bank()
        return self._bank

    @property
    def maps(self) -> DetailMaps:
        if self._maps is None:
            self._maps = shipped_detail()
        return self._maps

    def complete(
        self,
        warped: np.ndarray,
        original: np.ndarray,
        source: np.ndarray,
        target: np.ndarray,
        flow: np.ndarray,
        mask: np.ndarray,
        *,
        smile: float = 0.0,
        lip_raise: float = 0.0,
        exclude: str | None = None,
    ) -> Completion:
        """Complete a warped photo.

        Args:
            warped: (H, W, 3) uint8 the warp's output.
            original: (H, W, 3) uint8 the photo before the warp.
            source, target: (478, 2|3) landmarks before and after (pixels; target after apply_safety).
            flow: (H, W, 2) float32 the backward flow used; mask: (H, W) float32 the warp's face mask.
            smile: signed smile level of the edit (1 = a typical real smile, negative = taking one away).
            lip_raise: upper-lip raise beyond the smile's own (AU10 of disgust or anger), in units of the
                smile's: it deepens the nasolabial folds (a share of the smile's cheek map).
            exclude: a mouth-bank face_id never to use (the edited person, in held-out evaluation).
        """
        timings: dict[str, float] = {}
        started = time.perf_counter()
        out = warped
        shading = np.zeros(mask.shape, np.float32)
        if self.config.detail is not None:
            out, shading = self._detail(out, source, flow, mask, smile, lip_raise)
        timings["detail"] = 1000 * (time.perf_counter() - started)
        mouth_alpha = np.zeros(mask.shape, np.float32)
        if self.config.mouth is not None:
            out, mouth_alpha = paint_mouth_interior(
                out,
                source,
                target,
                flow,
                self.bank,
                self.config.mouth,
                sclera=self._sclera(original, source),
                exclude=exclude,
            )
        timings["mouth"] = 1000 * (time.perf_counter() - started) - timings["detail"]
        lid_alpha = None
        if self.config.lids is not None:
            out, lid_alpha = paint_closed_lids(
                out, original, np.asarray(source)[:, :2], np.asarray(target)[:, :2], self.config.lids
            )
        timings["total"] = 1000 * (time.perf_counter() - started)
        return Completion(
            image=out, mouth_alpha=mouth_alpha, shading=shading, timings=timings, lid_alpha=lid_alpha
        )

    def _detail(
        self,
        image: np.ndarray,
        source: np.ndarray,
        flow: np.ndarray,
        mask: np.ndarray,
        smile: float,
        lip_raise: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        config: DetailConfig = self.config.detail  # type: ignore[assignment]
        shading_full = np.zeros(mask.shape, np.float32)
        box = _face_box(source, mask)
        if box is None:
            return image, shading_full
        x0, y0, x1, y1 = box
        factor = float(min(1.0, DETAIL_SIDE / max(y1 - y0, x1 - x0)))
        w, h = max(int(round((x1 - x0) * factor)), 2), max(int(round((y1 - y0) * factor)), 2)
        # A reduced copy of the box (the shading is smooth): small pixel (i, j) ~ photo box pixel / factor.
        small_flow = (cv2.resize(flow[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_AREA) * factor).astype(
            np.float32
        )
        small_source = (np.asarray(source, np.float64)[:, :2] - [x0, y0]) * factor
        maps = self._source_maps(small_source, (w, h))
        # The maps live on the SOURCE skin: carry them through the warp to where that skin went.
        grid_x = small_flow[..., 0] + np.arange(w, dtype=np.float32)[None, :]
        grid_y = small_flow[..., 1] + np.arange(h, dtype=np.float32)[:, None]
        maps = remap_channels(maps, grid_x, grid_y)
        level = saturate_beyond_typical(smile, config.smile_limit)
        folds = saturate_beyond_typical(max(lip_raise, 0.0), config.smile_limit) * config.lip_raise_share
        log_shade = config.smile_gain * (level * (maps[..., 0] + maps[..., 1]) + folds * maps[..., 0])
        log_shade += furrows(small_flow, maps[..., 2:], (0, 0), face_axes(small_source), config)
        shading = cv2.resize(log_shade.astype(np.float32), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        shading *= mask[y0:y1, x0:x1]
        gain = np.exp(shading)
        out = image.copy()
        region = out[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = cv2.multiply(region, cv2.merge([gain, gain, gain]), dtype=cv2.CV_8U)
        shading_full[y0:y1, x0:x1] = shading
        return out, shading_full

    def _sclera(self, original: np.ndarray, source: np.ndarray) -> np.ndarray:
        """The photo's eye-white colour (cached with the face: the photo is re-rendered many times)."""
        key = (np.asarray(source)[:, :2].round(2).tobytes(), original.shape)
        cached = self._sclera_cache  # one read of the shared slot: another session may replace it
        if cached is None or cached[0] != key:
            cached = (key, sclera_lab(original, source))
            self._sclera_cache = cached
        return cached[1]

    def _source_maps(self, landmarks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """(h, w, 6) the canonical maps on this face (before the warp); the last few are kept.

        One photo is edited many times (every turn re-renders from the original, the identity gate
        retries lower strengths), so the few most recent faces' maps are cached.
        """
        key = (landmarks.round(2).tobytes(), size)
        for cached_key, maps in self._cache:
            if cached_key == key:
                return maps
        maps = frame_to_photo(
            self.maps.maps, landmarks, self.maps.shape.astype(np.float64), (0, 0, *size), step=6
        )
        self._cache = [(key, maps), *self._cache[: CACHED_FACES - 1]]
        return maps


def _face_box(source: np.ndarray, mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the face oval's bounding box (a little padded), within the warp's mask."""
    cols, rows = np.flatnonzero(mask.any(axis=0)), np.flatnonzero(mask.any(axis=1))
    if len(cols) == 0:
        return None
    oval = np.asarray(source, np.float64)[as_array(face_mesh_indices().face_oval), :2]
    pad = 0.05 * np.ptp(oval, axis=0)
    lo, hi = np.floor(oval.min(axis=0) - pad), np.ceil(oval.max(axis=0) + pad)
    x0, y0 = max(int(lo[0]), cols[0]), max(int(lo[1]), rows[0])
    x1, y1 = min(int(hi[0]), cols[-1] + 1), min(int(hi[1]), rows[-1] + 1)
    return (x0, y0, x1, y1) if x1 - x0 > 2 and y1 - y0 > 2 else None
