"""Exception classes of the simulation package.

Messages carry the location: ``scenario.toml: spacecraft.battery_capacity_wh: must be positive``.
``groundseg/cli.py`` maps :class:`SimulationError` (and so :class:`ScenarioError`) to exit 2.
"""

__all__ = ["SimulationError", "ScenarioError"]


class SimulationError(ValueError):
    """Base class for every error the simulation package raises on bad input."""


class ScenarioError(SimulationError):
    """A scenario file that cannot be used: ``FILE: key.path: what is wrong``."""
