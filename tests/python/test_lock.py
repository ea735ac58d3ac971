"""One runner process per directory: racing takers, stale locks of killed or reused pids, a live
holder never taken over, release on errors; a directory of another run refused, naming what
differs. Holders are small Python processes taking the lock through python_kernels.run.lock and
sleeping, not builds."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import runner
from python_kernels.run import lock, runs
from python_kernels.run.exit_codes import ExitCode
from python_kernels.run.runs import PROJECT_DIR, RunError

HOLDER = """
import sys, time
from pathlib import Path
from python_kernels.run import lock
from python_kernels.run.runs import RunError
start_at, seconds = float(sys.argv[2]), float(sys.argv[3])
while time.time() < start_at:  # every holder reaches the lock at the same moment
    pass
try:
    with lock.hold(Path(sys.argv[1])):
        print("won", flush=True)
        time.sleep(seconds)
except RunError as e:
    print(e, flush=True)
    sys.exit(int(e.exit_code))
"""


def holders(directory: Path, n: int, seconds: float) -> list[subprocess.Popen]:
    start_at = time.time() + 1.5
    return [subprocess.Popen([sys.executable, "-c", HOLDER, str(directory), str(start_at), str(seconds)],
                             cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True) for _ in range(n)]


def wait_until_held(directory: Path, holder: subprocess.Popen) -> None:
    assert holder.stdout.readline().strip() == "won"
    assert json.loads(lock.lock_path(directory).read_text())["pid"] == holder.pid


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def outcomes(procs: list[subprocess.Popen]) -> list[tuple[int, int, str]]:
    return [(p.pid, p.wait(timeout=60), p.stdout.read()) for p in procs]


def test_of_processes_racing_for_one_run_dir_exactly_one_wins(tmp_path):
    target = tmp_path / "runs" / "raced"
    results = outcomes(holders(target, 4, 2.0))
    winners = [pid for pid, rc, out in results if rc == 0 and out.startswith("won")]
    assert len(winners) == 1
    for pid, rc, out in results:
        if pid != winners[0]:
            assert rc == ExitCode.RUN_DIR_TAKEN
            assert f"in use by pid {winners[0]} (process started " in out
    assert not lock.lock_path(target).exists()  # released on normal exit


@pytest.mark.parametrize("command", ["run", "bench", "report", "docs", "certify"])
def test_a_held_directory_is_refused_at_once_naming_the_holder(tmp_path, monkeypatch, capsys, command):
    monkeypatch.setenv("FDE_RUNS_ROOT", str(tmp_path / "runs"))
    target = tmp_path / "runs" / "held"
    if command in ("report", "docs"):  # they read an existing run before locking it
        target.mkdir(parents=True)
        (target / "run_receipt.json").write_text(json.dumps({"seed": 42, "preset": "tiny", "policy_dir": "policies"}))
    holder, = holders(target, 1, 60)
    try:
        wait_until_held(target, holder)
        before = sorted(p.name for p in tmp_path.rglob("*"))
        option = "--out" if command == "certify" else "--run-dir"
        t0 = time.monotonic()
        rc = runner.main([command, *(["--preset", "tiny"] if command != "docs" else []), option, str(target)])
        assert rc == ExitCode.RUN_DIR_TAKEN and time.monotonic() - t0 < 20
        assert f"{target} is in use by pid {holder.pid} (process started " in capsys.readouterr().err
        assert sorted(p.name for p in tmp_path.rglob("*")) == before
    finally:
        holder.kill()
        holder.wait()


def test_kill_9_leaves_a_stale_lock_that_the_next_taker_takes_over(tmp_path):
    target = tmp_path / "runs" / "killed"
    holder, = holders(target, 1, 60)
    wait_until_held(target, holder)
    os.kill(holder.pid, signal.SIGKILL)
    while lock.process_start(holder.pid) is not None:  # dead, not yet reaped: a zombie is no holder
        time.sleep(0.01)
    assert json.loads(lock.lock_path(target).read_text())["pid"] == holder.pid  # left behind
    with lock.hold(target):
        assert json.loads(lock.lock_path(target).read_text())["pid"] == os.getpid()
    assert not lock.lock_path(target).exists()
    holder.wait()


def test_of_processes_racing_to_take_over_a_stale_lock_exactly_one_wins(tmp_path):
    target = tmp_path / "runs" / "stale"
    target.parent.mkdir(parents=True)
    lock.lock_path(target).write_text(json.dumps({"pid": dead_pid(), "start_ticks": 1}))
    results = outcomes(holders(target, 4, 2.0))
    assert sum(rc == 0 for _, rc, _ in results) == 1
    assert sorted(rc for _, rc, _ in results) == [0, ExitCode.RUN_DIR_TAKEN, ExitCode.RUN_DIR_TAKEN,
                                                  ExitCode.RUN_DIR_TAKEN]


def test_a_pid_reused_by_another_process_is_stale(tmp_path):
    target = tmp_path / "reused"
    # this process is alive, but it is not the one that took the lock: it started at another time
    record = {"pid": os.getpid(), "start_ticks": lock.process_start(os.getpid()) - 1}
    lock.lock_path(target).write_text(json.dumps(record))
    with lock.hold(target):
        assert json.loads(lock.lock_path(target).read_text())["start_ticks"] == lock.process_start(os.getpid())


def test_a_live_holder_is_never_taken_over(tmp_path):
    target = tmp_path / "live"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        while lock.process_start(sleeper.pid) is None:
            time.sleep(0.01)
        text = json.dumps({"pid": sleeper.pid, "start_ticks": lock.process_start(sleeper.pid)})
        lock.lock_path(target).write_text(text)
        with pytest.raises(RunError, match=f"in use by pid {sleeper.pid} ") as refused:
            with lock.hold(target):
                pass
        assert refused.value.exit_code is ExitCode.RUN_DIR_TAKEN
        assert lock.lock_path(target).read_text() == text
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_lock_is_released_on_errors_and_held_again_by_the_same_process(tmp_path):
    target = tmp_path / "failing"
    with pytest.raises(ValueError):
        with lock.hold(target):
            with lock.hold(target):  # bench and certify hold what pipeline.run takes again
                pass
            assert lock.lock_path(target).exists()
            raise ValueError("the build failed")
    assert not lock.lock_path(target).exists()
    assert not list(tmp_path.iterdir())


def test_a_run_directory_of_another_identity_is_refused_naming_the_difference(tmp_path):
    """Two runs with the same seed, preset and policies but another world definition are not one
    run: the refusal says which part of the identity differs, and leaves the directory as it was."""
    target = tmp_path / "small-seed7"
    mine = {"manifest_fingerprint": "a" * 64, "parameter_hash": "b" * 64, "preset": "small", "seed": 7}
    runs.claim_run_dir(target, mine)
    before = (target / runs.IDENTITY_FILE).read_text()
    with pytest.raises(RunError, match=r"differ in the world definition \(seed CSVs") as refused:
        runs.claim_run_dir(target, {**mine, "manifest_fingerprint": "c" * 64})
    assert refused.value.exit_code is ExitCode.RUN_DIR_TAKEN
    assert "parameter_hash" not in str(refused.value).split("differ in")[1]
    assert (target / runs.IDENTITY_FILE).read_text() == before
    runs.claim_run_dir(target, mine)  # the same identity claims it again
