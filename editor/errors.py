"""The error types facechat raises for bad input: each message says what was wrong and what to do."""

from __future__ import annotations


class FacechatError(Exception):
    """Base class of every error facechat reports to a user (CLI, app, Python)."""


class ImageLoadError(FacechatError, ValueError):
    """An image could not be read: missing, empty, corrupt, not an image, or an unusable size."""


class NoFaceError(FacechatError):
    """No usable face was found in the image."""


class FaceSelectionError(FacechatError, IndexError):
    """A face index was asked for that the image does not have."""


class ModelFileError(FacechatError, FileNotFoundError):
    """A shipped model file is missing or does not match its expected checksum."""


class ConfigError(FacechatError, ValueError):
    """A configuration value (environment variable, file) is invalid."""
