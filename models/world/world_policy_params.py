"""Every policy value as a row, so SQL models read the same validated values as Python."""
import pyarrow as pa

from python_kernels.core.policies import load_policies, policy_rows


def model(dbt, session):
    dbt.config(materialized="table")
    policies = load_policies(dbt.config.get("policy_dir"))
    rows = policy_rows(policies, dbt.config.get("preset"))
    rows.append(("parameter_hash", None, policies.parameter_hash))
    out = pa.table({
        "key": [r[0] for r in rows],
        "num_value": pa.array([r[1] for r in rows], pa.float64()),
        "text_value": pa.array([r[2] for r in rows], pa.string()),
    })
    return out
