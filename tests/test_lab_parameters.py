"""The lessons' exercises as lab parameters: each changed lab prints exactly what the lesson's own
program prints with the same change (the program run here, with NumPy or torch), its checks against
torch pass, and a parameter a lab does not take is refused in one line."""

from __future__ import annotations

import contextlib
import io
import textwrap

import pytest
import torch
from typer.testing import CliRunner

from convscope.cli import app
from convscope.lessons import LabParameterError, list_labs, run_lab

# seed 002's programs, as the lesson prints them, with the exercise's knob as a format field
MANUAL = """
import numpy as np
image = np.array([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], dtype=np.float32)
kernel = np.array({kernel}, dtype=np.float32)
out = np.zeros((3, 3), dtype=np.float32)
for i in range(3):
    for j in range(3):
        patch = image[i : i + 2, j : j + 2]
        out[i, j] = np.sum(patch * kernel)
print("manual_conv_lab")
print(out)
"""
SIZE = """
import torch
from torch import nn
x = torch.randn(1, 1, 6, 6)
conv = nn.Conv2d(in_channels=1, out_channels=2, kernel_size=3, stride={stride}, padding={padding})
y = conv(x)
print("size_lab")
print("input:", tuple(x.shape))
print("output:", tuple(y.shape))
"""
CHANNEL = """
import torch
from torch import nn
x = torch.randn(2, 3, 32, 32)
conv = nn.Conv2d(in_channels=3, out_channels={out_channels}, kernel_size=3, padding=1)
y = conv(x)
print("channel_lab")
print("input:", tuple(x.shape))
print("output:", tuple(y.shape))
print("weight:", tuple(conv.weight.shape))
print("bias:", tuple(conv.bias.shape))
"""
CHECKLIST = """
import torch
from torch import nn
x = torch.randn(1, 1, 8, 8)
conv = nn.Conv2d(in_channels=1, out_channels={out_channels}, kernel_size=3, stride={stride}, padding={padding})
y = conv(x)
print("conv2d_lab")
print("input:", tuple(x.shape))
print("output:", tuple(y.shape))
print("weight:", tuple(conv.weight.shape))
print("bias:", tuple(conv.bias.shape))
"""
PERMUTE = """
import torch
from torch import nn
x = torch.randn(2, 32, 32, 3)
x = x.permute(0, 3, 1, 2)
conv = nn.Conv2d(3, {out_channels}, 3, padding=1)
print("permute_lab")
print("image-like [N, H, W, C]:", (2, 32, 32, 3))
print("after permute(0, 3, 1, 2):", tuple(x.shape))
print("output:", tuple(conv(x).shape))
"""


def _program(source: str, **knobs: object) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), torch.no_grad():
        exec(textwrap.dedent(source).format(**knobs), {})
    return buffer.getvalue().rstrip("\n")


CASES = [
    ("manual_conv_lab", {"kernel": "0,1/-1,0"}, MANUAL, {"kernel": [[0, 1], [-1, 0]]}),
    ("manual_conv_lab", {"kernel": "2,-1/0.5,0"}, MANUAL, {"kernel": [[2, -1], [0.5, 0]]}),
    ("size_lab", {"stride": 1}, SIZE, {"stride": 1, "padding": 1}),
    ("size_lab", {"stride": 3, "padding": 0}, SIZE, {"stride": 3, "padding": 0}),
    ("channel_lab", {"out_channels": 16}, CHANNEL, {"out_channels": 16}),
    ("conv2d_lab", {"stride": 2, "out_channels": 6}, CHECKLIST, {"stride": 2, "padding": 1, "out_channels": 6}),
    ("permute_lab", {}, PERMUTE, {"out_channels": 8}),
    ("permute_lab", {"out_channels": 4}, PERMUTE, {"out_channels": 4}),
]


@pytest.mark.parametrize(("name", "changes", "program", "knobs"), CASES,
                         ids=[f"{c[0]}-{'-'.join(map(str, c[1].values())) or 'lesson'}" for c in CASES])
def test_a_changed_lab_prints_what_the_lessons_program_prints_with_the_change(name, changes, program, knobs):
    result = run_lab(name, **changes)
    assert result.text == _program(program, **knobs)
    assert result.ok and result.checks, [c for c in result.checks if not c.ok]


def test_out_1_0_worked_by_hand_is_torchs():
    result = run_lab("manual_conv_lab", at="1,0")
    image = torch.tensor([[1, 2, 0, 0], [5, 3, 0, 4], [2, 1, 3, 1], [0, 2, 1, 2]], dtype=torch.float32)
    y = torch.nn.functional.conv2d(image[None, None], torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]]))
    last = result.text.splitlines()[-1]
    assert last.startswith("out[1, 0] by hand: the window at rows 1-2, columns 0-1")
    assert last.endswith(f"= {y[0, 0, 1, 0].item():g}") and y[0, 0, 1, 0].item() == 4
    assert result.ok and any("by hand" in c.description for c in result.checks)


def test_parameters_a_lab_does_not_take_are_refused_with_what_it_takes():
    with pytest.raises(LabParameterError, match="size_lab has no parameter 'out_channels'.*stride=2, padding=1"):
        run_lab("size_lab", out_channels=3)
    with pytest.raises(LabParameterError, match="must be an integer"):
        run_lab("size_lab", stride="1")
    with pytest.raises(LabParameterError, match=r"out\[5, 0\] is not in the 3x3 output"):
        run_lab("manual_conv_lab", at="5,0")
    with pytest.raises(LabParameterError, match="cannot read the kernel"):
        run_lab("manual_conv_lab", kernel="1,0/0")
    assert {lab.name: lab.params for lab in list_labs()}["size_lab"] == {"stride": 2, "padding": 1}


def test_the_command_line_passes_the_exercises_and_refuses_the_rest_in_one_line():
    runner = CliRunner()
    done = runner.invoke(app, ["lab", "run", "size_lab", "--stride", "1"])
    assert done.exit_code == 0 and "output: (1, 2, 6, 6)" in done.stdout and "check FAILED" not in done.stdout
    for args, says in ((["lab", "run", "size_lab", "--out-channels", "3"], "size_lab has no parameter"),
                       (["lab", "run", "all", "--stride", "1"], "an exercise's parameters change one lab"),
                       (["lab", "run", "size_lab", "--stride", "0"], "--stride")):
        bad = runner.invoke(app, args)
        assert bad.exit_code == 2 and says in bad.stderr and len(bad.stderr.splitlines()) == 1, (args, bad.stderr)
    listing = runner.invoke(app, ["lab", "list"], env={"COLUMNS": "200"}).stdout
    assert "--stride 2 --padding 1" in listing and "--out-channels 8" in listing
