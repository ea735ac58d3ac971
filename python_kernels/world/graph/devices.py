"""6A.S4 devices: customer devices per party and terminals per merchant site.

Party devices (stream keyed by party_id): counter 0 the count, then per device j:
1+3j type, 2+3j OS, 3+3j whether a multi-person household shares it. Terminals (stream
keyed by site_id): counter 0 the count (1-3), 1+j the OS of terminal j.

Renewals (stream keyed by party_id, device j of the party at counters j*(max_renewals+1)...):
the first the number of times the device's identity is renewed within the horizon, the next ones
the renewal times.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from python_kernels.core import rng

U64 = np.uint64


@njit(cache=True)
def _party_devices(seed, domain, party_ids, party_type, digital, hh_size, extra, tilt, max_per, type_cum, os_cum,
                   p_shared, count_only, counts, out_party, out_type, out_os, out_shared):
    o = 0
    for i in range(party_ids.shape[0]):
        s = rng.stream_key(seed, domain, U64(party_ids[i]))
        t = party_type[i]
        lam = extra[t] * math.exp(tilt * (digital[i] - 0.5) * 2.0)
        n = min(1 + rng.poisson(s, U64(0), lam), max_per)
        if count_only:
            counts[i] = n
            continue
        for j in range(n):
            d = rng.categorical(s, U64(1 + 3 * j), type_cum[t])
            out_party[o] = i
            out_type[o] = d
            out_os[o] = rng.categorical(s, U64(2 + 3 * j), os_cum[d])
            out_shared[o] = hh_size[i] >= 2 and rng.uniform(s, U64(3 + 3 * j)) < p_shared[d]
            o += 1


def draw_party_devices(seed, party_ids, party_type, digital, household_size, extra, tilt, max_per, type_weights,
                       os_weights, p_shared, domain="s4_device_base_6A.party_devices"):
    """Devices of every party: (owner row, device type, OS, household-shared flag), owners in party order.

    Count = min(1 + Poisson(extra[type] * exp(tilt * (digital - 0.5) * 2)), max_per): every party has one.
    type_weights[party type, device type]; os_weights[device type, os]; p_shared[device type].
    """
    party_ids = np.ascontiguousarray(party_ids, dtype=np.int64)
    if np.any(np.diff(party_ids) <= 0):
        raise ValueError("party_ids must be strictly increasing")
    tw, ow = np.asarray(type_weights, np.float64), np.asarray(os_weights, np.float64)
    if np.any(tw < 0) or np.any(tw.sum(-1) <= 0) or np.any(ow < 0):
        raise ValueError("device type and OS weights must be non-negative")
    if max_per < 1:
        raise ValueError("max_per must be >= 1")
    args = [party_ids, np.ascontiguousarray(party_type, dtype=np.int64), np.ascontiguousarray(digital, dtype=np.float64),
            np.ascontiguousarray(household_size, dtype=np.int64), np.ascontiguousarray(extra, dtype=np.float64),
            float(tilt), int(max_per), np.ascontiguousarray(np.cumsum(tw, -1)), np.ascontiguousarray(np.cumsum(ow, -1)),
            np.ascontiguousarray(p_shared, dtype=np.float64)]
    seed, dom = U64(rng.check_seed(seed)), U64(rng.domain_id(domain))
    counts = np.empty(party_ids.size, np.int64)
    e = np.empty(0, np.int64)
    _party_devices(seed, dom, *args, True, counts, e, e, e, np.empty(0, np.bool_))
    n = int(counts.sum())
    out = [np.empty(n, np.int64) for _ in range(3)] + [np.empty(n, np.bool_)]
    _party_devices(seed, dom, *args, False, counts, *out)
    return tuple(out)


@njit(cache=True)
def _terminals(seed, domain, site_ids, is_atm, count_cum, os_pos, os_atm, count_only, counts, out_site, out_os):
    o = 0
    for i in range(site_ids.shape[0]):
        s = rng.stream_key(seed, domain, U64(site_ids[i]))
        n = 1 + rng.categorical(s, U64(0), count_cum)
        if count_only:
            counts[i] = n
            continue
        for j in range(n):
            out_site[o] = i
            out_os[o] = rng.categorical(s, U64(1 + j), os_atm if is_atm[i] else os_pos)
            o += 1


def draw_terminals(seed, site_ids, is_atm, count_weights, os_pos_weights, os_atm_weights,
                   domain="s4_device_base_6A.terminals"):
    """Terminals of every physical site: (site row, OS) per terminal; count_weights[k] = P(k+1 terminals)."""
    site_ids = np.ascontiguousarray(site_ids, dtype=np.int64)
    if np.unique(site_ids).size != site_ids.size:
        raise ValueError("site_ids must be unique")
    args = [site_ids, np.ascontiguousarray(is_atm, dtype=np.bool_), np.cumsum(np.asarray(count_weights, np.float64)),
            np.cumsum(np.asarray(os_pos_weights, np.float64)), np.cumsum(np.asarray(os_atm_weights, np.float64))]
    seed, dom = U64(rng.check_seed(seed)), U64(rng.domain_id(domain))
    counts = np.empty(site_ids.size, np.int64)
    e = np.empty(0, np.int64)
    _terminals(seed, dom, *args, True, counts, e, e)
    out = [np.empty(int(counts.sum()), np.int64) for _ in range(2)]
    _terminals(seed, dom, *args, False, counts, *out)
    return tuple(out)


NEVER = np.iinfo(np.int64).max


@njit(cache=True)
def _renewals(seed, domain, owner_ids, rate, lo_us, hi_us, max_r, out_src, out_from, out_until):
    """Writes the identities of every device in row order when out_src has room, and returns their count."""
    years = (hi_us - lo_us) / (365.25 * 86400e6)
    o = 0
    j = 0
    times = np.empty(max_r, np.int64)
    for i in range(owner_ids.shape[0]):
        j = j + 1 if i > 0 and owner_ids[i] == owner_ids[i - 1] else 0
        s = rng.stream_key(seed, domain, U64(owner_ids[i]))
        base = U64(j * (max_r + 1))
        n = min(rng.poisson(s, base, rate[i] * years), max_r)
        for r in range(n):
            times[r] = lo_us + min(int(rng.uniform(s, base + U64(1 + r)) * (hi_us - lo_us)), hi_us - lo_us - 1)
        times[:n].sort()
        if o + n + 1 <= out_src.shape[0]:
            for r in range(n + 1):
                out_src[o + r] = i
                out_from[o + r] = times[r - 1] if r > 0 else -NEVER
                out_until[o + r] = times[r] if r < n else NEVER
        o += n + 1
    return o


def draw_renewals(seed, owner_ids, rate_per_year, horizon_us, max_renewals,
                  domain="s4_device_base_6A.renewals"):
    """The identities each customer device has over the horizon: a phone replaced, an app
    reinstalled, a browser's cookies cleared give the bank a new device id on the same owner.

    owner_ids: the owner's party id per device row, devices of one party adjacent; rate_per_year:
    renewals per device and year (Poisson over the horizon, at most max_renewals, at uniform times).
    Returns (source row, active_from, active_until) per identity, in row order, the original first;
    the original is active from -NEVER and the last identity until NEVER.
    """
    owner_ids = np.ascontiguousarray(owner_ids, dtype=np.int64)
    rate = np.ascontiguousarray(rate_per_year, dtype=np.float64)
    lo, hi = (int(x) for x in horizon_us)
    if rate.shape != owner_ids.shape or np.any(rate < 0):
        raise ValueError("rate_per_year must be a non-negative rate per device row")
    if hi <= lo or max_renewals < 0:
        raise ValueError("the horizon must be non-empty and max_renewals >= 0")
    seed, dom = U64(rng.check_seed(seed)), U64(rng.domain_id(domain))
    e = np.empty(0, np.int64)
    n = _renewals(seed, dom, owner_ids, rate, lo, hi, int(max_renewals), e, e, e)
    out = [np.empty(n, np.int64) for _ in range(3)]
    _renewals(seed, dom, owner_ids, rate, lo, hi, int(max_renewals), *out)
    return tuple(out)
