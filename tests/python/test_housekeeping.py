"""`runner.py runs` and `runner.py prune` on a runs folder of every kind of run (made by hand:
the validation check is replaced by a marker file, the rest is the real code)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import runner
from python_kernels.run import housekeeping, lock, runs, validation

POLICIES = "/p/policies"


def _make(root: Path, name: str, finished: int, status: str, seed=42, policy_dir=POLICIES, reused_from=None,
          payload=1000) -> Path:
    run = root / name
    (run / "data").mkdir(parents=True)
    (run / runs.IDENTITY_FILE).write_text(json.dumps({"seed": seed, "preset": "tiny", "parameter_hash": name * 3}))
    (run / "data" / "part-0.parquet").write_bytes(b"x" * payload)
    stamp = run / runs.IDENTITY_FILE
    if status != "incomplete":
        receipt = {"policy_dir": policy_dir, "gate_verdict": {"grade": "PASS_B"},
                   "states": {"6B.S5": {"fingerprint": "f" * 64}, "world": {"fingerprint": "0" * 64}}}
        if reused_from:
            receipt["reused_from"] = {"run_dir": str(root / reused_from)}
        (run / runs.RECEIPT_FILE).write_text(json.dumps(receipt))
        stamp = run / runs.RECEIPT_FILE
        if status == "validated":
            (run / "VALID").touch()
    os.utime(stamp, (finished, finished))
    return run


@pytest.fixture
def folder(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("FDE_RUNS_ROOT", str(root))

    def open_run(path):
        if not (Path(path) / "VALID").exists():
            raise validation.ValidationError("not validated")

    monkeypatch.setattr(validation, "open_run", open_run)
    _make(root, "old", 1_000, "validated")                       # superseded by `new`
    _make(root, "new", 3_000, "validated")
    _make(root, "source", 1_500, "validated", seed=7)            # superseded, but `reuser` reused it
    _make(root, "reuser", 2_500, "validated", seed=7, reused_from="source")
    _make(root, "failed", 2_000, "failed")
    _make(root, "broken", 2_100, "incomplete")
    _make(root, "kept", 1_200, "failed")
    _make(root, "nested/other-profile", 1_100, "validated", policy_dir="/p/profile")  # its own lineage
    _make(root, "busy", 2_200, "incomplete")
    (root / "certification-tiny").mkdir()                        # not a run: never listed, never removed
    (root / "certification-tiny" / "gate_decision.json").write_text("{}")
    (root / housekeeping.KEEP_FILE).write_text("# runs to keep\nkept\n")
    shared = root / "reuser" / "data" / "linked.parquet"
    os.link(root / "source" / "data" / "part-0.parquet", shared)
    return root


EXPECTED = {"old": "superseded by new", "failed": "failed", "broken": "incomplete"}


def test_prune_dry_run_shows_the_plan_and_removes_nothing(folder, capsys):
    with lock.hold(folder / "busy"):
        assert runner.main(["prune", "--dry-run"]) == 0
    err = capsys.readouterr().err
    for name, why in EXPECTED.items():
        assert f"would remove {name:<40} {why}" in err
    assert "held by pid" in err and "named in keep" in err and "reuser reused from it" in err
    assert "would remove 3 of 9 runs" in err
    assert len(housekeeping.survey(folder)) == 9


def test_prune_removes_failed_incomplete_and_superseded_runs_only(folder, capsys):
    with lock.hold(folder / "busy"):
        assert runner.main(["prune"]) == 0
    left = {r.name for r in housekeeping.survey(folder)}
    assert left == {"new", "source", "reuser", "kept", "nested/other-profile", "busy"}
    assert (folder / "certification-tiny" / "gate_decision.json").exists()
    assert (folder / "reuser" / "data" / "linked.parquet").read_bytes() == b"x" * 1000
    assert "removed 3 of 9 runs" in capsys.readouterr().err


def test_a_run_taken_meanwhile_is_skipped(folder, capsys, monkeypatch):
    """The plan is made, then a process takes a run it removes: that run stays."""
    real = housekeeping.plan

    def plan_then_taken(found, keep):
        steps = real(found, keep)
        lock_file = lock.lock_path(folder / "failed")
        lock_file.write_text(json.dumps({"pid": 1, "start_ticks": lock.process_start(1), "command": "other"}))
        return steps

    monkeypatch.setattr(housekeeping, "plan", plan_then_taken)
    assert runner.main(["prune"]) == 0
    assert (folder / "failed").exists() and "skipped" in capsys.readouterr().err


def test_runs_lists_every_run_with_status_size_and_what_only_it_holds(folder, capsys):
    assert runner.main(["runs"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[1:-1]}
    assert set(rows) == {"old", "new", "source", "reuser", "failed", "broken", "kept", "nested/other-profile", "busy"}
    assert "validated" in rows["new"] and "failed" in rows["failed"] and "incomplete" in rows["broken"]
    assert rows["reuser"].rstrip().endswith("source") and "f" * 12 in rows["new"]
    by_name = {r.name: r for r in housekeeping.survey(folder)}
    assert by_name["reuser"].bytes_total > by_name["reuser"].bytes_own  # the linked file is shared
    assert by_name["new"].bytes_total == by_name["new"].bytes_own
