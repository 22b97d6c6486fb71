"""Analytic receptive fields through whole graphs (residual adds, concatenated branches, pads,
channel shuffles, adaptive pools), held to two oracles: the published values of Araujo, Norris &
Sim, "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019
(https://distill.pub/2019/computing-receptive-fields/, the table of receptive field size r0,
effective stride and effective padding of common architectures), and the field torch measures:
the input positions where the gradient of the centre unit is non-zero."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from convscope.inspect import trace
from convscope.inspect.geometry import NOTE_LIMIT

import zoo

# model: (builder, input of the published table, (field, effective stride, effective padding))
PUBLISHED = {
    "resnet_v1_50": (lambda: zoo.resnet_v1(50, width=4), 224, (483, 32, 239)),
    "resnet_v1_101": (lambda: zoo.resnet_v1(101, width=4), 224, (1027, 32, 511)),
    "mobilenet_v1": (lambda: zoo.mobilenet_v1(width=4), 224, (315, 32, 126)),
    "vgg_16": (lambda: zoo.vgg16(width=4), 224, (212, 32, 90)),
    "inception_v3": (lambda: zoo.inception_v3(w=4), 299, (1311, 32, 618)),
}


def _features_field(model: nn.Module, size: int):
    table = trace(model, (1, 3, size, size), measure=False)
    return next(r for r in table.rows if r.name == "features")


def measured_extent(features: nn.Module, size: int, batch: int = 6, seed: int = 0) -> tuple[tuple[int, int], ...]:
    """Per axis, the first and last input position where the gradient of the output's centre unit
    (summed over channels) is non-zero, over ``batch`` random inputs (one backward pass: the
    model is in eval mode, so the batch items are independent)."""
    features.eval()
    x = torch.randn((batch, 3, size, size), generator=torch.Generator().manual_seed(seed), requires_grad=True)
    out = features(x)
    centre = tuple(n // 2 for n in out.shape[2:])
    out[(slice(None), slice(None)) + centre].sum().backward()
    support = x.grad.abs().sum((0, 1)) > 0
    extents = []
    for axis in range(2):
        where = torch.nonzero(support.any(dim=1 - axis)).flatten()
        extents.append((int(where.min()), int(where.max())))
    return tuple(extents)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_zoo_fields_equal_the_published_table(name):
    build, size, (field, jump, padding) = PUBLISHED[name]
    row = _features_field(build(), size)
    assert row.rf is not None, row.rf_note
    assert [(f.size, f.jump, -f.start) for f in row.rf] == [(field, jump, padding)] * 2


# measured where the field fits inside the input: the input large enough for the centre unit's field
MEASURED = {"resnet_v1_50": 512, "mobilenet_v1": 384, "vgg_16": 256, "resnet_v1_101": 1056, "inception_v3": 1363}


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_zoo_fields_equal_the_field_torch_measures(name):
    build, _, (field, _, _) = PUBLISHED[name]
    torch.manual_seed(0)
    model = build()
    size = MEASURED[name]
    row = _features_field(model, size)
    centre = row.output_shape[2] // 2
    first = row.rf[0].first(centre)
    assert 0 <= first and first + field <= size  # the input holds the whole field: nothing is cut
    extents = measured_extent(model.features, size)
    assert [(high - low + 1) for low, high in extents] == [field, field]
    assert [low for low, _ in extents] == [first, first]


def _expected(row, input_size: int) -> tuple[int, ...]:
    """The analytic field of the row's centre unit, cut at the input's edges (what a gradient sees)."""
    sizes = []
    for field, n in zip(row.rf, row.output_shape[2:]):
        first = field.first(n // 2)
        sizes.append(min(input_size - 1, first + field.size - 1) - max(0, first) + 1)
    return tuple(sizes)


@pytest.mark.parametrize("seed", range(12))
def test_random_branching_nets_analytic_equals_measured(seed):
    torch.manual_seed(seed)
    model = zoo.random_branching_net(seed, blocks=6)
    table = trace(model, (1, 4, 64, 64), measure=True)
    rows = [r for r in table.rows if r.depth > 0 and r.output_shape is not None and len(r.output_shape) == 4]
    assert rows
    for row in rows:
        assert row.rf is not None, (row.name, row.rf_note)
        assert row.measured == _expected(row, 64), (row.name, row.type, row.rf)


def test_merges_take_the_union_and_unaligned_merges_say_so_briefly():
    class Offsets(nn.Module):  # two branches with equal jump, different starts and sizes
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Sequential(nn.ZeroPad2d((4, 0, 4, 0)), nn.Conv2d(1, 2, 3))   # reads i-4 .. i-2
            self.b = nn.Conv2d(1, 2, 5, padding=0)                                    # reads i .. i+4

        def forward(self, x):
            return torch.cat([self.a(x)[..., :28, :28], self.b(x)[..., :28, :28]], 1)

    table = trace(nn.Sequential(Offsets()), (1, 1, 64, 64), measure=True)  # measured: rows below the model's
    row = table.rows[1]
    assert [(f.size, f.jump, f.start) for f in row.rf] == [(9, 1, -4)] * 2
    assert row.measured == _expected(row, 64) == (9, 9)  # the hull over the gap between the branches

    class Unaligned(nn.Module):  # jump 1 meets jump 2 on maps of the same shape
        def forward(self, x):
            return x[..., :8, :8] + nn.functional.avg_pool2d(x, 2)

    row = trace(Unaligned(), (1, 1, 16, 16), measure=False).rows[0]
    assert row.rf is None and "jumps" in row.rf_note and len(row.rf_note) < NOTE_LIMIT


def test_strided_slices_are_aligned_when_their_jumps_match():
    class Slices(nn.Module):
        def forward(self, x):
            return x[..., ::2, ::2] + nn.functional.avg_pool2d(x, 2)

    row = trace(nn.Sequential(Slices()), (1, 1, 16, 16), measure=True).rows[1]
    assert [(f.size, f.jump, f.start) for f in row.rf] == [(2, 2, 0)] * 2
    assert row.measured == (2, 2)


def test_adaptive_pooling_has_its_real_window():
    # the cases: AdaptiveAvgPool2d(4) on 8x8 measures 4 (a 3x3 conv's field 3, widened by a
    # window of 2 at jump 1); an identity AdaptiveAvgPool2d(8) on 8x8 measures 3
    for output, expected in ((4, 4), (8, 3)):
        model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.AdaptiveAvgPool2d(output))
        row = trace(model, (1, 1, 8, 8), measure=True).rows[2]
        assert row.rf[0].size == expected and row.measured == (expected, expected)
    row = trace(nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(4)), (1, 1, 9, 9), measure=False).rows[2]
    assert row.rf is None and "unequal strides" in row.rf_note and len(row.rf_note) < NOTE_LIMIT
    row = trace(nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1)), (1, 1, 9, 9), measure=False).rows[2]
    assert row.rf_text() == "global"


def test_se_chain_notes_stay_short():
    model = zoo.se_chain(blocks=20)
    started = time.perf_counter()
    table = trace(model, (1, 3, 64, 64), measure=False)
    elapsed = time.perf_counter() - started  # reported, not asserted
    notes = [r.rf_note for r in table.rows]
    assert max(len(n) for n in notes) < NOTE_LIMIT, max(notes, key=len)[:300]
    assert len(table.rows) > 20 * 10
    # the gate averages the whole map: from the first block on every unit is global, and says so
    first = next(r for r in table.rows if r.name == "features.1")
    assert first.rf_text() == "global"
    print(f"20-block SE chain traced in {elapsed:.2f} s")


class _Ops(nn.Module):
    def __init__(self, op) -> None:
        super().__init__()
        self.conv, self.op = nn.Conv2d(2, 4, 3, padding=1), op

    def forward(self, x):
        return self.op(self.conv(x))


@pytest.mark.parametrize("op,size", [
    (lambda y: y.permute(0, 1, 2, 3).reshape(1, 2, 2, 16, 16).transpose(1, 2).flatten(1, 2), 3),   # keeps H, W
    (lambda y: y * torch.sigmoid(nn.functional.conv2d(y.mean(1, keepdim=True), torch.ones(1, 1, 7, 7),
                                                      padding=3)), 9),                            # CBAM-style
    (lambda y: nn.functional.pad(y, (2, 0, 2, 0), mode="reflect")[..., :16, :16], 3),
    (lambda y: torch.stack([y, y.flip(1)], 1).sum(1), 3),
    (lambda y: y.chunk(2, 1)[1] - y.max(1, keepdim=True).values, 3),
])
def test_shape_only_ops_keep_the_field_torch_measures(op, size):
    row = trace(nn.Sequential(_Ops(op)), (1, 2, 16, 16), measure=True).rows[1]
    assert row.rf is not None, row.rf_note
    assert row.rf[0].size == size and row.measured == _expected(row, 16)


@pytest.mark.parametrize("op,says", [
    (lambda y: y.permute(0, 2, 3, 1), "moves the spatial axes"),
    (lambda y: y.flatten(2), "folds the spatial axes"),
    (lambda y: y[:, :, 3], "one position of a spatial axis"),
    (lambda y: y.softmax(-1), "softmax along a spatial axis"),
    (lambda y: torch.cat([y, y], 3), "cat along a spatial axis"),
    (lambda y: nn.functional.interpolate(y, scale_factor=2), "interpolate"),
    (lambda y: nn.functional.group_norm(y, 2), "global"),
    (lambda y: y.mean((2, 3)), "global"),
])
def test_ops_without_a_rule_say_why_in_a_short_note(op, says):
    row = trace(nn.Sequential(_Ops(op)), (1, 2, 16, 16), measure=False).rows[1]
    assert row.rf is None and says in row.rf_note and len(row.rf_note) < NOTE_LIMIT
