"""6B S3-S4 kernels: campaign plans, the fraud overlay and the bank view against their rules
and naive oracles, chunk invariance, validity of mutated flows, case grouping."""
from pathlib import Path

import numpy as np
import pytest

from oracles import behaviour as oracles_behaviour
from python_kernels.behaviour import s3_campaigns, s3_overlay, s4_bank_view, s4_cases
from python_kernels.behaviour.s2_flows import flow_params
from python_kernels.core.policies import load_policies
from python_kernels.core.policy_schema.arrivals import DEMAND_CLASSES
from python_kernels.core.policy_schema.campaigns import AMOUNT_MODES
from python_kernels.core.vocabulary import BANK_LABELS, CHANNELS, NO_TIME, SUBTYPES, TRUTH_LABELS

ROOT = Path(__file__).resolve().parents[2]
POLICIES = load_policies(ROOT / "policies")
CAMPAIGNS, TRUTH, BANK = POLICIES["campaigns"], POLICIES["truth"], POLICIES["bank_view"]
TIMING = {k: [v["median_seconds"], v["sigma"], v["min_seconds"], v["max_seconds"]]
          for k, v in POLICIES["flows"]["timing"].items()}
COUNTRIES = ["BR", "DE", "FR", "GB", "US", "ZA"]
# the flows' amounts are in one currency, US dollars in cents
LAWS = flow_params(POLICIES["flows"], ["USD"], [1.0], [2], [20])
LAW_MEDIAN_CENTS = np.array([100 * law["median_usd"] for law in POLICIES["flows"]["amounts"]["laws"].values()])
DAY = 86_400_000_000
START = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
SCENARIOS = [("baseline_v1", START, START + 60 * DAY)]


def synthetic_merchants(n=60, seed=1):
    g = np.random.default_rng(seed)
    ids = 1_000 + np.arange(n)
    roles = np.where(np.arange(n) % 15 == 0, "COLLUSIVE", "NORMAL")
    return {"id": ids, "class": np.array(DEMAND_CLASSES)[g.integers(0, len(DEMAND_CLASSES), n)], "role": roles}


def synthetic_flows(merchants, n=30_000, seed=2):
    """Flow arrays with the shapes s3_flow_anchor_with_fraud feeds the overlay (fixture data)."""
    g = np.random.default_rng(seed)
    ts = np.sort(START + g.integers(0, 60 * DAY, n))
    declined = g.random(n) < 0.06
    step_up = g.random(n) < 0.05
    t_chal = np.where(step_up, ts + 1_000_000, NO_TIME)
    t_comp = np.where(step_up, ts + 20_000_000, NO_TIME)
    t_resp = np.where(step_up, t_comp, ts) + 2_000_000
    cleared = ~declined & (g.random(n) < 0.99)
    t_clear = np.where(cleared, t_resp + 3_600_000_000, NO_TIME)
    refunded = cleared & (g.random(n) < 0.02)
    amount = g.integers(100, 50_000, n)
    return {
        "scenario": np.zeros(n, np.int64), "flow_id": 4 * (10_000 + np.arange(n)), "ts": ts,
        "channel": g.integers(0, len(CHANNELS), n), "merchant": g.integers(0, merchants["id"].size, n),
        "country": g.integers(0, len(COUNTRIES), n), "home": g.integers(0, len(COUNTRIES), n), "cross": g.random(n) < 0.1,
        "account": 50_000 + g.integers(0, 2_000, n), "instrument": 90_000 + g.integers(0, 3_000, n),
        "party": 1_000 + g.integers(0, 1_500, n), "law": g.integers(0, LAW_MEDIAN_CENTS.size, n),
        "currency": np.zeros(n, np.int64),
        "amount": amount, "clearing": np.where(cleared, amount, 0), "refund_amt": np.where(refunded, amount // 2, 0),
        "device": 400_000 + g.integers(0, 2_000, n), "ip": 700_000 + g.integers(0, 2_000, n),
        "step_up": step_up, "declined": declined, "reason": np.where(declined, 0, -1),
        "t_challenge": t_chal, "t_complete": t_comp, "t_response": t_resp, "t_clearing": t_clear,
        "t_reversal": np.full(n, NO_TIME), "t_refund": np.where(refunded, t_clear + DAY, NO_TIME),
    }


@pytest.fixture(scope="module")
def setup():
    m = synthetic_merchants()
    flows = synthetic_flows(m)
    vol = {("baseline_v1", ch): np.bincount(flows["merchant"][flows["channel"] == i], minlength=m["id"].size)
           for i, ch in enumerate(CHANNELS)}
    vol_c = {("baseline_v1", ch): np.bincount(flows["country"][flows["channel"] == i], minlength=len(COUNTRIES))
             for i, ch in enumerate(CHANNELS)}
    pools = {"HIGH_RISK_DEVICE": np.arange(900_000, 900_050), "HIGH_RISK_IP": np.arange(800_000, 800_020),
             "ANONYMIZER": np.arange(810_000, 810_030)}
    plan = s3_campaigns.plan_campaigns(42, CAMPAIGNS["templates"], SCENARIOS,
                                       {**m, "volume": vol}, {"codes": COUNTRIES, "volume": vol_c}, pools)
    # local proxies: 40 residential IPs per country but none in ZA
    proxies = {code: 600_000 + 100 * j + np.arange(40) for j, code in enumerate(COUNTRIES) if code != "ZA"}
    arrays = s3_campaigns.campaign_arrays(42, plan, ["baseline_v1"], m, COUNTRIES, CHANNELS,
                                          CAMPAIGNS["auth_screen"]["p_decline"], proxies)
    return {"merchants": m, "flows": flows, "plan": plan, "arrays": arrays, "pools": pools, "proxies": proxies}


def test_plan_follows_the_templates(setup):
    plan, m = setup["plan"], setup["merchants"]
    templates = CAMPAIGNS["templates"]
    for tid, t in templates.items():
        mine = [p for p in plan if p["template_id"] == tid]
        assert len(mine) >= t["min_instances"]
        for p in mine:
            assert SCENARIOS[0][1] <= p["window_start_us"] < p["window_end_us"] <= SCENARIOS[0][2]
            hours = (p["window_end_us"] - p["window_start_us"]) / 3.6e9
            assert t["window_hours"][0] - 1e-6 <= hours <= t["window_hours"][1] + 1e-6
            assert t["intensity"][0] <= p["intensity"] <= t["intensity"][1]
            ok = np.isin(m["id"], p["merchant_ids"])
            if t["merchant_roles"]:
                assert np.all(np.isin(m["role"][ok], t["merchant_roles"]))
            if t["merchant_classes"]:
                assert np.all(np.isin(m["class"][ok], t["merchant_classes"]))
            expected = max(round(t["country_share"] * len(COUNTRIES)), 1) if t["country_share"] else 0
            assert len(p["focus_countries"]) == expected
            if t["tactics"]["device_swap"] != "NONE":
                assert set(p["device_pool"]) <= set(setup["pools"]["HIGH_RISK_DEVICE"].tolist()) and p["device_pool"]
    assert [p["campaign_id"] for p in plan] == list(range(1, len(plan) + 1))


def test_plan_is_keyed_by_seed():
    m = synthetic_merchants()
    args = (CAMPAIGNS["templates"], SCENARIOS, {**m, "volume": {}}, {"codes": COUNTRIES, "volume": {}},
            {"HIGH_RISK_DEVICE": np.arange(10), "HIGH_RISK_IP": np.arange(10), "ANONYMIZER": np.arange(10)})
    a, b, c = s3_campaigns.plan_campaigns(7, *args), s3_campaigns.plan_campaigns(7, *args), s3_campaigns.plan_campaigns(8, *args)
    assert a == b and a != c


def test_overlay_matches_naive_oracle(setup):
    flows, arrays = setup["flows"], setup["arrays"]
    out = s3_overlay.overlay(flows, arrays, LAWS, TIMING)
    taken = out["campaign"] >= 0
    assert 0 < taken.mean() < 0.5
    sample = np.r_[np.flatnonzero(taken)[:300], np.flatnonzero(~taken)[:300]]
    sub = {k: v[sample] for k, v in flows.items()}
    assert np.array_equal(oracles_behaviour.overlay_naive(sub, arrays), out["campaign"][sample])


def test_overlay_does_not_depend_on_chunking(setup):
    flows, arrays = setup["flows"], setup["arrays"]
    whole = s3_overlay.overlay(flows, arrays, LAWS, TIMING)
    cuts = [0, 7_001, 19_333, flows["flow_id"].size]
    parts = [s3_overlay.overlay({k: v[a:b] for k, v in flows.items()}, arrays, LAWS, TIMING) for a, b in zip(cuts, cuts[1:])]
    for k, v in whole.items():
        assert np.array_equal(v, np.concatenate([p[k] for p in parts])), k


def test_overlay_keeps_flows_valid_and_untouched_flows_unchanged(setup):
    flows, arrays = setup["flows"], setup["arrays"]
    o = s3_overlay.overlay(flows, arrays, LAWS, TIMING)
    taken = o["campaign"] >= 0
    for k in s3_overlay.MUTABLE:
        assert np.array_equal(o[k][~taken], flows[k][~taken]), k
    assert not o["flags"][~taken].any()
    assert np.all(o["amount"] > 0) and np.all(o["clearing"][o["t_clearing"] != NO_TIME] > 0)
    assert np.all(o["refund_amt"] <= np.where(o["t_refund"] != NO_TIME, o["clearing"], np.inf))
    declined = o["declined"]
    for t in ("t_clearing", "t_reversal", "t_refund"):
        assert np.all(o[t][declined & taken] == NO_TIME)
    su = o["step_up"]
    assert np.all(o["t_challenge"][su] > flows["ts"][su])
    assert np.all(o["t_complete"][su] > o["t_challenge"][su])
    assert np.all(o["t_response"][su] > o["t_complete"][su])
    cleared = o["t_clearing"] != NO_TIME
    assert np.all(o["t_clearing"][cleared] > o["t_response"][cleared])
    refunded = o["t_refund"] != NO_TIME
    assert np.all(o["t_refund"][refunded] > o["t_clearing"][refunded])
    # tactics are those of the flow's template
    kinds = np.array([p["campaign_type"] for p in setup["plan"]])[o["campaign"][taken]]
    flags = o["flags"][taken]
    col = {name: j for j, name in enumerate(s3_overlay.TACTIC_FLAGS)}
    assert not flags[kinds == "FRIENDLY_FRAUD"].any()
    assert flags[kinds == "CARD_TESTING", col["amount_mutated"]].mean() > 0.9
    assert flags[kinds == "ATO", col["device_swapped"]].all()
    assert not flags[kinds != "REFUND_ABUSE", col["refund_added"]].any()
    assert np.all(np.isin(o["device"][taken & o["flags"][:, col["device_swapped"]]],
                          setup["arrays"]["device_pool"]))


def test_fraud_amounts_come_from_the_flow_s_own_law(setup):
    """The largest of k draws of a law is above the law's median with P = 1 - 0.5^k, the smallest
    of k with P = 0.5^k; KEEP leaves the customer's amount."""
    flows, arrays = synthetic_flows(setup["merchants"], n=150_000, seed=5), setup["arrays"]
    n_inst = arrays["stream"].size
    for mode, k, expected in (("KEEP", 1, None), ("LAW_HIGH", 3, 1 - 0.5 ** 3), ("LAW_LOW", 4, 0.5 ** 4)):
        forced = dict(arrays, amount_mode=np.full(n_inst, AMOUNT_MODES.index(mode), np.int64),
                      law_draws=np.full(n_inst, k, np.int64))
        o = s3_overlay.overlay(flows, forced, LAWS, TIMING)
        taken = o["campaign"] >= 0
        assert taken.sum() > 1_500
        if expected is None:
            assert np.array_equal(o["amount"][taken], flows["amount"][taken])
            continue
        above = o["amount"][taken] > LAW_MEDIAN_CENTS[flows["law"][taken]]
        assert abs(above.mean() - expected) < 0.03, (mode, above.mean(), expected)
        # a retry asks for the amount of its attempt: the flows of one arrival share the draws
        twin = dict(flows, flow_id=flows["flow_id"] + 1)
        o2 = s3_overlay.overlay(twin, forced, LAWS, TIMING)
        both = taken & (o2["campaign"] == o["campaign"])
        assert both.sum() > 100 and np.array_equal(o["amount"][both], o2["amount"][both])


def test_local_proxies_are_in_the_victim_s_country(setup):
    """With p_local_proxy the IP is one of the victim's home country's (none there: the pool's);
    instances that swap no IP never proxy."""
    flows, arrays, proxies = synthetic_flows(setup["merchants"], n=400_000, seed=6), setup["arrays"], setup["proxies"]
    forced = dict(arrays, p_proxy=np.full(arrays["stream"].size, 0.5))
    o = s3_overlay.overlay(flows, forced, LAWS, TIMING)
    taken = np.flatnonzero(o["campaign"] >= 0)
    swaps = np.diff(arrays["ip_ptr"])[o["campaign"][taken]] > 0
    home = np.array(COUNTRIES)[flows["home"][taken]]
    proxied = np.array([ip in set(np.asarray(proxies.get(h, [])).tolist()) for ip, h in zip(o["ip"][taken], home)])
    pool = np.isin(o["ip"][taken], arrays["ip_pool"])
    assert not proxied[~swaps].any() and np.array_equal(o["ip"][taken][~swaps], flows["ip"][taken][~swaps])
    assert not proxied[home == "ZA"].any() and pool[swaps & (home == "ZA")].all()
    live = swaps & (home != "ZA")
    assert live.sum() > 400
    assert abs(proxied[live].mean() - 0.5) < 0.07
    assert np.all(proxied[live] | pool[live])


def test_overlay_rejects_bad_inputs(setup):
    flows, arrays = setup["flows"], setup["arrays"]
    bad = dict(flows, merchant=flows["merchant"] + 10_000)
    with pytest.raises(ValueError, match="merchant index"):
        s3_overlay.overlay(bad, arrays, LAWS, TIMING)
    with pytest.raises(ValueError, match="one entry per flow"):
        s3_overlay.overlay(dict(flows, party=flows["party"][:-1]), arrays, LAWS, TIMING)


# ---- S4 bank view and cases ------------------------------------------------------------------

def bank_flows(n=200_000, seed=3):
    g = np.random.default_rng(seed)
    sub = g.integers(0, len(SUBTYPES), n)
    label = np.array([0] + [1, 1, 1, 1, 2, 2])[sub]  # NONE LEGIT; four FRAUD types; two ABUSE types
    t_resp = START + g.integers(0, 60 * DAY, n)
    screened = (sub > 0) & (g.random(n) < 0.1)
    cleared = ~screened & (g.random(n) < 0.95)
    return {"flow_id": 4 * np.arange(n), "subtype": sub, "label": label,
            "klass": g.integers(0, len(DEMAND_CLASSES), n), "amount_usd": np.exp(g.normal(3.5, 1.0, n)),
            "screened": screened, "t_response": t_resp, "t_clearing": np.where(cleared, t_resp + DAY // 4, NO_TIME)}


def test_bank_view_steps_are_ordered_and_labels_follow_the_rules():
    f = bank_flows()
    p = s4_bank_view.bank_params(BANK)
    b = s4_bank_view.bank_view(42, f, p)
    assert np.all(b["detect_kind"][f["screened"]] == 1) and np.all(b["detect"][f["screened"]] == f["t_response"][f["screened"]])
    post = b["detect_kind"] == 2
    assert np.all(b["detect"][post] > f["t_response"][post])
    d = b["dispute"] != NO_TIME
    assert np.all(f["t_clearing"][d] != NO_TIME) and np.all(b["dispute"][d] > f["t_clearing"][d])
    cb = b["chargeback"] != NO_TIME
    assert np.all(d[cb]) and np.all(b["chargeback"][cb] > b["dispute"][cb])
    assert np.all(b["chargeback"][cb] - f["t_clearing"][cb] <= p.cb_window_us)
    assert np.all(b["decision"][cb] > b["chargeback"][cb]) and np.all((b["outcome"] >= 0) == cb)
    case = (b["detect"] != NO_TIME) | d
    assert np.array_equal(b["trigger"] != NO_TIME, case)
    lab = np.array(BANK_LABELS)[b["label"]]
    assert np.all(lab[~case] == "NO_CASE_OPENED") and not np.any(lab[case] == "NO_CASE_OPENED")
    assert np.all(lab[b["outcome"] == 0] == "CHARGEBACK_WRITTEN_OFF")
    assert np.all(lab[(b["outcome"] != 0) & b["confirmed"]] == "BANK_CONFIRMED_FRAUD")
    assert not b["confirmed"][~case].any()


def test_bank_view_rates_follow_the_policy():
    """Post-auth detection of legit flows at the policy's rate per class (amount factor 1)."""
    f = bank_flows()
    f["subtype"][:] = 0
    f["label"][:] = 0
    f["screened"][:] = False
    p = s4_bank_view.bank_params(BANK)
    f["amount_usd"][:] = p.pivot
    b = s4_bank_view.bank_view(42, f, p)
    for k, name in enumerate(DEMAND_CLASSES):
        rows = f["klass"] == k
        expected = min(p.p_detect[0] * p.class_mult[k, 0], 0.98)
        got = (b["detect_kind"][rows] == 2).mean()
        assert abs(got - expected) < 4 * np.sqrt(expected * (1 - expected) / rows.sum()) + 1e-4, name


def test_bank_view_does_not_depend_on_chunking():
    f = bank_flows(50_000)
    p = s4_bank_view.bank_params(BANK)
    whole = s4_bank_view.bank_view(42, f, p)
    parts = [s4_bank_view.bank_view(42, {k: v[a:b] for k, v in f.items()}, p) for a, b in ((0, 12_345), (12_345, 50_000))]
    for k, v in whole.items():
        assert np.array_equal(v, np.concatenate([q[k] for q in parts])), k
    other = s4_bank_view.bank_view(43, f, p)
    assert not np.array_equal(whole["detect"], other["detect"])


def test_group_cases_matches_naive_oracle_and_refuses_unsorted_input():
    g = np.random.default_rng(5)
    n = 5_000
    key = np.sort(g.integers(0, 400, n))
    trigger = START + g.integers(0, 30 * DAY, n)
    flow_id = g.permutation(n) * 4
    order = np.lexsort((flow_id, trigger, key))
    key, trigger, flow_id = key[order], trigger[order], flow_id[order]
    window = 3 * DAY
    got = s4_cases.group_cases(key, trigger, flow_id, window)
    assert np.array_equal(got, oracles_behaviour.group_cases_naive(key, trigger, flow_id, window))
    assert 1 < np.unique(got).size < n
    # a case never spans two keys and every member triggered within the window of its opener
    first = {c: i for i, c in reversed(list(enumerate(got)))}
    for i, c in enumerate(got):
        j = first[c]
        assert key[i] == key[j] and 0 <= trigger[i] - trigger[j] <= window and flow_id[j] == c
    with pytest.raises(ValueError, match="sorted"):
        s4_cases.group_cases(key[::-1], trigger[::-1], flow_id[::-1], window)


def test_close_cases_after_the_last_step_same_close_per_case():
    case_id = np.array([8, 8, 12, 40, 40, 40])
    last = START + np.array([5, 9, 3, 1, 7, 2]) * DAY
    spec = s4_bank_view.bank_params(BANK).delays[-1]
    closed = s4_cases.close_cases(42, case_id, last, spec)
    for c in np.unique(case_id):
        rows = case_id == c
        assert np.unique(closed[rows]).size == 1 and closed[rows][0] > last[rows].max()
        assert closed[rows][0] - last[rows].max() >= spec[2] * 1e6
    assert np.array_equal(closed, s4_cases.close_cases(42, case_id, last, spec))


def test_truth_labels_of_the_policy_cover_every_campaign_type_once():
    rules = TRUTH["rules"]
    claimed = [t for r in rules for t in r["campaign_types"]]
    assert sorted(claimed) == sorted({"NONE"} | {t["type"] for t in CAMPAIGNS["templates"].values()})
    assert {r["label"] for r in rules} <= set(TRUTH_LABELS)


def _add_rule(policy):  # a second rule for ATO flows: every ATO flow matches two rules
    policy["rules"].append({"rule_id": "RULE_ATO_AGAIN", "campaign_types": ["ATO"], "label": "FRAUD",
                                     "subtype": "ATO"})


def _drop_rule(policy):  # no rule for flows without a campaign
    policy["rules"] = [r for r in policy["rules"] if r["campaign_types"] != ["NONE"]]


@pytest.mark.parametrize("edit, matches", [(_add_rule, "matches 2 truth rules"), (_drop_rule, "matches 0 truth rules")])
def test_a_flow_matching_zero_or_several_truth_rules_stops_the_run(runs_root, policy_copy, capsys, edit, matches):
    import runner
    policies = policy_copy({"truth.yaml": edit})
    rc = runner.main(["run", "--preset", "tiny", "--seed", "42", "--policies", str(policies),
                      "--run-dir", str(runs_root / f"tiny-rules-{matches[8]}")])
    err = capsys.readouterr().err
    assert rc == 4
    assert "s4_flow_truth_labels" in err and matches in err
    assert not (runs_root / f"tiny-rules-{matches[8]}" / "data" / "layer3" / "6B" / "s4_flow_truth_labels_6B").exists()


def test_a_quiet_world_gives_empty_deltas_the_baseline_and_no_cases(runs_root, policy_copy):
    """S3 writes only the flows campaigns took and S4 only those the bank acted on: with every
    campaign intensity 0, no issuer decline and no false alert or legit dispute, both write
    nothing, the overlaid flows are the baseline's, none of them flagged, and the bank view has
    no case (validation then fails on the fraud gates, which is the run's verdict, not an error)."""
    import runner
    from python_kernels.run import runs
    from python_kernels.run.exit_codes import ExitCode

    def _idle(policy):
        for t in policy["templates"].values():
            t["intensity"] = [0.0, 0.0]

    def _no_decline(policy):
        policy["flows"]["p_decline"] = {c: 0.0 for c in policy["flows"]["p_decline"]}

    def _no_alert(policy):
        policy["process"]["p_detect"]["NONE"] = policy["process"]["p_dispute"]["NONE"] = 0.0

    run_dir = runs_root / "tiny-quiet-world"
    policies = policy_copy({"campaigns.yaml": _idle, "flows.yaml": _no_decline, "bank_view.yaml": _no_alert})
    rc = runner.main(["run", "--preset", "tiny", "--seed", "42", "--policies", str(policies), "--run-dir", str(run_dir)])
    assert rc == ExitCode.NOT_VALIDATED
    con = runs.connect(run_dir, 1)
    try:
        assert con.execute("select count(*) from s3_overlay_delta").fetchone()[0] == 0
        assert con.execute("""
            select count(*), count(*) filter (where fraud_flag or amount_mutated or campaign_id is not null)
            from s3_flow_anchor_with_fraud""").fetchone() == \
            (con.execute("select count(*) from s2_flow_anchor_baseline").fetchone()[0], 0)
        assert con.execute("""
            select count(*) from s3_flow_anchor_with_fraud as f join s2_flow_anchor_baseline as b using (flow_id)
            where (f.amount_minor, f.device_id, f.ip_id, f.ts_clearing, f.flow_status)
                  is distinct from (b.amount_minor, b.device_id, b.ip_id, b.ts_clearing, b.flow_status)
        """).fetchone()[0] == 0
        assert con.execute("select count(*) from s4_bank_actions").fetchone()[0] == 0
        assert con.execute("""
            select count(*) filter (where bank_label = 'NO_CASE_OPENED' and detection_outcome = 'NOT_DETECTED'
                                    and case_id is null and not is_fraud_bank_view), count(*)
            from s4_flow_bank_view""").fetchone() == \
            (con.execute("select count(*) from s2_flow_anchor_baseline").fetchone()[0],) * 2
        assert con.execute("select count(*) from s4_case_timeline").fetchone()[0] == 0
    finally:
        con.close()
