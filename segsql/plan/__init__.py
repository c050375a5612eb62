"""Planning: from the due segments to the features each entity type needs."""

from .explain import explain
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
    "plan_entity",
]
