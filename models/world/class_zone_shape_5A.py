"""Unit-mass local-week shape of every (class, channel group, country, tzid) the zones use."""
import numpy as np
import pyarrow as pa

from python_kernels.core import rng
from python_kernels.dbt_io import run_context
from python_kernels.world.intensity import HOURS_PER_WEEK, week_shift, weekly_shapes


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    probs = ctx.policies["intensity"]["shapes"]["variant_probs"]
    # dbt finds refs by reading the model source: keep each one a plain statement
    zones = dbt.ref("merchant_zone_profile_5A").to_arrow_table()
    countries = dbt.ref("world_countries").to_arrow_table()
    template_rows = dbt.ref("world_shape_templates").to_arrow_table()
    peak_rows = dbt.ref("world_shape_peaks").to_arrow_table()
    keys = sorted({(r["demand_class"], r["channel_group"], r["legal_country_iso"], r["tzid"])
                   for r in zones.select(["demand_class", "channel_group", "legal_country_iso", "tzid"]).to_pylist()})
    weekend = {r["country_iso"]: r["weekend_days"] for r in countries.select(["country_iso", "weekend_days"]).to_pylist()}
    templates = {(r["demand_class"], r["channel_group"], r["variant"]): r for r in template_rows.to_pylist()}
    peaks = {}
    for r in sorted(peak_rows.to_pylist(), key=lambda r: (r["template_id"], r["peak_idx"])):
        peaks.setdefault(r["template_id"], []).append((r["center_min"], r["sigma_min"], r["amplitude"]))

    # the variant is a keyed draw per (class, channel group, tzid), as in the reference
    variant_keys = np.array([rng.domain_id(f"{c}|{g}|{tz}") for c, g, _, tz in keys], dtype=np.uint64)
    u = rng.uniforms(rng.stream_keys(ctx.seed, "class_zone_shape_5A.variant", variant_keys), 0)
    cum = np.cumsum([probs[v] for v in ("1", "2", "3")])
    variants = 1 + np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), 2)

    chosen = []
    for (c, g, country, _), v in zip(keys, variants):
        if (c, g, int(v)) not in templates:
            raise ValueError(f"world_shape_templates has no template for class {c}, channel {g}, variant {v}")
        chosen.append(templates[(c, g, int(v))])
    dow_w = np.array([[t[f"dow_w{d}"] for d in range(1, 8)] for t in chosen])
    tpl_peaks = [peaks.get(t["template_id"], []) for t in chosen]
    ptr = np.concatenate([[0], np.cumsum([len(p) for p in tpl_peaks])])
    flat = [p for ps in tpl_peaks for p in ps]
    shifts = np.array([week_shift(weekend[country]) for _, _, country, _ in keys])
    shapes = weekly_shapes(dow_w, [t["baseline_floor"] for t in chosen], [t["power"] for t in chosen], ptr,
                           [p[0] for p in flat], [p[1] for p in flat], [p[2] for p in flat], shifts)

    n = len(keys)
    rep = lambda values, typ: pa.array(np.repeat(np.array(values, dtype=object), HOURS_PER_WEEK).tolist(), typ)
    out = pa.table({
        "demand_class": rep([k[0] for k in keys], pa.string()),
        "channel_group": rep([k[1] for k in keys], pa.string()),
        "legal_country_iso": rep([k[2] for k in keys], pa.string()),
        "tzid": rep([k[3] for k in keys], pa.string()),
        "bucket_index": pa.array(np.tile(np.arange(HOURS_PER_WEEK, dtype=np.int32), n)),
        "shape_value": pa.array(shapes.reshape(-1)),
        "template_id": rep([t["template_id"] for t in chosen], pa.string()),
        "week_shift_days": pa.array(np.repeat(shifts.astype(np.int32), HOURS_PER_WEEK)),
    })
    return out
