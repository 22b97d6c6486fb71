"""Seed 003's exercise, runnable: a hand-set Sobel Conv2d, checked against SciPy, then learned.

Part 1 builds ``Conv2d(1, 2, 3, padding=1, bias=False)`` with the Sobel-x and Sobel-y
kernels set by hand and compares its two channels with ``scipy.ndimage.sobel`` along
axis 1 and axis 0. They agree inside the image; on the one-pixel frame they differ,
because Conv2d pads with zeros while SciPy mirrors the border by default. The signs
agree (both correlate); a true convolution (``scipy.signal.convolve2d``) flips the
kernel and so negates both maps.

Part 2 starts from random weights and trains them, by gradient descent on the mean
squared error to the hand-set output, until they are Sobel again: once with the
engine's own backward pass and once with torch's autograd, from the same start, so the
two loss curves must coincide.

Part 3 is the lesson's bonus: start *from* Sobel and train on an edge task, finding the clean
image's Sobel edges in a noisy copy of it, and watch the weights drift. What the network finds
that Sobel missed is the noise: it averages more evenly along the edge and lowers its gain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine.conv import conv2d, conv2d_backward
from ..filters import SOBEL_X, SOBEL_Y

SOBEL_WEIGHT = np.stack([SOBEL_X.weights, SOBEL_Y.weights])[:, None]  # (2, 1, 3, 3): the Conv2d's weight
SNAPSHOT_STEPS = (0, 10, 30, 100, 300, 1000)


@dataclass
class HandSetResult:
    """Part 1: the Conv2d's channels and how they compare with SciPy."""

    image: np.ndarray               # (H, W)
    channels: np.ndarray            # (2, H, W): Sobel-x, Sobel-y through the engine's conv2d
    scipy: np.ndarray               # (2, H, W): ndimage.sobel axis=1, axis=0, default (mirror) border
    interior_max_diff: float        # max |ours - scipy| away from the one-pixel frame
    border_max_diff: float          # max |ours - scipy| on the frame
    border_pixels_differing: int    # frame pixels (both channels) that differ by more than 1e-5
    zero_border_max_diff: float     # against ndimage.sobel(mode="constant"): zeros like Conv2d
    convolve_sum_max: float         # max |ours + convolve2d(image, kernel)| inside: a true convolution negates
    torch_max_diff: float | None    # against a real torch nn.Conv2d with the same weights (None: no torch)

    def lines(self) -> list[str]:
        frame = 2 * (2 * self.image.shape[0] + 2 * self.image.shape[1] - 4)
        rows = [
            f"interior: max |conv2d - ndimage.sobel| = {self.interior_max_diff:.2e} (both channels)",
            f"border: {self.border_pixels_differing} of {frame} frame pixels differ, by up to "
            f"{self.border_max_diff:.3f}: Conv2d pads zeros, ndimage.sobel mirrors the border by default",
            f"with ndimage.sobel(mode='constant') (zeros, like Conv2d): max difference {self.zero_border_max_diff:.2e}",
            f"sign: ndimage.sobel correlates like Conv2d, so the signs agree; scipy.signal.convolve2d flips the "
            f"kernel: max |conv2d + convolve2d| inside = {self.convolve_sum_max:.2e} (it is the negated map)",
        ]
        if self.torch_max_diff is not None:
            rows.append(f"torch nn.Conv2d(1, 2, 3, padding=1, bias=False) with these weights: max difference "
                        f"{self.torch_max_diff:.2e}")
        return rows


def hand_set(image: np.ndarray) -> HandSetResult:
    """Part 1 on a grey (H, W) image."""
    from scipy import ndimage, signal

    image = np.asarray(image, dtype=np.float32)
    channels = conv2d(image[None, None], SOBEL_WEIGHT, padding=1)[0]            # (2, H, W)
    ours64 = channels.astype(np.float64)
    image64 = image.astype(np.float64)
    scipy = np.stack([ndimage.sobel(image64, axis=1), ndimage.sobel(image64, axis=0)])
    zeros = np.stack([ndimage.sobel(image64, axis=1, mode="constant"), ndimage.sobel(image64, axis=0, mode="constant")])
    convolved = np.stack([signal.convolve2d(image64, k.weights, mode="same") for k in (SOBEL_X, SOBEL_Y)])
    inside = (slice(None), slice(1, -1), slice(1, -1))
    frame = np.ones(image.shape, bool)
    frame[1:-1, 1:-1] = False
    difference = np.abs(ours64 - scipy)
    return HandSetResult(
        image=image, channels=channels, scipy=scipy.astype(np.float32),
        interior_max_diff=float(difference[inside].max()),
        border_max_diff=float(difference[:, frame].max()),
        border_pixels_differing=int((difference[:, frame] > 1e-5).sum()),
        zero_border_max_diff=float(np.abs(ours64 - zeros).max()),
        convolve_sum_max=float(np.abs(ours64 + convolved)[inside].max()),
        torch_max_diff=_torch_conv2d_difference(image, channels))


def _torch_conv2d_difference(image: np.ndarray, channels: np.ndarray) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    conv = torch.nn.Conv2d(1, 2, kernel_size=3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(SOBEL_WEIGHT))
        theirs = conv(torch.from_numpy(image)[None, None])[0].numpy()
    return float(np.abs(channels - theirs).max())


@dataclass
class Training:
    """One training run: the loss after each step and the weights at the snapshot steps."""

    by: str                                   # "engine" or "torch"
    losses: list[float] = field(default_factory=list)
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)   # step -> (2, 1, 3, 3)

    @property
    def final_weight(self) -> np.ndarray:
        return self.snapshots[max(self.snapshots)]

    @property
    def final_error(self) -> float:
        """max |learned - Sobel| over the 18 weights."""
        return float(np.abs(self.final_weight - SOBEL_WEIGHT).max())


class _Adam:
    """Adam (Kingma & Ba) with torch's defaults, so both runs take the same steps."""

    def __init__(self, shape: tuple[int, ...], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.m, self.v, self.t = np.zeros(shape), np.zeros(shape), 0

    def step(self, weight: np.ndarray, grad: np.ndarray) -> np.ndarray:
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * grad
        self.v = self.b2 * self.v + (1 - self.b2) * grad**2
        m_hat, v_hat = self.m / (1 - self.b1**self.t), self.v / (1 - self.b2**self.t)
        return weight - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def initial_weight(seed: int) -> np.ndarray:
    """Random start, drawn like nn.Conv2d's default (uniform in +-1/sqrt(fan_in)), from a seed."""
    bound = 1 / np.sqrt(9)
    return np.random.default_rng(seed).uniform(-bound, bound, SOBEL_WEIGHT.shape).astype(np.float32)


def train_engine(image: np.ndarray, target: np.ndarray, start: np.ndarray, steps: int, lr: float,
                 progress: Callable[[int], Any] | None = None) -> Training:
    """Gradient descent with the engine's ``conv2d_backward`` for the gradient (float64, as
    the torch run, so the two curves can be compared to many digits)."""
    x = np.asarray(image, np.float64)[None, None]
    t = np.asarray(target, np.float64)[None]
    weight, adam = start.astype(np.float64), _Adam(start.shape, lr)
    run = Training("engine")
    for step in range(steps + 1):
        if step in SNAPSHOT_STEPS or step == steps:
            run.snapshots[step] = weight.astype(np.float32)
        residual = conv2d(x, weight, padding=1) - t                        # (1, 2, H, W)
        run.losses.append(float(np.mean(residual**2)))
        if step == steps:
            break
        grad_out = (2.0 / residual.size) * residual                         # d(mean square)/d(output)
        _, grad_w, _ = conv2d_backward(grad_out, x, weight, padding=1)
        weight = adam.step(weight, grad_w)
        if progress:
            progress(step + 1)
    return run


def train_torch(image: np.ndarray, target: np.ndarray, start: np.ndarray, steps: int, lr: float,
                progress: Callable[[int], Any] | None = None) -> Training | None:
    """The same descent with torch's nn.Conv2d, autograd and optim.Adam (None without torch)."""
    try:
        import torch
    except ImportError:
        return None
    conv = torch.nn.Conv2d(1, 2, kernel_size=3, padding=1, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(start.astype(np.float64)))
    optimiser = torch.optim.Adam(conv.parameters(), lr=lr)
    x = torch.from_numpy(np.asarray(image, np.float64))[None, None]
    t = torch.from_numpy(np.asarray(target, np.float64))[None]
    run = Training("torch")
    for step in range(steps + 1):
        if step in SNAPSHOT_STEPS or step == steps:
            run.snapshots[step] = conv.weight.detach().numpy().astype(np.float32)
        loss = torch.mean((conv(x) - t) ** 2)
        run.losses.append(loss.item())
        if step == steps:
            break
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if progress:
            progress(step + 1)
    return run


@dataclass
class ExerciseResult:
    hand: HandSetResult
    engine: Training
    torch: Training | None
    steps: int
    lr: float
    seed: int

    def summary(self) -> dict[str, Any]:
        """Numbers for results.json."""
        h = self.hand
        out: dict[str, Any] = {
            "image_shape": list(h.image.shape), "steps": self.steps, "lr": self.lr, "seed": self.seed,
            "interior_max_diff": h.interior_max_diff, "border_max_diff": h.border_max_diff,
            "border_pixels_differing": h.border_pixels_differing, "zero_border_max_diff": h.zero_border_max_diff,
            "convolve_sum_max": h.convolve_sum_max, "torch_conv2d_max_diff": h.torch_max_diff,
            "engine_final_loss": self.engine.losses[-1], "engine_final_weight_error": self.engine.final_error,
            "engine_final_weight": self.engine.final_weight[:, 0].round(4).tolist(),
        }
        if self.torch is not None:
            curve = np.array(self.engine.losses) - np.array(self.torch.losses)
            out.update(torch_final_loss=self.torch.losses[-1], torch_final_weight_error=self.torch.final_error,
                       max_loss_gap_engine_vs_torch=float(np.abs(curve).max()))
        return out

    def report(self, image_label: str) -> list[str]:
        """The exercise's README, as Markdown lines: both parts with their numbers."""
        h, engine, torch_run = self.hand, self.engine, self.torch
        lines = ["# The Sobel exercise", "",
                 f"Image: {image_label}, {h.image.shape[1]}x{h.image.shape[0]} grey.", "",
                 "Part 1: Conv2d(1, 2, 3, padding=1, bias=False) with the Sobel kernels set by hand "
                 "(sobel_channels.png).", ""]
        lines += [f"- {line}" for line in h.lines()]
        lines += ["", f"Part 2: from random weights (seed {self.seed}), {self.steps} Adam steps (lr {self.lr:g}) "
                  "on the mean squared error to the hand-set output (sobel_training.png).", "",
                  f"- engine (conv2d_backward): final loss {engine.losses[-1]:.3e}, "
                  f"max |learned - Sobel| = {engine.final_error:.3e}"]
        if torch_run is not None:
            gap = float(np.abs(np.array(engine.losses) - np.array(torch_run.losses)).max())
            lines.append(f"- torch (autograd): final loss {torch_run.losses[-1]:.3e}, "
                         f"max |learned - Sobel| = {torch_run.final_error:.3e}; the two loss curves differ by "
                         f"at most {gap:.1e}")
        else:
            lines.append("- torch is not installed: only the engine's run")
        learned = np.array2string(engine.final_weight[0, 0], precision=3, suppress_small=True)
        return lines + ["", "Learned channel 0 (Sobel-x is [[-1 0 1] [-2 0 2] [-1 0 1]]):", "", "```", learned, "```"]


def run_exercise(image: np.ndarray, steps: int = 300, lr: float = 0.05, seed: int = 0,
                 progress: Callable[[str, int], Any] | None = None) -> ExerciseResult:
    """Both parts on a grey image. ``progress(run_name, steps_done)`` is called after each step."""
    hand = hand_set(image)
    start = initial_weight(seed)
    report = (lambda name: (lambda done: progress(name, done))) if progress else (lambda name: None)
    engine = train_engine(hand.image, hand.channels, start, steps, lr, report("engine"))
    torch_run = train_torch(hand.image, hand.channels, start, steps, lr, report("torch"))
    return ExerciseResult(hand, engine, torch_run, steps, lr, seed)


@dataclass
class BonusResult:
    """Part 3: Sobel as the start, the clean image's Sobel edges as the target, a noisy image as the input."""

    noise: float
    steps: int
    lr: float
    seed: int
    engine: Training
    torch: Training | None

    @property
    def drift(self) -> float:
        """max |learned - Sobel|: how far the training moved the weights."""
        return self.engine.final_error

    @staticmethod
    def noise_gain(weight: np.ndarray) -> float:
        """How much of white noise's standard deviation a kernel passes: sqrt(sum w^2), per channel, averaged."""
        return float(np.sqrt((np.asarray(weight, np.float64) ** 2).sum(axis=(1, 2, 3))).mean())

    @staticmethod
    def row_profile(weight: np.ndarray) -> np.ndarray:
        """Sobel-x's weighting of its three rows ((right - left) / 2 per row), scaled so the top row is 1."""
        w = np.asarray(weight, np.float64)[0, 0]
        rows = (w[:, 2] - w[:, 0]) / 2
        return rows / rows[0]

    def lines(self) -> list[str]:
        start, end = self.engine.losses[0], self.engine.losses[-1]
        a, b, c = self.row_profile(self.engine.final_weight)
        learned, sobel = self.noise_gain(self.engine.final_weight), self.noise_gain(SOBEL_WEIGHT)
        out = [f"loss: Sobel itself {start:.4f}, learned {end:.4f} ({1 - end / start:.0%} lower); the weights "
               f"moved by up to {self.drift:.3f}",
               f"what Sobel missed: the noise. The learned Sobel-x weights its rows {a:.2f} : {b:.2f} : {c:.2f} "
               "(Sobel: 1 : 2 : 1), averaging more evenly along the edge, and passes "
               f"{learned / sobel:.0%} of the noise Sobel passes (sqrt of the sum of squared weights: "
               f"{learned:.2f} against {sobel:.2f})"]
        if self.torch is not None:
            gap = float(np.abs(np.array(self.engine.losses) - np.array(self.torch.losses)).max())
            out.append(f"torch (autograd) from the same start: final loss {self.torch.losses[-1]:.4f}; the two "
                       f"loss curves differ by at most {gap:.1e}")
        return out

    def summary(self) -> dict[str, Any]:
        return {"bonus_noise": self.noise, "bonus_steps": self.steps, "bonus_lr": self.lr,
                "bonus_start_loss": self.engine.losses[0], "bonus_final_loss": self.engine.losses[-1],
                "bonus_drift": self.drift, "bonus_row_profile": self.row_profile(self.engine.final_weight).tolist(),
                "bonus_noise_gain": self.noise_gain(self.engine.final_weight),
                "sobel_noise_gain": self.noise_gain(SOBEL_WEIGHT),
                "bonus_final_weight": self.engine.final_weight[:, 0].round(4).tolist()}


def bonus(image: np.ndarray, steps: int = 300, lr: float = 0.01, noise: float = 0.1, seed: int = 0,
          progress: Callable[[str, int], Any] | None = None) -> BonusResult:
    """The lesson's bonus: from the Sobel weights, learn to find the clean image's Sobel edges in
    the image plus Gaussian noise (standard deviation ``noise``, drawn from ``seed``)."""
    clean = np.asarray(image, np.float64)
    target = hand_set(clean.astype(np.float32)).channels                   # (2, H, W): the clean edges
    noisy = clean + np.random.default_rng(seed).normal(0.0, noise, clean.shape)
    report = (lambda name: (lambda done: progress(name, done))) if progress else (lambda name: None)
    start = SOBEL_WEIGHT.astype(np.float32)
    engine = train_engine(noisy, target, start, steps, lr, report("bonus, engine"))
    torch_run = train_torch(noisy, target, start, steps, lr, report("bonus, torch"))
    return BonusResult(noise, steps, lr, seed, engine, torch_run)
