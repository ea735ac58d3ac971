"""Rank AUC of one column for a boolean label, computed by DuckDB over every row of a relation
(the ranking gates give it their keyed sample), and its standard error.

One query per column: the values are counted (a spillable aggregate) and ranked by a running
sum over the distinct values, so a column with as many values as rows costs one aggregate and
one sort. Sums are integers (twice the rank sum), so the result does not depend on threads.
"""
from __future__ import annotations

import math


def auc_sql(relation: str, x: str, y: str) -> str:
    """SQL for max(AUC, 1 - AUC) of the expression `x` for the boolean `y` over `relation`
    (how well x alone separates y, in either direction); ties share their average rank, nulls
    rank last as one value. Null without both classes."""
    return f"""
        with v as (
            select {x} as x, count(*) as n, count(*) filter (where {y}) as p
            from {relation}
            group by 1
        ),
        r as (
            select p, n, coalesce(sum(n) over (order by x rows between unbounded preceding and 1 preceding), 0) as below
            from v
        ),
        t as (
            select sum(p)::hugeint as pos, (sum(n) - sum(p))::hugeint as neg,
                   sum(p * (2 * below + n + 1))::hugeint as twice_rank_sum
            from r
        )
        select greatest(auc, 1 - auc)
        from (select (twice_rank_sum - pos * (pos + 1))::double / nullif(2 * pos * neg, 0)::double as auc from t)
    """


def single_feature_auc(con, relation: str, x: str, y: str) -> float | None:
    """AUC (as auc_sql) of `x` for `y` over `relation` on the DuckDB connection `con`."""
    return con.execute(auc_sql(relation, x, y)).fetchall()[0][0]


def auc_standard_error(auc: float | None, n_pos: int, n_neg: int, share: float = 1.0) -> float | None:
    """Standard error of an AUC measured on n_pos positives and n_neg negatives drawn as a keyed
    share of a population, around the population's own AUC: Hanley & McNeil (1982) with the
    finite-population factor sqrt(1 - share): 0 when every row is in; null without an AUC, or for
    a sample without both classes."""
    if auc is None:
        return None
    if share >= 1:
        return 0.0
    if n_pos < 1 or n_neg < 1:
        return None
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0) * max(1.0 - share, 0.0))
