"""Slow oracles of the 5B kernels for the tests: plain Python loops over the formulas the
state modules document."""
from __future__ import annotations

import math

import numpy as np

from python_kernels.core import rng

U64 = np.uint64


def latent_factors_naive(streams, sigma, length_scale, n_buckets, clip_lo=0.2, clip_hi=5.0):
    out = np.empty((len(streams), n_buckets))
    for g, (st, s, L) in enumerate(zip(streams, sigma, length_scale)):
        phi = math.exp(-1.0 / L)
        z = 0.0
        for t in range(n_buckets):
            e = rng.normal(U64(st), U64(2 * t))
            z = s * e if t == 0 else phi * z + s * math.sqrt(1 - phi * phi) * e
            out[g, t] = min(max(math.exp(z - s * s / 2), clip_lo), clip_hi)
    return out


def bucket_counts_naive(streams, mu, kappa, eps=1e-9):
    return np.array([0 if m <= eps else rng.nb2(U64(s), U64(0), m, k)
                     for s, m, k in zip(streams, mu, kappa)], dtype=np.int64)
