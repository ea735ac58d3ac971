"""Arrow in, Arrow out: the world geography models' orchestration around the `geo` kernels.

Every input is re-sorted by its key before it reaches a kernel, so the output never depends on
the row order DuckDB hands over.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from python_kernels.core.arrow import column
from python_kernels.world import geo

TIER_INDEX = {t: i for i, t in enumerate(geo.TIERS)}


def _sorted(table: pa.Table, keys) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in keys])


def _texts(table: pa.Table, name: str) -> list:
    return table.column(name).to_pylist()


def _index(values, labels, what):
    pos = {v: i for i, v in enumerate(labels)}
    missing = sorted(set(values) - set(pos))
    if missing:
        raise ValueError(f"{what} not in the preset's countries/zones: {missing[:5]}")
    return np.array([pos[v] for v in values], dtype=np.int64)


def geography(countries: pa.Table, tzids: pa.Table, anchors: pa.Table):
    """Preset countries (by country_idx), their tzids and anchors as a `geo.Geography` plus labels."""
    countries = _sorted(countries, ["country_idx"])
    isos = _texts(countries, "country_iso")
    tzids = _sorted(tzids.filter(pc.is_in(tzids.column("country_iso"), pa.array(isos))), ["country_iso", "tzid"])
    tz_names = _texts(tzids, "tzid")
    anchors = anchors.filter(pc.is_in(anchors.column("tzid"), pa.array(tz_names)))
    anchor_tz = _index(_texts(anchors, "tzid"), tz_names, "anchor tzid")
    order = np.lexsort((np.unique(_texts(anchors, "city"), return_inverse=True)[1], anchor_tz))
    anchors = anchors.take(pa.array(order))
    geo_map = geo.Geography(
        _index(_texts(tzids, "country_iso"), isos, "tzid country"), column(tzids, "population_share"),
        anchor_tz[order], column(anchors, "weight"), column(anchors, "lat_deg"), column(anchors, "lon_deg"), len(isos))
    return geo_map, isos, tz_names


def merchant_countries_table(seed, draws: pa.Table, countries: pa.Table, cfg) -> pa.Table:
    countries = _sorted(countries, ["country_idx"])
    isos = _texts(countries, "country_iso")
    regions = _texts(countries, "region_id")
    region_code = _index(regions, sorted(set(regions)), "region")
    draws = _sorted(draws, ["merchant_id"])
    merchant, country, order, n_sites = geo.split_countries(
        seed, column(draws, "merchant_id"), _index(_texts(draws, "home_country_iso"), isos, "home country"),
        column(draws, "n_sites"), column(draws, "size_pct_rank"), column(countries, "merchant_weight"), region_code, cfg)
    return pa.table({
        "merchant_id": pa.array(merchant, pa.int64()),
        "legal_country_iso": pa.array([isos[c] for c in country], pa.string()),
        "country_order": pa.array(order, pa.int32()),
        "n_sites_country": pa.array(n_sites, pa.int64()),
    })


def sites_table(seed, merchant_countries: pa.Table, countries: pa.Table, tzids: pa.Table, anchors: pa.Table,
                jitter) -> pa.Table:
    geo_map, isos, tz_names = geography(countries, tzids, anchors)
    mc = _sorted(merchant_countries, ["merchant_id", "legal_country_iso"])
    reps = column(mc, "n_sites_country")
    merchant = np.repeat(column(mc, "merchant_id"), reps)
    legal = np.repeat(np.array(_texts(mc, "legal_country_iso"), dtype=object), reps)
    starts = np.repeat(np.cumsum(reps) - reps, reps)
    site_order = np.arange(merchant.size, dtype=np.int64) - starts + 1
    site_id = geo.low63_sha256([f"{m}:{c}:{o}" for m, c, o in zip(merchant.tolist(), legal.tolist(), site_order.tolist())])
    tz, lat, lon = geo.place_sites(seed, site_id, _index(legal.tolist(), isos, "legal country"), geo_map, jitter)
    return pa.table({
        "site_id": pa.array(site_id, pa.int64()),
        "merchant_id": pa.array(merchant, pa.int64()),
        "legal_country_iso": pa.array(legal.tolist(), pa.string()),
        "site_order": pa.array(site_order, pa.int32()),
        "tzid": pa.array([tz_names[t] for t in tz], pa.string()),
        "lat_deg": pa.array(lat, pa.float64()),
        "lon_deg": pa.array(lon, pa.float64()),
    })


def site_weights_table(seed, sites: pa.Table, merchants: pa.Table, cfg) -> pa.Table:
    merchants = _sorted(merchants, ["merchant_id"])
    m_ids = column(merchants, "merchant_id")
    sites = _sorted(sites, ["merchant_id", "legal_country_iso", "site_order"])
    s_merchant = column(sites, "merchant_id")
    pos = np.searchsorted(m_ids, s_merchant)
    if np.any(pos >= m_ids.size) or np.any(m_ids[np.minimum(pos, m_ids.size - 1)] != s_merchant):
        raise ValueError("every site needs its merchant in world_merchants")
    home = np.array(_texts(merchants, "home_country_iso"), dtype=object)[pos]
    legal = np.array(_texts(sites, "legal_country_iso"), dtype=object)
    # the hub is the merchant's first home-country site: home country first, then by country and order
    order = np.lexsort((column(sites, "site_order"), np.unique(legal, return_inverse=True)[1], legal != home, s_merchant))
    sites = sites.take(pa.array(order))
    s_merchant = s_merchant[order]
    block_merchant, start = np.unique(s_merchant, return_index=True)
    end = np.r_[start[1:], s_merchant.size]
    tier = np.array([TIER_INDEX[t] for t in _texts(merchants, "size_tier")], dtype=np.int64)
    weight, profile = geo.site_weights(seed, block_merchant, start, end, tier[np.searchsorted(m_ids, block_merchant)], cfg)
    labels = np.array(("single_site",) + geo.PROFILES, dtype=object)
    out = pa.table({
        "site_id": sites.column("site_id"),
        "merchant_id": sites.column("merchant_id"),
        "legal_country_iso": sites.column("legal_country_iso"),
        "site_order": sites.column("site_order"),
        "tzid": sites.column("tzid"),
        "p_weight": pa.array(weight, pa.float64()),
        "weight_source": pa.array(labels[profile + 1].tolist(), pa.string()),
    })
    return _sorted(out, ["merchant_id", "legal_country_iso", "site_order"])


def edges_table(seed, classification: pa.Table, merchants: pa.Table, cdn: pa.Table, countries: pa.Table,
                tzids: pa.Table, anchors: pa.Table, cfg) -> pa.Table:
    geo_map, isos, tz_names = geography(countries, tzids, anchors)
    virtual = _sorted(classification.filter(pc.field("is_virtual")), ["merchant_id"])
    v_ids = column(virtual, "merchant_id")
    merchants = _sorted(merchants, ["merchant_id"])
    m_ids = column(merchants, "merchant_id")
    tier = np.array([TIER_INDEX[t] for t in _texts(merchants, "size_tier")], dtype=np.int64)[np.searchsorted(m_ids, v_ids)]
    n_edges = np.clip(int(cfg["edges_base"]) * 2 ** tier, int(cfg["edges_min"]), int(cfg["edges_max"]))
    cdn = _sorted(cdn.filter(pc.is_in(cdn.column("country_iso"), pa.array(isos))), ["country_iso"])
    if cdn.num_rows == 0:
        raise ValueError("no CDN country (world_cdn_countries) is among the preset's countries")
    merchant, seq, country, tz, lat, lon, weight = geo.build_edges(
        seed, v_ids, n_edges, _index(_texts(cdn, "country_iso"), isos, "CDN country"), column(cdn, "edge_weight"),
        geo_map, cfg["edge_jitter_deg"], cfg["edge_zipf_alpha"])
    return pa.table({
        "edge_id": pa.array(geo.low63_sha256([f"edge:{m}:{s}" for m, s in zip(merchant.tolist(), seq.tolist())]), pa.int64()),
        "merchant_id": pa.array(merchant, pa.int64()),
        "edge_seq_index": pa.array(seq, pa.int32()),
        "country_iso": pa.array([isos[c] for c in country], pa.string()),
        "tzid_operational": pa.array([tz_names[t] for t in tz], pa.string()),
        "lat_deg": pa.array(lat, pa.float64()),
        "lon_deg": pa.array(lon, pa.float64()),
        "edge_weight": pa.array(weight, pa.float64()),
    })
