"""6B S2: one row per baseline flow: each arrival's payment attempt plus the retries of a
declined attempt, with the arrival's lineage and entities, the amount in the merchant's
currency, the outcome and the instant of every event the flow has (s2_event_stream_baseline
unpivots them). Draws are keyed by flow_id (outcomes, timings) and arrival_id (amount), so
the flows of an arrival do not depend on which chunk they are computed in.
"""
import numpy as np
import pyarrow as pa

from python_kernels import behaviour
from python_kernels.behaviour_inputs import flow_params, policy_lookup
from python_kernels.dbt_helpers import Stage, codes, column, key_windows, run_context
from python_kernels.policy_schema.behaviour import DECLINE_REASONS, FAMILIES

STAGE = "s2_flow_anchor_baseline__stage"
FLOW_TYPES = {"ATM": "ATM_WITHDRAWAL", "BANK_RAIL": "BANK_TRANSFER"}  # other channels: CARD_PURCHASE
LINEAGE = ("arrival_id", "session_id", "scenario_id", "merchant_id", "arrival_seq", "channel", "party_id",
           "account_id", "instrument_id", "device_id", "ip_id", "currency_code", "currency_minor_units")


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    policy = ctx.policies["behaviour"]
    countries = dbt.ref("world_countries").to_arrow_table()
    minor = dict(zip(countries.column("currency_code").to_pylist(), countries.column("currency_minor_units").to_pylist()))
    rates = dbt.ref("world_currencies").to_arrow_table()
    units = dict(zip(rates.column("currency_code").to_pylist(), rates.column("units_per_usd").to_pylist()))
    currencies = sorted(minor)
    params = flow_params(policy, currencies, [units[c] for c in currencies], [minor[c] for c in currencies])
    family_of = [FAMILIES.index(policy["amounts"]["family_by_channel"][ch]) for ch in behaviour.CHANNELS]
    sector_scale = policy["amounts"]["purchase_sector_scale"]

    session.register("s2_entities", dbt.ref("s1_arrival_entities"))
    session.register("s2_merchants", dbt.ref("world_merchants"))
    session.register("s2_mccs", dbt.ref("world_mccs"))
    groups = session.execute("""
        select arrival_id >> 32 as grp, count(*) from s2_entities group by grp order by grp
    """).fetchall()
    stage = Stage(session, STAGE)
    for lo, hi in key_windows(groups, ctx.preset["chunk_rows"], 1):
        arr = session.sql("""
            select e.*, m.currency_code, m.currency_minor_units, c.mcc_sector
            from s2_entities as e
            join s2_merchants as m using (merchant_id)
            join s2_mccs as c using (mcc)
            where e.arrival_id >= $1::bigint and e.arrival_id < $2::bigint
            order by e.arrival_id
        """, params=[int(lo) << 32, int(hi) << 32]).to_arrow_table()
        stage.append(_flow_chunk(ctx.seed, arr, params, currencies, family_of, sector_scale))
    return stage.relation("s2_flow_anchor_baseline: there are no attached arrivals")


def _ts(values: np.ndarray) -> pa.Array:
    """Microsecond instants with behaviour.NO_TIME as null."""
    return pa.array(values, mask=values == behaviour.NO_TIME).cast(pa.timestamp("us"))


def _flow_chunk(seed, arr, params, currencies, family_of, sector_scale):
    ch_code, ch_labels = codes(arr, "channel")
    channel = np.array([behaviour.CHANNELS.index(c) for c in ch_labels], np.int64)[ch_code]
    family = np.array(family_of, np.int64)[channel]
    cur_code, cur_labels = codes(arr, "currency_code")
    currency = np.array([currencies.index(c) for c in cur_labels], np.int64)[cur_code]
    sec_code, sec_labels = codes(arr, "mcc_sector")
    scale = policy_lookup(sector_scale, sec_labels, "amounts.purchase_sector_scale")[sec_code]
    scale = np.where(family == FAMILIES.index("PURCHASE"), scale, 1.0)
    ts_us = column(arr, "ts_utc").astype("datetime64[us]").astype(np.int64)
    f = behaviour.flows(seed, column(arr, "arrival_id"), ts_us, channel, family, currency, scale, params)

    take = pa.array(f["arrival_index"])
    lineage = {name: arr.column(name).take(take) for name in LINEAGE}
    minor_units = column(arr, "currency_minor_units").astype(np.int64)[f["arrival_index"]]
    reasons = pa.array(list(DECLINE_REASONS) + ["STEP_UP_FAILED"], pa.string())
    declined = f["declined"]
    flow_type = pa.array([FLOW_TYPES.get(c, "CARD_PURCHASE") for c in behaviour.CHANNELS], pa.string())
    status = np.select(
        [declined, f["ts_reversal"] != behaviour.NO_TIME,
         (f["ts_refund"] != behaviour.NO_TIME) & (f["refund_minor"] < f["clearing_minor"]),
         f["ts_refund"] != behaviour.NO_TIME],
        [0, 1, 2, 3], 4)
    return pa.table({
        "flow_id": f["flow_id"],
        **{k: v for k, v in lineage.items() if k == "arrival_id"},
        "flow_index": f["flow_index"],
        "retry_of_flow_id": pa.array(f["flow_id"] - 1, mask=f["flow_index"] == 0),
        **{k: v for k, v in lineage.items() if k != "arrival_id"},
        "flow_type": flow_type.take(pa.array(channel[f["arrival_index"]])),
        "ts_utc": _ts(f["ts_request"]),
        "amount_minor": f["amount_minor"],
        "amount": f["amount_minor"] / 10.0 ** minor_units,
        "has_step_up": f["step_up"],
        "auth_outcome": pa.array(["APPROVED", "DECLINED"], pa.string()).take(pa.array(declined.astype(np.int8))),
        "decline_reason": reasons.take(pa.array(np.maximum(f["reason"], 0), mask=~declined)),
        "flow_status": pa.array(["DECLINED", "REVERSED", "PARTIALLY_REFUNDED", "REFUNDED", "CLEARED"],
                                pa.string()).take(pa.array(status)),
        "ts_step_up_challenge": _ts(f["ts_challenge"]),
        "ts_step_up_complete": _ts(f["ts_complete"]),
        "ts_auth_response": _ts(f["ts_response"]),
        "auth_latency_seconds": (f["ts_response"] - np.where(f["step_up"], f["ts_complete"], f["ts_request"])) / 1e6,
        "ts_clearing": _ts(f["ts_clearing"]),
        "clearing_amount_minor": pa.array(f["clearing_minor"], mask=f["ts_clearing"] == behaviour.NO_TIME),
        "ts_reversal": _ts(f["ts_reversal"]),
        "ts_refund": _ts(f["ts_refund"]),
        "refund_amount_minor": pa.array(f["refund_minor"], mask=f["ts_refund"] == behaviour.NO_TIME),
    })
