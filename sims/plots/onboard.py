"""On-board resources: battery and memory per satellite as small multiples."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SimulationError
from ._style import as_times, date_axis, date_numbers, palette, pyplot, save

__all__ = ["resources"]


def _shade(ax, x, dark) -> None:
    """Shade where ``dark`` (true per sample) across the axes' height."""
    dark = np.asarray(dark, bool)
    if np.any(dark):
        ax.fill_between(x, 0, 1, where=dark, transform=ax.get_xaxis_transform(),
                        color="0.55", alpha=0.18, linewidth=0, step="mid", zorder=0)


def _limit(ax, y, text, colour) -> None:
    ax.axhline(y, color=colour, linestyle="--", linewidth=0.8, zorder=1)
    if text:
        label = ax.annotate(text, (1.0, y), xycoords=("axes fraction", "data"), xytext=(-3, 2),
                            textcoords="offset points", ha="right", va="bottom", fontsize=7,
                            color=colour, zorder=5)
        label.set_bbox({"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.5})


def _thin(x: np.ndarray, y: np.ndarray, max_points: int):
    """At most ~``max_points`` samples that keep every bucket's minimum and maximum (so
    short spikes survive), in time order."""
    n = x.size
    if n <= max_points:
        return x, y
    size = int(np.ceil(2 * n / max_points))
    m = n // size * size
    blocks = y[:m].reshape(-1, size)
    base = np.arange(0, m, size)
    keep = np.concatenate([base + np.argmin(blocks, axis=1), base + np.argmax(blocks, axis=1),
                           np.arange(m, n), [0, n - 1]])
    keep = np.unique(keep)
    return x[keep], y[keep]


def resources(path, time, memory_gbit, charge_wh, names=None, *, sunlit=None,
              memory_capacity_gbit=None, battery_capacity_wh=None, min_charge_wh=None,
              title: str = "Battery and memory") -> Path:
    """Battery charge (Wh) and memory (Gbit) over ``time`` ``(n_time,)``, one row per
    satellite (small multiples, shared axes); state arrays ``(n_time, n_sat)``.
    ``sunlit``: the sunlit fraction ``(n_time, n_sat)``; below 0.5 is shaded as eclipse.
    Capacities and the charge floor are labelled dashed lines; a memory capacity far above
    the data is stated instead of squashing the curves."""
    from matplotlib.patches import Patch
    plt = pyplot()
    t = as_times(time)
    mem = np.asarray(memory_gbit, dtype=float).reshape(t.size, -1)
    bat = np.asarray(charge_wh, dtype=float).reshape(t.size, -1)
    n = mem.shape[1]
    if bat.shape != mem.shape:
        raise SimulationError("resources: memory and charge shapes differ")
    names = list(names) if names is not None else [f"sat {i + 1}" for i in range(n)]
    sun = None if sunlit is None else np.asarray(sunlit, dtype=float).reshape(t.size, -1)
    if sun is not None and sun.shape != mem.shape:
        raise SimulationError("resources: sunlit must have the state arrays' shape")
    x = date_numbers(t)
    # Axes share limits, not tickers: rows above the last get no x ticks (tick objects are
    # most of the drawing time of small multiples).
    fig, axes = plt.subplots(n, 2, figsize=(13, 1.3 + 0.95 * n), squeeze=False,
                             gridspec_kw={"hspace": 0.12, "wspace": 0.1})
    fig.subplots_adjust(left=0.08, right=0.99, top=1 - 0.85 / fig.get_figheight(),
                        bottom=0.6 / fig.get_figheight())
    colours = palette(n)
    bat_top = max(float(np.nanmax(bat)) if bat.size else 1.0, battery_capacity_wh or 0.0) * 1.25
    mem_peak = float(np.nanmax(mem)) if mem.size else 0.0
    show_cap = memory_capacity_gbit is not None and mem_peak >= 0.2 * memory_capacity_gbit
    mem_top = max(mem_peak, memory_capacity_gbit if show_cap else 0.0, 1e-3) * 1.15
    for i in range(n):
        a_bat, a_mem = axes[i]
        for ax, series in ((a_bat, bat[:, i]), (a_mem, mem[:, i])):
            if sun is not None:
                _shade(ax, *_thin(x, (sun[:, i] < 0.5).astype(float), 4000))
            ax.plot(*_thin(x, series, 3000), color=colours[i], linewidth=0.9, zorder=3)
            ax.grid(linewidth=0.3, color="0.85")
            ax.tick_params(labelsize=7.5)
        peak = int(np.nanargmax(mem[:, i])) if mem.size else 0
        if mem.size and mem[peak, i] > 0:
            a_mem.annotate(f"peak {mem[peak, i]:.1f} Gbit at "
                           f"{str(t[peak].astype('datetime64[m]'))[11:16]}",
                           (1.0, 1.0), xycoords="axes fraction", xytext=(-3, -3),
                           textcoords="offset points", ha="right", va="top", fontsize=7,
                           color="0.25")
        first = i == 0
        if battery_capacity_wh is not None:
            _limit(a_bat, battery_capacity_wh,
                   f"capacity {battery_capacity_wh:g} Wh" if first else "", "0.2")
        if min_charge_wh is not None:
            frac = f" ({100 * min_charge_wh / battery_capacity_wh:.0f} %)" if battery_capacity_wh else ""
            _limit(a_bat, min_charge_wh, f"floor {min_charge_wh:g} Wh{frac}" if first else "",
                   "tab:red")
        if show_cap:
            _limit(a_mem, memory_capacity_gbit,
                   f"capacity {memory_capacity_gbit:g} Gbit" if first else "", "0.2")
        a_bat.set_ylabel(names[i], fontsize=9, rotation=0, ha="right", va="center")
    from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator
    bat_ticks = MaxNLocator(3).tick_values(0, bat_top)
    mem_ticks = MaxNLocator(3).tick_values(0, mem_top)
    pad = 0.01 * (x[-1] - x[0]) if x.size else 0.0
    span = (x[0] - pad, x[-1] + pad) if x.size else (0.0, 1.0)
    for row in axes:
        row[0].set_ylim(0, bat_top)
        row[1].set_ylim(0, mem_top)
        row[0].yaxis.set_major_locator(FixedLocator(bat_ticks))
        row[1].yaxis.set_major_locator(FixedLocator(mem_ticks))
        for ax in row:
            ax.set_xlim(*span)
    for ax in axes[:-1].flat:
        ax.xaxis.set_major_locator(NullLocator())
    axes[0, 0].set_title("battery charge (Wh)", fontsize=10)
    cap_note = ""
    if memory_capacity_gbit is not None and not show_cap:
        cap_note = f"; capacity {memory_capacity_gbit:g} Gbit, off scale"
    axes[0, 1].set_title(f"memory (Gbit{cap_note})", fontsize=10)
    for ax in axes[-1]:
        ax.xaxis_date()
        date_axis(ax, x[0] if x.size else None)
    handles = [Patch(color="0.55", alpha=0.3, label="eclipse (sunlit fraction < 0.5)")] \
        if sun is not None else []
    fig.suptitle(title, fontsize=11, y=1 - 0.12 / fig.get_figheight(), va="top")
    if handles:
        fig.legend(handles=handles, loc="upper right", fontsize=8, frameon=False,
                   bbox_to_anchor=(0.99, 1 - 0.1 / fig.get_figheight()))
    return save(fig, path)
