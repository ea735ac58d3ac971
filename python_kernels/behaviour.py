"""6B behaviour kernels: session-first attachment (S1) and flows with events, amounts and
timings (S2). Arrays in, arrays out; every draw keyed through `rng`.

S1 `attach` walks one scenario's arrivals in (ts_utc, arrival_id) order, carrying a small
state per party (its open session, device, IP and instrument) and a ring of recently active
parties per country. The walk is sequential by nature (whether a session is open depends on
earlier arrivals), so it is single-threaded and its state can be carried from one chunk of
arrivals to the next: the result does not depend on chunking. Draws per arrival, stream
(seed, "6B.s1.attach", arrival_id):
  0 follow-up coin, 1 ring start, 2 home/foreign coin, 3 party pick, 4 keep-instrument coin,
  5 instrument pick, 6 terminal coin, 7 terminal pick, 8 device pick, 9 IP pick.
S2 `flows` is parallel over arrivals; flow j of an arrival has stream
(seed, "6B.s2.flow", flow_id = 4 * arrival_id + j) and the arrival's amount stream
(seed, "6B.s2.amount", arrival_id); counters are listed at `_outcome` and `_fill_flow`.
`*_naive` functions are slow oracles for tests.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from python_kernels.core import rng

U64 = np.uint64
CHANNELS = ("ECOM", "POS", "ATM", "BANK_RAIL", "HYBRID")
ATTACH_RULES = ("FOLLOW_UP", "HOME", "FOREIGN")
MAX_FLOWS_PER_ARRIVAL = 4          # flow_id = 4 * arrival_id + flow_index
NO_TIME = np.iinfo(np.int64).min   # "no such event" in timestamp arrays


# ---- S1: attachment and sessions -----------------------------------------------------------

@njit(inline="always", cache=True)
def _pick_cum(u, cum, lo, hi):
    """Index in [lo, hi) by inversion on a slice of cumulative weights (cum[hi-1] = total)."""
    base = cum[lo - 1] if lo > 0 else 0.0
    target = base + u * (cum[hi - 1] - base)
    a, b = lo, hi - 1
    while a < b:
        m = (a + b) // 2
        if cum[m] > target:
            b = m
        else:
            a = m + 1
    return a


@njit(inline="always", cache=True)
def _pick_weighted(u, w, col, lo, hi):
    """Index in [lo, hi) with probability w[i, col]; -1 when the slice has no weight."""
    total = 0.0
    for i in range(lo, hi):
        total += w[i, col]
    if total <= 0.0:
        return -1
    target = u * total
    acc = 0.0
    last = -1
    for i in range(lo, hi):
        if w[i, col] > 0.0:
            acc += w[i, col]
            last = i
            if acc > target:
                return i
    return last


@njit(inline="always", cache=True)
def _is_open(p, t, last_ts, start_ts, count, gap_us, span_us, max_arrivals):
    return (count[p] > 0 and t - last_ts[p] <= gap_us and t - start_ts[p] <= span_us
            and count[p] < max_arrivals)


@njit(cache=True)
def _attach(seed, domain, arrival_id, ts, country, channel, site,
            pool_ptr, pool_party, pool_cum, party_weight, n_countries,
            inst_ptr, inst_w, dev_ptr, dev_w, dev_cand, ip_ptr, ip_cum, term_ptr, term_dev,
            p_follow, p_home, p_terminal, p_same_inst, gap_us, span_us, max_arrivals,
            last_ts, start_ts, count, session, cur_dev, cur_ip, cur_inst, ring, ring_pos,
            out_party, out_inst, out_dev, out_ip, out_session, out_rule, out_start):
    n_ch = p_follow.shape[0]
    ring_size = ring.shape[1]
    for i in range(arrival_id.shape[0]):
        s = rng.stream_key(seed, domain, arrival_id[i])
        t = ts[i]
        c = country[i]
        k = channel[i]
        p = -1
        rule = 0
        if rng.uniform(s, U64(0)) < p_follow[k]:
            start = int(rng.uniform(s, U64(1)) * ring_size)
            for j in range(ring_size):
                q = ring[c, (start + j) % ring_size]
                if q >= 0 and party_weight[q, k] > 0.0 and _is_open(q, t, last_ts, start_ts, count,
                                                                      gap_us, span_us, max_arrivals):
                    p = q
                    break
        if p < 0:
            pool = c * n_ch + k
            rule = 1
            if pool_ptr[pool + 1] == pool_ptr[pool] or rng.uniform(s, U64(2)) >= p_home[k]:
                pool = n_countries * n_ch + k
                rule = 2
            p = pool_party[_pick_cum(rng.uniform(s, U64(3)), pool_cum, pool_ptr[pool], pool_ptr[pool + 1])]
        continuing = _is_open(p, t, last_ts, start_ts, count, gap_us, span_us, max_arrivals)
        if continuing:
            count[p] += 1
        else:
            session[p] = arrival_id[i]
            start_ts[p] = t
            count[p] = 1
            cur_dev[p] = -1
            cur_ip[p] = -1
            cur_inst[p] = -1
        last_ts[p] = t
        # instrument: the session's card again, or a fresh weighted pick for this channel
        ins = cur_inst[p]
        if not (ins >= 0 and inst_w[ins, k] > 0.0 and rng.uniform(s, U64(4)) < p_same_inst):
            ins = _pick_weighted(rng.uniform(s, U64(5)), inst_w, k, inst_ptr[p], inst_ptr[p + 1])
            cur_inst[p] = ins
        # device: the site's terminal, or the customer's own device (kept for the session)
        dev = -1
        ip = -1
        st = site[i]
        if st >= 0 and term_ptr[st + 1] > term_ptr[st] and rng.uniform(s, U64(6)) < p_terminal[k]:
            nt = term_ptr[st + 1] - term_ptr[st]
            dev = term_dev[term_ptr[st] + min(int(rng.uniform(s, U64(7)) * nt), nt - 1)]
            ip = _pick_cum(rng.uniform(s, U64(9)), ip_cum, ip_ptr[dev], ip_ptr[dev + 1])
        elif cur_dev[p] >= 0 and dev_w[cur_dev[p], k] > 0.0:
            dev = dev_cand[cur_dev[p]]
            ip = cur_ip[p]
        else:
            d = _pick_weighted(rng.uniform(s, U64(8)), dev_w, k, dev_ptr[p], dev_ptr[p + 1])
            if d < 0:  # no device the channel prefers: any device of the party
                nd = dev_ptr[p + 1] - dev_ptr[p]
                d = dev_ptr[p] + min(int(rng.uniform(s, U64(8)) * nd), nd - 1)
            cur_dev[p] = d
            dev = dev_cand[d]
            ip = _pick_cum(rng.uniform(s, U64(9)), ip_cum, ip_ptr[dev], ip_ptr[dev + 1])
            cur_ip[p] = ip
        ring[c, ring_pos[c]] = p
        ring_pos[c] = (ring_pos[c] + 1) % ring_size
        out_party[i] = p
        out_inst[i] = ins
        out_dev[i] = dev
        out_ip[i] = ip
        out_session[i] = session[p]
        out_rule[i] = rule
        out_start[i] = not continuing


class Attacher:
    """Session-first attachment of one scenario's arrivals, fed in (ts, arrival_id) order.

    `tables` (see behaviour_inputs.attachment_tables) holds the candidate structures:
    pools of parties per (country, channel) plus one foreign pool per channel, and per party
    its instrument and device candidates with a weight per channel, IPs per device and
    terminals per site. Indices returned are positions in those tables.
    """

    def __init__(self, seed: int, tables: dict, params: dict):
        self.seed = rng.check_seed(seed)
        self.domain = U64(rng.domain_id("6B.s1.attach"))
        self.t = tables
        self.p = params
        n_parties = tables["party_weight"].shape[0]
        self.state = {
            "last_ts": np.full(n_parties, np.iinfo(np.int64).min // 2, np.int64),
            "start_ts": np.zeros(n_parties, np.int64),
            "count": np.zeros(n_parties, np.int64),
            "session": np.full(n_parties, -1, np.int64),
            "cur_dev": np.full(n_parties, -1, np.int64),
            "cur_ip": np.full(n_parties, -1, np.int64),
            "cur_inst": np.full(n_parties, -1, np.int64),
            "ring": np.full((tables["n_countries"], params["ring_size"]), -1, np.int64),
            "ring_pos": np.zeros(tables["n_countries"], np.int64),
        }
        self._last = (np.iinfo(np.int64).min, np.iinfo(np.int64).min)

    def feed(self, arrival_id, ts_us, country, channel, site) -> dict:
        """Attach the next arrivals; they must continue the (ts, arrival_id) order."""
        arrival_id = np.ascontiguousarray(arrival_id, np.int64)
        ts_us = np.ascontiguousarray(ts_us, np.int64)
        country = np.ascontiguousarray(country, np.int64)
        channel = np.ascontiguousarray(channel, np.int64)
        site = np.ascontiguousarray(site, np.int64)
        n = arrival_id.size
        if not (ts_us.size == country.size == channel.size == site.size == n):
            raise ValueError("arrival_id, ts_us, country, channel and site must have one entry per arrival")
        if n:
            ahead = (ts_us[1:] > ts_us[:-1]) | ((ts_us[1:] == ts_us[:-1]) & (arrival_id[1:] > arrival_id[:-1]))
            first = (int(ts_us[0]), int(arrival_id[0]))
            if not ahead.all() or first <= self._last:
                i = int(np.argmin(ahead)) if not ahead.all() else -1
                where = (f"row {i + 1}: {(int(ts_us[i + 1]), int(arrival_id[i + 1]))} after "
                         f"{(int(ts_us[i]), int(arrival_id[i]))}" if i >= 0 else f"first row {first} after {self._last}")
                raise ValueError(f"arrivals must be fed in strictly increasing (ts_utc, arrival_id) order; {where}")
            if country.min() < 0 or country.max() >= self.t["n_countries"]:
                raise ValueError("country index out of range")
            if channel.min() < 0 or channel.max() >= len(CHANNELS):
                raise ValueError("channel index out of range")
            if site.max() >= self.t["term_ptr"].size - 1:
                raise ValueError("site index out of range (use -1 for no site)")
            self._last = (int(ts_us[-1]), int(arrival_id[-1]))
        out = {name: np.empty(n, np.int64) for name in ("party", "instrument", "device", "ip", "session_id")}
        out["rule"] = np.empty(n, np.int8)
        out["session_start"] = np.empty(n, np.bool_)
        t, p, s = self.t, self.p, self.state
        _attach(U64(self.seed), self.domain, arrival_id, ts_us, country, channel, site,
                t["pool_ptr"], t["pool_party"], t["pool_cum"], t["party_weight"], t["n_countries"],
                t["inst_ptr"], t["inst_w"], t["dev_ptr"], t["dev_w"], t["dev_cand"], t["ip_ptr"], t["ip_cum"],
                t["term_ptr"], t["term_dev"],
                p["p_follow"], p["p_home"], p["p_terminal"], p["p_same_instrument"],
                p["gap_us"], p["span_us"], p["max_arrivals"],
                s["last_ts"], s["start_ts"], s["count"], s["session"], s["cur_dev"], s["cur_ip"],
                s["cur_inst"], s["ring"], s["ring_pos"],
                out["party"], out["instrument"], out["device"], out["ip"], out["session_id"],
                out["rule"], out["session_start"])
        return out


def attach_naive(seed, tables, params, arrival_id, ts_us, country, channel, site):
    """Plain-Python oracle of `Attacher` over all arrivals at once (same draws, same rules)."""
    t, p = tables, params
    s_dom = U64(rng.domain_id("6B.s1.attach"))
    n_ch = len(CHANNELS)
    ring = [[-1] * p["ring_size"] for _ in range(t["n_countries"])]
    ring_pos = [0] * t["n_countries"]
    party = {}

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
        q, rule = -1, 0
        if u(0) < p["p_follow"][k]:
            start = int(u(1) * p["ring_size"])
            for j in range(p["ring_size"]):
                cand = ring[c][(start + j) % p["ring_size"]]
                if cand >= 0 and t["party_weight"][cand, k] > 0 and is_open(cand, now):
                    q = cand
                    break
        if q < 0:
            pool, rule = c * n_ch + k, 1
            if t["pool_ptr"][pool + 1] == t["pool_ptr"][pool] or u(2) >= p["p_home"][k]:
                pool, rule = t["n_countries"] * n_ch + k, 2
            q = int(t["pool_party"][pick_cum(u(3), t["pool_cum"], t["pool_ptr"][pool], t["pool_ptr"][pool + 1])])
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
            d = pick_weighted(u(8), t["dev_w"], k, t["dev_ptr"][q], t["dev_ptr"][q + 1])
            if d < 0:
                nd = t["dev_ptr"][q + 1] - t["dev_ptr"][q]
                d = int(t["dev_ptr"][q] + min(int(u(8) * nd), nd - 1))
            dev = int(t["dev_cand"][d])
            ip = pick_cum(u(9), t["ip_cum"], t["ip_ptr"][dev], t["ip_ptr"][dev + 1])
            st["dev"], st["ip"] = d, ip
        ring[c][ring_pos[c]] = q
        ring_pos[c] = (ring_pos[c] + 1) % p["ring_size"]
        rows.append((q, ins, dev, ip, st["session"], rule, not cont))
    cols = list(zip(*rows)) if rows else [[]] * 7
    names = ("party", "instrument", "device", "ip", "session_id", "rule", "session_start")
    return {n: np.array(c, dtype=np.int64) for n, c in zip(names, cols)}


# ---- S2: flows, events, amounts, timings ------------------------------------------------------

@njit(inline="always", cache=True)
def _lognormal_clipped(stream, ctr, spec):
    """spec = (median, sigma, min, max) in seconds -> microseconds, at least 1 µs."""
    x = spec[0] * math.exp(spec[1] * rng.normal(stream, ctr))
    x = min(max(x, spec[2]), spec[3])
    return max(int(round(x * 1e6)), 1)


@njit(inline="always", cache=True)
def _outcome(s, k, j, p_step_up, p_step_fail, p_decline, reason_cum, p_retry, max_retries):
    """(step_up, declined, reason, retried) of flow j; counters 0-4.

    reason -1 = approved, n_reasons = the step-up challenge failed (never retried).
    """
    step_up = rng.uniform(s, U64(0)) < p_step_up[k]
    n_reasons = reason_cum.shape[0]
    if step_up and rng.uniform(s, U64(1)) < p_step_fail:
        return step_up, True, n_reasons, False
    if rng.uniform(s, U64(2)) < p_decline[k]:
        reason = rng.categorical(s, U64(3), reason_cum)
        retried = j < max_retries and rng.uniform(s, U64(4)) < p_retry[reason]
        return step_up, True, reason, retried
    return step_up, False, -1, False


@njit(parallel=True, cache=True)
def _count_flows(seed, domain, arrival_id, channel, p_step_up, p_step_fail, p_decline, reason_cum,
                 p_retry, max_retries, out):
    for i in prange(arrival_id.shape[0]):
        j = 0
        while True:
            s = rng.stream_key(seed, domain, arrival_id[i] * 4 + j)
            _, _, _, retried = _outcome(s, channel[i], j, p_step_up, p_step_fail, p_decline, reason_cum,
                                        p_retry, max_retries)
            if not retried:
                break
            j += 1
        out[i] = j + 1


@njit(inline="always", cache=True)
def _amount(s, fam, cur, point_minor, point_n, p_point, tail_log_median, tail_sigma, lo_minor, hi_minor,
            unit_minor):
    """Auth amount in minor units; counters 0 (point coin), 1 (point), 2-3 (tail normal)."""
    n_points = point_n[fam]
    if rng.uniform(s, U64(0)) < p_point[fam]:
        return point_minor[fam, cur, min(int(rng.uniform(s, U64(1)) * n_points), n_points - 1)]
    x = math.exp(tail_log_median + tail_sigma * rng.normal(s, U64(2))) * unit_minor
    return min(max(int(round(x)), lo_minor), hi_minor)


@njit(parallel=True, cache=True)
def _fill_flows(seed, flow_domain, amount_domain, arrival_id, ts, channel, family, currency, sector_scale,
                flow_ptr, p_step_up, p_step_fail, p_decline, reason_cum, p_retry, max_retries,
                point_minor, point_n, p_point, tail_log_median, tail_sigma, unit_minor, min_usd, max_usd,
                retry_gap_cum, retry_gap_us, p_reversal, p_refund, p_partial, partial_lo, partial_hi,
                clearing_delta, t_auth, t_chal, t_comp, t_clear, t_clear_atm, t_refund, t_reversal, atm_channel,
                o_arrival, o_index, o_amount, o_step_up, o_declined, o_reason, o_req, o_chal, o_comp, o_resp,
                o_clear, o_clear_amount, o_reversal, o_refund, o_refund_amount):
    for i in prange(arrival_id.shape[0]):
        k = channel[i]
        fam = family[i]
        cur = currency[i]
        sa = rng.stream_key(seed, amount_domain, arrival_id[i])
        unit = unit_minor[cur]  # minor units per US dollar
        amount = _amount(sa, fam, cur, point_minor, point_n, p_point,
                         tail_log_median[fam] + math.log(sector_scale[i]), tail_sigma[fam],
                         max(int(round(min_usd * unit)), 1), int(round(max_usd * unit)), unit)
        t0 = ts[i]
        for j in range(flow_ptr[i + 1] - flow_ptr[i]):
            f = flow_ptr[i] + j
            s = rng.stream_key(seed, flow_domain, arrival_id[i] * 4 + j)
            step_up, declined, reason, retried = _outcome(s, k, j, p_step_up, p_step_fail, p_decline, reason_cum,
                                                          p_retry, max_retries)
            o_arrival[f] = i
            o_index[f] = j
            o_amount[f] = amount
            o_step_up[f] = step_up
            o_declined[f] = declined
            o_reason[f] = reason
            o_req[f] = t0
            t = t0
            o_chal[f] = NO_TIME
            o_comp[f] = NO_TIME
            if step_up:
                t += _lognormal_clipped(s, U64(8), t_chal)
                o_chal[f] = t
                t += _lognormal_clipped(s, U64(10), t_comp)
                o_comp[f] = t
            t += _lognormal_clipped(s, U64(6), t_auth)
            o_resp[f] = t
            o_clear[f] = NO_TIME
            o_clear_amount[f] = 0
            o_reversal[f] = NO_TIME
            o_refund[f] = NO_TIME
            o_refund_amount[f] = 0
            if not declined:
                if rng.uniform(s, U64(12)) < p_reversal:
                    o_reversal[f] = t + _lognormal_clipped(s, U64(20), t_reversal)
                else:
                    delay = _lognormal_clipped(s, U64(16), t_clear_atm if k == atm_channel else t_clear)
                    o_clear[f] = t + delay
                    delta = clearing_delta * (2.0 * rng.uniform(s, U64(22)) - 1.0)
                    o_clear_amount[f] = max(int(round(amount * (1.0 + delta))), 1)
                    if rng.uniform(s, U64(13)) < p_refund[k]:
                        o_refund[f] = o_clear[f] + _lognormal_clipped(s, U64(18), t_refund)
                        if rng.uniform(s, U64(14)) < p_partial:
                            frac = partial_lo + (partial_hi - partial_lo) * rng.uniform(s, U64(15))
                            o_refund_amount[f] = max(int(round(o_clear_amount[f] * frac)), 1)
                        else:
                            o_refund_amount[f] = o_clear_amount[f]
            # a retry starts after this flow's response
            t0 = t + retry_gap_us[rng.categorical(s, U64(5), retry_gap_cum)]


def flows(seed: int, arrival_id, ts_us, channel, family, currency, sector_scale, params: dict) -> dict:
    """All flows of a set of arrivals: one per arrival plus retries of declined flows.

    `family` indexes params["families"], `currency` params["unit_minor"] / ["point_minor"]
    (see behaviour_inputs.flow_params); `sector_scale` multiplies the tail median. Returns
    per-flow arrays, flows of an arrival contiguous and in flow_index order.
    """
    seed = rng.check_seed(seed)
    arrival_id = np.ascontiguousarray(arrival_id, np.int64)
    ts_us = np.ascontiguousarray(ts_us, np.int64)
    channel = np.ascontiguousarray(channel, np.int64)
    family = np.ascontiguousarray(family, np.int64)
    currency = np.ascontiguousarray(currency, np.int64)
    sector_scale = np.ascontiguousarray(sector_scale, np.float64)
    n = arrival_id.size
    if not (ts_us.size == channel.size == family.size == currency.size == sector_scale.size == n):
        raise ValueError("every per-arrival input needs one entry per arrival")
    if n and (channel.min() < 0 or channel.max() >= len(CHANNELS)):
        raise ValueError("channel index out of range")
    if n and (arrival_id.min() < 0 or arrival_id.max() >= np.iinfo(np.int64).max // MAX_FLOWS_PER_ARRIVAL):
        raise ValueError("arrival_id must be >= 0 and leave room for flow_id = 4 * arrival_id + j")
    if np.any(sector_scale <= 0):
        raise ValueError("sector_scale must be > 0")
    p = params
    if not 0 <= p["max_retries"] < MAX_FLOWS_PER_ARRIVAL:
        raise ValueError(f"max_retries must be in [0, {MAX_FLOWS_PER_ARRIVAL - 1}]")
    flow_domain = U64(rng.domain_id("6B.s2.flow"))
    amount_domain = U64(rng.domain_id("6B.s2.amount"))
    per_arrival = np.empty(n, np.int64)
    _count_flows(U64(seed), flow_domain, arrival_id, channel, p["p_step_up"], p["p_step_fail"], p["p_decline"],
                 p["reason_cum"], p["p_retry"], p["max_retries"], per_arrival)
    flow_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(per_arrival, out=flow_ptr[1:])
    m = int(flow_ptr[-1])
    out = {name: np.empty(m, np.int64) for name in (
        "arrival_index", "flow_index", "amount_minor", "reason", "ts_request", "ts_challenge", "ts_complete",
        "ts_response", "ts_clearing", "clearing_minor", "ts_reversal", "ts_refund", "refund_minor")}
    out["step_up"] = np.empty(m, np.bool_)
    out["declined"] = np.empty(m, np.bool_)
    _fill_flows(U64(seed), flow_domain, amount_domain, arrival_id, ts_us, channel, family, currency, sector_scale,
                flow_ptr, p["p_step_up"], p["p_step_fail"], p["p_decline"], p["reason_cum"], p["p_retry"],
                p["max_retries"], p["point_minor"], p["point_n"], p["p_point"], p["tail_log_median"], p["tail_sigma"],
                p["unit_minor"], p["min_usd"], p["max_usd"], p["retry_gap_cum"], p["retry_gap_us"],
                p["p_reversal"], p["p_refund"], p["p_partial"], p["partial_lo"], p["partial_hi"],
                p["clearing_delta"], p["t_auth"], p["t_chal"], p["t_comp"], p["t_clear"], p["t_clear_atm"],
                p["t_refund"], p["t_reversal"], CHANNELS.index("ATM"),
                out["arrival_index"], out["flow_index"], out["amount_minor"], out["step_up"], out["declined"],
                out["reason"], out["ts_request"], out["ts_challenge"], out["ts_complete"], out["ts_response"],
                out["ts_clearing"], out["clearing_minor"], out["ts_reversal"], out["ts_refund"],
                out["refund_minor"])
    out["flow_id"] = arrival_id[out["arrival_index"]] * MAX_FLOWS_PER_ARRIVAL + out["flow_index"]
    return out


def flow_outcomes_naive(seed: int, arrival_id, channel, params: dict):
    """Oracle of the flow structure: per arrival, the list of (step_up, declined, reason) of its flows."""
    p = params
    dom = U64(rng.domain_id("6B.s2.flow"))
    n_reasons = len(p["reason_cum"])
    result = []
    for a, k in zip(arrival_id, channel):
        flows_of = []
        j = 0
        while True:
            s = U64(rng.stream_key(U64(seed), dom, U64(int(a) * 4 + j)))
            u = lambda c: rng.uniform(s, U64(c))  # noqa: E731
            step_up = u(0) < p["p_step_up"][k]
            if step_up and u(1) < p["p_step_fail"]:
                flows_of.append((step_up, True, n_reasons))
                break
            if u(2) < p["p_decline"][k]:
                reason = int(np.searchsorted(p["reason_cum"], u(3) * p["reason_cum"][-1], side="right"))
                flows_of.append((step_up, True, reason))
                if j < p["max_retries"] and u(4) < p["p_retry"][reason]:
                    j += 1
                    continue
                break
            flows_of.append((step_up, False, -1))
            break
        result.append(flows_of)
    return result


# ---- S1: session index --------------------------------------------------------------------

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
