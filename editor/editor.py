"""`Editor`: one call from (original photo, edit requests) to an edited photo with its measurements.

Every render starts from the ORIGINAL photo (no accumulated resampling), routes each request to its
backend, composes them, passes the identity gate (backing the strength off when the person stops being
recognisable), and measures the result: identity similarity to the original and whether the requested
expression appeared (FaceLandmarker's blendshapes before and after).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np

from editor import vocabulary as vocab
from editor.backends.base import Backend, BackendEdit
from editor.backends.registry import BackendRegistry, default_registry
from editor.face import Face, FaceAnalyzer
from editor.identity import IdentityResult, IdentityScorer
from editor.identity_gate import DEFAULT_TRIES, gate
from editor.images import downscale
from editor.requests import EditRequest

logger = logging.getLogger(__name__)

#: Blendshapes FaceLandmarker barely reports on photos (EXPRESSION-NOTES.md): no verdict rests on them.
#: Measured (`python -m eval.bench_robustness blind-spots`): cheekSquint and noseSneer scored 0 on 50
#: London people neutral and smiling and on every edit; mouthLowerDown and eyeWide stay near 0 on real
#: photos (London smiles: mouthLowerDown median 0.001) but do move on some faces and edits (`WEAKLY_SEEN`).
BLIND_BLENDSHAPES = frozenset(
    {"cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "mouthLowerDownLeft",
     "mouthLowerDownRight", "eyeWideLeft", "eyeWideRight"}
)  # fmt: skip
#: Blind spots FaceLandmarker does see on some faces (the sample's lower lip: mouthLowerDown 0.06 -> 0.42
#: when its mouth opens, while jawOpen moves 0.01 -> 0.05; on 13 photos a strength-1 mouth_open raised
#: it by more than 0.1 on 15-23%): counted in a verdict when they moved the expected way, else left out.
WEAKLY_SEEN = frozenset({"mouthLowerDownLeft", "mouthLowerDownRight", "eyeWideLeft", "eyeWideRight"})
#: Mean change of the targeted blendshapes (in the requested direction) that counts as "appeared".
APPEARED_MARGIN = 0.05
#: Backends and the identity check work on the face's region of the photo: its landmarks' box grown by
#: this many times the face's size on every side (the warp reaches 0.3x beyond the face oval), so the
#: cost follows the face, not the photo; the rest of the photo is copied unchanged. Edits of the sample
#: and a London photo at strength 1.5 came out within 1 grey level of editing the whole photo.
REGION_MARGIN = 0.5
#: Photos up to this many values (16 megapixels RGB) are also cached by a hash of their pixels.
CONTENT_KEY_VALUES = 48_000_000


@dataclass(frozen=True)
class ExpressionCheck:
    """Did a request's expression appear? Measured by FaceLandmarker on the original and the edit.

    Attributes:
        attribute, strength: the request as applied.
        blendshapes: name -> (before, after, expected sign) for the blendshapes the request targets.
        change: mean change, in the expected direction, of the targeted blendshapes FaceLandmarker
            measures (plus any `WEAKLY_SEEN` one that moved the expected way).
        appeared: True / False; None when only blendshapes FaceLandmarker cannot see are targeted.
        unseen: the targeted blendshapes left out of ``change`` (blind spots that did not move).
    """

    attribute: str
    strength: float
    blendshapes: dict[str, tuple[float, float, float]]
    change: float | None
    appeared: bool | None
    unseen: tuple[str, ...] = ()


@dataclass(frozen=True)
class EditOutcome:
    """The result of `Editor.render`.

    Attributes:
        image: (H, W, 3) uint8 RGB edited photo at full resolution (the original when nothing applied).
        frames: K previews (h, w, 3) uint8 of the intermediate steps (empty when nothing was edited).
        requested: the requests as asked.
        applied: the requests as applied (strengths scaled down when the identity gate backed off;
            unsupported requests left out).
        unsupported: requests no installed backend can do.
        identity: similarity of the edit to the original, with scorer and verdict (None: no edit).
        face: the original's analysed face.
        face_after: the edited photo's face (None when no edit, or none found).
        expression: one check per applied request.
        backends: names of the backends used.
        notes: what the person should know (backed-off strength, unsupported requests, ...).
        timings: milliseconds per stage ("analyze", "render", "identity", "total").
    """

    image: np.ndarray
    frames: tuple[np.ndarray, ...]
    requested: tuple[EditRequest, ...]
    applied: tuple[EditRequest, ...]
    unsupported: tuple[EditRequest, ...]
    identity: IdentityResult | None
    face: Face
    face_after: Face | None
    expression: tuple[ExpressionCheck, ...]
    backends: tuple[str, ...]
    notes: tuple[str, ...]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """Fraction of the requested strength applied (1.0 unless the identity gate backed off)."""
        if not self.applied:
            return 0.0 if self.requested else 1.0
        asked = {r.attribute: r.strength for r in self.requested}
        ratios = [r.strength / asked[r.attribute] for r in self.applied if asked.get(r.attribute)]
        return float(min(ratios)) if ratios else 1.0


class Editor:
    """Edits faces in photos with the installed backends, checked for identity.

    Args:
        analyzer: face analyzer (default: a new `FaceAnalyzer`).
        scorer: identity scorer (default: SFace, or ArcFace when configured).
        registry: attribute -> backend routing (default: every installed backend).
        preview_side: longest side of the intermediate-step previews.
        gate_tries: renders the identity gate may try after a full-strength failure (0 disables
            backing off: failures are reported, not corrected).
    """

    def __init__(
        self,
        *,
        analyzer: FaceAnalyzer | None = None,
        scorer: IdentityScorer | None = None,
        registry: BackendRegistry | None = None,
        preview_side: int = 512,
        gate_tries: int = DEFAULT_TRIES,
    ) -> None:
        self.analyzer = analyzer or FaceAnalyzer()
        self.scorer = scorer or IdentityScorer()
        self.registry = registry or default_registry()
        self.preview_side = preview_side
        self.gate_tries = gate_tries
        self._cache: OrderedDict[tuple[str, int | None], tuple[Face, Future]] = OrderedDict()
        self._by_object: OrderedDict[tuple[int, int | None], tuple[weakref.ref, tuple[Face, Future]]] = (
            OrderedDict()
        )
        self._cache_lock = threading.Lock()
        self._embedding_pool: ThreadPoolExecutor | None = None

    def supports(self, attribute: str) -> bool:
        """Whether an installed backend can edit ``attribute``."""
        return self.registry.route(attribute) is not None

    def can(self, request: EditRequest) -> bool:
        """Whether an installed backend takes ``request`` (supports its attribute and does not refuse
        it: the appearance backend draws glasses but refuses to remove them)."""
        return self.registry.route_request(request) is not None

    def unsupported_note(self, request: EditRequest) -> str:
        """Why ``request`` cannot be done here, and what can."""
        missing = f" {self.registry.missing}" if self.registry.missing else ""  # how to enable latent edits
        refused = self.registry.refusal(request)
        if refused is not None:
            return refused + missing
        can = [a.name for a in vocab.ATTRIBUTES if self.supports(a.name)]
        family = vocab.family(request.attribute)
        what = vocab.describe(request.attribute, request.strength, request.value)
        offer = f" I can change: {', '.join(can)}." if can else ""  # nothing, e.g. --backend latent unset
        lacking = f"{family} edits need a backend this build does not have"
        return f"I can't do '{what}' yet: {lacking}.{offer}{missing}"

    def analyze(self, image: np.ndarray, face_index: int | None = None) -> Face:
        """The face to edit (largest unless ``face_index``), cached per photo. Raises NoFaceError."""
        return self._original(image, face_index)[0]

    def render(
        self,
        image: np.ndarray,
        requests: Sequence[EditRequest],
        *,
        face_index: int | None = None,
        steps: int | None = None,
        in_place: bool = False,
    ) -> EditOutcome:
        """Apply ``requests`` to the ORIGINAL ``image``; see `EditOutcome`.

        Args:
            image: (H, W, 3) uint8 RGB original photo, full resolution.
            requests: the complete edit state to show (not a delta).
            face_index: which face (default the largest).
            steps: preview frames K (default: the largest ``steps`` among the requests).
            in_place: paste the edit into ``image`` itself rather than into a copy, for a caller that
                gives the original up (a one-shot edit: at 12000x12000 a 432 MB copy fewer); the
                outcome's ``image`` is then ``image``, changed.
        """
        started = time.perf_counter()
        face, original_embedding = self._original(image, face_index)
        timings = {"analyze": 1000 * (time.perf_counter() - started)}
        groups, unsupported = self.registry.group(requests)
        notes = [self.unsupported_note(r) for r in unsupported]
        if not groups:
            timings["total"] = 1000 * (time.perf_counter() - started)
            return EditOutcome(
                image=image, frames=(), requested=tuple(requests), applied=(), unsupported=tuple(unsupported),
                identity=None, face=face, face_after=None, expression=(), backends=(), notes=tuple(notes),
                timings=timings,
            )  # fmt: skip
        frame_count = steps if steps is not None else max(r.steps for _, group in groups for r in group)
        x0, y0, x1, y1 = face_region(face, image.shape[:2])
        work, work_face = image[y0:y1, x0:x1], face.translated(-x0, -y0)
        # Previews at the scale of a preview of the whole photo (pasted into one by `_whole_frames`).
        preview_scale = min(1.0, self.preview_side / max(image.shape[:2]))
        work_preview_side = max(1, round(preview_scale * max(work.shape[:2])))

        render_ms: list[float] = []
        judged: dict[int, tuple[IdentityResult | None, Face | None]] = {}

        def render(scale: float) -> BackendEdit:
            begun = time.perf_counter()
            edit = self._render_groups(work, work_face, groups, scale, frame_count, work_preview_side)
            render_ms.append(1000 * (time.perf_counter() - begun))
            return edit

        def judge(edit: BackendEdit) -> IdentityResult | None:
            verdict, after = self._judge(edit.image, work_face, original_embedding)
            if edit.identity is not None and not edit.identity.same_person:
                verdict = edit.identity  # a backend's own, stricter check (generative edits) refused it
            judged[id(edit)] = (verdict, after)
            return verdict

        identity_started = time.perf_counter()
        outcome = gate(render, judge, tries=self.gate_tries)
        timings["render"] = sum(render_ms)
        timings["identity"] = 1000 * (time.perf_counter() - identity_started) - timings["render"]
        timings["renders"] = float(len(render_ms))

        applied_requests = [r for _, group in groups for r in group]
        if outcome.edit is None:
            notes.append(f"I could not make this edit without changing who the person is: {outcome.reason}.")
            edited, frames, face_after, applied = image, (), None, ()
        else:
            edit = outcome.edit
            after = judged[id(edit)][1]
            face_after = None if after is None else after.translated(x0, y0)
            frames = _whole_frames(image, (x0, y0, x1, y1), edit.frames, preview_scale)
            if in_place:
                self._forget(image)  # its analysis no longer describes it
                edited = image
            else:
                edited = image.copy()
            edited[y0:y1, x0:x1] = edit.image
            notes.extend(edit.notes)
            applied = tuple(r.scaled(outcome.scale) for r in applied_requests)
            if outcome.backed_off:
                notes.append(f"To keep the person recognisable, {outcome.reason}.")
        checks = tuple(
            self._expression_check(request, face, face_after, groups) for request in applied
        ) if face_after is not None else ()  # fmt: skip
        timings["total"] = 1000 * (time.perf_counter() - started)
        return EditOutcome(
            image=edited, frames=frames, requested=tuple(requests), applied=applied,
            unsupported=tuple(unsupported), identity=outcome.identity, face=face, face_after=face_after,
            expression=checks, backends=tuple(b.name for b, _ in groups), notes=tuple(notes), timings=timings,
        )  # fmt: skip

    # ------------------------------------------------------------------ internals

    def _original(self, image: np.ndarray, face_index: int | None) -> tuple[Face, Future]:
        """(face, identity embedding) of the original photo, cached by the photo's content.

        The same array object is recognised without hashing its pixels (photos are never changed in
        place in facechat); another array with the same pixels is, up to `CONTENT_KEY_VALUES` (hashing
        a 12000x12000 photo takes about as long as analysing it again). The embedding is taken the
        way edits are judged: on the face's region, re-analysed there (`face_region`), so the two
        numbers compare alike; it is a `Future`, computed on a worker thread while the first edit
        renders (only the judgement of an edit needs it).
        """
        ident = (id(image), face_index)
        with self._cache_lock:
            known = self._by_object.get(ident)
            if known is not None and known[0]() is image:
                return known[1]
        key = None
        if image.size <= CONTENT_KEY_VALUES:
            key = (hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16).hexdigest(), face_index)
        with self._cache_lock:
            entry = self._cache.get(key)
        if entry is None:
            face = self.analyzer.analyze_one(image, face_index)
            entry = (face, self._embedder().submit(self._region_embedding, image, face))
        with self._cache_lock:
            if key is not None:
                self._cache[key] = entry
                self._cache.move_to_end(key)
            self._by_object[ident] = (weakref.ref(image), entry)
            while len(self._cache) > 8:
                self._cache.popitem(last=False)
            while len(self._by_object) > 8:
                self._by_object.popitem(last=False)
        return entry

    def _region_embedding(self, image: np.ndarray, face: Face) -> np.ndarray:
        """The identity embedding of ``face`` on its region of ``image``, re-analysed there."""
        x0, y0, x1, y1 = face_region(face, image.shape[:2])
        work, work_face = image[y0:y1, x0:x1], face.translated(-x0, -y0)
        return self.scorer.embed(work, self.nearest_face(work, work_face) or work_face)

    def _embedder(self) -> ThreadPoolExecutor:
        """The worker thread that embeds originals (made on first use)."""
        with self._cache_lock:
            if self._embedding_pool is None:
                self._embedding_pool = ThreadPoolExecutor(1, thread_name_prefix="facechat-embed")
            return self._embedding_pool

    def _forget(self, image: np.ndarray) -> None:
        """Drop the cached analyses of the array ``image`` (about to be changed in place)."""
        with self._cache_lock:
            for ident in [i for i, (ref, _) in self._by_object.items() if ref() is image]:
                del self._by_object[ident]

    def _render_groups(
        self,
        image: np.ndarray,
        face: Face,
        groups: list[tuple[Backend, list[EditRequest]]],
        scale: float,
        steps: int,
        preview_side: int,
    ) -> BackendEdit:
        """Each backend in turn on the previous one's output (re-analysed between backends)."""
        current, current_face = image, face
        frames: tuple[np.ndarray, ...] = ()
        notes: list[str] = []
        diagnostics: dict[str, float] = {}
        identity: IdentityResult | None = None
        for i, (backend, requests) in enumerate(groups):
            if i > 0:
                current_face = self.nearest_face(current, face) or current_face
            edit = backend.edit(
                current, current_face, requests, scale=scale, steps=steps, preview_side=preview_side
            )
            current, frames = edit.image, edit.frames or frames
            notes.extend(edit.notes)
            diagnostics.update({f"{backend.name}.{k}": v for k, v in edit.diagnostics.items()})
            if edit.identity is not None and (identity is None or not edit.identity.same_person):
                identity = edit.identity
        return BackendEdit(
            image=current, frames=frames, notes=tuple(notes), diagnostics=diagnostics, identity=identity
        )

    def nearest_face(self, image: np.ndarray, original: Face) -> Face | None:
        """The face in ``image`` closest to where ``original`` was (an edit does not move the head)."""
        faces = self.analyzer.analyze(image)
        if not faces:
            return None
        centre = original.box[:2] + original.box[2:] / 2
        return min(faces, key=lambda f: float(np.linalg.norm(f.box[:2] + f.box[2:] / 2 - centre)))

    def _judge(
        self, edited: np.ndarray, face: Face, original_embedding: Future
    ) -> tuple[IdentityResult | None, Face | None]:
        reference = original_embedding.result()  # before the photo can change (an edit in place)
        after = self.nearest_face(edited, face)
        if after is None:
            return None, None
        similarity = self.scorer.similarity(reference, self.scorer.embed(edited, after))
        return self.scorer.judge(similarity), after

    def _expression_check(
        self,
        request: EditRequest,
        face: Face,
        face_after: Face,
        groups: list[tuple[Backend, list[EditRequest]]],
    ) -> ExpressionCheck:
        backend = next(b for b, group in groups if any(r.attribute == request.attribute for r in group))
        targets = backend.targets(request, face)
        shapes = {
            name: (face.blendshapes.get(name, 0.0), face_after.blendshapes.get(name, 0.0), sign)
            for name, sign in targets.items()
        }
        moved = {name: (after - before) * sign for name, (before, after, sign) in shapes.items()}
        counted = {
            name: change
            for name, change in moved.items()
            if name not in BLIND_BLENDSHAPES or (name in WEAKLY_SEEN and change >= APPEARED_MARGIN)
        }
        change = float(np.mean(list(counted.values()))) if counted else None
        appeared = None if change is None else bool(change >= APPEARED_MARGIN)
        return ExpressionCheck(
            attribute=request.attribute, strength=request.strength, blendshapes=shapes, change=change,
            appeared=appeared, unseen=tuple(name for name in shapes if name not in counted),
        )  # fmt: skip


def face_region(face: Face, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), exclusive, of the part of a (height, width) photo an edit of ``face`` uses."""
    height, width = shape
    low, high = face.landmarks[:, :2].min(axis=0), face.landmarks[:, :2].max(axis=0)
    margin = REGION_MARGIN * float(max(high - low))
    x0, y0 = (max(0, int(np.floor(v - margin))) for v in low)
    x1, y1 = min(width, int(np.ceil(high[0] + margin)) + 1), min(height, int(np.ceil(high[1] + margin)) + 1)
    return x0, y0, x1, y1


def _whole_frames(
    image: np.ndarray, region: tuple[int, int, int, int], frames: Sequence[np.ndarray], scale: float
) -> tuple[np.ndarray, ...]:
    """Previews of the whole photo from previews of its ``region`` rendered at ``scale``.

    Each region preview's change (against the region itself at that scale) is added to one preview of
    the whole photo, so nothing moves where the edit changed nothing, even where the region's corner
    falls between preview pixels.
    """
    if not frames:
        return ()
    x0, y0, x1, y1 = region
    height, width = image.shape[:2]
    if scale == 1.0:
        base, unedited = image, image[y0:y1, x0:x1]
    else:
        base = downscale(image, (round(width * scale), round(height * scale)))
        unedited = cv2.resize(image[y0:y1, x0:x1], frames[0].shape[1::-1], interpolation=cv2.INTER_AREA)
    top, left = round(y0 * scale), round(x0 * scale)
    rows, cols = min(unedited.shape[0], base.shape[0] - top), min(unedited.shape[1], base.shape[1] - left)
    whole = []
    for frame in frames:
        change = frame[:rows, :cols].astype(np.int16) - unedited[:rows, :cols]
        picture = base.copy()
        slot = picture[top : top + rows, left : left + cols]
        slot[:] = np.clip(slot + change, 0, 255).astype(np.uint8)
        whole.append(picture)
    return tuple(whole)
