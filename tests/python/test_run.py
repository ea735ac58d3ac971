"""End-to-end runs on the tiny preset: receipt, determinism across threads, seeds, bad input."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import runner
from conftest import _receipt, _run
from python_kernels.run.datasets import DATASETS
from python_kernels.run.runs import IDENTITY_FILE, RECEIPT_FILE

PROJECT = Path(runner.__file__).resolve().parent


def test_receipt_names_identity_versions_and_every_dataset(tiny_42):
    receipt = _receipt(tiny_42)
    assert receipt["seed"] == 42 and receipt["preset"] == "tiny"
    assert len(receipt["parameter_hash"]) == 64 and len(receipt["manifest_fingerprint"]) == 64
    assert receipt["scenario_ids"] == ["baseline_v1"]
    assert receipt["versions"]["duckdb"] and receipt["versions"]["tzdata"]
    assert receipt["wall_seconds"]["per_state"]["world"] > 0
    for ds in DATASETS:
        entry = receipt["datasets"][ds.dataset_id]
        assert entry["rows"] > 0, ds.dataset_id
        if ds.view:  # test_catalog.py: defined in the catalog, never written
            continue
        parts = list((tiny_42 / entry["path"]).rglob("*.parquet"))
        assert parts, f"{ds.dataset_id} has no parquet part"
    assert not (tiny_42 / "data" / ".staging").exists() or not any((tiny_42 / "data" / ".staging").rglob("*.parquet"))


def test_same_seed_same_content_whatever_the_threads(runs_root, tiny_42):
    rc, other = _run(runs_root, "tiny-42-t1", "--seed", "42", "--threads", "1")
    assert rc == 0
    a, b = _receipt(tiny_42)["datasets"], _receipt(other)["datasets"]
    assert {k: v["content_digest"] for k, v in a.items()} == {k: v["content_digest"] for k, v in b.items()}


def test_another_seed_gives_another_world(runs_root, tiny_42):
    rc, other = _run(runs_root, "tiny-7", "--seed", "7")
    assert rc == 0
    a, b = _receipt(tiny_42)["datasets"], _receipt(other)["datasets"]
    for ds in DATASETS:
        same = a[ds.dataset_id]["content_digest"] == b[ds.dataset_id]["content_digest"]
        assert same != ds.seeded, f"{ds.dataset_id}: seeded={ds.seeded} but digests {'equal' if same else 'differ'}"


def test_run_dir_of_another_identity_is_refused(runs_root, tiny_42):
    before = (tiny_42 / IDENTITY_FILE).read_text()
    rc = runner.main(["run", "--preset", "tiny", "--seed", "43", "--run-dir", str(tiny_42)])
    assert rc == 3
    assert (tiny_42 / IDENTITY_FILE).read_text() == before
    assert (tiny_42 / RECEIPT_FILE).exists()


@pytest.mark.parametrize("args, message", [
    (["--preset", "huge"], "unknown preset 'huge'"),
    (["--preset", "tiny", "--seed", "-5"], "--seed"),
    (["--preset", "tiny", "--threads", "0"], "--threads"),
])
def test_bad_arguments_exit_2_and_write_nothing(runs_root, capsys, args, message):
    target = runs_root / "bad-args"
    rc = runner.main(["run", *args, "--run-dir", str(target)])
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not target.exists()


# (policy file, text to replace, replacement, words the message must contain)
BAD_POLICIES = [
    ("presets.yaml", "n_merchants: 60", "n_merchants: -60", ["presets.yaml", "presets.tiny.n_merchants", "-60"]),
    ("presets.yaml", "n_merchants: 60", "n_merchants: sixty", ["presets.tiny.n_merchants", "sixty"]),
    ("presets.yaml", "countries: tiny", "countries: europe", ["presets.tiny.countries", "europe", "tiny, all"]),
    ("graph.yaml", '"6": 0.02}', '"6": 0.12}', ["graph.yaml", "household_size", "sum to 1"]),
    ("presets.yaml", "n_merchants: 60", "n_merchants: [60", ["presets.yaml", "line"]),
]


@pytest.mark.parametrize("file, old, new, words", BAD_POLICIES, ids=["negative", "type", "enum", "sum", "yaml"])
def test_bad_policy_exits_2_naming_what_is_wrong(runs_root, tmp_path, capsys, file, old, new, words):
    policies = tmp_path / "policies"
    shutil.copytree(PROJECT / "policies", policies)
    text = (policies / file).read_text()
    assert old in text
    (policies / file).write_text(text.replace(old, new, 1))
    target = runs_root / "bad-policy"
    rc = runner.main(["run", "--preset", "tiny", "--policies", str(policies), "--run-dir", str(target)])
    err = capsys.readouterr().err
    assert rc == 2
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"
    assert not target.exists()


@pytest.mark.parametrize("run_dir, message", [
    ("/tmp/elsewhere-run", "outside the allowed root"),
    ("{root}/a/../b", "contains '..'"),
])
def test_run_dir_outside_the_root_exits_2(runs_root, capsys, run_dir, message):
    rc = runner.main(["run", "--preset", "tiny", "--run-dir", run_dir.format(root=runs_root)])
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not (runs_root / "b").exists() and not Path("/tmp/elsewhere-run").exists()


def test_missing_seed_csv_exits_2_naming_the_file(runs_root, capsys):
    csv = PROJECT / "seeds" / "world" / "world_mccs.csv"
    hidden = csv.with_name(".world_mccs.csv.hidden")
    target = runs_root / "missing-seed"
    os.replace(csv, hidden)
    try:
        rc = runner.main(["run", "--preset", "tiny", "--run-dir", str(target)])
    finally:
        os.replace(hidden, csv)
    assert rc == 2
    assert "seeds/world/world_mccs.csv is missing" in capsys.readouterr().err
    assert not target.exists()


def test_run_is_validated_and_readable(tiny_42):
    from python_kernels.run.validation import open_run

    receipt = _receipt(tiny_42)
    verdict = receipt["gate_verdict"]
    assert verdict["verdict"] == "PASS" and not verdict["blockers"]
    run = open_run(tiny_42)
    assert run.bundle_digest == verdict["bundle_digest"]
    assert run.identity["seed"] == 42
    assert {"5B.T1", "5B.T4"} <= set(run.report["gates"])
    assert any(c["check_id"].startswith("test.fraud_engine.s4_counts_conserved") for c in run.report["checks"])
