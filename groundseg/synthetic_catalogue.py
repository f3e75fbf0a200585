"""A synthetic catalogue with the public catalogue's mix of orbits, for scale tests.

The tracked-object catalogue (some 30,000 objects) is mostly low Earth orbit; the rest is
navigation satellites in medium orbit, the geostationary belt and highly eccentric orbits.
:func:`synthetic_catalogue` draws ``n`` objects in these classes (fractions of
:data:`ORBIT_CLASSES`, rounded), each a TLE built with sgp4's own initialiser and exporter
(:func:`groundseg.catalog.record_from_elements`), so objects with periods of 225 min or more
run through SDP4 (deep space) as real ones do:

- ``leo`` (80 %): a third in mega-constellation shells (540-570 km, 43 / 53 / 70 / 97.6 deg),
  a quarter sun-synchronous (450-900 km), the rest debris-like (300-2000 km, inclinations
  clustered at 65 / 74 / 82 / 98 deg or spread, eccentricity exponential with mean 0.005,
  capped at 0.12);
- ``meo`` (4 %): GNSS-like (GPS, GLONASS, Galileo and BeiDou altitudes and inclinations);
- ``geo`` (8 %): the geostationary belt +-300 km, inclinations 0-15 deg (old, drifting
  objects), eccentricity below 0.005;
- ``heo`` (8 %): transfer orbits (GTO: perigee 200-650 km, apogee 35,000-36,500 km,
  inclination 0-30 deg), Molniya (e 0.68-0.74, 63.4 deg, perigee in the south) and Tundra
  (e 0.25-0.30).

Element draws depend only on ``seed``; NORAD ids run from ``first_norad_id``; names are
``<CLASS>-<index>`` (e.g. ``GEO-17``).
"""
from __future__ import annotations

import numpy as np

from .catalog import record_from_elements
from .earth import WGS72_A_KM, WGS72_MU_KM3_S2
from .errors import GroundsegError

__all__ = ["ORBIT_CLASSES", "class_counts", "synthetic_catalogue"]

ORBIT_CLASSES = {"leo": 0.80, "meo": 0.04, "geo": 0.08, "heo": 0.08}
_GEO_RADIUS_KM = 42164.2


def _mean_motion_rev_day(a_km):
    return np.sqrt(WGS72_MU_KM3_S2 / np.asarray(a_km, dtype=float) ** 3) * 86400.0 / (2 * np.pi)


def _leo(rng, n):
    kind = rng.choice(3, size=n, p=[1 / 3, 1 / 4, 1 - 1 / 3 - 1 / 4])
    alt = np.where(kind == 0, rng.uniform(540, 570, n),
                   np.where(kind == 1, rng.uniform(450, 900, n),
                            np.clip(rng.gamma(4.0, 200.0, n) + 300.0, 300.0, 2000.0)))
    shells = np.array([43.0, 53.0, 53.0, 70.0, 97.6])
    clusters = np.array([65.0, 74.0, 82.0, 98.0])
    a = WGS72_A_KM + alt
    sso = np.degrees(np.arccos(np.clip(-(a / 12352.0) ** 3.5, -1, 1)))
    spread = np.where(rng.random(n) < 0.6, rng.choice(clusters, n) + rng.normal(0, 1.0, n),
                      rng.uniform(0, 110, n))
    inc = np.where(kind == 0, rng.choice(shells, n), np.where(kind == 1, sso, spread))
    ecc = np.where(kind == 2, np.minimum(rng.exponential(0.005, n), 0.12),
                   rng.uniform(0, 0.002, n))
    # Keep the perigee above 250 km.
    ecc = np.minimum(ecc, 1.0 - (WGS72_A_KM + 250.0) / a)
    return a, np.clip(ecc, 0, None), np.clip(inc, 0, 180), rng.uniform(0, 360, n)


def _meo(rng, n):
    systems = np.array([[20180.0, 55.0], [19130.0, 64.8], [23222.0, 56.0], [21528.0, 55.0]])
    pick = systems[rng.integers(0, len(systems), n)]
    a = WGS72_A_KM + pick[:, 0] + rng.normal(0, 50, n)
    return a, rng.uniform(0, 0.02, n), pick[:, 1] + rng.normal(0, 1.0, n), rng.uniform(0, 360, n)


def _geo(rng, n):
    a = _GEO_RADIUS_KM + rng.uniform(-300, 300, n)
    return a, rng.uniform(0, 0.005, n), rng.uniform(0, 15, n), rng.uniform(0, 360, n)


def _heo(rng, n):
    kind = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    rp = WGS72_A_KM + rng.uniform(200, 650, n)
    ra = WGS72_A_KM + rng.uniform(35000, 36500, n)
    a_gto, e_gto = 0.5 * (rp + ra), (ra - rp) / (ra + rp)
    a = np.where(kind == 0, a_gto, np.where(kind == 1, 26560.0 + rng.normal(0, 20, n),
                                            _GEO_RADIUS_KM + rng.normal(0, 20, n)))
    ecc = np.where(kind == 0, e_gto, np.where(kind == 1, rng.uniform(0.68, 0.74, n),
                                               rng.uniform(0.25, 0.30, n)))
    inc = np.where(kind == 0, rng.uniform(0, 30, n), 63.4 + rng.normal(0, 0.3, n))
    argp = np.where(kind == 0, rng.uniform(0, 360, n), 270.0 + rng.normal(0, 5, n))
    return a, ecc, inc, argp


_DRAW = {"leo": _leo, "meo": _meo, "geo": _geo, "heo": _heo}


def class_counts(n: int) -> dict:
    """How many of ``n`` objects fall in each class (largest remainders)."""
    share = np.array(list(ORBIT_CLASSES.values())) * n
    count = np.floor(share).astype(int)
    count[np.argsort(count - share)[: n - count.sum()]] += 1
    return dict(zip(ORBIT_CLASSES, count.tolist()))


def synthetic_catalogue(n: int, epoch_jd: float, epoch_fr: float, *, seed: int = 0,
                        first_norad_id: int = 100001) -> list:
    """``n`` :class:`~groundseg.catalog.CatalogRecord` in the classes of the module docstring,
    all with epoch ``epoch_jd + epoch_fr`` (UTC Julian date), classes in the order of
    :data:`ORBIT_CLASSES`."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise GroundsegError(f"catalogue size must be a whole number >= 1, got {n!r}")
    if first_norad_id + n - 1 > 339999:
        raise GroundsegError(f"{n} objects from NORAD id {first_norad_id} pass 339999, "
                             "the last id a TLE holds")
    rng = np.random.default_rng(seed)
    records = []
    for cls, count in class_counts(int(n)).items():
        a, ecc, inc, argp = _DRAW[cls](rng, count)
        raan, mean_anomaly = rng.uniform(0, 360, count), rng.uniform(0, 360, count)
        mm = _mean_motion_rev_day(a)
        bstar = rng.uniform(0, 1e-4, count) if cls == "leo" else np.zeros(count)
        for i in range(count):
            nid = first_norad_id + len(records)
            records.append(record_from_elements(
                norad_id=nid, name=f"{cls.upper()}-{i + 1}", epoch_jd=epoch_jd,
                epoch_fr=epoch_fr, inclination_deg=float(inc[i]), raan_deg=float(raan[i]),
                eccentricity=float(ecc[i]), arg_perigee_deg=float(argp[i]),
                mean_anomaly_deg=float(mean_anomaly[i]), mean_motion_rev_day=float(mm[i]),
                bstar=float(bstar[i])))
    return records
