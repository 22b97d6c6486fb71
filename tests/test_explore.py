"""convscope.inspect.explore on a residual CNN: every number against the model's own forward
(hooks registered here), autograd for the receptive field, torch for the engine check."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from convscope.engine.errors import ConvScopeError
from convscope.inspect import explore, trace


class Block(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.relu(x + self.conv2(self.relu(self.conv1(x))))


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.ReLU()
        self.block = Block(8)
        self.down = nn.Conv2d(8, 16, 3, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        x = self.down(self.block(self.act(self.bn(self.stem(x)))))
        return self.head(self.pool(x).flatten(1))


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = Residual().eval()
    x = torch.randn(1, 3, 33, 33)
    captured = {}
    handles = [module.register_forward_hook(lambda m, i, o, name=name: captured.update({name: (i[0], o)}))
               for name, module in model.named_modules() if isinstance(module, nn.Conv2d)]
    with torch.no_grad():
        output = model(x)
    for handle in handles:
        handle.remove()
    return model, x, captured, output, explore(model, x)


CONVS = ["stem", "block.conv1", "block.conv2", "down"]


def test_the_layers_are_the_models_leaves_with_torchs_shapes(setup):
    model, x, captured, _, ex = setup
    names = [layer.name for layer in ex.layers]
    assert [n for n in names if n in CONVS] == CONVS
    for name in CONVS:
        layer = next(layer for layer in ex.layers if layer.name == name)
        assert layer.is_conv and layer.has_maps and layer.output_shape == tuple(captured[name][1].shape)
        assert layer.params == sum(p.numel() for p in model.get_submodule(name).parameters())
    assert next(layer for layer in ex.layers if layer.name == "head").has_maps is False


@pytest.mark.parametrize("name", CONVS)
def test_activations_and_maps_are_the_models_own_outputs(setup, name):
    _, _, captured, _, ex = setup
    expected = captured[name][1][0].numpy()
    np.testing.assert_array_equal(ex.activation(name), expected)
    page = ex.maps(name, count=64)
    assert page["channels"] == expected.shape[0] and len(page["maps"]) == expected.shape[0]
    for shown in page["maps"]:
        channel = expected[shown["channel"]]
        assert shown["min"] == pytest.approx(float(channel.min()))
        assert shown["max"] == pytest.approx(float(channel.max()))
        assert tuple(shown["peak"]) == np.unravel_index(int(channel.argmax()), channel.shape)
        assert shown["image"].startswith("data:image/png;base64,")


@pytest.mark.parametrize("name", CONVS)
def test_the_receptive_field_box_matches_the_trace_and_autograd(setup, name):
    model, x, _, _, ex = setup
    unit = ex.unit(name, 1)
    row = next(row for row in trace(model, x).rows if row.name == name)
    (r0, r1), (c0, _) = unit["field"]["rows"], unit["field"]["cols"]
    assert r1 - r0 + 1 == row.rf[0].size and r0 == row.rf[0].first(unit["peak"][0])
    assert c0 == row.rf[1].first(unit["peak"][1])
    # independently: the unit's value depends on no input outside its box
    probe = x.clone().requires_grad_(True)
    out = {}
    handle = model.get_submodule(name).register_forward_hook(lambda m, i, o: out.update(y=o))
    model(probe)
    handle.remove()
    out["y"][0, 1, unit["peak"][0], unit["peak"][1]].backward()
    grad = probe.grad[0].abs().sum(0)
    (b0, b1), (d0, d1) = unit["box"]
    outside = grad.clone()
    outside[b0:b1 + 1, d0:d1 + 1] = 0
    assert float(outside.max()) == 0.0 and float(grad.max()) > 0
    np.testing.assert_allclose(unit["kernels"], model.get_submodule(name).weight[1].detach().numpy(), atol=1e-6)


def test_the_engine_reproduces_every_convolution(setup):
    model, _, captured, _, ex = setup
    checks = ex.engine_checks()
    assert [c["layer"] for c in checks["checks"]] == CONVS
    for check in checks["checks"]:
        layer_input, layer_output = captured[check["layer"]]
        torch_again = model.get_submodule(check["layer"])(layer_input).detach()
        assert torch.equal(torch_again, layer_output)
        assert check["supported"] and check["max_abs_diff"] < 1e-4
    assert ex.engine_check("act") == {"layer": "act", "supported": False, "why": "ReLU is not a convolution"}


def test_the_prediction_is_torchs_softmax(setup):
    _, _, _, output, ex = setup
    expected = torch.softmax(output, 1)[0].numpy()
    np.testing.assert_allclose(ex.prediction["probabilities"], expected, rtol=1e-6)
    assert ex.prediction["top"][0][0] == int(expected.argmax())


def test_paging_and_the_errors_say_what_to_do(setup):
    *_, ex = setup
    assert [m["channel"] for m in ex.maps("down", start=8, count=8)["maps"]] == list(range(8, 16))
    with pytest.raises(ConvScopeError, match="no layer named 'nope'.*stem"):
        ex.maps("nope")
    with pytest.raises(ConvScopeError, match="has no feature maps"):
        ex.maps("head")
    with pytest.raises(ConvScopeError, match="count from 1 to 64"):
        ex.maps("stem", count=65)
    with pytest.raises(ConvScopeError, match="a channel from 0 to 7"):
        ex.unit("stem", 8)


def test_the_model_is_left_as_it_was():
    model = Residual().train()
    model.stem.weight.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ex = explore(model, (1, 3, 16, 16))
    ex.maps("stem")
    assert model.training and not model.stem.weight.requires_grad
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key   # batch-norm running stats untouched


def test_the_notebook_display_lists_every_layer(setup):
    *_, ex = setup
    html = ex._repr_html_()
    for layer in ex.layers:
        assert f"<td>{layer.name}</td>" in html
    assert "data:image/png;base64," in html


def test_one_example_only():
    with pytest.raises(ConvScopeError, match="one example"):
        explore(Residual(), (2, 3, 16, 16))


def test_threads_asking_for_different_layers_get_their_own_maps(setup):
    """The lab asks from many threads at once: each answer is its own layer's, never another's."""
    from concurrent.futures import ThreadPoolExecutor

    model, x, captured, _, _ = setup
    ex = explore(model, x)
    names = CONVS * 6
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(ex.activation, names))
    for name, values in zip(names, results):
        np.testing.assert_array_equal(values, captured[name][1][0].numpy())


# --- the data flow, reused modules, in-place ops, one pass, the cache bound --------------------------

class InPlace(nn.Module):
    """torchvision's habits: a ReLU module reused (in place) and ``out += identity`` after a BatchNorm."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.conv2, self.bn2 = nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)

    def forward(self, x):
        identity = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(identity))
        out += identity
        return self.relu(out)


def _bn_stats(model: nn.Module) -> None:
    for module in model.modules():  # running statistics that are not the identity, so the BNs change values
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)


def test_the_layer_after_a_residual_add_lists_both_branches(setup):
    *_, ex = setup
    inputs = {layer.name: layer.inputs for layer in ex.layers}
    assert inputs["stem"] == ("(input)",)
    assert inputs["block.conv1"] == ("act",)
    assert inputs["block.relu#2"] == ("act", "block.conv2")   # relu(x + conv2(...)): the skip and the branch
    assert inputs["down"] == ("block.relu#2",)
    assert inputs["head"] == ("pool",)                         # through .flatten(1), a tensor method
    assert "<td>act, block.conv2</td>" in ex._repr_html_()


def test_a_module_called_twice_is_two_layers_each_with_its_own_output(setup):
    model, x, *_ = setup
    outputs = []
    handle = model.block.relu.register_forward_hook(lambda m, i, o: outputs.append(o.clone()))
    with torch.no_grad():
        model(x)
    handle.remove()
    ex = explore(model, x)
    names = [layer.name for layer in ex.layers]
    assert names.count("block.relu") == 1 and names.count("block.relu#2") == 1 and len(set(names)) == len(names)
    for name, expected in zip(("block.relu", "block.relu#2"), outputs):
        ex._cache.clear()  # once from the pass's own tensors (above, via setup), now from a recompute
        np.testing.assert_array_equal(ex.activation(name), expected[0].numpy())
    assert ex.forward_passes == 3


def test_outputs_changed_in_place_later_are_shown_as_the_layer_made_them():
    torch.manual_seed(1)
    model = InPlace()
    with torch.no_grad():
        _bn_stats(model)
    model.eval()
    x = torch.randn(1, 3, 12, 12)
    clones = {}

    def keep(name):  # a hook that returns None: a returned value would replace the module's output
        def hook(module, args, output):
            clones.setdefault(name, output.clone())
        return hook
    handles = [model.get_submodule(n).register_forward_hook(keep(n)) for n in ("bn1", "bn2")]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    ex = explore(model, x)
    assert float(clones["bn1"].min()) < 0   # so the in-place ReLU did change it
    for name in ("bn1", "bn2"):
        np.testing.assert_array_equal(ex.activation(name), clones[name][0].numpy())
    by_name = {layer.name: layer for layer in ex.layers}
    assert by_name["bn2"].field == ((5, 1, -2),) * 2      # its own field, not the one of `out += identity`
    assert by_name["relu#2"].inputs == ("bn2", "relu")   # `out += identity`, in place, still reads both
    assert ex.engine_check("conv2")["max_abs_diff"] < 1e-4


def test_creating_it_runs_one_forward_pass_and_a_cached_layer_none():
    model = Residual().eval()
    real = []
    handle = model.register_forward_pre_hook(lambda m, args: real.append(args[0].device.type != "meta"))
    ex = explore(model, (1, 3, 16, 16))
    assert sum(real) == 1          # the memory estimate's pass on "meta" aside
    ex.maps("stem"), ex.unit("block.conv2", 0), ex.engine_check("down")
    assert sum(real) == 1 and ex.forward_passes == 1
    handle.remove()


def test_the_cache_is_bounded_and_an_evicted_layer_is_recomputed(setup, monkeypatch):
    import sys

    module = sys.modules["convscope.inspect.explore"]   # the package's `explore` is the function

    model, x, captured, *_ = setup
    monkeypatch.setattr(module, "CACHE_BYTES", 20_000)   # less than the stem's output and input (22 kB)
    ex = explore(model, x)
    assert module._storage_bytes(ex._cache.values()) <= module.CACHE_BYTES < module._storage_bytes(
        [(t, None) for _, t in captured.values()])
    for name in CONVS:
        np.testing.assert_array_equal(ex.activation(name), captured[name][1][0].numpy())
        # within the bound, or just the layer in use when it alone is over
        assert module._storage_bytes(ex._cache.values()) <= module.CACHE_BYTES or list(ex._cache) == [name]
    assert ex.forward_passes > 1


# --- a ResNet-18 shape at 224 (torchvision's layout, full width): a sanity run, no time asserted ----

class Basic(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        out += identity
        return self.relu(out)


def resnet18(classes: int = 1000) -> nn.Module:
    stages, cin = [], 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        stages.append(nn.Sequential(Basic(cin, cout, stride), Basic(cout, cout, 1)))
        cin = cout
    return nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                         nn.MaxPool2d(3, 2, 1), *stages, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes))


def test_resnet18_at_224_every_conv_matches_the_engine():
    torch.manual_seed(0)
    model = resnet18()
    with torch.no_grad():
        _bn_stats(model)
    ex = explore(model.eval(), (1, 3, 224, 224))
    convs = [layer for layer in ex.layers if layer.is_conv]
    assert len(convs) == 20 and len({layer.name for layer in ex.layers}) == len(ex.layers)
    checks = ex.engine_checks()
    assert len(checks["checks"]) == 20 and checks["max_abs_diff"] < 1e-3
    assert next(layer for layer in ex.layers if layer.name == "4.0.relu#2").inputs == ("4.0.bn2", "3")  # skip: maxpool
    assert next(layer for layer in ex.layers if layer.name == "5.0.relu#2").inputs == ("5.0.bn2", "5.0.downsample.1")
    assert next(layer for layer in ex.layers if layer.name == "5.0.conv1").inputs == ("4.1.relu#2",)
    assert next(layer for layer in ex.layers if layer.name == "5.0.downsample.0").inputs == ("4.1.relu#2",)


def test_explorations_of_one_model_on_several_inputs_at_once_stay_apart():
    """The lab's many learners: explorations of the same model on different inputs, created and asked
    from threads at once, each give its own input's activations (hooks are shared by threads)."""
    from concurrent.futures import ThreadPoolExecutor

    torch.manual_seed(1)
    model = Residual().eval()
    inputs = [torch.randn(1, 3, 20, 20) for _ in range(4)]

    def run(x):
        ex = explore(model, x)
        return [ex.activation(name) for name in CONVS]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, inputs * 3))
    for x, got in zip(inputs * 3, results):
        expected = {}
        hooks = [model.get_submodule(n).register_forward_hook(
                     lambda m, i, o, n=n, expected=expected: expected.update({n: o}))
                 for n in CONVS]
        with torch.no_grad():
            model(x)
        for hook in hooks:
            hook.remove()
        for name, values in zip(CONVS, got):
            np.testing.assert_array_equal(values, expected[name][0].numpy())


def test_convscope_explore_is_the_inspect_face_loaded_on_first_use():
    """``convscope.explore`` without importing torch at ``import convscope``; the engine's __all__ as it was."""
    import subprocess
    import sys

    import convscope
    from convscope import engine, inspect

    assert convscope.explore is inspect.explore and "explore" not in convscope.__all__
    assert convscope.__all__ == list(engine.__all__)
    probe = "import sys, convscope; print('torch' in sys.modules); convscope.explore; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split() \
        == ["False", "True"]
    with pytest.raises(AttributeError, match="no attribute 'exploer'"):
        convscope.exploer  # noqa: B018 - the attribute access is the test
