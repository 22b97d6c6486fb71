"""The engine under threads: the web server calls it from a thread pool, so 8 threads calling at
once must compute what one thread computes alone (and must not abort the process: numba's
work-queue layer does when two threads launch parallel loops together).

Each case is sized so the compiled direct loops take their parallel copy (over 2 M flops),
and each is checked against torch first, so "agrees with the sequential result" cannot hide a
wrong sequential result.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import convscope as cs

from oracle import assert_matches

THREADS = 8
ROUNDS = 3
rng = np.random.default_rng(7)
X = rng.standard_normal((2, 8, 48, 48)).astype(np.float32)         # (N, C, H, W)
W3 = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)          # direct 3x3, four channels a task
W5 = rng.standard_normal((6, 8, 5, 5)).astype(np.float32)          # the general direct loop
WD = rng.standard_normal((8, 1, 3, 3)).astype(np.float32)          # depthwise
GY = rng.standard_normal((2, 8, 48, 48)).astype(np.float32)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a)


def _backward_oracle(x, w, gy, **kw):
    xt, wt = _t(x).requires_grad_(), _t(w).requires_grad_()
    F.conv2d(xt, wt, **kw).backward(_t(gy))
    return xt.grad, wt.grad, _t(gy).sum((0, 2, 3))


CASES = {
    "conv2d 3x3 direct": (lambda: cs.conv2d(X, W3, padding=1, backend="direct"),
                          lambda: F.conv2d(_t(X), _t(W3), padding=1)),
    "conv2d 3x3 auto": (lambda: cs.conv2d(X, W3, padding=1), lambda: F.conv2d(_t(X), _t(W3), padding=1)),
    "conv2d 5x5 stride 2": (lambda: cs.conv2d(X, W5, stride=2, padding=2, backend="direct"),
                            lambda: F.conv2d(_t(X), _t(W5), stride=2, padding=2)),
    "conv2d depthwise dilated": (lambda: cs.conv2d(X, WD, padding=2, dilation=2, groups=8),
                                 lambda: F.conv2d(_t(X), _t(WD), padding=2, dilation=2, groups=8)),
    "conv_transpose2d": (lambda: cs.conv_transpose2d(X, W3, stride=2, padding=1, output_padding=1),
                         lambda: F.conv_transpose2d(_t(X), _t(W3), stride=2, padding=1, output_padding=1)),
    "max_pool2d": (lambda: cs.max_pool2d(X, 3, stride=2, padding=1), lambda: F.max_pool2d(_t(X), 3, 2, 1)),
    "avg_pool2d": (lambda: cs.avg_pool2d(X, 2), lambda: F.avg_pool2d(_t(X), 2)),
    "conv2d_backward": (lambda: cs.conv2d_backward(GY, X, W3, padding=1),
                        lambda: _backward_oracle(X, W3, GY, padding=1)),
    "conv2d_backward depthwise": (lambda: cs.conv2d_backward(GY, X, WD, padding=1, groups=8),
                                  lambda: _backward_oracle(X, WD, GY, padding=1, groups=8)),
    "max_pool2d_backward": (lambda: cs.max_pool2d_backward(np.ones((2, 8, 24, 24), np.float32), X, 2),
                            None),
}


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("name", list(CASES))
def test_threads_agree_with_one_thread(name):
    ours, oracle = CASES[name]
    alone = _as_tuple(ours())
    if oracle is not None:
        for index, (a, b) in enumerate(zip(alone, _as_tuple(oracle()))):
            assert_matches(a, b, f"{name} [{index}] alone vs torch")
    barrier = threading.Barrier(THREADS)
    results: list[list[tuple]] = [[] for _ in range(THREADS)]
    errors: list[BaseException] = []

    def work(slot: int) -> None:
        try:
            barrier.wait()  # start together: the case the work queue cannot take
            for _ in range(ROUNDS):
                results[slot].append(_as_tuple(ours()))
        except BaseException as error:  # reported below, with the thread's error
            errors.append(error)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, f"{name}: {errors[0]!r}"
    for slot, rounds in enumerate(results):
        assert len(rounds) == ROUNDS
        for got in rounds:
            for index, (a, b) in enumerate(zip(got, alone)):
                # the same algorithm on the same numbers: identical, not merely close
                np.testing.assert_array_equal(a, b, err_msg=f"{name} [{index}] thread {slot}")
