"""Registry of the datasets a run publishes: which model, where it goes, how it is split.

The one list the runner (publish, digests, receipt) and readers share. Paths follow
SPEC §4: `data/<layer>/<segment>/<dataset_id>/scenario_id=<sid>/part-*.parquet` for
scenario data and `data/world/<table>/part-*.parquet` for world tables users join to.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    model: str                 # dbt model it is published from
    dataset_id: str            # published name
    folder: str                # path under the run's data/ directory
    # Split by scenario_id; dbt's `dataset` materialisation writes it as Parquet and publishing
    # hard-links those files (world tables are exported from DuckDB instead).
    scenario: bool = False
    seeded: bool = True        # False for tables no random draw shapes (same for every seed)
    # Derived from other datasets by a dbt view (the event streams unpivot the flows): never
    # written; the run's catalog defines it by the same SQL and `runner.py export` writes it.
    view: bool = False

    @property
    def path(self) -> str:
        return f"{self.folder}/{self.dataset_id}"


def _world(model: str, seeded: bool = True) -> Dataset:
    return Dataset(model, model, "world", seeded=seeded)


WORLD = (
    _world("merchant_class_profile_5A"),
    _world("world_merchants"),
    _world("world_sites"),
    _world("world_site_weights"),
    _world("world_edges"),
    _world("world_virtual_classification"),
    _world("world_zone_alloc"),
    _world("world_tz_transitions", seeded=False),
    _world("scenario_manifest_5A", seeded=False),
    _world("world_currencies", seeded=False),
    _world("s1_party_base_6A"),
    _world("s2_account_base_6A"),
    _world("s3_instrument_base_6A"),
    _world("s3_account_instrument_links_6A"),
    _world("s4_device_base_6A"),
    _world("s4_ip_base_6A"),
    _world("s4_device_links_6A"),
    _world("s4_ip_links_6A"),
    _world("s5_party_fraud_roles_6A"),
    _world("s5_account_fraud_roles_6A"),
    _world("s5_merchant_fraud_roles_6A"),
    _world("s5_device_fraud_roles_6A"),
    _world("s5_ip_fraud_roles_6A"),
)

ARRIVALS = (
    Dataset("s4_arrival_events", "arrival_events_5B", "layer2/5B", scenario=True),
)

VIEWS = frozenset({"s2_event_stream_baseline", "s3_flow_anchor_with_fraud", "s3_event_stream_with_fraud",
                   "s4_flow_truth_labels", "s4_flow_bank_view", "s4_event_labels"})

BEHAVIOUR = tuple(
    Dataset(model, f"{model}_6B", "layer3/6B", scenario=True, view=model in VIEWS)
    for model in ("s1_arrival_entities", "s1_session_index", "s2_flow_anchor_baseline", "s2_event_stream_baseline",
                  "s3_campaign_catalogue", "s3_overlay_delta", "s3_flow_anchor_with_fraud",
                  "s3_event_stream_with_fraud", "s4_flow_truth_labels", "s4_bank_actions", "s4_flow_bank_view",
                  "s4_event_labels", "s4_case_timeline")
) + (Dataset("s4_auth_features", "auth_features_6B", "layer3/6B", scenario=True),)

# In data-flow order: a view's inputs come before it.
DATASETS = WORLD + ARRIVALS + BEHAVIOUR
BY_ID = {ds.dataset_id: ds for ds in DATASETS}
