"""Shared fixtures: one tiny run (seed 42) built once per session in a private runs root."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

import runner
from python_kernels.run.runs import RECEIPT_FILE


@pytest.fixture(scope="session")
def monkeypatch_session():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory, monkeypatch_session):
    root = tmp_path_factory.mktemp("runs")
    monkeypatch_session.setenv("FDE_RUNS_ROOT", str(root))
    return root


def _run(root: Path, name: str, *extra: str) -> tuple[int, Path]:
    run_dir = root / name
    rc = runner.main(["run", "--preset", "tiny", "--run-dir", str(run_dir), *extra])
    return rc, run_dir


def _receipt(run_dir: Path) -> dict:
    return json.loads((run_dir / RECEIPT_FILE).read_text())


@pytest.fixture(scope="session")
def tiny_42(runs_root):
    rc, run_dir = _run(runs_root, "tiny-42-t2", "--seed", "42", "--threads", "2")
    assert rc == 0
    return run_dir


@pytest.fixture
def policy_copy(tmp_path):
    """A function: copy policies/ into tmp_path, apply {file: edit(data)} and return the folder."""
    return lambda edit: _edited_policies(tmp_path / "policies", edit)


@pytest.fixture(scope="session")
def session_policy_copy(tmp_path_factory):
    """policy_copy for fixtures that outlive one test: each call gets a folder of its own."""
    return lambda edit: _edited_policies(tmp_path_factory.mktemp("policies") / "policies", edit)


def _edited_policies(folder: Path, edit: dict) -> Path:
    shutil.copytree(Path(__file__).resolve().parents[2] / "policies", folder)
    for name, change in edit.items():
        data = yaml.safe_load((folder / name).read_text())
        change(data)
        (folder / name).write_text(yaml.safe_dump(data, sort_keys=False))
    return folder
