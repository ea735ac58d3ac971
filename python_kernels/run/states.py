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
