"""The metrical grid and score metadata, re-exported from :mod:`symbolic.timeline` (their home).

Kept so that ``from symbolic.representations.meter import MetricGrid, ScoreMeta`` works.
"""

from ..timeline import MetricGrid, ScoreMeta

__all__ = ["MetricGrid", "ScoreMeta"]
