"""Rank AUC of one column for a boolean label, computed by DuckDB over every row.

One query per column: the values are counted (a spillable aggregate) and ranked by a running
sum over the distinct values, so a column with as many values as rows costs one aggregate and
one sort. Sums are integers (twice the rank sum), so the result does not depend on threads.
"""
from __future__ import annotations


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
