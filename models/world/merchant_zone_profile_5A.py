"""Weekly expected demand of every 5A zone: keyed Pareto per-site volume × zone multipliers,
with no merchant above its cap of a country's demand."""
import pyarrow as pa
import pyarrow.compute as pc

from python_kernels.core import rng
from python_kernels.core.arrow import column
from python_kernels.dbt_io import run_context
from python_kernels.world.intensity import cap_country_share, zone_weekly_volume


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    scale = ctx.policies["intensity"]["demand_scale"]
    zones = dbt.ref("int_merchant_zone_class_5A").to_arrow_table().sort_by(
        [("merchant_id", "ascending"), ("legal_country_iso", "ascending"), ("tzid", "ascending")])
    merchant_id = column(zones, "merchant_id")
    per_site, weekly = zone_weekly_volume(
        rng.stream_keys(ctx.seed, "merchant_zone_profile_5A.per_site", merchant_id),
        rng.stream_keys(ctx.seed, "merchant_zone_profile_5A.zone_jitter",
                        rng.combine_keys(merchant_id, column(zones, "zone_key"))),
        column(zones, "median_per_site_weekly"), column(zones, "pareto_alpha"),
        column(zones, "clip_max_per_site_weekly"), scale["zone_jitter_sigma"],
        column(zones, "zone_site_count"), column(zones, "scale_factor"),
        scale["soft_cap_weekly"], scale["soft_cap_excess_slope"], scale["hard_cap_mult"])
    share_factor = cap_country_share(column(zones, "legal_country_iso"), merchant_id, weekly,
                                     scale["max_country_share"], scale["share_floor_merchants"])
    per_site, weekly = per_site * share_factor, weekly * share_factor
    weekly_col = pa.array(weekly, pa.float64())
    out = pa.table({
        "merchant_id": zones.column("merchant_id"),
        "legal_country_iso": zones.column("legal_country_iso"),
        "tzid": zones.column("tzid"),
        "demand_class": zones.column("demand_class"),
        "channel_group": zones.column("channel_group"),
        "virtual_mode": zones.column("virtual_mode"),
        "zone_role": zones.column("zone_role"),
        "zone_site_count": zones.column("zone_site_count"),
        "per_site_weekly": pa.array(per_site, pa.float64()),
        "scale_factor": zones.column("scale_factor"),
        "weekly_volume_expected": weekly_col,
        "high_variability_flag": zones.column("high_variability_flag"),
        "low_volume_flag": pc.less(weekly_col, scale["low_volume_weekly"]),
        "high_volume_flag": pc.greater_equal(weekly_col, scale["high_volume_weekly"]),
        "virtual_preferred_flag": pc.not_equal(zones.column("virtual_mode"), "NON_VIRTUAL"),
        "class_source": pc.if_else(zones.column("class_defaulted"), "default", "class_tree"),
    })
    return out
