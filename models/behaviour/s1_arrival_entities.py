"""6B S1: one row per arrival with its channel, the party, account, instrument, device and IP
that made it, and its session.

Session-first: arrivals are attached in time order per scenario; an arrival may continue a
session still open in its country (same party, device and IP), otherwise a party is drawn
from the home-country pool of its channel (or, less often, the foreign pool). A payment in
person takes a party living near the site, or a traveller on a trip there, who could have got
there since its last payment in person (s1_attach). Sessions close
after the policy's inactivity gap or caps. The walk reads arrivals in time windows of at most
`chunk_rows` rows and carries its state across windows, so chunking does not change the data.
"""
import numpy as np
import pyarrow as pa

from python_kernels.behaviour import s1_attach
from python_kernels.behaviour.s1_candidates import attachment_params, attachment_tables
from python_kernels.core import rng
from python_kernels.core.arrow import codes, column
from python_kernels.core.policies import horizon_us, policy_lookup
from python_kernels.core.vocabulary import ATTACH_RULES, CHANNELS
from python_kernels.dbt_io import Stage, key_windows, run_context

US_PER_DAY = 86_400_000_000


def model(dbt, session):
    dbt.config(materialized="dataset")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    policy = ctx.policies["attachment"]
    countries = sorted(dbt.ref("world_countries").to_arrow_table().column("country_iso").to_pylist())
    tables = attachment_tables(
        ctx.seed, countries,
        parties=dbt.ref("s1_party_base_6A").to_arrow_table(),
        segments=dbt.ref("graph_party_segments").to_arrow_table(),
        accounts=dbt.ref("s2_account_base_6A").to_arrow_table(),
        instruments=dbt.ref("s3_instrument_base_6A").to_arrow_table(),
        devices=dbt.ref("s4_device_base_6A").to_arrow_table(),
        device_links=dbt.ref("s4_device_links_6A").to_arrow_table(),
        ip_links=dbt.ref("s4_ip_links_6A").to_arrow_table(),
        ips=dbt.ref("s4_ip_base_6A").to_arrow_table(),
        sites=dbt.ref("world_sites").to_arrow_table(),
        horizon_us=horizon_us(ctx.preset),
        policy=policy,
    )
    params = attachment_params(policy)
    sectors = policy["channels"]["p_bank_rail_by_sector"]

    session.register("s1_arrivals", dbt.ref("s4_arrival_events"))
    session.register("s1_merchants", dbt.ref("world_merchants"))
    session.register("s1_mccs", dbt.ref("world_mccs"))
    days = session.execute("""
        select scenario_id, epoch_us(date_trunc('day', ts_utc)) as day_us, count(*) as n
        from s1_arrivals group by all order by scenario_id, day_us
    """).fetchall()

    stage = Stage(session, "s1_arrival_entities")
    for scenario in sorted({d[0] for d in days}):
        attacher = s1_attach.Attacher(ctx.seed, tables, params)
        windows = key_windows([(d[1], d[2]) for d in days if d[0] == scenario], ctx.preset["chunk_rows"], US_PER_DAY)
        for lo_us, hi_us in windows:
            # a relation keeps ORDER BY in its Arrow batches; execute() results may hand them
            # out of order when preserve_insertion_order is off (profiles.yml)
            arr = session.sql("""
                select a.arrival_id, a.scenario_id, a.merchant_id, a.arrival_seq, a.ts_utc, a.channel_group,
                       a.is_virtual, a.site_id, a.edge_id, a.legal_country_iso, c.mcc_sector, c.is_atm
                from s1_arrivals as a
                join s1_merchants as m using (merchant_id)
                join s1_mccs as c using (mcc)
                where a.scenario_id = $1 and a.ts_utc >= make_timestamp($2::bigint) and a.ts_utc < make_timestamp($3::bigint)
                order by a.ts_utc, a.arrival_id
            """, params=[scenario, int(lo_us), int(hi_us)]).to_arrow_table()
            stage.append(_attach_chunk(ctx.seed, arr, attacher, tables, countries, sectors))
    return stage.files("s1_arrival_entities: there are no arrivals to attach")


def _attach_chunk(seed, arr, attacher, tables, countries, sectors):
    arrival_id = column(arr, "arrival_id").astype(np.int64)
    ts_us = column(arr, "ts_utc").astype("datetime64[us]").astype(np.int64)
    cg_code, cg_labels = codes(arr, "channel_group")
    sec_code, sec_labels = codes(arr, "mcc_sector")
    is_virtual = column(arr, "is_virtual").astype(bool)
    is_atm = column(arr, "is_atm").astype(bool)
    present = (np.array([x == "card_present" for x in cg_labels]) if cg_labels else np.zeros(0, bool))[cg_code]
    mixed = (np.array([x == "mixed" for x in cg_labels]) if cg_labels else np.zeros(0, bool))[cg_code]
    p_rail = policy_lookup(sectors, sec_labels, "channels.p_bank_rail_by_sector")[sec_code]
    u_rail = rng.uniforms(rng.stream_keys(seed, "6B.s1.channel", arrival_id), 0)
    ch = CHANNELS
    channel = np.where(is_virtual | ~(present | mixed),
                       np.where(u_rail < p_rail, ch.index("BANK_RAIL"), ch.index("ECOM")),
                       np.where(mixed, ch.index("HYBRID"), np.where(is_atm, ch.index("ATM"), ch.index("POS"))))
    c_code, c_labels = codes(arr, "legal_country_iso")
    country = np.array([countries.index(c) for c in c_labels], np.int64)[c_code] if c_labels else c_code
    site_col = arr.column("site_id").combine_chunks()
    site_ids = np.asarray(site_col.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    site, loc = _position(tables["site_ids"], site_ids), _position(tables["loc_site_ids"], site_ids)

    out = attacher.feed(arrival_id, ts_us, country, channel, site, loc)
    ins = out["instrument"]
    party_country = tables["party_country"][out["party"]]
    return pa.table({
        "arrival_id": arrival_id,
        "scenario_id": arr.column("scenario_id"),
        "merchant_id": arr.column("merchant_id"),
        "arrival_seq": arr.column("arrival_seq"),
        "ts_utc": arr.column("ts_utc"),
        "channel": pa.array(ch, pa.string()).take(pa.array(channel)),
        "channel_group": arr.column("channel_group"),
        "is_virtual": arr.column("is_virtual"),
        "site_id": arr.column("site_id"),
        "edge_id": arr.column("edge_id"),
        "legal_country_iso": arr.column("legal_country_iso"),
        "party_id": tables["party_id"][out["party"]],
        "account_id": tables["inst_account"][ins],
        "instrument_id": tables["inst_id"][ins],
        "device_id": tables["device_id"][out["device"]],
        "ip_id": tables["ip_id"][out["ip"]],
        "session_id": out["session_id"],
        "attach_rule": pa.array(ATTACH_RULES, pa.string()).take(pa.array(out["rule"])),
        "is_session_start": out["session_start"],
        "party_country_iso": pa.array(countries, pa.string()).take(pa.array(party_country)),
        "is_cross_border": party_country != country,
    })


def _position(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Index of each id in sorted_ids, -1 where it is absent (or the id is -1: no site)."""
    pos = np.searchsorted(sorted_ids, ids)
    known = (pos < sorted_ids.size) & (ids >= 0)
    known[known] = sorted_ids[pos[known]] == ids[known]
    return np.where(known, pos, -1)
