"""Dense attention softmax(Q K^T / sqrt(d)) V in numpy, the side-by-side reference of bench/speed.sh.

Usage: numpy_attention.py HEADS N D [REPEATS]
Prints one line: "numpy pairs_per_s=<float> seconds=<float> blas=<library> threads=<n>".
Float32, one BLAS thread (the benchmark sets OPENBLAS_NUM_THREADS=1), queries in blocks of 1024
rows so that no N x N matrix is held (what a careful numpy user would write); the best of
REPEATS runs is taken. The BLAS reported is the shared library the process mapped for it.
"""
import os
import sys
import time

import numpy as np


def attention(q, k, v):
    heads, n, d = q.shape
    out = np.empty_like(q)
    scale = np.float32(1.0 / np.sqrt(d))
    block = 1024
    for h in range(heads):
        kt = k[h].T
        for i in range(0, n, block):
            s = (q[h, i:i + block] @ kt) * scale
            s -= s.max(axis=1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=1, keepdims=True)
            out[h, i:i + block] = s @ v[h]
    return out


def blas_library():
    with open("/proc/self/maps") as maps:
        libs = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    return ", ".join(sorted(libs)) or "unknown"


def main():
    heads, n, d = (int(a) for a in sys.argv[1:4])
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((heads, n, d), dtype=np.float32) for _ in range(3))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        attention(q, k, v)
        best = min(best, time.perf_counter() - t0)
    pairs = heads * n * n
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"numpy pairs_per_s={pairs / best:.6g} seconds={best:.4f} "
          f"blas={blas_library()} threads={threads} numpy={np.__version__}")


if __name__ == "__main__":
    main()
