"""`dbt docs generate` works on a built run and documents every model (grain + keys)."""
from __future__ import annotations

import json
import os

from dbt.cli.main import dbtRunner

import runner


def test_docs_generate_documents_every_model(tiny_42, tmp_path, monkeypatch):
    monkeypatch.setenv("FDE_DUCKDB_PATH", str(tiny_42 / "work" / "engine.duckdb"))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(runner.PROJECT_DIR))
    monkeypatch.chdir(runner.PROJECT_DIR)
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
