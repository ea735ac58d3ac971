"""5A intensity kernels: weekly shapes, per-zone weekly demand, scenario calendar events.

Arrays in, arrays out. Draws go through `rng` with keyed streams, so results depend only on
(seed, entity keys), never on row order. Their slow oracles live in tests/python/oracles/world.py.
"""
from __future__ import annotations

import calendar as _cal
import math
from datetime import date, timedelta

import numpy as np
from numba import njit

from python_kernels.core import rng
from python_kernels.world.tz import local_midnight_utc_us

HOURS_PER_WEEK = 168
U64 = np.uint64


# ---- weekly shapes ---------------------------------------------------------------------------

def week_shift(weekend_days: str) -> int:
    """Days to rotate the Mon..Sun template week so the country's last weekend day takes Sunday's
    weight ('6,7' -> 0; Fri/Sat '5,6' -> 1; Nepal's Saturday '6' -> 1)."""
    try:
        days = [int(x) for x in str(weekend_days).split(",")]
    except ValueError:
        raise ValueError(f"weekend_days must list ISO weekdays, got {weekend_days!r}") from None
    if not days or any(d < 1 or d > 7 for d in days):
        raise ValueError(f"weekend_days must list ISO weekdays 1..7, got {weekend_days!r}")
    return 7 - max(days)


@njit(cache=True)
def _weekly_shapes(dow_w, floor, power, peak_ptr, center, sigma, amp, shift, out):
    for s in range(out.shape[0]):
        total = 0.0
        for d in range(7):
            w = dow_w[s, (d + shift[s]) % 7]
            for h in range(24):
                minute = h * 60.0 + 30.0  # bucket midpoint
                mix = floor[s]
                for j in range(peak_ptr[s], peak_ptr[s + 1]):
                    dist = abs(minute - center[j]) % 1440.0
                    dist = min(dist, 1440.0 - dist)  # peaks wrap around midnight
                    mix += amp[j] * math.exp(-0.5 * (dist / sigma[j]) ** 2)
                v = (w * mix) ** power[s]
                out[s, d * 24 + h] = v
                total += v
        for k in range(HOURS_PER_WEEK):
            out[s, k] /= total


def weekly_shapes(dow_w, floor, power, peak_ptr, center, sigma, amp, shift):
    """Unit-mass 168-hour local-week shape per row s (k = (ISO dow − 1)·24 + hour).

    v(d, h) = (w[(d + shift) mod 7] · (floor + Σ_j amp_j·exp(−½(Δ_j/σ_j)²)))^power, Δ the
    wrapped distance in minutes from the hour's midpoint to the peak centre; then normalised.
    Peaks of row s are [peak_ptr[s], peak_ptr[s+1]).
    """
    dow_w = np.ascontiguousarray(dow_w, dtype=np.float64)
    n = dow_w.shape[0]
    floor, power = (np.ascontiguousarray(x, dtype=np.float64) for x in (floor, power))
    peak_ptr, shift = (np.ascontiguousarray(x, dtype=np.int64) for x in (peak_ptr, shift))
    center, sigma, amp = (np.ascontiguousarray(x, dtype=np.float64) for x in (center, sigma, amp))
    if dow_w.ndim != 2 or dow_w.shape[1] != 7:
        raise ValueError("dow_w must have 7 day weights per row")
    if not (floor.shape == power.shape == shift.shape == (n,)) or peak_ptr.shape != (n + 1,):
        raise ValueError("floor, power, shift need one entry per row and peak_ptr n+1")
    if peak_ptr[0] != 0 or np.any(np.diff(peak_ptr) < 0) or peak_ptr[-1] != center.size:
        raise ValueError("peak_ptr must be a CSR pointer over the peaks")
    if np.any(dow_w <= 0) or np.any(floor < 0) or np.any(power <= 0) or np.any(sigma <= 0) or np.any(amp < 0):
        raise ValueError("day weights, powers and sigmas must be > 0; floors and amplitudes >= 0")
    if np.any((floor <= 0) & (np.diff(peak_ptr) == 0)):
        raise ValueError("a template with zero floor needs a peak")
    out = np.empty((n, HOURS_PER_WEEK))
    _weekly_shapes(dow_w, floor, power, peak_ptr, center, sigma, amp, shift % 7, out)
    return out


# ---- weekly demand per zone ------------------------------------------------------------------

@njit(cache=True)
def _zone_weekly(m_stream, z_stream, median, alpha, clip, jitter_sigma, sites, mult,
                 cap, slope, hard, per_site_out, weekly_out):
    for i in range(m_stream.shape[0]):
        u = rng.uniform(m_stream[i], U64(0))
        x_m = median[i] / 2.0 ** (1.0 / alpha[i])
        per_site = min(x_m / (1.0 - u) ** (1.0 / alpha[i]), clip[i])
        per_site *= rng.lognormal_mean_one(z_stream[i], U64(0), jitter_sigma)
        w = sites[i] * per_site * mult[i]
        if w > cap:
            w = min(cap + slope * (w - cap), hard * cap)
        per_site_out[i] = per_site
        weekly_out[i] = w


def zone_weekly_volume(merchant_streams, zone_streams, median, alpha, clip, jitter_sigma,
                       zone_sites, multiplier, soft_cap, excess_slope, hard_mult):
    """Weekly expected demand per zone (reference units) and its per-site volume.

    per_site = min(x_m/(1−u)^(1/α), clip) · exp(N(−σ²/2, σ²)) with the Pareto u keyed by
    merchant (a brand's sites are alike across its zones) and the jitter keyed by zone;
    weekly = zone_sites · per_site · multiplier, then soft-capped:
    above C it becomes min(C + slope·(w − C), hard·C).
    """
    cols = [np.ascontiguousarray(x, dtype=np.float64) for x in (median, alpha, clip, zone_sites, multiplier)]
    ms = np.ascontiguousarray(merchant_streams, dtype=np.uint64)
    zs = np.ascontiguousarray(zone_streams, dtype=np.uint64)
    if any(c.shape != ms.shape for c in cols) or zs.shape != ms.shape:
        raise ValueError("all zone inputs need one entry per zone")
    median, alpha, clip, sites, mult = cols
    if np.any(alpha <= 0) or np.any(median <= 0) or np.any(clip <= 0) or np.any(sites < 0) or np.any(mult < 0):
        raise ValueError("median, alpha and clip must be > 0; sites and multipliers >= 0")
    if soft_cap <= 0 or not 0 <= excess_slope <= 1 or hard_mult < 1 or jitter_sigma < 0:
        raise ValueError("soft_cap > 0, 0 <= excess_slope <= 1, hard_mult >= 1, jitter_sigma >= 0")
    per_site = np.empty(ms.size)
    weekly = np.empty(ms.size)
    _zone_weekly(ms, zs, median, alpha, clip, float(jitter_sigma), sites, mult,
                 float(soft_cap), float(excess_slope), float(hard_mult), per_site, weekly)
    return per_site, weekly


def cap_country_share(country, merchant_id, weekly, max_share, floor_merchants):
    """Scale each merchant's zones so that no merchant carries more than its cap of a country's demand.

    The cap in a country with n merchants is max(max_share, floor_merchants / n): a country the
    closed world samples with few merchants keeps that many leaders instead of being flattened.
    Capped merchants end at the common level L = cap · (country total after capping), found by
    water-filling over the merchants sorted by demand; the others keep theirs. Returns the
    factor (≤ 1) for every zone row.
    """
    country = np.asarray(country)
    merchant_id = np.asarray(merchant_id)
    weekly = np.asarray(weekly, dtype=np.float64)
    if not (country.shape == merchant_id.shape == weekly.shape):
        raise ValueError("country, merchant_id and weekly need one entry per zone")
    if not 0 < max_share <= 1 or floor_merchants < 1:
        raise ValueError("max_share must be in (0, 1] and floor_merchants >= 1")
    if np.any(weekly < 0):
        raise ValueError("weekly demand must be >= 0")
    factor = np.ones(weekly.size)
    pairs, zone_pair = np.unique(np.stack([country.astype(str), merchant_id.astype(str)]), axis=1,
                                 return_inverse=True)
    totals = np.bincount(zone_pair.ravel(), weights=weekly, minlength=pairs.shape[1])
    pair_factor = np.ones(pairs.shape[1])
    for c in np.unique(pairs[0]):
        members = np.flatnonzero(pairs[0] == c)
        t = totals[members]
        cap = max(max_share, floor_merchants / members.size)
        if cap >= 1.0:
            continue
        desc = np.sort(t)[::-1]
        rest = np.concatenate([np.cumsum(desc[::-1])[::-1], [0.0]])
        for k in range(members.size):
            level = cap * rest[k] / (1.0 - k * cap)
            if desc[k] <= level:
                break
        with np.errstate(invalid="ignore", divide="ignore"):
            pair_factor[members] = np.where(t > level, level / t, 1.0)
    factor[:] = pair_factor[zone_pair.ravel()]
    return factor


# ---- calendar: local dates -------------------------------------------------------------------

def is_business_day(d: date, weekend: set, holidays: set) -> bool:
    return d.isoweekday() not in weekend and d not in holidays


def payday_dates(year: int, month: int, rule_days, weekend: set, holidays: set):
    """Local paydays of a month: 'last' = last day, 'bdN' = N-th business day, 'N' = day N.

    A calendar-day payday on a weekend or holiday moves back to the previous business day.
    """
    out = []
    n_days = _cal.monthrange(year, month)[1]
    for spec in rule_days:
        if spec.startswith("bd"):
            n = int(spec[2:])
            d = date(year, month, 1)
            count = 0
            while True:
                if is_business_day(d, weekend, holidays):
                    count += 1
                    if count == n:
                        break
                d += timedelta(days=1)
        else:
            d = date(year, month, n_days if spec == "last" else int(spec))
            while not is_business_day(d, weekend, holidays):
                d -= timedelta(days=1)
        out.append(d)
    return sorted(set(out))


def months_between(first: date, last: date):
    """(year, month) of every month touching [first, last]."""
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


# ---- calendar: scenario events ---------------------------------------------------------------

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR
_EPOCH_DAY = date(1970, 1, 1)
EVENT_TYPES = ("HOLIDAY", "PAYDAY", "CAMPAIGN", "OUTAGE", "STRESS")


def _day_number(d: date) -> int:
    return (d - _EPOCH_DAY).days


def _draws(seed: int, purpose: str, scenario_id: str, index: int, n: int):
    """n keyed uniforms for item `index` of a scenario's calendar draw `purpose`."""
    key = rng.combine_keys([rng.domain_id(scenario_id)], [index])
    stream = rng.stream_keys(seed, f"scenario_calendar_5A.{purpose}", key)
    return [float(rng.uniforms(stream, c)[0]) for c in range(n)]


def scenario_events(seed, scenario, tz_table, zone_pairs, holidays, countries, pool, overlays):
    """Overlay events of one scenario, clipped to its horizon.

    scenario:   {scenario_id, start_us, end_us, is_stress}
    tz_table:   {ptr, starts, offsets, index: tzid -> tz idx} (world_tz_transitions arrays)
    zone_pairs: (country, tzid) pairs carrying demand; holidays and paydays are resolved on the
                local dates of each pair's tzid
    holidays:   country -> set of local dates
    countries:  country -> {weekend: set of ISO weekdays, payday_rule, merchant_weight}
    pool:       countries campaigns and stress windows may pick (the preset's)
    overlays:   the `overlays` block of intensity.yaml
    Returns tuples (event_type, country, tzid, demand_class, start_us, end_us, amplitude,
    ramp_in_buckets, ramp_out_buckets, label); scope fields are None when unscoped.
    """
    sid, h0, h1 = scenario["scenario_id"], scenario["start_us"], scenario["end_us"]
    if h1 <= h0 or (h1 - h0) % US_PER_HOUR:
        raise ValueError("scenario horizon must be a positive whole number of hours")
    band = "stress" if scenario["is_stress"] else "baseline"
    n_days = (h1 - h0) // US_PER_DAY
    first_day = _EPOCH_DAY + timedelta(days=h0 // US_PER_DAY - 2)
    last_day = _EPOCH_DAY + timedelta(days=h1 // US_PER_DAY + 2)
    events = []

    def emit(kind, country, tzid, cls, s, e, amp, r_in, r_out, label):
        s, e = max(s, h0), min(e, h1)
        if e > s:
            events.append((kind, country, tzid, cls, s, e, float(amp), r_in, r_out, label))

    def midnight(tzid, d):
        return local_midnight_utc_us(tz_table["ptr"], tz_table["starts"], tz_table["offsets"],
                                     tz_table["index"][tzid], _day_number(d))

    hol, pay = overlays["holiday"], overlays["payday"]
    for country, tzid in sorted(zone_pairs):
        c = countries[country]
        days_off = holidays.get(country, set())
        for d in sorted(x for x in days_off if first_day <= x <= last_day):
            s, e = midnight(tzid, d), midnight(tzid, d + timedelta(days=1))
            for cls, amp in sorted(hol["amplitude_by_class"].items()):
                if amp != 1.0:
                    emit("HOLIDAY", country, tzid, cls, s, e, amp, 0, 0, f"holiday {d.isoformat()}")
        rule = pay["rules"].get(c["payday_rule"])
        if rule is None:
            raise ValueError(f"payday_rule {c['payday_rule']!r} of {country} is not in intensity.yaml overlays.payday.rules")
        for y, m in months_between(first_day, last_day):
            for d in payday_dates(y, m, rule, c["weekend"], days_off):
                s = midnight(tzid, d)
                for cls, amp in sorted(pay["amplitude_by_class"].items()):
                    emit("PAYDAY", country, tzid, cls, s, s + pay["window_hours"] * US_PER_HOUR, amp,
                         pay["ramp_in_buckets"], pay["ramp_out_buckets"], f"payday {d.isoformat()}")

    camp = overlays["campaign"]
    h0_day, h1_day = _EPOCH_DAY + timedelta(days=h0 // US_PER_DAY), _EPOCH_DAY + timedelta(days=(h1 - 1) // US_PER_DAY)
    for y, m in months_between(h0_day, h1_day):
        span = _cal.monthrange(y, m)[1] - camp["days"] + 1
        (u,) = _draws(seed, "campaign", sid, y * 100 + m, 1)
        start = date(y, m, 1) + timedelta(days=min(int(u * max(span, 1)), max(span, 1) - 1))
        s = _day_number(start) * US_PER_DAY
        emit("CAMPAIGN", None, None, camp["demand_class"], s, s + camp["days"] * US_PER_DAY,
             camp["amplitude"][band], camp["ramp_in_buckets"], camp["ramp_out_buckets"], f"campaign {y}-{m:02d}")
    pool = sorted(pool, key=lambda k: (-countries[k]["merchant_weight"], k))
    if scenario["is_stress"]:
        for i, country in enumerate(pool[: camp["stress_country_count"]]):
            (u,) = _draws(seed, "country_campaign", sid, i, 1)
            span = max(n_days - camp["stress_country_days"] + 1, 1)
            s = h0 + min(int(u * span), span - 1) * US_PER_DAY
            emit("CAMPAIGN", country, None, camp["stress_country_class"], s, s + camp["stress_country_days"] * US_PER_DAY,
                 camp["stress_country_amplitude"], camp["stress_country_ramp_buckets"],
                 camp["stress_country_ramp_buckets"], f"country campaign {country}")

    out = overlays["outage"]
    tzids = sorted({tz for _, tz in zone_pairs})
    n_buckets = (h1 - h0) // US_PER_HOUR
    for i in range(math.ceil(n_days * out["rate_per_day"]) if tzids else 0):
        u_tz, u_start, u_dur = _draws(seed, "outage", sid, i, 3)
        tzid = tzids[min(int(u_tz * len(tzids)), len(tzids) - 1)]
        s = h0 + min(int(u_start * n_buckets), n_buckets - 1) * US_PER_HOUR
        hours = out["duration_hours"][min(int(u_dur * len(out["duration_hours"])), len(out["duration_hours"]) - 1)]
        emit("OUTAGE", None, tzid, None, s, s + hours * US_PER_HOUR, out["amplitude"], 0, 0, f"outage {hours}h")

    if scenario["is_stress"]:
        st = overlays["stress"]

        def window(purpose, index, lo, hi):
            u_len, u_start = _draws(seed, purpose, sid, index, 2)
            length = min(lo + min(int(u_len * (hi - lo + 1)), hi - lo), n_days)
            span = n_days - length + 1
            s = h0 + min(int(u_start * span), span - 1) * US_PER_DAY
            return s, s + length * US_PER_DAY, length

        s, e, length = window("stress_global", 0, st["global_min_days"], st["global_max_days"])
        emit("STRESS", None, None, None, s, e, st["global_amplitude"], 0, 0, f"global stress {length}d")
        (u_n,) = _draws(seed, "stress_country_count", sid, 0, 1)
        span_n = st["country_max_windows"] - st["country_min_windows"] + 1
        cum = np.cumsum([countries[k]["merchant_weight"] for k in pool])
        for i in range(st["country_min_windows"] + min(int(u_n * span_n), span_n - 1)):
            (u_c,) = _draws(seed, "stress_country_pick", sid, i, 1)
            country = pool[min(int(np.searchsorted(cum / cum[-1], u_c, side="right")), len(pool) - 1)]
            s, e, length = window("stress_country", i, st["country_min_days"], st["country_max_days"])
            emit("STRESS", country, None, None, s, e, st["country_amplitude"], 0, 0, f"country stress {country} {length}d")

    order = {k: i for i, k in enumerate(EVENT_TYPES)}
    events.sort(key=lambda ev: (order[ev[0]], ev[4], ev[1] or "", ev[2] or "", ev[3] or "", ev[5], ev[9]))
    return events
