"""The rate bounds and angle limits every search relies on, against dense SGP4 and plain
vector geometry."""
import numpy as np
import pytest
from sgp4.api import SatrecArray

from groundseg.bounds import (SUN_ELEVATION_RATE_RAD_S, OffNadirBound, elevation_limit_rad,
                              off_nadir_limit_rad, orbit_bounds)
from groundseg.catalog import parse_catalog
from groundseg.earth import GroundPoints
from groundseg.orbits import Constellation
from groundseg.sun import solar_elevation_rad
from groundseg.timegrid import TimeGrid

from _helpers import random_leo_tles

OMEGA_E = 7.2921159e-5          # rad/s, IERS conventional value (independent of groundseg)


def _sgp4(satrecs, jd0, seconds):
    """TEME states straight from sgp4 (km, km/s), ``(n_sat, n_time, 3)``."""
    jd = np.full(seconds.size, jd0)
    fr = seconds / 86400.0
    err, r, v = SatrecArray(satrecs).sgp4(jd, fr)
    assert np.all(err == 0)
    return r, v


@pytest.mark.parametrize("ecc_max,step_s", [(0.01, 240.0), (0.12, 60.0)])
def test_orbit_bounds_hold_between_samples(ecc_max, step_s):
    """Radius, radial speed, Earth-fixed turning rate of r and Earth-fixed speed, every 2 s
    for 12 h, stay inside the bounds taken from samples ``step_s`` apart."""
    rng = np.random.default_rng(17)
    tles = random_leo_tles(rng, 12, alt_km=(350.0, 1500.0), ecc_max=ecc_max)
    c = Constellation(parse_catalog("\n".join("\n".join(t) for t in tles)).records)
    jd0 = 2461370.75
    coarse = np.arange(0.0, 43200.0 + 1, step_s)
    fine = np.arange(0.0, 43200.0, 2.0)
    b = orbit_bounds(*_sgp4(c.satrecs, jd0, coarse), step_s)
    r, v = _sgp4(c.satrecs, jd0, fine)
    rn = np.linalg.norm(r, axis=-1)
    assert np.all(rn >= b.radius_lo_km[:, None]) and np.all(rn <= b.radius_hi_km[:, None])
    rdot = np.einsum("sti,sti->st", r, v) / rn
    assert np.all(np.abs(rdot) <= b.radial_speed_km_s[:, None])
    # Turning rate of r's direction in the Earth-fixed frame: the inertial angular velocity
    # minus the Earth's, perpendicular to r.
    w = np.cross(r, v) / rn[..., None] ** 2 - np.array([0.0, 0.0, OMEGA_E])
    u = r / rn[..., None]
    w_perp = w - np.einsum("sti,sti->st", w, u)[..., None] * u
    assert np.all(np.linalg.norm(w_perp, axis=-1) <= b.angle_rate_rad_s[:, None])
    v_fixed = v - np.cross(np.array([0.0, 0.0, OMEGA_E]), r)
    assert np.all(np.linalg.norm(v_fixed, axis=-1) <= b.speed_km_s[:, None])
    # Tight enough to be useful: within 2 % of n + omega_E.
    n = np.array([s.no_kozai for s in c.satrecs]) / 60.0
    assert np.all(b.angle_rate_rad_s < 1.02 * (n * (1 + ecc_max) ** 2 / (1 - ecc_max**2) ** 1.5
                                               + OMEGA_E))


def test_failed_satellite_gets_nan_bounds():
    r = np.full((2, 5, 3), np.nan)
    r[0] = [7000.0, 0.0, 0.0]
    v = np.zeros((2, 5, 3))
    v[0] = [0.0, 7.5, 0.0]
    b = orbit_bounds(r, v, 60.0)
    assert np.isfinite(b.angle_rate_rad_s[0]) and np.isnan(b.angle_rate_rad_s[1])


def _triangle(r_km, point_km, psi):
    """Off-nadir angle, in-view flag and geocentric elevation of a point at geocentric
    angle psi from a satellite, by plain vectors (satellite on z, point in the x-z plane)."""
    sat = np.stack([np.zeros_like(psi), np.zeros_like(psi), np.full_like(psi, r_km)], -1)
    p = point_km * np.stack([np.sin(psi), np.zeros_like(psi), np.cos(psi)], -1)
    los = p - sat
    los /= np.linalg.norm(los, axis=-1, keepdims=True)
    off = np.arccos(np.clip(-los[..., 2], -1, 1))
    up = p / point_km
    elevation = np.arcsin(np.clip(-np.einsum("...i,...i", los, up), -1, 1))
    return off, elevation >= 0, elevation


def test_limits_match_the_triangle():
    rng = np.random.default_rng(3)
    psi = np.linspace(0.0, 0.6, 60001)
    for _ in range(40):
        r, R = rng.uniform(6650.0, 8200.0), rng.uniform(6356.0, 6390.0)
        off, in_view, el = _triangle(r, R, psi)
        eta = rng.uniform(0.01, 1.4)            # past the limb too: the horizon branch
        lam = off_nadir_limit_rad(r, R, eta)
        inside = (off <= eta) & in_view
        assert np.all(inside[psi < lam - 1e-9]) and not np.any(inside[psi > lam + 1e-9])
        eps = rng.uniform(-0.05, 1.5)
        lam_e = elevation_limit_rad(r, R, eps)
        assert np.all(el[psi < lam_e - 1e-9] >= eps) and np.all(el[psi > lam_e + 1e-9] < eps)


def test_limit_slope_bounds_the_numerical_derivative():
    rng = np.random.default_rng(5)
    for _ in range(200):
        eta = rng.uniform(0.05, 1.3)
        r_lo = rng.uniform(6650.0, 7800.0)
        r_hi = r_lo + rng.uniform(0.0, 300.0)
        R_lo, R_hi = 6356.75, 6388.14
        r = np.linspace(r_lo, r_hi, 301)[:, None]
        R = np.linspace(R_lo, R_hi, 31)[None, :]
        x = r * np.sin(eta) / R
        far = np.abs(np.arcsin(np.minimum(x, 1)) - np.pi / 2) > np.radians(2.6)   # off the cap
        lam = off_nadir_limit_rad(r, R, eta)
        slope = np.abs(np.diff(lam, axis=0) / np.diff(r, axis=0))
        ok = far[1:] & far[:-1]
        bound = OffNadirBound(eta).slope_rad_km(r_lo, r_hi, R_lo, R_hi)
        assert np.all(slope[ok] <= bound * (1 + 1e-6))


def test_sun_elevation_rate_bound():
    """Solar elevation (groundseg.sun, checked against astropy in test_sun) at random points
    on an equinox and a solstice, differenced over 60 s."""
    rng = np.random.default_rng(8)
    lat = np.append(np.degrees(np.arcsin(rng.uniform(-1, 1, 40))), 0.0)   # and the equator
    pts = GroundPoints.from_degrees(lat, rng.uniform(-180, 180, 41))
    fastest = 0.0
    for day in ("2026-03-20", "2026-06-21"):
        grid = TimeGrid.range(f"{day}T00:00:00Z", f"{day}T23:59:00Z", 60.0)
        el = solar_elevation_rad(pts, grid)
        rate = np.abs(np.diff(el, axis=1)) / 60.0
        assert rate.max() <= SUN_ELEVATION_RATE_RAD_S
        fastest = max(fastest, rate.max())
    assert fastest > 0.99 * OMEGA_E                  # the bound is not loose either
