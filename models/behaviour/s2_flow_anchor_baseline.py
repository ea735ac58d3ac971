"""6B S2: one row per baseline flow: each arrival's payment attempt plus the retries of a
declined attempt, with the arrival's lineage and entities, the amount in the currency charged
(the site's country's, or a virtual merchant's own), the outcome and the instant of every event
the flow has (s2_event_stream_baseline unpivots them). Draws are keyed by flow_id (outcomes,
timings) and arrival_id (amount), so the flows of an arrival do not depend on which chunk they
are computed in: the attached arrivals are scattered once into arrival-id ranges of about
chunk_rows rows and computed one range at a time. The amount follows the channel's law, or for
purchases the law of the merchant's MCC group.
"""
import numpy as np
import pyarrow as pa

from python_kernels.behaviour import s2_flows
from python_kernels.behaviour.flow_columns import outcome_columns, ts_array
from python_kernels.core.arrow import column, vocab_index
from python_kernels.core.vocabulary import CHANNELS
from python_kernels.dbt_io import Buckets, Stage, id_buckets, run_context

FLOW_TYPES = {"ATM": "ATM_WITHDRAWAL", "BANK_RAIL": "BANK_TRANSFER"}  # other channels: CARD_PURCHASE
LINEAGE = ("arrival_id", "session_id", "scenario_id", "merchant_id", "arrival_seq", "channel", "party_id",
           "account_id", "instrument_id", "device_id", "ip_id", "currency_code", "currency_minor_units")
# after the outcome: the arrival's place, which the overlay's view carries on (S3 writes only what it adds)
PLACE = ("legal_country_iso", "is_cross_border")


def model(dbt, session):
    dbt.config(materialized="dataset")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    countries = dbt.ref("world_countries").to_arrow_table()
    laws = s2_flows.amount_laws(ctx.policies["flows"], countries, dbt.ref("world_currencies").to_arrow_table())
    session.register("s2_entities", dbt.ref("s1_arrival_entities"))
    session.register("s2_merchants", dbt.ref("world_merchants"))
    session.register("s2_countries", countries)
    stage = Stage(session, "s2_flow_anchor_baseline")
    query = """
        -- a site charges in its country's currency (a chain's shops abroad price locally); a
        -- virtual merchant's web store charges in the merchant's own
        select
            e.*,
            if(e.is_virtual, m.currency_code, c.currency_code) as currency_code,
            if(e.is_virtual, m.currency_minor_units, c.currency_minor_units) as currency_minor_units,
            m.amount_group
        from s2_entities as e
        join s2_merchants as m using (merchant_id)
        join s2_countries as c on c.country_iso = e.legal_country_iso
    """
    with Buckets(session, "s2_flow_anchor_baseline", query,
                 *id_buckets(session, "s2_entities", "arrival_id", ctx.preset["chunk_rows"])) as b:
        for arr in b.tables("arrival_id"):
            stage.append(_flow_chunk(ctx.seed, arr, laws))
    return stage.files("s2_flow_anchor_baseline: there are no attached arrivals")


def _flow_chunk(seed, arr, laws):
    channel = vocab_index(arr, "channel", CHANNELS)
    law, currency = s2_flows.row_laws(laws, arr, channel)
    ts_us = column(arr, "ts_utc").astype("datetime64[us]").astype(np.int64)
    f = s2_flows.flows(seed, column(arr, "arrival_id"), ts_us, channel, law, currency, laws.params)

    take = pa.array(f["arrival_index"])
    lineage = {name: arr.column(name).take(take) for name in LINEAGE + PLACE}
    minor_units = column(arr, "currency_minor_units").astype(np.int64)[f["arrival_index"]]
    flow_type = pa.array([FLOW_TYPES.get(c, "CARD_PURCHASE") for c in CHANNELS], pa.string())
    return pa.table({
        "flow_id": f["flow_id"],
        **{k: v for k, v in lineage.items() if k == "arrival_id"},
        "flow_index": f["flow_index"],
        "retry_of_flow_id": pa.array(f["flow_id"] - 1, mask=f["flow_index"] == 0),
        **{k: v for k, v in lineage.items() if k not in ("arrival_id",) + PLACE},
        "flow_type": flow_type.take(pa.array(channel[f["arrival_index"]])),
        "ts_utc": ts_array(f["ts_request"]),
        **outcome_columns(f["amount_minor"], minor_units, f["step_up"], f["declined"], f["reason"],
                          f["ts_challenge"], f["ts_complete"], f["ts_response"], f["ts_clearing"],
                          f["clearing_minor"], f["ts_reversal"], f["ts_refund"], f["refund_minor"],
                          f["ts_request"]),
        **{k: lineage[k] for k in PLACE},
        "amount_usd": f["amount_minor"] / laws.params.unit_minor[currency[f["arrival_index"]]],
    })
