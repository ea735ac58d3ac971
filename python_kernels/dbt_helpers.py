"""What every dbt Python model needs: run seed, active preset and the validated policies.

Models declare in their YAML
    config: {seed: "{{ var('seed') }}", preset: "{{ var('preset') }}", policy_dir: "{{ var('policy_dir') }}"}
and call `run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))`.
dbt finds a Python model's config keys and refs by reading the model file itself, so
`dbt.config.get(...)` and `dbt.ref(...)` must be written literally there, never in a helper.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from python_kernels.policies import PolicySet, load_policies
from python_kernels.rng import check_seed


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


def column(table: pa.Table, name: str) -> np.ndarray:
    """A column as a contiguous numpy array (copy only when the column is chunked)."""
    col = table.column(name)
    if col.num_chunks == 1:
        arr = col.chunk(0).to_numpy(zero_copy_only=False)
    else:
        arr = col.combine_chunks().to_numpy(zero_copy_only=False)
    return np.ascontiguousarray(arr)


def codes(table: pa.Table, name: str) -> tuple[np.ndarray, list]:
    """A text column as (integer codes, labels): per-row Python strings are too slow at scale."""
    enc = table.column(name).combine_chunks().dictionary_encode()
    return np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64), enc.dictionary.to_pylist()


def vocab_index(table: pa.Table, name: str, vocab) -> np.ndarray:
    """A text column as indices into `vocab` (a value outside it raises ValueError)."""
    code, found = codes(table, name)
    return np.array([list(vocab).index(x) for x in found], np.int64)[code]


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


def arrival_windows(session, relation: str, chunk_rows: int) -> list[tuple[int, int]]:
    """[lo, hi) arrival_id bounds of chunks of about chunk_rows rows of `relation` (a
    registered name with an arrival_id column). Ids share their high 32 bits within one
    5B series group, which never splits, so the flows of an arrival stay in one chunk."""
    groups = session.execute(f"""
        select arrival_id >> 32 as grp, count(*) from {relation} group by grp order by grp
    """).fetchall()
    return [(lo << 32, hi << 32) for lo, hi in key_windows(groups, chunk_rows, 1)]


class Stage:
    """A temp table a chunked Python model appends its chunks to; the model returns
    `relation()` and dbt materialises it, so no chunk outlives its own iteration. The
    `dataset` materialisation drops it once the rows are written."""

    def __init__(self, session, name: str):
        self.session, self.name, self.created = session, name, False
        session.execute(f"drop table if exists {name}")

    def append(self, chunk: pa.Table) -> None:
        self.session.register("stage_chunk", chunk)
        if self.created:
            self.session.execute(f"insert into {self.name} select * from stage_chunk")
        else:
            self.session.execute(f"create temp table {self.name} as select * from stage_chunk")
            self.created = True
        self.session.unregister("stage_chunk")

    def relation(self, empty_message: str):
        if not self.created:
            raise ValueError(empty_message)
        return self.session.table(self.name)
