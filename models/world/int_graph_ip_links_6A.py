"""6A.S4: every device-IP link with the attributes of its IP (split into s4_ip_base_6A and s4_ip_links_6A)."""
from python_kernels.dbt_io import run_context
from python_kernels.world.graph.build import build_ip_links


def model(dbt, session):
    dbt.config(materialized="table")
    return build_ip_links(
        run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir")),
        dbt.ref("s4_device_base_6A").to_arrow_table(),
        dbt.ref("s1_party_base_6A").to_arrow_table(),
        dbt.ref("graph_party_segments").to_arrow_table(),
        dbt.ref("graph_device_types").to_arrow_table(),
        dbt.ref("world_merchants").to_arrow_table(),
        dbt.ref("world_preset_countries").to_arrow_table(),
        dbt.ref("graph_ip_types").to_arrow_table(),
        dbt.ref("graph_ip_recent_mix").to_arrow_table(),
    )
