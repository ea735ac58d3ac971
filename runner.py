#!/usr/bin/env python
"""Fraud Data Engine command line.

    python runner.py run --preset small --seed 42 [--run-dir DIR] [--policies DIR] [--threads N]
    python runner.py report [--run-dir DIR]
    python runner.py docs [--run-dir DIR]
    python runner.py certify [--preset P] [--seeds 42,7,101,202] [--out DIR]
    python runner.py bench [--preset P] [--seed S] [--run-dir DIR]

Exit codes: 0 success; 2 bad input (arguments, preset, seed, policies, run directory, not
enough free disk);
3 the run directory belongs to another run; 4 the pipeline failed (dbt build);
5 publishing or the receipt failed; 6 the run is published but failed validation
(a hard gate or required check missed: no _passed.flag); 7 certification decided
HOLD_REMEDIATE.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

from python_kernels.run.datasets import DATASETS  # noqa: E402
from python_kernels.core.policies import PolicyError, load_policies  # noqa: E402
from python_kernels.core.rng import check_seed  # noqa: E402
from python_kernels.run import runs  # noqa: E402
from python_kernels.run import validation  # noqa: E402
from python_kernels.core.digest import table_digest  # noqa: E402

BUILD_RESULTS = "build_run_results.json"
SEGMENTS = ("5B", "6B")  # segments whose gates the pipeline produces (gates.yaml lists pending ones)
SEGMENT_OF_FOLDER = {"world": "world", "arrivals": "5B", "behaviour": "6B", "gates": "gates"}


def state_of(fqn: list[str]) -> str:
    """'5B.S2' for models/arrivals/s2_* (and int_s2_*), 'world' for models/world/*, and
    '5B.S5' / '6B.S5' for the gates of a segment and their inputs (int_gates_6B_*): its
    validation state."""
    segment = SEGMENT_OF_FOLDER.get(fqn[1], fqn[1]) if len(fqn) > 2 else "seeds"
    name = fqn[-1].removeprefix("int_")
    if segment in ("5B", "6B") and name[:1] == "s" and name[1:2].isdigit():
        return f"{segment}.S{name[1]}"
    gate_segment = name.removeprefix("gates_").split("_")[0]
    if segment == "gates" and name.startswith("gates_") and gate_segment in SEGMENTS:
        return f"{gate_segment}.S5"
    return segment


def test_state(nodes: dict, uid: str) -> str | None:
    """State of a data test (manifest `nodes`): the latest, in pipeline order, of the states
    of the nodes it reads; None when it reads none."""
    from python_kernels.run.bench import state_order

    parents = [state_of(nodes[p]["fqn"]) for p in nodes.get(uid, {}).get("depends_on", {}).get("nodes", [])
               if p in nodes]
    return max(parents, key=state_order) if parents else None


def node_state(info) -> str | None:
    """State of a model or seed from dbt's node info; None for a test (booked after the build
    by test_state)."""
    if info.unique_id.split(".")[0] not in ("model", "seed"):
        return None
    path = Path(info.node_path or "")
    return state_of(["", *path.parent.parts[-1:], path.stem])


class Progress:
    """One line per finished node: its state (world, 5B.S1, ..., gates), kind, name, status,
    elapsed time and an ETA.

    On a terminal the line is rewritten in place; otherwise plain log lines are printed.
    """

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.start = time.monotonic()
        self.done = 0
        self.total = 0
        self.node_seconds: dict[str, float] = {}
        self.node_state: dict[str, str] = {}
        self.failures: list[str] = []
        self.state = "-"

    def __call__(self, event) -> None:
        name = event.info.name
        if name == "LogStartLine":
            self.total = max(self.total, event.data.total)
        elif name == "NodeFinished":
            info = event.data.node_info
            status = info.node_status
            uid = info.unique_id
            kind = uid.split(".")[0]
            if kind in ("model", "seed"):
                self.node_seconds[uid] = event.data.run_result.execution_time
            if status in ("error", "fail", "runtime error"):
                self.failures.append(f"{uid}: {event.data.run_result.message or status}")
            self.done += 1
            self.state = node_state(info) or self.state
            self._show(self.state, kind, info.node_name, status)

    def _show(self, state, kind, node, status):
        elapsed = time.monotonic() - self.start
        total = max(self.total, self.done)
        eta = elapsed / self.done * (total - self.done) if self.done else 0.0
        line = (f"[{self.done:>4}/{total:<4}] {state:<6} {kind:<5} {node[:48]:<48} {status:<7} "
                f"elapsed {elapsed:6.1f}s  eta {eta:5.0f}s")
        if self.tty:
            self.stream.write("\r" + line[:160].ljust(160))
            if status not in ("success", "pass"):
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("\n")


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def dbt_invoke(command: str, run_dir: Path, vars_: dict, threads: int, progress: Progress,
               selection: list[str], callbacks=()):
    """Run one dbt command for this run in-process and release DuckDB afterwards.

    dbt-duckdb keeps its connection open after the command; the runner's own connection to
    the same file needs it closed first (DuckDB refuses a second, differently configured one).
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    work = run_dir / "work"
    os.environ["FDE_DUCKDB_PATH"] = str(work / "engine.duckdb")
    os.environ["FDE_DATASETS_DIR"] = str(runs.datasets_dir(run_dir))
    runs.datasets_dir(run_dir).mkdir(exist_ok=True)  # DuckDB's COPY makes only the last folder
    os.environ["FDE_THREADS"] = str(threads)
    os.environ["DBT_PROFILES_DIR"] = str(PROJECT_DIR)
    args = [*command.split(), "--project-dir", str(PROJECT_DIR), "--target-path", str(work / "target"),
            "--log-path", str(run_dir / "logs"), "--vars", json.dumps(vars_), "--quiet", *selection]
    cwd = os.getcwd()
    os.chdir(PROJECT_DIR)  # relative paths in profiles/vars are project-relative
    try:
        result = dbtRunner(callbacks=[progress, *callbacks]).invoke(args)
    finally:
        os.chdir(cwd)
        progress.close()
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
        DuckDBConnectionManager.close_all_connections()
    return result


def dbt_build(run_dir: Path, vars_: dict, threads: int, progress: Progress, callbacks=()) -> dict:
    """Build models, seeds and data tests except the gate tests; returns the manifest's nodes."""
    result = dbt_invoke("build", run_dir, vars_, threads, progress, ["--exclude", "tag:gate"], callbacks)
    if not result.success:
        detail = "\n  ".join(progress.failures[:10]) or str(result.exception or "see the dbt log")
        raise runs.RunError(f"dbt build failed:\n  {detail}\nlog: {run_dir / 'logs' / 'dbt.log'}", 4)
    work = run_dir / "work"
    os.replace(work / "target" / "run_results.json", work / BUILD_RESULTS)
    return json.loads((work / "target" / "manifest.json").read_text())["nodes"]


def dbt_gate_tests(run_dir: Path, vars_: dict, threads: int, callbacks=()) -> Path:
    """Run the gate tests (a failing gate is a verdict, not a crash); returns their results file."""
    result = dbt_invoke("test", run_dir, vars_, threads, Progress(), ["--select", "tag:gate"], callbacks)
    path = run_dir / "work" / "target" / "run_results.json"
    if result.exception is not None or not path.exists():
        raise runs.RunError(f"dbt gate tests could not run: {result.exception}\n"
                            f"log: {run_dir / 'logs' / 'dbt.log'}", 4)
    return path


def cmd_run(args, meter=None) -> int:
    """Build, publish and validate one run. With a bench `meter`, every state is measured and
    the run starts from an empty database (a benchmark must not reuse earlier tables)."""
    # Everything is validated before anything is written.
    try:
        seed = check_seed(args.seed)
    except ValueError as e:
        raise runs.RunError(f"--seed: {e}", 2) from None
    if args.threads < 1 or args.threads > 64:
        raise runs.RunError(f"--threads must be between 1 and 64, got {args.threads}", 2)
    policy_dir = Path(args.policies).resolve()
    try:
        policies = load_policies(policy_dir)
    except PolicyError as e:
        raise runs.RunError(str(e), 2) from None
    known = policies["presets"]["presets"]
    if args.preset not in known:
        raise runs.RunError(f"unknown preset {args.preset!r}; allowed: {', '.join(known)}", 2)
    preset = policies.preset(args.preset)
    runs.check_seed_files()
    run_dir = runs.resolve_run_dir(args.run_dir, args.preset, seed)
    runs.check_disk(run_dir, args.preset, preset)
    identity = {
        "seed": seed,
        "preset": args.preset,
        "parameter_hash": policies.parameter_hash,
        "manifest_fingerprint": runs.manifest_fingerprint(args.preset, preset),
    }
    runs.claim_run_dir(run_dir, identity)
    if meter is not None:
        runs.drop_database(run_dir)
    say(f"run {run_dir.name}: preset={args.preset} seed={seed} "
        f"parameter_hash={policies.parameter_hash[:12]} -> {run_dir}")

    t0 = time.monotonic()
    progress = Progress()
    vars_ = {"seed": seed, "preset": args.preset, "policy_dir": str(policy_dir)}
    callbacks = [meter] if meter is not None else []
    nodes = dbt_build(run_dir, vars_, args.threads, progress, callbacks)
    if meter is not None:
        meter.book_tests(lambda uid: test_state(nodes, uid))
    build_seconds = time.monotonic() - t0

    state_seconds: dict[str, float] = defaultdict(float)
    for uid, seconds in progress.node_seconds.items():
        state_seconds[state_of(nodes[uid]["fqn"]) if uid in nodes else "seeds"] += seconds

    import duckdb

    t1 = time.monotonic()
    datasets = {}
    measure = meter.phase if meter is not None else lambda name: contextlib.nullcontext()
    try:
        con = runs.connect(run_dir, args.threads)
        try:
            for ds in DATASETS:
                with measure("publish"):
                    n, digest = table_digest(con, ds.model)
                    path = runs.publish(con, ds, run_dir / "data",
                                        runs.datasets_dir(run_dir) / ds.model if ds.scenario else None)
                datasets[ds.dataset_id] = {"rows": n, "content_digest": digest,
                                           "path": str(path.relative_to(run_dir))}
                say(f"published {ds.dataset_id:<36} {n:>12,} rows")
            scenarios = [r[0] for r in con.execute(
                "select scenario_id from scenario_manifest_5A order by scenario_id").fetchall()]
        finally:
            con.close()
    except duckdb.Error as e:
        raise runs.RunError(f"publishing failed: {e}", 5) from None
    state_seconds["publish"] = time.monotonic() - t1

    t2 = time.monotonic()
    with measure("validation"):
        gate_results = dbt_gate_tests(run_dir, vars_, args.threads)
        con = runs.connect(run_dir, args.threads)
        try:
            summary = validation.validate_run(run_dir, con, policies["gates"],
                                              [run_dir / "work" / BUILD_RESULTS, gate_results],
                                              segments=SEGMENTS)
        finally:
            con.close()
    state_seconds["validation"] = time.monotonic() - t2
    say(f"validation: {summary['verdict']} (grade {summary['grade']})"
        + (f"; blockers: {', '.join(summary['blockers'])}" if summary["blockers"] else ""))

    receipt = {
        "run_id": f"{args.preset}-seed{seed}-{policies.parameter_hash[:12]}",
        **identity,
        "scenario_ids": scenarios,
        "policy_dir": str(policy_dir),
        "versions": runs.package_versions(),
        "threads": args.threads,
        "wall_seconds": {"build": round(build_seconds, 3), "total": round(time.monotonic() - t0, 3),
                         "per_state": {k: round(v, 3) for k, v in sorted(state_seconds.items())}},
        "datasets": datasets,
        "gate_verdict": {k: summary[k] for k in ("verdict", "grade", "blockers", "bundle_digest")},
    }
    runs.write_receipt(run_dir, receipt)
    say(f"done in {time.monotonic() - t0:.1f}s; receipt {run_dir / runs.RECEIPT_FILE}")
    if summary["verdict"] != "PASS":
        say("the run is published but not validated (no _passed.flag); see validation/validation_report.json")
        return 6
    return 0


def cmd_report(args) -> int:
    from python_kernels.run import report

    run_dir = runs.resolve_run_dir(args.run_dir, args.preset, check_seed(args.seed))
    if not run_dir.is_dir():
        raise runs.RunError(f"no run at {run_dir}; run `runner.py run` first or give --run-dir", 2)
    try:
        out = report.write_report(run_dir)
    except report.ReportError as e:
        raise runs.RunError(str(e), 2) from None
    say(f"report: {out}")
    return 0


def cmd_docs(args) -> int:
    run_dir = runs.resolve_run_dir(args.run_dir, args.preset, check_seed(args.seed))
    try:
        receipt = json.loads((run_dir / runs.RECEIPT_FILE).read_text())
    except (OSError, ValueError):
        raise runs.RunError(f"no complete run at {run_dir}: docs read the run's database; "
                            "run `runner.py run` first or give --run-dir", 2) from None
    vars_ = {"seed": receipt["seed"], "preset": receipt["preset"], "policy_dir": receipt["policy_dir"]}
    progress = Progress()
    result = dbt_invoke("docs generate", run_dir, vars_, args.threads, progress, ["--static"])
    static = run_dir / "work" / "target" / "static_index.html"
    if not result.success or not static.exists():
        raise runs.RunError(f"dbt docs generate failed: {result.exception or 'see the dbt log'}\n"
                            f"log: {run_dir / 'logs' / 'dbt.log'}", 4)
    out = run_dir / "docs" / "index.html"
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_name(".index.html.tmp")
    tmp.write_bytes(static.read_bytes())
    tmp.replace(out)
    say(f"docs: {out} (one self-contained page: every model, its columns and the lineage graph)")
    return 0


def cmd_certify(args) -> int:
    from python_kernels.run import certify

    policy_dir = Path(args.policies).resolve()
    try:
        policies = load_policies(policy_dir)
        policies.preset(args.preset)
    except PolicyError as e:
        raise runs.RunError(str(e), 2) from None
    try:
        seeds = [check_seed(int(x)) for x in args.seeds.split(",")] if args.seeds else \
            list(policies["gates"]["certification"]["required_seeds"])
    except ValueError as e:
        raise runs.RunError(f"--seeds must be comma-separated integers in [0, 2**63): {e}", 2) from None
    if len(set(seeds)) != len(seeds):
        raise runs.RunError(f"--seeds has a repeated seed: {args.seeds}", 2)
    out_dir = runs.resolve_run_dir(args.out or str(runs.runs_root() / f"certification-{args.preset}"),
                                   args.preset, seeds[0])
    fingerprint = runs.manifest_fingerprint(args.preset, policies.preset(args.preset))
    reports, flagged, run_dirs = {}, {}, {}
    for i, seed in enumerate(seeds, 1):
        run_dir = runs.resolve_run_dir(None, args.preset, seed)
        wanted = {"seed": seed, "preset": args.preset, "parameter_hash": policies.parameter_hash,
                  "manifest_fingerprint": fingerprint}
        try:
            valid = validation.open_run(run_dir)
            reuse = all(valid.identity.get(k) == v for k, v in wanted.items())
        except validation.ValidationError:
            reuse = False
        say(f"certify [{i}/{len(seeds)}] seed {seed}: " + ("reusing the validated run " if reuse else "building ")
            + str(run_dir))
        if not reuse:
            cmd_run(argparse.Namespace(preset=args.preset, seed=seed, run_dir=None, policies=str(policy_dir),
                                       threads=args.threads))
        reports[seed], flagged[seed] = certify.read_report(run_dir)
        run_dirs[seed] = run_dir
        say(f"certify [{i}/{len(seeds)}] seed {seed}: {reports[seed]['verdict']} (grade {reports[seed]['grade']})")
    decision = certify.write_artefacts(out_dir, reports, flagged, run_dirs, policies["gates"], SEGMENTS)
    for seg, d in decision["segments"].items():
        cv = decision["stability"][seg]["cv_overall"]
        say(f"certify {seg}: {d} (worst cross-seed cv {'n/a' if cv is None else f'{cv:.4f}'})")
    say(f"certify: {decision['decision']}; artefacts in {out_dir}"
        + ("".join(f"\n  blocker {b['segment']}: {b['id']} {json.dumps(b['details'], sort_keys=True)}"
                   for b in decision["blockers"])))
    return 0 if decision["decision"] in certify.PASSING else 7


def cmd_bench(args) -> int:
    import platform

    from python_kernels.run import bench

    # One dbt node at a time, so every second, CPU second and byte of RSS belongs to one state.
    os.environ["FDE_DBT_THREADS"] = "1"
    run_dir_arg = args.run_dir or str(runs.runs_root() / f"bench-{args.preset}-seed{args.seed}")
    run_args = argparse.Namespace(preset=args.preset, seed=args.seed, run_dir=run_dir_arg,
                                  policies=args.policies, threads=args.threads)
    meter = bench.Meter(node_state)
    t0 = time.monotonic()
    try:
        rc = cmd_run(run_args, meter)
    finally:
        peak = meter.close()
    total = time.monotonic() - t0
    run_dir = runs.resolve_run_dir(run_dir_arg, args.preset, args.seed)
    receipt = json.loads((run_dir / runs.RECEIPT_FILE).read_text())

    say("bench: measuring the raw zstd Parquet write rate (W) of the run's own tables")
    con = runs.connect(run_dir, args.threads)
    try:
        rows = bench.table_rows(con, sorted({m for ms in meter.models.values() for m in ms}))
        rates = bench.write_rates(con, sorted(rows), run_dir / "work" / "bench_w")
    finally:
        con.close()
    published = {ds.model: receipt["datasets"][ds.dataset_id]["rows"] for ds in DATASETS}
    record = bench.summarise(meter, rows, rates, published,
                             receipt["datasets"]["arrival_events_5B"]["rows"], total, peak)
    record.update({
        "run_id": receipt["run_id"], "preset": args.preset, "seed": receipt["seed"], "threads": args.threads,
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "memory_bytes": os.sysconf("SC_PHYS_PAGES") * bench.PAGE,
                    "platform": platform.platform(), "python": platform.python_version()},
        "versions": receipt["versions"], "gate_verdict": receipt["gate_verdict"]["verdict"],
    })
    out = run_dir / "bench"
    out.mkdir(exist_ok=True)
    bench.write_json(out / "bench.json", record)
    table = bench.markdown(record, f"Benchmark {receipt['run_id']} ({record['machine']['cpus']} CPUs, "
                                   f"{record['machine']['memory_bytes'] / 1024 ** 3:.0f} GB)")
    (out / "bench.md").write_text(table)
    scaling = bench.scaling_markdown(bench.latest_records(runs.runs_root()))
    (runs.runs_root() / "bench_scaling.md").write_text(scaling)
    print(table + "\n" + scaling, flush=True)
    say(f"bench: {out / 'bench.md'}, {out / 'bench.json'}; scaling table {runs.runs_root() / 'bench_scaling.md'}")
    return rc


def build_options(parser, default_run_dir: str) -> None:
    """The options of a command that builds one run."""
    parser.add_argument("--preset", default="small", help="tiny, small (default), medium or large")
    parser.add_argument("--seed", type=int, default=42, help="run seed, an integer in [0, 2**63) (default 42)")
    parser.add_argument("--run-dir", default=None,
                        help=f"run directory below the runs root (default {default_run_dir})")
    parser.add_argument("--policies", default=str(PROJECT_DIR / "policies"),
                        help="policy folder (default: the project's policies/)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("FDE_THREADS", "2")),
                        help="DuckDB threads (default 2, or FDE_THREADS)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="runner.py",
        description="Fraud Data Engine: generate, validate and publish a synthetic card-payments universe.",
        epilog="Exit codes: 0 ok, 2 bad input, 3 run directory belongs to another run, "
               "4 pipeline failed, 5 publish failed, 6 published but failed validation (no _passed.flag), "
               "7 certification decided HOLD_REMEDIATE.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="build one run (world -> arrivals -> behaviour -> gates) and publish it",
                         description="Build one run: dbt build with this run's vars, publish the datasets "
                                     "as Parquet, write run_receipt.json last.")
    build_options(run, "runs/<preset>-seed<seed>")
    run.set_defaults(func=cmd_run)

    rep = sub.add_parser("report", help="write a self-contained HTML report of a run (plots and gateboard)",
                         description="Write <run-dir>/report.html: arrivals around the DST changes, weekly "
                                     "shapes, arrivals over the horizon and the gateboard, from the "
                                     "run's published data. Opens without network.")
    rep.add_argument("--run-dir", default=None, help="the run (default runs/<preset>-seed<seed>)")
    rep.add_argument("--preset", default="small", help="preset of the default run directory (default small)")
    rep.add_argument("--seed", type=int, default=42, help="seed of the default run directory (default 42)")
    rep.set_defaults(func=cmd_report)

    doc = sub.add_parser("docs", help="write the dbt documentation site of a run as one static page",
                         description="dbt docs generate --static against the run's database: "
                                     "<run-dir>/docs/index.html with every model, column description and "
                                     "the lineage world -> 5B -> 6B -> gates. Opens without network.")
    doc.add_argument("--run-dir", default=None, help="the run (default runs/<preset>-seed<seed>)")
    doc.add_argument("--preset", default="small", help="preset of the default run directory (default small)")
    doc.add_argument("--seed", type=int, default=42, help="seed of the default run directory (default 42)")
    doc.add_argument("--threads", type=int, default=int(os.environ.get("FDE_THREADS", "2")),
                     help="DuckDB threads (default 2, or FDE_THREADS)")
    doc.set_defaults(func=cmd_docs)

    cer = sub.add_parser("certify", help="build or reuse one run per seed and decide certification",
                         description="Build (or reuse, when validated with the same identity) one run per seed, "
                                     "then write per-seed gateboards (JSON + Markdown), validation_summary.json, "
                                     "seed_comparison.csv, regression_report.md and gate_decision.json, and decide "
                                     "PASS_BPLUS_ROBUST, PASS_B or HOLD_REMEDIATE per segment (exit 0 only on a pass).")
    cer.add_argument("--preset", default="small", help="preset of every run (default small)")
    cer.add_argument("--seeds", default=None,
                     help="comma-separated seeds (default: certification.required_seeds of gates.yaml)")
    cer.add_argument("--out", default=None,
                     help="artefact directory below the runs root (default runs/certification-<preset>)")
    cer.add_argument("--policies", default=str(PROJECT_DIR / "policies"),
                     help="policy folder (default: the project's policies/)")
    cer.add_argument("--threads", type=int, default=int(os.environ.get("FDE_THREADS", "2")),
                     help="DuckDB threads of the runs it builds (default 2, or FDE_THREADS)")
    cer.set_defaults(func=cmd_certify)

    ben = sub.add_parser("bench", help="build one run from an empty database and measure every state",
                         description="Build one run (one dbt node at a time) into runs/bench-<preset>-seed<seed>, "
                                     "recording per state wall and CPU seconds, peak RSS, rows and bytes; then "
                                     "measure the raw zstd Parquet write rate W of the same tables and print the "
                                     "table state / seconds / budget / rows/s / efficiency (rows/s / W). Writes "
                                     "<run>/bench/bench.{md,json} and the scaling table <runs root>/bench_scaling.md "
                                     "(seconds per million arrivals of the latest benchmark of each preset).")
    build_options(ben, "runs/bench-<preset>-seed<seed>")
    ben.set_defaults(func=cmd_bench)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except runs.RunError as e:
        say(f"error: {e}")
        return e.exit_code
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
