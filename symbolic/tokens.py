"""Short name for :mod:`symbolic.representations.tokens`: ``symbolic.tokens.load("remi")``."""

from .representations.tokens import *  # noqa: F401,F403
from .representations.tokens import __all__, __doc__ as _doc  # noqa: F401

__doc__ = _doc
