"""The leakage gate's rank AUC (python_kernels.gates.auc) against a naive pairwise count."""
from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from python_kernels.gates.auc import single_feature_auc
from python_kernels.gates.scorers import entity_fold_auc, naive_bayes_auc


def naive_auc(x, y):
    """P(x of a positive > x of a negative) + P(equal) / 2 over every pair, as max(AUC, 1 - AUC)."""
    pos, neg = x[y], x[~y]
    if not pos.size or not neg.size:
        return None
    wins = sum(float((p > neg).sum() + 0.5 * (p == neg).sum()) for p in pos)
    auc = wins / (pos.size * neg.size)
    return max(auc, 1 - auc)


@pytest.mark.parametrize("levels", [3, 40, 10_000])
def test_auc_matches_pairwise_count(levels):
    rng = np.random.default_rng(levels)
    x = rng.integers(0, levels, 3_000)
    y = rng.random(3_000) < 0.1 + 0.5 * (x % 7 == 0)  # a real signal, with ties when levels are few
    con = duckdb.connect()
    con.register("t", pa.table({"x": x, "y": y}))
    assert single_feature_auc(con, "t", "x", "y") == pytest.approx(naive_auc(x, y), abs=1e-12)
    # a monotone transform keeps the ranks; reversing the order keeps max(AUC, 1 - AUC)
    assert single_feature_auc(con, "t", "x * 2 + 1", "y") == pytest.approx(naive_auc(x, y), abs=1e-12)
    assert single_feature_auc(con, "t", "-x", "y") == pytest.approx(naive_auc(x, y), abs=1e-12)


def test_auc_perfect_separation_and_one_class():
    con = duckdb.connect()
    con.register("t", pa.table({"x": [1, 2, 3, 4], "y": [False, False, True, True]}))
    assert single_feature_auc(con, "t", "x", "y") == 1.0
    assert single_feature_auc(con, "t", "x", "x > 10") is None



# ---- the separability scorers (python_kernels.gates.scorers) ---------------------------------

def _nb_scores_naive(rows, names, train):
    """Naive Bayes log-likelihood ratios per test row, from the spec: per feature and bin,
    log((pos_b + 1) / (pos + B)) - log((neg_b + 1) / (neg + B)) over the training rows."""
    scores = np.zeros(int((~train).sum()))
    for name in names:
        col = rows[name]
        seen = sorted({v for v, t in zip(col, train) if t}, key=repr)
        pos = {v: 0 for v in seen}
        neg = {v: 0 for v in seen}
        for v, y, t in zip(col, rows["y"], train):
            if t:
                (pos if y else neg)[v] += 1
        p_all, n_all, b = sum(pos.values()), sum(neg.values()), len(seen)
        llr = lambda v: np.log((pos.get(v, 0) + 1) / (p_all + b)) - np.log((neg.get(v, 0) + 1) / (n_all + b))  # noqa: E731
        scores += np.array([llr(v) for v, t in zip(col, train) if not t])
    return scores


def test_naive_bayes_auc_matches_a_naive_fit():
    g = np.random.default_rng(5)
    n = 4000
    y = g.random(n) < 0.08
    a = np.where(y, g.integers(0, 4, n), g.integers(2, 8, n))        # informative
    b = g.integers(0, 3, n).astype(float)                             # noise, with nulls
    b_null = g.random(n) < 0.1
    t = np.arange(n)
    rows = {"y": y, "a": a, "b": [None if m else v for v, m in zip(b, b_null)]}
    con = duckdb.connect()
    con.register("t", pa.table({"y": y, "a": a, "b": pa.array(b, mask=b_null), "t": t}))
    out = naive_bayes_auc(con, "t", {"a": "a", "b": "b"}, "y", "t < 2400")
    train = t < 2400
    expected = naive_auc(_nb_scores_naive(rows, ["a", "b"], train).round(9), y[~train])
    assert out["auc"] == pytest.approx(expected, abs=1e-12)
    assert (out["n_train"], out["n_test"], out["pos_test"]) == (2400, 1600, int(y[~train].sum()))
    assert out["auc"] > 0.8


def test_entity_fold_auc_sees_encoded_ranges_not_opaque_ids():
    g = np.random.default_rng(9)
    n_ids, n = 4000, 40000
    # entities of one kind (ids 0..999) are risky: ids handed out in ranges say so
    entity = g.integers(0, n_ids, n)
    y = g.random(n) < np.where(entity < 1000, 0.2, 0.02)
    con = duckdb.connect()
    folds = ["id % 2 = 0", "id % 3 = 0", "(id // 7) % 2 = 1"]  # any fixed per-id coins will do in a test
    opaque = np.random.default_rng(1).permutation(n_ids)[entity]
    con.register("t", pa.table({"ranged": entity, "opaque": opaque, "y": y}))
    ranged = entity_fold_auc(con, "t", "ranged", "y", folds, 20)
    ranged_auc = ranged.auc
    opaque_auc = entity_fold_auc(con, "t", "opaque", "y", folds, 20).auc
    assert ranged_auc > 0.7
    assert abs(opaque_auc - 0.5) < 0.04
    # the naive version: per fold, each id's label share (millionths) and its bin's mean share over
    # the fold's ids; the directed AUC over pairs of other-fold ids, each pair weighted by the first
    # id's positive and the second's negative share; then the mean over folds
    ids = np.unique(entity)
    bin_of = {i: k * 20 // ids.size for k, i in enumerate(ids)}
    share = {i: int(y[entity == i].sum()) * 1_000_000 // int((entity == i).sum()) for i in ids}
    per_fold = []
    for fold in folds:
        fold_of = dict(con.execute(f"select id, {fold} from (select unnest({ids.tolist()}) as id)").fetchall())
        in_a = [i for i in ids if fold_of[i]]
        rate = {}
        for b in {bin_of[i] for i in in_a}:
            members = [share[i] for i in in_a if bin_of[i] == b]
            rate[b] = sum(members) // len(members)
        other = [i for i in ids if not fold_of[i]]
        score = np.array([rate.get(bin_of[i], -1) for i in other], np.float64)
        pos = np.array([share[i] for i in other], np.float64)
        neg = 1_000_000 - pos
        wins = sum(pos[a] * (neg[score < score[a]].sum() + 0.5 * neg[score == score[a]].sum()) for a in range(len(other)))
        per_fold.append(wins / (pos.sum() * neg.sum()))
    assert ranged_auc == pytest.approx(np.mean(per_fold), abs=1e-9)
    assert (ranged.pos_ids, ranged.neg_ids) == pytest.approx((sum(share.values()) / 1e6, ids.size - sum(share.values()) / 1e6))


def test_entity_fold_auc_is_not_folded_into_either_direction():
    """Opaque ids with a few heavy entities: a split is chance, and chance below 0.5 stays there
    (a max(AUC, 1 - AUC) would lift every split above 0.5). With few ids per bin a split leans below
    0.5: a bin's risky ids that teach the rate are not there to be scored."""
    g = np.random.default_rng(4)
    n_ids = 3000
    weight = np.exp(g.normal(0, 2.0, n_ids))
    entity = g.choice(n_ids, 200_000, p=weight / weight.sum())
    y = g.random(entity.size) < np.where(g.random(n_ids) < 0.1, 0.3, 0.01)[entity]
    con = duckdb.connect()
    con.register("t", pa.table({"id": entity, "y": y}))
    single = [entity_fold_auc(con, "t", "id", "y", [f"((id + 1) * 2654435761 + {k} * 40503) % 1000003 % 2 = 0"], 20).auc for k in range(40)]
    assert min(single) < 0.5 < max(single)
    assert abs(np.mean(single) - 0.5) < 0.04
