"""Robustness measurements: saves killed at random moments, and the inputs of the huge-photo checks.

    python -m eval.bench_robustness kill-loop --kills 50            # the session writer facechat uses
    python -m eval.bench_robustness kill-loop --kills 50 --writer per-file   # the old one, for contrast
    python -m eval.bench_robustness photos --out /tmp/huge          # huge.jpg (12000x12000), bomb.png
    python -m eval.bench_robustness time-edit --photo /tmp/huge/huge.jpg --runs 3   # wall and peak RSS
    python -m eval.bench_robustness blind-spots --london ../shared/data/london   # what FaceLandmarker sees

kill-loop: a child process saves two different sessions (different photos, different conversations)
alternately into ONE folder, as ``facechat chat other.jpg`` does with the default folder; the parent
kills it with SIGKILL at a random moment, then reads the folder the way ``Assistant.load`` does
(`SessionFolder.read` + the schema checks + `SessionFolder.verify`) and sorts the outcome: whole (every
file from the same session), mixed (it loaded, but the photo of one session came with the other's
conversation: the failure this guards against), refused (a `SessionError`), or missing. ``--writer
per-file`` writes each file atomically but the folder file by file (facechat before the session
folder), to show that the loop does catch mixing.

photos: the inputs of the huge-photo checks, to be timed with ``/usr/bin/time -v facechat edit ...``:
``huge.jpg``, the sample portrait upscaled to 12000x12000 (JPEG, quality 92), and ``bomb.png``, a
12000x12000 white PNG of a few tens of KB that declares 144 megapixels.

time-edit: ``facechat edit PHOTO "make her smile" -o OUT`` run ``--runs`` times in fresh processes, each
timed like ``/usr/bin/time -v`` does (wall clock, the process tree's maximum resident set size from
``wait4``), with the load average before each run; the median of each.

blind-spots: how much FaceLandmarker's "blind" blendshapes (`editor.editor.BLIND_BLENDSHAPES`) move, on
real photos (London neutral vs smiling) and on edits (the sample and the first London neutral photos,
strength 1 unless given): per shape the median score and the share of photos where it rose by more
than 0.1. The figures behind `editor.editor.WEAKLY_SEEN` and README's "Known blind spots".
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

#: Conversation text that marks which of the two sessions a session.json came from.
MARKERS = ("session A: make her smile", "session B: make her look sad")


# ---------------------------------------------------------------------------------------------- kill loop


class _NoAnalysis:
    """Stands in for the Editor in the child: saving a session needs no face analysis."""

    class _Face:
        index = 0
        warnings: tuple[str, ...] = ()

    def analyze(self, image, face_index=None):
        return self._Face()


def _two_sessions():
    """Two sessions with different photos (the sample and its mirror image) and conversations."""
    from assistant.session import Assistant
    from editor.images import sample_image
    from editor.requests import EditRequest, ParseResult

    photos = (sample_image(), np.ascontiguousarray(sample_image()[:, ::-1]))
    sessions = []
    for photo, marker, attribute in zip(photos, MARKERS, ("happy", "sad"), strict=True):
        session = Assistant(photo, editor=_NoAnalysis())
        session.conversation.apply(
            ParseResult(requests=(EditRequest(attribute=attribute, strength=0.7),)), marker
        )
        session.current = np.ascontiguousarray(np.clip(photo.astype(np.int16) + 20, 0, 255).astype(np.uint8))
        sessions.append(session)
    return sessions


def _save_per_file(session, folder: Path) -> None:
    """The old writer: every file atomic, the folder file by file."""
    from assistant.session_folder import CURRENT_FILE, META_FILE, ORIGINAL_FILE
    from editor.images import save_bytes, save_image

    folder.mkdir(parents=True, exist_ok=True)
    save_image(session.original, folder / ORIGINAL_FILE)
    save_image(session.current, folder / CURRENT_FILE)
    save_bytes(json.dumps({"face_index": session.face_index}).encode(), folder / META_FILE)
    session.conversation.save(folder)


def run_child(folder: Path, writer: str) -> None:
    """Save the two sessions alternately into ``folder`` until killed; prints "ready" after the first."""
    sessions = _two_sessions()
    count = 0
    while True:
        session = sessions[count % 2]
        if writer == "per-file":
            _save_per_file(session, folder)
        else:
            session.save(folder)
        count += 1
        if count == 2:
            sys.stdout.write("ready\n")
            sys.stdout.flush()


def classify(folder: Path, photos: list[tuple[np.ndarray, np.ndarray]]) -> str:
    """'whole', 'mixed', 'refused' or 'missing': what loading ``folder`` would give.

    ``photos``: (original, current) of session A, then of session B.
    """
    from assistant.conversation import Conversation, SessionError
    from assistant.session_folder import CURRENT_FILE, META_FILE, ORIGINAL_FILE, PhotoFile, SessionFolder
    from editor.images import load_image

    if not folder.exists():
        return "missing"
    session = SessionFolder(folder)
    try:
        files = session.read()
        conversation = Conversation.from_json(files["session.json"], folder / "session.json")
        PhotoFile.parse(files.get(META_FILE), folder / META_FILE)
        session.verify(files)
    except SessionError as error:
        logger.info("refused: %s", error)
        return "refused"
    texts = {state.text for state in conversation.states}
    owners = {next(i for i, marker in enumerate(MARKERS) if marker in texts)}
    for name, which in ((ORIGINAL_FILE, 0), (CURRENT_FILE, 1)):
        image = load_image(files[name])
        owners.add(next(i for i, pair in enumerate(photos) if np.array_equal(image, pair[which])))
    return "whole" if len(owners) == 1 else "mixed"


def kill_loop(kills: int, writer: str, folder: Path, seed: int, max_delay: float) -> dict:
    """Kill a saving child ``kills`` times at random moments; count what each kill left."""
    rng = random.Random(seed)
    photos = [(s.original, s.current) for s in _two_sessions()]
    counts = {"whole": 0, "mixed": 0, "refused": 0, "missing": 0}
    started = time.perf_counter()
    for i in range(kills):
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eval.bench_robustness",
                "child",
                "--folder",
                str(folder),
                "--writer",
                writer,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the saving child exited with status {child.wait()} before its first saves")
        time.sleep(rng.uniform(0.0, max_delay))
        child.send_signal(signal.SIGKILL)
        child.wait()
        outcome = classify(folder, photos)
        counts[outcome] += 1
        logger.info("kill %d: %s", i + 1, outcome)
    leftovers = sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))
    return {
        "writer": writer,
        "kills": kills,
        **counts,
        "leftover_folders": len(leftovers),
        "seconds": round(time.perf_counter() - started, 1),
    }


# ---------------------------------------------------------------------------------------------- photos


def make_photos(out: Path, side: int = 12000) -> dict[str, str]:
    """``huge.jpg`` (the sample portrait upscaled to side x side) and ``bomb.png`` (blank, side x side)."""
    from editor.images import sample_image

    out.mkdir(parents=True, exist_ok=True)
    huge = cv2.resize(sample_image(), (side, side), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(huge).save(out / "huge.jpg", quality=92)
    del huge
    Image.new("1", (side, side), 1).save(out / "bomb.png", optimize=True)
    return {name: f"{(out / name).stat().st_size} bytes" for name in ("huge.jpg", "bomb.png")}


#: GNU time, as the README's figures were taken (its own process is small, so the peak RSS it reports is
#: the command's: a child forked from this Python process would count this process's memory too).
GNU_TIME = Path("/usr/bin/time")


def timed_run(command: list[str]) -> dict:
    """Run ``command`` under ``/usr/bin/time -v``: its wall-clock seconds, peak RSS (MB), exit status
    and the 1-minute load average just before it started.

    Without GNU time, the wall clock and ``wait4``'s peak RSS, which then includes the size of this
    process at the fork (an upper bound; the result says ``"rss_from": "wait4"``).
    """
    import os

    load = os.getloadavg()[0]
    gnu = GNU_TIME.is_file()
    started = time.perf_counter()
    child = subprocess.Popen(
        [str(GNU_TIME), "-v", *command] if gnu else command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    error = child.stderr.read().decode(errors="replace") if child.stderr else ""
    child.returncode = os.waitstatus_to_exitcode(status)
    result = {"wall_s": round(wall, 2), "max_rss_mb": round(usage.ru_maxrss / 1024), "rss_from": "wait4"}
    if gnu:
        report = dict(line.strip().rsplit(": ", 1) for line in error.splitlines() if line.startswith("\t"))
        if "Maximum resident set size (kbytes)" in report:
            clock = report["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")
            result = {
                "wall_s": round(sum(float(part) * 60**i for i, part in enumerate(reversed(clock))), 2),
                "max_rss_mb": round(int(report["Maximum resident set size (kbytes)"]) / 1024),
                "rss_from": "/usr/bin/time -v",
            }
            code = report.get("Exit status")
            child.returncode = int(code) if code is not None else child.returncode
            error = "\n".join(line for line in error.splitlines() if not line.startswith("\t"))
    error = error.strip()
    return {
        **result,
        "load_1min": round(load, 2),
        "exit": child.returncode,
        **({"stderr": error[-300:]} if error else {}),
    }


def time_edit(photo: Path, text: str, runs: int, out: Path) -> dict:
    """``facechat edit photo text -o out`` timed ``runs`` times: every run and the medians."""
    import shutil

    script = shutil.which("facechat", path=str(Path(sys.executable).parent))
    facechat = [script] if script else [sys.executable, "-m", "assistant.cli"]
    results = [timed_run([*facechat, "edit", str(photo), text, "-o", str(out)]) for _ in range(runs)]
    return {
        "command": " ".join([*facechat, "edit", str(photo), f'"{text}"', "-o", str(out)]),
        "runs": results,
        "median_wall_s": float(np.median([r["wall_s"] for r in results])),
        "median_max_rss_mb": float(np.median([r["max_rss_mb"] for r in results])),
        "load_1min": [r["load_1min"] for r in results],
    }


# ---------------------------------------------------------------------------------------------- blind spots


def blind_spots(london: Path, limit: int, edits: int) -> dict:
    """Medians and rise rates of the blind blendshapes on real London photos and on edits."""
    from editor.editor import BLIND_BLENDSHAPES, Editor
    from editor.errors import FacechatError
    from editor.images import load_image, sample_image
    from editor.requests import EditRequest

    editor = Editor()
    names = sorted(BLIND_BLENDSHAPES)

    def summary(pairs: list[tuple[dict, dict]]) -> dict:
        before = np.array([[b[n] for n in names] for b, _ in pairs])
        after = np.array([[a[n] for n in names] for _, a in pairs])
        return {
            n: {
                "before_median": round(float(np.median(before[:, i])), 3),
                "after_median": round(float(np.median(after[:, i])), 3),
                "after_max": round(float(after[:, i].max()), 3),
                "rose_over_0.1": round(float(np.mean(after[:, i] - before[:, i] > 0.1)), 2),
            }
            for i, n in enumerate(names)
        }

    neutral = sorted((london / "neutral").glob("*.jpg"))
    real = []
    for path in neutral[:limit]:
        try:
            pair = [
                editor.analyzer.analyze_one(load_image(p)) for p in (path, london / "smiling" / path.name)
            ]
        except (FacechatError, OSError):
            continue
        real.append((pair[0].blendshapes, pair[1].blendshapes))
    photos = [sample_image()] + [load_image(p) for p in neutral[:edits]]
    result = {"real smiles (London neutral -> smiling)": {"photos": len(real), **summary(real)}}
    for attribute in ("mouth_open", "surprised", "eyes_wide", "disgusted"):
        pairs = []
        for photo in photos:
            outcome = editor.render(photo, [EditRequest(attribute=attribute, strength=1.0, steps=1)])
            if outcome.face_after is not None:
                pairs.append((outcome.face.blendshapes, outcome.face_after.blendshapes))
        result[f"edit {attribute} 1.0"] = {"photos": len(pairs), **summary(pairs)}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    loop = commands.add_parser("kill-loop", help="kill a process saving two sessions into one folder")
    loop.add_argument("--kills", type=int, default=50)
    loop.add_argument("--writer", choices=("session-folder", "per-file"), default="session-folder")
    loop.add_argument("--folder", type=Path, default=None, help="default: a fresh temporary folder")
    loop.add_argument("--seed", type=int, default=0)
    loop.add_argument("--max-delay", type=float, default=1.0, help="seconds after the first saves")
    child = commands.add_parser("child", help=argparse.SUPPRESS)
    child.add_argument("--folder", type=Path, required=True)
    child.add_argument("--writer", default="session-folder")
    photos = commands.add_parser("photos", help="write huge.jpg and bomb.png")
    photos.add_argument("--out", type=Path, required=True)
    photos.add_argument("--side", type=int, default=12000)
    timing = commands.add_parser("time-edit", help="time `facechat edit` on a photo (wall, peak RSS)")
    timing.add_argument("--photo", type=Path, required=True)
    timing.add_argument("--text", default="make her smile")
    timing.add_argument("--runs", type=int, default=3)
    timing.add_argument("--out", type=Path, default=None, help="edited photo (default: beside it)")
    spots = commands.add_parser("blind-spots", help="how much the blind blendshapes move")
    spots.add_argument("--london", type=Path, required=True, help="the London set (neutral/, smiling/)")
    spots.add_argument("--limit", type=int, default=50, help="London people for the real smiles")
    spots.add_argument("--edits", type=int, default=12, help="London photos edited (plus the sample)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    if args.command == "child":
        run_child(args.folder, args.writer)
        return 0
    if args.command == "photos":
        result = make_photos(args.out, args.side)
    elif args.command == "time-edit":
        out = args.out or args.photo.with_name(f"{args.photo.stem}_timed{args.photo.suffix}")
        result = time_edit(args.photo, args.text, args.runs, out)
    elif args.command == "blind-spots":
        result = blind_spots(args.london, args.limit, args.edits)
    else:
        import tempfile

        folder = args.folder or Path(tempfile.mkdtemp(prefix="facechat-kill-loop-")) / "facechat-session"
        result = kill_loop(args.kills, args.writer, folder, args.seed, args.max_delay)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
