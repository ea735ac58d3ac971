"""6A.S2-S3 products: accounts per party and instruments per account.

Accounts (stream keyed by party_id): account type k uses counters 2k (hold?) and 2k+1
(extra count). Required types are held at least once; the per-party cap then trims optional
types from the last one back. Instruments (stream keyed by account_id): counter 0 the
count, 1+2j the type and 2+2j the scheme of instrument j.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from python_kernels.core import rng
from python_kernels.world.graph.config import ACCOUNT_ID_BASE, ID_RANGE, INSTRUMENT_ID_BASE

U64 = np.uint64


def tilted_probability(p, feature, coef, clip):
    """Log-odds tilt: logit(p') = logit(p) + clip(coef * (feature - 0.5) * 2, +-clip); p = 0 or 1 stay put."""
    p = np.asarray(p, dtype=np.float64)
    tilt = np.clip(np.asarray(coef) * (np.asarray(feature) - 0.5) * 2.0, -clip, clip)
    inner = (p > 0) & (p < 1)
    safe = np.where(inner, p, 0.5)
    out = 1.0 / (1.0 + np.exp(-(np.log(safe / (1.0 - safe)) + tilt)))
    return np.where(inner, out, p)


@njit(cache=True)
def _account_counts(seed, domain, party_ids, party_type, party_seg, acc_party_type, p_hold, extra, max_count,
                    required, cap, counts):
    n_types = acc_party_type.shape[0]
    for i in range(party_ids.shape[0]):
        s = rng.stream_key(seed, domain, U64(party_ids[i]))
        total = 0
        for k in range(n_types):
            c = 0
            if acc_party_type[k] == party_type[i]:
                if rng.uniform(s, U64(2 * k)) < p_hold[k, party_seg[i]]:
                    c = min(1 + rng.poisson(s, U64(2 * k + 1), extra[k]), max_count[k])
                if required[k] and c < 1:
                    c = 1
            counts[i, k] = c
            total += c
        k = n_types - 1
        while total > cap and k >= 0:
            floor = 1 if required[k] else 0
            cut = min(counts[i, k] - floor, total - cap) if counts[i, k] > floor else 0
            counts[i, k] -= cut
            total -= cut
            k -= 1


def draw_accounts(seed, party_ids, party_type, party_seg, acc_party_type, p_hold, extra, max_count, required, cap,
                  domain="s2_account_base_6A.counts"):
    """Accounts of every party: (owner row, account type) per account, owners in party order, ids dense.

    p_hold[k, segment] is the (tilted) probability a party of the type holds type k.
    """
    party_ids = np.ascontiguousarray(party_ids, dtype=np.int64)
    party_type = np.ascontiguousarray(party_type, dtype=np.int64)
    party_seg = np.ascontiguousarray(party_seg, dtype=np.int64)
    acc_party_type = np.ascontiguousarray(acc_party_type, dtype=np.int64)
    p_hold = np.ascontiguousarray(p_hold, dtype=np.float64)
    if np.any(np.diff(party_ids) <= 0):
        raise ValueError("party_ids must be strictly increasing")
    if p_hold.shape[0] != acc_party_type.size or np.any((p_hold < 0) | (p_hold > 1)):
        raise ValueError("p_hold must be [account type, segment] probabilities")
    counts = np.zeros((party_ids.size, acc_party_type.size), np.int32)
    _account_counts(U64(rng.check_seed(seed)), U64(rng.domain_id(domain)), party_ids, party_type, party_seg,
                    acc_party_type, p_hold, np.ascontiguousarray(extra, dtype=np.float64),
                    np.ascontiguousarray(max_count, dtype=np.int64), np.ascontiguousarray(required, dtype=np.bool_),
                    int(cap), counts)
    owner = np.repeat(np.repeat(np.arange(party_ids.size), acc_party_type.size), counts.ravel())
    acc_type = np.repeat(np.tile(np.arange(acc_party_type.size), party_ids.size), counts.ravel())
    if owner.size >= ID_RANGE:
        raise ValueError("too many accounts for the id range")
    return ACCOUNT_ID_BASE + np.arange(owner.size, dtype=np.int64), owner, acc_type


@njit(cache=True)
def _instruments(seed, domain, account_ids, acc_type, acc_seg, acc_region, lam, max_per, mix_cum, family,
                 scheme_cum, count_only, counts, out_acc, out_type, out_scheme):
    j_out = 0
    for a in range(account_ids.shape[0]):
        s = rng.stream_key(seed, domain, U64(account_ids[a]))
        k = acc_type[a]
        n = min(1 + rng.poisson(s, U64(0), lam[k] - 1.0), max_per)
        if count_only:
            counts[a] = n
            continue
        for j in range(n):
            t = rng.categorical(s, U64(1 + 2 * j), mix_cum[k, acc_seg[a]])
            out_acc[j_out] = a
            out_type[j_out] = t
            out_scheme[j_out] = rng.categorical(s, U64(2 + 2 * j), scheme_cum[family[t], acc_region[a]])
            j_out += 1


def draw_instruments(seed, account_ids, acc_type, acc_seg, acc_region, lam, max_per, mix_weights, family,
                     scheme_weights, domain="s3_instrument_base_6A.draws"):
    """Instruments of every account: (account row, instrument type, scheme) per instrument, ids dense.

    mix_weights[account type, segment, instrument type] (already tilted); family[instrument type]
    picks the scheme table; scheme_weights[family, region, scheme].
    """
    account_ids = np.ascontiguousarray(account_ids, dtype=np.int64)
    if np.any(np.diff(account_ids) <= 0):
        raise ValueError("account_ids must be strictly increasing")
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    if np.any(lam < 1):
        raise ValueError("instruments_lambda must be >= 1 (every account has an instrument)")
    mix = np.asarray(mix_weights, dtype=np.float64)
    sch = np.asarray(scheme_weights, dtype=np.float64)
    if np.any(mix < 0) or np.any(mix.sum(axis=-1) <= 0) or np.any(sch < 0):
        raise ValueError("instrument mixes must be non-negative with a positive sum")
    args = [account_ids, np.ascontiguousarray(acc_type, dtype=np.int64), np.ascontiguousarray(acc_seg, dtype=np.int64),
            np.ascontiguousarray(acc_region, dtype=np.int64), lam, int(max_per), np.ascontiguousarray(np.cumsum(mix, -1)),
            np.ascontiguousarray(family, dtype=np.int64), np.ascontiguousarray(np.cumsum(sch, -1))]
    seed, dom = U64(rng.check_seed(seed)), U64(rng.domain_id(domain))
    counts = np.empty(account_ids.size, np.int64)
    empty = np.empty(0, np.int64)
    _instruments(seed, dom, *args, True, counts, empty, empty, empty)
    n = int(counts.sum())
    if n >= ID_RANGE:
        raise ValueError("too many instruments for the id range")
    out = [np.empty(n, np.int64) for _ in range(3)]
    _instruments(seed, dom, *args, False, counts, *out)
    return (INSTRUMENT_ID_BASE + np.arange(n, dtype=np.int64), *out)
