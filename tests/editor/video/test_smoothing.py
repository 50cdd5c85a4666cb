"""The One-Euro filter: still values stay still, noise shrinks, fast motion is followed."""

from __future__ import annotations

import numpy as np

from editor.video.smoothing import LandmarkSmoother, OneEuroConfig, OneEuroFilter


def test_a_constant_track_passes_unchanged():
    smooth = OneEuroFilter()
    values = np.ones((4, 3))
    for i in range(10):
        assert np.allclose(smooth(values, i / 25), values)


def test_noise_on_a_still_point_is_reduced_several_times():
    rng = np.random.default_rng(1)
    smooth = OneEuroFilter()
    noisy = rng.normal(0, 0.01, (200, 2))
    out = np.array([smooth(v, i / 25) for i, v in enumerate(noisy)])
    assert np.std(np.diff(out[20:], axis=0)) < 0.3 * np.std(np.diff(noisy[20:], axis=0))


def test_a_fast_move_is_followed_within_a_few_frames():
    smooth = OneEuroFilter(OneEuroConfig())
    out = [smooth(np.array([0.0 if i < 10 else 1.0]), i / 25)[0] for i in range(20)]
    assert out[9] == 0.0 and out[14] > 0.8  # a jump of one unit (an inter-iris distance) in one frame


def test_a_reset_or_a_time_going_back_restarts_the_track():
    smooth = OneEuroFilter()
    smooth(np.zeros(2), 0.0)
    smooth(np.zeros(2), 0.04)
    assert np.allclose(smooth(np.ones(2), 0.0), 1.0)
    smooth.reset()
    assert np.allclose(smooth(np.full(2, 5.0), 1.0), 5.0)


def test_landmark_smoother_follows_the_head_and_smooths_the_wobble():
    from editor.geometry.basis import load_basis
    from editor.geometry.motion import Similarity

    neutral = load_basis().neutral.astype(np.float64)  # (478, 3) canonical
    rng = np.random.default_rng(2)
    smoother, errors_raw, errors_smooth = LandmarkSmoother(), [], []
    for i in range(40):
        t = i / 25
        pose = Similarity(100 + 20 * t, np.eye(3), np.array([300 + 200 * t, 200.0, 0.0]))  # moves fast
        truth = pose.apply(neutral)
        noisy = pose.apply(neutral + rng.normal(0, 0.01, neutral.shape))
        smoothed = smoother(noisy, t)
        if i > 10:
            errors_raw.append(np.abs(noisy - truth).mean())
            errors_smooth.append(np.abs(smoothed - truth).mean())
    assert np.mean(errors_smooth) < 0.6 * np.mean(errors_raw)  # no lag behind the moving head
