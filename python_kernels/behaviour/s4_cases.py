"""6B S4 cases: group an account's triggered flows into cases, and close them.

`group_cases` walks the triggered flows in (case key, first trigger, flow_id) order, the case
key being (scenario, account), and puts a flow into its key's open case when it comes within
the grouping window of the case's opening; otherwise it opens a case whose id is its own
flow_id.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from python_kernels.core import rng
from python_kernels.core.vocabulary import NO_TIME

CASE_DOMAIN = "6B.s4.case"


@njit(cache=True)
def _group_cases(key, trigger, flow_id, window, case_id):
    open_case = -1
    opened = NO_TIME
    for i in range(flow_id.shape[0]):
        if i == 0 or key[i] != key[i - 1] or trigger[i] > opened + window:
            open_case = flow_id[i]
            opened = trigger[i]
        case_id[i] = open_case


def group_cases(key, trigger, flow_id, window_us: int) -> np.ndarray:
    """case_id per triggered flow; inputs sorted by (case key, trigger, flow_id)."""
    key = np.ascontiguousarray(key, np.int64)
    trigger = np.ascontiguousarray(trigger, np.int64)
    flow_id = np.ascontiguousarray(flow_id, np.int64)
    if not key.size == trigger.size == flow_id.size:
        raise ValueError("key, trigger and flow_id need the same length")
    if np.any(trigger == NO_TIME):
        raise ValueError("every flow to group needs a trigger instant")
    order = np.lexsort((flow_id, trigger, key))
    if np.any(order != np.arange(order.size)):
        raise ValueError("flows must be sorted by (case key, trigger, flow_id)")
    case_id = np.empty(flow_id.size, np.int64)
    _group_cases(key, trigger, flow_id, np.int64(window_us), case_id)
    return case_id


def close_cases(seed: int, case_id, last, spec) -> np.ndarray:
    """Closing instant per row (rows grouped by case, any order within): the case's last step
    plus a lognormal close delay keyed by case_id."""
    case_id = np.asarray(case_id, np.int64)
    last = np.asarray(last, np.int64)
    uniq, inv = np.unique(case_id, return_inverse=True)
    latest = np.full(uniq.size, np.iinfo(np.int64).min, np.int64)
    np.maximum.at(latest, inv, last)
    z = rng.normals(rng.stream_keys(seed, CASE_DOMAIN, uniq), 0)
    x = np.clip(spec[0] * np.exp(spec[1] * z), spec[2], spec[3])
    return (latest + np.maximum(np.round(x * 1e6), 1).astype(np.int64))[inv]
