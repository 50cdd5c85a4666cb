"""Images in and out: every input form, every pixel format, every bad file gets one clear error type."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from editor.errors import ImageLoadError
from editor.images import (
    MAX_PIXELS,
    downscale,
    encode_image,
    load_image,
    sample_image,
    save_image,
    working_copy,
)


def _encode(pil: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    pil.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.fixture
def gradient() -> np.ndarray:
    """(40, 60, 3) uint8 with distinct rows and columns, so flips and rotations are detectable."""
    y, x = np.mgrid[0:40, 0:60]
    return np.stack([x * 4, y * 6, (x + y) * 2], axis=2).astype(np.uint8)


def test_sample_photo_is_the_astronaut():
    image = sample_image()
    assert image.shape == (512, 512, 3) and image.dtype == np.uint8
    assert load_image("sample").tobytes() == image.tobytes()


def test_path_bytes_pil_and_array_give_the_same_pixels(tmp_path, gradient):
    path = tmp_path / "g.png"
    Image.fromarray(gradient).save(path)
    for source in (path, str(path), path.read_bytes(), Image.fromarray(gradient), gradient):
        assert np.array_equal(load_image(source), gradient)


def test_exif_orientation_is_applied(gradient):
    pil = Image.fromarray(gradient)
    exif = pil.getexif()
    exif[0x0112] = 6  # stored rotated: display needs a 90° clockwise turn
    data = _encode(pil, "JPEG", quality=100, exif=exif.tobytes())
    loaded = load_image(data)
    assert loaded.shape == (60, 40, 3)
    expected = np.rot90(gradient, k=-1)
    assert np.abs(loaded.astype(int) - expected).mean() < 3


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_a_photo_decoded_by_opencv_is_turned_like_pillow_turns_it(orientation, gradient, monkeypatch):
    from editor import images

    pil = Image.fromarray(gradient)
    exif = pil.getexif()
    exif[0x0112] = orientation
    data = _encode(pil, "JPEG", quality=100, exif=exif.tobytes())
    expected = load_image(data)  # small: Pillow decodes and turns it
    monkeypatch.setattr(images, "DIRECT_DECODE_PIXELS", 0)  # as a large photo: OpenCV
    direct = load_image(data)
    assert direct.shape == expected.shape and direct.flags.writeable
    assert np.abs(direct.astype(int) - expected).max() <= 2


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "CMYK", "I;16", "I", "F", "1"])
def test_pixel_formats_become_rgb_uint8(mode, gradient):
    pil = Image.fromarray(gradient).convert("L" if mode in ("I;16", "I", "F") else "RGB")
    if mode == "I;16":
        pil = Image.fromarray(np.asarray(pil).astype(np.uint16) * 257)
    else:
        pil = pil.convert(mode)
    fmt = "TIFF" if mode in ("CMYK", "I;16", "I", "F") else "PNG"
    loaded = load_image(_encode(pil, fmt))
    assert loaded.shape == (40, 60, 3) and loaded.dtype == np.uint8
    if mode in ("L", "I;16"):
        grey = np.asarray(Image.fromarray(gradient).convert("L"))
        assert np.abs(loaded[:, :, 0].astype(int) - grey).max() <= 1


def test_transparent_pixels_are_shown_on_white():
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[:20, :, :] = (255, 0, 0, 255)
    loaded = load_image(rgba)
    assert tuple(loaded[0, 0]) == (255, 0, 0)
    assert tuple(loaded[39, 0]) == (255, 255, 255)


def test_array_dtypes():
    float_image = np.full((40, 40, 3), 0.5, np.float32)
    assert load_image(float_image)[0, 0, 0] == 128
    sixteen = np.full((40, 40, 3), 65535, np.uint16)
    assert load_image(sixteen)[0, 0, 0] == 255
    grey = np.full((40, 40), 7, np.uint8)
    assert tuple(load_image(grey)[0, 0]) == (7, 7, 7)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.jpg", "no such file"),
        (lambda tmp: tmp, "is a folder"),
        (lambda tmp: _write(tmp / "empty.jpg", b""), "is empty"),
        (lambda tmp: _write(tmp / "text.jpg", b"hello, I am a text file\n"), "not an image"),
        (lambda tmp: _write(tmp / "cut.jpg", _jpeg_bytes()[:600]), "damaged or truncated"),
        (lambda tmp: _write(tmp / "tiny.png", _encode(Image.new("RGB", (1, 1)))), "only 1x1 pixels"),
    ],
)
def test_bad_files_raise_one_clear_error(tmp_path, make, message):
    with pytest.raises(ImageLoadError, match=message):
        load_image(make(tmp_path))


def test_oversized_image_is_refused_before_decoding():
    side = int(np.sqrt(MAX_PIXELS)) + 100
    data = _encode(Image.new("L", (side, 40)), "PNG")
    # A header claiming a huge size must be refused from the header alone.
    header_only = _encode(Image.new("1", (side, side)), "PNG")
    with pytest.raises(ImageLoadError, match="megapixels"):
        load_image(header_only)
    assert load_image(data).shape == (40, side, 3)


def test_wrong_python_type_and_shape():
    with pytest.raises(ImageLoadError, match="Cannot read an image from a int"):
        load_image(42)
    with pytest.raises(ImageLoadError, match="shape"):
        load_image(np.zeros((40, 40, 5), np.uint8))
    with pytest.raises(ImageLoadError, match="NaN"):
        load_image(np.full((40, 40, 3), np.nan, np.float32))


def test_working_copy_keeps_small_images_and_scales_large_ones():
    small = np.zeros((100, 80, 3), np.uint8)
    same, scale = working_copy(small, max_side=200)
    assert same is small and scale == 1.0
    large = np.zeros((3000, 2000, 3), np.uint8)
    copy, scale = working_copy(large, max_side=1500)
    assert copy.shape == (1500, 1000, 3) and scale == pytest.approx(0.5)


def test_save_is_atomic_and_round_trips(tmp_path, gradient):
    path = save_image(gradient, tmp_path / "out" / "g.png")
    assert np.array_equal(load_image(path), gradient)
    assert [p.name for p in path.parent.iterdir()] == ["g.png"]  # no temporary file left behind
    jpeg = encode_image(gradient, "jpg")
    assert jpeg[:2] == b"\xff\xd8"
    with pytest.raises(ImageLoadError, match="Cannot write"):
        encode_image(gradient, "gif")


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _jpeg_bytes() -> bytes:
    rng = np.random.default_rng(0)
    return _encode(Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)), "JPEG")


def test_a_file_declaring_far_more_pixels_than_it_holds_is_refused_unopened(monkeypatch):
    buffer = io.BytesIO()
    Image.new("1", (6000, 6000), 1).save(buffer, format="PNG", optimize=True)  # 36 MP in a few KB
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("the pixels were decoded"))
    with pytest.raises(ImageLoadError, match="declares 6000x6000 pixels .* not opened"):
        load_image(buffer.getvalue())


def test_a_large_jpeg_decodes_directly_to_the_same_pixels(tmp_path):
    rng = np.random.default_rng(0)
    noise = cv2.resize(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), (4100, 4000))  # 16.4 MP
    path = tmp_path / "large.jpg"
    Image.fromarray(noise).save(path, quality=90)
    with Image.open(path) as pil:
        expected = np.asarray(pil.convert("RGB"))
    decoded = load_image(path)
    assert decoded.shape == (4000, 4100, 3) and decoded.dtype == np.uint8 and decoded.flags.c_contiguous
    assert np.abs(decoded.astype(np.int16) - expected).max() <= 1


def test_downscale_matches_an_area_average():
    rng = np.random.default_rng(1)
    photo = cv2.resize(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8), (4000, 4000))
    small = downscale(photo, (250, 250))
    reference = cv2.resize(photo, (250, 250), interpolation=cv2.INTER_AREA)
    assert small.shape == (250, 250, 3) and np.abs(small.astype(int) - reference).mean() < 1.5


@pytest.mark.parametrize("fmt", ["jpg", "png"])
def test_a_large_photo_is_encoded_without_pillow_and_decodes_like_pillows_file(fmt):
    rng = np.random.default_rng(2)
    photo = cv2.resize(rng.integers(0, 256, (50, 50, 3), dtype=np.uint8), (4100, 4000))  # 16.4 MP
    kept = photo.copy()
    ours = load_image(encode_image(photo, fmt))
    assert np.array_equal(photo, kept)  # not consumed: the caller's photo is untouched
    pillows = load_image(_encode(Image.fromarray(photo), "JPEG" if fmt == "jpg" else "PNG", quality=95))
    assert ours.shape == photo.shape and np.abs(ours.astype(np.int16) - pillows).max() <= 1
    if fmt == "png":
        assert np.array_equal(ours, photo)
    consumed = encode_image(photo, fmt, consume=True)  # may overwrite the array: the same file
    assert np.array_equal(load_image(consumed), ours)


def test_a_large_photo_is_decoded_and_encoded_without_a_second_full_size_copy():
    import tracemalloc

    rng = np.random.default_rng(3)
    photo = cv2.resize(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), (4100, 4000))  # 16.4 MP, 49 MB
    data = _encode(Image.fromarray(photo), "JPEG", quality=90)
    tracemalloc.start()
    try:
        decoded = load_image(data)
        decode_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        encoded = encode_image(decoded, "jpg", consume=True)
        encode_peak = tracemalloc.get_traced_memory()[1] - decoded.nbytes
    finally:
        tracemalloc.stop()
    assert decode_peak < 1.2 * photo.nbytes  # cv2.imdecode alone peaks at twice the photo
    assert encode_peak < 0.2 * photo.nbytes  # Pillow would copy it into 4 bytes per pixel
    assert np.abs(load_image(encoded).astype(np.int16) - photo).mean() < 3
