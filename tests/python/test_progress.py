"""The progress line's ETA weighs each state by its expected share of the work and corrects it
by the pace of the work done so far, not by counting nodes."""
from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from google.protobuf.struct_pb2 import Struct

from python_kernels.run import progress as progress_module
from python_kernels.run import states
from python_kernels.run.progress import Plan, Progress, remaining_seconds

# many cheap world nodes first, then few heavy ones: the shape that made a node count say 21 s
# with minutes of 6B to go
NODES = [("world", 12), ("5B.S4", 2), ("6B.S2", 2), ("6B.S3", 2)]
EXPECTED = {"world": 6.0, "5B.S4": 20.0, "6B.S2": 40.0, "6B.S3": 50.0, "publish": 14.0}


def finished(uid, state):
    meta = Struct()
    meta.update({"state": state})
    info = SimpleNamespace(unique_id=uid, node_name=uid.split(".")[-1], node_status="success", meta=meta)
    return SimpleNamespace(info=SimpleNamespace(name="NodeFinished"),
                           data=SimpleNamespace(node_info=info, run_result=SimpleNamespace(execution_time=1.0)))


@pytest.mark.parametrize("slowdown", [0.7, 1.0, 1.6])
def test_eta_follows_the_expected_work_at_the_measured_pace(monkeypatch, slowdown):
    """A simulated build on a machine `slowdown` times the reference: every shown ETA from a
    quarter of the run on is within 30% of the true remaining time (the publish step after the
    build included)."""
    uids = [(f"model.p.{state}_{i}", state) for state, n in NODES for i in range(n)]
    plan = Plan({uid: state for uid, state in uids}, EXPECTED)
    per_node = {state: EXPECTED[state] / n for state, n in NODES}
    ends, clock = [], 0.0
    for uid, state in uids:
        clock += per_node[state] * slowdown
        ends.append(clock)
    total = sum(EXPECTED.values()) * slowdown
    now = {"t": 0.0}
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now["t"])
    stream = io.StringIO()
    bar = Progress(stream, plan)
    for (uid, state), end in zip(uids, ends):
        now["t"] = end
        bar(finished(uid, state))
    etas = [float(m) for m in re.findall(r"eta\s+(\d+)s", stream.getvalue())]
    for eta, end in zip(etas, ends):
        if end >= 0.25 * total:
            true = total - end
            assert abs(eta - true) <= 0.3 * true + 1, (slowdown, end, eta, true)
    assert abs(etas[11] - (total - ends[11])) <= 0.3 * (total - ends[11])  # world done, heavy states ahead


def test_remaining_work_splits_a_states_share_over_its_nodes():
    plan = Plan({"a1": "A", "a2": "A", "b": "B"}, {"A": 10.0, "B": 30.0, "publish": 10.0})
    assert remaining_seconds(plan, {}, 0.0) == pytest.approx(50.0)
    # half of A done in the reference time: 45 s left at the reference pace
    assert remaining_seconds(plan, {"A": 1}, 5.0) == pytest.approx(45.0)
    # A done at twice the reference time: the pace (20 + 5) / (10 + 5) stretches the rest
    assert remaining_seconds(plan, {"A": 2}, 20.0) == pytest.approx(40.0 * 25 / 15)


def test_every_state_and_step_has_an_expected_share():
    expected = states.expected_seconds(5_000_000)
    assert {state for state, _ in expected} == {*states.NODE_STATES, "publish", "validation"}
    assert all(v >= 0 for v in expected.values())
    assert expected["6B.S3", states.WORK] == pytest.approx(5 * states.SECONDS_PER_M_ARRIVALS["6B.S3"][0])
