"""Glasses on synthetic faces: where the frame lands, that it follows a turned head, lenses and shadow."""

from __future__ import annotations

import numpy as np
import pytest

from editor.appearance import glasses
from editor.appearance.effect import Refusal
from editor.appearance.pose import canonical_face, head_pose
from synthetic_faces import skin_image

UNIT = 100.0  # px between the irises


def turned_face(yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """((600, 640, 3) image, (478, 3) landmarks) of the canonical face turned by ``yaw`` degrees.

    Positive ``yaw`` turns the face toward the image's left (the subject's right).
    """
    a = np.radians(yaw)
    rotation = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    landmarks = UNIT * canonical_face() @ rotation.T  # (478, 3)
    landmarks[:, :2] += (320.0, 250.0)
    return skin_image(landmarks[:, :2], 600, 640), landmarks.astype(np.float32)


@pytest.mark.parametrize("yaw", [-25.0, 0.0, 25.0])
def test_head_pose_recovers_the_turn_and_the_scale(yaw):
    _, landmarks = turned_face(yaw)
    pose = head_pose(landmarks)
    assert pose.yaw == pytest.approx(-yaw, abs=0.5)
    assert pose.scale == pytest.approx(UNIT, rel=0.01)


def frame_and_lens(image: np.ndarray, landmarks: np.ndarray, style: str | None = None):
    applied = glasses.apply(image, landmarks, 1.0, style)
    pose = head_pose(landmarks)
    x0, y0, x1, y1 = applied.region.box
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    frame, _, lens, _ = glasses._draw(pose, glasses.STYLES[style or "default"], xs, ys)
    return applied, frame, lens, (x0, y0)


def test_lenses_sit_over_the_eyes_and_the_rims_between_brows_and_cheeks():
    image, landmarks = turned_face(0.0)
    applied, frame, lens, (x0, y0) = frame_and_lens(image, landmarks)
    for iris in (468, 473):
        x, y = np.round(landmarks[iris, :2]).astype(int)
        assert lens[y - y0, x - x0] == 1.0 and frame[y - y0, x - x0] == 0.0
    rows = np.nonzero(frame.max(axis=1) > 0.5)[0] + y0
    brow_top = landmarks[[105, 334], 1].min()
    nose_tip = landmarks[4, 1]
    assert brow_top < rows.min() and rows.max() < nose_tip
    # The frame is dark and covers a ring: the rim pixels are far darker than the skin they replace.
    rim = frame > 0.9
    crop = applied.region.crop(applied.image).astype(float)
    before = applied.region.crop(image).astype(float)
    assert crop[rim].mean() < 0.5 * before[rim].mean()


@pytest.mark.parametrize("yaw", [-25.0, 25.0])
def test_the_frame_follows_a_turned_head_with_the_near_arm_only(yaw):
    image, landmarks = turned_face(yaw)
    applied, frame, lens, (x0, y0) = frame_and_lens(image, landmarks)
    for iris in (468, 473):  # both eyes still behind their lenses
        x, y = np.round(landmarks[iris, :2]).astype(int)
        assert lens[y - y0, x - x0] == 1.0
    columns = np.nonzero(frame.max(axis=0) > 0.5)[0] + x0
    centre = landmarks[[468, 473], 0].mean()
    left_reach, right_reach = centre - columns.min(), columns.max() - centre
    # Turned toward the image's left (yaw > 0 here), the arm on the image's right runs back to the ear.
    near, far = (right_reach, left_reach) if yaw > 0 else (left_reach, right_reach)
    assert near > 1.4 * far
    ear = landmarks[356 if yaw > 0 else 127, 0]
    assert abs(ear - centre) < near + 0.1 * UNIT
    # And it moved: the turned frame is not the frontal one.
    _, frontal, _, (fx0, _) = frame_and_lens(*turned_face(0.0))
    assert (
        abs((columns.min() + columns.max()) / 2 - (np.nonzero(frontal.max(axis=0) > 0.5)[0] + fx0).mean())
        > 10
    )


def test_pixels_outside_the_region_are_untouched_and_the_shadow_darkens_the_skin_below():
    image, landmarks = turned_face(0.0)
    applied, frame, lens, (x0, y0) = frame_and_lens(image, landmarks)
    moved = (applied.image != image).any(axis=-1)
    assert not (moved & (applied.region.full() == 0)).any()
    x1, y1 = x0 + frame.shape[1], y0 + frame.shape[0]
    shadow_only = moved[y0:y1, x0:x1] & (frame == 0) & (lens == 0)
    assert shadow_only.sum() > 200
    after = applied.image[y0:y1, x0:x1][shadow_only].astype(float).mean()
    before = image[y0:y1, x0:x1][shadow_only].astype(float).mean()
    assert after < before - 3


def test_sunglasses_darken_the_eyes_clear_lenses_barely_do():
    image, landmarks = turned_face(0.0)
    eyes = np.round(landmarks[[468, 473, 33, 263], :2]).astype(int)
    shades = glasses.apply(image, landmarks, 1.0, "sunglasses").image
    clear = glasses.apply(image, landmarks, 1.0, None).image
    original = image[eyes[:, 1], eyes[:, 0]].astype(float).mean()
    assert shades[eyes[:, 1], eyes[:, 0]].astype(float).mean() < 0.5 * original
    assert abs(clear[eyes[:, 1], eyes[:, 0]].astype(float).mean() - original) < 0.1 * original


@pytest.mark.parametrize("style", sorted(glasses.STYLES))
def test_every_style_draws_a_frame(style):
    image, landmarks = turned_face(10.0)
    applied = glasses.apply(image, landmarks, 1.0, None if style == "default" else style)
    assert (applied.image != image).any(axis=-1).sum() > 500
    assert not applied.notes


def test_removing_glasses_is_refused_with_a_sentence():
    image, landmarks = turned_face(0.0)
    with pytest.raises(Refusal, match="can't remove glasses"):
        glasses.apply(image, landmarks, -1.0, None)


@pytest.mark.parametrize("shift", [(-260.0, 0.0), (330.0, 0.0), (0.0, -300.0)])
def test_a_face_partly_outside_the_photo_gets_what_is_inside(shift):
    image, landmarks = turned_face(0.0)
    moved_landmarks = landmarks.copy()
    moved_landmarks[:, :2] += shift
    applied = glasses.apply(image, moved_landmarks, 1.0, "sunglasses")
    moved = (applied.image != image).any(axis=-1)
    assert not (moved & (applied.region.full() == 0)).any()


def test_the_frame_tilts_with_a_tilted_head():
    image, landmarks = turned_face(0.0)
    angle = np.radians(20.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = landmarks[[468, 473], :2].mean(axis=0)
    tilted = landmarks.copy()
    tilted[:, :2] = (landmarks[:, :2] - centre) @ rotation.T + centre
    _, _, lens, (x0, y0) = frame_and_lens(image, tilted)
    ys, xs = np.nonzero(lens > 0.5)
    left = xs + x0 < centre[0]
    centres = [np.array([xs[side].mean() + x0, ys[side].mean() + y0]) for side in (left, ~left)]
    slope = np.degrees(np.arctan2(*(centres[1] - centres[0])[::-1]))
    assert slope == pytest.approx(20.0, abs=2.0)
