"""Progress of latent sampling, for whoever is waiting: a callback per thread (the app's progress bar).

The pipeline itself shows a tqdm bar on a terminal (the CLI). A caller that wants the steps as numbers
wraps its work in ``with reporting(callback):``; the latent backend then calls ``callback(done, total,
text)`` after every denoising step of every sample. The callback is held in a context variable, so two
app sessions on two threads each see only their own edits' progress (the pipeline is shared).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

#: ``(steps done, steps in this sample, what is happening)``.
Progress = Callable[[int, int, str], None]

_current: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("latent_progress", default=None)


@contextlib.contextmanager
def reporting(callback: Progress | None) -> Iterator[None]:
    """Send this thread's latent sampling progress to ``callback`` inside the block."""
    token = _current.set(callback)
    try:
        yield
    finally:
        _current.reset(token)


def report(done: int, total: int, text: str) -> None:
    """Tell the current callback, if any (errors in a callback never stop an edit)."""
    callback = _current.get()
    if callback is not None:
        with contextlib.suppress(Exception):
            callback(done, total, text)
