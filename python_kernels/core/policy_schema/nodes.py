"""Schema nodes for policy validation: each node checks one value and names what is allowed."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone


class PolicyError(ValueError):
    """A policy file or value is not acceptable."""

    def __init__(self, file: str, key: str, value, allowed: str):
        self.file, self.key, self.value, self.allowed = file, key, value, allowed
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(f"policy {file}: key '{key}' has value {shown}; allowed: {allowed}")




@dataclass(frozen=True)
class Num:
    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    lo_open: bool = False

    def check(self, file, key, v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise PolicyError(file, key, v, self.describe())
        if self.integer and not (isinstance(v, int) or float(v).is_integer()):
            raise PolicyError(file, key, v, self.describe())
        if not math.isfinite(v):
            raise PolicyError(file, key, v, self.describe())
        if self.lo is not None and (v < self.lo or (self.lo_open and v == self.lo)):
            raise PolicyError(file, key, v, self.describe())
        if self.hi is not None and v > self.hi:
            raise PolicyError(file, key, v, self.describe())
        return int(v) if self.integer else float(v)

    def describe(self):
        kind = "an integer" if self.integer else "a number"
        lo = "" if self.lo is None else f"{'>' if self.lo_open else '>='} {self.lo:g}"
        hi = "" if self.hi is None else f"<= {self.hi:g}"
        rng = " and ".join(x for x in (lo, hi) if x)
        return f"{kind}{' ' + rng if rng else ''}"


def Int(lo=None, hi=None):
    return Num(lo, hi, integer=True)


PROB = Num(0.0, 1.0)
POS = Num(0.0, None, lo_open=True)


@dataclass(frozen=True)
class Enum:
    values: tuple

    def check(self, file, key, v):
        if v not in self.values:
            raise PolicyError(file, key, v, "one of " + ", ".join(map(str, self.values)))
        return v


@dataclass(frozen=True)
class Bool:
    def check(self, file, key, v):
        if not isinstance(v, bool):
            raise PolicyError(file, key, v, "true or false")
        return v


@dataclass(frozen=True)
class Str:
    pattern: str = r"^[A-Za-z0-9_./:\- ]{1,200}$"

    def check(self, file, key, v):
        if not isinstance(v, str) or not re.match(self.pattern, v):
            raise PolicyError(file, key, v, f"a string matching {self.pattern}")
        return v


@dataclass(frozen=True)
class Timestamp:
    """An ISO-8601 UTC instant on a whole hour, e.g. 2026-01-01T00:00:00Z."""

    def check(self, file, key, v):
        if isinstance(v, datetime):
            ts = v if v.tzinfo else v.replace(tzinfo=timezone.utc)
        elif isinstance(v, str):
            try:
                ts = datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                raise PolicyError(file, key, v, "an ISO-8601 UTC instant like 2026-01-01T00:00:00Z") from None
        else:
            raise PolicyError(file, key, v, "an ISO-8601 UTC instant like 2026-01-01T00:00:00Z")
        if ts.tzinfo is None or ts.utcoffset().total_seconds() != 0 or ts.minute or ts.second or ts.microsecond:
            raise PolicyError(file, key, v, "a UTC instant on a whole hour (…T00:00:00Z)")
        return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class List:
    item: object
    min_len: int = 1

    def check(self, file, key, v):
        if not isinstance(v, list) or len(v) < self.min_len:
            raise PolicyError(file, key, v, f"a list of at least {self.min_len} item(s)")
        return [self.item.check(file, f"{key}[{i}]", x) for i, x in enumerate(v)]


@dataclass(frozen=True)
class Map:
    """A mapping with free keys (validated by `keys`) and uniform values."""

    value: object
    keys: object = Str(r"^[A-Za-z0-9_.\-]{1,80}$")
    sums_to_one: bool = False
    min_len: int = 1

    def check(self, file, key, v):
        if not isinstance(v, dict) or len(v) < self.min_len:
            raise PolicyError(file, key, v, f"a mapping with at least {self.min_len} entr(ies)")
        out = {}
        for k, x in v.items():
            self.keys.check(file, f"{key}.<key>", k)
            out[k] = self.value.check(file, f"{key}.{k}", x)
        if self.sums_to_one:
            total = sum(out.values())
            if abs(total - 1.0) > 1e-9:
                raise PolicyError(file, key, v, f"probabilities summing to 1 (they sum to {total:.12g})")
        return out


def Dist(keys=None):
    """Probabilities over named outcomes, summing to 1."""
    return Map(PROB, keys or Str(r"^[A-Za-z0-9_.\-]{1,80}$"), sums_to_one=True)


@dataclass(frozen=True)
class Obj:
    """A mapping with fixed keys; every key is required unless listed in `optional`."""

    fields: dict
    optional: tuple = ()

    def check(self, file, key, v):
        where = key or "<top level>"
        if not isinstance(v, dict):
            raise PolicyError(file, where, v, "a mapping with keys " + ", ".join(self.fields))
        unknown = sorted(set(v) - set(self.fields))
        if unknown:
            raise PolicyError(file, f"{key + '.' if key else ''}{unknown[0]}", v[unknown[0]],
                              f"known keys only: {', '.join(self.fields)}")
        out = {}
        for name, spec in self.fields.items():
            sub = f"{key}.{name}" if key else name
            if name not in v:
                if name in self.optional:
                    continue
                raise PolicyError(file, sub, None, f"a required key ({spec.describe() if hasattr(spec, 'describe') else type(spec).__name__})")
            out[name] = spec.check(file, sub, v[name])
        return out


def Per(keys, value):
    """An object with exactly `keys`, each holding `value`."""
    return Obj({k: value for k in keys})


def check_pair(file, key, v, what="a [lo, hi] pair with lo <= hi"):
    if len(v) != 2 or v[1] < v[0]:
        raise PolicyError(file, key, v, what)


def check_spans(file, section, specs):
    """Every (median, sigma, min, max) spec of `section` has max >= min."""
    for name, d in specs.items():
        if d["max_seconds"] < d["min_seconds"]:
            raise PolicyError(file, f"{section}.{name}.max_seconds", d["max_seconds"],
                              f"a value >= min_seconds ({d['min_seconds']})")


# a lognormal delay or latency: (median, sigma) clipped to [min, max] seconds
SPAN = Obj({"median_seconds": POS, "sigma": Num(0.0, 5.0), "min_seconds": POS, "max_seconds": POS})
