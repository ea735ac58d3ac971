"""Opaque published ids: a keyed bijection of dense internal keys.

Kernels number entities densely in the order they draw them (parties by country, devices
before terminals, IPs by country and type), so `base + i` would tell a reader how an entity was
made. The published id is `base + rank[i]`, where rank is the position of key i in the order of
its keyed hash (seed, domain, i): a permutation of 0..n-1, so ids stay dense and distinct, and
their values carry nothing beyond identity.
"""
from __future__ import annotations

import numpy as np

from python_kernels.core import rng


def opaque_ranks(seed: int, domain: str, n: int) -> np.ndarray:
    """rank[i] for internal keys 0..n-1: a keyed permutation of range(n) (int64)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    order = np.lexsort((np.arange(n), rng.raw_bits(rng.stream_keys(seed, domain, np.arange(n)), 0)))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n, dtype=np.int64)
    return rank


def opaque_ids(seed: int, domain: str, base: int, n: int) -> np.ndarray:
    """The published ids of internal keys 0..n-1 (base + their keyed rank)."""
    return base + opaque_ranks(seed, domain, n)
