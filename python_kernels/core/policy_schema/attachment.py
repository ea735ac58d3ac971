"""Schema of policies/attachment.yaml: 6B S1 channels, attachment and sessions."""
from python_kernels.core.policy_schema.nodes import PROB, Enum, Int, List, Map, Num, Obj, Per, PolicyError, Str
from python_kernels.core.vocabulary import CHANNELS, SECTORS

PARTY_TYPES = ("RETAIL", "BUSINESS", "OTHER")
LEDGER_CLASSES = ("DEPOSIT", "CREDIT_REVOLVING", "CREDIT_INSTALLMENT")
INSTRUMENT_KINDS = ("CARD_PHYSICAL", "CARD_VIRTUAL", "BANK_HANDLE", "WALLET_TOKEN")
CUSTOMER_DEVICE_TYPES = ("MOBILE_PHONE", "WEARABLE", "TABLET", "LAPTOP", "DESKTOP", "IOT_DEVICE", "SERVER")
DEVICE_ROLES = ("PRIMARY_OWNER", "SECONDARY_USER", "HOUSEHOLD_CARD_USER")
IP_ROLES = ("TYPICAL_DEVICE_IP", "RECENT_LOGIN_IP", "SHARED_PUBLIC_WIFI", "MERCHANT_ENDPOINT")
# the ip_type values of seeds/graph/graph_ip_types.csv
IP_TYPES = ("RESIDENTIAL", "MOBILE", "CORPORATE", "PUBLIC_WIFI", "HOTEL_TRAVEL", "EDUCATION", "DATACENTRE", "VPN_PROXY",
            "MERCHANT_ENDPOINT")
PARTY_FEATURES = ("income_score", "digital_affinity", "cash_affinity", "cross_border_propensity",
                  "credit_appetite", "stability_score", "business_size_score")
WEIGHT = Num(0.0, 1000.0)

SCHEMA_NODE = Obj({
    "channels": Obj({"p_bank_rail_by_sector": Per(SECTORS, PROB)}),
    "attachment": Obj({
        "p_home_by_channel": Per(CHANNELS, PROB),
        "activity_sigma": Num(0.0, 3.0),
        "channel_feature": Per(CHANNELS, Enum(PARTY_FEATURES)),
        "channel_feature_exponent": Num(0.0, 5.0),
        "channel_feature_floor": Num(0.0, 1.0, lo_open=True),
        "party_type_channel_mult": Per(PARTY_TYPES, Per(CHANNELS, WEIGHT)),
        "ledger_weight": Per(PARTY_TYPES, Per(CHANNELS, Per(LEDGER_CLASSES, WEIGHT))),
        "instrument_kind_weight": Per(CHANNELS, Per(INSTRUMENT_KINDS, WEIGHT)),
        "p_terminal": Per(CHANNELS, PROB),
        "device_type_weight": Per(CHANNELS, Per(CUSTOMER_DEVICE_TYPES, WEIGHT)),
        "device_role_weight": Per(DEVICE_ROLES, WEIGHT),
        "ip_role_weight": Per(IP_ROLES, WEIGHT),
        "p_mobile_ip_churn": PROB,
    }),
    "locality": Obj({
        "in_person_channels": List(Enum(CHANNELS)),
        "cell_deg": Num(0.01, 10.0),
        "decay_km": Num(0.1, 10_000.0),
        # the draws' counters (s1_locality) leave room for four tries
        "tries": Int(1, 4),
        "min_km": Num(0.0, 1000.0),
        "max_kmh": Num(1.0, 2000.0),
    }),
    "trips": Obj({
        "p_abroad": PROB,
        "median_days": Num(0.1, 365.0),
        "sigma": Num(0.0, 3.0),
        "max_days": Num(1.0, 365.0),
        "destination_weight": Map(Num(0.0, None), keys=Str(r"^[A-Z]{2}$")),
        "p_local_ip": PROB,
        "local_ip_types": List(Enum(IP_TYPES)),
        "domestic": Obj({
            "p_trip": PROB,
            "median_days": Num(0.1, 365.0),
            "sigma": Num(0.0, 3.0),
            "max_days": Num(1.0, 365.0),
            "min_km": Num(0.0, 20_000.0),
            "stay_km": Num(0.0, 20_000.0),
            "p_visitor": PROB,
        }),
    }),
    "sessions": Obj({
        "inactivity_gap_seconds": Num(1.0, 86400.0),
        "max_session_seconds": Num(1.0, 172800.0),
        "max_arrivals": Int(1, 10_000),
        "p_follow_up": Per(CHANNELS, PROB),
        "open_sessions_per_country": Int(1, 1024),
        "p_same_instrument": PROB,
    }),
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
    sess = data["sessions"]
    if sess["max_session_seconds"] < sess["inactivity_gap_seconds"]:
        raise PolicyError(file, "sessions.max_session_seconds", sess["max_session_seconds"],
                          f"a value >= inactivity_gap_seconds ({sess['inactivity_gap_seconds']})")


SCHEMA = (SCHEMA_NODE, _check)
