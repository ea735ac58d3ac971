"""Flat arrays 5B S4 needs from world tables: the tz transition table and routing alias tables.

Sites are grouped by (merchant, tzid) so a physical arrival is routed inside the zone it
was counted in; edges are grouped by merchant. Everything is sorted by ids first, so the
arrays (and every draw made against them) do not depend on the order tables arrive in.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from python_kernels.core import rng
from python_kernels.arrivals import VIRTUAL_MODES
from python_kernels.dbt_io import column


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
