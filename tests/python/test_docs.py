"""`dbt docs generate` works on a built run and documents every model (grain + keys)."""
from __future__ import annotations

import json
import os

from dbt.cli.main import dbtRunner

import runner
from python_kernels.run.runs import PROJECT_DIR


def test_docs_generate_documents_every_model(tiny_42, tmp_path, monkeypatch):
    monkeypatch.setenv("FDE_DUCKDB_PATH", str(tiny_42 / "work" / "engine.duckdb"))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(PROJECT_DIR))
    monkeypatch.chdir(PROJECT_DIR)
    result = dbtRunner().invoke(["docs", "generate", "--target-path", str(tmp_path), "--log-path", str(tmp_path),
                                 "--vars", json.dumps({"preset": "tiny", "seed": 42}), "--quiet"])
    assert result.success
    assert os.path.getsize(tmp_path / "index.html") > 100_000
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    assert any(v["fqn"][1] == "world" for v in models.values())
    for uid, node in models.items():
        assert node["description"].strip(), f"{uid} has no description"
        assert node["description"].lower().startswith("one row"), f"{uid}: description must start with its grain ('One row per ...')"
        assert node["columns"], f"{uid} documents no column"
        assert uid in catalog["nodes"], f"{uid} missing from the catalog"
        actual = {c.lower() for c in catalog["nodes"][uid]["columns"]}
        documented = {c.lower() for c in node["columns"]}
        assert documented <= actual, f"{uid} documents columns it does not have: {documented - actual}"


def test_docs_command_writes_a_static_site_with_the_lineage(tiny_42):
    assert runner.main(["docs", "--run-dir", str(tiny_42)]) == 0
    page = (tiny_42 / "docs" / "index.html").read_text()
    for model in ("world_merchants", "s4_arrival_events", "s1_arrival_entities", "s2_event_stream_baseline", "gates_6B"):
        assert model in page
    manifest = json.loads((tiny_42 / "work" / "target" / "manifest.json").read_text())
    parents = manifest["parent_map"]

    def ancestors(uid, seen=None):
        seen = set() if seen is None else seen
        for p in parents.get(uid, []):
            if p not in seen:
                seen.add(p)
                ancestors(p, seen)
        return seen
    chain = ancestors("model.fraud_engine.gates_6B")
    for uid in ("model.fraud_engine.s2_flow_anchor_baseline", "model.fraud_engine.s1_arrival_entities",
                "model.fraud_engine.s4_arrival_events", "model.fraud_engine.world_merchants"):
        assert uid in chain, uid


def test_docs_of_a_missing_run_exits_2(runs_root, capsys):
    assert runner.main(["docs", "--run-dir", str(runs_root / "no-such-run")]) == 2
    assert "no complete run" in capsys.readouterr().err
