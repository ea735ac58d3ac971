"""dbt for one run, in-process: the only place that sets dbt's environment (profiles.yml and
macros/dataset.sql read it), changes the working directory and releases dbt-duckdb's
connections."""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from python_kernels.run import runs, states
from python_kernels.run.exit_codes import ExitCode
from python_kernels.run.progress import Progress

PROJECT_DIR = runs.PROJECT_DIR
BUILD_RESULTS = "build_run_results.json"
GATE_TAG = "gate"  # the gate tests: left out of the build, run after publishing (gate_tests)


@contextlib.contextmanager
def _run_environment(run_dir: Path, threads: int):
    """The run's database, dataset folder and DuckDB threads for the profile, the project as the
    working directory (relative paths in profiles and vars are project-relative); all restored
    afterwards, so one command leaves nothing behind for the next in the same process."""
    env = {
        "FDE_DUCKDB_PATH": str(run_dir / "work" / "engine.duckdb"),
        "FDE_DATASETS_DIR": str(runs.datasets_dir(run_dir)),
        "FDE_THREADS": str(threads),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DO_NOT_TRACK": os.environ.get("DO_NOT_TRACK", "1"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": os.environ.get("DBT_SEND_ANONYMOUS_USAGE_STATS", "false"),
    }
    saved = {k: os.environ.get(k) for k in env}
    cwd = os.getcwd()
    os.environ.update(env)
    os.chdir(PROJECT_DIR)
    try:
        yield
    finally:
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def invoke(command: str, run_dir: Path, vars_: dict, threads: int, progress: Progress,
           selection: list[str], callbacks=(), dbt_threads: int | None = None, manifest=None):
    """Run one dbt command for this run and release DuckDB afterwards.

    `dbt_threads` is how many nodes dbt runs at once (default: the profile's, FDE_DBT_THREADS
    or 2); `manifest`, one parsed for the same vars, spares dbt parsing again. dbt-duckdb
    keeps its connection open after the command; the runner's own connection
    to the same file needs it closed first (DuckDB refuses a second, differently configured one).
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    work = run_dir / "work"
    runs.datasets_dir(run_dir).mkdir(parents=True, exist_ok=True)  # DuckDB's COPY makes only the last folder
    args = [*command.split(), "--project-dir", str(PROJECT_DIR), "--target-path", str(work / "target"),
            "--log-path", str(run_dir / "logs"), "--vars", json.dumps(vars_), "--quiet",
            *(["--threads", str(dbt_threads)] if dbt_threads is not None else []), *selection]
    with _run_environment(run_dir, threads):
        try:
            return dbtRunner(manifest=manifest, callbacks=[progress, *callbacks]).invoke(args)
        finally:
            progress.close()
            env = DuckDBConnectionManager._ENV
            if env is not None:
                env.close()
            DuckDBConnectionManager.close_all_connections()


def _log(run_dir: Path) -> str:
    return f"log: {run_dir / 'logs' / 'dbt.log'}"


def plan_build(run_dir: Path, vars_: dict, threads: int) -> tuple[object, dict[str, tuple[str, str]]]:
    """Parse the project for this run: the manifest (for `build`) and, for every node the build
    runs, its state and part of it (states.WORK for a model or seed, states.TESTS for a data
    test; a test that reads no node counts under "seeds")."""
    result = invoke("parse", run_dir, vars_, threads, Progress(), [])
    if not result.success:
        raise runs.RunError(f"dbt parse failed: {result.exception or 'see the dbt log'}\n{_log(run_dir)}",
                            ExitCode.PIPELINE_FAILED)
    nodes = json.loads((run_dir / "work" / "target" / "manifest.json").read_text())["nodes"]
    planned = {uid: ((states.state_of_test(nodes, uid) or "seeds", states.TESTS) if node["resource_type"] == "test"
                     else (states.declared(node["config"]["meta"]), states.WORK))
               for uid, node in nodes.items()
               if node["resource_type"] in ("model", "seed", "test") and GATE_TAG not in node["tags"]}
    return result.result, planned


def build(run_dir: Path, vars_: dict, threads: int, progress: Progress, callbacks=(),
          dbt_threads: int | None = None, manifest=None, select: list[str] | None = None) -> dict:
    """Build models, seeds and data tests except the gate tests (only the nodes `select` names,
    when given, and the tests of theirs whose other inputs the database already holds);
    returns the manifest's nodes."""
    selection = ["--exclude", f"tag:{GATE_TAG}"]
    if select is not None:
        selection += ["--select", *select, "--indirect-selection", "buildable"]
    result = invoke("build", run_dir, vars_, threads, progress, selection, callbacks, dbt_threads, manifest)
    if not result.success:
        detail = "\n  ".join(progress.failures[:10]) or str(result.exception or "see the dbt log")
        raise runs.RunError(f"dbt build failed:\n  {detail}\n{_log(run_dir)}", ExitCode.PIPELINE_FAILED)
    work = run_dir / "work"
    os.replace(work / "target" / "run_results.json", work / BUILD_RESULTS)
    return json.loads((work / "target" / "manifest.json").read_text())["nodes"]


def gate_tests(run_dir: Path, vars_: dict, threads: int, dbt_threads: int | None = None) -> Path:
    """Run the gate tests (a failing gate is a verdict, not a crash); returns their results file."""
    result = invoke("test", run_dir, vars_, threads, Progress(), ["--select", f"tag:{GATE_TAG}"],
                    dbt_threads=dbt_threads)
    path = run_dir / "work" / "target" / "run_results.json"
    if result.exception is not None or not path.exists():
        raise runs.RunError(f"dbt gate tests could not run: {result.exception}\n{_log(run_dir)}",
                            ExitCode.PIPELINE_FAILED)
    return path


def docs_generate(run_dir: Path, vars_: dict, threads: int) -> Path:
    """dbt docs generate --static against the run's database; returns the one-page site."""
    result = invoke("docs generate", run_dir, vars_, threads, Progress(), ["--static"])
    static = run_dir / "work" / "target" / "static_index.html"
    if not result.success or not static.exists():
        raise runs.RunError(f"dbt docs generate failed: {result.exception or 'see the dbt log'}\n{_log(run_dir)}",
                            ExitCode.PIPELINE_FAILED)
    return static
