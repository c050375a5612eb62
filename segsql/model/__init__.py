"""The typed, validated model of a project: sources, segments, conditions, fixtures."""

from .types import *  # noqa: F403
