"""The keyed generator: SQL and numba twins agree bit for bit, samplers follow their laws,
draws do not depend on threads or chunking, and samplers stay inside their counter windows.

Every sample here comes from fixed keys, so each statistical check is deterministic: it
passes or fails the same way on every run. Thresholds are set so the real samplers pass
with margin and a deliberately broken sampler fails (see the `*_detects_*` tests).
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import jinja2
import numba
import numpy as np
import pyarrow as pa
import pytest
from dbt_common.utils.encoding import md5 as dbt_local_md5
from numba import njit, prange
from scipy import stats

from python_kernels.core import ids, rng

ROOT = Path(__file__).resolve().parents[2]
RNG_SQL = (ROOT / "macros" / "rng.sql").read_text()
U64_MAX = 2**64 - 1

SEED = 20260301
N_DIST = 200_000       # draws per distribution check
ALPHA = 1e-4           # a correct sampler passes every p-value test at this level
DOMAINS = ("world_merchants.n_sites", "arrivals_5B.counts", "x")
SEEDS = (0, 1, 42, 2**63 - 1)
COUNTERS = (0, 1, 2, 63, 2**32 + 5, 2**62)


# ---- numba helpers: vectorise the scalar samplers ------------------------------------------

@njit(cache=True)
def _lognormals(streams, ctr, sigma):
    out = np.empty(streams.shape[0])
    for i in range(streams.shape[0]):
        out[i] = rng.lognormal_mean_one(streams[i], ctr, sigma)
    return out


@njit(cache=True)
def _exponentials(streams, ctr, rate):
    out = np.empty(streams.shape[0])
    for i in range(streams.shape[0]):
        out[i] = rng.exponential(streams[i], ctr, rate)
    return out


@njit(cache=True)
def _combines(a, b):
    out = np.empty(a.shape[0], np.uint64)
    for i in range(a.shape[0]):
        out[i] = rng.combine(a[i], b[i])
    return out


@njit(cache=True)
def _gammas(streams, ctr, shape):
    out = np.empty(streams.shape[0])
    for i in range(streams.shape[0]):
        out[i] = rng.gamma(streams[i], ctr, shape)
    return out


@njit(cache=True)
def _poissons(streams, ctr, lam):
    out = np.empty(streams.shape[0], np.int64)
    for i in range(streams.shape[0]):
        out[i] = rng.poisson(streams[i], ctr, lam)
    return out


@njit(cache=True)
def _nb2s(streams, ctr, mean, kappa):
    out = np.empty(streams.shape[0], np.int64)
    for i in range(streams.shape[0]):
        out[i] = rng.nb2(streams[i], ctr, mean, kappa)
    return out


@njit(cache=True)
def _categoricals(streams, ctr, cum):
    out = np.empty(streams.shape[0], np.int64)
    for i in range(streams.shape[0]):
        out[i] = rng.categorical(streams[i], ctr, cum)
    return out


@njit(cache=True)
def _alias_draws(streams, ctr, prob, alias, offset, n):
    out = np.empty(streams.shape[0], np.int64)
    for i in range(streams.shape[0]):
        out[i] = rng.alias_draw(streams[i], ctr, prob, alias, offset, n)
    return out


@njit(parallel=True, cache=True)
def _parallel_draws(streams, out_u, out_n, out_g, out_p):
    for i in prange(streams.shape[0]):
        out_u[i] = rng.uniform(streams[i], np.uint64(0))
        out_n[i] = rng.normal(streams[i], np.uint64(1))
        out_g[i] = rng.gamma(streams[i], np.uint64(3), 2.5)
        out_p[i] = rng.poisson(streams[i], np.uint64(3 + rng.GAMMA_WINDOW), 40.0)


def _streams(name: str, n: int = N_DIST) -> np.ndarray:
    return rng.stream_keys(SEED, f"tests.{name}", np.arange(n))


def _test_keys() -> np.ndarray:
    """10,004 keys: small ids, keys spread over all 64 bits, and the edges of UBIGINT."""
    spread = rng.raw_bits(np.arange(5_000, dtype=np.uint64), 0)
    edges = np.array([0, 2**63 - 1, 2**63, U64_MAX], dtype=np.uint64)
    return np.concatenate([np.arange(5_000, dtype=np.uint64), spread, edges])


# ---- naive oracles -------------------------------------------------------------------------

def naive_categorical(u: float, weights) -> int:
    """First index whose running total exceeds u * total (zero weights are never chosen)."""
    target = u * math.fsum(weights)
    running = 0.0
    for i, w in enumerate(weights):
        running += w
        if target < running:
            return i
    return len(weights) - 1


def alias_implied_probs(prob, alias) -> np.ndarray:
    """Exact law of an alias table: column i keeps prob[i] of its 1/n mass, gives the rest to alias[i]."""
    n = len(prob)
    p = [0.0] * n
    for i in range(n):
        p[i] += prob[i] / n
        p[alias[i]] += (1.0 - prob[i]) / n
    return np.array(p)


# ---- statistical checks (each returns a p-value) --------------------------------------------

def ks_p(x, cdf) -> float:
    return stats.kstest(x, cdf).pvalue


def chi2_discrete_p(x, cdf, ppf, bins: int = 60) -> float:
    """Chi-square of integer draws against a discrete law, on quantile bins (k_{j-1}, k_j]."""
    edges = np.unique(ppf(np.arange(1, bins) / bins)).astype(np.float64)
    edges = np.append(edges, np.inf)
    observed = np.bincount(np.searchsorted(edges, x, side="left"), minlength=len(edges))
    cum = np.append(cdf(edges[:-1]), 1.0)
    expected = np.diff(np.concatenate([[0.0], cum])) * len(x)
    assert expected.min() > 5, "bins too thin for a chi-square"
    return stats.chisquare(observed, expected).pvalue


def chi2_counts_p(draws, weights) -> float:
    w = np.asarray(weights, float)
    counts = np.bincount(draws, minlength=len(w))
    assert counts[w == 0].sum() == 0, "a zero-weight outcome was drawn"
    keep = w > 0
    return stats.chisquare(counts[keep], w[keep] / w.sum() * len(draws)).pvalue


def poisson_ok(x, lam) -> bool:
    """Mean within 5 standard errors and the whole law by chi-square."""
    law = stats.poisson(lam)
    return abs(x.mean() - lam) < 5 * math.sqrt(lam / len(x)) and chi2_discrete_p(x, law.cdf, law.ppf) > ALPHA


def nb2_ok(x, mean, kappa) -> bool:
    """Mean within 5 standard errors, variance mean + mean^2/kappa within 5%, law by chi-square."""
    var = mean + mean * mean / kappa
    law = stats.nbinom(kappa, kappa / (kappa + mean))
    return (abs(x.mean() - mean) < 5 * math.sqrt(var / len(x))
            and abs(x.var() / var - 1.0) < 0.05
            and chi2_discrete_p(x, law.cdf, law.ppf) > ALPHA)


def lognormal_ok(x, sigma) -> bool:
    """Mean one within 5 standard errors and log-draws N(-sigma^2/2, sigma^2) by KS."""
    se = math.sqrt(math.expm1(sigma * sigma) / len(x))
    logs = np.log(x)
    return (abs(x.mean() - 1.0) < 5 * se
            and abs(logs.std() / sigma - 1.0) < 0.01
            and ks_p(logs, stats.norm(-0.5 * sigma * sigma, sigma).cdf) > ALPHA)


# ---- SQL twin ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sql():
    body = re.search(r"\{% macro create_rng_macros\(\) %\}(.*?)\{% endmacro %\}", RNG_SQL, re.S).group(1)
    con = duckdb.connect()
    con.execute(body)
    yield con
    con.close()


def _sql_column(con, expr: str, **columns) -> np.ndarray:
    """Evaluate `expr` per row of the given uint64/float columns, in input order."""
    n = len(next(iter(columns.values())))
    t = pa.table({"i": pa.array(np.arange(n)), **{k: pa.array(v) for k, v in columns.items()}})
    con.register("t", t)
    try:
        return con.execute(f"select {expr} as v from t order by i").fetchnumpy()["v"]
    finally:
        con.unregister("t")


def _same_bits(a, b) -> bool:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


def test_splitmix64_known_value(sql):
    assert int(rng.splitmix64(np.uint64(0))) == 16294208416658607535
    assert sql.execute("select splitmix64(0)").fetchall()[0][0] == 16294208416658607535


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("domain", DOMAINS)
def test_stream_keys_match_sql(sql, seed, domain):
    keys = _test_keys()
    expected = rng.stream_keys(seed, domain, keys)
    got = _sql_column(sql, f"rng_stream({seed}::UBIGINT, {rng.domain_id(domain)}::UBIGINT, k)", k=keys)
    assert got.dtype == np.uint64
    assert np.array_equal(got, expected)


def _draw_streams() -> np.ndarray:
    """Streams for the draw comparisons, including values where stream + ctr wraps past 2**64."""
    near_wrap = np.array([U64_MAX, U64_MAX - 1, U64_MAX - 63, 2**63], dtype=np.uint64)
    return np.concatenate([rng.stream_keys(7, "tests.sql_draws", np.arange(10_000)), near_wrap])


@pytest.mark.parametrize("ctr", COUNTERS)
def test_bits_uniform_normal_match_sql(sql, ctr):
    s = _draw_streams()
    assert np.array_equal(_sql_column(sql, f"rng_bits(s, {ctr}::UBIGINT)", s=s), rng.raw_bits(s, ctr))
    assert _same_bits(_sql_column(sql, f"rng_u01(s, {ctr}::UBIGINT)", s=s), rng.uniforms(s, ctr))
    assert _same_bits(_sql_column(sql, f"rng_normal(s, {ctr}::UBIGINT)", s=s), rng.normals(s, ctr))


@pytest.mark.parametrize("ctr", (0, 5, 2**40))
@pytest.mark.parametrize("param", (0.1, 0.7, 1.5, 3.0))
def test_lognormal_exponential_match_sql(sql, ctr, param):
    s = _draw_streams()
    p = np.full(len(s), param)
    c = np.uint64(ctr)
    assert _same_bits(_sql_column(sql, f"rng_lognormal_mean_one(s, {ctr}::UBIGINT, p)", s=s, p=p),
                      _lognormals(s, c, param))
    assert _same_bits(_sql_column(sql, f"rng_exponential(s, {ctr}::UBIGINT, p)", s=s, p=p),
                      _exponentials(s, c, param))


@pytest.mark.parametrize("param", (0.1, 0.7, 1.5))
def test_lognormal_matches_sql_with_inlined_literal(sql, param):
    """`pval()` inlines policy numbers as literals such as 0.7, which DuckDB types as DECIMAL;
    the macro must still compute in DOUBLE like numba does."""
    s = _draw_streams()
    assert _same_bits(_sql_column(sql, f"rng_lognormal_mean_one(s, 3, {param!r})", s=s),
                      _lognormals(s, np.uint64(3), param))
    assert _same_bits(_sql_column(sql, f"rng_exponential(s, 3, {param!r})", s=s),
                      _exponentials(s, np.uint64(3), param))


def test_combine_matches_sql(sql):
    a = _test_keys()
    b = rng.raw_bits(a, 11)
    expected = _combines(a, b)
    assert np.array_equal(_sql_column(sql, "rng_combine(a, b)", a=a, b=b), expected)
    assert not np.array_equal(expected, _combines(b, a)), "combine must be order-sensitive"


def _render_macro(name: str, *args, seed: int = 42) -> str:
    """Render a dbt macro of rng.sql with dbt's own local_md5 and a fixed var('seed')."""
    env = jinja2.Environment()
    env.globals.update(local_md5=dbt_local_md5, var={"seed": seed}.__getitem__)
    return str(getattr(env.from_string(RNG_SQL).module, name)(*args)).strip()


@pytest.mark.parametrize("domain", DOMAINS + ("merchant_class_profile_5A.shape_noise", "é.unicode"))
def test_rng_domain_macro_matches_domain_id(domain):
    assert _render_macro("rng_domain", domain) == f"{rng.domain_id(domain)}::UBIGINT"


def test_stream_macro_matches_stream_keys(sql):
    keys = _test_keys()
    expr = _render_macro("stream", "arrivals_5B.counts", "k", seed=42)
    assert np.array_equal(_sql_column(sql, expr, k=keys), rng.stream_keys(42, "arrivals_5B.counts", keys))


# ---- samplers follow their laws --------------------------------------------------------------

def test_uniform_law():
    u = rng.uniforms(_streams("uniform"), 0)
    assert 0.0 < u.min() and u.max() < 1.0
    assert ks_p(u, stats.uniform.cdf) > ALPHA
    # the next counter is an independent uniform, not a shifted copy
    v = rng.uniforms(_streams("uniform"), 1)
    assert abs(stats.pearsonr(u, v).statistic) < 5 / math.sqrt(N_DIST)


def test_normal_law():
    x = rng.normals(_streams("normal"), 0)
    assert ks_p(x, stats.norm.cdf) > ALPHA
    assert abs(x.std() - 1.0) < 0.01


@pytest.mark.parametrize("sigma", (0.3, 1.0, 1.5))
def test_lognormal_mean_one_law(sigma):
    assert lognormal_ok(_lognormals(_streams("lognormal"), np.uint64(0), sigma), sigma)


@pytest.mark.parametrize("rate", (0.2, 1.0, 7.5))
def test_exponential_law(rate):
    x = _exponentials(_streams("exponential"), np.uint64(0), rate)
    assert ks_p(x, stats.expon(scale=1.0 / rate).cdf) > ALPHA


@pytest.mark.parametrize("shape", (0.3, 1.0, 2.5, 30.0))
def test_gamma_law(shape):
    x = _gammas(_streams("gamma"), np.uint64(0), shape)
    assert x.min() > 0.0
    assert ks_p(x, stats.gamma(shape).cdf) > ALPHA


@pytest.mark.parametrize("lam", (0.05, 3.0, 29.9, 30.1, 250.0, 5000.0))
def test_poisson_law(lam):
    assert poisson_ok(_poissons(_streams("poisson"), np.uint64(0), lam), lam)


@pytest.mark.parametrize("mean,kappa", ((0.5, 0.3), (2.0, 0.5), (10.0, 3.0), (50.0, 30.0), (300.0, 1.5)))
def test_nb2_law(mean, kappa):
    assert nb2_ok(_nb2s(_streams("nb2"), np.uint64(0), mean, kappa), mean, kappa)


def test_zero_and_degenerate_parameters():
    s = _streams("degenerate", 100)
    assert np.all(_poissons(s, np.uint64(0), 0.0) == 0)
    assert np.all(_nb2s(s, np.uint64(0), 0.0, 2.0) == 0)
    assert np.all(_gammas(s, np.uint64(0), 0.0) == 0.0)


CAT_WEIGHTS = (0.5, 0.0, 3.0, 1.25, 0.01, 7.0, 0.0, 2.24)


def test_categorical_matches_naive_oracle_and_weights():
    s = _streams("categorical")
    draws = _categoricals(s, np.uint64(4), np.cumsum(CAT_WEIGHTS))
    u = rng.uniforms(s, 4)
    assert all(draws[i] == naive_categorical(u[i], CAT_WEIGHTS) for i in range(20_000))
    assert chi2_counts_p(draws, CAT_WEIGHTS) > ALPHA


def _alias_weight_cases():
    skewed = rng.uniforms(rng.stream_keys(3, "tests.alias_weights", np.arange(1_000)), 0) ** 8
    return {
        "single": [2.5],
        "uniform": [1.0] * 7,
        "one_hot": [0.0, 0.0, 4.0, 0.0],
        "with_zeros": list(CAT_WEIGHTS),
        "extreme": [1e-9, 1e6, 3.0, 1e-300, 0.5],
        "ties_at_mean": [1.0, 1.0, 2.0, 0.0],
        "random_1000": list(skewed),
    }


@pytest.mark.parametrize("case", list(_alias_weight_cases()))
def test_build_alias_implies_exact_law(case):
    w = np.array(_alias_weight_cases()[case])
    prob, alias = rng.build_alias(w)
    assert np.all((prob >= 0) & (prob <= 1)) and np.all((alias >= 0) & (alias < len(w)))
    assert np.allclose(alias_implied_probs(prob, alias), w / w.sum(), rtol=0, atol=1e-12)
    # a zero-weight outcome must be unreachable, not just improbable
    for i in np.flatnonzero(w == 0):
        assert prob[i] == 0.0 and i not in alias


def test_alias_draws_follow_weights_within_a_packed_table():
    """Tables of several entities are packed in one array; a draw reads only its own slice."""
    w = np.array(CAT_WEIGHTS)
    other = np.array([5.0, 1.0, 1.0])
    prob0, alias0 = rng.build_alias(other)
    prob1, alias1 = rng.build_alias(w)
    prob = np.concatenate([prob0, prob1])
    alias = np.concatenate([alias0, alias1])
    draws = _alias_draws(_streams("alias"), np.uint64(0), prob, alias, len(other), len(w))
    assert draws.min() >= 0 and draws.max() < len(w)
    assert chi2_counts_p(draws, w) > ALPHA


@pytest.mark.parametrize("bad", ([], [[1.0, 2.0]], [1.0, -0.1], [0.0, 0.0], [1.0, np.nan], [np.inf, 1.0]))
def test_build_alias_rejects_bad_weights(bad):
    with pytest.raises(ValueError):
        rng.build_alias(np.array(bad, dtype=float))


# ---- the checks are able to fail -------------------------------------------------------------

def test_checks_detect_broken_samplers():
    """Each law check above rejects a sampler with a small, typical bug; otherwise the checks
    would prove nothing."""
    s = _streams("broken")
    normal = rng.normals(s, 0)
    assert ks_p(normal * 1.05, stats.norm.cdf) < ALPHA                        # variance 10% high
    assert ks_p(rng.uniforms(s, 0) ** 1.03, stats.uniform.cdf) < ALPHA       # skewed uniform
    assert not lognormal_ok(np.exp(normal), 1.0)                              # mean not one
    assert not lognormal_ok(np.exp(1.05 * normal - 0.5 * 1.05**2), 1.0)      # log-sd 5% high
    assert ks_p(_exponentials(s, np.uint64(0), 1.0), stats.expon(scale=1 / 1.04).cdf) < ALPHA
    assert ks_p(_gammas(s, np.uint64(0), 0.3) * 1.05, stats.gamma(0.3).cdf) < ALPHA
    assert ks_p(_gammas(s, np.uint64(0), 31.0), stats.gamma(30.0).cdf) < ALPHA
    assert not poisson_ok(_poissons(s, np.uint64(0), 29.9 * 1.02), 29.9)
    assert not poisson_ok(_poissons(s, np.uint64(0), 5000.0) + 1, 5000.0)    # off by one
    assert not nb2_ok(_nb2s(s, np.uint64(0), 10.0, 3.0 * 1.3), 10.0, 3.0)    # variance 23% low
    cat = _categoricals(s, np.uint64(0), np.cumsum(CAT_WEIGHTS))
    assert chi2_counts_p(cat, np.array(CAT_WEIGHTS) * [1, 1, 1, 1, 1, 1.03, 1, 1]) < ALPHA
    prob, alias = rng.build_alias(np.array(CAT_WEIGHTS))
    alias_bad = alias.copy()
    alias_bad[np.argmin(prob)] = (alias[np.argmin(prob)] + 1) % len(alias)
    assert not np.allclose(alias_implied_probs(prob, alias_bad), np.array(CAT_WEIGHTS) / sum(CAT_WEIGHTS),
                           rtol=0, atol=1e-12)


# ---- partition, order and thread invariance ----------------------------------------------------

def test_draws_do_not_depend_on_chunking_or_order():
    keys = np.arange(50_000, dtype=np.int64) * 7 + 3
    perm = np.argsort(rng.raw_bits(keys, 99))
    whole = rng.stream_keys(SEED, "tests.chunks", keys)
    assert np.array_equal(rng.stream_keys(SEED, "tests.chunks", keys[perm]), whole[perm])
    chunks = np.array_split(np.arange(len(keys)), 7)
    assert np.array_equal(np.concatenate([rng.stream_keys(SEED, "tests.chunks", keys[c]) for c in chunks]), whole)
    for draw in (lambda s: rng.normals(s, 2), lambda s: _gammas(s, np.uint64(2), 0.7),
                 lambda s: _nb2s(s, np.uint64(2), 20.0, 1.5)):
        full = draw(whole)
        assert np.array_equal(np.concatenate([draw(whole[c]) for c in chunks]), full)
        assert np.array_equal(draw(whole[perm]), full[perm])
        assert np.array_equal(draw(whole[:1]), full[:1])


def test_numba_parallel_draws_do_not_depend_on_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here")
    s = _streams("threads", 100_000)
    results = []
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            out = (np.empty(len(s)), np.empty(len(s)), np.empty(len(s)), np.empty(len(s), np.int64))
            _parallel_draws(s, *out)
            results.append(out)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(*results):
        assert np.array_equal(a, b)
    assert _same_bits(results[0][1], rng.normals(s, 1))


def test_sql_draws_do_not_depend_on_threads(sql):
    n = 1_000_000
    dom = rng.domain_id("tests.sql_threads")
    # a stored table is scanned in parallel row groups, unlike a single range() source
    sql.execute(f"create or replace temp table thread_keys as select range as k from range({n})")
    query = f"""
        with s as (select k, rng_stream(42::UBIGINT, {dom}::UBIGINT, k) as s from thread_keys)
        select k, s, rng_bits(s, 0) as b, rng_u01(s, 1) as u, rng_normal(s, 2) as z from s order by k
    """
    results = []
    for threads in (1, 2):
        sql.execute(f"set threads={threads}")
        results.append(sql.execute(query).fetchnumpy())
    sql.execute("reset threads")
    one, two = results
    for col in one:
        assert np.array_equal(one[col].view(np.uint8), two[col].view(np.uint8)), col
    streams = rng.stream_keys(42, "tests.sql_threads", np.arange(n))
    assert np.array_equal(one["s"], streams)
    assert _same_bits(one["z"], rng.normals(streams, 2))


# ---- counter windows ---------------------------------------------------------------------------

_PY = {name: getattr(rng, name).py_func for name in ("normal", "gamma", "poisson", "nb2")}


class _CounterSpy:
    """Runs a sampler's pure-Python body with uniform() recording every counter it reads."""

    def __init__(self, monkeypatch, fake_uniform=None):
        self.read = []
        compiled_uniform = rng.uniform

        def uniform(stream, ctr):
            self.read.append(int(ctr))
            return fake_uniform(int(ctr)) if fake_uniform else compiled_uniform(stream, ctr)

        monkeypatch.setattr(rng, "uniform", uniform)
        for name in ("normal", "gamma", "poisson"):
            monkeypatch.setattr(rng, name, _PY[name])

    def offsets(self, base):
        out = [c - base for c in self.read]
        self.read.clear()
        return out


BASE = 1_000


@pytest.mark.parametrize("shape", (0.3, 1.0, 2.5, 30.0))
def test_gamma_stays_in_window(monkeypatch, shape):
    s = _streams("gamma_window", 2_000)
    expected = _gammas(s, np.uint64(BASE), shape)
    spy = _CounterSpy(monkeypatch)
    for i in range(len(s)):
        assert _PY["gamma"](s[i], np.uint64(BASE), shape) == expected[i]
        used = spy.offsets(BASE)
        assert 0 <= min(used) and max(used) < rng.GAMMA_WINDOW
        if shape < 1:  # the boost uniform has the last counter, which rejection never reads
            assert used[0] == rng.GAMMA_WINDOW - 1 and rng.GAMMA_WINDOW - 1 not in used[1:]


@pytest.mark.parametrize("lam", (3.0, 30.0, 250.0, 5000.0))
def test_poisson_stays_in_window(monkeypatch, lam):
    s = _streams("poisson_window", 2_000)
    expected = _poissons(s, np.uint64(BASE), lam)
    spy = _CounterSpy(monkeypatch)
    for i in range(len(s)):
        assert _PY["poisson"](s[i], np.uint64(BASE), lam) == expected[i]
        used = spy.offsets(BASE)
        assert 0 <= min(used) and max(used) < rng.POISSON_WINDOW


def test_nb2_stays_in_window(monkeypatch):
    s = _streams("nb2_window", 2_000)
    expected = _nb2s(s, np.uint64(BASE), 80.0, 0.4)
    spy = _CounterSpy(monkeypatch)
    for i in range(len(s)):
        assert _PY["nb2"](s[i], np.uint64(BASE), 80.0, 0.4) == expected[i]
        used = spy.offsets(BASE)
        assert 0 <= min(used) and max(used) < rng.NB2_WINDOW


def test_exhausted_windows_fall_back_inside_the_window(monkeypatch):
    """Adversarial uniforms that reject every attempt: the sampler still returns a finite value
    without reading past its window."""
    # gamma: u1 tiny and u2 = 1/2 give a very negative normal, so v <= 0 on every attempt
    spy = _CounterSpy(monkeypatch, fake_uniform=lambda c: (1e-300, 0.5, 0.9)[(c - BASE) % 3])
    assert _PY["gamma"](np.uint64(1), np.uint64(BASE), 2.5) == pytest.approx(2.5 - 1.0 / 3.0)
    used = spy.offsets(BASE)
    assert len(used) >= 30 and max(used) < rng.GAMMA_WINDOW - 1
    monkeypatch.undo()
    # Poisson (PTRS): us < 0.013 with v > us is rejected outright
    spy = _CounterSpy(monkeypatch, fake_uniform=lambda c: 0.001 if (c - BASE) % 2 == 0 else 0.5)
    assert _PY["poisson"](np.uint64(1), np.uint64(BASE), 250.0) == 250
    used = spy.offsets(BASE)
    assert len(used) == rng.POISSON_WINDOW and max(used) == rng.POISSON_WINDOW - 1


def test_nb2_depends_on_its_window_only():
    """Shifting the counter base by one window gives fresh draws; equal bases give equal draws."""
    s = _streams("nb2_shift", 20_000)
    a = _nb2s(s, np.uint64(0), 5.0, 2.0)
    assert np.array_equal(a, _nb2s(s, np.uint64(0), 5.0, 2.0))
    b = _nb2s(s, np.uint64(rng.NB2_WINDOW), 5.0, 2.0)
    assert abs(stats.pearsonr(a, b).statistic) < 5 / math.sqrt(len(s))


# ---- input validation --------------------------------------------------------------------------

@pytest.mark.parametrize("seed", (-1, 2**63, 1.5, True, "42", None, np.float64(3.0)))
def test_check_seed_rejects(seed):
    with pytest.raises(ValueError, match="seed"):
        rng.check_seed(seed)


def test_check_seed_accepts_integers():
    assert rng.check_seed(0) == 0
    assert rng.check_seed(np.int64(42)) == 42
    assert rng.check_seed(2**63 - 1) == 2**63 - 1


@pytest.mark.parametrize("name", ("", None, 5, b"bytes"))
def test_domain_id_rejects(name):
    with pytest.raises(ValueError, match="domain"):
        rng.domain_id(name)


def test_domains_and_seeds_separate_streams():
    keys = np.arange(1_000)
    a = rng.stream_keys(1, "world_sites.count", keys)
    assert len(np.intersect1d(a, rng.stream_keys(1, "world_sites.place", keys))) == 0
    assert len(np.intersect1d(a, rng.stream_keys(2, "world_sites.count", keys))) == 0
    assert rng.domain_id("a.b") != rng.domain_id("a.c")


def test_stream_keys_reject_non_integer_keys():
    with pytest.raises(ValueError, match="integers"):
        rng.stream_keys(1, "tests.keys", np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="seed"):
        rng.stream_keys(-5, "tests.keys", np.arange(3))


# ---- opaque ids ------------------------------------------------------------------------------

def test_opaque_ranks_are_a_keyed_permutation():
    r = ids.opaque_ranks(42, "tests.ids", 5000)
    assert np.array_equal(np.sort(r), np.arange(5000))
    assert np.array_equal(r, ids.opaque_ranks(42, "tests.ids", 5000))
    assert not np.array_equal(r, ids.opaque_ranks(43, "tests.ids", 5000))
    assert not np.array_equal(r, ids.opaque_ranks(42, "tests.other", 5000))
    # the rank carries nothing of the internal order: no correlation with the key
    assert abs(np.corrcoef(r, np.arange(5000))[0, 1]) < 0.05
    assert ids.opaque_ranks(42, "tests.ids", 0).size == 0
    with pytest.raises(ValueError, match="n must be >= 0"):
        ids.opaque_ranks(42, "tests.ids", -1)


def test_opaque_ranks_match_the_sql_merchant_ids(sql):
    # int_world_merchant_draws ranks merchant indexes the same way in SQL
    n = 3000
    got = sql.execute(f"""
        select row_number() over (order by rng_bits(rng_stream(42::UBIGINT, {rng.domain_id('tests.ids')}::UBIGINT,
                                                              i::UBIGINT), 0), i) - 1 as rank
        from range({n}) as t(i) order by i""").fetchnumpy()["rank"]
    assert np.array_equal(got, ids.opaque_ranks(42, "tests.ids", n))


def test_opaque_event_ids_are_a_keyed_bijection_of_60_bit_keys():
    keys = np.concatenate([np.arange(200_000), (3 << 52) + (7 << 32) + np.arange(200_000), [(1 << 60) - 1]])
    a = ids.opaque_event_ids(42, "tests.event_ids", keys)
    assert np.unique(a).size == keys.size and a.min() >= 0 and a.max() < 1 << ids.ID_BITS
    assert np.array_equal(a, ids.opaque_event_ids(42, "tests.event_ids", keys))
    assert not np.array_equal(a, ids.opaque_event_ids(7, "tests.event_ids", keys))
    # neighbouring structured keys land anywhere: the top bits of consecutive keys are spread evenly
    top = a[:200_000] >> (ids.ID_BITS - 4)
    assert np.bincount(top, minlength=16).min() > 200_000 / 16 * 0.95
    with pytest.raises(ValueError, match="2\\*\\*60"):
        ids.opaque_event_ids(42, "tests.event_ids", [1 << 60])


@pytest.mark.parametrize("n", [1, 2, 5, 1000, 65_536, 300_001])
def test_dense_event_ids_permute_the_smallest_even_bit_domain(n):
    bits = ids.event_id_bits(n)
    assert bits % 2 == 0 and (1 << bits) >= n and (bits == 2 or (1 << (bits - 2)) < n)
    a = ids.opaque_event_ids(42, "tests.event_ids", np.arange(n), bits)
    assert np.unique(a).size == n and a.min() >= 0 and a.max() < 4 * max(n, 1)
    if n >= 1000:  # a permutation of the whole domain, not an order-keeping map
        full = ids.opaque_event_ids(42, "tests.event_ids", np.arange(1 << bits), bits)
        assert np.array_equal(np.sort(full), np.arange(1 << bits))
        assert abs(np.corrcoef(a, np.arange(n))[0, 1]) < 4 / np.sqrt(n)
    with pytest.raises(ValueError, match="bits must be even"):
        ids.opaque_event_ids(42, "tests.event_ids", [0], 7)
