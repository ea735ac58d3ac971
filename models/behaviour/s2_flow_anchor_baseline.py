"""6B S2: one row per baseline flow: each arrival's payment attempt plus the retries of a
declined attempt, with the arrival's lineage and entities, the amount in the merchant's
currency, the outcome and the instant of every event the flow has (s2_event_stream_baseline
unpivots them). Draws are keyed by flow_id (outcomes, timings) and arrival_id (amount), so
the flows of an arrival do not depend on which chunk they are computed in. The amount follows
the channel's law, or for purchases the law of the merchant's MCC group.
"""
import numpy as np
import pyarrow as pa

from python_kernels.behaviour import s2_flows
from python_kernels.behaviour.flow_columns import outcome_columns, ts_array
from python_kernels.behaviour.s2_flows import flow_params
from python_kernels.core.arrow import codes, column, vocab_index
from python_kernels.core.vocabulary import CHANNELS, LAW_OF_THE_MCC
from python_kernels.dbt_io import Stage, arrival_windows, run_context

FLOW_TYPES = {"ATM": "ATM_WITHDRAWAL", "BANK_RAIL": "BANK_TRANSFER"}  # other channels: CARD_PURCHASE
LINEAGE = ("arrival_id", "session_id", "scenario_id", "merchant_id", "arrival_seq", "channel", "party_id",
           "account_id", "instrument_id", "device_id", "ip_id", "currency_code", "currency_minor_units")


def model(dbt, session):
    dbt.config(materialized="dataset")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    policy = ctx.policies["flows"]
    countries = dbt.ref("world_countries").to_arrow_table()
    minor = dict(zip(countries.column("currency_code").to_pylist(), countries.column("currency_minor_units").to_pylist()))
    rates = dbt.ref("world_currencies").to_arrow_table()
    units = dict(zip(rates.column("currency_code").to_pylist(), rates.column("units_per_usd").to_pylist()))
    notes = dict(zip(rates.column("currency_code").to_pylist(), rates.column("atm_note").to_pylist()))
    currencies = sorted(minor)
    params = flow_params(policy, currencies, [units[c] for c in currencies], [minor[c] for c in currencies],
                         [notes[c] for c in currencies])
    laws = list(policy["amounts"]["laws"])
    law_of_channel = [laws.index(x) if x != LAW_OF_THE_MCC else -1
                      for x in (policy["amounts"]["law_by_channel"][ch] for ch in CHANNELS)]

    session.register("s2_entities", dbt.ref("s1_arrival_entities"))
    session.register("s2_merchants", dbt.ref("world_merchants"))
    stage = Stage(session, "s2_flow_anchor_baseline")
    for lo, hi in arrival_windows(session, "s2_entities", ctx.preset["chunk_rows"]):
        arr = session.sql("""
            select e.*, m.currency_code, m.currency_minor_units, m.amount_group
            from s2_entities as e
            join s2_merchants as m using (merchant_id)
            where e.arrival_id >= $1::bigint and e.arrival_id < $2::bigint
            order by e.arrival_id
        """, params=[lo, hi]).to_arrow_table()
        stage.append(_flow_chunk(ctx.seed, arr, params, currencies, laws, law_of_channel))
    return stage.files("s2_flow_anchor_baseline: there are no attached arrivals")


def _flow_chunk(seed, arr, params, currencies, laws, law_of_channel):
    channel = vocab_index(arr, "channel", CHANNELS)
    cur_code, cur_labels = codes(arr, "currency_code")
    currency = np.array([currencies.index(c) for c in cur_labels], np.int64)[cur_code]
    group_code, group_labels = codes(arr, "amount_group")
    unknown = sorted(set(group_labels) - set(laws))
    if unknown:
        raise ValueError(f"world_mccs.amount_group {unknown[0]!r} has no law in policies/flows.yaml amounts.laws "
                         f"(laws: {', '.join(laws)})")
    law = np.array([laws.index(g) for g in group_labels], np.int64)[group_code]
    by_channel = np.array(law_of_channel, np.int64)[channel]
    law = np.where(by_channel >= 0, by_channel, law)
    ts_us = column(arr, "ts_utc").astype("datetime64[us]").astype(np.int64)
    f = s2_flows.flows(seed, column(arr, "arrival_id"), ts_us, channel, law, currency, params)

    take = pa.array(f["arrival_index"])
    lineage = {name: arr.column(name).take(take) for name in LINEAGE}
    minor_units = column(arr, "currency_minor_units").astype(np.int64)[f["arrival_index"]]
    flow_type = pa.array([FLOW_TYPES.get(c, "CARD_PURCHASE") for c in CHANNELS], pa.string())
    return pa.table({
        "flow_id": f["flow_id"],
        **{k: v for k, v in lineage.items() if k == "arrival_id"},
        "flow_index": f["flow_index"],
        "retry_of_flow_id": pa.array(f["flow_id"] - 1, mask=f["flow_index"] == 0),
        **{k: v for k, v in lineage.items() if k != "arrival_id"},
        "flow_type": flow_type.take(pa.array(channel[f["arrival_index"]])),
        "ts_utc": ts_array(f["ts_request"]),
        **outcome_columns(f["amount_minor"], minor_units, f["step_up"], f["declined"], f["reason"],
                          f["ts_challenge"], f["ts_complete"], f["ts_response"], f["ts_clearing"],
                          f["clearing_minor"], f["ts_reversal"], f["ts_refund"], f["refund_minor"],
                          f["ts_request"]),
    })
