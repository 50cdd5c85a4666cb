"""The One-Euro filter (Casiez, Roussel & Vogel, CHI 2012) for landmark tracks.

A low-pass filter whose cutoff rises with speed: still landmarks are smoothed hard (no jitter), fast
ones follow closely (little lag when the head turns or the mouth opens). Per coordinate:

    cutoff = min_cutoff + beta * |smoothed derivative|
    alpha  = 1 / (1 + tau / dt),  tau = 1 / (2 pi cutoff)
    x_hat  = alpha * x + (1 - alpha) * x_hat_prev

Speeds are in the units of the values per second; landmark tracks are filtered in the head's own frame
in inter-iris units (`LandmarkSmoother`), so one setting suits any image size and head motion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroConfig:
    """Filter settings (defaults chosen on synthetic and London clips: `eval.bench_video`)."""

    min_cutoff: float = 1.5  # Hz: cutoff when still (lower: smoother, more lag)
    beta: float = 2.0  # cutoff rise per unit of speed (inter-iris units per second)
    d_cutoff: float = 1.0  # Hz: cutoff of the derivative estimate


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One-Euro filter over arrays of any fixed shape; `__call__(values, t)` returns the smoothed values."""

    def __init__(self, config: OneEuroConfig | None = None) -> None:
        self.config = config or OneEuroConfig()
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._time: float | None = None

    def reset(self) -> None:
        """Forget the track (the next value passes through unchanged)."""
        self._value = self._speed = self._time = None

    def __call__(self, values: np.ndarray, t: float) -> np.ndarray:
        """Smoothed ``values`` (float64, same shape) at time ``t`` seconds (increasing)."""
        values = np.asarray(values, np.float64)
        if self._value is None or self._time is None or t <= self._time:
            self._value, self._speed, self._time = values.copy(), np.zeros_like(values), t
            return values.copy()
        dt = t - self._time
        speed = (values - self._value) / dt
        self._speed = self._speed + _alpha(self.config.d_cutoff, dt) * (speed - self._speed)
        cutoff = self.config.min_cutoff + self.config.beta * np.abs(self._speed)
        self._value = self._value + _alpha(cutoff, dt) * (values - self._value)
        self._time = t
        return self._value.copy()


class LandmarkSmoother:
    """One-Euro smoothing of a face's (478, 3) landmarks in the head's own frame.

    Each frame's landmarks are taken into the canonical face frame (the similarity fitted on rigid
    points, `editor.geometry.motion.face_similarity`: head pose out, unit = inter-iris distance),
    smoothed there, and put back with that frame's own pose. The head's motion is therefore followed
    without lag (the edit stays on the face when the head moves) while the landmarks' wobble relative
    to the head, where an edit's jitter comes from, is smoothed. ``__call__(landmarks, t)`` returns
    pixels; `reset` when the face is lost.
    """

    def __init__(self, config: OneEuroConfig | None = None) -> None:
        self.filter = OneEuroFilter(config)

    def reset(self) -> None:
        self.filter.reset()

    def __call__(self, landmarks: np.ndarray, t: float) -> np.ndarray:
        """(478, 3) pixels at time ``t`` s -> (478, 3) float64 smoothed pixels."""
        from editor.geometry.motion import face_similarity

        points = np.asarray(landmarks, np.float64)
        pose = face_similarity(points)
        canonical = (points - pose.translation) @ pose.rotation / pose.scale  # (478, 3) head frame
        return pose.apply(self.filter(canonical, t))
