"""The states of a run, in pipeline order, and the state of a dbt node.

Every model and seed declares its state in dbt (`meta: {state: ...}`, by folder in
dbt_project.yml or per model in its folder's YAML); 5B.S5 and 6B.S5 are a segment's gates and
the models they read. A data test has no state of its own: it belongs to the latest state it
reads. `publish` and `validation` are the runner's own steps after the build.
"""
from __future__ import annotations

NODE_STATES = ("graph", "world", "5B.S1", "5B.S2", "5B.S3", "5B.S4", "5B.S5",
               "6B.S1", "6B.S2", "6B.S3", "6B.S4", "6B.S5")
# "seeds" books a test that ran before any model or seed finished
ORDER = ("seeds", *NODE_STATES, "publish", "validation")


def state_order(state: str):
    return (ORDER.index(state) if state in ORDER else len(ORDER), state)


def declared(meta) -> str | None:
    """The state a node's meta declares (a dict from the manifest, or the protobuf Struct of a
    dbt event's node info); None when it declares none."""
    return meta["state"] if "state" in meta else None


def node_state(info) -> str | None:
    """State of a model or seed from a dbt event's node info; None for a test (booked after the
    build by state_of_test)."""
    if info.unique_id.split(".")[0] not in ("model", "seed"):
        return None
    return declared(info.meta)


def state_of_test(nodes: dict, uid: str) -> str | None:
    """State of a data test (manifest `nodes`): the latest, in pipeline order, of the states of
    the nodes it reads; None when it reads none."""
    parents = [declared(nodes[p]["config"]["meta"])
               for p in nodes.get(uid, {}).get("depends_on", {}).get("nodes", []) if p in nodes]
    return max(parents, key=state_order) if parents else None


# Expected seconds per million expected arrivals of each state: (its models and seeds, its
# data tests). Only the shares matter, the ETA scales them by the pace the run shows. From
# README's `small` bench (seed 42, one dbt node at a time) per state; where it lumps states
# (5B.S1-S4) or leaves them out (graph, world, validation), and for the split between models
# and tests, from the node times of a `small` seed-42 run at b79a0ee (build_run_results.json
# and run_receipt.json, 2 dbt threads) rescaled to the bench's pace. tiny, medium and large
# have no such record: they use these shares.
SECONDS_PER_M_ARRIVALS = {
    "graph": (0.01, 0.03), "world": (1.15, 0.45),
    "5B.S1": (0.76, 0.10), "5B.S2": (0.45, 0.10), "5B.S3": (0.28, 0.01), "5B.S4": (1.38, 1.17),
    "5B.S5": (1.14, 0.02),
    "6B.S1": (2.48, 0.77), "6B.S2": (3.70, 1.21), "6B.S3": (4.01, 1.22), "6B.S4": (4.29, 1.22),
    "6B.S5": (1.97, 0.01),
    "publish": (2.35, 0.0), "validation": (0.17, 0.0),
}
WORK, TESTS = "work", "tests"  # the two parts of a state's expected seconds


def expected_seconds(arrivals: int) -> dict[tuple[str, str], float]:
    """Expected seconds of each (state, WORK or TESTS) for a run of `arrivals` expected arrivals."""
    return {(state, part): seconds * arrivals / 1e6
            for state, parts in SECONDS_PER_M_ARRIVALS.items() for part, seconds in zip((WORK, TESTS), parts)}
