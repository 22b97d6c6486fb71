"""The engine's guards (issue 12): sizes, empty tensors and tensor types.

Each request here either raises a ConvScopeError whose message names the size, the
limit and the fix, or computes exactly what torch computes, and does so without
allocating much. The requests that used to hang (the cost model walking a 2**62-wide
tile row) or to ask for terabytes run in a subprocess with a timeout, so a regression
fails this file instead of hanging CI; tracemalloc (NumPy reports its buffers to it)
shows that nothing big was allocated on the way to the error. No wall-clock times are
asserted: the timeout is a hang guard only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import convscope as cs
from convscope.engine import workspace
from convscope.engine.algorithms import ALGORITHMS, Problem, choose, winograd
from convscope.engine.dispatch import backend_names
from convscope.engine.workspace import DEFAULT_ARRAY_LIMIT, DEFAULT_BUDGET, array_limit, max_array_bytes

SMALL = 16 * 2**20  # more than a few of the test's own arrays; far less than any refused request
HANG_GUARD_S = 120  # generous for a 2-core CI machine: the cases take well under a second each


def run_isolated(body: str) -> list[dict]:
    """Run ``body`` in a fresh interpreter; it calls ``case(name, fn)`` per request.

    Each case reports, as one JSON line printed as soon as it ends, the error it raised
    (class, ConvScopeError or not, message) and the peak traced allocation; a case that
    hangs leaves the earlier lines and fails the test with its name.
    """
    prelude = textwrap.dedent('''
        import json, sys, tracemalloc
        import numpy as np
        import convscope as cs

        def case(name, fn):
            print(json.dumps({"start": name}), flush=True)
            tracemalloc.start()
            result = {"name": name, "error": None}
            try:
                value = fn()
                result["value"] = repr(getattr(value, "shape", value))
            except Exception as exc:
                result.update(error=type(exc).__name__, scope=isinstance(exc, cs.ConvScopeError), message=str(exc))
            result["peak"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(json.dumps(result), flush=True)
    ''')
    try:
        done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(body)], capture_output=True,
                              text=True, timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        started = [json.loads(line)["start"] for line in out.splitlines() if '"start"' in line]
        pytest.fail(f"hung for {HANG_GUARD_S} s in case {started[-1] if started else '(import)'}")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if '"name"' in line]


def assert_refused(result: dict, *fragments: str) -> None:
    """A ConvScopeError whose message holds every fragment, after allocating little."""
    assert result["error"] is not None, f"{result['name']}: computed {result.get('value')} instead of refusing"
    assert result["scope"], f"{result['name']}: raw {result['error']}: {result['message']}"
    for fragment in fragments:
        assert fragment in result["message"], f"{result['name']}: {fragment!r} not in {result['message']!r}"
    assert result["peak"] < SMALL, f"{result['name']}: allocated {result['peak']} bytes before refusing"


# --- 1 and 3: sizes ------------------------------------------------------------------------------------


def test_huge_padding_dilation_and_stride_are_refused_before_anything_is_allocated() -> None:
    results = run_isolated('''
        x, w = np.zeros((1, 1, 5, 5)), np.ones((1, 1, 3, 3))
        case("padding 2**62", lambda: cs.conv2d(x, w, padding=2**62))
        case("padding 2**62, backward", lambda: cs.conv2d_backward(np.ones((1, 1, 3, 3)), x, w, padding=2**62))
        case("dilation and padding 10**6", lambda: cs.conv2d(x, w, dilation=10**6, padding=10**6))
        wide = np.broadcast_to(np.float32(1), (1, 1, 50000, 50000))  # 9.3 GiB of one value, as a view
        case("transposed stride 10000", lambda: cs.conv_transpose2d(wide, np.ones((1, 1, 3, 3), np.float32),
                                                                    stride=10000))
        # integers must be converted before validation: the copy itself is the danger
        ints = np.broadcast_to(np.int64(1), (1, 1, 50000, 50000))
        case("broadcast int input", lambda: cs.conv2d(ints, np.ones((1, 1, 1, 1), np.float32)))
        case("pooling kernel 10**7", lambda: cs.max_pool2d(np.zeros((1, 1, 5, 5)), 10**7, padding=5 * 10**6))
        case("conv3d stride", lambda: cs.conv_transpose3d(np.ones((1, 1, 9, 9, 9)), np.ones((1, 1, 2, 2, 2)),
                                                          stride=10**5))
    ''')
    by_name = {r["name"]: r for r in results}
    assert len(by_name) == 7
    # int64 overflow: no limit could allow it, and the message says so (and names the padding)
    assert_refused(by_name["padding 2**62"], "padded input", "2**63 - 1 bytes", "4 GiB",
                   "padding (4611686018427387904, 4611686018427387904)", "typo")
    assert_refused(by_name["padding 2**62, backward"], "2**63 - 1 bytes")
    assert_refused(by_name["dilation and padding 10**6"], "padded input", "(1, 1, 2000005, 2000005)",
                   "29.1 TiB", "at most 4 GiB", "dilation (1000000, 1000000)", "array_limit(")
    assert_refused(by_name["transposed stride 10000"], "output before the crop", "(1, 1, 499990003, 499990003)",
                   "at most 4 GiB", "stride (10000, 10000)")
    assert_refused(by_name["broadcast int input"], "converted to float32", "9.31 GiB", "at most 4 GiB")
    assert_refused(by_name["pooling kernel 10**7"], "padded input", "at most 4 GiB", "kernel_size (10000000")
    assert_refused(by_name["conv3d stride"], "output before the crop", "at most 4 GiB")
    for result in results:
        assert result["error"] == "ArrayTooLargeError", result


def test_the_cost_model_is_closed_form_even_past_validation() -> None:
    """The planner alone (no guard in front) answers at once for a 2**62-wide problem."""
    results = run_isolated('''
        from convscope.engine import banding, validate
        from convscope.engine.algorithms import ALGORITHMS, Problem, choose, winograd
        from convscope.engine.fast_backend import _polyphase_cost

        n = 2**63 + 5
        huge = Problem(1, 1, 1, 1, (n, n), (3, 3), (1, 1), (1, 1), (n - 2, n - 2), 8)
        case("winograd2 cost", lambda: winograd.F2.cost(huge))
        case("winograd4 cost", lambda: winograd.F4.cost(huge))
        case("choose", lambda: choose(huge))
        case("every cost", lambda: [a.cost(huge) for a in ALGORITHMS.values() if a.unsupported(huge) is None])
        # the exact path that hung: the spec builder without its guard, then the row bands
        spec = validate._conv_spec("conv2d", 2, (1, 1, 5, 5), (1, 1, 3, 3), None, 1, 2**62, 1, 1, "zeros")
        case("band_rows", lambda: banding.band_rows(np.zeros((1, 1, 5, 5)), spec, "auto"))
        many = Problem(10**9, 1, 1, 1, (3, 3), (3, 3), (1, 1), (1, 1), (1, 1), 4)  # a billion tiny images
        case("winograd cost, huge batch", lambda: winograd.F2.cost(many))
        dilated = Problem(1, 1, 1, 1, (10**8,), (2,), (1,), (5 * 10**7,), (5 * 10**7,), 4)
        case("polyphase cost", lambda: _polyphase_cost(dilated))
    ''')
    assert [r["name"] for r in results] == ["winograd2 cost", "winograd4 cost", "choose", "every cost", "band_rows",
                                            "winograd cost, huge batch", "polyphase cost"]
    for result in results:
        assert result["error"] is None, result


def test_phases_closed_form_matches_the_search_it_replaced() -> None:
    def searched(tw: int) -> tuple[int, int]:
        need = tw + 1
        phases = min(range(2, need + 1), key=lambda q: q * -(-need // q) + q / 2)
        return phases, -(-need // phases)

    for tw in range(1, 3000):
        assert winograd._phases(tw) == searched(tw), tw


def test_just_under_the_limit_computes_and_just_over_is_refused() -> None:
    x, w = np.ones((1, 1, 30, 30), np.float32), np.ones((2, 1, 3, 3), np.float32)
    padded_bytes = 32 * 32 * 4  # padding 1: the largest array is the (1, 1, 32, 32) padded input ...
    output_bytes = 2 * 30 * 30 * 4  # ... or the (1, 2, 30, 30) output, 7200 bytes
    with array_limit(max(padded_bytes, output_bytes)):
        np.testing.assert_allclose(cs.conv2d(x, w, padding=1), F.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                                                                        padding=1).numpy(), rtol=1e-6)
    with array_limit(output_bytes - 1), pytest.raises(cs.ArrayTooLargeError) as err:
        cs.conv2d(x, w, padding=1)
    message = str(err.value)
    assert "output" in message and "(1, 2, 30, 30)" in message and "7200 bytes" in message
    assert "at most 7.03 KiB (7199 bytes)" in message
    assert "array_limit(7200)" in message  # the fix names the limit that would do


def test_the_limit_covers_backward_passes_and_pooling() -> None:
    x = np.ones((1, 1, 64, 64), np.float32)
    with array_limit(4096):
        with pytest.raises(cs.ArrayTooLargeError):
            cs.conv2d_backward(np.ones((1, 1, 62, 62), np.float32), x, np.ones((1, 1, 3, 3), np.float32))
        with pytest.raises(cs.ArrayTooLargeError):
            cs.max_pool2d_backward(np.ones((1, 1, 32, 32), np.float32), x, 2)
        with pytest.raises(cs.ArrayTooLargeError):
            cs.avg_pool2d(x, 2)
        with pytest.raises(cs.ArrayTooLargeError):
            cs.conv_transpose2d_backward(np.ones((1, 1, 66, 66), np.float32), x, np.ones((1, 1, 3, 3), np.float32))


def test_a_refused_request_allocates_nothing_in_process() -> None:
    x, w = np.zeros((1, 1, 5, 5), np.float32), np.ones((1, 1, 3, 3), np.float32)
    tracemalloc.start()
    try:
        with pytest.raises(cs.ArrayTooLargeError):
            cs.conv2d(x, w, dilation=10**6, padding=10**6)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < SMALL


def test_set_limit_and_bad_values() -> None:
    assert max_array_bytes() == DEFAULT_ARRAY_LIMIT
    try:
        workspace.set_max_array_bytes(1000)
        with pytest.raises(cs.ArrayTooLargeError, match="at most 1000 bytes"):
            cs.conv1d(np.ones((1, 1, 300), np.float32), np.ones((1, 1, 3), np.float32))
    finally:
        workspace.set_max_array_bytes(DEFAULT_ARRAY_LIMIT)
    for bad in (0, -1, True, 2.5, 2**63):
        with pytest.raises(cs.ConvParameterError, match="set_max_array_bytes"):
            workspace.set_max_array_bytes(bad)
        with pytest.raises(cs.ConvParameterError):
            with array_limit(bad):
                pass
    assert max_array_bytes() == DEFAULT_ARRAY_LIMIT


def test_overrides_are_per_thread() -> None:
    """One thread's ``with`` block does not change what another thread sees, for either setting."""
    inside, checked = threading.Barrier(2), threading.Barrier(2)
    seen: dict[str, object] = {}

    def overriding() -> None:
        with array_limit(1024), workspace.workspace(2**20):
            inside.wait()
            try:
                cs.conv2d(np.ones((1, 1, 32, 32), np.float32), np.ones((1, 1, 3, 3), np.float32))
            except cs.ArrayTooLargeError:
                seen["refused here"] = True
            seen["own"] = (max_array_bytes(), workspace.workspace_budget())
            checked.wait()

    def other() -> None:
        inside.wait()  # the other thread is inside its block now
        seen["other"] = (max_array_bytes(), workspace.workspace_budget())
        seen["computed there"] = cs.conv2d(np.ones((1, 1, 32, 32), np.float32),
                                           np.ones((1, 1, 3, 3), np.float32)).shape
        checked.wait()

    threads = [threading.Thread(target=overriding), threading.Thread(target=other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert seen == {"refused here": True, "own": (1024, 2**20), "other": (DEFAULT_ARRAY_LIMIT, DEFAULT_BUDGET),
                    "computed there": (1, 1, 30, 30)}


def test_set_workspace_budget_keeps_its_single_threaded_meaning() -> None:
    assert workspace.workspace_budget() == DEFAULT_BUDGET
    with workspace.workspace(8 * 2**20):
        workspace.set_workspace_budget(4 * 2**20)  # inside a block: this block's budget, restored on exit
        assert workspace.workspace_budget() == 4 * 2**20
    assert workspace.workspace_budget() == DEFAULT_BUDGET
    try:
        workspace.set_workspace_budget(2 * 2**20)  # outside: the process-wide budget, seen by every thread
        seen = []
        thread = threading.Thread(target=lambda: seen.append(workspace.workspace_budget()))
        thread.start()
        thread.join()
        assert seen == [2 * 2**20]
        assert [(s.start, s.stop) for s in workspace.chunks(3, 2**20)] == [(0, 2), (2, 3)]  # chunks use it too
    finally:
        workspace.set_workspace_budget(DEFAULT_BUDGET)


# --- 2: empty tensors, against torch --------------------------------------------------------------------

RNG = np.random.default_rng(12)


def data(shape: tuple[int, ...] | None) -> np.ndarray | None:
    return None if shape is None else RNG.standard_normal(shape).astype(np.float32)


def torch_conv(nd: int, x, w, b, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """What nn.ConvNd does: F.pad for the non-zero modes, then the functional."""
    conv = getattr(F, f"conv{nd}d")
    if padding_mode == "zeros":
        return conv(x, w, b, stride, padding, dilation, groups)
    pads = [padding] * (2 * nd) if isinstance(padding, int) else [p for p in reversed(padding) for _ in (0, 1)]
    return conv(F.pad(x, pads, mode=padding_mode), w, b, stride, 0, dilation, groups)


def _sp(nd: int, n: int, first: int | None = None) -> tuple[int, ...]:
    return ((n if first is None else first),) + (n,) * (nd - 1)


CONV_CASES = [
    # (id, nd, x shape, w shape, b shape, keyword arguments)
    *[(f"conv{nd}d empty batch", nd, (0, 2) + _sp(nd, 5), (3, 2) + _sp(nd, 3), (3,), dict(padding=1))
      for nd in (1, 2, 3)],
    *[(f"conv{nd}d no input channels", nd, (2, 0) + _sp(nd, 5), (3, 0) + _sp(nd, 3), (3,), dict(stride=2))
      for nd in (1, 2, 3)],
    ("conv1d on a (0, 5) input", 1, (0, 5), (1, 0, 3), None, {}),
    ("conv1d on a (0, 5) input, bias", 1, (0, 5), (2, 0, 3), (2,), {}),
    ("conv2d unbatched, no channels", 2, (0, 5, 5), (3, 0, 3, 3), (3,), dict(padding="same")),
    ("conv2d no channels, groups 2", 2, (1, 0, 5, 5), (4, 0, 3, 3), None, dict(groups=2)),
    ("conv2d empty batch and channels", 2, (0, 0, 5, 5), (3, 0, 3, 3), (3,), {}),
    ("conv2d empty batch, empty axis padded", 2, (0, 1, 0, 5), (1, 1, 3, 3), None, dict(padding=2)),
    ("conv2d no channels, empty axis padded", 2, (1, 0, 0, 5), (1, 0, 3, 3), None, dict(padding=2)),
    ("conv2d empty batch, huge padding", 2, (0, 1, 5, 5), (1, 1, 3, 3), None, dict(padding=10**6)),
    ("conv2d empty batch, reflect", 2, (0, 1, 5, 5), (3, 1, 3, 3), None, dict(padding=1, padding_mode="reflect")),
    ("conv2d empty batch, replicate", 2, (0, 1, 5, 5), (3, 1, 3, 3), None, dict(padding=1, padding_mode="replicate")),
    ("conv2d no channels, circular", 2, (1, 0, 5, 5), (3, 0, 3, 3), None, dict(padding=1, padding_mode="circular")),
    # torch refuses these
    ("conv2d no output channels", 2, (1, 1, 5, 5), (0, 1, 3, 3), None, {}),
    ("conv2d no output channels, empty batch", 2, (0, 1, 5, 5), (0, 1, 3, 3), (0,), {}),
    ("conv2d empty axis", 2, (1, 1, 0, 5), (1, 1, 3, 3), None, dict(padding=2)),
    ("conv2d empty batch, empty axis unpadded", 2, (0, 1, 0, 5), (1, 1, 1, 1), None, {}),
    ("conv2d empty batch, kernel too large", 2, (0, 1, 2, 2), (3, 1, 3, 3), None, {}),
    ("conv2d no channels, kernel too large", 2, (1, 0, 2, 2), (3, 0, 3, 3), None, {}),
    ("conv2d empty kernel", 2, (1, 1, 5, 5), (1, 1, 0, 3), None, {}),
    ("conv2d no channels, reflect", 2, (1, 0, 5, 5), (3, 0, 3, 3), None, dict(padding=1, padding_mode="reflect")),
    ("conv2d no channels, replicate", 2, (1, 0, 5, 5), (3, 0, 3, 3), None,
     dict(padding=1, padding_mode="replicate")),
    ("conv1d unbatched empty axis", 1, (1, 0), (3, 1, 3), None, dict(padding=2)),
]


def _torch_or_error(fn):
    try:
        return fn(), None
    except (RuntimeError, ValueError, IndexError) as exc:  # torch's own refusals
        return None, exc


def _tensors(*arrays):
    return [None if a is None else torch.from_numpy(a.copy()).requires_grad_(True) for a in arrays]


def _torch_grads(out: torch.Tensor, leaves, seed: int = 0):
    gy = np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(torch.from_numpy(gy))
    return gy, [None if t is None else (t.grad if t.grad is not None else torch.zeros_like(t)).numpy()
                for t in leaves]


def assert_same(ours: np.ndarray, theirs: np.ndarray, what: str) -> None:
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != torch {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != torch {theirs.dtype}"
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5, err_msg=what)


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_empty_convolutions_match_torch(case) -> None:
    name, nd, x_shape, w_shape, b_shape, kw = case
    _forward_and_backward_as_torch(name, f"conv{nd}d", lambda tx, tw, tb: torch_conv(nd, tx, tw, tb, **kw),
                                   x_shape, w_shape, b_shape, kw)


def _forward_and_backward_as_torch(name, op, torch_fn, x_shape, w_shape, b_shape, kw) -> None:
    """convscope's ``op`` and its backward give torch's answer, or refuse where torch refuses."""
    x, w, b = data(x_shape), data(w_shape), data(b_shape)
    tx, tw, tb = _tensors(x, w, b)
    out, refused = _torch_or_error(lambda: torch_fn(tx, tw, tb))
    forward, backward = getattr(cs, op), getattr(cs, f"{op}_backward")
    if refused is not None:
        with pytest.raises(cs.ConvScopeError):
            forward(x, w, b, **kw)
        return
    assert_same(forward(x, w, b, **kw), out.detach().numpy(), f"{name}: forward")
    gy, (gx, gw, gb) = _torch_grads(out, (tx, tw, tb))
    ours = backward(gy, x, w, **kw)
    assert_same(ours[0], gx, f"{name}: grad_input")
    assert_same(ours[1], gw, f"{name}: grad_weight")
    if gb is not None:
        assert_same(ours[2], gb, f"{name}: grad_bias")


TRANSPOSE_CASES = [
    *[(f"conv_transpose{nd}d empty batch", nd, (0, 2) + _sp(nd, 5), (2, 3) + _sp(nd, 3), (3,), dict(stride=2))
      for nd in (1, 2, 3)],
    ("conv_transpose2d empty batch, empty axis", 2, (0, 2, 0, 5), (2, 3, 3, 3), (3,), {}),
    ("conv_transpose2d empty batch, empty output axis", 2, (0, 2, 0, 5), (2, 3, 1, 3), (3,), {}),
    ("conv_transpose2d empty batch, output 0 from size 1", 2, (0, 2, 1, 5), (2, 3, 2, 3), None,
     dict(padding=(1, 0))),
    ("conv_transpose1d empty batch, empty axis", 1, (0, 2, 0), (2, 3, 3), None, {}),
    # torch refuses these
    ("conv_transpose2d empty batch, negative output", 2, (0, 2, 0, 5), (2, 3, 3, 3), None,
     dict(stride=3, padding=1)),
    ("conv_transpose2d no input channels", 2, (1, 0, 5, 5), (0, 3, 3, 3), (3,), dict(stride=2)),
    ("conv_transpose1d (0, 5) input", 1, (0, 5), (0, 3, 3), None, {}),
    ("conv_transpose2d no output channels", 2, (1, 2, 5, 5), (2, 0, 3, 3), None, dict(stride=2)),
    ("conv_transpose2d no output channels, empty batch", 2, (0, 2, 5, 5), (2, 0, 3, 3), None, {}),
    ("conv_transpose2d empty axis", 2, (1, 2, 0, 5), (2, 3, 3, 3), None, {}),
    ("conv_transpose2d empty output", 2, (1, 2, 1, 5), (2, 3, 2, 3), None, dict(padding=(1, 0))),
    ("conv_transpose1d unbatched empty axis", 1, (2, 0), (2, 3, 3), None, {}),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=[c[0] for c in TRANSPOSE_CASES])
def test_empty_transposed_convolutions_match_torch(case) -> None:
    name, nd, x_shape, w_shape, b_shape, kw = case
    op = f"conv_transpose{nd}d"
    _forward_and_backward_as_torch(name, op, lambda tx, tw, tb: getattr(F, op)(tx, tw, tb, **kw),
                                   x_shape, w_shape, b_shape, kw)


POOL_CASES = [
    (kind, nd, label, shape)
    for kind in ("max", "avg") for nd in (1, 2, 3)
    for label, shape in (("empty batch", (0, 2) + _sp(nd, 5)), ("no channels", (2, 0) + _sp(nd, 5)),
                         ("unbatched, no channels", (0,) + _sp(nd, 5)), ("empty axis", (1, 2) + _sp(nd, 5, 0)),
                         ("empty batch and axis", (0, 2) + _sp(nd, 5, 0)),
                         ("empty batch, too small", (0, 2) + _sp(nd, 1)))
]


@pytest.mark.parametrize("case", POOL_CASES, ids=[f"{c[0]}_pool{c[1]}d {c[2]}" for c in POOL_CASES])
def test_empty_pooling_matches_torch(case) -> None:
    kind, nd, label, shape = case
    x = data(shape)
    (tx,) = _tensors(x)
    out, refused = _torch_or_error(lambda: getattr(F, f"{kind}_pool{nd}d")(tx, 2))
    forward, backward = getattr(cs, f"{kind}_pool{nd}d"), getattr(cs, f"{kind}_pool{nd}d_backward")
    if refused is not None:
        with pytest.raises(cs.ConvScopeError):
            forward(x, 2)
        with pytest.raises(cs.ConvScopeError):
            backward(np.zeros((0,)), x, 2)
        return
    assert_same(forward(x, 2), out.detach().numpy(), f"{kind}_pool{nd}d {label}: forward")
    gy, (gx,) = _torch_grads(out, (tx,))
    assert_same(backward(gy, x, 2), gx, f"{kind}_pool{nd}d {label}: grad_input")
    if kind == "max":
        values, indices = forward(x, 2, return_indices=True)
        t_values, t_indices = getattr(F, f"max_pool{nd}d")(tx, 2, return_indices=True)
        assert values.shape == tuple(t_values.shape) and indices.shape == tuple(t_indices.shape)


def test_empty_batch_with_huge_padding_is_fine_but_an_unrepresentable_one_is_refused() -> None:
    """torch returns (0, 1, 2000003, 2000003), which NumPy can hold (it is empty); at padding
    2**40 torch's empty shape multiplies past 2**63 and NumPy cannot describe it."""
    x, w = np.zeros((0, 1, 5, 5), np.float32), np.ones((1, 1, 3, 3), np.float32)
    assert cs.conv2d(x, w, padding=10**6).shape == (0, 1, 2000003, 2000003)
    with pytest.raises(cs.ArrayTooLargeError, match="larger than any array can be"):
        cs.conv2d(x, w, padding=2**40)


def test_the_bias_of_a_layer_without_input_channels_is_not_added() -> None:
    """torch 2.13 returns (N, 0, ...) for zero input channels, with no trace of the bias."""
    y = cs.conv2d(np.zeros((2, 0, 5, 5), np.float32), np.ones((3, 0, 3, 3), np.float32),
                  np.array([1.0, 2.0, 3.0], np.float32))
    want = F.conv2d(torch.zeros(2, 0, 5, 5), torch.ones(3, 0, 3, 3), torch.tensor([1.0, 2.0, 3.0]))
    assert y.shape == tuple(want.shape) == (2, 0, 3, 3)


def test_empty_inputs_never_reach_the_cost_model() -> None:
    """The ZeroDivisionError came from im2col's cost with no channels; its cost is now finite too."""
    for backend in backend_names():
        if backend == "torch":
            continue
        assert cs.conv2d(np.zeros((1, 0, 5, 5)), np.ones((2, 0, 3, 3)), backend=backend).shape == (1, 0, 3, 3)
    empty = Problem(1, 0, 2, 1, (5, 5), (3, 3), (1, 1), (1, 1), (3, 3))
    assert choose(empty) in ALGORITHMS


# --- 4: tensor types -------------------------------------------------------------------------------------

W = torch.ones(1, 1, 3, 3)


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")  # deprecated, still produced
@pytest.mark.parametrize("make, fix", [
    (lambda: torch.ones(1, 1, 5, 5, dtype=torch.bfloat16), "input.float()"),
    (lambda: torch.ones(1, 1, 5, 5).to(torch.float8_e4m3fn), "input.float()"),
    (lambda: torch.ones(1, 1, 5, 5, device="meta"), "device='cpu'"),
    (lambda: torch.ones(1, 1, 5, 5).to_sparse(), "input.to_dense()"),
    (lambda: torch.quantize_per_tensor(torch.ones(1, 1, 5, 5), 0.1, 0, torch.quint8), "input.dequantize()"),
], ids=["bfloat16", "float8", "meta", "sparse", "quantized"])
def test_tensors_numpy_cannot_read_name_the_conversion(make, fix) -> None:
    with pytest.raises(cs.TensorTypeError) as err:
        cs.conv2d(make(), W)
    assert fix in str(err.value)


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta:UserWarning")
def test_bad_weight_tensors_are_named_as_the_weight() -> None:
    x = torch.ones(1, 1, 5, 5)
    with pytest.raises(cs.TensorTypeError, match=r"weight is bfloat16.*weight\.float\(\)"):
        cs.conv2d(x, W.to(torch.bfloat16))
    with pytest.raises(cs.TensorTypeError, match=r"weight is a sparse_csr tensor.*weight\.to_dense\(\)"):
        cs.conv2d(x, W[0, 0].to_sparse_csr())
    with pytest.raises(cs.TensorTypeError, match="meta tensor"):
        cs.conv_transpose2d(x, torch.ones(1, 1, 3, 3, device="meta"))
    with pytest.raises(cs.TensorTypeError, match="bfloat16"):
        cs.max_pool2d(x.to(torch.bfloat16), 2)


def test_float16_and_lazy_view_tensors_keep_working() -> None:
    x = torch.randn(1, 2, 6, 6, generator=torch.Generator().manual_seed(0))
    w = torch.randn(3, 2, 3, 3, generator=torch.Generator().manual_seed(1))
    y = cs.conv2d(x.half(), w.half())
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, F.conv2d(x.half().float(), w.half().float()).numpy(), rtol=1e-5, atol=1e-5)
    negated = torch._neg_view(x)  # a lazy negation that Tensor.numpy() refuses until resolved
    np.testing.assert_allclose(cs.conv2d(negated, w), F.conv2d(-x, w).numpy(), rtol=1e-5, atol=1e-5)
