"""Maps: ground tracks with station visibility and targets, revisit heat maps; plate carrée
with the GSHHS coastlines of :mod:`groundseg.coastlines` at a resolution chosen by extent."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SimulationError
from ._style import DPI, LAND, SEA, SHORE, as_times, palette, pyplot, save

__all__ = ["ground_tracks", "contour_pieces", "revisit_map", "cell_grid", "colour_range"]


def _draw_coast(ax, bbox, width_px: float, *, fill: bool = True, colour=SHORE,
                linewidth: float = 0.5, zorder: float = 1.0) -> None:
    """Land filled (lakes in sea colour) and shorelines of :mod:`groundseg.coastlines`."""
    from matplotlib.collections import LineCollection, PolyCollection

    from groundseg.coastlines import coastlines, land_polygons, resolution_for
    res = resolution_for(bbox, width_px)
    min_area = 0.0 if res == "intermediate" else 200.0
    if fill:
        ax.set_facecolor(SEA)
        rings = land_polygons(bbox, resolution=res, min_area_km2=min_area)
        colours = [SEA if level == 2 else LAND for level, _ in rings]
        ax.add_collection(PolyCollection([r for _, r in rings], facecolors=colours,
                                         edgecolors="none", zorder=zorder))
    lines = coastlines(bbox, resolution=res, min_area_km2=min_area)
    ax.add_collection(LineCollection(lines, colors=colour, linewidths=linewidth,
                                     zorder=zorder + 0.1))


def _split_antimeridian(lon, lat):
    """Break a track where it jumps across +-180 deg (NaN between the pieces)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    jump = np.flatnonzero(np.abs(np.diff(lon)) > 180.0) + 1
    return np.insert(lon, jump, np.nan), np.insert(lat, jump, np.nan)


def contour_pieces(latitude_deg, longitude_deg):
    """A closed ground contour ``(n,)`` as what to draw on a plate carrée map.

    Longitudes are unwrapped (continuous across the antimeridian). A contour that does not
    go round a pole is one ring; one that goes round a pole (its unwrapped longitude gains
    360 deg) is filled as a band from the contour to that pole. Everything is repeated
    shifted by -360 and +360 deg, so the parts beyond +-180 show on the other edge.
    Returns ``(fills, lines, pole)``: lists of ``(m, 2)`` ``(lon, lat)`` arrays (areas, and
    the contour itself without the band's closing edges) and ``+1`` / ``-1`` / ``0``
    (encloses the north pole, the south pole, neither)."""
    lat = np.asarray(latitude_deg, dtype=float)
    lon = np.degrees(np.unwrap(np.radians(np.asarray(longitude_deg, dtype=float))))
    line = np.column_stack([lon, lat])
    pole = 0
    fill = line
    if abs(lon[-1] - lon[0]) > 180.0:                         # goes round a pole
        pole = 1 if np.mean(lat) > 0 else -1
        if lon[-1] < lon[0]:
            line = line[::-1]
        line = line - (360.0 * np.floor((line[0, 0] + 180.0) / 360.0), 0.0)
        y = 90.0 * pole
        fill = np.vstack([line, [[line[-1, 0], y], [line[0, 0], y]]])
    shifts = (-360.0, 0.0, 360.0)
    return ([fill + (d, 0.0) for d in shifts], [line + (d, 0.0) for d in shifts], pole)


def _region_box(lat, lon, margin_deg: float = 0.8, min_span_deg: float = 3.0):
    """A box ``(lat0, lat1, lon0, lon1)`` round points, at least ``min_span_deg`` wide;
    longitudes taken round their circular mean, so points either side of 180 deg stay
    together (the box may then reach beyond +-180)."""
    a = np.radians(np.asarray(lon, dtype=float))
    mid = float(np.degrees(np.arctan2(np.sin(a).mean(), np.cos(a).mean())))
    lon = (np.degrees(a) - mid + 180.0) % 360.0 - 180.0 + mid
    la0, la1 = float(np.min(lat)), float(np.max(lat))
    lo0, lo1 = float(np.min(lon)), float(np.max(lon))
    c_la, c_lo = 0.5 * (la0 + la1), 0.5 * (lo0 + lo1)
    h_la = max(0.5 * (la1 - la0) + margin_deg, 0.5 * min_span_deg)
    h_lo = min(max(0.5 * (lo1 - lo0) + margin_deg, 0.5 * min_span_deg), 180.0)
    return (max(c_la - h_la, -90.0), min(c_la + h_la, 90.0), c_lo - h_lo, c_lo + h_lo)


def _station_groups(stations, near_deg: float = 3.0):
    """Stations closer than ``near_deg`` share one label: ``[(names, lat, lon)]``."""
    groups: list[list] = []
    for name, slat, slon in stations:
        for grp in groups:
            if abs(grp[1] - slat) < near_deg and abs(grp[2] - slon) < near_deg:
                grp[0].append(name)
                break
        else:
            groups.append([[name], slat, slon])
    return groups


def ground_tracks(path, longitude_deg, latitude_deg, names=None, *, times=None, stations=None,
                  visibility=None, visibility_label: str = "station visibility",
                  targets=None, title: str = "Ground tracks") -> Path:
    """Tracks ``(n_sat, n_time)`` degrees on the world map, sampled at ``times``
    ``(n_time,)`` (optional: labels the zoomed tracks with the time they cross it).

    ``stations``: ``[(name, latitude_deg, longitude_deg)]``; ``visibility``: one closed
    contour ``(latitude_deg, longitude_deg)`` per station (e.g.
    :func:`groundseg.footprints.visibility_contour`), drawn with ``visibility_label`` in
    the legend; ``targets``: ``(latitude_deg, longitude_deg)`` arrays. With targets, a
    second panel zooms on them (coastline at the finer resolution, tracks, stations).
    """
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle
    plt = pyplot()
    lon = np.atleast_2d(np.asarray(longitude_deg, dtype=float))
    lat = np.atleast_2d(np.asarray(latitude_deg, dtype=float))
    if lon.shape != lat.shape:
        raise SimulationError("ground tracks: longitude and latitude shapes differ")
    names = list(names) if names is not None else [f"sat {i + 1}" for i in range(lon.shape[0])]
    if len(names) != lon.shape[0]:
        raise SimulationError("ground tracks: one name per track")
    stations = list(stations or ())
    visibility = list(visibility or ())
    if visibility and len(visibility) != len(stations):
        raise SimulationError("ground tracks: one visibility contour per station")
    t_lat = t_lon = None
    if targets is not None:
        t_lat, t_lon = (np.atleast_1d(np.asarray(x, dtype=float)) for x in targets)
        if t_lat.shape != t_lon.shape:
            raise SimulationError("ground tracks: target latitude and longitude lengths differ")
        if not t_lat.size:
            t_lat = t_lon = None
    zoom = t_lat is not None
    t = None if times is None else as_times(times)
    if t is not None and t.size != lon.shape[1]:
        raise SimulationError("ground tracks: one time per track sample")
    fig = plt.figure(figsize=(16.5 if zoom else 11.5, 6.9 if zoom else 6.4))
    grid = fig.add_gridspec(1, 2 if zoom else 1, width_ratios=[2.15, 1] if zoom else [1],
                            left=0.045, right=0.99, top=0.94, bottom=0.13, wspace=0.08)
    world = fig.add_subplot(grid[0, 0])
    panels = [(world, (-90.0, 90.0, -180.0, 180.0), 1100.0)]
    if zoom:
        region = _region_box(t_lat, t_lon)
        panels.append((fig.add_subplot(grid[0, 1]), region, 550.0))
    colours = palette(len(names))
    for k, (ax, box, width_px) in enumerate(panels):
        _draw_coast(ax, box, width_px)
        for contour in visibility if k == 0 else ():
            fills, lines, _ = contour_pieces(*contour)
            ax.add_collection(PolyCollection(fills, facecolors=(0.2, 0.2, 0.2, 0.05),
                                             edgecolors="none", zorder=2))
            ax.add_collection(LineCollection(lines, colors="0.25", linewidths=0.8,
                                             linestyles="--", zorder=2.1))
        if k == 0 and zoom:
            r0, r1, q0, q1 = panels[1][1]
            ax.add_patch(Rectangle((q0, r0), q1 - q0, r1 - r0, fill=False, edgecolor="tab:red",
                                   linewidth=0.9, zorder=5))
        lat0, lat1, lon0, lon1 = box

        def wrap(v):                 # longitudes into [lon0, lon0 + 360): the box's frame
            return (np.asarray(v, dtype=float) - lon0) % 360.0 + lon0

        for colour, name, x, y in zip(colours, names, wrap(lon), lat):
            xs, ys = _split_antimeridian(x, y)
            ax.plot(xs, ys, color=colour, linewidth=1.0 if k == 0 else 1.4, zorder=3)
            ok = np.flatnonzero(np.isfinite(x))
            if ok.size and k == 0:
                ax.plot(x[ok[0]], y[ok[0]], "o", color=colour, markersize=4.5, zorder=4)
            inside = np.flatnonzero((y >= lat0) & (y <= lat1) & (x >= lon0) & (x <= lon1))
            if k == 1 and t is not None and inside.size:
                i = inside[np.argmin(np.abs(y[inside] - (0.3 * lat0 + 0.7 * lat1)))]
                hhmm = str(t[i].astype("datetime64[m]"))[11:16]
                label = ax.annotate(f"{name} {hhmm}", (x[i], y[i]), xytext=(4, 0),
                                    textcoords="offset points", fontsize=7.5, color=colour,
                                    ha="left", va="center", zorder=7, clip_on=True)
                label.set_bbox({"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1})
        if t_lat is not None:
            ax.plot(wrap(t_lon), t_lat, "o", markersize=2.5 if k == 0 else 3.5, color="tab:red",
                    markeredgecolor="white", markeredgewidth=0.3, zorder=5)
        for names_here, slat, slon in _station_groups(stations, 3.0 if k == 0 else 0.5):
            slon = float(wrap(slon))
            if not (lat0 <= slat <= lat1 and lon0 <= slon <= lon1):
                continue
            ax.plot(slon, slat, "^", color="black", markersize=7, markeredgecolor="white",
                    markeredgewidth=0.6, zorder=6)
            right = slon > lon0 + 0.7 * (lon1 - lon0)        # label on the side with room
            text = ax.annotate("/".join(names_here), (slon, slat), xytext=(-5 if right else 5, 4),
                               textcoords="offset points", fontsize=8, zorder=6,
                               ha="right" if right else "left", clip_on=True)
            text.set_bbox({"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1})
        ax.set_xlim(lon0, lon1)
        ax.set_ylim(lat0, lat1)
        ax.set_aspect(1.0 if k == 0 else 1.0 / max(np.cos(np.radians(0.5 * (lat0 + lat1))), 0.2))
        ax.grid(linewidth=0.3, color="0.7", zorder=1.5)
        ax.tick_params(labelsize=8)
    world.set_xticks(np.arange(-180, 181, 60))
    world.set_yticks(np.arange(-90, 91, 30))
    world.set_xlabel("longitude (deg)", fontsize=9)
    world.set_ylabel("latitude (deg)", fontsize=9)
    world.set_title(title, fontsize=11)
    if zoom:
        panels[1][0].set_title(f"Targets ({t_lat.size}) and the tracks over them", fontsize=10)
    handles = [Line2D([], [], color=c, linewidth=2, label=n) for c, n in zip(colours, names)]
    handles.append(Line2D([], [], color="0.3", marker="o", linestyle="none", markersize=5,
                          label="start of track"))
    if stations:
        handles.append(Line2D([], [], color="black", marker="^", linestyle="none",
                              markersize=7, label="ground station"))
    if visibility:
        handles.append(Line2D([], [], color="0.25", linestyle="--", label=visibility_label))
    if t_lat is not None:
        handles.append(Line2D([], [], color="tab:red", marker="o", linestyle="none",
                              markersize=5, label="imaging target"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 7), fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, 0.0))
    return save(fig, path)


def cell_grid(latitude_deg, longitude_deg, values, resolution_deg: float):
    """Cell centres ``(n_cell,)`` and their values as a raster: ``(lat_edges (n_rows + 1,),
    lon_edges (n_cols + 1,), grid (n_rows, n_cols))``, rows and columns the distinct centre
    latitudes and longitudes, NaN where no cell is given."""
    lat, lon = np.asarray(latitude_deg, float), np.asarray(longitude_deg, float)
    ulat, ulon = np.unique(lat), np.unique(lon)
    half = 0.5 * resolution_deg
    grid = np.full((ulat.size, ulon.size), np.nan)
    grid[np.searchsorted(ulat, lat), np.searchsorted(ulon, lon)] = np.asarray(values, float)
    return np.append(ulat - half, ulat[-1] + half), np.append(ulon - half, ulon[-1] + half), grid


def colour_range(values, min_relative_span: float = 0.25) -> tuple[float, float]:
    """Colour-scale limits for ``values`` (NaN ignored): their range, widened about its
    middle to at least ``min_relative_span`` of the median (and never below 0 for
    non-negative data), so that differences of a few per cent do not fill the scale."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    need = max(min_relative_span * abs(float(np.median(v))), 1e-9)
    if hi - lo < need:
        mid = 0.5 * (lo + hi)
        lo, hi = mid - 0.5 * need, mid + 0.5 * need
        if lo < 0.0 <= float(v.min()):
            lo, hi = 0.0, need
    return lo, hi


def revisit_map(path, latitude_deg, longitude_deg, values, *, resolution_deg=None,
                label: str = "mean revisit (h)", title: str = "Revisit",
                region=None) -> Path:
    """Per-cell values at cell centres ``(n_cell,)`` as heat maps with the coastline (cells
    without a value grey). ``values``: one array (titled ``label``), or a mapping
    ``{label: array}`` drawn side by side, each with its own colour scale. ``region``:
    ``(lat_min, lat_max, lon_min, lon_max)`` to frame (default: the cells' extent)."""
    import matplotlib
    plt = pyplot()
    lat = np.asarray(latitude_deg, dtype=float)
    lon = np.asarray(longitude_deg, dtype=float)
    panels = dict(values) if isinstance(values, dict) else {label: values}
    panels = {k: np.asarray(v, dtype=float) for k, v in panels.items()}
    if not panels or lat.size == 0 or any(not (lat.size == lon.size == v.size)
                                          for v in panels.values()):
        raise SimulationError("revisit map: latitude, longitude and values must have one length")
    if resolution_deg is None:
        steps = np.concatenate([np.diff(np.unique(lat)), np.diff(np.unique(lon)), [1.0]])
        resolution_deg = float(steps[steps > 0].min())
    r = resolution_deg
    lat_edges, lon_edges, _ = cell_grid(lat, lon, lat, r)
    if region is not None:
        lat0, lat1, lon0, lon1 = (float(x) for x in region)
    else:
        lat0, lat1, lon0, lon1 = lat_edges[0], lat_edges[-1], lon_edges[0], lon_edges[-1]
    span_lon, span_lat = lon1 - lon0, lat1 - lat0
    y_scale = 1.0 if span_lon >= 60 else 1.0 / max(np.cos(np.radians(0.5 * (lat0 + lat1))), 0.2)
    ratio = span_lat * y_scale / max(span_lon, 1e-9)         # height / width of one map
    n = len(panels)
    map_w = min(4.6, 14.0 / n) if ratio > 0.7 else min(11.0, 15.5 / n)
    map_h = min(map_w * ratio, 7.0)
    map_w = map_h / ratio
    fig, axes = plt.subplots(1, n, figsize=(n * (map_w + 0.7) + 0.4, map_h + 1.75),
                             squeeze=False)
    fig.subplots_adjust(left=0.75 / fig.get_figwidth(), right=1 - 0.15 / fig.get_figwidth(),
                        wspace=0.25, top=1 - 0.85 / fig.get_figheight(),
                        bottom=0.3 / fig.get_figheight())
    cmap = matplotlib.colormaps["viridis_r"].with_extremes(bad="0.75")
    box = (lat0, lat1, lon0, lon1)
    for ax, (name, v) in zip(axes[0], panels.items()):
        grid = cell_grid(lat, lon, v, r)[2]
        vmin, vmax = colour_range(v)
        mesh = ax.pcolormesh(lon_edges, lat_edges, np.ma.masked_invalid(grid), cmap=cmap,
                             shading="flat", zorder=1, vmin=vmin, vmax=vmax)
        _draw_coast(ax, box, map_w * DPI, fill=False, colour="black", linewidth=0.7,
                    zorder=3)
        bar = fig.colorbar(mesh, ax=ax, orientation="horizontal", fraction=0.05, pad=0.1,
                           aspect=30)
        bar.ax.tick_params(labelsize=8)
        ax.set_xlim(lon0, lon1)
        ax.set_ylim(lat0, lat1)
        ax.set_aspect(y_scale)
        ax.tick_params(labelsize=8)
        finite = v[np.isfinite(v)]
        stats = (f"median {np.median(finite):.1f}, max {finite.max():.1f}"
                 if finite.size else "no value")
        ax.set_title(f"{name}\n{stats}", fontsize=9.5)
    axes[0, 0].set_ylabel("latitude (deg)", fontsize=9)
    for ax in axes[0]:
        ax.set_xlabel("longitude (deg)", fontsize=9)
    n_val = int(np.isfinite(next(iter(panels.values()))).sum())
    fig.suptitle(f"{title}  ({lat.size} cells of {r:g} deg, {n_val} with a value; grey: none)",
                 fontsize=11, y=1 - 0.15 / fig.get_figheight(), va="top")
    return save(fig, path)
