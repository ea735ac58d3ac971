"""Schema of policies/gates.yaml: realism gate thresholds and certification settings."""
from dataclasses import dataclass

from python_kernels.core.policy_schema.nodes import POS, Bool, Enum, Int, List, Map, Num, Obj, PolicyError, Str

KINDS = ("max", "min", "equals", "range", "all")
TIERS = ("hard", "major", "context")
SEGMENTS = ("5B", "6B")
GATE_ID = r"^(5B|6B)\.[A-Z]+[0-9]*$"


@dataclass(frozen=True)
class Threshold:
    """A number, or a [lo, hi] pair with lo <= hi (for range gates)."""

    def check(self, file, key, v):
        if isinstance(v, list):
            if len(v) != 2:
                raise PolicyError(file, key, v, "a number or a [lo, hi] pair")
            lo, hi = (Num().check(file, f"{key}[{i}]", x) for i, x in enumerate(v))
            if hi < lo:
                raise PolicyError(file, key, v, "a [lo, hi] pair with lo <= hi")
            return [lo, hi]
        return Num().check(file, key, v)

    def describe(self):
        return "a number or a [lo, hi] pair"


@dataclass(frozen=True)
class Param:
    """A recipe parameter: a number or a list of numbers."""

    def check(self, file, key, v):
        if isinstance(v, list):
            return List(Num()).check(file, key, v)
        return Num().check(file, key, v)

    def describe(self):
        return "a number or a list of numbers"


_RULE = {"kind": Enum(KINDS[:-1]), "strict": Bool(), "b": Threshold(), "bplus": Threshold()}

GATE = Obj({
    "segment": Enum(SEGMENTS),
    "tier": Enum(TIERS),
    "required": Bool(),
    "kind": Enum(KINDS),
    "strict": Bool(),
    "b": Threshold(),
    "bplus": Threshold(),
    "components": Map(Obj(_RULE), keys=Str(r"^[a-z][a-z0-9_]{0,40}$")),
    "min_evidence": Int(0, None),
    "params": Map(Param(), keys=Str(r"^[a-z][a-z0-9_]{0,40}$")),
    "description": Str(r"^[^\x00-\x1f]{1,400}$"),
}, optional=("b", "bplus", "components", "params"))

SCHEMA_NODE = Obj({
    "target_version": Str(r"^[a-z][a-z0-9_]{0,60}$"),
    "gates": Map(GATE, keys=Str(GATE_ID)),
    "pending": List(Str(GATE_ID), min_len=0),
    "sampling": Obj({"max_units": Int(1000, None)}),
    "certification": Obj({
        "required_seeds": List(Int(0, 2**63 - 1)),
        "stability": Obj({
            "b": POS,
            "bplus": POS,
            "floors": Map(POS, keys=Str(r"^(5B|6B)\.[A-Z]+[0-9]*(\.[a-z][a-z0-9_]*)?$")),
        }),
    }),
})


def _check_rule(file, where, rule):
    kind = rule["kind"]
    b, bplus = rule.get("b"), rule.get("bplus")
    if b is None or bplus is None:
        raise PolicyError(file, where, rule, f"b and bplus thresholds for kind {kind}")
    pair = kind == "range"
    for grade, t in (("b", b), ("bplus", bplus)):
        if isinstance(t, list) != pair:
            raise PolicyError(file, f"{where}.{grade}", t,
                              "a [lo, hi] pair" if pair else f"a single number for kind {kind}")
    # B+ is the stricter grade: it may never be looser than B (ranges may shift, e.g. 5B.T7).
    if (kind == "max" and bplus > b) or (kind == "min" and bplus < b) or (kind == "equals" and bplus != b):
        raise PolicyError(file, f"{where}.bplus", bplus, f"a threshold at least as strict as b ({b}) for kind {kind}")


def _check(file, data):
    gates = data["gates"]
    for gid, g in gates.items():
        where = f"gates.{gid}"
        if gid.split(".")[0] != g["segment"]:
            raise PolicyError(file, f"{where}.segment", g["segment"], f"the segment of the id ({gid.split('.')[0]})")
        if g["tier"] == "context" and g["required"]:
            raise PolicyError(file, f"{where}.required", True, "false for a context gate")
        if g["kind"] == "all":
            if "components" not in g or "b" in g or "bplus" in g:
                raise PolicyError(file, where, g, "components (and no b/bplus) for kind all")
            for name, comp in g["components"].items():
                _check_rule(file, f"{where}.components.{name}", comp)
        else:
            if "components" in g:
                raise PolicyError(file, f"{where}.components", g["components"], "components only for kind all")
            _check_rule(file, where, g)
    for i, gid in enumerate(data["pending"]):
        if gid not in gates:
            raise PolicyError(file, f"pending[{i}]", gid, "a gate id of gates")
    seeds = data["certification"]["required_seeds"]
    if len(set(seeds)) != len(seeds):
        raise PolicyError(file, "certification.required_seeds", seeds, "distinct seeds")
    stab = data["certification"]["stability"]
    if stab["bplus"] > stab["b"]:
        raise PolicyError(file, "certification.stability.bplus", stab["bplus"], f"a limit <= b ({stab['b']})")
    for metric in stab["floors"]:
        gid, _, comp = metric.partition(".")[2].partition(".")
        gid = metric.split(".")[0] + "." + gid
        known = gid in gates and (not comp or comp in gates[gid].get("components", {}))
        if not known or (not comp and gates[gid]["kind"] == "all"):
            raise PolicyError(file, f"certification.stability.floors.{metric}", metric,
                              "a gate id of gates (gate.component for compound gates)")


SCHEMA = (SCHEMA_NODE, _check)
