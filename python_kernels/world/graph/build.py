"""Orchestration of the 6A models: dbt inputs (Arrow tables, policies) -> kernel arrays -> Arrow tables.

Each `build_*` function serves one dbt Python model. Small seed tables are read whole;
entity tables go through integer codes (no per-row Python). Vocabularies are sorted, so
integer codes, and with them every keyed draw, do not depend on input row order. Kernels
number entities densely in the order they draw them; each table publishes opaque ids instead
(`core.ids`), and later builds read those.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from python_kernels.core.arrow import codes, column
from python_kernels.core.ids import opaque_ranks
from python_kernels.core.policies import horizon_us
from python_kernels.world.geo import place_homes
from python_kernels.world.geo_tables import geography
from python_kernels.world.graph import devices as dev_k
from python_kernels.world.graph import ips as ip_k
from python_kernels.world.graph import population, products
from python_kernels.world.graph.config import (ACCOUNT_ID_BASE, DEVICE_ID_BASE, ID_RANGE, INSTRUMENT_ID_BASE,
                                               IP_ID_BASE, LINK_ROLES, PARTY_ID_BASE, PARTY_TYPES)

PROFILE = ("income_score", "digital_affinity", "cash_affinity", "cross_border_propensity", "credit_appetite",
           "stability_score", "business_size_score")


def lookup(table: pa.Table, name: str, vocabulary) -> np.ndarray:
    """Index of each row's value in `vocabulary`; unknown values are an error naming them."""
    idx, labels = codes(table, name)
    pos = {v: i for i, v in enumerate(vocabulary)}
    missing = sorted({str(v) for v in labels if v not in pos})
    if missing:
        raise ValueError(f"column {name}: values {missing[:5]} are not in the expected vocabulary")
    return np.array([pos[v] for v in labels], dtype=np.int64)[idx] if labels else idx


def labels_at(labels, idx) -> pa.Array:
    """Text column labels[idx], built through a dictionary (no per-row Python strings)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(idx, np.int32)), pa.array(list(labels), pa.string())).cast(pa.string())


def rows(table: pa.Table, key: str) -> list[dict]:
    """A small table as dicts sorted by `key` (a tuple of columns joined by '|' sorts the same)."""
    return sorted(table.to_pylist(), key=lambda r: tuple(r[k] for k in key.split("|")))


def _opaque(ctx, kind: str, dense_ids: np.ndarray, base: int) -> np.ndarray:
    """Published ids of internal ids base + 0..n-1 (repeats allowed): base + their keyed rank."""
    internal = np.asarray(dense_ids, np.int64) - base
    n = int(internal.max()) + 1 if internal.size else 0
    return base + opaque_ranks(ctx.seed, f"6A.ids.{kind}", n)[internal]


def _segments(seg_table):
    segs = rows(seg_table, "segment_id")
    names = [s["segment_id"] for s in segs]
    ptype = np.array([PARTY_TYPES.index(s["party_type"]) for s in segs], np.int64)
    profile = np.array([[s[p] for p in PROFILE] for s in segs], np.float64)
    return names, ptype, profile


def _horizon_hours(preset) -> float:
    lo, hi = horizon_us(preset)
    return (hi - lo) / 3.6e9


# ---- S1 parties ------------------------------------------------------------------------

def build_parties(ctx, countries, sites, tzids, anchors, seg_table, region_types, region_segments) -> pa.Table:
    pop = ctx.policies["graph"]["population"]
    ctry = rows(countries, "country_iso")
    isos = [c["country_iso"] for c in ctry]
    regions = sorted({r["region_id"] for r in region_types.to_pylist()})
    c_region = np.array([regions.index(c["region_id"]) for c in ctry], np.int64)
    site_counts = np.bincount(lookup(sites, "legal_country_iso", isos), minlength=len(isos))
    n = population.party_count(ctx.preset["arrivals_target"], _horizon_hours(ctx.preset), pop)
    counts = population.country_counts(site_counts, [c["population_weight"] for c in ctry], n, pop)

    seg_names, seg_type, _ = _segments(seg_table)
    type_w = np.zeros((len(regions), len(PARTY_TYPES)))
    for r in region_types.to_pylist():
        type_w[regions.index(r["region_id"]), PARTY_TYPES.index(r["party_type"])] = r["share"]
    seg_w = np.zeros((len(regions), len(PARTY_TYPES), len(seg_names)))
    for r in region_segments.to_pylist():
        s = seg_names.index(r["segment_id"])
        seg_w[regions.index(r["region_id"]), seg_type[s], s] = r["share"]

    tz = [t for t in rows(tzids, "country_iso|tzid") if t["country_iso"] in set(isos)]
    tz_offsets = np.searchsorted([t["country_iso"] for t in tz], isos + ["\uffff"])
    hh = pop["household_size"]
    hh_w = [hh.get(str(k), 0.0) for k in range(1, 7)]

    country, ptype, seg, tzi, head, hh_size = population.draw_parties(
        ctx.seed, counts, c_region, type_w, seg_w, tz_offsets, [t["population_share"] for t in tz], hh_w)
    internal = PARTY_ID_BASE + np.arange(country.size, dtype=np.int64)
    ids = _opaque(ctx, "party", internal, PARTY_ID_BASE)
    # the home: around a city anchor of the party's tzid, as the sites that serve it are
    geo_map, _, tz_names = geography(countries, tzids, anchors)
    if tz_names != [t["tzid"] for t in tz]:
        raise ValueError("party tzids and the world geography disagree on the tzid order")
    home_lat, home_lon = place_homes(ctx.seed, internal[head], tzi, geo_map, pop["home_jitter_deg"])  # one per household
    return pa.table({
        "party_id": pa.array(ids, pa.int64()),
        "party_type": labels_at(PARTY_TYPES, ptype),
        "segment_id": labels_at(seg_names, seg),
        "country_iso": labels_at(isos, country),
        "region_id": labels_at([c["region_id"] for c in ctry], country),
        "tzid": labels_at([t["tzid"] for t in tz], tzi),
        "household_id": pa.array(ids[head], pa.int64()),
        "household_size": pa.array(hh_size.astype(np.int32), pa.int32()),
        "home_lat_deg": pa.array(home_lat, pa.float64()),
        "home_lon_deg": pa.array(home_lon, pa.float64()),
    })


def _party_arrays(parties, seg_table):
    seg_names, _, profile = _segments(seg_table)
    seg = lookup(parties, "segment_id", seg_names)
    return {
        "id": column(parties, "party_id").astype(np.int64),
        "type": lookup(parties, "party_type", PARTY_TYPES),
        "seg": seg,
        "profile": profile,
        "digital": profile[seg, PROFILE.index("digital_affinity")],
    }


def _sorted_by_id(table: pa.Table, key: str) -> pa.Table:
    ids = column(table, key)
    return table if np.all(np.diff(ids) > 0) else table.take(np.argsort(ids, kind="stable"))


# ---- S2 accounts -------------------------------------------------------------------------

def build_accounts(ctx, parties, seg_table, acc_types, countries) -> pa.Table:
    pol = ctx.policies["graph"]["accounts"]
    parties = _sorted_by_id(parties, "party_id")
    p = _party_arrays(parties, seg_table)
    at = rows(acc_types, "account_type")
    feat = np.array([p["profile"][:, PROFILE.index(a["tilt_feature"])] for a in at])        # [type, segment]
    p_hold = products.tilted_probability(np.array([[a["p_hold"]] for a in at]), feat,
                                         np.array([[a["tilt_coef"]] for a in at]), pol["tilt_clip"])
    ids, owner, acc_type = products.draw_accounts(
        ctx.seed, p["id"], p["type"], p["seg"], [PARTY_TYPES.index(a["party_type"]) for a in at], p_hold,
        [a["extra_lambda"] for a in at], [a["max_count"] for a in at], [a["is_required"] for a in at],
        pol["max_per_party"])
    ctry = rows(countries, "country_iso")
    isos = [c["country_iso"] for c in ctry]
    p_country = lookup(parties, "country_iso", isos)[owner]
    return pa.table({
        "account_id": pa.array(_opaque(ctx, "account", ids, ACCOUNT_ID_BASE), pa.int64()),
        "owner_party_id": pa.array(p["id"][owner], pa.int64()),
        "account_type": labels_at([a["account_type"] for a in at], acc_type),
        "account_group": labels_at([a["account_group"] for a in at], acc_type),
        "ledger_class": labels_at([a["ledger_class"] for a in at], acc_type),
        "country_iso": labels_at(isos, p_country),
        "currency_code": labels_at([c["currency_code"] for c in ctry], p_country),
    })


# ---- S3 instruments ----------------------------------------------------------------------

def build_instruments(ctx, accounts, parties, seg_table, acc_types, ins_types, ins_mix, schemes) -> pa.Table:
    pol = ctx.policies["graph"]["instruments"]
    parties = _sorted_by_id(parties, "party_id")
    accounts = _sorted_by_id(accounts, "account_id")
    p = _party_arrays(parties, seg_table)
    at = rows(acc_types, "account_type")
    it = rows(ins_types, "instrument_type")
    at_names, it_names = [a["account_type"] for a in at], [t["instrument_type"] for t in it]
    owner = np.searchsorted(p["id"], column(accounts, "owner_party_id"))
    families = sorted({t["scheme_family"] for t in it})
    regions = sorted({r["region_id"] for r in schemes.to_pylist()})
    scheme_names = sorted({r["scheme"] for r in schemes.to_pylist()})

    base = np.zeros((len(at), len(it)))
    for r in ins_mix.to_pylist():
        base[at_names.index(r["account_type"]), it_names.index(r["instrument_type"])] = r["share"]
    tilt = np.array([t["digital_tilt"] for t in it]) * pol["digital_tilt_scale"]
    dig = (p["profile"][:, PROFILE.index("digital_affinity")] - 0.5) * 2.0                  # [segment]
    mix = base[:, None, :] * np.exp(tilt[None, None, :] * dig[None, :, None])                # [acc, seg, ins]
    sch = np.zeros((len(families), len(regions), len(scheme_names)))
    for r in schemes.to_pylist():
        sch[families.index(r["scheme_family"]), regions.index(r["region_id"]), scheme_names.index(r["scheme"])] = r["share"]

    region = lookup(parties, "region_id", regions)
    ids, acc_row, ins_type, scheme = products.draw_instruments(
        ctx.seed, column(accounts, "account_id"), lookup(accounts, "account_type", at_names), p["seg"][owner],
        region[owner], [a["instruments_lambda"] for a in at], pol["max_per_account"], mix,
        [families.index(t["scheme_family"]) for t in it], sch)
    return pa.table({
        "instrument_id": pa.array(_opaque(ctx, "instrument", ids, INSTRUMENT_ID_BASE), pa.int64()),
        "account_id": pa.array(column(accounts, "account_id")[acc_row], pa.int64()),
        "owner_party_id": pa.array(column(accounts, "owner_party_id")[acc_row], pa.int64()),
        "instrument_type": labels_at(it_names, ins_type),
        "instrument_kind": labels_at([t["instrument_kind"] for t in it], ins_type),
        "scheme": labels_at(scheme_names, scheme),
        "is_card": pa.array(np.array([t["is_card"] for t in it], np.bool_)[ins_type]),
        "is_virtual": pa.array(np.array([t["is_virtual"] for t in it], np.bool_)[ins_type]),
    })


# ---- S4 devices --------------------------------------------------------------------------

def build_devices(ctx, parties, seg_table, dev_types, dev_mix, dev_os, merchants, sites, mccs) -> pa.Table:
    pol = ctx.policies["graph"]["devices"]
    parties = _sorted_by_id(parties, "party_id")
    p = _party_arrays(parties, seg_table)
    dt = rows(dev_types, "device_type")
    dt_names = [d["device_type"] for d in dt]
    os_names = sorted({r["os_family"] for r in dev_os.to_pylist()})
    type_w = np.zeros((len(PARTY_TYPES), len(dt)))
    for r in dev_mix.to_pylist():
        type_w[PARTY_TYPES.index(r["party_type"]), dt_names.index(r["device_type"])] = r["share"]
    os_w = np.zeros((len(dt), len(os_names)))
    for r in dev_os.to_pylist():
        os_w[dt_names.index(r["device_type"]), os_names.index(r["os_family"])] = r["share"]
    hh_size = column(parties, "household_size").astype(np.int64)
    owner, d_type, d_os, shared = dev_k.draw_party_devices(
        ctx.seed, p["id"], p["type"], p["digital"], hh_size, [pol["extra_per_party"][t] for t in PARTY_TYPES],
        pol["digital_tilt"], pol["max_per_party"], type_w, os_w, [d["p_household_shared"] for d in dt])
    unknown = sorted(set(pol["renewals_per_year"]) - set(dt_names))
    if unknown:
        raise ValueError(f"graph.devices.renewals_per_year: {', '.join(unknown)} not device types ({', '.join(dt_names)})")
    rate = np.array([pol["renewals_per_year"].get(name, 0.0) for name in dt_names])[d_type]
    src, active_from, active_until = dev_k.draw_renewals(ctx.seed, p["id"][owner], rate, horizon_us(ctx.preset),
                                                         pol["max_renewals"])
    owner, d_type, d_os, shared = owner[src], d_type[src], d_os[src], shared[src]

    # terminals at the physical sites of merchants that take cards in person
    m = rows(merchants, "merchant_id")
    atm_mcc = {r["mcc"] for r in mccs.to_pylist() if r["is_atm"]}
    in_person = {r["merchant_id"]: r["mcc"] in atm_mcc for r in m if r["channel"] != "card_not_present"}
    s = rows(sites, "site_id")
    s = [r for r in s if r["merchant_id"] in in_person]
    site_atm = np.array([in_person[r["merchant_id"]] for r in s], np.bool_)
    pos, atm = dt_names.index("POS_TERMINAL"), dt_names.index("ATM")
    site_row, t_os = dev_k.draw_terminals(ctx.seed, [r["site_id"] for r in s], site_atm,
                                          [pol["terminals_per_site"].get(str(k), 0.0) for k in range(1, 7)],
                                          os_w[pos], os_w[atm])
    t_type = np.where(site_atm[site_row], atm, pos)

    n_p, n_t = owner.size, site_row.size
    if n_p + n_t >= ID_RANGE:
        raise ValueError("too many devices for the id range")
    isos = sorted(set(codes(parties, "country_iso")[1]) | {r["legal_country_iso"] for r in s})
    s_country = np.array([isos.index(r["legal_country_iso"]) for r in s], np.int64)
    country = np.concatenate([lookup(parties, "country_iso", isos)[owner], s_country[site_row]])
    dtype_all = np.concatenate([d_type, t_type])
    null_i64 = lambda values, valid: pa.array(values, pa.int64(), mask=~valid)  # noqa: E731
    is_party = np.arange(n_p + n_t) < n_p
    pad = lambda a, fill: np.concatenate([a, np.full(n_t, fill, a.dtype)])  # noqa: E731
    site_ids = np.array([r["site_id"] for r in s], np.int64)
    merch_ids = np.array([r["merchant_id"] for r in s], np.int64)
    return pa.table({
        "device_id": pa.array(_opaque(ctx, "device", DEVICE_ID_BASE + np.arange(n_p + n_t, dtype=np.int64),
                                      DEVICE_ID_BASE), pa.int64()),
        "device_type": labels_at(dt_names, dtype_all),
        "device_group": labels_at([d["device_group"] for d in dt], dtype_all),
        "os_family": labels_at(os_names, np.concatenate([d_os, t_os])),
        "primary_party_id": null_i64(pad(p["id"][owner], 0), is_party),
        "household_id": null_i64(pad(column(parties, "household_id")[owner], 0), is_party),
        "is_household_shared": pa.array(pad(shared, False)),
        "merchant_id": null_i64(np.concatenate([np.zeros(n_p, np.int64), merch_ids[site_row]]), ~is_party),
        "site_id": null_i64(np.concatenate([np.zeros(n_p, np.int64), site_ids[site_row]]), ~is_party),
        "home_country_iso": labels_at(isos, country),
        "active_from_utc": _instants(pad(active_from, -dev_k.NEVER)),
        "active_until_utc": _instants(pad(active_until, dev_k.NEVER)),
    })


def _instants(us: np.ndarray) -> pa.Array:
    """UTC microsecond instants; +-NEVER (no bound) as null."""
    bounded = np.abs(us) < dev_k.NEVER
    return pa.array(np.where(bounded, us, 0), pa.timestamp("us"), mask=~bounded)


# ---- S4 IP links ---------------------------------------------------------------------------

def _abroad_weights(abroad: dict, ip_types: list, isos: list) -> dict:
    """Per IP type: the share of its recent-login links abroad and the cumulative weights of the
    countries (of this world) they are in; a type without a country of this world stays home."""
    p = np.zeros(len(ip_types))
    w = np.zeros((len(ip_types), len(isos)))
    for name, spec in abroad.items():
        if name not in ip_types:
            raise ValueError(f"graph.ips.abroad: {name!r} is not an IP type ({', '.join(ip_types)})")
        t = ip_types.index(name)
        for iso, weight in spec["country_weight"].items():
            if iso in isos:
                w[t, isos.index(iso)] = weight
        p[t] = spec["p"] if w[t].sum() > 0 else 0.0
    return {"abroad_p": p, "abroad_cum": np.cumsum(w, axis=1)}


def build_ip_links(ctx, devices, parties, seg_table, dev_types, merchants, countries, ip_types, recent_mix) -> pa.Table:
    pol = ctx.policies["graph"]["ips"]
    devices = _sorted_by_id(devices, "device_id")
    parties = _sorted_by_id(parties, "party_id")
    p = _party_arrays(parties, seg_table)
    ctry = rows(countries, "country_iso")
    isos = [c["country_iso"] for c in ctry]
    regions = sorted({r["region_id"] for r in recent_mix.to_pylist()})
    c_region = np.array([regions.index(c["region_id"]) for c in ctry], np.int64)
    m = rows(merchants, "merchant_id")
    m_ids = np.array([r["merchant_id"] for r in m], np.int64)
    it = rows(ip_types, "ip_type")
    it_names = [t["ip_type"] for t in it]
    recent_w = np.zeros((len(regions), len(it)))
    for r in recent_mix.to_pylist():
        recent_w[regions.index(r["region_id"]), it_names.index(r["ip_type"])] = r["share"]

    owner_valid = devices.column("primary_party_id").is_valid().to_numpy(zero_copy_only=False)
    owner_id = devices.column("primary_party_id").fill_null(0).to_numpy()
    prow = np.where(owner_valid, np.searchsorted(p["id"], owner_id), 0)
    merch_valid = devices.column("merchant_id").is_valid().to_numpy(zero_copy_only=False)
    mrow = np.where(merch_valid, np.searchsorted(m_ids, devices.column("merchant_id").fill_null(0).to_numpy()), -1)
    dt = rows(dev_types, "device_type")
    d_type = lookup(devices, "device_type", [d["device_type"] for d in dt])
    mobile = np.array([d["is_mobile"] for d in dt], np.bool_)[d_type]
    server = np.array([d["device_group"] == "SERVER" for d in dt], np.bool_)[d_type]
    country = lookup(devices, "home_country_iso", isos)
    dv = {
        "id": column(devices, "device_id"),
        "party_type": np.where(owner_valid, p["type"][prow], -1),
        "is_mobile": mobile, "is_server": server, "country": country, "region": c_region[country],
        "household": devices.column("household_id").fill_null(-1).to_numpy(),
        "party_id": np.where(owner_valid, owner_id, -1),
        "digital": np.where(owner_valid, p["digital"][prow], 0.0),
        "merchant": mrow,
    }
    mer = {"id": m_ids, "country": np.array([isos.index(r["home_country_iso"]) for r in m], np.int64),
           "n_endpoints": ip_k.endpoint_counts(ctx.seed, m_ids, pol["merchant_endpoint_extra"])}
    ipt = {"mean_per_ip": [t["mean_devices_per_ip"] for t in it], "skew": [t["pool_skew"] for t in it],
           "is_public": [t["ip_group"] == "PUBLIC_SHARED" for t in it],
           **{k: it_names.index(v) for k, v in (("res", "RESIDENTIAL"), ("mob", "MOBILE"), ("corp", "CORPORATE"),
                                                ("dc", "DATACENTRE"), ("end", "MERCHANT_ENDPOINT"))},
           **_abroad_weights(pol["abroad"], it_names, isos)}
    out = ip_k.draw_ip_links(ctx.seed, dv, mer, ipt, recent_w, pol)
    has_dev = out["device"] >= 0
    drow = np.maximum(out["device"], 0)
    has_m = out["merchant"] >= 0
    party = dv["party_id"][drow]
    return pa.table({
        "ip_id": pa.array(_opaque(ctx, "ip", out["ip_id"], IP_ID_BASE), pa.int64()),
        "device_id": pa.array(dv["id"][drow], pa.int64(), mask=~has_dev),
        "party_id": pa.array(party, pa.int64(), mask=~has_dev | (party < 0)),
        "merchant_id": pa.array(m_ids[np.maximum(out["merchant"], 0)], pa.int64(), mask=~has_m),
        "link_role": labels_at(LINK_ROLES, out["role"]),
        "ip_type": labels_at(it_names, out["ip_type"]),
        "ip_group": labels_at([t["ip_group"] for t in it], out["ip_type"]),
        "asn_class": labels_at([t["asn_class"] for t in it], out["ip_type"]),
        "ip_country_iso": labels_at(isos, out["ip_country"]),
    })
