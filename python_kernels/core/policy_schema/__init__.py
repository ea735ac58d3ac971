"""Schemas of the policy files: file name -> (schema node, cross-file check or None).

One module per policy file keeps each schema next to the knobs it describes.
"""
from python_kernels.core.policy_schema.arrivals import SCHEMA as _arrivals
from python_kernels.core.policy_schema.behaviour import SCHEMA as _behaviour
from python_kernels.core.policy_schema.fraud import SCHEMA as _fraud
from python_kernels.core.policy_schema.gates import SCHEMA as _gates
from python_kernels.core.policy_schema.graph import SCHEMA as _graph
from python_kernels.core.policy_schema.intensity import SCHEMA as _intensity
from python_kernels.core.policy_schema.presets import SCHEMA as _presets
from python_kernels.core.policy_schema.world import SCHEMA as _world

SCHEMAS = {
    "arrivals.yaml": _arrivals,
    "behaviour.yaml": _behaviour,
    "fraud.yaml": _fraud,
    "gates.yaml": _gates,
    "graph.yaml": _graph,
    "intensity.yaml": _intensity,
    "presets.yaml": _presets,
    "world.yaml": _world,
}
