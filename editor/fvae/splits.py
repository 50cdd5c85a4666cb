"""Which people the Flow VAE may train and validate on: everyone except the project's held-out people.

The project holds out the London people listed as ``test_ids`` in editor/data/happy_calibration.json
(the same people every calibration and benchmark holds out). The pair generator's own split
(`editor.geometry.pairs.split_of`, a hash of the face id) predates that list and disagrees with it (22 of
the 27 held-out people hash to 'train'), so the Flow VAE re-splits the rows it loads:

- a held-out person -> 'test' (never trained on, never used to pick an epoch);
- otherwise the hash's 'val' stays 'val' (early stopping), and everything else trains (the hash's
  'test' people who are not held out are ordinary training people here).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from editor.geometry.prototypes import happy_calibration

logger = logging.getLogger(__name__)

#: The data folder whose ids ``test_ids`` names (face ids are ``<folder name>/<file stem>``).
HELD_OUT_FOLDER = "london"


@lru_cache(maxsize=1)
def held_out_people() -> frozenset[str]:
    """Face ids (``london/ID``) of the held-out people; empty (logged) when the calibration is absent."""
    calibration = happy_calibration()
    if calibration is None:
        logger.warning("editor/data/happy_calibration.json is missing: no people are held out.")
        return frozenset()
    return frozenset(f"{HELD_OUT_FOLDER}/{face_id}" for face_id in calibration["test_ids"])


def fvae_split(face_id: str, hashed_split: str) -> str:
    """'train', 'val' or 'test' for a person, given the pair generator's hashed split of them."""
    if face_id in held_out_people():
        return "test"
    return "val" if hashed_split == "val" else "train"
