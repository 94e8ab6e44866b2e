"""Ticks <-> seconds through a score's tempo map: re-exported from :mod:`symbolic.timeline`.

Kept so that ``symbolic.timing.ticks_to_seconds`` and friends keep working.
"""

from .timeline import seconds_to_ticks, tempo_map, ticks_to_seconds

__all__ = ["tempo_map", "ticks_to_seconds", "seconds_to_ticks"]
