"""6B S3: one row per campaign instance realised from policies/campaigns.yaml (s3_campaigns.plan_campaigns):
window, targets, intensity and tactic parameters. Merchant cohorts and focus countries are
drawn in proportion to the baseline traffic on the template's channels (fraudsters go where
the traffic is); device and IP pools come from the world's high-risk and anonymising pools.
"""
import numpy as np
import pyarrow as pa

from python_kernels.behaviour import s3_campaigns
from python_kernels.behaviour.s3_campaigns import campaign_merchants, country_codes
from python_kernels.dbt_io import run_context


def model(dbt, session):
    dbt.config(materialized="table")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    session.register("p_grid", dbt.ref("s1_time_grid"))
    session.register("p_flows", dbt.ref("s2_flow_anchor_baseline"))
    session.register("p_entities", dbt.ref("s1_arrival_entities"))
    session.register("p_classes", dbt.ref("merchant_class_profile_5A"))
    session.register("p_roles", dbt.ref("s5_merchant_fraud_roles_6A"))
    session.register("p_countries", dbt.ref("world_countries"))
    session.register("p_device_roles", dbt.ref("s5_device_fraud_roles_6A"))
    session.register("p_ip_roles", dbt.ref("s5_ip_fraud_roles_6A"))
    session.register("p_ips", dbt.ref("s4_ip_base_6A"))
    scenarios = session.sql("""
        select scenario_id, epoch_us(min(bucket_start_utc)), epoch_us(max(bucket_end_utc))
        from p_grid group by scenario_id order by scenario_id
    """).fetchall()
    merchants = campaign_merchants(session, "p_classes", "p_roles")
    ids = merchants["id"]
    codes = country_codes(session, "p_countries")
    volume_m, volume_c = {}, {}
    for scenario, channel, merchant_id, country, n in session.sql("""
        select f.scenario_id, f.channel, f.merchant_id, e.legal_country_iso, count(*)
        from p_flows as f join p_entities as e using (arrival_id)
        group by all order by all
    """).fetchall():
        vm = volume_m.setdefault((scenario, channel), np.zeros(ids.size))
        vm[np.searchsorted(ids, merchant_id)] += n
        vc = volume_c.setdefault((scenario, channel), np.zeros(len(codes)))
        vc[codes.index(country)] += n
    pools = {
        "HIGH_RISK_DEVICE": _ids(session, "select device_id from p_device_roles where fraud_role_device = 'HIGH_RISK_DEVICE'"),
        "HIGH_RISK_IP": _ids(session, "select ip_id from p_ip_roles where fraud_role_ip = 'HIGH_RISK_IP'"),
        "ANONYMIZER": _ids(session, "select ip_id from p_ips where ip_type in ('VPN_PROXY', 'DATACENTRE')"),
    }
    plan = s3_campaigns.plan_campaigns(
        ctx.seed, ctx.policies["campaigns"]["templates"], scenarios,
        {**merchants, "volume": volume_m},
        {"codes": codes, "volume": volume_c}, pools)
    if not plan:
        raise ValueError("int_s3_campaign_plan: the fraud policy realises no campaign instance")
    table = pa.Table.from_pylist(plan)
    for name in ("window_start", "window_end"):
        i = table.schema.get_field_index(name + "_us")
        table = table.set_column(i, name + "_utc", table.column(i).cast(pa.timestamp("us")))
    return table


def _ids(session, sql):
    return np.array([r[0] for r in session.sql(sql + " order by 1").fetchall()], np.int64)
