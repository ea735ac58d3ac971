"""The `dataset` materialisation (macros/dataset.sql): scenario datasets are written once as
Parquet split by scenario_id, read back through a view, and published by hard links."""
from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from python_kernels.run import runs
from python_kernels.run.datasets import DATASETS
from python_kernels.dbt_io import Buckets, Stage, id_buckets
from python_kernels.run.exit_codes import ExitCode
from python_kernels.run.runs import PROJECT_DIR

MODELS = {
    "rows_sql.sql": "select * from (values ('b', 2, 'y'), ('a', 1, 'x'), ('a', 3, null)) t(scenario_id, n, s)",
    "empty_sql.sql": "select 'a' as scenario_id, 1::bigint as n, 'x' as s where false",
    "rows_py.py": """
        import pyarrow as pa

        def model(dbt, session):
            dbt.config(materialized="dataset")
            return pa.table({"n": [1, 2, 3], "scenario_id": ["a", "b", "b"]})
    """,
    "empty_py.py": """
        import pyarrow as pa

        def model(dbt, session):
            dbt.config(materialized="dataset")
            return pa.table({"n": pa.array([], pa.int64()), "scenario_id": pa.array([], pa.string())})
    """,
    "staged_py.py": """
        import pyarrow as pa
        from python_kernels.dbt_io import Buckets, Stage, id_buckets

        def model(dbt, session):
            dbt.config(materialized="dataset")
            stage = Stage(session, "staged_py")
            stage.append(pa.table({"scenario_id": ["a", "b"], "n": [1, 2]}))
            stage.append(pa.table({"scenario_id": ["a"], "n": [3]}))
            return stage.files("staged_py: nothing staged")
    """,
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A throwaway dbt project with the engine's macro and four dataset models."""
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    shutil.copy(PROJECT_DIR / "macros" / "dataset.sql", root / "macros")
    (root / "dbt_project.yml").write_text(textwrap.dedent("""
        name: dataset_check
        version: "1.0"
        config-version: 2
        profile: fraud_engine
        models:
          dataset_check:
            +materialized: dataset
    """))
    for name, code in MODELS.items():
        (root / "models" / name).write_text(textwrap.dedent(code))
    (tmp_path / "datasets").mkdir()
    monkeypatch.setenv("FDE_DUCKDB_PATH", str(tmp_path / "check.duckdb"))
    monkeypatch.setenv("FDE_DATASETS_DIR", str(tmp_path / "datasets"))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(PROJECT_DIR))
    return root


def _build(root: Path) -> None:
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(["build", "--project-dir", str(root), "--target-path", str(root / "target"),
                                 "--log-path", str(root / "logs"), "--quiet"])
    DuckDBConnectionManager.close_all_connections()
    assert result.success, result.exception


def _query(tmp_path: Path, sql: str):
    con = duckdb.connect(str(tmp_path / "check.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_rows_go_to_parquet_split_by_scenario_and_read_back_through_a_view(project, tmp_path):
    _build(project)
    root = tmp_path / "datasets"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet"))
    assert [f for f in files if f.startswith(("rows_", "empty_"))] == [
        "empty_py/scenario_id=none/part-0.parquet", "empty_sql/scenario_id=none/part-0.parquet",
        "rows_py/scenario_id=a/part-0.parquet", "rows_py/scenario_id=b/part-0.parquet",
        "rows_sql/scenario_id=a/part-0.parquet", "rows_sql/scenario_id=b/part-0.parquet"]
    kinds = dict(_query(tmp_path, "select table_name, table_type from information_schema.tables"))
    assert kinds == {Path(m).stem: "VIEW" for m in MODELS}
    assert sorted(_query(tmp_path, "select scenario_id, n, s from rows_sql")) == [
        ("a", 1, "x"), ("a", 3, None), ("b", 2, "y")]
    assert sorted(_query(tmp_path, "select scenario_id, n from rows_py")) == [("a", 1), ("b", 2), ("b", 3)]
    # an empty model is an empty view with its columns, scenario_id still text
    for model in ("empty_sql", "empty_py"):
        assert _query(tmp_path, f"select count(*) from {model}") == [(0,)]
        types = dict((r[0], r[1]) for r in _query(tmp_path, f"describe {model}"))
        assert types["scenario_id"] == "VARCHAR" and types["n"] == "BIGINT"


def test_a_staged_model_moves_its_chunk_files_into_place(project, tmp_path):
    _build(project)
    root = tmp_path / "datasets" / "staged_py"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet")) == [
        "scenario_id=a/part-0-0.parquet", "scenario_id=a/part-1-0.parquet", "scenario_id=b/part-0-0.parquet"]
    assert sorted(_query(tmp_path, "select scenario_id, n from staged_py")) == [("a", 1), ("a", 3), ("b", 2)]
    assert not list((tmp_path / "stage").iterdir())  # nothing left behind in the stage folder


def test_stage_writes_chunks_reads_them_back_and_releases_them(tmp_path):
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    try:
        stage = Stage(con, "m")
        with pytest.raises(ValueError, match="nothing yet"):
            stage.files("nothing yet")
        stage.append(pa.table({"n": [1, 2], "scenario_id": ["x", "y"]}))
        stage.append(pa.table({"n": [3], "scenario_id": ["x"]}))
        assert sorted(con.execute(f"select scenario_id, n from {stage.name}").fetchall()) == [
            ("x", 1), ("x", 3), ("y", 2)]
        assert stage.files("empty") is stage and con.table(stage.name).count("*").fetchall() == [(3,)]
        assert (tmp_path / "stage" / "m" / "scenario_id=x" / "part-1-0.parquet").exists()
        Stage.release("m")
        assert not (tmp_path / "stage" / "m").exists()
        assert not con.execute("select * from duckdb_views() where view_name = 'm__stage'").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("count", [1, 3])
def test_buckets_hand_out_every_row_once_with_each_key_whole_and_sorted(tmp_path, count):
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    try:
        con.execute("create table t as select (i * 7919) % 50 as k, 1000 - i as ts, i from range(1000) r(i)")
        with Buckets(con, "m", "select * from t", f"k % {count}", count) as b:
            parts = [part.to_pylist() for part in b.tables("k, ts")]
            assert (tmp_path / "stage" / "m__buckets").exists() == (count > 1)
        assert not (tmp_path / "stage" / "m__buckets").exists()
        rows = [r for part in parts for r in part]
        assert sorted(r["i"] for r in rows) == list(range(1000))
        keys = [{r["k"] for r in part} for part in parts]
        assert all(not a & b for n, a in enumerate(keys) for b in keys[n + 1:])  # a key in one bucket only
        assert all(part == sorted(part, key=lambda r: (r["k"], r["ts"])) for part in parts)
        assert all(set(part[0]) == {"k", "ts", "i"} for part in parts)  # the bucket column is dropped
        with pytest.raises(ValueError, match="at least 1"):
            Buckets(con, "m", "select * from t", "0", 0)
    finally:
        con.close()


def test_id_buckets_cut_uniform_ids_into_id_ranges_of_at_most_about_the_chunk(tmp_path):
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    try:
        # uniform ids below 2**20, as the keyed permutation hands them out
        con.execute("create table t as select (i * 40503) % 1048576 as arrival_id from range(100000) r(i)")
        expr, count = id_buckets(con, "t", "arrival_id", 30000)
        assert count == 4
        sizes = con.execute(f"select {expr} as b, count(*), min(arrival_id), max(arrival_id) from t group by b order by b").fetchall()
        assert [s[0] for s in sizes] == [0, 1, 2, 3] and all(s[1] <= 30000 for s in sizes)
        assert all(a[3] < b[2] for a, b in zip(sizes, sizes[1:]))  # id ranges, in id order
        assert id_buckets(con, "t", "arrival_id", 10**6) == ("arrival_id >> 20", 1)
        con.execute("delete from t")
        assert id_buckets(con, "t", "arrival_id", 10)[1] == 1
    finally:
        con.close()


def test_a_rebuild_replaces_files_without_touching_earlier_links(project, tmp_path):
    _build(project)
    written = tmp_path / "datasets" / "rows_sql" / "scenario_id=a" / "part-0.parquet"
    linked = tmp_path / "published.parquet"
    os.link(written, linked)
    before = runs.sha256_file(linked)
    (project / "models" / "rows_sql.sql").write_text("select 'a' as scenario_id, 9 as n, 'z' as s")
    _build(project)
    assert _query(tmp_path, "select scenario_id, n, s from rows_sql") == [("a", 9, "z")]
    assert not list((tmp_path / "datasets" / "rows_sql" / "scenario_id=b").glob("*"))
    assert os.stat(written).st_ino != os.stat(linked).st_ino
    assert runs.sha256_file(linked) == before


def test_a_run_publishes_scenario_datasets_as_links_to_the_files_dbt_wrote(tiny_42):
    con = duckdb.connect(str(tiny_42 / "work" / "engine.duckdb"), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    finally:
        con.close()
    for ds in (d for d in DATASETS if not d.view):
        published = sorted((tiny_42 / "data" / ds.path).rglob("*.parquet"))
        assert published, ds.dataset_id
        if not ds.scenario:
            assert ds.model in tables
            continue
        assert ds.model not in tables  # a view over the files, no second copy in DuckDB
        written = runs.datasets_dir(tiny_42) / ds.model
        assert [p.relative_to(tiny_42 / "data" / ds.path) for p in published] == \
               [p.relative_to(written) for p in sorted(written.rglob("*.parquet"))]
        for p in published:
            w = written / p.relative_to(tiny_42 / "data" / ds.path)
            assert os.stat(p).st_ino == os.stat(w).st_ino


def test_publishing_a_scenario_dataset_without_its_files_is_an_error(tmp_path):
    ds = next(d for d in DATASETS if d.scenario)
    with pytest.raises(runs.RunError, match="materialized as 'dataset'") as err:
        runs.publish(None, ds, tmp_path / "data", tmp_path / "missing")
    assert err.value.exit_code == ExitCode.PUBLISH_FAILED
    assert not (tmp_path / "data" / ds.path).exists()
