"""eval/bench_expressions.py: its pure helpers and summaries, on synthetic numbers (no data, no models)."""

from __future__ import annotations

import numpy as np
import pytest

from eval import bench_expressions as bench
from eval.metrics.emotion import EMOTION_LABELS


def _probs(**given: float) -> dict[str, float]:
    """A probability dict over the classifier's classes, the rest spread evenly."""
    rest = (1.0 - sum(given.values())) / (len(EMOTION_LABELS) - len(given))
    return {c: given.get(c, rest) for c in EMOTION_LABELS}


def test_every_emotion_maps_to_a_classifier_class():
    assert set(bench.EMOTION_CLASSES.values()) <= set(EMOTION_LABELS)
    assert bench.EMOTION_CLASSES["surprised"] == "surprise"
    assert bench.EMOTION_CLASSES["fearful"] == "fear"
    assert bench.EMOTION_CLASSES["disgusted"] == "disgust"


def test_median_and_share_ignore_none():
    assert bench.median([3.0, None, 1.0, 2.0]) == 2.0
    assert bench.median([None, None]) is None
    assert bench.share([True, False, None, True, True]) == pytest.approx(0.75)
    assert bench.share([]) is None


def test_warm_median_leaves_out_the_first_edit():
    assert bench.warm_median([5000.0, 10.0, 30.0, 20.0]) == 20.0
    assert bench.warm_median([5000.0]) is None


def test_label_shares_cover_every_class_and_sum_to_one():
    shares = bench.label_shares(["happy", "happy", "sad", "neutral"])
    assert set(shares) == set(EMOTION_LABELS)
    assert shares["happy"] == 0.5 and shares["sad"] == 0.25 and shares["angry"] == 0.0
    assert sum(shares.values()) == pytest.approx(1.0)
    assert all(v is None for v in bench.label_shares([]).values())


def test_blendshape_change_same_opposite_and_orthogonal():
    neutral = {"_neutral": 0.9, "a": 0.1, "b": 0.2, "c": 0.0}
    real = {"_neutral": 0.1, "a": 0.5, "b": 0.2, "c": 0.0}  # change (+0.4, 0, 0); _neutral is ignored
    cosine, ratio = bench.blendshape_change(neutral, {"a": 0.3, "b": 0.2, "c": 0.0, "_neutral": 0.0}, real)
    assert cosine == pytest.approx(1.0) and ratio == pytest.approx(0.5)
    cosine, ratio = bench.blendshape_change(neutral, {"a": 0.0, "b": 0.2, "c": 0.0}, real)
    assert cosine == pytest.approx(-1.0) and ratio == pytest.approx(0.25)
    cosine, ratio = bench.blendshape_change(neutral, {"a": 0.1, "b": 0.5, "c": 0.0}, real)
    assert cosine == pytest.approx(0.0, abs=1e-12) and ratio == pytest.approx(0.75)


def test_blendshape_change_without_motion():
    neutral = {"a": 0.1, "b": 0.2}
    assert bench.blendshape_change(neutral, {"a": 0.5, "b": 0.2}, dict(neutral)) == (None, None)
    cosine, ratio = bench.blendshape_change(neutral, dict(neutral), {"a": 0.5, "b": 0.2})
    assert cosine is None and ratio == 0.0


def test_crop_box_is_square_enlarged_and_centred():
    x0, y0, x1, y1 = bench.crop_box((400, 500, 200, 100), (1350, 1350, 3), 1.3)
    assert x1 - x0 == y1 - y0 == 260
    assert (x0 + x1) / 2 == pytest.approx(500) and (y0 + y1) / 2 == pytest.approx(550)


def test_crop_box_moves_inside_the_image():
    x0, y0, x1, y1 = bench.crop_box((0, 1700, 200, 100), (1800, 1350, 3), 1.5)
    assert (x0, y1) == (0, 1800) and x1 - x0 == y1 - y0 == 300
    # Larger than the image: cut to it.
    assert bench.crop_box((10, 10, 90, 90), (100, 100, 3), 2.0) == (0, 0, 100, 100)


def test_crop_resize_gives_the_side():
    image = np.zeros((300, 400, 3), np.uint8)
    assert bench.crop_resize(image, (10, 20, 110, 120), 64).shape == (64, 64, 3)


def test_top_motion_averages_the_largest_displacements():
    reference = np.zeros((478, 3))
    moved = reference.copy()
    moved[:10, 0] = 4.0  # ten landmarks move 4 px, the rest stay
    moved[10:20, 1] = 2.0  # ten more move 2 px
    assert bench.top_motion(reference, moved, unit=2.0, count=10) == pytest.approx(2.0)
    assert bench.top_motion(reference, moved, unit=2.0, count=20) == pytest.approx(1.5)
    assert bench.top_motion(reference, moved, unit=1.0, count=40) == pytest.approx(1.5)


def test_interleave_mixes_the_groups():
    assert bench.interleave(["a1", "a2", "a3"], ["b1"]) == ["a1", "b1", "a2", "a3"]
    assert bench.interleave([], ["b1", "b2"]) == ["b1", "b2"]
    assert bench.interleave() == []


def _row(after: dict[str, float], before: dict[str, float], **kw) -> bench.EditRow:
    return bench.EditRow(person="p", dataset="london", probabilities=after, before=before, **kw)


def test_summarise_counts_reads_rises_and_lost_faces():
    before = _probs(neutral=0.6, happy=0.1)
    rows = [
        _row(_probs(happy=0.7), before, identity=0.8, same_person=True, motion=0.05),
        _row(_probs(happy=0.3, neutral=0.5), before, identity=0.6, same_person=True, motion=0.03),
        _row(_probs(happy=0.05, neutral=0.8), before, identity=0.2, same_person=False, motion=0.01),
        _row(before, before, lost_face=True, unchanged=True, scale=0.0),
    ]
    s = bench.summarise(rows, "happy")
    assert s["faces"] == 4
    assert s["read_as_target"] == pytest.approx(0.25)
    assert s["p_target_rose"] == pytest.approx(0.5)  # 0.7 and 0.3 rose; 0.05 fell; equal is no rise
    assert s["p_target_median"] == pytest.approx((0.1 + 0.3) / 2)
    assert s["identity_median"] == pytest.approx(0.6) and s["identity_min"] == pytest.approx(0.2)
    assert s["same_person"] == pytest.approx(2 / 3)
    assert s["motion_median"] == pytest.approx(0.03)
    assert s["lost_face"] == 1 and s["unchanged_by_gate"] == 0 and s["backed_off"] == 1
    assert s["labels"]["happy"] == 0.25 and s["labels"]["neutral"] == 0.75
    assert "p_disgust_rose" not in s


def test_summarise_disgust_reports_disgust_and_its_confusion_with_anger():
    before = _probs(neutral=0.6, disgust=0.05, angry=0.05)
    rows = [
        _row(_probs(disgust=0.2, angry=0.05), before),  # disgust rose
        _row(_probs(disgust=0.01, angry=0.3), before),  # only disgust + angry rose
        _row(_probs(disgust=0.01, angry=0.01), before),  # neither
    ]
    s = bench.summarise(rows, "disgust")
    assert s["p_disgust_rose"] == pytest.approx(1 / 3)
    assert s["p_target_rose"] == s["p_disgust_rose"]
    assert s["p_disgust_or_angry_rose"] == pytest.approx(2 / 3)


def test_summarise_gate_unchanged_is_not_counted_as_identity():
    before = _probs(neutral=0.6)
    rows = [
        _row(before, before, unchanged=True, scale=0.0, identity=None),
        _row(_probs(sad=0.5), before, identity=0.7, same_person=True),
    ]
    s = bench.summarise(rows, "sad")
    assert s["unchanged_by_gate"] == 1 and s["lost_face"] == 0
    assert s["identity_median"] == pytest.approx(0.7) and s["same_person"] == 1.0


def _round_face(centre=(60.0, 60.0), radius=30.0) -> np.ndarray:
    """(478, 3) landmarks: the face oval a circle, the iris centres 20 px apart, the rest at the centre."""
    from editor.geometry.calibrate_happy import LEFT_IRIS, RIGHT_IRIS
    from editor.landmark_indices import face_mesh_indices

    points = np.zeros((478, 3))
    points[:, :2] = centre
    oval = list(face_mesh_indices().face_oval)
    angles = np.linspace(0, 2 * np.pi, len(oval), endpoint=False)
    points[oval, 0] = centre[0] + radius * np.cos(angles)
    points[oval, 1] = centre[1] + radius * np.sin(angles)
    points[LEFT_IRIS, :2] = (centre[0] + 10, centre[1])
    points[RIGHT_IRIS, :2] = (centre[0] - 10, centre[1])
    return points


def test_the_oracle_takes_the_real_smile_inside_the_face_oval_and_keeps_the_rest():
    neutral = np.full((120, 120, 3), 40, np.uint8)
    smile = np.full((120, 120, 3), 200, np.uint8)
    oracle = bench.oracle_photo(neutral, _round_face(), smile)
    assert oracle[60, 60].tolist() == [200, 200, 200]  # the face: the real smile's
    assert oracle[5, 5].tolist() == [40, 40, 40]  # hair, background: the neutral photo's
    assert 40 < oracle[60, 30, 0] < 200  # the oval's edge is feathered, not cut


def test_gap_closed_is_the_share_of_the_reachable_distance():
    assert bench.gap_closed(0.25, 0.30, 0.20) == pytest.approx(0.5)
    assert bench.gap_closed(0.20, 0.30, 0.20) == pytest.approx(1.0)
    assert bench.gap_closed(0.32, 0.30, 0.20) == pytest.approx(-0.2)  # further than no edit
    assert bench.gap_closed(0.29, 0.30, 0.299) is None  # nothing reachable to close
    assert bench.gap_closed(None, 0.30, 0.20) is None


def test_summarise_smile_comparison():
    rows = [
        {"lpips_edited": 0.2, "lpips_unedited": 0.3, "error_edited": 0.02, "error_unedited": 0.03,
         "cosine": 0.9, "size_ratio": 0.5, "lpips_lower_edited": 0.25, "lpips_lower_unedited": 0.35,
         "lpips_oracle": 0.1, "lpips_lower_oracle": 0.15},
        {"lpips_edited": 0.4, "lpips_unedited": 0.3, "error_edited": 0.04, "error_unedited": 0.03,
         "cosine": 0.5, "size_ratio": 0.7},
        {"error_unedited": 0.05},  # the face was lost on the edit, LPIPS not installed
    ]  # fmt: skip
    s = bench.summarise_smile_comparison(rows)
    assert s["people"] == 3
    assert s["lpips_closer"] == 0.5 and s["landmark_closer"] == 0.5
    assert s["lpips_edited_median"] == pytest.approx(0.3)
    assert s["lpips_lower_closer"] == 1.0 and s["lpips_lower_edited_median"] == pytest.approx(0.25)
    assert s["lpips_oracle_median"] == pytest.approx(0.1)
    assert s["lpips_gap_closed_median"] == pytest.approx(0.5)  # (0.3 - 0.2) / (0.3 - 0.1); one person
    assert s["lpips_lower_gap_closed_median"] == pytest.approx(0.5)
    assert s["landmark_error_unedited_median"] == pytest.approx(0.03)
    assert s["blendshape_cosine_median"] == pytest.approx(0.7)
    assert s["blendshape_size_ratio_median"] == pytest.approx(0.6)


def test_summarise_transfer_reports_medians_and_who_it_brings_closer():
    keys = ("lpips_transfer", "lpips_unedited", "lpips_lower_transfer", "lpips_lower_unedited")
    rows = [dict(zip(keys, v, strict=True)) for v in ((0.18, 0.20, 0.24, 0.28), (0.22, 0.21, 0.30, 0.29))]
    s = bench.summarise_transfer(rows)
    assert s["people"] == 2
    assert s["lpips_transfer_median"] == pytest.approx(0.20)
    assert s["lpips_closer"] == 0.5 and s["lpips_lower_closer"] == 0.5
    assert s["lpips_lower_transfer_median"] == pytest.approx(0.27)


def test_markdown_renders_missing_figures_as_na():
    before = _probs(neutral=0.6)
    summary = bench.summarise([_row(before, before, lost_face=True, unchanged=True, scale=0.0)], "happy")
    report = {
        "people": {"total": 1, "london": ["003"], "canada": []},
        "classifier": "fer",
        "scorer": "sface",
        "threshold": 0.4,
        "timing": {"edit_ms_median": None, "edits_timed": 0, "edit_ms_median_london": None},
        "edits": {"happy@1": {"all": summary}},
        "baselines": {
            "real_smile": dict.fromkeys(("read_as_happy", "p_happy_median", "identity_median"), None)
            | {"people": 0},
            "unedited": {"all": {"people": 1, "labels": bench.label_shares(["neutral"])}},
        },
        "happy_vs_real_smile": {"1": bench.summarise_smile_comparison([{"error_unedited": 0.05}])},
    }
    assert "own real smile" not in bench.markdown(report)  # no transfer figures, no line
    report["own_smile_transfer"] = bench.summarise_transfer(
        [
            {
                "lpips_transfer": 0.1,
                "lpips_unedited": 0.2,
                "lpips_lower_transfer": 0.3,
                "lpips_lower_unedited": 0.2,
            }
        ]
    )
    text = bench.markdown(report)
    assert "own real smile re-created by this renderer (expression transfer, 1 people): LPIPS 0.100" in text
    assert "| happy@1 | 1 | 0% |" in text
    assert "n/a" in text
    assert "| all | 1 |" in text and "100%" in text


def test_lower_face_box_spans_the_oval_from_the_nose_to_below_the_chin():
    from synthetic_faces import synthetic_landmarks

    landmarks = synthetic_landmarks()
    x0, y0, x1, y1 = bench.lower_face_box(landmarks, (10_000, 10_000))
    assert y0 < landmarks[1, 1] < landmarks[13, 1] < landmarks[152, 1] < y1  # nose tip, lips, chin inside
    assert y0 > landmarks[468, 1]  # below the eyes
    assert x0 <= landmarks[234, 0] and x1 >= landmarks[454, 0]  # cheek to cheek
    clipped = bench.lower_face_box(landmarks, (int(landmarks[152, 1]), 10_000))
    assert clipped[3] == int(landmarks[152, 1])  # cut to the image
