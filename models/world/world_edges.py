"""CDN edges of virtual merchants (upstream recipe §5.5.6)."""
from python_kernels.dbt_io import run_context
from python_kernels.world.geo_tables import edges_table


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    return edges_table(
        ctx.seed,
        dbt.ref("world_virtual_classification").to_arrow_table(),
        dbt.ref("world_merchants").to_arrow_table(),
        dbt.ref("world_cdn_countries").to_arrow_table(),
        dbt.ref("world_preset_countries").to_arrow_table(),
        dbt.ref("world_country_tzids").to_arrow_table(),
        dbt.ref("world_tz_anchors").to_arrow_table(),
        ctx.policies["world"]["virtual"],
    )
