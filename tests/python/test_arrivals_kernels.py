"""5B kernels against naive oracles and their laws (fixed keys: deterministic, not flaky)."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numba
import numpy as np
import pytest

from oracles import arrivals as oracles_arrivals
from python_kernels.arrivals import s2_latent, s3_counts, s4_arrivals
from python_kernels.core import rng
from python_kernels.core.vocabulary import US_PER_HOUR


def _streams(domain, n, seed=42):
    return rng.stream_keys(seed, domain, np.arange(n))


def test_latent_factors_match_oracle_and_thread_count():
    st = _streams("test.latent", 6)
    sigma = np.array([0.25, 0.4, 0.1, 0.5, 0.0, 0.3])
    L = np.array([24.0, 12.0, 2.0, 168.0, 24.0, 6.0])
    a = s2_latent.latent_factors(st, sigma, L, 200)
    np.testing.assert_array_equal(a, oracles_arrivals.latent_factors_naive(st, sigma, L, 200))
    numba.set_num_threads(1)
    try:
        b = s2_latent.latent_factors(st, sigma, L, 200)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(a, b)
    assert np.all(a[4] == 1.0)  # sigma 0: no noise at all


def test_latent_factor_is_mean_one_with_ar1_memory():
    n_groups, h, sigma, L = 400, 2000, 0.25, 24.0
    f = s2_latent.latent_factors(_streams("test.latent.law", n_groups), np.full(n_groups, sigma),
                                 np.full(n_groups, L), h)
    assert abs(f.mean() - 1.0) < 0.01
    z = np.log(f)
    zc = z - z.mean(axis=1, keepdims=True)
    lag1 = (zc[:, 1:] * zc[:, :-1]).sum() / (zc * zc).sum()
    assert abs(lag1 - math.exp(-1 / L)) < 0.01
    assert abs(z.std() - sigma) < 0.01


def test_bucket_counts_match_oracle_and_nb2_moments():
    st = _streams("test.counts", 2000)
    mu = np.linspace(0.0, 40.0, 2000)
    kappa = np.full(2000, 5.0)
    np.testing.assert_array_equal(s3_counts.bucket_counts(st, mu, kappa),
                                  oracles_arrivals.bucket_counts_naive(st, mu, kappa))
    n = 200_000
    mu, kappa = 12.0, 4.0
    draws = s3_counts.bucket_counts(_streams("test.counts.law", n), np.full(n, mu), np.full(n, kappa))
    assert abs(draws.mean() - mu) < 4 * math.sqrt((mu + mu * mu / kappa) / n)
    assert abs(draws.var() / (mu + mu * mu / kappa) - 1) < 0.02
    zero = s3_counts.bucket_counts(_streams("test.counts.zero", 10), np.full(10, 1e-12), np.ones(10))
    assert np.all(zero == 0)


def test_bucket_counts_reject_bad_input():
    with pytest.raises(ValueError, match="mu"):
        s3_counts.bucket_counts(_streams("x", 2), np.array([1.0, -1.0]), np.ones(2))
    with pytest.raises(ValueError, match="kappa"):
        s3_counts.bucket_counts(_streams("x", 2), np.ones(2), np.zeros(2))


def _tz_table(tzids, start, end):
    """Transition arrays from zoneinfo, hour by hour (naive oracle for the tz table)."""
    ptr, starts, offs = [0], [], []
    for tzid in tzids:
        z = ZoneInfo(tzid)
        t, last = start, None
        while t < end:
            off = int(t.astimezone(z).utcoffset().total_seconds() // 60)
            if off != last:
                starts.append(int(t.timestamp() * 1e6))
                offs.append(off)
                last = off
            t += timedelta(minutes=15)
        ptr.append(len(starts))
    return {"ptr": np.array(ptr), "start_us": np.array(starts, np.int64), "offset_min": np.array(offs, np.int32)}


def test_expansion_conserves_counts_routes_inside_zone_and_gets_local_time_right():
    tzids = ["America/New_York", "Europe/Paris"]
    h0 = datetime(2026, 3, 8, 0, tzinfo=timezone.utc)
    tz = _tz_table(tzids, h0 - timedelta(days=1), h0 + timedelta(days=30))
    # merchant 0: physical, sites 0-1 in New York, 2 in Paris; merchant 1: hybrid with 2 edges
    site_w = np.array([0.7, 0.3, 1.0, 1.0])
    sp0, sa0 = rng.build_alias(site_w[:2])
    sp1, sa1 = rng.build_alias(site_w[2:3])
    sp2, sa2 = rng.build_alias(site_w[3:4])
    ep, ea = rng.build_alias(np.array([0.5, 0.5]))
    routing = {
        "site_prob": np.concatenate([sp0, sp1, sp2]), "site_alias": np.concatenate([sa0, sa1, sa2]),
        "site_index": np.array([10, 11, 12, 13]), "site_tz": np.array([0, 0, 1, 1]),
        "edge_ptr": np.array([0, 0, 2]), "edge_prob": ep, "edge_alias": ea,
        "edge_index": np.array([20, 21]), "edge_tz": np.array([1, 0]),
    }
    series = {"mode": np.array([0, 0, 1]), "site_lo": np.array([0, 2, 3]), "site_n": np.array([2, 1, 1]),
              "merchant": np.array([0, 0, 1])}
    hours = np.arange(0, 24 * 21, 5)
    n_rows = hours.size * 3
    rows = {
        "stream": _streams("test.expand", n_rows),
        "series": np.tile([0, 1, 2], hours.size),
        "bucket_start_us": np.repeat(int(h0.timestamp() * 1e6) + hours * US_PER_HOUR, 3),
        "count": np.tile([3, 0, 5], hours.size),
    }
    out = s4_arrivals.expand_arrivals(rows, series, routing, tz, p_virtual_hybrid=0.35)
    assert out["ts_utc_us"].size == rows["count"].sum()
    np.testing.assert_array_equal(np.bincount(out["row"], minlength=n_rows), rows["count"])
    start = rows["bucket_start_us"][out["row"]]
    assert np.all((out["ts_utc_us"] >= start) & (out["ts_utc_us"] < start + US_PER_HOUR))
    phys = out["row"] % 3 == 0
    assert set(out["route_index"][phys]) <= {10, 11} and not out["is_virtual"][phys].any()
    hyb = out["row"] % 3 == 2
    share = out["is_virtual"][hyb].mean()
    assert 0.25 < share < 0.45
    assert set(out["route_index"][hyb & out["is_virtual"]]) <= {20, 21}
    assert set(out["route_index"][hyb & ~out["is_virtual"]]) <= {13}
    for i in range(0, out["ts_utc_us"].size, 7):
        ts = datetime.fromtimestamp(out["ts_utc_us"][i] / 1e6, timezone.utc)
        local = ts.astimezone(ZoneInfo(tzids[out["tz"][i]])).replace(tzinfo=None)
        got = datetime(1970, 1, 1) + timedelta(microseconds=int(out["ts_local_us"][i]))
        assert got == local


def test_expansion_refuses_physical_series_without_sites():
    routing = {"site_prob": np.ones(1), "site_alias": np.zeros(1, np.int64), "site_index": np.array([1]),
               "site_tz": np.array([0]), "edge_ptr": np.array([0, 0]), "edge_prob": np.ones(0),
               "edge_alias": np.zeros(0, np.int64), "edge_index": np.zeros(0, np.int64), "edge_tz": np.zeros(0, np.int64)}
    series = {"mode": np.array([0]), "site_lo": np.array([0]), "site_n": np.array([0]), "merchant": np.array([0])}
    rows = {"stream": _streams("x", 1), "series": np.array([0]), "bucket_start_us": np.array([0]), "count": np.array([2])}
    tz = {"ptr": np.array([0, 1]), "start_us": np.array([-10**15]), "offset_min": np.array([0], np.int32)}
    with pytest.raises(ValueError, match="no site"):
        s4_arrivals.expand_arrivals(rows, series, routing, tz, 0.35)


def test_chronological_sequence_matches_a_plain_sort():
    n = 5000
    u = rng.uniforms(_streams("test.seq", n), 0)
    ts = (u * 1000).astype(np.int64)  # many ties on ts, broken by tie
    tie = np.arange(n)[::-1].copy()
    ptr = np.array([0, 1200, 1200, 5000])
    seq = s4_arrivals.chronological_sequence(ptr, ts, tie)
    for lo, hi in zip(ptr[:-1], ptr[1:]):
        order = sorted(range(lo, hi), key=lambda i: (ts[i], tie[i]))
        expect = np.empty(hi - lo, np.int64)
        expect[np.array(order, dtype=np.int64) - lo] = np.arange(1, hi - lo + 1)
        np.testing.assert_array_equal(seq[lo:hi], expect)
