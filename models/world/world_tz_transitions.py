"""The single time authority: constant-offset intervals of every world tzid (plus Etc/UTC)."""
from datetime import datetime, timedelta

import pyarrow as pa

from python_kernels.dbt_io import run_context
from python_kernels.world.tz import transition_intervals, tzdata_version


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    table = ctx.policies["intensity"]["time_table"]
    margin = timedelta(days=table["margin_days"])
    start = datetime.fromisoformat(ctx.preset["horizon"]["start"].replace("Z", "+00:00")) - margin
    end = datetime.fromisoformat(ctx.preset["horizon"]["end"].replace("Z", "+00:00")) + margin
    tzids = dbt.ref("world_country_tzids").to_arrow_table().column("tzid").to_pylist() + ["Etc/UTC"]
    cols = transition_intervals(tzids, start, end, table["walk_step_minutes"])
    cols["tzdata_version"] = [tzdata_version()] * len(cols["tzid"])
    out = pa.table({
        "tzid": pa.array(cols["tzid"], pa.string()),
        "tzid_idx": pa.array(cols["tzid_idx"], pa.int32()),
        "valid_from_utc": pa.array(cols["valid_from_utc"], pa.timestamp("us")),
        "valid_to_utc": pa.array(cols["valid_to_utc"], pa.timestamp("us")),
        "offset_minutes": pa.array(cols["offset_minutes"], pa.int32()),
        "is_dst": pa.array(cols["is_dst"], pa.bool_()),
        "abbrev": pa.array(cols["abbrev"], pa.string()),
        "tzdata_version": pa.array(cols["tzdata_version"], pa.string()),
    })
    return out
