"""6A.S1: the party population (customers and businesses) with home country, region, tzid, household and
home coordinates."""
from python_kernels.dbt_io import run_context
from python_kernels.world.graph.build import build_parties


def model(dbt, session):
    dbt.config(materialized="table")
    return build_parties(
        run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir")),
        dbt.ref("world_preset_countries").to_arrow_table(),
        dbt.ref("world_sites").to_arrow_table(),
        dbt.ref("world_country_tzids").to_arrow_table(),
        dbt.ref("world_tz_anchors").to_arrow_table(),
        dbt.ref("graph_party_segments").to_arrow_table(),
        dbt.ref("graph_region_party_types").to_arrow_table(),
        dbt.ref("graph_region_segments").to_arrow_table(),
    )
