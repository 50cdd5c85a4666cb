"""Named index sets of MediaPipe's 478-point face mesh, read from the `mediapipe` package itself.

The long index lists (face oval, lips, eyes) come from MediaPipe's `FaceLandmarksConnections` edge
lists, walked into ordered chains, so nothing long is retyped here. Only the few points that name
where a chain starts or which half it is (mouth corners, lip midpoints, eye corners, iris centres)
are written out, with what they are.

Importing mediapipe takes about 2 s, so the sets are built on first use by `face_mesh_indices()`
and cached.

"Left" and "right" are the subject's, as in MediaPipe: the subject's left eye (points 263, 362,
iris 473-477) is on the image's right in a non-mirrored photo.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from editor.face import IRIS_CENTERS, NUM_LANDMARKS

__all__ = ["NUM_LANDMARKS", "FaceMeshIndices", "as_array", "face_mesh_indices"]

# The few named points (MediaPipe canonical face mesh numbering).
INNER_MOUTH_CORNERS = (78, 308)  # subject's right, left inner-lip corner
INNER_UPPER_LIP_MID = 13  # midpoint of the upper lip's inner edge
INNER_LOWER_LIP_MID = 14  # midpoint of the lower lip's inner edge
OUTER_MOUTH_CORNERS = (61, 291)  # subject's right, left outer mouth corner
OUTER_UPPER_LIP_MID = 0  # top of the upper lip (cupid's bow centre)
OUTER_LOWER_LIP_MID = 17  # bottom of the lower lip
RIGHT_EYE_CORNERS = (33, 133)  # outer, inner corner of the subject's right eye
LEFT_EYE_CORNERS = (263, 362)  # outer, inner corner of the subject's left eye
#: Eyebrows (MediaPipe's FACE_LANDMARKS_*_EYEBROW points), each row from the outer end to the inner end.
RIGHT_BROW_UPPER = (70, 63, 105, 66, 107)
RIGHT_BROW_LOWER = (46, 53, 52, 65, 55)
LEFT_BROW_UPPER = (300, 293, 334, 296, 336)
LEFT_BROW_LOWER = (276, 283, 282, 295, 285)
RIGHT_BROW = RIGHT_BROW_UPPER + RIGHT_BROW_LOWER
LEFT_BROW = LEFT_BROW_UPPER + LEFT_BROW_LOWER
RIGHT_UPPER_LID_MID = 159  # top of the subject's right eye opening
LEFT_UPPER_LID_MID = 386  # top of the subject's left eye opening
RIGHT_IRIS_CENTRE, LEFT_IRIS_CENTRE = IRIS_CENTERS  # 468, 473
FOREHEAD_TOP = 10  # first point of MediaPipe's face-oval loop
CHIN = 152  # tip of the chin, the face oval's lowest point


@dataclass(frozen=True, eq=False)
class FaceMeshIndices:
    """Ordered index chains of the face mesh (each a tuple of landmark indices).

    Lid and lip chains run from the same corner to the same corner, so `upper[i]` and `lower[i]`
    face each other across the opening (both have the same length).
    """

    face_oval: tuple[int, ...]  # closed loop, 36 points, starting at the top of the forehead
    inner_lip_upper: tuple[int, ...]  # 11 points, subject's right corner 78 -> left corner 308
    inner_lip_lower: tuple[int, ...]  # 11 points, 78 -> 308
    outer_lip_upper: tuple[int, ...]  # 11 points, 61 -> 291
    outer_lip_lower: tuple[int, ...]  # 11 points, 61 -> 291
    right_eye_upper: tuple[int, ...]  # 9 points, outer corner 33 -> inner corner 133
    right_eye_lower: tuple[int, ...]  # 9 points, 33 -> 133
    left_eye_upper: tuple[int, ...]  # 9 points, outer corner 263 -> inner corner 362
    left_eye_lower: tuple[int, ...]  # 9 points, 263 -> 362
    right_iris: tuple[int, ...]  # centre first, then the 4 outline points
    left_iris: tuple[int, ...]  # centre first, then the 4 outline points
    triangles: np.ndarray  # (T, 3) int64 the face mesh's triangles (no triangle spans the eyes or mouth)

    @property
    def inner_lip_loop(self) -> tuple[int, ...]:
        """The inner-lip (mouth opening) polygon: upper chain then the lower chain backwards, 20 points."""
        return self.inner_lip_upper + tuple(reversed(self.inner_lip_lower[1:-1]))

    @property
    def eyelids(self) -> tuple[int, ...]:
        """All 32 eye-contour points of both eyes (the points eyelid scaling acts on), sorted."""
        chains = (self.right_eye_upper, self.right_eye_lower, self.left_eye_upper, self.left_eye_lower)
        return tuple(sorted({i for chain in chains for i in chain}))

    def eye_loop(self, side: str) -> tuple[int, ...]:
        """The eye-opening polygon of the subject's 'left' or 'right' eye, 16 points."""
        if side == "left":
            upper, lower = self.left_eye_upper, self.left_eye_lower
        elif side == "right":
            upper, lower = self.right_eye_upper, self.right_eye_lower
        else:
            raise ValueError(f"side must be 'left' or 'right', not {side!r}.")
        return upper + tuple(reversed(lower[1:-1]))


def _edges(connections: Iterable) -> list[tuple[int, int]]:
    return [(int(c.start), int(c.end)) for c in connections]


def _chain(
    edges: list[tuple[int, int]], start: int, end: int, through: int | None = None, avoid: int | None = None
) -> tuple[int, ...]:
    """The unbranched path from `start` to `end` that passes `through` (and not `avoid`), if given."""
    graph: dict[int, list[int]] = defaultdict(list)
    for a, b in edges:
        graph[a].append(b)
        graph[b].append(a)
    paths = []
    for first in graph[start]:
        path = [start, first]
        while path[-1] != end:
            nxt = [n for n in graph[path[-1]] if n != path[-2]]
            if len(nxt) != 1:
                break
            path.append(nxt[0])
        if path[-1] == end:
            paths.append(tuple(path))
    if through is not None:
        paths = [p for p in paths if through in p]
    if avoid is not None:
        paths = [p for p in paths if avoid not in p]
    if len(paths) != 1:
        raise RuntimeError(
            f"Could not find one chain {start} -> {end} through {through} in MediaPipe's connections "
            f"(found {len(paths)}); the installed mediapipe version may number its mesh differently."
        )
    return paths[0]


def _triangles(edges: list[tuple[int, int]]) -> np.ndarray:
    """(T, 3) sorted index triples of every 3-cycle of the tessellation's edge graph (its triangles)."""
    neighbours: dict[int, set[int]] = defaultdict(set)
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    triples = {tuple(sorted((a, b, c))) for a, b in edges for c in neighbours[a] & neighbours[b]}
    return np.array(sorted(triples), dtype=np.int64)


def _loop(edges: list[tuple[int, int]], start: int) -> tuple[int, ...]:
    """The closed loop of a cycle edge list, as the order the edges are listed in, from `start`."""
    successor = dict(edges)
    loop = [start]
    while successor[loop[-1]] != start:
        loop.append(successor[loop[-1]])
        if len(loop) > len(edges):
            raise RuntimeError("MediaPipe's face-oval connections do not form one closed loop.")
    return tuple(loop)


@functools.cache
def face_mesh_indices() -> FaceMeshIndices:
    """Build (once) the index chains from mediapipe's FaceLandmarksConnections."""
    from editor.mediapipe_import import import_mediapipe

    import_mediapipe()
    from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarksConnections as C

    lips = _edges(C.FACE_LANDMARKS_LIPS)
    right_eye = _edges(C.FACE_LANDMARKS_RIGHT_EYE)
    left_eye = _edges(C.FACE_LANDMARKS_LEFT_EYE)

    def eye(edges: list[tuple[int, int]], corners: tuple[int, int], top: int) -> tuple[tuple[int, ...], ...]:
        return _chain(edges, *corners, through=top), _chain(edges, *corners, avoid=top)

    def iris(connections: Iterable, centre: int) -> tuple[int, ...]:
        return (centre, *sorted({i for e in _edges(connections) for i in e}))

    r_up, r_low = eye(right_eye, RIGHT_EYE_CORNERS, RIGHT_UPPER_LID_MID)
    l_up, l_low = eye(left_eye, LEFT_EYE_CORNERS, LEFT_UPPER_LID_MID)
    indices = FaceMeshIndices(
        face_oval=_loop(_edges(C.FACE_LANDMARKS_FACE_OVAL), FOREHEAD_TOP),
        inner_lip_upper=_chain(lips, *INNER_MOUTH_CORNERS, through=INNER_UPPER_LIP_MID),
        inner_lip_lower=_chain(lips, *INNER_MOUTH_CORNERS, through=INNER_LOWER_LIP_MID),
        outer_lip_upper=_chain(lips, *OUTER_MOUTH_CORNERS, through=OUTER_UPPER_LIP_MID),
        outer_lip_lower=_chain(lips, *OUTER_MOUTH_CORNERS, through=OUTER_LOWER_LIP_MID),
        right_eye_upper=r_up,
        right_eye_lower=r_low,
        left_eye_upper=l_up,
        left_eye_lower=l_low,
        right_iris=iris(C.FACE_LANDMARKS_RIGHT_IRIS, RIGHT_IRIS_CENTRE),
        left_iris=iris(C.FACE_LANDMARKS_LEFT_IRIS, LEFT_IRIS_CENTRE),
        triangles=_triangles(_edges(C.FACE_LANDMARKS_TESSELATION)),
    )
    for name in ("inner_lip", "outer_lip", "right_eye", "left_eye"):
        upper, lower = getattr(indices, f"{name}_upper"), getattr(indices, f"{name}_lower")
        if len(upper) != len(lower) or set(upper[1:-1]) & set(lower[1:-1]):
            raise RuntimeError(f"MediaPipe's {name} chains are not two facing halves of one contour.")
    return indices


def as_array(indices: Iterable[int]) -> np.ndarray:
    """An index chain as an (N,) int64 array, for fancy indexing of a (478, 2|3) landmark array."""
    return np.asarray(tuple(indices), dtype=np.int64)
