"""Cold start: seconds from `convscope serve` starting to the first digit prediction.

Starts the lab as a subprocess (as a learner does with `make run`), polls it, and posts a drawn "1"
until a prediction comes back. Run twice: with an empty model cache (the digit CNN trains in the
background at start-up) and with the cache that run wrote (the model is loaded). Each line gives the
seconds until the server answers, until /api/digit/status says ready, and until the first prediction.

    python benchmarks/cold_start.py [--runs 3]

The goal is under 10 s on an idle 2-core machine; the load average is printed, since a busy
machine stretches the training.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from servers import free_port  # noqa: E402

ONE = np.zeros((32, 32))
ONE[4:28, 14:18] = 1


def once(cache: str) -> tuple[float, float, float]:
    """(answering, ready, predicted), in seconds since the process was started."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    start = time.monotonic()
    server = subprocess.Popen([str(Path(sys.executable).with_name("convscope")), "serve", "--port", str(port)],
                              env={**os.environ, "CONVSCOPE_CACHE": cache},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    answering = ready = None
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() - start < 300:
                if server.poll() is not None:
                    raise SystemExit(f"the server exited with status {server.returncode}")
                try:
                    answer = client.post("/api/digit", json={"pixels": ONE.tolist()})
                except httpx.TransportError:  # not listening yet
                    time.sleep(0.05)
                    continue
                now = time.monotonic() - start
                answering = answering or now
                if answer.status_code == 200:
                    assert answer.json()["prediction"] == 1, answer.json()["prediction"]
                    return answering, ready or now, now
                if client.get("/api/digit/status").json()["state"] == "ready":
                    ready = ready or time.monotonic() - start
                time.sleep(0.05)
        raise SystemExit("no prediction within 300 s")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind (the median is printed)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU(s); load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for kind in ("no cache (trains at start-up)", "with the cache it wrote (loads)"):
        runs = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as cache:
                if kind.startswith("with"):
                    once(cache)  # writes the cache
                runs.append(once(cache))
        answering, ready, predicted = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"{kind:34} server answers {answering:5.2f} s, model ready {ready:5.2f} s, "
              f"first prediction {predicted:5.2f} s (median of {args.runs}; "
              f"all: {', '.join(f'{r[2]:.2f}' for r in runs)})")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
