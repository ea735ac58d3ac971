"""World geography kernels against slow, obviously-correct oracles (no dbt)."""
import hashlib
import math

import numpy as np
import pytest
import yaml

from python_kernels.core import rng
from python_kernels.world import geo

CFG = yaml.safe_load(open("policies/world.yaml"))
SEED = 20260101


def _stream(domain, key):
    return np.uint64(rng.stream_key(np.uint64(SEED), np.uint64(rng.domain_id(domain)), np.uint64(key)))


def _pick(u, weights):
    """Index whose cumulative interval holds u * total (linear scan)."""
    acc, total = 0.0, sum(weights)
    for i, w in enumerate(weights):
        acc += w
        if u * total < acc:
            return i
    return len(weights) - 1


# ---- country split -------------------------------------------------------------------------

def _split_oracle(merchant_id, home, n_sites, pct_rank, weight, region, cfg):
    rows = []
    for m, h, n, pr in zip(merchant_id, home, n_sites, pct_rank):
        s = _stream("int_world_merchant_countries.split", m)
        chosen = [h]
        if n >= 2 and rng.uniform(s, np.uint64(geo.SPLIT_CTR_MULTI)) < cfg["p_multi_base"] + cfg["p_multi_slope"] * pr:
            extra = 1 + rng.poisson(s, np.uint64(geo.SPLIT_CTR_EXTRA), cfg["extra_countries_log_rate"] * math.log(n))
            extra = min(extra, cfg["max_countries"] - 1, n - math.ceil(cfg["home_min_share"] * n - 1e-9), len(weight) - 1)
            avail = [w * (cfg["same_region_boost"] if region[c] == region[h] else 1.0) for c, w in enumerate(weight)]
            avail[h] = 0.0
            for j in range(extra):
                if sum(avail) <= 0:
                    break
                c = _pick(rng.uniform(s, np.uint64(geo.SPLIT_CTR_PICK + j)), avail)
                chosen.append(c)
                avail[c] = 0.0
        k = len(chosen)
        if k == 1:
            rows.append((m, h, 0, n))
            continue
        g = [rng.gamma(s, np.uint64(geo.SPLIT_CTR_DIRICHLET + j * rng.GAMMA_WINDOW), cfg["dirichlet_alpha"]) for j in range(k)]
        home_sites = max(math.ceil(cfg["home_min_share"] * n - 1e-9), math.floor(g[0] / sum(g) * n + 0.5))
        home_sites = min(home_sites, n - (k - 1))
        spare = n - home_sites - (k - 1)
        quotas = [g[j] / sum(g[1:]) * spare for j in range(1, k)]
        sites = [1 + math.floor(q) for q in quotas]
        by_remainder = sorted(range(k - 1), key=lambda j: (-(quotas[j] - math.floor(quotas[j])), j))
        for j in by_remainder[: spare - sum(math.floor(q) for q in quotas)]:
            sites[j] += 1
        rows.append((m, h, 0, home_sites))
        rows.extend((m, chosen[j + 1], j + 1, sites[j]) for j in range(k - 1))
    return rows


def _merchants(n, seed=3):
    r = np.random.default_rng(seed)  # test inputs only, never persisted
    n_sites = np.where(r.random(n) < 0.4, 1, 2 + np.floor(np.exp(np.log(3) + 1.2 * r.normal(size=n))).astype(np.int64))
    pct = np.argsort(np.argsort(n_sites, kind="stable"), kind="stable") / max(n - 1, 1)
    return np.arange(1_000_001, 1_000_001 + n), r.integers(0, 12, n), n_sites, pct


def test_split_countries_matches_oracle_and_invariants():
    m, home, n_sites, pct = _merchants(400)
    weight = np.linspace(1.0, 3.0, 12) / np.linspace(1.0, 3.0, 12).sum()
    region = np.arange(12) % 3
    cfg = CFG["countries"]
    got = list(zip(*(a.tolist() for a in geo.split_countries(SEED, m, home, n_sites, pct, weight, region, cfg))))
    assert got == _split_oracle(m.tolist(), home.tolist(), n_sites.tolist(), pct.tolist(), weight.tolist(), region.tolist(), cfg)
    by_merchant = {}
    for mid, c, order, k in got:
        by_merchant.setdefault(mid, []).append((order, c, k))
    for mid, h, n in zip(m.tolist(), home.tolist(), n_sites.tolist()):
        rows = sorted(by_merchant[mid])
        assert rows[0][1] == h and sum(r[2] for r in rows) == n
        assert all(r[2] >= 1 for r in rows) and len({r[1] for r in rows}) == len(rows) <= cfg["max_countries"]
        assert rows[0][2] >= math.ceil(cfg["home_min_share"] * n)
    assert 0.1 < sum(len(v) > 1 for v in by_merchant.values()) / len(by_merchant) < 0.5


def test_split_countries_ignores_input_order():
    m, home, n_sites, pct = _merchants(200)
    weight, region = np.full(12, 1 / 12), np.arange(12) % 4
    perm = np.random.default_rng(9).permutation(m.size)
    a = geo.split_countries(SEED, m, home, n_sites, pct, weight, region, CFG["countries"])
    b = geo.split_countries(SEED, m[perm], home[perm], n_sites[perm], pct[perm], weight, region, CFG["countries"])
    assert sorted(zip(*(x.tolist() for x in a))) == sorted(zip(*(x.tolist() for x in b)))


# ---- placement -----------------------------------------------------------------------------

GEO_ROWS = dict(tz_country=[0, 0, 0, 1, 2, 2], tz_share=[0.5, 0.3, 0.2, 1.0, 0.9, 0.1],
                anchor_tz=[0, 0, 1, 2, 3, 4, 4, 5], anchor_weight=[0.6, 0.4, 1, 1, 1, 0.7, 0.3, 1],
                anchor_lat=[40.0, 34.0, 41.8, 39.7, 51.5, -33.9, -37.8, 89.95],
                anchor_lon=[-74.0, -118.2, -87.6, -105.0, -0.1, 151.2, 144.9, 179.9])


def _geography():
    return geo.Geography(**GEO_ROWS, n_countries=3)


def _place_oracle(s, country, jitter):
    tzs = [t for t, c in enumerate(GEO_ROWS["tz_country"]) if c == country]
    t = tzs[_pick(rng.uniform(s, np.uint64(geo.PLACE_CTR)), [GEO_ROWS["tz_share"][x] for x in tzs])]
    anchors = [a for a, x in enumerate(GEO_ROWS["anchor_tz"]) if x == t]
    a = anchors[_pick(rng.uniform(s, np.uint64(geo.PLACE_CTR + 1)), [GEO_ROWS["anchor_weight"][x] for x in anchors])]
    lat = GEO_ROWS["anchor_lat"][a] + jitter * rng.normal(s, np.uint64(geo.PLACE_CTR + 2))
    lon = GEO_ROWS["anchor_lon"][a] + jitter * rng.normal(s, np.uint64(geo.PLACE_CTR + 4))
    lat = min(89.9, max(-89.9, lat))
    lon = lon - 360.0 if lon >= 180.0 else lon + 360.0 if lon < -180.0 else lon
    return t, lat, lon


def test_place_sites_matches_oracle():
    keys = geo.low63_sha256([f"{m}:XX:{o}" for m in range(50) for o in range(1, 5)])
    country = np.arange(keys.size) % 3
    tz, lat, lon = geo.place_sites(SEED, keys, country, _geography(), 0.15)
    want = [_place_oracle(_stream("world_sites.place", k), c, 0.15) for k, c in zip(keys.tolist(), country.tolist())]
    assert list(zip(tz.tolist(), lat.tolist(), lon.tolist())) == want
    assert all(GEO_ROWS["tz_country"][t] == c for t, c in zip(tz.tolist(), country.tolist()))
    assert np.all(np.abs(lat) <= 90) and np.all((lon >= -180) & (lon < 180))


def test_build_edges_matches_oracle():
    merchants, n_edges = np.array([1_000_005, 1_000_009, 1_000_042]), np.array([8, 16, 32])
    cdn_country, cdn_weight = np.array([0, 2]), np.array([0.7, 0.3])
    out = geo.build_edges(SEED, merchants, n_edges, cdn_country, cdn_weight, _geography(), 0.15, 1.1)
    want = []
    for m, n in zip(merchants.tolist(), n_edges.tolist()):
        zipf = [(j + 1.0) ** -1.1 for j in range(n)]
        for j in range(n):
            s = _stream("world_edges.place", rng.combine(np.uint64(m), np.uint64(j)))
            c = cdn_country[_pick(rng.uniform(s, np.uint64(0)), cdn_weight.tolist())]
            t, lat, lon = _place_oracle(s, c, 0.15)
            want.append((m, j, c, t, lat, lon, zipf[j] / sum(zipf)))
    got = list(zip(*(a.tolist() for a in out)))
    assert [g[:6] for g in got] == [w[:6] for w in want]
    assert np.allclose([g[6] for g in got], [w[6] for w in want], rtol=0, atol=1e-15)
    weights = out[6]
    for m in merchants:
        assert abs(weights[out[0] == m].sum() - 1.0) < 1e-12


# ---- site weights --------------------------------------------------------------------------

def _cap_and_floor_oracle(w, cap, floor):
    w = list(w)
    for _ in range(64):
        changed = False
        low = [i for i, x in enumerate(w) if x < floor]
        lift = sum(floor - w[i] for i in low)
        above = sum(x - floor for x in w if x >= floor)
        if lift > 1e-15 and above > 0:
            w = [floor if x < floor else x - (x - floor) * lift / above for x in w]
            changed = True
        top = max(range(len(w)), key=lambda i: (w[i], -i))
        if w[top] > cap + 1e-15:
            excess, rest = w[top] - cap, 1.0 - w[top]
            w = [cap if i == top else x + excess * (x / rest) for i, x in enumerate(w)]
            changed = True
        if not changed:
            break
    return [x / sum(w) for x in w]


def test_site_weights_matches_oracle_and_respects_caps():
    n_sites = np.array([1, 2, 3, 5, 8, 12, 40, 2, 9, 1, 4, 150])
    merchants = np.arange(1_000_001, 1_000_001 + n_sites.size)
    tier = np.where(n_sites >= 9, 2, np.where(n_sites >= 4, 1, 0))
    end = np.cumsum(n_sites)
    start = end - n_sites
    cfg = CFG["site_weights"]
    weight, profile = geo.site_weights(SEED, merchants, start, end, tier, cfg)
    for m, a, b, t in zip(merchants.tolist(), start.tolist(), end.tolist(), tier.tolist()):
        n, tname = b - a, geo.TIERS[t]
        w = weight[a:b]
        assert abs(w.sum() - 1.0) < 1e-12
        if n == 1:
            assert w[0] == 1.0 and profile[a] == -1
            continue
        s = _stream("world_site_weights.dirichlet", m)
        mix = [cfg["profile_mix"][tname][p] for p in geo.PROFILES]
        p = _pick(rng.uniform(s, np.uint64(geo.WEIGHT_CTR_PROFILE)), mix)
        alpha = cfg["alpha"][geo.PROFILES[p]]
        g = [rng.gamma(s, np.uint64(geo.WEIGHT_CTR_GAMMA + j * rng.GAMMA_WINDOW), alpha["hub"] if j == 0 else alpha["other"])
             for j in range(n)]
        floor = min(cfg["site_floor"][tname], cfg["floor_max_of_uniform"] / n)
        want = _cap_and_floor_oracle([x / sum(g) for x in g], cfg["top1_cap"][tname], floor)
        assert np.all(profile[a:b] == p)
        assert np.allclose(w, want, rtol=0, atol=1e-12)
        assert w.max() <= cfg["top1_cap"][tname] + 1e-12 and w.min() >= floor - 1e-12


def test_site_weights_rejects_bad_ranges():
    with pytest.raises(ValueError):
        geo.site_weights(SEED, [1, 2], [0, 3], [2, 4], [0, 0], CFG["site_weights"])


def test_low63_sha256_is_the_masked_sha256_prefix():
    text = "1000001:US:1"
    want = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") & ((1 << 63) - 1)
    assert geo.low63_sha256([text])[0] == want
    ids = geo.low63_sha256([f"{m}:US:{o}" for m in range(2000) for o in range(1, 6)])
    assert np.unique(ids).size == ids.size and ids.min() >= 0


def test_cumulative_is_per_group():
    got = geo.cumulative([1, 2, 3, 4, 5], [0, 2], [2, 5])
    assert got.tolist() == [1, 3, 3, 7, 12]
