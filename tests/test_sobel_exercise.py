"""Seed 003's exercise: the hand-set Conv2d against SciPy and torch, and the learned kernel."""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

from convscope.images import sample
from convscope.lessons import sobel_exercise as exercise


def test_hand_set_conv2d_matches_scipy_inside_and_differs_only_on_the_border():
    image = sample("camera")[::8, ::8].copy()
    hand = exercise.hand_set(image)
    assert hand.channels.shape == (2, 64, 64)
    # an independent route: torch's own Conv2d with the weights typed in here
    conv = torch.nn.Conv2d(1, 2, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[-1., 0, 1], [-2, 0, 2], [-1, 0, 1]]],
                                        [[[-1., -2, -1], [0, 0, 0], [1, 2, 1]]]]))
        np.testing.assert_allclose(hand.channels, conv(torch.from_numpy(image)[None, None])[0].numpy(), atol=1e-5)
    assert hand.interior_max_diff < 1e-5 and hand.zero_border_max_diff < 1e-5 and hand.convolve_sum_max < 1e-5
    frame_difference = np.abs(hand.channels[0] - ndimage.sobel(image, axis=1))
    assert frame_difference[1:-1, 1:-1].max() < 1e-5 and frame_difference[:, 0].max() > 0.1
    assert hand.border_pixels_differing > 0 and hand.border_max_diff > 0.1
    assert any("mirrors the border" in line for line in hand.lines())


def test_learning_from_random_weights_finds_sobel_by_engine_and_by_torch_alike():
    image = sample("camera")[::16, ::16].copy()
    result = exercise.run_exercise(image, steps=300, lr=0.1, seed=3)
    engine, torch_run = result.engine, result.torch
    assert engine.losses[-1] < 1e-3 * engine.losses[0]
    assert engine.final_error < 0.01
    assert not np.allclose(engine.snapshots[0], exercise.SOBEL_WEIGHT, atol=0.5)  # it really started elsewhere
    np.testing.assert_allclose(engine.losses, torch_run.losses, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(engine.final_weight, torch_run.final_weight, atol=1e-5)
    summary = result.summary()
    assert summary["max_loss_gap_engine_vs_torch"] < 1e-12 and len(summary["engine_final_weight"]) == 2


def test_the_bonus_starts_from_sobel_and_learns_what_it_missed_on_noisy_edges():
    """Seed 003's bonus: from the Sobel weights, trained to find a clean image's Sobel edges in a
    noisy copy: the engine's descent and torch's autograd take the same steps, the loss falls below
    Sobel's own, and the weights drift toward less noise (a smaller sum of squares)."""
    import numpy as np

    from convscope.images import sample
    from convscope.lessons import sobel_exercise as se

    image = np.ascontiguousarray(sample("camera", mode="grey")[::16, ::16])     # 32x32
    result = se.bonus(image, steps=150)
    assert np.array_equal(result.engine.snapshots[0], se.SOBEL_WEIGHT.astype(np.float32))   # it starts at Sobel
    assert result.torch is not None
    np.testing.assert_allclose(result.engine.losses, result.torch.losses, rtol=1e-9, atol=1e-15)
    assert result.engine.losses[-1] < 0.95 * result.engine.losses[0]
    assert se.BonusResult.noise_gain(result.engine.final_weight) < se.BonusResult.noise_gain(se.SOBEL_WEIGHT)
    profile = se.BonusResult.row_profile(result.engine.final_weight)
    assert profile[0] == 1 and profile[1] < 2                                      # flatter than 1 : 2 : 1
    assert any(line.startswith("what Sobel missed: the noise") for line in result.lines())
