"""6B gate R6 input: one row per amount law of policies/flows.yaml with the median, in US
dollars, of the first attempts of the baseline flows that follow it, beside the law's policy
median. A flow follows its channel's law, or for purchases its merchant's MCC group's law."""
import pyarrow as pa

from python_kernels.core.vocabulary import CHANNELS, LAW_OF_THE_MCC
from python_kernels.dbt_io import run_context


def model(dbt, session):
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    amounts = ctx.policies["flows"]["amounts"]
    session.register("gates_6B_law_policy", pa.table({
        "law": list(amounts["laws"]),
        "policy_median_usd": pa.array([law["median_usd"] for law in amounts["laws"].values()], pa.float64()),
    }))
    session.register("gates_6B_channel_laws", pa.table({
        "channel": list(CHANNELS),
        "channel_law": [None if amounts["law_by_channel"][ch] == LAW_OF_THE_MCC else amounts["law_by_channel"][ch]
                        for ch in CHANNELS],
    }))
    # dbt finds a Python model's parents only in literal dbt.ref calls
    session.register("gates_6B_s2_flow_anchor_baseline", dbt.ref("s2_flow_anchor_baseline"))
    session.register("gates_6B_world_merchants", dbt.ref("world_merchants"))
    session.register("gates_6B_world_currencies", dbt.ref("world_currencies"))
    out = session.sql("""
        with first_attempts as (
            select coalesce(l.channel_law, m.amount_group) as law, f.amount / r.units_per_usd as amount_usd
            from gates_6B_s2_flow_anchor_baseline as f
            join gates_6B_world_merchants as m using (merchant_id)
            join gates_6B_world_currencies as r on r.currency_code = f.currency_code
            join gates_6B_channel_laws as l on l.channel = f.channel
            where f.flow_index = 0
        ),

        realised as (
            select law, count(*) as n_flows, quantile_cont(amount_usd, 0.5) as median_usd
            from first_attempts
            group by law
        )

        select p.law, coalesce(r.n_flows, 0) as n_flows, r.median_usd, p.policy_median_usd
        from gates_6B_law_policy as p
        left join realised as r using (law)
        order by p.law
    """).to_arrow_table()
    for name in ("law_policy", "channel_laws", "s2_flow_anchor_baseline", "world_merchants", "world_currencies"):
        session.unregister(f"gates_6B_{name}")
    return out
