"""Kolmogorov-Smirnov distance of realised delays from their policy law, for gate 6B.R7.

A policy delay is a lognormal (median, sigma) clipped to [min, max] seconds (core.rng
lognormal_clipped_us), so its CDF is Phi((ln x - ln median) / sigma) between the bounds, with the
clipped mass at the bounds. The realised delays arrive as counts per bin of ln(seconds) on a fine
grid (the SQL side never ships rows), and the distance is read at the bins' upper edges: the
largest gap between the two CDFs there, a lower bound of the exact sup that misses at most the
law's rise within one bin.
"""
from __future__ import annotations

import math

import numpy as np

BINS_PER_LN = 100  # bins of 1% in seconds


def clipped_lognormal_cdf(x: np.ndarray, spec) -> np.ndarray:
    """P(delay <= x seconds) under spec = (median, sigma, min, max) seconds."""
    median, sigma, lo, hi = (float(v) for v in spec)
    x = np.asarray(x, np.float64)
    z = (np.log(np.maximum(x, 1e-300)) - math.log(median)) / sigma
    body = 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))
    return np.where(x < lo, 0.0, np.where(x >= hi, 1.0, body))


def ks_from_bins(bins: np.ndarray, counts: np.ndarray, spec) -> float | None:
    """KS distance between the delays counted per bin b = floor(ln(seconds) * BINS_PER_LN) and
    the law `spec`; None without delays."""
    order = np.argsort(bins)
    bins, counts = np.asarray(bins, np.int64)[order], np.asarray(counts, np.float64)[order]
    total = counts.sum()
    if total <= 0:
        return None
    edge = np.exp((bins + 1) / BINS_PER_LN)
    return float(np.max(np.abs(np.cumsum(counts) / total - clipped_lognormal_cdf(edge, spec))))
