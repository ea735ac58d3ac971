"""What an amount law of policies/flows.yaml puts in each bin of ln(US dollars), for gate 6B.R8:
the law as the flows draw it (s2_flows.amount_minor: price points, the lognormal body with its
big-ticket tail, clipped and rounded the law's way in the flow's currency), integrated over an
even grid of the body's quantiles rather than sampled; and the Jensen-Shannon divergence of the
realised amounts from it.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from numba import njit

from python_kernels.behaviour.s2_flows import FlowParams, round_local

BINS_PER_LN = 10   # bins of about 10% in amount
GRID = 4000        # body quantiles per component


@njit(cache=True)
def _round_all(x, rounding, minor_per_major, note_minor, out):
    for i in range(x.shape[0]):
        out[i] = round_local(x[i], rounding, minor_per_major, note_minor)


def _z_grid(n: int) -> np.ndarray:
    nd = NormalDist()
    return np.array([nd.inv_cdf((i + 0.5) / n) for i in range(n)])


_Z = _z_grid(GRID)


def law_bins(p: FlowParams, law: int, cur: int) -> dict:
    """{bin: probability} of law `law` in currency `cur`, bin = floor(ln(US dollars) * BINS_PER_LN)."""
    unit = p.unit_minor[cur]
    lo, hi = max(p.min_usd * unit, 1.0), p.max_usd * unit
    n_points = int(p.point_n[law])
    w_point = float(p.p_point[law]) if n_points > 0 else 0.0
    minors = [p.point_minor[law, cur, :n_points].astype(np.float64)]
    masses = [np.full(n_points, w_point / max(n_points, 1))]
    for tail, share in ((0.0, 1.0 - p.p_tail[law]), (1.0, p.p_tail[law])):
        x = np.clip(np.exp(p.body_log_median[law] + p.sigma[law] * _Z + tail * p.log_tail_factor[law]) * unit, lo, hi)
        out = np.empty(GRID, np.float64)
        _round_all(x, int(p.rounding[law]), int(p.minor_per_major[cur]), int(p.note_minor[cur]), out)
        minors.append(out)
        masses.append(np.full(GRID, (1.0 - w_point) * share / GRID))
    bins = np.floor(np.log(np.concatenate(minors) / unit) * BINS_PER_LN).astype(np.int64)
    keys, at = np.unique(bins, return_inverse=True)
    return dict(zip(keys.tolist(), np.bincount(at, np.concatenate(masses)).tolist()))


def jsd_bits(p: dict, q: dict) -> float:
    """Jensen-Shannon divergence in bits between two {bin: weight} distributions (normalised here)."""
    keys = sorted(set(p) | set(q))
    a = np.array([p.get(k, 0.0) for k in keys], np.float64)
    b = np.array([q.get(k, 0.0) for k in keys], np.float64)
    a, b = a / a.sum(), b / b.sum()
    m = (a + b) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        ka = np.where(a > 0, a * np.log(a / m), 0.0).sum()
        kb = np.where(b > 0, b * np.log(b / m), 0.0).sum()
    return float((ka + kb) / 2 / math.log(2))
