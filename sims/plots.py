"""Pictures for operators and engineers (matplotlib, Agg backend, PNG).

Every function takes plain arrays (so it does not depend on another module's classes),
writes one PNG to ``path`` and returns the path. Times are ``numpy.datetime64`` arrays or
ISO 8601 UTC strings, plotted in UTC.

- :func:`ground_tracks`: sub-satellite tracks on a world outline, stations marked.
- :func:`pass_gantt`: passes per station (one row each), coloured by satellite.
- :func:`plan_timeline`: plan activities per satellite (one row each), coloured by kind.
- :func:`resources`: on-board memory and battery charge over time, one line per satellite.
- :func:`revisit_map`: a per-cell metric of a coverage grid as a heat map.

The world outline (:func:`world_outline`, ``sims/data/world_outline.csv``) is a coarse
hand-made approximation written for this project, for orientation only.
"""
from __future__ import annotations

import csv
from importlib import resources as _resources
from pathlib import Path

import numpy as np

from .errors import SimulationError

__all__ = ["world_outline", "ground_tracks", "pass_gantt", "plan_timeline", "resources",
           "revisit_map"]

_DPI = 110


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def world_outline() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The coarse continent outline: ``(name, longitude_deg, latitude_deg)`` per closed line."""
    text = _resources.files("sims").joinpath("data/world_outline.csv").read_text(encoding="utf-8")
    rows = [r for r in csv.reader(line for line in text.splitlines() if not line.startswith("#"))]
    out: dict[str, list] = {}
    for name, lon, lat in rows[1:]:
        out.setdefault(name, []).append((float(lon), float(lat)))
    return [(name, np.array(p)[:, 0], np.array(p)[:, 1]) for name, p in out.items()]


def _draw_outline(ax, **style) -> None:
    style = {"color": "0.45", "linewidth": 0.6, **style}
    for _, lon, lat in world_outline():
        ax.fill(lon, lat, color="0.93", zorder=0)
        ax.plot(lon, lat, zorder=1, **style)


def _times(values) -> np.ndarray:
    a = np.asarray(values)
    if a.dtype.kind == "M":
        return a.astype("datetime64[ms]")
    from groundseg.timegrid import parse_utc
    return parse_utc(list(a)).astype("datetime64[ms]") if a.size else a.astype("datetime64[ms]")


def _split_antimeridian(lon, lat):
    """Break a track where it jumps across +-180 deg (NaN between the pieces)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    jump = np.flatnonzero(np.abs(np.diff(lon)) > 180.0) + 1
    return np.insert(lon, jump, np.nan), np.insert(lat, jump, np.nan)


def _save(fig, path) -> Path:
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise SimulationError(f"{path}: directory {path.parent} does not exist")
    fig.savefig(path, dpi=_DPI)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


def _colours(n: int):
    import matplotlib
    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def ground_tracks(path, longitude_deg, latitude_deg, names=None, *, stations=None,
                  title: str = "Ground tracks") -> Path:
    """Tracks ``(n_sat, n_time)`` degrees on the world outline; ``stations`` an optional
    list of ``(name, latitude_deg, longitude_deg)``."""
    plt = _pyplot()
    lon = np.atleast_2d(np.asarray(longitude_deg, dtype=float))
    lat = np.atleast_2d(np.asarray(latitude_deg, dtype=float))
    if lon.shape != lat.shape:
        raise SimulationError("ground tracks: longitude and latitude shapes differ")
    names = list(names) if names is not None else [f"sat {i + 1}" for i in range(lon.shape[0])]
    fig, ax = plt.subplots(figsize=(11, 5.8))
    _draw_outline(ax)
    for colour, name, x, y in zip(_colours(len(names)), names, lon, lat):
        xs, ys = _split_antimeridian(x, y)
        ax.plot(xs, ys, color=colour, linewidth=0.9, label=name, zorder=2)
        ok = np.flatnonzero(np.isfinite(x))
        if ok.size:
            ax.plot(x[ok[0]], y[ok[0]], "o", color=colour, markersize=4, zorder=3)
    groups: list[list] = []   # stations closer than 3 deg share one label
    for name, slat, slon in stations or ():
        ax.plot(slon, slat, "^", color="black", markersize=7, zorder=4)
        for grp in groups:
            if abs(grp[1] - slat) < 3 and abs(grp[2] - slon) < 3:
                grp[0].append(name)
                break
        else:
            groups.append([[name], slat, slon])
    for names_here, slat, slon in groups:
        ax.annotate("/".join(names_here), (slon, slat), xytext=(4, 4), textcoords="offset points",
                    fontsize=8, zorder=4)
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_xticks(np.arange(-180, 181, 60))
    ax.set_yticks(np.arange(-90, 91, 30))
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_aspect("equal")
    ax.grid(linewidth=0.3, color="0.8")
    ax.set_title(title + "  (dot: start; outline approximate)")
    ax.legend(loc="lower left", fontsize=7, ncol=max(1, (len(names) + 3) // 4), framealpha=0.8)
    fig.tight_layout()
    return _save(fig, path)


def pass_gantt(path, station, satellite, aos, los, *, title: str = "Passes per station") -> Path:
    """One row per station, a bar per pass from AOS to LOS, coloured by satellite.
    All arrays ``(n_pass,)``."""
    import matplotlib.dates as mdates
    from matplotlib.patches import Patch
    plt = _pyplot()
    station = np.asarray(station, dtype=object)
    satellite = np.asarray(satellite, dtype=object)
    t0, t1 = _times(aos), _times(los)
    if not (station.size == satellite.size == t0.size == t1.size):
        raise SimulationError("pass Gantt: station, satellite, aos and los must have one length")
    stations = list(dict.fromkeys(station.tolist()))
    sats = list(dict.fromkeys(satellite.tolist()))
    colour = dict(zip(sats, _colours(len(sats))))
    fig, ax = plt.subplots(figsize=(12, 1.2 + 0.55 * max(1, len(stations))))
    for st, sa, a, b in zip(station, satellite, t0, t1):
        width = (b - a).astype("timedelta64[ms]").astype(float) / 86400e3
        ax.barh(stations.index(st), max(width, 1.0 / 86400), left=mdates.date2num(a), height=0.6,
                color=colour[sa], edgecolor="none")
    ax.set_yticks(range(len(stations)))
    ax.set_yticklabels(stations)
    ax.set_ylim(len(stations) - 0.5, -0.5)
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M\n%d %b"))
    ax.grid(axis="x", linewidth=0.3, color="0.8")
    ax.set_xlabel("UTC")
    ax.set_title(f"{title} ({station.size} passes)")
    ax.legend(handles=[Patch(color=colour[s], label=s) for s in sats], fontsize=7,
              loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def plan_timeline(path, satellite, start, end, kind, *, rows=None,
                  title: str = "Plan per satellite") -> Path:
    """One row per satellite, a bar per activity ``(satellite, start, end, kind)``, coloured
    by kind (e.g. imaging, downlink, slew). All arrays ``(n_activity,)``; later bars are
    drawn over earlier ones. ``rows``: the satellites to show, in order (default: those
    with an activity)."""
    import matplotlib.dates as mdates
    from matplotlib.patches import Patch
    plt = _pyplot()
    satellite = np.asarray(satellite, dtype=object)
    kind = np.asarray(kind, dtype=object)
    t0, t1 = _times(start), _times(end)
    if not (satellite.size == kind.size == t0.size == t1.size):
        raise SimulationError("plan timeline: satellite, start, end and kind must have one length")
    sats = list(dict.fromkeys(satellite.tolist())) if rows is None else list(rows)
    missing = set(satellite.tolist()) - set(sats)
    if missing:
        raise SimulationError(f"plan timeline: satellites not in rows: {sorted(missing)[:3]}")
    kinds = list(dict.fromkeys(kind.tolist()))
    preset = {"imaging": "tab:green", "acquisition": "tab:green", "downlink": "tab:blue",
              "slew": "tab:orange", "idle": "0.8", "contact": "tab:blue"}
    spare = iter(_colours(10)[4:])
    colour = {k: preset.get(str(k).lower()) or next(spare, "tab:gray") for k in kinds}
    fig, ax = plt.subplots(figsize=(12, 1.2 + 0.5 * max(1, len(sats))))
    for sa, k, a, b in zip(satellite, kind, t0, t1):
        width = (b - a).astype("timedelta64[ms]").astype(float) / 86400e3
        ax.barh(sats.index(sa), max(width, 1.0 / 86400), left=mdates.date2num(a), height=0.6,
                color=colour[k], edgecolor="none")
    ax.set_yticks(range(len(sats)))
    ax.set_yticklabels(sats)
    ax.set_ylim(len(sats) - 0.5, -0.5)
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M\n%d %b"))
    ax.grid(axis="x", linewidth=0.3, color="0.8")
    ax.set_xlabel("UTC")
    ax.set_title(f"{title} ({satellite.size} activities)")
    ax.legend(handles=[Patch(color=colour[k], label=k) for k in kinds], fontsize=8,
              loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def resources(path, time, memory_gbit, charge_wh, names=None, *, memory_capacity_gbit=None,
              battery_capacity_wh=None, min_charge_wh=None,
              title: str = "Memory and battery") -> Path:
    """Memory (Gbit) and battery charge (Wh) over ``time`` ``(n_time,)``; the state arrays
    are ``(n_time, n_sat)``. Capacities and the charge floor are drawn as dashed lines."""
    plt = _pyplot()
    t = _times(time)
    mem = np.asarray(memory_gbit, dtype=float).reshape(t.size, -1)
    bat = np.asarray(charge_wh, dtype=float).reshape(t.size, -1)
    n = mem.shape[1]
    names = list(names) if names is not None else [f"sat {i + 1}" for i in range(n)]
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(12, 6.5), sharex=True)
    for colour, name, m, b in zip(_colours(n), names, mem.T, bat.T):
        a1.plot(t, m, color=colour, linewidth=0.9, label=name)
        a2.plot(t, b, color=colour, linewidth=0.9, label=name)
    if memory_capacity_gbit is not None:
        a1.axhline(memory_capacity_gbit, color="black", linestyle="--", linewidth=0.8,
                   label="capacity")
    if battery_capacity_wh is not None:
        a2.axhline(battery_capacity_wh, color="black", linestyle="--", linewidth=0.8,
                   label="capacity")
    if min_charge_wh is not None:
        a2.axhline(min_charge_wh, color="tab:red", linestyle="--", linewidth=0.8, label="floor")
    a1.set_ylabel("memory (Gbit)")
    a2.set_ylabel("battery (Wh)")
    a2.set_xlabel("UTC")
    a1.set_title(title)
    for ax in (a1, a2):
        ax.grid(linewidth=0.3, color="0.8")
        ax.set_ylim(bottom=0)
    a1.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _save(fig, path)


def revisit_map(path, latitude_deg, longitude_deg, values, *, resolution_deg=None,
                label: str = "mean revisit (h)", title: str = "Revisit",
                region=None) -> Path:
    """Per-cell ``values`` ``(n_cell,)`` at cell centres as a heat map (cells without a value
    grey), with the world outline. ``region``: ``(lat_min, lat_max, lon_min, lon_max)``
    to frame (default: the cells' extent)."""
    plt = _pyplot()
    lat = np.asarray(latitude_deg, dtype=float)
    lon = np.asarray(longitude_deg, dtype=float)
    v = np.asarray(values, dtype=float)
    if not (lat.size == lon.size == v.size) or lat.size == 0:
        raise SimulationError("revisit map: latitude, longitude and values must have one length")
    ulat, ulon = np.unique(lat), np.unique(lon)
    if resolution_deg is None:
        steps = np.concatenate([np.diff(ulat), np.diff(ulon), [1.0]])
        resolution_deg = float(steps[steps > 0].min())
    r = resolution_deg
    lat_edges = np.append(ulat - r / 2, ulat[-1] + r / 2)
    lon_edges = np.append(ulon - r / 2, ulon[-1] + r / 2)
    grid = np.full((ulat.size, ulon.size), np.nan)
    grid[np.searchsorted(ulat, lat), np.searchsorted(ulon, lon)] = v
    import matplotlib
    cmap = matplotlib.colormaps["viridis_r"].with_extremes(bad="0.75")
    if region is not None:
        lat0, lat1, lon0, lon1 = region
    else:
        lat0, lat1, lon0, lon1 = lat_edges[0], lat_edges[-1], lon_edges[0], lon_edges[-1]
    span_lon, span_lat = lon1 - lon0, lat1 - lat0
    y_scale = 1.0 if span_lon >= 60 else 1.0 / max(np.cos(np.radians(np.mean(lat))), 0.2)
    ratio = span_lat * y_scale / max(span_lon, 1e-9)       # height / width of the map itself
    if ratio <= 0.7:
        width, height = 11.0, max(3.5, 8.6 * ratio + 1.4)
    else:                                                   # tall region: narrow figure, no margins
        width, height = max(5.0, 7.0 / ratio + 2.6), 8.5
    fig, ax = plt.subplots(figsize=(width, height))
    _draw_outline(ax)
    mesh = ax.pcolormesh(lon_edges, lat_edges, np.ma.masked_invalid(grid), cmap=cmap,
                         shading="flat", zorder=2, alpha=0.9)
    for _, olon, olat in world_outline():
        ax.plot(olon, olat, color="black", linewidth=0.7, zorder=3)
    fig.colorbar(mesh, ax=ax, label=label, fraction=0.035, pad=0.02)
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(y_scale)
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    finite = v[np.isfinite(v)]
    stats = f"cells {v.size}, with value {finite.size}"
    if finite.size:
        stats += f", median {np.median(finite):.2f}, max {finite.max():.2f}"
    ax.set_title(f"{title}\n({stats}; grey: none; outline approximate)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
