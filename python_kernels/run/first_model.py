"""`runner.py first-model`: the model a user trains first, on a run's published data.

A gradient-boosted classifier (scikit-learn's HistGradientBoosting, an analysis dependency: the
engine never imports it) on auth_features_6B, for truth FRAUD, on a time split: the flows before
the 70% time quantile train it, the rest score it. Then the same model on each published id
column alone: an id's value should find nothing. Writes <run>/analysis/first_model.json and
prints the table. Real card-fraud models reach roughly 0.85-0.95 AUC with AP well below 0.8.
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np

from python_kernels.run.runs import CATALOG_FILE

TRAIN_SHARE = 0.7
CATEGORICAL = ("channel", "mcc")
NUMERIC = ("local_hour", "amount_usd", "party_flows_1h", "party_flows_24h", "party_flows_7d", "card_flows_1h",
           "card_flows_24h", "card_flows_7d", "party_prior_flows", "amount_vs_party_history", "is_new_device",
           "is_new_ip", "is_new_merchant", "km_from_prev_card_present", "kmh_from_prev_card_present",
           "ip_country_differs_from_home", "is_cross_border", "card_present")
IDS = ("flow_id", "arrival_id", "session_id", "merchant_id", "party_id", "account_id", "instrument_id", "device_id",
       "ip_id")


def _frame(run_dir: Path) -> dict:
    if not (run_dir / CATALOG_FILE).is_file():
        raise ValueError(f"no {CATALOG_FILE} (an earlier engine version published the run); rerun the run")
    con = duckdb.connect()
    # the run's catalog defines every dataset, the truth labels among them as a view
    con.execute(f"attach '{run_dir / CATALOG_FILE}' as run (read_only)")
    cols = ", ".join([f"a.{c}" for c in CATEGORICAL + NUMERIC] + [f"f.{c}" for c in IDS])
    table = con.sql(f"""
        select {cols}, a.ts_utc, t.fraud_label = 'FRAUD' as y
        from run.auth_features_6B as a
        join run.s4_flow_truth_labels_6B as t using (flow_id)
        join run.s3_flow_anchor_with_fraud_6B as f using (flow_id)
        order by a.ts_utc, a.flow_id
    """).to_arrow_table()
    out = {}
    for name in table.column_names:
        col = table.column(name)
        if name in CATEGORICAL:
            enc = col.combine_chunks().dictionary_encode()
            out[name] = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.float64)
            out[name][out[name] < 0] = np.nan
        elif name == "ts_utc":
            out[name] = col.cast("int64").to_numpy()
        elif name == "y":
            out[name] = col.to_numpy(zero_copy_only=False).astype(bool)
        elif name in IDS:  # up to 2**60: as floats they keep their order, which is all a tree splits on
            out[name] = np.asarray(col.to_numpy(zero_copy_only=False), np.float64)
        else:
            out[name] = np.asarray(col.cast("double").fill_null(np.nan).to_numpy(zero_copy_only=False))
    return out


def _fit_score(x_train, y_train, x_test, categorical, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.08, max_leaf_nodes=31,
                                           categorical_features=categorical, random_state=seed)
    model.fit(x_train, y_train)
    return model.predict_proba(x_test)[:, 1]


def first_model(run_dir: Path, seed: int) -> dict:
    """Fit and score; returns the figures written to analysis/first_model.json."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    d = _frame(run_dir)
    y = d["y"]
    train = d["ts_utc"] < np.quantile(d["ts_utc"], TRAIN_SHARE)
    if y[train].sum() < 20 or y[~train].sum() < 20:
        raise ValueError(f"too few FRAUD flows to fit and score ({int(y[train].sum())} / {int(y[~train].sum())}); "
                         f"use a larger preset")
    features = CATEGORICAL + NUMERIC
    x = np.column_stack([d[c] for c in features])
    p = _fit_score(x[train], y[train], x[~train], [c in CATEGORICAL for c in features], seed)
    result = {"train_flows": int(train.sum()), "test_flows": int((~train).sum()),
              "test_fraud": int(y[~train].sum()), "features": list(features),
              "auc": float(roc_auc_score(y[~train], p)), "average_precision": float(average_precision_score(y[~train], p)),
              "ids": {}}
    for col in IDS:
        xi = d[col][:, None]
        pi = _fit_score(xi[train], y[train], xi[~train], [False], seed)
        result["ids"][col] = float(roc_auc_score(y[~train], pi))
    return result


def write(run_dir: Path, result: dict) -> Path:
    out = run_dir / "analysis" / "first_model.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return out


def table(result: dict) -> str:
    lines = [f"gradient boosting on auth_features_6B, time split {TRAIN_SHARE:.0%} / {1 - TRAIN_SHARE:.0%}: "
             f"{result['train_flows']} flows train, {result['test_flows']} score ({result['test_fraud']} FRAUD)",
             f"  FRAUD AUC {result['auc']:.3f}  average precision {result['average_precision']:.3f}",
             "  the same model on one id column alone (AUC):"]
    lines += [f"    {col:14s} {auc:.3f}" for col, auc in sorted(result["ids"].items(), key=lambda kv: -kv[1])]
    return "\n".join(lines)
