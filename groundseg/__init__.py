"""groundseg: ground segment for an optical Earth-observation constellation."""
from .errors import CatalogError, GroundsegError, StationError, TimeError

__all__ = ["GroundsegError", "CatalogError", "StationError", "TimeError"]
__version__ = "0.1.0"
