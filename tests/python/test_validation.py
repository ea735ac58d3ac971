"""Validation bundle, pass flag, reader and certification (fast: no dbt, synthetic gate rows graded
by the test oracle as the gate models would)."""
from __future__ import annotations

import copy
import json
import math

import pytest
import yaml

from oracles import gates as oracle
from python_kernels.core.policies import load_policies
from python_kernels.core.policy_schema.gates import SCHEMA
from python_kernels.core.policy_schema.nodes import PolicyError
from python_kernels.run import validation as v
from python_kernels.run.runs import IDENTITY_FILE, PROJECT_DIR, RECEIPT_FILE


@pytest.fixture(scope="module")
def gates_policy():
    return load_policies(PROJECT_DIR / "policies")["gates"]


def identity(seed=42):
    return {"seed": seed, "preset": "tiny", "parameter_hash": "p" * 64, "manifest_fingerprint": "m" * 64}


def make_run(tmp_path, seed=42):
    run_dir = tmp_path / f"tiny-seed{seed}"
    run_dir.mkdir()
    (run_dir / IDENTITY_FILE).write_text(json.dumps(identity(seed)))
    (run_dir / RECEIPT_FILE).write_text(json.dumps({**identity(seed), "run_id": f"tiny-seed{seed}"}))
    return run_dir


def passing_value(rule):
    """A value meeting both grades of a single-value rule."""
    b, bp = rule["b"], rule["bplus"]
    if rule["kind"] == "range":
        return (max(b[0], bp[0]) + min(b[1], bp[1])) / 2
    if rule["kind"] == "max":
        return min(b, bp) - (1e-6 if rule["strict"] else 0)
    if rule["kind"] == "min":
        return max(b, bp) + (1 if rule["strict"] else 0)
    return b


def graded(row, policy):
    """`row` with the columns the gate models' grader adds."""
    return {**row, **oracle.regrade(row, policy["gates"][row["gate_id"]], row["gate_id"] in policy["pending"])}


def passing_rows(policy, segment="5B"):
    rows = []
    for gid, cfg in policy["gates"].items():
        if cfg["segment"] != segment:
            continue
        row = {"gate_id": gid, "evidence_n": cfg["min_evidence"], "insufficient": False, "detail": "synthetic"}
        if cfg["kind"] == "all":
            row["components"] = {n: passing_value(c) for n, c in cfg["components"].items()}
            row["value"] = next(iter(row["components"].values()))
        else:
            row["value"] = passing_value(cfg)
        rows.append(graded(row, policy))
    return rows


def set_gate(rows, gate_id, policy, **changes):
    """Change a gate's metric and regrade it, as a rebuilt gate model would."""
    return [graded({**r, **changes}, policy) if r["gate_id"] == gate_id else r for r in copy.deepcopy(rows)]


def bundle(run_dir, rows, policy, checks=(), segments=("5B",)):
    return v.write_bundle(run_dir, identity(json.loads((run_dir / IDENTITY_FILE).read_text())["seed"]),
                          rows, list(checks), policy, segments)


# ---- gate rows -------------------------------------------------------------------------

def test_all_passing_rows_pass_both_grades(gates_policy):
    gates = v.report_gates(passing_rows(gates_policy), gates_policy, ("5B",))
    assert gates and all(g["pass_b"] and g["pass_bplus"] and g["sql_flags_agree"] for g in gates)
    assert v.run_grade(gates) == "PASS_BPLUS"


def test_report_carries_the_graded_columns(gates_policy):
    rows = set_gate(passing_rows(gates_policy), "5B.T6", gates_policy, value=0.9)
    t6 = {g["gate_id"]: g for g in v.report_gates(rows, gates_policy, ("5B",))}["5B.T6"]
    row = next(r for r in rows if r["gate_id"] == "5B.T6")
    assert {k: t6[k] for k in oracle.GRADED} == {k: row[k] for k in oracle.GRADED}
    assert t6["reason"] == "value 0.9 does not meet B (<= 0.72)" and t6["margin"] < 0


def test_a_range_gate_can_pass_bplus_without_b(gates_policy):
    rows = set_gate(passing_rows(gates_policy), "5B.T7", gates_policy, value=0.1)  # B [0.03, 0.08], B+ [0.05, 0.12]
    t7 = {g["gate_id"]: g for g in v.report_gates(rows, gates_policy, ("5B",))}["5B.T7"]
    assert (t7["pass_b"], t7["pass_bplus"], t7["sql_flags_agree"]) == (False, True, True)


def test_missing_duplicated_and_insufficient_gates_fail(gates_policy):
    rows = passing_rows(gates_policy)
    floor = gates_policy["gates"]["5B.T1"]["min_evidence"]
    rows = set_gate([r for r in rows if r["gate_id"] != "5B.T5"], "5B.T1", gates_policy, evidence_n=floor - 1)
    rows += [r for r in rows if r["gate_id"] == "5B.T2"]
    graded_ = {g["gate_id"]: g for g in v.report_gates(rows, gates_policy, ("5B",))}
    assert graded_["5B.T5"]["pass_b"] is False and graded_["5B.T5"]["reason"].startswith("missing")
    assert graded_["5B.T2"]["pass_b"] is False and graded_["5B.T2"]["reason"] == "duplicated: 2 metric rows"
    assert graded_["5B.T1"]["pass_b"] is False and graded_["5B.T1"]["reason"].startswith("insufficient evidence")
    # power rule: a perfect value without enough material windows still fails
    t3 = {g["gate_id"]: g for g in v.report_gates(
        set_gate(rows, "5B.T3", gates_policy, value=0.0, insufficient=True), gates_policy, ("5B",))}["5B.T3"]
    assert t3["pass_b"] is False and t3["pass_bplus"] is False


# ---- bundle and flag ------------------------------------------------------------------

def test_flag_written_only_when_required_gates_and_checks_pass(tmp_path, gates_policy):
    ok = make_run(tmp_path, 42)
    summary = bundle(ok, passing_rows(gates_policy), gates_policy)
    assert summary["flag_written"] and (ok / "validation" / v.FLAG).exists()
    assert v.open_run(ok).identity["seed"] == 42

    bad = make_run(tmp_path, 7)
    rows = set_gate(passing_rows(gates_policy), "5B.T1", gates_policy, value=0.02)
    summary = bundle(bad, rows, gates_policy)
    assert not summary["flag_written"] and summary["blockers"] == ["5B.T1"]
    assert not (bad / "validation" / v.FLAG).exists()
    issues = __import__("pyarrow.parquet", fromlist=["read_table"]).read_table(bad / "validation" / v.ISSUES)
    assert issues.column("check_id").to_pylist() == ["5B.T1"]
    with pytest.raises(v.ValidationError, match="failed validation.*5B.T1"):
        v.open_run(bad)

    failed_check = make_run(tmp_path, 101)
    summary = bundle(failed_check, passing_rows(gates_policy), gates_policy,
                     checks=[v.Check("test.keys_unique", passed=False)])
    assert not summary["flag_written"] and summary["blockers"] == ["test.keys_unique"]


def test_major_gate_miss_keeps_flag_but_lowers_grade(tmp_path, gates_policy):
    run = make_run(tmp_path)
    rows = set_gate(passing_rows(gates_policy), "5B.T6", gates_policy, value=0.9)
    summary = bundle(run, rows, gates_policy)
    assert summary["flag_written"] and summary["grade"] == "PASS_HARD_ONLY"


@pytest.mark.parametrize("corruption", [{"pass_b": False}, {"reason": "value 1 does not meet B"}])
def test_a_gate_row_contradicting_itself_blocks(tmp_path, gates_policy, corruption):
    run = make_run(tmp_path)
    rows = [dict(r, **corruption) if r["gate_id"] == "5B.T7" else r for r in passing_rows(gates_policy)]
    summary = bundle(run, rows, gates_policy)
    assert summary["blockers"] == ["5B.T7:sql_flags"] and not summary["flag_written"]


def test_expected_segment_gates_must_all_be_present(tmp_path, gates_policy):
    run = make_run(tmp_path)
    produced = [gid for gid, g in gates_policy["gates"].items()
                if g["segment"] == "6B" and g["required"] and gid not in gates_policy["pending"]]
    summary = bundle(run, passing_rows(gates_policy), gates_policy, segments=("5B", "6B"))
    assert not summary["flag_written"] and set(produced) <= set(summary["blockers"])


def test_pending_gates_never_pass_nor_block_the_flag_but_block_certification(tmp_path, gates_policy):
    pending = ["6B.T5", "6B.T23"]  # as if their state were not built yet
    rows = passing_rows(gates_policy) + passing_rows(gates_policy, "6B")  # even a passing row is ignored
    gates_policy = {**gates_policy, "pending": pending}
    reports = {}
    for seed in gates_policy["certification"]["required_seeds"]:
        run = make_run(tmp_path, seed)
        summary = bundle(run, rows, gates_policy, segments=("5B", "6B"))
        assert summary["flag_written"] and not set(pending) & set(summary["blockers"])
        report = v.open_run(run).report
        assert sorted(report["pending"]) == sorted(pending)
        assert not any(report["gates"][g]["pass_b"] for g in pending)
        reports[seed] = report
    out = v.certification_decision(reports, gates_policy["certification"], ("5B", "6B"))
    assert out["decision"] == "HOLD_REMEDIATE"
    assert {"id": "pending_gates", "details": {"gates": sorted(pending)}} in out["blockers"]
    # pending gates are blockers of their own, not gate failures or unstable metrics
    assert not any(b["id"].startswith("gates_fail") for b in out["blockers"])
    assert not {m["metric"] for m in out["stability"]["metrics"]} & set(pending)
    assert out["stability"]["cv_overall"] == 0.0
    assert v.certification_decision(reports, gates_policy["certification"], ("5B",))["decision"] == "PASS_BPLUS_ROBUST"


def test_rerun_is_byte_identical_and_failing_rerun_removes_flag(tmp_path, gates_policy):
    run = make_run(tmp_path)
    d1 = bundle(run, passing_rows(gates_policy), gates_policy)["bundle_digest"]
    d2 = bundle(run, passing_rows(gates_policy), gates_policy)["bundle_digest"]
    assert d1 == d2
    bundle(run, set_gate(passing_rows(gates_policy), "5B.T4", gates_policy, value=3.0), gates_policy)
    assert not (run / "validation" / v.FLAG).exists()
    with pytest.raises(v.ValidationError):
        v.open_run(run)


@pytest.mark.parametrize("tamper", ["report", "issues", "extra", "index", "flag_identity"])
def test_tampering_invalidates_the_flag(tmp_path, gates_policy, tamper):
    run = make_run(tmp_path)
    bundle(run, passing_rows(gates_policy), gates_policy)
    folder = run / "validation"
    if tamper == "report":
        rep = json.loads((folder / v.REPORT).read_text())
        rep["gates"]["5B.T1"]["value"] = 0.0001
        (folder / v.REPORT).write_text(json.dumps(rep))
    elif tamper == "issues":
        (folder / v.ISSUES).write_bytes((folder / v.ISSUES).read_bytes() + b"x")
    elif tamper == "extra":
        (folder / "notes.txt").write_text("hello")
    elif tamper == "index":
        (folder / v.INDEX).write_text((folder / v.INDEX).read_text().replace('"bytes"', '"bytes" '))
    else:
        flag = json.loads((folder / v.FLAG).read_text())
        flag["identity"]["seed"] = 7
        (folder / v.FLAG).write_text(json.dumps(flag))
    with pytest.raises(v.ValidationError):
        v.open_run(run)


def test_reader_refuses_unvalidated_incomplete_or_foreign_runs(tmp_path, gates_policy):
    run = make_run(tmp_path)
    with pytest.raises(v.ValidationError, match="was not validated"):
        v.open_run(run)
    bundle(run, passing_rows(gates_policy), gates_policy)
    (run / RECEIPT_FILE).unlink()
    with pytest.raises(v.ValidationError, match="incomplete"):
        v.open_run(run)
    (run / RECEIPT_FILE).write_text(json.dumps({**identity(42), "parameter_hash": "q" * 64}))
    with pytest.raises(v.ValidationError, match="identity"):
        v.open_run(run)


def test_seed_is_part_of_the_identity(tmp_path, gates_policy):
    a, b = make_run(tmp_path, 42), make_run(tmp_path, 7)
    da = bundle(a, passing_rows(gates_policy), gates_policy)["bundle_digest"]
    db = bundle(b, passing_rows(gates_policy), gates_policy)["bundle_digest"]
    assert da != db
    # a valid bundle moved into another seed's run is refused
    (b / "validation" / v.FLAG).write_bytes((a / "validation" / v.FLAG).read_bytes())
    with pytest.raises(v.ValidationError):
        v.open_run(b)


def test_dbt_run_results_become_checks(tmp_path):
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps({"results": [
        {"unique_id": "model.fraud_engine.gates_5B", "status": "success"},
        {"unique_id": "test.fraud_engine.unique_x", "status": "pass"},
        {"unique_id": "test.fraud_engine.gates_5B_pass_bplus", "status": "warn", "message": "Got 1 result"},
        {"unique_id": "test.fraud_engine.gates_5B_hard_pass_b", "status": "fail", "message": "Got 2 results"},
    ]}))
    checks = {c.check_id: c for c in v.checks_from_run_results(path)}
    assert set(checks) == {"test.fraud_engine.unique_x", "test.fraud_engine.gates_5B_pass_bplus",
                           "test.fraud_engine.gates_5B_hard_pass_b"}
    assert not checks["test.fraud_engine.gates_5B_pass_bplus"].required
    assert checks["test.fraud_engine.gates_5B_hard_pass_b"].required and not checks["test.fraud_engine.gates_5B_hard_pass_b"].passed


# ---- certification --------------------------------------------------------------------

def seed_reports(tmp_path, gates_policy, tweak=lambda seed, rows: rows):
    reports = {}
    for seed in gates_policy["certification"]["required_seeds"]:
        run = make_run(tmp_path, seed)
        bundle(run, tweak(seed, passing_rows(gates_policy)), gates_policy)
        reports[seed] = v.open_run(run).report
    return reports


def test_certification_passes_bplus_when_stable(tmp_path, gates_policy):
    out = v.certification_decision(seed_reports(tmp_path, gates_policy), gates_policy["certification"], ("5B",))
    assert out["decision"] == "PASS_BPLUS_ROBUST" and out["stability"]["cv_overall"] == 0.0


def test_certification_unstable_metric_and_missing_seed_hold(tmp_path, gates_policy):
    cert = gates_policy["certification"]
    b, bp = gates_policy["gates"]["5B.T7"]["b"], gates_policy["gates"]["5B.T7"]["bplus"]

    def spread(seed, rows):  # 5B.T7 values inside B and B+ but far apart across seeds
        return set_gate(rows, "5B.T7", gates_policy, value={42: 0.05, 7: 0.08, 101: 0.05, 202: 0.08}[seed])
    reports = seed_reports(tmp_path, gates_policy, spread)
    out = v.certification_decision(reports, cert, ("5B",))
    cv = next(m["cv"] for m in out["stability"]["metrics"] if m["metric"] == "5B.T7")
    assert cv == pytest.approx(0.015 / 0.065) and max(b[0], bp[0]) <= 0.05
    assert out["decision"] == "PASS_B"                       # 0.23: within 0.25, above 0.15
    del reports[202]
    out = v.certification_decision(reports, cert, ("5B",))
    assert out["decision"] == "HOLD_REMEDIATE" and out["blockers"][0]["details"]["missing_seeds"] == [202]


def test_cv_floor_keeps_near_zero_metrics_finite(gates_policy):
    cert = gates_policy["certification"]
    reports = {s: {"identity": identity(s), "gates": {"5B.T1": {"value": x, "components": None}}}
               for s, x in zip(cert["required_seeds"], (0.0, 1e-6, 0.0, 0.0))}
    stab = v.cross_seed_stability(reports, {**cert, "stability": {**cert["stability"], "floors": {"5B.T1": 1e-3}}})
    assert stab["cv_overall"] == pytest.approx(math.sqrt(3) / 4 * 1e-6 / 1e-3)
    missing = v.cross_seed_stability({**reports, 42: {"gates": {}}},
                                     {**cert, "stability": {**cert["stability"], "floors": {"5B.T1": 1e-3}}})
    assert missing["cv_overall"] is None and not missing["pass_b"]


# ---- threshold table schema -----------------------------------------------------------

def test_policy_refuses_looser_bplus_and_required_context():
    node, check = SCHEMA
    raw = yaml.safe_load((PROJECT_DIR / "policies" / "gates.yaml").read_text())
    loose = copy.deepcopy(raw)
    loose["gates"]["5B.T1"]["bplus"] = 0.01
    with pytest.raises(PolicyError, match="5B.T1.bplus"):
        check("gates.yaml", node.check("gates.yaml", "", loose))
    ctx = copy.deepcopy(raw)
    ctx["gates"]["5B.T8"]["required"] = True
    with pytest.raises(PolicyError, match="5B.T8.required"):
        check("gates.yaml", node.check("gates.yaml", "", ctx))
    floor = copy.deepcopy(raw)
    floor["certification"]["stability"]["floors"]["6B.T17"] = 1
    with pytest.raises(PolicyError, match="floors.6B.T17"):
        check("gates.yaml", node.check("gates.yaml", "", floor))


def test_policy_thresholds_match_the_reference(gates_policy):
    g = gates_policy["gates"]
    assert (g["5B.T1"]["b"], g["5B.T1"]["bplus"]) == (0.005, 0.001)
    assert (g["5B.T2"]["b"], g["5B.T2"]["bplus"]) == (0.001, 0.0002)
    assert (g["5B.T3"]["b"], g["5B.T3"]["bplus"]) == (1.5, 0.7)
    assert (g["5B.T6"]["b"], g["5B.T6"]["bplus"]) == (0.72, 0.62)
    assert (g["5B.T7"]["b"], g["5B.T7"]["bplus"]) == ([0.03, 0.08], [0.05, 0.12])
    assert (g["6B.T23"]["b"], g["6B.T23"]["bplus"]) == (0.90, 0.80)
    assert sorted(k for k in g if k.startswith("6B.T")) == sorted(f"6B.T{i}" for i in range(1, 24))
    # the realism gates users check first (issue 18) are major, never part of the hard decision
    realism = [k for k in g if k.startswith("6B.R")]
    statistical = [k for k in g if k.startswith("5B.R")]
    assert realism and statistical
    assert all(g[k]["tier"] == "major" and not g[k]["required"] for k in realism + statistical)
    assert sorted(k for k in g if k.startswith("6B.")) == sorted([f"6B.T{i}" for i in range(1, 24)] + realism)
    assert {k for k in g if g[k]["tier"] == "hard"} >= {f"5B.T{i}" for i in range(1, 6)}
    assert gates_policy["certification"]["required_seeds"] == [42, 7, 101, 202]
