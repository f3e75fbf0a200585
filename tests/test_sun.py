"""Sun position, solar elevation and eclipses against astropy / skyfield references."""
import numpy as np
import pytest

from _helpers import random_leo_tles
from groundseg import catalog
from groundseg.earth import GroundPoints
from groundseg.orbits import Constellation
from groundseg.sun import (PENUMBRA, SUNLIT, UMBRA, eclipse_intervals, eclipse_state,
                           solar_elevation_rad, sun_position_km, sunlit_fraction)
from groundseg.timegrid import TimeGrid, timescale


def _sep_deg(a, b):
    c = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.degrees(np.arccos(np.clip(c, -1, 1)))


def test_sun_direction_matches_astropy_get_sun():
    from astropy import units as u
    from astropy.coordinates import TEME, get_sun
    from astropy.time import Time
    grid = TimeGrid.range("2026-01-01T00:00Z", "2026-12-31T00:00Z", 86400 * 5.3)
    t = Time(grid.datetime64(), scale="utc")
    ref = get_sun(t)
    gcrs = ref.cartesian.xyz.to_value(u.km).T
    assert _sep_deg(sun_position_km(grid, "gcrs"), gcrs).max() < 0.01
    teme = ref.transform_to(TEME(obstime=t)).cartesian.xyz.to_value(u.km).T
    assert _sep_deg(sun_position_km(grid, "teme"), teme).max() < 0.01
    dist = np.linalg.norm(sun_position_km(grid, "itrs"), axis=1)
    np.testing.assert_allclose(dist, np.linalg.norm(gcrs, axis=1), rtol=1e-4)


def test_solar_elevation_matches_astropy_altaz():
    from astropy import units as u
    from astropy.coordinates import AltAz, EarthLocation, get_sun
    from astropy.time import Time
    pts = GroundPoints.from_degrees([25.03, -33.9, 69.6], [121.56, 18.4, 18.9], [10, 0, 0])
    grid = TimeGrid.range("2026-06-21T00:00Z", "2026-06-22T00:00Z", 1800.0)
    ours = np.degrees(solar_elevation_rad(pts, grid))
    t = Time(grid.datetime64(), scale="utc")
    sun = get_sun(t)
    for j in range(len(pts)):
        loc = EarthLocation.from_geodetic(pts.longitude_deg[j] * u.deg, pts.latitude_deg[j] * u.deg,
                                          pts.altitude_km[j] * u.km)
        alt = sun.transform_to(AltAz(obstime=t, location=loc)).alt.deg
        assert np.abs(alt - ours[j]).max() < 0.01


def test_eclipse_intervals_match_brute_force_scan():
    """1 s scan with skyfield satellite positions and astropy's Sun, conical shadow."""
    from astropy import units as u
    from astropy.coordinates import TEME, get_sun
    from astropy.time import Time
    from skyfield.api import EarthSatellite
    rng = np.random.default_rng(11)
    tles = random_leo_tles(rng, 2, alt_km=(450, 800))
    c = Constellation(catalog.parse_catalog("".join(f"{n}\n{a}\n{b}\n" for n, a, b in tles)).records)
    grid = TimeGrid.range("2026-11-26T06:00Z", "2026-11-26T12:00Z", 60.0)
    sats, starts, ends = eclipse_intervals(c.propagate(grid))

    fine = TimeGrid.range("2026-11-26T06:00Z", "2026-11-26T12:00Z", 1.0)
    t = Time(fine.datetime64()[::30], scale="utc")
    sun_coarse = get_sun(t).transform_to(TEME(obstime=t)).cartesian.xyz.to_value(u.km).T
    sun = np.stack([np.interp(fine.seconds, fine.seconds[::30], sun_coarse[:, k]) for k in range(3)], -1)
    ts = timescale()
    for i, (name, l1, l2) in enumerate(tles):
        r, _, _ = EarthSatellite(l1, l2, name, ts)._position_and_velocity_TEME_km(fine.skyfield_time)
        r = r.T
        d = sun - r
        rn, dn = np.linalg.norm(r, axis=1), np.linalg.norm(d, axis=1)
        sep = np.arccos(np.clip(-np.sum(r * d, 1) / rn / dn, -1, 1))
        umbra = sep < np.arcsin(6378.137 / rn) - np.arcsin(695700.0 / dn)
        edges = np.flatnonzero(np.diff(umbra.astype(int)))
        ref_entry = fine.seconds[edges[umbra[edges + 1]] + 1]
        ref_exit = fine.seconds[edges[~umbra[edges + 1]] + 1]
        ours = sats == i
        ent = starts[ours][starts[ours] > 0]
        ext = ends[ours][ends[ours] < grid.seconds[-1]]
        assert len(ent) == len(ref_entry) and len(ext) == len(ref_exit)
        assert len(ent) >= 2
        assert np.abs(ent - ref_entry).max() < 2.0
        assert np.abs(ext - ref_exit).max() < 2.0


def test_eclipse_state_and_fraction_are_consistent():
    rng = np.random.default_rng(5)
    tles = random_leo_tles(rng, 4)
    c = Constellation(catalog.parse_catalog("".join(f"{n}\n{a}\n{b}\n" for n, a, b in tles)).records)
    grid = TimeGrid.range("2026-03-20T00:00Z", "2026-03-21T00:00Z", 20.0)
    eph = c.propagate(grid)
    sun = sun_position_km(grid, "teme")
    state = eclipse_state(eph.position_km, sun)
    frac = sunlit_fraction(eph.position_km, sun)
    assert np.all(frac[state == SUNLIT] == 1.0)
    assert np.all(frac[state == UMBRA] == 0.0)
    pen = frac[state == PENUMBRA]
    assert pen.size > 0 and np.all((pen > 0) & (pen < 1))
    # A satellite over the sub-solar side is never in shadow.
    day = np.sum(eph.position_km * sun[None], -1) > 0
    assert np.all(state[day] == SUNLIT)


def test_bad_arguments_raise_groundseg_errors():
    from groundseg.errors import GroundsegError
    grid = TimeGrid.range("2026-11-26T00:00Z", "2026-11-26T01:00Z", 600.0)
    eph = Constellation.formosat8("2026-11-26T00:00Z").propagate(grid)
    sun = sun_position_km(grid, "teme")
    bad = [
        lambda: sun_position_km(grid, "icrs"),
        lambda: sunlit_fraction(eph.position_km, sun[:3]),
        lambda: eclipse_state(eph.position_km[0], sun),
        lambda: sunlit_fraction(eph.position_km, "sun"),
        lambda: eclipse_intervals(eph.position_km),
        lambda: eclipse_intervals(eph, tol_s=0.0),
        lambda: solar_elevation_rad([(25.0, 121.0)], grid),
    ]
    for call in bad:
        with pytest.raises(GroundsegError):
            call()
