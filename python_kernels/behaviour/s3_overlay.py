"""6B S3 overlay: which campaign instance (if any) takes each flow, and that instance's tactics.

Parallel over flows; each flow's draws are keyed by (instance stream, flow_id) or (instance
stream, cohort entity), so the result does not depend on chunking. The counters of a taken
flow's stream combine(instance, flow_id) are named below; the cohort coin of an entity is
counter 0 of combine(instance, entity id). A fraud amount is the largest (or smallest) of a few
draws of the flow's own amount law (s2_flows.amount_minor), draw k on the stream
combine(combine(instance, arrival_id), k): the retries of an attempt ask for the same amount.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from python_kernels.behaviour.s2_flows import FlowParams, amount_minor
from python_kernels.core import rng
from python_kernels.core.policy_schema.campaigns import AMOUNT_MODES
from python_kernels.core.vocabulary import (BLOCK_ROWS, DECLINE_REASONS, MAX_FLOWS_PER_ARRIVAL, NO_TIME,
                                            REASON_STEP_UP_FAILED)

U64 = np.uint64
REASON_CARD = DECLINE_REASONS.index("INCORRECT_CVV_OR_PIN")
REASON_SCREEN = DECLINE_REASONS.index("SUSPECTED_FRAUD")
AMOUNT_HIGH, AMOUNT_LOW = AMOUNT_MODES.index("LAW_HIGH"), AMOUNT_MODES.index("LAW_LOW")
TACTIC_FLAGS = ("amount_mutated", "device_swapped", "ip_swapped", "step_up_forced", "card_declined",
                "screen_declined", "refund_added")
# counter of an entity's cohort coin, stream combine(instance, entity id)
C_COHORT = U64(0)
# counters of a taken flow's stream combine(instance, flow_id)
C_TAKE, C_CARD_DECLINE, C_SCREEN, C_DEVICE, C_IP = U64(1), U64(4), U64(5), U64(6), U64(7)  # 2-3 free: the amount has its own stream
C_STEP_UP, C_STEP_UP_FAIL, C_CHALLENGE_DELAY, C_COMPLETE_DELAY = U64(8), U64(9), U64(10), U64(11)
C_REFUND, C_REFUND_DELAY, C_PROXY, C_PROXY_PICK = U64(12), U64(13), U64(14), U64(15)


class Flows(NamedTuple):
    """What the overlay reads of each flow (merchant and country, the merchant's, index the
    eligibility matrices' columns; home, the party's country, the local proxies; cohort_keys holds
    account, instrument and party ids, one row each; law and currency index the amount laws)."""

    scenario: np.ndarray
    flow_id: np.ndarray
    ts: np.ndarray
    channel: np.ndarray
    merchant: np.ndarray
    country: np.ndarray
    home: np.ndarray
    cross: np.ndarray
    cohort_keys: np.ndarray
    law: np.ndarray
    currency: np.ndarray


class Campaigns(NamedTuple):
    """The plan's instances as arrays (`s3_campaigns.campaign_arrays`), in priority order."""

    scenario: np.ndarray
    stream: np.ndarray
    start: np.ndarray
    end: np.ndarray
    chan_mask: np.ndarray    # bit k: channel k is in scope
    cross_only: np.ndarray
    cohort_kind: np.ndarray  # 0 none, else 1 + index into the cohort_keys rows
    cohort_share: np.ndarray
    intensity: np.ndarray    # share of in-scope flows the instance takes
    merchant_ok: np.ndarray  # [instance, merchant]
    country_ok: np.ndarray   # [instance, country]
    amount_mode: np.ndarray  # index into AMOUNT_MODES
    law_draws: np.ndarray    # the amount is the largest / smallest of this many draws of the flow's law
    p_card: np.ndarray
    p_screen: np.ndarray
    p_step_up: np.ndarray
    p_step_fail: np.ndarray
    p_refund: np.ndarray
    device_ptr: np.ndarray   # fraudster devices per instance
    device_pool: np.ndarray
    ip_ptr: np.ndarray
    ip_pool: np.ndarray
    p_proxy: np.ndarray      # share of taken flows sent through a local proxy, not the pool
    proxy_ptr: np.ndarray    # residential and mobile IPs per country (of the victim's home)
    proxy_pool: np.ndarray


class Timing(NamedTuple):
    """(median, sigma, min, max) seconds of the delays a tactic inserts."""

    step_up_challenge: np.ndarray
    step_up_complete: np.ndarray
    refund: np.ndarray


class Overlaid(NamedTuple):
    """Per flow: the instance that took it (-1 none), the fields as it left them, tactic flags."""

    campaign: np.ndarray
    amount: np.ndarray
    clearing: np.ndarray
    refund_amt: np.ndarray
    device: np.ndarray
    ip: np.ndarray
    step_up: np.ndarray
    declined: np.ndarray
    reason: np.ndarray
    t_challenge: np.ndarray
    t_complete: np.ndarray
    t_response: np.ndarray
    t_clearing: np.ndarray
    t_reversal: np.ndarray
    t_refund: np.ndarray
    flags: np.ndarray        # [flow, TACTIC_FLAGS]


@njit(cache=True)
def _apply_tactics(i, c, f, cam, laws, tm, o):
    """Campaign c's tactics on flow i, which it took."""
    s = rng.combine(cam.stream[c], U64(f.flow_id[i]))
    # amount, with clearing and refund kept in proportion (all in minor units)
    old = o.amount[i]
    mode = cam.amount_mode[c]
    if mode == AMOUNT_HIGH or mode == AMOUNT_LOW:
        sa = rng.combine(cam.stream[c], U64(f.flow_id[i] // MAX_FLOWS_PER_ARRIVAL))
        best = -1
        for k in range(cam.law_draws[c]):
            x = amount_minor(rng.combine(sa, U64(k)), f.law[i], f.currency[i], laws)
            if best < 0 or (x > best if mode == AMOUNT_HIGH else x < best):
                best = x
        o.amount[i] = best
    if o.amount[i] != old:
        o.flags[i, 0] = True
        ratio = o.amount[i] / old
        if o.t_clearing[i] != NO_TIME:
            o.clearing[i] = max(int(round(o.clearing[i] * ratio)), 1)
        if o.t_refund[i] != NO_TIME:
            o.refund_amt[i] = min(max(int(round(o.refund_amt[i] * ratio)), 1), o.clearing[i])
    n_dev = cam.device_ptr[c + 1] - cam.device_ptr[c]
    if n_dev > 0:
        o.device[i] = cam.device_pool[cam.device_ptr[c] + min(int(rng.uniform(s, C_DEVICE) * n_dev), n_dev - 1)]
        o.flags[i, 1] = True
    n_ip = cam.ip_ptr[c + 1] - cam.ip_ptr[c]
    home = f.home[i]
    n_proxy = cam.proxy_ptr[home + 1] - cam.proxy_ptr[home]
    if n_proxy > 0 and n_ip > 0 and rng.uniform(s, C_PROXY) < cam.p_proxy[c]:
        # a residential proxy: somebody's ordinary IP in the victim's own country, a fresh one a flow
        o.ip[i] = cam.proxy_pool[cam.proxy_ptr[home] + min(int(rng.uniform(s, C_PROXY_PICK) * n_proxy), n_proxy - 1)]
        o.flags[i, 2] = True
    elif n_ip > 0:
        o.ip[i] = cam.ip_pool[cam.ip_ptr[c] + min(int(rng.uniform(s, C_IP) * n_ip), n_ip - 1)]
        o.flags[i, 2] = True
    if o.declined[i]:
        return  # a flow the issuer already declined keeps its outcome
    if not o.step_up[i] and rng.uniform(s, C_STEP_UP) < cam.p_step_up[c]:
        # challenge inserted before the response: everything after the request moves later
        d1 = rng.lognormal_clipped_us(s, C_CHALLENGE_DELAY, tm.step_up_challenge)
        d2 = rng.lognormal_clipped_us(s, C_COMPLETE_DELAY, tm.step_up_complete)
        o.t_challenge[i] = f.ts[i] + d1
        o.t_complete[i] = f.ts[i] + d1 + d2
        o.t_response[i] += d1 + d2
        if o.t_clearing[i] != NO_TIME:
            o.t_clearing[i] += d1 + d2
        if o.t_reversal[i] != NO_TIME:
            o.t_reversal[i] += d1 + d2
        if o.t_refund[i] != NO_TIME:
            o.t_refund[i] += d1 + d2
        o.step_up[i] = True
        o.flags[i, 3] = True
        if rng.uniform(s, C_STEP_UP_FAIL) < cam.p_step_fail[c]:
            o.declined[i] = True
            o.reason[i] = REASON_STEP_UP_FAILED
    if not o.declined[i] and rng.uniform(s, C_CARD_DECLINE) < cam.p_card[c]:
        o.declined[i] = True
        o.reason[i] = REASON_CARD
        o.flags[i, 4] = True
    if not o.declined[i] and rng.uniform(s, C_SCREEN) < cam.p_screen[c]:
        o.declined[i] = True
        o.reason[i] = REASON_SCREEN
        o.flags[i, 5] = True
    if o.declined[i]:
        o.t_clearing[i] = NO_TIME
        o.t_reversal[i] = NO_TIME
        o.t_refund[i] = NO_TIME
        o.clearing[i] = 0
        o.refund_amt[i] = 0
    elif o.t_clearing[i] != NO_TIME and o.t_refund[i] == NO_TIME and rng.uniform(s, C_REFUND) < cam.p_refund[c]:
        o.t_refund[i] = o.t_clearing[i] + rng.lognormal_clipped_us(s, C_REFUND_DELAY, tm.refund)
        o.refund_amt[i] = o.clearing[i]
        o.flags[i, 6] = True


@njit(cache=True)
def _overlay_flows(lo, hi, f, cam, laws, tm, o):
    """Flows lo..hi: the campaign that takes each (the first, in priority order, whose scope and
    take coin it passes) and that campaign's tactics. The scope test sits in this loop rather than
    in a helper: passing the named tuples to a function per flow and campaign costs a reference
    count for every array in them."""
    for i in range(lo, hi):
        taker = -1
        for c in range(cam.stream.shape[0]):
            # scope: scenario and window, channel, merchant and country, cross-border, cohort coin
            if cam.scenario[c] != f.scenario[i] or f.ts[i] < cam.start[c] or f.ts[i] >= cam.end[c]:
                continue
            if ((cam.chan_mask[c] >> f.channel[i]) & 1 == 0 or not cam.merchant_ok[c, f.merchant[i]]
                    or not cam.country_ok[c, f.country[i]]):
                continue
            if cam.cross_only[c] and not f.cross[i]:
                continue
            kind = cam.cohort_kind[c]
            if kind > 0 and rng.uniform(rng.combine(cam.stream[c], U64(f.cohort_keys[kind - 1, i])),
                                        C_COHORT) >= cam.cohort_share[c]:
                continue
            if rng.uniform(rng.combine(cam.stream[c], U64(f.flow_id[i])), C_TAKE) < cam.intensity[c]:
                taker = c
                break
        o.campaign[i] = taker
        if taker >= 0:
            _apply_tactics(i, taker, f, cam, laws, tm, o)


@njit(parallel=True, cache=True)
def _overlay(f, cam, laws, tm, o):
    # Rows are written by a plain function called per block of rows: inside a prange body
    # numba drops writes to arrays reached through a named tuple (numba issues 5872, 7135).
    n = f.flow_id.shape[0]
    for b in prange((n + BLOCK_ROWS - 1) // BLOCK_ROWS):
        _overlay_flows(b * BLOCK_ROWS, min(n, (b + 1) * BLOCK_ROWS), f, cam, laws, tm, o)


FLOW_INPUTS = ("scenario", "flow_id", "ts", "channel", "merchant", "country", "home", "cross", "account", "instrument",
               "party", "law", "currency")
MUTABLE = ("amount", "clearing", "refund_amt", "device", "ip", "step_up", "declined", "reason",
           "t_challenge", "t_complete", "t_response", "t_clearing", "t_reversal", "t_refund")


def overlay(flows: dict, campaigns: dict, laws: FlowParams, timing: dict) -> dict:
    """Campaign (index into the plan, -1 none), mutated flow fields and tactic flags per flow.

    flows: FLOW_INPUTS and MUTABLE arrays (indices: merchant into campaigns["merchant_ok"]
    columns, country (the merchant's) into ["country_ok"] columns and home (the party's country)
    into the same country codes, law and currency into
    `laws`, the flow policy's arrays; times in µs, NO_TIME for none);
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
    if a["proxy_ptr"].size != a["country_ok"].shape[1] + 1:
        raise ValueError("proxy_ptr needs one slice per country of the eligibility matrix")
    if n and (flows["home"].min() < 0 or flows["home"].max() >= a["country_ok"].shape[1]):
        raise ValueError("home country index out of range of the campaign eligibility matrix")
    if not isinstance(laws, FlowParams):
        raise TypeError("laws must be the FlowParams of s2_flows.flow_params()")
    if n and (flows["law"].min() < 0 or flows["law"].max() >= laws.point_n.size):
        raise ValueError(f"law index out of range (the policy has {laws.point_n.size} amount laws)")
    if n and (flows["currency"].min() < 0 or flows["currency"].max() >= laws.unit_minor.size):
        raise ValueError(f"currency index out of range ({laws.unit_minor.size} currencies)")
    out = {k: np.array(flows[k], copy=True) for k in MUTABLE}
    o = Overlaid(**out, campaign=np.empty(n, np.int64), flags=np.zeros((n, len(TACTIC_FLAGS)), np.bool_))
    i64 = lambda k: np.ascontiguousarray(flows[k], np.int64)  # noqa: E731
    f = Flows(i64("scenario"), i64("flow_id"), i64("ts"), i64("channel"), i64("merchant"), i64("country"), i64("home"),
              np.ascontiguousarray(flows["cross"], np.bool_),
              np.ascontiguousarray(np.stack([i64("account"), i64("instrument"), i64("party")])),
              i64("law"), i64("currency"))
    tm = Timing(*(np.array(timing[k], np.float64) for k in Timing._fields))
    _overlay(f, Campaigns(**{k: a[k] for k in Campaigns._fields}), laws, tm, o)
    return o._asdict()
