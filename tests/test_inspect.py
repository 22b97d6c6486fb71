"""convscope.inspect: the trace against torchinfo, receptive fields against published values and
against their measurement, the doctor's fixes applied, and the shape calculator against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchinfo
from torch import nn

from convscope.engine.arithmetic import ReceptiveField
from convscope.inspect import StackError, doctor, shape_stack, trace

import nets

MODELS = {
    "lenet": (nets.LeNet, (1, 1, 28, 28)),
    "small_vgg": (nets.small_vgg, (2, 3, 32, 32)),
    "resnet18_shaped": (nets.ResNet18Shaped, (1, 3, 64, 64)),
    "mobilenet_style": (nets.mobilenet_style, (1, 3, 32, 32)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_params_and_mult_adds_follow_torchinfo(name):
    build, shape = MODELS[name]
    torch.manual_seed(0)
    model = build()
    ours = trace(model, shape, measure=False)
    theirs = torchinfo.summary(model, input_size=shape, verbose=0)
    assert (ours.total_params, ours.trainable_params, ours.total_mult_adds) == \
        (theirs.total_params, theirs.trainable_params, theirs.total_mult_adds)
    our_leaves = [r for r in ours.rows if r.leaf and r.depth > 0]
    their_leaves = [layer for layer in theirs.summary_list if layer.is_leaf_layer]
    assert [r.type for r in our_leaves] == [layer.class_name for layer in their_leaves]
    for row, layer in zip(our_leaves, their_leaves):
        assert (row.params, row.mult_adds, list(row.output_shape)) == \
            (layer.num_params, layer.macs, layer.output_size), row.name
    assert ours.output_shape == tuple(model(torch.randn(shape)).shape)


def test_shared_and_tied_weights_count_once():
    model = nets.TiedWeights()
    table = trace(model, (4, 16))
    unique = {id(p): p.numel() for p in model.parameters()}
    assert table.total_params == sum(unique.values()) == 16 * 8 + 8 + 8 * 16  # decode's weight is a copy
    assert sum(r.params for r in table.rows) == table.total_params
    assert [r.shared for r in table.rows if r.depth > 0] == [False, False, True, True]
    tied = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4))
    tied[1].weight = tied[0].weight
    assert trace(tied, (2, 4)).total_params == 16 + 4 + 4 == sum(r.params for r in trace(tied, (2, 4)).rows)


def test_published_receptive_fields_and_their_measurement():
    table = trace(nets.rf_stack(), (1, 1, 96, 96))
    fields = [(r.rf[0].size, r.rf[0].jump) for r in table.rows if r.depth > 0]
    assert fields == [(7, 2), (11, 4), (19, 8)]  # Araujo et al., Distill 2019
    for row in table.rows[1:]:
        assert row.measured == (row.rf[0].size,) * 2 and not any(row.measured_clipped)


def test_a_field_cut_by_the_border_is_flagged_on_that_axis_only():
    # 96 rows leave the 19-pixel field whole; 12 columns cut it, and only the columns say "+"
    table = trace(nets.rf_stack(), (1, 1, 96, 12), measure=True)
    last = table.rows[-1]
    assert last.measured_clipped == (False, True) and last.measured[0] == 19 and last.measured[1] <= 12
    assert f"19x{last.measured[1]}+" in table.to_markdown()


@pytest.mark.parametrize("layers", [
    [nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Conv2d(3, 3, 3, stride=2), nn.ReLU(), nn.Conv2d(3, 2, 5, dilation=2)],
    [nn.Conv2d(1, 3, (3, 5), padding=(1, 2)), nn.MaxPool2d(2), nn.Conv2d(3, 3, 3, padding=1, dilation=3)],
    [nn.AvgPool2d(3, 1), nn.Conv2d(1, 4, 4, stride=3), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 3, groups=2)],
])
def test_analytic_and_measured_fields_agree_on_chains(layers):
    table = trace(nn.Sequential(*layers), (1, 1, 80, 80))
    for row in table.rows[1:]:
        size, length = row.output_shape[2:], (80, 80)
        centre = [n // 2 for n in size]
        expected = []
        for field, c, n in zip(row.rf, centre, length):  # the centre unit's field, cut at the input's edges
            first = field.start + c * field.jump
            expected.append(min(n - 1, first + field.size - 1) - max(0, first) + 1)
        assert row.measured == tuple(expected), row.name


def test_residual_models_have_the_union_field_torch_measures():
    table = trace(nets.ResNet18Shaped(), (1, 3, 128, 128))
    block = next(r for r in table.rows if r.name == "layer1.0")
    stem = next(r for r in table.rows if r.name == "maxpool")
    assert stem.rf[0].size == 11
    # the block's two 3x3 convolutions at jump 4 widen the stem's field by 2 * 2 * 4 on the longest path;
    # the shortcut's field lies inside it, so the union at the add is the longest path's (torch measures 27)
    assert block.measured == (27, 27)
    assert block.rf is not None and [(f.size, f.jump) for f in block.rf] == [(27, 4)] * 2
    assert block.rf_text() == "27" and not block.rf_note


def test_receptive_field_closed_form_matches_a_direct_count():
    rng = np.random.default_rng(0)
    for _ in range(50):
        layers = [(int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(0, 3)), int(rng.integers(1, 3)))
                  for _ in range(int(rng.integers(1, 5)))]
        field = ReceptiveField()
        for k, s, p, d in layers:
            field = field.then(k, s, p, d)
        positions = {0}  # input positions (relative to the padded grids) reached from output unit 0, by brute force
        for k, s, p, d in reversed(layers):
            positions = {q * s + t * d - p for q in positions for t in range(k)}
        assert (min(positions), max(positions) - min(positions) + 1) == (field.start, field.size)


def _fixed_and_ran(model: nn.Module, shape: tuple[int, ...]) -> torch.Tensor:
    return model(torch.randn(shape))


def test_doctor_linear_after_flatten_gives_the_in_features_that_work():
    diagnosis = doctor(nets.LinearAfterFlatten(), (2, 1, 32, 32))
    assert not diagnosis.ok and diagnosis.layer == "fc" and diagnosis.input_shape == (2, 28800)
    assert "mat1 and mat2" in diagnosis.error
    assert "Flatten turns (2, 32, 30, 30) into 32 * 30 * 30 = 28800" in diagnosis.problem
    assert diagnosis.fix == "nn.Linear(28800, 10)"
    model = nets.LinearAfterFlatten()
    model.fc = eval(diagnosis.fix, {"nn": nn})
    assert _fixed_and_ran(model, (2, 1, 32, 32)).shape == (2, 10)
    assert [r.name for r in diagnosis.trace.rows if r.depth > 0] == ["conv", "flatten"]


def test_doctor_channels_last_input_and_channel_mismatch():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    diagnosis = doctor(model, (2, 32, 32, 3))
    assert "channels-last" in diagnosis.problem and "x.permute(0, 3, 1, 2)" in diagnosis.fix
    assert model(torch.randn(2, 32, 32, 3).permute(0, 3, 1, 2)).shape == (2, 8, 30, 30)
    diagnosis = doctor(model, (2, 4, 32, 32))
    assert "got 4 channels" in diagnosis.problem and "in_channels=4" in diagnosis.fix
    assert nn.Conv2d(4, 8, 3)(torch.randn(2, 4, 32, 32)).shape == (2, 8, 30, 30)


def test_doctor_missing_batch_axis_and_tensorflow_kernel():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 30 * 30, 10))
    diagnosis = doctor(model, (3, 32, 32))
    assert "no batch axis" in diagnosis.problem and diagnosis.fix.startswith("x.unsqueeze(0) gives (1, 3, 32, 32)")
    assert model(torch.randn(3, 32, 32).unsqueeze(0)).shape == (1, 10)
    conv = nn.Conv2d(3, 16, 3)
    tf_kernel = torch.randn(3, 3, 3, 16)
    conv.weight = nn.Parameter(tf_kernel)
    diagnosis = doctor(nn.Sequential(conv), (1, 3, 16, 16))
    assert "TensorFlow's (kH, kW, in, out)" in diagnosis.problem and "permute(3, 2, 0, 1)" in diagnosis.fix
    conv.weight = nn.Parameter(tf_kernel.permute(3, 2, 0, 1))
    assert conv(torch.randn(1, 3, 16, 16)).shape == (1, 16, 14, 14)


def test_doctor_kernel_too_large_and_batchnorm_and_a_healthy_model():
    shrinking = nn.Sequential(nn.Conv2d(1, 4, 5), nn.MaxPool2d(2), nn.Conv2d(4, 4, 5), nn.MaxPool2d(2),
                              nn.Conv2d(4, 4, 5))
    diagnosis = doctor(shrinking, (1, 1, 16, 16))
    assert diagnosis.layer == "4" and "larger than the padded input" in diagnosis.problem
    assert "pad by at least 2" in diagnosis.fix
    diagnosis = doctor(nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(16)), (1, 1, 8, 8))
    assert diagnosis.fix == "nn.BatchNorm2d(8)"
    healthy = doctor(nets.LeNet(), (1, 1, 28, 28))
    assert healthy.ok and healthy.trace.output_shape == (1, 10)


STACKS = [
    ("Conv2d(3,16,3,padding=1) -> ReLU -> MaxPool2d(2) -> Conv2d(16,32,3,stride=2) -> Flatten -> Linear(?,10)",
     (1, 3, 32, 32)),
    ("Conv2d(1, 32, 3) -> ReLU -> Flatten -> Linear(?, 10)", (4, 1, 28, 28)),
    ("Conv2d(?, 8, 5, stride=2, padding='valid') -> BatchNorm2d(?) -> MaxPool2d(3, stride=2, ceil_mode=True) "
     "-> Conv2d(8, 8, 3, padding='same', dilation=2, groups=4) -> AdaptiveAvgPool2d((2, 3)) -> Flatten -> "
     "Dropout(0.1) -> Linear(?, 5)", (2, 3, 45, 37)),
    ("Conv1d(2, 4, 3, stride=2) -> AvgPool1d(2) -> ConvTranspose1d(4, 2, 4, stride=2, output_padding=1)",
     (1, 2, 50)),
]


@pytest.mark.parametrize("text,shape", STACKS)
def test_shape_calculator_agrees_with_torch_running_its_code(text, shape):
    report = shape_stack(text, shape)
    namespace: dict = {}
    exec(report.code().replace("print(model(x).shape)", "out = model(x)"), namespace)  # noqa: S102 - our output
    model, x = namespace["model"], torch.randn(shape)
    for layer, row in zip(model, report.rows):
        x = layer(x)
        assert tuple(x.shape) == row.output_shape, row.text
        assert sum(p.numel() for p in layer.parameters()) == row.params, row.text
    assert report.total_params == sum(p.numel() for p in model.parameters())


def test_shape_calculator_solves_and_explains():
    report = shape_stack("Conv2d(1, 32, 3) -> ReLU -> Flatten -> Linear(?, 10)", (1, 1, 28, 28))
    assert report.solved == {"Linear(?, 10) in_features": 26 * 26 * 32}
    with pytest.raises(StackError, match=r"expects in_features=100.*got 21632.*write in_features=21632"):
        shape_stack("Conv2d(1, 32, 3) -> Flatten -> Linear(100, 10)", (1, 1, 28, 28))
    with pytest.raises(StackError, match=r"expects in_channels=1.*got 3"):
        shape_stack("Conv2d(1, 8, 3)", (1, 3, 28, 28))
    with pytest.raises(StackError, match=r"layer 3 MaxPool2d\(4\) on shape \(1, 8, 2, 2\).*larger than"):
        shape_stack("Conv2d(1,8,3) -> MaxPool2d(2) -> MaxPool2d(4)", (1, 1, 6, 6))
    with pytest.raises(StackError, match="not a layer the calculator knows"):
        shape_stack("Conv2d(1,8,3) -> Transformer", (1, 1, 6, 6))
    with pytest.raises(StackError, match="does not parse"):
        shape_stack("Conv2d(1,8,", (1, 1, 6, 6))
    with pytest.raises(StackError, match="arguments do not fit nn.Linear"):
        shape_stack("Flatten -> Linear(1, 2, biass=False)", (1, 1, 6, 6))
    with pytest.raises(StackError, match="empty layer"):
        shape_stack("Conv2d(1,8,3) -> -> ReLU", (1, 1, 6, 6))
