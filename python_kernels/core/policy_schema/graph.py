"""Schema of policies/graph.yaml: the 6A entity graph (population, products, devices, IPs, roles)."""
from python_kernels.core.policy_schema.nodes import PROB, Dist, Enum, Int, Map, Num, Obj, PolicyError, Str

PARTY_TYPES = ("RETAIL", "BUSINESS", "OTHER")
TIERS = ("LOW", "STANDARD", "ELEVATED")
_W = Num(-2.0, 2.0)
_SD = Num(0.0, 1.0)
_SIZE_KEYS = Enum(("1", "2", "3", "4", "5", "6"))


def _score(weights, caps, **extra):
    return Obj({"base": PROB, "noise_sd": _SD,
                "weights": Obj({k: _W for k in weights}),
                "caps": Obj({k: PROB for k in caps}), **extra})


_population = Obj({
    "active_fraction": Num(0.01, 1.0),
    "arrivals_per_active_party_per_week": Num(0.1, 1000.0),
    "min_parties": Int(1, 100_000_000),
    "site_exponent": Num(0.0, 3.0),
    "site_share_offset": Num(0.0, 1.0),
    "population_exponent": Num(0.0, 3.0),
    "max_country_share": Num(0.01, 1.0),
    "min_share_of_even": Num(0.0, 1.0),
    "household_size": Dist(_SIZE_KEYS),
    "home_jitter_deg": Num(0.0, 5.0),
})

SCHEMA_OBJ = Obj({
    "population": _population,
    "accounts": Obj({"max_per_party": Int(1, 100), "tilt_clip": Num(0.0, 5.0)}),
    "instruments": Obj({"max_per_account": Int(1, 20), "digital_tilt_scale": Num(0.0, 5.0)}),
    "devices": Obj({
        "extra_per_party": Obj({t: Num(0.0, 20.0) for t in PARTY_TYPES}),
        "digital_tilt": Num(0.0, 3.0),
        "max_per_party": Int(1, 100),
        "terminals_per_site": Dist(Enum(("1", "2", "3", "4", "5", "6"))),
        "p_account_access": PROB,
        "renewals_per_year": Map(Num(0.0, 52.0), keys=Str(r"^[A-Z_]+$")),
        "max_renewals": Int(0, 52),
        "p_household_card_sharing": PROB,
    }),
    "ips": Obj({
        "p_phone_home_wifi": PROB,
        "recent_login_per_device": Num(0.0, 10.0),
        "recent_login_digital_tilt": Num(0.0, 3.0),
        "max_recent_per_device": Int(0, 10),
        "merchant_endpoint_extra": Num(0.0, 10.0),
        "abroad": Map(Obj({"p": PROB, "country_weight": Map(Num(0.0, None), keys=Str(r"^[A-Z]{2}$"))})),
    }),
    "roles": Obj({
        "tier_cutoffs": Obj({t: PROB for t in TIERS}),
        "party": _score(("credit_appetite", "cross_border_propensity", "digital_affinity", "anonymizer_ip",
                         "credit_instrument", "n_devices"),
                        ("ORGANISER", "ASSOCIATE", "MULE", "SYNTHETIC_ID")),
        "account": _score(("owner_score", "credit_line"), ("MULE_ACCOUNT", "HIGH_RISK_ACCOUNT", "DORMANT_RISKY"),
                          mule_owner_multiplier=Num(1.0, 1000.0)),
        "merchant": _score(("cross_border", "log_sites", "class_risk"), ("COLLUSIVE", "HIGH_RISK_MCC"),
                           class_risk=Obj({c: PROB for c in ("MONEY_SERVICES", "DIGITAL_GOODS", "HIGH_CHARGEBACK_RISK",
                                                             "TRAVEL", "HOSPITALITY", "GENERAL_RETAIL")}),
                           high_risk_mcc_floor=PROB),
        "device": _score(("owner_score", "shared_users"), ("HIGH_RISK_DEVICE", "REUSED_DEVICE"),
                         reused_min_users=Int(2, 100), reused_multiplier=Num(1.0, 1000.0),
                         risky_owner_multiplier=Num(1.0, 1000.0)),
        "ip": _score(("log_devices", "risky_device_share"), ("HIGH_RISK_IP",)),
    }),
})


def _check(file, data):
    cut = data["roles"]["tier_cutoffs"]
    if not cut["LOW"] < cut["STANDARD"] < cut["ELEVATED"]:
        raise PolicyError(file, "roles.tier_cutoffs", cut, "increasing cut-offs LOW < STANDARD < ELEVATED")
    m = data["roles"]["merchant"]
    if m["high_risk_mcc_floor"] > m["caps"]["HIGH_RISK_MCC"]:
        raise PolicyError(file, "roles.merchant.high_risk_mcc_floor", m["high_risk_mcc_floor"],
                          f"a floor <= caps.HIGH_RISK_MCC ({m['caps']['HIGH_RISK_MCC']})")


SCHEMA = (SCHEMA_OBJ, _check)
