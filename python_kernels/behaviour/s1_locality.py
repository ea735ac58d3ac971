"""6B S1 locality: where a party can pay in person, and the network it goes online through. Its
last payment in person must be within reach (no further than `min_km`, or no faster than
`max_kmh` door to door), it must not be away on a trip elsewhere, and an in-person arrival takes
a party living near the site (home cells around it, weights decaying with distance), a domestic
traveller staying there or, abroad, a traveller on a trip there. Helpers of the walk in
s1_attach, inlined into it; their draws use counters 10-17 (residents near the site), 40-43
(travellers from abroad), 44-52 (domestic travellers) and 60-63 (the session's network) of the
arrival's stream.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from python_kernels.core import rng
from python_kernels.core.geodesy import haversine_km

U64 = np.uint64
C_LOCAL = 10               # try r: 10 + 2r the home cell near the site, 11 + 2r the party in it
C_VISITOR = 40             # try r of the travellers in the country: 40 + r
C_DOMESTIC = 44            # a domestic visitor first? try r: 45 + 2r the home cell, 46 + 2r the trip to it
C_TRIP_IP, C_TRIP_IP_PICK = U64(60), U64(61)  # a traveller's session on the destination's network
C_CARRIER, C_CARRIER_PICK = U64(62), U64(63)  # a mobile session on another address of its carrier
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
    country, within stay_km of where it stays on a domestic trip, and able to get there since its
    last payment in person?"""
    if cand.away_dest[q] >= 0 and cand.away_dest[q] != c and cand.away_start[q] <= now < cand.away_end[q]:
        return False
    if cand.dom_start[q] <= now < cand.dom_end[q] and haversine_km(cand.dom_lat[q], cand.dom_lon[q], lat, lon) > rules.stay_km:
        return False
    return reachable(q, now, lat, lon, walk.cp_ts, walk.cp_lat, walk.cp_lon, rules.min_km, rules.max_kmh)


@njit(inline="always", cache=True)
def in_locality(q, now, c, lat, lon, cand, walk, rules):
    """May an in-person arrival at (lat, lon) continue party q's open session? Only where q last
    paid in person, within min_km: a session in person is one locality."""
    return (walk.cp_ts[q] != NEVER and haversine_km(walk.cp_lat[q], walk.cp_lon[q], lat, lon) <= rules.min_km
            and can_be_here(q, now, c, lat, lon, cand, walk, rules))


@njit(inline="always", cache=True)
def _under_way(u, ptr, start, end, party, g, t, max_us):
    """A trip of group g (sorted by start) under way at t, uniformly among those started in
    (t - max_us, t]; -1 when the draw finds none."""
    lo, hi = ptr[g], ptr[g + 1]
    a = lo + np.searchsorted(start[lo:hi], t - max_us, side="right")
    b = lo + np.searchsorted(start[lo:hi], t, side="right")
    if b <= a:
        return -1
    j = a + min(int(u * (b - a)), b - a - 1)
    return party[j] if end[j] > t else -1


@njit(inline="always", cache=True)
def visitor(s, k, c, t, lat, lon, cand, rules, walk):
    """A traveller on a trip to country c at t who uses channel k and can be at (lat, lon): among
    the trips started in (t - the longest trip, t], up to rules.tries draws; -1 if none."""
    for r in range(rules.tries):
        q = _under_way(rng.uniform(s, U64(C_VISITOR + r)), cand.trip_ptr, cand.trip_start, cand.trip_end,
                       cand.trip_party, c, t, cand.trip_max_us)
        if q >= 0 and cand.party_weight[q, k] > 0.0 and can_be_here(q, t, c, lat, lon, cand, walk, rules):
            return q
    return -1


@njit(inline="always", cache=True)
def local_party(s, k, c, loc, t, lat, lon, fallback, cand, rules, walk):
    """A party near site `loc` who can be there at t. With p_visitor first a domestic traveller:
    a home cell around the site (weights decaying with distance), then a trip to that cell under
    way at t, up to rules.tries times. Else a resident: a home cell around the site, then a party
    of it, up to rules.tries times. `fallback` (the country pool's pick) when the site has no
    homes around it or no draw could be there."""
    lo, hi = cand.near_ptr[loc], cand.near_ptr[loc + 1]
    if hi == lo or cand.near_cum[k, hi - 1] <= (cand.near_cum[k, lo - 1] if lo > 0 else 0.0):
        return fallback
    if rng.uniform(s, U64(C_DOMESTIC)) < rules.p_visitor:
        for r in range(rules.tries):
            cell = cand.near_cell[rng.pick_cum(rng.uniform(s, U64(C_DOMESTIC + 1 + 2 * r)), cand.near_cum[k], lo, hi)]
            q = _under_way(rng.uniform(s, U64(C_DOMESTIC + 2 + 2 * r)), cand.dtrip_ptr, cand.dtrip_start,
                           cand.dtrip_end, cand.dtrip_party, cell, t, cand.dtrip_max_us)
            if q >= 0 and cand.party_weight[q, k] > 0.0 and can_be_here(q, t, c, lat, lon, cand, walk, rules):
                return q
    for r in range(rules.tries):
        e = rng.pick_cum(rng.uniform(s, U64(C_LOCAL + 2 * r)), cand.near_cum[k], lo, hi)
        cell = cand.near_cell[e]
        q = cand.cell_party[rng.pick_cum(rng.uniform(s, U64(C_LOCAL + 2 * r + 1)), cand.cell_cum[k],
                                         cand.cell_ptr[cell], cand.cell_ptr[cell + 1])]
        if can_be_here(q, t, c, lat, lon, cand, walk, rules):
            return q
    return fallback


@njit(inline="always", cache=True)
def network(s, link, p, t, cand, rules):
    """The IP a session of party p's own device starts on, from its device's IP `link`: that IP, or
    another address of its mobile carrier (p_carrier_churn), or on a trip (abroad or at home) a
    network of the destination country (p_local_ip), unless the link is a VPN exit: a VPN hides
    whatever network carries it, the traveller still appears at its exit."""
    ip = link
    carrier = cand.ip_carrier[link]
    if carrier >= 0 and rng.uniform(s, C_CARRIER) < rules.p_carrier_churn:
        ip = _in_slice(rng.uniform(s, C_CARRIER_PICK), cand.carrier_ip_ptr, carrier, ip)
    dest = cand.away_dest[p] if cand.away_start[p] <= t < cand.away_end[p] else -1
    if cand.dom_start[p] <= t < cand.dom_end[p]:
        dest = cand.party_country[p]
    if dest >= 0 and not cand.ip_tunnel[link] and rng.uniform(s, C_TRIP_IP) < rules.p_local_ip:
        ip = _in_slice(rng.uniform(s, C_TRIP_IP_PICK), cand.trip_ip_ptr, dest, ip)
    return ip


@njit(inline="always", cache=True)
def _in_slice(u, ptr, j, fallback):
    """A uniform position of slice j of ptr, `fallback` when the slice is empty."""
    n = ptr[j + 1] - ptr[j]
    return ptr[j] + min(int(u * n), n - 1) if n > 0 else fallback
