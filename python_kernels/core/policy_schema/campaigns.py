"""Schema of policies/campaigns.yaml: 6B S3 campaign templates, their tactics and the auth screen."""
from python_kernels.core.policy_schema.arrivals import DEMAND_CLASSES
from python_kernels.core.policy_schema.nodes import (POS, PROB, Bool, Enum, Int, List, Map, Num, Obj, Per, PolicyError,
                                                     Str, check_pair)
from python_kernels.core.vocabulary import CAMPAIGN_TYPES, CHANNELS, SUBTYPES

MERCHANT_ROLES = ("NORMAL", "MSB", "HIGH_RISK_MCC", "COLLUSIVE")
COHORT_ENTITIES = ("NONE", "ACCOUNT", "INSTRUMENT", "PARTY")
AMOUNT_MODES = ("KEEP", "LAW_HIGH", "LAW_LOW")
DEVICE_SWAPS = ("NONE", "HIGH_RISK_DEVICE")
IP_SWAPS = ("NONE", "HIGH_RISK_IP", "ANONYMIZER")


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
        "law_draws": Int(1, 20),
        "p_card_decline": PROB,
        "device_swap": Enum(DEVICE_SWAPS),
        "ip_swap": Enum(IP_SWAPS),
        "swap_pool": _range(Int(0, 1000)),
        "p_local_proxy": PROB,
        "p_step_up": PROB,
        "p_step_up_fail": PROB,
        "p_refund": PROB,
    }),
})

SCHEMA_NODE = Obj({
    "templates": Map(_TEMPLATE, keys=Str(r"^T_[A-Z0-9_]{1,60}$")),
    "auth_screen": Obj({"p_decline": Per(SUBTYPES, PROB)}),
})


def _check(file, data):
    for tid, t in data["templates"].items():
        at = f"templates.{tid}"
        for name in ("window_hours", "merchant_share", "intensity"):
            check_pair(file, f"{at}.{name}", t[name])
        tac = t["tactics"]
        check_pair(file, f"{at}.tactics.swap_pool", tac["swap_pool"])
        if tac["amount"] == "KEEP" and tac["law_draws"] != 1:
            raise PolicyError(file, f"{at}.tactics.law_draws", tac["law_draws"], "1 when amount is KEEP")
        if tac["p_local_proxy"] > 0 and tac["ip_swap"] == "NONE":
            raise PolicyError(file, f"{at}.tactics.p_local_proxy", tac["p_local_proxy"], "0 when ip_swap is NONE")
        if (tac["device_swap"] != "NONE" or tac["ip_swap"] != "NONE") and tac["swap_pool"][0] < 1:
            raise PolicyError(file, f"{at}.tactics.swap_pool", tac["swap_pool"],
                              "at least one device/IP per instance when a swap is used")
        if t["cohort_entity"] == "NONE" and t["cohort_share"] != 1.0:
            raise PolicyError(file, f"{at}.cohort_share", t["cohort_share"], "1.0 when cohort_entity is NONE")


SCHEMA = (SCHEMA_NODE, _check)
