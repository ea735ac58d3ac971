"""Slow oracle of the content digest: the same hash, one Python value at a time."""
from __future__ import annotations

import datetime as dt
import struct

from python_kernels.core.digest import (_EPOCH, _FNV_OFFSET, _FNV_PRIME, _LANE1, _LANE2, _MASK, _NULL, _column_salt,
                                        _finish, _select, _sm)


def _value_hash(value, salt: int) -> int:
    if value is None:
        return int(_NULL) ^ salt
    if isinstance(value, str):
        raw = value.encode()
        s = int(_FNV_OFFSET)
        for byte in raw:
            s = ((s ^ byte) * int(_FNV_PRIME)) & _MASK
        return _sm(s ^ len(raw) ^ salt)
    if isinstance(value, bool):
        bits = int(value)
    elif isinstance(value, float):
        bits = struct.unpack("<Q", struct.pack("<d", value))[0]
    elif isinstance(value, dt.datetime):
        bits = (value - _EPOCH) // dt.timedelta(microseconds=1)
    elif isinstance(value, dt.date):
        bits = (value - _EPOCH.date()).days
    else:
        bits = int(value)
    return _sm((bits & _MASK) ^ salt)


def table_digest_naive(con, table: str) -> tuple[int, str]:
    """The same digest, one Python value at a time."""
    sql, columns = _select(con, table)
    a = b = n = 0
    for row in con.execute(sql).fetchall():
        h = 0
        for position, value in enumerate(row):
            h = _sm(h ^ _value_hash(value, int(_column_salt(position))))
        a = (a + _sm(h ^ int(_LANE1))) & _MASK
        b = (b + _sm(h ^ int(_LANE2))) & _MASK
        n += 1
    return n, _finish(n, columns, a, b)
