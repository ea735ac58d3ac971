"""`runner.py report`: one self-contained HTML page per run (inline SVG, no scripts, no network).

Queries read the run's published Parquet, never the work database, so a report shows exactly
what readers get. Each plot states the question it answers.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from python_kernels.core.geodesy import haversine_km
from python_kernels.gates import scorers
from python_kernels.run import report_plots as plots
from python_kernels.run.runs import CATALOG_FILE, RECEIPT_FILE

# Zones whose clocks change inside the presets' horizons (the tiny and small presets both cover
# these March 2026 changes); the report shows those present in the run.
DST_ZONES = (("America/New_York", "2026-03-08"), ("Asia/Jerusalem", "2026-03-27"),
             ("Europe/Berlin", "2026-03-29"), ("Europe/London", "2026-03-29"))
# A zone's clock-change panel needs this many arrivals per local hour on average over the change
# day (23 hours): below it Poisson noise (1/sqrt(50) = 14 % of an hour's count and more in the
# night hours) hides the daily shape and the skipped hour the panel is there to show.
DST_MIN_PER_HOUR = 50


class ReportError(Exception):
    pass


def _esc(x) -> str:
    return html.escape(str(x), quote=True)


def _arrivals(run_dir: Path) -> str:
    return f"read_parquet('{run_dir}/data/layer2/5B/arrival_events_5B/*/*.parquet', hive_partitioning = true)"


def dst_section(con, run_dir: Path) -> list[str]:
    """Arrivals per local clock hour on each DST-change day vs the same weekday one week before,
    for the zones with enough arrivals to show the shape (DST_MIN_PER_HOUR)."""
    out, thin = [], []
    for tzid, day in DST_ZONES:
        rows = con.execute(f"""
            select cast(ts_local_primary as date) = date '{day}' as on_change, hour(ts_local_primary) as h, count(*)
            from {_arrivals(run_dir)}
            where scenario_id = (select min(scenario_id) from {_arrivals(run_dir)})
              and tzid_primary = '{tzid}'
              and cast(ts_local_primary as date) in (date '{day}', date '{day}' - 7)
            group by all order by all""").fetchall()
        if not rows:
            continue
        change = f"{day} (clock change)"
        series = {change: [0.0] * 24, "one week before": [0.0] * 24}
        for on_change, hour, n in rows:
            series[change if on_change else "one week before"][hour] = float(n)
        per_hour = sum(series[change]) / 23
        if per_hour < DST_MIN_PER_HOUR:
            thin.append(f"{tzid} ({per_hour:.0f})")
            continue
        out.append(plots.bars(f"dst-{tzid.replace('/', '-').lower()}",
                              f"{tzid}: arrivals per local hour on {day}, the clock-change day, and a week before",
                              [str(i) for i in range(24)], series, "local hour of day (hour starting)",
                              "arrivals per hour"))
    if thin:
        reason = (f"fewer than {DST_MIN_PER_HOUR} arrivals per local hour on the change day, too few to show "
                  f"its shape; arrivals per hour: {', '.join(thin)}")
        out.append(f"<p class='note'>{'No zone is drawn' if not out else 'Not drawn'}: {_esc(reason)}.</p>")
    return out


def weekly_shape_section(con, run_dir: Path) -> list[str]:
    """Share of each demand class's arrivals per local hour of the week (Monday 00 first)."""
    rows = con.execute(f"""
        with a as (
            select m.primary_demand_class as cls,
                   (isodow(ts_local_primary) - 1) * 24 + hour(ts_local_primary) as how
            from {_arrivals(run_dir)} as e
            inner join read_parquet('{run_dir}/data/world/merchant_class_profile_5A/*.parquet') as m using (merchant_id)
        )
        select cls, how, count(*) / sum(count(*)) over (partition by cls) as share
        from a group by cls, how order by cls, how""").fetchall()
    series: dict[str, list[float]] = {}
    for cls, how, share in rows:
        series.setdefault(cls, [0.0] * 168)[how] = float(share)
    days = {24 * i: f"{d} 00:00" for i, d in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))}
    return [plots.lines("weekly-shape", "Weekly shape by demand class: share of each class's arrivals per "
                        "local hour of the week", list(range(168)), series, "local hour of week (hour starting)",
                        "share of class arrivals", yfmt="{x:.1%}", ticks=days, height=4.0)]


def _by_day(rows) -> tuple[list, dict[str, list[float]]]:
    """(days, {series: per-day values}) from (series, day, value) rows; missing days are 0."""
    days = sorted({r[1] for r in rows})
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[float]] = {}
    for name, d, n in rows:
        series.setdefault(name, [0.0] * len(days))[index[d]] = float(n)
    return days, series


def daily_section(con, run_dir: Path) -> list[str]:
    days, series = _by_day(con.execute(f"""
        select scenario_id, cast(ts_utc as date) as d, count(*) from {_arrivals(run_dir)}
        group by all order by all""").fetchall())
    return [plots.lines("daily", "Arrivals per UTC day by scenario (holidays, paydays, weekends, stress)",
                        days, series, "UTC day", "arrivals per day")]


def _behaviour(dataset: str) -> str:
    # through the run's catalog (attached as `run` by render): some behaviour datasets are views
    return f'run."{dataset}_6B"'


def _log_edges(lo: int, hi: int, per_decade: int) -> list[float]:
    return [10 ** (k / per_decade) for k in range(lo, hi + 1)]


def _histogram(con, sql: str, edges: list[float]) -> dict[str, list[float]]:
    """Share per bin [edges[i], edges[i+1]) of the non-negative `value` per `grp` from a query of
    (grp, value); the outer bins also hold the values below and above the edges."""
    cases = " ".join(f"when value < {e} then {i}" for i, e in enumerate(edges[1:-1]))
    rows = con.execute(f"""
        select grp, case {cases} else {len(edges) - 2} end as b, count(*) / sum(count(*)) over (partition by grp)
        from ({sql}) where value >= 0 group by grp, b order by grp, b""").fetchall()
    out: dict[str, list[float]] = {}
    for grp, b, share in rows:
        out.setdefault(grp, [0.0] * (len(edges) - 1))[b] = float(share)
    return out


OUTER_BINS = " (the outer bins also hold the values beyond them)"


def amount_section(con, run_dir: Path) -> list[str]:
    """Auth amounts per channel in US-dollar terms on log bins."""
    edges = _log_edges(-2, 16, 4)
    series = _histogram(con, f"""
        select f.channel as grp, f.amount / c.units_per_usd as value
        from {_behaviour('s2_flow_anchor_baseline')} as f
        join read_parquet('{run_dir}/data/world/world_currencies/*.parquet') as c using (currency_code)
        where f.flow_index = 0""", edges)
    groups = con.execute(f"""
        select m.amount_group, t.fraud_label, median(f.amount_usd)
        from {_behaviour('s3_flow_anchor_with_fraud')} as f
        join {_behaviour('s4_flow_truth_labels')} as t using (flow_id)
        join read_parquet('{run_dir}/data/world/world_merchants/*.parquet') as m using (merchant_id)
        where f.flow_index = 0 and f.channel not in ('ATM', 'BANK_RAIL')
        group by all order by all""").fetchall()
    names, medians = _shares(groups)
    return [plots.log_hist("amount", "Auth amount by channel in US-dollar terms: share of the channel's flows "
                           "per log bin" + OUTER_BINS, edges, series, "auth amount (USD equivalent, log scale)",
                           "share of flows"),
            plots.bars("amount-groups", "Purchases by what is bought: median auth amount of each MCC group's "
                       "first attempts in US-dollar terms, by truth label", names, medians,
                       "amount group (world_mccs.amount_group)", "median amount (USD, log scale)", yscale="log")]


def latency_section(con, run_dir: Path) -> list[str]:
    edges = _log_edges(-7, 12, 5)
    series = _histogram(con, f"""
        select channel as grp, auth_latency_seconds as value
        from {_behaviour('s2_flow_anchor_baseline')}""", edges)
    return [plots.log_hist("latency", "Auth latency by channel: share of the channel's flows per log bin"
                           + OUTER_BINS, edges, series, "auth latency (seconds, log scale)", "share of flows")]


def _shares(rows) -> tuple[list, dict[str, list[float]]]:
    """(bar labels, {series: values}) from (label, series, share) rows; absent pairs are 0."""
    labels = sorted({r[0] for r in rows})
    groups: dict[str, list[float]] = {}
    for label, name, share in rows:
        groups.setdefault(name, [0.0] * len(labels))[labels.index(label)] = float(share)
    return labels, groups


def flow_section(con, run_dir: Path) -> list[str]:
    channels, groups = _shares(con.execute(f"""
        select channel, flow_status, count(*) / sum(count(*)) over (partition by channel)
        from {_behaviour('s2_flow_anchor_baseline')}
        group by channel, flow_status order by channel, flow_status""").fetchall())
    sessions = con.execute(f"""
        select least(arrival_count, 10) as n, count(*) from {_behaviour('s1_session_index')}
        group by all order by all""").fetchall()
    return [plots.shares("flow-outcome", "Flow outcome by channel: share of the channel's flows", channels,
                         groups, "share of the channel's flows"),
            plots.bars("sessions", "Arrivals per session (10 = 10 or more)", [str(n) for n, _ in sessions],
                       {"sessions": [float(c) for _, c in sessions]}, "arrivals in the session", "sessions")]


# in-person flows the distance-from-home panel reads at most (a keyed id is an even sample)
MAX_DISTANCE_FLOWS = 2_000_000


def mobility_section(con, run_dir: Path) -> list[str]:
    """Where people pay in person: km from home by truth label; travellers' trips abroad."""
    world = lambda name: f"read_parquet('{run_dir}/data/world/{name}/*.parquet')"  # noqa: E731
    con.execute(f"""
        create or replace temp view report_in_person as
        select t.fraud_label, p.home_lat_deg, p.home_lon_deg, s.lat_deg, s.lon_deg, p.country_iso <> e.legal_country_iso
                   as abroad, f.party_id, e.legal_country_iso, f.ts_utc, f.arrival_id
        from {_behaviour('s3_flow_anchor_with_fraud')} as f
        join {_behaviour('s1_arrival_entities')} as e using (arrival_id)
        join {_behaviour('s4_flow_truth_labels')} as t using (flow_id)
        join {world('world_sites')} as s on s.site_id = e.site_id
        join {world('s1_party_base_6A')} as p on p.party_id = f.party_id
        where f.flow_index = 0 and f.channel in ('POS', 'ATM', 'HYBRID')""")
    n = con.execute("select count(*) from report_in_person").fetchone()[0]
    if not n:
        return []
    step = max(1, -(-n // MAX_DISTANCE_FLOWS))
    t = con.execute(f"""select fraud_label, home_lat_deg, home_lon_deg, lat_deg, lon_deg from report_in_person
                        where arrival_id % {step} = 0""").fetchnumpy()
    km = haversine_km(t["home_lat_deg"], t["home_lon_deg"], t["lat_deg"], t["lon_deg"])
    edges = _log_edges(-1, 8, 4)
    con.register("report_km", pa.table({"grp": t["fraud_label"], "value": km}))
    series = _histogram(con, "select grp, value from report_km", edges)
    con.unregister("report_km")
    # a trip: a party's in-person payments in one foreign country, first to last
    trips = con.execute("""
        select least(ceil(epoch(max(ts_utc) - min(ts_utc)) / 86400)::int, 28) as days, count(*)
        from report_in_person where abroad and fraud_label = 'LEGIT' group by party_id, legal_country_iso
    """).fetchall()
    spans = {}
    for days, _ in trips:
        spans[days] = spans.get(days, 0) + 1
    labels = sorted(spans)
    return [plots.log_hist("home-distance", "Where people pay in person: km from the party's home to the site, "
                           "share of each truth label's in-person first attempts per log bin" + OUTER_BINS
                           + (f" (every {step}th flow by arrival id)" if step > 1 else ""), edges, series,
                           "km from home (log scale)", "share of flows"),
            plots.bars("trips", "Trips abroad: days from a traveller's first to last legit in-person payment in "
                       "one foreign country (28 = 28 or more; 0 = one day)", [str(d) for d in labels],
                       {"trips": [float(spans[d]) for d in labels]}, "days paying in person there", "trips")]


def fraud_section(con, run_dir: Path) -> list[str]:
    """Truth and bank-view fraud rates and case rates by merchant class; bank labels by truth subtype."""
    rows = con.execute(f"""
        select c.primary_demand_class, avg(t.is_fraud_truth::int), avg(b.is_fraud_bank_view::int),
               avg((b.case_id is not null)::int)
        from {_behaviour('s4_flow_truth_labels')} as t
        join {_behaviour('s4_flow_bank_view')} as b using (flow_id)
        join read_parquet('{run_dir}/data/world/merchant_class_profile_5A/*.parquet') as c using (merchant_id)
        group by 1 order by 1""").fetchall()
    classes = [r[0] for r in rows]
    rates = {"truth FRAUD/ABUSE": [float(r[1]) for r in rows], "bank-view fraud": [float(r[2]) for r in rows],
             "in a case": [float(r[3]) for r in rows]}
    subtypes, labels = _shares(con.execute(f"""
        select truth_subtype, bank_label, count(*) / sum(count(*)) over (partition by truth_subtype)
        from {_behaviour('s4_flow_bank_view')}
        group by truth_subtype, bank_label order by truth_subtype, bank_label""").fetchall())
    return [plots.bars("fraud-by-class", "Fraud by merchant class: truth, the bank's view and cases",
                       classes, rates, "merchant demand class", "share of the class's flows",
                       yfmt=plots.PERCENT),
            plots.shares("bank-label", "Bank label by truth subtype: share of the subtype's flows", subtypes,
                         labels, "share of the subtype's flows")]


def case_delay_section(con, run_dir: Path) -> list[str]:
    """Delays of the bank's process in days, on log bins: each stage after the one before it."""
    edges = _log_edges(-10, 9, 4)
    day = 86_400_000_000
    series = _histogram(con, f"""
        with b as (
            select b.*, f.ts_auth_response, f.ts_clearing
            from {_behaviour('s4_flow_bank_view')} as b
            join {_behaviour('s3_flow_anchor_with_fraud')} as f using (flow_id)
        )
        select 'detection after auth' as grp, (epoch_us(detection_utc) - epoch_us(ts_auth_response)) / {day} as value
        from b where detection_outcome = 'DETECTED_POST_AUTH'
        union all
        select 'dispute after clearing', (epoch_us(dispute_utc) - epoch_us(ts_clearing)) / {day} from b
        where dispute_utc is not null
        union all
        select 'chargeback after dispute', (epoch_us(chargeback_utc) - epoch_us(dispute_utc)) / {day} from b
        where chargeback_utc is not null
        union all
        select 'case open to close', (epoch_us(case_closed_utc) - epoch_us(case_opened_utc)) / {day}
        from (select distinct case_id, case_opened_utc, case_closed_utc from b where case_id is not null)""", edges)
    return [plots.log_hist("case-delays", "Case process delays: share of each stage's events per log bin"
                           + OUTER_BINS, edges, series, "delay (days, log scale)", "share of the stage's events")]


def scorer_section(con, run_dir: Path) -> list[str]:
    """ROC curve of the separability gate's scorer (6B.R4) on the run's auth_features_6B."""
    con.execute(f"""
        create or replace temp view report_features as
        select a.*, t.fraud_label = 'FRAUD' as is_fraud
        from {_behaviour('auth_features')} as a join {_behaviour('s4_flow_truth_labels')} as t
            using (flow_id)""")
    fit = scorers.auth_feature_scorer(con, "report_features", "is_fraud")
    if not fit["pos_test"] or fit["auc"] is None:
        return []
    fpr, tpr = zip(*scorers.roc_points(con, fit["table"]))
    return [plots.lines("scorer-roc", f"How well the features a bank has at authorisation time find FRAUD: ROC of "
                        f"naive Bayes on auth_features_6B, fitted on the first {scorers.TRAIN_SHARE:.0%} of flows "
                        f"in time, scored on the rest ({fit['pos_test']} FRAUD of {fit['n_test']} flows; gate 6B.R4)",
                        list(fpr), {f"naive Bayes (AUC {fit['auc']:.3f})": list(tpr), "chance": list(fpr)},
                        "false positive rate", "true positive rate", yfmt=plots.PERCENT)]


def campaign_section(con, run_dir: Path) -> list[str]:
    """Flows taken per day by each campaign type over the horizon."""
    days, series = _by_day(con.execute(f"""
        select campaign_type, date_trunc('day', ts_utc)::date as d, count(*)
        from {_behaviour('s3_flow_anchor_with_fraud')}
        where campaign_id is not null group by all order by all""").fetchall())
    return [plots.lines("campaigns", "Campaign timelines: flows taken per UTC day by campaign type", days,
                        series, "UTC day", "flows per day")]


def _gate_order(gid: str) -> list:
    """5B before 6B, and T2 before T10: digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", gid)]


def gateboard(run_dir: Path) -> str:
    path = run_dir / "validation" / "validation_report.json"
    if not path.exists():
        return "<p class='bad'>Not validated: no validation report.</p>"
    report = json.loads(path.read_text())
    rows = []
    for gid, g in sorted(report["gates"].items(), key=lambda item: _gate_order(item[0])):
        value = "—" if g["value"] is None else f"{g['value']:.6g}"
        cls = "ok" if g["pass_bplus"] else ("warn" if g["pass_b"] else ("pending" if g.get("pending") else "bad"))
        grade = "B+" if g["pass_bplus"] else ("B" if g["pass_b"] else ("pending" if g.get("pending") else "fail"))
        rows.append(f"<tr class='{cls}'><td>{_esc(gid)}</td><td>{_esc(g['tier'])}</td><td>{value}</td>"
                    f"<td>{_esc(g['threshold_b'])}</td><td>{_esc(g['threshold_bplus'])}</td><td>{grade}</td>"
                    f"<td>{_esc(g.get('detail') or '')}</td></tr>")
    head = (f"<p>Verdict <b>{_esc(report['verdict'])}</b>, grade <b>{_esc(report['grade'])}</b>"
            + (f"; blockers: {_esc(', '.join(report['blockers']))}" if report["blockers"] else "") + "</p>")
    return (head + "<table><tr><th>gate</th><th>tier</th><th>value</th><th>B</th><th>B+</th><th>grade</th>"
            "<th>evidence</th></tr>" + "".join(rows) + "</table>")


STYLE = """body{font-family:'DejaVu Sans',sans-serif;margin:24px;color:#222;max-width:1100px}h2{margin-top:32px}
figure{margin:8px 0 24px}figcaption{font-weight:bold;font-size:14px;margin-bottom:4px}
svg{display:block;max-width:100%;height:auto}p.note{color:#555}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px}
tr.ok td{background:#eaf7ea}tr.warn td{background:#fff6e0}tr.bad td,p.bad{background:#fde8e8}
tr.pending td{color:#888}"""


def render(run_dir) -> str:
    run_dir = Path(run_dir)
    try:
        receipt = json.loads((run_dir / RECEIPT_FILE).read_text())
    except (OSError, ValueError):
        raise ReportError(f"{run_dir} has no readable {RECEIPT_FILE}: the run is incomplete; "
                          "run it to the end before reporting") from None
    if not (run_dir / CATALOG_FILE).is_file():
        raise ReportError(f"{run_dir} has no {CATALOG_FILE} (an earlier engine version published it); rerun the run")
    con = duckdb.connect()
    try:
        con.execute(f"attach '{run_dir / CATALOG_FILE}' as run (read_only)")
        sections = [
            ("Gateboard", [gateboard(run_dir)]),
            ("Arrivals around the March 2026 clock changes", dst_section(con, run_dir)),
            ("Weekly rhythm", weekly_shape_section(con, run_dir)),
            ("Arrivals over the horizon", daily_section(con, run_dir)),
            ("Amounts", amount_section(con, run_dir)),
            ("Auth latency", latency_section(con, run_dir)),
            ("Flows and sessions", flow_section(con, run_dir)),
            ("Where people pay in person", mobility_section(con, run_dir)),
            ("Fraud and the bank's view", fraud_section(con, run_dir)),
            ("Separability at authorisation time", scorer_section(con, run_dir)),
            ("Case delays", case_delay_section(con, run_dir)),
            ("Campaigns", campaign_section(con, run_dir)),
        ]
    finally:
        con.close()
    counts = "".join(f"<tr><td>{_esc(k)}</td><td>{v['rows']:,}</td></tr>" for k, v in sorted(receipt["datasets"].items()))
    body = [f"<h1>Run {_esc(receipt['run_id'])}</h1>",
            f"<p>preset <b>{_esc(receipt['preset'])}</b>, seed <b>{receipt['seed']}</b>, parameter_hash "
            f"{_esc(receipt['parameter_hash'][:12])}, scenarios {_esc(', '.join(receipt['scenario_ids']))}; "
            f"built in {receipt['wall_seconds']['total']:.0f} s.</p>"]
    for title, parts in sections:
        body.append(f"<h2>{_esc(title)}</h2>")
        parts = [p for p in parts if p]
        body.extend(parts or ["<p class='bad'>No data for this section in the run.</p>"])
    body.append(f"<h2>Datasets</h2><table><tr><th>dataset</th><th>rows</th></tr>{counts}</table>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Run {_esc(receipt['run_id'])}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>")


def write_report(run_dir, out=None) -> Path:
    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / "report.html"
    text = render(run_dir)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
