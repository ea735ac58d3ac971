"""Static routing weight of each site inside its merchant (upstream recipe §5.5.4)."""
from python_kernels.dbt_io import run_context
from python_kernels.world.geo_tables import site_weights_table


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    return site_weights_table(
        ctx.seed,
        dbt.ref("world_sites").to_arrow_table(),
        dbt.ref("world_merchants").to_arrow_table(),
        ctx.policies["world"]["site_weights"],
    )
