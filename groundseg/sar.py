"""The SAR instrument: side-looking radar modes, look sides and the payload's limits.

A SAR satellite images a point when the point is **broadside**: the line of sight is (nearly)
perpendicular to the satellite's Earth-fixed velocity (zero Doppler), to the left or the right
of the ground track, at an **incidence angle** inside the mode's band. The incidence is the
angle at the target between the local vertical (the WGS84 ellipsoid normal) and the line of
sight to the satellite; it is not the off-nadir angle at the satellite. On a sphere of radius
R through the target, with the satellite at radius r, the two are related by ``R
sin(incidence) = r sin(off-nadir)`` and the geocentric angle between them is ``psi =
incidence - off-nadir`` (:mod:`groundseg.bounds`; the ellipsoid normal is at most 0.19 deg from
the geocentric radius, which the access search allows for). Radar needs no daylight: there is
no Sun condition.

Every number of :data:`SAR_MODES` is a **planning assumption** typical of a small X-band SAR
satellite (the ~1,200 W high-power amplifier of the SAR design in issue 16), not a
programme's figure:

============  =========  ===========  ==========  =============  =======  ===========  ======
mode          swath km   scene km     resolution  incidence deg  squint   data Gbit/s  power W
============  =========  ===========  ==========  =============  =======  ===========  ======
spotlight     5          5 (10 s)     1 m         20 - 35        10 deg   1.2          1,200
stripmap      30         30 (4.5 s)   3 m         15 - 40        1 deg    0.8          1,200
scansar       100        100 (15 s)   15 m        20 - 45        1 deg    0.4          1,000
============  =========  ===========  ==========  =============  =======  ===========  ======

``max_squint_deg``: how far from broadside the centre of a scene may be (a spotlight steers
the beam, or the agile platform yaws, to dwell on the target; stripmap and ScanSAR image at
zero Doppler, the degree covers yaw steering). A point target is imaged by a scene of
``scene_duration_s`` centred on an instant at which it is inside the band, on an allowed
side and within the squint limit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import GroundsegError

__all__ = ["SarMode", "SarSensor", "SAR_MODES", "LOOK_SIDES", "ORBIT_DIRECTIONS",
           "look_side_sign", "orbit_direction_sign"]

LOOK_SIDES = ("left", "right", "both")
ORBIT_DIRECTIONS = ("ascending", "descending", "both")


def _positive(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0):
        raise GroundsegError(f"{owner} {name} must be a positive number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class SarMode:
    """One imaging mode: ``swath_km`` across track, ``scene_length_km`` along it (the image of
    a point target is one scene), ``scene_duration_s`` (radar on per scene), ``resolution_m``,
    the incidence band ``incidence_min_deg`` .. ``incidence_max_deg`` at the target,
    ``max_squint_deg`` (module docstring), ``data_rate_gbit_s`` while the radar is on and
    ``radar_power_w`` drawn meanwhile."""

    name: str
    swath_km: float
    scene_length_km: float
    scene_duration_s: float
    resolution_m: float
    incidence_min_deg: float
    incidence_max_deg: float
    max_squint_deg: float
    data_rate_gbit_s: float
    radar_power_w: float

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise GroundsegError(f"SAR mode name must be a non-empty string, got {self.name!r}")
        owner = f"SAR mode {self.name!r}"
        for key in ("swath_km", "scene_length_km", "scene_duration_s", "resolution_m",
                    "max_squint_deg", "data_rate_gbit_s", "radar_power_w"):
            _positive(owner, key, getattr(self, key))
        lo, hi = self.incidence_min_deg, self.incidence_max_deg
        for key, value in (("incidence_min_deg", lo), ("incidence_max_deg", hi)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise GroundsegError(f"{owner} {key} must be a number, got {value!r}")
        if not 0 < lo < hi < 80:
            raise GroundsegError(f"{owner}: incidence band {lo!r}..{hi!r} deg must satisfy "
                                 f"0 < min < max < 80")
        if not self.max_squint_deg < 45:
            raise GroundsegError(f"{owner} max_squint_deg must be below 45, got {self.max_squint_deg!r}")

    @property
    def scene_data_gbit(self) -> float:
        """Data volume of one scene."""
        return self.data_rate_gbit_s * self.scene_duration_s

    @property
    def scene_energy_wh(self) -> float:
        """Radar energy of one scene."""
        return self.radar_power_w * self.scene_duration_s / 3600.0


#: The bundled modes (planning assumptions; see the module docstring).
SAR_MODES = (
    SarMode("spotlight", 5.0, 5.0, 10.0, 1.0, 20.0, 35.0, 10.0, 1.2, 1200.0),
    SarMode("stripmap", 30.0, 30.0, 4.5, 3.0, 15.0, 40.0, 1.0, 0.8, 1200.0),
    SarMode("scansar", 100.0, 100.0, 15.0, 15.0, 20.0, 45.0, 1.0, 0.4, 1000.0),
)


@dataclass(frozen=True)
class SarSensor:
    """A SAR payload: its ``modes``, the ``look_side`` it can image on (``left``, ``right`` or
    ``both``: an agile platform rolls to either side), its limits per orbit:
    ``max_radar_on_s_per_orbit`` (duty cycle: the amplifier's thermal limit) and
    ``radar_energy_wh_per_orbit`` (what the power system can give the radar), and the modes
    a plan uses for point targets (``point_mode``) and for areas (``area_mode``). Defaults
    are planning assumptions."""

    modes: tuple = SAR_MODES
    look_side: str = "both"
    max_radar_on_s_per_orbit: float = 180.0
    radar_energy_wh_per_orbit: float = 50.0
    point_mode: str = "spotlight"
    area_mode: str = "stripmap"
    _by_name: dict = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        modes = tuple(self.modes)
        if not modes or not all(isinstance(m, SarMode) for m in modes):
            raise GroundsegError("SAR sensor modes must be a non-empty sequence of SarMode")
        names = [m.name for m in modes]
        if len(set(names)) != len(names):
            raise GroundsegError(f"SAR sensor modes have duplicate names: {names}")
        if self.look_side not in LOOK_SIDES:
            raise GroundsegError(f"SAR look side must be one of {', '.join(LOOK_SIDES)}, "
                                 f"got {self.look_side!r}")
        _positive("SAR sensor", "max_radar_on_s_per_orbit", self.max_radar_on_s_per_orbit)
        _positive("SAR sensor", "radar_energy_wh_per_orbit", self.radar_energy_wh_per_orbit)
        object.__setattr__(self, "modes", modes)
        object.__setattr__(self, "_by_name", {m.name: m for m in modes})
        self.mode(self.point_mode), self.mode(self.area_mode)

    def mode(self, name: str) -> SarMode:
        """The mode called ``name``."""
        try:
            return self._by_name[name]
        except (KeyError, TypeError):
            raise GroundsegError(f"unknown SAR mode {name!r} (have: "
                                 f"{', '.join(self._by_name)})") from None

    @property
    def mode_names(self) -> tuple:
        return tuple(self._by_name)


def look_side_sign(side: str) -> tuple:
    """The signs of the cross-track component a look side allows: right +1, left -1."""
    if side not in LOOK_SIDES:
        raise GroundsegError(f"look side must be one of {', '.join(LOOK_SIDES)}, got {side!r}")
    return {"right": (1,), "left": (-1,), "both": (1, -1)}[side]


def orbit_direction_sign(direction: str) -> int:
    """+1 ascending (moving north), -1 descending, 0 either."""
    if direction not in ORBIT_DIRECTIONS:
        raise GroundsegError(f"orbit direction must be one of {', '.join(ORBIT_DIRECTIONS)}, "
                             f"got {direction!r}")
    return {"ascending": 1, "descending": -1, "both": 0}[direction]
