"""6B S2 flows: one per arrival plus retries of declined ones, with step-ups, amounts, clearing,
refunds, reversals and every event's instant.

`flows` is parallel over arrivals; flow j of an arrival has the stream
(seed, "6B.s2.flow", flow_id = MAX_FLOWS_PER_ARRIVAL * arrival_id + j) and the arrival's amount
stream (seed, "6B.s2.amount", arrival_id), with the counters named below. `flow_params` turns
the flow, amount and timing policy into the kernel's arrays.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from python_kernels.core import rng
from python_kernels.core.vocabulary import (CHANNELS, DECLINE_REASONS, FAMILIES, MAX_FLOWS_PER_ARRIVAL, NO_TIME,
                                            REASON_STEP_UP_FAILED)

U64 = np.uint64
FLOW_DOMAIN = "6B.s2.flow"
AMOUNT_DOMAIN = "6B.s2.amount"
# counters of a flow's stream
C_STEP_UP, C_STEP_UP_FAIL, C_DECLINE, C_REASON, C_RETRY, C_RETRY_GAP = (U64(c) for c in range(6))
C_AUTH_LATENCY, C_CHALLENGE_DELAY, C_COMPLETE_DELAY = U64(6), U64(8), U64(10)  # a normal takes two counters
C_REVERSAL, C_REFUND, C_PARTIAL_REFUND, C_PARTIAL_FRACTION = U64(12), U64(13), U64(14), U64(15)
C_CLEARING_DELAY, C_REFUND_DELAY, C_REVERSAL_DELAY, C_CLEARING_DELTA = U64(16), U64(18), U64(20), U64(22)
# counters of an arrival's amount stream (shared by its flows: a retry asks for the same amount)
C_PRICE_POINT, C_POINT_PICK, C_TAIL = U64(0), U64(1), U64(2)


@njit(inline="always", cache=True)
def _outcome(s, k, j, p_step_up, p_step_fail, p_decline, reason_cum, p_retry, max_retries):
    """(step_up, declined, reason, retried) of flow j; counters 0-4.

    reason -1 = approved, else an index into vocabulary.REASONS (a failed step-up challenge is
    never retried).
    """
    step_up = rng.uniform(s, C_STEP_UP) < p_step_up[k]
    if step_up and rng.uniform(s, C_STEP_UP_FAIL) < p_step_fail:
        return step_up, True, REASON_STEP_UP_FAILED, False
    if rng.uniform(s, C_DECLINE) < p_decline[k]:
        reason = rng.categorical(s, C_REASON, reason_cum)
        retried = j < max_retries and rng.uniform(s, C_RETRY) < p_retry[reason]
        return step_up, True, reason, retried
    return step_up, False, -1, False


@njit(parallel=True, cache=True)
def _count_flows(seed, domain, arrival_id, channel, p_step_up, p_step_fail, p_decline, reason_cum,
                 p_retry, max_retries, out):
    for i in prange(arrival_id.shape[0]):
        j = 0
        while True:
            s = rng.stream_key(seed, domain, arrival_id[i] * MAX_FLOWS_PER_ARRIVAL + j)
            _, _, _, retried = _outcome(s, channel[i], j, p_step_up, p_step_fail, p_decline, reason_cum,
                                        p_retry, max_retries)
            if not retried:
                break
            j += 1
        out[i] = j + 1


@njit(inline="always", cache=True)
def _amount(s, fam, cur, point_minor, point_n, p_point, tail_log_median, tail_sigma, lo_minor, hi_minor,
            unit_minor):
    """Auth amount in minor units: a price point of the family, or the lognormal tail."""
    n_points = point_n[fam]
    if rng.uniform(s, C_PRICE_POINT) < p_point[fam]:
        return point_minor[fam, cur, min(int(rng.uniform(s, C_POINT_PICK) * n_points), n_points - 1)]
    x = math.exp(tail_log_median + tail_sigma * rng.normal(s, C_TAIL)) * unit_minor
    return min(max(int(round(x)), lo_minor), hi_minor)


@njit(parallel=True, cache=True)
def _fill_flows(seed, flow_domain, amount_domain, arrival_id, ts, channel, family, currency, sector_scale,
                flow_ptr, p_step_up, p_step_fail, p_decline, reason_cum, p_retry, max_retries,
                point_minor, point_n, p_point, tail_log_median, tail_sigma, unit_minor, min_usd, max_usd,
                retry_gap_cum, retry_gap_us, p_reversal, p_refund, p_partial, partial_lo, partial_hi,
                clearing_delta, t_auth, t_chal, t_comp, t_clear, t_clear_atm, t_refund, t_reversal, atm_channel,
                o_arrival, o_index, o_amount, o_step_up, o_declined, o_reason, o_req, o_chal, o_comp, o_resp,
                o_clear, o_clear_amount, o_reversal, o_refund, o_refund_amount):
    for i in prange(arrival_id.shape[0]):
        k = channel[i]
        fam = family[i]
        cur = currency[i]
        sa = rng.stream_key(seed, amount_domain, arrival_id[i])
        unit = unit_minor[cur]  # minor units per US dollar
        amount = _amount(sa, fam, cur, point_minor, point_n, p_point,
                         tail_log_median[fam] + math.log(sector_scale[i]), tail_sigma[fam],
                         max(int(round(min_usd * unit)), 1), int(round(max_usd * unit)), unit)
        t0 = ts[i]
        for j in range(flow_ptr[i + 1] - flow_ptr[i]):
            f = flow_ptr[i] + j
            s = rng.stream_key(seed, flow_domain, arrival_id[i] * MAX_FLOWS_PER_ARRIVAL + j)
            step_up, declined, reason, retried = _outcome(s, k, j, p_step_up, p_step_fail, p_decline, reason_cum,
                                                          p_retry, max_retries)
            o_arrival[f] = i
            o_index[f] = j
            o_amount[f] = amount
            o_step_up[f] = step_up
            o_declined[f] = declined
            o_reason[f] = reason
            o_req[f] = t0
            t = t0
            o_chal[f] = NO_TIME
            o_comp[f] = NO_TIME
            if step_up:
                t += rng.lognormal_clipped_us(s, C_CHALLENGE_DELAY, t_chal)
                o_chal[f] = t
                t += rng.lognormal_clipped_us(s, C_COMPLETE_DELAY, t_comp)
                o_comp[f] = t
            t += rng.lognormal_clipped_us(s, C_AUTH_LATENCY, t_auth)
            o_resp[f] = t
            o_clear[f] = NO_TIME
            o_clear_amount[f] = 0
            o_reversal[f] = NO_TIME
            o_refund[f] = NO_TIME
            o_refund_amount[f] = 0
            if not declined:
                if rng.uniform(s, C_REVERSAL) < p_reversal:
                    o_reversal[f] = t + rng.lognormal_clipped_us(s, C_REVERSAL_DELAY, t_reversal)
                else:
                    delay = rng.lognormal_clipped_us(s, C_CLEARING_DELAY, t_clear_atm if k == atm_channel else t_clear)
                    o_clear[f] = t + delay
                    delta = clearing_delta * (2.0 * rng.uniform(s, C_CLEARING_DELTA) - 1.0)
                    o_clear_amount[f] = max(int(round(amount * (1.0 + delta))), 1)
                    if rng.uniform(s, C_REFUND) < p_refund[k]:
                        o_refund[f] = o_clear[f] + rng.lognormal_clipped_us(s, C_REFUND_DELAY, t_refund)
                        if rng.uniform(s, C_PARTIAL_REFUND) < p_partial:
                            frac = partial_lo + (partial_hi - partial_lo) * rng.uniform(s, C_PARTIAL_FRACTION)
                            o_refund_amount[f] = max(int(round(o_clear_amount[f] * frac)), 1)
                        else:
                            o_refund_amount[f] = o_clear_amount[f]
            # a retry starts after this flow's response
            t0 = t + retry_gap_us[rng.categorical(s, C_RETRY_GAP, retry_gap_cum)]


def flows(seed: int, arrival_id, ts_us, channel, family, currency, sector_scale, params: dict) -> dict:
    """All flows of a set of arrivals: one per arrival plus retries of declined flows.

    `family` indexes params["families"], `currency` params["unit_minor"] / ["point_minor"]
    (see behaviour_inputs.flow_params); `sector_scale` multiplies the tail median. Returns
    per-flow arrays, flows of an arrival contiguous and in flow_index order.
    """
    seed = rng.check_seed(seed)
    arrival_id = np.ascontiguousarray(arrival_id, np.int64)
    ts_us = np.ascontiguousarray(ts_us, np.int64)
    channel = np.ascontiguousarray(channel, np.int64)
    family = np.ascontiguousarray(family, np.int64)
    currency = np.ascontiguousarray(currency, np.int64)
    sector_scale = np.ascontiguousarray(sector_scale, np.float64)
    n = arrival_id.size
    if not (ts_us.size == channel.size == family.size == currency.size == sector_scale.size == n):
        raise ValueError("every per-arrival input needs one entry per arrival")
    if n and (channel.min() < 0 or channel.max() >= len(CHANNELS)):
        raise ValueError("channel index out of range")
    if n and (arrival_id.min() < 0 or arrival_id.max() >= np.iinfo(np.int64).max // MAX_FLOWS_PER_ARRIVAL):
        raise ValueError("arrival_id must be >= 0 and leave room for flow_id = 4 * arrival_id + j")
    if np.any(sector_scale <= 0):
        raise ValueError("sector_scale must be > 0")
    p = params
    if not 0 <= p["max_retries"] < MAX_FLOWS_PER_ARRIVAL:
        raise ValueError(f"max_retries must be in [0, {MAX_FLOWS_PER_ARRIVAL - 1}]")
    flow_domain = U64(rng.domain_id(FLOW_DOMAIN))
    amount_domain = U64(rng.domain_id(AMOUNT_DOMAIN))
    per_arrival = np.empty(n, np.int64)
    _count_flows(U64(seed), flow_domain, arrival_id, channel, p["p_step_up"], p["p_step_fail"], p["p_decline"],
                 p["reason_cum"], p["p_retry"], p["max_retries"], per_arrival)
    flow_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(per_arrival, out=flow_ptr[1:])
    m = int(flow_ptr[-1])
    out = {name: np.empty(m, np.int64) for name in (
        "arrival_index", "flow_index", "amount_minor", "reason", "ts_request", "ts_challenge", "ts_complete",
        "ts_response", "ts_clearing", "clearing_minor", "ts_reversal", "ts_refund", "refund_minor")}
    out["step_up"] = np.empty(m, np.bool_)
    out["declined"] = np.empty(m, np.bool_)
    _fill_flows(U64(seed), flow_domain, amount_domain, arrival_id, ts_us, channel, family, currency, sector_scale,
                flow_ptr, p["p_step_up"], p["p_step_fail"], p["p_decline"], p["reason_cum"], p["p_retry"],
                p["max_retries"], p["point_minor"], p["point_n"], p["p_point"], p["tail_log_median"], p["tail_sigma"],
                p["unit_minor"], p["min_usd"], p["max_usd"], p["retry_gap_cum"], p["retry_gap_us"],
                p["p_reversal"], p["p_refund"], p["p_partial"], p["partial_lo"], p["partial_hi"],
                p["clearing_delta"], p["t_auth"], p["t_chal"], p["t_comp"], p["t_clear"], p["t_clear_atm"],
                p["t_refund"], p["t_reversal"], CHANNELS.index("ATM"),
                out["arrival_index"], out["flow_index"], out["amount_minor"], out["step_up"], out["declined"],
                out["reason"], out["ts_request"], out["ts_challenge"], out["ts_complete"], out["ts_response"],
                out["ts_clearing"], out["clearing_minor"], out["ts_reversal"], out["ts_refund"],
                out["refund_minor"])
    out["flow_id"] = arrival_id[out["arrival_index"]] * MAX_FLOWS_PER_ARRIVAL + out["flow_index"]
    return out


def _nice(x: float) -> float:
    """x to two significant figures (a round local price tag)."""
    if x <= 0:
        return x
    step = 10.0 ** (math.floor(math.log10(x)) - 1)
    return round(x / step) * step


def flow_params(policy: dict, currencies: list, units_per_usd: list, minor_units: list) -> dict:
    """Arrays for behaviour.flows; `currencies` fixes the currency index order."""
    fl, am, tm = policy["flows"], policy["amounts"], policy["timing"]
    per = lambda m: np.array([m[ch] for ch in CHANNELS], np.float64)  # noqa: E731
    n_points = max(len(am["families"][f]["points_usd"]) for f in FAMILIES)
    point_minor = np.zeros((len(FAMILIES), len(currencies), n_points), np.int64)
    for fi, fam in enumerate(FAMILIES):
        for ci, (rate, mu) in enumerate(zip(units_per_usd, minor_units)):
            for pi, pt in enumerate(am["families"][fam]["points_usd"]):
                local = pt if rate < 2 else _nice(pt * rate)  # 4.99 EUR is a price; 4.99 x 88 INR is not
                point_minor[fi, ci, pi] = max(int(round(local * 10 ** mu)), 1)
    reasons = np.array([fl["decline_reason"][r] for r in DECLINE_REASONS])
    gap = fl["retry_gap_seconds"]
    spec = lambda t: np.array([t["median_seconds"], t["sigma"], t["min_seconds"], t["max_seconds"]])  # noqa: E731
    return {
        "p_step_up": per(fl["p_step_up"]), "p_step_fail": float(fl["p_step_up_fail"]),
        "p_decline": per(fl["p_decline"]), "reason_cum": np.cumsum(reasons),
        "p_retry": np.array([fl["p_retry_by_reason"][r] for r in DECLINE_REASONS] + [0.0]),
        "max_retries": int(fl["max_retries"]),
        "retry_gap_cum": np.cumsum(gap["probs"]), "retry_gap_us": np.array([round(x * 1e6) for x in gap["points"]],
                                                                           np.int64),
        "p_reversal": float(fl["p_reversal"]), "p_refund": per(fl["p_refund"]),
        "p_partial": float(fl["p_partial_refund"]), "partial_lo": float(fl["partial_refund_fraction"][0]),
        "partial_hi": float(fl["partial_refund_fraction"][1]), "clearing_delta": float(fl["clearing_delta"]),
        "point_minor": point_minor,
        "point_n": np.array([len(am["families"][f]["points_usd"]) for f in FAMILIES], np.int64),
        "p_point": np.array([am["families"][f]["p_point"] for f in FAMILIES]),
        "tail_log_median": np.log([am["families"][f]["tail_median_usd"] for f in FAMILIES]),
        "tail_sigma": np.array([am["families"][f]["tail_sigma"] for f in FAMILIES]),
        "unit_minor": np.array([r * 10 ** m for r, m in zip(units_per_usd, minor_units)], np.float64),
        "min_usd": float(am["min_usd"]), "max_usd": float(am["max_usd"]),
        "t_auth": spec(tm["auth_response"]), "t_chal": spec(tm["step_up_challenge"]),
        "t_comp": spec(tm["step_up_complete"]), "t_clear": spec(tm["clearing"]),
        "t_clear_atm": spec(tm["clearing_atm"]), "t_refund": spec(tm["refund"]), "t_reversal": spec(tm["reversal"]),
    }
