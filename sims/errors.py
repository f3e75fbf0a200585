"""Exception classes of the simulation package.

Messages carry the location: ``scenario.toml: spacecraft.battery_capacity_wh: must be positive``.
"""
from groundseg.errors import GroundsegError

__all__ = ["SimulationError", "ScenarioError"]


class SimulationError(GroundsegError):
    """Base class for every error the simulation package raises on bad input."""


class ScenarioError(SimulationError):
    """A scenario file that cannot be used: ``FILE: key.path: what is wrong``."""
