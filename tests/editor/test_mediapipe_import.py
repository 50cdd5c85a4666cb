"""MediaPipe is imported without matplotlib and sounddevice, which still load for anyone who wants them."""

import subprocess
import sys
import textwrap


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_mediapipe_imports_without_its_plotting_and_audio_libraries():
    result = _run(
        """
        import sys
        import numpy as np
        from editor.mediapipe_import import import_mediapipe

        mp = import_mediapipe()
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((8, 8, 3), np.uint8))
        assert image.width == 8
        loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("matplotlib", "sounddevice"))
        print("loaded:", loaded)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stdout


def test_the_deferred_modules_are_the_real_ones_for_every_other_importer():
    result = _run(
        """
        import sys
        from editor.mediapipe_import import import_mediapipe, _StandIn

        import_mediapipe()
        import matplotlib.pyplot as plt
        assert not isinstance(plt, _StandIn) and callable(plt.figure)
        assert not isinstance(sys.modules["matplotlib"], _StandIn)
        # MediaPipe's own reference loads the real pyplot on first use.
        from mediapipe.tasks.python.vision import drawing_utils
        assert drawing_utils.plt.figure is plt.figure
        try:
            import sounddevice  # no PortAudio here: the ordinary OSError, not a stand-in
        except OSError:
            pass
        else:
            assert not isinstance(sounddevice, _StandIn)
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout
