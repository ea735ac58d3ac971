"""Transparent scorers for the separability gates, run by DuckDB over every row.

`naive_bayes_auc`: naive Bayes over binned features, fitted on the training rows (the first part
of time) and scored on the rest, so a gate sees how well the features a bank has at authorisation
time find the label when put together. `entity_fold_auc`: how well the value of one id column
alone finds the label for entities it has never seen: ids are cut into bins of equally many
distinct ids, each bin's rate is learned on the ids of one keyed fold and scores the other fold's.
With opaque ids a bin is a random set of entities and this stays near 0.5; ids handed out in
ranges that encode attributes score above it. Counts are integers, so the result does not depend
on threads. `con` is the caller's DuckDB connection.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from python_kernels.gates.auc import auc_sql

# The separability gate's scorer (6B.R4, and the report's ROC curve): auth_features_6B columns ->
# their bins (counts on a log scale, amounts and distances in ln/2 or half-decade steps), fitted on
# the flows before the TRAIN_SHARE time quantile.
AUTH_FEATURE_BINS = {
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


def naive_bayes_auc(con, relation: str, bins: dict[str, str], label: str, is_train: str) -> dict:
    """AUC on the test rows of a naive Bayes score fitted on the training rows.

    bins: feature name -> SQL expression of its bin (any type; null is a bin of its own);
    label: boolean SQL expression; is_train: boolean SQL expression (else test). Each feature adds
    log((pos_b + 1) / (pos + B)) - log((neg_b + 1) / (neg + B)) for its bin b (B bins seen in
    training; an unseen bin counts zero). Returns auc, n_train, n_test, pos_test and the name of
    the temp table `nb_scored` (y, score) of the test rows.
    """
    names = list(bins)
    cols = ", ".join(f"({expr}) as f{i}" for i, expr in enumerate(bins.values()))
    con.execute(f"create or replace temp table nb_rows as select ({label}) as y, ({is_train}) as train, {cols} "
                f"from {relation}")
    joins, terms = [], []
    for i in range(len(names)):
        con.execute(f"""
            create or replace temp table nb_f{i} as
            with c as (select f{i} as b, count(*) filter (where y) as pos, count(*) filter (where not y) as neg
                       from nb_rows where train group by 1),
                 t as (select sum(pos) as pos, sum(neg) as neg, count(*) as nb from c)
            select c.b, ln((c.pos + 1) / (t.pos + t.nb)) - ln((c.neg + 1) / (t.neg + t.nb)) as llr,
                   ln(1 / (t.pos + t.nb)) - ln(1 / (t.neg + t.nb)) as unseen
            from c, t
        """)
        joins.append(f"left join nb_f{i} as j{i} on j{i}.b is not distinct from r.f{i}")
        terms.append(f"coalesce(j{i}.llr, (select any_value(unseen) from nb_f{i}))")
    con.execute(f"""
        create or replace temp table nb_scored as
        select r.y, {' + '.join(terms)} as score from nb_rows as r {' '.join(joins)} where not r.train
    """)
    n_train, n_test, pos_test = con.execute("""
        select (select count(*) from nb_rows where train), count(*), count(*) filter (where y) from nb_scored
    """).fetchall()[0]
    auc = con.execute(auc_sql("nb_scored", "round(score, 9)", "y")).fetchall()[0][0] if n_test else None
    return {"auc": auc, "n_train": n_train, "n_test": n_test, "pos_test": pos_test, "table": "nb_scored"}


def auth_feature_scorer(con, relation: str, label: str) -> dict:
    """naive_bayes_auc of AUTH_FEATURE_BINS over `relation` (auth_features_6B columns and the
    boolean `label`), trained on the flows before the TRAIN_SHARE quantile of ts_utc."""
    cut = con.execute(f"select quantile_disc(ts_utc, {TRAIN_SHARE}) from {relation}").fetchall()[0][0]
    return naive_bayes_auc(con, relation, AUTH_FEATURE_BINS, label, f"ts_utc < '{cut}'::timestamp")


def roc_points(con, table: str, max_points: int = 300) -> list[tuple[float, float]]:
    """(false positive rate, true positive rate) of `table` (y, score) at each distinct score as a
    threshold, from (0, 0) to (1, 1), thinned to about max_points."""
    rows = con.execute(f"""
        with s as (select round(score, 9) as sc, count(*) filter (where y) as p, count(*) filter (where not y) as n
                   from {table} group by 1),
             c as (select sum(n) over (order by sc desc) as fp, sum(p) over (order by sc desc) as tp from s),
             t as (select sum(p) as pos, sum(n) as neg from s)
        select fp / neg, tp / pos from c, t order by 1, 2
    """).fetchall()
    step = max(1, len(rows) // max_points)
    return [(0.0, 0.0)] + rows[::step] + [(1.0, 1.0)]


class EntityAuc(NamedTuple):
    auc: float | None
    pos_ids: float     # the ids' summed label shares: the positives, in ids
    neg_ids: float     # the ids' summed other shares


def entity_fold_auc(con, relation: str, id_col: str, label: str, folds: list[str], n_bins: int,
                    keep: str = "true") -> EntityAuc:
    """Mean over `folds` of the AUC, over the fold-false ids, of the fold-true ids' label rate in
    their id's bin, with the ids' positive and negative weight. A fold is a boolean SQL expression
    of `id` (a keyed coin: an id's rows are all in one fold); `keep`, one of `id` too, samples the
    ids (all their rows or none, so an id's label share is the full data's). Every id weighs the same, its label share split between the two classes: what
    the value says about an entity never seen, whatever its traffic, so a few heavy entities do not
    make chance look like a signal (with rows as units, randomly relabelled merchant ids scored
    0.41-0.53 on one run). The AUC is directed: a bin's learned rate is the score, and an AUC below
    0.5 is chance, not a signal. Averaging over folds damps the chance of one split. Label shares
    are integer millionths and rows are summed per id and bin first, so the result does not depend
    on threads and the folds cost one scan."""
    if not folds:
        raise ValueError("entity_fold_auc needs at least one fold")
    flags = ", ".join(f"({f}) as f{k}" for k, f in enumerate(folds))
    t = con.execute(f"""
        with per_id as (
            select id, count(*) filter (where y) * 1000000 // count(*) as share_micro
            from (select {id_col} as id, ({label}) as y from {relation}) where id is not null and ({keep}) group by 1
        ),
        binned as (
            select *, (row_number() over (order by id) - 1) * {int(n_bins)} // count(*) over () as bin,
                   {flags}
            from per_id
        )
        select bin, {", ".join(f"f{k}" for k in range(len(folds)))}, count(*)::bigint as ids,
               sum(share_micro)::bigint as share_micro
        from binned group by all order by all
    """).fetchnumpy()
    aucs = []
    for k in range(len(folds)):
        fold = t[f"f{k}"].astype(bool)
        ids_a = np.bincount(t["bin"][fold], t["ids"][fold], minlength=n_bins).astype(np.int64)
        share_a = np.bincount(t["bin"][fold], t["share_micro"][fold], minlength=n_bins).astype(np.int64)
        rate = np.where(ids_a > 0, share_a // np.maximum(ids_a, 1), -1)  # mean label share, millionths
        pos = np.bincount(t["bin"][~fold], t["share_micro"][~fold], minlength=n_bins)
        neg = np.bincount(t["bin"][~fold], t["ids"][~fold] * 1_000_000 - t["share_micro"][~fold], minlength=n_bins)
        auc = _grouped_auc(rate, pos, neg)
        if auc is not None:
            aucs.append(auc)
    pos = float(t["share_micro"].sum()) / 1e6
    return EntityAuc(float(np.mean(aucs)) if aucs else None, pos, float(t["ids"].sum()) - pos)


def _grouped_auc(score: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float | None:
    """P(score of a positive > score of a negative) + P(tie) / 2, from per-group weights."""
    total_p, total_n = pos.sum(), neg.sum()
    if total_p == 0 or total_n == 0:
        return None
    levels, at = np.unique(score, return_inverse=True)
    p = np.bincount(at, pos, minlength=levels.size)
    n = np.bincount(at, neg, minlength=levels.size)
    below = np.cumsum(n) - n
    return float((p * (below + 0.5 * n)).sum() / (float(total_p) * float(total_n)))