"""6B S4: one row per flow of s3_flow_anchor_with_fraud: what a bank knows at the flow's auth
request from the past alone (s4_auth_windows). Every window ends strictly before the request
(peers at the same microsecond are not past) and reads only flows, never labels. Velocity counts
attempts, declined ones too; "new" means not seen in the party's flows since the horizon start.
Device and IP features describe the customer's own device and connection: a payment through the
merchant's terminal has none (null), the bank sees the terminal, not the customer's network.

The flows are joined to what the features need in one pass and scattered into party buckets of
about chunk_rows flows; each bucket is sorted into party histories and goes through the kernel
once, and its rows are written as they come. A party's features read only its own flows, so the
bucket count does not change them.
"""
import math

import numpy as np
import pyarrow as pa

from python_kernels.behaviour.flow_columns import ts_values
from python_kernels.behaviour.s4_auth_windows import NO_ID, SPAN_NAMES, AuthFlows, auth_windows
from python_kernels.core.arrow import codes, column
from python_kernels.dbt_io import Buckets, Stage, run_context

INPUTS = """
    select
        f.flow_id,
        f.scenario_id,
        f.ts_utc,
        f.channel,
        m.mcc,
        hour(a.ts_local_primary) as local_hour,
        f.amount_usd,
        f.channel in ('POS', 'ATM', 'HYBRID') and e.site_id is not null as card_present,
        f.is_cross_border,
        -- through a merchant's terminal the bank sees the terminal, not the customer's network
        case when d.site_id is null then i.country_iso end as ip_country_iso,
        case when d.site_id is null then i.country_iso <> p.country_iso end as ip_country_differs_from_home,
        f.party_id,
        f.instrument_id,
        f.device_id,
        f.ip_id,
        f.merchant_id,
        f.device_id is not null and d.site_id is null as own_device,
        f.ip_id is not null and d.site_id is null as own_ip,
        -- nano-log units: an exact integer sum, so the mean does not depend on summation order
        round(ln(f.amount_usd) * 1e9)::bigint as log_amount,
        s.lat_deg,
        s.lon_deg
    from s4_flows as f
    join s4_entities as e using (arrival_id)
    join s4_arrivals as a on a.arrival_id = f.arrival_id
    join s4_merchants as m on m.merchant_id = f.merchant_id
    join s4_parties as p on p.party_id = f.party_id
    left join s4_sites as s on s.site_id = e.site_id
    left join s4_devices as d on d.device_id = f.device_id
    left join s4_ips as i on i.ip_id = f.ip_id
"""
PASSED = ("flow_id", "ts_utc", "channel", "mcc", "local_hour", "amount_usd", "card_present", "is_cross_border")


def model(dbt, session):
    dbt.config(materialized="dataset")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    session.register("s4_flows", dbt.ref("s3_flow_anchor_with_fraud"))
    session.register("s4_entities", dbt.ref("s1_arrival_entities"))
    session.register("s4_arrivals", dbt.ref("s4_arrival_events"))
    session.register("s4_merchants", dbt.ref("world_merchants"))
    session.register("s4_parties", dbt.ref("s1_party_base_6A"))
    session.register("s4_sites", dbt.ref("world_sites"))
    session.register("s4_devices", dbt.ref("s4_device_base_6A"))
    session.register("s4_ips", dbt.ref("s4_ip_base_6A"))
    flows = session.execute("select count(*) from s4_flows").fetchall()[0][0]
    stage = Stage(session, "s4_auth_features")
    count = max(1, math.ceil(flows / ctx.preset["chunk_rows"]))
    with Buckets(session, "s4_auth_features", INPUTS, f"party_id % {count}", count) as b:
        for arr in b.tables("scenario_id, party_id, ts_utc, flow_id"):
            stage.append(_features(arr))
    return stage.files("s4_auth_features: there are no flows")


def _ids(arr, name):
    return np.ascontiguousarray(arr.column(name).fill_null(NO_ID).to_numpy())


def _features(arr: pa.Table) -> pa.Table:
    card_present = column(arr, "card_present")
    w = auth_windows(AuthFlows(
        scenario=codes(arr, "scenario_id")[0], party=column(arr, "party_id"), instrument=column(arr, "instrument_id"),
        device=_ids(arr, "device_id"), ip=_ids(arr, "ip_id"), merchant=column(arr, "merchant_id"),
        ts=ts_values(arr, "ts_utc"), amount=column(arr, "amount_usd"), log_amount=column(arr, "log_amount"), card_present=card_present,
        lat=arr.column("lat_deg").fill_null(np.nan).to_numpy(), lon=arr.column("lon_deg").fill_null(np.nan).to_numpy()))
    with np.errstate(divide="ignore", invalid="ignore"):
        kmh = w.km / (w.us_since / 3.6e9)
    no_trip = np.isnan(w.km)
    return pa.table({
        **{name: arr.column(name) for name in PASSED},
        **{f"party_flows_{s}": w.party_counts[i] for i, s in enumerate(SPAN_NAMES)},
        **{f"card_flows_{s}": w.card_counts[i] for i, s in enumerate(SPAN_NAMES)},
        "party_prior_flows": w.prior,
        "amount_vs_party_history": pa.array(w.vs_history, mask=w.prior == 0),
        "is_new_device": pa.array(~w.seen[0], mask=~column(arr, "own_device")),
        "is_new_ip": pa.array(~w.seen[1], mask=~column(arr, "own_ip")),
        "is_new_merchant": ~w.seen[2],
        "km_from_prev_card_present": pa.array(w.km, mask=no_trip),
        "kmh_from_prev_card_present": pa.array(kmh, mask=no_trip),
        "ip_country_iso": arr.column("ip_country_iso"),
        "ip_country_differs_from_home": arr.column("ip_country_differs_from_home"),
        "scenario_id": arr.column("scenario_id"),
    })
