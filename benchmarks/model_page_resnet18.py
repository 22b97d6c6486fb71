"""How fast the lab's model page answers on a ResNet-18-shaped model at 224x224, over HTTP, the way
a browser asks: `convscope serve --model benchmarks/explore_resnet18.py:resnet18` runs as its own
process; the first trace (`/api/model/layers`) of a photo and of the random input is timed, then,
for every layer with maps, a layer click (`/api/model/maps`, the first 16 maps) and a map click
(`/api/model/unit`, channel 0), in 3 sweeps. Sweep 1 is each layer's first click (what a user waits
for); the trace keeps the activations that fit explore's cache, so a click draws maps and statistics
rather than running the model, and sweeps 2-3 show the noise. The goal (issue 18): every click under
1 s on the 2-core machine. Prints a table, a summary, torch's own forward pass of the same model
measured in the same run, and draws docs/images/model-page-resnet18.png. Nothing is asserted.

    .venv/bin/python benchmarks/model_page_resnet18.py
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import torch
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from explore_resnet18 import resnet18  # noqa: E402 - the same model the server loads

ROOT = Path(__file__).resolve().parent.parent
SPEC, NAME, PHOTO = "benchmarks/explore_resnet18.py:resnet18", "resnet18", "astronaut"
FIGURE = ROOT / "docs" / "images" / "model-page-resnet18.png"
SWEEPS, GOAL = 3, 1.0


def timed(client: httpx.Client, path: str, **params: object) -> tuple[float, dict]:
    """Seconds until the whole answer has arrived (what the page waits for), and the answer."""
    start = time.perf_counter()
    answer = client.get(path, params={"model": NAME, "input": PHOTO, **params}).raise_for_status()
    return time.perf_counter() - start, answer.json()


def torch_forward() -> float:
    """Median of 10 plain forward passes (no hooks, no grad), after one warm-up."""
    model, x = resnet18().eval(), torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        model(x)
        runs = []
        for _ in range(10):
            start = time.perf_counter()
            model(x)
            runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def wait_until_ready(client: httpx.Client, server: subprocess.Popen) -> None:
    """Until the lab answers and its built-in CNNs have trained: their training would share the 2 cores."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"error: convscope serve exited with {server.returncode}")
        try:
            if all(model["ready"] for model in client.get("/api/models").json()["models"]):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    sys.exit("error: the lab was not ready after 300 s")


def summary(clicks: list[float]) -> str:
    ms = np.array(clicks) * 1000
    return (f"median {np.median(ms):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms, "
            f"{int((ms > GOAL * 1000).sum())} of {len(ms)} over {GOAL:.0f} s")


def figure(names: list[str], first: np.ndarray, repeats: np.ndarray, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4), dpi=100)
    x = np.arange(len(names))
    for column, label, colour in ((0, "layer click (maps)", "tab:blue"), (1, "map click (unit)", "tab:orange")):
        ax.plot(x, first[:, column] * 1000, "o", ms=4, color=colour, label=f"{label}, sweep 1")
        ax.plot(x, repeats[:, column] * 1000, "x", ms=3, color=colour, alpha=0.6, label=f"{label}, sweeps 2-3")
    ax.axhline(GOAL * 1000, ls="--", color="tab:red", label="goal: 1 s")
    ax.set_yscale("log")
    ax.set_ylim(1, 3000)
    ax.set_ylabel("answer time (ms)")
    convs = [i for i, name in enumerate(names) if name.startswith("conv:")]   # label only the convolutions
    ax.set_xticks(convs, [names[i].removeprefix("conv:") for i in convs], rotation=90, fontsize=6)
    ax.set_xlabel("layers with maps, in order (convolutions named)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, ncol=3, loc="upper left", bbox_to_anchor=(0, 0.8))   # below the goal line
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE)


def main() -> None:
    console = Console(highlight=False)
    forward = torch_forward()   # before the server starts, on quiet cores
    with socket.create_server(("127.0.0.1", 0)) as probe:   # a free port, released for the server
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as cache:   # the built-in CNNs' training cache, not the user's
        server = subprocess.Popen([sys.executable, "-m", "convscope", "serve", "--model", SPEC, "--input",
                                   "1,3,224,224", "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                  env={**os.environ, "CONVSCOPE_CACHE": cache})
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                wait_until_ready(client, server)
                traces = {name: timed(client, "/api/model/layers", input=name) for name in (PHOTO, "random")}
                rows = [row for row in traces[PHOTO][1]["layers"] if row["maps"]]
                times = np.zeros((SWEEPS, len(rows), 2))   # sweep, layer, (layer click, map click)
                with Progress(console=console, transient=True) as progress:
                    task = progress.add_task("clicking every layer", total=SWEEPS * len(rows))
                    for sweep in range(SWEEPS):
                        for i, row in enumerate(rows):
                            times[sweep, i] = (
                                timed(client, "/api/model/maps", layer=row["name"], start=0, count=16)[0],
                                timed(client, "/api/model/unit", layer=row["name"], channel=0)[0])
                            progress.advance(task)
        finally:
            server.terminate()
            server.wait(timeout=30)
    first, repeats = times[0], np.median(times[1:], axis=0)
    table = Table(title=f"model page clicks, {NAME} 1x3x224x224 on {PHOTO}, ms (sweep 1: median / max)")
    table.add_column("kind", no_wrap=True)
    for column in ("layers", "layer click\nsweep 1", "layer click\nsweeps 2-3", "map click\nsweep 1",
                   "map click\nsweeps 2-3"):
        table.add_column(column, justify="right")
    for kind in dict.fromkeys(row["kind"] for row in rows):
        mine = [i for i, row in enumerate(rows) if row["kind"] == kind]
        cells = [f"{np.median(first[mine, c]) * 1000:.0f} / {first[mine, c].max() * 1000:.0f}" for c in (0, 1)]
        table.add_row(kind, str(len(mine)), cells[0], f"{np.median(repeats[mine, 0]) * 1000:.0f}",
                      cells[1], f"{np.median(repeats[mine, 1]) * 1000:.0f}")
    console.print(table)
    console.print(f"first trace (/api/model/layers): {PHOTO} {traces[PHOTO][0]:.2f} s, "
                  f"random {traces['random'][0]:.2f} s; torch's plain forward (no hooks, no grad, "
                  f"{torch.get_num_threads()} threads) {forward * 1000:.1f} ms", soft_wrap=True)
    for label, data in (("sweep 1", first), ("sweeps 2-3", repeats)):
        console.print(f"{label}: layer click {summary(list(data[:, 0]))}; map click {summary(list(data[:, 1]))}; "
                      f"median layer click = {np.median(data[:, 0]) / forward:.1f}x torch's forward", soft_wrap=True)
    names = [f"conv:{row['name']}" if row["kind"] == "Conv2d" else row["name"] for row in rows]
    figure(names, first, repeats, f"convscope model page, ResNet-18 at 224x224, {os.cpu_count()} cores, "
           f"sweep 1: layer click median {np.median(first[:, 0]) * 1000:.0f} ms, max {first[:, 0].max() * 1000:.0f} ms"
           f"\nmap click median {np.median(first[:, 1]) * 1000:.0f} ms, max {first[:, 1].max() * 1000:.0f} ms; "
           f"first trace {traces[PHOTO][0]:.1f} s; {int((first > GOAL).sum())} of {first.size} clicks over 1 s")
    console.print(f"figure: {FIGURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
