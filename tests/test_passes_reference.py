"""Independent references for pass prediction (no tests here): brute force on SGP4 itself.

Nothing here uses groundseg.passes: the brute force samples SGP4 every ``step_s`` (sgp4's
own ``Satrec``), turns states into look angles with the orbit core's frame rotation and
topocentric code, and bisects every sign change and every elevation maximum on SGP4 again.
"""
import numpy as np
from sgp4.api import Satrec

from groundseg.earth import topocentric
from groundseg.orbits import teme_to_itrs
from groundseg.stations import mask_elevation_rad, station_points
from groundseg.timegrid import TimeGrid, parse_utc


def look_angles(satrec, station, epoch, seconds):
    """Elevation, azimuth (rad) of one satellite from one station at ``epoch + seconds``."""
    times = TimeGrid.from_seconds(epoch, np.asarray(seconds, dtype=float))
    err, r, v = satrec.sgp4_array(times.jd, times.fr)
    r, v = r[None], v[None]
    ri, vi = teme_to_itrs(r, v, times.gmst_rad, times.gmst_rate_rad_s, times.polar_motion_matrix)
    topo = topocentric(ri, vi, station_points([station]))
    el, az = topo.elevation_rad[0, 0], topo.azimuth_rad[0, 0]
    return np.where(err == 0, el, np.nan), az


def margin(satrec, station, epoch, seconds):
    el, az = look_angles(satrec, station, epoch, seconds)
    return el - mask_elevation_rad(station, az)


def brute_force_passes(satrec, station, start, end, step_s=1.0, tol_s=1e-4, fine_step_s=None,
                       fine_below_deg=1.0):
    """Passes ``[(aos_s, tca_s, los_s, max_el_deg)]`` in seconds since ``start``: dense
    sampling (every ``step_s``, and every ``fine_step_s`` inside the steps whose margin is
    within ``fine_below_deg`` of zero), bisection of every sign change of the margin,
    golden-section on the elevation."""
    t0 = parse_utc(start)[0]
    span = (parse_utc(end)[0] - t0).astype("timedelta64[ns]").astype(np.int64) / 1e9
    t = np.arange(0.0, span + 1e-9, step_s)
    if t[-1] < span:
        t = np.append(t, span)
    g = margin(satrec, station, t0, t)
    if fine_step_s:
        low = np.minimum(np.abs(g[:-1]), np.abs(g[1:])) < np.radians(fine_below_deg)
        extra = [np.arange(t[i] + fine_step_s, t[i + 1], fine_step_s) for i in np.flatnonzero(low)]
        if extra:
            te = np.concatenate(extra)
            t = np.concatenate([t, te])
            g = np.concatenate([g, margin(satrec, station, t0, te)])
            order = np.argsort(t)
            t, g = t[order], g[order]
    above = g > 0
    idx = np.flatnonzero(above[1:] != above[:-1])

    def bisect(a, b):
        ga = margin(satrec, station, t0, [a])[0]
        while b - a > tol_s:
            m = 0.5 * (a + b)
            gm = margin(satrec, station, t0, [m])[0]
            if (gm > 0) == (ga > 0):
                a, ga = m, gm
            else:
                b = m
        return 0.5 * (a + b)

    crossings = [(bisect(t[i], t[i + 1]), bool(above[i + 1])) for i in idx]
    events = []
    if above[0]:
        events.append((0.0, True))
    events += crossings
    if above[-1]:
        events.append((span, False))
    passes = []
    for (ta, up), (tb, down) in zip(events[::2], events[1::2]):
        assert up and not down
        passes.append((ta, tb))
    out = []
    for ta, tb in passes:
        # Coarse maximum on the dense samples then golden-section on SGP4.
        inside = (t >= ta) & (t <= tb)
        tt = np.concatenate([[ta], t[inside], [tb]])
        el = look_angles(satrec, station, t0, tt)[0]
        i = int(np.nanargmax(el))
        a, b = tt[max(i - 1, 0)], tt[min(i + 1, tt.size - 1)]
        phi = (np.sqrt(5) - 1) / 2
        while b - a > tol_s:
            c, d = b - phi * (b - a), a + phi * (b - a)
            ec, ed = look_angles(satrec, station, t0, [c, d])[0]
            if ec > ed:
                b = d
            else:
                a = c
        tca = 0.5 * (a + b)
        el_tca = look_angles(satrec, station, t0, [tca])[0][0]
        if el[0] >= el_tca:
            tca, el_tca = ta, el[0]
        if el[-1] >= el_tca:
            tca, el_tca = tb, el[-1]
        out.append((ta, tca, tb, float(np.degrees(el_tca))))
    return out


def satrec_of(line1, line2):
    return Satrec.twoline2rv(line1, line2)
