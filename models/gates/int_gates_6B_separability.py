"""6B gate R4 input, one row: how well a transparent scorer finds FRAUD from the features a bank
has at authorisation time (auth_features_6B): naive Bayes over binned features, fitted on the
flows of the first 60% of the horizon's flows in time and scored on the rest."""
import pyarrow as pa

from python_kernels.gates.scorers import AUTH_FEATURE_BINS, auth_feature_scorer

def model(dbt, session):
    session.register("gates_6B_features", dbt.ref("s4_auth_features"))
    session.register("gates_6B_truth", dbt.ref("s4_flow_truth_labels"))
    session.execute("""
        create or replace temp view gates_6B_scored_flows as
        select a.*, t.fraud_label = 'FRAUD' as is_fraud
        from gates_6B_features as a join gates_6B_truth as t using (flow_id)
    """)
    out = auth_feature_scorer(session, "gates_6B_scored_flows", "is_fraud")
    for name in ("gates_6B_features", "gates_6B_truth"):
        session.unregister(name)
    return pa.table({"auc": pa.array([out["auc"]], pa.float64()), "n_train": [out["n_train"]],
                     "n_test": [out["n_test"]], "fraud_test": [out["pos_test"]],
                     "n_features": [len(AUTH_FEATURE_BINS)]})
