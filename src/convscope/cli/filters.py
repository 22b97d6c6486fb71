"""``convscope filter``, ``convscope gallery`` and ``convscope exercise sobel``: kernels on photos.

Thin faces over :mod:`convscope.filters`, :mod:`convscope.images`, :mod:`convscope.plots`
and the Sobel exercise. Every input is read and checked before anything is written, and
every file appears only once complete, so a bad request leaves nothing at ``--out``.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.markdown import Markdown
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ..engine.errors import ConvScopeError
from ..images import MAX_PIXELS, ImageError, atomic_write
from . import checks as cli_checks
from . import console as cli_console

SOURCE_HELP = "An image file (PNG, JPEG, BMP, TIFF) or a sample photo: camera, coins, astronaut, ..."


def _max_pixels_option() -> typer.models.OptionInfo:
    return typer.Option("--max-pixels", min=1, help="Refuse larger image files.")


class Padding(str, Enum):
    zeros = "zeros"
    reflect = "reflect"
    symmetric = "symmetric"
    replicate = "replicate"
    circular = "circular"


class Exercise(str, Enum):
    sobel = "sobel"


OUTPUTS = ("sobel_channels.png", "sobel_training.png", "results.json", "README.md")  # what the exercise writes


def _check_out_file(out: str, suffixes: tuple[str, ...] = (".png", ".svg")) -> Path:
    return cli_checks.output_file(out, suffixes)


def _check_source(source: str) -> None:
    """A sample name, or a path that is a regular file (a FIFO would block, /dev/zero never ends)."""
    if not source.strip():
        raise ImageError("no image named", expected="an image file or a sample photo", got="''",
                         fix="e.g. camera, or the path of a PNG file")
    cli_checks.input_file(source, "an image file (PNG, JPEG, BMP, TIFF) or a sample name", "the image")


def _check_kernel_name(name: str) -> None:
    """gaussian<size>_s<sigma> builds a size x size array: refuse a size no image could use before it is built."""
    if name.startswith("gaussian") and "_s" in name:
        size = name[len("gaussian"):].partition("_s")[0]
        try:
            side = int(size)
        except ValueError:
            return  # filters.get names the forms it knows
        if side > cli_checks.MAX_GAUSSIAN_SIZE:
            raise ConvScopeError(f"the Gaussian kernel {name!r} is too large", expected="an odd size of at most "
                                 f"{cli_checks.MAX_GAUSSIAN_SIZE}", got=f"{side:,} pixels a side",
                                 fix="about 6 * sigma + 1 covers a Gaussian, e.g. gaussian13_s2")


def filter_command(source: Annotated[str, typer.Argument(metavar="IMAGE_OR_SAMPLE", help=SOURCE_HELP)],
                   out: Annotated[str, typer.Option("--out", help="Where to write the response (.png), in an "
                                                    "existing folder.")],
                   kernel: Annotated[str | None, typer.Option("--kernel", help="A named kernel (see `convscope "
                                                              "gallery`), e.g. sobel_x, gaussian7_s2.")] = None,
                   kernel_file: Annotated[str | None, typer.Option("--kernel-file", help="A text file: one kernel "
                                                                   "row per line.")] = None,
                   padding_mode: Annotated[Padding, typer.Option("--padding-mode", help="How the border is "
                                                                 "extended.")] = Padding.reflect,
                   flip: Annotated[bool, typer.Option("--flip", help="True convolution: flip the kernel "
                                                      "first.")] = False,
                   max_pixels: Annotated[int, _max_pixels_option()] = MAX_PIXELS,
                   raw: Annotated[bool, typer.Option("--raw", help="Write only the response's pixels (signed "
                                                     "maps centred on grey), without the figure around them.")]
                   = False) -> None:
    """Slide one kernel over a photo and write a figure: the input, the response with its colour bar
    and range, and the kernel's weights (--raw: the response's pixels alone)."""
    from .. import filters, images, plots

    if (kernel is None) == (kernel_file is None):
        raise ConvScopeError("say which kernel", expected="exactly one of --kernel NAME or --kernel-file FILE",
                             got="both" if kernel else "neither", fix="e.g. --kernel sobel_x")
    path = _check_out_file(out, (".png",))
    _check_source(source)
    if kernel_file is not None:
        cli_checks.input_file(kernel_file, "a text file of rows of numbers", "--kernel-file",
                              cli_checks.MAX_KERNEL_FILE_BYTES)
        chosen = filters.read_kernel_file(kernel_file)
    else:
        _check_kernel_name(kernel)  # type: ignore[arg-type]
        chosen = filters.get(kernel)  # type: ignore[arg-type]
    image, label = images.load_any(source, max_pixels=max_pixels)
    shown = filters.show(image, chosen, padding_mode.value, flip)
    if raw:
        images.save(path, shown.display)
    else:
        plots.save_figure(shown.figure(flipped=flip), path)
    what = "true convolution (flipped)" if flip else "cross-correlation"
    cli_console.console(120).print(f"{chosen.name} on {label} ({image.shape[1]}x{image.shape[0]}"
                     f"{', grey' if chosen.signed and image.ndim == 3 else ''}), {what}, "
                     f"padding {padding_mode.value}: {shown.display.range_text}\n"
                     f"  responds to: {_responds(chosen, flip)}\n  wrote {path}"
                     + (" (the response's pixels only)" if raw else
                        " (the input, the response with its colour bar and range, and the kernel's weights)"))


def _responds(kernel: Any, flip: bool) -> str:
    """What the kernel responds to, as it runs: true convolution turns it 180 degrees, which, for an
    antisymmetric kernel such as Sobel, is its negative, so the signs of the description swap."""
    if not flip:
        return str(kernel.responds_to)
    turned = kernel.weights[::-1, ::-1]
    if np.array_equal(turned, kernel.weights):
        return f"{kernel.responds_to} (the flip leaves this kernel as it is)"
    if np.array_equal(turned, -kernel.weights):
        return (f"flipped, {kernel.name} becomes its own negative, so the signs swap: {kernel.responds_to}, "
                "with positive and negative exchanged")
    return f"{kernel.responds_to}, with the kernel turned 180 degrees (--flip)"


def gallery_command(image: Annotated[str, typer.Option("--image", help=SOURCE_HELP)] = "camera",
                    out: Annotated[str, typer.Option("--out", help="Where to write the grid (.png or .svg), in "
                                                     "an existing folder.")] = "gallery.png",
                    padding_mode: Annotated[Padding, typer.Option("--padding-mode", help="How the border is "
                                                                  "extended.")] = Padding.reflect,
                    max_pixels: Annotated[int, _max_pixels_option()] = MAX_PIXELS) -> None:
    """A grid of the input and every named kernel's output, each with its range."""
    from .. import filters, images, plots

    path = _check_out_file(out)
    _check_source(image)
    source, label = images.load_any(image, max_pixels=max_pixels)
    shown = [filters.show(source, k, padding_mode.value) for k in filters.KERNELS.values()]
    table = Table(title=f"filter gallery on {label} ({source.shape[1]}x{source.shape[0]}, "
                        f"padding {padding_mode.value})")
    for column in ("kernel", "size", "min", "max", "responds to"):
        table.add_column(column, justify="right" if column in ("min", "max") else "left")
    for result in shown:
        k = result.kernel
        table.add_row(k.name, f"{k.weights.shape[0]}x{k.weights.shape[1]}", f"{result.low:.3g}",
                      f"{result.high:.3g}", k.responds_to)
    plots.save_figure(plots.gallery_figure(source, label, shown), path)
    console = cli_console.console(120)
    console.print(table)
    console.print(f"wrote {path}")


def exercise_command(name: Annotated[Exercise, typer.Argument(metavar="NAME", help="The exercise to run: sobel.")],
                     out: Annotated[str, typer.Option("--out", help="Folder for the figures, results.json "
                                                      "and README.md (created if missing).")],
                     image: Annotated[str, typer.Option("--image", help=SOURCE_HELP)] = "camera",
                     size: Annotated[int, typer.Option("--size", min=8, max=1024, help="Train on the image "
                                                       "shrunk to at most this many pixels a side.")] = 128,
                     steps: Annotated[int, typer.Option("--steps", min=1, max=20000, help="Training steps.")]
                     = 500,
                     lr: Annotated[float, typer.Option("--lr", min=1e-6, max=10.0, help="Adam's step size.")]
                     = 0.1,
                     seed: Annotated[int, typer.Option("--seed", callback=cli_checks.check_seed,
                                                       help=f"Seed of the random start ({cli_checks.SEED_HELP_RANGE})."
                                                       )] = 0) -> None:
    """Seed 003's exercise: a hand-set Sobel Conv2d against SciPy, then the kernel learned."""
    from .. import images, plots
    from ..lessons import sobel_exercise

    folder = cli_checks.output_folder(out, files=OUTPUTS)
    _check_source(image)
    picture, label = images.load_any(image, mode="grey")
    stride = max(1, -(-max(picture.shape) // size))
    picture = np.ascontiguousarray(picture[::stride, ::stride])  # every stride-th pixel: quick to train on
    console = cli_console.console(120)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=console, transient=True) as progress:
        tasks = {run: progress.add_task(f"training ({run})", total=steps)
                 for run in ("engine", "torch", "bonus, engine", "bonus, torch")}
        result = sobel_exercise.run_exercise(picture, steps=steps, lr=lr, seed=seed,
                                             progress=lambda run, done: progress.update(tasks[run], completed=done))
        extra = sobel_exercise.bonus(picture, steps=steps, seed=seed,
                                     progress=lambda run, done: progress.update(tasks[run], completed=done))
    folder.mkdir(parents=True, exist_ok=True)
    plots.save_figure(plots.sobel_channels_figure(result.hand), folder / "sobel_channels.png")
    plots.save_figure(plots.sobel_training_figure(result), folder / "sobel_training.png")
    plots.save_figure(plots.sobel_training_figure(
        extra, target="the clean image's Sobel edges",
        title=f"the lesson's bonus: from Sobel, on the image with noise (sigma {extra.noise:g}): channel 0 (top) "
              "and 1 (bottom) drift away from Sobel"), folder / "sobel_bonus.png")
    summary = {"exercise": "sobel", "image": label, **result.summary(), **extra.summary()}
    atomic_write(folder / "results.json", lambda t: Path(t).write_text(json.dumps(summary, indent=2) + "\n"))
    lines = result.report(label) + ["", f"Part 3, the lesson's bonus: start from Sobel and train on an edge task, "
                                    f"finding the clean image's Sobel edges in the image with Gaussian noise "
                                    f"(sigma {extra.noise:g}); {extra.steps} Adam steps (lr {extra.lr:g}) "
                                    "(sobel_bonus.png).", ""] + [f"- {line}" for line in extra.lines()]
    atomic_write(folder / "README.md", lambda t: Path(t).write_text("\n".join(lines) + "\n"))
    console.print(Markdown("\n".join(lines[2:])))   # the README's Markdown, drawn for a terminal (no raw ```)
    console.print(f"wrote {folder / 'sobel_channels.png'}, {folder / 'sobel_training.png'}, "
                  f"{folder / 'sobel_bonus.png'}, "
                  f"{folder / 'results.json'}, {folder / 'README.md'}")


def register(app: typer.Typer) -> None:
    app.command("filter")(filter_command)
    app.command("gallery")(gallery_command)
    app.command("exercise")(exercise_command)
