"""Editing backends behind one small protocol (`Backend`), chosen per attribute by a `BackendRegistry`."""

from editor.backends.base import Backend, BackendEdit
from editor.backends.registry import BackendRegistry, default_registry

__all__ = ["Backend", "BackendEdit", "BackendRegistry", "default_registry"]
