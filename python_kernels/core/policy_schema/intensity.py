"""Schema of policies/intensity.yaml: 5A scenarios, shapes, demand scale and overlays."""
from python_kernels.core.policy_schema.nodes import PolicyError
from python_kernels.core.policy_schema.nodes import PROB, POS, Bool, Dist, Enum, Int, List, Map, Num, Obj, Str, Timestamp

CLASSES = ("always_on_local", "bills_utilities", "consumer_daytime", "evening_weekend",
           "fuel_convenience", "low_volume_tail", "office_hours", "online_24h", "online_bursty",
           "travel_hospitality")
_CLASS = Enum(CLASSES)
_PAYDAY_DAY = Str(r"^(last|bd[1-9]|[1-9]|1[0-9]|2[0-8])$")
_BAND = List(Num(0.0, 1.0), min_len=2)

_scenario = Obj({
    "version": Str(r"^[0-9]+\.[0-9]+\.[0-9]+$"),
    "is_baseline": Bool(),
    "is_stress": Bool(),
    "labels": Str(r"^[a-z0-9_]+(,[a-z0-9_]+)*$"),
    "horizon_start_utc": Timestamp(),
}, optional=("horizon_start_utc",))

_SCHEMA = Obj({
    "time_table": Obj({"margin_days": Int(1, 60), "walk_step_minutes": Int(1, 60)}),
    "scenarios": Map(_scenario, keys=Enum(("baseline_v1", "stress_peak_online_v1"))),
    "shapes": Obj({"variant_probs": Dist(Enum(("1", "2", "3")))}),
    "demand_scale": Obj({
        "role_mult": Map(POS, keys=Enum(("primary_zone", "secondary_zone", "tail_zone")), min_len=3),
        "virtual_mult": Map(POS, keys=Enum(("NON_VIRTUAL", "HYBRID", "VIRTUAL_ONLY")), min_len=3),
        "channel_mult": Map(POS, keys=Enum(("card_present", "card_not_present", "mixed")), min_len=3),
        "brand_size_exponent": Num(0.0, 1.0),
        "zone_jitter_sigma": Num(0.0, 2.0),
        "soft_cap_weekly": POS,
        "soft_cap_excess_slope": PROB,
        "hard_cap_mult": Num(1.0, 10.0),
        "max_country_share": Num(0.01, 1.0),
        "share_floor_merchants": Int(1, 100),
        "low_volume_weekly": Num(0.0),
        "high_volume_weekly": POS,
    }),
    "overlays": Obj({
        "factor_min": Num(0.0, 1.0),
        "factor_max": Num(1.0, 20.0),
        "holiday": Obj({"amplitude_by_class": Map(Num(0.5, 1.05), keys=_CLASS)}),
        "payday": Obj({
            "rules": Map(List(_PAYDAY_DAY)),
            "window_hours": Int(1, 168),
            "ramp_in_buckets": Int(0, 48),
            "ramp_out_buckets": Int(0, 48),
            "amplitude_by_class": Map(Num(1.0, 1.6), keys=_CLASS),
        }),
        "campaign": Obj({
            "demand_class": _CLASS,
            "days": Int(1, 28),
            "ramp_in_buckets": Int(0, 48),
            "ramp_out_buckets": Int(0, 48),
            "amplitude": Obj({"baseline": Num(1.0, 2.5), "stress": Num(1.0, 2.5)}),
            "stress_country_class": _CLASS,
            "stress_country_count": Int(0, 44),
            "stress_country_days": Int(1, 28),
            "stress_country_ramp_buckets": Int(0, 48),
            "stress_country_amplitude": Num(1.0, 2.5),
        }),
        "outage": Obj({
            "rate_per_day": Num(0.0, 10.0),
            "duration_hours": List(Int(1, 48)),
            "amplitude": Num(0.0, 0.5),
        }),
        "stress": Obj({
            "global_min_days": Int(1, 60), "global_max_days": Int(1, 60),
            "global_amplitude": Num(1.0, 3.0),
            "country_min_windows": Int(0, 10), "country_max_windows": Int(0, 10),
            "country_min_days": Int(1, 60), "country_max_days": Int(1, 60),
            "country_amplitude": Num(1.0, 3.0),
        }),
    }),
    "realism": Obj({
        "weekend_share": _BAND,
        "class_max_share": PROB,
        "min_classes_at_2pct": Int(1, 10),
        "top10_tzid_share_max": PROB,
        "virtual_share": _BAND,
    }),
})


def _check(file, data):
    for sid, sc in data["scenarios"].items():
        if sc["is_baseline"] == sc["is_stress"]:
            raise PolicyError(file, f"scenarios.{sid}", sc, "exactly one of is_baseline / is_stress true")
    if "baseline_v1" not in data["scenarios"] or not data["scenarios"]["baseline_v1"]["is_baseline"]:
        raise PolicyError(file, "scenarios.baseline_v1", data["scenarios"].get("baseline_v1"), "a baseline scenario baseline_v1")
    s = data["overlays"]["stress"]
    for kind in ("global", "country"):
        if s[f"{kind}_min_days"] > s[f"{kind}_max_days"]:
            raise PolicyError(file, f"overlays.stress.{kind}_min_days", s[f"{kind}_min_days"], f"<= {kind}_max_days")
    if s["country_min_windows"] > s["country_max_windows"]:
        raise PolicyError(file, "overlays.stress.country_min_windows", s["country_min_windows"], "<= country_max_windows")
    o = data["overlays"]
    if o["factor_min"] > o["outage"]["amplitude"]:
        raise PolicyError(file, "overlays.factor_min", o["factor_min"], "<= overlays.outage.amplitude")
    for key in ("weekend_share", "virtual_share"):
        band = data["realism"][key]
        if len(band) != 2 or band[0] > band[1]:
            raise PolicyError(file, f"realism.{key}", band, "[low, high] with low <= high")


SCHEMA = (_SCHEMA, _check)
