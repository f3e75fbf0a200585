"""Exception classes raised at the package boundary.

:class:`GroundsegError` is the project's one base class: the errors of every package derive
from it (``telemetry.errors.TelemetryError``, ``sims.errors.SimulationError``, the planning
and target errors here), and the command line turns it into one line and exit status 2.
It is a ``ValueError``, so code that caught ``ValueError`` still does. Messages are in domain
terms and carry a location where there is one (``catalog.tle:17: checksum 3 expected 5``).
"""


class GroundsegError(ValueError):
    """Base class for every error groundseg raises on bad input."""


class CatalogError(GroundsegError):
    """A TLE / OMM record or file that cannot be read."""


class TimeError(GroundsegError):
    """A time or time window that cannot be used."""


class StationError(GroundsegError):
    """A ground-station definition that cannot be used."""


def positive_number(value, name: str, error: type = GroundsegError) -> float:
    """``value`` as a finite positive float; else ``error`` naming ``name``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise error(f"{name} must be a positive number, got {value!r}") from None
    if not (x > 0 and x != float("inf")):
        raise error(f"{name} must be a positive number, got {value!r}")
    return x
