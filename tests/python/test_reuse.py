"""`run --reuse`: a run that reuses the unchanged states of an earlier validated run has the
data of a full build, and leaves the earlier run's files as they were."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import runner
from conftest import _receipt
from python_kernels.core.digest import table_digest
from python_kernels.run import catalog, runs, states
from python_kernels.run.datasets import DATASETS


def _files(run_dir: Path) -> dict[str, tuple]:
    return {p.relative_to(run_dir).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size)
            for sub in ("data", "work/datasets") for p in (run_dir / sub).rglob("*.parquet")}


def _routing(data):
    # a small move: tiny's DST windows (5B.T3) have little more support than they need
    data["routing"]["p_virtual_hybrid"] = 0.3


def _declines(data):
    data["auth_screen"]["p_decline"].update({"CARD_TESTING": 0.5, "ATO": 0.4})


FROM_5B_S4 = ("5B.S4", "5B.S5", "6B.S1", "6B.S2", "6B.S3", "6B.S4", "6B.S5")


@pytest.mark.parametrize("segment, file, edit, rebuilt", [
    ("5B", "arrivals.yaml", _routing, FROM_5B_S4),
    ("6B", "campaigns.yaml", _declines, ("6B.S3", "6B.S4", "6B.S5")),
])
def test_reuse_gives_the_data_of_a_full_build(runs_root, tiny_42, policy_copy, capsys, segment, file, edit, rebuilt):
    folder = str(policy_copy({file: edit}))
    earlier = _files(tiny_42)
    earlier_receipt = (tiny_42 / runs.RECEIPT_FILE).read_text()
    reused_dir, full_dir = runs_root / f"reuse-{segment}", runs_root / f"full-{segment}"
    assert runner.main(["run", "--preset", "tiny", "--policies", folder, "--run-dir", str(reused_dir),
                        "--reuse", str(tiny_42)]) == 0
    said = capsys.readouterr().err
    assert runner.main(["run", "--preset", "tiny", "--policies", folder, "--run-dir", str(full_dir)]) == 0

    got, full, base = _receipt(reused_dir), _receipt(full_dir), _receipt(tiny_42)
    assert {k: v["content_digest"] for k, v in got["datasets"].items()} == \
        {k: v["content_digest"] for k, v in full["datasets"].items()}
    # the change is real: some dataset differs from the earlier run's
    assert any(got["datasets"][k]["content_digest"] != base["datasets"][k]["content_digest"] for k in base["datasets"])
    assert tuple(s for s, e in sorted(got["states"].items(), key=lambda x: states.state_order(x[0]))
                 if e["built"]) == rebuilt
    assert got["reused_from"]["run_dir"] == str(tiny_42)
    assert set(got["reused_from"]["states"]) == set(states.NODE_STATES) - set(rebuilt)
    assert all(got["states"][s]["fingerprint"] == full["states"][s]["fingerprint"] for s in states.NODE_STATES)
    assert f"building {', '.join(rebuilt)}" in said
    # the validation holds every check of a full build: the reused states' tests carried over
    checks = {r: {c["check_id"]: c for c in json.loads((d / "validation" / "validation_report.json").read_text())["checks"]}
              for r, d in (("reused", reused_dir), ("full", full_dir))}
    assert set(checks["reused"]) == set(checks["full"])
    assert any("carried from" in c["detail"] for c in checks["reused"].values())
    # reused datasets share the earlier run's files; the earlier run is untouched
    reused_models = {"s4_arrival_events"} if segment == "6B" else set()
    for ds in DATASETS:
        if ds.model in reused_models:
            mine = sorted(p.stat().st_ino for p in (reused_dir / got["datasets"][ds.dataset_id]["path"]).rglob("*.parquet"))
            theirs = sorted(p.stat().st_ino for p in (tiny_42 / base["datasets"][ds.dataset_id]["path"]).rglob("*.parquet"))
            assert mine == theirs, ds.dataset_id
    # a reused state's views (the 6B.S2 event stream) are defined again over this run's relations
    con = catalog.connect(reused_dir)
    try:
        assert all(con.execute(f'select count(*) from "{ds.dataset_id}"').fetchone()[0] == got["datasets"][ds.dataset_id]["rows"]
                   for ds in DATASETS if ds.view)
    finally:
        con.close()
    assert _files(tiny_42) == earlier
    assert (tiny_42 / runs.RECEIPT_FILE).read_text() == earlier_receipt


def test_reuse_is_refused_unless_the_earlier_run_is_validated(runs_root, tiny_42, capsys):
    unfinished = runs_root / "unfinished"
    unfinished.mkdir()
    (unfinished / runs.IDENTITY_FILE).write_text(json.dumps({"seed": 42}))
    target = runs_root / "refused"
    for reuse, words in ((str(unfinished), "only a validated run can be reused"),
                         (str(runs_root / "nowhere"), "only a validated run can be reused"),
                         (str(tiny_42), "this run's own directory")):
        run_dir = tiny_42 if "own" in words else target
        rc = runner.main(["run", "--preset", "tiny", "--run-dir", str(run_dir), "--reuse", reuse])
        assert rc == 2 and words in capsys.readouterr().err
    assert not target.exists()


def test_a_run_without_fingerprints_is_refused(runs_root, tiny_42, capsys):
    """A run from before fingerprints: validated, but its receipt names no states."""
    old = runs_root / "before-fingerprints"
    shutil.copytree(tiny_42, old, copy_function=os.link)  # the receipt is replaced below, not edited
    receipt = json.loads((old / runs.RECEIPT_FILE).read_text())
    del receipt["states"]
    (old / runs.RECEIPT_FILE).unlink()
    (old / runs.RECEIPT_FILE).write_text(json.dumps(receipt))
    rc = runner.main(["run", "--preset", "tiny", "--run-dir", str(runs_root / "refused-2"), "--reuse", str(old)])
    err = capsys.readouterr().err
    assert rc == 2 and "records no state fingerprints" in err
    assert not (runs_root / "refused-2").exists()


def test_a_moved_run_is_refused_with_nothing_lost(runs_root, tiny_42, capsys):
    """Its dataset views still read the files where it was built: reuse says so instead of
    building on views that read nothing."""
    moved = runs_root / "moved-away"
    shutil.copytree(tiny_42, moved, copy_function=os.link)
    target = runs_root / "from-moved"
    rc = runner.main(["run", "--preset", "tiny", "--run-dir", str(target), "--reuse", str(moved)])
    assert rc == 2 and "was moved or renamed" in capsys.readouterr().err
    assert not target.exists()


def test_reused_views_are_defined_again_over_what_they_read(runs_root, tiny_42, policy_copy):
    """A gates-only change reuses every data state: the derived views (truth labels read the
    truth-rule table) are created again in the new database and the catalog."""
    def _evidence(data):
        data["gates"]["6B.T1"]["min_evidence"] += 1

    reused_dir = runs_root / "reuse-gates"
    assert runner.main(["run", "--preset", "tiny", "--policies", str(policy_copy({"gates.yaml": _evidence})),
                        "--run-dir", str(reused_dir), "--reuse", str(tiny_42)]) == 0
    got, base = _receipt(reused_dir), _receipt(tiny_42)
    assert "6B.S4" in got["reused_from"]["states"]
    assert got["datasets"] == base["datasets"]
    con = catalog.connect(reused_dir)
    try:
        for ds in (d for d in DATASETS if d.view):
            assert table_digest(con, ds.dataset_id) == (got["datasets"][ds.dataset_id]["rows"],
                                                        got["datasets"][ds.dataset_id]["content_digest"])
    finally:
        con.close()
