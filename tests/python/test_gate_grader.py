"""The SQL gate grader (macros/gates.sql) against an independent Python regrade from
policies/gates.yaml: every gate row of the tiny run must agree with it, and the comparison must
catch a corrupted row."""
from __future__ import annotations

import copy
import math

import duckdb
import pytest

from oracles import gates as oracle
from python_kernels.core.policies import load_policies
from python_kernels.run.runs import PROJECT_DIR

SEGMENTS = ("5B", "6B")


@pytest.fixture(scope="module")
def gates_policy():
    return load_policies(PROJECT_DIR / "policies")["gates"]


@pytest.fixture(scope="module")
def sql_rows(tiny_42):
    con = duckdb.connect(str(tiny_42 / "work" / "engine.duckdb"), read_only=True)
    try:
        rows = []
        for model in ("gates_5B", "gates_6B"):
            cur = con.execute(f"select * from {model} order by gate_id")
            rows += [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
        return rows
    finally:
        con.close()


def test_every_sql_gate_row_agrees_with_the_threshold_table(sql_rows, gates_policy):
    assert oracle.disagreements(sql_rows, gates_policy, SEGMENTS) == []
    # the tiny run exercises both outcomes and the insufficient-evidence rule
    assert {r["pass_b"] for r in sql_rows} == {True, False}
    assert any(r["reason"] and r["reason"].startswith("insufficient evidence") for r in sql_rows)
    assert any(r["margin"] is not None and r["margin"] < 0 for r in sql_rows)


@pytest.mark.parametrize("gate_id, column, wrong", [
    ("6B.T19", "pass_bplus", True),                # fails B+ in the tiny run
    ("5B.T6", "pass_b", True),                     # fails B
    ("5B.T1", "threshold_b", "<= 0.05"),
    ("5B.T9", "reason", None),                     # insufficient evidence
    ("6B.T23", "margin", 0.5),
    ("6B.T17", "pass_b", False),                   # compound
])
def test_a_wrong_grade_is_caught(sql_rows, gates_policy, gate_id, column, wrong):
    rows = copy.deepcopy(sql_rows)
    row = next(r for r in rows if r["gate_id"] == gate_id)
    assert row[column] != wrong
    row[column] = wrong
    assert [d.split(":")[0] for d in oracle.disagreements(rows, gates_policy, SEGMENTS)] == [f"{gate_id}.{column}"]


def test_a_missing_or_duplicated_gate_row_is_caught(sql_rows, gates_policy):
    rows = [r for r in sql_rows if r["gate_id"] != "6B.T22"]
    assert oracle.disagreements(rows, gates_policy, SEGMENTS) == ["6B.T22: 0 rows"]
    rows = sql_rows + [next(r for r in sql_rows if r["gate_id"] == "5B.T1")]
    assert oracle.disagreements(rows, gates_policy, SEGMENTS) == ["5B.T1: 2 rows"]


@pytest.mark.parametrize("rule, value, expected", [
    ({"kind": "max", "strict": False, "b": 0.5}, 0.5, True),
    ({"kind": "max", "strict": True, "b": 0.5}, 0.5, False),
    ({"kind": "min", "strict": True, "b": 0.0}, 0.0, False),
    ({"kind": "min", "strict": True, "b": 0.0}, 1e-12, True),
    ({"kind": "min", "strict": False, "b": 30.0}, 30.0, True),
    ({"kind": "min", "strict": False, "b": 30.0}, math.nan, False),
    ({"kind": "range", "strict": False, "b": [0.03, 0.08]}, 0.08, True),
    ({"kind": "range", "strict": False, "b": [0.03, 0.08]}, 0.0801, False),
    ({"kind": "equals", "strict": False, "b": 0.0}, 0.0, True),
    ({"kind": "equals", "strict": False, "b": 0.0}, 1.0, False),
    ({"kind": "max", "strict": False, "b": 0.5}, None, False),
    ({"kind": "max", "strict": False, "b": 0.5}, math.nan, False),
])
def test_meets_edges(rule, value, expected):
    assert oracle.meets(rule, "b", value) is expected


def test_oracle_reasons_missing_pending_and_compound(gates_policy):
    t17 = gates_policy["gates"]["6B.T17"]
    assert oracle.regrade(None, t17)["reason"] == "missing: no metric row"
    metric = {"gate_id": "6B.T17", "value": 0.5, "evidence_n": 10_000, "insufficient": False,
              "components": {"campaign_count": 10.0, "class_v": 0.5}}
    assert oracle.regrade(metric, t17)["pass_bplus"] is True
    pending = oracle.regrade(metric, t17, pending=True)
    assert pending["reason"] == oracle.PENDING_REASON and not pending["pass_b"]
    low = dict(metric, components={"campaign_count": 10.0, "class_v": t17["components"]["class_v"]["b"] / 2})
    assert oracle.regrade(low, t17)["pass_b"] is False
