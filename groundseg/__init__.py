"""groundseg: ground segment for an optical Earth-observation constellation.

The public API; units are in the names (``altitude_km``, ``elevation_deg``), shapes in the
docstrings: satellites x times ``(n_sat, n_time, 3)``, topocentric ``(n_sat, n_site, n_time)``.
"""
from .access import Opportunities, Sensor, find_opportunities
from .earth import GroundPoints
from .errors import CatalogError, GroundsegError, StationError, TimeError
from .contacts import ContactPlan, plan_contacts
from .orbits import Constellation, Ephemeris
from .passes import PassTable, passes_from_ephemeris, pointing_table, predict_passes
from .stations import Station, bundled_stations, load_stations
from .table import Table
from .targets import TargetDefaults, TargetError, Targets, bundled_targets, load_targets
from .timegrid import TimeGrid

__all__ = [
    "Constellation", "Ephemeris", "TimeGrid", "GroundPoints",
    "Station", "load_stations", "bundled_stations", "Table",
    "GroundsegError", "CatalogError", "StationError", "TimeError",
    "Targets", "TargetDefaults", "load_targets", "bundled_targets", "TargetError",
    "Sensor", "Opportunities", "find_opportunities",
    "predict_passes", "passes_from_ephemeris", "pointing_table", "PassTable",
    "plan_contacts", "ContactPlan",
]
__version__ = "0.1.0"
