"""Peak memory of one large convolution: convscope (bounded by its workspace budget) beside torch.

    python benchmarks/peak_memory.py convscope     # or: torch
    python benchmarks/peak_memory.py convscope --size 1024   # a smaller image

The goal: a (1, 64, 2048, 2048) 3x3 convolution peaks at no more than input + output +
the workspace budget (256 MiB by default). Each run is its own process, so the peak
resident size (ru_maxrss) belongs to that one call.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", choices=["convscope", "torch"])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--channels", type=int, default=64)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, args.channels, args.size, args.size), dtype=np.float32)
    w = rng.standard_normal((args.channels, args.channels, 3, 3), dtype=np.float32)
    if args.library == "torch":
        import torch

        torch.set_num_threads(2)
        conv = lambda a: torch.nn.functional.conv2d(torch.from_numpy(a), torch.from_numpy(w), padding=1)  # noqa: E731
    else:
        import convscope

        conv = lambda a: convscope.conv2d(a, w, padding=1)  # noqa: E731
    conv(np.ascontiguousarray(x[:, :, :8]))  # load libraries and compile kernels before the baseline
    base = peak_mib()
    start = time.perf_counter()
    y = conv(x)
    seconds = time.perf_counter() - start
    out_mib = y.numel() * 4 / 2**20 if hasattr(y, "numel") else y.nbytes / 2**20
    print(f"{args.library}: {seconds:.2f} s; input {x.nbytes / 2**20:.0f} MiB, output {out_mib:.0f} MiB; "
          f"peak rise above the baseline {peak_mib() - base:.0f} MiB (convscope's workspace budget: 256 MiB)")


if __name__ == "__main__":
    main()
