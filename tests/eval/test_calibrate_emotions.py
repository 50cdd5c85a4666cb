"""The intensity choice of eval.calibrate_emotions on made-up sweeps (no photos needed)."""

from __future__ import annotations

import json

from eval.calibrate_emotions import GRID, choose, merged_with_shipped


def sweep(reads: list[float], identities: list[float] | None = None, p: float = 0.3, grid=GRID) -> dict:
    identities = identities or [0.95] * len(grid)
    return {
        g: [{"read": i < round(10 * r), "p": p, "rose": True, "identity": ident} for i in range(10)]
        for g, r, ident in zip(grid, reads, identities, strict=True)
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


def test_a_finer_grid_of_its_own_is_swept_and_chosen_from():
    grid = (1.0, 1.25, 1.375, 1.5, 1.75)
    identities = [0.9, 0.87, 0.86, 0.855, 0.84]  # x1.75 falls below the floor
    chosen = choose("angry", sweep([0.3, 0.4, 0.5, 0.6, 0.7], identities, grid=grid), real=[])
    assert chosen["intensity"] == 1.375 and set(chosen["sweep"]) == set(grid)


def _report(people, emotions):
    return {
        "people": people,
        "real_smiles": {"read": None, "p_happy_median": None, "identity_median": None},
        "intensities": {e: i for e, i in emotions.items()},
        "emotions": {e: {"intensity": i, "how": "test", "sweep": {}} for e, i in emotions.items()},
    }


def test_recalibrating_one_emotion_keeps_the_others_of_the_shipped_file(tmp_path):
    shipped = _report(["001", "002"], {"happy": 1.5, "angry": 1.25, "sad": 1.75})
    shipped["real_smiles"] = {"read": 0.4, "p_happy_median": 0.3, "identity_median": 0.94}
    path = tmp_path / "emotion_calibration.json"
    path.write_text(json.dumps(shipped))
    merged = merged_with_shipped(_report(["001", "002"], {"angry": 1.375}), path)
    assert merged["intensities"] == {"happy": 1.5, "angry": 1.375, "sad": 1.75}  # the file's order kept
    assert merged["real_smiles"]["read"] == 0.4  # angry alone measures no smiles: the shipped ones stay
    other_people = merged_with_shipped(_report(["003"], {"angry": 1.375}), path)
    assert other_people["intensities"] == {"angry": 1.375}  # a different calibration set merges nothing
