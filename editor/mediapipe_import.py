"""Import MediaPipe without the parts of it facechat never uses.

``import mediapipe`` imports every task family, and with them two libraries facechat never touches:
matplotlib with its pyplot (for the drawing utilities' 3-D landmark plot; about 0.45 s of every start)
and sounddevice (for audio recording; about 0.15 s, and it fails anyway on a machine without
PortAudio). `import_mediapipe` hands MediaPipe a stand-in module for each while it imports; a stand-in
imports the real module on its first attribute access, so MediaPipe's plotting and audio still work if
anything ever calls them. The stand-ins are taken out of ``sys.modules`` as soon as MediaPipe is
imported: every other importer of matplotlib or sounddevice gets the real module, loaded the ordinary
way. (`importlib.util.LazyLoader` cannot do this: the import statement itself reads ``__spec__``, which
loads a lazy module at once.)
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

#: Modules MediaPipe's package import pulls in for features facechat does not use (parents first).
DEFERRED_MODULES = ("matplotlib", "matplotlib.pyplot", "sounddevice")

_lock = threading.Lock()


class _StandIn(ModuleType):
    """A module that imports the real one of its name on first attribute access and answers from it."""

    __spec__ = None  # what the import system reads first; never forwarded

    def __getattr__(self, attribute: str):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


def import_mediapipe() -> ModuleType:
    """The ``mediapipe`` package, imported (once) with `DEFERRED_MODULES` loaded only on first use."""
    with _lock:
        if "mediapipe" in sys.modules:
            return sys.modules["mediapipe"]
        stand_ins = {name: _StandIn(name) for name in DEFERRED_MODULES if name not in sys.modules}
        for name, module in stand_ins.items():
            parent, _, child = name.rpartition(".")
            if parent in stand_ins:  # `import a.b as c` reads b from a before it looks in sys.modules
                setattr(stand_ins[parent], child, module)
        sys.modules.update(stand_ins)
        try:
            import mediapipe
        finally:
            for name, module in stand_ins.items():
                if sys.modules.get(name) is module:
                    del sys.modules[name]
        return mediapipe
