"""Schema of policies/flows.yaml: 6B S2 flows, amounts and timings."""
from python_kernels.core.policy_schema.nodes import (POS, PROB, SPAN, Dist, Enum, Int, List, Map, Num, Obj, Per,
                                                     PolicyError, Str, check_pair, check_spans)
from python_kernels.core.vocabulary import AMOUNT_ROUNDINGS, CHANNELS, DECLINE_REASONS, LAW_OF_THE_MCC

LAW_NAME = Str(r"^[a-z][a-z0-9_]{0,40}$")

SCHEMA_NODE = Obj({
    "flows": Obj({
        "p_step_up": Per(CHANNELS, PROB),
        "p_step_up_fail": PROB,
        "p_decline": Per(CHANNELS, PROB),
        "decline_reason": Dist(Enum(DECLINE_REASONS)),
        "p_retry_by_reason": Per(DECLINE_REASONS, PROB),
        "max_retries": Int(0, 3),
        "retry_gap_seconds": Obj({"points": List(POS), "probs": List(PROB)}),
        "p_reversal": PROB,
        "p_refund": Per(CHANNELS, PROB),
        "p_partial_refund": PROB,
        "partial_refund_fraction": List(Num(0.0, 1.0, lo_open=True)),
        "clearing_delta": Num(0.0, 0.5),
    }),
    "amounts": Obj({
        "law_by_channel": Per(CHANNELS, Str(r"^([a-z][a-z0-9_]{0,40}|" + LAW_OF_THE_MCC + ")$")),
        "laws": Map(Obj({
            "median_usd": POS,
            "sigma": Num(0.0, 3.0, lo_open=True),
            "p_point": PROB,
            "points_usd": List(POS, min_len=0),
            "p_tail": Num(0.0, 0.5),
            "tail_factor": Num(1.0, 100.0),
            "rounding": Enum(AMOUNT_ROUNDINGS),
        }), keys=LAW_NAME),
        "min_usd": POS,
        "max_usd": POS,
    }),
    "timing": Obj({name: SPAN for name in (
        "auth_response", "step_up_challenge", "step_up_complete", "clearing", "clearing_atm", "refund", "reversal")}),
})


def _check(file, data):
    gap = data["flows"]["retry_gap_seconds"]
    if len(gap["points"]) != len(gap["probs"]):
        raise PolicyError(file, "flows.retry_gap_seconds.probs", gap["probs"],
                          f"one probability per point ({len(gap['points'])})")
    if abs(sum(gap["probs"]) - 1.0) > 1e-9:
        raise PolicyError(file, "flows.retry_gap_seconds.probs", gap["probs"],
                          f"probabilities summing to 1 (they sum to {sum(gap['probs']):.12g})")
    check_pair(file, "flows.partial_refund_fraction", data["flows"]["partial_refund_fraction"],
               "a [lo, hi] pair with 0 < lo <= hi <= 1")
    amt = data["amounts"]
    if amt["max_usd"] <= amt["min_usd"]:
        raise PolicyError(file, "amounts.max_usd", amt["max_usd"], f"a value > min_usd ({amt['min_usd']})")
    for channel, law in amt["law_by_channel"].items():
        if law != LAW_OF_THE_MCC and law not in amt["laws"]:
            raise PolicyError(file, f"amounts.law_by_channel.{channel}", law,
                              f"{LAW_OF_THE_MCC} (the merchant's MCC group) or a law of amounts.laws")
    for name, law in amt["laws"].items():
        if law["p_point"] > 0 and not law["points_usd"]:
            raise PolicyError(file, f"amounts.laws.{name}.points_usd", law["points_usd"],
                              "at least one price point when p_point > 0")
        if law["p_point"] >= 1:
            raise PolicyError(file, f"amounts.laws.{name}.p_point", law["p_point"],
                              "a share below 1 (the law's median is set by its lognormal body)")
    check_spans(file, "timing", data["timing"])


SCHEMA = (SCHEMA_NODE, _check)
