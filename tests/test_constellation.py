"""Synthetic constellations: Walker geometry, sun-synchronous inclination and node local time."""
import numpy as np
import pytest
from sgp4.api import Satrec

from groundseg import catalog
from groundseg.errors import GroundsegError
from groundseg.orbits import Constellation, sun_synchronous_inclination_deg
from groundseg.timegrid import TimeGrid, timescale


def test_walker_delta_geometry_in_emitted_tles():
    c = Constellation.walker(53.0, 24, 3, 1, 550.0, "2026-11-26T00:00:00Z")
    assert len(c) == 24 and len(set(c.norad_ids.tolist())) == 24
    # Parse the emitted TLE text with sgp4 itself: it must be real, valid TLE.
    recs = catalog.parse_catalog(c.to_tle(), strict=True).records
    sats = [Satrec.twoline2rv(*r.tle) for r in recs]
    raan = np.degrees([s.nodeo for s in sats])
    ma = np.degrees([s.mo for s in sats])
    inc = np.degrees([s.inclo for s in sats])
    np.testing.assert_allclose(inc, 53.0, atol=1e-4)
    np.testing.assert_allclose(sorted(set(np.round(raan, 3))), [0.0, 120.0, 240.0], atol=1e-3)
    # In-plane spacing 45 deg, inter-plane phase offset F * 360 / T = 15 deg.
    np.testing.assert_allclose(np.diff(ma[:8]), 45.0, atol=1e-3)
    np.testing.assert_allclose((ma[8] - ma[0]) % 360, 15.0, atol=1e-3)
    a_km = (398600.4418 / (sats[0].no_kozai / 60.0) ** 2) ** (1 / 3)
    assert abs(a_km - 6378.137 - 550.0) < 0.5


@pytest.mark.parametrize("alt_km,inc_deg", [(500.0, 97.40), (561.0, 97.64), (800.0, 98.60)])
def test_sun_synchronous_inclination_matches_published_values(alt_km, inc_deg):
    # Published SSO inclinations for circular orbits (e.g. Wertz, Space Mission Engineering).
    assert abs(sun_synchronous_inclination_deg(alt_km) - inc_deg) < 0.03


def test_sso_node_precession_follows_the_sun():
    c = Constellation.sun_synchronous(1, 561.0, "2026-11-26T00:00Z", ltdn_h=10.5)
    s = c.satrecs[0]
    # sgp4's secular node rate (rad/min) vs the mean Sun's 360 deg / tropical year.
    assert abs(s.nodedot / (2 * np.pi / (365.2422 * 1440)) - 1.0) < 0.01


def test_formosat8_descending_node_local_time_is_10_30():
    """Independent check: skyfield propagation, node crossing, mean local solar time."""
    from skyfield.api import EarthSatellite, wgs84
    c = Constellation.formosat8("2026-11-26T00:00:00Z")
    assert len(c) == 8 and c.names[0] == "FS8-1"
    ts = timescale()
    grid = TimeGrid.range("2026-11-26T00:00Z", "2026-11-27T00:00Z", 10.0)
    t = grid.skyfield_time
    for rec in c.records:
        sat = EarthSatellite(*rec.tle, rec.name, ts)
        at = sat.at(t)
        lat = wgs84.latlon_of(at)[0].degrees
        lon = wgs84.latlon_of(at)[1].degrees
        k = np.flatnonzero((lat[:-1] > 0) & (lat[1:] <= 0))   # descending node crossings
        assert k.size >= 14
        ut_h = grid.seconds[k] / 3600.0
        lmt = (ut_h + lon[k] / 15.0) % 24.0
        # Short-periodic J2 terms move the osculating node by a few tenths of a degree.
        assert np.abs(lmt - 10.5).max() < 3.0 / 60.0
        alt = wgs84.height_of(at).km
        assert 545.0 < alt.mean() < 580.0


def test_bad_constellation_parameters():
    with pytest.raises(GroundsegError, match="multiple"):
        Constellation.walker(53, 10, 3, 1, 550, "2026-01-01")
    with pytest.raises(GroundsegError, match="exactly one"):
        Constellation.sun_synchronous(2, 561, "2026-01-01")
    with pytest.raises(GroundsegError, match="no sun-synchronous"):
        sun_synchronous_inclination_deg(20000.0)
