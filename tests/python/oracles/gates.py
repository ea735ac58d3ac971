"""An independent gate grader for tests: regrades gate-model rows from policies/gates.yaml in plain
Python, so a wrong SQL grader (macros/gates.sql `gate_rows`) is caught by comparing the two."""
from __future__ import annotations

import math

GRADED = ("threshold_b", "threshold_bplus", "pass_b", "pass_bplus", "reason", "margin")
PENDING_REASON = "pending: the state this gate reads is not built yet"


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)


def meets(rule: dict, grade: str, value) -> bool:
    """Does `value` meet the `grade` ('b' or 'bplus') of a single-value rule?"""
    if not _finite(value):
        return False
    t, kind, strict = rule[grade], rule["kind"], rule["strict"]
    if kind == "max":
        return value < t if strict else value <= t
    if kind == "min":
        return value > t if strict else value >= t
    if kind == "equals":
        return value == t
    if kind == "range":
        return t[0] <= value <= t[1]
    raise ValueError(f"rule kind {kind!r} has no single value")


def rule_text(rule: dict, grade: str) -> str:
    t, kind, strict = rule[grade], rule["kind"], rule["strict"]
    if kind == "range":
        return f"in [{t[0]}, {t[1]}]"
    return {"max": "<" if strict else "<=", "min": ">" if strict else ">=", "equals": "="}[kind] + f" {t}"


def margin(cfg: dict, value):
    """Relative distance of `value` inside the B+ rule, negative outside; None for compound and
    equality gates and without a finite value."""
    if not _finite(value) or cfg["kind"] in ("all", "equals"):
        return None
    t = cfg["bplus"]
    if cfg["kind"] == "range":
        return min(value - t[0], t[1] - value) / max(t[1] - t[0], 1e-12)
    scale = max(abs(t), 1e-12)
    return (value - t) / scale if cfg["kind"] == "min" else (t - value) / scale


def regrade(metric: dict | None, cfg: dict, pending: bool = False) -> dict:
    """The graded columns of one gate from its metric (gate_id, value, evidence_n, insufficient and
    components of a compound gate; None when the model has no metric row)."""
    metric = {} if metric is None or pending else metric
    value, evidence, comps = metric.get("value"), metric.get("evidence_n"), metric.get("components") or {}
    if cfg["kind"] == "all":
        rules = sorted(cfg["components"].items())  # the SQL lists components by name
        passes = {g: all(meets(c, g, comps.get(n)) for n, c in rules) for g in ("b", "bplus")}
        texts = {g: "; ".join(f"{n} {rule_text(c, g)}" for n, c in rules) for g in ("b", "bplus")}
    else:
        passes = {g: meets(cfg, g, value) for g in ("b", "bplus")}
        texts = {g: rule_text(cfg, g) for g in ("b", "bplus")}
    insufficient = bool(metric.get("insufficient")) or value is None or (evidence or 0) < cfg["min_evidence"]
    if pending:
        reason = PENDING_REASON
    elif not metric:
        reason = "missing: no metric row"
    elif evidence is None or evidence < cfg["min_evidence"]:
        reason = f"insufficient evidence: {'none' if evidence is None else evidence} < {cfg['min_evidence']}"
    elif insufficient:
        reason = "insufficient evidence (power rule)"
    elif not _finite(value):
        reason = "no value"
    elif not passes["b"]:
        reason = f"value {value} does not meet B ({texts['b']})"
    else:
        reason = None
    return {"threshold_b": texts["b"], "threshold_bplus": texts["bplus"],
            "pass_b": not insufficient and passes["b"], "pass_bplus": not insufficient and passes["bplus"],
            "reason": reason, "margin": margin(cfg, value)}


def disagreements(rows: list[dict], gates_policy: dict, segments) -> list[str]:
    """Every way the graded `rows` differ from the oracle: gates without exactly one row, rows of
    gates outside the policy, and graded columns that differ."""
    pending = set(gates_policy.get("pending", ()))
    expected = {g for g, cfg in gates_policy["gates"].items() if cfg["segment"] in segments}
    out = [f"{g}: {n} rows" for g in sorted(expected | {r["gate_id"] for r in rows})
           if (n := sum(r["gate_id"] == g for r in rows)) != int(g in expected)]
    for row in rows:
        if row["gate_id"] not in expected:
            continue
        want = regrade(row, gates_policy["gates"][row["gate_id"]], row["gate_id"] in pending)
        out += [f"{row['gate_id']}.{k}: sql {row[k]!r}, oracle {want[k]!r}" for k in GRADED if row[k] != want[k]]
    return out
