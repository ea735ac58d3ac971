"""Schema of policies/arrivals.yaml: the 5B arrival engine."""
from python_kernels.core.policy_schema.nodes import POS, PROB, Enum, Int, Num, Obj, Per, PolicyError

DEMAND_CLASSES = ("office_hours", "consumer_daytime", "evening_weekend", "always_on_local", "online_24h",
                  "online_bursty", "travel_hospitality", "fuel_convenience", "bills_utilities", "low_volume_tail")
CHANNEL_GROUPS = ("card_present", "card_not_present", "mixed")



_BANDS = ("baseline", "stress")

SCHEMA_NODE = Obj({
    "time_grid": Obj({
        "bucket_seconds": Enum((900, 1800, 3600)),
        "min_horizon_days": Int(1, 366),
        "max_horizon_days": Int(1, 366),
        "max_buckets": Int(24, 100_000),
    }),
    "grouping": Obj({"zone_group_buckets": Int(1, 256), "in_stratum_buckets": Int(1, 1024)}),
    "lgcp": Obj({
        "sigma_base": Per(_BANDS, Num(0.0, 2.0)),
        "length_scale_hours": Per(_BANDS, Num(0.5, 1000.0)),
        "sigma_class_mult": Per(DEMAND_CLASSES, Num(0.0, 10.0)),
        "length_class_mult": Per(DEMAND_CLASSES, POS),
        "sigma_channel_mult": Per(CHANNEL_GROUPS, Num(0.0, 10.0)),
        "sigma_virtual_mult": Per(("physical", "virtual"), Num(0.0, 10.0)),
        "sigma_min": Num(0.0, 2.0),
        "sigma_max": Num(0.0, 2.0),
        "length_min_hours": POS,
        "length_max_hours": POS,
        "factor_min": Num(0.0, 1.0, lo_open=True),
        "factor_max": Num(1.0, 100.0),
    }),
    "counts": Obj({
        "lambda_zero_eps": Num(0.0, 1e-3),
        "kappa_base": Per(_BANDS, POS),
        "kappa_class_mult": Per(DEMAND_CLASSES, POS),
        "kappa_min": POS,
        "kappa_max": POS,
        "max_count_per_bucket": Int(1, 10_000_000),
    }),
    "routing": Obj({"p_virtual_hybrid": PROB}),
})


def _check(file, data):
    for lo, hi, where in ((data["lgcp"]["sigma_min"], data["lgcp"]["sigma_max"], "lgcp.sigma_max"),
                          (data["lgcp"]["length_min_hours"], data["lgcp"]["length_max_hours"], "lgcp.length_max_hours"),
                          (data["counts"]["kappa_min"], data["counts"]["kappa_max"], "counts.kappa_max"),
                          (data["time_grid"]["min_horizon_days"], data["time_grid"]["max_horizon_days"],
                           "time_grid.max_horizon_days")):
        if hi < lo:
            raise PolicyError(file, where, hi, f"a value >= its lower bound ({lo})")


SCHEMA = (SCHEMA_NODE, _check)
