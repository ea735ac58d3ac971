"""6B gate R5 input: one row per published id column of the flows with the AUC for FRAUD of a
binned scorer on the id's value, learned on one keyed fold of the ids and scored on the other,
averaged over keyed splits (python_kernels/gates/scorers.entity_fold_auc): what the value says
beyond identity. Its units are ids, so it samples ids, not flows: each id with all its flows, by
a keyed coin on the id at gates.sampling.max_units / the ids of the column's table (every id of a
smaller table), so every id keeps its full label share; the standard error counts ids."""
import pyarrow as pa

from python_kernels.core import rng
from python_kernels.dbt_io import run_context
from python_kernels.gates.auc import auc_standard_error
from python_kernels.gates.scorers import entity_fold_auc

N_BINS = 20
N_FOLDS = 8   # keyed splits of the ids, averaged: one split of a few heavy merchants is mostly chance
FOLD_DOMAIN, SAMPLE_DOMAIN = "6B.gates.id_fold", "6B.gates.id_sample"


def model(dbt, session):
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    session.register("gates_6B_flows_for_ids", dbt.ref("int_gates_6B_flows"))
    tables = {  # each id column and the table of its ids
        "flow_id": dbt.ref("int_gates_6B_flows"), "arrival_id": dbt.ref("s1_arrival_entities"),
        "session_id": dbt.ref("s1_session_index"), "merchant_id": dbt.ref("world_merchants"),
        "party_id": dbt.ref("s1_party_base_6A"), "account_id": dbt.ref("s2_account_base_6A"),
        "instrument_id": dbt.ref("s3_instrument_base_6A"), "device_id": dbt.ref("s4_device_base_6A"),
        "ip_id": dbt.ref("s4_ip_base_6A"),
    }
    max_units = ctx.policies["gates"]["sampling"]["max_units"]
    fold_key = f"rng_stream({ctx.seed}::ubigint, {rng.domain_id(FOLD_DOMAIN)}::ubigint, id::ubigint)"
    folds = [f"rng_u01({fold_key}, {k}) < 0.5" for k in range(N_FOLDS)]
    # the sample's coin runs over every flow: the id is the counter of the domain's one stream (one mix, not three)
    sample_stream = rng.stream_key(ctx.seed, rng.domain_id(SAMPLE_DOMAIN), 0)
    aucs, errors = [], []
    for col, table in tables.items():
        share = min(1.0, max_units / max(table.count("*").fetchall()[0][0], 1))
        keep = "true" if share >= 1 else f"rng_u01({int(sample_stream)}::ubigint, id) < {share!r}"
        r = entity_fold_auc(session, "gates_6B_flows_for_ids", col, "fraud_label = 'FRAUD'", folds, N_BINS, keep)
        aucs.append(r.auc)
        errors.append(auc_standard_error(r.auc, r.pos_ids, r.neg_ids, share))
    session.unregister("gates_6B_flows_for_ids")
    return pa.table({"id_column": list(tables), "auc": pa.array(aucs, pa.float64()),
                     "standard_error": pa.array(errors, pa.float64())})
