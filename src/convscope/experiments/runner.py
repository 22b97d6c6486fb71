"""Running experiments over seeds: in this process or in worker processes, resumable from a folder.

Each (experiment, seed) pair is a unit. With ``workers`` > 1 the units go to a pool of spawned
processes, one PyTorch thread each (small networks train faster as two one-thread processes
than as one two-thread process on two cores). With ``resume_in`` a unit's outcome is saved as
``<folder>/<experiment>/seeds/seed-<n>.npz`` when it finishes, and a later run with the same
budget loads it instead of training again.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np

from ..images import atomic_write
from .base import Progress, Result, SeedRun, lookup, silent

SAVED_VERSION = 1  # bump when an experiment's metrics change, so old saved seeds are not reused


def default_seeds(quick: bool) -> int:
    """Enough seeds for a t-interval to decide the report's claims at each budget."""
    return 3 if quick else 5


def _seed_file(folder: Path, name: str, seed: int) -> Path:
    return folder / name / "seeds" / f"seed-{seed}.npz"


def _key(name: str, quick: bool, data_dir: str | None) -> dict[str, Any]:
    return {"experiment": name, "quick": quick, "data_dir": str(Path(data_dir).resolve()) if data_dir else None,
            "version": SAVED_VERSION}


def save_seed(folder: Path, name: str, quick: bool, data_dir: str | None, run: SeedRun) -> None:
    path = _seed_file(folder, name, run.seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {**_key(name, quick, data_dir), "seed": run.seed, "seconds": run.seconds, "metrics": run.metrics}

    def write(temporary: str) -> None:
        with open(temporary, "wb") as handle:  # an open file: np.savez would add ".npz" to a name
            # mypy thinks the **arrays might fill allow_pickle (a bool): their names never do, hence the ignore
            np.savez_compressed(handle, _meta=np.array(json.dumps(meta)), **run.arrays)  # type: ignore[arg-type]
    atomic_write(path, write)


def load_seed(folder: Path, name: str, quick: bool, data_dir: str | None, seed: int) -> SeedRun | None:
    """A unit saved by an earlier run with the same budget and data, or None."""
    path = _seed_file(folder, name, seed)
    try:
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(str(saved["_meta"]))
            arrays = {k: saved[k] for k in saved.files if k != "_meta"}
    except (OSError, ValueError, KeyError):
        return None
    if {k: meta.get(k) for k in _key(name, quick, data_dir)} != _key(name, quick, data_dir) or meta["seed"] != seed:
        return None
    return SeedRun({k: float(v) for k, v in meta["metrics"].items()}, arrays, seed, float(meta["seconds"]))


# ---- worker processes ------------------------------------------------------------------------------

_EVENTS: Any = None  # the worker's end of the progress queue


def _start_worker(events: Any) -> None:
    global _EVENTS
    import torch

    torch.set_num_threads(1)
    _EVENTS = events


def _run_unit(name: str, seed: int, quick: bool, device: str, data_dir: str | None) -> SeedRun:
    def progress(description: str, total: int) -> Callable[[int], None]:
        key = (name, seed, description)
        _EVENTS.put((key, total, 0))
        last = [0.0]

        def update(done: int) -> None:  # at most ten messages a second per bar
            now = time.monotonic()
            if done >= total or now - last[0] > 0.1:
                last[0] = now
                _EVENTS.put((key, total, done))
        return update
    return lookup(name).run_seed(seed, quick, device, progress, data_dir)


def _relay(events: Any, progress: Progress, stop: threading.Event) -> None:
    """Turn the workers' (key, total, done) messages into the caller's progress bars."""
    bars: dict[Any, Callable[[int], None]] = {}
    while not stop.is_set():
        try:
            key, total, done = events.get(timeout=0.1)
        except queue.Empty:
            continue
        except (EOFError, OSError):
            return
        if key not in bars:
            name, seed, description = key
            bars[key] = progress(f"{name} · seed {seed} · {description}", total)
        bars[key](done)


# ---- the driver ------------------------------------------------------------------------------------

def run_experiments(names: Sequence[str], quick: bool = False, seeds: Sequence[int] = (0,), device: str = "cpu",
                    progress: Progress = silent, data_dir: str | None = None, workers: int = 1,
                    resume_in: str | Path | None = None,
                    finished: Callable[[Result], None] = lambda result: None) -> list[Result]:
    """Run every (experiment, seed) unit; call ``finished`` with each experiment's Result as soon as
    its last seed is in, and return them all in the order of ``names``."""
    from ..models import device_for

    experiments = [lookup(name) for name in names]
    device_for(device)  # a missing CUDA fails here, before any work
    folder = Path(resume_in) if resume_in is not None else None
    runs: dict[str, list[SeedRun]] = {e.name: [] for e in experiments}
    results: dict[str, Result] = {}
    todo = []
    for experiment in experiments:
        for seed in seeds:
            saved = load_seed(folder, experiment.name, quick, data_dir, seed) if folder else None
            (runs[experiment.name].append(saved) if saved else todo.append((experiment.name, seed)))
    # one unit has its own training bars already; an overall bar would only be one more stage to a
    # caller counting stages (the web lesson)
    overall = progress("units (experiment x seed) done", len(todo)) if len(todo) > 1 else silent("", 0)
    done_units = [0]

    def unit_done(name: str, run: SeedRun) -> None:
        if folder:
            save_seed(folder, name, quick, data_dir, run)
        runs[name].append(run)
        done_units[0] += 1
        overall(done_units[0])
        summarise_ready()

    def summarise_ready() -> None:
        for experiment in experiments:
            name = experiment.name
            if name not in results and len(runs[name]) == len(seeds):
                results[name] = experiment.summarise(runs[name], quick)
                finished(results[name])

    summarise_ready()  # experiments whose seeds were all saved
    if workers <= 1 or len(todo) <= 1:
        for name, seed in todo:
            unit_done(name, lookup(name).run_seed(seed, quick, device, progress, data_dir))
    else:
        _run_in_processes(todo, quick, device, progress, data_dir, workers, unit_done)
    return [results[name] for name in names]


def run_experiment(name: str, quick: bool = False, seed: int = 0, seeds: int = 1, device: str = "cpu",
                   progress: Progress = silent, data_dir: str | None = None, workers: int = 1,
                   resume_in: str | Path | None = None) -> Result:
    """One experiment over ``seeds`` consecutive seeds from ``seed``. ``data_dir``: a folder of MNIST
    or Fashion-MNIST IDX files, which the experiments that can use larger images add to theirs."""
    return run_experiments([name], quick, range(seed, seed + seeds), device, progress, data_dir, workers,
                           resume_in)[0]


def _run_in_processes(todo: list[tuple[str, int]], quick: bool, device: str, progress: Progress,
                      data_dir: str | None, workers: int, unit_done: Callable[[str, SeedRun], None]) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no fork of a process that holds threads and torch state
    manager = context.Manager()
    events = manager.Queue()
    stop = threading.Event()
    relay = threading.Thread(target=_relay, args=(events, progress, stop), daemon=True)
    relay.start()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the workers before torch loads there
    try:
        with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context, initializer=_start_worker,
                                 initargs=(events,)) as pool:
            pending: dict[Future[SeedRun], str] = {}
            for name, seed in todo:  # in order: the first experiment's seeds finish first
                pending[pool.submit(_run_unit, name, seed, quick, device, data_dir)] = name
            try:
                while pending:
                    complete, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in complete:
                        name = pending.pop(future)
                        unit_done(name, future.result())
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
    finally:
        stop.set()
        relay.join(timeout=2)
        manager.shutdown()
