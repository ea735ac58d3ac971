"""Keyed counter-based randomness: the one generator of the engine.

Every draw is a pure function of (seed, domain, entity key, counter):

    stream  = splitmix64(splitmix64(seed ^ domain) ^ key)      # once per entity
    bits    = splitmix64(stream + counter)                       # once per draw
    u01     = ((bits >> 11) + 0.5) * 2**-53                      # in (0, 1), never 0 or 1

`domain` is the first 64 bits of md5(domain name) (see `domain_id`), so streams of
different models, scenarios or purposes never meet by accident. The SQL twin lives in
`macros/rng.sql` and is tested to agree bit for bit. Because a draw depends only on its
key and counter, results do not depend on thread count, chunking or row order.

Samplers built on top (normal, lognormal, exponential, gamma, Poisson, NB2, categorical,
alias) take a stream and a counter base and consume a documented number of counters, so
callers can lay out counters without overlap.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
from numba import njit

U64 = np.uint64
_GOLDEN = U64(0x9E3779B97F4A7C15)
_M1 = U64(0xBF58476D1CE4E5B9)
_M2 = U64(0x94D049BB133111EB)
_TWO_M53 = 1.0 / 9007199254740992.0

# Counter budget of each sampler: how many consecutive counters one draw may use.
# Rejection samplers get a fixed window; in the (astronomically rare) case the window is
# exhausted they fall back to a deterministic value, so a draw never reads past its window.
GAMMA_WINDOW = 64
POISSON_WINDOW = 64
NB2_WINDOW = GAMMA_WINDOW + POISSON_WINDOW


def domain_id(name: str) -> int:
    """64-bit domain tag of a stream name (md5 prefix; mirrored by the SQL macro rng_domain)."""
    if not isinstance(name, str) or not name:
        raise ValueError("domain name must be a non-empty string")
    return int(hashlib.md5(name.encode("utf-8")).hexdigest()[:16], 16)


def check_seed(seed) -> int:
    """Validate a run seed: an integer in [0, 2**63)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    seed = int(seed)
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an integer in [0, 2**63), got {seed}")
    return seed


@njit(inline="always", cache=True)
def splitmix64(x):
    z = x + _GOLDEN
    z = (z ^ (z >> U64(30))) * _M1
    z = (z ^ (z >> U64(27))) * _M2
    return z ^ (z >> U64(31))


@njit(inline="always", cache=True)
def stream_key(seed, domain, key):
    return splitmix64(splitmix64(U64(seed) ^ U64(domain)) ^ U64(key))


@njit(inline="always", cache=True)
def combine(a, b):
    """Key of a composite entity (a, b); order matters."""
    return splitmix64(splitmix64(U64(a)) ^ U64(b))


@njit(inline="always", cache=True)
def bits(stream, ctr):
    return splitmix64(U64(stream) + U64(ctr))


@njit(inline="always", cache=True)
def uniform(stream, ctr):
    return (float(bits(stream, ctr) >> U64(11)) + 0.5) * _TWO_M53


@njit(inline="always", cache=True)
def normal(stream, ctr):
    """Standard normal by Box-Muller; uses counters ctr and ctr+1."""
    u1 = uniform(stream, ctr)
    u2 = uniform(stream, ctr + U64(1))
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(inline="always", cache=True)
def lognormal_mean_one(stream, ctr, sigma):
    """exp(N(-sigma^2/2, sigma^2)): mean exactly one; uses 2 counters."""
    return math.exp(sigma * normal(stream, ctr) - 0.5 * sigma * sigma)


@njit(inline="always", cache=True)
def exponential(stream, ctr, rate):
    return -math.log(uniform(stream, ctr)) / rate


@njit(cache=True)
def gamma(stream, ctr, shape):
    """Gamma(shape, 1) by Marsaglia-Tsang; uses at most GAMMA_WINDOW counters from ctr.

    shape < 1 uses the boost Gamma(shape+1) * U^(1/shape); the boost uniform is the last
    counter of the window so it never collides with the rejection draws.
    """
    if shape <= 0.0:
        return 0.0
    boost = 1.0
    a = shape
    if a < 1.0:
        boost = uniform(stream, ctr + U64(GAMMA_WINDOW - 1)) ** (1.0 / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    c_i = U64(0)
    while c_i + U64(3) < U64(GAMMA_WINDOW - 1):
        x = normal(stream, ctr + c_i)
        u = uniform(stream, ctr + c_i + U64(2))
        c_i += U64(3)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        if u < 1.0 - 0.0331 * x * x * x * x or math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v * boost
    return d * boost  # window exhausted (p < 1e-40): the mode keeps the draw finite


@njit(cache=True)
def poisson(stream, ctr, lam):
    """Exact Poisson(lam); uses at most POISSON_WINDOW counters from ctr.

    lam < 30: inversion with one uniform. Otherwise the PTRS transformed-rejection method
    (Hormann 1993), two uniforms per attempt.
    """
    if lam <= 0.0:
        return 0
    if lam < 30.0:
        u = uniform(stream, ctr)
        k = 0
        p = math.exp(-lam)
        cdf = p
        while u > cdf:
            k += 1
            p *= lam / k
            cdf += p
            if p < 1e-300 and cdf < u:
                break
        return k
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    c_i = U64(0)
    while c_i + U64(1) < U64(POISSON_WINDOW):
        u = uniform(stream, ctr + c_i) - 0.5
        v = uniform(stream, ctr + c_i + U64(1))
        c_i += U64(2)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return int(k)
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b) <= (
            -lam + k * loglam - math.lgamma(k + 1.0)
        ):
            return int(k)
    return int(math.floor(lam))


@njit(cache=True)
def nb2(stream, ctr, mean, kappa):
    """Negative binomial (NB2): Var = mean + mean^2/kappa, as an exact Poisson-Gamma mixture.

    Uses counters [ctr, ctr + NB2_WINDOW): gamma first, Poisson after it.
    """
    if mean <= 0.0:
        return 0
    g = gamma(stream, ctr, kappa) / kappa
    return poisson(stream, ctr + U64(GAMMA_WINDOW), mean * g)


@njit(inline="always", cache=True)
def pick_cum(u, cum, lo, hi):
    """Index in [lo, hi) for the uniform `u`, by inversion on a slice of cumulative weights
    (cum[hi-1] is the running total at the slice's end; the slice may start mid-array)."""
    base = cum[lo - 1] if lo > 0 else 0.0
    target = base + u * (cum[hi - 1] - base)
    a, b = lo, hi - 1
    while a < b:
        m = (a + b) // 2
        if cum[m] > target:
            b = m
        else:
            a = m + 1
    return a


@njit(inline="always", cache=True)
def categorical(stream, ctr, cum_weights):
    """Index i with probability w_i, by inversion on cumulative weights (last = total)."""
    return pick_cum(uniform(stream, ctr), cum_weights, 0, cum_weights.shape[0])


@njit(inline="always", cache=True)
def lognormal_clipped_us(stream, ctr, spec):
    """A delay in whole microseconds (at least 1) from spec = (median, sigma, min, max) in
    seconds: median * exp(sigma * z), clipped to [min, max]."""
    x = spec[0] * math.exp(spec[1] * normal(stream, ctr))
    return max(int(round(min(max(x, spec[2]), spec[3]) * 1e6)), 1)


@njit(cache=True)
def _build_alias(weights, prob, alias):
    n = weights.shape[0]
    total = 0.0
    for i in range(n):
        total += weights[i]
    scaled = np.empty(n)
    small = np.empty(n, np.int64)
    large = np.empty(n, np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        scaled[i] = weights[i] * n / total
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        g = large[nl]
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            small[ns] = g
            ns += 1
        else:
            large[nl] = g
            nl += 1
    for i in range(nl):
        prob[large[i]] = 1.0
        alias[large[i]] = large[i]
    for i in range(ns):
        prob[small[i]] = 1.0
        alias[small[i]] = small[i]


def build_alias(weights):
    """Walker alias table (prob, alias) for non-negative weights with a positive sum."""
    w = np.ascontiguousarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError("weights must be a non-empty 1-d array")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and sum to a positive value")
    prob = np.empty(w.size)
    alias = np.empty(w.size, np.int64)
    _build_alias(w, prob, alias)
    return prob, alias


@njit(inline="always", cache=True)
def alias_draw(stream, ctr, prob, alias, offset, n):
    """Draw from the alias table slice [offset, offset+n) with one uniform."""
    x = uniform(stream, ctr) * n
    i = int(x)
    if i >= n:
        i = n - 1
    frac = x - i
    if frac < prob[offset + i]:
        return i
    return alias[offset + i]


# ---- vectorised entry points (arrays in, arrays out) -------------------------------------

@njit(cache=True)
def _stream_keys(seed, domain, keys, out):
    for i in range(keys.shape[0]):
        out[i] = stream_key(seed, domain, keys[i])


@njit(cache=True)
def _uniforms(streams, ctr, out):
    for i in range(streams.shape[0]):
        out[i] = uniform(streams[i], ctr)


@njit(cache=True)
def _bits(streams, ctr, out):
    for i in range(streams.shape[0]):
        out[i] = bits(streams[i], ctr)


@njit(cache=True)
def _normals(streams, ctr, out):
    for i in range(streams.shape[0]):
        out[i] = normal(streams[i], ctr)


def _as_keys(keys):
    arr = np.asarray(keys)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"entity keys must be integers, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr.astype(np.uint64, copy=False))


def stream_keys(seed, domain: str, keys):
    """Stream key per entity: the precomputed per-entity state every later draw starts from."""
    out = np.empty(len(keys), np.uint64)
    _stream_keys(U64(check_seed(seed)), U64(domain_id(domain)), _as_keys(keys), out)
    return out


def _per_stream(kernel, streams, ctr: int, dtype):
    streams = _as_keys(streams)
    out = np.empty(streams.size, dtype)
    kernel(streams, U64(ctr), out)
    return out


def uniforms(streams, ctr: int):
    return _per_stream(_uniforms, streams, ctr, np.float64)


def raw_bits(streams, ctr: int):
    return _per_stream(_bits, streams, ctr, np.uint64)


def normals(streams, ctr: int):
    return _per_stream(_normals, streams, ctr, np.float64)


@njit(cache=True)
def _combine_keys(a, b, out):
    for i in range(a.shape[0]):
        out[i] = combine(a[i], b[i])


def combine_keys(a, b):
    """Vectorised `combine`: the key of each composite entity (a[i], b[i])."""
    a, b = _as_keys(a), _as_keys(b)
    if a.shape != b.shape:
        raise ValueError("key arrays must have the same length")
    out = np.empty(a.size, np.uint64)
    _combine_keys(a, b, out)
    return out
