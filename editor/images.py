"""Images in and out: every way a photo enters or leaves facechat goes through this module.

Images inside facechat are ``np.ndarray`` of shape (H, W, 3), dtype uint8, RGB, with EXIF orientation
already applied. Anything else a user hands us (a path, raw bytes, a PIL image, a numpy array of another
dtype or channel count) is converted here, and anything that cannot be converted raises
`ImageLoadError` with a message that says what was wrong and what is accepted.

Very large photos are kept at full resolution (edits are applied and saved at full size); analysis
works on a downscaled copy from `working_copy`, whose scale maps coordinates back.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import warnings
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from editor.errors import ImageLoadError

logger = logging.getLogger(__name__)

ImageSource = str | os.PathLike | bytes | bytearray | Image.Image | np.ndarray

#: What `load_image` accepts, quoted in every error message.
ACCEPTED = "a JPEG, PNG, WebP, BMP, TIFF or GIF photo"
#: The Python objects `load_image` accepts.
ACCEPTED_OBJECTS = (
    "a file path, encoded image bytes, a PIL image, or a numpy array of shape (H, W), (H, W, 3) or (H, W, 4)"
)
#: Smallest side, in pixels, of an image worth analysing.
MIN_SIDE = 32
#: Largest image accepted, in pixels (about 200 megapixels, e.g. 14000 x 14000).
MAX_PIXELS = 200_000_000
#: Longest side of the working copy used for face analysis.
WORKING_SIDE = 1600
#: Above this many pixels an image must hold at least `MIN_BYTES_PER_PIXEL` bytes of encoded data.
BOMB_CHECK_PIXELS = 4_000_000
#: No photo compresses below this (a flat 12000x12000 JPEG still takes about 0.007 bytes per pixel); a
#: file declaring far more pixels than its bytes can describe is nearly blank or a decompression bomb.
MIN_BYTES_PER_PIXEL = 1 / 250
#: 8-bit RGB or grey JPEGs and PNGs larger than this are decoded by OpenCV straight into the array
#: (Pillow holds a 4-byte-per-pixel copy besides it: 1.2 GB more at 12000x12000).
DIRECT_DECODE_PIXELS = 16_000_000
#: The built-in sample photo: scikit-image's public-domain NASA portrait of Eileen Collins.
SAMPLE_NAME = "sample"

# PIL's own decompression-bomb guard would fire before ours with a less helpful message.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def load_image(source: ImageSource, *, name: str | None = None) -> np.ndarray:
    """Read a photo into an RGB uint8 array, applying EXIF orientation and normalising the pixel format.

    Args:
        source: a file path (``"sample"`` is the built-in sample photo), raw encoded bytes, a PIL image,
            or a numpy array (greyscale (H, W), RGB (H, W, 3) or RGBA (H, W, 4); uint8, uint16, bool,
            or float in [0, 1]).
        name: how to refer to the image in error messages (defaults to the path, or "the image").

    Returns:
        (H, W, 3) uint8 RGB array, C-contiguous.

    Raises:
        ImageLoadError: missing, empty, corrupt or non-image input, or an image too small or too large.
    """
    if isinstance(source, np.ndarray):
        rgb = _array_to_rgb(source, name or "the array")
    elif isinstance(source, Image.Image):
        rgb = _pil_to_rgb(source, name or "the PIL image")
    elif isinstance(source, (bytes, bytearray)):
        rgb = _decode(bytes(source), name or "the image bytes")
    elif isinstance(source, (str, os.PathLike)):
        if str(source) == SAMPLE_NAME:
            return sample_image()
        path = Path(source).expanduser()
        label = name or str(path)
        rgb = _decode(_read_file(path, label), label)
    else:
        raise ImageLoadError(f"Cannot read an image from a {type(source).__name__}; give {ACCEPTED_OBJECTS}.")
    _check_size(rgb.shape[1], rgb.shape[0], name or "the image")
    return np.ascontiguousarray(rgb)


def sample_image() -> np.ndarray:
    """The built-in sample photo (512x512 RGB): scikit-image's `astronaut`, public domain (NASA)."""
    path = resources.files("skimage") / "data" / "astronaut.png"
    try:
        data = path.read_bytes()
    except OSError as error:  # pragma: no cover - only if scikit-image is broken
        raise ImageLoadError(
            "The built-in sample photo (scikit-image's data/astronaut.png) is missing; "
            "reinstall scikit-image with `pip install --force-reinstall scikit-image`."
        ) from error
    return _decode(data, "the built-in sample photo")


def working_copy(image: np.ndarray, max_side: int = WORKING_SIDE) -> tuple[np.ndarray, float]:
    """A copy no longer than ``max_side`` on its longest side, for analysis of very large photos.

    Args:
        image: (H, W, 3) uint8 RGB.
        max_side: longest side of the copy.

    Returns:
        (copy, scale) where ``copy`` is (h, w, 3) uint8 and ``scale = h / H`` (<= 1); a point (x, y)
        in the copy is (x / scale, y / scale) in the original. The original array itself (scale 1.0)
        when it is already small enough.
    """
    height, width = image.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return image, 1.0
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return downscale(image, size), size[1] / height


def downscale(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (H, W, C) averaged down to ``size`` = (width, height), for looking at, not for output.

    A photo more than 4x larger than ``size`` is first sampled every k-th pixel down to about 4x (a
    free view: area-averaging all of a 12000x12000 photo takes about a second, this a tenth of it);
    the final area average over 4x4 blocks keeps the result smooth.
    """
    step = max(1, min(image.shape[1] // (4 * size[0]), image.shape[0] // (4 * size[1])))
    return cv2.resize(image[::step, ::step], size, interpolation=cv2.INTER_AREA)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """RGB (0..255, any float or uint8 array of shape (..., 3)) -> float32 CIELAB, L 0..100."""
    return cv2.cvtColor(np.ascontiguousarray(rgb, np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def from_lab(lab: np.ndarray) -> np.ndarray:
    """float32 CIELAB (L 0..100) -> float32 RGB 0..255 (not rounded; clip before casting to uint8)."""
    return cv2.cvtColor(np.ascontiguousarray(lab, np.float32), cv2.COLOR_LAB2RGB) * 255.0


def encode_image(image: np.ndarray, fmt: str = "png", *, quality: int = 95, consume: bool = False) -> bytes:
    """Encode an (H, W, 3) uint8 RGB array as PNG, JPEG or WebP bytes.

    Args:
        image: the photo.
        fmt: "png", "jpg"/"jpeg" or "webp" (a leading dot is ignored).
        quality: JPEG / WebP quality.
        consume: the caller gives ``image`` up: a large JPEG or PNG may be encoded by overwriting it
            (its channels swapped in place) instead of from a full-size copy. Its content is undefined
            afterwards.
    """
    fmt = fmt.lower().lstrip(".")
    pil_format = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP"}.get(fmt)
    if pil_format is None:
        raise ImageLoadError(f"Cannot write images as '{fmt}'; use png, jpg or webp.")
    rgb = _as_rgb_uint8(image)
    if pil_format in ("JPEG", "PNG") and rgb.shape[0] * rgb.shape[1] > DIRECT_DECODE_PIXELS:
        return _encode_directly(rgb, pil_format, quality, consume=consume and rgb is image)
    buffer = io.BytesIO()
    options = (
        {"quality": quality} if pil_format in ("JPEG", "WEBP") else {"optimize": False, "compress_level": 6}
    )
    Image.fromarray(rgb).save(buffer, format=pil_format, **options)
    return buffer.getvalue()


def _encode_directly(rgb: np.ndarray, pil_format: str, quality: int, *, consume: bool) -> bytes:
    """A large photo encoded by OpenCV: Pillow would first copy it into 4 bytes per pixel (576 MB more
    at 12000x12000); OpenCV reads BGR, swapped in place when the caller gave the array up (``consume``),
    else into one 3-byte copy. JPEG: 4:2:0 chroma like Pillow's default; PNG: zlib level 1."""
    owned = consume and rgb.flags.writeable and rgb.flags.c_contiguous
    bgr = swap_channels_in_place(rgb) if owned else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if pil_format == "JPEG":
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
        ok, encoded = cv2.imencode(".jpg", bgr, params)
    else:  # zlib level 1: 2.6x faster than the default 6 for a third more bytes (half a minute saved
        # on a 12000x12000 PNG)
        ok, encoded = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:  # pragma: no cover - OpenCV fails only on impossible input, checked above
        raise ImageLoadError(f"OpenCV could not encode a {rgb.shape[1]}x{rgb.shape[0]} {pil_format} image.")
    return encoded.tobytes()


def encode_gif(
    frames: list[np.ndarray] | tuple[np.ndarray, ...], *, frame_ms: int = 120, bounce: bool = True
) -> bytes:
    """An animated GIF of (H, W, 3) uint8 RGB frames (all the same size), looping forever.

    Args:
        frames: the frames in order.
        frame_ms: display time of each frame.
        bounce: play forward then backward (an expression appearing and relaxing), without repeating ends.
    """
    if not frames:
        raise ImageLoadError("An animation needs at least one frame.")
    sequence = list(frames) + (list(frames[-2:0:-1]) if bounce and len(frames) > 2 else [])
    # Pillow's fast octree first: the GIF writer's own median cut takes ~0.3 s per 512 px frame.
    pictures = [
        Image.fromarray(_as_rgb_uint8(frame)).quantize(256, method=Image.Quantize.FASTOCTREE)
        for frame in sequence
    ]
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=frame_ms,
        loop=0,
        optimize=False,
    )
    return buffer.getvalue()


def save_bytes(data: bytes, path: str | os.PathLike) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file beside it, then rename); returns the path.

    The file is flushed to disk before the rename, and gets the mode an ordinary ``open`` would give it
    under the process's umask (0644 under umask 022), not the temporary file's private 0600.
    """
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fchmod(stream.fileno(), 0o666 & ~process_umask())
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def process_umask() -> int:
    """The process's file-creation mask (e.g. 0o022), read without changing it where the OS allows."""
    try:  # Linux >= 4.7 reports it; os.umask can only be read by setting it (racy with other threads)
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


_UMASK_LOCK = threading.Lock()


def save_image(
    image: np.ndarray, path: str | os.PathLike, *, quality: int = 95, consume: bool = False
) -> Path:
    """Write an (H, W, 3) uint8 RGB array to ``path`` atomically (format from the suffix); returns it.

    The file appears complete or not at all: it is written to a temporary file beside it, then
    renamed, so an interrupted save never leaves a truncated photo. ``consume``: see `encode_image`.
    """
    path = Path(path).expanduser()
    return save_bytes(encode_image(image, path.suffix or "png", quality=quality, consume=consume), path)


def _read_file(path: Path, label: str) -> bytes:
    if not path.exists():
        raise ImageLoadError(f"{label}: no such file. Give the path of {ACCEPTED}.")
    if path.is_dir():
        raise ImageLoadError(f"{label} is a folder, not an image file; give the path of one photo.")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImageLoadError(f"{label} could not be read ({error.strerror or error}).") from error
    if not data:
        raise ImageLoadError(f"{label} is empty (0 bytes); give {ACCEPTED}.")
    return data


def _decode(data: bytes, label: str) -> np.ndarray:
    if not data:
        raise ImageLoadError(f"{label} is empty (0 bytes); give {ACCEPTED}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            pil = Image.open(io.BytesIO(data))
            _check_size(pil.width, pil.height, label)
            _check_not_a_bomb(len(data), pil.width, pil.height, label)
            if _decodes_directly(pil):
                return _decode_directly(data, label, _oriented_shape(pil))
            pil.load()
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageLoadError(
            f"{label} is too large to open safely ({error}); downscale it below "
            f"{MAX_PIXELS // 1_000_000} megapixels."
        ) from error
    except UnidentifiedImageError as error:
        head = data[:64].lstrip()
        kind = "text" if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head) else "data"
        raise ImageLoadError(
            f"{label} is not an image (its content looks like {kind}, not a known image format); "
            f"give {ACCEPTED}."
        ) from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageLoadError(
            f"{label} is a damaged or truncated image file ({error}); re-export or re-download it, "
            "then try again."
        ) from error
    return _pil_to_rgb(pil, label, owned=True)


def _check_not_a_bomb(size: int, width: int, height: int, label: str) -> None:
    """Refuse, before decoding, a file that declares far more pixels than its bytes can hold."""
    pixels = width * height
    if pixels > BOMB_CHECK_PIXELS and size < pixels * MIN_BYTES_PER_PIXEL:
        raise ImageLoadError(
            f"{label} declares {width}x{height} pixels ({pixels / 1e6:.0f} megapixels) in only "
            f"{size / 1000:.0f} KB, far less than any photo needs: it is nearly blank (or built to "
            "exhaust memory), so it is not opened. Give a photo with a visible face."
        )


def _decodes_directly(pil: Image.Image) -> bool:
    """Whether OpenCV can decode this large file into the final array with nothing to convert."""
    return (
        pil.width * pil.height > DIRECT_DECODE_PIXELS
        and pil.format in ("JPEG", "PNG")
        and pil.mode in ("RGB", "L")
        and "transparency" not in pil.info
    )


def _decode_directly(data: bytes, label: str, shape: tuple[int, int]) -> np.ndarray:
    """A large 8-bit JPEG or PNG decoded by OpenCV (EXIF orientation applied), (H, W, 3) uint8 RGB.

    OpenCV 4.10+ decodes straight into RGB (`cv2.IMREAD_COLOR_RGB`: the same pixels as decoding BGR and
    swapping, without the swap's pass over the photo); older ones decode BGR and swap in place.
    ``shape``: the (height, width) the photo will have once turned upright.
    """
    rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)
    flag = cv2.IMREAD_COLOR if rgb_flag is None else rgb_flag
    decoded = _read_into(data, flag, shape)
    if decoded is None:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if decoded is None or decoded.size == 0:
        raise ImageLoadError(
            f"{label} is a damaged or truncated image file; re-export or re-download it, then try again."
        )
    if rgb_flag is None:
        swap_channels_in_place(decoded)
    return decoded


def _read_into(data: bytes, flag: int, shape: tuple[int, int]) -> np.ndarray | None:
    """``data`` decoded by OpenCV into an array made here, or None where that cannot be done.

    `cv2.imdecode` hands Python a copy of the image it decoded (at 12000x12000, 432 MB more at the
    peak, and as long again to fill); `cv2.imread` decodes into a given array. So the bytes, already
    checked, go into an in-memory file (Linux ``memfd``) that imread reads.
    """
    if not hasattr(os, "memfd_create"):  # pragma: no cover - not Linux
        return None
    target = np.empty((*shape, 3), np.uint8)
    descriptor = os.memfd_create("facechat-decode", getattr(os, "MFD_CLOEXEC", 0))
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        decoded = cv2.imread(f"/proc/self/fd/{descriptor}", target, flag)
    except (OSError, TypeError, cv2.error) as error:  # an OpenCV without imread(path, dst, flags)
        logger.debug("decoding into an array failed (%s); decoding with imdecode", error)
        return None
    finally:
        os.close(descriptor)
    if decoded is None or decoded.size == 0:
        return None
    if decoded is not target:
        logger.debug("OpenCV decoded %s, not the expected %s", decoded.shape, target.shape)
    return decoded


def _oriented_shape(pil: Image.Image) -> tuple[int, int]:
    """(height, width) of ``pil`` once its EXIF orientation is applied (turned a quarter for 5 to 8)."""
    try:
        orientation = pil.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block: OpenCV ignores it too
        orientation = 1
    return (pil.width, pil.height) if orientation in (5, 6, 7, 8) else (pil.height, pil.width)


def swap_channels_in_place(image: np.ndarray, rows: int = 512) -> np.ndarray:
    """RGB <-> BGR of an (H, W, 3) uint8 array in place, ``rows`` at a time; returns ``image``.

    `cv2.cvtColor` with ``dst`` the source itself first copies the whole source; a band at a time the
    copy is a band's.
    """
    for top in range(0, image.shape[0], rows):
        band = image[top : top + rows]
        cv2.cvtColor(band, cv2.COLOR_RGB2BGR, dst=band)
    return image


def _pil_to_rgb(pil: Image.Image, label: str, *, owned: bool = False) -> np.ndarray:
    """``pil`` as (H, W, 3) uint8 RGB; ``owned``: it was decoded here, so it may be turned in place."""
    try:
        if owned:
            ImageOps.exif_transpose(pil, in_place=True)  # no full-size copy when nothing turns
        else:
            pil = ImageOps.exif_transpose(pil)  # the caller's image stays as it was
    except Exception:  # noqa: BLE001 - a broken EXIF block should not lose the photo
        logger.warning("%s: could not read its EXIF orientation; using the pixels as stored", label)
    mode = pil.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _array_to_rgb(np.asarray(pil), label)
    if mode == "P":
        pil = pil.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        pil = pil.convert("RGBA")
        return _composite_on_white(np.asarray(pil))
    if mode == "CMYK":
        return np.asarray(pil.convert("RGB"))
    if mode != "RGB":
        try:
            pil = pil.convert("RGB")
        except (ValueError, OSError) as error:
            raise ImageLoadError(
                f"{label} uses the pixel format '{mode}', which cannot be converted to colour; "
                f"give {ACCEPTED}."
            ) from error
    return np.asarray(pil)


def _array_to_rgb(array: np.ndarray, label: str) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageLoadError(
            f"{label} has shape {array.shape}; an image array must be (H, W), (H, W, 3) or (H, W, 4)."
        )
    if array.size == 0:
        raise ImageLoadError(f"{label} is empty (shape {array.shape}).")
    array = _to_uint8(array, label)
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.shape[2] == 4:
        return _composite_on_white(array)
    return array


def _to_uint8(array: np.ndarray, label: str) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if array.dtype == np.uint16:
        return (array.astype(np.float32) / 257.0).round().astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        high = int(array.max()) if array.size else 0
        scale = 255.0 / 65535.0 if high > 255 else 1.0
        return np.clip(array.astype(np.float32) * scale, 0, 255).round().astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageLoadError(f"{label} contains NaN or infinite values.")
        high = float(array.max())
        scale = 255.0 if high <= 1.0 + 1e-6 else 1.0
        return np.clip(array * scale, 0, 255).round().astype(np.uint8)
    raise ImageLoadError(f"{label} has pixel type {array.dtype}; use uint8, uint16 or float in [0, 1].")


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8 -> (H, W, 3) uint8, transparent pixels shown on white (rounded to nearest).

    Integer arithmetic, 1024 rows at a time: no full-size float copies of a large photo.
    """
    out = np.empty((*rgba.shape[:2], 3), np.uint8)
    for top in range(0, rgba.shape[0], 1024):
        block = rgba[top : top + 1024].astype(np.uint32)
        alpha = block[:, :, 3:4]
        out[top : top + 1024] = (block[:, :, :3] * alpha + 255 * (255 - alpha) + 127) // 255
    return out


def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        return _array_to_rgb(np.asarray(image), "the image to save")
    return image


def _check_size(width: int, height: int, label: str) -> None:
    if min(width, height) < MIN_SIDE:
        raise ImageLoadError(
            f"{label} is only {width}x{height} pixels; a photo needs at least {MIN_SIDE} pixels on "
            "each side (a face at least about 64 pixels wide) to be analysed."
        )
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            f"{label} is {width}x{height} ({width * height / 1e6:.0f} megapixels); facechat accepts up "
            f"to {MAX_PIXELS // 1_000_000} megapixels. Downscale it and try again."
        )
