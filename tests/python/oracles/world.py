"""Slow oracles of the world kernels for the tests: plain Python, one entity at a time
(and zoneinfo itself for the transition table)."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np

from python_kernels.core import rng
from python_kernels.world.graph.config import ACCOUNT_ID_BASE, INSTRUMENT_ID_BASE, PARTY_ID_BASE, RETAIL
from python_kernels.world.tz import _zone

U64 = np.uint64
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def draw_parties_naive(seed, counts, country_region, type_weights, segment_weights, tz_offsets, tz_weights,
                       household_weights, domain="s1_party_base_6A.attributes"):
    """Slow oracle of draw_parties: one party at a time with scalar draws."""
    dom = rng.domain_id(domain)

    def pick(stream, ctr, weights):
        u = rng.uniform(U64(stream), U64(ctr)) * float(np.cumsum(weights)[-1])
        acc = 0.0
        for k, w in enumerate(weights):
            acc += w
            if u < acc and w > 0:
                return k
        return len(weights) - 1

    rows = []
    i = 0
    for c, n_c in enumerate(counts):
        r = country_region[c]
        head, room = -1, 0
        tzw = list(tz_weights[tz_offsets[c]:tz_offsets[c + 1]])
        for _ in range(n_c):
            s = rng.stream_key(U64(seed), U64(dom), U64(PARTY_ID_BASE + i))
            t = pick(s, 0, list(type_weights[r]))
            g = pick(s, 1, list(segment_weights[r][t]))
            if t == RETAIL and room > 0:
                hh, tz = head, rows[head][3]
                room -= 1
            else:
                if t == RETAIL:
                    head, room = i, pick(s, 2, list(household_weights))
                hh, tz = i, tz_offsets[c] + pick(s, 3, tzw)
            rows.append((c, t, g, tz, hh))
            i += 1
    sizes = {}
    for row in rows:
        sizes[row[4]] = sizes.get(row[4], 0) + 1
    cols = list(zip(*rows)) if rows else [()] * 5
    return tuple(np.array(x, dtype=np.int64) for x in cols) + (np.array([sizes[r[4]] for r in rows], np.int64),)


def draw_accounts_naive(seed, party_ids, party_type, party_seg, acc_party_type, p_hold, extra, max_count, required,
                        cap, domain="s2_account_base_6A.counts"):
    dom = U64(rng.domain_id(domain))
    owner, types = [], []
    for i, pid in enumerate(party_ids):
        s = U64(rng.stream_key(U64(seed), dom, U64(pid)))
        counts = []
        for k in range(len(acc_party_type)):
            c = 0
            if acc_party_type[k] == party_type[i]:
                if rng.uniform(s, U64(2 * k)) < p_hold[k][party_seg[i]]:
                    c = min(1 + rng.poisson(s, U64(2 * k + 1), extra[k]), max_count[k])
                if required[k]:
                    c = max(c, 1)
            counts.append(c)
        for k in reversed(range(len(counts))):
            while sum(counts) > cap and counts[k] > (1 if required[k] else 0):
                counts[k] -= 1
        for k, c in enumerate(counts):
            owner += [i] * c
            types += [k] * c
    n = len(owner)
    return (ACCOUNT_ID_BASE + np.arange(n, dtype=np.int64), np.array(owner, np.int64), np.array(types, np.int64))


def draw_instruments_naive(seed, account_ids, acc_type, acc_seg, acc_region, lam, max_per, mix_weights, family,
                           scheme_weights, domain="s3_instrument_base_6A.draws"):
    dom = U64(rng.domain_id(domain))
    mix_cum = np.cumsum(np.asarray(mix_weights, dtype=np.float64), -1)
    sch_cum = np.cumsum(np.asarray(scheme_weights, dtype=np.float64), -1)
    rows = []
    for a, aid in enumerate(account_ids):
        s = U64(rng.stream_key(U64(seed), dom, U64(aid)))
        k = acc_type[a]
        n = min(1 + rng.poisson(s, U64(0), lam[k] - 1.0), max_per)
        for j in range(n):
            cum = mix_cum[k, acc_seg[a]]
            t = int(np.searchsorted(cum, rng.uniform(s, U64(1 + 2 * j)) * cum[-1], side="right"))
            cum2 = sch_cum[family[t], acc_region[a]]
            sc = int(np.searchsorted(cum2, rng.uniform(s, U64(2 + 2 * j)) * cum2[-1], side="right"))
            rows.append((a, t, sc))
    cols = [np.array(c, np.int64) for c in zip(*rows)] if rows else [np.empty(0, np.int64)] * 3
    return (INSTRUMENT_ID_BASE + np.arange(len(rows), dtype=np.int64), *cols)


def draw_party_devices_naive(seed, party_ids, party_type, digital, household_size, extra, tilt, max_per, type_weights,
                             os_weights, p_shared, domain="s4_device_base_6A.party_devices"):
    dom = U64(rng.domain_id(domain))
    tc, oc = np.cumsum(type_weights, -1), np.cumsum(os_weights, -1)

    def pick(s, ctr, cum):
        return int(np.searchsorted(cum, rng.uniform(s, U64(ctr)) * cum[-1], side="right"))

    rows = []
    for i, pid in enumerate(party_ids):
        s = U64(rng.stream_key(U64(seed), dom, U64(pid)))
        lam = extra[party_type[i]] * math.exp(tilt * (digital[i] - 0.5) * 2.0)
        for j in range(min(1 + rng.poisson(s, U64(0), lam), max_per)):
            d = pick(s, 1 + 3 * j, tc[party_type[i]])
            shared = household_size[i] >= 2 and rng.uniform(s, U64(3 + 3 * j)) < p_shared[d]
            rows.append((i, d, pick(s, 2 + 3 * j, oc[d]), shared))
    cols = list(zip(*rows))
    return tuple(np.array(c, np.bool_ if k == 3 else np.int64) for k, c in enumerate(cols))


def draw_renewals_naive(seed, owner_ids, rate_per_year, horizon_us, max_renewals,
                        domain="s4_device_base_6A.renewals"):
    """Identities per device row: the original, then one per renewal at sorted uniform instants."""
    dom = U64(rng.domain_id(domain))
    lo, hi = horizon_us
    never = np.iinfo(np.int64).max
    rows, seen = [], {}
    for i, pid in enumerate(owner_ids):
        j = seen[pid] = seen.get(pid, -1) + 1  # the device's ordinal among its owner's
        s = U64(rng.stream_key(U64(seed), dom, U64(pid)))
        base = j * (max_renewals + 1)
        years = (hi - lo) / (365.25 * 86_400e6)
        n = min(rng.poisson(s, U64(base), rate_per_year[i] * years), max_renewals)
        cuts = sorted(lo + min(int(rng.uniform(s, U64(base + 1 + r)) * (hi - lo)), hi - lo - 1) for r in range(n))
        bounds = [-never] + cuts + [never]
        rows += [(i, bounds[r], bounds[r + 1]) for r in range(n + 1)]
    return tuple(np.array(c, np.int64) for c in zip(*rows))


def draw_terminals_naive(seed, site_ids, is_atm, count_weights, os_pos_weights, os_atm_weights,
                         domain="s4_device_base_6A.terminals"):
    dom = U64(rng.domain_id(domain))
    cc = np.cumsum(count_weights)
    rows = []
    for i, sid in enumerate(site_ids):
        s = U64(rng.stream_key(U64(seed), dom, U64(sid)))
        n = 1 + int(np.searchsorted(cc, rng.uniform(s, U64(0)) * cc[-1], side="right"))
        oc = np.cumsum(os_atm_weights if is_atm[i] else os_pos_weights)
        for j in range(n):
            rows.append((i, int(np.searchsorted(oc, rng.uniform(s, U64(1 + j)) * oc[-1], side="right"))))
    cols = list(zip(*rows))
    return tuple(np.array(c, np.int64) for c in cols)


def weekly_shape_naive(dow_w, floor, power, peaks, shift):
    """Oracle for one template: peaks = [(center, sigma, amp)]."""
    v = []
    for d in range(7):
        for h in range(24):
            m = h * 60 + 30
            mix = floor + sum(a * math.exp(-0.5 * (min(abs(m - c) % 1440, 1440 - abs(m - c) % 1440) / s) ** 2)
                              for c, s, a in peaks)
            v.append((dow_w[(d + shift) % 7] * mix) ** power)
    t = sum(v)
    return np.array([x / t for x in v])


def zone_weekly_volume_naive(m_stream, z_stream, median, alpha, clip, jitter_sigma, sites, mult,
                             cap, slope, hard):
    u = rng.uniform(U64(m_stream), U64(0))
    per_site = min(median / 2 ** (1 / alpha) * (1 - u) ** (-1 / alpha), clip)
    per_site *= math.exp(jitter_sigma * rng.normal(U64(z_stream), U64(0)) - jitter_sigma ** 2 / 2)
    w = sites * per_site * mult
    return per_site, (min(cap + slope * (w - cap), hard * cap) if w > cap else w)


def cap_country_share_naive(country, merchant_id, weekly, max_share, floor_merchants):
    """Oracle: per country, repeat t_m <- min(original t_m, cap * sum t) until it stops moving
    (a decreasing fixed-point iteration, where the kernel solves for the level directly)."""
    totals = {}
    for c, m, w in zip(country, merchant_id, weekly):
        totals[(c, m)] = totals.get((c, m), 0.0) + float(w)
    factor = {}
    for c in {c for c, _ in totals}:
        orig = {m: t for (cc, m), t in totals.items() if cc == c}
        cap = max(max_share, floor_merchants / len(orig))
        cur = dict(orig)
        for _ in range(100000):
            total = sum(cur.values())
            nxt = {m: min(orig[m], cap * total) for m in orig}
            if all(abs(nxt[m] - cur[m]) <= 1e-13 * total for m in orig):
                break
            cur = nxt
        for m in orig:
            factor[(c, m)] = cur[m] / orig[m] if orig[m] > 0 else 1.0
    return np.array([factor[(c, m)] for c, m in zip(country, merchant_id)])


def offset_at_naive(tzid: str, t_utc_us: int) -> int:
    """Oracle: zoneinfo directly."""
    t = _EPOCH + timedelta(microseconds=int(t_utc_us))
    return int(t.astimezone(_zone(tzid)).utcoffset().total_seconds()) // 60
