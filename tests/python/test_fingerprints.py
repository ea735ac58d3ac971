"""State fingerprints: which policy reads the scan finds, and which states a change moves."""
from __future__ import annotations

import copy
import io
import json
import re

import pytest

from python_kernels.core.policies import load_policies
from python_kernels.run import dbt, fingerprints, reuse, states
from python_kernels.run.progress import Progress
from python_kernels.run.runs import PROJECT_DIR

EVERY = {fingerprints.EVERY_POLICY}


@pytest.mark.parametrize("language, text, declared, reads", [
    ("python", 'x = ctx.policies["arrivals"]["lgcp"]', None, {"arrivals.lgcp"}),
    ("python", 'policy = ctx.policies["flows"]\ny = policy["amounts"]', None, {"flows"}),
    ("python", 'a = ctx.policies["flows"]["timing"]\nb = ctx.policies["campaigns"]', None,
     {"flows.timing", "campaigns"}),
    ("python", "name = 'flows'\npol = ctx.policies[name]", None, EVERY),          # a computed file
    ("python", "rows = policy_rows(policies, preset)", None, EVERY),
    ("python", "for k in ctx.policies.values: pass", None, EVERY),
    ("python", "pol = ctx.policies[name]", ["world.virtual"], {"world.virtual"}),  # declared instead
    ("sql", "{{ pval('arrivals.routing.p_virtual_hybrid') }}", None, {"arrivals.routing"}),
    ("sql", "{{ pval_list('world.zones.weights') }}", None, {"world.zones"}),
    ("sql", "{{ pval('graph.roles.' ~ kind ~ '.base') }}", None, {"graph.roles"}),  # a literal start
    ("sql", "{{ pval('graph.rol' ~ kind) }}", None, EVERY),   # the section is cut: it may be any
    ("sql", "{{ pval(gate_key(rule, 'kind')) }}", None, EVERY),
    ("sql", "{{ pval(gate_key(rule, 'kind')) }}", ["gates"], {"gates"}),
    ("sql", "select * from {{ ref('world_policy_params') }} where starts_with(key, 'world.virtual.x[')",
     None, EVERY),
    ("sql", "{{ pval('preset.n_merchants') }} + {{ pval('world.sites.n') }}", None, {"world.sites"}),
])
def test_policy_reads(language, text, declared, reads):
    assert fingerprints.policy_reads([(language, text)], declared) == reads


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("parse")
    (run_dir / "work").mkdir()
    assert dbt.invoke("parse", run_dir, {"preset": "tiny"}, 1, Progress(io.StringIO()), []).success
    return json.loads((run_dir / "work" / "target" / "manifest.json").read_text())


ROOT = {"seed": 42, "preset": "tiny", "manifest_fingerprint": "m", "versions": {}}


def _fingerprints(manifest, policies, root=ROOT):
    return {s: e["fingerprint"] for s, e in fingerprints.state_fingerprints(PROJECT_DIR, manifest, policies,
                                                                            root).items()}


def _changed(manifest, edit) -> set[str]:
    policies = load_policies(PROJECT_DIR / "policies")
    before = _fingerprints(manifest, policies)
    values = copy.deepcopy(policies.values)
    edit(values)
    after = _fingerprints(manifest, type(policies)(policies.folder, values, "edited"))
    return {s for s in before if before[s] != after[s]}


def _set(path, value):
    def edit(values):
        *head, last = path
        node = values
        for key in head:
            node = node[key]
        node[last] = value
    return edit


LATER_6B = {"6B.S3", "6B.S4", "6B.S5"}


@pytest.mark.parametrize("path, value, moved", [
    (("campaigns", "auth_screen", "p_decline"), {}, LATER_6B),
    (("bank_view", "cases"), {}, {"6B.S4", "6B.S5"}),
    (("truth", "rules"), [], {"6B.S4", "6B.S5"}),
    (("gates", "pending"), ["6B.T99"], {"5B.S5", "6B.S5"}),
    (("arrivals", "routing", "p_virtual_hybrid"), 0.3, {"5B.S4", "5B.S5", "6B.S1", "6B.S2"} | LATER_6B),
    (("arrivals", "counts"), {}, {"5B.S3", "5B.S4", "5B.S5", "6B.S1", "6B.S2"} | LATER_6B),
    (("attachment", "sessions"), {}, {"6B.S1", "6B.S2"} | LATER_6B),
    (("flows", "timing"), {}, {"6B.S2"} | LATER_6B),
    (("world", "virtual", "offshore_hubs"), [], set(states.NODE_STATES) - {"graph"}),
])
def test_a_policy_change_moves_the_states_that_read_it_and_their_dependants(manifest, path, value, moved):
    assert _changed(manifest, _set(path, value)) == moved


def test_the_root_moves_every_state(manifest):
    policies = load_policies(PROJECT_DIR / "policies")
    before = _fingerprints(manifest, policies)
    for key, value in (("seed", 7), ("manifest_fingerprint", "other"), ("versions", {"numba": "0"})):
        after = _fingerprints(manifest, policies, {**ROOT, key: value})
        assert all(before[s] != after[s] for s in before), key


def test_a_state_covers_the_code_its_python_models_import(manifest):
    scan = fingerprints._Scan(PROJECT_DIR, manifest)
    node = manifest["nodes"]["model.fraud_engine.s3_overlay_delta"]
    files, _ = scan.node_files_and_texts(node)
    names = {p.relative_to(PROJECT_DIR).as_posix() for p in files}
    assert {"models/behaviour/s3_overlay_delta.py", "models/behaviour/_behaviour.yml",
            "python_kernels/behaviour/s3_overlay.py", "python_kernels/core/rng.py", "python_kernels/dbt_io.py",
            "macros/dataset.sql"} <= names
    assert not any(n.startswith("python_kernels/run/") for n in names)


def test_declared_reads_cover_the_keys_a_model_queries(manifest):
    """A model that queries world_policy_params by key prefix declares what it reads; every
    literal key in its SQL must fall inside the declaration. Gate models read their gate's
    parameters by computed keys (macros/gates.sql) and declare gates.yaml."""
    declaring = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"
                 and n["config"]["meta"].get("policy_reads")]
    gate_readers = [n for n in declaring if "gate_param(" in n["raw_code"]]
    assert gate_readers and all(n["config"]["meta"]["policy_reads"] == ["gates"] for n in gate_readers)
    by_key = [n for n in declaring if n not in gate_readers]
    assert {n["name"] for n in by_key} == {"world_virtual_classification", "world_virtual_settlement",
                                          "int_gates_6B_channel_mix"}
    for node in by_key:
        keys = re.findall(r"'([a-z_]+\.[a-z_]+)[.\[][^']*'", node["raw_code"])
        assert keys and all(any(k.startswith(d) for d in node["config"]["meta"]["policy_reads"]) for k in keys)


def test_decide_rebuilds_what_changed_and_says_why(manifest):
    policies = load_policies(PROJECT_DIR / "policies")
    earlier = fingerprints.state_fingerprints(PROJECT_DIR, manifest, policies, ROOT)
    values = copy.deepcopy(policies.values)
    values["bank_view"]["cases"] = {}
    now = fingerprints.state_fingerprints(PROJECT_DIR, manifest, type(policies)(policies.folder, values, "x"), ROOT)
    decision = reuse.decide(earlier, now)
    assert decision.rebuilt == ("6B.S4", "6B.S5")
    assert decision.why == {"6B.S4": "policy bank_view", "6B.S5": "input 6B.S4"}
    names = reuse.selection(manifest["nodes"], decision)
    assert "s4_flow_bank_view" in names and "world_policy_params" in names and "s3_flow_anchor_with_fraud" not in names
