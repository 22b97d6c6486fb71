"""The doctor on the mistakes people really make: each broken model (built here) is diagnosed with the
right kind of fix, the fix the doctor suggests is applied as it says (its code built with torch, the
module put where it names, the tensor expression applied to the tensor it names), and the repaired
model runs with the expected output shape. The oracle is torch running the repaired model."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from convscope.inspect import doctor

NAMESPACE = {"nn": nn, "F": F, "torch": torch}


def build(code: str) -> object:
    return eval(code, dict(NAMESPACE))


def apply_to(code: str, x: torch.Tensor) -> torch.Tensor:
    return eval(code, {**NAMESPACE, "x": x})


def remedy(diagnosis, kind: str, contains: str = ""):
    found = [r for r in diagnosis.remedies if r.kind == kind and contains in r.code]
    assert found, (diagnosis.fix, diagnosis.remedies)
    return found[0]


def put(model: nn.Module, target: str, module: nn.Module) -> None:
    parent, _, attribute = target.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, attribute, module)


class Cifar(nn.Module):
    """A CIFAR net whose first conv was built for 32 input channels: the 32-wide image's last axis is 32."""

    def __init__(self, first_in: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(first_in, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(F.relu(self.conv2(F.relu(self.conv1(x)))))


def test_cifar_input_into_a_32_channel_layer_is_a_channel_mismatch_not_channels_last():
    model = Cifar()
    diagnosis = doctor(model, (4, 3, 32, 32))
    assert not diagnosis.ok and diagnosis.layer == "conv1"
    assert "channels-last" not in diagnosis.problem and "permute" not in diagnosis.fix
    assert "in_channels=3" in diagnosis.fix
    fix = remedy(diagnosis, "module")
    assert fix.target == "conv1"
    put(model, fix.target, build(fix.code))
    assert model(torch.randn(4, 3, 32, 32)).shape == (4, 10)
    # the same mistake one layer later: 16 channels reach a layer built for 32, the width is 32
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 8, 3, padding=1))
    diagnosis = doctor(model, (2, 3, 32, 32))
    assert diagnosis.layer == "2" and "channels-last" not in diagnosis.problem and "in_channels=16" in diagnosis.fix
    put(model, "2", build(remedy(diagnosis, "module").code))
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 8, 32, 32)


def test_a_real_nhwc_input_is_still_channels_last():
    model = Cifar(first_in=3)
    diagnosis = doctor(model, (4, 32, 32, 3))
    assert "channels-last" in diagnosis.problem and "x.permute(0, 3, 1, 2)" in diagnosis.fix
    fix = remedy(diagnosis, "tensor")
    assert fix.target == "input"
    assert model(apply_to(fix.code, torch.randn(4, 32, 32, 3))).shape == (4, 10)


def test_missing_batch_axis_gets_one_fix_that_gives_the_right_output():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 30 * 30, 10))
    diagnosis = doctor(model, (3, 32, 32))
    assert "no batch axis" in diagnosis.problem
    assert "nn.Linear" not in diagnosis.fix and "x[None]" in diagnosis.fix and "output (1, 10)" in diagnosis.fix
    assert [r.code for r in diagnosis.remedies] == ["x.unsqueeze(0)"]
    assert model(apply_to(diagnosis.remedies[0].code, torch.randn(3, 32, 32))).shape == (1, 10)
    assert model(torch.randn(3, 32, 32)[None]).shape == (1, 10)


class Block(nn.Module):
    """A ResNet basic block, torchvision's layout: ``downsample`` is None unless given."""

    def __init__(self, cin: int, cout: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        out += identity
        return F.relu(out)


class SmallResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        self.layer1 = nn.Sequential(Block(64, 64), Block(64, 64))
        self.layer2 = nn.Sequential(Block(64, 128, stride=2), Block(128, 128))  # the stride-2 block lacks its shortcut
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layer2(self.layer1(self.stem(x))))


def test_stride_2_residual_without_downsample_names_the_block_and_builds_the_shortcut():
    model = SmallResNet().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    diagnosis = doctor(model, (2, 3, 32, 32))
    assert diagnosis.layer == "layer2.0" and diagnosis.layer_type == "Block"
    assert "layer2.0.bn2's output (2, 128, 16, 16)" in diagnosis.problem
    assert "layer2.0's input (2, 64, 32, 32)" in diagnosis.problem and "layer2.0.conv1" in diagnosis.problem
    fix = remedy(diagnosis, "module", "stride=2")
    assert fix.target == "layer2.0.downsample"
    assert fix.code == ("nn.Sequential(nn.Conv2d(64, 128, kernel_size=1, stride=2, bias=False), "
                        "nn.BatchNorm2d(128))")
    # the partial trace keeps the containers the failure is inside
    names = [r.name for r in diagnosis.trace.rows]
    assert "layer2" in names and "layer2.0" in names and "layer2.0.bn2" in names
    assert next(r for r in diagnosis.trace.rows if r.name == "layer2.0").input_shapes == [(2, 64, 32, 32)]
    # the doctor left the model as it was
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    put(model, fix.target, build(fix.code))
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert doctor(model, (2, 3, 32, 32)).ok


class UNet(nn.Module):
    """Two levels; on a 66 x 66 input the skip is 33 wide and the upsampled map 32."""

    def __init__(self) -> None:
        super().__init__()
        self.down1 = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
        self.down2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.bottom = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(32, 16, kernel_size=2, stride=2)
        self.merge = nn.Conv2d(32, 16, 3, padding=1)
        self.out = nn.Conv2d(16, 2, 1)
        self.align_up = lambda x: x       # where a fix on the upsampled map goes
        self.align_skip = lambda x: x     # where a fix on the skip goes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.down2(self.down1(x))
        up = self.align_up(self.up(self.bottom(skip)))
        return self.out(F.relu(self.merge(torch.cat([self.align_skip(skip), up], dim=1))))


def test_unet_cat_of_32_and_33_wide_maps_says_which_axis_and_by_how_much():
    diagnosis = doctor(UNet(), (1, 1, 66, 66))
    assert diagnosis.layer == "(model)"
    assert "torch.cat along dim 1" in diagnosis.problem
    assert "axis 2 (height): 33 vs 32" in diagnosis.problem and "axis 3 (width): 33 vs 32" in diagnosis.problem
    assert "down2's output (1, 16, 33, 33)" in diagnosis.problem and "up's output (1, 16, 32, 32)" in diagnosis.problem
    pad, crop = remedy(diagnosis, "tensor", "F.pad"), remedy(diagnosis, "tensor", "x[")
    assert (pad.target, pad.code) == ("up", "F.pad(x, (0, 1, 0, 1))")
    assert (crop.target, crop.code) == ("down2", "x[:, :, :32, :32]")
    upstream = remedy(diagnosis, "module", "output_padding")
    assert upstream.target == "up" and "output_padding=1" in upstream.code
    # each of the three applied, as the doctor says
    padded = UNet()
    padded.align_up = lambda x: apply_to(pad.code, x)
    assert padded(torch.randn(1, 1, 66, 66)).shape == (1, 2, 33, 33)
    cropped = UNet()
    cropped.align_skip = lambda x: apply_to(crop.code, x)
    assert cropped(torch.randn(1, 1, 66, 66)).shape == (1, 2, 32, 32)
    rebuilt = UNet()
    put(rebuilt, upstream.target, build(upstream.code))
    assert rebuilt(torch.randn(1, 1, 66, 66)).shape == (1, 2, 33, 33)


class LeNetView(nn.Module):
    """LeNet written for 32 x 32 (16 x 5 x 5 = 400) fed 28 x 28 images: 16 x 7 x 7 reach the view."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5, padding=2)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 10)
        self.flat = lambda x: x.view(-1, 400)   # where the fix on the tensor goes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(self.flat(x))))


def test_view_that_does_not_fit_spells_out_the_product_and_the_in_features():
    diagnosis = doctor(LeNetView(), (2, 1, 28, 28))
    assert "view(-1, 400)" in diagnosis.problem and "16 * 7 * 7 = 784" in diagnosis.problem
    assert "(2, 16, 7, 7)" in diagnosis.problem and "x.flatten(1)" in diagnosis.fix
    flatten, linear = remedy(diagnosis, "tensor", "flatten"), remedy(diagnosis, "module")
    assert linear.target == "fc1" and linear.code == "nn.Linear(784, 120)"
    model = LeNetView()
    model.flat = lambda x: apply_to(flatten.code, x)
    put(model, linear.target, build(linear.code))
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert model(torch.randn(5, 1, 28, 28)).shape == (5, 10)


def test_doctor_does_not_measure_unless_asked_and_leaves_the_model_as_it_was():
    model = Cifar(first_in=3)
    assert doctor(model, (1, 3, 32, 32)).trace.rows[1].measured is None
    assert doctor(model, (1, 3, 32, 32), measure=True).trace.rows[1].measured is not None
    healthy = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Dropout(0.5)).train()
    before = {k: v.clone() for k, v in healthy.state_dict().items()}
    for measure in (False, True):
        assert doctor(healthy, (2, 3, 16, 16), measure=measure).ok
    assert healthy.training and all(m.training for m in healthy.modules())
    assert all(torch.equal(before[k], v) for k, v in healthy.state_dict().items())
    assert all(p.grad is None for p in healthy.parameters())


def test_a_view_of_a_non_contiguous_tensor_suggests_reshape():
    class Transposed(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.transpose(2, 3).view(x.shape[0], -1)

    diagnosis = doctor(Transposed(), (2, 3, 4, 5))
    assert "not contiguous" in diagnosis.problem and "reshape" in diagnosis.fix
    assert torch.randn(2, 3, 4, 5).transpose(2, 3).reshape(2, -1).shape == (2, 60)


def test_the_command_line_doctor_measures_only_with_measure_and_prints_the_fix():
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from convscope.cli import app

    nets = str(Path(__file__).with_name("nets.py"))
    runner = CliRunner()
    plain = json.loads(runner.invoke(app, ["doctor", f"{nets}:LeNet", "--input", "1,1,28,28", "--json"]).stdout)
    assert plain["ok"] and all(layer["measured"] is None for layer in plain["trace"]["layers"])
    measured = runner.invoke(app, ["doctor", f"{nets}:LeNet", "--input", "1,1,28,28", "--json", "--measure"])
    assert any(layer["measured"] for layer in json.loads(measured.stdout)["trace"]["layers"])
    broken = runner.invoke(app, ["doctor", f"{nets}:LinearAfterFlatten", "--input", "2,1,32,32", "--json"])
    data = json.loads(broken.stdout)
    assert broken.exit_code == 1 and data["remedies"] == [
        {"text": "rebuild fc for 28800 features", "code": "nn.Linear(28800, 10)", "target": "fc", "kind": "module"}]
