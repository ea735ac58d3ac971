"""6B S3 campaign plan: realise every template of the campaign policy as instances per scenario
(count, window, merchant cohort, focus countries, intensity, the pool of fraudster devices and
IPs), every choice a keyed draw on the instance's stream (seed, "6B.s3.campaign", campaign_id);
and the flat arrays the overlay reads. Also the world inputs the plan needs."""
from __future__ import annotations

import numpy as np

from python_kernels.core import rng
from python_kernels.core.arrow import codes, column
from python_kernels.core.policy_schema.campaigns import AMOUNT_MODES, COHORT_ENTITIES
from python_kernels.core.vocabulary import US_PER_HOUR

U64 = np.uint64
CAMPAIGN_DOMAIN = "6B.s3.campaign"


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
        days = (end_us - start_us) / (24 * US_PER_HOUR)
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
                hours = min(lo_h + (hi_h - lo_h) * u[0], (end_us - start_us) / US_PER_HOUR)
                w_start = start_us + int(u[1] * ((end_us - start_us) - hours * US_PER_HOUR))
                w_end = w_start + int(hours * US_PER_HOUR)
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
                    "amount_mode": tac["amount"], "law_draws": tac["law_draws"], "p_card_decline": tac["p_card_decline"],
                    "device_swap": tac["device_swap"], "ip_swap": tac["ip_swap"],
                    "device_pool": devices.tolist(), "ip_pool": ips.tolist(), "p_local_proxy": tac["p_local_proxy"],
                    "p_step_up": tac["p_step_up"], "p_step_up_fail": tac["p_step_up_fail"], "p_refund": tac["p_refund"],
                })
    return out


def campaign_arrays(seed: int, plan: list[dict], scenario_codes: list, merchants: dict, country_codes: list,
                    channels: tuple, p_screen: dict, proxies: dict) -> dict:
    """The plan as flat arrays for `overlay` (merchant/country eligibility as matrices).

    merchants: {"id", "class", "role"} arrays; a merchant is eligible for an instance when it
    is of its classes and roles (empty lists: any) and, if the instance has a merchant
    cohort, in it. proxies: {country code: sorted ids of the IPs a local proxy may exit from}.
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
         "law_draws": np.array([p["law_draws"] for p in plan], np.int64),
         "p_proxy": np.array([p["p_local_proxy"] for p in plan], np.float64),
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
    pools = [np.asarray(proxies.get(code, []), np.int64) for code in country_codes]
    a["proxy_ptr"] = np.concatenate([[0], np.cumsum([x.size for x in pools])]).astype(np.int64)
    a["proxy_pool"] = np.concatenate(pools + [np.zeros(0, np.int64)])
    for name, key in (("device", "device_pool"), ("ip", "ip_pool")):
        sizes = np.array([len(p[key]) for p in plan], np.int64)
        a[name + "_ptr"] = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        a[name + "_pool"] = np.array([x for p in plan for x in p[key]], np.int64)
    return a


def campaign_merchants(session, classes: str, roles: str) -> dict:
    """{"id", "class", "role"} arrays by merchant_id, from the registered relations `classes`
    (merchant_class_profile_5A) and `roles` (s5_merchant_fraud_roles_6A)."""
    t = session.sql(f"""
        select c.merchant_id, c.primary_demand_class as class, r.fraud_role_merchant as role
        from {classes} as c join {roles} as r using (merchant_id) order by c.merchant_id
    """).to_arrow_table()
    return {"id": column(t, "merchant_id"), "class": np.array(t.column("class").to_pylist()),
            "role": np.array(t.column("role").to_pylist())}


def local_proxies(session, ips: str) -> dict:
    """{country code: sorted ip_ids} of the residential and mobile IPs of the registered relation
    `ips` (s4_ip_base_6A): residential proxy networks exit from ordinary households' and phones'
    connections, so a proxy in the victim's country looks like any customer there."""
    t = session.sql(f"""
        select country_iso, ip_id from {ips} where ip_type in ('RESIDENTIAL', 'MOBILE') order by 1, 2
    """).to_arrow_table()
    code, labels = codes(t, "country_iso")
    ids = column(t, "ip_id")
    return {label: ids[code == j] for j, label in enumerate(labels)}


def country_codes(session, countries: str) -> list:
    """Sorted country codes of the registered relation `countries` (world_countries)."""
    return [r[0] for r in session.sql(f"select country_iso from {countries} order by 1").fetchall()]
