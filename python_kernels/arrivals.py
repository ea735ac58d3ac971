"""5B arrival kernels: latent LGCP paths (S2), NB2 bucket counts (S3), arrival expansion (S4).

Arrays in, arrays out. Every draw is keyed by (seed, domain, entity, counter) through
`rng`, so results are independent of thread count and of how rows are chunked:
  S2  one stream per (scenario, group); normal t uses counters (2t, 2t+1)
  S3  one stream per (series, bucket); NB2 uses counters [0, NB2_WINDOW)
  S4  one stream per (series, bucket); arrival j uses counters 4j (time), 4j+1 (virtual
      coin), 4j+2 (site or edge pick)
Each public wrapper validates its inputs; `*_naive` functions are slow oracles for tests.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from python_kernels.core import rng

U64 = np.uint64
US_PER_HOUR = 3_600_000_000

VIRTUAL_MODES = {"NON_VIRTUAL": 0, "HYBRID": 1, "VIRTUAL_ONLY": 2}


# ---- S2: latent intensity ----------------------------------------------------------------

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


# ---- S3: bucket counts -------------------------------------------------------------------

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


def bucket_counts_naive(streams, mu, kappa, eps=1e-9):
    return np.array([0 if m <= eps else rng.nb2(U64(s), U64(0), m, k)
                     for s, m, k in zip(streams, mu, kappa)], dtype=np.int64)


# ---- S4: expansion, placement, routing, local time ------------------------------------------

@njit(inline="always", cache=True)
def _offset_minutes(tz, t_us, tz_ptr, tr_start_us, tr_offset_min):
    lo = tz_ptr[tz]
    hi = tz_ptr[tz + 1] - 1
    # last transition at or before t (the table covers the horizon with margin)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if tr_start_us[mid] <= t_us:
            lo = mid
        else:
            hi = mid - 1
    return tr_offset_min[lo]


@njit(parallel=True, cache=True)
def _expand(row_stream, row_series, row_bucket_start_us, row_count, row_out_offset,
            series_mode, series_site_lo, series_site_n, merchant_of_series,
            merchant_edge_ptr, p_virtual_hybrid,
            site_prob, site_alias, site_index, site_tz,
            edge_prob, edge_alias, edge_index, edge_tz,
            tz_ptr, tr_start_us, tr_offset_min,
            ts_utc, ts_local, offset_min, route_index, is_virtual, tz_out):
    for r in prange(row_stream.shape[0]):
        st = row_stream[r]
        s = row_series[r]
        m = merchant_of_series[s]
        mode = series_mode[s]
        base = row_out_offset[r]
        for j in range(row_count[r]):
            k = U64(4 * j)
            t = row_bucket_start_us[r] + min(int(rng.uniform(st, k) * US_PER_HOUR), US_PER_HOUR - 1)
            virtual = mode == 2 or (mode == 1 and rng.uniform(st, k + U64(1)) < p_virtual_hybrid)
            if virtual:
                lo = merchant_edge_ptr[m]
                i = lo + rng.alias_draw(st, k + U64(2), edge_prob, edge_alias, lo, merchant_edge_ptr[m + 1] - lo)
                route_index[base + j] = edge_index[i]
                tz = edge_tz[i]
            else:
                lo = series_site_lo[s]
                i = lo + rng.alias_draw(st, k + U64(2), site_prob, site_alias, lo, series_site_n[s])
                route_index[base + j] = site_index[i]
                tz = site_tz[i]
            off = _offset_minutes(tz, t, tz_ptr, tr_start_us, tr_offset_min)
            ts_utc[base + j] = t
            ts_local[base + j] = t + off * 60_000_000
            offset_min[base + j] = off
            is_virtual[base + j] = virtual
            tz_out[base + j] = tz


def expand_arrivals(rows: dict, series: dict, routing: dict, tz_table: dict, p_virtual_hybrid: float):
    """Expand count rows into one record per arrival.

    rows:    stream (u64), series (int), bucket_start_us (int64), count (int64)
    series:  mode (0 physical, 1 hybrid, 2 virtual-only), site_lo/site_n (slice of the site
             alias arrays: the sites of this series' merchant inside its tzid), merchant (int)
    routing: site_prob/site_alias/site_index/site_tz, edge_ptr (CSR per merchant),
             edge_prob/edge_alias/edge_index/edge_tz
    tz_table: ptr (CSR per tz), start_us, offset_min
    Returns a dict of arrays: row (source row of each arrival), ts_utc_us, ts_local_us,
    offset_min, route_index (site or edge index), is_virtual, tz.
    """
    count = np.ascontiguousarray(rows["count"], dtype=np.int64)
    if np.any(count < 0):
        raise ValueError("counts must be >= 0")
    n_series = len(series["mode"])
    s_idx = np.ascontiguousarray(rows["series"], dtype=np.int64)
    if s_idx.size and (s_idx.min() < 0 or s_idx.max() >= n_series):
        raise ValueError("row series index out of range")
    if not 0.0 <= p_virtual_hybrid <= 1.0:
        raise ValueError("p_virtual_hybrid must be in [0, 1]")
    site_lo = np.ascontiguousarray(series["site_lo"], dtype=np.int64)
    site_n = np.ascontiguousarray(series["site_n"], dtype=np.int64)
    edge_ptr = np.ascontiguousarray(routing["edge_ptr"], dtype=np.int64)
    merchant = np.ascontiguousarray(series["merchant"], dtype=np.int64)
    mode = np.ascontiguousarray(series["mode"], dtype=np.int64)
    active = count > 0
    needs_site = mode[s_idx[active]] != 2
    if np.any(site_n[s_idx[active]][needs_site] == 0):
        raise ValueError("a series that routes physically has no site in its zone")
    needs_edge = mode[s_idx[active]] != 0
    m_act = merchant[s_idx[active]][needs_edge]
    if np.any(edge_ptr[m_act] == edge_ptr[m_act + 1]):
        raise ValueError("a virtual or hybrid series belongs to a merchant without edges")
    offsets = np.zeros(count.size + 1, np.int64)
    np.cumsum(count, out=offsets[1:])
    n = int(offsets[-1])
    out = {
        "ts_utc_us": np.empty(n, np.int64), "ts_local_us": np.empty(n, np.int64),
        "offset_min": np.empty(n, np.int32), "route_index": np.empty(n, np.int64),
        "is_virtual": np.empty(n, np.bool_), "tz": np.empty(n, np.int32),
    }
    _expand(np.ascontiguousarray(rows["stream"], dtype=np.uint64), s_idx,
            np.ascontiguousarray(rows["bucket_start_us"], dtype=np.int64), count, offsets[:-1],
            mode, site_lo, site_n, merchant,
            edge_ptr, float(p_virtual_hybrid),
            routing["site_prob"], routing["site_alias"], routing["site_index"], routing["site_tz"],
            routing["edge_prob"], routing["edge_alias"], routing["edge_index"], routing["edge_tz"],
            tz_table["ptr"], tz_table["start_us"], tz_table["offset_min"],
            out["ts_utc_us"], out["ts_local_us"], out["offset_min"], out["route_index"],
            out["is_virtual"], out["tz"])
    out["row"] = np.repeat(np.arange(count.size, dtype=np.int64), count)
    return out


@njit(parallel=True, cache=True)
def _sequence(group_ptr, ts, tie, seq_out):
    for g in prange(group_ptr.shape[0] - 1):
        lo = group_ptr[g]
        hi = group_ptr[g + 1]
        # two stable sorts = one sort by (ts, tie)
        idx = np.argsort(tie[lo:hi], kind="mergesort")
        idx = idx[np.argsort(ts[lo:hi][idx], kind="mergesort")]
        for r in range(hi - lo):
            seq_out[lo + idx[r]] = r + 1


def chronological_sequence(group_ptr, ts_us, tie):
    """1-based rank of each record by (ts, tie) within contiguous groups [ptr[g], ptr[g+1])."""
    group_ptr = np.ascontiguousarray(group_ptr, dtype=np.int64)
    ts_us = np.ascontiguousarray(ts_us, dtype=np.int64)
    tie = np.ascontiguousarray(tie, dtype=np.int64)
    if ts_us.shape != tie.shape or group_ptr[-1] != ts_us.size:
        raise ValueError("group_ptr must cover ts and tie exactly")
    out = np.empty(ts_us.size, np.int64)
    _sequence(group_ptr, ts_us, tie, out)
    return out
