"""Every model and seed declares its state in dbt, and the declared states are the ones the
old name rule (folder, sN_ prefix, gate segment) gave: moving the rule into dbt moved nothing."""
from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest
from google.protobuf.struct_pb2 import Struct

from python_kernels.run import dbt, states
from python_kernels.run.progress import Progress


def name_rule(fqn: list[str]) -> str:
    """The state the runner parsed from a node's fqn before states were declared (the oracle)."""
    segment = {"world": "world", "arrivals": "5B", "behaviour": "6B", "gates": "gates"}.get(fqn[1], fqn[1]) \
        if len(fqn) > 2 else "seeds"
    name = fqn[-1].removeprefix("int_")
    if segment in ("5B", "6B") and name[:1] == "s" and name[1:2].isdigit():
        return f"{segment}.S{name[1]}"
    gate_segment = name.removeprefix("gates_").split("_")[0]
    if segment == "gates" and name.startswith("gates_") and gate_segment in ("5B", "6B"):
        return f"{gate_segment}.S5"
    return segment


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("parse")
    (run_dir / "work").mkdir()
    assert dbt.invoke("parse", run_dir, {"preset": "tiny"}, 1, Progress(io.StringIO()), []).success
    manifest = json.loads((run_dir / "work" / "target" / "manifest.json").read_text())
    return {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in ("model", "seed")}


def test_every_model_and_seed_declares_a_known_state(nodes):
    assert len([n for n in nodes.values() if n["resource_type"] == "model"]) > 50
    undeclared = {uid: states.declared(n["config"]["meta"]) for uid, n in nodes.items()
                  if states.declared(n["config"]["meta"]) not in states.NODE_STATES}
    assert not undeclared


# Declared apart from the name rule on purpose: a world check of the expected surface that
# weighs HYBRID merchants by the 5B routing probability, so it is fingerprinted with 5B.S4.
MOVED_SINCE = {"model.fraud_engine.world_intensity_realism_5A": "5B.S4"}


def test_declared_states_are_what_the_names_gave(nodes):
    moved = {uid: states.declared(n["config"]["meta"]) for uid, n in nodes.items()
             if states.declared(n["config"]["meta"]) != name_rule(n["fqn"])}
    assert moved == MOVED_SINCE
    assert nodes["model.fraud_engine.int_gates_6B_auc"]["config"]["meta"]["state"] == "6B.S5"
    assert nodes["model.fraud_engine.int_s3_campaign_plan"]["config"]["meta"]["state"] == "6B.S3"


def test_progress_line_shows_the_state_from_the_events_node_info():
    meta = Struct()
    meta.update({"state": "5B.S2"})

    def finished(uid, meta):
        info = SimpleNamespace(unique_id=uid, node_name=uid.split(".")[-1], node_status="success", meta=meta)
        return SimpleNamespace(info=SimpleNamespace(name="NodeFinished"),
                               data=SimpleNamespace(node_info=info, run_result=SimpleNamespace(execution_time=1.0)))

    stream = io.StringIO()
    progress = Progress(stream)
    progress(finished("model.fraud_engine.s2_realised_intensity", meta))
    progress(finished("test.fraud_engine.not_null_x", Struct()))
    lines = stream.getvalue().splitlines()
    assert " 5B.S2  model s2_realised_intensity " in lines[0]
    assert " 5B.S2  test  not_null_x " in lines[1]  # a test shows the state built last
