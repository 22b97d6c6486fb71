"""How long `explore` takes on a ResNet-18-shaped model at 224x224 (torchvision's layout, built
from torch.nn here: torchvision is not installed): creation, then each conv layer's first page of
maps and its strongest unit, the way a click on the model page asks for them.

    .venv/bin/python benchmarks/explore_resnet18.py
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

from convscope.inspect import explore


class Basic(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x):
        skip = x if self.downsample is None else self.downsample(x)
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + skip)


def resnet18(classes: int = 1000) -> nn.Module:
    layers, cin = [], 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers.append(nn.Sequential(Basic(cin, cout, stride), Basic(cout, cout, 1)))
        cin = cout
    return nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                         *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes))


def main() -> None:
    torch.manual_seed(0)
    model = resnet18().eval()
    start = time.perf_counter()
    ex = explore(model, (1, 3, 224, 224))
    created = time.perf_counter() - start
    clicks = []
    for layer in (layer for layer in ex.layers if layer.is_conv):
        start = time.perf_counter()
        ex.maps(layer.name, count=16)
        ex.unit(layer.name, 0)
        clicks.append(time.perf_counter() - start)
    print(f"explore(resnet18, 1x3x224x224): {created:.2f} s; {len(clicks)} conv layers, per click (16 maps + a unit): "
          f"median {statistics.median(clicks):.3f} s, max {max(clicks):.3f} s, torch threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
