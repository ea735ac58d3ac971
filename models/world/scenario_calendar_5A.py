"""Overlay events of every scenario: holidays and paydays on local dates, campaigns, outages, stress."""
import numpy as np
import pyarrow as pa

from python_kernels.core.arrow import column
from python_kernels.dbt_io import run_context
from python_kernels.world.intensity import scenario_events
from python_kernels.world.tz import to_us, tz_arrays


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    # dbt finds refs by reading the model source: keep each one a plain statement
    tr = dbt.ref("world_tz_transitions").to_arrow_table()
    zones = dbt.ref("merchant_zone_profile_5A").to_arrow_table()
    holiday_rows = dbt.ref("world_holidays").to_arrow_table()
    country_rows = dbt.ref("world_countries").to_arrow_table()
    preset_rows = dbt.ref("world_preset_countries").to_arrow_table()
    manifest = dbt.ref("scenario_manifest_5A").to_arrow_table().sort_by("scenario_id")
    ptr, starts, offsets, _ = tz_arrays(column(tr, "tzid_idx"), to_us(column(tr, "valid_from_utc")),
                                        to_us(column(tr, "valid_to_utc")), column(tr, "offset_minutes"))
    index = dict(zip(tr.column("tzid").to_pylist(), tr.column("tzid_idx").to_pylist()))
    tz_table = {"ptr": ptr, "starts": starts, "offsets": offsets, "index": index}
    zone_pairs = sorted({(r["legal_country_iso"], r["tzid"])
                         for r in zones.select(["legal_country_iso", "tzid"]).to_pylist()})
    holidays = {}
    for r in holiday_rows.select(["country_iso", "local_date"]).to_pylist():
        holidays.setdefault(r["country_iso"], set()).add(r["local_date"])
    countries = {r["country_iso"]: {"weekend": {int(x) for x in r["weekend_days"].split(",")},
                                    "payday_rule": r["payday_rule"], "merchant_weight": r["merchant_weight"]}
                 for r in country_rows.to_pylist()}
    preset_countries = preset_rows.column("country_iso").to_pylist()

    rows = []
    for sc in manifest.to_pylist():
        scenario = {"scenario_id": sc["scenario_id"], "is_stress": sc["is_stress"],
                    "start_us": int(to_us([sc["horizon_start_utc"]])[0]), "end_us": int(to_us([sc["horizon_end_utc"]])[0])}
        # zones abroad (a virtual merchant's settlement) follow their legal country's calendar;
        # campaigns and stress windows pick among the preset's countries only
        events = scenario_events(ctx.seed, scenario, tz_table, zone_pairs, holidays, countries,
                                 sorted(preset_countries), ctx.policies["intensity"]["overlays"])
        rows += [(sc["scenario_id"], i + 1, *ev) for i, ev in enumerate(events)]
    cols = list(zip(*rows)) if rows else [[] for _ in range(12)]
    ts = lambda values: pa.array(np.asarray(values, dtype=np.int64).astype("datetime64[us]"), pa.timestamp("us"))
    out = pa.table({
        "scenario_id": pa.array(cols[0], pa.string()),
        "event_id": pa.array(cols[1], pa.int64()),
        "event_type": pa.array(cols[2], pa.string()),
        "scope_country_iso": pa.array(cols[3], pa.string()),
        "scope_tzid": pa.array(cols[4], pa.string()),
        "scope_demand_class": pa.array(cols[5], pa.string()),
        "start_utc": ts(cols[6]),
        "end_utc": ts(cols[7]),
        "amplitude": pa.array(cols[8], pa.float64()),
        "ramp_in_buckets": pa.array(cols[9], pa.int32()),
        "ramp_out_buckets": pa.array(cols[10], pa.int32()),
        "label": pa.array(cols[11], pa.string()),
    })
    return out
