"""The leakage gate's rank AUC (python_kernels.gates.auc) against a naive pairwise count."""
from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from python_kernels.gates.auc import single_feature_auc


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

