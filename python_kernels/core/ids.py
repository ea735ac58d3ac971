"""Opaque published ids: a keyed bijection of internal keys.

Kernels number entities densely in the order they draw them (parties by country, devices
before terminals, IPs by country and type), so `base + i` would tell a reader how an entity was
made. The published id is `base + rank[i]`, where rank is the position of key i in the order of
its keyed hash (seed, domain, i): a permutation of 0..n-1, so ids stay dense and distinct, and
their values carry nothing beyond identity. Arrival ids go through a keyed permutation of
[0, 2**bits) instead (`opaque_event_ids`), row by row, applied to each arrival's dense index.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from python_kernels.core import rng

U64 = np.uint64


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


# ---- event ids: a keyed bijection of [0, 2**bits) ------------------------------------------------

ID_BITS = 60            # the widest event id: flow ids (4 x arrival id + j) then fit a BIGINT
_ROUNDS = 4


@njit(cache=True)
def _feistel(keys, round_keys, half, out):
    mask = (U64(1) << U64(half)) - U64(1)
    for i in range(keys.shape[0]):
        left = (keys[i] >> U64(half)) & mask
        right = keys[i] & mask
        for r in range(round_keys.shape[0]):
            left, right = right, left ^ (rng.splitmix64(right ^ round_keys[r]) & mask)
        out[i] = np.int64((left << U64(half)) | right)


def event_id_bits(n: int) -> int:
    """The even number of bits a permutation of n event keys works on (at least 2)."""
    bits = max(int(n - 1).bit_length(), 2)
    return bits + bits % 2


def opaque_event_ids(seed: int, domain: str, keys, bits: int = ID_BITS) -> np.ndarray:
    """A keyed permutation of [0, 2**bits) applied to `keys` (a Feistel network whose round
    function is the keyed hash; bits even, at most ID_BITS): distinct keys get distinct ids, and
    an id's value says nothing of the key it came from. Dense keys (0..n-1) with bits =
    event_id_bits(n) give ids below 4n, which store compactly. Per key, so chunks can be mapped
    independently."""
    if bits % 2 or not 2 <= bits <= ID_BITS:
        raise ValueError(f"bits must be even and in [2, {ID_BITS}], got {bits}")
    keys = np.ascontiguousarray(keys, np.int64)
    if keys.size and (keys.min() < 0 or keys.max() >= 1 << bits):
        raise ValueError(f"keys must be in [0, 2**{bits})")
    round_keys = rng.raw_bits(rng.stream_keys(seed, domain, np.arange(_ROUNDS)), 0)
    out = np.empty(keys.size, np.int64)
    _feistel(keys.astype(np.uint64), round_keys, bits // 2, out)
    return out
