"""The shipped bank of real mouth interiors: what it holds, where it came from, how an example is chosen."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources

import cv2
import numpy as np

from editor.completion.build_assets import MAX_TEETH_STAIN
from editor.completion.mouth_bank import (
    CROP_SIZE,
    MOUTH_WIDTH,
    MouthBank,
    MouthExample,
    extract_example,
    inner_lip_loop,
    mouth_frame,
    opening_descriptor,
    shipped_bank,
)
from synthetic_faces import skin_image, synthetic_landmarks


def test_the_shipped_bank_holds_open_mouths_of_calibration_people_only():
    bank = shipped_bank()
    assert len(bank) >= 15
    held_out = set(
        json.loads((resources.files("editor") / "data" / "happy_calibration.json").read_text())["test_ids"]
    )
    assert not {e.face_id for e in bank.examples} & held_out  # never a held-out person's teeth
    for example in bank.examples:
        assert example.crop.shape == (CROP_SIZE[1], CROP_SIZE[0], 3) and example.crop.dtype == np.uint8
        assert example.descriptor.max() > 0.05 * MOUTH_WIDTH  # the lips part
        assert example.teeth_stain() <= MAX_TEETH_STAIN  # nobody gets a stranger's brown tooth


def test_teeth_stain_finds_one_brown_tooth_among_white_ones():
    example = shipped_bank().examples[0]
    assert example.teeth_stain() < MAX_TEETH_STAIN
    crop = example.crop.copy()
    teeth = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(teeth, [np.round(example.loop).astype(np.int32)], 1)
    ys, xs = np.nonzero(teeth)
    brightness = crop[ys, xs].mean(axis=1)
    tooth = (np.abs(xs - np.median(xs)) < 6) & (brightness > np.median(brightness))
    crop[ys[tooth], xs[tooth]] = (230, 200, 140)  # one tooth, yellow-brown but as bright as teeth
    stained = dataclasses.replace(example, crop=crop)
    assert stained.teeth_stain() > MAX_TEETH_STAIN


def test_mouth_frame_puts_the_inner_corners_on_a_horizontal_line_of_fixed_length():
    pts = synthetic_landmarks(lip_gap=10.0)
    rotated = pts @ np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]]).T * 1.7
    matrix = mouth_frame(rotated)
    loop = inner_lip_loop(rotated) @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(loop[10] - loop[0], [MOUTH_WIDTH, 0.0], atol=1e-6)
    assert (opening_descriptor(loop) > 0).all()  # lower lip below the upper one in the frame


def test_choose_prefers_the_closest_opening_and_can_exclude_a_person(tmp_path):
    narrow = synthetic_landmarks(lip_gap=4.0)
    wide = synthetic_landmarks(lip_gap=16.0)
    bank = MouthBank(
        [
            extract_example(skin_image(narrow), narrow, "narrow"),
            extract_example(skin_image(wide), wide, "wide"),
        ]
    )
    target = synthetic_landmarks(lip_gap=15.0)
    matrix = mouth_frame(target)
    descriptor = opening_descriptor(inner_lip_loop(target) @ matrix[:, :2].T + matrix[:, 2])
    assert bank.choose(descriptor, 128.0).face_id == "wide"
    assert bank.choose(descriptor, 128.0, exclude="wide").face_id == "narrow"
    bank.save(tmp_path / "bank.npz")
    again = MouthBank.load(tmp_path / "bank.npz")
    assert [e.face_id for e in again.examples] == ["narrow", "wide"]
    np.testing.assert_array_equal(again.examples[1].crop, bank.examples[1].crop)
    assert isinstance(again.examples[0], MouthExample)
