"""The argparse `type=` functions of runner.py's structured options: a value is refused while
the command line is parsed (exit 2, argparse names the option), before anything is written.
Each message gives the bad value and what is allowed."""
from __future__ import annotations

import argparse

from python_kernels.core.policy_schema.presets import PRESET_NAMES
from python_kernels.core.rng import check_seed

MAX_THREADS = 64
SEEDS_ALLOWED = "comma-separated distinct integers in [0, 2**63), e.g. 42,7,101,202"


def _integer(text: str, allowed: str) -> int:
    try:
        return int(text.strip(), 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer; allowed: {allowed}") from None


def seed(text: str) -> int:
    allowed = "an integer in [0, 2**63)"
    try:
        return check_seed(_integer(text, allowed))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range; allowed: {allowed}") from None


def seed_list(text: str) -> list[int]:
    items = text.split(",")
    if any(not item.strip() for item in items):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty seed; allowed: {SEEDS_ALLOWED}")
    seeds = []
    for item in items:
        try:
            seeds.append(seed(item))
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"{text!r}: seed {item.strip()!r} is not an integer in "
                                             f"[0, 2**63); allowed: {SEEDS_ALLOWED}") from None
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"{text!r} repeats seed {', '.join(map(str, repeated))}; "
                                         f"allowed: {SEEDS_ALLOWED}")
    return seeds


def threads(text: str) -> int:
    allowed = f"an integer in [1, {MAX_THREADS}]"
    n = _integer(text, allowed)
    if not 1 <= n <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range; allowed: {allowed}")
    return n


def preset(text: str) -> str:
    # the four names are fixed by the policy schema; only their knobs are tunable
    if text not in PRESET_NAMES:
        raise argparse.ArgumentTypeError(f"unknown preset {text!r}; allowed: {', '.join(PRESET_NAMES)}")
    return text


def folder(text: str) -> str:
    # '' would resolve to the working directory, which may sit inside the runs root
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is empty; allowed: a folder path")
    return text
