"""The Flow VAE's strength gains: chosen by the real smiles for happy, by geometry's motion otherwise."""

from __future__ import annotations

from eval.calibrate_fvae import choose


def _rows(motion: float, identity: float, error: float | None = None, n: int = 3) -> list[dict]:
    return [{"motion": motion, "identity": identity, "error": error} for _ in range(n)]


def test_happy_takes_the_gain_closest_to_the_real_smiles_within_their_identity():
    table = {
        "geometry": _rows(0.08, 0.94, 0.021),
        1.0: _rows(0.02, 0.97, 0.025),
        2.0: _rows(0.05, 0.95, 0.020),
        3.0: _rows(0.07, 0.93, 0.018),  # closest, but below the real smiles' own identity
    }
    chosen = choose("happy", table, real_identity=[0.94, 0.95, 0.93])
    assert chosen["gain"] == 2.0 and chosen["identity_floor"] == 0.94


def test_other_emotions_match_the_geometry_backends_motion_above_the_identity_floor():
    table = {
        "geometry": _rows(0.10, 0.86),
        1.0: _rows(0.06, 0.91),
        1.5: _rows(0.11, 0.87),
        2.0: _rows(0.16, 0.80),
    }
    assert choose("angry", table, real_identity=[])["gain"] == 1.5
    table[1.5] = _rows(0.11, 0.84)  # now below 0.85: the nearest allowed motion is 1.0's
    assert choose("angry", table, real_identity=[])["gain"] == 1.0
