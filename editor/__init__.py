"""facechat's editing half: images, face analysis, identity, and the editing backends."""

from editor.errors import (
    ConfigError,
    FacechatError,
    FaceSelectionError,
    ImageLoadError,
    ModelFileError,
    NoFaceError,
)

__all__ = [
    "ConfigError",
    "FaceSelectionError",
    "FacechatError",
    "ImageLoadError",
    "ModelFileError",
    "NoFaceError",
]
