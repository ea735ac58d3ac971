"""5B S2 latent intensity: one stationary AR(1) log-Gaussian path per (scenario, group) over
the horizon; normal t of a group's stream uses counter 2t."""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from python_kernels.core import rng

U64 = np.uint64


@njit(parallel=True, cache=True)
def _latent_factors(streams, sigma, phi, clip_lo, clip_hi, n_buckets, out):
    for g in prange(streams.shape[0]):
        s = sigma[g]
        innov = s * math.sqrt(1.0 - phi[g] * phi[g])
        z = s * rng.normal(streams[g], U64(0))
        for t in range(n_buckets):
            if t > 0:
                z = phi[g] * z + innov * rng.normal(streams[g], U64(2 * t))
            f = math.exp(z - 0.5 * s * s)
            out[g, t] = min(max(f, clip_lo), clip_hi)


def latent_factors(streams, sigma, length_scale, n_buckets, clip_lo=0.2, clip_hi=5.0):
    """Mean-one clipped lognormal factor per (group, bucket) from a stationary AR(1) path.

    Z_0 ~ N(0, sigma^2); Z_t = phi Z_{t-1} + sigma sqrt(1-phi^2) eps_t with phi = exp(-1/L);
    factor = clip(exp(Z - sigma^2/2), clip_lo, clip_hi).
    """
    streams = np.ascontiguousarray(streams, dtype=np.uint64)
    sigma = np.ascontiguousarray(sigma, dtype=np.float64)
    length_scale = np.ascontiguousarray(length_scale, dtype=np.float64)
    if not (streams.shape == sigma.shape == length_scale.shape):
        raise ValueError("streams, sigma and length_scale must have one entry per group")
    if np.any(sigma < 0) or np.any(length_scale <= 0):
        raise ValueError("sigma must be >= 0 and length_scale > 0")
    if n_buckets < 1 or not 0 < clip_lo < 1 < clip_hi:
        raise ValueError("need n_buckets >= 1 and 0 < clip_lo < 1 < clip_hi")
    out = np.empty((streams.size, int(n_buckets)))
    _latent_factors(streams, sigma, np.exp(-1.0 / length_scale), clip_lo, clip_hi, int(n_buckets), out)
    return out
