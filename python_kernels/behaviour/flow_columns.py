"""The outcome and event-instant columns of a flow row, shared by the baseline flows (S2) and
the flows with the fraud overlay (S3), so both tables spell outcomes the same way."""


from __future__ import annotations

import numpy as np
import pyarrow as pa

from python_kernels.core.vocabulary import NO_TIME, REASONS, STATUSES


def ts_array(values: np.ndarray) -> pa.Array:
    """Microsecond instants with NO_TIME as null."""
    return pa.array(values, mask=values == NO_TIME).cast(pa.timestamp("us"))


def ts_values(table: pa.Table, name: str) -> np.ndarray:
    """A timestamp column as int64 microseconds with NO_TIME for null."""
    col = table.column(name).cast(pa.timestamp("us")).cast(pa.int64()).fill_null(NO_TIME)
    return np.ascontiguousarray(col.to_numpy())


def int_values(table: pa.Table, name: str, fill: int = 0) -> np.ndarray:
    return np.ascontiguousarray(table.column(name).fill_null(fill).to_numpy()).astype(np.int64)


def reason_codes(table: pa.Table) -> np.ndarray:
    """decline_reason as an index into REASONS (-1 when approved)."""
    enc = table.column("decline_reason").combine_chunks().dictionary_encode()
    labels = np.array([REASONS.index(x) for x in enc.dictionary.to_pylist()] + [-1], np.int64)
    idx = enc.indices.fill_null(len(enc.dictionary)).to_numpy(zero_copy_only=False)
    return labels[idx]


def outcome_columns(amount_minor, minor_units, step_up, declined, reason, ts_challenge, ts_complete, ts_response,
                    ts_clearing, clearing_minor, ts_reversal, ts_refund, refund_minor, ts_request) -> dict:
    """Columns amount_minor ... refund_amount_minor of a flow table (reason: index into
    REASONS, ignored when approved; times in µs with NO_TIME for none)."""
    status = np.select(
        [declined, ts_reversal != NO_TIME,
         (ts_refund != NO_TIME) & (refund_minor < clearing_minor), ts_refund != NO_TIME],
        [0, 1, 2, 3], 4)
    return {
        "amount_minor": amount_minor,
        "amount": amount_minor / 10.0 ** minor_units,
        "has_step_up": step_up,
        "auth_outcome": pa.array(["APPROVED", "DECLINED"], pa.string()).take(pa.array(declined.astype(np.int8))),
        "decline_reason": pa.array(REASONS, pa.string()).take(pa.array(np.maximum(reason, 0), mask=~declined)),
        "flow_status": pa.array(STATUSES, pa.string()).take(pa.array(status)),
        "ts_step_up_challenge": ts_array(ts_challenge),
        "ts_step_up_complete": ts_array(ts_complete),
        "ts_auth_response": ts_array(ts_response),
        "auth_latency_seconds": (ts_response - np.where(step_up, ts_complete, ts_request)) / 1e6,
        "ts_clearing": ts_array(ts_clearing),
        "clearing_amount_minor": pa.array(clearing_minor, mask=ts_clearing == NO_TIME),
        "ts_reversal": ts_array(ts_reversal),
        "ts_refund": ts_array(ts_refund),
        "refund_amount_minor": pa.array(refund_minor, mask=ts_refund == NO_TIME),
    }
