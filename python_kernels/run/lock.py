"""One runner process at a time per directory: a lock file beside the directory
(`<parent>/.<name>.lock`, so it survives certify replacing its --out folder as a whole) naming
the holder's pid and process start time.

Taking it: the record is written to a private file and hard-linked to the lock path, which
fails if the path exists (an exclusive create, like O_EXCL, whose content is complete the
moment it is visible). A lock whose pid is gone, or whose pid now belongs to a process started
at another time (pid reuse), is stale: it is replaced by an atomic rename while holding an
flock on the parent folder, so of two processes taking over the same stale lock one wins and
the other then sees a live holder. The kernel drops that flock when its holder dies, so the
takeover guard itself never goes stale.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from pathlib import Path

from python_kernels.run.exit_codes import ExitCode
from python_kernels.run.runs import RunError

_held: dict[Path, int] = {}  # lock path -> depth: bench and certify hold what pipeline.run takes again


def lock_path(directory: Path) -> Path:
    return directory.with_name(f".{directory.name}.lock")


def process_start(pid: int) -> int | None:
    """Start time of a live process in clock ticks since boot (/proc/<pid>/stat field 22);
    None when no such process exists or it has exited and only awaits its parent (a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    fields = stat.rpartition(")")[2].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("/proc/stat has no btime line")


def _record() -> dict:
    return {"pid": os.getpid(), "start_ticks": process_start(os.getpid()),
            "command": " ".join(["runner.py", *sys.argv[1:]]) if sys.argv else "",
            "locked_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _read(path: Path) -> dict | None:
    """The holder's record; None when the lock vanished meanwhile. A record that does not parse
    counts as no holder (hard links publish only complete records, so it was not written here)."""
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def is_live(record: dict) -> bool:
    pid, ticks = record.get("pid"), record.get("start_ticks")
    return isinstance(pid, int) and ticks is not None and process_start(pid) == ticks


def holder(directory: Path) -> dict | None:
    """The record of the live process holding `directory`, or None."""
    record = _read(lock_path(directory))
    return record if record and is_live(record) else None


def _describe(record: dict, directory: Path) -> str:
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                            time.gmtime(_boot_time() + record["start_ticks"] / os.sysconf("SC_CLK_TCK")))
    return (f"{directory} is in use by pid {record['pid']} (process started {started}, lock taken "
            f"{record.get('locked_utc')}: {record.get('command')}); wait for it to finish or choose "
            "another directory")


def _take(path: Path, directory: Path) -> None:
    mine = path.with_name(f"{path.name}.{os.getpid()}")
    mine.write_text(json.dumps(_record(), sort_keys=True) + "\n")
    try:
        while True:
            try:
                os.link(mine, path)
                return
            except FileExistsError:
                pass
            guard = os.open(path.parent, os.O_RDONLY)
            try:
                fcntl.flock(guard, fcntl.LOCK_EX)
                holder = _read(path)
                if holder is None:
                    continue  # released meanwhile: an exclusive create again, never a replace
                if is_live(holder):
                    raise RunError(_describe(holder, directory), ExitCode.RUN_DIR_TAKEN)
                # Stale: its holder is dead, so nothing but a taker changes the path, and the
                # guard keeps every other taker waiting until this replace is done.
                os.replace(mine, path)
                return
            finally:
                os.close(guard)
    finally:
        mine.unlink(missing_ok=True)


def _release(path: Path) -> None:
    # only our own record is removed: a lock that is no longer ours was taken over by someone else
    holder = _read(path)
    if holder and holder.get("pid") == os.getpid() and holder.get("start_ticks") == process_start(os.getpid()):
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def hold(directory: Path):
    """Hold `directory` for this process while the block runs; a live holder elsewhere is
    refused with RUN_DIR_TAKEN naming its pid and start time. Released on any exit."""
    path = lock_path(directory)
    if path not in _held:
        path.parent.mkdir(parents=True, exist_ok=True)
        _take(path, directory)
    _held[path] = _held.get(path, 0) + 1
    try:
        yield
    finally:
        _held[path] -= 1
        if not _held[path]:
            del _held[path]
            _release(path)
