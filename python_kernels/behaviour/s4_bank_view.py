"""6B S4 bank view: the bank's view of each flow as a process in time.

Parallel over flows; each flow's draws come from its stream (seed, "6B.s4.bank", flow_id) with
the counters named below, so the result does not depend on chunking. A flow the auth screen
declined as SUSPECTED_FRAUD was detected at auth; any other flow may be detected later by
monitoring (declined attempts too: card-testing velocity; on a legit flow it is a false alert);
a cleared flow may be disputed by the customer, a dispute may become a chargeback within the
scheme window; every detected or disputed flow opens a case whose investigation confirms fraud
or not. Delays are lognormal, each anchored on the stage before it (no fixed offsets).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from python_kernels.core import rng
from python_kernels.core.policy_schema.arrivals import DEMAND_CLASSES
from python_kernels.core.policy_schema.fraud import CHARGEBACK_OUTCOMES, DELAYS, SUBTYPES, TRUTH_LABELS
from python_kernels.core.vocabulary import BANK_LABELS, DETECTION_OUTCOMES, NO_TIME, US_PER_DAY

U64 = np.uint64
BANK_DOMAIN = "6B.s4.bank"
NOT_DETECTED, AT_AUTH, POST_AUTH = (DETECTION_OUTCOMES.index(x) for x in
                                    ("NOT_DETECTED", "DETECTED_AT_AUTH", "DETECTED_POST_AUTH"))
NO_CASE, CONFIRMED_LEGIT, CONFIRMED_FRAUD, DISPUTE_REJECTED, CHARGEBACK_WRITTEN_OFF = (
    BANK_LABELS.index(x) for x in ("NO_CASE_OPENED", "BANK_CONFIRMED_LEGIT", "BANK_CONFIRMED_FRAUD",
                                   "CUSTOMER_DISPUTE_REJECTED", "CHARGEBACK_WRITTEN_OFF"))
WRITTEN_OFF = CHARGEBACK_OUTCOMES.index("BANK_LOSS")  # the bank lost the chargeback
# counters of a flow's stream (a normal takes two)
C_DETECT, C_DETECT_DELAY, C_DISPUTE, C_DISPUTE_DELAY = U64(0), U64(1), U64(3), U64(4)
C_CHARGEBACK, C_CHARGEBACK_DELAY, C_OUTCOME, C_DECISION_DELAY, C_CONFIRM = U64(6), U64(7), U64(9), U64(10), U64(12)


def bank_params(policy: dict) -> dict:
    """Arrays of the bank-view policy (policies/fraud.yaml bank_view and delays)."""
    bv = policy["bank_view"]
    per_sub = lambda key: np.array([bv[key][s] for s in SUBTYPES], np.float64)  # noqa: E731
    return {
        "p_detect": per_sub("p_detect"), "p_dispute": per_sub("p_dispute"),
        "p_chargeback": per_sub("p_chargeback"), "p_confirm": per_sub("p_confirm"),
        "class_mult": np.array([[bv["class_multiplier"][c][k] for k in ("detect", "dispute", "chargeback")]
                                for c in DEMAND_CLASSES], np.float64),
        "outcome_cum": np.cumsum([[bv["chargeback_outcome"][lab][o] for o in CHARGEBACK_OUTCOMES]
                                  for lab in TRUTH_LABELS], axis=1),
        "pivot": bv["amount_pivot_usd"], "elasticity": per_sub("amount_elasticity"),
        "factor_lo": bv["amount_factor_range"][0], "factor_hi": bv["amount_factor_range"][1],
        "cb_window_us": int(bv["chargeback_window_days"] * US_PER_DAY),
        "delays": np.array([[policy["delays"][d][k] for k in ("median_seconds", "sigma", "min_seconds", "max_seconds")]
                            for d in DELAYS], np.float64),
    }


@njit(parallel=True, cache=True)
def _bank_view(seed, domain, flow_id, subtype, label, klass, amount_usd, screened, t_response, t_clearing,
               p_detect, p_dispute, p_chargeback, p_confirm, class_mult, outcome_cum, pivot, elasticity, f_lo, f_hi,
               cb_window, delays, o_detect_kind, o_detect, o_dispute, o_cb, o_outcome, o_decision, o_confirmed,
               o_label, o_trigger, o_last):
    for i in prange(flow_id.shape[0]):
        s = rng.stream_key(seed, domain, flow_id[i])
        sub = subtype[i]
        k = klass[i]
        af = min(max((max(amount_usd[i], 1e-9) / pivot) ** elasticity[sub], f_lo), f_hi)
        o_detect_kind[i] = NOT_DETECTED
        o_detect[i] = NO_TIME
        if screened[i]:
            o_detect_kind[i] = AT_AUTH
            o_detect[i] = t_response[i]
        elif rng.uniform(s, C_DETECT) < min(p_detect[sub] * class_mult[k, 0] * af, 0.98):
            o_detect_kind[i] = POST_AUTH
            o_detect[i] = t_response[i] + rng.lognormal_clipped_us(s, C_DETECT_DELAY, delays[0])
        o_dispute[i] = NO_TIME
        o_cb[i] = NO_TIME
        o_outcome[i] = -1
        o_decision[i] = NO_TIME
        if t_clearing[i] != NO_TIME and rng.uniform(s, C_DISPUTE) < min(p_dispute[sub] * class_mult[k, 1] * af, 0.98):
            o_dispute[i] = t_clearing[i] + rng.lognormal_clipped_us(s, C_DISPUTE_DELAY, delays[1])
            if rng.uniform(s, C_CHARGEBACK) < min(p_chargeback[sub] * class_mult[k, 2], 0.98):
                t_cb = o_dispute[i] + rng.lognormal_clipped_us(s, C_CHARGEBACK_DELAY, delays[2])
                if t_cb - t_clearing[i] <= cb_window:  # later than the scheme allows: no chargeback
                    o_cb[i] = t_cb
                    o_outcome[i] = rng.categorical(s, C_OUTCOME, outcome_cum[label[i]])
                    o_decision[i] = t_cb + rng.lognormal_clipped_us(s, C_DECISION_DELAY, delays[3])
        case = o_detect[i] != NO_TIME or o_dispute[i] != NO_TIME
        o_confirmed[i] = case and rng.uniform(s, C_CONFIRM) < p_confirm[sub]
        if o_outcome[i] == WRITTEN_OFF:
            o_label[i] = CHARGEBACK_WRITTEN_OFF
        elif o_confirmed[i]:
            o_label[i] = CONFIRMED_FRAUD
        elif o_dispute[i] != NO_TIME:
            o_label[i] = DISPUTE_REJECTED
        elif case:
            o_label[i] = CONFIRMED_LEGIT
        else:
            o_label[i] = NO_CASE
        if not case:
            o_trigger[i] = NO_TIME
            o_last[i] = NO_TIME
        else:
            first = o_detect[i]
            if first == NO_TIME or (o_dispute[i] != NO_TIME and o_dispute[i] < first):
                first = o_dispute[i]
            o_trigger[i] = first
            o_last[i] = max(o_detect[i], o_dispute[i], o_cb[i], o_decision[i])


FLOW_INPUTS = ("flow_id", "subtype", "label", "klass", "amount_usd", "screened", "t_response", "t_clearing")


def bank_view(seed: int, flows: dict, params: dict) -> dict:
    """Per flow: detection kind (index into DETECTION_OUTCOMES) and instant, dispute,
    chargeback, chargeback outcome (index into CHARGEBACK_OUTCOMES, -1 none) and decision
    instants, whether the investigation confirmed fraud, the bank label (index into
    BANK_LABELS), the first trigger (case opening) and the last step (µs, NO_TIME: none).

    flows: FLOW_INPUTS arrays; subtype indexes SUBTYPES, label TRUTH_LABELS, klass
    DEMAND_CLASSES; screened = declined by the auth screen.
    """
    n = flows["flow_id"].size
    for name in FLOW_INPUTS:
        if flows[name].shape[0] != n:
            raise ValueError(f"flow input {name!r} needs one entry per flow ({n})")
    for name, size in (("subtype", len(SUBTYPES)), ("label", len(TRUTH_LABELS)), ("klass", len(DEMAND_CLASSES))):
        if n and (flows[name].min() < 0 or flows[name].max() >= size):
            raise ValueError(f"{name} index out of range [0, {size})")
    out = {name: np.empty(n, np.int64) for name in ("detect_kind", "detect", "dispute", "chargeback", "outcome",
                                                    "decision", "label", "trigger", "last")}
    out["confirmed"] = np.empty(n, np.bool_)
    p = params
    i64 = lambda k: np.ascontiguousarray(flows[k], np.int64)  # noqa: E731
    _bank_view(U64(rng.check_seed(seed)), U64(rng.domain_id(BANK_DOMAIN)), i64("flow_id"), i64("subtype"),
               i64("label"), i64("klass"), np.ascontiguousarray(flows["amount_usd"], np.float64),
               np.ascontiguousarray(flows["screened"], np.bool_),
               i64("t_response"), i64("t_clearing"), p["p_detect"], p["p_dispute"], p["p_chargeback"],
               p["p_confirm"], p["class_mult"], p["outcome_cum"], p["pivot"], p["elasticity"], p["factor_lo"],
               p["factor_hi"], p["cb_window_us"], p["delays"],
               out["detect_kind"], out["detect"], out["dispute"], out["chargeback"], out["outcome"],
               out["decision"], out["confirmed"], out["label"], out["trigger"], out["last"])
    return out
