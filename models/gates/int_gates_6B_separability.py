"""6B gate R4 input, one row: how well a transparent scorer finds FRAUD from the features a bank
has at authorisation time (auth_features_6B): naive Bayes over binned features, fitted on the
first 60% in time of the gates' keyed sample of flows (int_gates_6B_sample) and scored on the
rest, with the AUC's standard error around the full data's."""
import pyarrow as pa

from python_kernels.gates.auc import auc_standard_error
from python_kernels.gates.scorers import AUTH_FEATURE_BINS, auth_feature_scorer


def model(dbt, session):
    session.register("gates_6B_features", dbt.ref("s4_auth_features"))
    session.register("gates_6B_sample", dbt.ref("int_gates_6B_sample"))
    session.execute("""
        create or replace temp view gates_6B_scored_flows as
        select a.*, s.fraud_label = 'FRAUD' as is_fraud
        from gates_6B_features as a join gates_6B_sample as s using (flow_id)
    """)
    share = session.execute("select coalesce(any_value(sample_share), 1.0) from gates_6B_sample").fetchall()[0][0]
    out = auth_feature_scorer(session, "gates_6B_scored_flows", "is_fraud")
    for name in ("gates_6B_features", "gates_6B_sample"):
        session.unregister(name)
    se = auc_standard_error(out["auc"], out["pos_test"], out["n_test"] - out["pos_test"], share)
    return pa.table({"auc": pa.array([out["auc"]], pa.float64()), "standard_error": pa.array([se], pa.float64()),
                     "n_train": [out["n_train"]], "n_test": [out["n_test"]], "fraud_test": [out["pos_test"]],
                     "n_features": [len(AUTH_FEATURE_BINS)]})
