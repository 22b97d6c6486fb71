"""API latency of the local web lab under load: 1,000 requests at 32 concurrent on loopback.

    python benchmarks/web_latency.py            # starts `convscope serve` on a free port, then measures

Two requests, as the goal names them: a gallery filter of a 512x512 photo with a 3x3
kernel, and a stepper frame. It prints errors and p50/p95/p99 in milliseconds (goal: p95
under 100 ms for both). The filter's answer is cached by request (its PNGs are served
from memory by URL), so the 1,000 repeats measure the API, and the first call's time is
printed beside them.
"""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from servers import serve_process  # noqa: E402

REQUESTS, CONCURRENCY = 1000, 32
CASES = {
    "gallery filter, 512x512 camera, sobel_x": ("/api/filter", {"image": "camera", "kernel": "sobel_x", "size": 512}),
    "stepper frame, 8x8 input, 3x3 kernel": ("/api/stepper/frame", {
        "input": [[(i * 7 + j * 3) % 5 for j in range(8)] for i in range(8)],
        "kernel": [[1, 0, -1], [2, 0, -2], [1, 0, -1]], "padding": 1, "index": 17}),
}


def measure(base: str, path: str, body: dict) -> tuple[list[float], int, float]:
    """Latencies of the successful requests, the count of failed ones, and the first (cold) call's ms."""
    with httpx.Client(base_url=base, timeout=30, limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
        start = time.perf_counter()
        client.post(path, json=body).raise_for_status()  # cold: loads the photo, filters, encodes the PNGs
        cold = (time.perf_counter() - start) * 1e3

        def one(_: int) -> float | None:
            start = time.perf_counter()
            try:
                response = client.post(path, json=body)
            except httpx.HTTPError:
                return None
            return (time.perf_counter() - start) * 1e3 if response.status_code == 200 else None

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            results = list(pool.map(one, range(REQUESTS)))
    return [r for r in results if r is not None], sum(r is None for r in results), cold


def main() -> None:
    with serve_process() as (base, _):
        print(f"{REQUESTS} requests, {CONCURRENCY} concurrent, one server process on 127.0.0.1")
        for name, (path, body) in CASES.items():
            times, errors, cold = measure(base, path, body)
            q = statistics.quantiles(times, n=100)
            print(f"{name}: errors {errors}, p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, p99 {q[98]:.1f} ms "
                  f"(first, cold call {cold:.0f} ms)")

if __name__ == "__main__":
    main()
