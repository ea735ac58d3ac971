"""What every dbt Python model needs: run seed, active preset and the validated policies.

Models declare in their YAML
    config: {seed: "{{ var('seed') }}", preset: "{{ var('preset') }}", policy_dir: "{{ var('policy_dir') }}"}
and call `run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))`.
dbt finds a Python model's config keys and refs by reading the model file itself, so
`dbt.config.get(...)` and `dbt.ref(...)` must be written literally there, never in a helper.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from python_kernels.core.policies import PolicySet, load_policies
from python_kernels.core.rng import check_seed


@dataclass(frozen=True)
class RunContext:
    seed: int
    preset_name: str
    preset: dict
    policies: PolicySet


def run_context(seed, preset, policy_dir) -> RunContext:
    """The run's seed, preset and validated policies, from the model's config values."""
    seed = check_seed(int(seed))
    policies = load_policies(policy_dir)
    return RunContext(seed, preset, policies.preset(preset), policies)


SERIES_BUCKET_KEY = ("scenario_id", "merchant_id", "tzid", "channel_group", "bucket_index", "series_key")


def series_bucket_key(table: pa.Table) -> dict:
    """The 5B series-bucket key columns of a table, to carry into a model's output."""
    return {name: table.column(name) for name in SERIES_BUCKET_KEY}


def key_windows(key_counts, chunk_rows: int, last_step: int) -> list[tuple[int, int]]:
    """Group sorted (key, rows) pairs into [lo, hi) key windows of at most chunk_rows rows.

    A key never splits (a window may exceed chunk_rows only when one key does); the last
    window ends at its last key + last_step. Heavy states read their input window by window.
    """
    out, lo, total = [], None, 0
    for key, n in key_counts:
        if lo is not None and total + n > chunk_rows:
            out.append((lo, key))
            lo, total = None, 0
        if lo is None:
            lo = key
        total += n
    if lo is not None:
        out.append((lo, key_counts[-1][0] + last_step))
    return out


# ids are cut into windows along their high bits: arrival and session ids are uniform on
# [0, 2**bits) (core.ids.opaque_event_ids), so 2**ID_WINDOW_SLICES_BITS slices hold about as many rows
ID_WINDOW_SLICES_BITS = 20


def id_windows(session, relation: str, column: str, chunk_rows: int) -> list[tuple[int, int]]:
    """[lo, hi) bounds of `column` (arrival_id or session_id) for chunks of about chunk_rows rows
    of `relation` (a registered name): whole id slices, so the rows of one id stay in one chunk."""
    top = session.execute(f"select coalesce(max({column}), 0) from {relation}").fetchall()[0][0]
    shift = max(int(top).bit_length() - ID_WINDOW_SLICES_BITS, 0)
    groups = session.execute(f"""
        select {column} >> {shift} as grp, count(*) from {relation} group by grp order by grp
    """).fetchall()
    return [(lo << shift, hi << shift) for lo, hi in key_windows(groups, chunk_rows, 1)]


def arrival_windows(session, relation: str, chunk_rows: int) -> list[tuple[int, int]]:
    """[lo, hi) arrival_id bounds of chunks of about chunk_rows rows of `relation`; the flows of
    an arrival stay in one chunk."""
    return id_windows(session, relation, "arrival_id", chunk_rows)


def _stage_root(session) -> Path:
    """work/stage/ beside the run's database (a temp folder for an in-memory one)."""
    db = session.execute("select path from duckdb_databases() where database_name = current_database()").fetchall()
    return Path(db[0][0]).parent / "stage" if db and db[0][0] else Path(tempfile.gettempdir()) / "fde-stage"


class Stage:
    """The rows of a chunked Python model, written chunk by chunk as zstd Parquet split by
    scenario_id (the `dataset` layout) in `work/stage/<model>/`, so no chunk outlives its own
    iteration and DuckDB never holds the whole result.

    A model returns `files()`: the `dataset` materialisation then moves the files into place
    and nothing is written twice. The temp view `name` reads the files back for a model that
    needs its own rows again before it returns (s4_bank_actions). Chunks come in id-range order,
    so each file covers a narrow range of ids and a later model's window query skips the other
    files' row groups.
    """

    _open: dict[str, "Stage"] = {}

    def __init__(self, session, model: str):
        Stage.release(model)
        self.session, self.model, self.name, self.chunks = session, model, f"{model}__stage", 0
        self.folder = _stage_root(session) / model
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        Stage._open[model] = self

    def append(self, chunk: pa.Table) -> None:
        self.session.register("stage_chunk", chunk)
        self.session.execute(f"""
            copy stage_chunk to '{self.folder}' (format parquet, compression zstd, row_group_size 1000000,
                partition_by (scenario_id), filename_pattern 'part-{self.chunks}-{{i}}', overwrite_or_ignore true)
        """).fetchall()
        self.session.unregister("stage_chunk")
        if not self.chunks:
            self.session.execute(f"""
                create or replace temp view {self.name} as select * from read_parquet(
                    '{self.folder}/*/*.parquet', hive_partitioning = true, hive_types = {{'scenario_id': varchar}})
            """).fetchall()
        self.chunks += 1

    def files(self, empty_message: str) -> "Stage":
        if not self.chunks:
            raise ValueError(empty_message)
        return self

    def move_to(self, location: str) -> None:
        """Put the files where the dataset lives (the previous files are unlinked, not rewritten)."""
        shutil.rmtree(location, ignore_errors=True)
        os.replace(self.folder, location)

    @classmethod
    def release(cls, model: str) -> None:
        """Forget the model's stage: its view and whatever files were not moved."""
        stage = cls._open.pop(model, None)
        if stage is not None:
            stage.session.execute(f"drop view if exists {stage.name}").fetchall()
            shutil.rmtree(stage.folder, ignore_errors=True)


class Buckets:
    """The rows of a query scattered by `bucket_expr` (values in [0, count)) into Parquet buckets
    under work/stage/, in one pass over the inputs, so a model can take every row of a key (a
    party's history, an arrival's id range) one bucket at a time instead of re-scanning its
    inputs for each window. One bucket needs no scratch: the query is read as it is. Use as a
    context manager: the files go when it closes."""

    def __init__(self, session, model: str, query: str, bucket_expr: str, count: int):
        if count < 1:
            raise ValueError(f"{model}: the bucket count must be at least 1, not {count}")
        self.session, self.query, self.count = session, query, count
        self.folder = _stage_root(session) / f"{model}__buckets"
        shutil.rmtree(self.folder, ignore_errors=True)
        if count == 1:
            return
        self.folder.mkdir(parents=True)
        # lz4: scratch read back once, so writing fast matters more than size
        session.execute(f"""
            copy (select *, ({bucket_expr}) as bucket from ({query})) to '{self.folder}'
                (format parquet, compression lz4_raw, partition_by (bucket), overwrite_or_ignore true)
        """).fetchall()

    def __enter__(self) -> "Buckets":
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def tables(self, order_by: str):
        """Each non-empty bucket's rows as an Arrow table sorted by `order_by`, bucket column
        dropped, in bucket order."""
        # a relation keeps ORDER BY in its Arrow batches; execute() results may hand them out of
        # order when preserve_insertion_order is off (profiles.yml)
        if self.count == 1:
            table = self.session.sql(f"select * from ({self.query}) order by {order_by}").to_arrow_table()
            if table.num_rows:
                yield table
            return
        for k in range(self.count):
            if any((self.folder / f"bucket={k}").glob("*.parquet")):
                yield self.session.sql(f"""
                    select * from read_parquet('{self.folder}/bucket={k}/*.parquet', hive_partitioning = false)
                    order by {order_by}
                """).to_arrow_table()


def id_buckets(session, relation: str, column: str, chunk_rows: int) -> tuple[str, int]:
    """A bucket expression and count for `Buckets` that cut `column` (arrival_id or session_id,
    uniform on [0, 2**bits): core.ids.opaque_event_ids) of `relation` into 2**k equal id ranges of
    about chunk_rows rows at most, in id order, so the rows of one id stay in one bucket."""
    rows, top = session.execute(f"select count(*), coalesce(max({column}), 0) from {relation}").fetchall()[0]
    bits = int(top).bit_length()
    k = min(max(math.ceil(math.log2(rows / chunk_rows)), 0), bits) if rows else 0
    return f"{column} >> {bits - k}", 2 ** k
