"""Planning: from the due segments to the features each entity type needs."""

from .planner import Aggregate, EntityPlan, Scan, explain, plan_entity

__all__ = ["Aggregate", "EntityPlan", "Scan", "explain", "plan_entity"]
