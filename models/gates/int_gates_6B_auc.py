"""6B gate T23 input: one row per non-label column of the flows, with its rank AUC for the
truth label over the gates' keyed sample of flows (int_gates_6B_sample) and that AUC's standard
error around the full data's. Each column is its own query, one after the other: as sixteen
branches of the gate query they ran at once and their aggregates outgrew memory at `large`."""
import pyarrow as pa

from python_kernels.gates.auc import auc_standard_error, single_feature_auc

FEATURES = {
    "amount_usd": "amount_usd", "amount_minor": "amount_minor", "amount_cents": "amount_minor % 100",
    "flow_id": "flow_id", "arrival_id": "arrival_id", "session_id": "session_id", "merchant_id": "merchant_id",
    "party_id": "party_id", "account_id": "account_id", "instrument_id": "instrument_id",
    "device_id": "device_id", "ip_id": "ip_id", "hour_utc": "hour(ts_utc)", "weekday_utc": "dayofweek(ts_utc)",
    "auth_latency": "auth_latency_seconds",
    # merchant by target encoding: each flow scored by its merchant's rate in the other keyed fold
    "merchant_target_encoded": "merchant_rate_oof",
}


def model(dbt, session):
    session.register("gates_6B_sample", dbt.ref("int_gates_6B_sample"))
    n_pos, n_neg, share = session.execute("""
        select count(*) filter (where is_fraud_truth), count(*) filter (where not is_fraud_truth),
               coalesce(any_value(sample_share), 1.0)
        from gates_6B_sample
    """).fetchall()[0]
    aucs = [single_feature_auc(session, "gates_6B_sample", expr, "is_fraud_truth") for expr in FEATURES.values()]
    session.unregister("gates_6B_sample")
    return pa.table({"feature": list(FEATURES), "auc": pa.array(aucs, pa.float64()),
                     "standard_error": pa.array([auc_standard_error(a, n_pos, n_neg, share) for a in aucs],
                                                pa.float64())})
