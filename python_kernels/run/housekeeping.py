"""The runs under the runs root: what each is (`runner.py runs`) and which can go (`runner.py prune`).

A run is a directory holding run_identity.json; its status is
    validated   the receipt is written and the validation bundle certifies it (_passed.flag)
    failed      the receipt is written, but the run did not pass validation
    incomplete  no receipt: the build stopped, or is still going (then a live process holds it)

Prune removes failed, incomplete and superseded runs. A validated run is superseded when a newer
validated run has its lineage: the same preset, seed and policy folder (the folder's values
changed since, so this run's parameter set is no longer the folder's). It keeps the newest
validated run of each lineage, every run named in the keep file (`<runs root>/keep`, one run
name per line, `#` for comments), every run a kept run reused from (its files are hard links,
so removing it frees nothing its reuser needs, but it is where the reused states came from),
and every run a live process holds.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from python_kernels.run import lock, runs, states, validation

KEEP_FILE = "keep"


@dataclass(frozen=True)
class RunInfo:
    path: Path
    name: str           # path below the runs root
    identity: dict
    status: str         # validated, failed or incomplete
    grade: str | None
    fingerprint: str | None  # of the run's last state, which chains every earlier one
    policy_dir: str | None
    reused_from: str | None
    finished: float     # receipt time (identity time for an incomplete run), seconds since the epoch
    bytes_total: int    # bytes of the run's files
    bytes_own: int      # bytes only this run's files hold (what removing it frees)
    holder: dict | None

    @property
    def lineage(self) -> tuple:
        return self.identity.get("preset"), self.identity.get("seed"), self.policy_dir


def _run_dirs(root: Path):
    """Directories below `root` holding a run identity (not looking inside a run)."""
    if not root.is_dir():
        return
    for child in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (child / runs.IDENTITY_FILE).is_file():
            yield child
        else:
            yield from _run_dirs(child)


def _files(path: Path):
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            yield (st.st_dev, st.st_ino), st.st_size


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def survey(root: Path | None = None) -> list[RunInfo]:
    """Every run below the runs root, oldest first."""
    root = root or runs.runs_root()
    found = []
    owners: dict[tuple, set[Path]] = {}
    inodes: dict[Path, dict[tuple, int]] = {}
    for path in _run_dirs(root):
        inodes[path] = dict(_files(path))
        for key in inodes[path]:
            owners.setdefault(key, set()).add(path)
    for path, files in inodes.items():
        identity = _read_json(path / runs.IDENTITY_FILE) or {}
        receipt = _read_json(path / runs.RECEIPT_FILE)
        status, grade = "incomplete", None
        if receipt is not None:
            try:
                validation.open_run(path)
                status = "validated"
            except validation.ValidationError:
                status = "failed"
            grade = receipt.get("gate_verdict", {}).get("grade")
        entries = (receipt or {}).get("states") or {}
        stamp = path / (runs.RECEIPT_FILE if receipt is not None else runs.IDENTITY_FILE)
        found.append(RunInfo(
            path=path, name=path.relative_to(root).as_posix(), identity=identity, status=status, grade=grade,
            fingerprint=entries[max(entries, key=states.state_order)]["fingerprint"] if entries else None,
            policy_dir=(receipt or {}).get("policy_dir"),
            reused_from=((receipt or {}).get("reused_from") or {}).get("run_dir"),
            finished=stamp.stat().st_mtime,
            bytes_total=sum(files.values()),
            bytes_own=sum(size for key, size in files.items() if owners[key] == {path}),
            holder=lock.holder(path)))
    return sorted(found, key=lambda r: (r.finished, r.name))


def keep_names(root: Path) -> set[str]:
    path = root / KEEP_FILE
    if not path.is_file():
        return set()
    return {line.split("#", 1)[0].strip().rstrip("/") for line in path.read_text().splitlines()} - {""}


@dataclass(frozen=True)
class Step:
    run: RunInfo
    remove: bool
    why: str


def plan(found: list[RunInfo], keep: set[str]) -> list[Step]:
    """What prune does with each run, and why."""
    newest = {}
    for r in found:  # oldest first: the last validated run of a lineage wins
        if r.status == "validated":
            newest[r.lineage] = r.path
    why: dict[Path, tuple[bool, str]] = {}
    for r in found:
        if r.holder is not None:
            why[r.path] = (False, f"held by pid {r.holder.get('pid')} ({r.holder.get('command')})")
        elif r.name in keep:
            why[r.path] = (False, f"named in {KEEP_FILE}")
        elif r.status != "validated":
            why[r.path] = (True, r.status)
        elif newest[r.lineage] == r.path:
            why[r.path] = (False, "newest validated run of its preset, seed and policy folder")
        else:
            why[r.path] = (True, f"superseded by {newest[r.lineage].name}")
    changed = True
    while changed:  # a run a surviving run reused from stays, and so on up the chain
        changed = False
        for r in found:
            source = Path(r.reused_from) if r.reused_from else None
            if not why[r.path][0] and source in why and why[source][0]:
                why[source] = (False, f"{r.name} reused from it")
                changed = True
    return [Step(r, *why[r.path]) for r in found]


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _age(seconds: float) -> str:
    for unit, span in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= span:
            return f"{seconds / span:.0f} {unit}"
    return f"{seconds:.0f} s"


def table(found: list[RunInfo]) -> str:
    """The `runs` listing."""
    now = time.time()
    head = f"{'run':<40} {'seed':>6} {'preset':<7} {'params':<12} {'fingerprint':<12} {'status':<10} " \
           f"{'grade':<16} {'size':>9} {'own':>9} {'age':>7}  reused from"
    lines = [head]
    for r in found:
        lines.append(
            f"{r.name[:40]:<40} {str(r.identity.get('seed', '?')):>6} {str(r.identity.get('preset', '?')):<7} "
            f"{str(r.identity.get('parameter_hash', '?'))[:12]:<12} {(r.fingerprint or '-')[:12]:<12} "
            f"{r.status + ('*' if r.holder else ''):<10} {r.grade or '-':<16} {_size(r.bytes_total):>9} "
            f"{_size(r.bytes_own):>9} {_age(now - r.finished):>7}  "
            f"{Path(r.reused_from).name if r.reused_from else ''}")
    lines.append(f"{len(found)} runs; own = bytes no other run shares (hard links), what removing the run frees;"
                 " * = held by a live process")
    return "\n".join(lines)


def prune(root: Path, dry_run: bool, say) -> list[Step]:
    """Remove what the plan removes (each under its lock, so a run taken meanwhile stays)."""
    steps = plan(survey(root), keep_names(root))
    freed = 0
    for step in steps:
        verb = ("would remove" if dry_run else "remove") if step.remove else "keep"
        say(f"{verb:<12} {step.run.name:<40} {step.why}" + (f" ({_size(step.run.bytes_own)})" if step.remove else ""))
        if step.remove and not dry_run:
            try:
                with lock.hold(step.run.path):
                    shutil.rmtree(step.run.path)
            except runs.RunError as e:
                say(f"  skipped: {e}")
                continue
        if step.remove:
            freed += step.run.bytes_own
    gone = sum(s.remove for s in steps)
    say(f"prune: {'would remove' if dry_run else 'removed'} {gone} of {len(steps)} runs, "
        f"{_size(freed)} {'to free' if dry_run else 'freed'}")
    return steps
