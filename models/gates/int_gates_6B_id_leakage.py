"""6B gate R5 input: one row per published id column of the flows with the AUC for FRAUD of a
binned scorer on the id's value, learned on one keyed fold of the ids and scored on the other,
averaged over keyed splits (python_kernels/gates/scorers.entity_fold_auc): what the value says
beyond identity."""
import pyarrow as pa

from python_kernels.core import rng
from python_kernels.dbt_io import run_context
from python_kernels.gates.scorers import entity_fold_auc

IDS = ("flow_id", "arrival_id", "session_id", "merchant_id", "party_id", "account_id", "instrument_id", "device_id",
       "ip_id")
N_BINS = 20
N_FOLDS = 8   # keyed splits of the ids, averaged: one split of a few heavy merchants is mostly chance
FOLD_DOMAIN = "6B.gates.id_fold"


def model(dbt, session):
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    session.register("gates_6B_flows_for_ids", dbt.ref("int_gates_6B_flows"))
    key = f"rng_stream({ctx.seed}::ubigint, {rng.domain_id(FOLD_DOMAIN)}::ubigint, id::ubigint)"
    folds = [f"rng_u01({key}, {k}) < 0.5" for k in range(N_FOLDS)]
    aucs = [entity_fold_auc(session, "gates_6B_flows_for_ids", col, "fraud_label = 'FRAUD'", folds, N_BINS)
            for col in IDS]
    session.unregister("gates_6B_flows_for_ids")
    return pa.table({"id_column": list(IDS), "auc": pa.array(aucs, pa.float64())})
