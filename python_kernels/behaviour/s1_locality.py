"""6B S1 locality: where a party can pay in person. Its last payment in person must be within
reach (no further than `min_km`, or no faster than `max_kmh` door to door), it must not be away
on a trip elsewhere, and an in-person arrival takes a party living near the site (home cells
around it, weights decaying with distance) or, abroad, a traveller on a trip there. Helpers of
the walk in s1_attach, inlined into it; their draws use counters 10-17 (near the site) and 40-43
(travellers) of the arrival's stream.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from python_kernels.core import rng
from python_kernels.core.geodesy import haversine_km

U64 = np.uint64
C_LOCAL = 10               # try r: 10 + 2r the home cell near the site, 11 + 2r the party in it
C_VISITOR = 40             # try r of the travellers in the country: 40 + r
NEVER = np.iinfo(np.int64).min // 2


@njit(inline="always", cache=True)
def reachable(q, now, lat, lon, cp_ts, cp_lat, cp_lon, min_km, max_kmh):
    """Could party q be at (lat, lon) at `now`, given its last in-person payment?"""
    if cp_ts[q] == NEVER:
        return True
    km = haversine_km(cp_lat[q], cp_lon[q], lat, lon)
    return km <= min_km or km <= max_kmh * (now - cp_ts[q]) / 3.6e9


@njit(inline="always", cache=True)
def can_be_here(q, now, c, lat, lon, cand, walk, rules):
    """Can party q pay in person at (lat, lon) in country c at `now`: not away on a trip to another
    country, and able to get there since its last payment in person?"""
    if cand.away_dest[q] >= 0 and cand.away_dest[q] != c and cand.away_start[q] <= now < cand.away_end[q]:
        return False
    return reachable(q, now, lat, lon, walk.cp_ts, walk.cp_lat, walk.cp_lon, rules.min_km, rules.max_kmh)


@njit(inline="always", cache=True)
def in_locality(q, now, c, lat, lon, cand, walk, rules):
    """May an in-person arrival at (lat, lon) continue party q's open session? Only where q last
    paid in person, within min_km: a session in person is one locality."""
    return (walk.cp_ts[q] != NEVER and haversine_km(walk.cp_lat[q], walk.cp_lon[q], lat, lon) <= rules.min_km
            and can_be_here(q, now, c, lat, lon, cand, walk, rules))


@njit(inline="always", cache=True)
def visitor(s, k, c, t, lat, lon, cand, rules, walk):
    """A traveller on a trip to country c at t who uses channel k and can be at (lat, lon): among
    the trips started in (t - the longest trip, t], up to rules.tries draws; -1 if none."""
    lo, hi = cand.trip_ptr[c], cand.trip_ptr[c + 1]
    a = lo + np.searchsorted(cand.trip_start[lo:hi], t - cand.trip_max_us, side="right")
    b = lo + np.searchsorted(cand.trip_start[lo:hi], t, side="right")
    if b <= a:
        return -1
    for r in range(rules.tries):
        j = a + min(int(rng.uniform(s, U64(C_VISITOR + r)) * (b - a)), b - a - 1)
        q = cand.trip_party[j]
        if cand.trip_end[j] > t and cand.party_weight[q, k] > 0.0 and can_be_here(q, t, c, lat, lon, cand, walk, rules):
            return q
    return -1


@njit(inline="always", cache=True)
def local_party(s, k, c, loc, t, lat, lon, fallback, cand, rules, walk):
    """A party living near site `loc` who can be there at t: a home cell around the site (weights
    decaying with distance), then a party of it, up to rules.tries times; `fallback` (the
    country pool's pick) when the site has no homes around it or no draw could be there."""
    lo, hi = cand.near_ptr[loc], cand.near_ptr[loc + 1]
    if hi == lo or cand.near_cum[k, hi - 1] <= (cand.near_cum[k, lo - 1] if lo > 0 else 0.0):
        return fallback
    for r in range(rules.tries):
        e = rng.pick_cum(rng.uniform(s, U64(C_LOCAL + 2 * r)), cand.near_cum[k], lo, hi)
        cell = cand.near_cell[e]
        q = cand.cell_party[rng.pick_cum(rng.uniform(s, U64(C_LOCAL + 2 * r + 1)), cand.cell_cum[k],
                                         cand.cell_ptr[cell], cand.cell_ptr[cell + 1])]
        if can_be_here(q, t, c, lat, lon, cand, walk, rules):
            return q
    return fallback
