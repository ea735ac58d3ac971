"""6B S3 kernels: realise fraud campaigns from the catalogue policy and overlay them on flows.

`plan_campaigns` turns each template of policies/fraud.yaml into instances per scenario
(count, window, merchant cohort, focus countries, intensity, the pool of fraudster devices
and IPs), every choice a keyed draw on the instance's stream
(seed, "6B.s3.campaign", campaign_id).

`overlay` decides, for every flow, which instance (if any) takes it and applies that
instance's tactics. It is parallel over flows and each flow's draws are keyed by
(instance stream, flow_id) or (instance stream, cohort entity), so the result does not
depend on chunking. Counters of a taken flow's stream combine(instance, flow_id):
  1 take, 2-3 amount, 4 card decline, 5 auth screen, 6 device pick, 7 IP pick,
  8 step-up coin, 9 step-up failure, 10-11 step-up latencies, 12 refund coin, 13 refund delay.
The cohort coin of an entity is counter 0 of combine(instance, entity id).
`overlay_naive` is the slow oracle of the same rules.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from python_kernels.core import rng
from python_kernels.behaviour import NO_TIME
from python_kernels.core.policy_schema.behaviour import DECLINE_REASONS
from python_kernels.core.policy_schema.fraud import AMOUNT_MODES, COHORT_ENTITIES

U64 = np.uint64
REASON_CARD = DECLINE_REASONS.index("INCORRECT_CVV_OR_PIN")
REASON_SCREEN = DECLINE_REASONS.index("SUSPECTED_FRAUD")
REASON_STEP_UP = len(DECLINE_REASONS)  # STEP_UP_FAILED, as in s2_flow_anchor_baseline
TACTIC_FLAGS = ("amount_mutated", "device_swapped", "ip_swapped", "step_up_forced", "card_declined",
                "screen_declined", "refund_added")
HOUR_US = 3_600_000_000
CAMPAIGN_DOMAIN = "6B.s3.campaign"


# ---- campaign plan -------------------------------------------------------------------------

def _weighted_sample(stream, ctr: int, keys: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct keys drawn with probability proportional to weight (Efraimidis-Spirakis:
    the k largest u^(1/w), u keyed per key), returned sorted."""
    ok = weights > 0
    keys, weights = keys[ok], weights[ok]
    if k <= 0 or keys.size == 0:
        return keys[:0]
    u = rng.uniforms(rng.combine_keys(np.full(keys.size, stream, np.uint64) ^ U64(ctr), keys), 0)
    score = np.log(u) / weights
    top = np.argsort(-score, kind="stable")[:k]
    return np.sort(keys[top])


def plan_campaigns(seed: int, templates: dict, scenarios: list, merchants: dict, countries: dict,
                   pools: dict) -> list[dict]:
    """Instances of every template per scenario, in priority order (template order, then instance).

    scenarios: [(scenario_id, start_us, end_us)]; merchants: {"id", "class", "role"} arrays and
    "volume" {(scenario, channel): per-merchant flow counts}; countries: {"codes" list,
    "volume" {(scenario, channel): per-country flow counts}}; pools: {"HIGH_RISK_DEVICE",
    "HIGH_RISK_IP", "ANONYMIZER"} -> sorted id arrays.
    """
    seed = rng.check_seed(seed)
    domain = CAMPAIGN_DOMAIN
    out = []
    for s_idx, (scenario, start_us, end_us) in enumerate(scenarios):
        days = (end_us - start_us) / (24 * HOUR_US)
        for t_idx, (tid, t) in enumerate(templates.items()):
            tkey = rng.stream_keys(seed, domain, [(s_idx + 1) << 20 | (t_idx + 1) << 12])[0]
            mean = t["mean_per_30_days"] * days / 30.0
            drawn = rng.poisson(tkey, U64(0), mean) if t["instance_model"] == "POISSON" else round(mean)
            n = max(t["min_instances"], int(drawn))
            for i in range(n):
                cid = len(out) + 1
                s = rng.stream_keys(seed, domain, [cid])[0]
                u = rng.uniforms(np.array([s] * 8, np.uint64) ^ np.arange(8, dtype=np.uint64), 0)
                lo_h, hi_h = t["window_hours"]
                hours = min(lo_h + (hi_h - lo_h) * u[0], (end_us - start_us) / HOUR_US)
                w_start = start_us + int(u[1] * ((end_us - start_us) - hours * HOUR_US))
                w_end = w_start + int(hours * HOUR_US)
                chans = t["channels"]
                vol_m = sum((merchants["volume"].get((scenario, c), 0) for c in chans), np.zeros(merchants["id"].size))
                eligible = np.ones(merchants["id"].size, bool)
                classes = list(t["merchant_classes"])
                if classes and t["classes_per_instance"]:
                    # the instance's vertical(s): classes drawn by their traffic on the channels
                    class_vol = np.array([vol_m[merchants["class"] == c].sum() for c in classes], float)
                    picked = _weighted_sample(s, 105, np.arange(len(classes)), class_vol, t["classes_per_instance"])
                    classes = [classes[j] for j in picked]
                if t["merchant_classes"]:
                    eligible &= np.isin(merchants["class"], classes)
                if t["merchant_roles"]:
                    eligible &= np.isin(merchants["role"], t["merchant_roles"])
                s_lo, s_hi = t["merchant_share"]
                weight = np.where(eligible, vol_m, 0.0)
                k_m = max(int(round((s_lo + (s_hi - s_lo) * u[2]) * np.count_nonzero(weight))), 1) if s_hi > 0 else 0
                cohort_m = _weighted_sample(s, 101, merchants["id"], weight, k_m)
                vol_c = sum((countries["volume"].get((scenario, c), 0) for c in chans), np.zeros(len(countries["codes"])))
                k_c = max(int(round(t["country_share"] * np.count_nonzero(vol_c))), 1) if t["country_share"] else 0
                codes = np.arange(len(countries["codes"]), dtype=np.int64)
                focus = _weighted_sample(s, 102, codes, vol_c, k_c) if k_c else codes
                tac = t["tactics"]
                p_lo, p_hi = tac["swap_pool"]
                n_dev, n_ip = (p_lo + int(x * (p_hi - p_lo + 1)) for x in (u[3], u[5]))
                devices = (_weighted_sample(s, 103, pools["HIGH_RISK_DEVICE"],
                                            np.ones(pools["HIGH_RISK_DEVICE"].size), n_dev)
                           if tac["device_swap"] != "NONE" else np.zeros(0, np.int64))
                ips = (_weighted_sample(s, 104, pools[tac["ip_swap"]], np.ones(pools[tac["ip_swap"]].size), n_ip)
                       if tac["ip_swap"] != "NONE" else np.zeros(0, np.int64))
                i_lo, i_hi = t["intensity"]
                out.append({
                    "campaign_id": cid, "template_id": tid, "campaign_type": t["type"], "scenario_id": scenario,
                    "instance_index": i, "window_start_us": w_start, "window_end_us": w_end,
                    "channels": list(chans), "merchant_classes": classes,
                    "merchant_roles": list(t["merchant_roles"]), "merchant_ids": cohort_m.tolist(),
                    # no class of the template has traffic: an empty cohort, so the instance takes nothing
                    "merchant_cohort": k_m > 0 or (bool(t["merchant_classes"]) and not classes),
                    "focus_countries": [countries["codes"][j] for j in focus] if k_c else [],
                    "cross_border_only": t["cross_border_only"], "cohort_entity": t["cohort_entity"],
                    "cohort_share": t["cohort_share"], "intensity": i_lo + (i_hi - i_lo) * u[4],
                    "amount_mode": tac["amount"], "upshift": list(tac["upshift"]),
                    "test_amount_usd": list(tac["test_amount_usd"]), "p_card_decline": tac["p_card_decline"],
                    "device_swap": tac["device_swap"], "ip_swap": tac["ip_swap"],
                    "device_pool": devices.tolist(), "ip_pool": ips.tolist(),
                    "p_step_up": tac["p_step_up"], "p_step_up_fail": tac["p_step_up_fail"], "p_refund": tac["p_refund"],
                })
    return out


def campaign_arrays(seed: int, plan: list[dict], scenario_codes: list, merchants: dict, country_codes: list,
                    channels: tuple, p_screen: dict) -> dict:
    """The plan as flat arrays for `overlay` (merchant/country eligibility as matrices).

    merchants: {"id", "class", "role"} arrays; a merchant is eligible for an instance when it
    is of its classes and roles (empty lists: any) and, if the instance has a merchant
    cohort, in it.
    """
    merchant_ids = merchants["id"]
    c = len(plan)
    streams = rng.stream_keys(seed, CAMPAIGN_DOMAIN, [p["campaign_id"] for p in plan])
    m_ok = np.zeros((c, merchant_ids.size), np.bool_)
    k_ok = np.zeros((c, len(country_codes)), np.bool_)
    a = {"scenario": np.array([scenario_codes.index(p["scenario_id"]) for p in plan], np.int64),
         "stream": streams,
         "start": np.array([p["window_start_us"] for p in plan], np.int64),
         "end": np.array([p["window_end_us"] for p in plan], np.int64),
         "chan_mask": np.array([sum(1 << channels.index(ch) for ch in p["channels"]) for p in plan], np.int64),
         "cross_only": np.array([p["cross_border_only"] for p in plan], np.bool_),
         "cohort_kind": np.array([COHORT_ENTITIES.index(p["cohort_entity"]) for p in plan], np.int64),
         "cohort_share": np.array([p["cohort_share"] for p in plan], np.float64),
         "intensity": np.array([p["intensity"] for p in plan], np.float64),
         "amount_mode": np.array([AMOUNT_MODES.index(p["amount_mode"]) for p in plan], np.int64),
         "upshift": np.array([p["upshift"] for p in plan], np.float64).reshape(c, 4),
         "test_usd": np.array([p["test_amount_usd"] for p in plan], np.float64).reshape(c, 2),
         "p_card": np.array([p["p_card_decline"] for p in plan], np.float64),
         "p_screen": np.array([p_screen[p["campaign_type"]] for p in plan], np.float64),
         "p_step_up": np.array([p["p_step_up"] for p in plan], np.float64),
         "p_step_fail": np.array([p["p_step_up_fail"] for p in plan], np.float64),
         "p_refund": np.array([p["p_refund"] for p in plan], np.float64)}
    for j, p in enumerate(plan):
        m_ok[j] = np.isin(merchant_ids, p["merchant_ids"]) if p["merchant_cohort"] else True
        if p["merchant_classes"]:
            m_ok[j] &= np.isin(merchants["class"], p["merchant_classes"])
        if p["merchant_roles"]:
            m_ok[j] &= np.isin(merchants["role"], p["merchant_roles"])
        k_ok[j] = True if not p["focus_countries"] else np.isin(country_codes, p["focus_countries"])
    a["merchant_ok"], a["country_ok"] = m_ok, k_ok
    for name, key in (("device", "device_pool"), ("ip", "ip_pool")):
        sizes = np.array([len(p[key]) for p in plan], np.int64)
        a[name + "_ptr"] = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        a[name + "_pool"] = np.array([x for p in plan for x in p[key]], np.int64)
    return a


# ---- overlay -------------------------------------------------------------------------------

@njit(inline="always", cache=True)
def _lognormal_us(s, ctr, spec):
    x = spec[0] * math.exp(spec[1] * rng.normal(s, ctr))
    return max(int(round(min(max(x, spec[2]), spec[3]) * 1e6)), 1)


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
            if rng.uniform(s, U64(1)) < a_intensity[c]:
                campaign[i] = c
                break
        c = campaign[i]
        if c < 0:
            continue
        s = rng.combine(a_stream[c], U64(flow_id[i]))
        # amount, with clearing and refund kept in proportion (all in minor units)
        old = amount[i]
        if a_amode[c] == 1:
            usd = a_test[c, 0] + (a_test[c, 1] - a_test[c, 0]) * rng.uniform(s, U64(2))
            amount[i] = max(int(round(usd * unit_minor[i])), 1)
        elif a_amode[c] == 2:
            f = a_up[c, 0] * math.exp(a_up[c, 1] * rng.normal(s, U64(2)))
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
            device[i] = dev_pool[dev_ptr[c] + min(int(rng.uniform(s, U64(6)) * n_dev), n_dev - 1)]
            flags[i, 1] = True
        n_ip = ip_ptr[c + 1] - ip_ptr[c]
        if n_ip > 0:
            ip[i] = ip_pool[ip_ptr[c] + min(int(rng.uniform(s, U64(7)) * n_ip), n_ip - 1)]
            flags[i, 2] = True
        if declined[i]:
            continue  # a flow the issuer already declined keeps its outcome
        if not step_up[i] and rng.uniform(s, U64(8)) < a_step[c]:
            # challenge inserted before the response: everything after the request moves later
            d1 = _lognormal_us(s, U64(10), t_chal)
            d2 = _lognormal_us(s, U64(11), t_comp)
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
            if rng.uniform(s, U64(9)) < a_step_fail[c]:
                declined[i] = True
                reason[i] = REASON_STEP_UP
        if not declined[i] and rng.uniform(s, U64(4)) < a_card[c]:
            declined[i] = True
            reason[i] = REASON_CARD
            flags[i, 4] = True
        if not declined[i] and rng.uniform(s, U64(5)) < a_screen[c]:
            declined[i] = True
            reason[i] = REASON_SCREEN
            flags[i, 5] = True
        if declined[i]:
            t_clearing[i] = NO_TIME
            t_reversal[i] = NO_TIME
            t_refund_at[i] = NO_TIME
            clearing[i] = 0
            refund_amt[i] = 0
        elif t_clearing[i] != NO_TIME and t_refund_at[i] == NO_TIME and rng.uniform(s, U64(12)) < a_refund[c]:
            t_refund_at[i] = t_clearing[i] + _lognormal_us(s, U64(13), t_refund)
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


def overlay_naive(flows: dict, campaigns: dict) -> np.ndarray:
    """Oracle of the targeting rules: the campaign index per flow, one flow at a time."""
    a = campaigns
    out = np.full(flows["flow_id"].size, -1, np.int64)
    cohort_of = {1: "account", 2: "instrument", 3: "party"}
    for i in range(out.size):
        for c in range(a["stream"].size):
            if a["scenario"][c] != flows["scenario"][i] or not a["start"][c] <= flows["ts"][i] < a["end"][c]:
                continue
            if not (a["chan_mask"][c] >> int(flows["channel"][i])) & 1:
                continue
            if not a["merchant_ok"][c, flows["merchant"][i]] or not a["country_ok"][c, flows["country"][i]]:
                continue
            if a["cross_only"][c] and not flows["cross"][i]:
                continue
            kind = int(a["cohort_kind"][c])
            if kind:
                entity = int(flows[cohort_of[kind]][i])
                key = rng.combine_keys(np.array([a["stream"][c]], np.uint64), np.array([entity], np.uint64))
                if rng.uniforms(key, 0)[0] >= a["cohort_share"][c]:
                    continue
            key = rng.combine_keys(np.array([a["stream"][c]], np.uint64), np.array([flows["flow_id"][i]], np.uint64))
            if rng.uniforms(key, 1)[0] < a["intensity"][c]:
                out[i] = c
                break
    return out
