"""6B S4 kernels: the bank's view of each flow as a process in time, and case grouping.

`bank_view` is parallel over flows; each flow's draws come from its stream
(seed, "6B.s4.bank", flow_id) with counters
  0 detection coin, 1 detection delay, 3 dispute coin, 4 dispute delay, 6 chargeback coin,
  7 chargeback delay, 9 chargeback outcome, 10 decision delay, 12 investigation coin,
so the result does not depend on chunking. A flow the auth screen declined as
SUSPECTED_FRAUD was detected at auth; any other flow may be detected later by monitoring
(declined attempts too: card-testing velocity; on a legit flow it is a false alert); a cleared flow may be disputed by the customer, a dispute may become a
chargeback within the scheme window; every detected or disputed flow opens a case whose
investigation confirms fraud or not. Delays are lognormal, each anchored on the stage
before it (no fixed offsets).

`group_cases` walks the triggered flows in (case key, first trigger, flow_id) order, the case
key being (scenario, account), and puts a flow into its key's open case when it comes
within the grouping window of the case's opening; otherwise it opens a case whose id is
its own flow_id.
`*_naive` functions are slow oracles for tests.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from python_kernels.core import rng
from python_kernels.behaviour import NO_TIME
from python_kernels.core.policy_schema.arrivals import DEMAND_CLASSES
from python_kernels.core.policy_schema.fraud import CHARGEBACK_OUTCOMES, DELAYS, SUBTYPES, TRUTH_LABELS

U64 = np.uint64
BANK_LABELS = ("NO_CASE_OPENED", "BANK_CONFIRMED_LEGIT", "BANK_CONFIRMED_FRAUD", "CUSTOMER_DISPUTE_REJECTED",
               "CHARGEBACK_WRITTEN_OFF")
DETECTION_OUTCOMES = ("NOT_DETECTED", "DETECTED_AT_AUTH", "DETECTED_POST_AUTH")
BANK_DOMAIN = "6B.s4.bank"
CASE_DOMAIN = "6B.s4.case"
DAY_US = 86_400_000_000


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
        "cb_window_us": int(bv["chargeback_window_days"] * DAY_US),
        "delays": np.array([[policy["delays"][d][k] for k in ("median_seconds", "sigma", "min_seconds", "max_seconds")]
                            for d in DELAYS], np.float64),
    }


@njit(inline="always", cache=True)
def _delay_us(s, ctr, spec):
    x = spec[0] * math.exp(spec[1] * rng.normal(s, ctr))
    return max(int(round(min(max(x, spec[2]), spec[3]) * 1e6)), 1)


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
        o_detect_kind[i] = 0
        o_detect[i] = NO_TIME
        if screened[i]:
            o_detect_kind[i] = 1
            o_detect[i] = t_response[i]
        elif rng.uniform(s, U64(0)) < min(p_detect[sub] * class_mult[k, 0] * af, 0.98):
            o_detect_kind[i] = 2
            o_detect[i] = t_response[i] + _delay_us(s, U64(1), delays[0])
        o_dispute[i] = NO_TIME
        o_cb[i] = NO_TIME
        o_outcome[i] = -1
        o_decision[i] = NO_TIME
        if t_clearing[i] != NO_TIME and rng.uniform(s, U64(3)) < min(p_dispute[sub] * class_mult[k, 1] * af, 0.98):
            o_dispute[i] = t_clearing[i] + _delay_us(s, U64(4), delays[1])
            if rng.uniform(s, U64(6)) < min(p_chargeback[sub] * class_mult[k, 2], 0.98):
                t_cb = o_dispute[i] + _delay_us(s, U64(7), delays[2])
                if t_cb - t_clearing[i] <= cb_window:  # later than the scheme allows: no chargeback
                    o_cb[i] = t_cb
                    o_outcome[i] = rng.categorical(s, U64(9), outcome_cum[label[i]])
                    o_decision[i] = t_cb + _delay_us(s, U64(10), delays[3])
        case = o_detect[i] != NO_TIME or o_dispute[i] != NO_TIME
        o_confirmed[i] = case and rng.uniform(s, U64(12)) < p_confirm[sub]
        if o_outcome[i] == 0:
            o_label[i] = 4       # CHARGEBACK_WRITTEN_OFF
        elif o_confirmed[i]:
            o_label[i] = 2       # BANK_CONFIRMED_FRAUD
        elif o_dispute[i] != NO_TIME:
            o_label[i] = 3       # CUSTOMER_DISPUTE_REJECTED
        elif case:
            o_label[i] = 1       # BANK_CONFIRMED_LEGIT
        else:
            o_label[i] = 0       # NO_CASE_OPENED
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


# ---- cases -----------------------------------------------------------------------------------

@njit(cache=True)
def _group_cases(key, trigger, flow_id, window, case_id):
    open_case = -1
    opened = NO_TIME
    for i in range(flow_id.shape[0]):
        if i == 0 or key[i] != key[i - 1] or trigger[i] > opened + window:
            open_case = flow_id[i]
            opened = trigger[i]
        case_id[i] = open_case


def group_cases(key, trigger, flow_id, window_us: int) -> np.ndarray:
    """case_id per triggered flow; inputs sorted by (case key, trigger, flow_id)."""
    key = np.ascontiguousarray(key, np.int64)
    trigger = np.ascontiguousarray(trigger, np.int64)
    flow_id = np.ascontiguousarray(flow_id, np.int64)
    if not key.size == trigger.size == flow_id.size:
        raise ValueError("key, trigger and flow_id need the same length")
    if np.any(trigger == NO_TIME):
        raise ValueError("every flow to group needs a trigger instant")
    order = np.lexsort((flow_id, trigger, key))
    if np.any(order != np.arange(order.size)):
        raise ValueError("flows must be sorted by (case key, trigger, flow_id)")
    case_id = np.empty(flow_id.size, np.int64)
    _group_cases(key, trigger, flow_id, np.int64(window_us), case_id)
    return case_id


def group_cases_naive(key, trigger, flow_id, window_us: int) -> np.ndarray:
    """Oracle: per case key, cases opened by the first flow outside the current case's window."""
    out = np.empty(len(flow_id), np.int64)
    cases = {}  # key -> (case_id, opened)
    for i in sorted(range(len(flow_id)), key=lambda j: (key[j], trigger[j], flow_id[j])):
        cur = cases.get(key[i])
        if cur is None or trigger[i] > cur[1] + window_us:
            cur = cases[key[i]] = (flow_id[i], trigger[i])
        out[i] = cur[0]
    return out


def close_cases(seed: int, case_id, last, spec) -> np.ndarray:
    """Closing instant per row (rows grouped by case, any order within): the case's last step
    plus a lognormal close delay keyed by case_id."""
    case_id = np.asarray(case_id, np.int64)
    last = np.asarray(last, np.int64)
    uniq, inv = np.unique(case_id, return_inverse=True)
    latest = np.full(uniq.size, np.iinfo(np.int64).min, np.int64)
    np.maximum.at(latest, inv, last)
    z = rng.normals(rng.stream_keys(seed, CASE_DOMAIN, uniq), 0)
    x = np.clip(spec[0] * np.exp(spec[1] * z), spec[2], spec[3])
    return (latest + np.maximum(np.round(x * 1e6), 1).astype(np.int64))[inv]
