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

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from python_kernels.core import rng
from python_kernels.core.policy_schema.arrivals import DEMAND_CLASSES
from python_kernels.core.policy_schema.bank_view import DELAYS
from python_kernels.core.vocabulary import (BANK_LABELS, BLOCK_ROWS, CHARGEBACK_OUTCOMES, DETECTION_OUTCOMES, NO_TIME,
                                            SUBTYPES, TRUTH_LABELS, US_PER_DAY)

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


class BankParams(NamedTuple):
    """The bank-view policy as the kernel's arrays (built by `bank_params`)."""

    p_detect: np.ndarray      # per truth subtype
    p_dispute: np.ndarray
    p_chargeback: np.ndarray
    p_confirm: np.ndarray
    class_mult: np.ndarray    # [demand class, (detect, dispute, chargeback)]
    outcome_cum: np.ndarray   # [truth label, CHARGEBACK_OUTCOMES] cumulative
    pivot: float              # US dollars at which the amount factor is 1
    elasticity: np.ndarray    # per truth subtype
    factor_lo: float
    factor_hi: float
    cb_window_us: int         # the scheme's chargeback window after clearing
    delays: np.ndarray        # [DELAYS, (median, sigma, min, max) seconds]


class BankFlows(NamedTuple):
    """What the bank view reads of each flow (indices into SUBTYPES, TRUTH_LABELS, DEMAND_CLASSES)."""

    flow_id: np.ndarray
    subtype: np.ndarray
    label: np.ndarray
    klass: np.ndarray
    amount_usd: np.ndarray
    screened: np.ndarray      # declined by the auth screen
    t_response: np.ndarray
    t_clearing: np.ndarray


class BankRows(NamedTuple):
    detect_kind: np.ndarray   # index into DETECTION_OUTCOMES
    detect: np.ndarray
    dispute: np.ndarray
    chargeback: np.ndarray
    outcome: np.ndarray       # index into CHARGEBACK_OUTCOMES, -1 none
    decision: np.ndarray
    confirmed: np.ndarray
    label: np.ndarray         # index into BANK_LABELS
    trigger: np.ndarray       # the case opening: first detection or dispute
    last: np.ndarray          # the last step of the process


def bank_params(policy: dict) -> BankParams:
    """The kernel's arrays of policies/bank_view.yaml (its process and delays)."""
    bv = policy["process"]
    per_sub = lambda key: np.array([bv[key][s] for s in SUBTYPES], np.float64)  # noqa: E731
    return BankParams(
        p_detect=per_sub("p_detect"), p_dispute=per_sub("p_dispute"),
        p_chargeback=per_sub("p_chargeback"), p_confirm=per_sub("p_confirm"),
        class_mult=np.array([[bv["class_multiplier"][c][k] for k in ("detect", "dispute", "chargeback")]
                             for c in DEMAND_CLASSES], np.float64),
        outcome_cum=np.cumsum([[bv["chargeback_outcome"][lab][o] for o in CHARGEBACK_OUTCOMES]
                               for lab in TRUTH_LABELS], axis=1),
        pivot=float(bv["amount_pivot_usd"]), elasticity=per_sub("amount_elasticity"),
        factor_lo=float(bv["amount_factor_range"][0]), factor_hi=float(bv["amount_factor_range"][1]),
        cb_window_us=int(bv["chargeback_window_days"] * US_PER_DAY),
        delays=np.array([[policy["delays"][d][k] for k in ("median_seconds", "sigma", "min_seconds", "max_seconds")]
                         for d in DELAYS], np.float64),
    )


@njit(cache=True)
def _bank_flows(lo, hi, seed, domain, f, p, o):
    """The bank's process for flows lo..hi. Each row is written in this loop rather than by a helper:
    passing the named tuples to a function per row costs a reference count for every array in them."""
    for i in range(lo, hi):
        s = rng.stream_key(seed, domain, f.flow_id[i])
        sub = f.subtype[i]
        k = f.klass[i]
        af = min(max((max(f.amount_usd[i], 1e-9) / p.pivot) ** p.elasticity[sub], p.factor_lo), p.factor_hi)
        o.detect_kind[i] = NOT_DETECTED
        o.detect[i] = NO_TIME
        if f.screened[i]:
            o.detect_kind[i] = AT_AUTH
            o.detect[i] = f.t_response[i]
        elif rng.uniform(s, C_DETECT) < min(p.p_detect[sub] * p.class_mult[k, 0] * af, 0.98):
            o.detect_kind[i] = POST_AUTH
            o.detect[i] = f.t_response[i] + rng.lognormal_clipped_us(s, C_DETECT_DELAY, p.delays[0])
        o.dispute[i] = NO_TIME
        o.chargeback[i] = NO_TIME
        o.outcome[i] = -1
        o.decision[i] = NO_TIME
        if f.t_clearing[i] != NO_TIME and rng.uniform(s, C_DISPUTE) < min(p.p_dispute[sub] * p.class_mult[k, 1] * af, 0.98):
            o.dispute[i] = f.t_clearing[i] + rng.lognormal_clipped_us(s, C_DISPUTE_DELAY, p.delays[1])
            if rng.uniform(s, C_CHARGEBACK) < min(p.p_chargeback[sub] * p.class_mult[k, 2], 0.98):
                t_cb = o.dispute[i] + rng.lognormal_clipped_us(s, C_CHARGEBACK_DELAY, p.delays[2])
                if t_cb - f.t_clearing[i] <= p.cb_window_us:  # later than the scheme allows: no chargeback
                    o.chargeback[i] = t_cb
                    o.outcome[i] = rng.categorical(s, C_OUTCOME, p.outcome_cum[f.label[i]])
                    o.decision[i] = t_cb + rng.lognormal_clipped_us(s, C_DECISION_DELAY, p.delays[3])
        case = o.detect[i] != NO_TIME or o.dispute[i] != NO_TIME
        o.confirmed[i] = case and rng.uniform(s, C_CONFIRM) < p.p_confirm[sub]
        if o.outcome[i] == WRITTEN_OFF:
            o.label[i] = CHARGEBACK_WRITTEN_OFF
        elif o.confirmed[i]:
            o.label[i] = CONFIRMED_FRAUD
        elif o.dispute[i] != NO_TIME:
            o.label[i] = DISPUTE_REJECTED
        elif case:
            o.label[i] = CONFIRMED_LEGIT
        else:
            o.label[i] = NO_CASE
        if not case:
            o.trigger[i] = NO_TIME
            o.last[i] = NO_TIME
        else:
            first = o.detect[i]
            if first == NO_TIME or (o.dispute[i] != NO_TIME and o.dispute[i] < first):
                first = o.dispute[i]
            o.trigger[i] = first
            o.last[i] = max(o.detect[i], o.dispute[i], o.chargeback[i], o.decision[i])


@njit(parallel=True, cache=True)
def _bank_view(seed, domain, f, p, o):
    # Rows are written by a plain function called per block of rows: inside a prange body
    # numba drops writes to arrays reached through a named tuple (numba issues 5872, 7135).
    n = f.flow_id.shape[0]
    for b in prange((n + BLOCK_ROWS - 1) // BLOCK_ROWS):
        _bank_flows(b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS), seed, domain, f, p, o)


FLOW_INPUTS = BankFlows._fields


def bank_view(seed: int, flows: dict, params: BankParams) -> dict:
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
    o = BankRows(**{name: np.empty(n, np.bool_ if name == "confirmed" else np.int64) for name in BankRows._fields})
    i64 = lambda k: np.ascontiguousarray(flows[k], np.int64)  # noqa: E731
    f = BankFlows(i64("flow_id"), i64("subtype"), i64("label"), i64("klass"),
                  np.ascontiguousarray(flows["amount_usd"], np.float64), np.ascontiguousarray(flows["screened"], np.bool_),
                  i64("t_response"), i64("t_clearing"))
    if not isinstance(params, BankParams):
        raise TypeError("params must be the BankParams of bank_params()")
    _bank_view(U64(rng.check_seed(seed)), U64(rng.domain_id(BANK_DOMAIN)), f, params, o)
    return o._asdict()
