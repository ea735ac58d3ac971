"""Load, validate and fingerprint the policy folder: the one place parameter values live.

Used by `runner.py` (before anything is written), by dbt Python models (through
`load_policies`) and, through the `world_policy_params` model, by SQL models. A policy
that is malformed, of the wrong type, out of range or unknown stops the run with a
`PolicyError` naming file, key, value and what is allowed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import yaml

from python_kernels.core.policy_schema import SCHEMAS
from python_kernels.core.policy_schema.nodes import Obj, PolicyError, Str
from python_kernels.core.vocabulary import CHANNELS

# ---- loading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicySet:
    folder: Path
    values: dict          # file stem -> validated content
    parameter_hash: str   # sha256 of the canonical JSON of every policy file

    def __getitem__(self, stem):
        return self.values[stem]

    def preset(self, name: str) -> dict:
        presets = self.values["presets"]["presets"]
        if name not in presets:
            raise PolicyError("presets.yaml", "presets", name, "a preset name: " + ", ".join(presets))
        return presets[name]


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _load_file(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PolicyError(path.name, "<file>", str(path), f"a readable file ({e.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise PolicyError(path.name, "<yaml>", where, f"well-formed YAML ({getattr(e, 'problem', e)})") from None
    return data


PROFILE_FILE = "profile.yaml"
PROFILE_SCHEMA = Obj({"extends": Str(r"^[^\x00]{1,400}$"), "description": Str(r"^[^\x00-\x1f]{1,600}$")})


def _overlay(base, edit):
    """`edit` laid over `base`: mappings merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(edit, dict):
        return {**base, **{k: _overlay(base[k], v) if k in base else v for k, v in edit.items()}}
    return edit


def _raw_files(folder: Path, chain: tuple) -> dict:
    """Policy file name -> raw content of `folder`, a full policy folder or a profile: a folder
    with profile.yaml naming the folder it `extends` and only the files (and keys) it changes."""
    if not folder.is_dir():
        raise PolicyError(str(folder), "<folder>", str(folder), "an existing policy folder")
    if folder.resolve() in chain:
        raise PolicyError(PROFILE_FILE, "extends", str(folder), "a chain of profiles without a cycle")
    present = {p.name for p in folder.glob("*.yaml")} - {PROFILE_FILE}
    unknown = sorted(present - set(SCHEMAS))
    if unknown:
        raise PolicyError(unknown[0], "<file>", "unknown file", "only: " + ", ".join(sorted(SCHEMAS)))
    if not (folder / PROFILE_FILE).exists():
        missing = sorted(set(SCHEMAS) - present)
        if missing:
            raise PolicyError(missing[0], "<file>", "missing", "every policy file: " + ", ".join(sorted(SCHEMAS)))
        return {name: _load_file(folder / name) for name in sorted(SCHEMAS)}
    profile = PROFILE_SCHEMA.check(PROFILE_FILE, "", _load_file(folder / PROFILE_FILE))
    base = _raw_files(folder / profile["extends"], chain + (folder.resolve(),))
    return {**base, **{name: _overlay(base[name], _load_file(folder / name)) for name in sorted(present)}}


def load_policies(folder="policies") -> PolicySet:
    folder = Path(folder)
    raw = _raw_files(folder, ())
    values = {}
    for name in sorted(SCHEMAS):
        schema, cross_check = SCHEMAS[name]
        data = schema.check(name, "", raw[name])
        if cross_check:
            cross_check(name, data)
        values[name[: -len(".yaml")]] = data
    digest = hashlib.sha256(canonical_json(values).encode()).hexdigest()
    return PolicySet(folder.resolve(), values, digest)


def flatten(obj, prefix=""):
    """(dotted key, value) pairs of every leaf; lists are indexed `key[i]`."""
    if isinstance(obj, dict):
        for k in sorted(obj):
            yield from flatten(obj[k], f"{prefix}.{k}" if prefix else k)
    elif isinstance(obj, list):
        for i, x in enumerate(obj):
            yield from flatten(x, f"{prefix}[{i}]")
    else:
        yield prefix, obj


def policy_rows(policies: PolicySet, preset: str):
    """Rows (key, num_value, text_value) for SQL: every policy leaf plus `preset.*` for the active preset."""
    active = policies.preset(preset)
    rows = []
    for key, v in flatten({**policies.values, "preset": active}):
        if isinstance(v, bool):
            rows.append((key, float(v), "true" if v else "false"))
        elif isinstance(v, (int, float)):
            rows.append((key, float(v), None))
        else:
            rows.append((key, None, str(v)))
    return rows


def policy_lookup(mapping: dict, labels: list, what: str) -> np.ndarray:
    """Policy value per label (rows: labels, columns: channels when the value is a channel map)."""
    missing = [x for x in labels if x not in mapping]
    if missing:
        raise ValueError(f"policy has no {what} entry for {missing[0]!r}")
    first = mapping[labels[0]] if labels else {}
    if isinstance(first, dict):
        return np.array([[mapping[x][ch] for ch in CHANNELS] for x in labels], dtype=np.float64).reshape(-1, len(CHANNELS))
    return np.array([mapping[x] for x in labels], dtype=np.float64)



def horizon_us(preset: dict) -> tuple[int, int]:
    """The preset's horizon [start, end) as UTC epoch microseconds."""
    parse = lambda text: int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000  # noqa: E731
    return parse(preset["horizon"]["start"]), parse(preset["horizon"]["end"])
