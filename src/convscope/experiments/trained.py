"""Experiments that train networks: equivariance under shifts, CNN vs MLP under pixel shuffling, positions
never seen in training (with and without global pooling)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import data, models
from ..filters import KERNELS
from ..images import sample
from ..plots import subplots
from ..train import accuracy, predict, train
from .base import Claim, Progress, Result, SeedRun, experiment
from .figures import bars, seeds_note
from .structure import _shift, equivariance_errors


def _fit(build, split, steps, seed, device, progress, label, **kwargs):  # type: ignore[no-untyped-def]
    return train(build, split, steps, seed=seed, device=device, progress=progress(label, steps), **kwargs)


SHIFT = (3, 5)  # odd: a stride-2 map would have to move by half a position


def _camera() -> np.ndarray:
    return sample("camera")[::4, ::4].copy()                                 # 128 x 128


def _equivariance_figure(result: Result) -> dict[str, Any]:
    maps = equivariance_errors(_camera(), KERNELS["sobel_x"].weights, *SHIFT)  # the same in every seed
    figure, axes = subplots(3, 4, figsize=(13, 9.5),
                                     gridspec_kw={"width_ratios": [1, 1, 1, 1.3]})
    top = max(m.max() for m in maps.values())
    for axis, (name, error) in zip(axes[:, :3].ravel(), maps.items()):
        image = axis.imshow(error, cmap="magma", vmin=0, vmax=top)
        axis.set_title(f"{name}: max {error.max():.3g}", fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
    figure.colorbar(image, ax=axes[:, 2], fraction=0.05, label="|difference|")
    for axis in axes[1:, 3]:
        axis.remove()
    bars(axes[0, 3], result, ["CNN", "MLP"], {"same prediction under two shifts": [
        "digits/cnn/shift_consistency", "digits/mlp/shift_consistency"]})
    axes[0, 3].set_ylim(0, 1.15)
    axes[0, 3].set_title(f"digits, shifts of up to 2 px\n({seeds_note(result)})", fontsize=8)
    figure.suptitle(f"|conv(shift(x)) - shift(conv(x))| for a {SHIFT} shift of camera, Sobel-x (stride 2 and "
                    "pooling: compared with the output shifted by half, rounded down)", fontsize=10)
    return {"equivariance_maps": figure}


def _equivariance_verdict(result: Result) -> str:
    m = result.metrics
    return (f"circular padding at stride 1: error {m['photo/circular/stride1/max_error']:.1e} (equivariant); "
            f"zero padding: {m['photo/zeros/stride1/max_error']:.2f} at the border, "
            f"{m['photo/zeros/stride1/interior_max_error']:.1e} inside; stride 2 breaks it (max "
            f"{m['photo/circular/stride2/max_error']:.2f}); under two random shifts of up to 2 px the CNN keeps "
            f"{result.text('digits/cnn/shift_consistency')} of its predictions, the MLP "
            f"{result.text('digits/mlp/shift_consistency')}")


@experiment("equivariance", "convolution commutes with shifts (up to the border and the stride); a trained CNN keeps "
                            "its prediction under small shifts more often than an MLP",
            claims=[Claim("circular padding, stride 1: largest error (relative)",
                          lambda m: m["photo/circular/stride1/max_error"], below=1e-5, percent=False),
                    Claim("zero padding, stride 1, away from the border: largest error",
                          lambda m: m["photo/zeros/stride1/interior_max_error"], below=1e-5, percent=False),
                    Claim("circular padding, stride 2: largest error", lambda m: m["photo/circular/stride2/max_error"],
                          above=0.05, percent=False),
                    Claim("the CNN keeps its prediction under shifts more often than the MLP (difference)",
                          lambda m: m["digits/cnn/shift_consistency"] - m["digits/mlp/shift_consistency"], above=0)],
            draw=_equivariance_figure, describe=_equivariance_verdict,
            details=["Errors are relative to 4 x the photo's largest value (Sobel's gain).",
                     "Shift consistency as antialiased-cnns measures it: the share of test images whose predicted "
                     "class is the same under two random shifts. How pooling and strides affect it, and what "
                     "blurring before subsampling does: `pooling-shift`."])
def equivariance(quick: bool, seed: int, device: str, progress: Progress) -> SeedRun:
    photo = _camera()
    dy, dx = SHIFT
    maps = equivariance_errors(photo, KERNELS["sobel_x"].weights, dy, dx)
    scale = float(np.abs(photo).max()) * 4
    metrics = {f"photo/{k}/max_error": float(v.max() / scale) for k, v in maps.items()}
    # away from the border and from the seam where np.roll wraps the shifted image around
    interior = maps["zeros/stride1"][dy + 2:-2, dx + 2:-2]
    metrics["photo/zeros/stride1/interior_max_error"] = float(interior.max() / scale)
    # the trained part: digits on a 12x12 canvas, two random circular shifts of up to 2 pixels
    split = data.digits(canvas=12, seed=seed)
    steps = 300 if quick else 1200
    cnn = _fit(lambda: models.cnn2d(split.input_shape, 10, 8), split, steps, seed, device, progress, "CNN on digits")
    mlp = _fit(lambda: models.mlp(split.input_shape, 10), split, steps, seed, device, progress, "MLP on digits")
    rng = np.random.default_rng(seed)
    shifts = rng.integers(-2, 3, (2, len(split.x_test), 2))

    import torch

    where = torch.device(device)  # predict takes a torch.device (it moves the input with .to, as a str would)

    def consistent(model) -> float:  # type: ignore[no-untyped-def]
        a = np.stack([_shift(x, *s) for x, s in zip(split.x_test, shifts[0])])
        b = np.stack([_shift(x, *s) for x, s in zip(split.x_test, shifts[1])])
        return float(np.mean(predict(model, a, where) == predict(model, b, where)))
    metrics.update({"digits/cnn/accuracy": cnn.test_accuracy, "digits/mlp/accuracy": mlp.test_accuracy,
                    "digits/cnn/shift_consistency": consistent(cnn.model),
                    "digits/mlp/shift_consistency": consistent(mlp.model)})
    return SeedRun(metrics)


SHUFFLE_MODELS = ("logistic", "mlp", "cnn")
REFERENCE = {"logistic/plain": 0.32, "mlp/plain": 0.68, "cnn/plain": 0.94, "mlp/shuffled": 0.68,
             "cnn/shuffled": 0.56}  # mnist1d's README


def _shuffle_sets(result: Result) -> list[str]:
    return [name for name in ("mnist1d", "digits", "idx") if f"{name}/cnn/plain" in result.metrics]


def _shuffle_figure(result: Result) -> dict[str, Any]:
    sets = _shuffle_sets(result)
    figure, axes = subplots(1, len(sets), figsize=(5 * len(sets), 4.2), squeeze=False)
    for axis, set_name in zip(axes[0], sets):
        bars(axis, result, list(SHUFFLE_MODELS),
             {condition: [f"{set_name}/{model}/{condition}" for model in SHUFFLE_MODELS]
              for condition in ("plain", "shuffled")})
        if set_name == "mnist1d":
            marks = [(x + offset, REFERENCE[f"{model}/{condition}"]) for x, model in enumerate(SHUFFLE_MODELS)
                     for offset, condition in ((-0.2, "plain"), (0.2, "shuffled"))
                     if f"{model}/{condition}" in REFERENCE]
            axis.plot(*zip(*marks), "_", color="red", markersize=14, markeredgewidth=2, label="mnist1d's reference")
            axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
        axis.set_ylim(0, 1.12)
        axis.set_title(f"{set_name}: test accuracy ({seeds_note(result)}; red: the reference)" if set_name == "mnist1d"
                       else f"{set_name}: test accuracy", fontsize=8)
    return {"shuffle": figure}


def _shuffle_verdict(result: Result) -> str:
    drop, mlp = result.checks[0].interval, result.checks[2].interval
    return (f"on MNIST-1D the CNN loses {100 * drop.mean:.0f} points when the positions are shuffled (from "
            f"{result.text('mnist1d/cnn/plain')} to {result.text('mnist1d/cnn/shuffled')}), while the MLP loses "
            f"{100 * mlp.mean:.0f} ({result.text('mnist1d/mlp/plain')} -> {result.text('mnist1d/mlp/shuffled')}): "
            "it never used the order")


def _recovered_permutation(plain: Any, shuffled: Any) -> np.ndarray:
    """The permutation p with shuffled[..., j] == plain[..., p[j]] on every example (for mnist1d,
    whose package shuffles the positions itself without saying how)."""
    a, b = plain.x_train.reshape(len(plain.x_train), -1), shuffled.x_train.reshape(len(shuffled.x_train), -1)
    p = np.array([int(np.argmin(np.abs(a - b[:, [j]]).sum(0))) for j in range(b.shape[1])])
    if len(set(p.tolist())) != len(p) or not np.array_equal(a[:, p], b):
        raise RuntimeError("the shuffled data set is not a permutation of the plain one's positions")
    return p


def _same_start(build: Any, permutation: np.ndarray) -> Any:
    """``build``, then the first Linear layer's input columns permuted as the data's positions are:
    the model on shuffled data starts as the same function as the plain run's model (same seed), and
    Adam, which works element by element, keeps it so. Any other start differs from the plain run by
    a few points from the seed alone: noise that would hide the claim (an MLP does not use the order)."""
    import torch

    def built() -> Any:
        model = build()
        first = next(module for module in model.modules() if isinstance(module, torch.nn.Linear))
        channels = first.in_features // len(permutation)   # Flatten lays (C, positions) out channel by channel
        columns = np.concatenate([c * len(permutation) + permutation for c in range(channels)])
        with torch.no_grad():
            first.weight.copy_(first.weight[:, torch.from_numpy(columns)])
        return model
    return built


@experiment("shuffle", "a CNN relies on which pixels are neighbours: one fixed pixel permutation hurts it, while an "
                       "MLP, which has no spatial prior, does not care",
            claims=[Claim("MNIST-1D: the CNN's drop when the positions are shuffled",
                          lambda m: m["mnist1d/cnn/plain"] - m["mnist1d/cnn/shuffled"], above=0.10),
                    Claim("MNIST-1D: the CNN's drop minus the MLP's",
                          lambda m: (m["mnist1d/cnn/plain"] - m["mnist1d/cnn/shuffled"])
                          - (m["mnist1d/mlp/plain"] - m["mnist1d/mlp/shuffled"]), above=0.05),
                    Claim("MNIST-1D: the MLP's drop", lambda m: m["mnist1d/mlp/plain"] - m["mnist1d/mlp/shuffled"],
                          below=0.06)],
            draw=_shuffle_figure, describe=_shuffle_verdict, uses_data_dir=True,
            details=["Reference (mnist1d README): logistic 32%, MLP 68%, CNN 94%; shuffled MLP 68%, CNN 56%.",
                     "One fixed permutation of the positions, the same for train and test (on MNIST-1D the "
                     "package's own). MNIST-1D's data are the same in every seed; the seed changes the weights and "
                     "the batches.",
                     "The logistic model and the MLP on shuffled data start from the plain run's weights with their "
                     "input columns permuted the same way, so any drop is the order's doing (from any other start, "
                     "two runs differ by about 3 points from the seed alone); the CNN has no such twin and starts "
                     "from the same seed."])
def shuffle(quick: bool, seed: int, device: str, progress: Progress, data_dir: str | None = None) -> SeedRun:
    metrics = {}
    sets = {"mnist1d": data.mnist1d(), "digits": data.digits(seed=seed)}
    if data_dir:  # MNIST or Fashion-MNIST from the user's IDX files: images large enough for locality to matter
        sets["idx"] = data.load_idx_dataset(data_dir).take(5000 if quick else 20000, 2000 if quick else 10000)
    builders = {"logistic": models.logistic, "mlp": models.mlp,
                "cnn": lambda shape, k: (models.cnn1d(shape, k) if len(shape) == 2
                                         else models.cnn2d(shape, k, 16, False))}
    steps = {"mnist1d": 1000 if quick else 6000, "digits": 300 if quick else 1000, "idx": 500 if quick else 3000}
    shuffled = {"mnist1d": data.mnist1d(shuffled=True)}  # the package's own permutation, as in its reference
    permutations = {"mnist1d": _recovered_permutation(sets["mnist1d"], shuffled["mnist1d"])}
    for name in ("digits", "idx"):
        if name in sets:
            positions = int(np.prod(sets[name].input_shape[1:]))
            permutations[name] = np.random.default_rng(seed + 1).permutation(positions)
            shuffled[name] = sets[name].permuted(permutations[name])
    for set_name, split in sets.items():
        for condition, current in (("plain", split), ("shuffled", shuffled[set_name])):
            for model_name in SHUFFLE_MODELS:
                def build(b: Any = builders[model_name], s: Any = current) -> Any:
                    return b(s.input_shape, s.classes)
                if condition == "shuffled" and model_name != "cnn":  # a CNN's kernels have no such twin
                    build = _same_start(build, permutations[set_name])
                run = _fit(build, current, steps[set_name], seed, device, progress,
                           f"{set_name} {condition} {model_name}")
                metrics[f"{set_name}/{model_name}/{condition}"] = run.test_accuracy
    return SeedRun(metrics)


CANVAS = 20
POSITION_MODELS = {"cnn": "CNN + global pool", "cnn_flat": "CNN, flatten + Linear", "mlp": "MLP"}


def _positions_figure(result: Result) -> dict[str, Any]:
    figure, axis = subplots(figsize=(6, 4))
    bars(axis, result, list(POSITION_MODELS.values()),
         {f"test: {half} half": [f"shapes/{m}/{half}" for m in POSITION_MODELS] for half in ("left", "right")})
    axis.axhline(0.2, color="black", linewidth=0.5)
    axis.set_ylim(0, 1.15)
    axis.set_title(f"trained on the left half only ({seeds_note(result)}; line: chance)", fontsize=9)
    return {"positions": figure}


def _positions_verdict(result: Result) -> str:
    return (f"trained on shapes in the left half only: the CNN with global pooling scores "
            f"{result.text('shapes/cnn/right')} on the right half; the same CNN read out by a Linear layer over "
            f"positions {result.text('shapes/cnn_flat/right')}; the MLP {result.text('shapes/mlp/right')} "
            "(chance 20%): shared kernels detect the shape anywhere, and global pooling makes the answer "
            "independent of where")


@experiment("unseen-positions", "a CNN with global pooling recognises a pattern where it never saw one in training; "
                                "an MLP does not, nor does the same CNN read out position by position",
            claims=[Claim("the CNN with global pooling on the unseen right half", lambda m: m["shapes/cnn/right"],
                          above=0.8),
                    Claim("right half: the CNN with global pooling minus the MLP",
                          lambda m: m["shapes/cnn/right"] - m["shapes/mlp/right"], above=0.2),
                    Claim("right half: the CNN with global pooling minus the same CNN without it",
                          lambda m: m["shapes/cnn/right"] - m["shapes/cnn_flat/right"], above=0.1)],
            draw=_positions_figure, describe=_positions_verdict,
            details=[f"Canvas {CANVAS}x{CANVAS}, five 5x5 shapes. "
                     "The CNN without global pooling has the same convolutions; its "
                     "Linear read-out has one weight per position, and those of the right half were never trained "
                     "on a shape. Weight sharing alone is not enough: the read-out must not depend on position."])
def unseen_positions(quick: bool, seed: int, device: str, progress: Progress) -> SeedRun:
    canvas = CANVAS
    left, right = (0, canvas // 2 - 5), (canvas // 2, canvas - 5)
    train_split = data.shapes(1000 if quick else 2000, 1000, canvas, left, left, seed=seed)
    right_split = data.shapes(10, 1000, canvas, left, right, seed=seed + 1)
    steps = 200 if quick else 500
    shape, classes = train_split.input_shape, train_split.classes
    builders = {"cnn": lambda: models.cnn2d(shape, classes, 8),
                "cnn_flat": lambda: models.cnn2d(shape, classes, 8, global_pool=False),
                "mlp": lambda: models.mlp(shape, classes, 200)}
    metrics = {}
    for name, build in builders.items():
        run = _fit(build, train_split, steps, seed, device, progress, f"{name} on the left half")
        metrics[f"shapes/{name}/left"] = run.test_accuracy
        metrics[f"shapes/{name}/right"] = accuracy(run.model, right_split.x_test, right_split.y_test,
                                                   next(run.model.parameters()).device)
    return SeedRun(metrics)
