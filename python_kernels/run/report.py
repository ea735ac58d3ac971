"""`runner.py report`: one self-contained HTML page per run (inline SVG, no scripts, no network).

Queries read the run's published Parquet, never the work database, so a report shows exactly
what readers get. Each plot states the question it answers.
"""
from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from python_kernels.run.runs import RECEIPT_FILE

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22")
# Zones whose clocks change inside the presets' horizons (the tiny and small presets both cover
# these March 2026 changes); the report shows those present in the run.
DST_ZONES = (("America/New_York", "2026-03-08"), ("Asia/Jerusalem", "2026-03-27"),
             ("Europe/Berlin", "2026-03-29"), ("Europe/London", "2026-03-29"))


class ReportError(Exception):
    pass


# ---- SVG ---------------------------------------------------------------------------------

def _esc(x) -> str:
    return html.escape(str(x), quote=True)


def line_chart(title: str, x_labels: list[str], series: dict[str, list[float]], y_label: str,
               width=900, height=280, tick_every=1) -> str:
    """A line chart as inline SVG: one polyline per series over shared x positions."""
    pad_l, pad_r, pad_t, pad_b = 60, 160, 30, 40
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    n = len(x_labels)
    top = max((max(v) for v in series.values() if v), default=0.0) or 1.0
    x = lambda i: pad_l + (w * i / max(n - 1, 1))  # noqa: E731
    y = lambda v: pad_t + h - h * v / top  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             f'<text x="{pad_l}" y="18" class="t">{_esc(title)}</text>',
             f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" stroke="#999"/>',
             f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + h}" stroke="#999"/>',
             f'<text x="12" y="{pad_t + h / 2}" class="a" transform="rotate(-90 12 {pad_t + h / 2})">{_esc(y_label)}</text>']
    for frac in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{pad_l - 6}" y="{y(top * frac) + 4:.1f}" class="a" text-anchor="end">{top * frac:,.3g}</text>')
    for i, lab in enumerate(x_labels):
        if i % tick_every == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{pad_t + h + 16}" class="a" text-anchor="middle">{_esc(lab)}</text>')
    for k, (name, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{pts}"/>')
        parts.append(f'<text x="{pad_l + w + 10}" y="{pad_t + 14 * (k + 1)}" class="a" fill="{colour}">{_esc(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, labels: list[str], groups: dict[str, list[float]], y_label: str,
              width=900, height=260) -> str:
    """Grouped bars: one group per label, one bar per series."""
    pad_l, pad_r, pad_t, pad_b = 60, 160, 30, 40
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    top = max((max(v) for v in groups.values() if v), default=0.0) or 1.0
    slot = w / max(len(labels), 1)
    bar = slot * 0.8 / max(len(groups), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             f'<text x="{pad_l}" y="18" class="t">{_esc(title)}</text>',
             f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" stroke="#999"/>',
             f'<text x="12" y="{pad_t + h / 2}" class="a" transform="rotate(-90 12 {pad_t + h / 2})">{_esc(y_label)}</text>',
             f'<text x="{pad_l - 6}" y="{pad_t + 4}" class="a" text-anchor="end">{top:,.3g}</text>']
    for i, lab in enumerate(labels):
        parts.append(f'<text x="{pad_l + slot * (i + 0.5):.1f}" y="{pad_t + h + 16}" class="a" '
                     f'text-anchor="middle">{_esc(lab)}</text>')
    for k, (name, values) in enumerate(groups.items()):
        colour = PALETTE[k % len(PALETTE)]
        for i, v in enumerate(values):
            bh = h * v / top
            parts.append(f'<rect x="{pad_l + slot * i + slot * 0.1 + bar * k:.1f}" y="{pad_t + h - bh:.1f}" '
                         f'width="{bar:.1f}" height="{bh:.1f}" fill="{colour}"><title>{_esc(name)} {_esc(labels[i])}: {v:,.4g}</title></rect>')
        parts.append(f'<text x="{pad_l + w + 10}" y="{pad_t + 14 * (k + 1)}" class="a" fill="{colour}">{_esc(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ---- sections ----------------------------------------------------------------------------

def _arrivals(run_dir: Path) -> str:
    return f"read_parquet('{run_dir}/data/layer2/5B/arrival_events_5B/*/*.parquet', hive_partitioning = true)"


def dst_section(con, run_dir: Path) -> list[str]:
    """Arrivals per local clock hour on each DST-change day vs the same weekday one week before."""
    out = []
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
        series = {f"{day} (clock change)": [0.0] * 24, "one week before": [0.0] * 24}
        for on_change, hour, n in rows:
            series[f"{day} (clock change)" if on_change else "one week before"][hour] = float(n)
        out.append(bar_chart(f"{tzid}: arrivals per local hour on {day}", [str(i) for i in range(24)],
                             series, "arrivals"))
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
    labels = [f"{d} {hh:02d}" if hh == 0 else "" for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
              for hh in range(24)]
    return [line_chart("Weekly shape by demand class: share of arrivals per local hour of week",
                       labels, series, "share of class arrivals", height=360, tick_every=24)]


def daily_section(con, run_dir: Path) -> list[str]:
    rows = con.execute(f"""
        select scenario_id, cast(ts_utc as date) as d, count(*) from {_arrivals(run_dir)}
        group by all order by all""").fetchall()
    days = sorted({r[1] for r in rows})
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[float]] = {}
    for sid, d, n in rows:
        series.setdefault(sid, [0.0] * len(days))[index[d]] = float(n)
    labels = [d.isoformat() for d in days]
    return [line_chart("Arrivals per UTC day by scenario (holidays, paydays, weekends, stress)", labels, series,
                       "arrivals", tick_every=max(len(days) // 8, 1))]


def _behaviour(run_dir: Path, dataset: str) -> str:
    return f"read_parquet('{run_dir}/data/layer3/6B/{dataset}_6B/*/*.parquet', hive_partitioning = true)"


def _histogram(con, sql: str, edges: list[float]) -> dict[str, list[float]]:
    """Share per bin [edges[i], edges[i+1]) of `value` per `grp` from a query of (grp, value)."""
    cases = " ".join(f"when value < {e} then {i}" for i, e in enumerate(edges[1:]))
    rows = con.execute(f"""
        select grp, case {cases} else {len(edges) - 2} end as b, count(*) / sum(count(*)) over (partition by grp)
        from ({sql}) where value >= {edges[0]} group by grp, b order by grp, b""").fetchall()
    out: dict[str, list[float]] = {}
    for grp, b, share in rows:
        out.setdefault(grp, [0.0] * (len(edges) - 1))[b] = float(share)
    return out


def amount_section(con, run_dir: Path) -> list[str]:
    """Auth amounts per channel in US-dollar terms on log bins, and the share of price points."""
    edges = [0.0] + [10 ** (x / 4) for x in range(-2, 21)]
    series = _histogram(con, f"""
        select f.channel as grp, f.amount / c.units_per_usd as value
        from {_behaviour(run_dir, 's2_flow_anchor_baseline')} as f
        join read_parquet('{run_dir}/data/world/world_currencies/*.parquet') as c using (currency_code)
        where f.flow_index = 0""", edges)
    labels = [f"{edges[i + 1]:,.3g}" if i % 2 == 0 else "" for i in range(len(edges) - 1)]
    return [line_chart("Auth amount by channel (US-dollar equivalent, share per log bin, bin upper edge)",
                       labels, series, "share of flows", height=300)]


def latency_section(con, run_dir: Path) -> list[str]:
    edges = [0.0] + [10 ** (x / 5) for x in range(-7, 13)]
    series = _histogram(con, f"""
        select channel as grp, auth_latency_seconds as value
        from {_behaviour(run_dir, 's2_flow_anchor_baseline')}""", edges)
    labels = [f"{e:.3g}s" for e in edges[1:]]
    return [line_chart("Auth latency by channel (share per log bin, bin upper edge)", labels, series,
                       "share of flows", height=300, tick_every=2)]


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
        from {_behaviour(run_dir, 's2_flow_anchor_baseline')}
        group by channel, flow_status order by channel, flow_status""").fetchall())
    sessions = con.execute(f"""
        select least(arrival_count, 10) as n, count(*) from {_behaviour(run_dir, 's1_session_index')}
        group by all order by all""").fetchall()
    return [bar_chart("Flow outcome by channel (share of the channel's flows)", channels, groups, "share"),
            bar_chart("Arrivals per session (10 = 10 or more)", [str(n) for n, _ in sessions],
                      {"sessions": [float(c) for _, c in sessions]}, "sessions")]


def fraud_section(con, run_dir: Path) -> list[str]:
    """Truth and bank-view fraud rates and case rates by merchant class; bank labels by truth subtype."""
    rows = con.execute(f"""
        select c.primary_demand_class, avg(t.is_fraud_truth::int), avg(b.is_fraud_bank_view::int),
               avg((b.case_id is not null)::int)
        from {_behaviour(run_dir, 's4_flow_truth_labels')} as t
        join {_behaviour(run_dir, 's4_flow_bank_view')} as b using (flow_id)
        join read_parquet('{run_dir}/data/world/merchant_class_profile_5A/*.parquet') as c using (merchant_id)
        group by 1 order by 1""").fetchall()
    classes = [r[0] for r in rows]
    rates = {"truth FRAUD/ABUSE": [float(r[1]) for r in rows], "bank-view fraud": [float(r[2]) for r in rows],
             "in a case": [float(r[3]) for r in rows]}
    subtypes, labels = _shares(con.execute(f"""
        select truth_subtype, bank_label, count(*) / sum(count(*)) over (partition by truth_subtype)
        from {_behaviour(run_dir, 's4_flow_bank_view')}
        group by truth_subtype, bank_label order by truth_subtype, bank_label""").fetchall())
    return [bar_chart("Fraud by merchant class: truth, the bank's view and cases (share of the class's flows)",
                      classes, rates, "share of flows", width=1100),
            bar_chart("Bank label by truth subtype (share of the subtype's flows)", subtypes, labels, "share",
                      width=1100)]


def case_delay_section(con, run_dir: Path) -> list[str]:
    """Delays of the bank's process in days, on log bins: each stage after the one before it."""
    edges = [0.0] + [10 ** (x / 4) for x in range(-16, 10)]
    day = 86_400_000_000
    series = _histogram(con, f"""
        with b as (
            select b.*, f.ts_auth_response, f.ts_clearing
            from {_behaviour(run_dir, 's4_flow_bank_view')} as b
            join {_behaviour(run_dir, 's3_flow_anchor_with_fraud')} as f using (flow_id)
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
    labels = [f"{e:.2g}d" for e in edges[1:]]
    return [line_chart("Case process delays (share per log bin, bin upper edge, days)", labels, series,
                       "share", height=300, tick_every=2)]


def campaign_section(con, run_dir: Path) -> list[str]:
    """Flows taken per day by each campaign type over the horizon."""
    rows = con.execute(f"""
        select campaign_type, date_trunc('day', ts_utc)::date as d, count(*)
        from {_behaviour(run_dir, 's3_flow_anchor_with_fraud')}
        where campaign_id is not null group by all order by all""").fetchall()
    days = sorted({r[1] for r in rows})
    series: dict[str, list[float]] = {}
    for kind, d, n in rows:
        series.setdefault(kind, [0.0] * len(days))[days.index(d)] = float(n)
    return [line_chart("Campaign timelines: flows taken per day by campaign type (UTC days)",
                       [f"{d:%m-%d}" for d in days], series, "flows per day", width=1100, height=320,
                       tick_every=max(len(days) // 15, 1))]


def gateboard(run_dir: Path) -> str:
    path = run_dir / "validation" / "validation_report.json"
    if not path.exists():
        return "<p class='bad'>Not validated: no validation report.</p>"
    report = json.loads(path.read_text())
    rows = []
    for gid, g in sorted(report["gates"].items()):
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


STYLE = """body{font-family:sans-serif;margin:24px;color:#222}h2{margin-top:32px}
svg{display:block;margin:8px 0 20px}.t{font-size:14px;font-weight:bold}.a{font-size:11px}
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
    con = duckdb.connect()
    try:
        sections = [
            ("Gateboard", [gateboard(run_dir)]),
            ("Arrivals around the March 2026 clock changes", dst_section(con, run_dir)),
            ("Weekly rhythm", weekly_shape_section(con, run_dir)),
            ("Arrivals over the horizon", daily_section(con, run_dir)),
            ("Amounts", amount_section(con, run_dir)),
            ("Auth latency", latency_section(con, run_dir)),
            ("Flows and sessions", flow_section(con, run_dir)),
            ("Fraud and the bank's view", fraud_section(con, run_dir)),
            ("Case delays", case_delay_section(con, run_dir)),
            ("Campaigns", campaign_section(con, run_dir)),
        ]
    finally:
        con.close()
    counts = "".join(f"<tr><td>{_esc(k)}</td><td>{v['rows']:,}</td></tr>" for k, v in sorted(receipt["datasets"].items()))
    body = [f"<h1>Run {_esc(receipt['run_id'])}</h1>",
            f"<p>preset <b>{_esc(receipt['preset'])}</b>, seed <b>{receipt['seed']}</b>, parameter_hash "
            f"{_esc(receipt['parameter_hash'][:12])}, scenarios {_esc(', '.join(receipt['scenario_ids']))}; "
            f"built in {receipt['wall_seconds']['total']:.0f} s; report made "
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.</p>"]
    for title, parts in sections:
        body.append(f"<h2>{_esc(title)}</h2>")
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
