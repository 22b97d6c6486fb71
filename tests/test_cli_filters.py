"""`convscope filter`, `gallery` and `exercise sobel`: what they write, and how they refuse bad input."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from PIL import Image
from test_cli import console_script
from typer.testing import CliRunner

from convscope import filters, images
from convscope.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture()
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray((images.sample("coins")[::4, ::4] * 255).astype(np.uint8)).save(path)
    return path


def test_filter_writes_the_signed_response(tmp_path, photo):
    out = tmp_path / "edges.png"
    result = invoke("filter", photo, "--kernel", "sobel_x", "--out", out, "--raw")
    assert result.exit_code == 0, result.output
    written = np.asarray(Image.open(out))
    expected = filters.show(images.load(photo), "sobel_x")
    assert written.shape == expected.display.rgb.shape
    np.testing.assert_array_equal(written, expected.display.rgb)
    assert f"range {expected.low:.3g}" in result.stdout and "vertical edges" in result.stdout


def test_filter_saves_a_figure_with_its_colour_bar_range_and_weights(tmp_path, photo):
    """Without --raw: input, response and kernel side by side; the saved picture holds the
    response's colours and the kernel's signed colours (its weights' cells), beyond the raw pixels."""
    out = tmp_path / "edges.png"
    result = invoke("filter", photo, "--kernel", "sobel_x", "--out", out, "--flip")
    assert result.exit_code == 0, result.output
    figure = np.asarray(Image.open(out).convert("RGB"))
    raw = filters.show(images.load(photo), "sobel_x", flip=True).display.rgb
    assert figure.shape[1] > 2 * raw.shape[1]            # three panels wide
    colours = {tuple(c) for c in figure.reshape(-1, 3)[:: 7]}
    assert len(colours) > 50                             # a photo, a map and bars, not one flat image
    said = " ".join(result.stdout.split())             # the console wraps long lines
    assert "colour bar and range, and the kernel's weights" in said
    # flipped, Sobel is its own negative: the description says the signs swap
    assert "signs swap" in said and "positive and negative exchanged" in said


def test_filter_takes_a_sample_and_a_kernel_file(tmp_path):
    kernel = tmp_path / "k.txt"
    kernel.write_text("0 -1 0\n-1 5 -1\n0 -1 0\n")
    out = tmp_path / "sharp.png"
    result = invoke("filter", "camera", "--kernel-file", kernel, "--out", out, "--padding-mode", "zeros", "--flip",
                    "--raw")
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (512, 512) and "true convolution" in result.stdout


def test_gallery_shows_every_named_kernel(tmp_path, photo):
    out = tmp_path / "gallery.png"
    result = invoke("gallery", "--image", photo, "--out", out)
    assert result.exit_code == 0, result.output
    for name in filters.KERNELS:
        assert name in result.stdout
    assert Image.open(out).size[0] > 800


def test_exercise_sobel_writes_figures_numbers_and_a_readme(tmp_path):
    out = tmp_path / "sobel"
    result = invoke("exercise", "sobel", "--out", out, "--size", "32", "--steps", "200")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "results.json", "sobel_bonus.png",
                                                     "sobel_channels.png", "sobel_training.png"]
    numbers = json.loads((out / "results.json").read_text())
    assert numbers["interior_max_diff"] < 1e-5 and numbers["zero_border_max_diff"] < 1e-5
    assert numbers["border_pixels_differing"] > 0 and numbers["torch_conv2d_max_diff"] < 1e-5
    assert numbers["engine_final_weight_error"] < 0.05
    assert numbers["max_loss_gap_engine_vs_torch"] < 1e-12
    assert "max |learned - Sobel|" in (out / "README.md").read_text()
    assert "```" in (out / "README.md").read_text() and "```" not in result.stdout   # drawn, not raw Markdown
    assert "max |learned - Sobel|" in result.stdout
    # the bonus: from Sobel, on a noisy image, the loss falls below Sobel's own and the noise gain drops
    assert numbers["bonus_final_loss"] < numbers["bonus_start_loss"] and numbers["bonus_drift"] > 0.01
    assert numbers["bonus_noise_gain"] < numbers["sobel_noise_gain"]
    assert "what Sobel missed" in " ".join(result.stdout.split())


def _bad_inputs(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    dot = tmp_path / "dot.png"
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(dot)
    big = tmp_path / "big.png"
    Image.fromarray(np.zeros((50, 60), np.uint8)).save(big)
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("1 2 3\n4 5\n")
    nan = tmp_path / "nan.txt"
    nan.write_text("1 nan\n")
    return [
        (["filter", tmp_path / "missing.png", "--kernel", "box3"], "no image file"),
        (["filter", text, "--kernel", "box3"], "not an image"),
        (["filter", empty, "--kernel", "box3"], "not an image"),
        (["filter", dot, "--kernel", "box3"], "too small"),
        (["filter", big, "--kernel", "box3", "--max-pixels", "1000"], "too large"),
        (["filter", "camera", "--kernel-file", ragged], "ragged row"),
        (["filter", "camera", "--kernel-file", nan], "NaN"),
        (["filter", "camera", "--kernel", "blurry"], "unknown kernel"),
        (["filter", "camera"], "exactly one of --kernel"),
        (["gallery", "--image", text], "not an image"),
        (["exercise", "sobel", "--image", dot], "too small"),
    ]


def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path):
    for args, message in _bad_inputs(tmp_path):
        out = tmp_path / ("result" if args[0] == "exercise" else "result.png")
        result = invoke(*args, "--out", out)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1, result.stderr
        assert message in result.stderr, (message, result.stderr)
        assert not out.exists(), args
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".result")]  # no temporary left


def test_an_output_name_that_cannot_be_written(tmp_path):
    result = invoke("filter", "camera", "--kernel", "box3", "--out", tmp_path / "edges.txt")
    assert result.exit_code == 2 and "a .png file name" in result.stderr
    result = invoke("filter", "camera", "--kernel", "box3", "--out", tmp_path / "no" / "such" / "dir.png")
    assert result.exit_code == 2 and "an existing folder" in result.stderr


def test_console_script_refuses_a_non_image_without_traceback(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    done = subprocess.run([console_script(), "filter", str(text), "--kernel", "sobel_x", "--out",
                           str(tmp_path / "o.png")], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "o.png").exists()
