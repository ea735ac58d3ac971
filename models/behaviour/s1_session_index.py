"""6B S1: one row per session, summarised from its arrivals (s1_arrival_entities).

The arrivals are scattered once into buckets of whole sessions (session_id = the first
arrival's id, so a range of ids holds complete sessions), each read sorted by (session_id, ts);
a numba pass gives each session its span, party, dominant entities (most arrivals, lowest id on
a tie), distinct counts and channels. Row order never matters, so the index is the same for any
bucket count.
"""
import numpy as np
import pyarrow as pa

from python_kernels.behaviour import s1_sessions
from python_kernels.core.arrow import codes, column
from python_kernels.core.vocabulary import CHANNELS
from python_kernels.dbt_io import Buckets, Stage, id_buckets, run_context

ENTITIES = ("device_id", "account_id", "instrument_id", "ip_id", "merchant_id")
CHANNEL_SETS = [",".join(sorted(c for k, c in enumerate(CHANNELS) if mask >> k & 1))
                for mask in range(1 << len(CHANNELS))]


def model(dbt, session):
    dbt.config(materialized="dataset")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    session.register("si_entities", dbt.ref("s1_arrival_entities"))
    stage = Stage(session, "s1_session_index")
    query = f"select session_id, scenario_id, ts_utc, arrival_id, party_id, channel, is_cross_border, {', '.join(ENTITIES)} from si_entities"
    with Buckets(session, "s1_session_index", query, *id_buckets(session, "si_entities", "session_id", ctx.preset["chunk_rows"])) as b:
        for arr in b.tables("session_id, ts_utc, arrival_id"):
            stage.append(_summarise(arr))
    return stage.files("s1_session_index: there are no attached arrivals")


def _summarise(arr: pa.Table) -> pa.Table:
    ch_code, ch_labels = codes(arr, "channel")
    channel = np.array([CHANNELS.index(c) for c in ch_labels], np.int64)[ch_code]
    ts_us = column(arr, "ts_utc").astype("datetime64[us]").astype(np.int64)
    s = s1_sessions.session_summary(column(arr, "session_id"), ts_us, column(arr, "party_id"),
                                    np.stack([column(arr, e).astype(np.int64) for e in ENTITIES]),
                                    channel, column(arr, "is_cross_border"))
    first = pa.array(np.flatnonzero(np.r_[True, np.diff(column(arr, "session_id")) != 0]))
    primary = {f"primary_{e}": s["primary"][k] for k, e in enumerate(ENTITIES)}
    return pa.table({
        "session_id": s["session_id"],
        "scenario_id": arr.column("scenario_id").take(first),
        "party_id": s["party"],
        **primary,
        "arrival_count": s["arrival_count"],
        "session_start_utc": pa.array(s["start"]).cast(pa.timestamp("us")),
        "session_end_utc": pa.array(s["end"]).cast(pa.timestamp("us")),
        "duration_seconds": (s["end"] - s["start"]) / 1e6,
        "n_merchants": s["distinct"][ENTITIES.index("merchant_id")],
        "n_devices": s["distinct"][ENTITIES.index("device_id")],
        "channels": pa.array(CHANNEL_SETS, pa.string()).take(pa.array(s["channels"])),
        "any_cross_border": s["any_cross"],
        "n_parties": s["n_parties"],
    })
