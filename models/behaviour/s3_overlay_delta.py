"""6B S3: one row per flow a campaign took (about 5% of the baseline's): the campaign
instance, the flow as that campaign left it (amount, device, IP, step-up, declines, refund) and
which tactics changed it. The overlay reads every baseline flow, as campaigns pick flows by
merchant, cohort and window, but writes only these: s3_flow_anchor_with_fraud is the baseline
with these rows laid over it. Chunked by arrival-id windows like S2; every draw is keyed per
(instance, flow) or (instance, cohort entity), so chunking does not change the result.
"""
import numpy as np
import pyarrow as pa

from python_kernels.behaviour import s2_flows, s3_campaigns, s3_overlay
from python_kernels.behaviour.flow_columns import int_values, outcome_columns, reason_codes, ts_values
from python_kernels.behaviour.s3_campaigns import campaign_merchants, country_codes, local_proxies
from python_kernels.core.arrow import column, vocab_index
from python_kernels.core.vocabulary import CHANNELS
from python_kernels.dbt_io import Stage, arrival_windows, run_context


def model(dbt, session):
    dbt.config(materialized="dataset")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    timing = {k: [v["median_seconds"], v["sigma"], v["min_seconds"], v["max_seconds"]]
              for k, v in ctx.policies["flows"]["timing"].items()}
    session.register("s3_flows", dbt.ref("s2_flow_anchor_baseline"))
    session.register("s3_plan", dbt.ref("int_s3_campaign_plan"))
    session.register("s3_classes", dbt.ref("merchant_class_profile_5A"))
    session.register("s3_roles", dbt.ref("s5_merchant_fraud_roles_6A"))
    session.register("s3_countries", dbt.ref("world_countries"))
    session.register("s3_merchants", dbt.ref("world_merchants"))
    session.register("s3_parties", dbt.ref("s1_party_base_6A"))
    session.register("s3_ips", dbt.ref("s4_ip_base_6A"))
    laws = s2_flows.amount_laws(ctx.policies["flows"], dbt.ref("world_countries").to_arrow_table(),
                                dbt.ref("world_currencies").to_arrow_table())
    m = campaign_merchants(session, "s3_classes", "s3_roles")
    countries = country_codes(session, "s3_countries")
    plan = session.sql("""
        select *, epoch_us(window_start_utc) as window_start_us, epoch_us(window_end_utc) as window_end_us
        from s3_plan order by campaign_id
    """).to_arrow_table().to_pylist()
    scenarios = sorted({p["scenario_id"] for p in plan})
    arrays = s3_campaigns.campaign_arrays(ctx.seed, plan, scenarios, m, countries, CHANNELS,
                                          ctx.policies["campaigns"]["auth_screen"]["p_decline"],
                                          local_proxies(session, "s3_ips"))
    lookup = {"merchants": m["id"], "countries": countries, "scenarios": scenarios,
              "campaign_id": np.array([p["campaign_id"] for p in plan], np.int64),
              "campaign_type": pa.array([p["campaign_type"] for p in plan], pa.string())}

    stage, delta = Stage(session, "s3_overlay_delta"), None
    for lo, hi in arrival_windows(session, "s3_flows", ctx.preset["chunk_rows"]):
        arr = session.sql("""
            select f.*, p.country_iso as home_country_iso, m.amount_group
            from s3_flows as f
            join s3_parties as p on p.party_id = f.party_id
            join s3_merchants as m on m.merchant_id = f.merchant_id
            where f.arrival_id >= $1::bigint and f.arrival_id < $2::bigint
            order by f.flow_id
        """, params=[lo, hi]).to_arrow_table()
        delta = _overlay_chunk(arr, arrays, laws, lookup, timing)
        if delta.num_rows:  # a window no campaign touched adds no file
            stage.append(delta)
    if delta is None:
        raise ValueError("s3_overlay_delta: there are no baseline flows")
    return stage if stage.chunks else delta  # no campaign took any flow: an empty dataset


def _overlay_chunk(arr, arrays, laws, lookup, timing):
    channel = vocab_index(arr, "channel", CHANNELS)
    law, currency = s2_flows.row_laws(laws, arr, channel)
    flows = {
        "scenario": vocab_index(arr, "scenario_id", lookup["scenarios"]),
        "flow_id": column(arr, "flow_id"), "ts": ts_values(arr, "ts_utc"),
        "channel": channel,
        "merchant": np.searchsorted(lookup["merchants"], column(arr, "merchant_id")),
        "country": vocab_index(arr, "legal_country_iso", lookup["countries"]),
        "home": vocab_index(arr, "home_country_iso", lookup["countries"]),
        "cross": column(arr, "is_cross_border"),
        "account": column(arr, "account_id"), "instrument": column(arr, "instrument_id"),
        "party": column(arr, "party_id"), "law": law, "currency": currency,
        "amount": column(arr, "amount_minor"), "clearing": int_values(arr, "clearing_amount_minor"),
        "refund_amt": int_values(arr, "refund_amount_minor"), "device": column(arr, "device_id"),
        "ip": column(arr, "ip_id"), "step_up": column(arr, "has_step_up"),
        "declined": column(arr, "auth_outcome") == "DECLINED", "reason": reason_codes(arr),
        "t_challenge": ts_values(arr, "ts_step_up_challenge"), "t_complete": ts_values(arr, "ts_step_up_complete"),
        "t_response": ts_values(arr, "ts_auth_response"), "t_clearing": ts_values(arr, "ts_clearing"),
        "t_reversal": ts_values(arr, "ts_reversal"), "t_refund": ts_values(arr, "ts_refund"),
    }
    o = s3_overlay.overlay(flows, arrays, laws.params, timing)
    taken = np.flatnonzero(o["campaign"] >= 0)
    o = {k: v[taken] for k, v in o.items()}
    columns = outcome_columns(o["amount"], column(arr, "currency_minor_units").astype(np.int64)[taken], o["step_up"],
                              o["declined"], o["reason"], o["t_challenge"], o["t_complete"], o["t_response"],
                              o["t_clearing"], o["clearing"], o["t_reversal"], o["t_refund"], o["refund_amt"],
                              flows["ts"][taken])
    return pa.table({
        "flow_id": flows["flow_id"][taken],
        **columns,
        "device_id": o["device"],
        "ip_id": o["ip"],
        "campaign_id": lookup["campaign_id"][o["campaign"]],
        "campaign_type": lookup["campaign_type"].take(pa.array(o["campaign"])),
        "amount_usd": o["amount"] / laws.params.unit_minor[currency[taken]],
        **{name: o["flags"][:, j] for j, name in enumerate(s3_overlay.TACTIC_FLAGS)},
        "scenario_id": arr.column("scenario_id").take(pa.array(taken)),
    })
