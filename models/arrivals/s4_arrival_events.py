"""5B S4: one row per arrival — µs placement in its bucket, routing inside the counted zone
(or to a virtual edge), local time from the transition table, chronological arrival_seq.

Work is chunked by whole (scenario, merchant) groups of at most `chunk_rows` arrivals, so
memory is bounded and arrival_seq never spans chunks; each chunk is appended to a staging
table on the model's own connection, which dbt then materialises.
"""
import numpy as np
import pyarrow as pa

from python_kernels.arrivals import s4_arrivals
from python_kernels.arrivals.s4_arrivals import load_routing, load_tz_table
from python_kernels.core import rng
from python_kernels.core.arrow import codes, column
from python_kernels.core.ids import event_id_bits, opaque_event_ids
from python_kernels.core.vocabulary import US_PER_HOUR
from python_kernels.dbt_io import Stage, run_context

# arrival_id: a keyed permutation of the arrival's dense index in (scenario, merchant, arrival_seq)
# order, on the fewest bits that hold them all: its value says nothing of the merchant or the
# order it was drawn in, and stays below 4x the arrival count (compact in Parquet)
ARRIVAL_ID_DOMAIN = "5B.ids.arrival"


def model(dbt, session):
    dbt.config(materialized="dataset")
    ctx = run_context(dbt.config.get("seed"), dbt.config.get("preset"), dbt.config.get("policy_dir"))
    p_hybrid = ctx.policies["arrivals"]["routing"]["p_virtual_hybrid"]
    tz = load_tz_table(dbt.ref("world_tz_transitions").to_arrow_table())
    routing = load_routing(
        sites=dbt.ref("world_site_weights").to_arrow_table(),
        edges=dbt.ref("world_edges").to_arrow_table(),
        modes=dbt.ref("world_virtual_classification").to_arrow_table(),
        settlement=dbt.ref("world_virtual_settlement").to_arrow_table(),
        merchants=dbt.ref("world_merchants").to_arrow_table(),
        tz_index=tz["index"],
    )
    scenarios = dbt.ref("scenario_manifest_5A").to_arrow_table().sort_by("scenario_id")
    scenario_ids = scenarios.column("scenario_id").to_pylist()
    start_us = dict(zip(scenario_ids, scenarios.column("horizon_start_utc").cast(pa.int64()).to_pylist()))

    counts = dbt.ref("s3_bucket_counts").filter("count_n > 0").to_arrow_table().sort_by(
        [("scenario_id", "ascending"), ("merchant_id", "ascending"), ("bucket_index", "ascending"),
         ("series_key", "ascending")])
    scen_code, scen_labels = codes(counts, "scenario_id")
    scen_ord = np.array([scenario_ids.index(s) for s in scen_labels])[scen_code]
    merchant = column(counts, "merchant_id").astype(np.int64)
    m_ord = np.searchsorted(routing["merchant_ids"], merchant)
    tz_code, tz_labels = codes(counts, "tzid")
    series_tz = tz["index_of"](tz_labels)[tz_code]
    bucket = column(counts, "bucket_index").astype(np.int64)
    n = column(counts, "count_n").astype(np.int64)
    bucket_start = np.array([start_us[s] for s in scen_labels])[scen_code] + bucket * US_PER_HOUR
    streams = rng.stream_keys(ctx.seed, "s4_arrival_events.arrival",
                              rng.combine_keys(column(counts, "series_key"), bucket))
    # one "series" per count row: routing depends only on (merchant, tzid)
    site_lo, site_n = routing["site_slice"](m_ord, series_tz)
    series = {"mode": routing["mode"][m_ord], "site_lo": site_lo, "site_n": site_n, "merchant": m_ord}

    # (scenario, merchant) groups, packed into chunks of bounded arrival count
    group_start = np.flatnonzero(np.r_[True, (scen_ord[1:] != scen_ord[:-1]) | (merchant[1:] != merchant[:-1])])
    group_rows = np.r_[group_start, n.size]
    group_arrivals = np.add.reduceat(n, group_start) if n.size else np.zeros(0, np.int64)
    # each arrival's dense index: its group's offset among all arrivals + its arrival_seq - 1
    group_offset = np.cumsum(group_arrivals) - group_arrivals
    id_bits = event_id_bits(int(group_arrivals.sum()))
    chunk_rows = ctx.preset["chunk_rows"]
    stage = Stage(session, "s4_arrival_events")
    g = 0
    while g < group_start.size:
        g_end, total = g, 0
        while g_end < group_start.size and (g_end == g or total + group_arrivals[g_end] <= chunk_rows):
            total += group_arrivals[g_end]
            g_end += 1
        lo, hi = group_rows[g], group_rows[g_end]
        rows = {"stream": streams[lo:hi], "series": np.arange(hi - lo), "bucket_start_us": bucket_start[lo:hi],
                "count": n[lo:hi]}
        part = {k: v[lo:hi] for k, v in series.items()}
        out = s4_arrivals.expand_arrivals(rows, part, routing["alias"], tz, p_hybrid)
        src = out["row"] + lo
        # arrival order inside a (scenario, merchant) group: time, then expansion order
        grp_ptr = np.searchsorted(src, group_rows[g:g_end + 1] , side="left")
        seq = s4_arrivals.chronological_sequence(grp_ptr, out["ts_utc_us"], np.arange(src.size))
        chunk = pa.table({
            "arrival_id": opaque_event_ids(ctx.seed, ARRIVAL_ID_DOMAIN,
                                           group_offset[np.searchsorted(group_start, src, side="right") - 1]
                                           + seq - 1, id_bits),
            "scenario_id": pa.array(scen_labels, pa.string()).take(pa.array(scen_code[src])),
            "merchant_id": merchant[src],
            "arrival_seq": seq,
            "bucket_index": bucket[src],
            "ts_utc": pa.array(out["ts_utc_us"]).cast(pa.timestamp("us")),
            "tzid_primary": pa.array(tz["names"], pa.string()).take(pa.array(out["tz"])),
            "ts_local_primary": pa.array(out["ts_local_us"]).cast(pa.timestamp("us")),
            "utc_offset_minutes": out["offset_min"],
            "zone_tzid": pa.array(tz_labels, pa.string()).take(pa.array(tz_code[src])),
            "channel_group": counts.column("channel_group").take(pa.array(src)),
            "legal_country_iso": routing["country_of"](out["route_index"], out["is_virtual"], m_ord[src]),
            "is_virtual": out["is_virtual"],
            "site_id": pa.array(np.where(out["is_virtual"], 0, out["route_index"]), mask=out["is_virtual"]),
            "edge_id": pa.array(np.where(out["is_virtual"], out["route_index"], 0), mask=~out["is_virtual"]),
        })
        stage.append(chunk)
        g = g_end
    return stage.files("s4_arrival_events: the counts produced no arrival at all")
