"""The Sun: geocentric vector, satellite eclipse, solar elevation at ground points.

The Sun comes from ``erfa.epv00`` (vectorised, offline): the geocentric direction with
annual aberration, i.e. the apparent direction an observer at the geocentre sees, rotated
into the pseudo-Earth-fixed frame with ``erfa.c2t06a``, then into ITRS with polar motion
and into TEME with the GMST-1982 angle (the same Earth orientation as the satellites).

Eclipse uses a conical shadow: the Sun and the Earth (a sphere of the WGS84 equatorial
radius) as discs seen from the satellite. Shapes: Sun vectors ``(n_time, 3)``, satellite
quantities ``(n_sat, n_time)``, ground quantities ``(n_site, n_time)``.
"""
from __future__ import annotations

import erfa
import numpy as np

from .earth import WGS84_A_KM, GroundPoints
from .errors import GroundsegError
from .timegrid import TimeGrid

__all__ = [
    "AU_KM", "SUN_RADIUS_KM", "SUNLIT", "PENUMBRA", "UMBRA",
    "sun_position_km", "sunlit_fraction", "eclipse_state", "eclipse_intervals",
    "sun_centre_visible", "solar_elevation_rad",
]

AU_KM = 149597870.700
SUN_RADIUS_KM = 695700.0
_C_AU_DAY = 299792.458 * 86400.0 / AU_KM
_TT_MINUS_TAI_S = 32.184

SUNLIT, PENUMBRA, UMBRA = 0, 1, 2


def _tt_two_part(times: TimeGrid) -> tuple[np.ndarray, np.ndarray]:
    t = times.skyfield_time
    return np.broadcast_to(t.whole, (len(times),)), np.broadcast_to(t.tt_fraction, (len(times),))


def _sun_gcrs_unit(times: TimeGrid) -> tuple[np.ndarray, np.ndarray]:
    """Apparent geocentric Sun direction (GCRS axes) ``(n_time, 3)`` and distance km ``(n_time,)``."""
    tt1, tt2 = _tt_two_part(times)
    pvh, pvb = erfa.epv00(tt1, tt2)
    sun = -pvh['p']
    dist_au = np.linalg.norm(sun, axis=-1)
    u = sun / dist_au[:, None]
    beta = pvb['v'] / _C_AU_DAY
    # First-order annual aberration (about 20 arcsec), enough at the 1e-6 rad level.
    u = u + beta - np.sum(u * beta, axis=-1, keepdims=True) * u
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    return u, dist_au * AU_KM


def _gcrs_to_pef(times: TimeGrid) -> np.ndarray:
    """Rotation matrices GCRS -> Earth-fixed (no polar motion), ``(n_time, 3, 3)``."""
    tt1, tt2 = _tt_two_part(times)
    ut1_2 = times.ut1_fraction
    return erfa.c2t06a(tt1, tt2, times.jd, ut1_2, 0.0, 0.0)


def sun_position_km(times: TimeGrid, frame: str = "teme") -> np.ndarray:
    """Geocentric apparent Sun position, ``(n_time, 3)`` km, in ``teme``, ``itrs`` or ``gcrs``."""
    u, dist = _sun_gcrs_unit(times)
    s = u * dist[:, None]
    if frame == "gcrs":
        return s
    pef = np.einsum("tij,tj->ti", _gcrs_to_pef(times), s)
    if frame == "itrs":
        W = times.polar_motion_matrix
        return pef if W is None else np.einsum("tij,tj->ti", W, pef)
    if frame == "teme":
        c, sn = np.cos(times.gmst_rad), np.sin(times.gmst_rad)
        x = c * pef[:, 0] - sn * pef[:, 1]
        y = sn * pef[:, 0] + c * pef[:, 1]
        return np.stack([x, y, pef[:, 2]], axis=-1)
    raise GroundsegError(f"unknown frame {frame!r}: use teme, itrs or gcrs")


def _disc_overlap_fraction(a, b, c):
    """Fraction of a disc of angular radius ``a`` hidden by a disc of radius ``b`` at separation ``c``."""
    a, b, c = np.broadcast_arrays(a, b, c)
    frac = np.zeros(a.shape)
    full = c <= b - a
    frac[full] = 1.0
    inner = c <= a - b  # the occulting disc is entirely inside the Sun (annular)
    frac[inner & ~full] = (b[inner & ~full] / a[inner & ~full]) ** 2
    part = (c < a + b) & ~full & ~inner
    if np.any(part):
        ap, bp, cp = a[part], b[part], c[part]
        x = (cp**2 + ap**2 - bp**2) / (2 * cp)
        y = np.sqrt(np.maximum(ap**2 - x**2, 0.0))
        area = (ap**2 * np.arccos(np.clip(x / ap, -1, 1))
                + bp**2 * np.arccos(np.clip((cp - x) / bp, -1, 1)) - cp * y)
        frac[part] = area / (np.pi * ap**2)
    return frac


def _vectors(name, value, ndim=None):
    """``value`` as a float array of 3-vectors (last axis 3; ``ndim`` axes if given)."""
    try:
        x = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise GroundsegError(f"{name} must be an array of numbers") from None
    if x.shape[-1:] != (3,) or (ndim is not None and x.ndim != ndim):
        want = f"{ndim}-axis array of" if ndim is not None else "array of"
        raise GroundsegError(f"{name} must be a {want} 3-vectors, got shape {x.shape}")
    return x


def _satellites_and_sun(position_km, sun_km):
    """Satellite ``(n_sat, n_time, 3)`` and Sun ``(1, n_time, 3)`` arrays, shapes checked."""
    r = _vectors("satellite positions", position_km, 3)
    sun = _vectors("Sun positions", sun_km, 2)
    if sun.shape[0] != r.shape[1]:
        raise GroundsegError(f"{sun.shape[0]} Sun positions for {r.shape[1]} satellite times")
    return r, sun[None]


def _shadow_geometry(position_km, sun_km):
    r = np.asarray(position_km, dtype=float)
    d = sun_km - r  # the caller shapes sun_km to broadcast against r
    rn = np.linalg.norm(r, axis=-1)
    dn = np.linalg.norm(d, axis=-1)
    sun_radius = np.arcsin(np.clip(SUN_RADIUS_KM / dn, -1, 1))
    earth_radius = np.arcsin(np.clip(WGS84_A_KM / rn, -1, 1))
    cos_sep = -np.einsum("...i,...i->...", r, d) / (rn * dn)
    sep = np.arccos(np.clip(cos_sep, -1.0, 1.0))
    return sun_radius, earth_radius, sep


def sunlit_fraction(position_km, sun_km) -> np.ndarray:
    """Visible fraction of the solar disc (1 sunlit, 0 umbra), ``(n_sat, n_time)``.

    ``position_km``: satellite ``(n_sat, n_time, 3)``; ``sun_km``: ``(n_time, 3)`` same frame.
    """
    a, b, c = _shadow_geometry(*_satellites_and_sun(position_km, sun_km))
    return 1.0 - _disc_overlap_fraction(a, b, c)


def eclipse_state(position_km, sun_km) -> np.ndarray:
    """SUNLIT (0), PENUMBRA (1) or UMBRA (2) per element, int8 ``(n_sat, n_time)``."""
    a, b, c = _shadow_geometry(*_satellites_and_sun(position_km, sun_km))
    state = np.full(c.shape, SUNLIT, dtype=np.int8)
    state[c < a + b] = PENUMBRA
    state[c <= b - a] = UMBRA
    return state


def solar_elevation_rad(points: GroundPoints, times: TimeGrid, sun_itrs_km=None) -> np.ndarray:
    """Elevation of the Sun's centre above the geodetic horizon, ``(n_site, n_time)`` rad.

    No refraction. ``sun_itrs_km`` may be given to reuse a computed Sun ``(n_time, 3)``.
    """
    if not isinstance(points, GroundPoints):
        raise GroundsegError(f"expected GroundPoints, got {type(points).__name__}")
    s = sun_position_km(times, "itrs") if sun_itrs_km is None else \
        _vectors("Sun positions", sun_itrs_km, 2)
    d = s[None, :, :] - points.ecef_km[:, None, :]
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    return np.arcsin(np.clip(np.einsum("ni,nti->nt", points.up, d), -1.0, 1.0))


def _shadow_margin(position_km, sun_km, umbra: bool):
    """Angle (rad) by which the Sun's centre clears the shadow boundary; < 0 in shadow."""
    a, b, c = _shadow_geometry(position_km, sun_km)
    return c - (b - a) if umbra else c - (b + a)


def eclipse_intervals(ephemeris, *, umbra: bool = True, tol_s: float = 1e-3):
    """Shadow intervals of every satellite: umbra (default) or any shadow (penumbra + umbra).

    Found with :func:`groundseg.events.find_crossings` on the Hermite-interpolated ephemeris
    (no SGP4 call beyond the grid), complete for any interval longer than ``tol_s``.
    Returns ``(satellite, start_s, end_s)`` arrays ``(m,)``, seconds since the first grid
    time, sorted by satellite then start; an interval open at either end of the window is
    clipped to it.
    """
    from .bounds import shadow_margin_rate_rad_s
    from .events import find_crossings, windows
    from .orbits import Ephemeris

    if not isinstance(ephemeris, Ephemeris):
        raise GroundsegError(f"expected an Ephemeris, got {type(ephemeris).__name__}")
    if not tol_s > 0:
        raise GroundsegError(f"tolerance must be positive, got {tol_s} s")
    times = ephemeris.times
    grid_s = times.seconds
    sun = sun_position_km(times, "teme")
    r, v = ephemeris.position_km, ephemeris.velocity_km_s
    g = _shadow_margin(r, sun[None], umbra)

    def fn(rows, t):
        p, _ = ephemeris.interpolate(t[:, None], satellites=rows)
        s = np.stack([np.interp(t, grid_s, sun[:, i]) for i in range(3)], axis=-1)
        return _shadow_margin(p[:, 0, :], s, umbra)

    cross = find_crossings(fn, grid_s, g, shadow_margin_rate_rad_s(r, v), tol_s=tol_s)
    # In shadow while g < 0: a falling g enters it.
    inside = np.flatnonzero(g[:, 0] < 0)
    w = windows(np.concatenate([cross.rows, inside]),
                np.concatenate([cross.time_s, np.zeros(inside.size)]),
                np.concatenate([~cross.rising, np.ones(inside.size, dtype=bool)]),
                closes_s=lambda k: np.full(k.shape, grid_s[-1]))
    return w.key, w.start_s, w.end_s


def sun_centre_visible(position_km, sun_km) -> np.ndarray:
    """True where the Sun's centre is above the Earth's limb (a sphere of equatorial radius,
    as skyfield's ``is_sunlit``) seen from positions ``(m, 3)``; ``sun_km`` ``(m, 3)``, same
    frame."""
    p = np.asarray(position_km, dtype=float)
    d = np.asarray(sun_km, dtype=float) - p
    dn = np.linalg.norm(d, axis=-1)
    # Closest approach of the ray p + s d (s in [0, 1]) to the Earth's centre.
    s = np.clip(-np.einsum("mi,mi->m", p, d) / (dn * dn), 0.0, 1.0)
    closest = p + s[:, None] * d
    return np.linalg.norm(closest, axis=-1) > WGS84_A_KM
