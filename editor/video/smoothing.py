"""The One-Euro filter (Casiez, Roussel & Vogel, CHI 2012) for landmark tracks.

A low-pass filter whose cutoff rises with speed: still landmarks are smoothed hard (no jitter), fast
ones follow closely (little lag when the head turns or the mouth opens). Per coordinate:

    cutoff = min_cutoff + beta * |smoothed derivative|
    alpha  = 1 / (1 + tau / dt),  tau = 1 / (2 pi cutoff)
    x_hat  = alpha * x + (1 - alpha) * x_hat_prev

Speeds are in the units of the values per second; landmark tracks are filtered in inter-iris units of
the face (`LandmarkSmoother`), so one setting suits any image size.
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
    """One-Euro smoothing of a face's (478, 3) landmarks, in units of its inter-iris distance.

    ``__call__(landmarks, t)`` returns smoothed landmarks in pixels; `reset` when the face is lost.
    """

    def __init__(self, config: OneEuroConfig | None = None) -> None:
        self.filter = OneEuroFilter(config)
        self._unit: float | None = None

    def reset(self) -> None:
        self.filter.reset()
        self._unit = None

    def __call__(self, landmarks: np.ndarray, t: float, unit: float) -> np.ndarray:
        """(478, 3) pixels -> (478, 3) float64 smoothed pixels; ``unit``: the face's inter-iris distance."""
        if self._unit is None:
            self._unit = max(float(unit), 1e-6)  # fixed for the track: a changing unit would itself jitter
        return self.filter(np.asarray(landmarks, np.float64) / self._unit, t) * self._unit
