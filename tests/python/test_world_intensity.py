"""5A world kernels against naive oracles: time table vs zoneinfo, shapes, demand, calendar dates."""
from __future__ import annotations

import math
import zoneinfo
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from oracles import world as oracles_world
from python_kernels.core import rng
from python_kernels.world import intensity, tz

UTC = timezone.utc
ZONES = ["Africa/Casablanca", "America/New_York", "America/St_Johns", "Asia/Jerusalem",
         "Asia/Kathmandu", "Australia/Sydney", "Europe/London", "Europe/Paris", "Pacific/Auckland", "Etc/UTC"]
START, END = datetime(2025, 12, 25, tzinfo=UTC), datetime(2026, 4, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
def table():
    cols = tz.transition_intervals(ZONES, START, END)
    ptr, starts, offsets, end_us = tz.tz_arrays(cols["tzid_idx"], tz.to_us(cols["valid_from_utc"]),
                                                tz.to_us(cols["valid_to_utc"]), cols["offset_minutes"])
    return cols, ptr, starts, offsets, end_us


def test_intervals_are_contiguous_and_cover_the_range(table):
    cols, ptr, starts, offsets, end_us = table
    names = sorted(set(ZONES))
    assert sorted(set(cols["tzid"])) == names
    for i, name in enumerate(names):
        rows = [j for j, t in enumerate(cols["tzid"]) if t == name]
        assert all(cols["tzid_idx"][j] == i for j in rows)
        assert cols["valid_from_utc"][rows[0]] == START.replace(tzinfo=None)
        assert cols["valid_to_utc"][rows[-1]] == END.replace(tzinfo=None)
        for a, b in zip(rows, rows[1:]):
            assert cols["valid_to_utc"][a] == cols["valid_from_utc"][b]
            assert (cols["offset_minutes"][a], cols["is_dst"][a], cols["abbrev"][a]) != \
                   (cols["offset_minutes"][b], cols["is_dst"][b], cols["abbrev"][b])


def test_offset_at_matches_zoneinfo_on_a_dense_grid(table):
    cols, ptr, starts, offsets, end_us = table
    names = sorted(set(ZONES))
    # every 7 minutes 13 seconds plus each transition instant and the second before it
    t0, t1 = int(START.timestamp() * 1e6), int(END.timestamp() * 1e6)
    grid = np.arange(t0, t1, 433_000_000, dtype=np.int64)
    edges = tz.to_us(cols["valid_from_utc"])
    probes = np.unique(np.concatenate([grid, edges, edges - 1_000_000]))
    probes = probes[(probes >= t0) & (probes < t1)]
    for i, name in enumerate(names):
        zone = zoneinfo.ZoneInfo(name)
        got = tz.offsets_at(np.full(probes.size, i), probes, ptr, starts, offsets, end_us)
        for t, off in zip(probes[::37], got[::37]):
            assert off == oracles_world.offset_at_naive(name, int(t))
        sample = probes[::997]
        want = [int(datetime.fromtimestamp(t / 1e6, UTC).astimezone(zone).utcoffset().total_seconds()) // 60
                for t in sample]
        np.testing.assert_array_equal(got[::997], want)


@pytest.mark.parametrize("name, at, minutes", [
    ("America/New_York", "2026-03-08T06:30:00", -300),
    ("America/New_York", "2026-03-08T07:30:00", -240),
    ("Europe/Paris", "2026-03-29T00:59:59", 60),
    ("Europe/Paris", "2026-03-29T01:00:00", 120),
    ("Africa/Casablanca", "2026-02-15T02:00:00", 0),
    ("Africa/Casablanca", "2026-03-22T01:59:59", 0),
    ("Africa/Casablanca", "2026-03-22T02:00:00", 60),
    ("Australia/Sydney", "2026-01-01T00:00:00", 660),
    ("Australia/Sydney", "2026-03-31T23:00:00", 660),
    ("Asia/Kathmandu", "2026-02-01T00:00:00", 345),
])
def test_dst_spot_checks(table, name, at, minutes):
    cols, ptr, starts, offsets, end_us = table
    i = sorted(set(ZONES)).index(name)
    t = int(datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp() * 1_000_000)
    assert tz.offsets_at([i], [t], ptr, starts, offsets, end_us)[0] == minutes


def test_coverage_and_bad_input_are_refused(table):
    cols, ptr, starts, offsets, end_us = table
    with pytest.raises(ValueError, match="coverage"):
        tz.offsets_at([0], [int(END.timestamp() * 1e6)], ptr, starts, offsets, end_us)
    with pytest.raises(ValueError, match="unknown IANA"):
        tz.transition_intervals(["Mars/Olympus_Mons"], START, END)
    with pytest.raises(ValueError, match="contiguous"):
        tz.tz_arrays([0, 0], [0, 5], [4, 9], [0, 60])


def test_local_midnight_matches_zoneinfo(table):
    cols, ptr, starts, offsets, end_us = table
    names = sorted(set(ZONES))
    for i, name in enumerate(names):
        zone = zoneinfo.ZoneInfo(name)
        for d in (date(2026, 1, 1), date(2026, 2, 15), date(2026, 3, 8), date(2026, 3, 22),
                  date(2026, 3, 27), date(2026, 3, 29), date(2026, 3, 31)):
            got = tz.local_midnight_utc_us(ptr, starts, offsets, i, (d - date(1970, 1, 1)).days)
            # oracle: the first whole minute of UTC whose wall clock falls on date d
            t = datetime(d.year, d.month, d.day, tzinfo=UTC) - timedelta(hours=15)
            while t.astimezone(zone).date() < d:
                t += timedelta(minutes=1)
            assert got == int(t.timestamp() * 1_000_000), (name, d)


def test_weekly_shapes_match_oracle_and_sum_to_one():
    peaks = [[(720, 120, 1.0), (1020, 140, 0.8)], [(0, 135, 0.8), (1290, 100, 0.6)], []]
    dow = np.array([[1, 1, 1, 1, 1.1, 0.9, 0.8], [0.8, 0.8, 0.9, 1, 1.1, 1.5, 1.4], [1] * 7], dtype=float)
    floor, power, shift = np.array([0.08, 0.2, 0.3]), np.array([1.1, 0.9, 1.0]), np.array([0, 1, 0])
    ptr = np.array([0, 2, 4, 4])
    flat = [p for row in peaks for p in row]
    got = intensity.weekly_shapes(dow, floor, power, ptr, [p[0] for p in flat], [p[1] for p in flat],
                                  [p[2] for p in flat], shift)
    for s in range(3):
        np.testing.assert_allclose(got[s], oracles_world.weekly_shape_naive(dow[s], floor[s], power[s], peaks[s], shift[s]),
                                   rtol=1e-12)
        assert abs(got[s].sum() - 1) < 1e-12
    np.testing.assert_allclose(got[2], 1 / 168)
    # a Fri/Sat weekend gives Friday the template's Saturday weight
    assert got[1][4 * 24 + 12] / got[1][3 * 24 + 12] == pytest.approx((1.5 / 1.1) ** 0.9)


def test_week_shift():
    assert intensity.week_shift("6,7") == 0
    assert intensity.week_shift("5,6") == 1
    assert intensity.week_shift("6") == 1
    with pytest.raises(ValueError):
        intensity.week_shift("0,8")


def test_zone_weekly_volume_matches_oracle_and_caps():
    n = 500
    ms = rng.stream_keys(42, "test.zone.m", np.arange(n) // 3)
    zs = rng.stream_keys(42, "test.zone.z", np.arange(n))
    med, alpha, clip = np.full(n, 300.0), np.full(n, 1.9), np.full(n, 12000.0)
    sites, mult = (np.arange(n) % 40 + 1.0), np.full(n, 1.15)
    per_site, weekly = intensity.zone_weekly_volume(ms, zs, med, alpha, clip, 0.25, sites, mult, 45000.0, 0.15, 1.1)
    for i in range(0, n, 7):
        p, w = oracles_world.zone_weekly_volume_naive(ms[i], zs[i], 300.0, 1.9, 12000.0, 0.25, sites[i], 1.15,
                                                   45000.0, 0.15, 1.1)
        assert per_site[i] == pytest.approx(p, rel=1e-12)
        assert weekly[i] == pytest.approx(w, rel=1e-12)
    assert weekly.max() <= 1.1 * 45000.0 + 1e-9
    assert np.all(weekly > 0)


def test_country_share_cap_matches_oracle_and_holds():
    rnd = np.random.default_rng(7)
    n = 400
    country = np.array(["NZ", "CH", "FR", "KE"])[rnd.integers(0, 4, n)]
    merchant = rnd.integers(0, 40, n)
    weekly = rnd.pareto(1.1, n) * 100.0
    weekly[merchant == 3] *= 500.0  # one chain far above any cap
    weekly[::37] = 0.0
    factor = intensity.cap_country_share(country, merchant, weekly, 0.15, 2)
    assert factor == pytest.approx(oracles_world.cap_country_share_naive(country, merchant, weekly, 0.15, 2),
                                   rel=1e-9, abs=1e-12)
    assert np.all((factor > 0) & (factor <= 1))
    for c in np.unique(country):
        rows = country == c
        m_tot = np.bincount(merchant[rows], weights=weekly[rows] * factor[rows])
        cap = max(0.15, 2 / np.count_nonzero(np.bincount(merchant[rows])))
        assert m_tot.max() <= cap * m_tot.sum() * (1 + 1e-9)
        # a merchant's zones in one country share one factor, and merchant 3 is cut
        for m in np.unique(merchant[rows]):
            assert np.ptp(factor[rows & (merchant == m)]) == 0
    assert factor[merchant == 3].max() < 0.5
    with pytest.raises(ValueError, match="max_share"):
        intensity.cap_country_share(country, merchant, weekly, 0.0, 2)


def test_payday_dates_follow_rules_on_local_business_days():
    sat_sun, fri_sat = {6, 7}, {5, 6}
    # Jan 2026: 31st is a Saturday -> Friday 30th; 15th is a Thursday
    assert intensity.payday_dates(2026, 1, ["15", "last"], sat_sun, set()) == [date(2026, 1, 15), date(2026, 1, 30)]
    # Fri/Sat weekend: Jan 31 (Sat) and Jan 30 (Fri) are weekend -> Thursday 29th
    assert intensity.payday_dates(2026, 1, ["last"], fri_sat, set()) == [date(2026, 1, 29)]
    # a holiday on the payday moves it back again
    assert intensity.payday_dates(2026, 3, ["25"], sat_sun, {date(2026, 3, 25)}) == [date(2026, 3, 24)]
    # 5th business day of Feb 2026 (Feb 1 is a Sunday), with a holiday on Feb 2: 3, 4, 5, 6, 9
    assert intensity.payday_dates(2026, 2, ["bd5"], sat_sun, {date(2026, 2, 2)}) == [date(2026, 2, 9)]
    assert list(intensity.months_between(date(2025, 12, 30), date(2026, 2, 1))) == [(2025, 12), (2026, 1), (2026, 2)]


def _overlays():
    from python_kernels.core.policies import load_policies
    return load_policies("policies")["intensity"]["overlays"]


def test_scenario_events_resolve_local_dates_and_are_deterministic(table):
    cols, ptr, starts, offsets, end_us = table
    names = sorted(set(ZONES))
    tz_table = {"ptr": ptr, "starts": starts, "offsets": offsets, "index": {n: i for i, n in enumerate(names)}}
    us = lambda s: int(datetime.fromisoformat(s).replace(tzinfo=UTC).timestamp() * 1_000_000)
    countries = {"NZ": {"weekend": {6, 7}, "payday_rule": "SEMIMONTHLY_15_LAST", "merchant_weight": 0.3},
                 "US": {"weekend": {6, 7}, "payday_rule": "LAST_BUSINESS_DAY", "merchant_weight": 0.7}}
    holidays = {"NZ": {date(2026, 2, 6)}, "US": {date(2026, 2, 16)}}
    pairs = [("NZ", "Pacific/Auckland"), ("US", "America/New_York")]
    base = {"scenario_id": "baseline_v1", "is_stress": False, "start_us": us("2026-01-01T00:00:00"),
            "end_us": us("2026-04-01T00:00:00")}
    ev = intensity.scenario_events(42, base, tz_table, pairs, holidays, countries, ["NZ", "US"], _overlays())
    assert ev == intensity.scenario_events(42, base, tz_table, pairs, holidays, countries, ["NZ", "US"], _overlays())
    hol = {(e[1], e[4], e[5]) for e in ev if e[0] == "HOLIDAY"}
    # Waitangi Day in Auckland (+13): local midnight is 11:00Z the day before
    assert ("NZ", us("2026-02-05T11:00:00"), us("2026-02-06T11:00:00")) in hol
    # Presidents' Day in New York (−5)
    assert ("US", us("2026-02-16T05:00:00"), us("2026-02-17T05:00:00")) in hol
    paydays = sorted({(e[1], e[4]) for e in ev if e[0] == "PAYDAY"})
    # US: last business day of Jan (Fri 30th), local midnight in New York
    assert ("US", us("2026-01-30T05:00:00")) in paydays
    # NZ: the 15th of March 2026 is a Sunday -> Friday 13th, local midnight in Auckland (+13)
    assert ("NZ", us("2026-03-12T11:00:00")) in paydays
    assert {e[0] for e in ev} == {"HOLIDAY", "PAYDAY", "CAMPAIGN", "OUTAGE"}
    assert sum(e[0] == "OUTAGE" for e in ev) == math.ceil(90 * _overlays()["outage"]["rate_per_day"])
    assert all(base["start_us"] <= e[4] < e[5] <= base["end_us"] for e in ev)

    stress = dict(base, scenario_id="stress_peak_online_v1", is_stress=True, start_us=us("2026-02-01T00:00:00"))
    ev_s = intensity.scenario_events(42, stress, tz_table, pairs, holidays, countries, ["NZ", "US"], _overlays())
    kinds = [e[0] for e in ev_s]
    assert "STRESS" in kinds and all(stress["start_us"] <= e[4] for e in ev_s)
    outages = lambda evs: [e[2:6] for e in evs if e[0] == "OUTAGE"]
    assert outages(ev_s) != outages(ev)  # scenarios draw from separate streams
    assert intensity.scenario_events(7, base, tz_table, pairs, holidays, countries, ["NZ", "US"], _overlays()) != ev
