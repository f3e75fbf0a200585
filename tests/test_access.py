"""Imaging opportunities against independent references.

The checker recomputes every opportunity with skyfield (satellite and target in GCRS, the
local orbital frame from skyfield's inertial state) and astropy (the Sun): off-nadir within
the limit and Sun above the minimum at both ends of the nominal acquisition, the reported
roll / pitch rotating nadir onto the line of sight, window edges on a limit, the best time a
minimum, the GSD formula. A brute-force 10 s scan finds no window we miss, and targets placed
to graze the off-nadir limit (windows of a few seconds, invisible to the scan) are all found.
"""
import numpy as np
import pytest
from skyfield.api import EarthSatellite, wgs84
from skyfield.framelib import itrs as sf_itrs

from groundseg.access import (ACCESS_COLUMNS, OPPORTUNITY_COLUMNS, Sensor, access_intervals,
                              find_opportunities, pointing)
from groundseg.errors import GroundsegError
from groundseg.orbits import Constellation, Ephemeris
from groundseg.targets import TargetError, Targets, bundled_targets
from groundseg.timegrid import TimeGrid, timescale

EPOCH = "2026-11-26T00:00:00Z"
END = "2026-11-27T00:00:00Z"
_A = 6378.137
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
ARCSEC = np.radians(1 / 3600)


# -- independent reference geometry --------------------------------------------------------

def _sky_times(seconds):
    return timescale().utc(2026, 11, 26, 0, 0, np.asarray(seconds, dtype=float))


def _sky_sat(constellation, sat, seconds):
    """GCRS position km / velocity km/s ``(m, 3)`` from skyfield on the same satrecs."""
    sat = np.asarray(sat)
    seconds = np.asarray(seconds, dtype=float)
    r = np.empty((sat.size, 3))
    v = np.empty((sat.size, 3))
    ts = timescale()
    for s in np.unique(sat):
        sel = sat == s
        at = EarthSatellite.from_satrec(constellation.satrecs[s], ts).at(_sky_times(seconds[sel]))
        r[sel] = at.position.km.T
        v[sel] = at.velocity.km_per_s.T
    return r, v


def _sky_itrs_to_gcrs(p_itrs, seconds):
    R = sf_itrs.rotation_at(_sky_times(seconds))          # ITRS = R GCRS
    R = R if R.ndim == 3 else R[:, :, None]
    return np.einsum("jim,mj->mi", R, np.broadcast_to(p_itrs, (R.shape[2], 3)))


def _ground_itrs(lat, lon, alt_m):
    return wgs84.latlon(np.asarray(lat, float), np.asarray(lon, float),
                        elevation_m=np.asarray(alt_m, float)).itrs_xyz.km.T.reshape(-1, 3)


def _up(lat, lon):
    lat, lon = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


def _off_nadir(r, p):
    """Off-nadir angle (deg) of ground point ``p`` seen from ``r``; NaN when ``p`` is behind
    the Earth (the satellite below its horizon)."""
    los = p - r
    c = np.sum(-r * los, -1) / np.linalg.norm(r, axis=-1) / np.linalg.norm(los, axis=-1)
    visible = np.sum(-los * p, -1) > 0
    return np.where(visible, np.degrees(np.arccos(np.clip(c, -1, 1))), np.nan)


def _boresight(r, v, roll_deg, pitch_deg):
    """Nadir rotated by C = R_y(pitch) R_x(-roll) in the frame built from (r, v)."""
    z = -r / np.linalg.norm(r, axis=1)[:, None]
    x = v - np.sum(v * z, 1)[:, None] * z
    x /= np.linalg.norm(x, axis=1)[:, None]
    y = np.cross(z, x)
    ph, th = np.radians(roll_deg), np.radians(pitch_deg)
    out = np.empty((len(r), 3))
    for i in range(len(r)):
        c, s = np.cos(-ph[i]), np.sin(-ph[i])
        Rx = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
        c, s = np.cos(th[i]), np.sin(th[i])
        Ry = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
        b = Ry @ Rx @ np.array([0.0, 0.0, 1.0])
        out[i] = b[0] * x[i] + b[1] * y[i] + b[2] * z[i]
    return out


def _angle(a, b):
    c = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.arccos(np.clip(c, -1, 1))


def _astropy_sun_elevation(lat, lon, alt_m, seconds):
    from astropy import units as u
    from astropy.coordinates import AltAz, EarthLocation, get_sun
    from astropy.time import Time
    t = Time("2026-11-26T00:00:00", scale="utc") + np.asarray(seconds, float) * u.s
    loc = EarthLocation.from_geodetic(np.asarray(lon) * u.deg, np.asarray(lat) * u.deg,
                                      np.asarray(alt_m) * u.m)
    return get_sun(t).transform_to(AltAz(obstime=t, location=loc)).alt.deg


class _Checker:
    """Off-nadir / attitude / Sun at (satellite, time, aim point) with skyfield + astropy."""

    def __init__(self, constellation):
        self.c = constellation

    def off_nadir(self, sat, seconds, lat, lon, alt_m):
        r, _ = _sky_sat(self.c, sat, seconds)
        p = _sky_itrs_to_gcrs(_ground_itrs(lat, lon, alt_m), seconds)
        return _off_nadir(r, p)

    def pointing_error_arcsec(self, sat, seconds, lat, lon, alt_m, roll, pitch):
        r, v = _sky_sat(self.c, sat, seconds)
        p = _sky_itrs_to_gcrs(_ground_itrs(lat, lon, alt_m), seconds)
        return np.degrees(_angle(_boresight(r, v, roll, pitch), p - r)) * 3600


# -- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world():
    c = Constellation.formosat8(EPOCH)
    targets = bundled_targets()
    eph = c.propagate(TimeGrid.range(EPOCH, END, 60.0))
    opp = find_opportunities(eph, targets)
    return c, targets, eph, opp


def _aims(opp, targets):
    alt = targets.altitude_m[opp["target_index"]]
    return ((opp["aim_start_latitude_deg"], opp["aim_start_longitude_deg"], alt),
            (opp["aim_end_latitude_deg"], opp["aim_end_longitude_deg"], alt))


# -- the checker on every opportunity --------------------------------------------------------

def test_every_acquisition_is_feasible_and_points_at_its_target(world):
    c, targets, eph, opp = world
    assert len(opp) > 100 and set(opp["kind"]) == {"point", "strip"}
    chk = _Checker(c)
    sat = opp["satellite_index"]
    limit = targets.max_off_nadir_deg[opp["target_index"]]
    sun_min = targets.min_sun_elevation_deg[opp["target_index"]]
    (la0, lo0, h), (la1, lo1, _) = _aims(opp, targets)
    t0, t1 = opp["acquisition_start_s"], opp["acquisition_end_s"]
    assert np.all(opp["start_s"] <= t0) and np.all(t1 <= opp["end_s"] + 1e-9)
    assert np.all(np.abs((t1 - t0) - np.minimum(opp["duration_s"], opp["end_s"] - opp["start_s"])) < 1e-6)
    # Off-nadir within the limit and Sun above the minimum at both ends.
    assert np.all(chk.off_nadir(sat, t0, la0, lo0, h) <= limit + 1e-4)
    assert np.all(chk.off_nadir(sat, t1, la1, lo1, h) <= limit + 1e-4)
    assert np.all(_astropy_sun_elevation(la0, lo0, h, t0) >= sun_min - 0.01)
    assert np.all(_astropy_sun_elevation(la1, lo1, h, t1) >= sun_min - 0.01)
    # Rotating nadir by the reported roll / pitch points at the aim point.
    e0 = chk.pointing_error_arcsec(sat, t0, la0, lo0, h, opp["roll_start_deg"], opp["pitch_start_deg"])
    e1 = chk.pointing_error_arcsec(sat, t1, la1, lo1, h, opp["roll_end_deg"], opp["pitch_end_deg"])
    assert max(e0.max(), e1.max()) < 1.0
    # The off-nadir columns agree with roll / pitch: acos(cos roll cos pitch).
    on = np.degrees(np.arccos(np.cos(np.radians(opp["roll_start_deg"])) * np.cos(np.radians(opp["pitch_start_deg"]))))
    assert np.abs(on - opp["off_nadir_start_deg"]).max() < 1e-9


def test_point_windows_best_time_sun_and_gsd(world):
    c, targets, eph, opp = world
    chk = _Checker(c)
    pts = np.flatnonzero(opp["kind"] == "point")
    sat = opp["satellite_index"][pts]
    ti = opp["target_index"][pts]
    lat, lon, h = targets.latitude_deg[ti], targets.longitude_deg[ti], targets.altitude_m[ti]
    limit, sun_min = targets.max_off_nadir_deg[ti], targets.min_sun_elevation_deg[ti]
    best, a, b = opp["best_s"][pts], opp["start_s"][pts], opp["end_s"][pts]
    # The best time: reported off-nadir matches and is a minimum.
    on_best = chk.off_nadir(sat, best, lat, lon, h)
    assert np.abs(on_best - opp["min_off_nadir_deg"][pts]).max() < 2e-4
    for d in (-1.0, 1.0):
        t = np.clip(best + d, a, b)
        assert np.all(chk.off_nadir(sat, t, lat, lon, h) >= on_best - 1e-6)
    # Each window edge sits on a limit: off-nadir = limit, Sun = minimum, or the grid end.
    grid_end = eph.times.seconds[-1]
    for edge, outside in ((a, a - 0.5), (b, b + 0.5)):
        on = chk.off_nadir(sat, edge, lat, lon, h)
        sun = _astropy_sun_elevation(lat, lon, h, edge)
        at_grid = (edge <= 0) | (edge >= grid_end)
        # 1 ms root tolerance x off-nadir rate (< 0.4 deg/s) -> 4e-4 deg.
        on_limit = (np.abs(on - limit) < 4e-4) | (np.abs(sun - sun_min) < 0.01) | at_grid
        assert np.all(on_limit)
        # Half a second outside the window the target is not imageable.
        out_on = chk.off_nadir(sat, outside, lat, lon, h)
        out_sun = _astropy_sun_elevation(lat, lon, h, outside)
        assert np.all((out_on > limit) | (out_sun < sun_min) | at_grid)
    # Sun elevation at the best time.
    sun_best = _astropy_sun_elevation(lat, lon, h, best)
    assert np.abs(sun_best - opp["sun_elevation_deg"][pts]).max() < 0.01
    # GSD: gsd_nadir * range / 561 km / sqrt(cos(incidence)) from skyfield's geometry.
    r, _ = _sky_sat(c, sat, best)
    p = _sky_itrs_to_gcrs(_ground_itrs(lat, lon, h), best)
    up = _sky_itrs_to_gcrs(_up(lat, lon), best)
    rng = np.linalg.norm(p - r, axis=1)
    cos_inc = np.sum((r - p) * up, 1) / rng
    gsd = 1.0 * rng / 561.0 / np.sqrt(cos_inc)
    assert np.abs(gsd / opp["gsd_m"][pts] - 1).max() < 1e-4
    assert np.all(opp["gsd_m"][pts] >= 0.98)


def test_strips_follow_the_ground_track(world):
    c, targets, eph, opp = world
    s = np.flatnonzero(opp["kind"] == "strip")
    chk = _Checker(c)
    ti = opp["target_index"][s]
    # A strip acquisition lasts its length at the sub-satellite ground speed (~7 km/s).
    (la0, lo0, h), (la1, lo1, _) = _aims(opp, targets)
    p0 = _ground_itrs(la0[s], lo0[s], h[s])
    p1 = _ground_itrs(la1[s], lo1[s], h[s])
    speed = np.linalg.norm(p1 - p0, axis=1) / opp["duration_s"][s]
    assert np.all((speed > 6.5) & (speed < 7.5))
    # The strip runs along the satellite's ground track: its direction (start -> end) within
    # 2 deg of the sub-satellite velocity direction at the best time.
    r, v = _sky_sat(c, opp["satellite_index"][s], opp["best_s"][s])
    R = sf_itrs.rotation_at(_sky_times(opp["best_s"][s]))
    r_e = np.einsum("ijm,mj->mi", R, r)
    v_e = np.einsum("ijm,mj->mi", R, v) - np.cross([0, 0, 7.292115e-5], r_e)
    d = p1 - p0
    up = r_e / np.linalg.norm(r_e, axis=1)[:, None]
    vh = v_e - np.sum(v_e * up, 1)[:, None] * up
    dh = d - np.sum(d * up, 1)[:, None] * up
    long_enough = opp["duration_s"][s] > 0.5
    assert np.degrees(_angle(vh, dh))[long_enough].max() < 2.0
    # Every (strip, pass) is feasible at the earliest and latest start too: both ends
    # imageable (these are window edges: 1 ms root tolerance -> 4e-4 deg).
    latest = opp["end_s"][s] - opp["duration_s"][s]
    limit = targets.max_off_nadir_deg[ti] + 4e-4
    sat = opp["satellite_index"][s]
    for t0 in (opp["start_s"][s], latest):
        assert np.all(chk.off_nadir(sat, t0, la0[s], lo0[s], h[s]) <= limit)
        assert np.all(chk.off_nadir(sat, t0 + opp["duration_s"][s], la1[s], lo1[s], h[s]) <= limit)
    # Shares of one polygon's strips in one strip set sum to 1 (each strip once).
    for t in np.unique(ti):
        for k in np.unique(opp["strip_set"][s][ti == t]):
            sel = (ti == t) & (opp["strip_set"][s] == k)
            _, first = np.unique(opp["strip"][s][sel], return_index=True)
            assert opp["share"][s][sel][first].sum() <= 1 + 1e-9


def test_attitude_api_matches_pointing_at_any_time(world):
    c, targets, eph, opp = world
    rows = np.arange(0, len(opp), 7)
    k = 4
    times, start, end = opp.attitude_samples(k, rows)
    assert times.shape == (rows.size, k) and start.shape == (rows.size, k, 2)
    chk = _Checker(c)
    (la0, lo0, h), (la1, lo1, _) = _aims(opp, targets)
    rr = np.repeat(rows, k)
    t = times.reshape(-1)
    err0 = chk.pointing_error_arcsec(opp["satellite_index"][rr], t, la0[rr], lo0[rr], h[rr],
                                     start[..., 0].reshape(-1), start[..., 1].reshape(-1))
    t_end = t + opp["duration_s"][rr]
    err1 = chk.pointing_error_arcsec(opp["satellite_index"][rr], t_end, la1[rr], lo1[rr], h[rr],
                                     end[..., 0].reshape(-1), end[..., 1].reshape(-1))
    assert max(err0.max(), err1.max()) < 1.0
    # The first sample is the window start; the last the latest start.
    assert np.allclose(times[:, 0], opp["start_s"][rows])
    assert np.allclose(times[:, -1], np.maximum(opp["end_s"][rows] - opp["duration_s"][rows],
                                                opp["start_s"][rows]))


def test_roll_and_pitch_signs():
    """Right of the ground track is positive roll; ahead is positive pitch."""
    c = Constellation.formosat8(EPOCH)
    eph = c.propagate(TimeGrid.range(EPOCH, "2026-11-26T02:00:00Z", 60.0))
    r, v = eph.itrs()
    s, k = 2, 37
    rv, vv = r[s, k], v[s, k]
    up = rv / np.linalg.norm(rv)
    sub = up * 6371.0
    fwd = vv - (vv @ up) * up
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, up)
    t = eph.times.seconds[k]
    aims = np.stack([sub + 150 * right, sub - 150 * right, sub + 150 * fwd, sub - 150 * fwd])
    out = pointing(eph, s, t, aims)
    assert out["roll_deg"][0] > 10 and out["roll_deg"][1] < -10
    assert out["pitch_deg"][2] > 10 and out["pitch_deg"][3] < -10
    assert np.all(np.abs(out["pitch_deg"][:2]) < 5) and np.all(np.abs(out["roll_deg"][2:]) < 5)


# -- completeness ----------------------------------------------------------------------------

def _scan_compare(c, opp, lat, lon, h, limit, sun_min, target_index, span_s, step_s):
    """Brute-force scan with skyfield (and astropy's Sun unless every minimum is -90): every
    scanned run of imageable samples is exactly one of our windows, edges within a step, and
    every window of ours longer than a step shows in the scan. Returns (runs, short windows
    the scan does not see)."""
    from astropy import units as u
    from astropy.coordinates import ITRS, get_sun
    from astropy.time import Time
    scan = np.arange(0.0, span_s + 1e-9, step_s)
    g = _ground_itrs(lat, lon, h)                                                      # (n_p, 3)
    if np.all(sun_min <= -90):
        sun_ok = np.ones((len(lat), scan.size), dtype=bool)
    else:
        t = Time("2026-11-26T00:00:00", scale="utc") + scan * u.s
        sun = get_sun(t).transform_to(ITRS(obstime=t)).cartesian.xyz.to_value(u.km).T
        d = sun[None] - g[:, None]
        el = np.degrees(np.arcsin(np.einsum("pti,pi->pt", d, _up(lat, lon)) / np.linalg.norm(d, axis=-1)))
        sun_ok = el >= sun_min[:, None]
    t_sky = _sky_times(scan)           # one Time object: skyfield caches its nutation
    R = sf_itrs.rotation_at(t_sky)                                                     # ITRS = R GCRS
    g_gcrs = np.einsum("jit,pj->pti", R, g)                                            # (n_p, n_t, 3)
    kinds = opp["kind"] == "point"
    n_runs = missed_short = 0
    for s in range(len(c)):
        r = EarthSatellite.from_satrec(c.satrecs[s], timescale()).at(t_sky).position.km.T
        ok = (_off_nadir(r[None], g_gcrs) <= limit[:, None]) & sun_ok
        for j, p in enumerate(target_index):
            mine = kinds & (opp["satellite_index"] == s) & (opp["target_index"] == p)
            a, b = opp["start_s"][mine], opp["end_s"][mine]
            runs = np.flatnonzero(np.diff(np.concatenate([[0], ok[j].astype(int), [0]]))).reshape(-1, 2)
            n_runs += len(runs)
            for i0, i1 in runs:
                ts0, ts1 = scan[i0], scan[i1 - 1]
                hit = (a <= ts1 + 0.05) & (b >= ts0 - 0.05)
                assert hit.sum() == 1, (s, p, ts0, ts1, a, b)
                k = np.flatnonzero(hit)[0]
                assert ts0 - step_s - 0.05 < a[k] <= ts0 + 0.05
                assert ts1 - 0.05 <= b[k] < ts1 + step_s + 0.05
            for ak, bk in zip(a, b):
                inside = (scan >= ak + 0.05) & (scan <= bk - 0.05)
                if bk - ak > step_s + 0.2:
                    assert np.any(ok[j][inside]), (s, p, ak, bk)
                elif not np.any(ok[j][inside]):
                    missed_short += 1
    return n_runs, missed_short


def test_no_window_missed_against_a_10s_scan(world):
    """Skyfield + astropy at 10 s over the day: every scanned window is ours, edges within 10 s."""
    c, targets, eph, opp = world
    pts = np.flatnonzero(targets.kind == "point")
    n_runs, missed_short = _scan_compare(
        c, opp, targets.latitude_deg[pts], targets.longitude_deg[pts], targets.altitude_m[pts],
        targets.max_off_nadir_deg[pts], targets.min_sun_elevation_deg[pts], pts, 86400.0, 10.0)
    assert n_runs > 50
    assert missed_short <= 0.05 * n_runs


def test_no_window_missed_for_random_leo_orbits(monkeypatch):
    """Other orbits (300-1200 km, e <= 0.01, any inclination), a 45 deg limit, 5 s scan; the
    targets searched 7 at a time (the chunked path of the 1,000,000-target job)."""
    from _helpers import random_leo_tles
    from groundseg import access_search, catalog
    monkeypatch.setattr(access_search, "points_per_chunk", lambda geo: 7)
    rng = np.random.default_rng(8)
    tles = random_leo_tles(rng, 4, epoch_jd=2461370.5, epoch_fr=0.0)
    c = Constellation(catalog.parse_catalog("".join(f"{n}\n{a}\n{b}\n" for n, a, b in tles)).records)
    n = 60
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    targets = Targets.from_points([f"p{i}" for i in range(n)], lat, lon, 0.0,
                                  max_off_nadir_deg=45.0, min_sun_elevation_deg=-90.0)
    opp = find_opportunities(c, targets, EPOCH, "2026-11-26T06:00:00Z")
    n_runs, _ = _scan_compare(c, opp, lat, lon, np.zeros(n), np.full(n, 45.0), np.full(n, -90.0),
                              np.arange(n), 6 * 3600.0, 5.0)
    assert n_runs > 30


def _ray_to_ellipsoid(origin, direction):
    s = np.array([1 / _A, 1 / _A, 1 / (_A * np.sqrt(1 - _E2))])
    o, d = origin * s, direction * s
    A, B, C = np.sum(d * d, -1), np.sum(o * d, -1), np.sum(o * o, -1) - 1
    w = (-B - np.sqrt(B * B - A * C)) / A
    return origin + w[:, None] * direction


def _geodetic(p):
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    rr = np.hypot(x, y)
    lat = np.arctan2(z, rr * (1 - _E2))
    for _ in range(10):
        n = _A / np.sqrt(1 - _E2 * np.sin(lat) ** 2)
        hh = rr / np.cos(lat) - n
        lat = np.arctan2(z, rr * (1 - _E2 * n / (n + hh)))
    return np.degrees(lat), np.degrees(np.arctan2(y, x))


def test_grazing_windows_are_found():
    """Targets whose best off-nadir is 0.003 deg inside the limit: windows of a few seconds."""
    c = Constellation.formosat8(EPOCH)
    eph = c.propagate(TimeGrid.range(EPOCH, "2026-11-26T12:00:00Z", 60.0))
    rng = np.random.default_rng(42)
    n = 60
    sat = rng.integers(0, len(c), n)
    t_c = rng.uniform(600, 43000, n)
    side = rng.choice([-1.0, 1.0], n)
    limit = 30.0
    eta = np.radians(limit - 0.003)
    r, v = _sky_sat(c, sat, t_c)
    R = sf_itrs.rotation_at(_sky_times(t_c))
    r_e = np.einsum("ijm,mj->mi", R, r)
    v_e = np.einsum("ijm,mj->mi", R, v) - np.cross([0, 0, 7.292115146706979e-5], r_e)
    nadir = -r_e / np.linalg.norm(r_e, axis=1)[:, None]
    cross = np.cross(r_e, v_e)
    cross = side[:, None] * cross / np.linalg.norm(cross, axis=1)[:, None]
    los = np.cos(eta) * nadir + np.sin(eta) * cross
    lat, lon = _geodetic(_ray_to_ellipsoid(r_e, los))
    targets = Targets.from_points([f"g{i}" for i in range(n)], lat, lon, 0.0,
                                  max_off_nadir_deg=limit, min_sun_elevation_deg=-90.0)
    opp = find_opportunities(eph, targets)
    dur = []
    for i in range(n):
        m = (opp["target_index"] == i) & (opp["satellite_index"] == sat[i])
        inside = m & (opp["start_s"] <= t_c[i] + 0.01) & (opp["end_s"] >= t_c[i] - 0.01)
        assert inside.sum() == 1, i
        dur.append(float((opp["end_s"] - opp["start_s"])[inside][0]))
    dur = np.array(dur)
    assert np.median(dur) < 10.0            # a 10 s scan would miss most of these
    assert dur.min() > 0.0
    chk = _Checker(c)
    on = chk.off_nadir(opp["satellite_index"], opp["best_s"], lat[opp["target_index"]],
                       lon[opp["target_index"]], np.zeros(len(opp)))
    assert np.all(on <= limit)


def test_sun_between_samples_matches_the_full_computation(world):
    """The Sun carried between its 10 min samples by the Earth's rotation, against
    groundseg.sun evaluated at every instant (itself checked against astropy in test_sun)."""
    from groundseg.imaging_geometry import ImagingGeometry
    from groundseg.sun import sun_position_km
    c, targets, eph, opp = world
    t = np.random.default_rng(0).uniform(0, 86400, 500)
    u = ImagingGeometry(eph).sun_unit(t, np.zeros((t.size, 3)))
    ref = sun_position_km(TimeGrid.from_seconds(EPOCH, t), "itrs")
    assert _angle(u, ref).max() < 0.1 * ARCSEC


def test_access_intervals_low_level_matches_find_opportunities(world):
    c, targets, eph, opp = world
    pts = np.flatnonzero(targets.kind == "point")
    ecef = targets.take(pts).points().ecef_km
    s, p, a, b = access_intervals(eph, ecef, targets.max_off_nadir_deg[pts],
                                  targets.min_sun_elevation_deg[pts])
    mine = opp["kind"] == "point"
    ours = sorted(zip(opp["satellite_index"][mine], opp["target_index"][mine], opp["start_s"][mine]))
    theirs = sorted(zip(s, pts[p], a))
    assert len(ours) == len(theirs)
    assert all(x[0] == y[0] and x[1] == y[1] and abs(x[2] - y[2]) < 1e-9 for x, y in zip(ours, theirs))


# -- bad input and edge cases ------------------------------------------------------------------

def test_unscheduled_reasons():
    c = Constellation.formosat8(EPOCH)
    targets = Targets.from_points(["south-pole", "taipei-high-sun", "taipei"],
                                  [-90.0, 25.03, 25.03], [0.0, 121.56, 121.56],
                                  min_sun_elevation_deg=[10.0, 89.0, 10.0])
    opp = find_opportunities(c, targets, EPOCH, END)
    uns = {r["target"]: r for r in opp.unscheduled.records()}
    assert uns["south-pole"]["reason"] == "no_opportunity"
    assert "never within 30 deg off-nadir" in uns["south-pole"]["detail"]
    assert uns["taipei-high-sun"]["reason"] == "sun"
    assert "none with the Sun above 89 deg" in uns["taipei-high-sun"]["detail"]
    assert "taipei" not in uns and np.any(opp["target"] == "taipei")


def test_bad_arguments():
    c = Constellation.formosat8(EPOCH)
    with pytest.raises(TargetError):
        find_opportunities(c, [("a", 1, 2)], EPOCH, END)
    with pytest.raises(GroundsegError, match="start and end"):
        find_opportunities(c, bundled_targets())
    with pytest.raises(GroundsegError, match="swath_km"):
        Sensor(swath_km=0)
    with pytest.raises(GroundsegError, match="at least two"):
        find_opportunities(c.propagate(TimeGrid.from_utc([EPOCH])), bundled_targets())


def test_failed_satellite_loses_only_its_own_windows(world):
    """A satellite whose propagation fails mid-pass keeps its windows up to the failure."""
    c, targets, eph, opp = world
    bad = int(np.bincount(opp["satellite_index"]).argmax())
    mine = opp["satellite_index"] == bad
    t_mid = np.median(opp["end_s"][mine])
    k_fail = int(np.searchsorted(eph.times.seconds, t_mid)) + 1
    t_fail = eph.times.seconds[k_fail - 1]          # the last good sample
    status = eph.status.copy()
    status[bad, k_fail:] = 6
    broken = Ephemeris(c, eph.times, eph.position_km.copy(), eph.velocity_km_s.copy(), status)
    # Point targets only: strip geometry follows the mean track heading, which moves slightly
    # when a satellite's samples go missing.
    targets = targets.take(targets.kind == "point")
    opp = find_opportunities(eph, targets)
    mine = opp["satellite_index"] == bad
    opp2 = find_opportunities(broken, targets)
    for sat in range(len(c)):
        a1, a2 = opp["start_s"][opp["satellite_index"] == sat], opp2["start_s"][opp2["satellite_index"] == sat]
        # Equal to the 1 ms root tolerance (refinement paths depend on the batch).
        if sat == bad:
            assert np.all(opp2["end_s"][opp2["satellite_index"] == bad] <= t_fail + 1e-9)
            before = a1[opp["end_s"][mine] < t_fail - 1]
            cut = np.isclose(opp2["end_s"][opp2["satellite_index"] == bad], t_fail)
            assert before.size > 0 and (a2.size < a1.size or np.any(cut))
            assert np.all(np.abs(before[:, None] - a2[None, :]).min(axis=1) < 2e-3)
        else:
            assert a1.size == a2.size and np.allclose(np.sort(a1), np.sort(a2), rtol=0, atol=2e-3)


def test_table_columns_and_formats(world):
    c, targets, eph, opp = world
    csv = opp.to_csv()
    assert csv.splitlines()[0] == ",".join(ACCESS_COLUMNS)
    assert opp.table().names == list(OPPORTUNITY_COLUMNS)
    row = opp.table().records()[0]
    assert row["start_utc"].endswith("Z") and row["start_utc"] < row["best_utc"] < row["end_utc"]
    assert row["satellite"].startswith("FS8-") and 99801 <= row["norad_id"] <= 99808


def test_wrong_types_raise_groundseg_errors(world):
    """Bad arguments of the public entry points: a GroundsegError (exit status 2 in the
    command line), never an AttributeError, IndexError or bare ValueError."""
    c, targets, eph, opp = world
    pts = targets.take(targets.kind == "point").points().ecef_km
    bad = [
        lambda: find_opportunities("a TLE file name", targets, EPOCH, END),
        lambda: find_opportunities(eph, targets, sensor="FS8 imager"),
        lambda: find_opportunities(eph, targets, tol_s=0.0),
        lambda: find_opportunities(c, targets, EPOCH, END, step_s="sixty"),
        lambda: access_intervals("not an ephemeris", pts, 30.0),
        lambda: access_intervals(eph, pts[:, :2], 30.0),
        lambda: access_intervals(eph, pts, [30.0, 40.0]),
        lambda: pointing(eph, [0, 1], [0.0, 1.0, 2.0], pts[:3]),
        lambda: pointing(eph, [len(c)], [0.0], pts[:1]),
        lambda: opp.attitude([len(opp)], 0.0, 10.0),
        lambda: opp.attitude_samples(rows=["first"]),
    ]
    for call in bad:
        with pytest.raises(GroundsegError):
            call()
