"""auth_features_6B against a naive recomputation from the published flows: for a keyed sample of
parties, every feature is rebuilt by walking each party's flows in plain Python (past = strictly
earlier instants), independently of the model's window functions."""
from __future__ import annotations

import math
from datetime import timedelta

import duckdb
import pytest

from python_kernels.run.runs import CATALOG_FILE

FEATURES = ("party_flows_1h", "party_flows_24h", "party_flows_7d", "card_flows_1h", "card_flows_24h",
            "card_flows_7d", "party_prior_flows", "amount_vs_party_history", "is_new_device", "is_new_ip",
            "is_new_merchant", "km_from_prev_card_present", "kmh_from_prev_card_present",
            "ip_country_differs_from_home", "card_present")


def _km(a, b):
    (la1, lo1), (la2, lo2) = (map(math.radians, p) for p in (a, b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def _naive(flows: list[dict], card_flows: dict, home: dict, ip_country: dict) -> dict:
    """Features per flow_id of the given parties' flows (each a dict of the published columns)."""
    out = {}
    by_party: dict = {}
    for f in flows:
        by_party.setdefault(f["party_id"], []).append(f)
    for pid, fs in by_party.items():
        fs.sort(key=lambda f: (f["ts_utc"], f["flow_id"]))
        for f in fs:
            t = f["ts_utc"]
            past = [g for g in fs if g["ts_utc"] < t]
            card = [g for g in card_flows[f["instrument_id"]] if g["ts_utc"] < t]
            cp_past = [g for g in past if g["card_present"]]
            row = {"card_present": f["card_present"], "party_prior_flows": len(past)}
            for name, window in (("1h", timedelta(hours=1)), ("24h", timedelta(hours=24)), ("7d", timedelta(days=7))):
                row[f"party_flows_{name}"] = sum(g["ts_utc"] >= t - window for g in past)
                row[f"card_flows_{name}"] = sum(g["ts_utc"] >= t - window for g in card)
            row["amount_vs_party_history"] = (
                f["amount_usd"] / math.exp(sum(math.log(g["amount_usd"]) for g in past) / len(past)) if past else None)
            for ent in ("device", "ip", "merchant"):
                mine = None if ent != "merchant" and f["via_terminal"] else f[f"{ent}_id"]
                row[f"is_new_{ent}"] = None if mine is None else not any(g[f"{ent}_id"] == mine for g in past)
            row["km_from_prev_card_present"] = row["kmh_from_prev_card_present"] = None
            if f["card_present"] and cp_past:
                last_t = max(g["ts_utc"] for g in cp_past)
                prev = min((g for g in cp_past if g["ts_utc"] == last_t), key=lambda g: g["flow_id"])
                same_instant = min((g for g in fs if g["card_present"] and g["ts_utc"] == t), key=lambda g: g["flow_id"])
                km = _km((prev["lat_deg"], prev["lon_deg"]), (same_instant["lat_deg"], same_instant["lon_deg"]))
                row["km_from_prev_card_present"] = km
                row["kmh_from_prev_card_present"] = km / ((t - last_t).total_seconds() / 3600)
            ipc = None if f["via_terminal"] else ip_country.get(f["ip_id"])
            row["ip_country_differs_from_home"] = None if ipc is None else ipc != home[pid]
            out[f["flow_id"]] = row
    return out


@pytest.fixture(scope="module")
def sample(tiny_42):
    d = tiny_42 / "data"
    con = duckdb.connect()
    con.execute(f"attach '{tiny_42 / CATALOG_FILE}' as run (read_only)")  # the overlaid flows are a view
    b = lambda name: f'run."{name}"'  # noqa: E731
    con.execute(f"""
        create table flows as
        select f.flow_id, f.ts_utc, f.party_id, f.instrument_id, f.device_id, f.ip_id, f.merchant_id, f.amount_usd,
               f.channel in ('POS', 'ATM', 'HYBRID') and e.site_id is not null as card_present, s.lat_deg, s.lon_deg,
               f.device_id in (select device_id from read_parquet('{d}/world/s4_device_base_6A/*.parquet')
                               where site_id is not null) as via_terminal
        from {b('s3_flow_anchor_with_fraud_6B')} as f
        join {b('s1_arrival_entities_6B')} as e using (arrival_id)
        left join read_parquet('{d}/world/world_sites/*.parquet') as s on s.site_id = e.site_id
    """)
    # parties with many card-present uses and some without: a spread of histories
    parties = [r[0] for r in con.execute("""
        select party_id from flows group by party_id
        order by count(*) filter (where card_present) desc, party_id limit 40""").fetchall()]
    parties += [r[0] for r in con.execute("select distinct party_id from flows order by party_id limit 40").fetchall()]
    pick = ", ".join(str(p) for p in set(parties))

    def cols(sql):
        cur = con.execute(sql)
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    flows = cols(f"select * from flows where party_id in ({pick})")
    instruments = ", ".join(str(i) for i in {f["instrument_id"] for f in flows})
    card_flows: dict = {}
    for f in cols(f"select flow_id, ts_utc, instrument_id from flows where instrument_id in ({instruments})"):
        card_flows.setdefault(f["instrument_id"], []).append(f)
    home = dict(con.execute(f"select party_id, country_iso from read_parquet('{d}/world/s1_party_base_6A/*.parquet')").fetchall())
    ip_country = dict(con.execute(f"select ip_id, country_iso from read_parquet('{d}/world/s4_ip_base_6A/*.parquet')").fetchall())
    got = {r["flow_id"]: r for r in cols(f"""
        select a.* from {b('auth_features_6B')} as a join flows using (flow_id) where flows.party_id in ({pick})""")}
    return _naive(flows, card_flows, home, ip_country), got


def test_auth_features_match_a_naive_walk_of_each_party(sample):
    expected, got = sample
    assert len(expected) > 500 and set(expected) == set(got)
    assert sum(r["km_from_prev_card_present"] is not None for r in expected.values()) > 100
    for fid, row in expected.items():
        for name in FEATURES:
            want, have = row[name], got[fid][name]
            if isinstance(want, float):
                assert have == pytest.approx(want, rel=1e-6, abs=1e-9), (fid, name)
            else:
                assert have == want, (fid, name, want, have)


def test_auth_features_see_no_label(tiny_42):
    con = duckdb.connect()
    names = [r[0] for r in con.execute(f"""describe select * from read_parquet(
        '{tiny_42}/data/layer3/6B/auth_features_6B/*/*.parquet', hive_partitioning = true)""").fetchall()]
    leaked = [n for n in names if any(w in n for w in ("fraud", "label", "campaign", "truth", "bank", "case", "tactic"))]
    assert leaked == []
