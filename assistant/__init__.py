"""facechat's assistant half: understanding requests and holding the conversation.

``assistant.run("make her look slightly disgusted", image="me.jpg")`` talks to a module-level default
session; ``Assistant(image=...)`` makes explicit, independent sessions.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.session import Assistant, Turn
    from editor.images import ImageSource

__all__ = ["Assistant", "Turn", "default_session", "run"]

_default: Assistant | None = None
_default_lock = threading.Lock()


def default_session() -> Assistant:
    """The module-level session `run` uses (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            from assistant.session import Assistant

            _default = Assistant()
        return _default


def run(
    text: str,
    image: ImageSource | None = None,
    *,
    reference: ImageSource | None = None,
    reference_face: int | None = None,
) -> Turn:
    """One message to the default session; ``image`` (a path, bytes, PIL, numpy, "sample") sets the photo,
    ``reference`` a photo whose expression to copy ("copy this expression"; ``reference_face``: its face)."""
    return default_session().run(text, image=image, reference=reference, reference_face=reference_face)


def __getattr__(name: str):
    if name in ("Assistant", "Turn"):
        from assistant import session

        return getattr(session, name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
