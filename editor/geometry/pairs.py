"""Training pairs for the Flow VAE: (source crop, target crop, flow, label, ARKit weights) from real photos.

Three kinds of pair, all on aligned face crops (`editor.alignment.align_face`, ``size`` x ``size``,
128 by default, the editing framing ``EDIT_EXPAND``):

- ``synthetic``: source = the photo's own crop; target = the geometry backend's warp of it for random
  expression requests (a random prototype or action unit, or two, at random intensities); the flow is
  the warp's exact backward flow.
- ``synthetic_e2e`` (expressive -> expressive): source = warp A of the photo, target = warp B. **Choice:**
  the source is rendered from the original crop (one resampling), and the target is rendered FROM THE
  SOURCE by moving the source's (safe) warped landmarks to B's landmarks, so the recorded flow is the
  exact flow source -> target, including B's synthesised mouth interior, rather than an approximation by
  composing A's inverse with B. Both renders happen at ``render_factor`` times the crop size and are then
  shrunk, so the second resampling is invisible at the crop size.
- ``real``: London neutral <-> smiling photos of the same person (both directions, label ``happy``
  strength +1 and -1), each photo aligned by its own key points; no ground-truth flow.

Warps run on a crop at ``render_factor * size`` in crop coordinates (the photo's landmarks carried
through the crop's similarity transform). The thin-plate-spline warp commutes with a similarity
(rotation, uniform scale, translation), and the warp's mask and clamps are relative to the face, so this
equals warping the full photo and carrying its flow into the crop, at a fraction of the cost.
Flows are stored as ``(H, W, 2)`` float16 displacements in the crop's normalised coordinates
(`editor.flow.flow_to_normalized`, grid_sample convention, ``align_corners=False``).

Splits are by person: the face id's SHA-256 decides train / val / test once and for all (recorded in
every manifest row and in ``splits.json``), so every photo of a person lands in the same split whatever
the seed or data order. Everything else is deterministic from ``--seed`` (one generator per photo,
seeded by the seed and the photo's id).

CLI: ``python -m editor.geometry.pairs --data /work/shared/data/london --out DIR --seed 0 [--size 128]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from editor.alignment import align_face, transform_points
from editor.backends.geometry import GeometryBackend
from editor.errors import FacechatError
from editor.face import Face, FaceAnalyzer
from editor.flow import flow_to_normalized, resize_flow
from editor.geometry.motion import target_landmarks
from editor.geometry.prototypes import PROTOTYPES
from editor.images import load_image, save_image
from editor.requests import EditRequest
from editor.warp import warp_face

logger = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"
SPLITS_FILE = "splits.json"
#: Fractions of people in the validation and test splits (the rest trains).
SPLIT_FRACTIONS = {"test": 0.15, "val": 0.10}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
#: Label of the real smiling photos.
REAL_LABEL = "happy"


@dataclass(frozen=True)
class PairConfig:
    """How many pairs of which kind, and how strong."""

    size: int = 128  # crop side, pixels (the Flow VAE's input size)
    render_factor: int = 2  # warps run at this multiple of `size`, then shrink (INTER_AREA)
    pairs_per_photo: int = 20  # synthetic pairs per photo (both kinds together)
    expressive_fraction: float = 0.3  # share of expressive -> expressive pairs among them
    two_requests: float = 0.25  # chance that an expression is a mix of two requests
    min_strength: float = 0.3  # intensities are uniform in [min_strength, max_strength]
    max_strength: float = 1.0
    single_strength: float = 0.25  # chance a single request is drawn at exactly 1.0 (the label's mean)


def split_of(face_id: str) -> str:
    """'train', 'val' or 'test' for a person, fixed by the SHA-256 of their id."""
    digest = hashlib.sha256(face_id.encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    if u < SPLIT_FRACTIONS["test"]:
        return "test"
    if u < SPLIT_FRACTIONS["test"] + SPLIT_FRACTIONS["val"]:
        return "val"
    return "train"


@dataclass(frozen=True)
class Photo:
    """One photo of the data: ``face_id`` names the person, ``state`` 'neutral', 'smiling' or 'photo'."""

    path: Path
    face_id: str
    state: str

    @property
    def key(self) -> str:
        """A file-name-safe unique name for the photo."""
        return f"{self.face_id.replace('/', '_')}_{self.state}"


def list_photos(folder: Path) -> list[Photo]:
    """Photos of a data folder: London layout (``neutral/ID.jpg`` + ``smiling/ID.jpg``) or flat (``ID.jpg``).

    Face ids are ``<folder name>/<file stem>``, so the same person has one id in both London folders.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FacechatError(f"The data folder {folder} does not exist; pass a folder of face photos.")
    subfolders = [name for name in ("neutral", "smiling") if (folder / name).is_dir()]
    layout = [(folder / name, name) for name in subfolders] or [(folder, "photo")]
    photos = [
        Photo(path, f"{folder.name}/{path.stem}", state)
        for directory, state in layout
        for path in sorted(directory.iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not photos:
        raise FacechatError(f"No .jpg or .png photos in {folder}; pass a folder of face photos.")
    return photos


def random_requests(rng: np.random.Generator, config: PairConfig) -> list[EditRequest]:
    """One random expression: one or two prototype/action-unit requests at random intensities."""
    names = sorted(PROTOTYPES)
    count = 2 if rng.random() < config.two_requests else 1
    chosen = rng.choice(len(names), size=count, replace=False)
    requests = []
    for index in chosen:
        if count == 1 and rng.random() < config.single_strength:
            strength = 1.0
        else:
            strength = float(rng.uniform(config.min_strength, config.max_strength))
        requests.append(EditRequest(attribute=names[int(index)], strength=round(strength, 3)))
    return requests


@dataclass
class _Crop:
    """A photo's aligned crop at render size, with its face carried into crop coordinates."""

    image: np.ndarray  # (R, R, 3) uint8, R = size * render_factor
    face: Face  # landmarks and key points in render-crop pixels


class PairGenerator:
    """Writes pairs for photos into a dataset folder (images/, flows/, manifest rows)."""

    def __init__(
        self, out: Path, config: PairConfig | None = None, *, analyzer: FaceAnalyzer | None = None
    ) -> None:
        self.out = Path(out)
        self.config = config or PairConfig()
        self.backend = GeometryBackend()
        self._analyzer = analyzer
        for sub in ("images", "flows"):
            (self.out / sub).mkdir(parents=True, exist_ok=True)

    @property
    def analyzer(self) -> FaceAnalyzer:
        if self._analyzer is None:
            self._analyzer = FaceAnalyzer()
        return self._analyzer

    # ------------------------------------------------------------------ crops

    def crop(self, photo: Photo) -> _Crop | None:
        """The photo's aligned render-size crop and face, or None (logged) when no face is found."""
        image = load_image(photo.path)
        try:
            face = self.analyzer.analyze_one(image, 0)
        except FacechatError as error:
            logger.warning("Skipping %s: %s", photo.path, error)
            return None
        render = self.config.size * self.config.render_factor
        aligned = align_face(image, face.points5, render)
        landmarks = face.landmarks.astype(np.float64).copy()
        landmarks[:, :2] = transform_points(landmarks, aligned.matrix)
        landmarks[:, 2] *= abs(np.linalg.det(aligned.matrix[:, :2])) ** 0.5
        moved = replace(
            face,
            landmarks=landmarks.astype(np.float32),
            points5=transform_points(face.points5, aligned.matrix).astype(np.float32),
        )
        return _Crop(aligned.image, moved)

    def _small(self, image: np.ndarray) -> np.ndarray:
        size = self.config.size
        return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)

    def _normalised(self, flow: np.ndarray) -> np.ndarray:
        """Render-size pixel flow -> (size, size, 2) float16 flow in normalised crop coordinates."""
        size = self.config.size
        return flow_to_normalized(resize_flow(flow, (size, size))).astype(np.float16)

    # ------------------------------------------------------------------ pairs

    def _render(self, image: np.ndarray, source: np.ndarray, target: np.ndarray, face: Face):
        config = self.backend.warp_config_for(replace(face, landmarks=source.astype(np.float32)))
        return warp_face(image, source, target, config)

    def photo_pairs(self, photo: Photo, crop: _Crop, seed: int) -> Iterator[dict]:
        """Synthetic pairs of one photo (rows of the manifest); files are written as they are made."""
        config = self.config
        rng = np.random.default_rng([seed, int(hashlib.sha256(photo.key.encode()).hexdigest()[:8], 16)])
        original = self._image_file(f"{photo.key}.png", self._small(crop.image))
        base = crop.face.landmarks.astype(np.float64)
        for index in range(config.pairs_per_photo):
            expressive = rng.random() < config.expressive_fraction
            requests_b = random_requests(rng, config)
            weights_b = self.backend.weights(crop.face, requests_b)
            target_b = target_landmarks(base, weights_b, self.backend.basis)
            pair_id = f"{photo.key}_{index:03d}"
            row = {
                "id": pair_id,
                "face_id": photo.face_id,
                "split": split_of(photo.face_id),
                "photo": str(photo.path),
                "photo_state": photo.state,
            }
            if not expressive:
                result = self._render(crop.image, base, target_b, crop.face)
                row |= {"kind": "synthetic", "source": original, "source_requests": [], "source_weights": {}}
            else:
                requests_a = random_requests(rng, config)
                weights_a = self.backend.weights(crop.face, requests_a)
                target_a = target_landmarks(base, weights_a, self.backend.basis)
                rendered_a = self._render(crop.image, base, target_a, crop.face)
                # Target from the source render: the flow is exactly source -> target (module docstring).
                result = self._render(rendered_a.image, rendered_a.target, target_b, crop.face)
                source = self._image_file(f"{pair_id}_src.png", self._small(rendered_a.image))
                row |= {
                    "kind": "synthetic_e2e",
                    "source": source,
                    "source_requests": [r.model_dump(exclude={"value"}) for r in requests_a],
                    "source_weights": _rounded(weights_a),
                }
            np.save(self.out / "flows" / f"{pair_id}.npy", self._normalised(result.flow))
            row |= {
                "target": self._image_file(f"{pair_id}_tgt.png", self._small(result.image)),
                "flow": f"flows/{pair_id}.npy",
                "label": _label(requests_b),
                "requests": [r.model_dump(exclude={"value"}) for r in requests_b],
                "weights": _rounded(weights_b),
                "fold_fraction": round(float(result.fold_fraction), 5),
            }
            yield row

    def real_pairs(self, neutral: Photo, smiling: Photo) -> Iterator[dict]:
        """Both directions of a person's real neutral/smiling pair (crops must already be written)."""
        split = split_of(neutral.face_id)
        for source, target, strength in ((neutral, smiling, 1.0), (smiling, neutral, -1.0)):
            yield {
                "id": f"{source.key}_to_{target.state}",
                "face_id": neutral.face_id,
                "split": split,
                "kind": "real",
                "photo": str(source.path),
                "target_photo": str(target.path),
                "source": f"images/{source.key}.png",
                "target": f"images/{target.key}.png",
                "flow": None,
                "label": REAL_LABEL if strength > 0 else f"-{REAL_LABEL}",
                "requests": [{"attribute": REAL_LABEL, "strength": strength, "steps": 1}],
                "source_requests": [],
                "weights": {},
                "source_weights": {},
            }

    def _image_file(self, name: str, image: np.ndarray) -> str:
        save_image(image, self.out / "images" / name)
        return f"images/{name}"


def _label(requests: Sequence[EditRequest]) -> str:
    """The label of a target: its attribute, or 'a+b' for a mix (strongest first)."""
    ordered = sorted(requests, key=lambda r: -r.strength)
    return "+".join(r.attribute for r in ordered)


def _rounded(weights: dict[str, float]) -> dict[str, float]:
    return {name: round(float(value), 4) for name, value in sorted(weights.items())}


def generate(
    folders: Sequence[Path],
    out: Path,
    *,
    seed: int = 0,
    config: PairConfig | None = None,
    limit: int | None = None,
    analyzer: FaceAnalyzer | None = None,
) -> dict:
    """Write a dataset folder (images/, flows/, manifest.jsonl, splits.json) and return its summary.

    Args:
        folders: data folders (London layout or flat folders of photos).
        out: the dataset folder to create (existing files are overwritten).
        seed: seeds every random choice (together with each photo's id).
        limit: at most this many people per folder (the first by id), for quick runs.
    """
    config = config or PairConfig()
    generator = PairGenerator(out, config, analyzer=analyzer)
    started = time.perf_counter()
    counts: dict[str, int] = {}
    people: dict[str, str] = {}
    with open(Path(out) / MANIFEST, "w", encoding="utf-8") as manifest:

        def write(row: dict) -> None:
            manifest.write(json.dumps(row) + "\n")
            counts[row["kind"]] = counts.get(row["kind"], 0) + 1

        for folder in folders:
            photos = list_photos(Path(folder))
            if limit is not None:
                keep = sorted({p.face_id for p in photos})[:limit]
                photos = [p for p in photos if p.face_id in keep]
            cropped: dict[tuple[str, str], Photo] = {}
            for number, photo in enumerate(photos, 1):
                crop = generator.crop(photo)
                if crop is None:
                    continue
                people[photo.face_id] = split_of(photo.face_id)
                cropped[(photo.face_id, photo.state)] = photo
                for row in generator.photo_pairs(photo, crop, seed):
                    write(row)
                elapsed = time.perf_counter() - started
                logger.info("%d/%d %s (%.0f s)", number, len(photos), photo.key, elapsed)
            for (face_id, state), photo in sorted(cropped.items()):
                if state == "neutral" and (face_id, "smiling") in cropped:
                    for row in generator.real_pairs(photo, cropped[(face_id, "smiling")]):
                        write(row)
    summary = {
        "seed": seed,
        "data": [str(f) for f in folders],
        "config": asdict(config),
        "split_rule": "sha256(face_id) as a uniform number u: test if u < 0.15, val if u < 0.25, else train",
        "split_fractions": SPLIT_FRACTIONS,
        "people": dict(sorted(people.items())),
        "people_per_split": {s: sum(v == s for v in people.values()) for s in ("train", "val", "test")},
        "pairs": counts,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (Path(out) / SPLITS_FILE).write_text(json.dumps(summary, indent=2))
    return summary


def read_manifest(folder: Path) -> list[dict]:
    """The rows of a dataset folder's manifest.jsonl."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise FacechatError(
            f"{path} does not exist; make a dataset with `python -m editor.geometry.pairs --out {folder}`."
        )
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m editor.geometry.pairs", description="Write Flow VAE training pairs from face photos."
    )
    parser.add_argument("--data", action="append", required=True, type=Path, help="data folder (repeatable)")
    parser.add_argument("--out", required=True, type=Path, help="dataset folder to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=PairConfig.size, help="crop side in pixels")
    parser.add_argument("--pairs-per-photo", type=int, default=PairConfig.pairs_per_photo)
    parser.add_argument("--limit", type=int, default=None, help="at most N people per folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = PairConfig(size=args.size, pairs_per_photo=args.pairs_per_photo)
    summary = generate(args.data, args.out, seed=args.seed, config=config, limit=args.limit)
    logger.info("Wrote %s: %s", args.out, json.dumps(summary["pairs"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
