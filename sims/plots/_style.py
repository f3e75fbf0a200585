"""What every picture shares: the Agg backend, colours, time axes, bars, saving."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SimulationError

DPI = 110
MIN_BAR_PX = 2.0
SEA = "#eef4f8"
LAND = "#e4e1d8"
SHORE = "0.45"
UNSCHEDULED = "0.78"


def pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def as_times(values) -> np.ndarray:
    a = np.asarray(values)
    if a.dtype.kind == "M":
        return a.astype("datetime64[ms]")
    from groundseg.timegrid import parse_utc
    return parse_utc(list(a)).astype("datetime64[ms]") if a.size else a.astype("datetime64[ms]")


def date_numbers(t: np.ndarray) -> np.ndarray:
    """datetime64 -> matplotlib date numbers (days since 1970-01-01)."""
    return t.astype("datetime64[ms]").astype(np.int64) / 86_400_000.0


def save(fig, path) -> Path:
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise SimulationError(f"{path}: directory {path.parent} does not exist")
    fig.savefig(path, dpi=DPI)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


def palette(n: int):
    import matplotlib
    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def date_axis(ax, start=None) -> None:
    """UTC date ticks; with ``start`` (date number), the x label names the first minute."""
    import matplotlib.dates as mdates
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    ax.grid(axis="x", linewidth=0.3, color="0.8")
    if start is not None:
        first = str(np.datetime64(int(round(start * 86_400_000)), "ms").astype("datetime64[m]"))
        ax.set_xlabel(f"UTC, from {first.replace('T', ' ')}", fontsize=9)


def min_bar_width(span_days: float, axis_width_px: float, min_px: float = MIN_BAR_PX) -> float:
    """The narrowest bar (days) that still shows ``min_px`` pixels on an axis of
    ``axis_width_px`` pixels spanning ``span_days``."""
    return float(span_days) * float(min_px) / max(float(axis_width_px), 1.0)


def bars(ax, x0, x1, y, height, colour, min_w, **kw):
    from matplotlib.collections import PolyCollection
    w = np.maximum(x1 - x0, min_w)
    left = np.where(x1 - x0 < min_w, 0.5 * (x0 + x1) - 0.5 * min_w, x0)
    y0, y1 = y - 0.5 * height, y + 0.5 * height
    verts = np.stack([np.column_stack([left, y0]), np.column_stack([left + w, y0]),
                      np.column_stack([left + w, y1]), np.column_stack([left, y1])], axis=1)
    ax.add_collection(PolyCollection(verts, facecolors=colour, edgecolors="none", **kw))
