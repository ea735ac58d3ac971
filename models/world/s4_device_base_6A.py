"""6A.S4: customer devices of every party and POS terminals / ATMs at card-present merchants' sites."""
from python_kernels.dbt_io import run_context
from python_kernels.world.graph.build import build_devices


def model(dbt, session):
    dbt.config(materialized="table")
    return build_devices(
        run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir")),
        dbt.ref("s1_party_base_6A").to_arrow_table(),
        dbt.ref("graph_party_segments").to_arrow_table(),
        dbt.ref("graph_device_types").to_arrow_table(),
        dbt.ref("graph_device_mix").to_arrow_table(),
        dbt.ref("graph_device_os").to_arrow_table(),
        dbt.ref("world_merchants").to_arrow_table(),
        dbt.ref("world_sites").to_arrow_table(),
        dbt.ref("world_mccs").to_arrow_table(),
    )
