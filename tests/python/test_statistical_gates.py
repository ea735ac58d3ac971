"""The statistical evidence gates' measures (6B.R7 delay laws, 6B.R8 amount law shapes) against
samples of the engine's own draws and against scipy, and each able to fail: a law the data do not
follow scores far above the gate."""
import math

import numpy as np
import pytest
from scipy import stats

from python_kernels.behaviour import s2_flows
from python_kernels.behaviour.s2_flows import flow_params
from python_kernels.core import rng
from python_kernels.core.policies import load_policies
from python_kernels.gates.amount_laws import BINS_PER_LN, jsd_bits, law_bins
from python_kernels.gates.delays import BINS_PER_LN as DELAY_BINS
from python_kernels.gates.delays import clipped_lognormal_cdf, ks_from_bins
from test_behaviour import ROOT, flow_inputs

POLICIES = load_policies(ROOT / "policies")
CURRENCIES = ["EUR", "INR", "JPY", "USD"]
FP = flow_params(POLICIES["flows"], CURRENCIES, [0.87, 88.0, 152.0, 1.0], [2, 2, 0, 2], [10, 100, 1000, 20])
LAWS = list(POLICIES["flows"]["amounts"]["laws"])


def _delays(spec, n=40_000, seed=3):
    """Delays in seconds drawn the engine's way (core.rng.lognormal_clipped_us), one stream each."""
    streams = rng.stream_keys(seed, "test.delays", np.arange(n))
    z = rng.normals(streams, 0)
    x = np.clip(spec[0] * np.exp(spec[1] * z), spec[2], spec[3])
    return np.maximum(np.round(x * 1e6), 1) / 1e6


def _bins(seconds):
    b, n = np.unique(np.floor(np.log(seconds) * DELAY_BINS).astype(np.int64), return_counts=True)
    return b, n


@pytest.mark.parametrize("name", ["detection", "dispute", "chargeback_decision", "case_close"])
def test_delay_ks_is_small_on_the_law_and_large_off_it(name):
    d = POLICIES["bank_view"]["delays"][name]
    spec = [d["median_seconds"], d["sigma"], d["min_seconds"], d["max_seconds"]]
    x = _delays(spec)
    ks = ks_from_bins(*_bins(x), spec)
    # the exact statistic (scipy, continuous cdf of the clipped law) bounds the binned one from above
    exact = stats.kstest(x, lambda v: clipped_lognormal_cdf(v, spec)).statistic
    assert ks <= exact + 1e-9 and exact - ks < 0.01
    assert ks < 1.36 / math.sqrt(x.size) + 0.01
    slower = [spec[0] * 1.3] + spec[1:]
    assert ks_from_bins(*_bins(x), slower) > 0.08


def test_clipped_lognormal_cdf_puts_the_clipped_mass_at_the_bounds():
    spec = [100.0, 1.0, 50.0, 400.0]
    lo_mass = 0.5 * (1 + math.erf(math.log(0.5) / math.sqrt(2)))
    assert clipped_lognormal_cdf(np.array([49.9]), spec)[0] == 0.0
    assert clipped_lognormal_cdf(np.array([50.0]), spec)[0] == pytest.approx(lo_mass)
    assert clipped_lognormal_cdf(np.array([100.0]), spec)[0] == pytest.approx(0.5)
    assert clipped_lognormal_cdf(np.array([400.0]), spec)[0] == 1.0


def _sampled(law, currency, n=60_000):
    x = flow_inputs(n=n)
    x["law"][:] = LAWS.index(law)
    x["currency"][:] = CURRENCIES.index(currency)
    f = s2_flows.flows(42, params=FP, **x)
    usd = f["amount_minor"][f["flow_index"] == 0] / FP.unit_minor[CURRENCIES.index(currency)]
    b, n = np.unique(np.floor(np.log(usd) * BINS_PER_LN).astype(np.int64), return_counts=True)
    return dict(zip(b.tolist(), n.tolist()))


@pytest.mark.parametrize("law, currency", [("fuel", "USD"), ("atm", "INR"), ("digital_goods", "EUR"),
                                           ("restaurant", "JPY"), ("electronics", "USD")])
def test_amount_law_bins_match_the_draws(law, currency):
    """The integrated law (points, body, tail, clipping, rounding) against 60,000 draws of it."""
    got = _sampled(law, currency)
    target = law_bins(FP, LAWS.index(law), CURRENCIES.index(currency))
    assert sum(target.values()) == pytest.approx(1.0)
    assert jsd_bits(got, target) < 0.01
    # another law's shape is far off
    other = law_bins(FP, LAWS.index("taxi" if law != "taxi" else "fuel"), CURRENCIES.index(currency))
    assert jsd_bits(got, other) > 0.1


def test_jsd_bits_bounds():
    assert jsd_bits({1: 3, 2: 1}, {1: 6, 2: 2}) == pytest.approx(0.0, abs=1e-12)
    assert jsd_bits({1: 1}, {2: 1}) == pytest.approx(1.0)
    p, q = {1: 0.5, 2: 0.5}, {1: 0.9, 2: 0.1}
    m = {k: (p[k] + q[k]) / 2 for k in p}
    naive = 0.5 * sum(p[k] * math.log2(p[k] / m[k]) for k in p) + 0.5 * sum(q[k] * math.log2(q[k] / m[k]) for k in q)
    assert jsd_bits(p, q) == pytest.approx(naive)
