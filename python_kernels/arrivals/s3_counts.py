"""5B S3 bucket counts: an NB2 (Poisson-Gamma) count per (series, bucket) from its own stream."""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from python_kernels.core import rng

U64 = np.uint64


@njit(parallel=True, cache=True)
def _bucket_counts(streams, mu, kappa, eps, out):
    for i in prange(streams.shape[0]):
        if mu[i] <= eps:
            out[i] = 0
        else:
            out[i] = rng.nb2(streams[i], U64(0), mu[i], kappa[i])


def bucket_counts(streams, mu, kappa, eps=1e-9):
    """NB2 count per row (mean mu, Var = mu + mu^2/kappa); mu <= eps gives 0 with no draw."""
    streams = np.ascontiguousarray(streams, dtype=np.uint64)
    mu = np.ascontiguousarray(mu, dtype=np.float64)
    kappa = np.ascontiguousarray(kappa, dtype=np.float64)
    if not (streams.shape == mu.shape == kappa.shape):
        raise ValueError("streams, mu and kappa must have one entry per row")
    if not np.all(np.isfinite(mu)) or np.any(mu < 0):
        raise ValueError("mu must be finite and >= 0")
    if np.any(kappa <= 0):
        raise ValueError("kappa must be > 0")
    out = np.empty(streams.size, np.int64)
    _bucket_counts(streams, mu, kappa, float(eps), out)
    return out
