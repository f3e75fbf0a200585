"""SAR access against an independent computation.

The reference: skyfield propagates the same satrecs and rotates them into ITRS (position and
Earth-fixed velocity); the targets come from skyfield's WGS84 and astropy's EarthLocation. The
incidence is the angle between the ellipsoid normal and the line of sight, the squint the angle
between the line of sight and the plane perpendicular to the Earth-fixed velocity, the look side
the sign of the cross-track component. Every window is checked inside (all conditions hold) and
at its edges (a limit is reached); a brute-force 2 s scan finds no instant outside the windows,
and the earliest access agrees with it.
"""
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import EarthLocation
from skyfield.api import EarthSatellite, wgs84
from skyfield.framelib import itrs as sf_itrs

from groundseg.bounds import IncidenceBound
from groundseg.errors import GroundsegError
from groundseg.orbits import Constellation
from groundseg.sar import SAR_MODES, SarMode, SarSensor
from groundseg.sar_access import SAR_ACCESS_COLUMNS, find_sar_opportunities
from groundseg.targets import Targets
from groundseg.timegrid import TimeGrid, timescale

EPOCH = "2026-11-26T00:00:00Z"
DAY_S = 86400.0
SCAN_S = 2.0
SITES = {  # name: (lat, lon, alt_m): Taiwan, East Asia, the equator, near a turning latitude
    "taipei": (25.03, 121.56, 10.0), "hualien": (23.98, 121.60, 20.0),
    "yushan": (23.47, 120.96, 3952.0), "tokyo": (35.68, 139.69, 40.0),
    "manila": (14.60, 121.00, 10.0), "hanoi": (21.03, 105.85, 15.0),
    "equator": (0.0, 100.0, 0.0), "svalbard": (78.23, 15.39, 500.0),
}


@pytest.fixture(scope="module")
def fleet():
    return Constellation.sun_synchronous(4, 560.0, EPOCH, ltan_h=18.0, planes=2,
                                         plane_spacing_h=12.0)


@pytest.fixture(scope="module")
def targets():
    lat, lon, alt = (np.array(x) for x in zip(*SITES.values()))
    return Targets.from_points(list(SITES), lat, lon, alt)


@pytest.fixture(scope="module")
def sky(fleet):
    """ITRS position km and Earth-fixed velocity km/s from skyfield every ``SCAN_S`` over the
    day: ``(n_sat, n_scan, 3)`` each."""
    ts = timescale()
    t = ts.utc(2026, 11, 26, 0, 0, np.arange(0.0, DAY_S + 1.0, SCAN_S))
    r, v = [], []
    for s in range(len(fleet)):
        pos, vel = EarthSatellite.from_satrec(fleet.satrecs[s], ts).at(t).frame_xyz_and_velocity(sf_itrs)
        r.append(pos.km.T)
        v.append(vel.km_per_s.T)
    return np.array(r), np.array(v)


def _site(name):
    lat, lon, alt = SITES[name]
    p = wgs84.latlon(lat, lon, elevation_m=alt).itrs_xyz.km
    la, lo = np.radians(lat), np.radians(lon)
    normal = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    return p, normal


def _look(r, v, name):
    """Reference incidence, squint (rad), side (+1 right) and v_z of states ``(..., 3)``."""
    p, n = _site(name)
    d = r - p
    rho = np.linalg.norm(d, axis=-1)
    incidence = np.arccos(np.clip(d @ n / rho, -1, 1))
    los = -d / rho[..., None]
    squint = np.arcsin(np.sum(los * v, -1) / np.linalg.norm(v, axis=-1))
    side = np.sign(np.sum(los * np.cross(v, r), -1))
    return incidence, squint, side, v[..., 2]


def _exact(fleet, sat, t):
    ts = timescale()
    at = EarthSatellite.from_satrec(fleet.satrecs[sat], ts).at(ts.utc(2026, 11, 26, 0, 0, t))
    pos, vel = at.frame_xyz_and_velocity(sf_itrs)
    return pos.km.T, vel.km_per_s.T


def _inside(inc, squint, side, vz, mode, want_side, way):
    ok = (inc >= np.radians(mode.incidence_min_deg)) & (inc <= np.radians(mode.incidence_max_deg))
    ok &= np.abs(squint) <= np.radians(mode.max_squint_deg)
    ok &= side == want_side if want_side else side != 0
    return ok & (np.sign(vz) == way) if way else ok


def _windows(opp, name):
    """The imaging-instant windows of a point target: the opportunity window less half a scene
    at each end (the scene is centred on an instant of the window)."""
    c = opp.columns
    sel = c["target"] == name
    half = 0.5 * c["duration_s"][sel]
    a = np.where(c["start_s"][sel] > 0, c["start_s"][sel] + half, 0.0)
    b = np.where(c["end_s"][sel] < DAY_S, c["end_s"][sel] - half, DAY_S)
    return c["satellite_index"][sel], a, b, c["look_side"][sel]


CASES = [("stripmap", "both", "both", 20), ("spotlight", "right", "ascending", 2),
         ("scansar", "left", "descending", 6)]


@pytest.mark.parametrize("mode_name,side,direction,at_least", CASES)
def test_windows_against_skyfield(fleet, targets, sky, mode_name, side, direction, at_least):
    mode = SarSensor().mode(mode_name)
    opp = find_sar_opportunities(fleet, targets, EPOCH, "2026-11-27T00:00:00Z", mode=mode_name,
                                 look_side=side, orbit_direction=direction)
    way = {"both": 0, "ascending": 1, "descending": -1}[direction]
    lo, hi = np.radians(mode.incidence_min_deg), np.radians(mode.incidence_max_deg)
    smax = np.radians(mode.max_squint_deg)
    checked = 0
    for name in SITES:
        sats, a, b, looks = _windows(opp, name)
        for s, t0, t1, look in zip(sats, a, b, looks):
            want = 1 if look == "right" else -1
            assert side == "both" or look == side
            # inside: every condition holds (exact skyfield states at five instants)
            ts = np.linspace(t0, t1, 7)[1:-1]
            r, v = _exact(fleet, s, ts)
            inc, sq, sd, vz = _look(r, v, name)
            assert np.all(_inside(inc, sq, sd, vz, mode, want, way)), (name, s, t0, t1)
            # edges: a limit is reached there (or the day ends)
            for t in (t0, t1):
                if 0 < t < DAY_S:
                    r, v = _exact(fleet, s, np.array([t]))
                    inc, sq, sd, vz = _look(r, v, name)
                    gaps = [abs(inc[0] - lo), abs(inc[0] - hi), abs(abs(sq[0]) - smax)]
                    if way:
                        gaps.append(abs(vz[0]) / 7.6)
                    assert min(gaps) < 2e-4, (name, s, t, gaps)
            checked += 1
    assert checked >= at_least

    # Brute force: every SCAN_S over the day, every satellite; no imaging instant outside a
    # window, and the earliest access agrees to the scan step.
    r, v = sky
    for name in SITES:
        sats, a, b, looks = _windows(opp, name)
        inc, sq, sd, vz = _look(r, v, name)
        first_scan = np.inf
        for s in range(len(fleet)):
            for want in ((1, -1) if side == "both" else ((1,) if side == "right" else (-1,))):
                ok = _inside(inc[s], sq[s], sd[s], vz[s], mode, want, way)
                t_ok = np.flatnonzero(ok) * SCAN_S
                mine = (sats == s) & (looks == ("right" if want > 0 else "left"))
                covered = np.zeros(t_ok.size, bool)
                for t0, t1 in zip(a[mine], b[mine]):
                    covered |= (t_ok >= t0 - 1e-3) & (t_ok <= t1 + 1e-3)
                # a scan instant a hair inside a limit may round either way: allow 2 per window
                assert np.count_nonzero(~covered) <= 2 * (mine.sum() + 1), (name, s, want)
                if t_ok.size:
                    first_scan = min(first_scan, t_ok[0])
        # earliest access: a window starts before the first scan instant, and the first one
        # the scan cannot miss (SCAN_S or longer) starts within SCAN_S of it
        long_enough = (b - a) >= SCAN_S
        if np.isfinite(first_scan):
            assert a.min() <= first_scan + 1e-3, name
            assert first_scan <= a[long_enough].min() + SCAN_S + 1e-3, name
        else:
            assert not np.any(long_enough), name


def test_incidence_relation_on_the_ellipsoid(rng):
    """R sin(incidence) = r sin(off-nadir) and psi = incidence - off-nadir with the geocentric
    incidence; the geodetic incidence is within the normal's deflection (<= 0.1924 deg) of it,
    against astropy's geodetic -> geocentric conversion."""
    n = 400
    lat = rng.uniform(-89, 89, n)
    lon = rng.uniform(-180, 180, n)
    h = rng.uniform(0, 5000, n)
    loc = EarthLocation.from_geodetic(lon * u.deg, lat * u.deg, h * u.m)
    p = np.stack([loc.x.to_value(u.km), loc.y.to_value(u.km), loc.z.to_value(u.km)], -1)
    la, lo = np.radians(lat), np.radians(lon)
    normal = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1)
    # a satellite 450-800 km up, 5-45 deg of incidence away in a random azimuth
    east = np.stack([-np.sin(lo), np.cos(lo), np.zeros(n)], -1)
    north = np.cross(normal, east)
    az = rng.uniform(0, 2 * np.pi, n)
    inc_want = np.radians(rng.uniform(5, 45, n))
    los = (np.cos(inc_want)[:, None] * normal
           + np.sin(inc_want)[:, None] * (np.cos(az)[:, None] * north + np.sin(az)[:, None] * east))
    r = p + rng.uniform(450, 800, n)[:, None] / np.cos(inc_want)[:, None] * los
    d = r - p
    R, rn = np.linalg.norm(p, axis=1), np.linalg.norm(r, axis=1)
    geodetic = np.arccos(np.sum(d * normal, 1) / np.linalg.norm(d, axis=1))
    geocentric = np.arccos(np.sum(d * p, 1) / np.linalg.norm(d, axis=1) / R)
    off_nadir = np.arccos(np.sum(d * r, 1) / np.linalg.norm(d, axis=1) / rn)   # (p - r) . (-r)
    psi = np.arccos(np.sum(p * r, 1) / R / rn)
    np.testing.assert_allclose(geodetic, inc_want, atol=1e-12)
    np.testing.assert_allclose(R * np.sin(geocentric), rn * np.sin(off_nadir), rtol=1e-9)
    np.testing.assert_allclose(psi, geocentric - off_nadir, atol=1e-9)
    deflection = np.arccos(np.sum(normal * p, 1) / R)
    assert np.all(np.abs(geodetic - geocentric) <= deflection + 1e-12)
    assert deflection.max() <= np.radians(0.1924)
    # the bound's band: inside exactly when the geocentric incidence is inside
    band = IncidenceBound(np.radians(15.0), np.radians(35.0))
    margin = band.margin_rad(rn, R, psi)
    inside = (geocentric >= np.radians(15.0)) & (geocentric <= np.radians(35.0))
    clear = np.minimum(np.abs(geocentric - np.radians(15.0)), np.abs(geocentric - np.radians(35.0))) > 1e-9
    assert np.array_equal((margin >= 0)[clear], inside[clear])


def test_opportunity_table(fleet, targets):
    grid = TimeGrid.range(EPOCH, "2026-11-26T12:00:00Z", 60.0)
    eph = fleet.propagate(grid)
    poly = Targets(["aoi"], 0, 0, 0, 1.0, -90.0, 45.0, "mono",
                   polygons=[[np.array([[121.3, 23.7], [121.7, 23.7], [121.7, 24.1], [121.3, 24.1]])]])
    opp = find_sar_opportunities(eph, targets, mode="spotlight")
    c = opp.columns
    assert len(opp) > 0 and set(SAR_ACCESS_COLUMNS) <= set(c) and set(c["sar_mode"]) == {"spotlight"}
    assert np.all(c["gsd_m"] == 1.0)
    assert np.all((c["incidence_deg"] >= 20 - 1e-6) & (c["incidence_deg"] <= 35 + 1e-6))
    # the nominal scene: centred on the best (zero-squint) time, inside the window
    assert np.all(c["acquisition_start_s"] >= c["start_s"] - 1e-9)
    assert np.all(c["acquisition_end_s"] <= c["end_s"] + 1e-9)
    np.testing.assert_allclose(c["duration_s"], 10.0)
    header = opp.to_csv(columns=SAR_ACCESS_COLUMNS).splitlines()[0]
    assert header.endswith("gsd_m,incidence_deg,look_side")
    # a polygon: strips 30 km wide (stripmap), each looking one way
    strips = find_sar_opportunities(eph, poly, mode="stripmap")
    assert len(strips) > 0 and set(strips["kind"]) == {"strip"}
    assert set(strips["look_side"]) <= {"left", "right"}
    # a target no mode reaches: reported with the reason
    far = Targets.from_points(["pole"], [89.9], [0.0])
    none = find_sar_opportunities(eph, far, mode="spotlight")
    assert len(none) == 0 and list(none.unscheduled["reason"]) == ["no_opportunity"]


def test_bad_input():
    with pytest.raises(GroundsegError, match="unknown SAR mode"):
        SarSensor().mode("wideband")
    with pytest.raises(GroundsegError, match="look side"):
        SarSensor(look_side="up")
    with pytest.raises(GroundsegError, match="incidence band"):
        SarMode("x", 5, 5, 10, 1, 40, 20, 1, 1, 1)
    with pytest.raises(GroundsegError, match="positive"):
        SarMode("x", 5, 5, float("nan"), 1, 20, 40, 1, 1, 1)
    with pytest.raises(GroundsegError, match="orbit direction"):
        find_sar_opportunities(Constellation.formosat8(EPOCH), Targets.from_points(["a"], [0], [0]),
                               EPOCH, "2026-11-26T01:00:00Z", orbit_direction="sideways")
    assert [m.name for m in SAR_MODES] == ["spotlight", "stripmap", "scansar"]
