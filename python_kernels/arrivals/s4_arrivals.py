"""5B S4 arrival rows: expand each (series, bucket) count into that many arrivals with a
microsecond instant, a site inside the counted zone or an edge, and local time from the
transition table; then the chronological sequence per merchant.

One stream per (series, bucket); arrival j uses counters 4j (time), 4j+1 (virtual coin) and
4j+2 (site or edge pick). The routing inputs come from the world tables, grouped so a physical
arrival is routed inside the zone it was counted in; everything is sorted by ids first, so the
arrays (and every draw made against them) do not depend on the order tables arrive in.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit, prange

from python_kernels.core import rng
from python_kernels.core.arrow import column
from python_kernels.core.vocabulary import BLOCK_ROWS, US_PER_HOUR, VIRTUAL_MODES
from python_kernels.world.tz import offset_at

U64 = np.uint64
# arrival j of a (series, bucket) stream uses counters COUNTERS_PER_ARRIVAL * j + ...
COUNTERS_PER_ARRIVAL = 4
C_TIME, C_VIRTUAL, C_ROUTE = U64(0), U64(1), U64(2)
HYBRID, VIRTUAL_ONLY = VIRTUAL_MODES["HYBRID"], VIRTUAL_MODES["VIRTUAL_ONLY"]


class CountRows(NamedTuple):
    """One row per (series, bucket) with its count; out_offset is where its arrivals start."""

    stream: np.ndarray
    series: np.ndarray
    bucket_start_us: np.ndarray
    count: np.ndarray
    out_offset: np.ndarray


class Series(NamedTuple):
    mode: np.ndarray          # VIRTUAL_MODES value of the series' merchant
    site_lo: np.ndarray       # slice of the site alias arrays: the merchant's sites inside the zone
    site_n: np.ndarray
    merchant: np.ndarray


class Routing(NamedTuple):
    """Alias tables of sites (grouped by merchant and zone) and of edges (grouped by merchant)."""

    site_prob: np.ndarray
    site_alias: np.ndarray
    site_index: np.ndarray
    site_tz: np.ndarray
    edge_ptr: np.ndarray      # edges per merchant
    edge_prob: np.ndarray
    edge_alias: np.ndarray
    edge_index: np.ndarray
    edge_tz: np.ndarray


class TzTable(NamedTuple):
    ptr: np.ndarray           # transitions per tz
    start_us: np.ndarray
    offset_min: np.ndarray


class ArrivalRows(NamedTuple):
    ts_utc_us: np.ndarray
    ts_local_us: np.ndarray
    offset_min: np.ndarray
    route_index: np.ndarray   # site or edge index
    is_virtual: np.ndarray
    tz: np.ndarray


@njit(cache=True)
def _expand_rows(lo, hi, rows, series, routing, tz_table, p_virtual_hybrid, o):
    """The arrivals of count rows lo..hi, each written from rows.out_offset[r] on. Each row is
    expanded in this loop rather than by a helper: passing the named tuples to a function per row
    costs a reference count for every array in them."""
    for r in range(lo, hi):
        st = rows.stream[r]
        s = rows.series[r]
        m = series.merchant[s]
        mode = series.mode[s]
        base = rows.out_offset[r]
        for j in range(rows.count[r]):
            k = U64(COUNTERS_PER_ARRIVAL * j)
            t = rows.bucket_start_us[r] + min(int(rng.uniform(st, k + C_TIME) * US_PER_HOUR), US_PER_HOUR - 1)
            virtual = mode == VIRTUAL_ONLY or (mode == HYBRID and rng.uniform(st, k + C_VIRTUAL) < p_virtual_hybrid)
            if virtual:
                first = routing.edge_ptr[m]
                i = first + rng.alias_draw(st, k + C_ROUTE, routing.edge_prob, routing.edge_alias, first,
                                           routing.edge_ptr[m + 1] - first)
                o.route_index[base + j] = routing.edge_index[i]
                tz = routing.edge_tz[i]
            else:
                first = series.site_lo[s]
                i = first + rng.alias_draw(st, k + C_ROUTE, routing.site_prob, routing.site_alias, first,
                                           series.site_n[s])
                o.route_index[base + j] = routing.site_index[i]
                tz = routing.site_tz[i]
            off = offset_at(tz, t, tz_table.start_us, tz_table.offset_min, tz_table.ptr)
            o.ts_utc_us[base + j] = t
            o.ts_local_us[base + j] = t + off * 60_000_000
            o.offset_min[base + j] = off
            o.is_virtual[base + j] = virtual
            o.tz[base + j] = tz


@njit(parallel=True, cache=True)
def _expand(rows, series, routing, tz_table, p_virtual_hybrid, o):
    # Rows are written by a plain function called per block of rows: inside a prange body
    # numba drops writes to arrays reached through a named tuple (numba issues 5872, 7135).
    n = rows.stream.shape[0]
    for b in prange((n + BLOCK_ROWS - 1) // BLOCK_ROWS):
        _expand_rows(b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS), rows, series, routing, tz_table, p_virtual_hybrid, o)


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
    needs_site = mode[s_idx[active]] != VIRTUAL_ONLY
    if np.any(site_n[s_idx[active]][needs_site] == 0):
        raise ValueError("a series that routes physically has no site in its zone")
    needs_edge = mode[s_idx[active]] != VIRTUAL_MODES["NON_VIRTUAL"]
    m_act = merchant[s_idx[active]][needs_edge]
    if np.any(edge_ptr[m_act] == edge_ptr[m_act + 1]):
        raise ValueError("a virtual or hybrid series belongs to a merchant without edges")
    offsets = np.zeros(count.size + 1, np.int64)
    np.cumsum(count, out=offsets[1:])
    n = int(offsets[-1])
    o = ArrivalRows(np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int32), np.empty(n, np.int64),
                    np.empty(n, np.bool_), np.empty(n, np.int32))
    _expand(CountRows(np.ascontiguousarray(rows["stream"], dtype=np.uint64), s_idx,
                      np.ascontiguousarray(rows["bucket_start_us"], dtype=np.int64), count, offsets[:-1]),
            Series(mode, site_lo, site_n, merchant),
            Routing(**{k: edge_ptr if k == "edge_ptr" else routing[k] for k in Routing._fields}),
            TzTable(tz_table["ptr"], tz_table["start_us"], tz_table["offset_min"]), float(p_virtual_hybrid), o)
    out = o._asdict()
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


def load_tz_table(transitions: pa.Table) -> dict:
    t = transitions.sort_by([("tzid", "ascending"), ("valid_from_utc", "ascending")])
    tzid_code = t.column("tzid").combine_chunks().dictionary_encode()
    names = tzid_code.dictionary.to_pylist()  # first-seen order = sorted, as the table is sorted
    codes = np.asarray(tzid_code.indices)
    ptr = np.zeros(len(names) + 1, np.int64)
    np.add.at(ptr, codes + 1, 1)
    index = {name: i for i, name in enumerate(names)}

    def index_of(labels):
        missing = [x for x in labels if x not in index]
        if missing:
            raise ValueError(f"time zones missing from world_tz_transitions: {missing[:5]}")
        return np.array([index[x] for x in labels], dtype=np.int64)

    return {
        "names": names, "index": index, "index_of": index_of, "ptr": np.cumsum(ptr),
        "start_us": column(t, "valid_from_utc").astype("datetime64[us]").astype(np.int64),
        "offset_min": column(t, "offset_minutes").astype(np.int32),
    }


def _alias_slices(group_ptr, weights):
    prob = np.empty(weights.size)
    alias = np.empty(weights.size, np.int64)
    for lo, hi in zip(group_ptr[:-1], group_ptr[1:]):
        if hi > lo:
            prob[lo:hi], alias[lo:hi] = rng.build_alias(weights[lo:hi])
    return prob, alias


def load_routing(sites, edges, modes, settlement, merchants, tz_index) -> dict:
    merchant_ids = np.sort(column(merchants, "merchant_id").astype(np.int64))
    n_m = merchant_ids.size
    mode = np.zeros(n_m, np.int64)
    m = np.searchsorted(merchant_ids, column(modes, "merchant_id").astype(np.int64))
    mode[m] = [VIRTUAL_MODES[v] for v in modes.column("virtual_mode").to_pylist()]

    # sites, grouped by (merchant, tz)
    s_m = np.searchsorted(merchant_ids, column(sites, "merchant_id").astype(np.int64))
    s_tz = np.array([tz_index[x] for x in sites.column("tzid").to_pylist()], dtype=np.int64)
    s_id = column(sites, "site_id").astype(np.int64)
    order = np.lexsort((s_id, s_tz, s_m))
    s_m, s_tz, s_id = s_m[order], s_tz[order], s_id[order]
    s_w = column(sites, "p_weight")[order]
    s_country = sites.column("legal_country_iso").combine_chunks().take(pa.array(order))
    n_tz = max(tz_index.values()) + 1
    zone_key = s_m * n_tz + s_tz
    keys, zone_lo, zone_n = np.unique(zone_key, return_index=True, return_counts=True)
    site_prob, site_alias = _alias_slices(np.r_[zone_lo, s_id.size], s_w)

    def site_slice(m_ord, tz):
        k = np.asarray(m_ord) * n_tz + np.asarray(tz)
        pos = np.clip(np.searchsorted(keys, k), 0, max(keys.size - 1, 0))
        found = keys.size > 0
        hit = (keys[pos] == k) if found else np.zeros(k.shape, bool)
        return np.where(hit, zone_lo[pos], 0), np.where(hit, zone_n[pos], 0)

    # edges, grouped by merchant
    e_m = np.searchsorted(merchant_ids, column(edges, "merchant_id").astype(np.int64))
    e_id = column(edges, "edge_id").astype(np.int64)
    order = np.lexsort((e_id, e_m))
    e_m, e_id = e_m[order], e_id[order]
    e_tz = np.array([tz_index[x] for x in edges.column("tzid_operational").to_pylist()], dtype=np.int64)[order]
    edge_ptr = np.zeros(n_m + 1, np.int64)
    np.add.at(edge_ptr, e_m + 1, 1)
    edge_ptr = np.cumsum(edge_ptr)
    edge_prob, edge_alias = _alias_slices(edge_ptr, column(edges, "edge_weight")[order])

    settle_country = np.full(n_m, None, dtype=object)
    st_m = np.searchsorted(merchant_ids, column(settlement, "merchant_id").astype(np.int64))
    settle_country[st_m] = settlement.column("settlement_country_iso").to_pylist()
    id_order = np.argsort(s_id)
    sorted_ids = s_id[id_order]

    def country_of(route_index, is_virtual, m_ord):
        """Legal country of each arrival: the site's country, or the virtual merchant's settlement country."""
        pos = np.searchsorted(sorted_ids, np.where(is_virtual, sorted_ids[0], route_index))
        physical = s_country.take(pa.array(id_order[pos]))
        virtual = pa.array(settle_country[m_ord], pa.string())
        return pc.if_else(pa.array(is_virtual), virtual, physical)

    return {
        "merchant_ids": merchant_ids, "mode": mode, "site_slice": site_slice, "country_of": country_of,
        "alias": {"site_prob": site_prob, "site_alias": site_alias, "site_index": s_id, "site_tz": s_tz,
                  "edge_ptr": edge_ptr, "edge_prob": edge_prob, "edge_alias": edge_alias,
                  "edge_index": e_id, "edge_tz": e_tz},
    }
