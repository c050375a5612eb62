"""Planning: from the due segments to the features each entity type needs."""

from .explain import explain, explain_narrowing
from .planner import (
    Aggregate,
    EntityPlan,
    FeatureRef,
    Scan,
    ScanKind,
    SubPlan,
    plan_entity,
)

__all__ = [
    "Aggregate",
    "EntityPlan",
    "FeatureRef",
    "Scan",
    "ScanKind",
    "SubPlan",
    "explain",
    "explain_narrowing",
    "plan_entity",
]
