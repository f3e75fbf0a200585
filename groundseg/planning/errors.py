"""Exception class of the planning package."""
from __future__ import annotations

from ..errors import GroundsegError

__all__ = ["PlanningError"]


class PlanningError(GroundsegError):
    """A scheduling problem, plan or benchmark file that cannot be used.

    The message names the location (``tasks[3] 'T17'.alternatives[1]: ...`` or
    ``1401.spot:12: ...``).
    """
