"""The auth-feature kernel (s4_auth_windows) against a brute-force reading of its spec: for every
flow, scan all flows of its scenario for the ones of the same party (or card) at an earlier
instant. Random histories with instants drawn from a few values, so ties are common."""
from __future__ import annotations

import math

import numpy as np
import pytest

from python_kernels.behaviour.s4_auth_windows import NO_ID, SPANS_US, AuthFlows, auth_windows

US_H = 3_600_000_000


def _history(seed: int, n: int = 600) -> AuthFlows:
    g = np.random.default_rng(seed)
    party = g.integers(0, 12, n)
    scenario = g.integers(0, 2, n)
    ts = g.choice(np.arange(60) * (US_H // 3), n) + g.choice([0, 0, 0, 1], n)  # ties, and 1 µs apart
    order = np.lexsort((np.arange(n), ts, party, scenario))
    card_present = g.random(n) < 0.5
    amount = np.exp(g.normal(3, 2, n))
    f = dict(scenario=scenario, party=party, instrument=party * 10 + g.integers(0, 3, n),
             device=np.where(g.random(n) < 0.2, NO_ID, g.integers(0, 4, n)), ip=g.integers(0, 5, n),
             merchant=g.integers(0, 6, n), ts=ts, amount=amount, log_amount=np.round(np.log(amount) * 1e9).astype(np.int64), card_present=card_present,
             lat=np.where(card_present, g.uniform(-60, 60, n), np.nan), lon=np.where(card_present, g.uniform(-180, 180, n), np.nan))
    return AuthFlows(**{k: v[order] for k, v in f.items()})


def _km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def _brute(f: AuthFlows, i: int) -> dict:
    n = f.ts.size
    mine = [j for j in range(n) if f.scenario[j] == f.scenario[i] and f.party[j] == f.party[i]]
    past = [j for j in mine if f.ts[j] < f.ts[i]]
    card = [j for j in range(n) if f.scenario[j] == f.scenario[i] and f.instrument[j] == f.instrument[i] and f.ts[j] < f.ts[i]]
    row = {"party": [sum(f.ts[j] >= f.ts[i] - s for j in past) for s in SPANS_US],
           "card": [sum(f.ts[j] >= f.ts[i] - s for j in card) for s in SPANS_US],
           "prior": len(past),
           "vs": f.amount[i] / math.exp(sum(math.log(f.amount[j]) for j in past) / len(past)) if past else None,
           "seen": [any(getattr(f, e)[j] == getattr(f, e)[i] for j in past) for e in ("device", "ip", "merchant")],
           "km": None}
    if f.card_present[i]:
        # one use per instant, at the site of its first flow (rows are in flow order within an instant)
        uses = {}
        for j in mine:
            if f.card_present[j]:
                uses.setdefault(int(f.ts[j]), j)
        before = [t for t in uses if t < f.ts[i]]
        if before:
            p, c = uses[max(before)], uses[int(f.ts[i])]
            row["km"] = _km(f.lat[p], f.lon[p], f.lat[c], f.lon[c])
            row["us"] = int(f.ts[i]) - max(before)
    return row


@pytest.mark.parametrize("seed", [1, 2])
def test_auth_windows_match_a_brute_force_scan(seed):
    f = _history(seed)
    w = auth_windows(f)
    for i in range(f.ts.size):
        want = _brute(f, i)
        assert list(w.party_counts[:, i]) == want["party"], i
        assert list(w.card_counts[:, i]) == want["card"], i
        assert w.prior[i] == want["prior"], i
        if want["vs"] is None:
            assert np.isnan(w.vs_history[i]), i
        else:
            assert w.vs_history[i] == pytest.approx(want["vs"], rel=1e-9), i
        assert list(w.seen[:, i]) == want["seen"], i
        if want["km"] is None:
            assert np.isnan(w.km[i]), i
        else:
            assert w.km[i] == pytest.approx(want["km"], rel=1e-12) and w.us_since[i] == want["us"], i


def test_a_party_reads_only_its_own_history():
    f = _history(3)
    whole = auth_windows(f)
    keep = f.party % 2 == 0
    part = auth_windows(AuthFlows(*(a[keep] for a in f)))
    for name in ("party_counts", "card_counts", "seen"):
        assert np.array_equal(getattr(part, name), getattr(whole, name)[:, keep])
    assert np.array_equal(part.prior, whole.prior[keep]) and np.array_equal(part.km, whole.km[keep], equal_nan=True)


def test_unsorted_or_placeless_flows_are_refused():
    f = _history(4)
    with pytest.raises(ValueError, match="sorted by"):
        auth_windows(f._replace(ts=f.ts[::-1].copy()))
    lat = f.lat.copy()
    lat[np.flatnonzero(f.card_present)[0]] = np.nan
    with pytest.raises(ValueError, match="coordinates"):
        auth_windows(f._replace(lat=lat))
    with pytest.raises(ValueError, match="one value per flow"):
        auth_windows(f._replace(merchant=f.merchant[:-1]))
