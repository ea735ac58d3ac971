"""The exit codes of `runner.py`: the only list of them (the help text and the README's table
are checked against it)."""
from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Each member's `meaning` is the line the help text and the README show for it."""

    def __new__(cls, code: int, meaning: str):
        member = int.__new__(cls, code)
        member._value_ = code
        member.meaning = meaning
        return member

    OK = 0, "success"
    BAD_INPUT = 2, ("bad input (arguments, preset, seed, policies, run directory, a --reuse run that cannot "
                    "be reused, seed files, not enough free disk): nothing is written")
    RUN_DIR_TAKEN = 3, ("the run directory (or certify's --out) is in use by another live runner process "
                        "(the message names its pid and start time), belongs to a run with another identity "
                        "(seed, preset or policies), or is not a run of this engine: it is left untouched")
    PIPELINE_FAILED = 4, "the pipeline (dbt build, gate tests or docs) failed"
    PUBLISH_FAILED = 5, "publishing or the receipt failed"
    NOT_VALIDATED = 6, ("the run is published but failed validation (a hard gate or required check "
                        "missed): no validation/_passed.flag")
    CERTIFICATION_HOLD = 7, "certification decided HOLD_REMEDIATE (the artefacts name the blockers)"
    INTERRUPTED = 130, "interrupted (Ctrl-C)"


def epilog() -> str:
    return "Exit codes: " + "; ".join(f"{code.value} {code.meaning}" for code in ExitCode) + "."
