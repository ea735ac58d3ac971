"""6B kernels: session-first attachment and flows against their naive oracles, chunk and
order invariance, the session rule, event order, amounts and latency laws."""
import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from oracles import behaviour as oracles_behaviour
from python_kernels.behaviour import s1_attach, s1_sessions, s2_flows
from python_kernels.behaviour.s1_candidates import attachment_params, attachment_tables
from python_kernels.behaviour.s2_flows import flow_params
from python_kernels.core.policies import load_policies
from python_kernels.core.vocabulary import CHANNELS, LAW_OF_THE_MCC, NO_TIME, SECTORS

ROOT = Path(__file__).resolve().parents[2]
POLICIES = load_policies(ROOT / "policies")
ATTACH, FLOWS = POLICIES["attachment"], POLICIES["flows"]
COUNTRIES = ["DE", "FR", "US"]
CENTRES = np.array([[51.0, 10.0], [47.0, 2.5], [39.0, -95.0]])
SEGMENTS = pa.table({
    "segment_id": ["RETAIL_A", "BUSINESS_A"], "party_type": ["RETAIL", "BUSINESS"],
    "income_score": [0.5, 0.6], "digital_affinity": [0.7, 0.5], "cash_affinity": [0.4, 0.1],
    "cross_border_propensity": [0.3, 0.5], "credit_appetite": [0.5, 0.5], "stability_score": [0.6, 0.7],
    "business_size_score": [0.0, 0.6],
})


def synthetic_world(n_parties=300, n_sites=20, seed=0, policy=ATTACH):
    """A small graph with the shapes of the 6A tables (fixture data, not engine draws)."""
    g = np.random.default_rng(seed)
    pid = 1_000 + np.arange(n_parties)
    business = g.random(n_parties) < 0.1
    country = g.integers(0, 3, n_parties)
    parties = pa.table({
        "party_id": pid, "party_type": np.where(business, "BUSINESS", "RETAIL"),
        "segment_id": np.where(business, "BUSINESS_A", "RETAIL_A"),
        "country_iso": np.array(COUNTRIES)[country],
        # homes in a 3 x 3 degree square per country, sites among them
        "home_lat_deg": CENTRES[country, 0] + g.uniform(-1.5, 1.5, n_parties),
        "home_lon_deg": CENTRES[country, 1] + g.uniform(-1.5, 1.5, n_parties),
    })
    site_country = np.arange(n_sites) % 3
    sites = pa.table({"site_id": 7_000 + np.arange(n_sites),
                      "lat_deg": CENTRES[site_country, 0] + g.uniform(-1.5, 1.5, n_sites),
                      "lon_deg": CENTRES[site_country, 1] + g.uniform(-1.5, 1.5, n_sites)})
    acc_owner = np.repeat(pid, g.integers(1, 4, n_parties))
    accounts = pa.table({
        "account_id": 50_000 + np.arange(acc_owner.size), "owner_party_id": acc_owner,
        "ledger_class": np.array(["DEPOSIT", "CREDIT_REVOLVING", "CREDIT_INSTALLMENT"])[
            g.integers(0, 3, acc_owner.size)],
    })
    per_acc = g.integers(1, 4, acc_owner.size)
    ins_acc = np.repeat(accounts.column("account_id").to_numpy(), per_acc)
    instruments = pa.table({
        "instrument_id": 90_000 + np.arange(ins_acc.size), "account_id": ins_acc,
        "owner_party_id": np.repeat(acc_owner, per_acc),
        "instrument_kind": np.array(["CARD_PHYSICAL", "CARD_VIRTUAL", "BANK_HANDLE", "WALLET_TOKEN"])[
            g.integers(0, 4, ins_acc.size)],
    })
    dev_owner = np.repeat(pid, g.integers(1, 4, n_parties))
    # a third of the devices get a new identity (a successor of the same type) within the horizon
    kind = np.array(["MOBILE_PHONE", "LAPTOP", "TABLET", "WEARABLE"])[g.integers(0, 4, dev_owner.size)]
    renewed = np.flatnonzero(g.random(dev_owner.size) < 0.35)
    at = g.integers(1, 3 * 86_400_000_000, renewed.size)
    until = np.full(dev_owner.size, -NO_TIME - 1)
    until[renewed] = at
    dev_owner, kind = np.r_[dev_owner, dev_owner[renewed]], np.r_[kind, kind[renewed]]
    since, until = np.r_[np.full(until.size, NO_TIME), at], np.r_[until, np.full(at.size, -NO_TIME - 1)]
    n_dev = dev_owner.size
    n_term = 2 * n_sites
    bound = lambda us: pa.array(np.r_[us, np.zeros(n_term, np.int64)], pa.int64(),  # noqa: E731
                                mask=np.r_[(us == NO_TIME) | (us == -NO_TIME - 1), np.ones(n_term, bool)]
                                ).cast(pa.timestamp("us"))
    devices = pa.table({
        "device_id": 400_000 + np.arange(n_dev + n_term),
        "device_type": np.r_[kind, np.full(n_term, "POS_TERMINAL")],
        "site_id": pa.array(np.r_[np.zeros(n_dev, np.int64), 7_000 + np.arange(n_term) // 2],
                            mask=np.r_[np.ones(n_dev, bool), np.zeros(n_term, bool)]),
        "active_from_utc": bound(since), "active_until_utc": bound(until),
    })
    shared = g.random(n_dev) < 0.15
    co_user = pid[g.integers(0, n_parties, shared.sum())]
    device_links = pa.table({
        "device_id": np.r_[400_000 + np.arange(n_dev), 400_000 + np.flatnonzero(shared)],
        "party_id": np.r_[dev_owner, co_user],
        "link_role": np.r_[np.full(n_dev, "PRIMARY_OWNER"), np.full(shared.sum(), "SECONDARY_USER")],
    })
    ip_dev = np.r_[np.arange(n_dev + n_term), g.integers(0, n_dev, n_dev // 2)]
    ip_links = pa.table({
        "ip_id": 800_000 + g.integers(0, n_dev // 2 + n_term, ip_dev.size),
        "device_id": 400_000 + ip_dev,
        "link_role": np.r_[np.full(n_dev, "TYPICAL_DEVICE_IP"), np.full(n_term, "MERCHANT_ENDPOINT"),
                           np.full(n_dev // 2, "RECENT_LOGIN_IP")],
    })
    # the IPs: home, mobile and hotel networks, some in a country outside the world (skipped)
    ip_ids = np.unique(ip_links.column("ip_id").to_numpy())
    ips = pa.table({"ip_id": ip_ids,
                    "ip_type": np.array(["RESIDENTIAL", "MOBILE", "HOTEL_TRAVEL", "VPN_PROXY"])[
                        g.integers(0, 4, ip_ids.size)],
                    "country_iso": np.array(COUNTRIES + ["XX"])[g.integers(0, 4, ip_ids.size)]})
    return attachment_tables(42, COUNTRIES, parties, SEGMENTS, accounts, instruments, devices, device_links,
                             ip_links, ips, sites, (0, 3 * 86_400_000_000), policy)


def synthetic_arrivals(n=4000, seed=1, n_sites=20):
    g = np.random.default_rng(seed)
    ts = np.sort(g.integers(0, 3 * 86_400_000_000, n))
    ts[10] = ts[11]  # a tie, broken by arrival_id
    arrival_id = np.arange(n) * 7 + 3
    site = np.where(g.random(n) < 0.5, g.integers(0, n_sites, n), -1)
    # every site has terminals here, so an arrival's terminal site and its place are the same index
    return {"arrival_id": arrival_id, "ts_us": ts, "country": g.integers(0, 3, n),
            "channel": g.integers(0, len(CHANNELS), n), "site": site, "loc": site}


@pytest.fixture(scope="module")
def world():
    return synthetic_world()


@pytest.fixture(scope="module")
def params():
    return attachment_params(ATTACH)


def test_attach_matches_naive_oracle(world, params):
    a = synthetic_arrivals()
    fast = s1_attach.Attacher(42, world, params).feed(**a)
    slow = oracles_behaviour.attach_naive(42, world, params, a["arrival_id"], a["ts_us"], a["country"], a["channel"],
                                          a["site"], a["loc"])
    for name in slow:
        np.testing.assert_array_equal(fast[name].astype(np.int64), slow[name], err_msg=name)


def test_sessions_start_on_device_identities_in_use(world, params):
    """A renewed device's old identity is not used after the renewal, nor the new one before:
    every session a customer starts on an own device starts on an identity active then, and
    both identities of renewed devices are used."""
    a = synthetic_arrivals()
    out = s1_attach.Attacher(42, world, params).feed(**a)
    own = out["session_start"] & ~np.isin(out["device"], world["term_dev"])
    d, t = out["device"][own], a["ts_us"][own]
    assert own.sum() > 1000
    assert np.all((world["dev_from"][d] <= t) & (t < world["dev_until"][d]))
    assert (world["dev_from"][d] > NO_TIME).sum() > 50 and (world["dev_until"][d] < -NO_TIME - 1).sum() > 50


def test_travellers_go_online_through_the_destination_s_networks(params):
    """Everybody travels and every session on a trip takes a network of the destination: the
    walk agrees with the oracle, and an IP of the trip pools is only ever a traveller's, there."""
    no_domestic = {**ATTACH["trips"]["domestic"], "p_trip": 0.0}
    policy = {**ATTACH, "trips": {**ATTACH["trips"], "p_abroad": 1.0, "domestic": no_domestic}}
    world = synthetic_world(policy=policy)
    everywhere = {**params, "p_local_ip": 1.0}
    a = synthetic_arrivals()
    fast = s1_attach.Attacher(42, world, everywhere).feed(**a)
    slow = oracles_behaviour.attach_naive(42, world, everywhere, a["arrival_id"], a["ts_us"], a["country"],
                                          a["channel"], a["site"], a["loc"])
    for name in slow:
        np.testing.assert_array_equal(fast[name].astype(np.int64), slow[name], err_msg=name)
    ptr = world["trip_ip_ptr"]
    on_trip_ip = (fast["ip"] >= ptr[0]) & (fast["ip"] < ptr[-1])
    q = fast["party"]
    def away_at(t):
        return (world["away_dest"][q] >= 0) & (world["away_start"][q] <= t) & (t < world["away_end"][q])
    away = away_at(a["ts_us"])
    # the session (and its IP) carries on past the trip's end: it started while away
    started = a["ts_us"][np.searchsorted(a["arrival_id"], fast["session_id"])]
    assert on_trip_ip.sum() > 100 and not on_trip_ip[~away_at(started)].any()
    dest = world["away_dest"][q[on_trip_ip]]
    assert np.all((ptr[dest] <= fast["ip"][on_trip_ip]) & (fast["ip"][on_trip_ip] < ptr[dest + 1]))
    # sessions a traveller starts on its own device while away take the destination's networks,
    # but on a VPN exit: the VPN hides the local network
    own = fast["session_start"] & away & (a["site"] < 0)
    links = world["ip_tunnel"].size
    vpn = (fast["ip"] < links) & world["ip_tunnel"][np.minimum(fast["ip"], links - 1)]
    assert own.sum() > 50 and (own & vpn).sum() > 5 and on_trip_ip[own & ~vpn].all() and not on_trip_ip[own & vpn].any()
    # none without the rule
    plain = s1_attach.Attacher(42, world, {**params, "p_local_ip": 0.0}).feed(**a)
    assert not ((plain["ip"] >= ptr[0]) & (plain["ip"] < ptr[-1])).any()


def test_mobile_sessions_take_fresh_addresses_of_their_carrier(world, params):
    """With p_carrier_churn a session on a mobile link's IP takes an address of the carrier
    pool of that IP's country, about that share of such sessions; never without it."""
    a = synthetic_arrivals()
    out = s1_attach.Attacher(42, world, params).feed(**a)
    ptr = world["carrier_ip_ptr"]
    fresh = (out["ip"] >= ptr[0]) & (out["ip"] < ptr[-1])
    assert 0.03 < fresh.mean() < 0.6
    for i in np.flatnonzero(fresh)[:200]:
        ip_id = world["ip_id"][out["ip"][i]]
        c = np.searchsorted(ptr, out["ip"][i], side="right") - 1
        assert ptr[c] <= out["ip"][i] < ptr[c + 1] and ip_id in set(world["ip_id"][ptr[c]:ptr[c + 1]].tolist())
    # sessions started on a customer's own mobile link: carrier churn at the policy's rate
    own = out["session_start"] & (a["site"] < 0)
    mobile_link = np.zeros(own.size, bool)
    plain = s1_attach.Attacher(42, world, {**params, "p_carrier_churn": 0.0, "p_local_ip": 0.0}).feed(**a)
    assert not ((plain["ip"] >= ptr[0]) & (plain["ip"] < ptr[-1])).any()
    mobile_link[own] = world["ip_carrier"][np.minimum(plain["ip"][own], world["ip_carrier"].size - 1)] >= 0
    mobile_link &= plain["ip"] < world["ip_carrier"].size
    same = mobile_link & (plain["party"] == out["party"])
    assert same.sum() > 150
    assert abs(fresh[same].mean() - params["p_carrier_churn"]) < 0.08


def test_attach_does_not_depend_on_chunking(world, params):
    a = synthetic_arrivals()
    whole = s1_attach.Attacher(42, world, params).feed(**a)
    att = s1_attach.Attacher(42, world, params)
    parts = [att.feed(**{k: v[lo:hi] for k, v in a.items()}) for lo, hi in ((0, 1), (1, 1500), (1500, 4000))]
    for name in whole:
        np.testing.assert_array_equal(whole[name], np.concatenate([p[name] for p in parts]), err_msg=name)


def test_attach_depends_on_the_seed(world, params):
    a = synthetic_arrivals()
    x = s1_attach.Attacher(42, world, params).feed(**a)["party"]
    y = s1_attach.Attacher(7, world, params).feed(**a)["party"]
    assert (x != y).mean() > 0.5


def test_attach_refuses_arrivals_out_of_order(world, params):
    a = synthetic_arrivals()
    att = s1_attach.Attacher(42, world, params)
    att.feed(**{k: v[:100] for k, v in a.items()})
    with pytest.raises(ValueError, match="strictly increasing"):
        att.feed(**{k: v[50:200] for k, v in a.items()})
    swapped = {k: v[:100].copy() for k, v in a.items()}
    swapped["ts_us"][[20, 21]] = swapped["ts_us"][[21, 20]]
    with pytest.raises(ValueError, match="row 21"):
        s1_attach.Attacher(42, world, params).feed(**swapped)


def test_sessions_follow_the_gap_rule_and_entities_stay_in_the_graph(world, params):
    a = synthetic_arrivals(n=6000)
    out = s1_attach.Attacher(42, world, params).feed(**a)
    party, sess, ts = out["party"], out["session_id"], a["ts_us"]
    for p in np.unique(party):
        idx = np.flatnonzero(party == p)
        gaps = np.diff(ts[idx])
        same = sess[idx][1:] == sess[idx][:-1]
        assert np.all(gaps[same] <= params["gap_us"])
        counts = np.unique(sess[idx], return_counts=True)[1]
        assert counts.max() <= params["max_arrivals"]
        # a new session after a short gap only when a cap closed the previous one
        for j in np.flatnonzero(~same & (gaps <= params["gap_us"])):
            prev = sess[idx][j]
            span = ts[idx][j + 1] - ts[idx][sess[idx] == prev][0]
            assert span > params["span_us"] or (sess[idx] == prev).sum() >= params["max_arrivals"]
    # session id = arrival_id of its first arrival
    starts = out["session_start"].astype(bool)
    np.testing.assert_array_equal(out["session_id"][starts], a["arrival_id"][starts])
    # instrument, device and IP candidates belong to the party / device (or the IP is a network of
    # the party's trip destination, abroad or at home, or a mobile carrier's address)
    for i in range(0, a["arrival_id"].size, 97):
        p = party[i]
        assert world["inst_ptr"][p] <= out["instrument"][i] < world["inst_ptr"][p + 1]
        d = out["device"][i]
        trip_pool = lambda c: c >= 0 and world["trip_ip_ptr"][c] <= out["ip"][i] < world["trip_ip_ptr"][c + 1]  # noqa: E731
        domestic = world["dom_start"][p] < world["dom_end"][p]
        assert (world["ip_ptr"][d] <= out["ip"][i] < world["ip_ptr"][d + 1]
                or trip_pool(world["away_dest"][p]) or domestic and trip_pool(world["party_country"][p])
                or world["carrier_ip_ptr"][0] <= out["ip"][i] < world["carrier_ip_ptr"][-1])
    # session-first: follow-ups exist and multi-arrival sessions are common
    assert (out["rule"] == 0).mean() > 0.05
    assert np.unique(sess, return_counts=True)[1].max() > 1


def test_pools_keep_home_country_majority(world, params):
    a = synthetic_arrivals(n=6000)
    out = s1_attach.Attacher(42, world, params).feed(**a)
    home = world["party_country"][out["party"]] == a["country"]
    assert 0.6 < home.mean() < 0.999


# ---- flows ------------------------------------------------------------------------------------

CURRENCIES = ["EUR", "INR", "JPY", "USD"]
RATES, MINOR, NOTES = [0.87, 88.0, 152.0, 1.0], [2, 2, 0, 2], [10, 100, 1000, 20]
LAWS = list(FLOWS["amounts"]["laws"])


@pytest.fixture(scope="module")
def fparams():
    return flow_params(FLOWS, CURRENCIES, RATES, MINOR, NOTES)


def flow_inputs(n=20000, seed=3):
    g = np.random.default_rng(seed)
    channel = g.integers(0, len(CHANNELS), n)
    return dict(arrival_id=np.arange(n) * 5 + 11, ts_us=g.integers(0, 10**15, n), channel=channel,
                law=g.integers(0, len(LAWS), n), currency=g.integers(0, len(CURRENCIES), n))


def law_amounts(fparams, law, currency, n=60000):
    """First-attempt amounts (minor units) of n arrivals following one law in one currency."""
    x = flow_inputs(n=n)
    x["law"][:] = LAWS.index(law)
    x["currency"][:] = CURRENCIES.index(currency)
    f = s2_flows.flows(42, params=fparams, **x)
    return f["amount_minor"][f["flow_index"] == 0]


def test_flow_structure_matches_naive_oracle(fparams):
    x = flow_inputs(n=3000)
    f = s2_flows.flows(42, params=fparams, **x)
    oracle = oracles_behaviour.flow_outcomes_naive(42, x["arrival_id"], x["channel"], fparams)
    got = [[] for _ in oracle]
    for i, su, dec, r in zip(f["arrival_index"], f["step_up"], f["declined"], f["reason"]):
        got[i].append((bool(su), bool(dec), int(r)))
    assert got == [[(bool(a), bool(b), int(c)) for a, b, c in o] for o in oracle]
    assert any(len(o) > 1 for o in oracle)  # retries happen


def test_flows_do_not_depend_on_chunking(fparams):
    x = flow_inputs()
    whole = s2_flows.flows(42, params=fparams, **x)
    halves = [s2_flows.flows(42, params=fparams, **{k: v[lo:hi] for k, v in x.items()})
              for lo, hi in ((0, 7000), (7000, 20000))]
    for name in ("flow_id", "amount_minor", "ts_response", "ts_clearing", "ts_refund", "refund_minor"):
        np.testing.assert_array_equal(whole[name], np.concatenate([h[name] for h in halves]), err_msg=name)


def test_flow_events_are_strictly_ordered(fparams):
    f = s2_flows.flows(42, params=fparams, **flow_inputs())
    none = NO_TIME
    chain = [f["ts_request"], f["ts_challenge"], f["ts_complete"], f["ts_response"], f["ts_clearing"], f["ts_refund"]]
    last = chain[0]
    for t in chain[1:]:
        has = t != none
        assert np.all(t[has] > last[has])
        last = np.where(has, t, last)
    rev = f["ts_reversal"] != none
    assert np.all(f["ts_reversal"][rev] > f["ts_response"][rev])
    assert not np.any(rev & (f["ts_clearing"] != none))
    dec = f["declined"]
    assert np.all(f["ts_clearing"][dec] == none) and np.all(f["ts_reversal"][dec] == none)
    # a retry starts after the response of the flow it retries
    retry = np.flatnonzero(f["flow_index"] > 0)
    assert retry.size and np.all(f["ts_request"][retry] > f["ts_response"][retry - 1])
    assert np.all(f["declined"][retry - 1])


def test_amount_law_price_points_and_body(fparams):
    law = FLOWS["amounts"]["laws"]["fuel"]  # prepaid points, a cents-rounded body, no tail
    amt = law_amounts(fparams, "fuel", "USD")
    points = np.round(np.array(law["points_usd"]) * 100).astype(np.int64)
    on_point = np.isin(amt, points)
    # the body hits a price point rarely; the point mass is within 4 sd of its policy share
    share = on_point.mean()
    assert abs(share - law["p_point"]) < 4 * np.sqrt(law["p_point"] * (1 - law["p_point"]) / amt.size) + 0.005
    # lognormal body: log amounts normal around the solved body median with the policy sigma
    body = amt[~on_point] / 100.0
    ks = stats.kstest(np.log(body), "norm", args=(fparams.body_log_median[LAWS.index("fuel")], law["sigma"]))
    assert ks.pvalue > 1e-3


@pytest.mark.parametrize("name", ["fuel", "taxi", "digital_goods", "atm", "medical", "transfer"])
def test_body_median_gives_the_law_its_policy_median(fparams, name):
    # oracle: the median of the whole law (points, body, tail) by root finding on scipy's mixture cdf
    law = FLOWS["amounts"]["laws"][name]
    body = stats.lognorm(law["sigma"], scale=np.exp(fparams.body_log_median[LAWS.index(name)]))
    tail = stats.lognorm(law["sigma"], scale=body.median() * law["tail_factor"])
    pts = np.array(law["points_usd"])

    def cdf(x):
        at = (pts <= x).mean() if pts.size else 0.0
        return law["p_point"] * at + (1 - law["p_point"]) * ((1 - law["p_tail"]) * body.cdf(x) + law["p_tail"] * tail.cdf(x))

    assert cdf(law["median_usd"] * 0.999) <= 0.5 <= cdf(law["median_usd"] * 1.001)
    # and the drawn, rounded USD amounts have that median
    assert abs(np.median(law_amounts(fparams, name, "USD")) / 100 / law["median_usd"] - 1) < 0.03


def test_a_law_whose_points_fix_the_median_is_refused():
    law = {**FLOWS["amounts"]["laws"]["donations"], "p_point": 0.9, "points_usd": [500.0]}
    with pytest.raises(ValueError, match="donations.*no lognormal body gives that median"):
        s2_flows.body_log_median(law, "donations")


def test_local_price_points(fparams):
    li = LAWS.index("digital_goods")  # points 0.99, 1.99, 2.99, 4.99, ...
    eur, inr, jpy = (fparams.point_minor[li, CURRENCIES.index(c)] for c in ("EUR", "INR", "JPY"))
    assert eur[3] == 399              # 4.99 USD x 0.87 = 4.34 EUR -> a charm price
    assert inr[3] == 44000            # 4.99 USD x 88 -> 440 INR (two significant figures)
    assert jpy[3] == 760              # JPY has no minor unit
    atm = fparams.point_minor[LAWS.index("atm"), CURRENCIES.index("INR")]
    assert list(atm[:5]) == [180000, 350000, 530000, 880000, 1800000]  # 20 USD x 88 = 1,760 -> 1,800 INR: 18 notes


@pytest.mark.parametrize("currency", CURRENCIES)
def test_amounts_are_rounded_the_law_s_way(fparams, currency):
    c = CURRENCIES.index(currency)
    unit = 10 ** MINOR[c]
    atm = law_amounts(fparams, "atm", currency, n=20000)
    assert np.all(atm % (NOTES[c] * unit) == 0) and atm.min() >= NOTES[c] * unit  # whole notes only
    whole = law_amounts(fparams, "travel_package", currency, n=20000)
    assert np.all(whole % unit == 0)
    charm = law_amounts(fparams, "electronics", currency, n=20000)
    if unit > 1:
        assert np.all(charm % unit == unit - 1)   # 149.99, 17.99
    cents = law_amounts(fparams, "taxi", currency, n=20000)
    assert np.unique(cents % max(unit, 100)).size >= 90  # the minor unit (JPY: the yen) is free


def test_auth_latency_law(fparams):
    f = s2_flows.flows(42, params=fparams, **flow_inputs(n=60000))
    plain = ~f["step_up"]
    lat = (f["ts_response"] - f["ts_request"])[plain] / 1e6
    spec = FLOWS["timing"]["auth_response"]
    assert lat.min() >= spec["min_seconds"] - 1e-6 and lat.max() <= spec["max_seconds"] + 1e-6
    assert abs(np.median(lat) / spec["median_seconds"] - 1) < 0.03
    inner = lat[(lat > spec["min_seconds"] * 1.01) & (lat < spec["max_seconds"] * 0.99)]
    z = (np.log(inner) - np.log(spec["median_seconds"])) / spec["sigma"]
    assert abs(z.std() - 1) < 0.03


def test_flows_reject_bad_inputs(fparams):
    x = flow_inputs(n=10)
    with pytest.raises(ValueError, match="channel"):
        s2_flows.flows(42, params=fparams, **{**x, "channel": x["channel"] + 10})
    with pytest.raises(ValueError, match="one entry per arrival"):
        s2_flows.flows(42, params=fparams, **{**x, "ts_us": x["ts_us"][:5]})
    with pytest.raises(ValueError, match="law index out of range"):
        s2_flows.flows(42, params=fparams, **{**x, "law": x["law"] + len(LAWS)})
    with pytest.raises(ValueError, match="currency index out of range"):
        s2_flows.flows(42, params=fparams, **{**x, "currency": x["currency"] + len(CURRENCIES)})


def test_every_merchant_sector_has_a_behaviour_policy():
    with open(ROOT / "seeds" / "world" / "world_mccs.csv") as fh:
        sectors = {row["mcc_sector"] for row in csv.DictReader(fh)}
    assert sectors == set(SECTORS)


def test_every_mcc_group_has_an_amount_law_and_every_law_is_used():
    with open(ROOT / "seeds" / "world" / "world_mccs.csv") as fh:
        groups = {row["amount_group"] for row in csv.DictReader(fh)}
    by_channel = set(FLOWS["amounts"]["law_by_channel"].values()) - {LAW_OF_THE_MCC}
    assert groups <= set(LAWS)
    assert groups | by_channel == set(LAWS)


def test_session_summary_matches_naive_oracle(world, params):
    a = synthetic_arrivals(n=5000)
    out = s1_attach.Attacher(42, world, params).feed(**a)
    order = np.lexsort((a["arrival_id"], a["ts_us"], out["session_id"]))
    ents = np.stack([out["device"], out["instrument"], out["ip"], a["site"]])[:, order]
    cross = (world["party_country"][out["party"]] != a["country"])[order]
    args = (out["session_id"][order], a["ts_us"][order], out["party"][order], ents, a["channel"][order], cross)
    fast = s1_sessions.session_summary(*args)
    slow = oracles_behaviour.session_summary_naive(*args)
    assert fast["session_id"].size == len(slow)
    for j, row in enumerate(slow):
        assert fast["session_id"][j] == row["session_id"] and fast["arrival_count"][j] == row["arrival_count"]
        assert (fast["start"][j], fast["end"][j], fast["party"][j]) == (row["start"], row["end"], row["party"])
        assert list(fast["primary"][:, j]) == row["primary"] and list(fast["distinct"][:, j]) == row["distinct"]
        assert fast["channels"][j] == row["channels"] and fast["any_cross"][j] == row["any_cross"]
    assert np.all(fast["n_parties"] == 1)
    with pytest.raises(ValueError, match="sorted"):
        s1_sessions.session_summary(*(x[::-1] if x.ndim == 1 else x[:, ::-1] for x in args))


def _km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(h))


def _impossible_share(a, out, world, params):
    """Share of a party's consecutive payments in person further than min_km at more than max_kmh."""
    here = params["in_person"][a["channel"]] & (a["loc"] >= 0)
    lat, lon = world["loc_lat"][a["loc"]], world["loc_lon"][a["loc"]]
    order = np.lexsort((a["ts_us"], out["party"]))
    order = order[here[order]]
    same = out["party"][order][1:] == out["party"][order][:-1]
    km = _km(lat[order][:-1], lon[order][:-1], lat[order][1:], lon[order][1:])[same]
    hours = (a["ts_us"][order][1:] - a["ts_us"][order][:-1])[same] / 3.6e9
    return same.sum(), ((km > params["min_km"]) & (km > params["max_kmh"] * hours)).mean()


def test_in_person_payments_are_local_and_reachable(world, params):
    a = synthetic_arrivals(n=8000)
    out = s1_attach.Attacher(42, world, params).feed(**a)
    here = params["in_person"][a["channel"]] & (a["loc"] >= 0)
    # a party paying in person from the home pool lives in a cell of the block around the site
    cell_of_party = np.empty(world["party_id"].size, np.int64)
    for c in range(world["cell_ptr"].size - 1):
        cell_of_party[world["cell_party"][world["cell_ptr"][c]:world["cell_ptr"][c + 1]]] = c
    local = np.flatnonzero(here & (out["rule"] == 1))
    near = [cell_of_party[out["party"][i]] in world["near_cell"][world["near_ptr"][a["loc"][i]]:
                                                                world["near_ptr"][a["loc"][i] + 1]] for i in local]
    assert local.size > 500 and np.mean(near) > 0.95  # the rest: no reachable neighbour in `tries` draws
    # consecutive payments in person of one party are reachable, but for rare fallbacks
    pairs, impossible = _impossible_share(a, out, world, params)
    assert pairs > 1000 and impossible < 0.01
    # a walk that does not test reachability (any move allowed) makes the same arrivals jump
    anywhere = {**params, "min_km": 1e9}
    _, jumps = _impossible_share(a, s1_attach.Attacher(42, world, anywhere).feed(**a), world, params)
    assert jumps > impossible + 0.02


def test_domestic_trips_go_far_at_home_and_never_overlap_a_trip_abroad():
    big = synthetic_world(n_parties=6000)
    dom = ATTACH["trips"]["domestic"]
    going = big["dom_start"] < big["dom_end"]
    abroad = big["away_dest"] >= 0
    # the policy share among parties who stay home from abroad; none overlaps a trip abroad
    assert abs(going[~abroad].mean() - dom["p_trip"]) < 0.03 and going[abroad].mean() < dom["p_trip"]
    assert not (going & abroad & (big["dom_start"] < big["away_end"]) & (big["away_start"] < big["dom_end"])).any()
    days = (big["dom_end"] - big["dom_start"])[going] / 86_400_000_000
    assert days.min() >= 1 and days.max() <= dom["max_days"] and abs(np.median(days) - dom["median_days"]) < 0.5
    assert np.all((big["dom_end"][going] > 0) & (big["dom_start"][going] < 3 * 86_400_000_000))
    # destinations are homes of the party's own country, at least min_km from its own home
    centre = CENTRES[big["party_country"]]
    assert np.all(np.abs(big["dom_lat"][going] - centre[going, 0]) <= 1.5 + 1e-9)
    assert np.all(np.abs(big["dom_lon"][going] - centre[going, 1]) <= 1.5 + 1e-9)
    lat, lon = big["home_lat"], big["home_lon"]
    assert np.all(_km(lat[going], lon[going], big["dom_lat"][going], big["dom_lon"][going]) >= dom["min_km"])
    # the per-cell trip lists hold exactly these trips, sorted by start, in the destination's cell
    assert big["dtrip_party"].size == going.sum()
    for g in range(big["dtrip_ptr"].size - 1):
        sl = slice(big["dtrip_ptr"][g], big["dtrip_ptr"][g + 1])
        assert np.all(np.diff(big["dtrip_start"][sl]) >= 0)
        assert np.all(big["dtrip_start"][sl] == big["dom_start"][big["dtrip_party"][sl]])


def test_domestic_travellers_pay_in_person_where_they_stay(params):
    """Half the parties take a domestic trip and visitors are often tried first: the walk agrees with the
    oracle; a party on a trip pays in person within stay_km of where it stays (but for rare
    fallbacks), and visitors make a share of the in-person payments far from their homes."""
    policy = {**ATTACH, "trips": {**ATTACH["trips"], "domestic": {**ATTACH["trips"]["domestic"], "p_trip": 0.5}}}
    world = synthetic_world(policy=policy)
    rules = {**params, "p_visitor": 0.5}
    a = synthetic_arrivals(n=12000)
    fast = s1_attach.Attacher(42, world, rules).feed(**a)
    slow = oracles_behaviour.attach_naive(42, world, rules, a["arrival_id"], a["ts_us"], a["country"], a["channel"],
                                          a["site"], a["loc"])
    for name in slow:
        np.testing.assert_array_equal(fast[name].astype(np.int64), slow[name], err_msg=name)
    q, t = fast["party"], a["ts_us"]
    # a site's country is its index mod 3 in the synthetic world
    at_home = (a["loc"] % 3 == a["country"]) & (world["party_country"][q] == a["country"])
    here = params["in_person"][a["channel"]] & (a["loc"] >= 0) & at_home
    on_trip = here & (world["dom_start"][q] <= t) & (t < world["dom_end"][q])
    lat, lon = world["loc_lat"][a["loc"]], world["loc_lon"][a["loc"]]
    stay = _km(world["dom_lat"][q], world["dom_lon"][q], lat, lon)
    # the rest: fallbacks when no draw in `tries` could be there (300 parties, 20 sites)
    assert on_trip.sum() > 200 and (stay[on_trip] <= rules["stay_km"]).mean() > 0.9
    home_lat, home_lon = world["home_lat"], world["home_lon"]
    far = _km(home_lat[q], home_lon[q], lat, lon) > ATTACH["trips"]["domestic"]["min_km"]
    assert (on_trip & far).sum() > 100
    # no visitor is tried without the rule: fewer in-person payments far from home
    plain = s1_attach.Attacher(42, world, {**rules, "p_visitor": 0.0}).feed(**a)
    far_plain = _km(home_lat[plain["party"]], home_lon[plain["party"]], lat, lon) > ATTACH["trips"]["domestic"]["min_km"]
    at_home_plain = (a["loc"] % 3 == a["country"]) & (world["party_country"][plain["party"]] == a["country"])
    assert (here & far).sum() > (params["in_person"][a["channel"]] & (a["loc"] >= 0) & at_home_plain & far_plain).sum()


def test_trips_go_abroad_overlap_the_horizon_and_follow_the_share():
    big = synthetic_world(n_parties=6000)
    dest, lo, hi = big["away_dest"], big["away_start"], big["away_end"]
    going = dest >= 0
    share = going.mean()
    assert abs(share - ATTACH["trips"]["p_abroad"]) < 0.03  # propensity-tilted around the policy share
    assert np.all(dest[going] != big["party_country"][going])          # abroad, never home
    assert np.all((hi[going] > 0) & (lo[going] < 3 * 86_400_000_000))  # every trip overlaps the horizon
    days = (hi - lo)[going] / 86_400_000_000
    assert days.min() >= 1 and days.max() <= ATTACH["trips"]["max_days"]
    # the per-country trip lists are sorted by start, as the walk's window search needs
    for c in range(big["trip_ptr"].size - 1):
        starts = big["trip_start"][big["trip_ptr"][c]:big["trip_ptr"][c + 1]]
        assert np.all(np.diff(starts) >= 0)
