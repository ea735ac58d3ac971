"""6A.S1 population: how many parties, in which countries, and who they are.

Per party (stream keyed by party_id): counter 0 party type, 1 segment, 2 household size
(household heads only), 3 home tzid (heads and non-retail parties). Retail parties of a
country fill households in id order, so members share the head's tzid (and, later, a home
IP); business and other parties are households of one.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from python_kernels.core import rng
from python_kernels.world.graph.config import ID_RANGE, PARTY_ID_BASE, RETAIL

U64 = np.uint64


def party_count(arrivals_target: float, horizon_hours: float, pop: dict) -> int:
    """N = weekly arrivals / (active fraction * arrivals per active party per week), at least min_parties."""
    if arrivals_target <= 0 or horizon_hours <= 0:
        raise ValueError("arrivals_target and horizon must be positive")
    weekly = arrivals_target / (horizon_hours / 168.0)
    n = round(weekly / (pop["active_fraction"] * pop["arrivals_per_active_party_per_week"]))
    n = max(int(n), int(pop["min_parties"]))
    if n >= ID_RANGE:
        raise ValueError(f"{n} parties exceed the id range of {ID_RANGE}")
    return n


def largest_remainder(weights, total: int) -> np.ndarray:
    """Integers proportional to weights summing to total; ties go to the lower index."""
    w = np.asarray(weights, dtype=np.float64)
    quota = w / math.fsum(w) * total
    base = np.floor(quota).astype(np.int64)
    short = total - int(base.sum())
    order = np.lexsort((np.arange(w.size), -(quota - base)))
    base[order[:short]] += 1
    return base


def country_counts(site_counts, population_weights, n_parties: int, pop: dict) -> np.ndarray:
    """Parties per country: weight = (site_share + offset)^a * population_weight^b, capped and floored.

    Countries that break the cap (then the floor) are pinned to it and the rest are re-shared
    in proportion to their weights, until no free country breaks a bound.
    """
    sites = np.asarray(site_counts, dtype=np.float64)
    popw = np.asarray(population_weights, dtype=np.float64)
    if sites.shape != popw.shape or sites.size == 0:
        raise ValueError("one site count and one population weight per country")
    if np.any(sites < 0) or np.any(popw <= 0):
        raise ValueError("site counts must be >= 0 and population weights > 0")
    site_share = sites / max(math.fsum(sites), 1.0)
    w = (site_share + pop["site_share_offset"]) ** pop["site_exponent"] * popw ** pop["population_exponent"]
    lo = pop["min_share_of_even"] / sites.size
    hi = max(pop["max_country_share"], 1.0 / sites.size)
    at_hi = np.zeros(w.size, np.bool_)
    at_lo = np.zeros(w.size, np.bool_)
    while True:
        free = ~(at_hi | at_lo)
        rest = 1.0 - hi * at_hi.sum() - lo * at_lo.sum()
        share = np.where(at_hi, hi, lo)
        if free.any():
            share[free] = w[free] / math.fsum(w[free]) * rest
        new_hi, new_lo = free & (share > hi), free & (share < lo)
        if new_hi.any():
            at_hi |= new_hi      # caps first: pinning them frees mass that may lift others above the floor
        elif new_lo.any():
            at_lo |= new_lo
        else:
            break
    return largest_remainder(share, n_parties)


@njit(cache=True)
def _parties(seed, domain, counts, region, type_cum, seg_cum, tz_offsets, tz_cum, hh_cum,
             p_type, p_seg, p_tz, p_hh):
    i = 0
    for c in range(counts.shape[0]):
        r = region[c]
        head = -1
        room = 0
        for _ in range(counts[c]):
            s = rng.stream_key(seed, domain, U64(PARTY_ID_BASE + i))
            t = rng.categorical(s, U64(0), type_cum[r])
            p_type[i] = t
            p_seg[i] = rng.categorical(s, U64(1), seg_cum[r, t])
            if t == RETAIL and room > 0:
                p_hh[i] = head
                p_tz[i] = p_tz[head]
                room -= 1
            else:
                if t == RETAIL:
                    head = i
                    room = rng.categorical(s, U64(2), hh_cum)
                p_hh[i] = i
                p_tz[i] = tz_offsets[c] + rng.categorical(s, U64(3), tz_cum[tz_offsets[c]:tz_offsets[c + 1]])
            i += 1


def _cum_rows(weights):
    w = np.asarray(weights, dtype=np.float64)
    if np.any(w < 0) or np.any(w.sum(axis=-1) <= 0):
        raise ValueError("every weight row must be non-negative with a positive sum")
    return np.ascontiguousarray(np.cumsum(w, axis=-1))


def _tz_cum(tz_offsets, tz_weights):
    tz_offsets = np.ascontiguousarray(tz_offsets, dtype=np.int64)
    tw = np.asarray(tz_weights, dtype=np.float64)
    cum = np.empty_like(tw)
    for c in range(tz_offsets.size - 1):
        a, b = tz_offsets[c], tz_offsets[c + 1]
        if b <= a or tw[a:b].sum() <= 0:
            raise ValueError(f"country {c} has no time zone with positive weight")
        cum[a:b] = np.cumsum(tw[a:b])
    return tz_offsets, cum


def draw_parties(seed, counts, country_region, type_weights, segment_weights, tz_offsets, tz_weights,
                 household_weights, domain="s1_party_base_6A.attributes"):
    """Parties of every country in country order; party i has id PARTY_ID_BASE + i.

    type_weights [region, type]; segment_weights [region, type, segment]; tz_offsets / tz_weights
    are the per-country slices of the tzid list; household_weights[k] = P(household size k+1).
    Returns (country, party_type, segment, tz, household_head, household_size), the head as
    a party row index.
    """
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    region = np.ascontiguousarray(country_region, dtype=np.int64)
    if counts.shape != region.shape or np.any(counts < 0):
        raise ValueError("one non-negative count and one region per country")
    type_cum = _cum_rows(type_weights)
    seg_w = np.asarray(segment_weights, dtype=np.float64)
    if seg_w.shape[:2] != type_cum.shape or np.any(seg_w < 0):
        raise ValueError("segment_weights must be [region, party_type, segment] and non-negative")
    seg_cum = np.ascontiguousarray(np.cumsum(seg_w, axis=-1))
    tz_offsets, tz_cum = _tz_cum(tz_offsets, tz_weights)
    if tz_offsets.size != counts.size + 1:
        raise ValueError("tz_offsets must have one entry per country plus one")
    hh_cum = _cum_rows(household_weights)
    n = int(counts.sum())
    out = [np.empty(n, np.int64) for _ in range(4)]
    _parties(U64(rng.check_seed(seed)), U64(rng.domain_id(domain)), counts, region, type_cum, seg_cum,
             tz_offsets, tz_cum, hh_cum, *out)
    p_type, p_seg, p_tz, p_hh = out
    country = np.repeat(np.arange(counts.size), counts)
    hh_size = np.bincount(p_hh, minlength=n)[p_hh]
    return country, p_type, p_seg, p_tz, p_hh, hh_size
