"""Models the inspect tests trace, written here (no torchvision): LeNet, a small VGG, a
ResNet-18-shaped network, MobileNet-style depthwise blocks, and a few broken ones."""

from __future__ import annotations

import textwrap

import torch
import torch.nn.functional as F
from torch import nn


class LeNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool = nn.MaxPool2d(2)  # used twice
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))))


def small_vgg() -> nn.Module:
    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    return nn.Sequential(block(3, 16), block(16, 32), block(32, 64), nn.Flatten(), nn.Linear(64 * 4 * 4, 128),
                         nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + identity)


class ResNet18Shaped(nn.Module):
    """ResNet-18's layout (stem, four stages of two basic blocks, global pool), narrower."""

    def __init__(self, width: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages, cin = [], width
        for i, cout in enumerate((width, 2 * width, 4 * width, 8 * width)):
            stride = 1 if i == 0 else 2
            stages.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def depthwise_separable(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU6(),
                         nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6())


def mobilenet_style() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
                         depthwise_separable(16, 32, 1), depthwise_separable(32, 64, 2),
                         depthwise_separable(64, 64, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


class TiedWeights(nn.Module):
    """The same Linear applied twice, and an embedding-style tie: shared weights count once."""

    def __init__(self) -> None:
        super().__init__()
        self.encode = nn.Linear(16, 8)
        self.decode = nn.Linear(8, 16, bias=False)
        self.decode.weight = nn.Parameter(self.encode.weight.t().contiguous())
        self.again = self.encode  # the same module under a second name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x)) + self.decode(self.again(x))


class LinearAfterFlatten(nn.Module):
    """The lessons' bug: Linear(26*26*32, 10) after a 3x3 convolution of a 32x32 image."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 32, 3)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(26 * 26 * 32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(F.relu(self.conv(x))))


def rf_stack() -> nn.Module:
    """The published example: conv 7x7/2 pad 3 (RF 7, jump 2), max-pool 3/2 (11, 4), avg-pool 3/2 (19, 8)."""
    return nn.Sequential(nn.Conv2d(1, 4, 7, 2, 3), nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(3, 2, 1))


# A user's model file, as `convscope serve --model` reads one: a tiny residual CNN (ResNet) and a model
# whose weights do not fit it (Wider). The serve and model-page tests write it to a temporary folder.
USER_MODEL_FILE = textwrap.dedent("""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(8, 8, 3, padding=1)

        def forward(self, x):
            return torch.relu(x + self.conv(x))

    class ResNet(nn.Module):
        '''A tiny residual CNN: a strided stem, one residual block, a linear head.'''

        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
            self.block = Block()
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.head = nn.Linear(8, 4)

        def forward(self, x):
            return self.head(self.pool(self.block(torch.relu(self.stem(x)))).flatten(1))

    class Wider(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 5)
""")
