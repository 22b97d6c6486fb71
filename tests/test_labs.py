"""The labs print what the lessons' programs print, with numbers that the engine computed.

Three witnesses per lab: an independent re-implementation written here (NumPy loops or
torch, printed through ``print`` into a StringIO), the expected output copied from the
seed text (compared with whitespace normalised, since the seed files collapsed it), and
the lab's own checks against torch.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import convscope
from convscope.engine.errors import BackendError, ConvScopeError
from convscope.lessons import LABS, TOLERANCE, LabNotFoundError, LabResult, list_labs, run_lab, seed002, seed003

# Expected outputs as they appear in the seed files (whitespace collapsed there).
SEED_002 = {
    "manual_conv_lab": "manual_conv_lab [[-2. 2. -4.] [ 4. 0. -1.] [ 0. 0. 1.]]",
    "edge_lab": "edge_lab [[0. 0. 0. 0.] [0. 1. 0. 0.] [0. 1. 0. 0.] [0. 1. 0. 0.] [0. 0. 0. 0.]]",
    "size_lab": "size_lab input: (1, 1, 6, 6) output: (1, 2, 3, 3)",
    "channel_lab": "channel_lab input: (2, 3, 32, 32) output: (2, 8, 32, 32) weight: (8, 3, 3, 3) bias: (8,)",
    "conv2d_lab": "conv2d_lab input: (1, 1, 8, 8) output: (1, 4, 8, 8) weight: (4, 1, 3, 3) bias: (4,)",
}
SEED_003_SOBEL_INPUT = "input (5x5): [1 2 3 0 1] [0 1 2 3 4] [2 1 0 1 2] [3 0 1 2 3] [1 2 3 4 0] output (3x3):"
SEED_003_SOBEL_OUTPUT = [[-3, 1, 1], [5, 1, -3], [-5, 1, 3]]  # what the seed claims; see the test below
SEED_003_WIDGET_INPUT = ("0 0 0 1 0 0 0 0 0 1 1 1 0 0 0 1 1 0 1 1 0 1 1 0 0 0 1 1 0 "
                         "1 1 0 1 1 0 0 0 1 1 1 0 0 0 0 0 1 0 0 0")
SEED_003_WIDGET_OUTPUT = [[2, 1, 0, -1, -2], [1, -1, 0, 1, -1], [1, -3, 0, 3, -1], [1, -1, 0, 1, -1],
                          [2, 1, 0, -1, -2]]
SEED_003_WIDGET_STEP = "output[0][0] = 0.0 · -1.0 + 0.0 · 0.0 + 0.0 · 1.0 + 0.0 · -1.0 +"
SEED_003_PYTORCH = ["weight shape: torch.Size([16, 3, 3, 3])", "bias shape:   torch.Size([16])",
                    "input shape:  torch.Size([8, 3, 32, 32])", "output shape: torch.Size([8, 16, 32, 32])"]

GRID = [[1, 2, 3, 0, 1], [0, 1, 2, 3, 4], [2, 1, 0, 1, 2], [3, 0, 1, 2, 3], [1, 2, 3, 4, 0]]
SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]


def normalised(text: str) -> str:
    return " ".join(text.split())


def printed(program) -> str:
    """What ``program()`` prints, without the final newline."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        program()
    return buffer.getvalue().rstrip("\n")


def sliding_sum(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid cross-correlation with two explicit loops: sum(patch * kernel) per position."""
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=np.float32)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out


# ---------------------------------------------------------------- seed 002

def test_manual_conv_lab_matches_a_numpy_loop_and_the_seed():
    image = np.array([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], dtype=np.float32)
    kernel = np.array([[1, 0], [0, -1]], dtype=np.float32)
    expected = printed(lambda: (print("manual_conv_lab"), print(sliding_sum(image, kernel))))
    text = run_lab("manual_conv_lab").text
    assert text == expected
    assert text == "manual_conv_lab\n[[-2.  2. -4.]\n [ 4.  0. -1.]\n [ 0.  0.  1.]]"
    assert normalised(text) == SEED_002["manual_conv_lab"]


def test_edge_lab_matches_a_numpy_loop_and_the_seed():
    image = np.zeros((5, 5), dtype=np.float32)
    image[1:4, 2:] = 1
    kernel = np.array([[-1, 1]], dtype=np.float32)
    expected = printed(lambda: (print("edge_lab"), print(sliding_sum(image, kernel))))
    text = run_lab("edge_lab").text
    assert text == expected
    assert normalised(text) == SEED_002["edge_lab"]


@pytest.mark.parametrize("name, x_shape, layer_args, show_params", [
    ("size_lab", (1, 1, 6, 6), dict(in_channels=1, out_channels=2, kernel_size=3, stride=2, padding=1), False),
    ("channel_lab", (2, 3, 32, 32), dict(in_channels=3, out_channels=8, kernel_size=3, padding=1), True),
    ("conv2d_lab", (1, 1, 8, 8), dict(in_channels=1, out_channels=4, kernel_size=3, stride=1, padding=1), True),
])
def test_shape_labs_match_torch_nn_conv2d_and_the_seed(name, x_shape, layer_args, show_params):
    def program():
        x = torch.randn(*x_shape)
        conv = nn.Conv2d(**layer_args)
        y = conv(x)
        print(name)
        print("input:", tuple(x.shape))
        print("output:", tuple(y.shape))
        if show_params:
            print("weight:", tuple(conv.weight.shape))
            print("bias:", tuple(conv.bias.shape))

    text = run_lab(name).text
    assert text == printed(program)
    assert normalised(text) == SEED_002[name]


# ---------------------------------------------------------------- seed 000

def test_simple_cnn_lab_matches_the_lessons_torch_module():
    class SimpleCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x):
            return self.conv(x)

    image = torch.tensor([[[[0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 1, 0, 1, 0], [0, 1, 1, 1, 0],
                            [0, 0, 0, 0, 0]]]], dtype=torch.float32)
    model = SimpleCNN()
    with torch.no_grad():
        model.conv.weight[:] = torch.tensor([[[[-1, -1, -1], [0, 0, 0], [1, 1, 1]]]])
        model.conv.bias[:] = 0
    output = model(image)               # as the lesson runs it: outside no_grad, so it prints its grad_fn
    assert run_lab("simple_cnn_lab").text == printed(lambda: print(output[0, 0]))


# ---------------------------------------------------------------- seed 003

def naive_sobel_rows() -> tuple[np.ndarray, np.ndarray]:
    """Seed 003's pure-Python layer, written independently: four loops, no library."""
    out = [[sum(GRID[i + u][j + v] * SOBEL_X[u][v] for u in range(3) for v in range(3)) for j in range(3)]
           for i in range(3)]
    return np.array(GRID), np.array(out)


def test_sobel_lab_prints_what_the_lessons_program_prints_then_why_the_lesson_differs():
    def conv2d_naive(x, k):             # seed 003's pure-Python layer, as the lesson writes it
        H, W = len(x), len(x[0])
        kh, kw = len(k), len(k[0])
        out_h, out_w = H - kh + 1, W - kw + 1
        y = [[0.0] * out_w for _ in range(out_h)]
        for i in range(out_h):
            for j in range(out_w):
                s = 0.0
                for u in range(kh):
                    for v in range(kw):
                        s += x[i + u][j + v] * k[u][v]
                y[i][j] = s
        return y

    def program():
        y = conv2d_naive(GRID, SOBEL_X)
        print("input  (5x5):")
        [print('', row) for row in GRID]
        print("output (3x3):")
        [print('', row) for row in y]

    lines = run_lab("sobel_lab").text.splitlines()
    assert "\n".join(lines[:10]) == printed(program)
    x, k = torch.tensor(GRID, dtype=torch.float32)[None, None], torch.tensor(SOBEL_X, dtype=torch.float32)[None, None]
    lesson, program_line, *why_lines = [line for line in lines[10:] if not line.startswith("# check")]
    why = "\n".join(why_lines)
    assert lesson.startswith("# the lesson prints: ") and all(
        str(np.array(row)) in lesson for row in SEED_003_SOBEL_OUTPUT)
    flipped = F.conv2d(x, torch.flip(k, (2, 3)))[0, 0].int().numpy()
    sobel_y = F.conv2d(x, k.transpose(2, 3))[0, 0].int().numpy()
    assert " / ".join(map(str, flipped)) in why and " / ".join(map(str, sobel_y)) in why
    assert program_line.startswith("# the program prints the rows above")


def test_sobel_output_printed_in_the_seed_is_not_what_the_program_computes():
    """The seed's stdout shows [[-3, 1, 1], [5, 1, -3], [-5, 1, 3]]; torch disagrees, flipped or not."""
    x = torch.tensor(GRID, dtype=torch.float32)[None, None]
    k = torch.tensor(SOBEL_X, dtype=torch.float32)[None, None]
    seed = torch.tensor(SEED_003_SOBEL_OUTPUT, dtype=torch.float32)
    for kernel in (k, torch.flip(k, dims=(2, 3)), k.transpose(2, 3)):
        assert not torch.equal(F.conv2d(x, kernel)[0, 0], seed)
    rows = run_lab("sobel_lab").text.splitlines()[7:10]
    values = [[float(v) for v in row.strip(" []").split(",")] for row in rows]
    assert values == F.conv2d(x, k)[0, 0].tolist() == [[4, 2, 4], [-4, 4, 8], [-4, 6, 3]]


def test_numpy_lab_prints_the_numpy_layer():
    x = np.array(GRID, dtype=np.float32).reshape(1, 1, 5, 5)
    k = np.array(SOBEL_X, dtype=np.float32).reshape(1, 1, 3, 3)
    y = np.zeros((1, 1, 3, 3), dtype=np.float32)
    for i in range(3):
        for j in range(3):
            y[:, :, i, j] = np.einsum("bchw,ochw->bo", x[:, :, i:i + 3, j:j + 3], k)

    def program():
        print("output shape:", (1, 1, 28 - 3 + 1, 28 - 3 + 1))
        print("top-left 3x3 of output:\n", y[0, 0])

    text = run_lab("numpy_lab").text
    assert text == printed(program)
    assert normalised(text).startswith("output shape: (1, 1, 26, 26) top-left 3x3 of output:")
    np.testing.assert_array_equal(y, F.conv2d(torch.from_numpy(x), torch.from_numpy(k)).numpy())


def test_widget_lab_reproduces_the_widget():
    lines = run_lab("widget_lab").text.splitlines()
    start = lines.index("output (5x5):") + 1
    output = [[float(v) for v in line.strip(" []").split()] for line in lines[start:start + 5]]
    assert output == SEED_003_WIDGET_OUTPUT
    step = lines[-1]
    assert normalised(step).startswith(SEED_003_WIDGET_STEP)
    assert step.endswith(" = 2.00") and step.count(" · ") == 9
    start = lines.index("input (7x7):") + 1
    grid = " ".join(v.rstrip(".") for line in lines[start:start + 7] for v in line.strip(" []").split())
    assert grid == SEED_003_WIDGET_INPUT


def test_widget_lab_numbers_agree_with_torch():
    grid = torch.tensor(seed003.WIDGET_INPUT, dtype=torch.float32)[None, None]
    kernel = torch.tensor([[-1.0, 0.0, 1.0]] * 3)[None, None]
    assert F.conv2d(grid, kernel)[0, 0].tolist() == SEED_003_WIDGET_OUTPUT
    assert "\n".join(run_lab("widget_lab").text.splitlines()[-6:-1]) == printed(
        lambda: print(F.conv2d(grid, kernel)[0, 0].numpy()))


def test_pytorch_lab_prints_the_pytorch_layer():
    def program():
        conv = nn.Conv2d(in_channels=3, out_channels=16, kernel_size=3, stride=1, padding=1)
        print("weight shape:", conv.weight.shape)
        print("bias shape:  ", conv.bias.shape)
        x = torch.randn(8, 3, 32, 32)
        y = conv(x)
        print("input shape: ", x.shape)
        print("output shape:", y.shape)
        print(f"parameters: 16*3*3*3 + 16 = {sum(p.numel() for p in conv.parameters())}")

    lines = run_lab("pytorch_lab").text.splitlines()
    assert "\n".join(lines[:5]) == printed(program)
    assert lines[:4] == SEED_003_PYTORCH
    assert lines[4] == "parameters: 16*3*3*3 + 16 = 448"


# ---------------------------------------------------------------- every lab

@pytest.mark.parametrize("backend", ["auto", "reference", "numpy", "torch"])
@pytest.mark.parametrize("name", list(LABS))
def test_every_check_passes_on_every_backend(name, backend):
    result = run_lab(name, backend=backend)
    assert isinstance(result, LabResult) and result.checks
    for check in result.checks:
        assert check.ok and check.max_abs_diff <= check.limit, check
        assert TOLERANCE <= check.limit <= TOLERANCE * 1e3, check  # relative to values of at most ~1000
    assert result.text == run_lab(name).text  # the backend changes who computes, not what is printed


def test_registry():
    assert [lab.name for lab in list_labs()] == list(LABS)
    assert {lab.seed for lab in list_labs()} == {"000", "002", "003"}
    assert all(lab.title and "\n" not in lab.title for lab in list_labs())
    assert list(LABS)[:5] == list(SEED_002)


def test_the_lab_passes_its_backend_to_the_engine(monkeypatch):
    seen = []

    def spy(module):
        real = module.conv2d
        monkeypatch.setattr(module, "conv2d", lambda *a, **kw: seen.append(kw["backend"]) or real(*a, **kw))

    spy(seed002)
    spy(seed003)
    run_lab("manual_conv_lab")
    run_lab("sobel_lab")
    run_lab("sobel_lab", backend="numpy")
    run_lab("size_lab", backend="reference")
    # sobel_lab convolves three times (the code's kernel, flipped, Sobel-y), each on its backend
    assert seen == ["auto", *["reference"] * 3, *["numpy"] * 3, "reference"]


def test_printed_numbers_come_from_the_engine_and_checks_catch_a_wrong_engine(monkeypatch):
    real = seed002.conv2d
    monkeypatch.setattr(seed002, "conv2d", lambda *a, **kw: real(*a, **kw) + 1)
    result = run_lab("manual_conv_lab")
    assert "[[-1.  3. -3.]" in result.text
    assert not result.ok and result.checks[0].max_abs_diff == 1.0


def test_unknown_lab():
    with pytest.raises(LabNotFoundError) as info:
        run_lab("sobel")
    error = info.value
    assert isinstance(error, ConvScopeError) and isinstance(error, ValueError)
    message = str(error)
    assert "\n" not in message and "'sobel'" in message
    assert all(name in message for name in LABS)
    assert "convscope lab list" in message and "did you mean 'sobel_lab'" in message


def test_unknown_backend():
    with pytest.raises(BackendError):
        run_lab("manual_conv_lab", backend="gpu")


def test_importing_convscope_does_not_import_torch():
    code = ("import sys, convscope, convscope.lessons, convscope.cli; "
            "convscope.lessons.LABS['manual_conv_lab']; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert convscope.__version__


def test_lab_run_all_at_100_columns_is_golden(golden):
    """The whole tour of labs as the terminal shows it at 100 columns (each check's difference, which
    depends on the machine's arithmetic, written as '·')."""
    import re

    from typer.testing import CliRunner

    from convscope.cli import app

    result = CliRunner().invoke(app, ["lab", "run", "all"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    text = re.sub(r"max \|diff\| [^)]*\)", "max |diff| ·)", result.stdout)
    golden("lab_run_all_100cols", text)
    assert all(len(line) <= 100 for line in text.splitlines() if line.startswith("#"))   # convscope's own lines
