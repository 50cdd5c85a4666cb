"""The default path (no latent model, or one not used yet) imports neither diffusers nor transformers, nor
torch (the Flow VAE's routing is read without it)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from editor.latent.config import MODEL_ENV

CHECK = """
import sys
import assistant, editor
from assistant.session import Assistant
from editor.editor import Editor
session = Assistant()
names = [b.name for b in session.editor.registry.backends]
assert bool(session.editor.registry.missing) == ("latent" not in names)  # says how to enable it
heavy = sorted({"diffusers", "transformers", "torch"} & set(sys.modules))
assert not heavy, heavy
print(",".join(names))
"""


def _run(environment: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], env=environment, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_default_editor_imports_neither_diffusers_nor_transformers():
    environment = {k: v for k, v in os.environ.items() if k != MODEL_ENV}
    assert _run(environment).startswith("geometry,appearance")


@pytest.mark.slow
def test_a_configured_model_is_not_imported_before_its_first_edit(inpaint_folder):
    assert _run({**os.environ, MODEL_ENV: str(inpaint_folder)}).endswith("latent")
