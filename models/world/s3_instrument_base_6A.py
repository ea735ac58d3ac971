"""6A.S3: instruments (cards, bank handles, wallet tokens) of each account."""
from python_kernels.dbt_io import run_context
from python_kernels.world.graph.build import build_instruments


def model(dbt, session):
    dbt.config(materialized="table")
    return build_instruments(
        run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir")),
        dbt.ref("s2_account_base_6A").to_arrow_table(),
        dbt.ref("s1_party_base_6A").to_arrow_table(),
        dbt.ref("graph_party_segments").to_arrow_table(),
        dbt.ref("graph_account_types").to_arrow_table(),
        dbt.ref("graph_instrument_types").to_arrow_table(),
        dbt.ref("graph_instrument_mix").to_arrow_table(),
        dbt.ref("graph_instrument_schemes").to_arrow_table(),
    )
