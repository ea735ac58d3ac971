"""Schemas of the policy files: file name -> (schema node, cross-file check or None).

One module per policy file keeps each schema next to the knobs it describes.
"""
from python_kernels.core.policy_schema.arrivals import SCHEMA as _arrivals
from python_kernels.core.policy_schema.attachment import SCHEMA as _attachment
from python_kernels.core.policy_schema.bank_view import SCHEMA as _bank_view
from python_kernels.core.policy_schema.campaigns import SCHEMA as _campaigns
from python_kernels.core.policy_schema.flows import SCHEMA as _flows
from python_kernels.core.policy_schema.gates import SCHEMA as _gates
from python_kernels.core.policy_schema.graph import SCHEMA as _graph
from python_kernels.core.policy_schema.intensity import SCHEMA as _intensity
from python_kernels.core.policy_schema.presets import SCHEMA as _presets
from python_kernels.core.policy_schema.truth import SCHEMA as _truth
from python_kernels.core.policy_schema.world import SCHEMA as _world

SCHEMAS = {
    "arrivals.yaml": _arrivals,
    "attachment.yaml": _attachment,
    "bank_view.yaml": _bank_view,
    "campaigns.yaml": _campaigns,
    "flows.yaml": _flows,
    "gates.yaml": _gates,
    "graph.yaml": _graph,
    "intensity.yaml": _intensity,
    "presets.yaml": _presets,
    "truth.yaml": _truth,
    "world.yaml": _world,
}
