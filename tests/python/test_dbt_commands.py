"""The README's plain dbt commands in the order a user types them, on a fresh database: a
partial build, then the hard gates. The test command must stop with one line naming what to
build first, not one Catalog Error per gate test."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from python_kernels.run.runs import PROJECT_DIR

DBT = str(Path(sys.executable).with_name("dbt"))


def dbt(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    # the dbt script's Python models import python_kernels: this checkout's, not an installed one
    pythonpath = os.pathsep.join([str(PROJECT_DIR), *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONPATH": pythonpath, "DBT_PROFILES_DIR": str(PROJECT_DIR), "DO_NOT_TRACK": "1",
           "FDE_DUCKDB_PATH": str(tmp_path / "fresh.duckdb"), "FDE_DATASETS_DIR": str(tmp_path / "datasets")}
    return subprocess.run([DBT, *args, "--vars", "{preset: tiny}", "--target-path", str(tmp_path / "target"),
                           "--log-path", str(tmp_path / "logs")],
                          cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900)


def test_critical_tests_after_a_partial_build_name_what_to_build(tmp_path):
    (tmp_path / "datasets").mkdir()  # as runs/dbt-default-datasets/ is in a fresh clone
    built = dbt(tmp_path, "build", "--select", "+s4_flow_truth_labels")
    assert built.returncode == 0, built.stdout[-3000:]
    tested = dbt(tmp_path, "test", "--select", "tag:critical")
    out = tested.stdout + tested.stderr
    assert tested.returncode != 0
    assert "Catalog Error" not in out
    lines = [line for line in out.splitlines() if "build them first" in line]
    assert lines and all("`dbt build --select +gates_5B +gates_6B`" in line for line in lines), out[-3000:]
