"""Schema of policies/fraud.yaml: 6B S3 campaigns and tactics, S4 truth rules, bank view, delays, cases."""
from python_kernels.core.policy_schema.arrivals import DEMAND_CLASSES
from python_kernels.core.policy_schema.nodes import (POS, PROB, Bool, Dist, Enum, Int, List, Map, Num, Obj, PolicyError,
                                                     Str)
from python_kernels.core.vocabulary import CHANNELS

CAMPAIGN_TYPES = ("CARD_TESTING", "ATO", "STOLEN_CARD", "MERCHANT_COLLUSION", "REFUND_ABUSE", "FRIENDLY_FRAUD")
SUBTYPES = ("NONE",) + CAMPAIGN_TYPES
TRUTH_LABELS = ("LEGIT", "FRAUD", "ABUSE")
MERCHANT_ROLES = ("NORMAL", "MSB", "HIGH_RISK_MCC", "COLLUSIVE")
COHORT_ENTITIES = ("NONE", "ACCOUNT", "INSTRUMENT", "PARTY")
AMOUNT_MODES = ("KEEP", "TEST", "UPSHIFT")
DEVICE_SWAPS = ("NONE", "HIGH_RISK_DEVICE")
IP_SWAPS = ("NONE", "HIGH_RISK_IP", "ANONYMIZER")
CHARGEBACK_OUTCOMES = ("BANK_LOSS", "BANK_WIN", "PARTIAL")
DELAYS = ("detection", "dispute", "chargeback", "chargeback_decision", "case_close")


def _per(keys, value):
    return Obj({k: value for k in keys})


def _range(item):
    return List(item, min_len=2)


_TEMPLATE = Obj({
    "type": Enum(CAMPAIGN_TYPES),
    "instance_model": Enum(("FIXED", "POISSON")),
    "mean_per_30_days": Num(0.0, 1000.0),
    "min_instances": Int(0, 1000),
    "window_hours": _range(POS),
    "channels": List(Enum(CHANNELS)),
    "merchant_classes": List(Enum(DEMAND_CLASSES), min_len=0),
    "classes_per_instance": Int(0, len(DEMAND_CLASSES)),
    "merchant_roles": List(Enum(MERCHANT_ROLES), min_len=0),
    "merchant_share": _range(PROB),
    "country_share": PROB,
    "cross_border_only": Bool(),
    "cohort_entity": Enum(COHORT_ENTITIES),
    "cohort_share": PROB,
    "intensity": _range(PROB),
    "tactics": Obj({
        "amount": Enum(AMOUNT_MODES),
        "upshift": List(Num(0.0, 100.0), min_len=4),
        "test_amount_usd": _range(Num(0.0, 1000.0)),
        "p_card_decline": PROB,
        "device_swap": Enum(DEVICE_SWAPS),
        "ip_swap": Enum(IP_SWAPS),
        "swap_pool": _range(Int(0, 1000)),
        "p_step_up": PROB,
        "p_step_up_fail": PROB,
        "p_refund": PROB,
    }),
})

_DELAY = Obj({"median_seconds": POS, "sigma": Num(0.0, 5.0), "min_seconds": POS, "max_seconds": POS})

SCHEMA_NODE = Obj({
    "campaigns": Obj({"templates": Map(_TEMPLATE, keys=Str(r"^T_[A-Z0-9_]{1,60}$"))}),
    "truth": Obj({"rules": List(Obj({
        "rule_id": Str(r"^[A-Z0-9_]{1,60}$"),
        "campaign_types": List(Enum(("NONE",) + CAMPAIGN_TYPES)),
        "label": Enum(TRUTH_LABELS),
        "subtype": Enum(SUBTYPES),
    }))}),
    "bank_view": Obj({
        "p_auth_screen": _per(SUBTYPES, PROB),
        "p_detect": _per(SUBTYPES, PROB),
        "p_dispute": _per(SUBTYPES, PROB),
        "p_chargeback": _per(SUBTYPES, PROB),
        "p_confirm": _per(SUBTYPES, PROB),
        "chargeback_outcome": _per(TRUTH_LABELS, Dist(Enum(CHARGEBACK_OUTCOMES))),
        "amount_pivot_usd": POS,
        "amount_elasticity": _per(SUBTYPES, Num(-3.0, 3.0)),
        "amount_factor_range": _range(POS),
        "class_multiplier": _per(DEMAND_CLASSES, _per(("detect", "dispute", "chargeback"), Num(0.0, 100.0))),
        "chargeback_window_days": Num(1.0, 540.0),
    }),
    "delays": _per(DELAYS, _DELAY),
    "cases": Obj({"group_window_seconds": Num(0.0, 31_536_000.0)}),
})


def _pair(file, key, v):
    if len(v) != 2 or v[1] < v[0]:
        raise PolicyError(file, key, v, "a [lo, hi] pair with lo <= hi")


def _check(file, data):
    for tid, t in data["campaigns"]["templates"].items():
        at = f"campaigns.templates.{tid}"
        for name in ("window_hours", "merchant_share", "intensity"):
            _pair(file, f"{at}.{name}", t[name])
        tac = t["tactics"]
        for name in ("test_amount_usd", "swap_pool"):
            _pair(file, f"{at}.tactics.{name}", tac[name])
        up = tac["upshift"]
        if len(up) != 4 or up[0] <= 0 or not up[2] <= up[3] or up[2] <= 0:
            raise PolicyError(file, f"{at}.tactics.upshift", up,
                              "[median, sigma, lo, hi] of a lognormal amount factor with 0 < lo <= hi")
        if tac["amount"] == "TEST" and tac["test_amount_usd"][0] <= 0:
            raise PolicyError(file, f"{at}.tactics.test_amount_usd", tac["test_amount_usd"],
                              "a positive [lo, hi] range when amount is TEST")
        if (tac["device_swap"] != "NONE" or tac["ip_swap"] != "NONE") and tac["swap_pool"][0] < 1:
            raise PolicyError(file, f"{at}.tactics.swap_pool", tac["swap_pool"],
                              "at least one device/IP per instance when a swap is used")
        if t["cohort_entity"] == "NONE" and t["cohort_share"] != 1.0:
            raise PolicyError(file, f"{at}.cohort_share", t["cohort_share"], "1.0 when cohort_entity is NONE")
    rules = data["truth"]["rules"]
    seen = {}
    for i, r in enumerate(rules):
        if r["rule_id"] in seen.values():
            raise PolicyError(file, f"truth.rules[{i}].rule_id", r["rule_id"], "a rule id used once")
        seen[i] = r["rule_id"]
        if (r["label"] == "LEGIT") != (r["subtype"] == "NONE"):
            raise PolicyError(file, f"truth.rules[{i}].subtype", r["subtype"],
                              "NONE exactly when the label is LEGIT")
    bv = data["bank_view"]
    _pair(file, "bank_view.amount_factor_range", bv["amount_factor_range"])
    for name, d in data["delays"].items():
        if d["max_seconds"] < d["min_seconds"]:
            raise PolicyError(file, f"delays.{name}.max_seconds", d["max_seconds"],
                              f"a value >= min_seconds ({d['min_seconds']})")


SCHEMA = (SCHEMA_NODE, _check)
