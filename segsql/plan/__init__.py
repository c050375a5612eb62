"""Planning: from the due segments to the features each entity type needs."""

from .planner import (
    Aggregate,
    EntityPlan,
    FeatureRef,
    Scan,
    ScanKind,
    SubPlan,
    explain,
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
