"""Seconds for `convscope.inspect.trace` on the model zoo the tests build, with and without measuring.

The models: a ResNet-50-shaped net (TF-slim ResNet-v1-50 from tests/zoo.py), a MobileNet-v2-shaped
net (defined here, torchvision's layout: inverted residual blocks, widths 32-320-1280), MobileNet-v1
and VGG16 (tests/zoo.py), all at full width on one 224x224 image, CPU, no downloads.
Each line: the trace with analytic receptive fields only (``measure=False``), then with the
gradient-measured field for every layer (``measure=True``). The measured trace is skipped where its
predicted time (its backward-pass work, ``measurement_work``, over the rate the first measured
model ran at) is above ``--max-measure-seconds``; the line says so and gives the prediction.

    python benchmarks/trace_times.py [--max-measure-seconds 120] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from convscope.inspect import trace
from convscope.inspect.trace import measurement_work

import zoo


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, relu: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, *([nn.ReLU6(inplace=True)] if relu else []))


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers = ([_conv_bn(cin, hidden, 1)] if expand != 1 else []) + \
            [_conv_bn(hidden, hidden, 3, stride, groups=hidden), _conv_bn(hidden, cout, 1, relu=False)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


def mobilenet_v2(classes: int = 1000) -> nn.Module:
    """torchvision's MobileNet-v2 layout (3.5 M parameters at 1000 classes)."""
    if hasattr(zoo, "mobilenet_v2"):
        return zoo.mobilenet_v2()
    plan = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    layers: list[nn.Module] = [_conv_bn(3, 32, 3, 2)]
    cin = 32
    for expand, cout, count, stride in plan:
        for i in range(count):
            layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
            cin = cout
    layers.append(_conv_bn(cin, 1280, 1))
    return nn.Sequential(nn.Sequential(*layers), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                         nn.Linear(1280, classes))


MODELS = {
    "mobilenet_v2": mobilenet_v2,
    "mobilenet_v1": zoo.mobilenet_v1,
    "vgg16": zoo.vgg16,
    "resnet_v1_50": lambda: zoo.resnet_v1(50),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-measure-seconds", type=float, default=120.0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    shape = (1, 3, 224, 224)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, input {shape}")
    rate = None   # mult-adds of measuring work per second, from the first measured model
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = MODELS[name]()
        trace(model, shape, measure=False)   # warm-up: first-call costs out of the timing
        start = time.perf_counter()
        plain = trace(model, shape, measure=False)
        analytic = time.perf_counter() - start
        work = measurement_work(plain.rows, torch.empty(shape))
        line = (f"{name:13s} {plain.total_params:>11,} params {plain.total_mult_adds / 1e9:6.2f} G mult-adds "
                f"{len(plain.rows):4d} calls | analytic {analytic:6.2f} s | ")
        predicted = None if rate is None else work / rate
        if predicted is not None and predicted > args.max_measure_seconds:
            print(line + f"measured: skipped (predicted {predicted:,.0f} s from {work / 1e12:.2f} T mult-adds "
                  f"of backward passes, over --max-measure-seconds {args.max_measure_seconds:g})", flush=True)
            continue
        start = time.perf_counter()
        measured = trace(model, shape, measure=True)
        seconds = time.perf_counter() - start
        rate = rate or work / max(seconds - analytic, 1e-9)
        agree = sum(1 for r in measured.rows if r.measured and r.rf and not r.measured_clipped
                    and r.measured == tuple(f.size for f in r.rf))
        checked = sum(1 for r in measured.rows if r.measured and r.rf and not r.measured_clipped)
        print(line + f"measured {seconds:7.2f} s ({seconds / analytic:,.0f}x; analytic == measured on "
              f"{agree}/{checked} unclipped rows)", flush=True)


if __name__ == "__main__":
    main()
