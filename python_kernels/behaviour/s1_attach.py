"""6B S1 session-first attachment: who each arrival is (party, instrument, device, IP, session).

`Attacher` walks one scenario's arrivals in (ts_utc, arrival_id) order, carrying a small
state per party (its open session, device, IP and instrument, and where and when it last paid
in person) and a ring of recently active parties per country. People are somewhere: an
in-person arrival at a site takes its party from the cells of homes around the site (distance
decay), and never a party that could not have travelled there since its last in-person payment
(further than `min_km` at more than `max_kmh`), nor one away on a trip elsewhere; a draw that
could not is drawn again. In-person payments abroad are made by travellers on their trip there,
and a share of those at home by domestic travellers staying nearby. The walk is sequential by
nature (whether a session is open depends on earlier arrivals), so it is single-threaded and its
state can be carried from one chunk of arrivals to the next: the result does not depend on
chunking. Draws per arrival come from the stream (seed, "6B.s1.attach", arrival_id) with the
counters named below.

The candidate structures it walks come from `s1_candidates.attachment_tables`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from python_kernels.behaviour.s1_locality import NEVER, can_be_here, in_locality, local_party, network, visitor
from python_kernels.core import rng
from python_kernels.core.vocabulary import CHANNELS

U64 = np.uint64
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
# 10-17 and 40-43: the locality draws (s1_locality)
# 60-63: the network a session goes online through (s1_locality.network)
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
    dev_from: np.ndarray      # per device: in use from this instant (renewals) until dev_until
    dev_until: np.ndarray
    ip_ptr: np.ndarray        # IPs per device
    ip_cum: np.ndarray
    ip_carrier: np.ndarray    # per IP link: the country of its mobile carrier, -1 for no carrier IP
    ip_tunnel: np.ndarray     # per IP link: a VPN exit (it hides whatever network carries it)
    carrier_ip_ptr: np.ndarray  # per country: its mobile carriers' addresses (positions after the trip IPs')
    term_ptr: np.ndarray      # terminals per site
    term_dev: np.ndarray
    loc_lat: np.ndarray       # every site (arrivals' `loc`): coordinates
    loc_lon: np.ndarray
    near_ptr: np.ndarray      # home cells around each site
    near_cell: np.ndarray
    near_cum: np.ndarray      # [channel, near entry]: cumulative pick weights within each site's slice
    cell_ptr: np.ndarray      # parties per home cell
    cell_party: np.ndarray
    cell_cum: np.ndarray      # [channel, cell entry]: cumulative pick weights within each cell
    trip_ptr: np.ndarray      # trips abroad per destination country, by start
    trip_party: np.ndarray
    trip_start: np.ndarray
    trip_end: np.ndarray
    trip_max_us: int          # the longest trip
    away_dest: np.ndarray     # per party: its trip's destination (-1: none), start and end
    away_start: np.ndarray
    away_end: np.ndarray
    trip_ip_ptr: np.ndarray   # per country: the IPs a traveller's device may take there (positions after the links')
    party_country: np.ndarray  # per party: its home country
    dtrip_ptr: np.ndarray     # domestic trips per destination home cell, by start
    dtrip_party: np.ndarray
    dtrip_start: np.ndarray
    dtrip_end: np.ndarray
    dtrip_max_us: int         # the longest domestic trip
    dom_start: np.ndarray     # per party: its domestic trip (start = end: none) and where it stays
    dom_end: np.ndarray
    dom_lat: np.ndarray
    dom_lon: np.ndarray


class Rules(NamedTuple):
    """The attachment and session policy as numbers (`attachment_params`)."""

    p_follow: np.ndarray      # per channel: chance to continue an open session
    p_home: np.ndarray        # per channel: home-country pool rather than the foreign pool
    p_terminal: np.ndarray    # per channel: the site's terminal rather than the customer's device
    p_same_instrument: float
    gap_us: int
    span_us: int
    max_arrivals: int
    in_person: np.ndarray     # per channel: an arrival with a site is a payment in person
    tries: int                # draws of a reachable party before giving up on reachability
    min_km: float             # moves up to this far are always possible
    max_kmh: float            # the fastest door-to-door travel
    p_local_ip: float         # a session on a trip goes online through the destination's networks
    p_carrier_churn: float    # a session on a mobile IP gets a fresh address of its carrier
    stay_km: float            # on a domestic trip, payments in person stay this close to the destination
    p_visitor: float          # an in-person payment tries a domestic visitor before residents


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
    cp_ts: np.ndarray         # last in-person payment: instant (NEVER), latitude, longitude
    cp_lat: np.ndarray
    cp_lon: np.ndarray


class Arrivals(NamedTuple):
    arrival_id: np.ndarray
    ts: np.ndarray
    country: np.ndarray       # index into the tables' countries
    channel: np.ndarray       # index into CHANNELS
    site: np.ndarray          # index into the tables' terminal sites, -1 for none
    loc: np.ndarray           # index into the tables' sites (loc_*), -1 for none


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
def _own_device(u, k, lo, hi, t, cand):
    """The device link in [lo, hi) a session on channel k at t starts on: among the identities in
    use at t, with probability dev_w[., k], else (no such weight) uniformly; the whole slice
    when none is in use."""
    total = 0.0
    n_live = 0
    for d in range(lo, hi):
        if cand.dev_from[cand.dev_cand[d]] <= t < cand.dev_until[cand.dev_cand[d]]:
            total += cand.dev_w[d, k]
            n_live += 1
    if n_live == 0:
        return lo + min(int(u * (hi - lo)), hi - lo - 1)
    weighted = total > 0.0
    target = u * total if weighted else float(min(int(u * n_live), n_live - 1))
    acc = 0.0
    last = -1
    for d in range(lo, hi):
        if cand.dev_from[cand.dev_cand[d]] <= t < cand.dev_until[cand.dev_cand[d]]:
            w = cand.dev_w[d, k] if weighted else 1.0
            if w > 0.0:
                acc += w
                last = d
                if acc > target:
                    return d
    return last


@njit(inline="always", cache=True)
def _is_open(q, now, count, last_ts, start_ts, gap_us, span_us, max_arrivals):
    """Is party q's session still open at `now` (within the gap, the span and the size cap)?"""
    return (count[q] > 0 and now - last_ts[q] <= gap_us and now - start_ts[q] <= span_us
            and count[q] < max_arrivals)


@njit(cache=True)
def _attach(seed, domain, a, cand, rules, walk, o):
    n_ch = rules.p_follow.shape[0]
    ring_size = walk.ring.shape[1]
    # the session test runs for every candidate party: it takes arrays, not the tuples, so a call
    # does not pay a reference count for every array in them
    count, last_ts, start_ts = walk.count, walk.last_ts, walk.start_ts
    gap_us, span_us, max_arrivals = rules.gap_us, rules.span_us, rules.max_arrivals
    cp_ts, cp_lat, cp_lon = walk.cp_ts, walk.cp_lat, walk.cp_lon
    for i in range(a.arrival_id.shape[0]):
        s = rng.stream_key(seed, domain, a.arrival_id[i])
        t = a.ts[i]
        c = a.country[i]
        k = a.channel[i]
        loc = a.loc[i] if rules.in_person[k] else -1
        lat = cand.loc_lat[loc] if loc >= 0 else 0.0
        lon = cand.loc_lon[loc] if loc >= 0 else 0.0
        p = -1
        rule = RULE_FOLLOW_UP
        if rng.uniform(s, C_FOLLOW_UP) < rules.p_follow[k]:
            start = int(rng.uniform(s, C_RING_START) * ring_size)
            for j in range(ring_size):
                q = walk.ring[c, (start + j) % ring_size]
                if (q >= 0 and cand.party_weight[q, k] > 0.0
                        and _is_open(q, t, count, last_ts, start_ts, gap_us, span_us, max_arrivals)
                        and (loc < 0 or in_locality(q, t, c, lat, lon, cand, walk, rules))):
                    p = q
                    break
        if p < 0:
            pool = c * n_ch + k
            rule = RULE_HOME
            if cand.pool_ptr[pool + 1] == cand.pool_ptr[pool] or rng.uniform(s, C_HOME) >= rules.p_home[k]:
                pool = cand.n_countries * n_ch + k
                rule = RULE_FOREIGN
            p = cand.pool_party[rng.pick_cum(rng.uniform(s, C_PARTY), cand.pool_cum, cand.pool_ptr[pool],
                                             cand.pool_ptr[pool + 1])]
            if loc >= 0 and rule == RULE_FOREIGN:
                # in person from abroad: a traveller on a trip here, else someone living nearby
                v = visitor(s, k, c, t, lat, lon, cand, rules, walk)
                if v >= 0:
                    p = v
                else:
                    rule = RULE_HOME
            if loc >= 0 and rule == RULE_HOME:
                p = local_party(s, k, c, loc, t, lat, lon, p, cand, rules, walk)
        if loc >= 0:
            cp_ts[p] = t
            cp_lat[p] = lat
            cp_lon[p] = lon
        continuing = _is_open(p, t, count, last_ts, start_ts, gap_us, span_us, max_arrivals)
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
            d = _own_device(rng.uniform(s, C_DEVICE), k, cand.dev_ptr[p], cand.dev_ptr[p + 1], t, cand)
            walk.cur_dev[p] = d
            dev = cand.dev_cand[d]
            ip = network(s, rng.pick_cum(rng.uniform(s, C_IP), cand.ip_cum, cand.ip_ptr[dev], cand.ip_ptr[dev + 1]),
                          p, t, cand, rules)
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

    `tables` (see s1_candidates.attachment_tables) holds the candidate structures:
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
            cp_ts=np.full(n_parties, NEVER, np.int64),
            cp_lat=np.zeros(n_parties),
            cp_lon=np.zeros(n_parties),
        )
        self._last = (np.iinfo(np.int64).min, np.iinfo(np.int64).min)

    def feed(self, arrival_id, ts_us, country, channel, site, loc) -> dict:
        """Attach the next arrivals; they must continue the (ts, arrival_id) order. `site` indexes
        the terminal sites, `loc` every site (-1: none)."""
        arrival_id = np.ascontiguousarray(arrival_id, np.int64)
        ts_us = np.ascontiguousarray(ts_us, np.int64)
        country = np.ascontiguousarray(country, np.int64)
        channel = np.ascontiguousarray(channel, np.int64)
        site = np.ascontiguousarray(site, np.int64)
        loc = np.ascontiguousarray(loc, np.int64)
        n = arrival_id.size
        if not (ts_us.size == country.size == channel.size == site.size == loc.size == n):
            raise ValueError("arrival_id, ts_us, country, channel, site and loc must have one entry per arrival")
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
            if loc.max() >= self.cand.loc_lat.size:
                raise ValueError("loc index out of range (use -1 for no site)")
            self._last = (int(ts_us[-1]), int(arrival_id[-1]))
        o = Attachments(**{name: np.empty(n, np.int64) for name in ("party", "instrument", "device", "ip", "session_id")},
                        rule=np.empty(n, np.int8), session_start=np.empty(n, np.bool_))
        _attach(U64(self.seed), self.domain, Arrivals(arrival_id, ts_us, country, channel, site, loc), self.cand,
                self.rules, self.walk, o)
        return o._asdict()
