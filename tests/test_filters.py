"""Named kernels and apply(): against scipy.ndimage and scipy.signal on real photos, and
against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, signal

from convscope import filters
from convscope.filters import FilterError, apply, get
from convscope.images import sample


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    return {"camera": sample("camera")[::2, ::2].copy(), "coins": sample("coins")}


def test_the_classic_kernels_have_their_textbook_values():
    # written out here by hand, independently of how filters.py builds them
    assert get("sobel_x").weights.tolist() == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    assert get("sobel_y").weights.tolist() == [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    assert get("prewitt_y").weights.tolist() == [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]
    assert get("scharr_x").weights.tolist() == [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]
    assert get("laplacian8").weights.tolist() == [[1, 1, 1], [1, -8, 1], [1, 1, 1]]
    assert get("edge_1x2").weights.tolist() == [[-1, 1]]
    assert np.allclose(get("sharpen").weights, [[-1 / 9] * 3, [-1 / 9, 17 / 9, -1 / 9], [-1 / 9] * 3])
    unsharp = get("unsharp").weights * 256
    assert np.allclose(unsharp[2], [-6, -24, 476, -24, -6]) and np.isclose(unsharp.sum(), 256)


def test_every_named_kernel_says_what_it_responds_to():
    for name, kernel in filters.KERNELS.items():
        assert kernel.name == name and len(kernel.responds_to) > 10
        assert kernel.weights.ndim == 2 and np.isfinite(kernel.weights).all()
        assert not kernel.weights.flags.writeable  # a shared constant cannot be edited by accident
    detectors = {n for n, k in filters.KERNELS.items() if k.signed}
    assert {"sobel_x", "laplacian4", "edge_1x2", "horizontal_edge"} <= detectors
    assert not detectors & {"identity", "box3", "sharpen", "emboss", "gaussian5_s1"}


SCIPY_FILTERS = {
    "sobel_x": lambda img, mode: ndimage.sobel(img, axis=1, mode=mode),
    "sobel_y": lambda img, mode: ndimage.sobel(img, axis=0, mode=mode),
    "prewitt_x": lambda img, mode: ndimage.prewitt(img, axis=1, mode=mode),
    "prewitt_y": lambda img, mode: ndimage.prewitt(img, axis=0, mode=mode),
    "laplacian4": lambda img, mode: ndimage.laplace(img, mode=mode),
    "box3": lambda img, mode: ndimage.uniform_filter(img, 3, mode=mode),
    "box5": lambda img, mode: ndimage.uniform_filter(img, 5, mode=mode),
    "gaussian9_s1.5": lambda img, mode: ndimage.gaussian_filter(img, 1.5, mode=mode, truncate=2.7),
    "gaussian13_s2": lambda img, mode: ndimage.gaussian_filter(img, 2.0, mode=mode, truncate=3.0),
}


@pytest.mark.parametrize("padding_mode", filters.PADDING_MODES)
@pytest.mark.parametrize("name", sorted(SCIPY_FILTERS))
def test_filters_equal_scipy_ndimage_on_photos(photos, name, padding_mode):
    for photo in photos.values():
        expected = SCIPY_FILTERS[name](photo.astype(np.float64), filters.SCIPY_MODE[padding_mode])
        np.testing.assert_allclose(apply(photo, name, padding_mode), expected, atol=2e-5, rtol=0)


def test_colour_images_are_filtered_channel_by_channel():
    rgb = sample("astronaut")[::4, ::4].copy()
    ours = apply(rgb, "gaussian9_s1.5", "symmetric")
    assert ours.shape == rgb.shape
    for c in range(3):
        expected = ndimage.gaussian_filter(rgb[..., c].astype(np.float64), 1.5, truncate=2.7)
        np.testing.assert_allclose(ours[..., c], expected, atol=2e-6)


def test_flip_is_the_true_convolution_of_scipy_signal(photos):
    image = photos["coins"][:64, :80].astype(np.float64)
    for name in ("emboss", "sobel_x", "gaussian5_s1"):
        kernel = get(name).weights.astype(np.float64)
        expected = signal.convolve2d(image, kernel, mode="same", boundary="fill")
        np.testing.assert_allclose(apply(image, name, "zeros", flip=True), expected, atol=1e-5)
    # correlation with Sobel-x is the negated convolution: flipping an antisymmetric kernel negates it
    np.testing.assert_allclose(apply(image, "sobel_x", "zeros"),
                               -signal.convolve2d(image, get("sobel_x").weights, mode="same"), atol=1e-5)


def test_hand_computed_answers():
    step = np.repeat([[0, 0, 0, 1, 1, 1]], 4, axis=0).astype(np.float32)
    assert apply(step, "sobel_x", "replicate")[2].tolist() == [0, 0, 4, 4, 0, 0]       # 1 + 2 + 1
    assert apply(step, "sobel_y", "replicate").tolist() == np.zeros((4, 6)).tolist()  # no vertical change
    assert apply(step, "edge_1x2", "replicate")[0].tolist() == [0, 0, 1, 0, 0, 0]      # x[j+1] - x[j]
    impulse = np.zeros((5, 5), np.float32)
    impulse[2, 2] = 1
    # correlating an impulse writes the kernel back rotated by 180 degrees
    assert apply(impulse, "emboss", "zeros")[1:4, 1:4].tolist() == np.rot90(get("emboss").weights, 2).tolist()
    assert np.allclose(apply(np.full((6, 7), 0.5), "gaussian5_s1", "reflect"), 0.5)


def test_even_kernels_are_centred_as_torch_same_padding():
    import torch

    image = np.random.default_rng(0).standard_normal((7, 9)).astype(np.float32)
    for kernel in ([[-1, 1]], [[1, 2], [3, 4]]):
        expected = torch.nn.functional.conv2d(torch.from_numpy(image)[None, None],
                                              torch.tensor(kernel, dtype=torch.float32)[None, None],
                                              padding="same")[0, 0].numpy()
        np.testing.assert_allclose(apply(image, kernel, "zeros"), expected, atol=1e-6)


def test_gradient_magnitude_and_orientation(photos):
    image = photos["camera"]
    g = filters.gradient(image, padding_mode="symmetric")
    gx, gy = ndimage.sobel(image, axis=1), ndimage.sobel(image, axis=0)
    np.testing.assert_allclose(g.magnitude, np.hypot(gx, gy), atol=1e-5)
    strong = np.hypot(gx, gy) > 0.5
    turn = np.angle(np.exp(1j * (g.orientation - np.arctan2(gy, gx))))  # difference of angles, wrapped at pi
    assert np.abs(turn[strong]).max() < 1e-4
    brighter_below = np.repeat([[0.0], [0.0], [1.0], [1.0]], 5, axis=1)
    assert np.isclose(filters.gradient(brighter_below, padding_mode="replicate").orientation[1, 2], np.pi / 2)
    assert filters.gradient(sample("astronaut")[:40, :40]).magnitude.shape == (40, 40)  # colour -> grey


def test_show_runs_detectors_on_grey_and_keeps_colour_for_blurs():
    rgb = sample("coffee")[::8, ::8].copy()
    edges, blur = filters.show(rgb, "sobel_x"), filters.show(rgb, "box3")
    assert edges.response.ndim == 2 and edges.display.signed
    assert blur.response.shape == rgb.shape and not blur.display.signed


@pytest.mark.parametrize("bad,message", [
    ("nope", "unknown kernel"),
    ([[1, 2], [3]], "rectangular"),
    ([[1, float("nan")]], "NaN"),
    (np.ones((2, 2, 2)), "2-D"),
    ([], "2-D"),
])
def test_bad_kernels_are_refused_with_the_fix(bad, message):
    with pytest.raises(FilterError, match=message) as error:
        apply(np.zeros((4, 4)), bad)
    assert "Fix:" in str(error.value)


def test_bad_images_modes_and_gaussians_are_refused():
    with pytest.raises(FilterError, match=r"not an image.*shape \(5,\)"):
        apply(np.zeros(5), "box3")
    with pytest.raises(FilterError, match=r"\(C, H, W\) array pass np.moveaxis"):
        apply(np.zeros((3, 8, 8, 2)), "box3")
    with pytest.raises(FilterError, match="unknown padding mode.*'mirror'"):
        apply(np.zeros((4, 4)), "box3", padding_mode="mirror")
    with pytest.raises(FilterError, match="odd size"):
        filters.gaussian(4, 1.0)
    with pytest.raises(FilterError, match="positive sigma"):
        filters.gaussian(5, 0.0)


def test_kernel_files(tmp_path):
    good = tmp_path / "k.txt"
    good.write_text("# a vertical edge\n-1, 0, 1\n-2 0 2   # the middle row\n\n-1 0 1\n")
    assert filters.read_kernel_file(str(good)).weights.tolist() == get("sobel_x").weights.tolist()
    cases = {"ragged.txt": ("1 2 3\n4 5\n", r"line 2 is a ragged row; expected 3 values.*got 2 values"),
             "nan.txt": ("1 2\nnan 4\n", "line 2 holds a NaN"),
             "inf.txt": ("1 inf\n", "line 1 holds a NaN or an infinity"),
             "word.txt": ("1 two\n", "line 1 holds something that is not a number"),
             "empty.txt": ("# nothing\n\n", "holds no kernel")}
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(FilterError, match=message):
            filters.read_kernel_file(str(tmp_path / name))
    with pytest.raises(FilterError, match="no kernel file"):
        filters.read_kernel_file(str(tmp_path / "missing.txt"))
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(FilterError, match="not a text file"):
        filters.read_kernel_file(str(tmp_path / "binary.txt"))
