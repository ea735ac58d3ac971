"""What every dbt Python model needs: run seed, active preset and the validated policies.

Models declare in their YAML
    config: {seed: "{{ var('seed') }}", preset: "{{ var('preset') }}", policy_dir: "{{ var('policy_dir') }}"}
and call `run_context(dbt)`.
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


def run_context(dbt) -> RunContext:
    seed = check_seed(int(dbt.config.get("seed")))
    policies = load_policies(dbt.config.get("policy_dir"))
    name = dbt.config.get("preset")
    return RunContext(seed, name, policies.preset(name), policies)


def read_table(dbt, name: str) -> pa.Table:
    """A ref() as an Arrow table (DuckDB 2.0: to_arrow_table, not arrow())."""
    return dbt.ref(name).to_arrow_table()


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
