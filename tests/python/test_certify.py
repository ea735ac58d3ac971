"""`runner.py certify`: artefacts, reuse of validated runs, and HOLD_REMEDIATE on broken data."""
import csv
import json
from pathlib import Path

import duckdb
import pytest

import runner
from python_kernels.run import certify, dbt, pipeline, runs
from python_kernels.run import validation
from python_kernels.core.policies import load_policies
from python_kernels.run.exit_codes import ExitCode
from python_kernels.run.progress import Progress
from python_kernels.run.runs import RunError

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ("validation_summary.json", "seed_comparison.csv", "regression_report.md", "gate_decision.json")


def test_certify_holds_on_a_run_with_broken_latencies(runs_root, policy_copy, capsys):
    def slow_issuer(b):  # auth responses a minute late: s2_event_stream_baseline is broken
        b["timing"]["auth_response"].update(median_seconds=60.0, min_seconds=30.0)

    def one_seed(g):
        g["certification"]["required_seeds"] = [5]
    policies = policy_copy({"flows.yaml": slow_issuer, "gates.yaml": one_seed})
    rc = runner.main(["certify", "--preset", "tiny", "--policies", str(policies), "--out", str(runs_root / "cert-broken")])
    assert rc == 7
    out = runs_root / "cert-broken"
    for name in ARTEFACTS + ("gateboard_seed5.json", "gateboard_seed5.md"):
        assert (out / name).is_file(), name
    decision = json.loads((out / "gate_decision.json").read_text())
    assert decision["decision"] == "HOLD_REMEDIATE" and decision["segments"]["6B"] == "HOLD_REMEDIATE"
    failing = [b for b in decision["blockers"] if b["segment"] == "6B" and b["id"] == "gates_fail_b"]
    assert failing and "5:6B.T14" in failing[0]["details"]["seed_gates"]
    assert {"segment": "run", "id": "runs_not_validated", "details": {"seeds": [5]}} in decision["blockers"]
    # a policy set other than the project's own builds into its own run directories
    run_dir = runs_root / runs.default_run_name("tiny", 5, load_policies(policies).parameter_hash)
    assert run_dir.name.startswith("tiny-seed5-") and (run_dir / "run_receipt.json").exists()
    assert not (run_dir / "validation" / validation.FLAG).exists()
    summary = json.loads((out / "validation_summary.json").read_text())
    assert summary["5"]["passed_flag"] is False and "6B.T14" in summary["5"]["blockers"]
    assert "6B.T14" in (out / "regression_report.md").read_text()
    board = json.loads((out / "gateboard_seed5.json").read_text())
    assert board["gates"]["6B.T14"]["pass_b"] is False and board["gates"]["6B.T14"]["value"] > 8
    assert "blocker 6B: gates_fail_b" in capsys.readouterr().err


def test_a_run_that_fails_stops_certification_with_its_exit_code(runs_root, monkeypatch, capsys):
    def failing_run(config):
        raise RunError("dbt build failed: boom", ExitCode.PIPELINE_FAILED)

    monkeypatch.setattr(pipeline, "run", failing_run)
    out = runs_root / "cert-failing"
    rc = runner.main(["certify", "--preset", "tiny", "--seeds", "991", "--out", str(out)])
    assert rc == ExitCode.PIPELINE_FAILED
    assert "certification stopped: the run of seed 991 failed (exit 4" in capsys.readouterr().err
    assert not out.exists()


def test_certify_reuses_validated_runs_and_compares_seeds(runs_root, capsys):
    out = runs_root / "cert-ok"
    args = ["certify", "--preset", "tiny", "--seeds", "11,12", "--out", str(out)]
    runner.main(args)
    first = capsys.readouterr().err
    assert "seed 11: building" in first and "seed 12: building" in first
    runner.main(args)
    second = capsys.readouterr().err
    assert "seed 11: reusing the validated run" in second and "seed 12: reusing the validated run" in second
    with open(out / "seed_comparison.csv") as fh:
        rows = list(csv.DictReader(fh))
    t7 = next(r for r in rows if r["metric"] == "5B.T7")
    assert t7["seed_11"] and t7["seed_12"] and t7["seed_11"] != t7["seed_12"] and float(t7["cv"]) > 0
    decision = json.loads((out / "gate_decision.json").read_text())
    # the default seeds are required: two of them are missing, for both segments
    ids = {(b["segment"], b["id"]) for b in decision["blockers"]}
    assert ("5B", "missing_required_seeds") in ids and ("6B", "missing_required_seeds") in ids
    assert not any(b["id"] == "pending_gates" for b in decision["blockers"])
    assert decision["decision"] == "HOLD_REMEDIATE"


def test_corrupted_dataset_fails_its_gate_and_loses_the_flag(runs_root, tmp_path):
    rc = runner.main(["run", "--preset", "tiny", "--seed", "13"])
    assert rc == 0
    run_dir = runs_root / "tiny-seed13"
    validation.open_run(run_dir)  # validated before the corruption
    con = duckdb.connect(str(run_dir / "work" / "engine.duckdb"))
    try:  # one arrival in ten shows a local time an hour off (the model is a view over Parquet)
        con.execute("""
            create table corrupted as
            select * replace (case when arrival_id % 10 = 0 then ts_local_primary + interval 1 hour
                                   else ts_local_primary end as ts_local_primary)
            from s4_arrival_events;
            drop view s4_arrival_events;
            alter table corrupted rename to s4_arrival_events""")
    finally:
        con.close()
    vars_ = {"seed": 13, "preset": "tiny", "policy_dir": str(ROOT / "policies")}
    # eager: the gate tests also read world_policy_params, which this selection leaves out
    selection = ["--select", "gates_5B", "--indirect-selection", "eager"]
    assert dbt.invoke("build", run_dir, vars_, 2, Progress(), selection).success is False
    gates_policy = load_policies(ROOT / "policies")["gates"]
    con = duckdb.connect(str(run_dir / "work" / "engine.duckdb"), read_only=True)
    try:
        summary = validation.validate_run(run_dir, con, gates_policy,
                                          [run_dir / "work" / "target" / "run_results.json"], segments=("5B", "6B"))
    finally:
        con.close()
    assert not summary["flag_written"] and "5B.T1" in summary["blockers"] and "5B.T2" in summary["blockers"]
    with pytest.raises(validation.ValidationError):
        validation.open_run(run_dir)
    report, flagged = certify.read_report(run_dir)
    decision = certify.decide({13: report}, {13: flagged}, gates_policy, ("5B", "6B"))
    assert decision["decision"] == "HOLD_REMEDIATE" and decision["segments"]["5B"] == "HOLD_REMEDIATE"
    failing = next(b for b in decision["blockers"] if b["segment"] == "5B" and b["id"] == "gates_fail_b")
    assert "13:5B.T1" in failing["details"]["seed_gates"]
