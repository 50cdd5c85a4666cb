"""Benchmark of the appearance backend on held-out London and Canada people.

Per attribute at strength 0.5 and 1.0: the colour change reached in the region (ΔE of the region's
mean CIELAB colour toward the requested colour: before, after, gain), leakage (pixels changed outside
the region: must be 0), SFace identity of the edit against the calibrated threshold, and the time of
one edit of the full photo (median of several runs). Hair: the mask's recall of the template hair
band (between the .tem hairline and head outline) and its leak onto the template forehead (below the
hairline). Age: the ratio of fine-detail energy after / before in the places age puts wrinkles
(`WRINKLE_POINTS`); glasses: whether both iris centres lie inside the drawn region (lenses over the
eyes); beard: the mean lightness change in the beard region. Writes a JSON report and, with
--montage, a montage PNG to look at.

    python -m eval.bench_appearance --data ../shared/data --out runs/appearance/bench.json \
        --montage runs/appearance/montage.png [--attributes glasses age beard]

Data: Face Research Lab London Set (DeBruine & Jones 2017, CC BY 4.0) and the Canada set (DeBruine
2016, CC BY 4.0). The London people are the held-out `test_ids` of editor/data/happy_calibration.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

#: (attribute, value) pairs measured: a colour, a glasses style, or None (tan, makeup, age, beard).
CASES: tuple[tuple[str, str | None], ...] = (
    ("lipstick", "red"), ("lipstick", "pink"), ("eye_color", "green"), ("eye_color", "blue"),
    ("hair_color", "blonde"), ("hair_color", "black"), ("hair_color", "red"), ("hair_color", "blue"),
    ("tan", None), ("makeup", None), ("glasses", None), ("glasses", "round"), ("glasses", "sunglasses"),
    ("age", None), ("beard", None),
)  # fmt: skip
STRENGTHS = (0.5, 1.0)
#: Strengths measured besides `STRENGTHS`: younger for age, a short beard for beard.
EXTRA_STRENGTHS = {"age": (-1.0,), "beard": (2.0,)}
#: Where age puts wrinkles (landmarks; an eye corner is taken 0.12 interocular units outward): the
#: nasolabial folds, the crow's feet, the forehead, the chin. Age's detail ratio is measured there.
WRINKLE_POINTS = ((206, 0.0), (426, 0.0), (33, -0.12), (263, 0.12), (151, 0.0), (199, 0.0))
#: .tem point indices (189-point Face Research Lab template), found by plotting them on the photos:
#: the hairline from the subject's right temple over the forehead to the left temple (109, 134-144, 112),
#: and the head outline under the hair from the right jaw over the crown to the left jaw (145-157).
HAIRLINE = (109, *range(134, 145), 112)
HEAD_OUTLINE = tuple(range(145, 158))


def read_tem(path: Path) -> np.ndarray:
    """(N, 2) float points of a Face Research Lab / Psychomorph .tem file (count, then x y per line)."""
    tokens = path.read_text().split()
    count = int(tokens[0])
    return np.asarray(tokens[1 : 1 + 2 * count], np.float64).reshape(count, 2)


def template_regions(tem: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(hair band, forehead) (H, W) bool masks from a template.

    Hair band: inside the head outline from ear to ear over the crown (147-155), above the hairline.
    Forehead: under the hairline curve (134-144) closed by the straight line between its ends.
    """
    band = np.concatenate([tem[list(HEAD_OUTLINE[2:-2])], tem[list(HAIRLINE)][::-1]])
    forehead = tem[list(HAIRLINE[1:-1])]
    masks = []
    for polygon in (band, forehead):
        canvas = np.zeros(shape, np.uint8)
        cv2.fillPoly(canvas, [np.round(polygon).astype(np.int32)], 1)
        masks.append(canvas.astype(bool))
    return masks[0], masks[1]


def people(data: Path, split: str = "held-out") -> list[tuple[str, Path, Path | None]]:
    """(name, photo, template or None) of the held-out London people and every Canada person, or with
    ``split`` "calibration" of the other London people (the only ones a hair-mask setting may be tuned
    on)."""
    calibration = json.loads(Path("editor/data/happy_calibration.json").read_text())
    held_out = set(calibration["test_ids"])
    if split == "calibration":
        photos = sorted((data / "london" / "neutral").glob("*.jpg"))
        return [(f"london/{p.stem}", p, p.with_suffix(".tem")) for p in photos if p.stem not in held_out]
    found = []
    for face_id in calibration["test_ids"]:
        photo = data / "london" / "neutral" / f"{face_id}.jpg"
        if photo.exists():
            found.append((f"london/{face_id}", photo, photo.with_suffix(".tem")))
    for photo in sorted((data / "canada").glob("*.jpg")):
        tem = photo.with_suffix(".tem")
        found.append((f"canada/{photo.stem}", photo, tem if tem.exists() else None))
    return found


def detail_energy(image: np.ndarray, landmarks: np.ndarray) -> float:
    """Mean energy of fine detail (lightness minus its blur at 1/150 interocular) at `WRINKLE_POINTS`."""
    from editor.images import to_lab

    unit = float(np.linalg.norm(landmarks[468, :2] - landmarks[473, :2]))
    across = (landmarks[473, :2] - landmarks[468, :2]) / unit
    radius = max(3, int(0.08 * unit))
    energies = []
    for index, outward in WRINKLE_POINTS:
        x, y = np.round(landmarks[index, :2] + outward * unit * across).astype(int)
        patch = image[max(0, y - 2 * radius) : y + 2 * radius, max(0, x - 2 * radius) : x + 2 * radius]
        lightness = to_lab(patch)[..., 0]
        band = lightness - cv2.GaussianBlur(lightness, (0, 0), max(0.8, unit / 150))
        energies.append(float((band[radius:-radius, radius:-radius] ** 2).mean()))
    return float(np.mean(energies))


def _specific(attribute: str, image: np.ndarray, edited: np.ndarray, landmarks: np.ndarray, region) -> dict:
    """The attribute's own figure (see the module docstring)."""
    if attribute == "age":
        return {"detail_ratio": detail_energy(edited, landmarks) / max(detail_energy(image, landmarks), 1e-6)}
    if attribute == "glasses":
        irises = np.round(landmarks[[468, 473], :2]).astype(int)
        return {"irises_in_region": bool(region[irises[:, 1], irises[:, 0]].all())}
    if attribute == "beard":
        from editor.images import to_lab

        change = to_lab(edited[region][None])[..., 0].mean() - to_lab(image[region][None])[..., 0].mean()
        return {"beard_delta_l": float(change)}
    return {}


def run(
    data: Path,
    *,
    limit: int | None = None,
    repeats: int = 3,
    montage: Path | None = None,
    attributes: tuple[str, ...] | None = None,
) -> dict:
    """Measure every case (of ``attributes``, default all) on every person; returns the report."""
    from editor.appearance import AppearanceBackend
    from editor.appearance.backend import EFFECTS
    from editor.appearance.hair import hair_mask
    from editor.face import FaceAnalyzer
    from editor.identity import IdentityScorer
    from editor.images import load_image
    from editor.requests import EditRequest

    backend = AppearanceBackend()
    scorer = IdentityScorer()
    rows: list[dict] = []
    hair_rows: list[dict] = []
    tiles: list[np.ndarray] = []
    everyone = people(data)
    chosen = [p for s in ("london/", "canada/") for p in [q for q in everyone if q[0].startswith(s)][:limit]]
    with FaceAnalyzer() as analyzer:
        for name, photo, tem in chosen:
            image = load_image(photo)
            face = analyzer.analyze_one(image)
            original = scorer.embed(image, face)
            if tem is not None:
                band, forehead = template_regions(read_tem(tem), image.shape[:2])
                hair = hair_mask(face.landmarks, image).full() > 0.5
                hair_rows.append({"person": name, **hair_scores(hair, band, forehead, image, face.landmarks)})
            row_tiles = [image]
            for attribute, colour in CASES:
                if not backend.supports(attribute) or (attributes and attribute not in attributes):
                    continue
                for strength in STRENGTHS + EXTRA_STRENGTHS.get(attribute, ()):
                    request = EditRequest(attribute=attribute, strength=strength, value=colour)
                    times = []
                    for _ in range(repeats):
                        started = time.perf_counter()
                        edit = backend.edit(image, face, [request], steps=1)
                        times.append(1000 * (time.perf_counter() - started))
                    region = EFFECTS[attribute](image, face.landmarks, strength, colour).region.full() > 0
                    moved = (edit.image != image).any(axis=-1)
                    after = analyzer.analyze(edit.image)
                    similarity = None
                    if after:
                        similarity = float(scorer.similarity(original, scorer.embed(edit.image, after[0])))
                    d = edit.diagnostics
                    measured = ("pixels", "delta_e_before", "delta_e_after", "delta_e_gain", "delta_e_change")
                    rows.append({
                        "person": name, "attribute": attribute, "colour": colour, "strength": strength,
                        **{k: d.get(f"{attribute}.{k}") for k in measured},
                        "leak_pixels": int((moved & ~region).sum()), "identity": similarity,
                        "same_person": None if similarity is None else bool(similarity >= scorer.threshold),
                        "ms": statistics.median(times),
                        **_specific(attribute, image, edit.image, face.landmarks, region),
                    })  # fmt: skip
                    if strength == 1.0:
                        row_tiles.append(edit.image)
            if montage is not None and len(tiles) < 6:
                tiles.append(_row(row_tiles, face))
            logger.info("%s done", name)
    report = {"scorer": scorer.name, "threshold": scorer.threshold, "people": len(chosen),
              "summary": _summary(rows, hair_rows), "rows": rows, "hair": hair_rows}  # fmt: skip
    if montage is not None and tiles:
        montage.parent.mkdir(parents=True, exist_ok=True)
        width = max(t.shape[1] for t in tiles)
        grid = np.concatenate([np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0))) for t in tiles])
        cv2.imwrite(str(montage), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    return report


#: A template-forehead pixel within this CIE76 distance of the cheeks' median colour counts as bare skin.
SKIN_DELTA_E = 20.0


def hair_scores(
    hair: np.ndarray, band: np.ndarray, forehead: np.ndarray, image: np.ndarray, landmarks: np.ndarray
) -> dict:
    """Recall of the template hair ``band``, leak onto the template ``forehead``, and leak onto its
    bare skin (all (H, W) bool).

    The template's hairline is where hair grows from, so a fringe lies over the template forehead and
    counts as leak there; ``leak_skin`` counts only forehead pixels that look like skin (within
    `SKIN_DELTA_E` of the median colour of patches on both cheeks, landmarks 50 and 280), a proxy
    for colour on skin that a fringe does not inflate.
    """
    from editor.images import to_lab

    unit = float(np.linalg.norm(landmarks[468, :2] - landmarks[473, :2]))
    radius = max(2, int(0.08 * unit))
    patches = []
    for index in (50, 280):
        x, y = np.round(landmarks[index, :2]).astype(int)
        patches.append(to_lab(image[y - radius : y + radius, x - radius : x + radius]).reshape(-1, 3))
    cheeks = np.median(np.concatenate(patches), axis=0)
    ys, xs = np.nonzero(forehead)
    skin = np.linalg.norm(to_lab(image[ys, xs][None])[0] - cheeks, axis=1) < SKIN_DELTA_E  # (N,)
    return {
        "recall": float(hair[band].mean()), "leak": float(hair[forehead].mean()),
        "leak_skin": float(hair[ys[skin], xs[skin]].mean()) if skin.any() else 0.0,
        "forehead_skin": float(skin.mean()),
    }  # fmt: skip


#: (attribute, strength, value) timed by `timing`, and the held-out London photos it uses.
TIMED = (("lipstick", 1.0, "red"), ("eye_color", 1.0, "green"), ("hair_color", 1.0, "blonde"),
         ("tan", 1.0, None), ("makeup", 1.0, None), ("glasses", 1.0, None), ("glasses", 1.0, "sunglasses"),
         ("age", 1.0, None), ("age", -1.0, None), ("beard", 1.0, None), ("beard", 2.0, None))  # fmt: skip
TIMED_PEOPLE = ("003", "006", "009")


def timing(data: Path, *, repeats: int = 5, cached: bool = False, steps: int = 1) -> dict:
    """Median and minimum ms of one ``AppearanceBackend().edit`` per `TIMED` case over `TIMED_PEOPLE`
    x ``repeats`` runs, with the 1-minute load average when each case finished. Per-photo mask caches
    are cleared before every run unless ``cached`` (then the figures are those of a preview or a
    second colour of the same photo)."""
    import os

    from editor.appearance import AppearanceBackend
    from editor.appearance.hair import hair_mask
    from editor.appearance.regions import skin_mask
    from editor.face import FaceAnalyzer
    from editor.images import load_image
    from editor.requests import EditRequest

    backend = AppearanceBackend()
    with FaceAnalyzer() as analyzer:
        photos = [load_image(data / "london" / "neutral" / f"{i}.jpg") for i in TIMED_PEOPLE]
        faces = [analyzer.analyze_one(photo) for photo in photos]
    out = {}
    for attribute, strength, value in TIMED:
        request = [EditRequest(attribute=attribute, strength=strength, value=value)]
        times = []
        for photo, face in zip(photos, faces, strict=True):
            backend.edit(photo, face, request, steps=steps)  # warm-up (and, if cached, the cache)
            for _ in range(repeats):
                if not cached:
                    hair_mask.cache_clear()
                    skin_mask.cache_clear()
                started = time.perf_counter()
                backend.edit(photo, face, request, steps=steps)
                times.append(1000 * (time.perf_counter() - started))
        out[f"{attribute}/{value}/{strength}"] = {
            "ms_median": statistics.median(times), "ms_min": min(times), "load": os.getloadavg()[0],
        }  # fmt: skip
        logger.info("%s %s", f"{attribute}/{value}/{strength}", out[f"{attribute}/{value}/{strength}"])
    return {"steps": steps, "cached": cached, "repeats": repeats, "people": TIMED_PEOPLE, "cases": out}


#: Held-out people of the hair montage: two typical, and the hard cases seen before the mask was
#: rebuilt (curly red hair, dark hair on dark skin, long dark hair, a fringe, very short hair).
HAIR_MONTAGE = ("london/003", "london/036", "london/114", "london/128",
                "canada/010f", "canada/053f", "canada/070f", "canada/115m")  # fmt: skip


def hair_masks(
    data: Path, split: str = "held-out", *, cache: Path | None = None, montage: Path | None = None
) -> dict:
    """Only the hair mask's recall / leak (and its time) on ``split``'s people, with templates.

    ``cache`` (an .npz) keeps the landmarks found per person, so a rerun skips the landmark models.
    ``montage``: a PNG of `HAIR_MONTAGE` (those of them in ``split``), per person the photo, the
    mask (green) with the template hair band (red) and forehead (blue), blonde and red hair.
    """
    from editor.appearance.hair import apply as dye
    from editor.appearance.hair import hair_mask
    from editor.images import load_image

    tiles = []
    chosen = [p for p in people(data, split) if p[2] is not None]
    found = dict(np.load(cache)) if cache is not None and cache.exists() else {}
    rows = []
    analyzer = None
    for name, photo, tem in chosen:
        image = load_image(photo)
        if name not in found:
            if analyzer is None:
                from editor.face import FaceAnalyzer

                analyzer = FaceAnalyzer()
            found[name] = analyzer.analyze_one(image).landmarks
        band, forehead = template_regions(read_tem(tem), image.shape[:2])
        started = time.perf_counter()
        soft = hair_mask(found[name], image).full()  # (H, W)
        ms = 1000 * (time.perf_counter() - started)
        hair = soft > 0.5
        rows.append({"person": name, **hair_scores(hair, band, forehead, image, found[name]), "ms": ms})
        if montage is not None and name in HAIR_MONTAGE:
            shown = image.copy()
            shown[..., 1] = np.maximum(shown[..., 1], (255 * soft).astype(np.uint8))
            for region, colour in ((band, (255, 0, 0)), (forehead, (0, 0, 255))):
                contours, _ = cv2.findContours(
                    region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
                )
                cv2.drawContours(shown, contours, -1, colour, 3)
            dyed = [dye(image, found[name], 1.0, colour).image for colour in ("blonde", "red")]
            ys, xs = np.nonzero(band)
            y0, y1 = max(0, ys.min() - 200), min(image.shape[0], ys.max() + 500)
            x0, x1 = max(0, xs.min() - 200), min(image.shape[1], xs.max() + 200)
            size = (int(360 * (x1 - x0) / (y1 - y0)), 360)
            row = [
                cv2.resize(i[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA) for i in (image, shown, *dyed)
            ]
            tiles.append(np.concatenate(row, 1))
    if analyzer is not None:
        analyzer.close()
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, **found)
    if montage is not None and tiles:
        montage.parent.mkdir(parents=True, exist_ok=True)
        width = max(t.shape[1] for t in tiles)
        grid = np.concatenate([np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0))) for t in tiles])
        cv2.imwrite(str(montage), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    summary = _summary([], rows)["hair_mask"]
    summary.update(
        recall_min=min(r["recall"] for r in rows), leak_max=max(r["leak"] for r in rows),
        leak_skin_max=max(r["leak_skin"] for r in rows), ms_median=statistics.median(r["ms"] for r in rows),
        worst_recall=sorted(rows, key=lambda r: r["recall"])[:4],
        worst_leak=sorted(rows, key=lambda r: -r["leak"])[:4],
        worst_leak_skin=sorted(rows, key=lambda r: -r["leak_skin"])[:4],
    )  # fmt: skip
    return {"split": split, "summary": summary, "hair": rows}


def _row(images: list[np.ndarray], face) -> np.ndarray:
    """One person's tiles: the head, 300 px high, side by side."""
    x, y, w, h = face.box
    x0, y0 = max(0, int(x - 0.6 * w)), max(0, int(y - 0.7 * h))
    x1, y1 = int(x + 1.6 * w), int(y + 1.3 * h)
    return np.concatenate(
        [cv2.resize(i[y0:y1, x0:x1], (int(300 * (x1 - x0) / (y1 - y0)), 300)) for i in images], 1
    )


def _summary(rows: list[dict], hair_rows: list[dict]) -> dict:
    """Medians per (attribute, colour, strength), and the hair mask's recall / leak."""
    out: dict = {}
    keys = sorted({(r["attribute"], str(r["colour"]), r["strength"]) for r in rows})
    for attribute, colour, strength in keys:
        group = [
            r
            for r in rows
            if (r["attribute"], str(r["colour"]), r["strength"]) == (attribute, colour, strength)
        ]

        def median(field: str, group: list[dict] = group) -> float | None:
            values = [r[field] for r in group if r[field] is not None]
            return float(statistics.median(values)) if values else None

        out[f"{attribute}/{colour}/{strength}"] = {
            "delta_e_before": median("delta_e_before"), "delta_e_after": median("delta_e_after"),
            "delta_e_gain": median("delta_e_gain"), "delta_e_change": median("delta_e_change"),
            "leak_pixels_max": max(r["leak_pixels"] for r in group), "identity_min": min(
                (r["identity"] for r in group if r["identity"] is not None), default=None),
            "same_person": f"{sum(bool(r['same_person']) for r in group)}/{len(group)}",
            "ms_median": median("ms"), "ms_max": max(r["ms"] for r in group),
        }  # fmt: skip
        for field in ("detail_ratio", "beard_delta_l"):
            if any(field in r for r in group):
                out[f"{attribute}/{colour}/{strength}"][f"{field}_median"] = median(field)
        if any("irises_in_region" in r for r in group):
            out[f"{attribute}/{colour}/{strength}"]["irises_in_region"] = (
                f"{sum(bool(r['irises_in_region']) for r in group)}/{len(group)}"
            )
    if hair_rows:
        out["hair_mask"] = {
            "people": len(hair_rows), "recall_median": statistics.median(r["recall"] for r in hair_rows),
            "recall_mean": statistics.fmean(r["recall"] for r in hair_rows),
            "leak_median": statistics.median(r["leak"] for r in hair_rows),
            "leak_mean": statistics.fmean(r["leak"] for r in hair_rows),
            "leak_skin_median": statistics.median(r["leak_skin"] for r in hair_rows),
            "leak_skin_mean": statistics.fmean(r["leak_skin"] for r in hair_rows),
        }  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path("../shared/data"), help="folder with london/ and canada/"
    )
    parser.add_argument("--out", type=Path, default=Path("runs/appearance/bench.json"))
    parser.add_argument("--montage", type=Path, default=None, help="write a montage PNG here")
    parser.add_argument("--limit", type=int, default=None, help="only the first N people of each set")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per edit (the median is kept)")
    parser.add_argument("--attributes", nargs="+", default=None, help="only these attributes")
    parser.add_argument("--hair-only", action="store_true", help="only the hair mask's recall and leak")
    parser.add_argument(
        "--split",
        choices=("held-out", "calibration"),
        default="held-out",
        help="with --hair-only: the held-out people, or the London calibration people",
    )
    parser.add_argument("--landmarks", type=Path, default=None, help="with --hair-only: landmark cache .npz")
    parser.add_argument("--timing", action="store_true", help="only the ms per edit (see `timing`)")
    parser.add_argument("--cached", action="store_true", help="with --timing: keep per-photo masks")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.timing:
        report = timing(args.data, repeats=args.repeats, cached=args.cached)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))
        return
    if args.hair_only:
        report = hair_masks(args.data, args.split, cache=args.landmarks, montage=args.montage)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))
        logger.info("%s", json.dumps(report["summary"], indent=1))
        return
    report = run(args.data, limit=args.limit, repeats=args.repeats, montage=args.montage,
                 attributes=tuple(args.attributes) if args.attributes else None)  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    logger.info("%s", json.dumps(report["summary"], indent=1))


if __name__ == "__main__":
    main()
