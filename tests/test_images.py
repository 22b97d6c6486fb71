"""Loading files in every mode and format, the offline samples, layouts, display and writing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convscope import images
from convscope.images import ImageError, load, to_display

GRADIENT = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (12, 1))  # (12, 16): 0, 16, ..., 240 per row


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".tiff"])
def test_lossless_formats_read_back_exactly(tmp_path, suffix):
    path = tmp_path / f"grey{suffix}"
    Image.fromarray(GRADIENT).save(path)
    grey = load(path)
    assert grey.dtype == np.float32 and grey.shape == (12, 16)
    np.testing.assert_array_equal(grey, GRADIENT / np.float32(255))


def test_jpeg_reads_back_close(tmp_path):
    rgb = np.stack([GRADIENT, GRADIENT[:, ::-1], np.full_like(GRADIENT, 128)], axis=-1)
    Image.fromarray(rgb).save(tmp_path / "colour.jpg", quality=95)
    loaded = load(tmp_path / "colour.jpg")
    assert loaded.shape == (12, 16, 3)
    assert np.abs(loaded - rgb / 255).max() < 0.08  # lossy, but the picture survives


def test_every_pillow_mode_becomes_float_in_unit_range(tmp_path):
    base = Image.fromarray(np.stack([GRADIENT] * 3, axis=-1))
    saved = {"1": "png", "L": "png", "LA": "png", "P": "png", "RGB": "png", "RGBA": "png", "I;16": "png",
             "I": "tif", "F": "tif", "CMYK": "jpg"}
    for mode, ext in saved.items():
        path = tmp_path / f"{mode.replace(';', '_')}.{ext}"
        image = base.convert("L").convert(mode) if mode in ("1", "I;16", "I", "F", "LA") else base.convert(mode)
        image.save(path)
        for wanted, shape in (("auto", None), ("grey", (12, 16)), ("rgb", (12, 16, 3))):
            array = load(path, mode=wanted)
            assert array.dtype == np.float32, (mode, wanted)
            assert shape is None or array.shape == shape, (mode, wanted, array.shape)
            top = 240 if mode == "F" else 1  # a float file has no nominal range: its values are kept
            assert array.min() >= 0 and array.max() <= top + 1e-6, (mode, wanted)
    np.testing.assert_array_equal(load(tmp_path / "F.tif"), GRADIENT)
    np.testing.assert_allclose(load(tmp_path / "I.tif"), GRADIENT / 65535)


def test_sixteen_bit_keeps_its_depth_and_alpha_composites_on_white(tmp_path):
    deep = (np.arange(12 * 16, dtype=np.uint16).reshape(12, 16) * 300)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    np.testing.assert_allclose(load(tmp_path / "deep.png"), deep / 65535, atol=1e-6)
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 0  # fully transparent black: a viewer shows white
    rgba[0, 0] = [255, 0, 0, 255]
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    loaded = load(tmp_path / "alpha.png")
    assert loaded[1, 1].tolist() == [1, 1, 1] and loaded[0, 0].tolist() == [1, 0, 0]


def test_grey_conversion_is_scikit_image_luma():
    from skimage.color import rgb2gray

    rgb = images.sample("astronaut")
    np.testing.assert_allclose(images.sample("astronaut", mode="grey"), rgb2gray(rgb), atol=1e-6)


def test_every_sample_photo_loads_offline():
    assert len(images.SAMPLES) == 27
    for name in images.SAMPLES:
        photo = images.sample(name)
        assert photo.dtype == np.float32 and photo.ndim in (2, 3) and min(photo.shape[:2]) >= 100, name
        assert 0 <= photo.min() and photo.max() <= 1, name
    with pytest.raises(ImageError, match="unknown sample photo.*camera"):
        images.sample("brain")  # in scikit-image, but only by download


@pytest.mark.parametrize("content,message", [
    (None, "no image file"),
    (b"", "not an image convscope can read"),
    (b"hello, I am text\n", "not an image convscope can read"),
    ("truncated", "could not be decoded"),
])
def test_files_that_are_not_images(tmp_path, content, message):
    path = tmp_path / "picture.png"
    if content == "truncated":  # half of a noisy picture: the pixel data stops mid-stream
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200), dtype=np.uint8)).save(path)
        path.write_bytes(path.read_bytes()[:20_000])
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ImageError, match=message) as error:
        load(path)
    assert "Fix:" in str(error.value)


def test_too_small_and_too_large(tmp_path):
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(tmp_path / "dot.png")
    with pytest.raises(ImageError, match=r"too small.*at least 2 x 2.*got 1 x 1"):
        load(tmp_path / "dot.png")
    Image.fromarray(np.zeros((100, 120), np.uint8)).save(tmp_path / "big.png")
    with pytest.raises(ImageError, match=r"too large; expected at most 10,000 pixels; got 120 x 100 = 12,000"):
        load(tmp_path / "big.png", max_pixels=10_000)
    with pytest.raises(ImageError, match="not an image|no image file"):
        load(tmp_path)  # a directory


def test_layout_helpers_match_torch_permute():
    import torch

    x = np.random.default_rng(0).standard_normal((2, 5, 7, 3))
    np.testing.assert_array_equal(images.nhwc_to_nchw(x), torch.from_numpy(x).permute(0, 3, 1, 2).numpy())
    np.testing.assert_array_equal(images.nchw_to_nhwc(images.nhwc_to_nchw(x)), x)
    k = np.random.default_rng(1).standard_normal((3, 5, 2, 8))  # TensorFlow: (kH, kW, in, out)
    np.testing.assert_array_equal(images.hwio_to_oihw(k), torch.from_numpy(k).permute(3, 2, 0, 1).numpy())
    np.testing.assert_array_equal(images.oihw_to_hwio(images.hwio_to_oihw(k)), k)


def test_signed_display_centres_zero_on_grey_and_keeps_negatives_visible():
    response = np.linspace(-4, 2, 61).reshape(1, 61)
    shown = to_display(response)
    assert shown.signed and (shown.low, shown.high) == (-4.0, 2.0)
    assert shown.rgb[0, 40].tolist() == [128, 128, 128]         # value 0
    most_negative = shown.rgb[0, 0]
    assert most_negative.max() > 0 and most_negative[2] > most_negative[0]  # blue, not black
    most_positive = shown.rgb[0, -1]
    assert most_positive[0] > most_positive[2]                  # red
    # symmetric: -2 and +2 are equally far from grey
    assert np.abs(shown.rgb[0, 20].astype(int) - 128).sum() > 0
    assert shown.range_text == "range -4 \u2026 2"


def test_unsigned_display_and_non_finite_values():
    shown = to_display(np.array([[0.25, 0.5, np.nan, np.inf]]))
    assert not shown.signed and shown.rgb[0, 0].tolist() == [0, 0, 0] and shown.rgb[0, 1].tolist() == [255] * 3
    assert to_display(np.zeros((2, 2))).rgb.tolist() == [[[0] * 3] * 2] * 2


def test_save_is_atomic(tmp_path):
    target = tmp_path / "out.png"

    def broken(temporary: str) -> None:
        with open(temporary, "wb") as half:
            half.write(b"half a file")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        images.atomic_write(target, broken)
    assert list(tmp_path.iterdir()) == []
    images.save(target, to_display(np.eye(4) - 0.5))
    assert Image.open(target).size == (4, 4)
    with pytest.raises(ImageError, match=r"\.png, \.jpg"):
        images.save(tmp_path / "out.xyz", np.eye(3))
