"""6B S1 session-first attachment: who each arrival is (party, instrument, device, IP, session).

`Attacher` walks one scenario's arrivals in (ts_utc, arrival_id) order, carrying a small
state per party (its open session, device, IP and instrument) and a ring of recently active
parties per country. The walk is sequential by nature (whether a session is open depends on
earlier arrivals), so it is single-threaded and its state can be carried from one chunk of
arrivals to the next: the result does not depend on chunking. Draws per arrival come from the
stream (seed, "6B.s1.attach", arrival_id) with the counters named below.

`attachment_tables` turns the entity graph into the flat candidate structures the walk uses
(CSR slices with one weight column per channel); numpy only, no per-row Python.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa
from numba import njit

from python_kernels.core import rng
from python_kernels.core.arrow import codes, column
from python_kernels.core.policies import policy_lookup
from python_kernels.core.vocabulary import CHANNELS

U64 = np.uint64
K = len(CHANNELS)
ATTACH_DOMAIN = "6B.s1.attach"
# counters of an arrival's stream
C_FOLLOW_UP = U64(0)       # does it try to continue an open session?
C_RING_START = U64(1)      # where the scan of the country's recent parties starts
C_HOME = U64(2)            # home-country pool or the foreign pool
C_PARTY = U64(3)           # party pick in the pool
C_KEEP_INSTRUMENT = U64(4)
C_INSTRUMENT = U64(5)
C_TERMINAL = U64(6)        # the site's terminal or the customer's own device
C_TERMINAL_PICK = U64(7)
C_DEVICE = U64(8)
C_IP = U64(9)
RULE_FOLLOW_UP, RULE_HOME, RULE_FOREIGN = 0, 1, 2  # index into vocabulary.ATTACH_RULES


class Candidates(NamedTuple):
    """Who an arrival can be (the kernel's view of `attachment_tables`): CSR slices with one
    weight column per channel."""

    pool_ptr: np.ndarray      # party pools per (country, channel), then one foreign pool per channel
    pool_party: np.ndarray
    pool_cum: np.ndarray      # cumulative pick weights within each pool
    party_weight: np.ndarray  # [party, channel]: 0 = the party never uses the channel
    n_countries: int
    inst_ptr: np.ndarray      # instruments per party
    inst_w: np.ndarray        # [instrument, channel]
    dev_ptr: np.ndarray       # devices per party
    dev_w: np.ndarray         # [device link, channel]
    dev_cand: np.ndarray      # device index of each device link
    ip_ptr: np.ndarray        # IPs per device
    ip_cum: np.ndarray
    term_ptr: np.ndarray      # terminals per site
    term_dev: np.ndarray


class Rules(NamedTuple):
    """The attachment and session policy as numbers (`attachment_params`)."""

    p_follow: np.ndarray      # per channel: chance to continue an open session
    p_home: np.ndarray        # per channel: home-country pool rather than the foreign pool
    p_terminal: np.ndarray    # per channel: the site's terminal rather than the customer's device
    p_same_instrument: float
    gap_us: int
    span_us: int
    max_arrivals: int


class Walk(NamedTuple):
    """What the walk carries per party (and per country: the ring of recent parties) from one
    chunk of arrivals to the next."""

    last_ts: np.ndarray
    start_ts: np.ndarray
    count: np.ndarray
    session: np.ndarray
    cur_dev: np.ndarray
    cur_ip: np.ndarray
    cur_inst: np.ndarray
    ring: np.ndarray
    ring_pos: np.ndarray


class Arrivals(NamedTuple):
    arrival_id: np.ndarray
    ts: np.ndarray
    country: np.ndarray       # index into the tables' countries
    channel: np.ndarray       # index into CHANNELS
    site: np.ndarray          # index into the tables' sites, -1 for none


class Attachments(NamedTuple):
    """Per arrival: positions in the tables, the session it belongs to and how it was attached."""

    party: np.ndarray
    instrument: np.ndarray
    device: np.ndarray
    ip: np.ndarray
    session_id: np.ndarray
    rule: np.ndarray          # index into ATTACH_RULES
    session_start: np.ndarray


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
def _is_open(q, now, walk, rules):
    """Is party q's session still open at `now` (within the gap, the span and the size cap)?"""
    return (walk.count[q] > 0 and now - walk.last_ts[q] <= rules.gap_us and now - walk.start_ts[q] <= rules.span_us
            and walk.count[q] < rules.max_arrivals)


@njit(cache=True)
def _attach(seed, domain, a, cand, rules, walk, o):
    n_ch = rules.p_follow.shape[0]
    ring_size = walk.ring.shape[1]
    for i in range(a.arrival_id.shape[0]):
        s = rng.stream_key(seed, domain, a.arrival_id[i])
        t = a.ts[i]
        c = a.country[i]
        k = a.channel[i]
        p = -1
        rule = RULE_FOLLOW_UP
        if rng.uniform(s, C_FOLLOW_UP) < rules.p_follow[k]:
            start = int(rng.uniform(s, C_RING_START) * ring_size)
            for j in range(ring_size):
                q = walk.ring[c, (start + j) % ring_size]
                if q >= 0 and cand.party_weight[q, k] > 0.0 and _is_open(q, t, walk, rules):
                    p = q
                    break
        if p < 0:
            pool = c * n_ch + k
            rule = RULE_HOME
            if cand.pool_ptr[pool + 1] == cand.pool_ptr[pool] or rng.uniform(s, C_HOME) >= rules.p_home[k]:
                pool = cand.n_countries * n_ch + k
                rule = RULE_FOREIGN
            p = cand.pool_party[rng.pick_cum(rng.uniform(s, C_PARTY), cand.pool_cum, cand.pool_ptr[pool], cand.pool_ptr[pool + 1])]
        continuing = _is_open(p, t, walk, rules)
        if continuing:
            walk.count[p] += 1
        else:
            walk.session[p] = a.arrival_id[i]
            walk.start_ts[p] = t
            walk.count[p] = 1
            walk.cur_dev[p] = -1
            walk.cur_ip[p] = -1
            walk.cur_inst[p] = -1
        walk.last_ts[p] = t
        # instrument: the session's card again, or a fresh weighted pick for this channel
        ins = walk.cur_inst[p]
        if not (ins >= 0 and cand.inst_w[ins, k] > 0.0 and rng.uniform(s, C_KEEP_INSTRUMENT) < rules.p_same_instrument):
            ins = _pick_weighted(rng.uniform(s, C_INSTRUMENT), cand.inst_w, k, cand.inst_ptr[p], cand.inst_ptr[p + 1])
            walk.cur_inst[p] = ins
        # device: the site's terminal, or the customer's own device (kept for the session)
        dev = -1
        ip = -1
        st = a.site[i]
        if st >= 0 and cand.term_ptr[st + 1] > cand.term_ptr[st] and rng.uniform(s, C_TERMINAL) < rules.p_terminal[k]:
            nt = cand.term_ptr[st + 1] - cand.term_ptr[st]
            dev = cand.term_dev[cand.term_ptr[st] + min(int(rng.uniform(s, C_TERMINAL_PICK) * nt), nt - 1)]
            ip = rng.pick_cum(rng.uniform(s, C_IP), cand.ip_cum, cand.ip_ptr[dev], cand.ip_ptr[dev + 1])
        elif walk.cur_dev[p] >= 0 and cand.dev_w[walk.cur_dev[p], k] > 0.0:
            dev = cand.dev_cand[walk.cur_dev[p]]
            ip = walk.cur_ip[p]
        else:
            d = _pick_weighted(rng.uniform(s, C_DEVICE), cand.dev_w, k, cand.dev_ptr[p], cand.dev_ptr[p + 1])
            if d < 0:  # no device the channel prefers: any device of the party
                nd = cand.dev_ptr[p + 1] - cand.dev_ptr[p]
                d = cand.dev_ptr[p] + min(int(rng.uniform(s, C_DEVICE) * nd), nd - 1)
            walk.cur_dev[p] = d
            dev = cand.dev_cand[d]
            ip = rng.pick_cum(rng.uniform(s, C_IP), cand.ip_cum, cand.ip_ptr[dev], cand.ip_ptr[dev + 1])
            walk.cur_ip[p] = ip
        walk.ring[c, walk.ring_pos[c]] = p
        walk.ring_pos[c] = (walk.ring_pos[c] + 1) % ring_size
        o.party[i] = p
        o.instrument[i] = ins
        o.device[i] = dev
        o.ip[i] = ip
        o.session_id[i] = walk.session[p]
        o.rule[i] = rule
        o.session_start[i] = not continuing


class Attacher:
    """Session-first attachment of one scenario's arrivals, fed in (ts, arrival_id) order.

    `tables` (see attachment_tables) holds the candidate structures:
    pools of parties per (country, channel) plus one foreign pool per channel, and per party
    its instrument and device candidates with a weight per channel, IPs per device and
    terminals per site. Indices returned are positions in those tables.
    """

    def __init__(self, seed: int, tables: dict, params: dict):
        self.seed = rng.check_seed(seed)
        self.domain = U64(rng.domain_id(ATTACH_DOMAIN))
        self.cand = Candidates(**{f: tables[f] for f in Candidates._fields})
        self.rules = Rules(**{f: params[f] for f in Rules._fields})
        n_parties = tables["party_weight"].shape[0]
        self.walk = Walk(
            last_ts=np.full(n_parties, np.iinfo(np.int64).min // 2, np.int64),
            start_ts=np.zeros(n_parties, np.int64),
            count=np.zeros(n_parties, np.int64),
            session=np.full(n_parties, -1, np.int64),
            cur_dev=np.full(n_parties, -1, np.int64),
            cur_ip=np.full(n_parties, -1, np.int64),
            cur_inst=np.full(n_parties, -1, np.int64),
            ring=np.full((tables["n_countries"], params["ring_size"]), -1, np.int64),
            ring_pos=np.zeros(tables["n_countries"], np.int64),
        )
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
            if country.min() < 0 or country.max() >= self.cand.n_countries:
                raise ValueError("country index out of range")
            if channel.min() < 0 or channel.max() >= len(CHANNELS):
                raise ValueError("channel index out of range")
            if site.max() >= self.cand.term_ptr.size - 1:
                raise ValueError("site index out of range (use -1 for no site)")
            self._last = (int(ts_us[-1]), int(arrival_id[-1]))
        o = Attachments(**{name: np.empty(n, np.int64) for name in ("party", "instrument", "device", "ip", "session_id")},
                        rule=np.empty(n, np.int8), session_start=np.empty(n, np.bool_))
        _attach(U64(self.seed), self.domain, Arrivals(arrival_id, ts_us, country, channel, site), self.cand,
                self.rules, self.walk, o)
        return o._asdict()


def _csr(owner: np.ndarray, n_owners: int) -> np.ndarray:
    """Offsets of rows already sorted by owner index."""
    return np.searchsorted(owner, np.arange(n_owners + 1)).astype(np.int64)


def attachment_tables(seed: int, countries: list, parties: pa.Table, segments: pa.Table, accounts: pa.Table,
                      instruments: pa.Table, devices: pa.Table, device_links: pa.Table, ip_links: pa.Table,
                      policy: dict) -> dict:
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

    il_dev_ok = ip_links.filter(pa.compute.is_valid(ip_links.column("device_id")))
    il_dev = np.searchsorted(dev_sorted, column(il_dev_ok, "device_id").astype(np.int64))
    il_ip = column(il_dev_ok, "ip_id").astype(np.int64)
    r_code, r_labels = codes(il_dev_ok, "link_role")
    il_w = policy_lookup(att["ip_role_weight"], r_labels, "ip_role_weight")[r_code]
    ip_sort = np.lexsort((il_ip, il_dev))
    il_dev, il_ip, il_w = il_dev[ip_sort], il_ip[ip_sort], il_w[ip_sort]
    keep = il_w > 0
    il_dev, il_ip, il_w = il_dev[keep], il_ip[keep], il_w[keep]
    ip_ptr = _csr(il_dev, dev_sorted.size)
    has_ip = ip_ptr[1:] > ip_ptr[:-1]

    dl = device_links.filter(pa.compute.is_in(device_links.column("link_role"),
                                              value_set=pa.array(["PRIMARY_OWNER", "SECONDARY_USER"])))
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

    return {
        "n_countries": n_c,
        "party_id": party_id, "party_country": party_country, "party_weight": np.ascontiguousarray(party_weight),
        "pool_ptr": np.array(ptr, np.int64), "pool_party": np.concatenate(members).astype(np.int64),
        "pool_cum": np.cumsum(np.concatenate(weights)),
        "inst_ptr": inst_ptr, "inst_w": np.ascontiguousarray(inst_w), "inst_id": ins_id, "inst_account": acc_id[pos],
        "dev_ptr": dev_ptr, "dev_w": np.ascontiguousarray(dev_w), "dev_cand": dl_dev.astype(np.int64),
        "device_id": dev_sorted,
        "ip_ptr": ip_ptr, "ip_cum": np.cumsum(il_w), "ip_id": il_ip,
        "site_ids": site_ids, "term_ptr": term_ptr, "term_dev": term_dev.astype(np.int64),
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
    }
