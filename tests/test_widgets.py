"""The notebook widgets' Python side: the state a Stepper holds and the frame it computes at each index,
checked against torch (conv2d for the totals, F.unfold for every window's values); the Gallery's output
range against SciPy. The front end is tested in Chromium by test_widget_browser.py."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anywidget")
torch = pytest.importorskip("torch")
F = torch.nn.functional

from scipy import ndimage  # noqa: E402

from convscope import filters  # noqa: E402
from convscope.engine.errors import ConvScopeError  # noqa: E402
from convscope.widgets import Gallery, Stepper  # noqa: E402

LESSON = [[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]]
LESSON_KERNEL = [[1, 0], [0, -1]]
RNG = np.random.default_rng(17)


def torch_frames(x, w, stride=1, padding=0, dilation=1, padding_mode="zeros", flip=False, bias=0.0):
    """Per output cell in reading order: (values under the window, weights, per-channel subtotals, total),
    by torch alone: F.pad for the border, F.unfold for the windows, a grouped conv2d for the subtotals."""
    x = torch.tensor(np.array(x, dtype=np.float64))
    x = x[None] if x.ndim == 2 else x                                   # (C, H, W)
    w = torch.tensor(np.array(w, dtype=np.float64))
    w = (w[None] if w.ndim == 2 else w).expand(x.shape[0], -1, -1)      # (C, kh, kw)
    w = w.flip(-1, -2) if flip else w
    mode = "constant" if padding_mode == "zeros" else padding_mode
    xp = F.pad(x[None], (padding,) * 4, mode=mode)[0] if padding else x
    subtotals = F.conv2d(xp[None], w[:, None], stride=stride, dilation=dilation, groups=x.shape[0])[0]
    total = F.conv2d(xp[None], w[None], stride=stride, dilation=dilation)[0, 0] + bias
    windows = F.unfold(xp[:, None], w.shape[1:], dilation=dilation, stride=stride)   # (C, kh*kw, cells)
    frames = []
    for k in range(total.numel()):
        i, j = divmod(k, total.shape[1])
        frames.append((windows[:, :, k].flatten(), w.flatten(), subtotals[:, i, j], total[i, j]))
    return frames, total


def check_every_frame(stepper, expected):
    for k, (values, weights, subtotals, total) in enumerate(expected):
        assert stepper.go(k) == k and stepper.frame["index"] == k
        frame = stepper.frame
        np.testing.assert_allclose([c["value"] for c in frame["cells"]], values, rtol=1e-6)
        np.testing.assert_allclose([c["weight"] for c in frame["cells"]], weights, rtol=1e-6)
        np.testing.assert_allclose([c["product"] for c in frame["cells"]], values * weights, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(frame["subtotals"], subtotals, rtol=1e-5, atol=1e-5)
        assert frame["total"] == pytest.approx(float(total), rel=1e-5, abs=1e-5)


def test_the_lesson_steps_forward_and_back_and_every_frame_matches_torch():
    stepper = Stepper(LESSON, LESSON_KERNEL)
    expected, total = torch_frames(LESSON, LESSON_KERNEL)
    assert stepper.frames == 9 and stepper.index == 0
    assert stepper.setup["output_shape"] == [3, 3] and stepper.setup["frames"] == 9
    np.testing.assert_array_equal(stepper.output, total.numpy())
    assert [c["product"] for c in stepper.frame["cells"]] == [1.0, 0.0, 0.0, -3.0]   # 1*1 + 2*0 + 5*0 + 3*(-1)
    assert stepper.frame["total"] == -2.0
    assert stepper.step() == 1 and stepper.frame["total"] == float(total[0, 1])
    assert stepper.step() == 2 and stepper.back() == 1
    stepper.index = 4                       # what the front end sets: the frame follows
    assert (stepper.frame["row"], stepper.frame["col"], stepper.frame["index"]) == (1, 1, 4)
    check_every_frame(stepper, expected)


CASES = {
    "stride 2": dict(x=RNG.integers(-3, 5, (5, 5)), w=RNG.integers(-2, 3, (3, 3)), stride=2),
    "padding 1": dict(x=RNG.integers(-3, 5, (4, 5)), w=RNG.integers(-2, 3, (3, 3)), padding=1),
    "dilation 2": dict(x=RNG.integers(-3, 5, (6, 6)), w=RNG.integers(-2, 3, (2, 2)), dilation=2),
    "three channels, bias": dict(x=RNG.normal(size=(3, 5, 4)).round(2), w=RNG.normal(size=(3, 3, 3)).round(2),
                                 bias=0.5, padding=1, stride=2),
    "one kernel for three channels": dict(x=RNG.integers(0, 4, (3, 4, 4)), w=[[1, -1], [2, 0]]),
    "reflect, flipped": dict(x=RNG.integers(-3, 5, (5, 5)), w=RNG.integers(-2, 3, (3, 3)), padding=2,
                             padding_mode="reflect", flip=True),
    "circular": dict(x=RNG.integers(-3, 5, (4, 4)), w=RNG.integers(-2, 3, (3, 2)), padding=1,
                     padding_mode="circular", dilation=2),
}


@pytest.mark.parametrize("case", CASES)
def test_every_frame_matches_torch(case):
    params = dict(CASES[case])
    x, w = params.pop("x"), params.pop("w")
    stepper = Stepper(np.asarray(x), np.asarray(w), **params)
    expected, total = torch_frames(x, w, **params)
    assert stepper.frames == total.numel() and stepper.setup["output_shape"] == list(total.shape)
    np.testing.assert_allclose(stepper.output, total.numpy(), rtol=1e-5, atol=1e-5)
    check_every_frame(stepper, expected)


def test_an_index_outside_the_output_is_refused_and_step_and_back_stop_at_the_ends():
    """Refused, not clamped: a wrong index from Python is a mistake worth hearing about."""
    stepper = Stepper(LESSON, LESSON_KERNEL)
    for bad in (9, -1, 100):
        with pytest.raises(ConvScopeError, match=r"no such step; expected an index from 0 to 8; got "
                                                 + str(bad).replace("-", r"\-")):
            stepper.index = bad
        with pytest.raises(ConvScopeError, match="Fix: go"):
            stepper.go(bad)
    assert stepper.index == 0 and stepper.frame["index"] == 0
    assert stepper.back() == 0                       # the first step stays the first
    stepper.go(8)
    assert stepper.step() == 8 and stepper.frame["total"] == 1.0


def test_play_starts_the_timer_from_the_first_step_at_the_end():
    stepper = Stepper(LESSON, LESSON_KERNEL)
    stepper.go(3)
    stepper.play()
    assert stepper.playing and stepper.index == 3
    stepper.pause()
    stepper.go(8)
    stepper.play()
    assert stepper.playing and stepper.index == 0 and stepper.frame["index"] == 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(image=np.broadcast_to(0.0, (10_000, 10_000))), "the input is too large; expected 1-3 channels of at most "
                                                          r"32x32; got shape \(10000, 10000\). Fix: use at most 32"),
    (dict(image=np.zeros((4, 5, 5))), r"the input is too large; expected 1-3 channels.*got shape \(4, 5, 5\)"),
    (dict(kernel=np.ones((9, 9))), "the kernel is too large; expected 1-3 channels of at most 7x7"),
    (dict(kernel=np.ones((5, 5))), "larger than the padded input"),
    (dict(image=[[1, 2], [3]]), "not a rectangular grid"),
    (dict(image=[[1, np.nan]]), "NaN or infinity"),
    (dict(stride=5), "the stepper's stride is not one it takes; expected less than or equal to 4; got 5"),
    (dict(padding="same"), "expected a valid integer or 'same_upper' or 'same_lower'; got 'same'"),
    (dict(padding_mode="mirror"), "expected 'zeros', 'reflect', 'replicate' or 'circular'"),
    (dict(kernel=np.ones((2, 2, 2))), "the kernel's channels do not match the input's"),
])
def test_bad_settings_are_refused_in_words(kwargs, message):
    """The web API's own checks and limits (a huge grid refused by its shape, never copied)."""
    args = {"image": LESSON, "kernel": LESSON_KERNEL, **kwargs}
    with pytest.raises(ConvScopeError, match=message):
        Stepper(args.pop("image"), args.pop("kernel"), **args)


def test_numpy_and_torch_values_and_same_padding_are_taken():
    stepper = Stepper(torch.tensor(LESSON, dtype=torch.float32), np.array(LESSON_KERNEL), stride=np.int64(2),
                      padding="same_upper", bias=np.float32(0.25))
    assert stepper.setup["output_shape"] == [2, 2] and stepper.setup["padding"] == [[0, 0], [0, 0]]
    assert stepper.frame["total"] == pytest.approx(-1.75)


def test_the_module_ships_the_lab_drawing_code_and_fetches_nothing():
    from convscope.widgets.stepper import STATIC

    stepper = Stepper(LESSON, LESSON_KERNEL)
    state = stepper.get_state()
    assert state["_esm"].startswith((STATIC / "stepper-draw.js").read_text())
    assert "export default" in state["_esm"] and ".convscope-stepper" in state["_css"]
    for esm in (state["_esm"], Gallery(np.eye(8)).get_state()["_esm"]):
        assert "import " not in esm and "http" not in esm and "fetch(" not in esm


def test_without_anywidget_the_error_says_what_to_install():
    import subprocess
    import sys

    code = ("import sys; sys.modules['anywidget'] = None\nimport convscope\n"
            "try:\n    import convscope.widgets\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'convscope[notebook]'" in out


# --- the gallery ----------------------------------------------------------------------------------

PHOTO = RNG.random((40, 56)).astype(np.float32)


@pytest.mark.parametrize("kernel, mode, flip", [("sobel_x", "reflect", False), ("box3", "zeros", False),
                                                ("emboss", "replicate", True), ("laplacian4", "symmetric", False),
                                                ("gaussian5_s1", "circular", False), ("scharr_y", "reflect", True)])
def test_the_gallery_range_is_scipys_and_follows_the_kernel(kernel, mode, flip):
    gallery = Gallery(PHOTO)
    first = gallery.result
    gallery.padding_mode, gallery.flip, gallery.kernel = mode, flip, kernel
    weights = filters.get(kernel).weights.astype(np.float64)
    # convscope's padding modes by SciPy's names: reflect = "mirror", symmetric = "reflect", ...
    oracle = (ndimage.convolve if flip else ndimage.correlate)(PHOTO.astype(np.float64), weights,
                                                                 mode=filters.SCIPY_MODE[mode])
    assert (gallery.low, gallery.high) == pytest.approx((oracle.min(), oracle.max()), rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(gallery.response, oracle, rtol=1e-4, atol=1e-5)
    assert gallery.result["weights"] == filters.get(kernel).weights.tolist() and gallery.result["name"] == kernel
    assert gallery.result["output"].startswith("data:image/png;base64,")
    if (kernel, mode, flip) != ("sobel_x", "reflect", False):
        assert gallery.result["output"] != first["output"]   # recomputed when a setting changed


def test_a_colour_photo_runs_a_detector_on_its_brightness():
    photo = RNG.random((20, 30, 3)).astype(np.float32)
    gallery = Gallery(photo, kernel="sobel_y")
    grey = photo.astype(np.float64) @ np.array([0.2125, 0.7154, 0.0721])
    oracle = ndimage.correlate(grey, filters.get("sobel_y").weights.astype(np.float64), mode="mirror")
    assert (gallery.low, gallery.high) == pytest.approx((oracle.min(), oracle.max()), rel=1e-4, abs=1e-5)
    gallery.kernel = "box3"                     # image-like: each colour channel on its own
    assert gallery.result["colour"] and not gallery.result["signed"]


def test_the_gallery_refuses_bad_kernels_modes_and_images_in_words():
    gallery = Gallery(PHOTO)
    with pytest.raises(filters.FilterError, match="unknown kernel; expected one of identity, box3.*got 'sobel'"):
        gallery.kernel = "sobel"
    with pytest.raises(filters.FilterError, match="too large for the gallery; expected at most 7 x 7"):
        gallery.kernel = "gaussian9_s2"
    with pytest.raises(filters.FilterError, match="unknown padding mode"):
        gallery.padding_mode = "mirror"
    assert gallery.kernel == "sobel_x" and gallery.padding_mode == "reflect" and gallery.result["name"] == "sobel_x"
    assert gallery.names == list(filters.KERNELS) and "symmetric" in gallery.modes
    with pytest.raises(filters.FilterError, match="not an image"):
        Gallery(np.zeros((3, 8, 8)))
    with pytest.raises(filters.FilterError, match="too large or too small"):
        Gallery(np.broadcast_to(np.float32(0), (5000, 5000)))
    with pytest.raises(filters.FilterError, match="NaN"):
        Gallery(np.full((4, 4), np.nan))


def test_the_gallery_shows_photos_at_the_labs_size():
    from convscope.images import sample

    gallery = Gallery(sample("camera"))
    assert gallery.source.shape == (256, 256) and gallery.result["width"] == 256
    assert Gallery(np.zeros((300, 20), np.uint8), size=None).source.shape == (300, 20)
