"""Rates the cost model uses, measured once on the 2-core reference machine.

They only need to rank algorithms, not predict times exactly; `convscope bench` shows
how close the ranking is (``auto`` must land within 1.3x of the fastest algorithm).
"""

GEMM_FLOPS = 200e9        # float32 GEMM through NumPy's BLAS, large operands (2 threads)
SMALL_GEMM_FLOPS = 60e9   # GEMM with a small inner dimension (K < 64) or thin operands
CACHED_COPY_BYTES = 15e9  # strided gather copies into a cache-sized block (im2col)
STREAM_BYTES = 20e9       # contiguous elementwise passes (add, multiply, pad)
CALL = 4e-6               # fixed cost of one NumPy call
JIT_FLOPS = 6e9           # numba direct loops, any kernel and stride, 2 threads
JIT_3X3_FLOPS = 220e9     # numba 3x3 stride-1 kernel with the weights in registers, many channels
FFT_POINTS = 60e6         # real FFT points per second, times log2 of the length
