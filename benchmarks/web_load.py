"""The lab under a classroom's load: a mixed workload at 32 concurrent, then a soak of distinct uploads.

    python benchmarks/web_load.py                 # 2,000 mixed requests, then 300 uploads
    python benchmarks/web_load.py --requests 400 --uploads 60   # a shorter run

It starts `convscope serve` on a free loopback port and sends, from 32 threads:
uncached gallery filters (every request a photo, kernel and size not asked before), stepper
frames, shape calculations, digit readings and uploads. It prints errors (any status other
than 200, or no answer), p50/p95/p99 per kind and overall, and the server's resident memory
(now and peak, read from /proc). The soak then uploads distinct photos (900-1500 px) one after
another and filters each, and prints how much RSS grew against the caches' budget in bytes
(convscope.web.services.CACHE_BYTES): the caches are bounded in bytes, so RSS must level off.
"""

from __future__ import annotations

import argparse
import io
import itertools
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from convscope.filters import KERNELS  # noqa: E402
from convscope.images import SAMPLES  # noqa: E402
from convscope.web.services import CACHE_BYTES  # noqa: E402

from servers import serve_process  # noqa: E402

CONCURRENCY = 32
MiB = 2**20


def rss(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of ``pid`` in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def photo(seed: int, side: int) -> bytes:
    """A distinct PNG photo-like image: smooth colour gradients and noise."""
    rng = np.random.default_rng(seed)
    h, w = side, int(side * rng.uniform(0.7, 1.0))
    yy, xx = np.mgrid[0:h, 0:w] / side
    planes = [np.sin(xx * rng.uniform(2, 9) + yy * rng.uniform(2, 9) + c) for c in range(3)]
    pixels = ((np.stack(planes, -1) + 1) * 110 + rng.normal(0, 8, (h, w, 3))).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def workload(count: int, first_size: int = 512):
    """``count`` requests of five kinds, in a fixed order; every filter is one not asked before."""
    filters = ({"image": image, "kernel": kernel, "size": size} for size, image, kernel in
               itertools.product(range(first_size, 31, -1), sorted(SAMPLES), sorted(KERNELS)))
    grid = [[(i * 7 + j * 3) % 5 for j in range(8)] for i in range(8)]
    stacks = ["Conv2d(3,16,3,padding=1) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(?,10)",
              "Conv2d(3,64,7,stride=2,padding=3) -> MaxPool2d(3,2,1) -> Conv2d(?,64,3,padding=1)"]
    digit = np.zeros((32, 32))
    digit[4:28, 14:18] = 1
    uploads = (photo(seed, 300) for seed in itertools.count(10_000))
    for index in range(count):
        kind = ("filter", "frame", "shape", "digit", "upload")[index % 5]
        if kind == "filter":
            yield kind, "/api/filter", {"json": next(filters)}
        elif kind == "frame":
            yield kind, "/api/stepper/frame", {"json": {"input": grid, "kernel": [[1, 0, -1]] * 3, "padding": 1,
                                                        "index": index % 64}}
        elif kind == "shape":
            yield kind, "/api/shape", {"json": {"stack": stacks[index % 2], "input": [1, 3, 32 + index % 64, 32]}}
        elif kind == "digit":
            yield kind, "/api/digit", {"json": {"pixels": np.roll(digit, index % 5, axis=1).tolist()}}
        else:
            yield kind, "/api/upload", {"files": {"file": ("p.png", next(uploads), "image/png")}}


def mixed(base: str, count: int, pid: int) -> None:
    requests = list(workload(count))
    times: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=120, limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
        def one(request: tuple) -> tuple[str, float | None]:
            kind, path, kwargs = request
            start = time.perf_counter()
            try:
                response = client.post(path, **kwargs)
            except httpx.HTTPError:
                return kind, None
            return kind, (time.perf_counter() - start) * 1e3 if response.status_code == 200 else None

        start = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            for kind, ms in pool.map(one, requests):
                if ms is None:
                    errors[kind] = errors.get(kind, 0) + 1
                else:
                    times.setdefault(kind, []).append(ms)
        wall = time.perf_counter() - start
    every = [t for values in times.values() for t in values]
    print(f"{count:,} requests, {CONCURRENCY} concurrent, {wall:.1f} s ({count / wall:.0f} requests/s); "
          f"errors: {sum(errors.values())} {errors or ''}")
    for kind, values in [*sorted(times.items()), ("all", every)]:
        q = statistics.quantiles(values, n=100)
        print(f"  {kind:7} n={len(values):5}  p50 {q[49]:7.1f} ms  p95 {q[94]:7.1f} ms  p99 {q[98]:7.1f} ms")
    now, peak = rss(pid)
    print(f"server RSS after the mix: {now:.0f} MiB (peak {peak:.0f} MiB)")


def soak(base: str, count: int, pid: int) -> None:
    """Distinct uploads, each filtered: unbounded caches would grow by every upload (2.4 GB after 141
    before the caches were bounded in bytes); bounded, RSS grows by at most CACHE_BYTES, then stays."""
    start = rss(pid)[0]
    print(f"soak: {count} distinct uploads of 900-1500 px, each filtered; RSS before {start:.0f} MiB, "
          f"caches bounded at {CACHE_BYTES / MiB:.0f} MiB in all")
    highest = start
    with httpx.Client(base_url=base, timeout=120) as client:
        for index in range(count):
            sent = client.post("/api/upload", files={"file": ("p.png", photo(index, 900 + index * 7 % 600),
                                                              "image/png")})
            sent.raise_for_status()
            client.post("/api/filter", json={"image": sent.json()["id"], "kernel": "sobel_x",
                                             "size": 512}).raise_for_status()
            now = rss(pid)[0]
            highest = max(highest, now)
            if (index + 1) % max(1, count // 6) == 0 or index + 1 == count:
                print(f"  after {index + 1:4} uploads: RSS {now:5.0f} MiB (peak {rss(pid)[1]:.0f} MiB)")
    growth = highest - start
    print(f"growth during the soak: {growth:.0f} MiB (caches: {CACHE_BYTES / MiB:.0f} MiB): "
          + ("within the cache budget" if growth <= CACHE_BYTES / MiB else "OVER the cache budget"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--uploads", type=int, default=300)
    args = parser.parse_args()
    with serve_process() as (base, server):
        print(f"one server process on 127.0.0.1 (RSS at start-up {rss(server.pid)[0]:.0f} MiB)")
        with httpx.Client(base_url=base, timeout=300) as client:  # one of each kind: imports, the digit CNN trains
            while client.get("/api/digit/status").json()["state"] == "training":  # readings answer 503 until then
                time.sleep(0.2)
            for _, path, kwargs in workload(5, first_size=100):
                client.post(path, **kwargs).raise_for_status()
        print(f"after one request of each kind (torch loaded, the digit CNN trained): RSS {rss(server.pid)[0]:.0f} MiB")
        mixed(base, args.requests, server.pid)
        soak(base, args.uploads, server.pid)

if __name__ == "__main__":
    main()
