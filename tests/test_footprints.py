"""Station visibility contours against skyfield (an independent Earth model and topocentric
frame) and the spherical closed form."""
import numpy as np
import pytest
from skyfield.api import load, wgs84

from groundseg.earth import EARTH_MEAN_RADIUS_KM
from groundseg.errors import GroundsegError
from groundseg.footprints import visibility_contour
from groundseg.stations import Station, bundled_stations


def test_every_contour_point_is_at_the_required_elevation_skyfield():
    t = load.timescale(builtin=True).utc(2026, 11, 26)
    for station in bundled_stations():          # masks, the Arctic and the Antarctic
        lat, lon = visibility_contour(station, 561.0, n_azimuth=24)
        observer = wgs84.latlon(station.latitude_deg, station.longitude_deg,
                                elevation_m=station.altitude_m)
        for i in range(24):
            sat = wgs84.latlon(lat[i], lon[i], elevation_m=561_000.0)
            el, az, _ = (sat - observer).at(t).altaz()
            assert el.degrees == pytest.approx(station.mask_elevation_deg(15.0 * i), abs=1e-6)
            assert (az.degrees - 15.0 * i + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-6)
        assert lat[0] == lat[-1] and lon[0] == lon[-1]


def _geocentric_deg(lat_deg):
    f = 1 / 298.257223563
    return np.degrees(np.arctan((1 - f) ** 2 * np.tan(np.radians(lat_deg))))


def _central_angle_deg(lat0, lon0, lat, lon):
    a, b = np.radians([lat0, lon0])
    la, lo = np.radians(lat), np.radians(lon)
    return np.degrees(np.arccos(np.clip(np.sin(a) * np.sin(la) +
                                        np.cos(a) * np.cos(la) * np.cos(lo - b), -1, 1)))


@pytest.mark.parametrize("elevation_deg", [0.0, 5.0, 10.0, 30.0])
def test_radius_against_the_spherical_closed_form(elevation_deg):
    station = Station("equator", 0.0, 30.0, 0.0, min_elevation_deg=elevation_deg)
    lat, lon = visibility_contour(station, 561.0, n_azimuth=72)
    e, r, h = np.radians(elevation_deg), EARTH_MEAN_RADIUS_KM, 561.0
    expected = np.degrees(np.arccos(r * np.cos(e) / (r + h)) - e)
    # The ellipsoid differs from the sphere by a few tenths of a per cent at this size.
    assert _central_angle_deg(0.0, 30.0, _geocentric_deg(lat), lon) == \
        pytest.approx(expected, rel=0.006)


def test_a_higher_mask_shrinks_the_contour_there_only():
    flat = Station("flat", 24.0, 121.0, 0.0, min_elevation_deg=5.0)
    hill = Station("hill", 24.0, 121.0, 0.0, min_elevation_deg=5.0,
                   mask=((0.0, 5.0), (80.0, 5.0), (90.0, 20.0), (100.0, 5.0), (360.0, 5.0)))
    a = _central_angle_deg(24.0, 121.0, *visibility_contour(flat, 561.0, n_azimuth=36))
    b = _central_angle_deg(24.0, 121.0, *visibility_contour(hill, 561.0, n_azimuth=36))
    assert b[9] < a[9] - 5.0                      # east (90 deg): 20 deg mask
    assert np.allclose(np.delete(b, [9]), np.delete(a, [9]))


def test_bad_input():
    st = bundled_stations()[0]
    for alt in (0.0, -5.0, float("nan"), "high"):
        with pytest.raises(GroundsegError, match="altitude"):
            visibility_contour(st, alt)
    with pytest.raises(GroundsegError, match="n_azimuth"):
        visibility_contour(st, 561.0, n_azimuth=2)
    with pytest.raises(GroundsegError, match="Station"):
        visibility_contour((24.0, 121.0), 561.0)
