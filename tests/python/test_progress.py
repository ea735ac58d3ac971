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
STRAY = {"world": 1.3, "5B.S4": 0.9, "6B.S2": 1.1, "6B.S3": 0.85, "publish": 1.2}  # actual / expected share


def finished(uid, state):
    meta = Struct()
    meta.update({"state": state})
    info = SimpleNamespace(unique_id=uid, node_name=uid.split(".")[-1], node_status="success", meta=meta)
    return SimpleNamespace(info=SimpleNamespace(name="NodeFinished"),
                           data=SimpleNamespace(node_info=info, run_result=SimpleNamespace(execution_time=1.0)))


@pytest.mark.parametrize("machine", [0.5, 1.0, 6.0])
def test_eta_follows_the_expected_work_at_the_measured_pace(monkeypatch, machine):
    """A simulated build on a machine `machine` times slower than the table's, whose states
    also stray from their expected shares: from a quarter of the run on, every shown ETA is
    within 30% of the true remaining time (the publish step after the build included), where
    counting nodes would say the run is nearly done once the cheap world nodes are."""
    uids = [(f"model.p.{state}_{i}", state) for state, n in NODES for i in range(n)]
    plan = Plan({uid: state for uid, state in uids}, EXPECTED)
    ends, clock = [], 0.0
    for uid, state in uids:
        clock += EXPECTED[state] / dict(NODES)[state] * STRAY[state] * machine
        ends.append(clock)
    total = clock + EXPECTED["publish"] * STRAY["publish"] * machine
    now = {"t": 0.0}
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now["t"])
    stream = io.StringIO()
    bar = Progress(stream, plan)
    for (uid, state), end in zip(uids, ends):
        now["t"] = end
        bar(finished(uid, state))
    etas = [float(m) for m in re.findall(r"eta\s+(\d+)s", stream.getvalue())]
    checked = [(eta, total - end) for eta, end in zip(etas, ends) if end >= 0.25 * total]
    assert checked and all(abs(eta - true) <= 0.3 * true + 1 for eta, true in checked), checked
    world_done = ends[dict(NODES)["world"] - 1]
    node_count_eta = world_done / 12 * (len(uids) - 12)
    assert node_count_eta < 0.5 * (total - world_done)  # what the old line said


def test_remaining_work_splits_a_parts_seconds_over_its_nodes():
    plan = Plan({"a1": "A", "a2": "A", "b": "B"}, {"A": 10.0, "B": 30.0, "publish": 10.0})
    assert remaining_seconds(plan, {}, 0.0) == pytest.approx(50.0)
    assert remaining_seconds(plan, {"A": 1}, 5.0) == pytest.approx(45.0)  # at the table's pace
    assert remaining_seconds(plan, {"A": 2}, 20.0) == pytest.approx(80.0)  # twice as slow


def test_every_state_and_step_has_an_expected_share():
    expected = states.expected_seconds(5_000_000)
    assert {state for state, _ in expected} == {*states.NODE_STATES, "publish", "validation"}
    assert all(v >= 0 for v in expected.values())
    assert expected["6B.S3", states.WORK] == pytest.approx(5 * states.SECONDS_PER_M_ARRIVALS["6B.S3"][0])
