#!/usr/bin/env python
"""Fraud Data Engine command line: the commands and their options; the work is done in
python_kernels/run/ (pipeline.py for `run`, commands.py for the others).

    python runner.py run --preset small --seed 42 [--run-dir DIR] [--policies DIR] [--threads N] [--reuse DIR]
    python runner.py report [--run-dir DIR]
    python runner.py docs [--run-dir DIR]
    python runner.py certify [--preset P] [--seeds 42,7,101,202] [--out DIR]
    python runner.py bench [--preset P] [--seed S] [--run-dir DIR]
    python runner.py runs
    python runner.py prune [--dry-run]

Exit codes: python_kernels/run/exit_codes.py (also in `runner.py --help`).
"""
from __future__ import annotations

import argparse
import os
import sys

from python_kernels.run import commands, options, pipeline
from python_kernels.run.exit_codes import ExitCode, epilog
from python_kernels.run.progress import say
from python_kernels.run.runs import PROJECT_DIR, RunError


def run_config(args) -> pipeline.RunConfig:
    return pipeline.RunConfig(preset=args.preset, seed=args.seed, run_dir=args.run_dir, policies=args.policies,
                              threads=args.threads, reuse=getattr(args, "reuse", None))


def build_options(parser, default_run_dir: str) -> None:
    """The options of a command that builds one run."""
    parser.add_argument("--preset", type=options.preset, default="small", help="tiny, small (default), medium or large")
    parser.add_argument("--seed", type=options.seed, default=42, help="run seed, an integer in [0, 2**63) (default 42)")
    parser.add_argument("--run-dir", type=options.folder, default=None,
                        help=f"run directory below the runs root (default {default_run_dir})")
    policies_option(parser)
    threads_option(parser, "DuckDB threads")


def policies_option(parser) -> None:
    parser.add_argument("--policies", type=options.folder, default=str(PROJECT_DIR / "policies"),
                        help="policy folder (default: the project's policies/)")


def threads_option(parser, what: str) -> None:
    parser.add_argument("--threads", type=options.threads, default=os.environ.get("FDE_THREADS", "2"),
                        help=f"{what}, an integer in [1, {options.MAX_THREADS}] (default 2, or FDE_THREADS)")


def default_run_options(parser) -> None:
    """The options of a command that reads one existing run."""
    parser.add_argument("--run-dir", type=options.folder, default=None,
                        help="the run (default runs/<preset>-seed<seed>)")
    parser.add_argument("--preset", type=options.preset, default="small",
                        help="preset of the default run directory (default small)")
    parser.add_argument("--seed", type=options.seed, default=42, help="seed of the default run directory (default 42)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="runner.py",
        description="Fraud Data Engine: generate, validate and publish a synthetic card-payments universe.",
        epilog=epilog())
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="build one run (world -> arrivals -> behaviour -> gates) and publish it",
                         description="Build one run: dbt build with this run's vars, publish the datasets "
                                     "as Parquet, write run_receipt.json last.")
    build_options(run, "runs/<preset>-seed<seed>")
    run.add_argument("--reuse", type=options.folder, default=None, metavar="DIR",
                     help="an earlier validated run: its states whose fingerprint is unchanged are reused "
                          "(Parquet hard-linked, tables copied), the others rebuilt; the data equal a full build's")
    run.set_defaults(func=lambda a: pipeline.run(run_config(a)).exit_code)

    rep = sub.add_parser("report", help="write a self-contained HTML report of a run (plots and gateboard)",
                         description="Write <run-dir>/report.html: arrivals around the DST changes, weekly "
                                     "shapes, arrivals over the horizon and the gateboard, from the "
                                     "run's published data. Opens without network.")
    default_run_options(rep)
    rep.set_defaults(func=lambda a: commands.report(a.run_dir, a.preset, a.seed))

    fm = sub.add_parser("first-model", help="train the model a user trains first (gradient boosting on auth_features)",
                        description="Gradient boosting (scikit-learn) on the run's auth_features_6B for truth FRAUD, "
                                    "trained on the first 70% of flows in time and scored on the rest, then on each "
                                    "id column alone; prints AUC and average precision and writes "
                                    "<run-dir>/analysis/first_model.json.")
    default_run_options(fm)
    fm.set_defaults(func=lambda a: commands.first_model(a.run_dir, a.preset, a.seed))

    exp = sub.add_parser("export", help="write one dataset of a validated run as Parquet, for other engines",
                         description="Write the dataset NAME (any of the run's catalog, a view or not) as zstd "
                                     "Parquet to <out>/NAME/, laid out as data/ lays it out (scenario datasets "
                                     "split by scenario_id=...). Only a validated run is read; an existing "
                                     "<out>/NAME is never overwritten.")
    default_run_options(exp)
    exp.add_argument("--dataset", required=True, metavar="NAME", help="a dataset id, e.g. s3_event_stream_with_fraud_6B")
    exp.add_argument("--out", type=options.folder, default=None, metavar="DIR",
                     help="folder to write into (default <run-dir>/export)")
    threads_option(exp, "DuckDB threads of the export")
    exp.set_defaults(func=lambda a: commands.export(a.run_dir, a.preset, a.seed, a.dataset, a.out, a.threads))

    doc = sub.add_parser("docs", help="write the dbt documentation site of a run as one static page",
                         description="dbt docs generate --static against the run's database: "
                                     "<run-dir>/docs/index.html with every model, column description and "
                                     "the lineage world -> 5B -> 6B -> gates. Opens without network.")
    default_run_options(doc)
    threads_option(doc, "DuckDB threads")
    doc.set_defaults(func=lambda a: commands.docs(a.run_dir, a.preset, a.seed, a.threads))

    cer = sub.add_parser("certify", help="build or reuse one run per seed and decide certification",
                         description="Build (or reuse, when validated with the same identity) one run per seed, "
                                     "then write per-seed gateboards (JSON + Markdown), validation_summary.json, "
                                     "seed_comparison.csv, regression_report.md and gate_decision.json, and decide "
                                     "PASS_BPLUS_ROBUST, PASS_B or HOLD_REMEDIATE per segment (exit 0 only on a pass).")
    cer.add_argument("--preset", type=options.preset, default="small", help="preset of every run (default small)")
    cer.add_argument("--seeds", type=options.seed_list, default=None,
                     help=f"{options.SEEDS_ALLOWED} (default: certification.required_seeds of gates.yaml)")
    cer.add_argument("--out", type=options.folder, default=None,
                     help="artefact directory below the runs root (default runs/certification-<preset>)")
    policies_option(cer)
    threads_option(cer, "DuckDB threads of the runs it builds")
    cer.set_defaults(func=lambda a: commands.certify(a.preset, a.seeds, a.out, a.policies, a.threads))

    ben = sub.add_parser("bench", help="build one run from an empty database and measure every state",
                         description="Build one run (one dbt node at a time) into runs/bench-<preset>-seed<seed>, "
                                     "recording per state wall and CPU seconds, peak RSS, rows and bytes; then "
                                     "measure the raw zstd Parquet write rate W of the same tables and print the "
                                     "table state / seconds / budget / rows/s / efficiency (rows/s / W). Writes "
                                     "<run>/bench/bench.{md,json} and the scaling table <runs root>/bench_scaling.md "
                                     "(seconds per million arrivals of the latest benchmark of each preset).")
    build_options(ben, "runs/bench-<preset>-seed<seed>")
    ben.set_defaults(func=lambda a: commands.bench(run_config(a)))

    lst = sub.add_parser("runs", help="list the runs under the runs root",
                         description="One line per run under the runs root (FDE_RUNS_ROOT, default runs/): seed, "
                                     "preset, parameter hash, fingerprint of its last state, status (validated, "
                                     "failed, incomplete), grade, size on disk, the bytes only it holds, age, and "
                                     "the run it reused from.")
    lst.set_defaults(func=lambda a: commands.list_runs())

    pru = sub.add_parser("prune", help="remove failed, incomplete and superseded runs",
                         description="Remove failed, incomplete and superseded runs under the runs root. Keeps the "
                                     "newest validated run per preset, seed and policy folder, every run named in "
                                     "<runs root>/keep (one name per line), every run a kept run reused from, and "
                                     "every run a live process holds.")
    pru.add_argument("--dry-run", action="store_true", help="show what would be removed and why; remove nothing")
    pru.set_defaults(func=lambda a: commands.prune(a.dry_run))
    return p


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # argparse refused an option (BAD_INPUT) or printed --help
        return int(e.code or 0)
    try:
        return int(args.func(args))
    except RunError as e:
        say(f"error: {e}")
        return int(e.exit_code)
    except KeyboardInterrupt:
        say("interrupted")
        return int(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
