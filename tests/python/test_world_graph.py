"""6A graph kernels against naive oracles, plus the laws the graph must obey (fast, no dbt)."""
from __future__ import annotations

import numpy as np
import pytest

from oracles import world as oracles_world
from python_kernels.core.policies import load_policies
from python_kernels.world.graph import devices, ips, population, products
from python_kernels.world.graph.config import (ACCOUNT_ID_BASE, DEVICE_ID_BASE, ID_RANGE, INSTRUMENT_ID_BASE,
                                               IP_ID_BASE, PARTY_ID_BASE)

POLICY = load_policies("policies")["graph"]
SEED = 42


def _eq(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


# ---- fixtures: a 3-country, 2-region world ---------------------------------------------------

N_SEG = 5  # segments 0-2 retail, 3 business, 4 other
TYPE_W = np.array([[0.90, 0.07, 0.03], [0.95, 0.04, 0.01]])
SEG_W = np.zeros((2, 3, N_SEG))
SEG_W[:, 0, :3] = [[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]]
SEG_W[:, 1, 3] = 1.0
SEG_W[:, 2, 4] = 1.0
TZ_OFFSETS = np.array([0, 1, 4, 5])
TZ_W = np.array([1.0, 0.5, 0.3, 0.2, 1.0])
HH_W = [POLICY["population"]["household_size"][str(k)] for k in range(1, 7)]


@pytest.fixture(scope="module")
def parties():
    counts = np.array([700, 450, 250])
    return population.draw_parties(SEED, counts, [0, 1, 1], TYPE_W, SEG_W, TZ_OFFSETS, TZ_W, HH_W)


def test_party_count_follows_the_sizing_formula():
    pop = POLICY["population"]
    n = population.party_count(5_000_000, 2160, pop)
    assert n == round(5_000_000 / (2160 / 168) / (0.42 * 6.5))
    assert 135_000 < n < 150_000
    assert population.party_count(10, 2160, pop) == pop["min_parties"]


def test_country_counts_sum_and_respect_cap_and_floor():
    pop = dict(POLICY["population"], max_country_share=0.4, min_share_of_even=0.5)
    sites = np.array([5000, 300, 200, 100, 20, 0, 1])
    c = population.country_counts(sites, [0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05], 10_000, pop)
    assert c.sum() == 10_000
    assert c.max() <= 4001 and c.min() >= 0.5 / 7 * 10_000 - 1
    assert np.all(np.diff(c[:4]) < 0)  # more sites, more parties
    assert population.largest_remainder([1, 1, 1], 10).tolist() == [4, 3, 3]


def test_parties_match_oracle(parties):
    naive = oracles_world.draw_parties_naive(SEED, [700, 450, 250], [0, 1, 1], TYPE_W, SEG_W, TZ_OFFSETS, TZ_W, HH_W)
    _eq(parties, naive)


def test_parties_are_coherent(parties):
    country, ptype, seg, tz, head, hh_size = parties
    assert np.all(TZ_OFFSETS[country] <= tz) and np.all(tz < TZ_OFFSETS[country + 1])
    assert np.all(np.where(ptype == 0, seg < 3, True)) and np.all(seg[ptype == 1] == 3) and np.all(seg[ptype == 2] == 4)
    # households: one country, one tz, retail only when shared, size 1..6
    assert np.all(country[head] == country) and np.all(tz[head] == tz)
    assert np.all(ptype[hh_size > 1] == 0) and hh_size.max() <= 6 and hh_size.min() >= 1
    assert abs((ptype == 1).mean() - 0.05) < 0.03
    mean_size = np.mean(np.bincount(head)[np.unique(head)][ptype[np.unique(head)] == 0])
    expected = sum((k + 1) * w for k, w in enumerate(HH_W))
    assert abs(mean_size - expected) < 0.25


def test_parties_depend_on_seed(parties):
    other = population.draw_parties(7, [700, 450, 250], [0, 1, 1], TYPE_W, SEG_W, TZ_OFFSETS, TZ_W, HH_W)
    assert not np.array_equal(parties[2], other[2])


# ---- accounts and instruments ----------------------------------------------------------------

ACC_PTYPE = [0, 0, 0, 1, 2]
P_HOLD = np.array([[1.0] * N_SEG, [0.5] * N_SEG, [0.3, 0.6, 0.9, 0.3, 0.3], [1.0] * N_SEG, [1.0] * N_SEG])
EXTRA = [0.05, 2.0, 3.0, 0.2, 0.05]
MAXC = [2, 4, 4, 3, 2]
REQ = [True, False, False, True, True]


def _accounts(parties, fn=products.draw_accounts, cap=5):
    _, ptype, seg, *_ = parties
    ids = PARTY_ID_BASE + np.arange(ptype.size)
    return fn(SEED, ids, ptype, seg, ACC_PTYPE, P_HOLD, EXTRA, MAXC, REQ, cap)


def test_accounts_match_oracle_and_caps(parties):
    got = _accounts(parties)
    _eq(got, _accounts(parties, oracles_world.draw_accounts_naive))
    ids, owner, acc_type = got
    per_party = np.bincount(owner, minlength=parties[0].size)
    assert per_party.min() >= 1 and per_party.max() <= 5
    assert np.all(np.diff(owner) >= 0) and np.all(ids == ACCOUNT_ID_BASE + np.arange(ids.size))
    ptype = parties[1]
    assert np.all(np.array(ACC_PTYPE)[acc_type] == ptype[owner])
    # the required type survives the cap
    required_held = np.zeros(ptype.size, bool)
    required_held[owner[np.array(REQ)[acc_type]]] = True
    assert required_held.all()
    for k, cap in enumerate(MAXC):
        assert np.bincount(owner[acc_type == k], minlength=ptype.size).max() <= cap


def test_tilted_probability():
    p = products.tilted_probability(np.array([0.2, 0.2, 1.0, 0.0]), np.array([0.5, 1.0, 0.0, 1.0]), 0.7, 0.8)
    assert p[0] == pytest.approx(0.2) and p[1] > 0.2 and p[2] == 1.0 and p[3] == 0.0


MIX = np.tile(np.array([0.5, 0.2, 0.3, 0.0]), (5, N_SEG, 1))
FAMILY = [0, 0, 1, 1]
SCHEMES = np.array([[[0.6, 0.4, 0.0], [0.5, 0.5, 0.0]], [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]])


def test_instruments_match_oracle(parties):
    ids, owner, acc_type = _accounts(parties)
    region = np.array([0, 1, 1])[parties[0]][owner]
    seg = parties[2][owner]
    args = (SEED, ids, acc_type, seg, region, [1.6, 1.0, 1.4, 1.8, 1.0], 4, MIX, FAMILY, SCHEMES)
    got = products.draw_instruments(*args)
    _eq(got, oracles_world.draw_instruments_naive(*args))
    i_ids, acc_row, i_type, scheme = got
    assert np.bincount(acc_row, minlength=ids.size).min() >= 1          # every account has one
    assert np.bincount(acc_row).max() <= 4
    assert np.all(i_ids == INSTRUMENT_ID_BASE + np.arange(i_ids.size))
    assert np.all(np.array(FAMILY)[i_type] == (scheme == 2))            # rails get the rail scheme


# ---- devices and IPs -----------------------------------------------------------------------

DEV_W = np.array([[0.6, 0.1, 0.15, 0.15, 0.0], [0.4, 0.0, 0.3, 0.1, 0.2], [0.5, 0.0, 0.5, 0.0, 0.0]])  # phone, wear, laptop, desktop, server
OS_W = np.array([[0.7, 0.3], [0.5, 0.5], [0.6, 0.4], [0.6, 0.4], [0.9, 0.1]])
P_SHARED = [0.03, 0.0, 0.1, 0.6, 0.0]


def _devices(parties, fn=devices.draw_party_devices):
    _, ptype, seg, _, _, hh_size = parties
    digital = np.array([0.9, 0.5, 0.2, 0.6, 0.5])[seg]
    return fn(SEED, PARTY_ID_BASE + np.arange(ptype.size), ptype, digital, hh_size, [1.2, 1.8, 0.6], 0.35, 6,
              DEV_W, OS_W, P_SHARED)


def test_party_devices_match_oracle(parties):
    got = _devices(parties)
    _eq(got, _devices(parties, oracles_world.draw_party_devices_naive))
    owner, d_type, _, shared = got
    per = np.bincount(owner, minlength=parties[0].size)
    assert per.min() >= 1 and per.max() <= 6
    assert 1.8 < per.mean() < 2.6
    assert np.all(parties[5][owner[shared]] >= 2)                      # only multi-person households share
    assert shared[d_type == 3].mean() > shared[d_type == 0].mean()


def test_device_renewals_match_oracle_and_rates(parties):
    """Each device gets Poisson(rate x horizon) new identities at instants inside the horizon;
    the identities of one device follow each other without gap or overlap."""
    owner, d_type, _, _ = _devices(parties)
    owner_ids = PARTY_ID_BASE + owner
    rate = np.array([0.5, 0.3, 1.5, 1.5, 0.0])[d_type]
    horizon = (1_700_000_000_000_000, 1_700_000_000_000_000 + 91 * 86_400_000_000)
    got = devices.draw_renewals(SEED, owner_ids, rate, horizon, 4)
    _eq(got, oracles_world.draw_renewals_naive(SEED, owner_ids, rate, horizon, 4))
    src, since, until = got
    per = np.bincount(src, minlength=owner.size) - 1
    assert np.all(np.diff(src) >= 0) and per.min() >= 0 and per.max() <= 4
    for t, r in ((2, 1.5), (0, 0.5)):  # mean renewals over a 91-day horizon
        assert abs(per[d_type == t].mean() - r * 91 / 365.25) < 0.05
    assert per[d_type == 4].sum() == 0
    inner = since[1:][src[1:] == src[:-1]]
    assert np.all((horizon[0] <= inner) & (inner < horizon[1]))
    assert np.all(until[:-1][src[1:] == src[:-1]] == inner)   # the old identity ends as the new one starts
    first = np.r_[True, src[1:] != src[:-1]]
    assert np.all(since[first] == -devices.NEVER) and np.all(until[np.r_[first[1:], True]] == devices.NEVER)
    with pytest.raises(ValueError, match="rate_per_year"):
        devices.draw_renewals(SEED, owner_ids, -rate, horizon, 4)


def test_terminals_match_oracle():
    sites = np.arange(500, dtype=np.int64) * 7919 + 11
    atm = np.arange(500) % 10 == 0
    args = (SEED, sites, atm, [0.5, 0.35, 0.15], [0.55, 0.45], [0.85, 0.15])
    got = devices.draw_terminals(*args)
    _eq(got, oracles_world.draw_terminals_naive(*args))
    per = np.bincount(got[0], minlength=500)
    assert per.min() == 1 and per.max() == 3 and abs(per.mean() - 1.65) < 0.1


IP_TYPES = {"mean_per_ip": [0, 85, 28, 80, 100, 105, 0], "skew": [1, 2, 1.5, 1.5, 2, 2.5, 1],
            "is_public": [False, False, False, True, False, False, False],
            "res": 0, "mob": 1, "corp": 2, "dc": 4, "end": 6,
            "abroad_p": np.zeros(7), "abroad_cum": np.zeros((7, 3))}
RECENT_W = np.array([[0, 0, 0.3, 0.4, 0.2, 0.1, 0], [0, 0, 0.2, 0.5, 0.2, 0.1, 0]])


def _ip_inputs(parties):
    country, ptype, seg, _, head, _ = parties
    owner, d_type, _, _ = _devices(parties)
    n_p = owner.size
    n_t = 40
    dv = {"id": DEVICE_ID_BASE + np.arange(n_p + n_t),
          "party_type": np.concatenate([ptype[owner], np.full(n_t, -1)]),
          "is_mobile": np.concatenate([d_type <= 1, np.zeros(n_t, bool)]),
          "is_server": np.concatenate([d_type == 4, np.zeros(n_t, bool)]),
          "country": np.concatenate([country[owner], np.arange(n_t) % 3]),
          "household": np.concatenate([PARTY_ID_BASE + head[owner], np.full(n_t, -1)]),
          "party_id": np.concatenate([PARTY_ID_BASE + owner, np.full(n_t, -1)]),
          "digital": np.concatenate([np.full(n_p, 0.5), np.zeros(n_t)]),
          "merchant": np.concatenate([np.full(n_p, -1), np.arange(n_t) % 10])}
    dv["region"] = np.array([0, 1, 1])[dv["country"]]
    m_ids = 1_000_000 + np.arange(15)
    mer = {"id": m_ids, "country": np.arange(15) % 3, "n_endpoints": ips.endpoint_counts(SEED, m_ids, 0.4)}
    return dv, mer


def test_ip_links_cover_every_device_and_pool_sensibly(parties):
    dv, mer = _ip_inputs(parties)
    out = ips.draw_ip_links(SEED, dv, mer, IP_TYPES, RECENT_W, POLICY["ips"])
    out2 = ips.draw_ip_links(SEED, dv, mer, IP_TYPES, RECENT_W, POLICY["ips"])
    _eq(list(out.values()), list(out2.values()))
    dev = out["device"]
    assert np.unique(dev[dev >= 0]).size == dv["id"].size                 # every device has an IP
    pair = dev * 10**10 + out["ip_id"]
    assert np.unique(pair[dev >= 0]).size == (dev >= 0).sum()             # one link per (device, IP)
    assert np.all(out["ip_id"] >= IP_ID_BASE) and np.all(out["ip_id"] < IP_ID_BASE + ID_RANGE)
    # an IP has one type and one country
    for col in ("ip_type", "ip_country"):
        u = np.unique(np.stack([out["ip_id"], out[col]]), axis=1)
        assert u.shape[1] == np.unique(out["ip_id"]).size
    # residential IPs stay inside one household; mobile IPs are shared by many devices
    res = out["ip_type"] == 0
    hh = dv["household"][dev[res]]
    assert np.all(np.unique(np.stack([out["ip_id"][res], hh]), axis=1).shape[1] == np.unique(out["ip_id"][res]).size)
    mob = out["ip_type"] == 1
    assert np.bincount(out["ip_id"][mob] - IP_ID_BASE).max() > 20
    # every merchant has an endpoint IP; terminals use their own merchant's
    assert set(np.unique(out["merchant"][out["merchant"] >= 0])) == set(range(15))
    term = (dev >= 0) & (out["merchant"] >= 0)
    assert np.all(dv["merchant"][dev[term]] == out["merchant"][term])


def test_ip_link_draws_match_oracle(parties):
    """The njit link pass against a scalar re-implementation of the documented counter layout."""
    from python_kernels.core import rng
    dv, mer = _ip_inputs(parties)
    pol = POLICY["ips"]
    out = ips.draw_ip_links(SEED, dv, mer, IP_TYPES, RECENT_W, pol)
    dom = rng.domain_id("int_graph_ip_links_6A.links")
    expected_recent = np.zeros(dv["id"].size, np.int64)
    for d, did in enumerate(dv["id"]):
        if dv["merchant"][d] >= 0:
            continue
        s = np.uint64(rng.stream_key(np.uint64(SEED), np.uint64(dom), np.uint64(did)))
        lam = pol["recent_login_per_device"] * np.exp(pol["recent_login_digital_tilt"] * (dv["digital"][d] - 0.5) * 2)
        expected_recent[d] = min(rng.poisson(s, np.uint64(2), lam), pol["max_recent_per_device"])
    dev = out["device"]
    got_recent = np.bincount(dev[(dev >= 0) & (out["role"] != 0) & (out["role"] != 3)], minlength=dv["id"].size)
    assert np.all(got_recent <= expected_recent)                          # de-duplication only removes
    assert got_recent.sum() >= 0.9 * expected_recent.sum()


def test_recent_login_ips_abroad_follow_the_policy_share(parties):
    dv, mer = _ip_inputs(parties)
    # type 5 (the VPN-like pool) exits abroad 60% of the time, always in country 2; type 3 never
    abroad = {**IP_TYPES, "abroad_p": np.array([0, 0, 0, 0, 0, 0.6, 0]),
              "abroad_cum": np.cumsum(np.tile([0.0, 0.0, 1.0], (7, 1)), axis=1)}
    out = ips.draw_ip_links(SEED, dv, mer, abroad, RECENT_W, POLICY["ips"])
    home = dv["country"][np.maximum(out["device"], 0)]
    vpn = (out["ip_type"] == 5) & (out["device"] >= 0) & (home != 2)
    away = out["ip_country"][vpn] != home[vpn]
    assert vpn.sum() > 100 and np.all(out["ip_country"][vpn][away] == 2)
    assert abs(away.mean() - 0.6) < 4 * np.sqrt(0.6 * 0.4 / vpn.sum())
    public = (out["ip_type"] == 3) & (out["device"] >= 0)
    assert np.all(out["ip_country"][public] == home[public])
