"""What a station needs of a satellite: its elevation margin on the horizon mask, and bounds.

A station sees a satellite while its elevation clears ``m(az) = max(min_elevation,
mask(az))`` (mask: linear in azimuth between its points, wrapping at 360 deg; as
:func:`groundseg.stations.mask_elevation_rad`). :class:`Horizons` holds every station as
arrays ``(n_site,)`` in radians and km, with what the pass search needs: the margin ``g``
whose zeros are AOS and LOS (:meth:`Horizons.margin_enu`), the lowest and highest
requirement, the mask's steepest slope and the factor by which the mask speeds ``g`` up.

Without a mask ``g = sin(el) - sin(min_elevation)``: no arctangent, the same zeros and signs,
and no faster than the elevation itself. With one, ``g = el - m(az)`` clipped to ``[-c, c]``
(c a few degrees: keeps zeros and signs, and bounds the speed-up ``1 + S / cos(el)`` of the
mask's slope S by the lowest cos(elevation) where ``|g| < c``).
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from .errors import StationError
from .stations import Station, station_points, validate_station

__all__ = ["Horizons", "prepare_stations"]

_TWO_PI = 2.0 * np.pi


def prepare_stations(stations, min_elevation_deg=None) -> list[Station]:
    """Validated :class:`~groundseg.stations.Station` list (one station or many, unique
    names); ``min_elevation_deg`` replaces every station's minimum."""
    if isinstance(stations, Station):
        stations = [stations]
    stations = list(stations)
    if not stations:
        raise StationError("no stations given")
    for s in stations:
        if not isinstance(s, Station):
            raise StationError(f"expected Station objects, got {type(s).__name__} ({s!r}); "
                               "load them with groundseg.load_stations")
    names = [s.name for s in stations]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise StationError(f"station name {dup!r} appears twice")
    if min_elevation_deg is not None:
        try:
            value = float(min_elevation_deg)
        except (TypeError, ValueError):
            raise StationError(f"minimum elevation {min_elevation_deg!r} is not a number") from None
        stations = [validate_station(dataclasses.replace(s, min_elevation_deg=value),
                                     f"station {s.name!r}") for s in stations]
    return stations


class Horizons:
    """Stations as arrays plus what the bounds need (all radians and km), ``(n_site,)`` each:
    ``ecef`` ``(n_site, 3)``, ``enu`` ``(n_site, 3, 3)`` (rows east, north, up), ``radius``,
    ``deflection`` (geodetic minus geocentric latitude, + 1e-9), ``min_el``, ``masked``,
    ``lowest`` / ``highest`` requirement over azimuth, ``slope`` (steepest d(requirement) /
    d(azimuth)), ``clip`` (c; inf without a mask), ``rate_factor`` (``1 + S / cos(el)``)."""

    def __init__(self, stations: Sequence[Station]):
        self.stations = list(stations)
        pts = station_points(self.stations)
        self.ecef = pts.ecef_km
        self.enu = pts.enu
        self.radius = np.linalg.norm(self.ecef, axis=1)
        geocentric_lat = np.arcsin(self.ecef[:, 2] / self.radius)
        self.deflection = np.abs(pts.latitude_rad - geocentric_lat) + 1e-9
        self.min_el = np.radians([s.min_elevation_deg for s in self.stations])
        self.sin_min = np.sin(self.min_el)
        self.masked = np.array([bool(s.mask) for s in self.stations])
        n = len(self.stations)
        self.lowest = self.min_el.copy()
        self.highest = self.min_el.copy()
        self.slope = np.zeros(n)
        self.curves = {}                        # masked station -> (azimuths, elevations), closed loop
        for j, s in enumerate(self.stations):
            if s.mask:
                self._add_mask(j, s)
        # Clip level c for masked stations and the smallest cos(elevation) where |g| < c.
        self.clip = np.where(self.masked, np.clip(np.radians(89.5) - self.highest,
                                                  np.radians(0.25), np.radians(5.0)), np.inf)
        cos_hi = np.cos(np.minimum(self.highest + self.clip, np.pi / 2))
        cos_lo = np.cos(np.minimum(np.abs(self.lowest - self.clip), np.pi / 2))
        self.cos_floor = np.where(self.masked, np.maximum(np.minimum(cos_hi, cos_lo), 1e-3), 1.0)
        self.rate_factor = 1.0 + self.slope / self.cos_floor

    def _add_mask(self, j: int, s: Station) -> None:
        pts_ = np.radians(np.array(s.mask, dtype=float))
        order = np.argsort(pts_[:, 0], kind="stable")
        xp, fp = pts_[order, 0], pts_[order, 1]
        xp = np.concatenate([xp[-1:] - _TWO_PI, xp, xp[:1] + _TWO_PI])
        fp = np.concatenate([fp[-1:], fp, fp[:1]])
        dx, df = np.diff(xp), np.diff(fp)
        step = (dx <= 1e-12) & (np.abs(df) > 1e-12)
        if np.any(step):
            az = np.degrees(xp[1:][step][0]) % 360.0
            raise StationError(f"station {s.name!r}: mask has two elevations at azimuth "
                               f"{az:g} deg (a vertical step); move one point by a small azimuth")
        ok = dx > 1e-12
        self.slope[j] = np.max(np.abs(df[ok] / dx[ok])) if np.any(ok) else 0.0
        self.curves[j] = (xp, fp)
        req = np.maximum(fp, self.min_el[j])
        self.lowest[j] = req.min()
        self.highest[j] = req.max()

    def __len__(self) -> int:
        return len(self.stations)

    def requirement(self, j, az, slope: bool = False):
        """Required elevation (rad) for stations ``j`` at azimuths ``az`` (rad), ``(m,)``; with
        ``slope`` also its derivative with respect to azimuth (rad/rad)."""
        out = self.min_el[j].astype(float)
        der = np.zeros(out.shape)
        if np.any(self.masked):
            for jj in np.unique(j[self.masked[j]]):
                sel = np.flatnonzero(j == jj)
                xp, fp = self.curves[jj]
                a = np.mod(az[sel], _TWO_PI)
                value = np.interp(a, xp, fp)
                out[sel] = np.maximum(value, self.min_el[jj])
                if slope:
                    k = np.clip(np.searchsorted(xp, a, side="right") - 1, 0, xp.size - 2)
                    dx = xp[k + 1] - xp[k]
                    with np.errstate(invalid="ignore", divide="ignore"):
                        sl = np.where(dx > 0, (fp[k + 1] - fp[k]) / dx, 0.0)
                    der[sel] = np.where(value > self.min_el[jj], sl, 0.0)
        return (out, der) if slope else out

    def margin_enu(self, j, d, dd=None):
        """The margin g (module docstring) of ENU vectors ``d`` ``(m, 3)`` from stations ``j``
        ``(m,)``; with ``dd`` (the derivative of ``d``) also dg in the same time unit."""
        e, n, u = d[:, 0], d[:, 1], d[:, 2]
        rho2 = e * e + n * n + u * u
        rho = np.sqrt(rho2)
        sin_el = u / rho
        g = sin_el - self.sin_min[j]
        if dd is not None:
            dot = e * dd[:, 0] + n * dd[:, 1] + u * dd[:, 2]
            dg = (dd[:, 2] * rho2 - u * dot) / (rho2 * rho)
        i = np.flatnonzero(self.masked[j]) if self.curves else ()    # rows of masked stations
        if len(i):
            hor2 = e[i] * e[i] + n[i] * n[i]
            hor = np.sqrt(hor2)
            el = np.arctan2(u[i], hor)
            az = np.mod(np.arctan2(e[i], n[i]), _TWO_PI)
            req, req_slope = self.requirement(j[i], az, slope=True)
            gi = el - req
            c = self.clip[j[i]]
            g[i] = np.clip(gi, -c, c)
            if dd is not None:
                d_el = dg[i] * rho[i] / hor
                daz = (n[i] * dd[i, 0] - e[i] * dd[i, 1]) / hor2
                dg[i] = np.where(np.abs(gi) < c, d_el - req_slope * daz, 0.0)
        return g if dd is None else (g, dg)

    def margin(self, j, el, az, clipped: bool = True):
        """``el - m(az)`` (rad) for stations ``j``, clipped like :meth:`margin_enu`."""
        g = el - self.requirement(j, az)
        if clipped and np.any(self.masked):
            c = self.clip[j]
            g = np.where(np.isfinite(c), np.clip(g, -c, c), g)
        return g
