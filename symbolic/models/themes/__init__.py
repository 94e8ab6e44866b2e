"""Themes: where a song's main theme is, found from its two-bar melody segments."""

from .segments import MelodySegments, augment, melody_segments

__all__ = ["MelodySegments", "melody_segments", "augment"]
