"""The benchmark: what each state costs, against SPEC §10's budgets and the machine's own
Parquet write rate.

`Meter` listens to dbt's node events (the benchmark builds with one dbt thread, so nodes run
one at a time and every second, CPU second and byte of RSS belongs to one state) and samples
the process's resident memory in a background thread. `write_rates` measures W, the raw zstd
Parquet write rate of the very tables the run produced, in the same run and on the same disk.

Efficiency of a state = (time the raw writer needs for the state's rows) / (state's seconds),
i.e. rows written per second / W, where W is the state's own schema mix.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import threading
import time
from collections import defaultdict
from pathlib import Path

from python_kernels.run.states import state_order

# SPEC §10: seconds per state for the `large` preset (≈125M arrivals) on 2 cores / 24 GB.
BUDGETS_LARGE = {"5B.S1": 90, "5B.S2": 35, "5B.S3": 35, "5B.S4": 240, "5B.S5": 5,
                 "6B.S1": 800, "6B.S2": 120, "6B.S3": 300, "6B.S4": 420, "6B.S5": 10}
BUDGET_ARRIVALS = 125_000_000
PEAK_RSS_BUDGET = 16 * 1024 ** 3
EFFICIENCY_FLOOR = 0.25
W_SAMPLE_ROWS = 2_000_000  # rows per table written to measure W (the rate settles well before)
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class Meter:
    """Per-state wall time, CPU time and peak RSS of a build, from dbt node events.

    `phase(name)` measures a non-dbt step (publish, validation) the same way.
    """

    def __init__(self, state_of_node, interval: float = 0.05):
        self.state_of_node = state_of_node  # dbt node info -> state, None for a test
        self._last = "seeds"
        # a test's cost waits for book_tests: dbt runs it whenever its models are done, often
        # after models of a later state, so "the state built last" would misplace it
        self._tests: dict[str, tuple[str, float, float, int]] = {}
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.peak: dict[str, int] = defaultdict(int)
        self.models: dict[str, list[str]] = defaultdict(list)
        self._open: dict[str, tuple[float, float]] = {}
        self._window_peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)
        self._thread.start()

    def _sample(self, interval):
        while not self._stop.wait(interval):
            rss = rss_bytes()
            with self._lock:
                self._window_peak = max(self._window_peak, rss)

    def _begin(self, key):
        with self._lock:
            self._window_peak = rss_bytes()
        self._open[key] = (time.monotonic(), time.process_time())

    def _end(self, key, state):
        """Book the node `key` to `state`; a test (state None) waits for book_tests."""
        t0, c0 = self._open.pop(key)
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
        with self._lock:
            peak = max(self._window_peak, rss_bytes())
        if state is None:
            self._tests[key] = (self._last, wall, cpu, peak)
        else:
            self._book(state, wall, cpu, peak)

    def _book(self, state, wall, cpu, peak):
        self.wall[state] += wall
        self.cpu[state] += cpu
        self.peak[state] = max(self.peak[state], peak)

    def book_tests(self, state_of_test) -> None:
        """Book each finished test to state_of_test(unique_id) (the state it checks), or, when
        that is None, to the state built last before it."""
        for uid, (last, *cost) in self._tests.items():
            self._book(state_of_test(uid) or last, *cost)
        self._tests.clear()

    def __call__(self, event) -> None:
        name = event.info.name
        if name not in ("NodeStart", "NodeFinished"):
            return
        info = event.data.node_info
        uid = info.unique_id
        if name == "NodeStart":
            self._begin(uid)
        elif uid in self._open:
            state = self.state_of_node(info)
            self._end(uid, state)
            if state is not None:
                self._last = state
                self.models[state].append(info.node_name)

    def phase(self, name: str):
        meter = self

        class _Phase:
            def __enter__(self):
                meter._begin(name)

            def __exit__(self, *exc):
                meter._end(name, name)

        return _Phase()

    def close(self) -> int:
        """Stop sampling; returns the process's peak RSS in bytes (the kernel's high-water mark
        or the highest sample, whichever is higher: they count shared pages differently)."""
        self._stop.set()
        self._thread.join()
        self.book_tests(lambda uid: None)
        return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, *self.peak.values(), 0)


def table_rows(con, tables: list[str]) -> dict[str, int]:
    # tables and views: a `dataset` model is a view over its Parquet files
    existing = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables if t in existing}


def write_rates(con, tables: list[str], scratch: Path, sample_rows: int = W_SAMPLE_ROWS) -> dict:
    """Raw zstd Parquet writes of (up to `sample_rows` rows of) each table: rows, seconds, bytes.

    The same writer settings as publishing; the rows are read into a temporary table first so
    the timing holds the write only, not the scan of the stored table.
    """
    out = {}
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        for t in tables:
            con.execute(f"create or replace temp table bench_sample as select * from {t} limit {sample_rows}")
            rows = con.execute("select count(*) from bench_sample").fetchone()[0]
            target = scratch / f"{t}.parquet"
            t0 = time.monotonic()
            con.execute(f"copy bench_sample to '{target}' (format parquet, compression zstd, row_group_size 1000000)")
            seconds = time.monotonic() - t0
            out[t] = {"rows": rows, "seconds": seconds, "bytes": target.stat().st_size}
            target.unlink()
        con.execute("drop table if exists bench_sample")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def raw_seconds(rows: dict[str, int], rates: dict) -> float:
    """Seconds the raw writer needs for these rows at each table's own rate."""
    return sum(n * rates[t]["seconds"] / rates[t]["rows"] for t, n in rows.items() if rates[t]["rows"])


def raw_bytes(rows: dict[str, int], rates: dict) -> float:
    return sum(n * rates[t]["bytes"] / rates[t]["rows"] for t, n in rows.items() if rates[t]["rows"])


def state_rows(meter: Meter, rows: dict[str, int]) -> dict[str, dict[str, int]]:
    return {s: {m: rows[m] for m in models if m in rows} for s, models in meter.models.items()}


def summarise(meter: Meter, rows: dict[str, int], rates: dict, published: dict[str, int],
              arrivals: int, total_seconds: float, peak_rss: int) -> dict:
    """The benchmark record: one entry per state plus the end-to-end line."""
    scale = arrivals / BUDGET_ARRIVALS
    per_state = state_rows(meter, rows)
    states = {}
    for state in sorted(set(meter.wall), key=state_order):
        secs, srows = meter.wall[state], per_state.get(state, {})
        budget = BUDGETS_LARGE.get(state)
        n = sum(srows.values())
        raw = raw_seconds(srows, rates)
        states[state] = {
            "seconds": round(secs, 3), "cpu_seconds": round(meter.cpu[state], 3),
            "peak_rss_bytes": meter.peak[state], "rows": n, "parquet_bytes": round(raw_bytes(srows, rates)),
            "rows_per_second": round(n / secs) if secs > 0 else None,
            "efficiency": round(raw / secs, 4) if secs > 0 and n else None,
            "budget_large_seconds": budget,
            "budget_at_this_size_seconds": round(budget * scale, 3) if budget else None,
            "seconds_per_million_arrivals": round(secs / arrivals * 1e6, 3) if arrivals else None,
        }
    raw_published = raw_seconds(published, rates)
    return {
        "arrivals": arrivals,
        "states": states,
        "end_to_end": {
            "seconds": round(total_seconds, 3),
            "rows_published": sum(published.values()),
            "parquet_bytes_published": round(raw_bytes(published, rates)),
            "raw_write_seconds_published": round(raw_published, 3),
            "efficiency": round(raw_published / total_seconds, 4) if total_seconds > 0 else None,
            "efficiency_floor": EFFICIENCY_FLOOR,
            "seconds_per_million_arrivals": round(total_seconds / arrivals * 1e6, 3) if arrivals else None,
            "peak_rss_bytes": peak_rss,
            "peak_rss_budget_bytes": PEAK_RSS_BUDGET,
        },
        "write_rates": {t: {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
                        for t, r in rates.items()},
    }


def _gb(n) -> str:
    return f"{n / 1024 ** 3:.2f}"


def markdown(record: dict, title: str) -> str:
    """The benchmark table: state, seconds, budget, rows/s, efficiency."""
    lines = [f"# {title}", "",
             f"{record['arrivals']:,} arrivals. Budgets are SPEC §10's for `large` "
             f"({BUDGET_ARRIVALS:,} arrivals) and, in brackets, scaled to this run's arrivals. "
             "Efficiency = rows written per second ÷ W (the raw zstd Parquet write rate of the same "
             "tables, measured in this run).", "",
             "| state | seconds | CPU s | peak RSS GB | rows | Parquet GB | rows/s | efficiency "
             "| s per M arrivals | budget (large) [scaled] | within |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for state, s in record["states"].items():
        budget = s["budget_large_seconds"]
        rate, eff = s["rows_per_second"], s["efficiency"]
        cells = [state, f"{s['seconds']:.1f}", f"{s['cpu_seconds']:.1f}", _gb(s["peak_rss_bytes"]),
                 f"{s['rows']:,}", _gb(s["parquet_bytes"]), "" if rate is None else f"{rate:,}",
                 "" if eff is None else f"{eff:.1%}", f"{s['seconds_per_million_arrivals']:.2f}",
                 "" if budget is None else f"{budget} [{s['budget_at_this_size_seconds']:.3g}]",
                 "" if budget is None else ("yes" if s["seconds"] <= s["budget_at_this_size_seconds"] else "NO")]
        lines.append("| " + " | ".join(cells) + " |")
    e = record["end_to_end"]
    lines += ["", f"End to end: {e['seconds']:.1f} s ({e['seconds_per_million_arrivals']:.2f} s per M arrivals); "
                  f"{e['rows_published']:,} rows published ({_gb(e['parquet_bytes_published'])} GB of zstd Parquet), "
                  f"which the raw writer needs {e['raw_write_seconds_published']:.1f} s for: efficiency "
                  f"{e['efficiency']:.1%} (floor {e['efficiency_floor']:.0%}); peak RSS {_gb(e['peak_rss_bytes'])} GB "
                  f"(budget {_gb(e['peak_rss_budget_bytes'])} GB)."]
    return "\n".join(lines) + "\n"


def scaling_markdown(records: dict[str, dict]) -> str:
    """Seconds per million arrivals per state, one column per preset benchmarked."""
    presets = [p for p in ("tiny", "small", "medium", "large") if p in records]
    states = sorted({s for r in records.values() for s in r["states"]}, key=state_order)
    lines = ["# Scaling: seconds per million arrivals", "",
             "| state | " + " | ".join(f"{p} ({records[p]['arrivals'] / 1e6:.2f}M)" for p in presets) + " |",
             "|---|" + "---:|" * len(presets)]
    for state in states:
        cells = [records[p]["states"].get(state, {}).get("seconds_per_million_arrivals") for p in presets]
        lines.append(f"| {state} | " + " | ".join("" if c is None else f"{c:.2f}" for c in cells) + " |")
    per_m = [records[p]["end_to_end"]["seconds_per_million_arrivals"] for p in presets]
    lines.append("| end to end | " + " | ".join(f"{c:.2f}" for c in per_m) + " |")
    # SPEC §10 asks per-arrival cost to stay within ±30% from one preset to the next
    lines.append("| end to end, change from the preset before | " + " | ".join(
        [""] + [f"{b / a - 1:+.0%}" for a, b in zip(per_m, per_m[1:])]) + " |")
    return "\n".join(lines) + "\n"


def latest_records(root: Path) -> dict[str, dict]:
    """The most recent benchmark record of each preset under the runs root."""
    latest: dict[str, dict] = {}
    for path in root.glob("*/bench/bench.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        preset = record.get("preset")
        if preset and record.get("finished_utc", "") >= latest.get(preset, {}).get("finished_utc", ""):
            latest[preset] = record
    return latest


def write_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
