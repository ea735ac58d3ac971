"""The content digest: equal to its naive oracle, blind to row order and batching, and moved
by any change of a value, a null, a column name or a row."""
from __future__ import annotations

import duckdb
import pytest

from oracles.core import table_digest_naive
from python_kernels.core.digest import table_digest

ROWS = """
    (1, 10::integer, true, 1.5::double, timestamp '2026-03-29 01:00:00.000001', date '2026-03-29',
     'café', ['a', 'b'], 170141183460469231731687303715884105727::hugeint),
    (2, null, false, -0.25, null, null, '', [], -1::hugeint),
    (3, -7, null, null, timestamp '1969-12-31 23:59:59', date '1969-12-31', null, null, null),
    (4, 0, false, 0.0, timestamp '2026-01-01 00:00:00', date '2026-01-01', 'x', ['c'], 0::hugeint)
"""


def _table(con, name: str, rows: str = ROWS, order: str = "k") -> None:
    con.execute(f"""create or replace table {name} as
        select * from (values {rows}) v(k, i, b, d, ts, dt, s, l, h) order by {order}""")


@pytest.fixture()
def con():
    c = duckdb.connect()
    _table(c, "t")
    yield c
    c.close()


def test_matches_the_naive_oracle(con):
    assert table_digest(con, "t") == table_digest_naive(con, "t")
    assert table_digest(con, "t")[0] == 4


def test_independent_of_row_order_and_batch_size(con):
    _table(con, "shuffled", order="k desc")
    expected = table_digest(con, "t")
    assert table_digest(con, "shuffled") == expected
    for batch_rows in (1, 3, 1000):
        assert table_digest(con, "t", batch_rows) == expected


@pytest.mark.parametrize("change", [
    "update u set i = 11 where k = 1",
    "update u set i = null where k = 4",        # 0 and null differ
    "update u set s = null where k = 2",        # '' and null differ
    "update u set s = 'cafe' where k = 1",
    "update u set d = 0.0 where k = 2",
    "update u set ts = ts + interval 1 microsecond where k = 1",
    "update u set dt = dt + 1 where k = 4",
    "update u set b = not b where k = 1",
    "update u set l = ['b', 'a'] where k = 1",
    "update u set h = h - 1 where k = 1",
    "alter table u rename column s to s2",
    "delete from u where k = 3",
    "insert into u select * from u where k = 3",  # a duplicated row counts
])
def test_any_change_moves_the_digest(con, change):
    con.execute("create table u as select * from t")
    con.execute(change)
    assert table_digest(con, "u") != table_digest(con, "t")


def test_values_swapped_between_columns_move_the_digest():
    c = duckdb.connect()
    c.execute("create table a as select * from (values (1, 2), (3, 4)) v(x, y)")
    c.execute("create table b as select * from (values (2, 1), (3, 4)) v(x, y)")
    assert table_digest(c, "a") != table_digest(c, "b")


def test_unknown_table_and_bad_batch_are_refused(con):
    with pytest.raises(ValueError, match="no table named 'nope'"):
        table_digest(con, "nope")
    with pytest.raises(ValueError, match="batch_rows must be >= 1"):
        table_digest(con, "t", 0)
