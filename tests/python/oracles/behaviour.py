"""Slow oracles of the 6B kernels for the tests: plain Python, one row at a time, written from
the rules the state modules document (sorting and dictionaries where the kernels stream)."""
from __future__ import annotations

import math

import numpy as np

from python_kernels.core import rng
from python_kernels.core.vocabulary import CHANNELS, MAX_FLOWS_PER_ARRIVAL, REASON_STEP_UP_FAILED

U64 = np.uint64


def attach_naive(seed, tables, params, arrival_id, ts_us, country, channel, site, loc):
    """Plain-Python oracle of `Attacher` over all arrivals at once (same draws, same rules)."""
    t, p = tables, params
    s_dom = U64(rng.domain_id("6B.s1.attach"))
    n_ch = len(CHANNELS)
    ring = [[-1] * p["ring_size"] for _ in range(t["n_countries"])]
    ring_pos = [0] * t["n_countries"]
    party = {}
    in_person_at = {}  # party -> (instant, lat, lon) of its last payment in person

    def km_between(la, lo, lat, lon):
        p1, p2 = math.radians(la), math.radians(lat)
        h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon - lo) / 2) ** 2
        return 2 * 6371.0088 * math.asin(math.sqrt(min(h, 1.0)))

    def km_from_last(q, lat, lon):
        return km_between(in_person_at[q][1], in_person_at[q][2], lat, lon)

    def on_domestic_trip(q, now):
        return t["dom_start"][q] <= now < t["dom_end"][q]

    def reachable(q, now, c, lat, lon):
        if t["away_dest"][q] >= 0 and t["away_dest"][q] != c and t["away_start"][q] <= now < t["away_end"][q]:
            return False  # away on a trip to another country
        if on_domestic_trip(q, now) and km_between(t["dom_lat"][q], t["dom_lon"][q], lat, lon) > p["stay_km"]:
            return False  # away on a trip elsewhere in the country
        if q not in in_person_at:
            return True
        km = km_from_last(q, lat, lon)
        return km <= p["min_km"] or km <= p["max_kmh"] * (now - in_person_at[q][0]) / 3.6e9

    def is_open(q, now):
        st = party.get(q)
        return (st is not None and now - st["last"] <= p["gap_us"] and now - st["start"] <= p["span_us"]
                and st["count"] < p["max_arrivals"])

    def pick_weighted(u, w, col, lo, hi):
        ws = [w[i, col] for i in range(lo, hi)]
        if sum(ws) <= 0:
            return -1
        acc, target, last = 0.0, u * sum(ws), -1
        for i in range(lo, hi):
            if w[i, col] > 0:
                acc += w[i, col]
                last = i
                if acc > target:
                    return i
        return last

    def pick_cum(u, cum, lo, hi):
        base = cum[lo - 1] if lo > 0 else 0.0
        return lo + int(np.searchsorted(cum[lo:hi], base + u * (cum[hi - 1] - base), side="right"))

    rows = []
    for i in range(len(arrival_id)):
        st_key = U64(rng.stream_key(U64(seed), s_dom, U64(arrival_id[i])))
        u = lambda c: rng.uniform(st_key, U64(c))  # noqa: E731
        now, c, k = int(ts_us[i]), int(country[i]), int(channel[i])
        here = int(loc[i]) if p["in_person"][k] else -1
        lat, lon = (float(t["loc_lat"][here]), float(t["loc_lon"][here])) if here >= 0 else (0.0, 0.0)
        q, rule = -1, 0
        if u(0) < p["p_follow"][k]:
            start = int(u(1) * p["ring_size"])
            for j in range(p["ring_size"]):
                cand = ring[c][(start + j) % p["ring_size"]]
                if (cand >= 0 and t["party_weight"][cand, k] > 0 and is_open(cand, now)
                        and (here < 0 or (cand in in_person_at and km_from_last(cand, lat, lon) <= p["min_km"]
                                          and reachable(cand, now, c, lat, lon)))):
                    q = cand
                    break
        if q < 0:
            pool, rule = c * n_ch + k, 1
            if t["pool_ptr"][pool + 1] == t["pool_ptr"][pool] or u(2) >= p["p_home"][k]:
                pool, rule = t["n_countries"] * n_ch + k, 2
            lo_p, hi_p = t["pool_ptr"][pool], t["pool_ptr"][pool + 1]
            q = int(t["pool_party"][pick_cum(u(3), t["pool_cum"], lo_p, hi_p)])
            if here >= 0 and rule == 2:
                # travellers on a trip to country c started in (now - longest trip, now]
                trips = [j for j in range(t["trip_ptr"][c], t["trip_ptr"][c + 1])
                         if now - t["trip_max_us"] < t["trip_start"][j] <= now]
                visitor = -1
                for r in range(p["tries"] if trips else 0):
                    j = trips[min(int(u(40 + r) * len(trips)), len(trips) - 1)]
                    cand = int(t["trip_party"][j])
                    if t["trip_end"][j] > now and t["party_weight"][cand, k] > 0 and reachable(cand, now, c, lat, lon):
                        visitor = cand
                        break
                if visitor >= 0:
                    q = visitor
                else:
                    rule = 1
            if here >= 0 and rule == 1:
                lo, hi = t["near_ptr"][here], t["near_ptr"][here + 1]
                near = t["near_cum"][k]
                found = False
                if hi > lo and near[hi - 1] > (near[lo - 1] if lo > 0 else 0.0) and u(44) < p["p_visitor"]:
                    for r in range(p["tries"]):  # a domestic traveller staying in a home cell around the site
                        cell = t["near_cell"][pick_cum(u(45 + 2 * r), near, lo, hi)]
                        under_way = [j for j in range(t["dtrip_ptr"][cell], t["dtrip_ptr"][cell + 1])
                                     if now - t["dtrip_max_us"] < t["dtrip_start"][j] <= now]
                        if not under_way:
                            continue
                        j = under_way[min(int(u(46 + 2 * r) * len(under_way)), len(under_way) - 1)]
                        cand = int(t["dtrip_party"][j])
                        if t["dtrip_end"][j] > now and t["party_weight"][cand, k] > 0 and reachable(cand, now, c, lat, lon):
                            q, found = cand, True
                            break
                if not found and hi > lo and near[hi - 1] > (near[lo - 1] if lo > 0 else 0.0):
                    for r in range(p["tries"]):
                        cell = t["near_cell"][pick_cum(u(10 + 2 * r), near, lo, hi)]
                        cand = int(t["cell_party"][pick_cum(u(11 + 2 * r), t["cell_cum"][k], t["cell_ptr"][cell],
                                                            t["cell_ptr"][cell + 1])])
                        if reachable(cand, now, c, lat, lon):
                            q = cand
                            break
        if here >= 0:
            in_person_at[q] = (now, lat, lon)
        cont = is_open(q, now)
        if cont:
            party[q]["count"] += 1
        else:
            party[q] = {"session": int(arrival_id[i]), "start": now, "count": 1, "dev": -1, "ip": -1, "inst": -1}
        st = party[q]
        st["last"] = now
        ins = st["inst"]
        if not (ins >= 0 and t["inst_w"][ins, k] > 0 and u(4) < p["p_same_instrument"]):
            ins = pick_weighted(u(5), t["inst_w"], k, t["inst_ptr"][q], t["inst_ptr"][q + 1])
            st["inst"] = ins
        site_i = int(site[i])
        tp = t["term_ptr"]
        if site_i >= 0 and tp[site_i + 1] > tp[site_i] and u(6) < p["p_terminal"][k]:
            nt = tp[site_i + 1] - tp[site_i]
            dev = int(t["term_dev"][tp[site_i] + min(int(u(7) * nt), nt - 1)])
            ip = pick_cum(u(9), t["ip_cum"], t["ip_ptr"][dev], t["ip_ptr"][dev + 1])
        elif st["dev"] >= 0 and t["dev_w"][st["dev"], k] > 0:
            dev, ip = int(t["dev_cand"][st["dev"]]), st["ip"]
        else:
            links = range(t["dev_ptr"][q], t["dev_ptr"][q + 1])
            live = [d for d in links if t["dev_from"][t["dev_cand"][d]] <= now < t["dev_until"][t["dev_cand"][d]]]
            weights = {d: t["dev_w"][d, k] for d in live if t["dev_w"][d, k] > 0}
            if weights:  # an identity in use now, by the channel's weights
                acc, target, d = 0.0, u(8) * sum(weights.values()), None
                for d, w in weights.items():
                    acc += w
                    if acc > target:
                        break
            else:  # uniformly among those in use, else among all
                among = live or list(links)
                d = among[min(int(u(8) * len(among)), len(among) - 1)]
            dev = int(t["dev_cand"][d])
            ip = link = pick_cum(u(9), t["ip_cum"], t["ip_ptr"][dev], t["ip_ptr"][dev + 1])
            carrier = int(t["ip_carrier"][ip])
            if carrier >= 0 and u(62) < p["p_carrier_churn"]:
                pool = list(range(t["carrier_ip_ptr"][carrier], t["carrier_ip_ptr"][carrier + 1]))
                if pool:
                    ip = pool[min(int(u(63) * len(pool)), len(pool) - 1)]
            dest = int(t["away_dest"][q]) if t["away_start"][q] <= now < t["away_end"][q] else -1
            if on_domestic_trip(q, now):
                dest = int(t["party_country"][q])
            if dest >= 0 and not t["ip_tunnel"][link] and u(60) < p["p_local_ip"]:  # a VPN hides the local network
                there = list(range(t["trip_ip_ptr"][dest], t["trip_ip_ptr"][dest + 1]))  # the destination's networks
                if there:
                    ip = there[min(int(u(61) * len(there)), len(there) - 1)]
            st["dev"], st["ip"] = d, ip
        ring[c][ring_pos[c]] = q
        ring_pos[c] = (ring_pos[c] + 1) % p["ring_size"]
        rows.append((q, ins, dev, ip, st["session"], rule, not cont))
    cols = list(zip(*rows)) if rows else [[]] * 7
    names = ("party", "instrument", "device", "ip", "session_id", "rule", "session_start")
    return {n: np.array(c, dtype=np.int64) for n, c in zip(names, cols)}


def flow_outcomes_naive(seed: int, arrival_id, channel, params: dict):
    """Oracle of the flow structure: per arrival, the list of (step_up, declined, reason) of its flows."""
    p = params
    dom = U64(rng.domain_id("6B.s2.flow"))
    result = []
    for a, k in zip(arrival_id, channel):
        flows_of = []
        j = 0
        while True:
            s = U64(rng.stream_key(U64(seed), dom, U64(int(a) * MAX_FLOWS_PER_ARRIVAL + j)))
            u = lambda c: rng.uniform(s, U64(c))  # noqa: E731
            step_up = u(0) < p.p_step_up[k]
            if step_up and u(1) < p.p_step_fail:
                flows_of.append((step_up, True, REASON_STEP_UP_FAILED))
                break
            if u(2) < p.p_decline[k]:
                reason = int(np.searchsorted(p.reason_cum, u(3) * p.reason_cum[-1], side="right"))
                flows_of.append((step_up, True, reason))
                if j < p.max_retries and u(4) < p.p_retry[reason]:
                    j += 1
                    continue
                break
            flows_of.append((step_up, False, -1))
            break
        result.append(flows_of)
    return result


def session_summary_naive(session_id, ts_us, party, entities, channel, cross) -> dict:
    """Oracle of `session_summary` with Python dictionaries."""
    groups: dict[int, list[int]] = {}
    for i, s in enumerate(session_id):
        groups.setdefault(int(s), []).append(i)
    rows = []
    for s in sorted(groups):
        idx = groups[s]

        def mode(vals):
            counts: dict[int, int] = {}
            for x in vals:
                counts[int(x)] = counts.get(int(x), 0) + 1
            return min(counts, key=lambda x: (-counts[x], x)), len(counts)
        prim = [mode(entities[e][idx]) for e in range(len(entities))]
        rows.append({"session_id": s, "arrival_count": len(idx), "start": int(min(ts_us[idx])),
                     "end": int(max(ts_us[idx])), "party": mode(party[idx])[0], "n_parties": mode(party[idx])[1],
                     "primary": [p[0] for p in prim], "distinct": [p[1] for p in prim],
                     "channels": int(np.bitwise_or.reduce(1 << np.asarray(channel)[idx])),
                     "any_cross": bool(np.any(np.asarray(cross)[idx]))})
    return rows


def overlay_naive(flows: dict, campaigns: dict) -> np.ndarray:
    """Oracle of the targeting rules: the campaign index per flow, one flow at a time."""
    a = campaigns
    out = np.full(flows["flow_id"].size, -1, np.int64)
    cohort_of = {1: "account", 2: "instrument", 3: "party"}
    for i in range(out.size):
        for c in range(a["stream"].size):
            if a["scenario"][c] != flows["scenario"][i] or not a["start"][c] <= flows["ts"][i] < a["end"][c]:
                continue
            if not (a["chan_mask"][c] >> int(flows["channel"][i])) & 1:
                continue
            if not a["merchant_ok"][c, flows["merchant"][i]] or not a["country_ok"][c, flows["country"][i]]:
                continue
            if a["cross_only"][c] and not flows["cross"][i]:
                continue
            kind = int(a["cohort_kind"][c])
            if kind:
                entity = int(flows[cohort_of[kind]][i])
                key = rng.combine_keys(np.array([a["stream"][c]], np.uint64), np.array([entity], np.uint64))
                if rng.uniforms(key, 0)[0] >= a["cohort_share"][c]:
                    continue
            key = rng.combine_keys(np.array([a["stream"][c]], np.uint64), np.array([flows["flow_id"][i]], np.uint64))
            if rng.uniforms(key, 1)[0] < a["intensity"][c]:
                out[i] = c
                break
    return out


def group_cases_naive(key, trigger, flow_id, window_us: int) -> np.ndarray:
    """Oracle: per case key, cases opened by the first flow outside the current case's window."""
    out = np.empty(len(flow_id), np.int64)
    cases = {}  # key -> (case_id, opened)
    for i in sorted(range(len(flow_id)), key=lambda j: (key[j], trigger[j], flow_id[j])):
        cur = cases.get(key[i])
        if cur is None or trigger[i] > cur[1] + window_us:
            cur = cases[key[i]] = (flow_id[i], trigger[i])
        out[i] = cur[0]
    return out
