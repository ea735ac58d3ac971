"""The run's catalog: one DuckDB file at the run root that defines every published dataset by
its dataset id, as a view over the run's Parquet under data/, or, for a dataset derived from
others (`Dataset.view`), as the dbt model's own SQL over those views and the small tables of
rules it reads (copied in under their model names, e.g. int_s4_truth_rules). It holds no rows
of the datasets, so it costs no disk; readers open it through `validation.open_run(...).connect()` (no PASS, no
read) and `runner.py export` writes any of its datasets as Parquet.

The Parquet paths are absolute: the catalog is valid while the run stays where it was built.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from python_kernels.run.datasets import DATASETS, Dataset
from python_kernels.run.runs import CATALOG_FILE

# DuckDB keeps a view as its own rendering of the statement: "CREATE VIEW name AS <query>;",
# with every relation as main.<name>
_VIEW = re.compile(r"^CREATE VIEW \S+ AS (?P<query>.*?);?\s*$", re.DOTALL | re.IGNORECASE)
_RELATION = re.compile(r"\bmain\.\"?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\"?")


# a derived view may read a table that is not a dataset only if it is this small (rules, not data)
MAX_TABLE_ROWS = 10_000


class CatalogError(Exception):
    pass


def parquet_query(ds: Dataset, path: Path) -> str:
    """The read of a written dataset's published files (scenario_id from the folder names)."""
    if ds.scenario:
        return (f"select * from read_parquet('{path}/*/*.parquet', hive_partitioning = true, "
                "hive_types = {'scenario_id': varchar})")
    return f"select * from read_parquet('{path}/*.parquet')"


def view_query(work_con, ds: Dataset) -> tuple[str, set[str]]:
    """The query of a derived dataset's dbt view, its datasets renamed to their ids, and the
    names of the other relations it reads (tables to copy in)."""
    rows = work_con.execute("select sql from duckdb_views() where schema_name = 'main' and view_name = ?",
                            [ds.model]).fetchall()
    match = _VIEW.match(rows[0][0]) if rows else None
    if match is None:
        raise CatalogError(f"{ds.model} is not a view in the run's database: a dataset marked `view` "
                           "(datasets.py) must be materialized as 'view' in its model's YAML")
    ids = {d.model: d.dataset_id for d in DATASETS}
    tables: set[str] = set()

    def rename(m: re.Match) -> str:
        name = m.group("name")
        if name in ids:
            return f'"{ids[name]}"'
        tables.add(name)
        return f'"{name}"'

    return _RELATION.sub(rename, match.group("query")), tables


def _copy_table(work_con, con, name: str, reader: str) -> None:
    kind = work_con.execute("select table_type from information_schema.tables where table_schema = 'main' "
                            "and table_name = ?", [name]).fetchall()
    n = work_con.execute(f'select count(*) from "{name}"').fetchall()[0][0] if kind == [("BASE TABLE",)] else None
    if n is None or n > MAX_TABLE_ROWS:
        raise CatalogError(f"the view {reader} reads {name}, which is neither a published dataset nor a table of "
                           f"at most {MAX_TABLE_ROWS:,} rows: a derived dataset may read only those")
    rows = work_con.sql(f'select * from "{name}"').to_arrow_table()
    con.register("catalog_rows", rows)
    con.execute(f'create table "{name}" as select * from catalog_rows')
    con.unregister("catalog_rows")


def write(run_dir: Path, work_con, published: dict[str, dict]) -> Path:
    """Write the catalog beside a temporary name and move it into place in one rename.
    `published` maps each dataset id to its receipt entry (a written one has its `path`)."""
    import duckdb

    final = run_dir / CATALOG_FILE
    tmp = run_dir / "work" / f"{CATALOG_FILE}.tmp"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        copied: set[str] = set()
        for ds in DATASETS:  # data-flow order: a view's inputs exist before it
            if ds.view:
                query, tables = view_query(work_con, ds)
                for name in sorted(tables - copied):
                    _copy_table(work_con, con, name, ds.model)
                copied |= tables
            else:
                query = parquet_query(ds, run_dir / published[ds.dataset_id]["path"])
            con.execute(f'create view "{ds.dataset_id}" as {query}')
    finally:
        con.close()
    os.replace(tmp, final)
    return final


def connect(run_dir, threads: int = 2):
    """A read-only connection to a validated run's catalog; raises ValidationError, saying why,
    for a run that must not be read (no PASS, no read)."""
    import duckdb

    from python_kernels.run.validation import ValidationError, open_run

    run = open_run(run_dir)
    path = run.run_dir / CATALOG_FILE
    if not path.is_file():
        raise ValidationError(f"{run.run_dir} has no {CATALOG_FILE} (an earlier engine version published it); "
                              "rerun the run to publish its catalog")
    con = duckdb.connect(str(path), read_only=True)
    con.execute(f"set threads = {int(threads)}")
    return con


def export(run_dir, dataset_id: str, out_dir: Path, threads: int = 2) -> Path:
    """Write one dataset of a validated run as zstd Parquet under out_dir/<dataset_id>/, laid out
    as data/ lays it out (scenario datasets split by scenario_id). The files are written beside
    the target and moved into place in one rename; an existing target is never overwritten."""
    import shutil

    from python_kernels.run.datasets import BY_ID

    ds = BY_ID.get(dataset_id)
    if ds is None:
        raise CatalogError(f"no dataset named {dataset_id!r}; the datasets are: {', '.join(sorted(BY_ID))}")
    target = Path(out_dir) / dataset_id
    if target.exists():
        raise CatalogError(f"{target} exists; remove it or choose another --out (an export never overwrites)")
    con = connect(run_dir, threads)
    staging = Path(out_dir) / f".{dataset_id}.tmp"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        split = ", partition_by (scenario_id), filename_pattern 'part-{i}', overwrite true" if ds.scenario else ""
        into = staging if ds.scenario else staging / "part-0.parquet"
        rows = f'select * from "{dataset_id}"'
        con.execute(f"copy ({rows}) to '{into}' (format parquet, compression zstd, row_group_size 1000000{split})")
        if not any(staging.iterdir()):  # no rows, so no partition: one empty file keeps the schema
            con.execute(f"copy ({rows} limit 0) to '{staging / 'part-0.parquet'}' (format parquet)")
        os.replace(staging, target)
    finally:
        con.close()
        shutil.rmtree(staging, ignore_errors=True)
    return target
