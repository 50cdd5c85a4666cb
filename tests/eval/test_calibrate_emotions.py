"""The intensity choice of eval.calibrate_emotions on made-up sweeps (no photos needed)."""

from __future__ import annotations

from eval.calibrate_emotions import GRID, choose


def sweep(reads: list[float], identities: list[float] | None = None, p: float = 0.3) -> dict:
    identities = identities or [0.95] * len(GRID)
    return {
        g: [{"read": i < round(10 * r), "p": p, "rose": True, "identity": ident} for i in range(10)]
        for g, r, ident in zip(GRID, reads, identities, strict=True)
    }


def test_the_smallest_intensity_reaching_the_target_is_chosen():
    chosen = choose("sad", sweep([0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9]), real=[])
    assert chosen["intensity"] == 1.0 and "meeting the target" in chosen["how"]


def test_a_target_met_at_one_lucky_intensity_only_is_not_taken():
    chosen = choose("sad", sweep([0.1, 0.5, 0.3, 0.6, 0.7, 0.8, 0.9]), real=[])
    assert chosen["intensity"] == 1.25  # x0.75 reached 50% but x1.0 fell back to 30%


def test_an_unreachable_target_takes_the_smallest_near_the_best_and_says_so():
    chosen = choose("surprised", sweep([0.0, 0.1, 0.2, 0.3, 0.3, 0.2, 0.2]), real=[])
    assert chosen["intensity"] == 1.25 and "not reached" in chosen["how"]


def test_intensities_whose_identity_falls_below_the_floor_are_never_chosen():
    reads = [0.1, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9]
    identities = [0.95, 0.93, 0.90, 0.84, 0.80, 0.78, 0.75]  # below 0.85 from x1.25 on
    chosen = choose("sad", sweep(reads, identities), real=[])
    assert chosen["intensity"] == 1.0  # the best read among the intensities that keep the person
    assert chosen["sweep"][1.25]["identity_median"] < 0.85


def test_happy_must_match_the_real_smiles_read_rate_and_probability():
    real = [{"read": i < 4, "p_happy": 0.3, "identity": 0.9} for i in range(10)]  # 40%, p 0.3
    low_p = choose("happy", sweep([0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8], p=0.2), real)
    assert "not reached" in low_p["how"]  # the read rate is met, the probability never is
    ok = choose("happy", sweep([0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8], p=0.35), real)
    assert ok["intensity"] == 1.0


def test_disgust_keeps_its_facs_intensity():
    chosen = choose("disgusted", sweep([0.0] * len(GRID)), real=[])
    assert chosen["intensity"] == 1.0 and "cannot read disgust" in chosen["how"]
