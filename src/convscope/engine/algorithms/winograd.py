"""Winograd minimal filtering, F(2x2, 3x3) and F(4x4, 3x3): 2-D, 3x3, stride 1, dilation 1.

The lesson's "do fewer multiplications": cut the output into m x m tiles; each reads an
alpha x alpha input tile d (alpha = m + 2). With the transform matrices B, G and A,

    y_tile = A^T [ sum over input channels of (G g G^T) * (B^T d B) ] A     (* elementwise)

Per tile and channel pair the direct method does 9 m^2 multiplications, Winograd alpha^2:
2.25x fewer for F(2x2, 3x3) (``winograd2``), 4x fewer for F(4x4, 3x3) (``winograd4``).
Summed over input channels, the elementwise products are one batched matrix multiply per
transformed position, ``(alpha^2, C_out, C_in) @ (alpha^2, C_in, tiles)``: that is where
the FLOPs (and the saving) are, and BLAS does it.

How the data moves: NumPy only, no loop over tiles or pixels. Each stage is one copy or
one (batched) BLAS call, and stages ping-pong between two scratch buffers:

1. the row copy ``R[a, c, n, ty, :] = x[n, c, m*ty + a, :]`` (alpha/m times the input),
   rows zero-padded to ``m * P * M`` values;
2. B^T along the width: the windows of "phase" p (tile columns ``P*k + p``) are a plain
   strided matrix of R (step ``m * P >= alpha``), read in place by one GEMM per phase;
   ``P * M >= tw + 1`` tile columns are computed and the extra ones cropped;
3. B^T along the height: one GEMM over the ``a`` axis, giving V (P, alpha, alpha, C, tiles);
4. the channel GEMMs, per (phase, position, group) and per group of images at least
   GEMM_COLUMNS tiles wide;
5. A^T along the height, then A^T along the width, which BLAS writes straight into
   output rows; one last copy puts them in (N, C_out, H, W) order, cropped to out_size.

The weight transform G g G^T is one float64 GEMM per call. float64 input is computed in
float64 throughout. Batch chunks (``workspace.chunks``) are whole groups of images sized to
min(budget, CHUNK_BYTES): keeping the scratch in cache is faster (4 images per chunk
8.7 ms against 10.1 ms all at once on the ResNet stage below), and since every BLAS call
keeps its shape whatever the budget, the result does not depend on the chunking, bit for bit.

Numerical error against float64 (seed 0): N(0, 1) input (8, 64, 56, 56), padding 1,
N(0, 1) weights 64 -> 64 3x3 (the outputs have standard deviation 23.6, max |y| 117),
float32 runs against ``convscope.conv2d(x64, w64, padding=1, backend="numpy")`` in float64:

    algorithm (float32)      max abs error   mean abs error   max error / max |y|
    im2col                   6.5e-05         5.0e-06          5.5e-07
    winograd2  F(2x2, 3x3)   4.3e-05         4.5e-06          3.7e-07
    winograd4  F(4x4, 3x3)   7.3e-04         2.2e-05          6.2e-06

Measured by ``.venv/bin/python -m convscope.engine.algorithms.winograd``; the test suite
holds both algorithms to twice these numbers (``FLOAT32_ERROR``). F(4x4, 3x3) loses about
an order of magnitude (max) and 4x (mean) against im2col: the transforms' large entries
(A^T up to 8, B^T up to 5) and G's 1/6 and 1/24 amplify float32 rounding. F(2x2, 3x3),
whose transforms are 0, +-1 and 1/2, is as accurate as im2col (its channel sums are
shorter). In float64 both agree with the direct sum to ~1e-13 relative.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..workspace import chunk_size, chunks, workspace_budget
from . import Problem, machine

# F(2x2, 3x3), interpolation points 0, 1, -1 (and infinity): 4x4 input tiles.
BT2 = np.array([[1, 0, -1, 0],
                [0, 1, 1, 0],
                [0, -1, 1, 0],
                [0, 1, 0, -1]], dtype=np.float64)
G2 = np.array([[1, 0, 0],
               [1 / 2, 1 / 2, 1 / 2],
               [1 / 2, -1 / 2, 1 / 2],
               [0, 0, 1]], dtype=np.float64)
AT2 = np.array([[1, 1, 1, 0],
                [0, 1, -1, -1]], dtype=np.float64)

# F(4x4, 3x3), Lavin & Gray (2016), interpolation points 0, 1, -1, 2, -2 (and infinity):
# 6x6 input tiles.
BT4 = np.array([[4, 0, -5, 0, 1, 0],
                [0, -4, -4, 1, 1, 0],
                [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0],
                [0, 2, -1, -2, 1, 0],
                [0, 4, 0, -5, 0, 1]], dtype=np.float64)
G4 = np.array([[1 / 4, 0, 0],
               [-1 / 6, -1 / 6, -1 / 6],
               [-1 / 6, 1 / 6, -1 / 6],
               [1 / 24, 1 / 12, 1 / 6],
               [1 / 24, -1 / 12, 1 / 6],
               [0, 0, 1]], dtype=np.float64)
AT4 = np.array([[1, 1, 1, 1, 1, 0],
                [0, 1, -1, 2, -2, 0],
                [0, 1, 1, 4, 4, 0],
                [0, 1, -1, 8, -8, 1]], dtype=np.float64)


# Scratch per batch chunk: it stays in the reference machine's 32 MiB last-level cache
# (measured on (8, 64, 56, 56) -> 64: 4 images per chunk 8.7 ms, all 8 at once 10.1 ms).
CHUNK_BYTES = 16 * 2**20
GEMM_COLUMNS = 256  # narrower channel GEMMs run well below the BLAS peak


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _phases(tw: int) -> tuple[int, int]:
    """(P, M): tile columns are computed as M groups of P phases, P * M >= tw + 1.

    A row of R holds m * P * M values, so the windows of one phase form a matrix with
    row step m * P (>= alpha, as BLAS needs) over all rows at once. The last tile column
    reads 2 values past its row, so it is always one of the extra, cropped ones. Extra
    columns cost work; more phases make each channel GEMM narrower (M * tile rows wide)
    and add calls: P minimises P * M + P / 2.

    Only P in {2, 3, 4} can win, so three candidates are tried whatever the width (the
    cost model calls this for every problem it ranks; a search up to tw would hang on a
    huge padding): with n = tw + 1, n <= P * ceil(n / P) < n + P, so P costs at least
    n + P / 2 while P = 2 costs at most n + 2; any P > 4 loses. (Ties go to the smaller P,
    as a search from 2 upwards would pick.)

    >>> _phases(13), _phases(14), _phases(10**18)
    ((2, 7), (3, 5), (2, 500000000000000001))
    """
    need = max(2, tw + 1)
    phases = min(range(2, min(need, 4) + 1), key=lambda q: 2 * q * _cdiv(need, q) + q)  # doubled: exact ints
    return phases, _cdiv(need, phases)


class _Plan:
    """The tile geometry of one problem and the two scratch buffers' sizes per image."""

    def __init__(self, m: int, p: Problem) -> None:
        self.m = m
        self.alpha = alpha = m + 2
        ho, wo = p.out_size
        self.th, self.tw = _cdiv(ho, m), _cdiv(wo, m)
        self.phases, self.groups_of = _phases(self.tw)
        self.row = m * self.phases * self.groups_of    # values per row of R and of the output rows
        self.tiles = self.th * self.phases * self.groups_of  # tiles per image, extra columns included
        cin, cout, tiles = p.in_channels, p.out_channels, self.tiles
        # Stages ping-pong between two buffers: R -> U1 -> V -> products -> half -> output rows.
        self.first = max(alpha * cin * self.th * self.row, alpha**2 * cin * tiles, alpha * m * cout * tiles)
        self.second = max(alpha**2 * cin * tiles, alpha**2 * cout * tiles, m * m * cout * tiles)
        # Images per channel GEMM: GEMM_COLUMNS tiles wide (per phase) if the batch and
        # CHUNK_BYTES allow; it depends on the problem only, never on the budget.
        # (max(1, ...): an empty problem, which the engine never sends here, must not divide by 0.)
        self.images_per_gemm = max(1, min(p.batch, _cdiv(GEMM_COLUMNS, max(1, self.th * self.groups_of)),
                                          CHUNK_BYTES // max(1, self.scratch_bytes(p))))

    def scratch_bytes(self, p: Problem) -> int:
        """Scratch bytes per image: both buffers."""
        return p.itemsize * (self.first + self.second)

    def parts(self, p: Problem) -> list[slice]:
        """The batch chunks: whole GEMM groups of images, as many as fit the budget (and
        CHUNK_BYTES). Every BLAS call then has the same shape whatever the budget, so the
        numbers do not depend on the chunking. A budget below one group's scratch (at most
        CHUNK_BYTES, or one image's) is exceeded by that much, as ``chunks`` does for one image."""
        group = self.images_per_gemm
        return [slice(s.start * group, min(p.batch, s.stop * group))
                for s in chunks(_cdiv(p.batch, group), group * self.scratch_bytes(p), self._budget())]

    def part_count(self, p: Problem) -> int:
        """``len(self.parts(p))`` in closed form, for the cost model (a batch of millions of tiny
        images would otherwise build a list of that many chunks just to count them)."""
        group = self.images_per_gemm
        return _cdiv(_cdiv(p.batch, group), chunk_size(group * self.scratch_bytes(p), self._budget()))

    @staticmethod
    def _budget() -> int:
        return min(workspace_budget(), CHUNK_BYTES)


class _Winograd:
    """One Winograd algorithm F(m x m, 3x3): the module contract as attributes."""

    def __init__(self, name: str, summary: str, bt: np.ndarray, g: np.ndarray, at: np.ndarray,
                 float32_error: tuple[float, float]) -> None:
        self.NAME = name
        self.SUMMARY = summary
        self.BT, self.G, self.AT = bt, g, at
        self.m, self.alpha = at.shape
        self.FLOAT32_ERROR = float32_error  # (max, mean) abs error of the docstring's measurement

    def __repr__(self) -> str:
        return f"<winograd algorithm {self.NAME!r}: F({self.m}x{self.m}, 3x3)>"

    def unsupported(self, problem: Problem) -> str | None:
        if problem.nd != 2:
            return f"Winograd here is 2-D only (this is {problem.nd}-D)"
        if tuple(problem.kernel_size) != (3, 3):
            return f"Winograd here needs a 3x3 kernel (got {problem.kernel_size})"
        if not problem.unit_stride:
            return f"Winograd needs stride 1 (got {problem.stride})"
        if any(d != 1 for d in problem.dilation):
            return f"Winograd needs dilation 1 (got {problem.dilation})"
        return None

    def cost(self, p: Problem) -> float:
        return _cost(self, p)

    def transformed_weight(self, w: np.ndarray, groups: int, dtype: np.dtype) -> np.ndarray:
        """G g G^T for every filter, in float64: (alpha_j, alpha_i, G, C_out/G, C_in/G).

        One GEMM: u[j, i] = sum over (a, b) of G[i, a] G[j, b] g[a, b].
        """
        a = self.alpha
        kron = np.einsum("jb,ia->jiab", self.G, self.G).reshape(a * a, 9)
        u = kron @ w.reshape(-1, 9).astype(np.float64).T         # (alpha_j * alpha_i, K * Cg)
        return np.ascontiguousarray(u.reshape(a, a, groups, w.shape[0] // groups, w.shape[1]), dtype=dtype)

    def conv_valid(self, xp: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...],
                   groups: int, out_size: tuple[int, ...]) -> np.ndarray:
        p = Problem.of(xp, w, stride, dilation, groups, out_size)
        reason = self.unsupported(p)
        if reason:
            raise ValueError(reason)
        dtype = np.result_type(xp.dtype, np.float32)   # float64 stays float64
        p = replace(p, itemsize=dtype.itemsize)
        y = np.empty((xp.shape[0], w.shape[0]) + tuple(out_size), dtype=dtype)
        if y.size == 0 or xp.shape[1] == 0:
            y[...] = 0
            return y.astype(xp.dtype, copy=False)
        plan = _Plan(self.m, p)
        u = self.transformed_weight(w, groups, dtype)
        parts = plan.parts(p)
        most = max(part.stop - part.start for part in parts)
        first = np.empty(most * plan.first + 8, dtype=dtype)   # reused by every chunk
        second = np.empty(most * plan.second, dtype=dtype)
        for part in parts:
            self._chunk(xp[part], u, plan, y[part], first, second)
        return y.astype(xp.dtype, copy=False)

    def _chunk(self, xp: np.ndarray, u: np.ndarray, plan: _Plan, y: np.ndarray,
               first: np.ndarray, second: np.ndarray) -> None:
        """Convolve one batch chunk into ``y`` (a view of the output), in the two buffers."""
        dtype = y.dtype
        bt, at = self.BT.astype(dtype), self.AT.astype(dtype)
        a, m, row = self.alpha, self.m, plan.row
        phases, groups_of, th = plan.phases, plan.groups_of, plan.th
        n, cin, hp, wp = xp.shape
        groups, kg, cg = u.shape[2:]
        cout = groups * kg
        size = dtype.itemsize
        tiles = n * th * groups_of                     # per phase: the channel GEMMs' width

        def take(buf: np.ndarray, *shape: int) -> np.ndarray:
            return buf[:int(np.prod(shape))].reshape(shape)

        # 1. R[a, c, n, ty, :] = xp[n, c, m*ty + a, :], rows zero-padded to `row` values, and
        #    a zeroed tail: the last (extra) tile of the last row reads 2 values past the end.
        rows = a * cin * n * th
        first[rows * row:rows * row + 8] = 0
        r = take(first, a, cin, n, th, row)
        src = xp.transpose(1, 0, 2, 3)
        cols = min(wp, row)
        for tap in range(a):
            filled = min(th, max(0, _cdiv(hp - tap, m)))
            if filled:
                r[tap, :, :, :filled, :cols] = src[:, :, tap:tap + m * (filled - 1) + 1:m, :cols]
            if filled < th:
                r[tap, :, :, filled:] = 0
        if cols < row:
            r[..., cols:] = 0

        # 2. B^T along the width, one GEMM per phase: the windows of tile column
        #    k * phases + p start at m * (k * phases + p) of a row, so over all rows and k
        #    they are an (alpha, rows * groups_of) matrix with column step m * phases.
        width = rows * groups_of
        windows = as_strided(first, (phases, a, width), (m * size, size, m * phases * size), writeable=False)
        u1 = np.matmul(bt, windows, out=take(second, phases, a, width))    # (P, alpha_j, [a, c, n, ty, k])

        # 3. B^T along the height: contract the a axis.
        v = np.matmul(bt, u1.reshape(phases, a, a, cin * tiles),
                      out=take(first, phases, a, a, cin * tiles))          # (P, alpha_j, alpha_i, [c, n, ty, k])

        # 4. the channel reduction: one GEMM per (phase, position, group, GEMM group of images).
        v = v.reshape(phases, a, a, groups, cg, tiles)
        prod = take(second, phases, a, a, groups, kg, tiles)
        if cg == 1:
            np.multiply(u, v, out=prod)                                     # depthwise: nothing to sum
        else:
            span = plan.images_per_gemm * th * groups_of       # tiles of one GEMM group of images
            full = tiles // span
            if full:
                shape = (phases, a, a, groups, -1, full, span)
                np.matmul(u[:, :, :, None], v[..., :full * span].reshape(shape).swapaxes(4, 5),
                          out=prod[..., :full * span].reshape(shape).swapaxes(4, 5))
            if full * span < tiles:                               # the batch's last, smaller group
                np.matmul(u, v[..., full * span:], out=prod[..., full * span:])

        # 5. A^T along the height, then along the width, written by BLAS straight into
        #    output rows: out_rows[i, o, n, ty, m * (k * phases + p) + j].
        half = np.matmul(at, prod.reshape(phases, a, a, cout * tiles),
                         out=take(first, phases, a, m, cout * tiles))     # (P, alpha_j, m_i, [o, n, ty, k])
        per_phase = m * cout * tiles
        out_rows = take(second, m, cout, n, th, row)
        dest = as_strided(out_rows, (phases, per_phase, m), (m * size, m * phases * size, size))
        np.matmul(half.reshape(phases, a, per_phase).transpose(0, 2, 1), at.T, out=dest)

        ho, wo = y.shape[2:]
        for i in range(m):
            filled = _cdiv(ho - i, m)
            if filled > 0:
                y[:, :, i:ho:m] = out_rows[i, :, :, :filled, :wo].transpose(1, 0, 2, 3)


def _cost(algo: _Winograd, p: Problem) -> float:
    """Estimated seconds: the memory passes, the channel GEMMs, and the calls.

    Every stage but the channel GEMMs streams its input and output once (the copies read
    contiguous rows, the transforms are BLAS calls with alpha-sized inner dimensions), so
    they cost bytes / STREAM_BYTES; the channel GEMMs cost their FLOPs at the GEMM rate
    (at least their own bytes); each NumPy call CALL, each BLAS call inside a batched
    matmul CALL / 8 (measured ~0.5 us).
    """
    plan = _Plan(algo.m, p)
    a, m, g = algo.alpha, algo.m, p.groups
    cin, cout = p.in_channels, p.out_channels
    tiles = p.batch * plan.tiles                          # all phases, extra columns included
    sizes = dict(
        input=p.batch * cin * p.padded_size[0] * p.padded_size[1],
        copy=p.batch * a * cin * plan.th * plan.row,      # R: the rows each tile row reads
        transformed=a * a * cin * tiles,                  # U1, then V
        products=a * a * cout * tiles,
        half=a * m * cout * tiles,
        rows=m * m * cout * tiles,
        output=p.batch * cout * p.out_size[0] * p.out_size[1],
    )
    b = {k: v * p.itemsize for k, v in sizes.items()}
    passes = (b["input"] + b["copy"]                      # 1. the row copy
              + b["copy"] + b["transformed"]              # 2. B^T along the width
              + 2 * b["transformed"]                      # 3. B^T along the height
              + b["products"] + b["half"]                 # 5. A^T along the height ...
              + b["half"] + b["rows"]                     #    ... and along the width
              + b["rows"] + b["output"])                  #    the last copy into (N, C_out, H, W)
    cg, kg = cin // g, cout // g
    gemm_bytes = (b["transformed"] + b["products"]) / machine.STREAM_BYTES
    if cg == 1:
        gemm = gemm_bytes                                 # an elementwise product
    else:
        rate = machine.GEMM_FLOPS if cg >= 64 and kg >= 16 else machine.SMALL_GEMM_FLOPS
        gemm = max(2 * a * a * kg * cg * g * tiles / rate, gemm_bytes)
    parts = plan.part_count(p)
    gemm_calls = 0 if cg == 1 else g * _cdiv(p.batch, plan.images_per_gemm)
    blas_calls = plan.phases * (parts * (2 + 2 * a) + a * a * gemm_calls)
    numpy_calls = 12 + parts * (2 * a + m + 8)
    return passes / machine.STREAM_BYTES + gemm + (numpy_calls + blas_calls / 8) * machine.CALL


F2 = _Winograd("winograd2", "Winograd F(2x2,3x3): 16 multiplies per 4 outputs instead of 36, "
               "channel sums as one batched GEMM", BT2, G2, AT2, (4.4e-05, 4.6e-06))
F4 = _Winograd("winograd4", "Winograd F(4x4,3x3): 36 multiplies per 16 outputs instead of 144, "
               "channel sums as one batched GEMM", BT4, G4, AT4, (7.3e-04, 2.2e-05))
ALGORITHMS = (F2, F4)


def _measure_error(seed: int = 0) -> None:  # pragma: no cover - the docstring's table
    """Print the float32 error table of the module docstring."""
    from ..conv import conv2d
    from . import im2col

    rng = np.random.default_rng(seed)
    x64 = rng.standard_normal((8, 64, 56, 56))
    w64 = rng.standard_normal((64, 64, 3, 3))
    ref = np.asarray(conv2d(x64, w64, padding=1, backend="numpy"), dtype=np.float64)
    xp32 = np.pad(x64.astype(np.float32), ((0, 0), (0, 0), (1, 1), (1, 1)))
    w32 = w64.astype(np.float32)
    args = ((1, 1), (1, 1), 1, (56, 56))
    print(f"reference float64: std {ref.std():.3g}, max |y| {np.abs(ref).max():.4g}")
    print(f"{'algorithm (float32)':22} {'max abs error':>14} {'mean abs error':>15} {'max err/max|y|':>15}")
    for name, fn in (("im2col", im2col.conv_valid), ("winograd2", F2.conv_valid), ("winograd4", F4.conv_valid)):
        err = np.abs(fn(xp32, w32, *args).astype(np.float64) - ref)
        print(f"{name:22} {err.max():14.2e} {err.mean():15.2e} {err.max() / np.abs(ref).max():15.2e}")


if __name__ == "__main__":  # pragma: no cover
    _measure_error()
