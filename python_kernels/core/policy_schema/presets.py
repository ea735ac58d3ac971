"""Schema of policies/presets.yaml: the run sizes (tiny, small, medium, large)."""
from python_kernels.core.policy_schema.nodes import PROB, Enum, Int, List, Map, Num, Obj, PolicyError, Str, Timestamp

PRESET_NAMES = ("tiny", "small", "medium", "large")

_preset = Obj({
    "description": Str(r"^.{1,300}$"),
    "scenarios": List(Enum(("baseline_v1", "stress_peak_online_v1"))),
    "horizon": Obj({"start": Timestamp(), "end": Timestamp()}, optional=()),
    "countries": Enum(("tiny", "all")),
    "n_merchants": Int(10, 100_000),
    "p_single_site": PROB,
    "multisite_median_extra": Num(0.1, 1000.0),
    "multisite_sigma": Num(0.0, 5.0),
    "multisite_cap": Int(2, 10_000),
    "arrivals_target": Int(1_000, 1_000_000_000),
    "chunk_rows": Int(10_000, 1_000_000_000),
})


def _check(file, data):
    presets = data["presets"]
    for name in PRESET_NAMES:
        if name not in presets:
            raise PolicyError(file, f"presets.{name}", None, "presets tiny, small, medium and large must all be defined")
    for name, p in presets.items():
        if name not in PRESET_NAMES:
            raise PolicyError(file, f"presets.{name}", name, "preset names " + ", ".join(PRESET_NAMES))
        if p["horizon"]["end"] <= p["horizon"]["start"]:
            raise PolicyError(file, f"presets.{name}.horizon.end", p["horizon"]["end"], "an instant after horizon.start")
        if len(set(p["scenarios"])) != len(p["scenarios"]):
            raise PolicyError(file, f"presets.{name}.scenarios", p["scenarios"], "distinct scenario ids")
        if "baseline_v1" not in p["scenarios"]:
            raise PolicyError(file, f"presets.{name}.scenarios", p["scenarios"], "a list that includes baseline_v1")


SCHEMA = (Obj({"presets": Map(_preset)}), _check)
