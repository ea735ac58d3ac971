"""Physical sites: id, tzid and coordinates of each site (upstream recipe §5.5.3)."""
from python_kernels.dbt_io import run_context
from python_kernels.world.geo_tables import sites_table


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    return sites_table(
        ctx.seed,
        dbt.ref("int_world_merchant_countries").to_arrow_table(),
        dbt.ref("world_preset_countries").to_arrow_table(),
        dbt.ref("world_country_tzids").to_arrow_table(),
        dbt.ref("world_tz_anchors").to_arrow_table(),
        ctx.policies["world"]["sites"]["anchor_jitter_deg"],
    )
