"""A run killed mid-way is never readable, and rerunning the same command completes it with the
same content as an uninterrupted run."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from conftest import _receipt, _run
from python_kernels.run.runs import PROJECT_DIR
from python_kernels.run.validation import ValidationError, open_run


def _kill_when(run_dir, marker: str) -> None:
    """Start a tiny run in a child process and SIGKILL it when `marker` appears in its progress."""
    cmd = [sys.executable, str(PROJECT_DIR / "runner.py"), "run", "--preset", "tiny", "--seed", "42",
           "--run-dir", str(run_dir)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env={**os.environ}, start_new_session=True)
    seen = False
    for line in proc.stderr:
        if marker in line:
            seen = True
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert seen, f"the run ended before {marker!r}"
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("marker", ["model s2_realised_intensity", "model s1_arrival_entities",
                                    "published s2_flow_anchor_baseline_6B"])
def test_killed_run_is_unreadable_and_resumes_to_the_same_content(runs_root, tiny_42, marker):
    run_dir = runs_root / f"killed-{marker.split()[-1]}"
    _kill_when(run_dir, marker)
    with pytest.raises(ValidationError, match="incomplete"):
        open_run(run_dir)
    rc, _ = _run(runs_root, run_dir.name, "--seed", "42")
    assert rc == 0
    open_run(run_dir)
    digests = {k: v["content_digest"] for k, v in _receipt(run_dir)["datasets"].items()}
    assert digests == {k: v["content_digest"] for k, v in _receipt(tiny_42)["datasets"].items()}
    assert not list((run_dir / "data").glob(".staging/**/*.parquet"))
