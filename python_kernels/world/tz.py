"""The single time authority: constant-offset intervals of IANA zones from the pinned `tzdata`.

`transition_intervals` enumerates, per tzid, the intervals over which (UTC offset, DST flag,
abbreviation) is constant, using `zoneinfo` against the PyPI `tzdata` package only (the OS
zone files are switched off, so every machine sees the same rules). Offsets are found by
walking the range in fixed steps and bisecting each change to the exact second.

Consumers (5A bucket mapping, 5B local time, 6B timing) load the table as flat arrays with
`tz_arrays` and call the numba helper `offset_at(tz_idx, t_utc_us, starts, offsets, ptr)`.
"""
from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta, timezone

import numpy as np
from numba import njit

import tzdata

US_PER_MINUTE = 60_000_000
US_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def tzdata_version() -> str:
    """IANA release of the pinned tzdata package (recorded in every transition row)."""
    return tzdata.IANA_VERSION


def _zone(tzid: str) -> zoneinfo.ZoneInfo:
    # An empty search path makes zoneinfo fall back to the tzdata package; no_cache avoids
    # an instance loaded earlier in the process from the OS files.
    zoneinfo.reset_tzpath(to=[])
    try:
        return zoneinfo.ZoneInfo.no_cache(tzid)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {tzid!r} in tzdata {tzdata_version()}") from None


def _state(zone, t: datetime):
    local = t.astimezone(zone)
    off = local.utcoffset()
    return (int(off.total_seconds()), bool(local.dst()), local.tzname())


def _bisect_change(zone, lo: datetime, hi: datetime, state_lo):
    """First whole second in (lo, hi] whose state differs from state_lo."""
    a, b = 0, int((hi - lo).total_seconds())
    while b - a > 1:
        mid = (a + b) // 2
        if _state(zone, lo + timedelta(seconds=mid)) == state_lo:
            a = mid
        else:
            b = mid
    return lo + timedelta(seconds=b)


def zone_intervals(tzid: str, start: datetime, end: datetime, step_minutes: int = 15):
    """[(valid_from, valid_to, offset_seconds, is_dst, abbrev)] covering [start, end) exactly."""
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValueError("start and end must be aware UTC datetimes with start < end")
    if step_minutes < 1:
        raise ValueError("step_minutes must be >= 1")
    zone = _zone(tzid)
    step = timedelta(minutes=step_minutes)
    out = []
    cur_from, cur = start, _state(zone, start)
    t = start
    while t < end:
        nxt = min(t + step, end)
        probe = nxt if nxt < end else end - timedelta(seconds=1)
        if probe > t and _state(zone, probe) != cur:
            change = _bisect_change(zone, t, probe, cur)
            out.append((cur_from, change, *cur))
            cur_from, cur = change, _state(zone, change)
            # a second change inside the same step is caught on the next walk from `change`
            t = change
            continue
        t = nxt
    out.append((cur_from, end, *cur))
    return out


def transition_intervals(tzids, start: datetime, end: datetime, step_minutes: int = 15) -> dict:
    """Column arrays of the transition table for `tzids` (deduplicated, sorted) over [start, end).

    tzid_idx is dense over the sorted tzids; offsets are whole minutes (IANA zones in use are).
    """
    names = sorted(set(tzids))
    if not names:
        raise ValueError("at least one tzid is required")
    cols = {k: [] for k in ("tzid", "tzid_idx", "valid_from_utc", "valid_to_utc",
                            "offset_minutes", "is_dst", "abbrev")}
    for idx, name in enumerate(names):
        for vf, vt, off_s, dst, abbrev in zone_intervals(name, start, end, step_minutes):
            if off_s % 60:
                raise ValueError(f"{name} has a non-whole-minute offset ({off_s} s) at {vf}")
            cols["tzid"].append(name)
            cols["tzid_idx"].append(idx)
            cols["valid_from_utc"].append(vf.replace(tzinfo=None))
            cols["valid_to_utc"].append(vt.replace(tzinfo=None))
            cols["offset_minutes"].append(off_s // 60)
            cols["is_dst"].append(dst)
            cols["abbrev"].append(abbrev)
    return cols


# ---- flat arrays for numba consumers ---------------------------------------------------------

def to_us(ts) -> np.ndarray:
    """Naive-UTC timestamps (numpy datetime64 of any unit, or datetimes) as int64 µs."""
    return np.asarray(ts, dtype="datetime64[us]").astype(np.int64)


def tz_arrays(tzid_idx, valid_from_us, valid_to_us, offset_minutes):
    """CSR arrays (ptr, starts_us, offsets_min, end_us) from transition rows in any order.

    Validates that each tz's intervals are contiguous and that tz indices are dense 0..n-1.
    """
    idx = np.asarray(tzid_idx, dtype=np.int64)
    vf = np.asarray(valid_from_us, dtype=np.int64)
    vt = np.asarray(valid_to_us, dtype=np.int64)
    off = np.asarray(offset_minutes, dtype=np.int64)
    if not (idx.shape == vf.shape == vt.shape == off.shape) or idx.size == 0:
        raise ValueError("transition columns must be non-empty and of equal length")
    order = np.lexsort((vf, idx))
    idx, vf, vt, off = idx[order], vf[order], vt[order], off[order]
    n_tz = int(idx.max()) + 1
    counts = np.bincount(idx, minlength=n_tz)
    if idx.min() < 0 or np.any(counts == 0):
        raise ValueError("tzid_idx must be dense 0..n-1")
    ptr = np.zeros(n_tz + 1, np.int64)
    np.cumsum(counts, out=ptr[1:])
    same_tz = idx[1:] == idx[:-1]
    if np.any(vt <= vf) or np.any(same_tz & (vf[1:] != vt[:-1])):
        raise ValueError("transition intervals must be non-empty and contiguous per tzid")
    return ptr, np.ascontiguousarray(vf), np.ascontiguousarray(off), vt[ptr[1:] - 1]


@njit(inline="always", cache=True)
def offset_at(tz_idx, t_utc_us, starts, offsets, tz_offsets_ptr):
    """UTC offset in minutes of zone `tz_idx` at instant `t_utc_us` (µs since epoch).

    Binary search for the last interval start at or before t inside the zone's CSR slice;
    instants before the first start take the first interval (callers check coverage).
    """
    lo = tz_offsets_ptr[tz_idx]
    hi = tz_offsets_ptr[tz_idx + 1] - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= t_utc_us:
            lo = mid
        else:
            hi = mid - 1
    return offsets[lo]


@njit(cache=True)
def _offsets_many(tz, t_us, starts, offsets, ptr, out):
    for i in range(tz.shape[0]):
        out[i] = offset_at(tz[i], t_us[i], starts, offsets, ptr)


def offsets_at(tz, t_us, ptr, starts, offsets, end_us=None):
    """Vectorised offset_at; with end_us, refuses instants outside the table's coverage."""
    tz = np.ascontiguousarray(tz, dtype=np.int64)
    t_us = np.ascontiguousarray(t_us, dtype=np.int64)
    if tz.shape != t_us.shape:
        raise ValueError("tz and t_us must have the same length")
    if tz.size and (tz.min() < 0 or tz.max() >= ptr.size - 1):
        raise ValueError("tz index out of range")
    if end_us is not None and tz.size and (
            np.any(t_us < starts[ptr[tz]]) or np.any(t_us >= end_us[tz])):
        raise ValueError("instant outside the transition table's coverage")
    out = np.empty(tz.size, np.int64)
    _offsets_many(tz, t_us, starts, offsets, ptr, out)
    return out


def local_midnight_utc_us(ptr, starts, offsets, tz_idx: int, local_day: int) -> int:
    """UTC instant (µs) at which local date `local_day` (days since 1970-01-01) begins in a zone.

    Local midnight is wall time 00:00; when a gap swallows it, the day begins at the end of the
    gap (the first instant whose wall clock is on that date).
    """
    wall = local_day * US_PER_DAY
    lo, hi = int(ptr[tz_idx]), int(ptr[tz_idx + 1])
    best = None
    for j in range(lo, hi):
        t = wall - int(offsets[j]) * US_PER_MINUTE
        end = starts[j + 1] if j + 1 < hi else np.iinfo(np.int64).max
        if (j == lo or t >= starts[j]) and t < end:
            best = t if best is None else min(best, t)
    if best is not None:
        return best
    for j in range(lo + 1, hi):  # midnight fell in a spring-forward gap
        if starts[j] + int(offsets[j - 1]) * US_PER_MINUTE <= wall < starts[j] + int(offsets[j]) * US_PER_MINUTE:
            return int(starts[j])
    raise ValueError(f"local day {local_day} is outside the transition table of tz {tz_idx}")
