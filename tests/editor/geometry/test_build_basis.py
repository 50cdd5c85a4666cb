"""The build side: the rasteriser and attachment maths (no anny needed), the shipped file's provenance,
and (slow, with anny installed) a rebuild that reproduces the shipped basis."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from editor.geometry import anny_render, build_basis
from editor.geometry.basis import load_basis

GEOMETRY = Path(build_basis.__file__).resolve().parent


def test_rasterize_covers_the_triangle_and_keeps_the_closer_one():
    screen = np.array(
        [[10, 10, 0.0], [50, 10, 0.0], [10, 50, 0.0], [10, 10, 1.0], [30, 10, 1.0], [10, 30, 1.0]]
    )
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    triangle, bary = anny_render.rasterize(screen, faces, 64)
    assert abs((triangle >= 0).sum() - 0.5 * 40 * 40) < 40  # area of the big triangle, edge pixels aside
    assert (triangle[12, 12] == 1) and (triangle[40, 12] == 0)  # the nearer (depth 1) small one wins
    hit = triangle >= 0
    assert np.allclose(bary[hit].sum(axis=1), 1.0) and (bary[hit] >= -1e-9).all()


def test_barycentric_is_exact_inside_and_clamped_outside():
    corners = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    w = build_basis._barycentric(np.array([2.0, 3.0]), corners)
    assert np.allclose(w @ corners, [2.0, 3.0])
    outside = build_basis._barycentric(np.array([-5.0, 2.0]), corners)
    assert (outside >= 0).all() and outside.sum() == pytest.approx(1.0)


def test_canonical_frame_is_a_rotation_not_a_mirror():
    flip = np.diag([1.0, -1.0, -1.0])
    assert np.linalg.det(flip) == pytest.approx(1.0)
    assert np.allclose(build_basis.anny_to_canonical(np.eye(3)), flip)


def test_shipped_basis_was_built_by_the_committed_scripts():
    provenance = load_basis().provenance
    for key, name in (("build_script_sha256", "build_basis.py"), ("renderer_sha256", "anny_render.py")):
        digest = hashlib.sha256((GEOMETRY / name).read_bytes()).hexdigest()
        assert provenance[key] == digest, f"{name} changed since the basis was built: rebuild it"


@pytest.mark.slow
def test_rebuild_reproduces_the_shipped_basis():
    pytest.importorskip("anny")
    rebuilt = build_basis.build_basis()
    shipped = load_basis()
    assert rebuilt.names == shipped.names
    assert np.allclose(rebuilt.neutral, shipped.neutral, atol=1e-4)
    assert np.allclose(rebuilt.displacements, shipped.displacements, atol=1e-4)
