"""`facechat edit --backend` and `Assistant(backend=...)`: the choice of editing backend."""

from __future__ import annotations

import pytest

import assistant.session
from assistant.cli import main
from assistant.session import Assistant
from editor.latent.config import MAX_SECONDS_ENV, MODEL_ENV


@pytest.fixture
def fresh_editors(monkeypatch):
    """No shared editor made before this test (each backend choice builds its own on first use)."""
    monkeypatch.setattr(assistant.session, "_shared_editors", {})


def test_latent_without_a_model_says_how_to_enable_it(tmp_path, capsys, monkeypatch, fresh_editors):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    out = tmp_path / "out.png"
    assert main(["edit", "sample", "give her glasses", "--backend", "latent", "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert f"{MODEL_ENV}=/path/to/diffusers/folder" in captured.out and "Traceback" not in captured.err
    assert not out.exists()


@pytest.mark.slow
def test_random_weights_are_refused_and_nothing_is_written(
    tmp_path, capsys, monkeypatch, fresh_editors, request
):
    pytest.importorskip("diffusers")
    import torch

    from editor.latent.tiny import build_tiny_pipeline

    monkeypatch.setenv(MODEL_ENV, str(build_tiny_pipeline("inpaint", tmp_path / "tiny")))
    monkeypatch.setenv(MAX_SECONDS_ENV, "1")  # one 25-step sample, then the gate's retries end at once
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    request.addfinalizer(lambda: torch.set_num_threads(threads))
    out = tmp_path / "out.png"
    assert main(["edit", "sample", "give her glasses", "--backend", "latent", "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "without changing who the person is" in captured.out and "left unchanged" in captured.out
    assert "nothing was edited" in captured.err and not out.exists()


def test_an_unknown_backend_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["edit", "sample", "smile", "--backend", "stylegan"])
    assert stopped.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_an_assistant_takes_an_editor_or_a_backend_and_can_switch(fresh_editors, monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    with pytest.raises(ValueError, match="not both"):
        Assistant(editor=object(), backend="geometry")
    session = Assistant(backend="geometry")
    assert session.backend == "geometry"
    assert [b.name for b in session.editor.registry.backends] == ["geometry"]
    said = session.use_backend("latent")
    assert session.backend == "latent" and MODEL_ENV in said and session.editor.registry.backends == ()
    assert session.editor.analyzer is assistant.session.shared_editor("geometry").analyzer  # models shared


def test_the_app_progress_callback_draws_the_steps_on_a_placeholder():
    from assistant.ui_support import progress_callback

    class Placeholder:
        def progress(self, value, text=""):
            self.shown = (value, text)

    bar = Placeholder()
    progress_callback(bar)(3, 4, "latent edit: give the person glasses")
    assert bar.shown == (0.75, "latent edit: give the person glasses (step 3 of 4)")
