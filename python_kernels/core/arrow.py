"""Arrow columns as the numpy arrays kernels take: contiguous values, text as integer codes."""
from __future__ import annotations

import numpy as np
import pyarrow as pa


def column(table: pa.Table, name: str) -> np.ndarray:
    """A column as a contiguous numpy array (copy only when the column is chunked)."""
    col = table.column(name)
    if col.num_chunks == 1:
        arr = col.chunk(0).to_numpy(zero_copy_only=False)
    else:
        arr = col.combine_chunks().to_numpy(zero_copy_only=False)
    return np.ascontiguousarray(arr)


def codes(table: pa.Table, name: str) -> tuple[np.ndarray, list]:
    """A text column as (integer codes, labels): per-row Python strings are too slow at scale."""
    enc = table.column(name).combine_chunks().dictionary_encode()
    return np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64), enc.dictionary.to_pylist()


def vocab_index(table: pa.Table, name: str, vocab) -> np.ndarray:
    """A text column as indices into `vocab` (a value outside it raises ValueError)."""
    code, found = codes(table, name)
    return np.array([list(vocab).index(x) for x in found], np.int64)[code]
