"""6B gate R4 input, one row: how well a transparent scorer finds FRAUD from the features a bank
has at authorisation time (auth_features_6B): naive Bayes over binned features, fitted on the
flows of the first 60% of the horizon's flows in time and scored on the rest."""
import pyarrow as pa

from python_kernels.gates.scorers import naive_bayes_auc

# feature -> its bin (counts on a log scale, amounts and distances in half-decades or ln/2 steps)
BINS = {
    "channel": "channel", "mcc": "mcc", "local_hour": "local_hour",
    "amount": "floor(ln(amount_usd) * 2)",
    "party_1h": "least(party_flows_1h, 8)", "party_24h": "floor(log2(1 + party_flows_24h))",
    "party_7d": "floor(log2(1 + party_flows_7d))", "card_1h": "least(card_flows_1h, 8)",
    "card_24h": "floor(log2(1 + card_flows_24h))", "card_7d": "floor(log2(1 + card_flows_7d))",
    "history": "floor(ln(party_prior_flows + 1))",
    "amount_vs_history": "greatest(least(floor(ln(amount_vs_party_history) * 2), 8), -8)",
    "new_device": "is_new_device", "new_ip": "is_new_ip", "new_merchant": "is_new_merchant",
    "km": "floor(log10(1 + km_from_prev_card_present) * 2)", "kmh": "floor(log10(1 + kmh_from_prev_card_present) * 2)",
    "foreign_ip": "ip_country_differs_from_home", "cross_border": "is_cross_border",
}
TRAIN_SHARE = 0.6


def model(dbt, session):
    session.register("gates_6B_features", dbt.ref("s4_auth_features"))
    session.register("gates_6B_truth", dbt.ref("s4_flow_truth_labels"))
    session.execute("""
        create or replace temp view gates_6B_scored_flows as
        select a.*, t.fraud_label = 'FRAUD' as is_fraud
        from gates_6B_features as a join gates_6B_truth as t using (flow_id)
    """)
    cut = session.execute(f"select quantile_disc(ts_utc, {TRAIN_SHARE}) from gates_6B_scored_flows").fetchall()[0][0]
    out = naive_bayes_auc(session, "gates_6B_scored_flows", BINS, "is_fraud", f"ts_utc < '{cut}'::timestamp")
    for name in ("gates_6B_features", "gates_6B_truth"):
        session.unregister(name)
    return pa.table({"auc": pa.array([out["auc"]], pa.float64()), "n_train": [out["n_train"]],
                     "n_test": [out["n_test"]], "fraud_test": [out["pos_test"]], "n_features": [len(BINS)]})
