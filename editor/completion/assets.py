"""The completion stage's derived assets (editor/data/completion): where they are, and a missing one."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def asset_folder() -> Path:
    """editor/data/completion inside the installed package."""
    return Path(str(resources.files("editor") / "data" / "completion"))


def shipped_asset(name: str) -> Path:
    """The path of asset ``name``; FileNotFoundError saying how to rebuild it when it is missing."""
    path = asset_folder() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: rebuild it with `python -m editor.completion.build_assets --data <london>`."
        )
    return path
