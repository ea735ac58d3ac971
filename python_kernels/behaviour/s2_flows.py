"""6B S2 flows: one per arrival plus retries of declined ones, with step-ups, amounts, clearing,
refunds, reversals and every event's instant.

`flows` is parallel over arrivals; flow j of an arrival has the stream
(seed, "6B.s2.flow", flow_id = MAX_FLOWS_PER_ARRIVAL * arrival_id + j) and the arrival's amount
stream (seed, "6B.s2.amount", arrival_id), with the counters named below. `flow_params` turns
the flow, amount and timing policy into the kernel's arrays; each arrival's amount follows one
law of the policy (its channel's, or its merchant's MCC group's for purchases).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from python_kernels.core import rng
from python_kernels.core.arrow import codes, vocab_index
from python_kernels.core.vocabulary import (AMOUNT_ROUNDINGS, BLOCK_ROWS, CHANNELS, DECLINE_REASONS, LAW_OF_THE_MCC,
                                            MAX_FLOWS_PER_ARRIVAL, NO_TIME, REASON_STEP_UP_FAILED)

U64 = np.uint64
FLOW_DOMAIN = "6B.s2.flow"
AMOUNT_DOMAIN = "6B.s2.amount"
# counters of a flow's stream
C_STEP_UP, C_STEP_UP_FAIL, C_DECLINE, C_REASON, C_RETRY, C_RETRY_GAP = (U64(c) for c in range(6))
C_AUTH_LATENCY, C_CHALLENGE_DELAY, C_COMPLETE_DELAY = U64(6), U64(8), U64(10)  # a normal takes two counters
C_REVERSAL, C_REFUND, C_PARTIAL_REFUND, C_PARTIAL_FRACTION = U64(12), U64(13), U64(14), U64(15)
C_CLEARING_DELAY, C_REFUND_DELAY, C_REVERSAL_DELAY, C_CLEARING_DELTA = U64(16), U64(18), U64(20), U64(22)
# counters of an arrival's amount stream (shared by its flows: a retry asks for the same amount)
C_PRICE_POINT, C_POINT_PICK, C_BODY, C_BIG_TICKET = U64(0), U64(1), U64(2), U64(4)
R_CENTS, R_WHOLE, R_CHARM, R_NOTE = (AMOUNT_ROUNDINGS.index(r) for r in ("CENTS", "WHOLE", "CHARM", "NOTE"))


class FlowParams(NamedTuple):
    """The flow, amount and timing policy as the kernel's arrays (built by `flow_params`).
    Timing specs are (median, sigma, min, max) in seconds."""

    p_step_up: np.ndarray        # per channel
    p_step_fail: float
    p_decline: np.ndarray        # per channel
    reason_cum: np.ndarray       # cumulative weights of DECLINE_REASONS
    p_retry: np.ndarray          # per REASONS entry (a failed step-up is never retried)
    max_retries: int
    retry_gap_cum: np.ndarray    # cumulative weights of the retry gaps
    retry_gap_us: np.ndarray
    p_reversal: float
    p_refund: np.ndarray         # per channel
    p_partial: float
    partial_lo: float
    partial_hi: float
    clearing_delta: float        # clearing differs from the auth amount by up to this fraction
    point_minor: np.ndarray      # price points in minor units, [law, currency, point]
    point_n: np.ndarray          # points per law
    p_point: np.ndarray          # per law: share of amounts at a price point
    body_log_median: np.ndarray  # per law, log US dollars of the lognormal body (solved from the law's median)
    sigma: np.ndarray            # per law
    p_tail: np.ndarray           # per law: share of big tickets
    log_tail_factor: np.ndarray  # per law
    rounding: np.ndarray         # per law, index into AMOUNT_ROUNDINGS
    unit_minor: np.ndarray       # per currency: minor units per US dollar
    minor_per_major: np.ndarray  # per currency
    note_minor: np.ndarray       # per currency: the ATM note in minor units
    min_usd: float
    max_usd: float
    t_auth: np.ndarray
    t_chal: np.ndarray
    t_comp: np.ndarray
    t_clear: np.ndarray
    t_clear_atm: np.ndarray
    t_refund: np.ndarray
    t_reversal: np.ndarray


class Arrivals(NamedTuple):
    """Per-arrival inputs of `flows` (indices into CHANNELS, FlowParams' laws and currencies)."""

    arrival_id: np.ndarray
    ts: np.ndarray
    channel: np.ndarray
    law: np.ndarray
    currency: np.ndarray


class FlowRows(NamedTuple):
    """Per-flow outputs (times in µs, NO_TIME for an event the flow does not have)."""

    arrival_index: np.ndarray
    flow_index: np.ndarray
    amount_minor: np.ndarray
    step_up: np.ndarray
    declined: np.ndarray
    reason: np.ndarray
    ts_request: np.ndarray
    ts_challenge: np.ndarray
    ts_complete: np.ndarray
    ts_response: np.ndarray
    ts_clearing: np.ndarray
    clearing_minor: np.ndarray
    ts_reversal: np.ndarray
    ts_refund: np.ndarray
    refund_minor: np.ndarray


@njit(inline="always", cache=True)
def _outcome(s, j, p_step_up, p_step_fail, p_decline, reason_cum, p_retry, max_retries):
    """(step_up, declined, reason, retried) of flow j, given its channel's step-up and decline
    probabilities. reason -1 = approved, else an index into vocabulary.REASONS (a failed step-up
    challenge is never retried)."""
    step_up = rng.uniform(s, C_STEP_UP) < p_step_up
    if step_up and rng.uniform(s, C_STEP_UP_FAIL) < p_step_fail:
        return step_up, True, REASON_STEP_UP_FAILED, False
    if rng.uniform(s, C_DECLINE) < p_decline:
        reason = rng.categorical(s, C_REASON, reason_cum)
        retried = j < max_retries and rng.uniform(s, C_RETRY) < p_retry[reason]
        return step_up, True, reason, retried
    return step_up, False, -1, False


@njit(parallel=True, cache=True)
def _count_flows(seed, domain, a, p, out):
    for i in prange(a.arrival_id.shape[0]):
        k = a.channel[i]
        j = 0
        while True:
            s = rng.stream_key(seed, domain, a.arrival_id[i] * MAX_FLOWS_PER_ARRIVAL + j)
            _, _, _, retried = _outcome(s, j, p.p_step_up[k], p.p_step_fail, p.p_decline[k], p.reason_cum, p.p_retry,
                                        p.max_retries)
            if not retried:
                break
            j += 1
        out[i] = j + 1


@njit(cache=True)
def round_local(x, rounding, minor_per_major, note_minor):
    """An amount of x minor units as a price in its currency (rounding: index into
    AMOUNT_ROUNDINGS): the minor unit, whole major units, a charm price (two significant
    figures of the major amount, at least whole units, less one minor unit) or a multiple of
    the ATM note; never below one unit of the rounding."""
    if rounding == R_WHOLE:
        return max(round(x / minor_per_major), 1) * minor_per_major
    if rounding == R_NOTE:
        return max(round(x / note_minor), 1) * note_minor
    if rounding == R_CHARM:
        major = x / minor_per_major
        step = max(10.0 ** (math.floor(math.log10(max(major, 1.0))) - 1), 1.0) * minor_per_major
        return max(round(x / step), 1) * int(step) - (1 if minor_per_major > 1 else 0)
    return max(round(x), 1)


@njit(inline="always", cache=True)
def amount_minor(s, law, cur, p):
    """Auth amount in minor units, the draws of stream s: one of the law's price points in this
    currency, or a draw of its lognormal body (a big ticket with the law's tail share), clipped to
    the policy's [min_usd, max_usd] and rounded the law's way. The fraud overlay draws from it too."""
    lo_minor = max(p.min_usd * p.unit_minor[cur], 1.0)
    hi_minor = p.max_usd * p.unit_minor[cur]
    n_points = p.point_n[law]
    if n_points > 0 and rng.uniform(s, C_PRICE_POINT) < p.p_point[law]:
        return p.point_minor[law, cur, min(int(rng.uniform(s, C_POINT_PICK) * n_points), n_points - 1)]
    log_usd = p.body_log_median[law] + p.sigma[law] * rng.normal(s, C_BODY)
    if rng.uniform(s, C_BIG_TICKET) < p.p_tail[law]:
        log_usd += p.log_tail_factor[law]
    x = min(max(math.exp(log_usd) * p.unit_minor[cur], lo_minor), hi_minor)
    return round_local(x, p.rounding[law], p.minor_per_major[cur], p.note_minor[cur])


@njit(cache=True)
def _fill_arrivals(lo, hi, seed, flow_domain, amount_domain, a, flow_ptr, p, atm_channel, o):
    """The flows of arrivals lo..hi, into their rows of `o`. The row is written in this loop rather
    than by a helper: passing the named tuples to a function per row costs a reference count for
    every array in them."""
    for i in range(lo, hi):
        k = a.channel[i]
        sa = rng.stream_key(seed, amount_domain, a.arrival_id[i])
        amount = amount_minor(sa, a.law[i], a.currency[i], p)
        t0 = a.ts[i]
        for j in range(flow_ptr[i + 1] - flow_ptr[i]):
            f = flow_ptr[i] + j
            s = rng.stream_key(seed, flow_domain, a.arrival_id[i] * MAX_FLOWS_PER_ARRIVAL + j)
            step_up, declined, reason, retried = _outcome(s, j, p.p_step_up[k], p.p_step_fail, p.p_decline[k],
                                                          p.reason_cum, p.p_retry, p.max_retries)
            o.arrival_index[f] = i
            o.flow_index[f] = j
            o.amount_minor[f] = amount
            o.step_up[f] = step_up
            o.declined[f] = declined
            o.reason[f] = reason
            o.ts_request[f] = t0
            t = t0
            o.ts_challenge[f] = NO_TIME
            o.ts_complete[f] = NO_TIME
            if step_up:
                t += rng.lognormal_clipped_us(s, C_CHALLENGE_DELAY, p.t_chal)
                o.ts_challenge[f] = t
                t += rng.lognormal_clipped_us(s, C_COMPLETE_DELAY, p.t_comp)
                o.ts_complete[f] = t
            t += rng.lognormal_clipped_us(s, C_AUTH_LATENCY, p.t_auth)
            o.ts_response[f] = t
            o.ts_clearing[f] = NO_TIME
            o.clearing_minor[f] = 0
            o.ts_reversal[f] = NO_TIME
            o.ts_refund[f] = NO_TIME
            o.refund_minor[f] = 0
            if not declined:
                if rng.uniform(s, C_REVERSAL) < p.p_reversal:
                    o.ts_reversal[f] = t + rng.lognormal_clipped_us(s, C_REVERSAL_DELAY, p.t_reversal)
                else:
                    spec = p.t_clear_atm if k == atm_channel else p.t_clear
                    o.ts_clearing[f] = t + rng.lognormal_clipped_us(s, C_CLEARING_DELAY, spec)
                    delta = p.clearing_delta * (2.0 * rng.uniform(s, C_CLEARING_DELTA) - 1.0)
                    o.clearing_minor[f] = max(int(round(amount * (1.0 + delta))), 1)
                    if rng.uniform(s, C_REFUND) < p.p_refund[k]:
                        o.ts_refund[f] = o.ts_clearing[f] + rng.lognormal_clipped_us(s, C_REFUND_DELAY, p.t_refund)
                        if rng.uniform(s, C_PARTIAL_REFUND) < p.p_partial:
                            frac = p.partial_lo + (p.partial_hi - p.partial_lo) * rng.uniform(s, C_PARTIAL_FRACTION)
                            o.refund_minor[f] = max(int(round(o.clearing_minor[f] * frac)), 1)
                        else:
                            o.refund_minor[f] = o.clearing_minor[f]
            # a retry starts after this flow's response
            t0 = t + p.retry_gap_us[rng.categorical(s, C_RETRY_GAP, p.retry_gap_cum)]


@njit(parallel=True, cache=True)
def _fill_flows(seed, flow_domain, amount_domain, a, flow_ptr, p, atm_channel, o):
    # Rows are written by a plain function called per block of arrivals: inside a prange body
    # numba drops writes to arrays reached through a named tuple (numba issues 5872, 7135).
    n = a.arrival_id.shape[0]
    for b in prange((n + BLOCK_ROWS - 1) // BLOCK_ROWS):
        _fill_arrivals(b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS), seed, flow_domain, amount_domain, a, flow_ptr,
                       p, atm_channel, o)


def flows(seed: int, arrival_id, ts_us, channel, law, currency, params: FlowParams) -> dict:
    """All flows of a set of arrivals: one per arrival plus retries of declined flows.

    `law` indexes the amount laws and `currency` the currencies `flow_params` was built for.
    Returns the FlowRows fields and flow_id as per-flow arrays, flows of an arrival contiguous
    and in flow_index order.
    """
    seed = rng.check_seed(seed)
    a = Arrivals(np.ascontiguousarray(arrival_id, np.int64), np.ascontiguousarray(ts_us, np.int64),
                 np.ascontiguousarray(channel, np.int64), np.ascontiguousarray(law, np.int64),
                 np.ascontiguousarray(currency, np.int64))
    n = a.arrival_id.size
    if any(x.size != n for x in a):
        raise ValueError("every per-arrival input needs one entry per arrival")
    if n and (a.channel.min() < 0 or a.channel.max() >= len(CHANNELS)):
        raise ValueError("channel index out of range")
    if n and (a.arrival_id.min() < 0 or a.arrival_id.max() >= np.iinfo(np.int64).max // MAX_FLOWS_PER_ARRIVAL):
        raise ValueError(f"arrival_id must be >= 0 and leave room for flow_id = {MAX_FLOWS_PER_ARRIVAL} * arrival_id + j")
    p = params
    if not isinstance(p, FlowParams):
        raise TypeError("params must be the FlowParams of flow_params()")
    if n and (a.law.min() < 0 or a.law.max() >= p.point_n.size):
        raise ValueError(f"law index out of range (the policy has {p.point_n.size} amount laws)")
    if n and (a.currency.min() < 0 or a.currency.max() >= p.unit_minor.size):
        raise ValueError(f"currency index out of range (flow_params was built for {p.unit_minor.size} currencies)")
    if not 0 <= p.max_retries < MAX_FLOWS_PER_ARRIVAL:
        raise ValueError(f"max_retries must be in [0, {MAX_FLOWS_PER_ARRIVAL - 1}]")
    flow_domain = U64(rng.domain_id(FLOW_DOMAIN))
    amount_domain = U64(rng.domain_id(AMOUNT_DOMAIN))
    per_arrival = np.empty(n, np.int64)
    _count_flows(U64(seed), flow_domain, a, p, per_arrival)
    flow_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(per_arrival, out=flow_ptr[1:])
    m = int(flow_ptr[-1])
    o = FlowRows(**{name: np.empty(m, np.bool_ if name in ("step_up", "declined") else np.int64)
                    for name in FlowRows._fields})
    _fill_flows(U64(seed), flow_domain, amount_domain, a, flow_ptr, p, CHANNELS.index("ATM"), o)
    out = o._asdict()
    out["flow_id"] = a.arrival_id[o.arrival_index] * MAX_FLOWS_PER_ARRIVAL + o.flow_index
    return out


def _nice(x: float) -> float:
    """x to two significant figures (a round local price tag)."""
    if x <= 0:
        return x
    step = 10.0 ** (math.floor(math.log10(x)) - 1)
    return round(x / step) * step


def _local_point(usd: float, rate: float, rounding: int, minor_per_major: int, note_minor: int) -> int:
    """A US-dollar price point as the local price tag (minor units): converted, so the law keeps
    its median in every currency, and made a round tag of two significant figures; then a charm
    ending (4.34 EUR -> 3.99) where the law has one and the unit is worth about a dollar, or whole
    notes. 4.99 x 88 INR becomes 440 INR, not 439.99."""
    local = usd if rate == 1 else _nice(usd * rate)
    minor = float(local * minor_per_major)
    if rounding == R_NOTE or (rounding == R_CHARM and rate < 2 and rate != 1):
        return round_local(minor, rounding, minor_per_major, note_minor)
    return max(round(minor), 1)


def body_log_median(law: dict, name: str) -> float:
    """Log US-dollar median of the law's lognormal body that gives the whole law (price points,
    body and big-ticket tail) the policy's median_usd. Raises ValueError when the points alone
    put the median elsewhere."""
    target, sigma, p_pt, p_tail = law["median_usd"], law["sigma"], law["p_point"], law["p_tail"]
    points = law["points_usd"]
    at_or_below = p_pt * sum(x <= target for x in points) / len(points) if points else 0.0
    if not at_or_below <= 0.5 <= at_or_below + (1.0 - p_pt):
        raise ValueError(f"amounts.laws.{name}: its price points hold {at_or_below:.3f} of the amounts at or below "
                         f"median_usd {target} and {p_pt:.3f} in all, so no lognormal body gives that median")
    phi = lambda z: 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))  # noqa: E731
    lt, lf = math.log(target), math.log(law["tail_factor"])
    below = lambda lm: at_or_below + (1.0 - p_pt) * (  # noqa: E731
        (1.0 - p_tail) * phi((lt - lm) / sigma) + p_tail * phi((lt - lm - lf) / sigma))
    lo, hi = lt - 12.0 * sigma - lf, lt + 12.0 * sigma  # below(lo) >= 0.5 >= below(hi)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if below(mid) > 0.5 else (lo, mid)
    return 0.5 * (lo + hi)


def flow_params(policy: dict, currencies: list, units_per_usd: list, minor_units: list, atm_notes: list) -> FlowParams:
    """The kernel's arrays of the flow, amount and timing policy; `currencies` fixes the
    currency index order and the policy's amounts.laws the law index order."""
    fl, am, tm = policy["flows"], policy["amounts"], policy["timing"]
    per = lambda m: np.array([m[ch] for ch in CHANNELS], np.float64)  # noqa: E731
    laws = list(am["laws"].values())
    rounding = np.array([AMOUNT_ROUNDINGS.index(law["rounding"]) for law in laws], np.int64)
    minor_per_major = np.array([10 ** m for m in minor_units], np.int64)
    note_minor = np.array([round(n * 10 ** m) for n, m in zip(atm_notes, minor_units)], np.int64)
    point_minor = np.zeros((len(laws), len(currencies), max([len(law["points_usd"]) for law in laws] + [1])), np.int64)
    for li, law in enumerate(laws):
        for ci, rate in enumerate(units_per_usd):
            for pi, pt in enumerate(law["points_usd"]):
                point_minor[li, ci, pi] = _local_point(pt, rate, rounding[li], minor_per_major[ci], note_minor[ci])
    reasons = np.array([fl["decline_reason"][r] for r in DECLINE_REASONS])
    gap = fl["retry_gap_seconds"]
    spec = lambda t: np.array([t["median_seconds"], t["sigma"], t["min_seconds"], t["max_seconds"]])  # noqa: E731
    return FlowParams(
        p_step_up=per(fl["p_step_up"]), p_step_fail=float(fl["p_step_up_fail"]),
        p_decline=per(fl["p_decline"]), reason_cum=np.cumsum(reasons),
        p_retry=np.array([fl["p_retry_by_reason"][r] for r in DECLINE_REASONS] + [0.0]),
        max_retries=int(fl["max_retries"]),
        retry_gap_cum=np.cumsum(gap["probs"]),
        retry_gap_us=np.array([round(x * 1e6) for x in gap["points"]], np.int64),
        p_reversal=float(fl["p_reversal"]), p_refund=per(fl["p_refund"]),
        p_partial=float(fl["p_partial_refund"]), partial_lo=float(fl["partial_refund_fraction"][0]),
        partial_hi=float(fl["partial_refund_fraction"][1]), clearing_delta=float(fl["clearing_delta"]),
        point_minor=point_minor,
        point_n=np.array([len(law["points_usd"]) for law in laws], np.int64),
        p_point=np.array([law["p_point"] for law in laws], np.float64),
        body_log_median=np.array([body_log_median(law, name) for name, law in am["laws"].items()]),
        sigma=np.array([law["sigma"] for law in laws], np.float64),
        p_tail=np.array([law["p_tail"] for law in laws], np.float64),
        log_tail_factor=np.log([law["tail_factor"] for law in laws]),
        rounding=rounding,
        unit_minor=np.array([r * 10 ** m for r, m in zip(units_per_usd, minor_units)], np.float64),
        minor_per_major=minor_per_major, note_minor=note_minor,
        min_usd=float(am["min_usd"]), max_usd=float(am["max_usd"]),
        t_auth=spec(tm["auth_response"]), t_chal=spec(tm["step_up_challenge"]),
        t_comp=spec(tm["step_up_complete"]), t_clear=spec(tm["clearing"]),
        t_clear_atm=spec(tm["clearing_atm"]), t_refund=spec(tm["refund"]), t_reversal=spec(tm["reversal"]),
    )


class AmountLaws(NamedTuple):
    """The flow policy's arrays for a run's currencies, and how a row finds its law and currency."""

    params: FlowParams
    currencies: list             # currency index order
    laws: list                   # law index order (policies/flows.yaml amounts.laws)
    law_of_channel: np.ndarray   # per channel: its law, or -1 for its merchant's MCC group's


def amount_laws(policy: dict, countries, rates) -> AmountLaws:
    """`flow_params` for the currencies of world_countries (`countries`, an arrow table) at the
    rates and ATM notes of world_currencies (`rates`)."""
    minor = dict(zip(countries.column("currency_code").to_pylist(), countries.column("currency_minor_units").to_pylist()))
    units = dict(zip(rates.column("currency_code").to_pylist(), rates.column("units_per_usd").to_pylist()))
    notes = dict(zip(rates.column("currency_code").to_pylist(), rates.column("atm_note").to_pylist()))
    currencies = sorted(minor)
    params = flow_params(policy, currencies, [units[c] for c in currencies], [minor[c] for c in currencies],
                         [notes[c] for c in currencies])
    laws = list(policy["amounts"]["laws"])
    by_channel = [laws.index(x) if x != LAW_OF_THE_MCC else -1
                  for x in (policy["amounts"]["law_by_channel"][ch] for ch in CHANNELS)]
    return AmountLaws(params, currencies, laws, np.array(by_channel, np.int64))


def row_laws(al: AmountLaws, table, channel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `table` (an arrow table with currency_code and amount_group): its amount law (its
    channel's, else its merchant's MCC group's) and its currency, as indices into `al`; channel
    indexes CHANNELS."""
    unknown = sorted(set(codes(table, "amount_group")[1]) - set(al.laws))
    if unknown:
        raise ValueError(f"world_mccs.amount_group {unknown[0]!r} has no law in policies/flows.yaml amounts.laws "
                         f"(laws: {', '.join(al.laws)})")
    by_channel = al.law_of_channel[channel]
    law = np.where(by_channel >= 0, by_channel, vocab_index(table, "amount_group", al.laws))
    return law, vocab_index(table, "currency_code", al.currencies)
