"""Scattered-data interpolants that turn sparse 2D displacements into the warp's dense field.

`ThinPlateSpline`: smooth everywhere, but it overshoots (and can fold) where nearby points move
very differently, as closing eyelids do. `piecewise_affine`: affine on each triangle of a Delaunay
triangulation, so it never overshoots and folds only where a triangle itself flips, at the price of
creases along triangle edges. editor.warp uses the spline, and piecewise affine where it folds.

Thin-plate spline: f(p) = a0 + a1 x + a2 y + sum_i w_i U(|p - c_i|), U(r) = r^2 log r, fitted so
f(c_i) = v_i (or, with smoothing > 0, the regularised fit). Solved in coordinates centred on the
control points and divided by their spread, so the system is well conditioned at any image size.
Evaluation is one matrix product (squared distances by |g|^2 + |c|^2 - 2 g.c), float32 or float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay  # imported here, not on first use: it takes ~0.3 s


@dataclass(frozen=True)
class ThinPlateSpline:
    """A fitted spline. Build with `ThinPlateSpline.fit`; call with (M, 2) points -> (M, D) values."""

    centres: np.ndarray  # (N, 2) float64 control points, normalised coordinates
    weights: np.ndarray  # (N, D) float64 kernel weights
    affine: np.ndarray  # (3, D) float64: constant, x and y coefficients
    origin: np.ndarray  # (2,) float64: subtracted from input points before dividing by `scale`
    scale: float  # input units per normalised unit

    @classmethod
    def fit(cls, points: np.ndarray, values: np.ndarray, *, smoothing: float = 0.0) -> ThinPlateSpline:
        """Fit the spline through `values` (N, D) at `points` (N, 2); N >= 3 points not all on a line.

        smoothing: >= 0, added to the kernel's diagonal in normalised units (0 interpolates exactly;
            around 1e-5 tolerates nearly coincident points with different values).
        """
        points = np.asarray(points, np.float64)
        values = np.asarray(values, np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) < 3:
            raise ValueError(
                f"Thin-plate spline needs (N, 2) control points with N >= 3, got {points.shape}."
            )
        if values.ndim == 1:
            values = values[:, None]
        if len(values) != len(points):
            raise ValueError(f"Got {len(points)} control points but {len(values)} values.")
        origin = points.mean(axis=0)
        scale = float(np.sqrt(((points - origin) ** 2).sum(axis=1).mean())) or 1.0
        centres = (points - origin) / scale
        n = len(centres)
        if np.linalg.matrix_rank(np.c_[np.ones(n), centres], tol=1e-9) < 3:
            raise ValueError("The thin-plate spline's control points are collinear; it needs a 2D spread.")
        system = np.zeros((n + 3, n + 3))
        system[:n, :n] = _kernel(_squared_distances(centres, centres))
        system[:n, :n][np.diag_indices(n)] += smoothing
        system[:n, n] = 1.0
        system[:n, n + 1 :] = centres
        system[n, :n] = 1.0
        system[n + 1 :, :n] = centres.T
        rhs = np.zeros((n + 3, values.shape[1]))
        rhs[:n] = values
        try:
            solution = np.linalg.solve(system, rhs)
        except np.linalg.LinAlgError as err:
            raise ValueError(
                "The thin-plate spline system is singular: the control points are collinear or repeat "
                "with different values; pass smoothing > 0 or remove duplicate points."
            ) from err
        return cls(centres=centres, weights=solution[:n], affine=solution[n:], origin=origin, scale=scale)

    def __call__(self, points: np.ndarray, *, fast: bool = False, exact_above: float = 2e3) -> np.ndarray:
        """Evaluate at (M, 2) points (input units) -> (M, D) float64 values.

        fast: evaluate the kernel in float32 (about 2x faster), except for control points whose weight
            exceeds `exact_above`, which stay float64. Nearly coincident points that move differently
            (a closing lid's corner) get weights of 1e5 whose float32 sums were off by 1.7 px
            (measured); with them exact the error was below 0.05 px on the same warp.
        """
        query = (np.asarray(points, np.float64) - self.origin) / self.scale
        if not fast:
            out = _kernel_sum(query, self.centres, self.weights)
        else:
            heavy = np.abs(self.weights).max(axis=1) > exact_above
            out = _kernel_sum(query.astype(np.float32), self.centres[~heavy], self.weights[~heavy])
            out = out.astype(np.float64)
            if heavy.any():
                out += _kernel_sum(query, self.centres[heavy], self.weights[heavy])
        out += self.affine[0] + query @ self.affine[1:]
        return out


def piecewise_affine(
    to_points: np.ndarray, from_points: np.ndarray, query: np.ndarray, triangles: np.ndarray | None = None
) -> np.ndarray:
    """The piecewise-affine map of a triangulation of `to_points` onto `from_points`.

    Args:
        to_points: (N, 2) where the control points are (the triangulated side).
        from_points: (N, 2) what each maps to.
        query: (M, 2) points to map.
        triangles: (T, 3) vertex indices of non-overlapping triangles; default: Delaunay of `to_points`.
            With a mesh whose triangles keep their orientation from `to_points` to `from_points`, the
            map cannot fold.
    Returns:
        (M, 2) float64 mapped points; NaN for query points outside every triangle.
    """
    to_points = np.asarray(to_points, np.float64)
    query = np.asarray(query, np.float64)
    if triangles is None:
        triangles = Delaunay(to_points).simplices
    simplex = _locate(to_points, np.asarray(triangles), query)
    vertices = np.asarray(triangles)[simplex]  # (M, 3)
    a, b, c = (to_points[vertices[:, k]] for k in range(3))  # (M, 2) each
    # Barycentric coordinates by hand: scipy's Delaunay.transform took 8 s on landmark sets (measured).
    e1, e2, d = b - a, c - a, query - a
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    det = np.where(np.abs(det) > 1e-12, det, 1e-12)
    l1 = (d[:, 0] * e2[:, 1] - d[:, 1] * e2[:, 0]) / det
    l2 = (e1[:, 0] * d[:, 1] - e1[:, 1] * d[:, 0]) / det
    barycentric = np.stack([1.0 - l1 - l2, l1, l2], axis=1)  # (M, 3)
    corners = np.asarray(from_points, np.float64)[vertices]  # (M, 3, 2)
    mapped = (barycentric[..., None] * corners).sum(axis=1)
    mapped[simplex < 0] = np.nan
    return mapped


def _locate(points: np.ndarray, triangles: np.ndarray, query: np.ndarray) -> np.ndarray:
    """(M,) index of the triangle holding each query point, -1 outside every triangle.

    scipy's find_simplex can take seconds on the near-degenerate triangles landmark sets contain
    (1.4 s for 300 points, measured). Instead the triangles overlapping the queries are painted into a
    label image at 1 px resolution and each query reads its pixel (or a labelled neighbour's, on an
    edge): a point within a pixel of its triangle uses that triangle's affine map, which is continuous
    across edges, so the error is negligible.
    """
    if len(query) == 0:
        return np.zeros(0, np.int64)
    lo = np.floor(query.min(axis=0)) - 1
    hi = np.ceil(query.max(axis=0)) + 2
    width, height = (hi - lo).astype(int)
    if width * height > 25_000_000:
        raise ValueError("piecewise_affine queries span more than 25 megapixels; query in smaller batches.")
    labels = np.full((height, width), -1, np.int32)
    corners = points[triangles]  # (T, 3, 2)
    overlaps = (corners.max(axis=1) >= lo).all(axis=1) & (corners.min(axis=1) <= hi).all(axis=1)
    for k in np.flatnonzero(overlaps):
        polygon = np.round((corners[k] - lo) * 16).astype(np.int32)
        cv2.fillConvexPoly(labels, polygon, int(k), lineType=cv2.LINE_8, shift=4)
    cols = np.clip(np.round(query[:, 0] - lo[0]).astype(int), 0, width - 1)
    rows = np.clip(np.round(query[:, 1] - lo[1]).astype(int), 0, height - 1)
    simplex = labels[rows, cols].astype(np.int64)
    for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1)):
        missing = simplex < 0
        if not missing.any():
            break
        r = np.clip(rows[missing] + dy, 0, height - 1)
        c = np.clip(cols[missing] + dx, 0, width - 1)
        simplex[missing] = labels[r, c]
    return simplex  # still -1: outside every triangle


def _kernel_sum(query: np.ndarray, centres: np.ndarray, weights: np.ndarray, chunk: int = 512) -> np.ndarray:
    """sum_i weights[i] U(|query - centres[i]|) for (M, 2) queries, in the queries' dtype -> (M, D).

    Differences are taken directly (not |q|^2 + |c|^2 - 2 q.c, which cancels for nearby points) and
    rows are processed in chunks that stay in cache; U(r) = 0.5 d2 log d2 with the 0.5 in the weights.
    """
    dtype = query.dtype
    cx = centres[:, 0].astype(dtype)
    cy = centres[:, 1].astype(dtype)
    half_weights = (0.5 * weights).astype(dtype)
    tiny = np.finfo(dtype).tiny
    out = np.empty((len(query), weights.shape[1]), dtype)
    for start in range(0, len(query), chunk):
        rows = query[start : start + chunk]
        d2 = rows[:, :1] - cx  # (m, N)
        d2 *= d2
        dy = rows[:, 1:] - cy
        dy *= dy
        d2 += dy
        np.maximum(d2, tiny, out=d2)
        u = np.log(d2, out=dy)
        u *= d2
        out[start : start + chunk] = u @ half_weights
    return out


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, 2), (N, 2) -> (M, N) squared distances, clipped at 0 against rounding."""
    d2 = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :]
    d2 -= 2.0 * (a @ b.T)
    np.maximum(d2, 0.0, out=d2)
    return d2


def _kernel(d2: np.ndarray) -> np.ndarray:
    """U(r) = r^2 log r written in r^2: 0.5 d2 log d2, with U(0) = 0 (a new array of d2's shape)."""
    out = np.maximum(d2, np.finfo(d2.dtype).tiny)
    np.log(out, out=out)
    out *= d2
    out *= 0.5
    return out
