"""The run's validation bundle ("no PASS, no read"), the reader that enforces it, and certification.

A run's `validation/` folder holds
    validation_report.json     identity, every gate (value, thresholds, B / B+ result) and every
                               required check, the verdict
    validation_issues.parquet  one row per failed gate or check
    index.json                 identity + sha256 and size of every member, sorted by path
    _passed.flag               identity + sha256 of index.json; written ONLY when every required
                               check and every required gate passes B
The bundle is deterministic (no clocks inside), so the same run gives the same digest, and the
seed is part of the identity, so two seeds never share a digest. `open_run` is the only way a
reader should open a run: it refuses a run whose flag is missing, whose members do not match the
index, or whose identity differs from the run's receipt.

Gates are graded once, by the gate models (macros/gates.sql `gate_rows`); this module only reads
their rows. A policy gate of the expected segments without exactly one row fails, a pending gate
never passes, and a row whose B flag contradicts its reason (a pass with a failure reason, a
failure without one) is itself a failed required check. tests/python/test_gate_grader.py regrades the rows
from policies/gates.yaml independently.
"""
from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from python_kernels.run.exit_codes import ExitCode
from python_kernels.run.runs import IDENTITY_FILE, RECEIPT_FILE, RunError, sha256_file

BUNDLE_DIR = "validation"
REPORT = "validation_report.json"
ISSUES = "validation_issues.parquet"
INDEX = "index.json"
FLAG = "_passed.flag"
IDENTITY_KEYS = ("seed", "preset", "parameter_hash", "manifest_fingerprint")
GATE_MODELS = ("gates_5B", "gates_6B")

ISSUE_SCHEMA = pa.schema([
    ("check_id", pa.string()),
    ("kind", pa.string()),          # gate | check
    ("severity", pa.string()),      # blocker (required) | warning
    ("segment", pa.string()),
    ("value", pa.float64()),
    ("threshold_b", pa.string()),
    ("reason", pa.string()),
    ("detail", pa.string()),
])


class ValidationError(RunError):
    """A run is not validated (no flag, tampered bundle, wrong identity): do not read it."""

    def __init__(self, message: str):
        super().__init__(message, ExitCode.NOT_VALIDATED)


@dataclass(frozen=True)
class Check:
    """A required (or advisory) check other than a gate, e.g. a dbt data test."""

    check_id: str
    passed: bool
    required: bool = True
    detail: str = ""


# ---- gates -------------------------------------------------------------------------------

def _finite(x):
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _consistent(row: dict) -> bool:
    """A graded row passes B exactly when it has no failure reason (B+ need not imply B: a range
    rule's B+ interval can reach beyond its B interval)."""
    return bool(row.get("pass_b")) == (row.get("reason") is None)


def report_gates(rows: list[dict], gates_policy: dict, segments) -> list[dict]:
    """One report entry per policy gate of `segments`, in gate-id order, from the graded rows.

    `rows` are gate-model rows (gate_id, value, evidence_n, threshold_b/_bplus, pass_b,
    pass_bplus, reason, margin, detail and, for compound gates, components {name: value}). A
    gate without exactly one row, or pending, fails; its row (if any) is not read.
    """
    by_id: dict[str, list[dict]] = {}
    for r in rows:
        by_id.setdefault(r["gate_id"], []).append(r)
    pending = set(gates_policy.get("pending", ()))
    entries = []
    for gid in sorted(g for g, cfg in gates_policy["gates"].items() if cfg["segment"] in segments):
        cfg = gates_policy["gates"][gid]
        found = by_id.get(gid, [])
        row = found[0] if len(found) == 1 and gid not in pending else {}
        if gid in pending:
            reason = "pending: the state this gate reads is not built yet"
        elif not found:
            reason = "missing: no metric row"
        elif len(found) > 1:
            reason = f"duplicated: {len(found)} metric rows"
        else:
            reason = row.get("reason")
        comps = {k: _finite(v) for k, v in (row.get("components") or {}).items()}
        texts = found[0] if found else {}  # the rules do not depend on the row's value
        entries.append({
            "gate_id": gid, "segment": cfg["segment"], "tier": cfg["tier"], "required": cfg["required"],
            "description": cfg["description"], "value": _finite(row.get("value")), "components": comps or None,
            "evidence_n": row.get("evidence_n"), "min_evidence": cfg["min_evidence"],
            "threshold_b": texts.get("threshold_b"), "threshold_bplus": texts.get("threshold_bplus"),
            "pass_b": bool(row.get("pass_b")), "pass_bplus": bool(row.get("pass_bplus")),
            "sql_flags_agree": _consistent(row) if row else True, "margin": _finite(row.get("margin")),
            "reason": reason, "detail": row.get("detail"), "pending": gid in pending,
        })
    return entries


def run_grade(gates: list[dict]) -> str:
    """Per-run grade over hard and major gates: PASS_BPLUS, PASS_B, PASS_HARD_ONLY or FAIL."""
    graded = [g for g in gates if g["tier"] in ("hard", "major") and not g.get("pending")]
    if all(g["pass_bplus"] for g in graded):
        return "PASS_BPLUS"
    if all(g["pass_b"] for g in graded):
        return "PASS_B"
    if all(g["pass_b"] for g in graded if g["tier"] == "hard"):
        return "PASS_HARD_ONLY"
    return "FAIL"


# ---- inputs -----------------------------------------------------------------------------

def gate_rows_from_duckdb(con) -> list[dict]:
    """Rows of every gate model present in the run's database."""
    present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    rows = []
    for model in GATE_MODELS:
        if model in present:
            cur = con.execute(f"select * from {model} order by gate_id")
            names = [d[0] for d in cur.description]
            rows += [dict(zip(names, r)) for r in cur.fetchall()]
    return rows


def checks_from_run_results(path: Path) -> list[Check]:
    """dbt data tests of a build as checks; a failing warn-severity test is advisory."""
    results = json.loads(Path(path).read_text())["results"]
    checks = []
    for r in sorted(results, key=lambda r: r["unique_id"]):
        if not r["unique_id"].startswith("test."):
            continue
        status = r["status"]
        checks.append(Check(r["unique_id"], passed=status == "pass", required=status != "warn",
                            detail=f"{status}: {r.get('message') or ''}".strip()))
    return checks


def read_identity(run_dir: Path) -> dict:
    try:
        identity = json.loads((Path(run_dir) / IDENTITY_FILE).read_text())
    except (OSError, ValueError) as e:
        raise ValidationError(f"{run_dir} has no readable {IDENTITY_FILE} ({e}); is it a run directory?") from None
    return {k: identity.get(k) for k in IDENTITY_KEYS}


# ---- writing ----------------------------------------------------------------------------

def _json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=True, allow_nan=False) + "\n").encode()


def _issues_table(gates: list[dict], checks: list[Check]) -> pa.Table:
    rows = [{"check_id": g["gate_id"], "kind": "gate",
             "severity": "blocker" if g["required"] and not g["pending"] else "warning",
             "segment": g["segment"], "value": g["value"], "threshold_b": g["threshold_b"],
             "reason": g["reason"], "detail": g["detail"]}
            for g in gates if not g["pass_b"]]
    rows += [{"check_id": f"{g['gate_id']}:sql_flags", "kind": "check", "severity": "blocker",
              "segment": g["segment"], "value": g["value"], "threshold_b": g["threshold_b"],
              "reason": "gate model's B flag contradicts its reason",
              "detail": g["detail"]}
             for g in gates if not g["sql_flags_agree"]]
    rows += [{"check_id": c.check_id, "kind": "check", "severity": "blocker" if c.required else "warning",
              "segment": None, "value": None, "threshold_b": None, "reason": "check failed", "detail": c.detail}
             for c in checks if not c.passed]
    return pa.Table.from_pylist(rows, schema=ISSUE_SCHEMA)


def write_bundle(run_dir, identity: dict, gate_rows: list[dict], checks: list[Check], gates_policy: dict,
                 segments=("5B", "6B")) -> dict:
    """Write `run_dir/validation/` atomically; the flag only when the run passes. Returns a summary.

    `identity` must carry seed, preset, parameter_hash and manifest_fingerprint. `segments` are
    the segments whose gates are expected (every policy gate of them must have a row).
    """
    run_dir = Path(run_dir)
    missing = [k for k in IDENTITY_KEYS if identity.get(k) is None]
    if missing:
        raise ValueError(f"identity lacks {', '.join(missing)}")
    identity = {k: identity[k] for k in IDENTITY_KEYS}
    gates = report_gates(gate_rows, gates_policy, tuple(segments))
    blockers = sorted([g["gate_id"] for g in gates if g["required"] and not g["pass_b"] and not g["pending"]]
                      + [f"{g['gate_id']}:sql_flags" for g in gates if not g["sql_flags_agree"]]
                      + [c.check_id for c in checks if c.required and not c.passed])
    verdict = "PASS" if not blockers else "FAIL"
    report = {
        "identity": identity,
        "segments": sorted(segments),
        "gate_targets": gates_policy["target_version"],
        "verdict": verdict,
        "grade": run_grade(gates),
        "blockers": blockers,
        "pending": [g["gate_id"] for g in gates if g["pending"]],
        "gates": {g["gate_id"]: g for g in gates},
        "checks": [{"check_id": c.check_id, "required": c.required, "passed": c.passed, "detail": c.detail}
                   for c in checks],
    }
    staging = run_dir / f".{BUNDLE_DIR}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / REPORT).write_bytes(_json_bytes(report))
    pq.write_table(_issues_table(gates, checks), staging / ISSUES, compression="zstd")
    index = _index(staging, identity)
    (staging / INDEX).write_bytes(_json_bytes(index))
    digest = sha256_file(staging / INDEX)
    if verdict == "PASS":
        (staging / FLAG).write_bytes(_json_bytes({"identity": identity, "bundle_digest": digest, "verdict": verdict}))
    final = run_dir / BUNDLE_DIR
    if final.exists():
        old = run_dir / f".{BUNDLE_DIR}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old)
    else:
        os.replace(staging, final)
    return {"verdict": verdict, "grade": report["grade"], "blockers": blockers, "bundle_digest": digest,
            "flag_written": verdict == "PASS", "path": str(final)}


def _index(folder: Path, identity: dict) -> dict:
    members = sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in (INDEX, FLAG))
    return {"identity": identity,
            "members": [{"path": p.relative_to(folder).as_posix(), "sha256": sha256_file(p), "bytes": p.stat().st_size}
                        for p in members]}


def validate_run(run_dir, con, gates_policy: dict, run_results_paths=(), segments=("5B", "6B")) -> dict:
    """The runner's validate step: gate rows from the run database, dbt test results as checks."""
    checks = [c for path in run_results_paths for c in checks_from_run_results(path)]
    return write_bundle(run_dir, read_identity(run_dir), gate_rows_from_duckdb(con), checks, gates_policy, segments)


# ---- reading ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ValidRun:
    run_dir: Path
    identity: dict
    receipt: dict
    report: dict
    bundle_digest: str

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"


def open_run(run_dir) -> ValidRun:
    """Open a run for reading, or raise ValidationError saying why it must not be read."""
    run_dir = Path(run_dir)
    bundle = run_dir / BUNDLE_DIR
    try:
        receipt = json.loads((run_dir / RECEIPT_FILE).read_text())
    except (OSError, ValueError):
        raise ValidationError(f"{run_dir} has no readable {RECEIPT_FILE}: the run is incomplete; rerun it") from None
    identity = read_identity(run_dir)
    if {k: receipt.get(k) for k in IDENTITY_KEYS} != identity:
        raise ValidationError(f"{run_dir}: the receipt's identity differs from {IDENTITY_FILE}; rerun the run")
    if not (bundle / FLAG).exists():
        if not (bundle / REPORT).exists():
            raise ValidationError(f"{run_dir} was not validated (no {BUNDLE_DIR}/{REPORT}); run its validation step")
        try:
            blockers = json.loads((bundle / REPORT).read_text()).get("blockers", [])
        except ValueError:
            blockers = ["unreadable report"]
        raise ValidationError(f"{run_dir} failed validation (no {FLAG}); blockers: {', '.join(blockers[:10]) or 'none listed'}"
                              f" — see {bundle / REPORT}")
    try:
        flag = json.loads((bundle / FLAG).read_text())
        index = json.loads((bundle / INDEX).read_text())
    except (OSError, ValueError) as e:
        raise ValidationError(f"{bundle}: flag or index unreadable ({e}); revalidate the run") from None
    if flag.get("identity") != identity or index.get("identity") != identity:
        raise ValidationError(f"{bundle}: the flag was written for another run identity "
                              f"({flag.get('identity')}); this run is {identity}")
    if sha256_file(bundle / INDEX) != flag.get("bundle_digest"):
        raise ValidationError(f"{bundle}: index.json does not match the flag's digest; the bundle was altered")
    listed = {m["path"] for m in index.get("members", [])}
    present = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()} - {INDEX, FLAG}
    if listed != present:
        raise ValidationError(f"{bundle}: members differ from the index (extra {sorted(present - listed)}, "
                              f"missing {sorted(listed - present)})")
    for m in index["members"]:
        if sha256_file(bundle / m["path"]) != m["sha256"]:
            raise ValidationError(f"{bundle}: {m['path']} does not match its sha256 in the index; the bundle was altered")
    report = json.loads((bundle / REPORT).read_text())
    if report.get("verdict") != "PASS" or report.get("identity") != identity:
        raise ValidationError(f"{bundle}: the report does not certify this run (verdict {report.get('verdict')})")
    return ValidRun(run_dir, identity, receipt, report, flag["bundle_digest"])


# ---- certification across seeds --------------------------------------------------------

def metric_value(report: dict, metric: str):
    """A stability metric of a report: a gate id, or gate id.component."""
    seg, num, *comp = metric.split(".")
    gate = report["gates"].get(f"{seg}.{num}")
    if gate is None:
        return None
    return (gate.get("components") or {}).get(comp[0]) if comp else gate.get("value")


def pending_gates(reports: dict[int, dict]) -> set:
    """Gates any of the reports lists as pending (their states are not built yet)."""
    return {gid for rep in reports.values() for gid in rep.get("pending", ())}


def cross_seed_stability(reports: dict[int, dict], certification: dict, segments=("5B", "6B")) -> dict:
    """Per metric population sigma / max(|mean|, floor) over the seeds; a metric missing on any seed is infinite.

    Metrics of pending gates are left out: they have no value, and `certification_decision`
    blocks their segment on its own."""
    stab = certification["stability"]
    pending = pending_gates(reports)
    metrics, worst = [], 0.0
    for metric, floor in sorted(stab["floors"].items()):
        if metric.split(".")[0] not in segments or ".".join(metric.split(".")[:2]) in pending:
            continue
        values = [metric_value(reports[s], metric) for s in sorted(reports)]
        if not values or any(v is None for v in values):
            cv = math.inf
        else:
            mean = math.fsum(values) / len(values)
            sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
            cv = sd / max(abs(mean), floor)
        worst = max(worst, cv)
        metrics.append({"metric": metric, "floor": floor, "cv": None if math.isinf(cv) else cv,
                        "seed_values": {str(s): metric_value(reports[s], metric) for s in sorted(reports)}})
    finite = math.isfinite(worst)
    return {"metrics": metrics, "cv_overall": worst if finite else None,
            "pass_b": finite and worst <= stab["b"], "pass_bplus": finite and worst <= stab["bplus"],
            "threshold_b": stab["b"], "threshold_bplus": stab["bplus"]}


def certification_decision(reports: dict[int, dict], certification: dict, segments=("5B", "6B")) -> dict:
    """PASS_BPLUS_ROBUST, PASS_B or HOLD_REMEDIATE over the required seeds, with the blockers.

    `reports` maps seed -> validation report of each run (extra seeds count too). Every required
    seed must be present, every run's hard and major gates must pass the grade, and the
    cross-seed stability over the required seeds must hold.
    """
    required = certification["required_seeds"]
    missing = [s for s in required if s not in reports]
    wrong = [s for s in required if s in reports and reports[s]["identity"]["seed"] != s]
    stability = cross_seed_stability({s: reports[s] for s in required if s in reports}, certification, segments)
    blockers = []
    if missing:
        blockers.append({"id": "missing_required_seeds", "details": {"missing_seeds": missing}})
    if wrong:
        blockers.append({"id": "seed_identity_mismatch", "details": {"seeds": wrong}})

    def seeds_pass(grade):
        return all(g[f"pass_{grade}"] for s in reports for g in reports[s]["gates"].values()
                   if g["tier"] in ("hard", "major") and g["segment"] in segments and not g.get("pending"))

    for grade in ("b", "bplus"):
        failing = sorted({f"{s}:{gid}" for s in reports for gid, g in reports[s]["gates"].items()
                          if g["tier"] in ("hard", "major") and g["segment"] in segments
                          and not g.get("pending") and not g[f"pass_{grade}"]})
        if failing:
            blockers.append({"id": f"gates_fail_{grade}", "details": {"seed_gates": failing}})
    pending = sorted(gid for gid in pending_gates(reports) if gid.split(".")[0] in segments)
    if pending:
        blockers.append({"id": "pending_gates", "details": {"gates": pending}})
    if not stability["pass_b"]:
        blockers.append({"id": "cross_seed_stability_fail", "details": {"cv_overall": stability["cv_overall"]}})
    complete = not missing and not wrong and not pending
    if complete and seeds_pass("bplus") and stability["pass_bplus"]:
        decision = "PASS_BPLUS_ROBUST"
    elif complete and seeds_pass("b") and stability["pass_b"]:
        decision = "PASS_B"
    else:
        decision = "HOLD_REMEDIATE"
    return {"decision": decision, "required_seeds": required, "stability": stability, "blockers": blockers}
