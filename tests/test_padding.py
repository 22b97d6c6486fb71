"""Padding modes against np.pad, and the backward of padding as its exact adjoint."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from convscope.engine.padding import pad, pad_backward

from strategies import examples

NUMPY_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@settings(max_examples=examples(200))
@given(shape=st.lists(st.integers(2, 5), min_size=1, max_size=3), mode=st.sampled_from(list(NUMPY_MODE)),
       data=st.data())
def test_pad_equals_numpy_and_backward_is_its_adjoint(shape, mode, data) -> None:
    limit = {"reflect": lambda n: n - 1, "circular": lambda n: n}.get(mode, lambda n: 3)
    pads = tuple((data.draw(st.integers(0, limit(n))), data.draw(st.integers(0, limit(n)))) for n in shape)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, *shape))
    padded = pad(x, pads, mode)
    np.testing.assert_array_equal(padded, np.pad(x, ((0, 0), *pads), mode=NUMPY_MODE[mode]))
    g = rng.standard_normal(padded.shape)
    # <pad(x), g> == <x, pad_backward(g)> for every x and g: the definition of the adjoint.
    np.testing.assert_allclose(np.vdot(padded, g), np.vdot(x, pad_backward(g, pads, mode)))
