"""6B S3 overlay: which campaign instance (if any) takes each flow, and that instance's tactics.

Parallel over flows; each flow's draws are keyed by (instance stream, flow_id) or (instance
stream, cohort entity), so the result does not depend on chunking. The counters of a taken
flow's stream combine(instance, flow_id) are named below; the cohort coin of an entity is
counter 0 of combine(instance, entity id).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from python_kernels.core import rng
from python_kernels.core.vocabulary import DECLINE_REASONS, NO_TIME, REASON_STEP_UP_FAILED

U64 = np.uint64
REASON_CARD = DECLINE_REASONS.index("INCORRECT_CVV_OR_PIN")
REASON_SCREEN = DECLINE_REASONS.index("SUSPECTED_FRAUD")
TACTIC_FLAGS = ("amount_mutated", "device_swapped", "ip_swapped", "step_up_forced", "card_declined",
                "screen_declined", "refund_added")
# counters of a taken flow's stream combine(instance, flow_id)
C_TAKE, C_AMOUNT, C_CARD_DECLINE, C_SCREEN, C_DEVICE, C_IP = U64(1), U64(2), U64(4), U64(5), U64(6), U64(7)
C_STEP_UP, C_STEP_UP_FAIL, C_CHALLENGE_DELAY, C_COMPLETE_DELAY = U64(8), U64(9), U64(10), U64(11)
C_REFUND, C_REFUND_DELAY = U64(12), U64(13)


@njit(inline="always", cache=True)
def _in_scope(c, i, scenario, ts, channel, merchant, country, cross, cohort_keys, a_scenario, a_stream, a_start,
              a_end, a_chan, a_cross, a_kind, a_share, m_ok, k_ok):
    if a_scenario[c] != scenario[i] or ts[i] < a_start[c] or ts[i] >= a_end[c]:
        return False
    if (a_chan[c] >> channel[i]) & 1 == 0 or not m_ok[c, merchant[i]] or not k_ok[c, country[i]]:
        return False
    if a_cross[c] and not cross[i]:
        return False
    kind = a_kind[c]
    if kind > 0 and rng.uniform(rng.combine(a_stream[c], U64(cohort_keys[kind - 1, i])), U64(0)) >= a_share[c]:
        return False
    return True


@njit(parallel=True, cache=True)
def _overlay(scenario, flow_id, ts, channel, merchant, country, cross, cohort_keys, unit_minor,
             a_scenario, a_stream, a_start, a_end, a_chan, a_cross, a_kind, a_share, a_intensity, m_ok, k_ok,
             a_amode, a_up, a_test, a_card, a_screen, a_step, a_step_fail, a_refund, dev_ptr, dev_pool, ip_ptr, ip_pool,
             t_chal, t_comp, t_refund,
             campaign, amount, clearing, refund_amt, device, ip, step_up, declined, reason,
             t_challenge, t_complete, t_response, t_clearing, t_reversal, t_refund_at, flags):
    n_c = a_stream.shape[0]
    for i in prange(flow_id.shape[0]):
        campaign[i] = -1
        for c in range(n_c):
            if not _in_scope(c, i, scenario, ts, channel, merchant, country, cross, cohort_keys, a_scenario,
                             a_stream, a_start, a_end, a_chan, a_cross, a_kind, a_share, m_ok, k_ok):
                continue
            s = rng.combine(a_stream[c], U64(flow_id[i]))
            if rng.uniform(s, C_TAKE) < a_intensity[c]:
                campaign[i] = c
                break
        c = campaign[i]
        if c < 0:
            continue
        s = rng.combine(a_stream[c], U64(flow_id[i]))
        # amount, with clearing and refund kept in proportion (all in minor units)
        old = amount[i]
        if a_amode[c] == 1:
            usd = a_test[c, 0] + (a_test[c, 1] - a_test[c, 0]) * rng.uniform(s, C_AMOUNT)
            amount[i] = max(int(round(usd * unit_minor[i])), 1)
        elif a_amode[c] == 2:
            f = a_up[c, 0] * math.exp(a_up[c, 1] * rng.normal(s, C_AMOUNT))
            amount[i] = max(int(round(old * min(max(f, a_up[c, 2]), a_up[c, 3]))), 1)
        if amount[i] != old:
            flags[i, 0] = True
            ratio = amount[i] / old
            if t_clearing[i] != NO_TIME:
                clearing[i] = max(int(round(clearing[i] * ratio)), 1)
            if t_refund_at[i] != NO_TIME:
                refund_amt[i] = min(max(int(round(refund_amt[i] * ratio)), 1), clearing[i])
        n_dev = dev_ptr[c + 1] - dev_ptr[c]
        if n_dev > 0:
            device[i] = dev_pool[dev_ptr[c] + min(int(rng.uniform(s, C_DEVICE) * n_dev), n_dev - 1)]
            flags[i, 1] = True
        n_ip = ip_ptr[c + 1] - ip_ptr[c]
        if n_ip > 0:
            ip[i] = ip_pool[ip_ptr[c] + min(int(rng.uniform(s, C_IP) * n_ip), n_ip - 1)]
            flags[i, 2] = True
        if declined[i]:
            continue  # a flow the issuer already declined keeps its outcome
        if not step_up[i] and rng.uniform(s, C_STEP_UP) < a_step[c]:
            # challenge inserted before the response: everything after the request moves later
            d1 = rng.lognormal_clipped_us(s, C_CHALLENGE_DELAY, t_chal)
            d2 = rng.lognormal_clipped_us(s, C_COMPLETE_DELAY, t_comp)
            t_challenge[i] = ts[i] + d1
            t_complete[i] = ts[i] + d1 + d2
            t_response[i] += d1 + d2
            if t_clearing[i] != NO_TIME:
                t_clearing[i] += d1 + d2
            if t_reversal[i] != NO_TIME:
                t_reversal[i] += d1 + d2
            if t_refund_at[i] != NO_TIME:
                t_refund_at[i] += d1 + d2
            step_up[i] = True
            flags[i, 3] = True
            if rng.uniform(s, C_STEP_UP_FAIL) < a_step_fail[c]:
                declined[i] = True
                reason[i] = REASON_STEP_UP_FAILED
        if not declined[i] and rng.uniform(s, C_CARD_DECLINE) < a_card[c]:
            declined[i] = True
            reason[i] = REASON_CARD
            flags[i, 4] = True
        if not declined[i] and rng.uniform(s, C_SCREEN) < a_screen[c]:
            declined[i] = True
            reason[i] = REASON_SCREEN
            flags[i, 5] = True
        if declined[i]:
            t_clearing[i] = NO_TIME
            t_reversal[i] = NO_TIME
            t_refund_at[i] = NO_TIME
            clearing[i] = 0
            refund_amt[i] = 0
        elif t_clearing[i] != NO_TIME and t_refund_at[i] == NO_TIME and rng.uniform(s, C_REFUND) < a_refund[c]:
            t_refund_at[i] = t_clearing[i] + rng.lognormal_clipped_us(s, C_REFUND_DELAY, t_refund)
            refund_amt[i] = clearing[i]
            flags[i, 6] = True


FLOW_INPUTS = ("scenario", "flow_id", "ts", "channel", "merchant", "country", "cross", "account", "instrument",
               "party", "unit_minor")
MUTABLE = ("amount", "clearing", "refund_amt", "device", "ip", "step_up", "declined", "reason",
           "t_challenge", "t_complete", "t_response", "t_clearing", "t_reversal", "t_refund")


def overlay(flows: dict, campaigns: dict, timing: dict) -> dict:
    """Campaign (index into the plan, -1 none), mutated flow fields and tactic flags per flow.

    flows: FLOW_INPUTS and MUTABLE arrays (indices: merchant into campaigns["merchant_ok"]
    columns, country into ["country_ok"] columns; times in µs, behaviour.NO_TIME for none);
    timing: "step_up_challenge", "step_up_complete", "refund" (median, sigma, min, max) seconds.
    Inputs are not modified.
    """
    n = flows["flow_id"].size
    for name in FLOW_INPUTS + MUTABLE:
        if flows[name].shape[0] != n:
            raise ValueError(f"flow input {name!r} needs one entry per flow ({n})")
    a = campaigns
    if n and (flows["merchant"].min() < 0 or flows["merchant"].max() >= a["merchant_ok"].shape[1]):
        raise ValueError("merchant index out of range of the campaign eligibility matrix")
    if n and (flows["country"].min() < 0 or flows["country"].max() >= a["country_ok"].shape[1]):
        raise ValueError("country index out of range of the campaign eligibility matrix")
    if np.any(flows["unit_minor"] <= 0):
        raise ValueError("unit_minor (minor units per US dollar) must be > 0")
    out = {k: np.array(flows[k], copy=True) for k in MUTABLE}
    out["campaign"] = np.empty(n, np.int64)
    out["flags"] = np.zeros((n, len(TACTIC_FLAGS)), np.bool_)
    i64 = lambda k: np.ascontiguousarray(flows[k], np.int64)  # noqa: E731
    cohort = np.ascontiguousarray(np.stack([i64("account"), i64("instrument"), i64("party")]))
    spec = {k: np.array(timing[k], np.float64) for k in ("step_up_challenge", "step_up_complete", "refund")}
    _overlay(i64("scenario"), i64("flow_id"), i64("ts"), i64("channel"), i64("merchant"), i64("country"),
             np.ascontiguousarray(flows["cross"], np.bool_), cohort, np.ascontiguousarray(flows["unit_minor"], float),
             a["scenario"], a["stream"], a["start"], a["end"], a["chan_mask"], a["cross_only"], a["cohort_kind"],
             a["cohort_share"], a["intensity"], a["merchant_ok"], a["country_ok"], a["amount_mode"], a["upshift"],
             a["test_usd"], a["p_card"], a["p_screen"], a["p_step_up"], a["p_step_fail"], a["p_refund"],
             a["device_ptr"], a["device_pool"], a["ip_ptr"], a["ip_pool"],
             spec["step_up_challenge"], spec["step_up_complete"], spec["refund"],
             out["campaign"], out["amount"], out["clearing"], out["refund_amt"], out["device"], out["ip"],
             out["step_up"], out["declined"], out["reason"], out["t_challenge"], out["t_complete"], out["t_response"],
             out["t_clearing"], out["t_reversal"], out["t_refund"], out["flags"])
    return out
