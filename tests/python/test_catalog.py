"""The run's catalog (run.duckdb) and `runner.py export`: every dataset by name, the derived
ones as views that were never written, exports other engines read with pyarrow alone, and no
read of a run that did not pass validation."""
from __future__ import annotations

import json
import shutil

import pyarrow.dataset as pads
import pytest

import runner
from python_kernels.core.digest import table_digest
from python_kernels.run import catalog
from python_kernels.run.datasets import BY_ID, DATASETS
from python_kernels.run.runs import CATALOG_FILE, RECEIPT_FILE
from python_kernels.run.validation import BUNDLE_DIR, FLAG, ValidationError


def _receipt(run_dir):
    return json.loads((run_dir / RECEIPT_FILE).read_text())


def test_catalog_defines_every_dataset_with_the_published_rows(tiny_42):
    receipt = _receipt(tiny_42)
    con = catalog.connect(tiny_42)
    try:
        names = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
        assert names == set(BY_ID)
        for ds in DATASETS:
            entry = receipt["datasets"][ds.dataset_id]
            if ds.view:
                # the view's rows are the ones publishing digested in the run's own database
                assert table_digest(con, ds.dataset_id) == (entry["rows"], entry["content_digest"])
            else:
                assert con.execute(f'select count(*) from "{ds.dataset_id}"').fetchone()[0] == entry["rows"]
    finally:
        con.close()


def test_views_are_never_written(tiny_42):
    receipt = _receipt(tiny_42)
    views = [ds for ds in DATASETS if ds.view]
    assert {ds.model for ds in views} == {"s2_event_stream_baseline", "s3_flow_anchor_with_fraud",
                                         "s3_event_stream_with_fraud", "s4_flow_truth_labels", "s4_flow_bank_view",
                                         "s4_event_labels"}
    for ds in views:
        entry = receipt["datasets"][ds.dataset_id]
        assert entry["view"] is True and "path" not in entry and entry["rows"] > 0
        assert not (tiny_42 / "data" / ds.path).exists()
        assert not (tiny_42 / "work" / "datasets" / ds.model).exists()


@pytest.mark.parametrize("dataset_id", ["s3_event_stream_with_fraud_6B", "s4_flow_bank_view_6B", "s4_event_labels_6B",
                                        "world_merchants"])
def test_export_is_read_with_pyarrow_alone(tiny_42, tmp_path, dataset_id):
    entry = _receipt(tiny_42)["datasets"][dataset_id]
    assert runner.main(["export", "--run-dir", str(tiny_42), "--dataset", dataset_id, "--out", str(tmp_path)]) == 0
    table = pads.dataset(tmp_path / dataset_id, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == entry["rows"]
    con = catalog.connect(tiny_42)
    try:
        columns = [r[0] for r in con.execute(f'describe "{dataset_id}"').fetchall()]
        if BY_ID[dataset_id].scenario:
            assert set(table.column("scenario_id").to_pylist()) == {
                r[0] for r in con.execute(f'select distinct scenario_id from "{dataset_id}"').fetchall()}
    finally:
        con.close()
    assert sorted(table.column_names) == sorted(columns)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_export_refuses_without_writing(tiny_42, tmp_path, capsys):
    out = tmp_path / "out"
    assert runner.main(["export", "--run-dir", str(tiny_42), "--dataset", "no_such", "--out", str(out)]) == 2
    assert "no dataset named 'no_such'" in capsys.readouterr().err and not out.exists()

    assert runner.main(["export", "--run-dir", str(tiny_42), "--dataset", "world_sites", "--out", str(out)]) == 0
    before = sorted((p.name, p.stat().st_mtime_ns) for p in (out / "world_sites").rglob("*"))
    assert runner.main(["export", "--run-dir", str(tiny_42), "--dataset", "world_sites", "--out", str(out)]) == 2
    assert "never overwrites" in capsys.readouterr().err
    assert sorted((p.name, p.stat().st_mtime_ns) for p in (out / "world_sites").rglob("*")) == before

    inside = tiny_42 / "data" / "mine"
    assert runner.main(["export", "--run-dir", str(tiny_42), "--dataset", "world_sites", "--out", str(inside)]) == 2
    assert "which the engine owns" in capsys.readouterr().err and not inside.exists()


def test_no_pass_no_read(tiny_42, tmp_path, capsys):
    """A run without _passed.flag is refused by the catalog and by export, and nothing is written."""
    unvalidated = tiny_42.parent / "tiny-42-unvalidated"  # run directories live below the runs root
    shutil.copytree(tiny_42, unvalidated, ignore=shutil.ignore_patterns("data", "work", "logs"))
    try:
        (unvalidated / BUNDLE_DIR / FLAG).unlink()
        assert (unvalidated / CATALOG_FILE).is_file()
        with pytest.raises(ValidationError, match="failed validation"):
            catalog.connect(unvalidated)
        out = tmp_path / "out"
        assert runner.main(["export", "--run-dir", str(unvalidated), "--dataset", "world_sites", "--out", str(out)]) == 2
        assert "failed validation" in capsys.readouterr().err and not out.exists()
    finally:
        shutil.rmtree(unvalidated)


def test_a_view_may_read_only_datasets_and_small_tables(tmp_path, monkeypatch):
    import duckdb

    from python_kernels.run.datasets import Dataset

    work = duckdb.connect(str(tmp_path / "engine.duckdb"))
    work.execute("create table small_rules as select range as k from range(3)")
    work.execute(f"create table big_rows as select range as k from range({catalog.MAX_TABLE_ROWS + 1})")
    work.execute("create view reads_rules as select k from main.small_rules")  # dbt qualifies every ref
    work.execute("create view reads_rows as select k from main.big_rows")
    (tmp_path / "work").mkdir()
    try:
        monkeypatch.setattr(catalog, "DATASETS", (Dataset("reads_rules", "reads_rules_6B", "layer3/6B", view=True),))
        catalog.write(tmp_path, work, {})
        con = duckdb.connect(str(tmp_path / CATALOG_FILE), read_only=True)
        assert con.execute("select sum(k) from reads_rules_6B").fetchone()[0] == 3
        con.close()
        monkeypatch.setattr(catalog, "DATASETS", (Dataset("reads_rows", "reads_rows_6B", "layer3/6B", view=True),))
        with pytest.raises(catalog.CatalogError, match="reads big_rows, which is neither a published dataset"):
            catalog.write(tmp_path, work, {})
    finally:
        work.close()
