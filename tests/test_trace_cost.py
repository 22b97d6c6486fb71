"""trace's cost and manners: mult-adds per output position (against FlopCounterMode on a ViT-shaped and a
ConvNeXt-shaped model, and torchinfo where torchinfo is right), the model left bitwise as it was, the
gradient measurement only where asked or cheap, and tables that fit 100 columns."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import torchinfo
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from typer.testing import CliRunner

from convscope.cli import app
from convscope.inspect import trace

import nets

NETS = str(Path(__file__).with_name("nets.py"))


# --- models built here -------------------------------------------------------------------------------------

class Attention(nn.Module):
    """Multi-head self-attention on (B, T, D): by F.scaled_dot_product_attention, by @, or by einsum."""

    def __init__(self, dim: int, heads: int, how: str = "sdpa") -> None:
        super().__init__()
        self.heads, self.how = heads, how
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        if self.how == "sdpa":
            out = F.scaled_dot_product_attention(q, k, v)
        elif self.how == "matmul":
            out = (q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5).softmax(-1) @ v
        else:
            weights = torch.einsum("bhqd,bhkd->bhqk", q, k).softmax(-1)
            out = torch.einsum("bhqk,bhkd->bhqd", weights, v)
        return self.proj(out.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, how: str) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads, how)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    """Patch embedding conv, a class token, position embeddings, attention blocks, a head on the class token."""

    def __init__(self, dim: int = 32, depth: int = 3, heads: int = 4, patch: int = 8, size: int = 32,
                 how: tuple[str, ...] = ("sdpa", "matmul", "einsum")) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (size // patch) ** 2 + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, how[i % len(how)]) for i in range(depth)])
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.pwconv1, self.act, self.pwconv2 = nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)                     # (B, H, W, C)
        y = self.gamma * self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + y.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    def __init__(self, dims: tuple[int, ...] = (16, 32)) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, dims[0], 4, stride=4)
        stages: list[nn.Module] = []
        for i, dim in enumerate(dims):
            if i:
                stages.append(nn.Conv2d(dims[i - 1], dim, 2, stride=2))
            stages += [ConvNeXtBlock(dim), ConvNeXtBlock(dim)]
        self.stages = nn.Sequential(*stages)
        self.norm, self.head = nn.LayerNorm(dims[-1]), nn.Linear(dims[-1], 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.stages(self.stem(x)).mean((2, 3))))


class MHAModel(nn.Module):
    def __init__(self, dim: int = 24, heads: int = 3, batch_first: bool = True) -> None:
        super().__init__()
        self.embed = nn.Linear(8, dim)
        self.mha = nn.MultiheadAttention(dim, heads, batch_first=batch_first)
        self.head = nn.Linear(dim, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        return self.head(self.mha(h, h, h)[0])


# --- the oracle: FlopCounterMode per module, biases by their output, norms by torchinfo ------------------------

def flop_counts(model: nn.Module, shape: tuple[int, ...]) -> dict[str, int]:
    """Total flops per module name (the root's class name first, as FlopCounterMode writes them); run with
    autograd on, so nn.MultiheadAttention takes its plain path, and scaled_dot_product_attention on its math
    backend (torch 2.13's fused CPU kernel has no flop formula: FlopCounterMode would count it as 0)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    counter = FlopCounterMode(display=False)
    with counter, sdpa_kernel(SDPBackend.MATH):
        model(torch.randn(shape))
    return {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}


def expected_mult_adds(model: nn.Module, shape: tuple[int, ...], name: str, module: nn.Module,
                       output: tuple[int, ...], flops: dict[str, int], norms: dict[int, int]) -> int:
    key = f"{type(model).__name__}.{name}"
    children = sum(flops.get(f"{key}.{child}", 0) for child, _ in module.named_children())
    own = (flops.get(key, 0) - children) // 2
    bias_adds = 0
    if isinstance(module, (nn.Linear, nn.Conv2d)) and module.bias is not None:
        bias_adds = torch.Size(output).numel()          # one add per output element
    if isinstance(module, nn.MultiheadAttention):
        b, lq, e = output
        bias_adds = b * 3 * lq * e + b * lq * e          # q, k, v and the output projection's biases
    return own + bias_adds + norms.get(id(module), 0)


def torchinfo_norms(model: nn.Module, shape: tuple[int, ...]) -> dict[int, int]:
    """torchinfo's mult-adds of each norm layer (its convention, which convscope keeps for norms)."""
    summary = torchinfo.summary(model, input_size=shape, verbose=0)
    return {id(layer.module): layer.macs for layer in summary.summary_list
            if isinstance(layer.module, (nn.LayerNorm, nn.BatchNorm2d))}


@pytest.mark.parametrize("build, shape", [
    (ViT, (2, 3, 32, 32)),
    (ConvNeXt, (2, 3, 32, 32)),
    (MHAModel, (2, 7, 8)),
], ids=["vit", "convnext", "multihead_attention"])
def test_mult_adds_per_output_position_equal_flop_counter(build, shape):
    torch.manual_seed(0)
    model = build().eval()
    flops = flop_counts(model, shape)
    norms = torchinfo_norms(model, shape)
    table = trace(model, shape, measure=False)
    total = 0
    for row in table.rows:
        module = model if row.depth == 0 else model.get_submodule(row.name)
        expected = expected_mult_adds(model, shape, row.name, module, row.output_shape, flops, norms) \
            if row.depth > 0 else (flops["Global"] - sum(v for k, v in flops.items() if k.count(".") == 1)) // 2
        assert row.mult_adds == expected, row.name
        total += expected
    assert table.total_mult_adds == total
    # nothing the flop counter saw is missing: every product is in some row
    biases = sum(torch.Size(r.output_shape).numel() for r in table.rows if r.type in ("Linear", "Conv2d")
                 and model.get_submodule(r.name).bias is not None)
    mha_bias = sum(r.mult_adds for r in table.rows if r.type == "MultiheadAttention") - \
        flops.get(f"{type(model).__name__}.mha", 0) // 2
    assert table.total_mult_adds == flops["Global"] // 2 + biases + max(mha_bias, 0) + sum(norms.values())


def test_linear_on_3d_input_is_counted_per_position_not_per_batch():
    model = nn.Sequential(nn.Linear(16, 32))
    table = trace(model, (2, 5, 16), measure=False)
    assert table.rows[1].mult_adds == (16 * 32 + 32) * 2 * 5          # torchinfo 1.8.0 says 2 * 544 (its #77)
    assert table.total_mult_adds == flop_counts(model, (2, 5, 16))["Global"] // 2 + 2 * 5 * 32


@pytest.mark.parametrize("build, shape", [(nets.LeNet, (3, 1, 28, 28)), (nets.small_vgg, (2, 3, 32, 32)),
                                          (lambda: nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 4)),
                                           (6, 20))], ids=["lenet", "small_vgg", "mlp"])
def test_still_torchinfo_where_torchinfo_is_right(build, shape):
    torch.manual_seed(0)
    model = build()
    ours = trace(model, shape, measure=False)
    theirs = torchinfo.summary(model, input_size=shape, verbose=0)
    assert ours.total_mult_adds == theirs.total_mult_adds
    assert [r.mult_adds for r in ours.rows if r.leaf and r.depth > 0] == \
        [layer.macs for layer in theirs.summary_list if layer.is_leaf_layer]


# --- the model as it was -----------------------------------------------------------------------------------------

class BatchNormNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.Dropout(0.5), nn.Conv2d(8, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU())
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))


@pytest.mark.parametrize("measure", [True, False, None])
def test_trace_leaves_a_train_mode_model_bitwise_as_it_was(measure):
    torch.manual_seed(0)
    model = BatchNormNet().train()
    model.features[3].eval()    # a sub-module's own flag is kept too
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = [m.training for m in model.modules()]
    table = trace(model, (2, 3, 16, 16), measure=measure)
    assert (any(r.measured for r in table.rows)) == (measure is not False)
    after = model.state_dict()
    assert before.keys() == after.keys()
    for key, value in before.items():
        assert torch.equal(value, after[key]) and value.dtype == after[key].dtype, key
    assert int(after["features.1.num_batches_tracked"]) == 0
    assert [m.training for m in model.modules()] == flags
    assert all(p.grad is None for p in model.parameters())


def test_trace_keeps_gradients_a_model_already_had():
    model = BatchNormNet()
    model(torch.randn(2, 3, 16, 16)).sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    trace(model, (2, 3, 16, 16), measure=True)
    assert all(torch.equal(a, p.grad) for a, p in zip(grads, model.parameters()))


# --- measuring: where asked, or where cheap ---------------------------------------------------------------------

def resnet50_shaped() -> nn.Module:
    import zoo

    return zoo.resnet_v1(50)


def test_a_resnet50_shaped_trace_takes_seconds_and_skips_the_measurement_saying_so():
    model = resnet50_shaped()
    start = time.perf_counter()
    table = trace(model, (1, 3, 224, 224))
    seconds = time.perf_counter() - start
    assert seconds < 30, seconds             # about 1.2 s on one core; the bound is for a busy CI machine
    assert not any(r.measured for r in table.rows)
    assert any("not measured" in note and "--measure" in note for note in table.notes)
    assert table.total_params == sum(p.numel() for p in model.parameters())


def test_small_models_are_measured_by_default_and_measure_false_never_measures():
    assert any(r.measured for r in trace(nets.rf_stack(), (1, 1, 96, 96)).rows)
    assert not any(r.measured for r in trace(nets.rf_stack(), (1, 1, 96, 96), measure=False).rows)


def test_batched_trials_measure_what_one_trial_at_a_time_measures():
    from convscope.inspect import receptive

    model = nets.ResNet18Shaped()
    batched = trace(model, (1, 3, 64, 64), measure=True)
    old = receptive.TRIAL_BATCH
    receptive.TRIAL_BATCH = 1
    try:
        single = trace(model, (1, 3, 64, 64), measure=True)
    finally:
        receptive.TRIAL_BATCH = old
    assert [r.measured for r in batched.rows] == [r.measured for r in single.rows]
    assert sum(1 for r in batched.rows if r.measured) > 40


# --- tables that fit ---------------------------------------------------------------------------------------------

runner = CliRunner()


def invoke(*args: str, columns: str | None = None):
    env = {"COLUMNS": columns} if columns is not None else {"COLUMNS": ""}
    return runner.invoke(app, list(args), env=env)


def test_a_resnet18_table_at_100_columns_is_golden_and_collapsed_to_a_readable_depth(golden):
    result = invoke("trace", f"{NETS}:ResNet18Shaped", "--input", "1,3,64,64", "--no-measure")
    assert result.exit_code == 0, result.output
    golden("trace_resnet18_100cols", result.stdout)
    lines = result.stdout.splitlines()
    assert all(len(line.rstrip()) <= 100 for line in lines)
    assert not any(re.search(r"│\s*,\d", line) or re.search(r"\d,\s*│", line) for line in lines)  # no fold
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) <= 60
    assert any(line.startswith("total params ") for line in lines)
    assert "mult-adds" in result.stdout and "-> output (1, 10)" in result.stdout


def test_a_resnet50_shaped_table_is_short_and_fits(tmp_path):
    source = tmp_path / "zoo_model.py"
    source.write_text(f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\nimport zoo\n"
                      "def resnet50():\n    return zoo.resnet_v1(50)\n")
    result = invoke("trace", f"{source}:resnet50", "--input", "1,3,224,224")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line.rstrip()) <= 100 for line in lines)
    assert len(lines) < 80                                       # it was 707
    assert "shown to depth" in result.stdout and "not measured" in result.stdout
    import zoo

    params = sum(p.numel() for p in zoo.resnet_v1(50).parameters())
    assert any(line.startswith(f"total params {params:,}") for line in lines)


def test_piped_width_follows_columns():
    wide = invoke("trace", f"{NETS}:LeNet", "--input", "1,1,28,28", "--no-measure", columns="160")
    narrow = invoke("trace", f"{NETS}:LeNet", "--input", "1,1,28,28", "--no-measure", columns="72")
    assert "input" in wide.stdout.splitlines()[2] and max(len(x.rstrip()) for x in wide.stdout.splitlines()) > 100
    assert all(len(line.rstrip()) <= 72 for line in narrow.stdout.splitlines())
    assert "122,304" in wide.stdout and ("122K" in narrow.stdout or "122,304" in narrow.stdout)


def test_measure_flag_asks_for_it_and_no_measure_still_works():
    measured = invoke("trace", f"{NETS}:rf_stack", "--input", "1,1,96,96", "--measure", "--json")
    plain = invoke("trace", f"{NETS}:rf_stack", "--input", "1,1,96,96", "--no-measure", "--json")
    import json

    assert all(layer["measured"] for layer in json.loads(measured.stdout)["layers"])
    assert not any(layer["measured"] for layer in json.loads(plain.stdout)["layers"])
