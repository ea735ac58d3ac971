"""Reusing the unchanged states of an earlier validated run (`runner.py run --reuse DIR`).

A state is reused when its fingerprint (fingerprints.py) equals the earlier run's; every
other state is rebuilt. Before dbt builds the changed states, the new run's database is given
the reused states' relations:
    a scenario dataset (Parquet files under work/datasets/, macros/dataset.sql): its files are
        hard-linked (the rows are not written again) and its view is re-created over the links;
    a table in the earlier run's DuckDB file: copied into the new one when a rebuilt node, a
        data test that runs or a gate test reads it; the others stay where they are.
The data tests of the reused states are not run again: the earlier run's results for them are
carried into the new run's validation (`carry_checks`), marked as such.
Publishing links the reused datasets' published files and takes their counts and digests
from the earlier receipt.
A hard link shares the file, so both runs must leave it as it is: nothing rewrites a dataset
file in place (the materialisation unlinks the old files before writing new ones), and a
rebuilt state in the new run writes new files.
"""
from __future__ import annotations

import graphlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from python_kernels.run import fingerprints, runs, states, validation
from python_kernels.run.exit_codes import ExitCode


@dataclass(frozen=True)
class Source:
    run_dir: Path
    run_id: str
    states: dict[str, dict]  # the earlier run's fingerprint entries
    datasets: dict[str, dict]  # the earlier run's published datasets (rows, digest, path)


@dataclass(frozen=True)
class Decision:
    reused: tuple[str, ...]
    rebuilt: tuple[str, ...]
    why: dict[str, str]  # rebuilt state -> what changed


def source(reuse_dir: str, run_dir: Path) -> Source:
    """The earlier run to reuse from: a validated run below the runs root with state fingerprints."""
    path = runs.resolve_run_dir(reuse_dir, "", 0)
    if path == run_dir:
        raise runs.RunError(f"--reuse {reuse_dir!r} is this run's own directory; a run rebuilt in place "
                            "needs no --reuse (name the earlier run, or leave --reuse out)", ExitCode.BAD_INPUT)
    try:
        valid = validation.open_run(path)
    except validation.ValidationError as e:
        raise runs.RunError(f"--reuse {reuse_dir!r}: only a validated run can be reused: {e}",
                            ExitCode.BAD_INPUT) from None
    entries = valid.receipt.get("states")
    if not entries or not all("fingerprint" in e for e in entries.values()):
        raise runs.RunError(f"--reuse {reuse_dir!r}: {path} records no state fingerprints (built by an "
                            "earlier version of the engine); rebuild it, or run without --reuse", ExitCode.BAD_INPUT)
    _check_in_place(path)
    return Source(path, valid.receipt["run_id"], entries, valid.receipt["datasets"])


def _check_in_place(path: Path) -> None:
    """A run's dataset views read its files by absolute path: a run moved or renamed since it was
    built cannot lend them."""
    import duckdb

    try:
        con = duckdb.connect(str(path / "work" / "engine.duckdb"), read_only=True)
        try:
            views = con.execute("select view_name, sql from duckdb_views() where not internal").fetchall()
        finally:
            con.close()
    except duckdb.Error as e:
        raise runs.RunError(f"--reuse: cannot read the database of {path} ({e}); is a process writing it?",
                            ExitCode.BAD_INPUT) from None
    here = str(runs.datasets_dir(path))
    astray = sorted(name for name, sql in views if "read_parquet" in sql and here not in sql)
    if astray:
        raise runs.RunError(f"--reuse: {path} was moved or renamed since it was built (its views "
                            f"{', '.join(astray[:3])} read files elsewhere); reuse it where it was built, or "
                            "rebuild it", ExitCode.BAD_INPUT)


def decide(earlier: dict[str, dict], now: dict[str, dict]) -> Decision:
    reused = tuple(s for s in now if s in earlier and earlier[s]["fingerprint"] == now[s]["fingerprint"])
    rebuilt = tuple(s for s in now if s not in reused)
    return Decision(reused, rebuilt, {s: fingerprints.changes(earlier.get(s), now[s]) for s in rebuilt})


def nodes_of(nodes: dict, wanted) -> list[dict]:
    """The project's models and seeds of the states `wanted`, without the parameter table."""
    return [n for n in nodes.values()
            if n["resource_type"] in ("model", "seed") and n["package_name"] == fingerprints.PROJECT
            and n["name"] != fingerprints.PARAMETER_TABLE and states.declared(n["config"]["meta"]) in wanted]


def selection(nodes: dict, decision: Decision) -> list[str]:
    """dbt --select for the rebuilt states: their models and seeds, and the parameter table."""
    return sorted({n["name"] for n in nodes_of(nodes, decision.rebuilt)} | {fingerprints.PARAMETER_TABLE})


def _states_of(nodes: dict) -> dict[str, str]:
    """unique_id -> declared state of every model and seed."""
    return {uid: states.declared(n["config"]["meta"]) for uid, n in nodes.items()
            if n["resource_type"] in ("model", "seed")}


def read_by_the_rebuild(nodes: dict, decision: Decision, gate_tag: str) -> set[str]:
    """Names of the reused models and seeds that something this run executes reads: a rebuilt
    node, a data test of a rebuilt node (dbt's buildable selection; the parameter table is
    rebuilt in every run, so the tests that read it run too), or a gate test."""
    state_of = _states_of(nodes)
    rebuilt = {uid for uid, state in state_of.items() if state in decision.rebuilt
               or nodes[uid]["name"] == fingerprints.PARAMETER_TABLE}  # rebuilt in every run
    readers = [n for uid, n in nodes.items() if uid in rebuilt or n["resource_type"] == "test" and (
        gate_tag in n["tags"] or rebuilt & set(n["depends_on"].get("nodes", [])))]
    return {nodes[p]["name"] for n in readers for p in n["depends_on"].get("nodes", [])
            if p in state_of and p not in rebuilt}


CARRIED_RESULTS = "reused_run_results.json"


def carry_checks(src: Source, ran: Path, out: Path, nodes: dict, decision: Decision, results_file: str) -> int:
    """Write the earlier run's results of the data tests that read only reused states and did not
    run here, each marked as carried; returns how many."""
    state_of = _states_of(nodes)
    here = {r["unique_id"] for r in json.loads(ran.read_text())["results"]}
    carried = []
    for r in json.loads((src.run_dir / "work" / results_file).read_text())["results"]:
        node = nodes.get(r["unique_id"])
        parents = node["depends_on"].get("nodes", []) if node else []
        if node is None or r["unique_id"] in here or not parents \
                or not all(state_of.get(p) in decision.reused for p in parents):
            continue
        carried.append({**r, "message": f"carried from {src.run_dir.name}: {r.get('message') or r['status']}"})
    out.write_text(json.dumps({"results": carried}, indent=1))
    return len(carried)


def _link_tree(src: Path, dst: Path) -> int:
    shutil.rmtree(dst, ignore_errors=True)
    return runs.link_parquet(sorted(src.rglob("*.parquet")), src, dst)


def _inputs_first(nodes: dict, names: set[str]) -> list[str]:
    """`names` ordered so that every model comes after the ones it reads (a view can be created
    only once the relations it reads exist)."""
    by_id = {uid: n["name"] for uid, n in nodes.items()}
    reads = {n["name"]: {by_id[p] for p in n["depends_on"].get("nodes", []) if by_id.get(p) in names}
             for n in nodes.values() if n["name"] in names and n["resource_type"] in ("model", "seed")}
    return list(graphlib.TopologicalSorter(reads).static_order())


def populate(run_dir: Path, src: Source, nodes: dict, decision: Decision, threads: int, gate_tag: str) -> dict:
    """Give the new run's database the reused states' relations: every dataset view (over
    hard links), and a copy of each table the rebuild reads (the others stay in the earlier
    run's database: no rebuilt node, test or publish step reads them). Returns counts for the log."""
    import duckdb

    reused = nodes_of(nodes, decision.reused)
    wanted = {n["name"] for n in reused}
    # a reused view is created anew over the relations it reads, so those are needed here too
    needed = read_by_the_rebuild(nodes, decision, gate_tag) | {
        nodes[p]["name"] for n in reused if n["config"].get("materialized") == "view"
        for p in n["depends_on"].get("nodes", []) if p in nodes}
    runs.drop_database(run_dir)
    (run_dir / "work").mkdir(parents=True, exist_ok=True)
    old_datasets, new_datasets = runs.datasets_dir(src.run_dir), runs.datasets_dir(run_dir)
    con = duckdb.connect(str(run_dir / "work" / "engine.duckdb"))
    linked = copied = files = left = 0
    try:
        con.execute(f"set threads = {int(threads)}")
        con.execute(f"attach '{src.run_dir / 'work' / 'engine.duckdb'}' as earlier (read_only)")
        views = dict(con.execute("select view_name, sql from duckdb_views() where database_name = 'earlier' "
                                 "and schema_name = 'main'").fetchall())
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where database_name = 'earlier' "
                                            "and schema_name = 'main'").fetchall()}
        missing = sorted(wanted - set(views) - tables)
        if missing:
            raise runs.RunError(f"--reuse: {src.run_dir} holds no relation for {', '.join(missing[:10])}; "
                                "rebuild that run, or run without --reuse", ExitCode.BAD_INPUT)
        for name in _inputs_first(nodes, wanted):
            if name in views and str(old_datasets) in views[name]:
                files += _link_tree(old_datasets / name, new_datasets / name)
                con.execute(views[name].replace(str(old_datasets), str(new_datasets)))
                linked += 1
            elif name in views:  # a derived dataset: a view over relations created before it
                con.execute(views[name])
                linked += 1
            elif name in needed:
                con.execute(f'create table main."{name}" as select * from earlier.main."{name}"')
                copied += 1
            else:
                left += 1
        con.execute("detach earlier")
    finally:
        con.close()
    return {"datasets_linked": linked, "files_linked": files, "tables_copied": copied, "tables_left": left}


def announce(src: Source, decision: Decision, say) -> None:
    say(f"reuse from {src.run_dir.name} ({src.run_id}): reusing "
        + (", ".join(decision.reused) or "nothing") + "; building " + (", ".join(decision.rebuilt) or "nothing"))
    for state in decision.rebuilt:
        say(f"  {state}: {decision.why[state]}")


def record(src: Source | None, decision: Decision | None) -> dict:
    """The receipt's account of reuse."""
    if src is None:
        return {}
    return {"reused_from": {"run_dir": str(src.run_dir), "run_id": src.run_id,
                            "states": list(decision.reused)}}

