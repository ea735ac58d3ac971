"""The bodies of `runner.py report|export|docs|certify|bench|runs|prune|first-model` (`run` is pipeline.run); each
returns its exit code or raises RunError."""
from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

from python_kernels.core.policies import PolicyError, load_policies
from python_kernels.run import dbt, lock, pipeline, runs, states
from python_kernels.run.datasets import DATASETS
from python_kernels.run.exit_codes import ExitCode
from python_kernels.run.progress import say


def report(run_dir: str | None, preset: str, seed: int) -> ExitCode:
    from python_kernels.run import report as html_report

    path = runs.resolve_run_dir(run_dir, preset, seed)
    if not path.is_dir():
        raise runs.RunError(f"no run at {path}; run `runner.py run` first or give --run-dir", ExitCode.BAD_INPUT)
    try:
        with lock.hold(path):
            out = html_report.write_report(path)
    except html_report.ReportError as e:
        raise runs.RunError(str(e), ExitCode.BAD_INPUT) from None
    say(f"report: {out}")
    return ExitCode.OK


def first_model(run_dir: str | None, preset: str, seed: int) -> ExitCode:
    from python_kernels.run import first_model as fm

    path = runs.resolve_run_dir(run_dir, preset, seed)
    if not (path / runs.RECEIPT_FILE).is_file():
        raise runs.RunError(f"no published run at {path}; run `runner.py run` first or give --run-dir", ExitCode.BAD_INPUT)
    try:
        import sklearn  # noqa: F401  (an analysis dependency, not the engine's)
    except ImportError:
        raise runs.RunError("first-model needs scikit-learn (make setup installs it)", ExitCode.BAD_INPUT) from None
    try:
        with lock.hold(path):
            result = fm.first_model(path, seed)
            out = fm.write(path, result)
    except ValueError as e:
        raise runs.RunError(f"{path}: {e}", ExitCode.BAD_INPUT) from None
    say(fm.table(result))
    say(f"first model: {out}")
    return ExitCode.OK


def export(run_dir: str | None, preset: str, seed: int, dataset: str, out: str | None, threads: int) -> ExitCode:
    from python_kernels.run import catalog
    from python_kernels.run.validation import ValidationError

    path = runs.resolve_run_dir(run_dir, preset, seed)
    out_dir = Path(out).resolve() if out else path / "export"
    inside = [p for p in ("data", "work", "validation") if out_dir.is_relative_to(path / p)]
    if inside:
        raise runs.RunError(f"--out {out_dir} is inside the run's {inside[0]}/, which the engine owns; "
                            "choose a folder outside it (default <run-dir>/export)", ExitCode.BAD_INPUT)
    try:
        with lock.hold(path):
            target = catalog.export(path, dataset, out_dir, threads)
    except (catalog.CatalogError, ValidationError) as e:
        raise runs.RunError(str(e), ExitCode.BAD_INPUT) from None
    say(f"export: {target}")
    return ExitCode.OK


def docs(run_dir: str | None, preset: str, seed: int, threads: int) -> ExitCode:
    path = runs.resolve_run_dir(run_dir, preset, seed)
    try:
        receipt = json.loads((path / runs.RECEIPT_FILE).read_text())
    except (OSError, ValueError):
        raise runs.RunError(f"no complete run at {path}: docs read the run's database; "
                            "run `runner.py run` first or give --run-dir", ExitCode.BAD_INPUT) from None
    vars_ = {"seed": receipt["seed"], "preset": receipt["preset"], "policy_dir": receipt["policy_dir"]}
    out = path / "docs" / "index.html"
    with lock.hold(path):
        static = dbt.docs_generate(path, vars_, threads)
        out.parent.mkdir(exist_ok=True)
        tmp = out.with_name(".index.html.tmp")
        tmp.write_bytes(static.read_bytes())
        tmp.replace(out)
    say(f"docs: {out} (one self-contained page: every model, its columns and the lineage graph)")
    return ExitCode.OK


def certify(preset: str, seeds_arg: list[int] | None, out: str | None, policies: str, threads: int) -> ExitCode:
    """Build (or reuse, when validated with the same identity) one run per seed, then decide."""
    from python_kernels.run import certify as artefacts

    policy_dir = Path(policies).resolve()
    try:
        loaded = load_policies(policy_dir)
        loaded.preset(preset)
    except PolicyError as e:
        raise runs.RunError(str(e), ExitCode.BAD_INPUT) from None
    seeds = seeds_arg if seeds_arg is not None else list(loaded["gates"]["certification"]["required_seeds"])
    default_out = runs.runs_root() / f"certification-{preset}{runs.policy_suffix(loaded.parameter_hash)}"
    out_dir = runs.resolve_run_dir(out or str(default_out), preset, seeds[0])
    fingerprint = runs.manifest_fingerprint(preset, loaded.preset(preset))
    reports, flagged, run_dirs = {}, {}, {}
    with lock.hold(out_dir):
        for i, seed in enumerate(seeds, 1):
            run_dir = runs.resolve_run_dir(None, preset, seed, loaded.parameter_hash)
            wanted = {"seed": seed, "preset": preset, "parameter_hash": loaded.parameter_hash,
                      "manifest_fingerprint": fingerprint}
            with lock.hold(run_dir):  # a run reused here must not be rebuilt under it
                reports[seed], flagged[seed] = _certified_run(run_dir, wanted, f"[{i}/{len(seeds)}]", policy_dir,
                                                              threads)
            run_dirs[seed] = run_dir
        decision = artefacts.write_artefacts(out_dir, reports, flagged, run_dirs, loaded["gates"], pipeline.SEGMENTS)
    for seg, d in decision["segments"].items():
        cv = decision["stability"][seg]["cv_overall"]
        say(f"certify {seg}: {d} (worst cross-seed cv {'n/a' if cv is None else f'{cv:.4f}'})")
    say(f"certify: {decision['decision']}; artefacts in {out_dir}"
        + ("".join(f"\n  blocker {b['segment']}: {b['id']} {json.dumps(b['details'], sort_keys=True)}"
                   for b in decision["blockers"])))
    return ExitCode.OK if decision["decision"] in artefacts.PASSING else ExitCode.CERTIFICATION_HOLD


def _certified_run(run_dir: Path, wanted: dict, step: str, policy_dir: Path, threads: int) -> tuple[dict, bool]:
    """The validation report of the run `wanted` names (reused when validated with that identity,
    otherwise built) and whether its flag is valid."""
    from python_kernels.run import certify as artefacts
    from python_kernels.run import validation

    seed = wanted["seed"]
    try:
        reuse = all(validation.open_run(run_dir).identity.get(k) == v for k, v in wanted.items())
    except validation.ValidationError:
        reuse = False
    say(f"certify {step} seed {seed}: " + ("reusing the validated run " if reuse else "building ") + str(run_dir))
    if not reuse:
        # a run that is published but not validated is a verdict to record; any other failure
        # leaves nothing to grade
        try:
            pipeline.run(pipeline.RunConfig(preset=wanted["preset"], seed=seed, policies=str(policy_dir),
                                            threads=threads))
        except runs.RunError as e:
            raise runs.RunError(f"certification stopped: the run of seed {seed} failed "
                                f"(exit {int(e.exit_code)}, {e.exit_code.meaning}): {e}", e.exit_code) from None
    report, flagged = artefacts.read_report(run_dir)
    say(f"certify {step} seed {seed}: {report['verdict']} (grade {report['grade']})")
    return report, flagged


def list_runs() -> ExitCode:
    from python_kernels.run import housekeeping

    print(housekeeping.table(housekeeping.survey()), flush=True)
    return ExitCode.OK


def prune(dry_run: bool) -> ExitCode:
    from python_kernels.run import housekeeping

    housekeeping.prune(runs.runs_root(), dry_run, say)
    return ExitCode.OK


def bench(config: pipeline.RunConfig) -> ExitCode:
    """Build one run from an empty database, measuring every state, then W and the tables."""
    from python_kernels.run import bench as measure

    if config.run_dir is None:
        config = dataclasses.replace(config, run_dir=str(runs.runs_root() / f"bench-{config.preset}-seed{config.seed}"))
    # One dbt node at a time, so every second, CPU second and byte of RSS belongs to one state.
    config = dataclasses.replace(config, dbt_threads=1)
    t0 = time.monotonic()
    prep = pipeline.prepare(config)
    with lock.hold(prep.run_dir):
        meter = measure.Meter(states.node_state)
        try:
            result = pipeline.execute(prep, meter)
        finally:
            peak = meter.close()
        _write_bench(config, meter, result, time.monotonic() - t0, peak)
    return result.exit_code


def _write_bench(config: pipeline.RunConfig, meter, result: pipeline.RunResult, total: float, peak: int) -> None:
    """W of the run's own tables, then bench.{md,json} and the scaling table."""
    import platform

    from python_kernels.run import bench as measure

    run_dir, receipt = result.run_dir, result.receipt

    say("bench: measuring the raw zstd Parquet write rate (W) of the run's own tables")
    con = runs.connect(run_dir, config.threads)
    try:
        # a derived dataset is a view: its rows are read, never written
        written = {m for ms in meter.models.values() for m in ms} - {ds.model for ds in DATASETS if ds.view}
        rows = measure.table_rows(con, sorted(written))
        rates = measure.write_rates(con, sorted(rows), run_dir / "work" / "bench_w")
    finally:
        con.close()
    published = {ds.model: receipt["datasets"][ds.dataset_id]["rows"] for ds in DATASETS if not ds.view}
    record = measure.summarise(meter, rows, rates, published,
                               receipt["datasets"]["arrival_events_5B"]["rows"], total, peak)
    record.update({
        "run_id": receipt["run_id"], "preset": config.preset, "seed": receipt["seed"], "threads": config.threads,
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "memory_bytes": os.sysconf("SC_PHYS_PAGES") * measure.PAGE,
                    "platform": platform.platform(), "python": platform.python_version()},
        "versions": receipt["versions"], "gate_verdict": receipt["gate_verdict"]["verdict"],
    })
    out = run_dir / "bench"
    out.mkdir(exist_ok=True)
    measure.write_json(out / "bench.json", record)
    table = measure.markdown(record, f"Benchmark {receipt['run_id']} ({record['machine']['cpus']} CPUs, "
                                     f"{record['machine']['memory_bytes'] / 1024 ** 3:.0f} GB)")
    (out / "bench.md").write_text(table)
    scaling = measure.scaling_markdown(measure.latest_records(runs.runs_root()))
    (runs.runs_root() / "bench_scaling.md").write_text(scaling)
    print(table + "\n" + scaling, flush=True)
    say(f"bench: {out / 'bench.md'}, {out / 'bench.json'}; scaling table {runs.runs_root() / 'bench_scaling.md'}")
