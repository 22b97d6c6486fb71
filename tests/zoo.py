"""A model zoo built in plain torch.nn (no downloads) for the receptive-field tests.

The published fields are those of Araujo, Norris & Sim, "Computing Receptive Fields of
Convolutional Neural Networks", Distill 2019 (https://distill.pub/2019/computing-receptive-fields/),
computed on the TF-slim models, so the layouts here are TF-slim's:

- ``resnet_v1(50 | 101)``: TF-slim ``resnet_v1``: a 7x7/2 stem and a 3x3/2 max-pool with 'SAME'
  padding, bottleneck units whose stride sits in the 3x3 conv of the *last* unit of blocks 1-3
  (block 4 has stride 1), the shortcut a 1x1 conv where the depth changes, else a 1x1 stride-s
  subsample. Published field 483 (50) and 1027 (101), jump 32.
- ``mobilenet_v1``: a 3x3/2 conv and 13 depthwise-separable blocks. Field 315, jump 32.
- ``vgg16``: 13 3x3 convs, 5 2x2/2 max-pools. Field 212, jump 32 (at pool5).
- ``inception_v3``: TF-slim's layout up to Mixed_7c. Field 1311, jump 32 at 299x299.

'SAME' padding is TensorFlow's: ``pad_total = max(k - s, 0)`` (or ``k - n % s`` when ``s`` does not
divide ``n``), the smaller half before; :class:`SamePad` computes it from the input, as TF does.
Every model's spatial part is ``model.features``; ``width`` scales the channel counts (the
receptive field does not depend on them; narrow models make the gradient measurement cheap).

Also here: a squeeze-excitation residual chain and :func:`random_branching_net`, small random
graphs of residual adds, concatenated branches, pads, channel shuffles and adaptive pools.
"""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F
from torch import nn


class SamePad(nn.Module):
    """TensorFlow's 'SAME' padding for a ``kernel``/``stride`` window, computed from the input's size."""

    def __init__(self, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def amounts(self, n: int) -> tuple[int, int]:
        total = max(self.kernel - (n % self.stride or self.stride), 0)
        return total // 2, total - total // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (top, bottom), (left, right) = self.amounts(x.shape[-2]), self.amounts(x.shape[-1])
        return F.pad(x, (left, right, top, bottom))


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, relu: bool = True,
            fixed: bool = False) -> nn.Sequential:
    """Conv 'SAME' + BN (+ ReLU). ``fixed``: TF-slim's ``conv2d_same`` (a fixed (k-1)//2 pad before a VALID conv)."""
    if fixed or stride == 1:
        total = kernel - 1
        pad: nn.Module = nn.ZeroPad2d((total // 2, total - total // 2) * 2) if total else nn.Identity()
    else:
        pad = SamePad(kernel, stride)
    layers = [pad, nn.Conv2d(cin, cout, kernel, stride, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, *([nn.ReLU()] if relu else []))


class Bottleneck(nn.Module):
    """TF-slim ``resnet_v1.bottleneck``: 1x1, 3x3 (the stride, ``conv2d_same``), 1x1; shortcut added, ReLU."""

    def __init__(self, cin: int, depth: int, bottleneck: int, stride: int) -> None:
        super().__init__()
        self.shortcut = nn.MaxPool2d(1, stride) if cin == depth else conv_bn(cin, depth, 1, stride, relu=False)
        self.conv1 = conv_bn(cin, bottleneck, 1)
        self.conv2 = conv_bn(bottleneck, bottleneck, 3, stride, fixed=True)
        self.conv3 = conv_bn(bottleneck, depth, 1, relu=False)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.shortcut(x) + self.conv3(self.conv2(self.conv1(x))))


class Classifier(nn.Module):
    def __init__(self, features: nn.Module, channels: int, classes: int = 10) -> None:
        super().__init__()
        self.features = features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def resnet_v1(depth: int = 50, width: int = 64) -> nn.Module:
    """TF-slim ResNet-v1-50 / -101 (``width``: the stem's channels, 64 in the paper)."""
    units = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}[depth]
    layers: list[nn.Module] = [conv_bn(3, width, 7, 2, fixed=True), SamePad(3, 2), nn.MaxPool2d(3, 2)]
    cin = width
    for b, (count, stride) in enumerate(zip(units, (2, 2, 2, 1))):
        bottleneck = width * 2 ** b
        block = []
        for u in range(count):
            block.append(Bottleneck(cin, 4 * bottleneck, bottleneck, stride if u == count - 1 else 1))
            cin = 4 * bottleneck
        layers.append(nn.Sequential(*block))
    return Classifier(nn.Sequential(*layers), cin)


def mobilenet_v1(width: int = 32) -> nn.Module:
    """TF-slim MobileNet-v1 (``width``: the first conv's channels, 32 at depth multiplier 1)."""
    plan = [(2, 1), (4, 2), (4, 1), (8, 2), (8, 1), (16, 2)] + [(16, 1)] * 5 + [(32, 2), (32, 1)]
    layers: list[nn.Module] = [conv_bn(3, width, 3, 2)]
    cin = width
    for multiple, stride in plan:
        cout = width * multiple
        layers.append(nn.Sequential(conv_bn(cin, cin, 3, stride, groups=cin), conv_bn(cin, cout, 1)))
        cin = cout
    return Classifier(nn.Sequential(*layers), cin)


class VGG(nn.Module):
    def __init__(self, features: nn.Module, channels: int) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d(7)  # torchvision's: the identity on a 7x7 map
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(channels * 49, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.avgpool(self.features(x)))


def vgg16(width: int = 64) -> nn.Module:
    layers: list[nn.Module] = []
    cin = 3
    for stage, convs in enumerate((2, 2, 3, 3, 3)):
        cout = width * min(2 ** stage, 8)
        for _ in range(convs):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
            cin = cout
        layers.append(nn.MaxPool2d(2, 2))
    return VGG(nn.Sequential(*layers), cin)


# --- Inception-v3 (TF-slim inception_v3_base, up to Mixed_7c) ------------------------------------

def _c(cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1, same: bool = True) -> nn.Sequential:
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    layers: list[nn.Module] = []
    if same and (kh > 1 or kw > 1):
        layers.append(nn.ZeroPad2d(((kw - 1) // 2, kw - 1 - (kw - 1) // 2, (kh - 1) // 2, kh - 1 - (kh - 1) // 2)))
    return nn.Sequential(*layers, nn.Conv2d(cin, cout, (kh, kw), stride, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Branches(nn.Module):
    """Branches run on the same input, concatenated along channels (TF-slim's Mixed blocks)."""

    def __init__(self, *branches: nn.Module) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], 1)


class Split(nn.Module):
    """A stem followed by parallel heads, all concatenated (Mixed_7b/7c's 1x3 and 3x1 pairs)."""

    def __init__(self, stem: nn.Module, *heads: nn.Module) -> None:
        super().__init__()
        self.stem, self.heads = stem, nn.ModuleList(heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.stem(x)
        return torch.cat([head(y) for head in self.heads], 1)


def _pool_same(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ZeroPad2d(1), nn.AvgPool2d(3, 1), *_c(cin, cout, 1))


def inception_v3(w: int = 8) -> nn.Module:
    """TF-slim ``inception_v3_base`` up to Mixed_7c; channel counts divided by ``64 / w``."""
    def n(c: int) -> int:
        return max(1, c * w // 64)
    stem = [_c(3, n(32), 3, 2, same=False), _c(n(32), n(32), 3, same=False), _c(n(32), n(64), 3),
            nn.MaxPool2d(3, 2), _c(n(64), n(80), 1), _c(n(80), n(192), 3, same=False), nn.MaxPool2d(3, 2)]
    layers: list[nn.Module] = list(stem)
    cin = n(192)
    for pool in (32, 64, 64):  # Mixed_5b, 5c, 5d
        layers.append(Branches(_c(cin, n(64), 1), nn.Sequential(_c(cin, n(48), 1), _c(n(48), n(64), 5)),
                               nn.Sequential(_c(cin, n(64), 1), _c(n(64), n(96), 3), _c(n(96), n(96), 3)),
                               _pool_same(cin, n(pool))))
        cin = n(64) + n(64) + n(96) + n(pool)
    layers.append(Branches(_c(cin, n(384), 3, 2, same=False),  # Mixed_6a
                           nn.Sequential(_c(cin, n(64), 1), _c(n(64), n(96), 3), _c(n(96), n(96), 3, 2, same=False)),
                           nn.MaxPool2d(3, 2)))
    cin = n(384) + n(96) + cin
    for mid in (128, 160, 160, 192):  # Mixed_6b .. 6e
        m = n(mid)
        layers.append(Branches(
            _c(cin, n(192), 1),
            nn.Sequential(_c(cin, m, 1), _c(m, m, (1, 7)), _c(m, n(192), (7, 1))),
            nn.Sequential(_c(cin, m, 1), _c(m, m, (7, 1)), _c(m, m, (1, 7)), _c(m, m, (7, 1)), _c(m, n(192), (1, 7))),
            _pool_same(cin, n(192))))
        cin = 4 * n(192)
    layers.append(Branches(  # Mixed_7a
        nn.Sequential(_c(cin, n(192), 1), _c(n(192), n(320), 3, 2, same=False)),
        nn.Sequential(_c(cin, n(192), 1), _c(n(192), n(192), (1, 7)), _c(n(192), n(192), (7, 1)),
                      _c(n(192), n(192), 3, 2, same=False)),
        nn.MaxPool2d(3, 2)))
    cin = n(320) + n(192) + cin
    for _ in range(2):  # Mixed_7b, 7c
        layers.append(Branches(
            _c(cin, n(320), 1),
            Split(_c(cin, n(384), 1), _c(n(384), n(384), (1, 3)), _c(n(384), n(384), (3, 1))),
            Split(nn.Sequential(_c(cin, n(448), 1), _c(n(448), n(384), 3)),
                  _c(n(384), n(384), (1, 3)), _c(n(384), n(384), (3, 1))),
            _pool_same(cin, n(192))))
        cin = n(320) + 4 * n(384) + n(192)
    return Classifier(nn.Sequential(*layers), cin)


# --- squeeze-excitation residual chain -------------------------------------------------------------

class SEBlock(nn.Module):
    """conv-bn-relu-conv-bn, scaled per channel by a squeeze-excitation gate, plus the shortcut."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        hidden = max(1, channels // reduction)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, hidden, 1), nn.ReLU(),
                                  nn.Conv2d(hidden, channels, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(x + y * self.gate(y))


def se_chain(blocks: int = 20, channels: int = 8) -> nn.Module:
    return Classifier(nn.Sequential(nn.Conv2d(3, channels, 3, 2, 1), *[SEBlock(channels) for _ in range(blocks)]),
                      channels)


# --- random branching nets -------------------------------------------------------------------------

class Residual(nn.Module):
    def __init__(self, body: nn.Module, shortcut: nn.Module | None = None) -> None:
        super().__init__()
        self.body, self.shortcut = body, shortcut or nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.body(x)


class Shuffle(nn.Module):
    """ShuffleNet's channel shuffle: view, transpose, view."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


class Stacked(nn.Module):
    """Two branches stacked on a new axis after the channels and averaged there (spatial axes kept)."""

    def __init__(self, a: nn.Module, b: nn.Module) -> None:
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.a(x), self.b(x)], 2).mean(2)


def _same_conv(rng: random.Random, cin: int, cout: int, stride: int = 1) -> nn.Module:
    """A conv that keeps the size (stride 1) or halves it, padded in one of several ways."""
    kernel, dilation = rng.choice([1, 3, 5]), rng.choice([1, 1, 2])
    span = dilation * (kernel - 1)
    if stride == 1 and rng.random() < 0.4 and span:  # asymmetric explicit pad, then a VALID conv
        left = rng.randint(0, span)
        pad = rng.choice([nn.ZeroPad2d, nn.ReplicationPad2d])((left, span - left, span - left, left))
        return nn.Sequential(pad, nn.Conv2d(cin, cout, kernel, dilation=dilation))
    return nn.Conv2d(cin, cout, kernel, stride, padding=span // 2 if span % 2 == 0 else 0, dilation=dilation) \
        if span % 2 == 0 else nn.Conv2d(cin, cout, 1, stride)


def random_branching_net(seed: int, channels: int = 4, size: int = 64, blocks: int = 5) -> nn.Module:
    """A random graph of ``blocks`` pieces on a (1, channels, size, size) input: residual adds (with a
    strided 1x1 shortcut when the body strides), concatenations of branches with different kernels,
    paddings and dilations (equal jump), pads, channel shuffles, stacks, adaptive pools that halve
    the map, plain convs and max-pools."""
    rng = random.Random(seed)
    layers: list[nn.Module] = []
    c, n = channels, size
    for _ in range(blocks):
        kind = rng.choice(["residual", "concat", "pad", "shuffle", "stack", "adaptive", "conv", "pool"])
        if kind == "residual":
            stride = 2 if n >= 24 and rng.random() < 0.3 else 1
            body = nn.Sequential(_same_conv(rng, c, c, stride), nn.ReLU(), _same_conv(rng, c, c))
            layers.append(Residual(body, nn.Conv2d(c, c, 1, stride) if stride > 1 else None))
            n = (n - 1) // stride + 1
        elif kind == "concat":
            layers.append(Branches(_same_conv(rng, c, c), _same_conv(rng, c, c),
                                   nn.MaxPool2d(3, 1, 1)))
            c *= 3
        elif kind == "pad":
            left, right = rng.randint(0, 2), rng.randint(0, 2)  # the same on both axes: the maps stay square
            layers.append(rng.choice([nn.ZeroPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d])((left, right) * 2))
            n += left + right
        elif kind == "shuffle":
            if c % 2:
                layers.append(nn.Conv2d(c, c + 1, 1))
                c += 1
            layers.append(Shuffle(2))
        elif kind == "stack":
            layers.append(Stacked(_same_conv(rng, c, c), _same_conv(rng, c, c)))
        elif kind == "adaptive" and n % 2 == 0 and n >= 16:
            layers.append(rng.choice([nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d])(n // 2))
            n //= 2
        elif kind == "pool" and n >= 16:
            layers.append(nn.MaxPool2d(rng.choice([2, 3]), 2))
            n = (n - layers[-1].kernel_size) // 2 + 1
        else:
            kernel = rng.choice([1, 3])
            layers += [nn.Conv2d(c, c, kernel, padding=kernel // 2), nn.ReLU()]
    return nn.Sequential(*layers)
