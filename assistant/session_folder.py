"""`SessionFolder`: a saved session on disk, replaced in one step and read only after it is checked.

A session folder holds ``session.json`` (the conversation), ``original.png`` and ``current.png`` (the
photo and what it looks like now), ``photo.json`` (which face) and ``manifest.json`` (the SHA-256 of
each of the others). Nothing else is read from it, and nothing it links to elsewhere.

Writing: every file goes into a fresh hidden sibling folder (``.NAME.new-PID-XXXX``), is flushed to
disk, and the sibling then takes the folder's place in one atomic exchange (Linux ``renameat2``); where
the system cannot exchange, the old folder is renamed aside first and a reader that finds no folder
puts it back. Either way a save that is killed at any moment leaves the previous session or the new
one, never a mixture of both. Reading (`read`, then `verify`): each file must be a regular file inside
the folder (links are refused), the JSON files must follow their schema, and the files must match the
manifest, so a folder changed by hand or mixed by an older facechat is refused with a sentence instead
of restored wrong.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.conversation import SESSION_FILE, SessionError
from editor.images import process_umask

logger = logging.getLogger(__name__)

ORIGINAL_FILE = "original.png"
CURRENT_FILE = "current.png"
META_FILE = "photo.json"
MANIFEST_FILE = "manifest.json"
#: Every file a session folder holds, the manifest last (it is written after the others).
SESSION_FILES = (SESSION_FILE, ORIGINAL_FILE, CURRENT_FILE, META_FILE, MANIFEST_FILE)
MANIFEST_VERSION = 1
#: Largest JSON file read from a session folder, bytes (a long conversation is a few hundred KB).
MAX_JSON_BYTES = 16 * 1024 * 1024
#: Largest photo read from a session folder, bytes (a 200-megapixel PNG is at most about 600 MB).
MAX_PHOTO_BYTES = 1024 * 1024 * 1024

#: Contents of a file to write: the bytes, or a function that makes them (called only when needed).
Content = bytes | Callable[[], bytes]


@dataclass(frozen=True)
class SavedFile:
    """A file a save wrote: ``path`` (in the session folder) held bytes whose SHA-256 is ``digest``."""

    path: Path
    digest: str


class _Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    version: int
    files: dict[str, str]

    @field_validator("files")
    @classmethod
    def _known_files(cls, files: dict[str, str]) -> dict[str, str]:
        for name, digest in files.items():
            if name not in SESSION_FILES or name == MANIFEST_FILE:
                raise ValueError(f"'{name}' is not a file of a facechat session")
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise ValueError(f"the checksum of {name} is not a SHA-256 hex digest")
        if SESSION_FILE not in files:
            raise ValueError(f"it does not list {SESSION_FILE}")
        return files


class PhotoFile(BaseModel):
    """``photo.json``: which face of the photo the conversation edits (None: the largest)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    face_index: int | None = Field(default=None, ge=0, le=10_000)

    @classmethod
    def parse(cls, data: bytes | None, path: Path) -> PhotoFile:
        """Read ``photo.json``'s bytes (None: absent, the defaults); raises `SessionError`."""
        if data is None:
            return cls()
        try:
            return cls.model_validate(_parse_json(data, path, "the photo settings file"))
        except ValidationError as error:
            raise SessionError(
                f"{path} is not valid ({_first_problem(error)}); it should hold the face number, e.g. "
                '{"face_index": 0}. Fix or delete it (the largest face is then used).'
            ) from error


class SessionFolder:
    """One session folder: `replace` writes it whole in one step, `read` returns its checked files.

    Args:
        path: the folder (it need not exist yet; a link to a folder is followed to the real one).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser()

    # ------------------------------------------------------------------ writing

    def replace(
        self, files: Mapping[str, Content], *, reuse: Mapping[str, SavedFile] | None = None
    ) -> dict[str, SavedFile]:
        """Make the folder hold exactly ``files`` (name -> content) plus their manifest, in one step.

        Args:
            files: the session's files, each a name of `SESSION_FILES` (not the manifest).
            reuse: files an earlier save wrote: each is hard-linked instead of written again while it
                still holds the same bytes (a large original photo is not re-encoded on every turn).

        Returns:
            name -> `SavedFile` of every file now in the folder (the manifest left out).

        Raises:
            SessionError: the folder exists but is not a session folder (it holds other files), or
                cannot be written.
        """
        target = Path(os.path.realpath(self.path))
        self._check_replaceable(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-{os.getpid()}-", dir=target.parent))
        try:
            os.chmod(staging, 0o777 & ~process_umask())
            digests = {
                name: self._write(staging, name, content, (reuse or {}).get(name))
                for name, content in files.items()
            }
            manifest = _Manifest(version=MANIFEST_VERSION, files=digests)
            self._write(staging, MANIFEST_FILE, manifest.model_dump_json(indent=2).encode("utf-8"), None)
            _fsync_directory(staging)
            _swap_in(staging, target)
        except OSError as error:
            raise SessionError(
                f"The session could not be saved to {target} ({error.strerror or error}); "
                "check that its folder is writable and the disk has space."
            ) from error
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        _remove_leftovers(target)
        logger.info("Saved the session to %s (%s)", target, ", ".join(files))
        return {name: SavedFile(target / name, digest) for name, digest in digests.items()}

    @staticmethod
    def _write(folder: Path, name: str, content: Content, earlier: SavedFile | None) -> str:
        """Put ``name`` into ``folder``; returns its SHA-256."""
        if name not in SESSION_FILES:
            raise ValueError(f"'{name}' is not a file of a facechat session ({', '.join(SESSION_FILES)}).")
        path = folder / name
        if earlier is not None:
            try:
                os.link(earlier.path, path, follow_symlinks=False)
                # Checked after linking: the link is ours, whatever replaces the earlier folder meanwhile.
                if _file_digest(path) == earlier.digest:
                    return earlier.digest
                path.unlink()
            except OSError:
                path.unlink(missing_ok=True)
        data = content() if callable(content) else content
        with open(path, "xb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        return hashlib.sha256(data).hexdigest()

    @staticmethod
    def _check_replaceable(target: Path) -> None:
        if not os.path.lexists(target):
            return
        if not target.is_dir():
            raise SessionError(f"{target} is a file, not a session folder; choose a folder for the session.")
        strangers = sorted(
            name for name in os.listdir(target) if name not in SESSION_FILES and not _is_leftover(name)
        )
        if strangers:
            shown = ", ".join(strangers[:5]) + (" ..." if len(strangers) > 5 else "")
            raise SessionError(
                f"{target} holds files that are not part of a facechat session ({shown}); saving would "
                "replace the whole folder. Choose another session folder, or move those files out."
            )

    # ------------------------------------------------------------------ reading

    def read(self) -> dict[str, bytes]:
        """The folder's files (name -> bytes); ``session.json`` is always among them.

        Check their contents with their schemas, then call `verify` before using any of them.

        Raises:
            SessionError: the folder is missing or unreadable, has no ``session.json``, or a file is a
                link, not a regular file, or too large.
        """
        _recover(Path(os.path.realpath(self.path)))
        files = self._read_files()
        if SESSION_FILE not in files:
            raise SessionError(
                f"No saved session in {self.path} (it has no {SESSION_FILE}); save one first or pick "
                "the folder that holds it."
            )
        return files

    def verify(self, files: Mapping[str, bytes]) -> None:
        """Check that ``files`` (from `read`) were saved together: they match the manifest.

        Raises:
            SessionError: a file is missing, unlisted or changed since the save (a mixed folder).
        """
        if MANIFEST_FILE in files:
            self._check_manifest(files)
            return
        logger.warning(
            "%s has no %s (saved by an older facechat): its files cannot be checked against each other.",
            self.path,
            MANIFEST_FILE,
        )
        if ORIGINAL_FILE not in files and (META_FILE in files or CURRENT_FILE in files):
            self._missing(ORIGINAL_FILE)

    def _read_files(self) -> dict[str, bytes]:
        """Every session file present, read through one handle on the folder (no path is followed)."""
        try:
            folder = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError as error:
            raise SessionError(
                f"No saved session at {self.path}; save one first or pick the folder that holds it."
            ) from error
        except NotADirectoryError as error:
            raise SessionError(f"{self.path} is a file, not a session folder.") from error
        except OSError as error:
            raise SessionError(
                f"The session folder {self.path} cannot be read ({error.strerror})."
            ) from error
        try:
            present = set(os.listdir(folder))
            return {name: self._read_file(folder, name) for name in SESSION_FILES if name in present}
        finally:
            os.close(folder)

    def _read_file(self, folder: int, name: str) -> bytes:
        path = self.path / name
        limit = MAX_PHOTO_BYTES if name.endswith(".png") else MAX_JSON_BYTES
        try:
            handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        except OSError as error:
            if error.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link
                raise SessionError(
                    f"{path} is a link, and facechat reads only files kept inside the session folder; "
                    "put the file itself there (or start a new session)."
                ) from error
            raise SessionError(f"{path} cannot be read ({error.strerror}).") from error
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            os.close(handle)
            raise SessionError(
                f"{path} is not a regular file (a folder or a device); the session is damaged."
            )
        with os.fdopen(handle, "rb") as stream:
            if info.st_size > limit:
                raise SessionError(
                    f"{path} is {info.st_size} bytes, more than a session's {name} can be "
                    f"({limit} bytes); the session is damaged."
                )
            return stream.read(limit + 1)

    def _check_manifest(self, files: Mapping[str, bytes]) -> None:
        path = self.path / MANIFEST_FILE
        try:
            manifest = _Manifest.model_validate(_parse_json(files[MANIFEST_FILE], path, "the manifest"))
        except ValidationError as error:
            raise SessionError(f"{path} is not a valid session manifest: {_first_problem(error)}.") from error
        if manifest.version != MANIFEST_VERSION:
            raise SessionError(
                f"{path} has version {manifest.version}; this facechat reads version {MANIFEST_VERSION}."
            )
        for name in SESSION_FILES:
            if name == MANIFEST_FILE:
                continue
            expected = manifest.files.get(name)
            if expected is None and name in files:
                self._mixed(name, "it is not listed in the manifest")
            if expected is not None and name not in files:
                self._missing(name)
            if expected is not None and hashlib.sha256(files[name]).hexdigest() != expected:
                self._mixed(name, "it changed after the save, or comes from another one")

    def _mixed(self, name: str, why: str) -> None:
        raise SessionError(
            f"The session folder {self.path} does not hold one save: {name} does not belong with the "
            f"others ({why}, by the manifest's checksums), so its photo and conversation may not match. "
            "Start a new session, or put back the files as they were saved."
        )

    def _missing(self, name: str) -> None:
        raise SessionError(
            f"The session in {self.path} is incomplete ({name} is missing; its photo and conversation "
            "were saved together), so it cannot be restored as it was. Put the file back, or start a new "
            "session with the photo."
        )


# ---------------------------------------------------------------------------------------------- helpers


def _parse_json(data: bytes, path: Path, what: str) -> object:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        reason = "it is nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise SessionError(f"{path} ({what}) is not valid JSON: {reason}; the session is damaged.") from error


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "the file"
    return f"{where}: {problem['msg']}"


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_directory(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where the system or file system cannot (the caller falls back to two renames).
    """
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # C library older than glibc 2.28
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _swap_in(staging: Path, target: Path) -> None:
    """Put the complete folder ``staging`` in ``target``'s place; the old ``target`` is deleted."""
    if not os.path.lexists(target):
        os.rename(staging, target)
    elif _exchange(staging, target):
        shutil.rmtree(staging)  # it holds the previous session now
    else:
        retired = staging.with_name(staging.name.replace(".new-", ".old-", 1))
        os.rename(target, retired)  # killed here: `_recover` puts it back
        os.rename(staging, target)
        shutil.rmtree(retired)
    _fsync_directory(target.parent)


def _siblings(target: Path, kind: str) -> list[Path]:
    """The hidden ``.NAME.new-*`` / ``.NAME.old-*`` folders saves of ``target`` leave while they run."""
    prefix = f".{target.name}.{kind}-"
    try:
        return [target.parent / n for n in os.listdir(target.parent) if n.startswith(prefix)]
    except OSError:
        return []


def _recover(target: Path) -> None:
    """A save without the atomic exchange was killed between its two renames: put the old folder back."""
    if os.path.lexists(target):
        return
    retired = sorted(_siblings(target, "old"), key=lambda p: p.stat().st_mtime, reverse=True)
    if retired:
        os.rename(retired[0], target)
        logger.warning("Restored %s from %s, left by an interrupted save.", target, retired[0].name)


def _remove_leftovers(target: Path) -> None:
    """Delete the sibling folders of saves that were killed (their process is gone)."""
    for leftover in _siblings(target, "new") + _siblings(target, "old"):
        pid = leftover.name.rsplit("-", 2)[-2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread's save may be in flight
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_leftover(name: str) -> bool:
    """Temporary files an interrupted save of an older facechat left inside the folder."""
    return name.startswith(".") and name.endswith(".tmp")
