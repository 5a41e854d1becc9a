"""The rounding error of Winograd convolutions whose transformed tiles and filters are rounded to bf16 before the
products (as CWinograd/winograd_bf16.c does), against an exact convolution of the same bf16 input, beside a direct
bf16 kernel (filters rounded to bf16): relative RMS error over random post-ReLU-like tiles, 256 input channels.
The transforms are built by the Toom-Cook construction for the given points (the last is infinity), as wincnn does.
Why the trunk's bf16 kernel is F(2×2, 3×3): see the README's "bf16 Winograd in the inference trunk".
    /usr/bin/python3 benchmarks/winograd_bf16_error.py
"""
from fractions import Fraction as F

import numpy as np


def bf16(x):
    """Round to bf16 (nearest even), returned as float64."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32).astype(np.float64)


def transforms(m, r, points):
    """A^T (m × n), G (n × r), B^T (n × n) of F(m, r) on `points` and infinity (n = m + r − 1)."""
    n, a = m + r - 1, [F(p) for p in points]
    at = [[a[j] ** i for j in range(n - 1)] + [F(int(i == m - 1))] for i in range(m)]
    g = []
    for j in range(n - 1):
        f = F(1)
        for l in range(n - 1):
            if l != j:
                f *= a[j] - a[l]
        g.append([a[j] ** k / f for k in range(r)])
    g.append([F(int(k == r - 1)) for k in range(r)])
    at, g = np.array(at, dtype=float), np.array(g, dtype=float)
    # B^T from y_i = Σ_k d_{i+k} g_k = A^T [(G g) ⊙ (B^T d)] for every d and g: linear in B^T's entries.
    rows, rhs = [], []
    for i in range(m):
        for k in range(r):
            for t in range(n):
                row = np.zeros((n, n))
                row[:, t] = at[i, :] * g[:, k]
                rows.append(row.ravel())
                rhs.append(float(t == i + k))
    bt = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0].reshape(n, n)
    return at, g, bt


def errors(m, r, points, channels=256, tiles=300, seed=0):
    rng = np.random.default_rng(seed)
    n = m + r - 1
    at, g, bt = transforms(m, r, points)
    x = bf16(np.maximum(rng.random((tiles, channels, n, n)) - 0.5, 0) * 2)
    w = rng.uniform(-1, 1, (8, channels, r, r)) / np.sqrt(channels * r * r) * 1.7

    def direct(filters):
        y = np.zeros((tiles, 8, m, m))
        for i in range(m):
            for j in range(m):
                y[:, :, i, j] = np.einsum("tcpq,ocpq->to", x[:, :, i:i + r, j:j + r], filters)
        return y

    exact = direct(w)
    v = np.einsum("ia,tcab,jb->tcij", bt, x, bt)
    u = np.einsum("ia,ocab,jb->ocij", g, w, g)
    winograd = np.einsum("ai,toij,bj->toab", at, np.einsum("tcij,ocij->toij", bf16(v), bf16(u)), at)
    scale = np.sqrt((exact ** 2).mean())
    rms = lambda y: np.sqrt(((y - exact) ** 2).mean()) / scale
    return rms(winograd), rms(direct(bf16(w)))


if __name__ == "__main__":
    for m, r, points in [(4, 3, [0, 1, -1, 2, -2]), (4, 3, [0, 1, -1, F(1, 2), -2]), (2, 3, [0, 1, -1]),
                         (2, 5, [0, 1, -1, 2, -2]), (2, 5, [0, 1, -1, F(1, 2), -2])]:
        winograd, direct = errors(m, r, points)
        print(f"F({m}×{m}, {r}×{r}) on points {', '.join(str(p) for p in points)}, ∞: Winograd in bf16 {winograd:.2e}, "
              f"direct bf16 {direct:.2e}")
