"""Schema of policies/bank_view.yaml: the 6B S4 bank process, its delays and case grouping."""
from python_kernels.core.policy_schema.arrivals import DEMAND_CLASSES
from python_kernels.core.policy_schema.nodes import (POS, PROB, SPAN, Dist, Enum, List, Num, Obj, Per, check_pair,
                                                     check_spans)
from python_kernels.core.vocabulary import CHARGEBACK_OUTCOMES, SUBTYPES, TRUTH_LABELS

DELAYS = ("detection", "dispute", "chargeback", "chargeback_decision", "case_close")

SCHEMA_NODE = Obj({
    "process": Obj({
        "p_detect": Per(SUBTYPES, PROB),
        "p_dispute": Per(SUBTYPES, PROB),
        "p_chargeback": Per(SUBTYPES, PROB),
        "p_confirm": Per(SUBTYPES, PROB),
        "chargeback_outcome": Per(TRUTH_LABELS, Dist(Enum(CHARGEBACK_OUTCOMES))),
        "amount_pivot_usd": POS,
        "amount_elasticity": Per(SUBTYPES, Num(-3.0, 3.0)),
        "amount_factor_range": List(POS, min_len=2),
        "class_multiplier": Per(DEMAND_CLASSES, Per(("detect", "dispute", "chargeback"), Num(0.0, 100.0))),
        "chargeback_window_days": Num(1.0, 540.0),
    }),
    "delays": Per(DELAYS, SPAN),
    "cases": Obj({"group_window_seconds": Num(0.0, 31_536_000.0)}),
})


def _check(file, data):
    check_pair(file, "process.amount_factor_range", data["process"]["amount_factor_range"])
    check_spans(file, "delays", data["delays"])


SCHEMA = (SCHEMA_NODE, _check)
