"""The preset's scenarios with their UTC horizons and hourly bucket counts."""
from datetime import datetime

import pyarrow as pa

from python_kernels.dbt_io import run_context


def _ts(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    bucket_seconds = ctx.policies["arrivals"]["time_grid"]["bucket_seconds"]
    if bucket_seconds != 3600:
        raise ValueError("the 5A surface is hourly: arrivals.time_grid.bucket_seconds must be 3600")
    h_start, h_end = _ts(ctx.preset["horizon"]["start"]), _ts(ctx.preset["horizon"]["end"])
    rows = []
    for sid in ctx.preset["scenarios"]:
        sc = ctx.policies["intensity"]["scenarios"].get(sid)
        if sc is None:
            raise ValueError(f"preset {ctx.preset_name} lists scenario {sid}, which intensity.yaml does not define")
        start = max(h_start, _ts(sc["horizon_start_utc"])) if "horizon_start_utc" in sc else h_start
        if start >= h_end:
            raise ValueError(f"scenario {sid} starts at or after the preset horizon end {h_end}")
        rows.append((sid, sc["version"], start, h_end, int((h_end - start).total_seconds()) // bucket_seconds,
                     sc["is_baseline"], sc["is_stress"], sc["labels"]))
    cols = list(zip(*rows))
    out = pa.table({
        "scenario_id": pa.array(cols[0], pa.string()),
        "scenario_version": pa.array(cols[1], pa.string()),
        "horizon_start_utc": pa.array(cols[2], pa.timestamp("us")),
        "horizon_end_utc": pa.array(cols[3], pa.timestamp("us")),
        "bucket_seconds": pa.array([bucket_seconds] * len(rows), pa.int64()),
        "n_buckets": pa.array(cols[4], pa.int64()),
        "is_baseline": pa.array(cols[5], pa.bool_()),
        "is_stress": pa.array(cols[6], pa.bool_()),
        "labels": pa.array(cols[7], pa.string()),
    })
    return out
