"""Schema of policies/behaviour.yaml: the 6B behaviour engine (S1 attachment and sessions, S2 flows)."""
from python_kernels.core.policy_schema.nodes import POS, PROB, Dist, Enum, Int, List, Num, Obj, PolicyError
from python_kernels.core.vocabulary import CHANNELS, DECLINE_REASONS, FAMILIES

PARTY_TYPES = ("RETAIL", "BUSINESS", "OTHER")
LEDGER_CLASSES = ("DEPOSIT", "CREDIT_REVOLVING", "CREDIT_INSTALLMENT")
INSTRUMENT_KINDS = ("CARD_PHYSICAL", "CARD_VIRTUAL", "BANK_HANDLE", "WALLET_TOKEN")
CUSTOMER_DEVICE_TYPES = ("MOBILE_PHONE", "WEARABLE", "TABLET", "LAPTOP", "DESKTOP", "IOT_DEVICE", "SERVER")
DEVICE_ROLES = ("PRIMARY_OWNER", "SECONDARY_USER")
IP_ROLES = ("TYPICAL_DEVICE_IP", "RECENT_LOGIN_IP", "SHARED_PUBLIC_WIFI", "MERCHANT_ENDPOINT")
SECTORS = ("cash_fin_services", "digital_services", "dining_entertainment", "fuel_auto", "general_retail",
           "government_education", "grocery_pharmacy", "other", "travel_hospitality", "utilities_bills")
PARTY_FEATURES = ("income_score", "digital_affinity", "cash_affinity", "cross_border_propensity",
                  "credit_appetite", "stability_score", "business_size_score")
WEIGHT = Num(0.0, 1000.0)


def _per(keys, value):
    return Obj({k: value for k in keys})


def _latency():
    return Obj({"median_seconds": POS, "sigma": Num(0.0, 5.0), "min_seconds": POS, "max_seconds": POS})


SCHEMA_NODE = Obj({
    "channels": Obj({"p_bank_rail_by_sector": _per(SECTORS, PROB)}),
    "attachment": Obj({
        "p_home_by_channel": _per(CHANNELS, PROB),
        "activity_sigma": Num(0.0, 3.0),
        "channel_feature": _per(CHANNELS, Enum(PARTY_FEATURES)),
        "channel_feature_exponent": Num(0.0, 5.0),
        "channel_feature_floor": Num(0.0, 1.0, lo_open=True),
        "party_type_channel_mult": _per(PARTY_TYPES, _per(CHANNELS, WEIGHT)),
        "ledger_weight": _per(PARTY_TYPES, _per(CHANNELS, _per(LEDGER_CLASSES, WEIGHT))),
        "instrument_kind_weight": _per(CHANNELS, _per(INSTRUMENT_KINDS, WEIGHT)),
        "p_terminal": _per(CHANNELS, PROB),
        "device_type_weight": _per(CHANNELS, _per(CUSTOMER_DEVICE_TYPES, WEIGHT)),
        "device_role_weight": _per(DEVICE_ROLES, WEIGHT),
        "ip_role_weight": _per(IP_ROLES, WEIGHT),
    }),
    "sessions": Obj({
        "inactivity_gap_seconds": Num(1.0, 86400.0),
        "max_session_seconds": Num(1.0, 172800.0),
        "max_arrivals": Int(1, 10_000),
        "p_follow_up": _per(CHANNELS, PROB),
        "open_sessions_per_country": Int(1, 1024),
        "p_same_instrument": PROB,
    }),
    "flows": Obj({
        "p_step_up": _per(CHANNELS, PROB),
        "p_step_up_fail": PROB,
        "p_decline": _per(CHANNELS, PROB),
        "decline_reason": Dist(Enum(DECLINE_REASONS)),
        "p_retry_by_reason": _per(DECLINE_REASONS, PROB),
        "max_retries": Int(0, 3),
        "retry_gap_seconds": Obj({"points": List(POS), "probs": List(PROB)}),
        "p_reversal": PROB,
        "p_refund": _per(CHANNELS, PROB),
        "p_partial_refund": PROB,
        "partial_refund_fraction": List(Num(0.0, 1.0, lo_open=True)),
        "clearing_delta": Num(0.0, 0.5),
    }),
    "amounts": Obj({
        "family_by_channel": _per(CHANNELS, Enum(FAMILIES)),
        "families": _per(FAMILIES, Obj({
            "p_point": PROB,
            "points_usd": List(POS),
            "tail_median_usd": POS,
            "tail_sigma": Num(0.0, 5.0),
        })),
        "purchase_sector_scale": _per(SECTORS, POS),
        "min_usd": POS,
        "max_usd": POS,
    }),
    "timing": Obj({name: _latency() for name in (
        "auth_response", "step_up_challenge", "step_up_complete", "clearing", "clearing_atm", "refund", "reversal")}),
})


def _check(file, data):
    att = data["attachment"]
    for ch in CHANNELS:
        if sum(att["instrument_kind_weight"][ch].values()) <= 0:
            raise PolicyError(file, f"attachment.instrument_kind_weight.{ch}", att["instrument_kind_weight"][ch],
                              "at least one positive weight")
        if att["p_terminal"][ch] < 1 and sum(att["device_type_weight"][ch].values()) <= 0:
            raise PolicyError(file, f"attachment.device_type_weight.{ch}", att["device_type_weight"][ch],
                              "at least one positive weight (the channel can use customer devices)")
        for pt in PARTY_TYPES:
            if sum(att["ledger_weight"][pt][ch].values()) <= 0:
                raise PolicyError(file, f"attachment.ledger_weight.{pt}.{ch}", att["ledger_weight"][pt][ch],
                                  "at least one positive weight")
    gap = data["flows"]["retry_gap_seconds"]
    if len(gap["points"]) != len(gap["probs"]):
        raise PolicyError(file, "flows.retry_gap_seconds.probs", gap["probs"],
                          f"one probability per point ({len(gap['points'])})")
    if abs(sum(gap["probs"]) - 1.0) > 1e-9:
        raise PolicyError(file, "flows.retry_gap_seconds.probs", gap["probs"],
                          f"probabilities summing to 1 (they sum to {sum(gap['probs']):.12g})")
    frac = data["flows"]["partial_refund_fraction"]
    if len(frac) != 2 or frac[1] < frac[0]:
        raise PolicyError(file, "flows.partial_refund_fraction", frac, "a [lo, hi] pair with 0 < lo <= hi <= 1")
    sess = data["sessions"]
    if sess["max_session_seconds"] < sess["inactivity_gap_seconds"]:
        raise PolicyError(file, "sessions.max_session_seconds", sess["max_session_seconds"],
                          f"a value >= inactivity_gap_seconds ({sess['inactivity_gap_seconds']})")
    amt = data["amounts"]
    if amt["max_usd"] <= amt["min_usd"]:
        raise PolicyError(file, "amounts.max_usd", amt["max_usd"], f"a value > min_usd ({amt['min_usd']})")
    for name, t in data["timing"].items():
        if t["max_seconds"] < t["min_seconds"]:
            raise PolicyError(file, f"timing.{name}.max_seconds", t["max_seconds"],
                              f"a value >= min_seconds ({t['min_seconds']})")


SCHEMA = (SCHEMA_NODE, _check)
