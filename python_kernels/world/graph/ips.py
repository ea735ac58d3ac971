"""6A.S4 IPs: every device's typical and recent-login IPs, pooled per (country, IP type).

Who gets what:
  * retail/other computers, tablets, IoT: the household's residential IP (one per household);
  * phones and wearables: a mobile-carrier IP, and the household IP with p_home_wifi;
  * business computers: one corporate NAT per business (drawn from the party's own stream);
    servers: a data-centre IP;
  * every customer device: Poisson(recent_mean * tilt) recent-login IPs (public Wi-Fi, hotel,
    campus, corporate, data-centre, VPN) from the region's mix; a VPN's exit or a hotel's network
    is abroad with the policy's share, in a country drawn by the policy's weights (`abroad`);
  * terminals: one of their merchant's endpoint IPs (1 + Poisson(extra) per merchant); endpoint
    IPs no terminal uses (card-not-present merchants) get a link row without a device.
Shared pools hold ceil(demand / mean_devices_per_ip) IPs; a link takes index floor(size * u^skew),
so low indexes carry many devices (carrier NATs, VPN exits). Device stream counters: 0 pool
draw of the typical IP, 1 home-Wi-Fi coin, 2 recent count, 3+2r type and 4+2r pool draw of
recent IP r; terminals use counter 0 for the endpoint. Every device gets at least one IP.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from python_kernels.core import rng
from python_kernels.world.graph.config import BUSINESS, ENDPOINT, ID_RANGE, IP_ID_BASE, RECENT, SHARED_WIFI, TYPICAL

U64 = np.uint64
MAX_ENDPOINTS = 64


@njit(cache=True)
def _links(seed, dom_dev, dom_party, dev_ids, party_type, is_mobile, is_server, region, household, party_key, digital,
           merchant, n_endpoints, recent_cum, is_public, t_res, t_mob, t_corp, t_dc, t_end, p_home_wifi, recent_mean,
           recent_tilt, max_recent, count_only, counts, o_dev, o_type, o_role, o_key, o_u):
    o = 0
    for d in range(dev_ids.shape[0]):
        s = rng.stream_key(seed, dom_dev, U64(dev_ids[d]))
        c = 0
        if merchant[d] >= 0:
            if not count_only:
                e = int(rng.uniform(s, U64(0)) * n_endpoints[merchant[d]])
                o_dev[o], o_type[o], o_role[o], o_key[o], o_u[o] = d, t_end, ENDPOINT, merchant[d] * MAX_ENDPOINTS + e, 0.0
                o += 1
            counts[d] = 1
            continue
        # typical IP(s)
        if is_server[d]:
            if not count_only:
                o_dev[o], o_type[o], o_role[o], o_key[o], o_u[o] = d, t_dc, TYPICAL, 0, rng.uniform(s, U64(0))
                o += 1
            c += 1
        elif is_mobile[d]:
            if not count_only:
                o_dev[o], o_type[o], o_role[o], o_key[o], o_u[o] = d, t_mob, TYPICAL, 0, rng.uniform(s, U64(0))
                o += 1
            c += 1
            if party_type[d] != BUSINESS and rng.uniform(s, U64(1)) < p_home_wifi:
                if not count_only:
                    o_dev[o], o_type[o], o_role[o], o_key[o], o_u[o] = d, t_res, TYPICAL, household[d], 0.0
                    o += 1
                c += 1
        elif party_type[d] == BUSINESS:
            if not count_only:
                ps = rng.stream_key(seed, dom_party, U64(party_key[d]))
                o_dev[o], o_type[o], o_role[o], o_key[o], o_u[o] = d, t_corp, TYPICAL, 0, rng.uniform(ps, U64(0))
                o += 1
            c += 1
        else:
            if not count_only:
                o_dev[o], o_type[o], o_role[o], o_key[o], o_u[o] = d, t_res, TYPICAL, household[d], 0.0
                o += 1
            c += 1
        # recent-login IPs
        lam = recent_mean * math.exp(recent_tilt * (digital[d] - 0.5) * 2.0)
        k = min(rng.poisson(s, U64(2), lam), max_recent)
        if not count_only:
            for r in range(k):
                t = rng.categorical(s, U64(3 + 2 * r), recent_cum[region[d]])
                role = SHARED_WIFI if is_public[t] else RECENT
                o_dev[o], o_type[o], o_role[o], o_key[o], o_u[o] = d, t, role, 0, rng.uniform(s, U64(4 + 2 * r))
                o += 1
        counts[d] = c + k


def endpoint_counts(seed, merchant_ids, extra, domain="int_graph_ip_links_6A.endpoints"):
    """Endpoint IPs per merchant: 1 + Poisson(extra), at most MAX_ENDPOINTS."""
    streams = rng.stream_keys(seed, domain, np.ascontiguousarray(merchant_ids, dtype=np.int64))
    return np.array([min(1 + rng.poisson(s, U64(0), extra), MAX_ENDPOINTS) for s in streams], dtype=np.int64)


def draw_ip_links(seed, devices: dict, merchants: dict, ip_types: dict, recent_weights, policy: dict,
                  domain="int_graph_ip_links_6A.links"):
    """Device-IP links and the IPs they use.

    devices: arrays (sorted by id) id, party_type (-1 for terminals), is_mobile, is_server, country,
    region, household, party_id, digital, merchant (row in merchants or -1).
    merchants: arrays id, country, n_endpoints. ip_types: arrays mean_per_ip, skew, is_public and the
    indexes res, mob, corp, dc, end; abroad_p[ip type] (share of its links abroad) and
    abroad_cum[ip type, country] (cumulative weights of the country abroad). recent_weights[region, ip type].
    Returns dict of arrays per link: device (row or -1), merchant (row or -1), role, ip_type,
    ip_country, ip_id (dense from IP_ID_BASE in (country, type, key) order).
    """
    dv = {k: np.ascontiguousarray(v) for k, v in devices.items()}
    if np.any(np.diff(dv["id"]) <= 0):
        raise ValueError("device ids must be strictly increasing")
    rw = np.asarray(recent_weights, np.float64)
    if np.any(rw < 0) or np.any(rw.sum(-1) <= 0):
        raise ValueError("recent-login IP mixes must be non-negative with a positive sum")
    n_ep = np.ascontiguousarray(merchants["n_endpoints"], dtype=np.int64)
    if np.any((n_ep < 1) | (n_ep > MAX_ENDPOINTS)):
        raise ValueError(f"endpoint counts must be in [1, {MAX_ENDPOINTS}]")
    seed = U64(rng.check_seed(seed))
    args = (seed, U64(rng.domain_id(domain)), U64(rng.domain_id(domain + ".business_nat")),
            dv["id"].astype(np.int64), dv["party_type"].astype(np.int64), dv["is_mobile"].astype(np.bool_),
            dv["is_server"].astype(np.bool_), dv["region"].astype(np.int64), dv["household"].astype(np.int64),
            dv["party_id"].astype(np.int64), dv["digital"].astype(np.float64), dv["merchant"].astype(np.int64), n_ep,
            np.ascontiguousarray(np.cumsum(rw, -1)), np.ascontiguousarray(ip_types["is_public"], dtype=np.bool_),
            ip_types["res"], ip_types["mob"], ip_types["corp"], ip_types["dc"], ip_types["end"],
            float(policy["p_phone_home_wifi"]), float(policy["recent_login_per_device"]),
            float(policy["recent_login_digital_tilt"]), int(policy["max_recent_per_device"]))
    counts = np.empty(dv["id"].size, np.int64)
    e = np.empty(0, np.int64)
    _links(*args, True, counts, e, e, e, e, np.empty(0))
    n = int(counts.sum())
    dev, typ, role, key = (np.empty(n, np.int64) for _ in range(4))
    u = np.empty(n)
    _links(*args, False, counts, dev, typ, role, key, u)
    abroad = _abroad(int(seed), domain + ".abroad", dv["id"], dev, typ, ip_types)
    return _resolve(dev, typ, role, key, u, abroad, dv, merchants, n_ep, ip_types)


def _abroad(seed, domain, dev_ids, dev, typ, ip_types) -> np.ndarray:
    """Country index abroad per link, or -1 at home: link j of a device has the stream
    combine(stream(seed, domain, device id), j); counter 0 the coin, 1 the country."""
    p = np.asarray(ip_types["abroad_p"], np.float64)[typ]
    out = np.full(dev.size, -1, np.int64)
    cand = np.flatnonzero(p > 0)
    if not cand.size:
        return out
    first = np.searchsorted(dev, dev[cand])  # links come grouped by device, in device order
    streams = rng.combine_keys(rng.stream_keys(seed, domain, dev_ids[dev[cand]]), cand - first)
    hit = rng.uniforms(streams, 0) < p[cand]
    cum = np.asarray(ip_types["abroad_cum"], np.float64)
    pick = rng.uniforms(streams[hit], 1)
    rows = cum[typ[cand[hit]]]
    out[cand[hit]] = np.minimum((pick[:, None] * rows[:, -1:] >= rows).sum(axis=1), rows.shape[1] - 1)
    return out


def _resolve(dev, typ, role, key, u, abroad, dv, merchants, n_ep, ip_types):
    """Pool indexes from demand, per-device de-duplication, unused endpoints, dense IP ids."""
    n_types = len(ip_types["mean_per_ip"])
    m_country = np.asarray(merchants["country"], np.int64)
    is_end = typ == ip_types["end"]
    merch = np.where(is_end, key // MAX_ENDPOINTS, -1)
    country = np.where(is_end, m_country[np.maximum(merch, 0)], np.where(abroad >= 0, abroad, dv["country"][dev]))
    mean = np.asarray(ip_types["mean_per_ip"], np.float64)
    pooled = mean[typ] > 0
    cell = country * n_types + typ
    demand = np.bincount(cell[pooled], minlength=(int(country.max(initial=0)) + 1) * n_types)
    size = np.maximum(1, np.ceil(demand / np.where(mean > 0, mean, 1.0)[np.arange(demand.size) % n_types])).astype(np.int64)
    skew = np.asarray(ip_types["skew"], np.float64)
    idx = np.minimum(size[cell] - 1, np.floor(size[cell] * u ** skew[typ]).astype(np.int64))
    key = np.where(pooled, idx, key)
    # one link per (device, IP): keep the first (typical before recent)
    order = np.lexsort((np.arange(dev.size), key, typ, dev))
    keep = np.ones(dev.size, np.bool_)
    same = (np.diff(dev[order]) == 0) & (np.diff(typ[order]) == 0) & (np.diff(key[order]) == 0)
    keep[order[1:][same]] = False
    dev, typ, role, key, country, merch = dev[keep], typ[keep], role[keep], key[keep], country[keep], merch[keep]
    # endpoints no terminal uses still exist, as device-less link rows
    all_m = np.repeat(np.arange(n_ep.size), n_ep)
    all_key = all_m * MAX_ENDPOINTS + (np.arange(all_m.size) - np.repeat(np.cumsum(n_ep) - n_ep, n_ep))
    unused = ~np.isin(all_key, key[typ == ip_types["end"]])
    add = all_key[unused]
    dev = np.concatenate([dev, np.full(add.size, -1)])
    merch = np.concatenate([merch, add // MAX_ENDPOINTS])
    typ = np.concatenate([typ, np.full(add.size, ip_types["end"])])
    role = np.concatenate([role, np.full(add.size, ENDPOINT)])
    key = np.concatenate([key, add])
    country = np.concatenate([country, m_country[add // MAX_ENDPOINTS]])
    order = np.lexsort((key, typ, country))
    first = np.ones(order.size, np.bool_)
    first[1:] = (np.diff(country[order]) != 0) | (np.diff(typ[order]) != 0) | (np.diff(key[order]) != 0)
    rank = np.empty(order.size, np.int64)
    rank[order] = np.cumsum(first) - 1
    if rank.size and rank.max() >= ID_RANGE:
        raise ValueError("too many IPs for the id range")
    return {"device": dev, "merchant": merch, "role": role, "ip_type": typ, "ip_country": country,
            "ip_id": IP_ID_BASE + rank}
