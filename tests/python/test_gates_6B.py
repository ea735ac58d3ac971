"""The 6B gates built from their separate inputs (amount counts, latency, attachment) against
the same metrics computed naively in Python from the run's rows."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml

GATES = yaml.safe_load((Path(__file__).resolve().parents[2] / "policies" / "gates.yaml").read_text())["gates"]


@pytest.fixture(scope="module")
def run(tiny_42):
    con = duckdb.connect(str(tiny_42 / "work" / "engine.duckdb"), read_only=True)
    values = dict(con.execute("select gate_id, value from gates_6B").fetchall())
    evidence = dict(con.execute("select gate_id, evidence_n from gates_6B").fetchall())
    yield con, values, evidence
    con.close()


def test_amount_gates_match_the_flows(run):
    con, values, evidence = run
    min_flows = GATES["6B.T11"]["params"]["min_currency_flows"]
    top_n = GATES["6B.T13"]["params"]["top_n"]
    by_currency = defaultdict(list)
    for currency, amount in con.execute("select currency_code, amount from s2_flow_anchor_baseline").fetchall():
        by_currency[currency].append(amount)
    material = {c: np.array(a) for c, a in by_currency.items() if len(a) >= min_flows}
    assert len(material) > 1  # otherwise the worst currency is not a choice

    assert values["6B.T11"] == len({a for amounts in by_currency.values() for a in amounts})
    tails = [np.quantile(a, 0.99) / np.quantile(a, 0.5) for a in material.values()]
    assert values["6B.T12"] == pytest.approx(min(tails), rel=1e-12)
    shares = []
    for amounts in material.values():
        ranked = sorted(Counter(amounts.tolist()).items(), key=lambda kv: (-kv[1], -kv[0]))
        shares.append(sum(n for _, n in ranked[:top_n]) / len(amounts))
    assert values["6B.T13"] == pytest.approx(max(shares), rel=1e-12)
    assert evidence["6B.T12"] == sum(len(a) for a in material.values())


def test_latency_gates_match_the_event_stream(run):
    con, values, evidence = run
    request, response, stepped = {}, {}, set()
    rows = con.execute("select flow_id, event_type, epoch_us(ts_utc) from s2_event_stream_baseline").fetchall()
    for flow, kind, ts in rows:
        if kind == "AUTH_REQUEST":
            request[flow] = ts
        elif kind == "AUTH_RESPONSE":
            response[flow] = ts
        elif kind == "STEP_UP_CHALLENGE":
            stepped.add(flow)
    latency = np.array([(response[f] - request[f]) / 1e6 for f in request if f not in stepped])
    assert 0 < len(latency) < len(request)  # both kinds of flow exist
    assert evidence["6B.T14"] == len(latency)
    assert values["6B.T14"] == pytest.approx(np.quantile(latency, 0.5), rel=1e-12)
    assert values["6B.T15"] == pytest.approx(np.quantile(latency, 0.99), rel=1e-12)
    assert values["6B.T16"] == pytest.approx(np.mean(latency == 0), rel=1e-12)


def test_attachment_gate_matches_the_entities(run):
    con, values, evidence = run
    rows = con.execute("select party_id, account_id, instrument_id, device_id, ip_id from s1_arrival_entities").fetchall()
    shares = []
    for owner, attached in ((3, 0), (4, 3), (1, 2)):  # device-party, ip-device, account-instrument
        users = defaultdict(set)
        for row in rows:
            users[row[owner]].add(row[attached])
        shares.append(sum(len(u) > 1 for u in users.values()) / len(users))
    assert 0 < min(shares)
    assert evidence["6B.T20"] == len(rows)
    assert values["6B.T20"] == pytest.approx(sum(shares) / 3, rel=1e-12)


def test_class_label_gate_matches_scipy_chi_square(run):
    """6B.T5 (Cramér's V of bank label vs demand class) and the chi-square in its detail agree
    with scipy's contingency test on the same rows."""
    from scipy.stats import chi2_contingency
    con, values, _ = run
    cells = con.execute("""select demand_class, bank_label, count(*) from int_gates_6B_flows group by all""").fetchall()
    rows, cols = sorted({c[0] for c in cells}), sorted({c[1] for c in cells})
    table = np.zeros((len(rows), len(cols)))
    for r, c, n in cells:
        table[rows.index(r), cols.index(c)] = n
    chi2, _, dof, _ = chi2_contingency(table, correction=False)
    v = np.sqrt(chi2 / table.sum() / (min(table.shape) - 1))
    # the macro's exact sum keeps each cell's term to a fixed number of decimals
    assert values["6B.T5"] == pytest.approx(v, rel=1e-6)
    detail = con.execute("select detail from gates_6B where gate_id = '6B.T5'").fetchone()[0]
    got = re.search(r"chi-square ([0-9.]+) on ([0-9]+) degrees of freedom", detail)
    assert float(got[1]) == pytest.approx(chi2, rel=1e-6, abs=0.05) and int(got[2]) == dof


def _channel_mix_jsd(merchants: dict, arrivals: list, policies: dict) -> dict:
    """Per sector, the Jensen-Shannon divergence (bits, scipy) of realised arrival channels from
    the mix the policy gives each arrival's merchant."""
    from scipy.spatial.distance import jensenshannon
    p_vh = policies["arrivals"]["routing"]["p_virtual_hybrid"]
    p_rail = policies["attachment"]["channels"]["p_bank_rail_by_sector"]
    channels = ["ECOM", "BANK_RAIL", "HYBRID", "ATM", "POS"]
    realised, expected = defaultdict(Counter), defaultdict(lambda: np.zeros(len(channels)))
    for merchant_id, channel in arrivals:
        sector, mode, group, is_atm = merchants[merchant_id]
        virtual = {"VIRTUAL_ONLY": 1.0, "HYBRID": p_vh}.get(mode, 0.0)
        # each arrival's chance of each channel: virtual or card-not-present arrivals are remote
        remote = virtual if group != "card_not_present" else 1.0
        physical = 1.0 - remote
        expected[sector] += [remote * (1 - p_rail[sector]), remote * p_rail[sector],
                             physical * (group == "mixed"), physical * (group == "card_present" and is_atm),
                             physical * (group == "card_present" and not is_atm)]
        realised[sector][channel] += 1
    return {s: (sum(realised[s].values()),
                jensenshannon([realised[s][c] for c in channels], expected[s], base=2) ** 2)
            for s in expected}


def test_channel_mix_gate_matches_the_arrivals_and_can_fail(run):
    """6B.R9 against the same divergence computed per arrival in Python; the realised mix of a
    sector whose hybrid-merchant payments in person are relabelled POS scores far above B."""
    from python_kernels.core.policies import load_policies
    con, values, evidence = run
    policies = load_policies(Path(__file__).resolve().parents[2] / "policies").values
    merchants = {m: rest for m, *rest in con.execute("""
        select m.merchant_id, m.mcc_sector, v.virtual_mode, v.channel_group, c.is_atm
        from world_merchants as m join world_virtual_classification as v using (merchant_id)
        join world_mccs as c using (mcc)""").fetchall()}
    arrivals = con.execute("select merchant_id, channel from s1_arrival_entities").fetchall()
    by_sector = _channel_mix_jsd(merchants, arrivals, policies)
    min_n = GATES["6B.R9"]["params"]["min_sector_arrivals"]
    counted = {s: v for s, v in by_sector.items() if v[0] >= min_n}
    assert len(counted) > 1
    assert evidence["6B.R9"] == sum(n for n, _ in counted.values())
    assert values["6B.R9"] == pytest.approx(max(j for _, j in counted.values()), rel=1e-6, abs=1e-9)
    hybrid = Counter(merchants[m][0] for m, c in arrivals if c == "HYBRID" and merchants[m][0] in counted)
    sector = max(hybrid, key=hybrid.get)
    relabelled = [(m, "POS" if c == "HYBRID" and merchants[m][0] == sector else c) for m, c in arrivals]
    assert _channel_mix_jsd(merchants, relabelled, policies)[sector][1] > GATES["6B.R9"]["b"]
