"""Schema of policies/world.yaml: merchant geography, site weights, virtual merchants, zones."""
from python_kernels.core.policy_schema.nodes import PROB, POS, Bool, Dist, Enum, Int, List, Num, Obj, PolicyError, Str

TIERS = ("small", "mid", "large")
PROFILES = ("hub_spoke", "heavy_tail", "near_uniform")
SECTORS = ("digital_services", "general_retail", "grocery_pharmacy", "fuel_auto", "travel_hospitality",
           "dining_entertainment", "cash_fin_services", "utilities_bills", "government_education", "other")
_ALPHA = Num(0.05, 1000.0)
_DEG = Num(0.0, 5.0)

_node = Obj({
    "merchants": Obj({"mid_min_sites": Int(2, 1000), "large_min_sites": Int(3, 10_000), "cover_every_country": Bool()}),
    "countries": Obj({
        "p_multi_base": PROB,
        "p_multi_slope": PROB,
        "max_countries": Int(1, 44),
        "extra_countries_log_rate": Num(0.0, 10.0),
        "same_region_boost": Num(1.0, 100.0),
        "home_min_share": Num(0.0, 1.0),
        "dirichlet_alpha": _ALPHA,
    }),
    "sites": Obj({"anchor_jitter_deg": _DEG}),
    "site_weights": Obj({
        "profile_mix": Obj({t: Dist(Enum(PROFILES)) for t in TIERS}),
        "alpha": Obj({p: Obj({"hub": _ALPHA, "other": _ALPHA}) for p in PROFILES}),
        "top1_cap": Obj({t: Num(0.05, 1.0) for t in TIERS}),
        "site_floor": Obj({t: Num(0.0, 0.5) for t in TIERS}),
        "floor_max_of_uniform": Num(0.0, 0.9),
    }),
    "virtual": Obj({
        "p_hybrid_large_cp": PROB,
        "hybrid_large_cp_sectors": List(Enum(SECTORS)),
        "p_offshore_settlement": PROB,
        "offshore_hubs": List(Str(r"^[A-Z]{2}$")),
        "edges_base": Int(1, 1024),
        "edges_min": Int(1, 1024),
        "edges_max": Int(1, 4096),
        "edge_zipf_alpha": Num(0.0, 5.0),
        "edge_jitter_deg": _DEG,
    }),
    "zones": Obj({
        "primary_min_share": PROB,
        "tail_max_share": PROB,
        "edges_per_virtual_site": POS,
    }),
})


def _check(file, data):
    m, c, v, z = data["merchants"], data["countries"], data["virtual"], data["zones"]
    if m["large_min_sites"] <= m["mid_min_sites"]:
        raise PolicyError(file, "merchants.large_min_sites", m["large_min_sites"], "a number above merchants.mid_min_sites")
    if c["p_multi_base"] + c["p_multi_slope"] > 1.0:
        raise PolicyError(file, "countries.p_multi_slope", c["p_multi_slope"], "at most 1 - countries.p_multi_base")
    if not v["edges_min"] <= v["edges_max"]:
        raise PolicyError(file, "virtual.edges_max", v["edges_max"], "at least virtual.edges_min")
    if len(set(v["offshore_hubs"])) != len(v["offshore_hubs"]):
        raise PolicyError(file, "virtual.offshore_hubs", v["offshore_hubs"], "distinct country codes")
    if z["tail_max_share"] >= z["primary_min_share"]:
        raise PolicyError(file, "zones.tail_max_share", z["tail_max_share"], "a share below zones.primary_min_share")


SCHEMA = (_node, _check)
