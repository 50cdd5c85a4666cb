"""A real mouth interior where the warp parts the lips: only there, lit like the photo, never blue."""

from __future__ import annotations

import cv2
import numpy as np

from editor.completion.mouth_bank import MouthBank, sclera_lab, shipped_bank
from editor.completion.mouth_interior import paint_mouth_interior
from editor.landmark_indices import as_array
from editor.warp import apply_safety, dense_backward_flow, warp_face
from synthetic_faces import IDX, inside, open_mouth_target, skin_image, synthetic_landmarks


def test_an_opened_mouth_gets_teeth_and_a_dark_cavity_only_inside_the_lips(face_points):
    image = skin_image(face_points)
    target = open_mouth_target(face_points, 24.0)
    warped = warp_face(image, face_points, target)
    painted, alpha = paint_mouth_interior(
        warped.image, face_points, warped.target, warped.flow, shipped_bank()
    )
    polygon = warped.target[as_array(IDX.inner_lip_loop)]
    opening = inside(polygon, image.shape[:2]).astype(np.uint8)
    near = cv2.dilate(opening, np.ones((9, 9), np.uint8)).astype(bool)
    changed = np.any(painted != warped.image, axis=-1)
    assert changed.any() and not changed[~near].any()
    assert not alpha[~near].any()
    core = opening.astype(bool) & (alpha > 0.9)
    assert core.sum() > 200
    pixels = painted[core].astype(float)
    lightness = pixels.mean(axis=1)
    lip_lightness = image[inside(face_points[as_array(IDX.outer_lip_upper)], image.shape[:2])].mean()
    assert np.percentile(lightness, 95) > 0.9 * lip_lightness  # teeth: as light as the lips or lighter
    assert np.percentile(lightness, 10) < 0.65 * lip_lightness  # and a dark cavity
    r, g, b = pixels.mean(axis=0)
    assert r >= b and g >= 0.8 * b  # warm like real teeth and gums, not the old grey-blue band


def test_nothing_is_painted_when_the_lips_do_not_part(face_points):
    target = face_points.copy()
    target[as_array(IDX.outer_lip_upper + IDX.outer_lip_lower), 0] *= 1.02  # widen without opening
    image = skin_image(face_points)
    warped = warp_face(image, face_points, target)
    painted, alpha = paint_mouth_interior(
        warped.image, face_points, warped.target, warped.flow, shipped_bank()
    )
    assert not alpha.any()
    np.testing.assert_array_equal(painted, warped.image)


def test_real_interior_that_is_only_moved_is_kept():
    """A mouth already open and translated, not stretched, keeps its own pixels (the person's teeth)."""
    pts = synthetic_landmarks(lip_gap=14.0)
    image = skin_image(pts)
    target = pts.copy()
    near = np.linalg.norm(pts - pts[13:15].mean(axis=0), axis=1) < 50
    target[near, 1] += 3.0
    flow, _ = dense_backward_flow(pts, target, image.shape[:2])
    _, alpha = paint_mouth_interior(image, pts, apply_safety(pts, target), flow, shipped_bank())
    assert alpha.max() < 0.05


def test_the_interior_follows_the_photo_light_read_off_the_eye_whites(face_points):
    """The same opening in a darker photo gets a darker interior: the light comes from the sclera."""
    target = open_mouth_target(face_points, 24.0)
    one_example = MouthBank(shipped_bank().examples[:1])  # only the light differs between the two
    results = []
    for gain in (0.8, 0.45):
        image = np.clip(skin_image(face_points).astype(float) * gain, 0, 255).astype(np.uint8)
        warped = warp_face(image, face_points, target)
        painted, alpha = paint_mouth_interior(
            warped.image,
            face_points,
            warped.target,
            warped.flow,
            one_example,
            sclera=sclera_lab(image, face_points),
        )
        results.append(painted[alpha > 0.9].mean())
    assert results[1] < 0.8 * results[0]


def _lens_loop(height: float, centre=(88.0, 60.0), width: float = 128.0) -> np.ndarray:
    """(20, 2) an inner-lip loop in the mouth frame: corners 0 and 10, upper chain then lower back."""
    t = np.linspace(0.0, np.pi, 11)
    x = centre[0] - 0.5 * width * np.cos(t)
    upper = np.stack([x, centre[1] - 0.5 * height * np.sin(t)], axis=1)
    lower = np.stack([x[1:-1], centre[1] + 0.5 * height * np.sin(t[1:-1])], axis=1)[::-1]
    return np.vstack([upper, lower])


def _fitted(example_height: float, target_height: float):
    from editor.completion.mouth_bank import CROP_SIZE, MouthExample
    from editor.completion.mouth_interior import MouthConfig, _fit_example, _shade

    example = MouthExample(
        crop=np.full((CROP_SIZE[1], CROP_SIZE[0], 3), 210, np.uint8),  # teeth, evenly lit
        loop=_lens_loop(example_height).astype(np.float32),
        lip_lab=np.array([55.0, 20.0, 10.0], np.float32),
        sclera_lab=np.full(3, np.nan, np.float32),
        face_id="test",
    )
    loop = _lens_loop(target_height)
    ys, xs = np.mgrid[0 : CROP_SIZE[1], 0 : CROP_SIZE[0]].astype(np.float64)
    in_frame = np.stack([xs, ys], axis=-1)
    fitted = _fit_example(example, loop, in_frame, MouthConfig())
    opening = inside(loop, in_frame.shape[:2]) & (np.abs(xs - 88.0) < 40)  # the middle of the opening
    return fitted, _shade(fitted, loop, in_frame, MouthConfig()), opening


def test_an_opening_just_taller_than_the_example_shows_no_dark_crack():
    """The example is stretched: no thin line of cavity or throat shadow across the teeth."""
    fitted, shade, opening = _fitted(20.0, 23.0)
    lightness = fitted.rgb.mean(axis=-1)[opening]
    assert lightness.min() > 0.95 * 210
    assert fitted.cavity_depth[opening].max() < 0.05
    # what remains of the shading is the upper lip's shadow, fading smoothly downward (no dip)
    column = (fitted.rgb.mean(axis=-1) * shade)[:, 88][opening[:, 88]]
    assert np.all(np.diff(column) > -1.0)


def test_a_dropped_jaw_opens_a_dark_cavity_between_the_teeth():
    fitted, _, opening = _fitted(20.0, 48.0)
    lightness = fitted.rgb.mean(axis=-1)[opening]
    assert lightness.max() > 0.9 * 210  # the upper teeth stay
    assert lightness.min() < 0.35 * 210  # and the cavity is dark
    assert fitted.cavity_depth[opening].max() > 0.4


def test_a_dropped_jaw_cavity_is_less_saturated_than_the_lips():
    """Shadowed tissue loses colour with its light: the darkest cavity is not the lips' full red."""
    from editor.images import to_lab

    fitted, _, _ = _fitted(20.0, 48.0)
    lab = to_lab(np.clip(fitted.rgb, 0, 255).astype(np.float32))
    darkest = lab.reshape(-1, 3)[np.argmin(lab[..., 0])]
    assert darkest[0] < 20.0  # it is the cavity
    assert np.hypot(darkest[1], darkest[2]) < 0.7 * np.hypot(20.0, 10.0)  # the example lips' chroma


def test_a_dropped_jaw_meets_the_lower_lip_with_tissue_not_a_grey_strip_of_teeth():
    """Along the lower lip's inner edge, corner to corner, a dropped jaw shows the mouth's (reddish)
    tissue: no strip of the example's shaded teeth, which read as a grey line along the lip."""
    fitted, _, _ = _fitted(20.0, 48.0)
    edge = []
    for x in range(88 - 54, 88 + 55, 6):  # the outer columns open less than the middle ones
        t = np.arccos((88.0 - x) / 64.0)
        y = int(round(60.0 + 24.0 * np.sin(t) - 1.5))  # just above the lower chain, inside the opening
        edge.append(fitted.rgb[y, x])
    edge = np.array(edge)
    assert np.all(edge[:, 0] - edge[:, 1] > 5.0), edge  # warm tissue, not grey (r == g == b) teeth


def test_a_dropped_jaw_shows_no_pale_streaks_toward_the_corners():
    """A jaw dropped mid-mouth but hardly toward the corners (the example's height there): below the
    upper teeth near the corners the mouth is dark, not the example's teeth seen through a faint cavity,
    which drew pale vertical streaks ("fangs") from the teeth to the lower lip."""
    from editor.completion.mouth_bank import CROP_SIZE, MouthExample
    from editor.completion.mouth_interior import MouthConfig, _fit_example

    example = MouthExample(
        crop=np.full((CROP_SIZE[1], CROP_SIZE[0], 3), 210, np.uint8),
        loop=_lens_loop(20.0).astype(np.float32),
        lip_lab=np.array([55.0, 20.0, 10.0], np.float32),
        sclera_lab=np.full(3, np.nan, np.float32),
        face_id="test",
    )
    t = np.linspace(0.0, np.pi, 11)
    # 24 mid-mouth; toward the corners about the example's own 10 sin t
    half_height = 10.0 * np.sin(t) + 14.0 * np.sin(t) ** 6
    x = 88.0 - 64.0 * np.cos(t)
    upper = np.stack([x, 60.0 - half_height], axis=1)
    lower = np.stack([x[1:-1], 60.0 + half_height[1:-1]], axis=1)[::-1]
    loop = np.vstack([upper, lower])
    ys, xs = np.mgrid[0 : CROP_SIZE[1], 0 : CROP_SIZE[0]].astype(np.float64)
    fitted = _fit_example(example, loop, np.stack([xs, ys], axis=-1), MouthConfig())
    lightness = fitted.rgb.mean(axis=-1)
    for column in (34, 38, 134, 138):  # a fifth to a quarter of the width in from a corner
        top = np.interp(column, x, 60.0 - half_height)
        bottom = np.interp(column, x, 60.0 + half_height)
        below_teeth = lightness[int(round(top + 0.65 * (bottom - top))) : int(bottom), column]
        assert len(below_teeth) >= 3
        assert below_teeth.max() < 0.5 * 210, (column, below_teeth.round())


def test_bared_teeth_twice_the_example_s_height_keep_the_lower_teeth():
    """Anger's parted lips (AU10 + 25 + 26) open up to twice a closed-lip example's gap but only a short strip
    between the teeth: not a dropped jaw. Along the lower lip the lower teeth stay (grey, like the example),
    not the cavity's tissue, which turned clenched teeth into a talking mouth."""
    from editor.completion.mouth_interior import MouthConfig

    fitted, _, _ = _fitted(12.0, 20.0)  # a strip of 0.07 of the width between the teeth, as anger has
    assert fitted.cavity_depth.max() > 0.2  # the lips did part past the example: a strip of cavity
    rows = fitted.rgb[67:69, 80:97].reshape(-1, 3)  # the two rows over the lower lip (at 70), mid-mouth
    assert np.all(np.abs(rows[:, 0] - rows[:, 1]) < 3.0), rows  # the example's grey teeth
    assert rows.mean() > 0.4 * 210 * (1.0 - MouthConfig().lower_shadow)  # lit, in the upper jaw's shadow


def test_a_half_opened_cavity_is_dark_not_teeth_seen_through_a_grey_veil():
    """An opening 1.3x the example's height, part way to a dropped jaw: mid-mouth, the thin cavity
    between the teeth is as dark as a fully opened one, not a grey veil over the stretched teeth (a cavity
    faded in over the example drew grey patches and dark blots on the front teeth at surprise 0.3-0.5)."""
    half_open, _, _ = _fitted(20.0, 26.0)
    dropped, _, _ = _fitted(20.0, 36.0)
    middle = slice(84, 93)

    def darkest(fitted, height):
        column = fitted.rgb[:, middle].mean(axis=(1, 2))
        return column[int(60 - height / 2) + 1 : int(60 + height / 2)].min()

    assert darkest(half_open, 26.0) < 1.5 * darkest(dropped, 36.0) < 0.25 * 210


def test_a_red_eyed_example_s_teeth_do_not_turn_cyan_in_a_photo_with_white_eyes():
    """Eye whites differ in colour by themselves: under one studio light, an example with reddish eye
    whites must not have its teeth's red taken out (they came out mint-cyan) in a photo whose eyes are
    white. Exposure still follows the eyes' lightness."""
    from editor.completion.mouth_bank import CROP_SIZE, MouthExample
    from editor.completion.mouth_interior import MouthConfig, _light_gains

    example = MouthExample(
        crop=np.full((CROP_SIZE[1], CROP_SIZE[0], 3), 210, np.uint8),
        loop=_lens_loop(20.0).astype(np.float32),
        lip_lab=np.array([47.0, 19.0, 8.0], np.float32),
        sclera_lab=np.array([59.8, 9.0, 5.4], np.float32),  # the bank's reddest eye whites
        face_id="test",
    )
    photo_sclera = np.array([64.8, 2.2, 2.9], np.float32)
    gains = _light_gains(example, photo_sclera, example.lip_lab, MouthConfig())
    assert gains.mean() > 1.05  # the photo is lighter: brighter teeth
    assert gains[0] / gains[2] > 0.85, gains  # red kept within 15% of blue
