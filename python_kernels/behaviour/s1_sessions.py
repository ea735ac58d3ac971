"""6B S1 session index: one summary per session from its arrivals (span, party, the dominant
device, IP, account and instrument, channels, cross-border). Parallel over sessions."""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(inline="always", cache=True)
def _mode_and_distinct(values):
    """(most frequent value, lowest on a tie; number of distinct values) of a small array."""
    v = np.sort(values)
    best, best_n, distinct = v[0], 0, 0
    i = 0
    while i < v.shape[0]:
        j = i
        while j < v.shape[0] and v[j] == v[i]:
            j += 1
        distinct += 1
        if j - i > best_n:
            best, best_n = v[i], j - i
        i = j
    return best, distinct


@njit(parallel=True, cache=True)
def _session_summary(ptr, ts, party, entities, channel, cross, o_start, o_end, o_party, o_n_parties,
                     o_primary, o_distinct, o_channels, o_cross):
    for s in prange(ptr.shape[0] - 1):
        lo, hi = ptr[s], ptr[s + 1]
        o_start[s] = ts[lo]
        o_end[s] = ts[hi - 1]
        o_party[s], o_n_parties[s] = _mode_and_distinct(party[lo:hi])
        for e in range(entities.shape[0]):
            o_primary[e, s], o_distinct[e, s] = _mode_and_distinct(entities[e, lo:hi])
        mask = 0
        any_cross = False
        for i in range(lo, hi):
            mask |= 1 << channel[i]
            any_cross = any_cross or cross[i]
        o_channels[s] = mask
        o_cross[s] = any_cross


def session_summary(session_id, ts_us, party, entities, channel, cross) -> dict:
    """One summary per session from arrivals sorted by (session_id, ts): span, party, the dominant
    value of each row of `entities` (most arrivals, lowest id on a tie) and its distinct count,
    a bitmask of channel indices and whether any arrival crossed a border."""
    session_id = np.ascontiguousarray(session_id, np.int64)
    ts_us = np.ascontiguousarray(ts_us, np.int64)
    party = np.ascontiguousarray(party, np.int64)
    entities = np.ascontiguousarray(entities, np.int64)
    channel = np.ascontiguousarray(channel, np.int64)
    cross = np.ascontiguousarray(cross, np.bool_)
    n = session_id.size
    if not (ts_us.size == party.size == channel.size == cross.size == n and entities.ndim == 2
            and entities.shape[1] == n):
        raise ValueError("every input needs one entry per arrival (entities: one row per entity kind)")
    if n and (np.any(session_id[1:] < session_id[:-1])
              or np.any((session_id[1:] == session_id[:-1]) & (ts_us[1:] < ts_us[:-1]))):
        raise ValueError("arrivals must be sorted by (session_id, ts)")
    ptr = np.flatnonzero(np.r_[True, session_id[1:] != session_id[:-1], True]) if n else np.zeros(1, np.int64)
    m = ptr.size - 1
    out = {"session_id": session_id[ptr[:-1]], "arrival_count": np.diff(ptr)}
    for name in ("start", "end", "party", "n_parties", "channels"):
        out[name] = np.empty(m, np.int64)
    out["primary"] = np.empty((entities.shape[0], m), np.int64)
    out["distinct"] = np.empty((entities.shape[0], m), np.int64)
    out["any_cross"] = np.empty(m, np.bool_)
    _session_summary(ptr.astype(np.int64), ts_us, party, entities, channel, cross, out["start"], out["end"],
                     out["party"], out["n_parties"], out["primary"], out["distinct"], out["channels"],
                     out["any_cross"])
    return out
