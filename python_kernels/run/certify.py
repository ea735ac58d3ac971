"""Certification artefacts across seeds: per-seed gateboards, the validation summary, the seed
comparison, the regression report and the gate decision with its blocker register.

`runner.py certify` builds or reuses one run per seed and hands their validation reports
here; decisions come from `validation.certification_decision`, one per segment.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

from python_kernels.run import validation

PASSING = ("PASS_BPLUS_ROBUST", "PASS_B")


def gateboard_md(seed: int, report: dict) -> str:
    lines = [f"# Gateboard, seed {seed}", "",
             f"Verdict **{report['verdict']}**, grade **{report['grade']}**"
             + (f"; blockers: {', '.join(report['blockers'])}" if report["blockers"] else ""), "",
             "| gate | segment | tier | value | B | B+ | grade | detail |", "|---|---|---|---|---|---|---|---|"]
    for gid, g in sorted(report["gates"].items()):
        grade = "B+" if g["pass_bplus"] else "B" if g["pass_b"] else "pending" if g.get("pending") else "FAIL"
        value = "—" if g["value"] is None else f"{g['value']:.6g}"
        detail = (g.get("reason") or g.get("detail") or "").replace("|", "/")
        lines.append(f"| {gid} | {g['segment']} | {g['tier']} | {value} | {g['threshold_b']} | "
                     f"{g['threshold_bplus']} | {grade} | {detail} |")
    return "\n".join(lines) + "\n"


def decide(reports: dict[int, dict], flagged: dict[int, bool], gates_policy: dict, segments) -> dict:
    """The gate decision: one certification decision per segment, the overall one, the blockers."""
    cert = gates_policy["certification"]
    per_segment = {seg: validation.certification_decision(reports, cert, (seg,)) for seg in segments}
    register = [{"segment": seg, **b} for seg, d in per_segment.items() for b in d["blockers"]]
    unflagged = sorted(s for s, ok in flagged.items() if not ok)
    if unflagged:
        register.append({"segment": "run", "id": "runs_not_validated", "details": {"seeds": unflagged}})
    decisions = [d["decision"] for d in per_segment.values()]
    if unflagged or "HOLD_REMEDIATE" in decisions:
        overall = "HOLD_REMEDIATE"
    elif all(d == "PASS_BPLUS_ROBUST" for d in decisions):
        overall = "PASS_BPLUS_ROBUST"
    else:
        overall = "PASS_B"
    # the comparison covers every seed given; the decision's own stability only the required ones
    return {"decision": overall, "segments": {seg: d["decision"] for seg, d in per_segment.items()},
            "stability": {seg: validation.cross_seed_stability(reports, cert, (seg,)) for seg in segments},
            "required_seeds": cert["required_seeds"], "seeds": sorted(reports), "blockers": register}


def closest_gates(reports: dict[int, dict], n=5) -> list[dict]:
    """The hard and major gates with the smallest B+ margin (as the gate models graded it) over the seeds."""
    rows = []
    for seed, rep in sorted(reports.items()):
        for gid, g in rep["gates"].items():
            m = g.get("margin")  # absent from reports written before the gate models graded it
            if m is not None and g["tier"] in ("hard", "major"):
                rows.append({"seed": seed, "gate_id": gid, "value": g["value"], "threshold_bplus": g["threshold_bplus"],
                             "margin": m})
    return sorted(rows, key=lambda r: (r["margin"], r["gate_id"], r["seed"]))[:n]


def seed_comparison_csv(decision: dict) -> str:
    buf = io.StringIO()
    seeds = [str(s) for s in decision["seeds"]]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["segment", "metric", "floor", *[f"seed_{s}" for s in seeds], "cv"])
    for seg, stab in decision["stability"].items():
        for m in stab["metrics"]:
            w.writerow([seg, m["metric"], m["floor"], *[m["seed_values"].get(s) for s in seeds],
                        "" if m["cv"] is None else f"{m['cv']:.6g}"])
    return buf.getvalue()


def regression_md(decision: dict, closest: list[dict]) -> str:
    lines = ["# Certification regression report", "",
             f"Decision **{decision['decision']}** over seeds {', '.join(map(str, decision['seeds']))} "
             f"(required: {', '.join(map(str, decision['required_seeds']))}).", "",
             "| segment | decision | worst cross-seed cv | worst metric |", "|---|---|---|---|"]
    for seg, d in decision["segments"].items():
        stab = decision["stability"][seg]
        finite = [m for m in stab["metrics"] if m["cv"] is not None]
        worst = max(finite, key=lambda m: m["cv"]) if finite else None
        cv = "n/a" if stab["cv_overall"] is None else f"{stab['cv_overall']:.4f}"
        lines.append(f"| {seg} | {d} | {cv} (B <= {stab['threshold_b']}, B+ <= {stab['threshold_bplus']}) | "
                     f"{worst['metric'] if worst else 'n/a'} |")
    lines += ["", "## Closest to their B+ threshold", "", "| seed | gate | value | B+ | margin |", "|---|---|---|---|---|"]
    lines += [f"| {r['seed']} | {r['gate_id']} | {r['value']:.6g} | {r['threshold_bplus']} | {r['margin']:.4f} |"
              for r in closest]
    lines += ["", "## Blockers", ""]
    lines += [f"- {b['segment']}: {b['id']} {json.dumps(b['details'], sort_keys=True)}" for b in decision["blockers"]]
    if not decision["blockers"]:
        lines.append("none")
    return "\n".join(lines) + "\n"


def write_artefacts(out_dir: Path, reports: dict[int, dict], flagged: dict[int, bool], run_dirs: dict[int, Path],
                    gates_policy: dict, segments) -> dict:
    """Write every artefact into `out_dir` (replaced as a whole) and return the gate decision."""
    decision = decide(reports, flagged, gates_policy, segments)
    closest = closest_gates(reports)
    staging = out_dir.with_name(f".{out_dir.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)

    def dump(name, obj):
        (staging / name).write_text(json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")

    for seed, rep in sorted(reports.items()):
        dump(f"gateboard_seed{seed}.json", {"seed": seed, "verdict": rep["verdict"], "grade": rep["grade"],
                                            "gates": rep["gates"]})
        (staging / f"gateboard_seed{seed}.md").write_text(gateboard_md(seed, rep))
    dump("validation_summary.json", {str(s): {"run_dir": str(run_dirs[s]), "passed_flag": flagged[s],
                                             "verdict": r["verdict"], "grade": r["grade"], "blockers": r["blockers"],
                                             "pending": r.get("pending", [])}
                                     for s, r in sorted(reports.items())})
    (staging / "seed_comparison.csv").write_text(seed_comparison_csv(decision))
    (staging / "regression_report.md").write_text(regression_md(decision, closest))
    dump("gate_decision.json", {**decision, "closest_to_threshold": closest,
                                "stability": {k: {kk: vv for kk, vv in v.items() if kk != "metrics"}
                                              for k, v in decision["stability"].items()}})
    old = out_dir.with_name(f".{out_dir.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(staging, out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return {**decision, "closest_to_threshold": closest}


def read_report(run_dir: Path) -> tuple[dict, bool]:
    """A run's validation report and whether its flag is valid (an unvalidated run is still graded)."""
    try:
        return validation.open_run(run_dir).report, True
    except validation.ValidationError:
        path = run_dir / validation.BUNDLE_DIR / validation.REPORT
        if not path.exists():
            raise
        return json.loads(path.read_text()), False
