"""Hair mask and hair colour on synthetic heads with a known hair region, forehead and background."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from editor.appearance import AppearanceBackend
from editor.appearance.hair import HeadGeometry, hair_mask
from editor.requests import EditRequest

PAD = 80  # pixels added above the synthetic face, room for the hair


def _head(
    synthetic,
    *,
    skin: tuple[int, int, int] = (205, 160, 140),
    hair: float = 45.0,
    hair_spread: float = 14.0,
    background: tuple[int, int, int] = (120, 120, 120),
    hair_to_edge: bool = False,
) -> tuple[np.ndarray, object, np.ndarray, np.ndarray]:
    """(image, face, hair (H, W) bool, bare forehead (H, W) bool) of a synthetic head.

    The forehead is skin up to a hairline 0.15 face heights above landmark 10; above and beside it a
    strand-textured cap reaches 0.4 face heights above it (further, to the photo's top and sides, with
    ``hair_to_edge``).
    """
    base, face = synthetic
    image = np.full((base.shape[0] + PAD, base.shape[1], 3), background, np.uint8)
    backdrop = (np.abs(base.astype(int) - 120).max(axis=-1) < 30)[..., None]  # (h, w, 1) the grey backdrop
    image[PAD:] = np.where(backdrop, np.clip(base.astype(int) - 120 + background, 0, 255), base)
    landmarks = face.landmarks.copy()
    landmarks[:, 1] += PAD
    face = type(face)(**{**face.__dict__, "landmarks": landmarks})
    face_skin = np.abs(image.astype(int) - (205, 160, 140)).max(axis=-1) < 40
    image[face_skin] = np.clip(image[face_skin].astype(int) - (205, 160, 140) + skin, 0, 255)
    geometry = HeadGeometry.of(landmarks)
    top, height, width = landmarks[10, :2], geometry.height, geometry.width
    shape = image.shape[:2]
    oval = np.zeros(shape, np.uint8)
    cv2.fillPoly(oval, [np.round(geometry.oval).astype(np.int32)], 1)
    # Bare forehead: an ellipse cap from the oval's top up to the hairline.
    forehead = np.zeros(shape, np.uint8)
    centre = (int(top[0]), int(top[1] + 0.3 * height))
    cv2.ellipse(forehead, centre, (int(0.42 * width), int(0.45 * height)), 0, 180, 360, 1, -1)
    forehead = forehead.astype(bool) & (np.arange(shape[0]) < top[1] + 0.25 * height)[:, None]
    cap = np.zeros(shape, np.uint8)
    cv2.ellipse(cap, centre, (int(0.68 * width), int(0.7 * height)), 0, 180, 360, 1, -1)
    cv2.rectangle(cap, (int(top[0] - 0.68 * width), centre[1]), (int(top[0] + 0.68 * width),
                  int(top[1] + 0.55 * height)), 1, -1)  # fmt: skip
    hair_area = cap.astype(bool) & ~forehead & ~oval.astype(bool)
    if hair_to_edge:  # beyond the head, up to the photo's top and sides (only the head's part is scored)
        edge = hair_area.copy()
        edge[: centre[1]] = True
        edge[: int(top[1] + 0.55 * height), : int(top[0] - 0.5 * width)] = True
        edge[: int(top[1] + 0.55 * height), int(top[0] + 0.5 * width) :] = True
        edge &= ~forehead & ~oval.astype(bool)
        image[edge] = 0  # filled below
    image[forehead & ~oval.astype(bool)] = skin
    rng = np.random.default_rng(0)
    strands = rng.normal(0, hair_spread, shape).astype(np.float32)
    strands = cv2.GaussianBlur(strands, (0, 0), sigmaX=0.6, sigmaY=3.0)  # vertical strands
    strands *= hair_spread / max(float(strands.std()), 1e-6)
    colour = np.array([hair, 0.85 * hair, 0.7 * hair], np.float32)
    textured = np.clip(colour + strands[..., None], 0, 255).astype(np.uint8)
    painted = edge if hair_to_edge else hair_area
    image[painted] = textured[painted]
    bare = forehead & (np.arange(shape[0]) > top[1] - 0.1 * height)[:, None]  # clear of the hairline
    bare |= oval.astype(bool) & (np.arange(shape[0]) < landmarks[105, 1] - 5)[:, None]
    return image, face, hair_area, bare


@pytest.mark.parametrize(
    "kind",
    [
        {},  # dark hair on fair skin
        {"skin": (95, 62, 45), "hair": 22.0, "hair_spread": 8.0},  # dark hair on dark skin
        {"hair": 150.0, "hair_spread": 22.0, "background": (150, 140, 135)},  # mid hair near the backdrop
        {"hair_to_edge": True},  # hair reaching the photo's top and sides
    ],
    ids=["fair", "dark-skin", "near-background", "to-the-edge"],
)
def test_hair_mask_covers_the_hair_and_stays_off_the_forehead(synthetic, kind):
    image, face, hair, bare = _head(synthetic, **kind)
    mask = hair_mask(face.landmarks, image).full()
    assert (mask[hair] > 0.5).mean() > 0.8
    assert (mask[bare] > 0).mean() < 0.01
    cheek, nose = face.landmarks[50, :2].astype(int), face.landmarks[4, :2].astype(int)
    assert mask[cheek[1], cheek[0]] == 0 and mask[nose[1], nose[0]] == 0


def test_a_smooth_lit_background_beyond_the_skull_is_not_hair(synthetic):
    image, face, hair, _ = _head(synthetic)
    geometry = HeadGeometry.of(face.landmarks)
    lit = np.zeros(image.shape[:2], bool)
    x = int(face.landmarks[10, 0])
    lit[:12, x - 60 : x + 60] = True  # a brighter smooth patch above the head (a spotlit wall)
    lit &= ~hair
    image[lit] = (165, 165, 165)
    mask = hair_mask(face.landmarks, image).full()
    assert geometry.skull[:, 1].min() > 12
    assert (mask[lit] > 0.5).mean() < 0.05


def test_dyeing_the_hair_changes_it_and_never_tints_the_forehead(synthetic):
    image, face, hair, bare = _head(synthetic)
    edit = AppearanceBackend().edit(
        image, face, [EditRequest(attribute="hair_color", strength=1.0, value="blonde")]
    )
    moved = (edit.image != image).any(axis=-1)
    assert moved[hair].mean() > 0.8
    assert not moved[bare].any()
    assert edit.diagnostics["hair_color.delta_e_gain"] > 15


def test_no_hair_no_mask(synthetic):
    base, face = synthetic
    assert hair_mask(face.landmarks, base).full()[: int(face.landmarks[10, 1])].max() < 0.5


def test_the_mask_of_a_photo_is_computed_once_and_a_changed_photo_gets_its_own(synthetic):
    image, face, hair, _ = _head(synthetic)
    first = hair_mask(face.landmarks, image)
    assert hair_mask(face.landmarks, image.copy()) is first  # same pixels, same landmarks: cached
    assert not first.alpha.flags.writeable
    changed = image.copy()
    changed[0, 0] ^= 1  # one pixel, far from the hair
    assert hair_mask(face.landmarks, changed) is not first
    moved = face.landmarks.copy()
    moved[:, 0] += 1
    assert hair_mask(moved, image) is not first


def _half_skin_hairline(image: np.ndarray, face, hair: np.ndarray, skin=(205, 160, 140)) -> np.ndarray:
    """Make the hair's 4 px outer ring on the hairline side half skin (fine hairs over the forehead),
    in place; returns that ring, (H, W) bool."""
    edge = hair & ~cv2.erode(hair.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    edge &= (np.arange(image.shape[0]) > face.landmarks[10, 1] - 60)[:, None]  # the hairline side
    image[edge] = (0.5 * image[edge].astype(np.float32) + 0.5 * np.array(skin)).astype(np.uint8)
    return edge


def test_pixels_mixing_hair_and_skin_do_not_glow_when_dark_hair_goes_light(synthetic):
    from editor.images import to_lab

    image, face, hair, _ = _head(synthetic, hair=30.0, hair_spread=6.0)
    edge = _half_skin_hairline(image, face, hair)
    edit = AppearanceBackend().edit(
        image, face, [EditRequest(attribute="hair_color", strength=1.0, value="blonde")]
    )
    before = to_lab(image[edge][None])[0, :, 0]
    after = to_lab(edit.image[edge][None])[0, :, 0]
    skin_l = float(to_lab(np.array([[[205, 160, 140]]], np.uint8))[0, 0, 0])
    assert after.max() <= max(skin_l, before.max()) + 5.0  # no rim lighter than the skin beside it
    assert (edit.image[hair & ~edge] != image[hair & ~edge]).any(axis=-1).mean() > 0.8


def test_half_skin_pixels_at_the_hairline_of_varied_hair_are_half_dyed_not_lit_up(synthetic):
    """Hair whose lightness varies a lot (sheens) stretches far under a lighter dye; a pixel of the
    hairline that is half skin must come out about halfway between the dyed hair and the skin, not as
    light as a stretched sheen (a salmon rim along the forehead of dark hair dyed red)."""
    from editor.images import to_lab

    skin = (205, 160, 140)
    image, face, hair, _ = _head(synthetic, hair=30.0, hair_spread=14.0, skin=skin)
    edge = _half_skin_hairline(image, face, hair, skin)
    edit = AppearanceBackend().edit(
        image, face, [EditRequest(attribute="hair_color", strength=1.0, value="red")]
    )
    body = _body(hair, margin=15)
    dyed_l = float(np.median(to_lab(edit.image[body][None])[0, :, 0]))
    skin_l = float(to_lab(np.array([[skin]], np.uint8))[0, 0, 0])
    rim_l = float(np.median(to_lab(edit.image[edge][None])[0, :, 0]))
    assert rim_l <= 0.5 * (dyed_l + skin_l) + 3.0


def test_the_outline_against_a_light_backdrop_takes_the_dye_by_its_share_of_hair(synthetic):
    """Mixed pixels at the outer outline are read against the backdrop beside them, not the skin: no
    dark rim of the old colour round hair dyed lighter, and no glow either."""
    from editor.images import to_lab

    backdrop = (228, 228, 228)
    image, face, hair, _ = _head(synthetic, hair=30.0, hair_spread=6.0, background=backdrop)
    edge = hair & ~cv2.erode(hair.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    edge &= (
        np.arange(image.shape[0]) < face.landmarks[10, 1] - 0.3 * HeadGeometry.of(face.landmarks).height
    )[:, None]  # the top of the head, against the backdrop
    image[edge] = (0.5 * image[edge].astype(np.float32) + 0.5 * np.array(backdrop)).astype(np.uint8)
    body = hair & ~cv2.dilate(edge.astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool)
    edit = AppearanceBackend().edit(
        image, face, [EditRequest(attribute="hair_color", strength=1.0, value="blonde")]
    )
    lightness = {name: to_lab(pixels[None])[0, :, 0] for name, pixels in
                 (("edge", image[edge]), ("edge_after", edit.image[edge]),
                  ("body", image[body]), ("body_after", edit.image[body]))}  # fmt: skip
    body_rise = float(np.median(lightness["body_after"] - lightness["body"]))
    edge_rise = float(np.median(lightness["edge_after"] - lightness["edge"]))
    backdrop_l = float(to_lab(np.array([[backdrop]], np.uint8))[0, 0, 0])
    assert body_rise > 20
    assert edge_rise > 0.35 * body_rise  # about its share of hair (half; 0.46 here); against skin: 0.28
    assert lightness["edge_after"].max() <= backdrop_l + 5.0


def test_a_sheen_darker_than_a_lighter_dye_takes_the_dyes_hue_not_grey(synthetic):
    from editor.images import to_lab

    image, face, hair, _ = _head(synthetic, hair=30.0, hair_spread=6.0)
    body = hair & ~cv2.dilate((~hair).astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)
    rows, cols = np.nonzero(body)
    sheen = np.zeros_like(body)
    sheen[rows[::7], cols[::7]] = True  # a sprinkle of light strands inside the hair
    image[sheen] = (120, 112, 104)  # lighter than the hair by far, darker than blonde
    edit = AppearanceBackend().edit(
        image, face, [EditRequest(attribute="hair_color", strength=1.0, value="blonde")]
    )
    b_sheen = float(np.median(to_lab(edit.image[sheen][None])[0, :, 2]))
    b_hair = float(np.median(to_lab(edit.image[body & ~sheen][None])[0, :, 2]))
    assert b_hair > 20  # blonde is yellow
    assert b_sheen > 0.8 * b_hair


def _body(hair: np.ndarray, margin: int = 41) -> np.ndarray:
    """The hair well inside its outline (``margin`` px square erosion)."""
    return hair & ~cv2.dilate((~hair).astype(np.uint8), np.ones((margin, margin), np.uint8)).astype(bool)


def test_black_hair_dyed_blonde_keeps_the_order_of_its_lightness(synthetic):
    """A lighter strand stays lighter after the dye: a tone curve that rises, then falls back for the
    lighter strands, cuts the hair into flat blotches (seen on black hair dyed blonde)."""
    from editor.images import to_lab

    image, face, hair, _ = _head(synthetic, hair=18.0, hair_spread=12.0)
    edit = AppearanceBackend().edit(
        image, face, [EditRequest(attribute="hair_color", strength=1.0, value="blonde")]
    )
    body = _body(hair, margin=15)
    before = to_lab(image[body][None])[0, :, 0]
    after = to_lab(edit.image[body][None])[0, :, 0]
    deciles = np.array_split(np.argsort(before), 10)  # the body's pixels, darkest tenth to lightest
    medians = [float(np.median(after[d])) for d in deciles]
    assert np.all(np.diff(medians) > -1.0), medians  # rising with the old lightness, never falling back
    assert medians[-1] - medians[0] > 1.2 * (np.quantile(before, 0.95) - np.quantile(before, 0.05))  # lifted


def test_hairline_pixels_half_skin_take_the_dyes_hue_by_their_share_of_hair(synthetic):
    """Fine hairs over the forehead mix hair and skin; the skin's half must not take the dye's hue (an
    orange rim along the hairline of dark hair dyed blonde)."""
    from editor.images import to_lab

    skin = (205, 160, 140)
    image, face, hair, _ = _head(synthetic, hair=18.0, hair_spread=5.0, skin=skin)
    edge = _half_skin_hairline(image, face, hair, skin)
    edit = AppearanceBackend().edit(
        image, face, [EditRequest(attribute="hair_color", strength=1.0, value="blonde")]
    )
    lab_before = to_lab(image[edge][None])[0]
    lab_after = to_lab(edit.image[edge][None])[0]
    skin_b = float(to_lab(np.array([[skin]], np.uint8))[0, 0, 2])
    blonde_b = 30.0  # colour.HAIR["blonde"]
    rise = float(np.median(lab_after[:, 2] - lab_before[:, 2]))
    assert float(np.quantile(lab_after[:, 2], 0.9)) <= max(skin_b, blonde_b) + 4.0  # no orange rim
    assert rise > 0.2 * (blonde_b - float(np.median(lab_before[:, 2])))  # but they do take some of it


def _with_flyaways(synthetic, backdrop=(200, 200, 200)):
    """A dark-haired head on a light backdrop with four thin dark arcs just above the hair."""
    image, face, hair, _ = _head(synthetic, hair=30.0, hair_spread=6.0, background=backdrop)
    rows = np.nonzero(hair.any(axis=1))[0]
    top = int(rows.min())
    cols = np.nonzero(hair[top + 3])[0]
    middle = int(cols.mean())
    strands = np.zeros(hair.shape, np.uint8)
    for i, dx in enumerate((-40, -15, 10, 35)):  # arcs rising 8-16 px clear of the hair's top
        cv2.ellipse(strands, (middle + dx, top - 2), (14, 12 + 2 * i), 0, 200, 340, 1, 1)
    strands = strands.astype(bool) & ~cv2.dilate(hair.astype(np.uint8), np.ones((13, 13), np.uint8)).astype(
        bool
    )
    image[strands] = (35, 30, 26)
    return image, face, hair, strands


def test_loose_strands_beyond_the_hair_take_the_dye_and_the_backdrop_stays(synthetic):
    from editor.images import to_lab

    image, face, hair, strands = _with_flyaways(synthetic)
    edit = AppearanceBackend().edit(
        image, face, [EditRequest(attribute="hair_color", strength=1.0, value="blonde")]
    )
    before, after = (to_lab(i[strands][None])[0] for i in (image, edit.image))
    assert np.median(after[:, 0] - before[:, 0]) > 15  # the strands lighten toward blonde
    assert np.median(after[:, 2]) > np.median(before[:, 2]) + 8  # and turn yellow
    clear = ~cv2.dilate((hair | strands).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    clear &= (np.arange(image.shape[0]) < face.landmarks[10, 1])[:, None]  # the backdrop above the head
    assert (edit.image[clear] != image[clear]).any(axis=-1).mean() < 0.002  # plain backdrop untouched


def test_no_flyaways_on_a_plain_backdrop_and_none_below_the_eyes(synthetic):
    from editor.appearance.hair import flyaway_mask

    image, face, _, _ = _head(synthetic, hair=30.0, hair_spread=6.0, background=(200, 200, 200))
    region = hair_mask(face.landmarks, image)
    assert flyaway_mask(face.landmarks, image, region).support < 0.002 * region.support + 5
    eyes_y = int(face.landmarks[[468, 473], 1].mean())
    image[eyes_y + 10 : eyes_y + 12, :] = (30, 30, 30)  # a dark line across the photo below the eyes
    strands = flyaway_mask(face.landmarks, image, hair_mask(face.landmarks, image)).full()
    assert not strands[eyes_y + 1 :].any()


def test_hair_at_the_temples_inside_the_face_oval_is_found_and_bare_temples_stay_skin(synthetic):
    """MediaPipe's oval reaches over the temples' hair of short cuts: hair there, beside the eyes and
    below the brows, is hair; bare temples are not."""
    image, face, hair, _ = _head(synthetic, hair=30.0, hair_spread=6.0)
    geometry = HeadGeometry.of(face.landmarks)
    oval = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(oval, [np.round(geometry.oval).astype(np.int32)], 1)
    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    top, up = face.landmarks[10, :2], geometry.up
    rise = (xs - top[0]) * up[0] + (ys - top[1]) * up[1]
    across = np.abs((xs - top[0]) * -up[1] + (ys - top[1]) * up[0])
    temples = oval.astype(bool) & (across > 0.39 * geometry.width) & (across < 0.44 * geometry.width)
    temples &= (rise < geometry.brow_level) & (rise > geometry.brow_level - 0.2 * geometry.height)
    bare = hair_mask(face.landmarks, image).full()
    assert (bare[temples] > 0.5).mean() < 0.05  # skin there: not hair
    image[temples] = image[hair][: temples.sum()] if hair.sum() >= temples.sum() else image[hair][0]
    found = hair_mask(face.landmarks, image).full()
    assert (found[temples] > 0.5).mean() > 0.5
