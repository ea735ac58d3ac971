"""6B S4: one row per (truth rule, campaign type it matches), from policies/truth.yaml rules,
with the rule's place in the ordered list."""
import pyarrow as pa

from python_kernels.dbt_io import run_context


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    rows = [{"rule_order": i, "rule_id": r["rule_id"], "campaign_type": t, "fraud_label": r["label"],
             "truth_subtype": r["subtype"]}
            for i, r in enumerate(ctx.policies["truth"]["rules"]) for t in r["campaign_types"]]
    return pa.Table.from_pylist(rows)
