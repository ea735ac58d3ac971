"""6B gates R6 and R8 input: one row per amount law of policies/flows.yaml with the median, in US
dollars, of the first attempts of the baseline flows that follow it, beside the law's policy
median, and the Jensen-Shannon divergence of their amounts (bins of ln US dollars) from the law
in the same currencies (python_kernels/gates/amount_laws.py). A flow follows its channel's law,
or for purchases its merchant's MCC group's law."""
from collections import Counter, defaultdict

import pyarrow as pa

from python_kernels.behaviour.s2_flows import amount_laws
from python_kernels.core.vocabulary import CHANNELS, LAW_OF_THE_MCC
from python_kernels.dbt_io import run_context
from python_kernels.gates.amount_laws import BINS_PER_LN, jsd_bits, law_bins


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
    session.execute("""
        create or replace temp view gates_6B_first_attempts as
        select coalesce(l.channel_law, m.amount_group) as law, f.currency_code, f.amount / r.units_per_usd as amount_usd
        from gates_6B_s2_flow_anchor_baseline as f
        join gates_6B_world_merchants as m using (merchant_id)
        join gates_6B_world_currencies as r on r.currency_code = f.currency_code
        join gates_6B_channel_laws as l on l.channel = f.channel
        where f.flow_index = 0
    """)
    binned = session.sql(f"""
        select law, currency_code, floor(ln(amount_usd) * {BINS_PER_LN})::bigint as bin, count(*) as n
        from gates_6B_first_attempts group by all order by all
    """).fetchall()
    out = session.sql("""
        with first_attempts as (
            select * from gates_6B_first_attempts
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
    al = amount_laws(ctx.policies["flows"], dbt.ref("world_countries").to_arrow_table(),
                     dbt.ref("world_currencies").to_arrow_table())
    jsd = _law_divergences(al, binned)
    out = out.append_column("jsd", pa.array([jsd.get(law) for law in out.column("law").to_pylist()], pa.float64()))
    session.execute("drop view gates_6B_first_attempts")
    for name in ("law_policy", "channel_laws", "s2_flow_anchor_baseline", "world_merchants", "world_currencies"):
        session.unregister(f"gates_6B_{name}")
    return out


def _law_divergences(al, binned) -> dict:
    """{law: JSD of its realised amount bins from the law mixed over the currencies as realised};
    `binned` rows are (law, currency, bin, flows) in a fixed order, so the sums are too."""
    realised, per_currency = defaultdict(Counter), defaultdict(Counter)
    for law, currency, b, n in binned:
        realised[law][b] += n
        per_currency[law][currency] += n
    out = {}
    for law, counts in per_currency.items():
        total = sum(counts.values())
        target = Counter()
        for currency, n in counts.items():
            for b, w in law_bins(al.params, al.laws.index(law), al.currencies.index(currency)).items():
                target[b] += w * n / total
        out[law] = jsd_bits(realised[law], target)
    return out
