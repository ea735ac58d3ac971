"""Geography kernels of the closed world: country split, site and edge placement, site weights.

Every draw is keyed (`python_kernels.core.rng`): a merchant's (or site's, or edge's) stream is a
pure function of (seed, domain, entity key), and each purpose owns a fixed counter range, so
results never depend on row order, chunking or thread count. Public wrappers validate their
arrays and call a private `@njit` kernel; `tests/python/test_world_geo.py` compares each kernel
with a slow, obviously-correct oracle.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
from numba import njit

from python_kernels.core.rng import GAMMA_WINDOW, POISSON_WINDOW, U64, categorical, combine, domain_id, gamma, normal, poisson, stream_key, uniform

MASK63 = (1 << 63) - 1

# Counter layout of a merchant's country-split stream.
SPLIT_CTR_MULTI = 0
SPLIT_CTR_EXTRA = 1
SPLIT_CTR_PICK = SPLIT_CTR_EXTRA + POISSON_WINDOW
SPLIT_CTR_DIRICHLET = SPLIT_CTR_PICK + 64

# Counter layout of a site's / edge's placement stream (after an edge's country draw at 0).
PLACE_CTR = 1

# Counter layout of a merchant's site-weight stream: profile, then one gamma window per site.
WEIGHT_CTR_PROFILE = 0
WEIGHT_CTR_GAMMA = 1

PROFILES = ("hub_spoke", "heavy_tail", "near_uniform")
TIERS = ("small", "mid", "large")


def low63_sha256(texts) -> np.ndarray:
    """Stable 63-bit ids: the first 8 bytes of SHA-256 of each text, top bit cleared (fits BIGINT)."""
    return np.array([int.from_bytes(hashlib.sha256(t.encode("utf-8")).digest()[:8], "big") & MASK63 for t in texts],
                    dtype=np.int64)


def cumulative(weights, starts, ends) -> np.ndarray:
    """Cumulative weights inside each [start, end) group (numpy cumsum on the sorted rows: reproducible)."""
    w = np.ascontiguousarray(weights, dtype=np.float64)
    out = np.empty_like(w)
    for a, b in zip(starts, ends):
        out[a:b] = np.cumsum(w[a:b])
    return out


# ---- countries per merchant --------------------------------------------------------------

@njit(cache=True)
def _split_countries(seed, domain, merchant_id, home, n_sites, pct_rank, weight, region,
                     p_base, p_slope, max_countries, log_rate, boost, home_min, alpha,
                     out_merchant, out_country, out_order, out_sites):
    n_c = weight.shape[0]
    avail = np.empty(n_c)
    chosen = np.empty(max_countries, np.int64)
    g = np.empty(max_countries)
    row = 0
    for i in range(merchant_id.shape[0]):
        s = stream_key(seed, domain, merchant_id[i])
        n = n_sites[i]
        h = home[i]
        chosen[0] = h
        k = 1
        if n >= 2 and uniform(s, U64(SPLIT_CTR_MULTI)) < p_base + p_slope * pct_rank[i]:
            extra = 1 + poisson(s, U64(SPLIT_CTR_EXTRA), log_rate * math.log(n))
            room = n - int(math.ceil(home_min * n - 1e-9))
            extra = min(extra, max_countries - 1, room, n_c - 1)
            for c in range(n_c):
                avail[c] = weight[c] * (boost if region[c] == region[h] else 1.0)
            avail[h] = 0.0
            for j in range(extra):
                total = 0.0
                for c in range(n_c):
                    total += avail[c]
                if total <= 0.0:
                    break
                u = uniform(s, U64(SPLIT_CTR_PICK + j)) * total
                acc = 0.0
                pick = -1
                for c in range(n_c):
                    if avail[c] > 0.0:
                        pick = c
                        acc += avail[c]
                        if u < acc:
                            break
                chosen[k] = pick
                avail[pick] = 0.0
                k += 1
        if k == 1:
            out_merchant[row] = merchant_id[i]
            out_country[row] = h
            out_order[row] = 0
            out_sites[row] = n
            row += 1
            continue
        for j in range(k):
            g[j] = gamma(s, U64(SPLIT_CTR_DIRICHLET + j * GAMMA_WINDOW), alpha)
        g_total = 0.0
        for j in range(k):
            g_total += g[j]
        home_sites = max(int(math.ceil(home_min * n - 1e-9)), int(math.floor(g[0] / g_total * n + 0.5)))
        home_sites = min(home_sites, n - (k - 1))
        spare = n - home_sites - (k - 1)
        extra_total = g_total - g[0]
        out_merchant[row] = merchant_id[i]
        out_country[row] = h
        out_order[row] = 0
        out_sites[row] = home_sites
        first = row + 1
        given = 0
        for j in range(1, k):
            q = g[j] / extra_total * spare if extra_total > 0.0 else spare / (k - 1.0)
            fl = int(math.floor(q))
            out_merchant[row + j] = merchant_id[i]
            out_country[row + j] = chosen[j]
            out_order[row + j] = j
            out_sites[row + j] = 1 + fl
            g[j] = q - fl  # remainder, reused for largest-remainder rounding
            given += fl
        # largest remainders first; ties go to the earlier-drawn country
        for _ in range(spare - given):
            best = 1
            for j in range(2, k):
                if g[j] > g[best]:
                    best = j
            out_sites[first + best - 1] += 1
            g[best] = -1.0
        row += k
    return row


def split_countries(seed, merchant_id, home, n_sites, pct_rank, weight, region, cfg, domain="int_world_merchant_countries.split"):
    """Countries of each merchant and its sites in each: home first (order 0), then extras in draw order.

    `home`/`region` index the country arrays `weight` (merchant weights) and `region` (region codes).
    Returns (merchant_id, country index, country_order, n_sites) per merchant x country.
    """
    merchant_id = np.ascontiguousarray(merchant_id, dtype=np.int64)
    home = np.ascontiguousarray(home, dtype=np.int64)
    n_sites = np.ascontiguousarray(n_sites, dtype=np.int64)
    pct_rank = np.ascontiguousarray(pct_rank, dtype=np.float64)
    weight = np.ascontiguousarray(weight, dtype=np.float64)
    region = np.ascontiguousarray(region, dtype=np.int64)
    m = merchant_id.size
    if not (home.size == n_sites.size == pct_rank.size == m) or weight.size != region.size:
        raise ValueError("merchant arrays and country arrays must each have matching lengths")
    if m and (home.min() < 0 or home.max() >= weight.size or n_sites.min() < 1):
        raise ValueError("home country indices must be valid and every merchant needs >= 1 site")
    if np.any(weight < 0) or not np.all(np.isfinite(weight)):
        raise ValueError("country weights must be finite and non-negative")
    cap = int(cfg["max_countries"])
    out = [np.empty(m * cap, np.int64) for _ in range(4)]
    n = _split_countries(U64(seed), U64(domain_id(domain)), merchant_id, home, n_sites, pct_rank, weight, region,
                         float(cfg["p_multi_base"]), float(cfg["p_multi_slope"]), cap,
                         float(cfg["extra_countries_log_rate"]), float(cfg["same_region_boost"]),
                         float(cfg["home_min_share"]), float(cfg["dirichlet_alpha"]), *out)
    return tuple(a[:n] for a in out)


# ---- site and edge placement -------------------------------------------------------------

@njit(inline="always", cache=True)
def _anchor_point(s, ctr, t, an_start, an_end, an_cum, an_lat, an_lon, jitter):
    """A city anchor of tzid t (by weight), then Gaussian jitter; 5 counters."""
    b = an_start[t]
    k = b + categorical(s, U64(ctr), an_cum[b:an_end[t]])
    lat = an_lat[k] + jitter * normal(s, U64(ctr + 1))
    lon = an_lon[k] + jitter * normal(s, U64(ctr + 3))
    lat = min(89.9, max(-89.9, lat))
    if lon >= 180.0:
        lon -= 360.0
    elif lon < -180.0:
        lon += 360.0
    return lat, lon


@njit(inline="always", cache=True)
def _place(s, ctr, country, tz_start, tz_end, tz_cum, an_start, an_end, an_cum, an_lat, an_lon, jitter):
    """tzid (by population share), then a point around a city anchor of it; 6 counters."""
    a = tz_start[country]
    t = a + categorical(s, U64(ctr), tz_cum[a:tz_end[country]])
    lat, lon = _anchor_point(s, ctr + 1, t, an_start, an_end, an_cum, an_lat, an_lon, jitter)
    return t, lat, lon


@njit(cache=True)
def _place_homes(seed, domain, key, tz, an_start, an_end, an_cum, an_lat, an_lon, jitter, out_lat, out_lon):
    for i in range(key.shape[0]):
        out_lat[i], out_lon[i] = _anchor_point(stream_key(seed, domain, key[i]), 0, tz[i], an_start, an_end, an_cum,
                                               an_lat, an_lon, jitter)


def _keyed(key, index, n_index: int, what: str):
    """Keys and indexes as contiguous int64 arrays, one index per key, each in [0, n_index)."""
    key = np.ascontiguousarray(key, dtype=np.int64)
    index = np.ascontiguousarray(index, dtype=np.int64)
    if key.size != index.size:
        raise ValueError(f"{what}: one index per key")
    if index.size and (index.min() < 0 or index.max() >= n_index):
        raise ValueError(f"{what} index out of range")
    return key, index


def place_homes(seed, key, tz, geo: "Geography", jitter, domain="s1_party_base_6A.home"):
    """Latitude and longitude of each party's home: around a city anchor of its tzid (index into
    the geography's tzids), like the sites that serve it; keyed by `key`."""
    key, tz = _keyed(key, tz, geo.an_start.size, "home tzid")
    out_lat, out_lon = np.empty(key.size), np.empty(key.size)
    _place_homes(U64(seed), U64(domain_id(domain)), key, tz, geo.an_start, geo.an_end, geo.an_cum, geo.an_lat,
                 geo.an_lon, float(jitter), out_lat, out_lon)
    return out_lat, out_lon


@njit(cache=True)
def _place_sites(seed, domain, site_key, country, tz_start, tz_end, tz_cum, an_start, an_end, an_cum, an_lat, an_lon,
                 jitter, out_tz, out_lat, out_lon):
    for i in range(site_key.shape[0]):
        s = stream_key(seed, domain, site_key[i])
        out_tz[i], out_lat[i], out_lon[i] = _place(s, PLACE_CTR, country[i], tz_start, tz_end, tz_cum,
                                                   an_start, an_end, an_cum, an_lat, an_lon, jitter)


class Geography:
    """Country -> tzid -> anchor lookup arrays (CSR), built from sorted seed rows."""

    def __init__(self, tz_country, tz_share, anchor_tz, anchor_weight, anchor_lat, anchor_lon, n_countries):
        tz_country = np.asarray(tz_country, dtype=np.int64)
        anchor_tz = np.asarray(anchor_tz, dtype=np.int64)
        if np.any(np.diff(tz_country) < 0) or np.any(np.diff(anchor_tz) < 0):
            raise ValueError("tzids must be sorted by country and anchors by tzid")
        n_tz = tz_country.size
        self.tz_start = np.searchsorted(tz_country, np.arange(n_countries), "left").astype(np.int64)
        self.tz_end = np.searchsorted(tz_country, np.arange(n_countries), "right").astype(np.int64)
        self.an_start = np.searchsorted(anchor_tz, np.arange(n_tz), "left").astype(np.int64)
        self.an_end = np.searchsorted(anchor_tz, np.arange(n_tz), "right").astype(np.int64)
        if np.any(self.tz_end <= self.tz_start) or np.any(self.an_end <= self.an_start):
            raise ValueError("every country needs a tzid and every tzid an anchor")
        self.tz_cum = cumulative(tz_share, self.tz_start, self.tz_end)
        self.an_cum = cumulative(anchor_weight, self.an_start, self.an_end)
        self.an_lat = np.ascontiguousarray(anchor_lat, dtype=np.float64)
        self.an_lon = np.ascontiguousarray(anchor_lon, dtype=np.float64)

    def arrays(self):
        return (self.tz_start, self.tz_end, self.tz_cum, self.an_start, self.an_end, self.an_cum, self.an_lat, self.an_lon)


def place_sites(seed, site_key, country, geo: Geography, jitter, domain="world_sites.place"):
    """tzid index, latitude and longitude of each site, keyed by its site id."""
    site_key, country = _keyed(site_key, country, geo.tz_start.size, "site country")
    n = site_key.size
    out_tz, out_lat, out_lon = np.empty(n, np.int64), np.empty(n), np.empty(n)
    _place_sites(U64(seed), U64(domain_id(domain)), site_key, country, *geo.arrays(), float(jitter), out_tz, out_lat, out_lon)
    return out_tz, out_lat, out_lon


@njit(cache=True)
def _build_edges(seed, domain, merchant_id, n_edges, cdn_country, cdn_cum, tz_start, tz_end, tz_cum,
                 an_start, an_end, an_cum, an_lat, an_lon, jitter, zipf_alpha,
                 out_merchant, out_seq, out_country, out_tz, out_lat, out_lon, out_weight):
    row = 0
    for i in range(merchant_id.shape[0]):
        n = n_edges[i]
        total = 0.0
        for j in range(n):
            total += (j + 1.0) ** (-zipf_alpha)
        for j in range(n):
            s = stream_key(seed, domain, combine(merchant_id[i], j))
            c = cdn_country[categorical(s, U64(0), cdn_cum)]
            t, lat, lon = _place(s, PLACE_CTR, c, tz_start, tz_end, tz_cum, an_start, an_end, an_cum, an_lat, an_lon, jitter)
            out_merchant[row] = merchant_id[i]
            out_seq[row] = j
            out_country[row] = c
            out_tz[row] = t
            out_lat[row] = lat
            out_lon[row] = lon
            out_weight[row] = (j + 1.0) ** (-zipf_alpha) / total
            row += 1


def build_edges(seed, merchant_id, n_edges, cdn_country, cdn_weight, geo: Geography, jitter, zipf_alpha,
                domain="world_edges.place"):
    """CDN edges of virtual merchants: country by CDN weight, then tzid and anchor; Zipf weights by sequence."""
    merchant_id = np.ascontiguousarray(merchant_id, dtype=np.int64)
    n_edges = np.ascontiguousarray(n_edges, dtype=np.int64)
    cdn_country = np.ascontiguousarray(cdn_country, dtype=np.int64)
    cdn_weight = np.ascontiguousarray(cdn_weight, dtype=np.float64)
    if merchant_id.size != n_edges.size or (n_edges.size and n_edges.min() < 1):
        raise ValueError("each virtual merchant needs n_edges >= 1")
    if cdn_country.size == 0 or cdn_country.size != cdn_weight.size or np.any(cdn_weight < 0) or cdn_weight.sum() <= 0:
        raise ValueError("CDN countries need positive weights")
    n = int(n_edges.sum())
    outs = [np.empty(n, np.int64) for _ in range(4)] + [np.empty(n) for _ in range(3)]
    _build_edges(U64(seed), U64(domain_id(domain)), merchant_id, n_edges, cdn_country,
                 cumulative(cdn_weight, [0], [cdn_weight.size]), *geo.arrays(), float(jitter), float(zipf_alpha), *outs)
    return tuple(outs)


# ---- site weights ------------------------------------------------------------------------

@njit(cache=True)
def _cap_and_floor(w, cap, floor):
    """Soft top-1 cap and per-site floor, alternated until both hold; keeps the sum at 1."""
    n = w.shape[0]
    for _ in range(64):
        changed = False
        lift = 0.0
        above = 0.0
        for j in range(n):
            if w[j] < floor:
                lift += floor - w[j]
            else:
                above += w[j] - floor
        if lift > 1e-15 and above > 0.0:
            scale = lift / above
            for j in range(n):
                w[j] = floor if w[j] < floor else w[j] - (w[j] - floor) * scale
            changed = True
        top = 0
        for j in range(1, n):
            if w[j] > w[top]:
                top = j
        if w[top] > cap + 1e-15:
            excess = w[top] - cap
            rest = 1.0 - w[top]
            w[top] = cap
            for j in range(n):
                if j != top:
                    w[j] += excess * (w[j] / rest if rest > 0.0 else 1.0 / (n - 1))
            changed = True
        if not changed:
            break
    total = 0.0
    for j in range(n):
        total += w[j]
    for j in range(n):
        w[j] /= total


@njit(cache=True)
def _site_weights(seed, domain, merchant_id, start, end, tier, mix_cum, alpha_hub, alpha_other, cap, floor,
                  floor_max_of_uniform, out_weight, out_profile):
    for i in range(merchant_id.shape[0]):
        a = start[i]
        n = end[i] - a
        if n == 1:
            out_weight[a] = 1.0
            out_profile[a] = -1
            continue
        s = stream_key(seed, domain, merchant_id[i])
        t = tier[i]
        p = categorical(s, U64(WEIGHT_CTR_PROFILE), mix_cum[t])
        total = 0.0
        for j in range(n):
            al = alpha_hub[p] if j == 0 else alpha_other[p]
            x = gamma(s, U64(WEIGHT_CTR_GAMMA + j * GAMMA_WINDOW), al)
            out_weight[a + j] = x
            total += x
        w = out_weight[a:a + n]
        if total > 0.0:
            w /= total
        else:
            w[:] = 1.0 / n
        _cap_and_floor(w, cap[t], min(floor[t], floor_max_of_uniform / n))
        out_profile[a:a + n] = p


def site_weights(seed, merchant_id, start, end, tier, cfg, domain="world_site_weights.dirichlet"):
    """Routing weight of every site, merchant by merchant.

    Sites are rows [start[i], end[i]) of merchant i, the hub (first home-country site) first.
    `tier` is 0/1/2 (small/mid/large). Returns (p_weight, profile index; -1 for single sites).
    """
    merchant_id = np.ascontiguousarray(merchant_id, dtype=np.int64)
    start = np.ascontiguousarray(start, dtype=np.int64)
    end = np.ascontiguousarray(end, dtype=np.int64)
    tier = np.ascontiguousarray(tier, dtype=np.int64)
    if not (merchant_id.size == start.size == end.size == tier.size):
        raise ValueError("merchant arrays must have the same length")
    if np.any(end <= start) or np.any(start[1:] != end[:-1]) or (start.size and start[0] != 0):
        raise ValueError("merchant site ranges must be contiguous, non-empty and start at 0")
    if tier.size and (tier.min() < 0 or tier.max() > 2):
        raise ValueError("tier must be 0, 1 or 2")
    mix = np.array([[cfg["profile_mix"][t][p] for p in PROFILES] for t in TIERS])
    mix_cum = np.ascontiguousarray(np.cumsum(mix, axis=1))
    alpha_hub = np.array([cfg["alpha"][p]["hub"] for p in PROFILES])
    alpha_other = np.array([cfg["alpha"][p]["other"] for p in PROFILES])
    cap = np.array([cfg["top1_cap"][t] for t in TIERS])
    floor = np.array([cfg["site_floor"][t] for t in TIERS])
    n = int(end[-1]) if end.size else 0
    out_weight, out_profile = np.empty(n), np.empty(n, np.int64)
    _site_weights(U64(seed), U64(domain_id(domain)), merchant_id, start, end, tier, mix_cum, alpha_hub, alpha_other,
                  cap, floor, float(cfg["floor_max_of_uniform"]), out_weight, out_profile)
    return out_weight, out_profile
