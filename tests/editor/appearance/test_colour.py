from __future__ import annotations

import numpy as np

from editor.appearance.colour import recolour


def test_recolour_of_only_the_regions_pixels_equals_recolour_of_its_box():
    """The fast path (every pixel in the region, as `region_pixels` hands them) and the box path agree."""
    rng = np.random.default_rng(3)
    size = (30, 40)
    lab = np.stack([rng.uniform(10, 90, size), rng.uniform(-20, 20, size), rng.uniform(-20, 30, size)], -1)
    lab = lab.astype(np.float32)
    alpha = (rng.random((30, 40)) * (rng.random((30, 40)) > 0.4)).astype(np.float32)
    goal = np.array([70.0, 10.0, 40.0], np.float32)
    box = recolour(lab, alpha, goal, 0.8, contrast=1.3, chroma_texture=0.3)
    inside = alpha > 0
    pixels = recolour(lab[inside][None], alpha[inside][None], goal, 0.8, contrast=1.3, chroma_texture=0.3)
    assert pixels.shape == (1, int(inside.sum()), 3) and pixels.dtype == np.float32
    assert np.allclose(pixels[0], box[inside], atol=1e-4)
    assert np.array_equal(box[~inside], lab[~inside])
    assert np.abs(box[inside] - lab[inside]).max() > 5.0  # it did recolour
