"""Run directories: identity, confinement, atomic publish, the receipt.

A run is one (seed, preset, policy set) and lives in one directory:
    run_identity.json   written first; a directory holding another identity is refused
    work/               DuckDB database, dbt target, spill space (not for readers)
    work/datasets/      scenario datasets as the `dataset` materialisation wrote them
    data/...            published Parquet datasets (see datasets.py)
    run.duckdb          the catalog: every dataset by name, as a view (catalog.py)
    run_receipt.json    written last: only a run with a receipt is complete
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from importlib import metadata
from pathlib import Path

from python_kernels.core.policies import load_policies
from python_kernels.run.datasets import Dataset
from python_kernels.run.exit_codes import ExitCode

PROJECT_DIR = Path(__file__).resolve().parents[2]
IDENTITY_FILE = "run_identity.json"
RECEIPT_FILE = "run_receipt.json"
CATALOG_FILE = "run.duckdb"  # written by catalog.py
STAGING = ".staging"
PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb", "numba", "numpy", "pyarrow", "scipy", "tzdata", "PyYAML")


class RunError(Exception):
    """A run cannot proceed; `exit_code` says which kind of failure."""

    def __init__(self, message: str, exit_code: ExitCode):
        super().__init__(message)
        self.exit_code = exit_code


def runs_root() -> Path:
    return Path(os.environ.get("FDE_RUNS_ROOT", PROJECT_DIR / "runs")).resolve()


def policy_suffix(parameter_hash: str | None) -> str:
    """'' for the project's own policy set, else '-' and the first 12 hex of its parameter_hash:
    appended to default directory names so a profile's runs never collide with the default ones."""
    if parameter_hash is None or parameter_hash == load_policies(PROJECT_DIR / "policies").parameter_hash:
        return ""
    return f"-{parameter_hash[:12]}"


def default_run_name(preset: str, seed: int, parameter_hash: str | None = None) -> str:
    return f"{preset}-seed{seed}{policy_suffix(parameter_hash)}"


def resolve_run_dir(run_dir: str | None, preset: str, seed: int, parameter_hash: str | None = None) -> Path:
    """The run directory, confined to the runs root; `..` is refused outright."""
    root = runs_root()
    if run_dir is None:
        return root / default_run_name(preset, seed, parameter_hash)
    if ".." in Path(run_dir).parts:
        raise RunError(f"--run-dir {run_dir!r} contains '..'; give a path inside {root}", ExitCode.BAD_INPUT)
    candidate = Path(run_dir)
    candidate = (candidate if candidate.is_absolute() else Path.cwd() / candidate).resolve()
    if candidate == root or root not in candidate.parents:
        raise RunError(
            f"--run-dir {run_dir!r} is outside the allowed root {root}; "
            "choose a folder below it (or set FDE_RUNS_ROOT)", ExitCode.BAD_INPUT)
    return candidate


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_seed_files() -> None:
    """Every seed the project declares must have its CSV with a header, before anything is written."""
    import yaml

    problems = []
    for props in sorted((PROJECT_DIR / "seeds").rglob("_*.yml")):
        for seed in (yaml.safe_load(props.read_text()) or {}).get("seeds", []):
            csv = props.parent / f"{seed['name']}.csv"
            if not csv.is_file():
                problems.append(f"{csv.relative_to(PROJECT_DIR)} is missing (declared in {props.name})")
            elif not csv.read_text(encoding="utf-8").partition("\n")[0].strip():
                problems.append(f"{csv.relative_to(PROJECT_DIR)} has no header line")
    if problems:
        raise RunError("seed data is incomplete: " + "; ".join(problems)
                       + ". Restore the files from git (git checkout -- seeds/).", ExitCode.BAD_INPUT)


def manifest_fingerprint(preset_name: str, preset: dict) -> str:
    """sha256 of the world definition: every seed CSV (by path), the preset and the tzdata release."""
    import tzdata

    h = hashlib.sha256()
    for path in sorted((PROJECT_DIR / "seeds").rglob("*.csv")):
        h.update(path.relative_to(PROJECT_DIR).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    h.update(json.dumps({"preset": preset_name, "knobs": preset}, sort_keys=True).encode())
    h.update(f"tzdata={tzdata.IANA_VERSION}".encode())
    return h.hexdigest()


def package_versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _write_json_atomic(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


# Disk a run takes at its peak per expected arrival. `medium` seed 42 (45.1M arrivals, 50M
# expected) ends at 14 GB (Parquet 13 GB, database 1 GB); it peaked at 37.8 GB when chunked
# models still staged their rows in DuckDB temp tables (spilled to disk). They now write their
# chunks as Parquet, so the peak is the final size plus DuckDB's spill for joins and gates.
# Expected arrivals are arrivals_target per scenario, which overstates a stress scenario that
# starts later.
DISK_BYTES_PER_ARRIVAL = 500


def expected_arrivals(preset: dict) -> int:
    return preset["arrivals_target"] * len(preset["scenarios"])


def disk_estimate(preset: dict) -> int:
    return expected_arrivals(preset) * DISK_BYTES_PER_ARRIVAL


def _tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def check_disk(run_dir: Path, preset_name: str, preset: dict) -> None:
    """Refuse to start a run the free disk cannot hold (what the run directory already holds
    is rebuilt in place, so it counts as available)."""
    existing = next(p for p in (run_dir, *run_dir.parents) if p.exists())
    free = shutil.disk_usage(existing).free + _tree_bytes(run_dir)
    need = disk_estimate(preset)
    if need > free:
        raise RunError(
            f"preset {preset_name!r} needs about {need / 1e9:.1f} GB of disk for {run_dir} "
            f"(~{DISK_BYTES_PER_ARRIVAL} B x {preset['arrivals_target']:,} arrivals x "
            f"{len(preset['scenarios'])} scenarios), but only {free / 1e9:.1f} GB is free there; "
            "free some space, point FDE_RUNS_ROOT at a larger disk or choose a smaller preset", ExitCode.BAD_INPUT)


def claim_run_dir(run_dir: Path, identity: dict) -> None:
    """Create the run directory for `identity`, or reuse it if it holds the same identity; the
    caller holds the directory's lock (lock.hold), so no other runner claims it meanwhile."""
    ident_path = run_dir / IDENTITY_FILE
    if ident_path.exists():
        try:
            existing = json.loads(ident_path.read_text())
        except (OSError, ValueError):
            existing = None
        if existing != identity:
            differ = (f" They differ in {_differences(existing, identity)}." if isinstance(existing, dict) else "")
            raise RunError(
                f"run directory {run_dir} belongs to another run "
                f"({_describe(existing)}); this run is {_describe(identity)}.{differ} "
                "Choose another --run-dir, or delete that directory if you mean to replace it.", ExitCode.RUN_DIR_TAKEN)
    elif run_dir.exists() and any(run_dir.iterdir()):
        raise RunError(
            f"run directory {run_dir} exists, is not empty and is not a run of this engine; "
            "choose another --run-dir or empty it", ExitCode.RUN_DIR_TAKEN)
    (run_dir / "work").mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(exist_ok=True)
    if not ident_path.exists():
        _write_json_atomic(ident_path, identity)
    # A receipt from an earlier attempt no longer vouches for what is about to be rebuilt, nor
    # does its catalog (publishing writes it anew)
    (run_dir / RECEIPT_FILE).unlink(missing_ok=True)
    (run_dir / CATALOG_FILE).unlink(missing_ok=True)


def connect(run_dir: Path, threads: int):
    """Read-only connection to the run's database under the same limits as the dbt profile
    (DuckDB's own default would let its buffer pool grow to 80% of RAM while publishing)."""
    import duckdb

    con = duckdb.connect(str(run_dir / "work" / "engine.duckdb"), read_only=True)
    con.execute(f"set memory_limit = '{os.environ.get('FDE_MEMORY_LIMIT', '10GB')}'")
    con.execute(f"set threads = {int(threads)}")
    con.execute("set preserve_insertion_order = false")
    return con


def datasets_dir(run_dir: Path) -> Path:
    """Where dbt's `dataset` materialisation (macros/dataset.sql) writes the scenario datasets."""
    return run_dir / "work" / "datasets"


def drop_database(run_dir: Path) -> None:
    """Remove the run's DuckDB database, its WAL, spill folder and dataset files (the run is
    rebuilt from nothing)."""
    work = run_dir / "work"
    for name in ("engine.duckdb", "engine.duckdb.wal"):
        (work / name).unlink(missing_ok=True)
    shutil.rmtree(work / "engine.duckdb.tmp", ignore_errors=True)
    shutil.rmtree(datasets_dir(run_dir), ignore_errors=True)


def _describe(identity) -> str:
    if not isinstance(identity, dict):
        return "unreadable identity"
    return (f"preset={identity.get('preset')} seed={identity.get('seed')} "
            f"parameter_hash={str(identity.get('parameter_hash'))[:12]}")


# what each identity field stands for, to say why two runs are not the same run
_IDENTITY_MEANING = {"seed": "the seed", "preset": "the preset",
                     "parameter_hash": "the policies (parameter_hash)",
                     "manifest_fingerprint": "the world definition (seed CSVs, preset knobs or tzdata: manifest_fingerprint)"}


def _differences(existing: dict, identity: dict) -> str:
    keys = sorted(k for k in set(existing) | set(identity) if existing.get(k) != identity.get(k))
    return ", ".join(_IDENTITY_MEANING.get(k, k) for k in keys)


def link_parquet(parts, source: Path, target: Path) -> int:
    """Hard-link the Parquet files `parts` (below `source`) to the same places below `target`."""
    for part in parts:
        dst = target / part.relative_to(source)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(part, dst)
    return len(parts)


def publish(con, dataset: Dataset, data_dir: Path, written: Path | None = None) -> Path:
    """Put a dataset into a staging folder, then move it into place in one rename.

    `written` is a folder of the dataset's Parquet files already on disk (dbt's `dataset`
    materialisation wrote them, or an earlier run published them): those are hard-linked (the
    rows are on disk once). Otherwise the table is exported."""
    final = data_dir / dataset.path
    staging = data_dir / STAGING / dataset.path
    shutil.rmtree(staging, ignore_errors=True)
    if written is not None:
        # file by file: a rebuild's overwrite leaves the folders of vanished partitions behind, empty
        parts = sorted(written.rglob("*.parquet"))
        if not parts:
            raise RunError(f"{dataset.model} left no Parquet files in {written}: a scenario dataset's "
                           "model must be materialized as 'dataset' (macros/dataset.sql)", ExitCode.PUBLISH_FAILED)
        link_parquet(parts, written, staging)
    else:
        staging.mkdir(parents=True)
        con.execute(f"copy (select * from {dataset.model}) to '{staging / 'part-0.parquet'}' "
                    "(format parquet, compression zstd, row_group_size 1000000)")
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        # Same identity, rebuilt: move the old copy aside first so the swap is one rename.
        old = data_dir / STAGING / (dataset.path + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)
    return final


def unpublish(dataset: Dataset, run_dir: Path) -> None:
    """Remove the files a dataset that is now a view had as a written one (a run directory an
    earlier engine version built): its rows come from the catalog's view alone."""
    shutil.rmtree(run_dir / "data" / dataset.path, ignore_errors=True)
    shutil.rmtree(datasets_dir(run_dir) / dataset.model, ignore_errors=True)


def write_receipt(run_dir: Path, receipt: dict) -> None:
    _write_json_atomic(run_dir / RECEIPT_FILE, receipt)
