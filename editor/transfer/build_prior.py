"""Build the neutral-face prior from the London calibration people's neutral photos.

Usage::

    python -m editor.transfer.build_prior --data ../shared/data/london [--out editor/data/transfer_prior.npz]

Only people outside ``test_ids`` of ``editor/data/happy_calibration.json`` are used (the held-out people
stay unseen by every derived asset).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from pathlib import Path

from editor.face import FaceAnalyzer
from editor.geometry.prototypes import happy_calibration
from editor.images import load_image
from editor.transfer.prior import PRIOR_FILE, build_prior, save_prior

logger = logging.getLogger(__name__)

#: Principal modes kept (chosen on calibration people, `eval.bench_transfer --calibrate`).
COMPONENTS = 12


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="the London set (neutral/ID.jpg)")
    parser.add_argument("--out", type=Path, default=Path("editor/data") / PRIOR_FILE)
    parser.add_argument("--components", type=int, default=COMPONENTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    held_out = set(happy_calibration()["test_ids"])
    paths = [p for p in sorted((args.data / "neutral").glob("*.jpg")) if p.stem not in held_out]
    neutrals, people = [], []
    with FaceAnalyzer() as analyzer:
        for path in paths:
            faces = analyzer.analyze(load_image(path))
            if faces:
                neutrals.append(faces[0].landmarks)
                people.append(path.stem)
    basis_file = Path(__file__).resolve().parent.parent / "data" / "blendshape_basis.npz"
    provenance = {
        "people": people,
        "data": args.data.name,
        "basis_sha256": hashlib.sha256(basis_file.read_bytes()).hexdigest(),
    }
    save_prior(args.out, build_prior(neutrals, args.components, provenance))
    logger.info("wrote %s from %d neutral photos", args.out, len(people))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
