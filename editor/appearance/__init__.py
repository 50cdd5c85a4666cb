"""Appearance edits on CPU: landmark regions (`regions`), colours (`colour`), one module per effect."""

from editor.appearance.backend import AppearanceBackend

__all__ = ["AppearanceBackend"]
