"""Experiments that train models (PyTorch): equivariance in a trained net, the spatial prior
under pixel shuffling, unseen positions, learned filters, long-range relations."""

from __future__ import annotations

import numpy as np

from .. import data, models
from ..filters import KERNELS
from ..images import sample
from ..train import accuracy, predict, train
from .base import Progress, Result, experiment
from .structure import _shift, equivariance_errors


def _fit(build, split, steps, seed, device, progress, label, **kwargs):  # type: ignore[no-untyped-def]
    return train(build, split, steps, seed=seed, device=device, progress=progress(label, steps), **kwargs)


@experiment("equivariance", "convolution commutes with shifts (up to the border and the stride); a trained CNN keeps "
                            "its prediction under small shifts far more often than an MLP")
def equivariance(quick: bool, seed: int, device: str, progress: Progress) -> Result:
    from ..plots import _pyplot

    photo = sample("camera")[::4, ::4].copy()                                # 128 x 128
    dy, dx = 3, 5  # odd: a stride-2 map would have to move by half a position
    maps = equivariance_errors(photo, KERNELS["sobel_x"].weights, dy, dx)
    scale = float(np.abs(photo).max()) * 4
    metrics = {f"photo/{k}/max_error": float(v.max() / scale) for k, v in maps.items()}
    # away from the border and from the seam where np.roll wraps the shifted image around
    interior = maps["zeros/stride1"][dy + 2:-2, dx + 2:-2]
    metrics["photo/zeros/stride1/interior_max_error"] = float(interior.max() / scale)
    # the trained part: digits on a 12x12 canvas, two random circular shifts of up to 2 pixels
    split = data.digits(canvas=12, seed=seed)
    steps = 600 if quick else 2500
    cnn = _fit(lambda: models.cnn2d(split.input_shape, 10), split, steps, seed, device, progress, "CNN on digits")
    mlp = _fit(lambda: models.mlp(split.input_shape, 10), split, steps, seed, device, progress, "MLP on digits")
    rng = np.random.default_rng(seed)
    shifts = rng.integers(-2, 3, (2, len(split.x_test), 2))

    def consistent(model) -> float:  # type: ignore[no-untyped-def]
        a = np.stack([_shift(x, *s) for x, s in zip(split.x_test, shifts[0])])
        b = np.stack([_shift(x, *s) for x, s in zip(split.x_test, shifts[1])])
        return float(np.mean(predict(model, a, device) == predict(model, b, device)))
    metrics.update({"digits/cnn/accuracy": cnn.test_accuracy, "digits/mlp/accuracy": mlp.test_accuracy,
                    "digits/cnn/shift_consistency": consistent(cnn.model),
                    "digits/mlp/shift_consistency": consistent(mlp.model)})
    plt = _pyplot()
    figure, axes = plt.subplots(3, 3, figsize=(10, 10), layout="constrained")
    for axis, (name, error) in zip(axes.ravel(), maps.items()):
        axis.imshow(error, cmap="magma", vmin=0, vmax=max(1e-6, max(m.max() for m in maps.values())))
        axis.set_title(f"{name}: max {error.max():.3g}", fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle(f"|conv(shift(x)) - shift(conv(x))| for a ({dy}, {dx}) shift of camera, Sobel-x "
                    "(stride 2 and pooling: compared with the output shifted by half, rounded down)", fontsize=10)
    holds = metrics["photo/circular/stride1/max_error"] < 1e-5 and \
        metrics["photo/zeros/stride1/interior_max_error"] < 1e-5 and metrics["photo/circular/stride2/max_error"] > 0.05 \
        and metrics["digits/cnn/shift_consistency"] > metrics["digits/mlp/shift_consistency"]
    verdict = (f"circular padding at stride 1: error {metrics['photo/circular/stride1/max_error']:.1e} (equivariant); "
               f"zero padding: {metrics['photo/zeros/stride1/max_error']:.2f} at the border, "
               f"{metrics['photo/zeros/stride1/interior_max_error']:.1e} inside; stride 2 breaks it (max "
               f"{metrics['photo/circular/stride2/max_error']:.2f}); under two random shifts of up to 2 px the CNN "
               f"keeps {metrics['digits/cnn/shift_consistency']:.0%} of its predictions, the MLP "
               f"{metrics['digits/mlp/shift_consistency']:.0%}")
    return Result("equivariance", quick, seed, metrics, verdict, {"equivariance_maps": figure},
                  ["Errors are relative to 4 x the photo's largest value (Sobel's gain).",
                   "Shift consistency as antialiased-cnns measures it: the share of test images whose predicted "
                   "class is the same under two random shifts."], holds=holds)


@experiment("shuffle", "a CNN relies on which pixels are neighbours: one fixed pixel permutation hurts it, while an "
                       "MLP, which has no spatial prior, does not care")
def shuffle(quick: bool, seed: int, device: str, progress: Progress, data_dir: str | None = None) -> Result:
    from ..plots import _pyplot

    metrics = {}
    sets = {"mnist1d": data.mnist1d(), "digits": data.digits(seed=seed)}
    if data_dir:  # MNIST or Fashion-MNIST from the user's IDX files: images large enough for locality to matter
        sets["idx"] = data.load_idx_dataset(data_dir).take(5000 if quick else 20000, 2000 if quick else 10000)
    builders = {"logistic": models.logistic, "mlp": models.mlp,
                "cnn": lambda shape, k: models.cnn1d(shape, k) if len(shape) == 2 else models.cnn2d(shape, k, 16, False)}
    steps = {"mnist1d": 1500 if quick else 6000, "digits": 500 if quick else 2000, "idx": 500 if quick else 3000}
    shuffled = {"mnist1d": data.mnist1d(shuffled=True)}  # the package's own permutation, as in its reference
    for name in ("digits", "idx"):
        if name in sets:
            positions = int(np.prod(sets[name].input_shape[1:]))
            shuffled[name] = sets[name].permuted(np.random.default_rng(seed + 1).permutation(positions))
    for set_name, split in sets.items():
        for condition, current in (("plain", split), ("shuffled", shuffled[set_name])):
            for model_name, build in builders.items():
                run = _fit(lambda b=build, s=current: b(s.input_shape, s.classes), current, steps[set_name], seed,
                           device, progress, f"{set_name} {condition} {model_name}")
                metrics[f"{set_name}/{model_name}/{condition}"] = run.test_accuracy
    drop = metrics["mnist1d/cnn/plain"] - metrics["mnist1d/cnn/shuffled"]
    mlp_change = metrics["mnist1d/mlp/plain"] - metrics["mnist1d/mlp/shuffled"]
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets), 3.8), layout="constrained")
    for axis, set_name in zip(axes, sets):
        names = list(builders)
        xs = np.arange(len(names))
        for offset, condition in ((-0.2, "plain"), (0.2, "shuffled")):
            values = [metrics[f"{set_name}/{n}/{condition}"] for n in names]
            bars = axis.bar(xs + offset, values, 0.4, label=condition)
            axis.bar_label(bars, [f"{v:.0%}" for v in values], fontsize=7)
        axis.set_xticks(xs, names)
        axis.set_ylim(0, 1)
        axis.set_title(f"{set_name}: test accuracy", fontsize=9)
        axis.legend(fontsize=8)
    holds = drop > 0.1 and abs(mlp_change) < 0.06
    verdict = (f"on MNIST-1D the CNN drops {100 * drop:.0f} points (from {metrics['mnist1d/cnn/plain']:.0%} to "
               f"{metrics['mnist1d/cnn/shuffled']:.0%}) when the pixels are shuffled, while the MLP moves "
               f"{-100 * mlp_change:+.0f} points ({metrics['mnist1d/mlp/plain']:.0%} -> "
               f"{metrics['mnist1d/mlp/shuffled']:.0%}): it never used the order")
    return Result("shuffle", quick, seed, metrics, verdict, {"shuffle": figure},
                  ["Reference (mnist1d README): logistic 32%, MLP 68%, CNN 94%; shuffled MLP 68%, CNN 56%.",
                   "One fixed permutation of the positions, the same for train and test."], holds=holds)


@experiment("unseen-positions", "a CNN with global pooling recognises a pattern where it never saw one in training; "
                                "an MLP does not")
def unseen_positions(quick: bool, seed: int, device: str, progress: Progress) -> Result:
    canvas = 24
    left, right = (0, canvas // 2 - 5), (canvas // 2, canvas - 5)
    train_split = data.shapes(1500 if quick else 4000, 1000, canvas, left, left, seed=seed)
    right_split = data.shapes(10, 1000, canvas, left, right, seed=seed + 1)
    steps = 400 if quick else 1500
    metrics = {}
    for name, build in (("cnn", lambda: models.cnn2d(train_split.input_shape, train_split.classes)),
                        ("mlp", lambda: models.mlp(train_split.input_shape, train_split.classes, 200))):
        run = _fit(build, train_split, steps, seed, device, progress, f"{name} on the left half")
        metrics[f"shapes/{name}/left"] = run.test_accuracy
        metrics[f"shapes/{name}/right"] = accuracy(run.model, right_split.x_test, right_split.y_test,
                                                   next(run.model.parameters()).device)
    holds = metrics["shapes/cnn/right"] > 0.8 and metrics["shapes/mlp/right"] < metrics["shapes/cnn/right"] - 0.2
    verdict = (f"trained on shapes in the left half only: the CNN scores {metrics['shapes/cnn/right']:.0%} on the right "
               f"half (left {metrics['shapes/cnn/left']:.0%}); the MLP {metrics['shapes/mlp/right']:.0%} (left "
               f"{metrics['shapes/mlp/left']:.0%}); chance is 20%")
    return Result("unseen-positions", quick, seed, metrics, verdict, {"positions": _positions_figure(metrics)},
                  [f"Canvas {canvas}x{canvas}, five shapes; the CNN ends in global average pooling."], holds=holds)


def _positions_figure(metrics: dict[str, float]):  # type: ignore[no-untyped-def]
    from ..plots import _pyplot

    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(5, 3.5), layout="constrained")
    for offset, half in ((-0.2, "left"), (0.2, "right")):
        values = [metrics[f"shapes/{m}/{half}"] for m in ("cnn", "mlp")]
        bars = axis.bar(np.arange(2) + offset, values, 0.4, label=f"test: {half} half")
        axis.bar_label(bars, [f"{v:.0%}" for v in values], fontsize=8)
    axis.set_xticks(range(2), ["CNN + global pool", "MLP"])
    axis.set_ylim(0, 1.05)
    axis.set_title("trained on the left half only", fontsize=9)
    axis.legend(fontsize=8)
    return figure
