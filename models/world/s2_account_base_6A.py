"""6A.S2: accounts held by each party (count model per account type, capped per party)."""
from python_kernels.dbt_io import run_context
from python_kernels.world.graph.build import build_accounts


def model(dbt, session):
    dbt.config(materialized="table")
    return build_accounts(
        run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir")),
        dbt.ref("s1_party_base_6A").to_arrow_table(),
        dbt.ref("graph_party_segments").to_arrow_table(),
        dbt.ref("graph_account_types").to_arrow_table(),
        dbt.ref("world_preset_countries").to_arrow_table(),
    )
