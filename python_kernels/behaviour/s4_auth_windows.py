"""6B S4 auth features: what the bank knows of a flow's past at its auth request.

The flows come sorted by (scenario, party, instant, flow_id); each run of one (scenario, party)
is a party's history, and every feature of a flow reads only that history strictly before the
flow's instant (peers at the same microsecond are not past). A card belongs to one party (the
graph gives each instrument one owner), so the card's history is the part of its party's history
on that card. Each party is computed on its own, so the result does not depend on how parties
are grouped into chunks.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from python_kernels.core.geodesy import haversine_km

US_PER_HOUR = 3_600_000_000
# the velocity windows, each ending 1 µs before the request
SPAN_NAMES = ("1h", "24h", "7d")
SPANS_US = np.array([US_PER_HOUR, 24 * US_PER_HOUR, 7 * 24 * US_PER_HOUR], np.int64)
NO_ID = np.int64(-1)  # a null device or IP: one partition of its own, whose novelty is not read


class AuthFlows(NamedTuple):
    """One row per flow, sorted by (scenario, party, ts, flow_id)."""

    scenario: np.ndarray      # any integer code of scenario_id
    party: np.ndarray
    instrument: np.ndarray
    device: np.ndarray        # NO_ID for none
    ip: np.ndarray            # NO_ID for none
    merchant: np.ndarray
    ts: np.ndarray            # request instant, µs
    amount: np.ndarray        # amount_usd
    log_amount: np.ndarray    # round(ln(amount_usd) * 1e9): exact integer sums, so no order dependence
    card_present: np.ndarray
    lat: np.ndarray           # the flow's site, card-present flows only
    lon: np.ndarray


class AuthWindows(NamedTuple):
    party_counts: np.ndarray  # [SPANS_US, flow]: the party's flows in the span before the request
    card_counts: np.ndarray   # [SPANS_US, flow]: the instrument's
    prior: np.ndarray         # the party's flows before the request
    vs_history: np.ndarray    # amount over the geometric mean of those flows' amounts (NaN for none)
    seen: np.ndarray          # [(device, ip, merchant), flow]: the party used it at an earlier instant
    km: np.ndarray            # from the previous card-present use's site (NaN: not card-present or first)
    us_since: np.ndarray      # since that use (0 where km is NaN)


@njit(cache=True)
def _counts(ts, rows, spans, out):
    """out[s, rows[k]]: how many of rows (in instant order) lie in [ts - spans[s], ts) of row k."""
    n = rows.size
    for s in range(spans.size):
        lo = 0
        first = 0  # first row at the current row's instant
        for k in range(n):
            t = ts[rows[k]]
            if k > 0 and t != ts[rows[k - 1]]:
                first = k
            while ts[rows[lo]] < t - spans[s]:
                lo += 1
            out[s, rows[k]] = first - lo


@njit(cache=True)
def _seen(keys, ts, rows, out, col):
    """out[col, r]: the row's key appeared at an earlier instant among rows (in instant order)."""
    order = rows[np.argsort(keys[rows])]
    k = 0
    while k < order.size:
        end = k
        first = ts[order[k]]
        while end < order.size and keys[order[end]] == keys[order[k]]:
            first = min(first, ts[order[end]])
            end += 1
        for j in range(k, end):
            out[col, order[j]] = ts[order[j]] > first
        k = end


@njit(cache=True)
def _party(f, lo, hi, spans, w):
    rows = np.arange(lo, hi)
    _counts(f.ts, rows, spans, w.party_counts)
    acc = np.int64(0)
    first = lo
    for i in range(lo, hi):
        if f.ts[i] != f.ts[first]:
            for j in range(first, i):
                acc += f.log_amount[j]
            first = i
        w.prior[i] = first - lo
        if first > lo:
            w.vs_history[i] = f.amount[i] / math.exp(acc / 1e9 / (first - lo))

    # the card histories: the party's rows of each instrument, in instant order
    by_card = rows[np.argsort(f.instrument[rows])]
    k = 0
    while k < by_card.size:
        end = k
        while end < by_card.size and f.instrument[by_card[end]] == f.instrument[by_card[k]]:
            end += 1
        _counts(f.ts, np.sort(by_card[k:end]), spans, w.card_counts)
        k = end

    _seen(f.device, f.ts, rows, w.seen, 0)
    _seen(f.ip, f.ts, rows, w.seen, 1)
    _seen(f.merchant, f.ts, rows, w.seen, 2)

    # card-present uses: flows at one instant are one use, at the site of the first flow
    have_prev = False
    prev_lat = prev_lon = cur_lat = cur_lon = 0.0
    prev_ts = cur_ts = np.int64(0)
    started = False
    for i in range(lo, hi):
        if not f.card_present[i]:
            continue
        if not started or f.ts[i] != cur_ts:
            if started:
                have_prev, prev_lat, prev_lon, prev_ts = True, cur_lat, cur_lon, cur_ts
            started, cur_lat, cur_lon, cur_ts = True, f.lat[i], f.lon[i], f.ts[i]
        if have_prev:
            w.km[i] = haversine_km(prev_lat, prev_lon, cur_lat, cur_lon)
            w.us_since[i] = cur_ts - prev_ts


@njit(cache=True, parallel=True)
def _windows(f, starts, spans, w):
    # parties write disjoint rows, so they run in parallel
    for g in prange(starts.size - 1):
        _party(f, starts[g], starts[g + 1], spans, w)


@njit(cache=True)
def _sorted(scenario, party, ts):
    for i in range(1, ts.size):
        key, prev = (scenario[i], party[i], ts[i]), (scenario[i - 1], party[i - 1], ts[i - 1])
        if key < prev:
            return False
    return True


def auth_windows(flows: AuthFlows) -> AuthWindows:
    """The past-only windows of every flow; rows sorted by (scenario, party, ts, flow_id)."""
    f = AuthFlows(*(np.ascontiguousarray(a, np.float64 if name in ("amount", "lat", "lon") else
                                         np.bool_ if name == "card_present" else np.int64)
                    for name, a in zip(AuthFlows._fields, flows)))
    n = f.ts.size
    if any(a.shape != (n,) for a in f):
        raise ValueError("auth_windows: every input needs one value per flow")
    if not _sorted(f.scenario, f.party, f.ts):
        raise ValueError("auth_windows: flows must be sorted by (scenario, party, ts)")
    if n and np.any(np.isnan(f.lat[f.card_present]) | np.isnan(f.lon[f.card_present])):
        raise ValueError("auth_windows: a card-present flow needs its site's coordinates")
    w = AuthWindows(
        party_counts=np.zeros((SPANS_US.size, n), np.int64),
        card_counts=np.zeros((SPANS_US.size, n), np.int64),
        prior=np.zeros(n, np.int64),
        vs_history=np.full(n, np.nan),
        seen=np.zeros((3, n), np.bool_),
        km=np.full(n, np.nan),
        us_since=np.zeros(n, np.int64),
    )
    new_party = (f.party[1:] != f.party[:-1]) | (f.scenario[1:] != f.scenario[:-1])
    starts = np.concatenate(([0], np.flatnonzero(new_party) + 1, [n])) if n else np.zeros(1, np.int64)
    _windows(f, starts.astype(np.int64), SPANS_US, w)
    return w
