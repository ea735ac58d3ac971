"""Schema of policies/truth.yaml: 6B S4 ordered truth rules."""
from python_kernels.core.policy_schema.nodes import Enum, List, Obj, PolicyError, Str
from python_kernels.core.vocabulary import CAMPAIGN_TYPES, SUBTYPES, TRUTH_LABELS

SCHEMA_NODE = Obj({"rules": List(Obj({
    "rule_id": Str(r"^[A-Z0-9_]{1,60}$"),
    "campaign_types": List(Enum(("NONE",) + CAMPAIGN_TYPES)),
    "label": Enum(TRUTH_LABELS),
    "subtype": Enum(SUBTYPES),
}))})


def _check(file, data):
    seen = set()
    for i, r in enumerate(data["rules"]):
        if r["rule_id"] in seen:
            raise PolicyError(file, f"rules[{i}].rule_id", r["rule_id"], "a rule id used once")
        seen.add(r["rule_id"])
        if (r["label"] == "LEGIT") != (r["subtype"] == "NONE"):
            raise PolicyError(file, f"rules[{i}].subtype", r["subtype"], "NONE exactly when the label is LEGIT")


SCHEMA = (SCHEMA_NODE, _check)
