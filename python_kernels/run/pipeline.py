"""One run as steps: prepare (everything checked before anything is written), then, holding the
run directory's lock, claim it, build, publish, validate and write the receipt. `run` chains
them; certify calls it, bench holds the lock over `execute` and its own measurements."""
from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from python_kernels.core.digest import table_digest
from python_kernels.core.policies import PolicyError, load_policies
from python_kernels.core.rng import check_seed
from python_kernels.run import catalog, dbt, fingerprints, lock, reuse, runs, states, validation
from python_kernels.run.datasets import DATASETS
from python_kernels.run.exit_codes import ExitCode
from python_kernels.run.progress import Plan, Progress, say

SEGMENTS = ("5B", "6B")  # segments whose gates the pipeline produces (gates.yaml lists pending ones)


@dataclass(frozen=True)
class RunConfig:
    preset: str
    seed: int
    policies: str
    threads: int  # DuckDB threads
    run_dir: str | None = None  # default: <runs root>/<preset>-seed<seed>
    dbt_threads: int | None = None  # dbt nodes at once; default: the profile's (FDE_DBT_THREADS or 2)
    reuse: str | None = None  # an earlier validated run whose unchanged states this run reuses


@dataclass(frozen=True)
class Prepared:
    config: RunConfig
    seed: int
    policy_dir: Path
    policies: object
    run_dir: Path
    identity: dict
    reuse: reuse.Source | None = None

    @property
    def dbt_vars(self) -> dict:
        return {"seed": self.seed, "preset": self.config.preset, "policy_dir": str(self.policy_dir)}


@dataclass(frozen=True)
class BuildResult:
    started: float  # time.monotonic() when the build began: the run's clock
    seconds: float
    state_seconds: dict[str, float]  # dbt node seconds per declared state
    states: dict[str, dict]  # state -> its fingerprint entry and whether this run built it
    reuse: dict  # the receipt's account of what was reused from where ({} for a full build)
    reused_models: frozenset[str] = frozenset()  # models of the reused states


@dataclass(frozen=True)
class PublishResult:
    datasets: dict[str, dict]
    scenario_ids: list[str]
    seconds: float


@dataclass(frozen=True)
class ValidationResult:
    summary: dict
    seconds: float

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.summary["verdict"] == "PASS" else ExitCode.NOT_VALIDATED


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    receipt: dict
    exit_code: ExitCode


def _measure(meter):
    return meter.phase if meter is not None else lambda name: contextlib.nullcontext()


def prepare(config: RunConfig) -> Prepared:
    """Check the seed, policies, preset, seed files, run directory and disk; nothing is written."""
    try:
        seed = check_seed(config.seed)
    except ValueError as e:
        raise runs.RunError(f"--seed: {e}", ExitCode.BAD_INPUT) from None
    policy_dir = Path(config.policies).resolve()
    try:
        policies = load_policies(policy_dir)
    except PolicyError as e:
        raise runs.RunError(str(e), ExitCode.BAD_INPUT) from None
    known = policies["presets"]["presets"]
    if config.preset not in known:
        raise runs.RunError(f"unknown preset {config.preset!r}; allowed: {', '.join(known)}", ExitCode.BAD_INPUT)
    preset = policies.preset(config.preset)
    runs.check_seed_files()
    run_dir = runs.resolve_run_dir(config.run_dir, config.preset, seed, policies.parameter_hash)
    runs.check_disk(run_dir, config.preset, preset)
    identity = {
        "seed": seed,
        "preset": config.preset,
        "parameter_hash": policies.parameter_hash,
        "manifest_fingerprint": runs.manifest_fingerprint(config.preset, preset),
    }
    source = reuse.source(config.reuse, run_dir) if config.reuse is not None else None
    return Prepared(config, seed, policy_dir, policies, run_dir, identity, source)


def _state_seconds(nodes: dict, node_seconds: dict[str, float]) -> dict[str, float]:
    booked: dict[str, float] = defaultdict(float)
    for uid, seconds in node_seconds.items():
        state = states.declared(nodes[uid]["config"]["meta"])
        if state not in states.NODE_STATES:
            raise runs.RunError(f"{uid} declares state {state!r}; allowed: {', '.join(states.NODE_STATES)} "
                                "(meta.state, in its folder's YAML or dbt_project.yml)", ExitCode.PIPELINE_FAILED)
        booked[state] += seconds
    return booked


def build(prep: Prepared, meter=None) -> BuildResult:
    """dbt build without the gate tests. With a bench `meter`, every state is measured and the
    build starts from an empty database (a benchmark must not reuse earlier tables)."""
    if meter is not None:
        runs.drop_database(prep.run_dir)
    say(f"run {prep.run_dir.name}: preset={prep.config.preset} seed={prep.seed} "
        f"parameter_hash={prep.policies.parameter_hash[:12]} -> {prep.run_dir}")
    t0 = time.monotonic()
    manifest, node_parts = dbt.plan_build(prep.run_dir, prep.dbt_vars, prep.config.threads)
    parsed = fingerprints.load_manifest(prep.run_dir / "work" / "target" / "manifest.json")
    root = {**prep.identity, "versions": runs.package_versions()}
    root.pop("parameter_hash")  # each state hashes the policy values it reads, not the whole set
    now = fingerprints.state_fingerprints(runs.PROJECT_DIR, parsed, prep.policies, root)
    expected = states.expected_seconds(runs.expected_arrivals(prep.policies.preset(prep.config.preset)))
    select, decision, reused_models = None, None, frozenset()
    if prep.reuse is not None:
        decision = _take_over(prep, parsed["nodes"], now)
        select = reuse.selection(parsed["nodes"], decision)
        reused_models = frozenset(n["name"] for n in reuse.nodes_of(parsed["nodes"], decision.reused))
        node_parts = {uid: part for uid, part in node_parts.items() if part[0] in decision.rebuilt
                      or uid.endswith(f".{fingerprints.PARAMETER_TABLE}")}
        expected = {part: s for part, s in expected.items() if part[0] in decision.rebuilt or part[0] not in now}
    progress = Progress(plan=Plan(node_parts, expected))
    nodes = dbt.build(prep.run_dir, prep.dbt_vars, prep.config.threads, progress,
                      [meter] if meter is not None else [], prep.config.dbt_threads, manifest, select)
    if meter is not None:
        meter.book_tests(lambda uid: states.state_of_test(nodes, uid))
    carried = prep.run_dir / "work" / reuse.CARRIED_RESULTS
    carried.unlink(missing_ok=True)
    if decision is not None:
        n = reuse.carry_checks(prep.reuse, prep.run_dir / "work" / dbt.BUILD_RESULTS, carried, parsed["nodes"],
                               decision, dbt.BUILD_RESULTS)
        say(f"reuse: {n} data tests of the reused states carried from {prep.reuse.run_dir.name}")
    built = set(now) if decision is None else set(decision.rebuilt)
    state_entries = {s: {**entry, "built": s in built} for s, entry in now.items()}
    return BuildResult(t0, time.monotonic() - t0, _state_seconds(nodes, progress.node_seconds), state_entries,
                       reuse.record(prep.reuse, decision), reused_models)


def _take_over(prep: Prepared, nodes: dict, now: dict) -> reuse.Decision:
    """Decide what to reuse from the earlier run and give this run's database its relations."""
    decision = reuse.decide(prep.reuse.states, now)
    reuse.announce(prep.reuse, decision, say)
    with lock.hold(prep.reuse.run_dir):  # the earlier run must not be rebuilt while it is read
        counts = reuse.populate(prep.run_dir, prep.reuse, nodes, decision, prep.config.threads, dbt.GATE_TAG)
    say(f"reuse: {counts['datasets_linked']} datasets linked ({counts['files_linked']} files), "
        f"{counts['tables_copied']} tables copied, {counts['tables_left']} that nothing rebuilt reads left "
        "in the earlier run")
    return decision


def publish(prep: Prepared, built: BuildResult, meter=None) -> PublishResult:
    """Every dataset into data/, one rename each, with its row count and content digest. A
    dataset of a reused state is the earlier run's: its published files are hard-linked and
    its count and digest are the ones the earlier run computed over those very files."""
    import duckdb

    t0 = time.monotonic()
    datasets = {}
    measure = _measure(meter)
    try:
        con = runs.connect(prep.run_dir, prep.config.threads)
        try:
            for ds in DATASETS:
                with measure("publish"):
                    reused = ds.model in built.reused_models
                    if reused:
                        entry = prep.reuse.datasets[ds.dataset_id]
                        n, digest = entry["rows"], entry["content_digest"]
                    else:
                        n, digest = table_digest(con, ds.model)
                    if ds.view:
                        runs.unpublish(ds, prep.run_dir)
                        where = {"view": True}
                    else:
                        written = prep.reuse.run_dir / entry["path"] if reused else \
                            runs.datasets_dir(prep.run_dir) / ds.model if ds.scenario else None
                        path = runs.publish(con, ds, prep.run_dir / "data", written)
                        where = {"path": str(path.relative_to(prep.run_dir))}
                datasets[ds.dataset_id] = {"rows": n, "content_digest": digest, **where}
                say(f"published {ds.dataset_id:<36} {n:>12,} rows" + (" (reused)" if reused else "")
                    + (" (a view)" if ds.view else ""))
            with measure("publish"):
                catalog.write(prep.run_dir, con, datasets)
            scenarios = [r[0] for r in con.execute(
                "select scenario_id from scenario_manifest_5A order by scenario_id").fetchall()]
        finally:
            con.close()
    except (duckdb.Error, catalog.CatalogError) as e:
        raise runs.RunError(f"publishing failed: {e}", ExitCode.PUBLISH_FAILED) from None
    return PublishResult(datasets, scenarios, time.monotonic() - t0)


def validate(prep: Prepared, meter=None) -> ValidationResult:
    """The gate tests, then the validation bundle (and _passed.flag when the run passes)."""
    t0 = time.monotonic()
    with _measure(meter)("validation"):
        gate_results = dbt.gate_tests(prep.run_dir, prep.dbt_vars, prep.config.threads, prep.config.dbt_threads)
        con = runs.connect(prep.run_dir, prep.config.threads)
        try:
            carried = prep.run_dir / "work" / reuse.CARRIED_RESULTS
            summary = validation.validate_run(prep.run_dir, con, prep.policies["gates"],
                                              [prep.run_dir / "work" / dbt.BUILD_RESULTS, gate_results,
                                               *([carried] if carried.exists() else [])],
                                              segments=SEGMENTS)
        finally:
            con.close()
    say(f"validation: {summary['verdict']} (grade {summary['grade']})"
        + (f"; blockers: {', '.join(summary['blockers'])}" if summary["blockers"] else ""))
    return ValidationResult(summary, time.monotonic() - t0)


def write_receipt(prep: Prepared, built: BuildResult, published: PublishResult,
                  validated: ValidationResult) -> dict:
    """run_receipt.json, written last: only a run with a receipt is complete."""
    per_state = {**built.state_seconds, "publish": published.seconds, "validation": validated.seconds}
    summary = validated.summary
    receipt = {
        "run_id": f"{prep.config.preset}-seed{prep.seed}-{prep.policies.parameter_hash[:12]}",
        **prep.identity,
        "scenario_ids": published.scenario_ids,
        "policy_dir": str(prep.policy_dir),
        "versions": runs.package_versions(),
        "threads": prep.config.threads,
        "wall_seconds": {"build": round(built.seconds, 3), "total": round(time.monotonic() - built.started, 3),
                         "per_state": {k: round(v, 3) for k, v in sorted(per_state.items())}},
        "states": built.states,
        **built.reuse,
        "datasets": published.datasets,
        "gate_verdict": {k: summary[k] for k in ("verdict", "grade", "blockers", "bundle_digest")},
    }
    runs.write_receipt(prep.run_dir, receipt)
    return receipt


def run(config: RunConfig) -> RunResult:
    """Build, publish and validate one run; its exit code is OK or NOT_VALIDATED (a run that
    cannot finish raises RunError)."""
    prep = prepare(config)
    with lock.hold(prep.run_dir):
        return execute(prep)


def execute(prep: Prepared, meter=None) -> RunResult:
    """Claim the run directory, then build, publish, validate and write the receipt; the caller
    holds the directory's lock."""
    runs.claim_run_dir(prep.run_dir, prep.identity)
    built = build(prep, meter)
    published = publish(prep, built, meter)
    validated = validate(prep, meter)
    receipt = write_receipt(prep, built, published, validated)
    say(f"done in {time.monotonic() - built.started:.1f}s; receipt {prep.run_dir / runs.RECEIPT_FILE}")
    if validated.exit_code is ExitCode.NOT_VALIDATED:
        say("the run is published but not validated (no _passed.flag); see validation/validation_report.json")
    return RunResult(prep.run_dir, receipt, validated.exit_code)
