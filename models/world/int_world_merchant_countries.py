"""Countries of each merchant and its physical sites in each (upstream recipe §5.5.2)."""
from python_kernels.dbt_io import run_context
from python_kernels.world.geo_tables import merchant_countries_table


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    return merchant_countries_table(
        ctx.seed,
        dbt.ref("int_world_merchant_draws").to_arrow_table(),
        dbt.ref("world_preset_countries").to_arrow_table(),
        ctx.policies["world"]["countries"],
    )
