"""6B S1 candidates: the entity graph as the flat structures the attachment walk reads.

`attachment_tables` turns parties, accounts, instruments, devices and their links into CSR
slices with one weight column per channel (party pools per country and channel, each party's
instruments and devices, IPs per device, terminals per site); `attachment_params` turns the
attachment and session policy into numbers. Numpy only, no per-row Python.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from python_kernels.core import rng
from python_kernels.core.arrow import codes, column
from python_kernels.core.geodesy import haversine_km
from python_kernels.core.policies import policy_lookup
from python_kernels.core.vocabulary import CHANNELS, NO_TIME

K = len(CHANNELS)


def _csr(owner: np.ndarray, n_owners: int) -> np.ndarray:
    """Offsets of rows already sorted by owner index."""
    return np.searchsorted(owner, np.arange(n_owners + 1)).astype(np.int64)


def attachment_tables(seed: int, countries: list, parties: pa.Table, segments: pa.Table, accounts: pa.Table,
                      instruments: pa.Table, devices: pa.Table, device_links: pa.Table, ip_links: pa.Table,
                      ips: pa.Table, sites: pa.Table, horizon_us: tuple[int, int], policy: dict) -> dict:
    att = policy["attachment"]
    party_id = column(parties, "party_id").astype(np.int64)
    order = np.argsort(party_id, kind="stable")
    parties = parties.take(pa.array(order))
    party_id = party_id[order]
    n_p = party_id.size
    country_of = {c: i for i, c in enumerate(countries)}
    c_code, c_labels = codes(parties, "country_iso")
    if any(c not in country_of for c in c_labels):
        raise ValueError("a party lives in a country outside the world's country list")
    party_country = np.array([country_of[c] for c in c_labels], np.int64)[c_code]
    t_code, t_labels = codes(parties, "party_type")

    # party weight per channel: keyed activity x type multiplier x segment appetite
    seg_ids = segments.column("segment_id").to_pylist()
    s_code, s_labels = codes(parties, "segment_id")
    seg_row = np.array([seg_ids.index(s) for s in s_labels], np.int64)[s_code]
    feat = np.empty((n_p, K))
    for k, ch in enumerate(CHANNELS):
        f = column(segments, att["channel_feature"][ch]).astype(np.float64)[seg_row]
        feat[:, k] = np.maximum(f, att["channel_feature_floor"]) ** att["channel_feature_exponent"]
    cross = np.maximum(column(segments, "cross_border_propensity").astype(np.float64)[seg_row],
                       att["channel_feature_floor"])
    streams = rng.stream_keys(seed, "6B.s1.activity", party_id)
    z = rng.normals(streams, 0)
    sigma = att["activity_sigma"]
    activity = np.exp(sigma * z - 0.5 * sigma * sigma)
    type_mult = policy_lookup(att["party_type_channel_mult"], t_labels, "party_type_channel_mult")[t_code]

    # instruments: one candidate per (party, instrument), weight = ledger x kind preference
    acc_id = column(accounts, "account_id").astype(np.int64)
    acc_order = np.argsort(acc_id)
    l_code, l_labels = codes(accounts, "ledger_class")
    ins_acc = column(instruments, "account_id").astype(np.int64)
    pos = acc_order[np.searchsorted(acc_id[acc_order], ins_acc)]
    if not np.array_equal(acc_id[pos], ins_acc):
        raise ValueError("an instrument references an unknown account")
    ins_owner = np.searchsorted(party_id, column(instruments, "owner_party_id").astype(np.int64))
    ins_id = column(instruments, "instrument_id").astype(np.int64)
    ins_sort = np.lexsort((ins_id, ins_owner))
    ins_owner, ins_id, pos = ins_owner[ins_sort], ins_id[ins_sort], pos[ins_sort]
    k_code, k_labels = codes(instruments, "instrument_kind")
    kind_w = np.array([[att["instrument_kind_weight"][ch][x] for ch in CHANNELS] for x in k_labels]).reshape(-1, K)
    ledger_w = np.zeros((len(t_labels), len(l_labels), K))
    for ti, pt in enumerate(t_labels):
        for li, lc in enumerate(l_labels):
            ledger_w[ti, li] = [att["ledger_weight"][pt][ch][lc] for ch in CHANNELS]
    inst_w = ledger_w[t_code[ins_owner], l_code[pos]] * kind_w[k_code[ins_sort]]
    inst_ptr = _csr(ins_owner, n_p)
    eligible = np.zeros((n_p, K))
    np.add.at(eligible, ins_owner, inst_w)
    party_weight = activity[:, None] * type_mult * feat * (eligible > 0)

    # devices: every device by id; customer devices per party with a weight per channel
    dev_id = column(devices, "device_id").astype(np.int64)
    dev_order = np.argsort(dev_id)
    dev_sorted = dev_id[dev_order]
    d_code, d_labels = codes(devices, "device_type")
    dev_type = d_code[dev_order]
    # when each identity is in use: from its renewal (else ever) until the next (else for ever)
    bound = lambda name, fill: np.asarray(devices.column(name).cast(pa.int64()).fill_null(fill)  # noqa: E731
                                          .to_numpy(), np.int64)[dev_order]
    dev_from, dev_until = bound("active_from_utc", NO_TIME), bound("active_until_utc", -NO_TIME - 1)

    il_dev_ok = ip_links.filter(pa.compute.is_valid(ip_links.column("device_id")))
    il_dev = np.searchsorted(dev_sorted, column(il_dev_ok, "device_id").astype(np.int64))
    il_ip = column(il_dev_ok, "ip_id").astype(np.int64)
    r_code, r_labels = codes(il_dev_ok, "link_role")
    il_w = policy_lookup(att["ip_role_weight"], r_labels, "ip_role_weight")[r_code]
    # a link on a mobile carrier's IP: the carrier's country (its pool of addresses), else -1
    ip_world = _ip_world(ips, countries)
    at = np.searchsorted(ip_world["id"], il_ip)
    il_carrier = np.where(ip_world["type"][at] == "MOBILE", ip_world["country"][at], -1)
    il_tunnel = ip_world["type"][at] == "VPN_PROXY"
    ip_sort = np.lexsort((il_ip, il_dev))
    keep = ip_sort[il_w[ip_sort] > 0]
    il_dev, il_ip, il_w, il_carrier, il_tunnel = il_dev[keep], il_ip[keep], il_w[keep], il_carrier[keep], il_tunnel[keep]
    ip_ptr = _csr(il_dev, dev_sorted.size)
    has_ip = ip_ptr[1:] > ip_ptr[:-1]

    dl = device_links.filter(pa.compute.is_in(device_links.column("link_role"),
                                              value_set=pa.array(list(att["device_role_weight"]))))
    dl_party = np.searchsorted(party_id, column(dl, "party_id").astype(np.int64))
    dl_dev = np.searchsorted(dev_sorted, column(dl, "device_id").astype(np.int64))
    dr_code, dr_labels = codes(dl, "link_role")
    role_w = policy_lookup(att["device_role_weight"], dr_labels, "device_role_weight")[dr_code]
    type_w = np.array([[att["device_type_weight"][ch].get(x, 0.0) for ch in CHANNELS] for x in d_labels]).reshape(-1, K)
    ok = has_ip[dl_dev]
    dl_party, dl_dev, role_w = dl_party[ok], dl_dev[ok], role_w[ok]
    dsort = np.lexsort((dev_sorted[dl_dev], dl_party))
    dl_party, dl_dev, role_w = dl_party[dsort], dl_dev[dsort], role_w[dsort]
    dev_w = type_w[dev_type[dl_dev]] * role_w[:, None]
    dev_ptr = _csr(dl_party, n_p)
    if np.any(dev_ptr[1:] == dev_ptr[:-1]):
        raise ValueError("a party has no device with an IP (the world graph must connect every party)")

    # terminals per site (device indices), only those with an IP
    site_col = devices.column("site_id").combine_chunks().take(pa.array(dev_order))
    is_term = np.asarray(site_col.is_valid().to_numpy(zero_copy_only=False)) & has_ip
    term_idx = np.flatnonzero(is_term)
    term_site = np.asarray(site_col.fill_null(0).to_numpy(zero_copy_only=False), np.int64)[term_idx]
    site_ids = np.unique(term_site)
    ts_order = np.lexsort((dev_sorted[term_idx], term_site))
    term_dev = term_idx[ts_order]
    term_ptr = _csr(np.searchsorted(site_ids, term_site[ts_order]), site_ids.size)

    # pools: home (country, channel) then one foreign pool per channel, cumulative weights
    n_c = len(countries)
    ptr = [0]
    members, weights = [], []
    for c in range(n_c):
        in_c = np.flatnonzero(party_country == c)
        for k in range(K):
            sel = in_c[party_weight[in_c, k] > 0]
            members.append(sel)
            weights.append(party_weight[sel, k])
            ptr.append(ptr[-1] + sel.size)
    for k in range(K):
        sel = np.flatnonzero(party_weight[:, k] > 0)
        members.append(sel)
        weights.append(party_weight[sel, k] * cross[sel])
        ptr.append(ptr[-1] + sel.size)
    for k, ch in enumerate(CHANNELS):
        if ptr[n_c * K + k + 1] == ptr[n_c * K + k]:
            raise ValueError(f"no party can make {ch} payments (check attachment weights in attachment.yaml)")

    locality = _locality(parties, party_weight, sites, policy["locality"])
    trips = _trips(seed, party_id, party_country, cross, countries, horizon_us, policy["trips"])
    return {
        **locality, **trips,
        **_domestic_trips(seed, party_id, party_country, locality, trips, horizon_us, policy["trips"]["domestic"]),
        "n_countries": n_c,
        "party_id": party_id, "party_country": party_country, "party_weight": np.ascontiguousarray(party_weight),
        "pool_ptr": np.array(ptr, np.int64), "pool_party": np.concatenate(members).astype(np.int64),
        "pool_cum": np.cumsum(np.concatenate(weights)),
        "inst_ptr": inst_ptr, "inst_w": np.ascontiguousarray(inst_w), "inst_id": ins_id, "inst_account": acc_id[pos],
        "dev_ptr": dev_ptr, "dev_w": np.ascontiguousarray(dev_w), "dev_cand": dl_dev.astype(np.int64),
        "device_id": dev_sorted, "dev_from": dev_from, "dev_until": dev_until,
        "ip_ptr": ip_ptr, "ip_cum": np.cumsum(il_w), "ip_carrier": il_carrier, "ip_tunnel": il_tunnel,
        **_ip_pools(il_ip, ip_world, len(countries), policy["trips"]["local_ip_types"]),
        "site_ids": site_ids, "term_ptr": term_ptr, "term_dev": term_dev.astype(np.int64),
    }


def _locality(parties: pa.Table, party_weight: np.ndarray, sites: pa.Table, loc: dict) -> dict:
    """Homes in grid cells (parties per cell with cumulative weights per channel) and, for every
    site, the cells around it (the 3 x 3 block of its own) weighted by their parties' weight x
    exp(-km from the site to the cell's mean home / decay_km). `parties` is in party index order."""
    step = float(loc["cell_deg"])
    n_cols = int(np.ceil(360.0 / step))
    lat = column(parties, "home_lat_deg").astype(np.float64)
    lon = column(parties, "home_lon_deg").astype(np.float64)
    row_of = lambda la: np.floor((la + 90.0) / step).astype(np.int64)  # noqa: E731
    col_of = lambda lo: np.floor((lo + 180.0) / step).astype(np.int64) % n_cols  # noqa: E731
    cells, cell_of = np.unique(row_of(lat) * n_cols + col_of(lon), return_inverse=True)
    order = np.lexsort((np.arange(lat.size), cell_of))
    cell_ptr = _csr(cell_of[order], cells.size)
    cell_cum = np.cumsum(party_weight[order].T, axis=1)
    per_cell = np.bincount(cell_of, minlength=cells.size)
    c_lat = np.bincount(cell_of, lat, cells.size) / per_cell
    c_lon = np.bincount(cell_of, lon, cells.size) / per_cell  # cells are narrow: no wrap at this scale
    c_weight = np.stack([np.bincount(cell_of, party_weight[:, k], cells.size) for k in range(K)])

    site_id = column(sites, "site_id").astype(np.int64)
    s_order = np.argsort(site_id)
    site_id = site_id[s_order]
    s_lat = column(sites, "lat_deg").astype(np.float64)[s_order]
    s_lon = column(sites, "lon_deg").astype(np.float64)[s_order]
    s_row, s_col = row_of(s_lat), col_of(s_lon)
    keys = np.stack([(s_row + dr) * n_cols + (s_col + dc) % n_cols for dr in (-1, 0, 1) for dc in (-1, 0, 1)], axis=1)
    pos = np.minimum(np.searchsorted(cells, keys), cells.size - 1)
    found = cells[pos] == keys
    site_of = np.broadcast_to(np.arange(site_id.size)[:, None], keys.shape)[found]
    near_cell = pos[found]
    decay = np.exp(-haversine_km(s_lat[site_of], s_lon[site_of], c_lat[near_cell], c_lon[near_cell]) / float(loc["decay_km"]))
    return {
        "loc_site_ids": site_id, "loc_lat": s_lat, "loc_lon": s_lon,
        "near_ptr": _csr(site_of, site_id.size), "near_cell": near_cell.astype(np.int64),
        "near_cum": np.ascontiguousarray(np.cumsum(c_weight[:, near_cell] * decay[None, :], axis=1)),
        "cell_ptr": cell_ptr, "cell_party": order.astype(np.int64), "cell_cum": np.ascontiguousarray(cell_cum),
        "home_cell": cell_of.astype(np.int64), "home_lat": lat, "home_lon": lon,
    }


def _ip_world(ips: pa.Table, countries: list) -> dict:
    """The world's IPs by id: type and country index (-1 outside the countries)."""
    ips = ips.sort_by("ip_id")
    c_code, c_labels = codes(ips, "country_iso")
    t_code, t_labels = codes(ips, "ip_type")
    return {"id": column(ips, "ip_id").astype(np.int64), "type": np.array(t_labels, dtype=object)[t_code],
            "country": np.array([countries.index(c) if c in countries else -1 for c in c_labels], np.int64)[c_code]}


def _ip_pools(il_ip: np.ndarray, ip_world: dict, n_countries: int, trip_types: list) -> dict:
    """IPs beyond a device's links: per country, the networks a traveller's device may take there
    (trip_types) and the mobile carriers' addresses. "ip_id" holds the links' IPs, then the trip
    IPs, then the carrier IPs; trip_ip_ptr and carrier_ip_ptr slice their positions per country."""
    out, ids, base = {}, [il_ip], il_ip.size
    for name, types in (("trip_ip_ptr", trip_types), ("carrier_ip_ptr", ["MOBILE"])):
        ok = np.isin(ip_world["type"], types) & (ip_world["country"] >= 0)
        order = np.lexsort((ip_world["id"][ok], ip_world["country"][ok]))
        out[name] = base + _csr(ip_world["country"][ok][order], n_countries)
        ids.append(ip_world["id"][ok][order])
        base += int(ok.sum())
    return {"ip_id": np.concatenate(ids), **out}


def _trip_windows(s, c_start: int, c_days: int, trips: dict, horizon_us):
    """Per stream: a trip of lognormal days (median_days, sigma; one to max_days) whose start is
    uniform over the instants that make it overlap the horizon. Returns start, duration and the
    longest duration (us); counters c_start and c_days, c_days + 1."""
    day = 86_400_000_000
    max_us = int(trips["max_days"] * day)
    days = np.exp(np.log(trips["median_days"]) + trips["sigma"] * rng.normals(s, c_days))
    dur = np.clip(np.round(days * day), day, max_us).astype(np.int64)
    lo, hi = horizon_us
    return (lo - dur + np.floor(rng.uniforms(s, c_start) * (hi - lo + dur))).astype(np.int64), dur, max_us


def _trips(seed, party_id, party_country, cross, countries: list, horizon_us, trips: dict) -> dict:
    """Who travels abroad during the horizon, when and where. Party i travels with P = p_abroad x
    its cross-border propensity / the mean one (at most 1), in a window of lognormal days that
    overlaps the horizon, to a country drawn by destination_weight (a draw of its own country is
    drawn again, twice at most, then it stays home). Stream (seed, "6B.s1.trip", party id):
    counter 0 the coin, 1 the start, 2-3 the duration, 4-6 the destination draws."""
    n = party_id.size
    s = rng.stream_keys(seed, "6B.s1.trip", party_id)
    p = np.minimum(trips["p_abroad"] * cross / max(cross.mean(), 1e-12), 1.0) if n else np.zeros(0)
    start, dur, max_us = _trip_windows(s, 1, 2, trips, horizon_us)
    w = np.array([trips["destination_weight"].get(c, 0.0) for c in countries], np.float64)
    dest = np.full(n, -1, np.int64)
    if w.sum() > 0:
        cum = np.cumsum(w) / w.sum()
        for ctr in (4, 5, 6):
            todo = dest < 0
            pick = np.minimum(np.searchsorted(cum, rng.uniforms(s[todo], ctr), side="right"), len(countries) - 1)
            dest[np.flatnonzero(todo)[pick != party_country[todo]]] = pick[pick != party_country[todo]]
    go = (rng.uniforms(s, 0) < p) & (dest >= 0)
    who = np.flatnonzero(go)
    order = who[np.lexsort((who, start[who], dest[who]))]
    return {
        "trip_ptr": np.searchsorted(dest[order], np.arange(len(countries) + 1)).astype(np.int64),
        "trip_party": order.astype(np.int64), "trip_start": start[order], "trip_end": start[order] + dur[order],
        "trip_max_us": max_us,
        "away_dest": np.where(go, dest, -1), "away_start": np.where(go, start, 0), "away_end": np.where(go, start + dur, 0),
    }


def _domestic_trips(seed, party_id, party_country, homes: dict, abroad: dict, horizon_us, dom: dict) -> dict:
    """Who travels within their own country, when and where. Party i takes a trip with P = p_trip,
    in a window of lognormal days that overlaps the horizon, to the home of a party of its country
    drawn uniformly (destinations go where people live) that lies at least min_km from its own
    home (three draws, else it stays home); a trip that would overlap its trip abroad is not taken.
    Trips come indexed by the destination's home cell, by start. Stream (seed, "6B.s1.trip", party
    id): counter 7 the coin, 8 the start, 9-10 the duration, 11-13 the destination draws."""
    n = party_id.size
    s = rng.stream_keys(seed, "6B.s1.trip", party_id)
    start, dur, max_us = _trip_windows(s, 8, 9, dom, horizon_us)
    lat, lon, home_cell = homes["home_lat"], homes["home_lon"], homes["home_cell"]
    by_country = np.argsort(party_country, kind="stable")
    c_ptr = _csr(party_country[by_country], int(party_country.max()) + 1 if n else 0)
    size = c_ptr[party_country + 1] - c_ptr[party_country] if n else np.zeros(0, np.int64)
    dest = np.full(n, -1, np.int64)
    for ctr in (11, 12, 13):
        todo = np.flatnonzero(dest < 0)
        pick = by_country[c_ptr[party_country[todo]] + np.minimum(
            np.floor(rng.uniforms(s[todo], ctr) * size[todo]).astype(np.int64), size[todo] - 1)]
        far = haversine_km(lat[todo], lon[todo], lat[pick], lon[pick]) >= dom["min_km"]
        dest[todo[far]] = pick[far]
    overlaps = (abroad["away_dest"] >= 0) & (start < abroad["away_end"]) & (abroad["away_start"] < start + dur)
    go = (rng.uniforms(s, 7) < dom["p_trip"]) & (dest >= 0) & ~overlaps
    who = np.flatnonzero(go)
    cell = home_cell[dest[who]]
    order = np.lexsort((who, start[who], cell))
    who, cell = who[order], cell[order]
    at = np.where(go, dest, 0)
    return {
        "dtrip_ptr": np.searchsorted(cell, np.arange(home_cell.max() + 2 if n else 1)).astype(np.int64),
        "dtrip_party": who.astype(np.int64), "dtrip_start": start[who], "dtrip_end": start[who] + dur[who],
        "dtrip_max_us": max_us,
        "dom_start": np.where(go, start, 0), "dom_end": np.where(go, start + dur, 0),
        "dom_lat": np.where(go, lat[at], 0.0), "dom_lon": np.where(go, lon[at], 0.0),
    }


def attachment_params(policy: dict) -> dict:
    att, ses = policy["attachment"], policy["sessions"]
    per = lambda m: np.array([m[ch] for ch in CHANNELS], np.float64)  # noqa: E731
    return {
        "p_follow": per(ses["p_follow_up"]), "p_home": per(att["p_home_by_channel"]),
        "p_terminal": per(att["p_terminal"]), "p_same_instrument": float(ses["p_same_instrument"]),
        "gap_us": int(round(ses["inactivity_gap_seconds"] * 1e6)),
        "span_us": int(round(ses["max_session_seconds"] * 1e6)),
        "max_arrivals": int(ses["max_arrivals"]), "ring_size": int(ses["open_sessions_per_country"]),
        "in_person": np.array([ch in policy["locality"]["in_person_channels"] for ch in CHANNELS], np.bool_),
        "tries": int(policy["locality"]["tries"]), "min_km": float(policy["locality"]["min_km"]),
        "max_kmh": float(policy["locality"]["max_kmh"]), "p_local_ip": float(policy["trips"]["p_local_ip"]),
        "stay_km": float(policy["trips"]["domestic"]["stay_km"]),
        "p_visitor": float(policy["trips"]["domestic"]["p_visitor"]),
        "p_carrier_churn": float(att["p_mobile_ip_churn"]),
    }
