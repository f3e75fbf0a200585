"""Pictures for planners and engineers (matplotlib, Agg backend, PNG).

Every function takes plain arrays (so it does not depend on another module's classes),
writes one PNG to ``path`` and returns the path. Times are ``numpy.datetime64`` arrays or
ISO 8601 UTC strings, plotted in UTC. Maps are plate carrée (longitude, latitude) with the
GSHHS coastlines of :mod:`groundseg.coastlines` at a resolution chosen by the map's extent.

- :func:`ground_tracks`: sub-satellite tracks on the world map, stations with their
  visibility contours, targets; a zoom on the targets' region beside it.
- :func:`pass_gantt`: every pass per station, coloured by satellite; passes the contact
  plan did not schedule greyed on lanes of their own; a minimum drawn width.
- :func:`plan_timeline`: per satellite, lanes for imaging, slews and downlinks; below,
  one panel per busy session with the acquisitions labelled by target.
- :func:`resources`: battery and memory, one row per satellite, eclipses shaded, limit
  lines labelled.
- :func:`revisit_map`: per-cell revisit statistics (e.g. mean, 95th percentile, maximum)
  as heat maps side by side.

One module per idea: :mod:`.maps` (ground tracks, revisit), :mod:`.timelines` (passes,
plan), :mod:`.onboard` (battery and memory), :mod:`._style` (what they share). The data
behind the pictures are functions of their own (:func:`pass_lanes`,
:func:`activity_sessions`, :func:`contour_pieces`, :func:`min_bar_width`,
:func:`label_slots`, :func:`colour_range`, :func:`cell_grid`), so they can be tested
without reading pixels.
"""
from .maps import cell_grid, colour_range, contour_pieces, ground_tracks, revisit_map
from .onboard import resources
from ._style import min_bar_width
from .timelines import activity_sessions, label_slots, pass_gantt, pass_lanes, plan_timeline

__all__ = ["ground_tracks", "pass_gantt", "plan_timeline", "resources", "revisit_map",
           "pass_lanes", "activity_sessions", "contour_pieces", "min_bar_width", "label_slots",
           "colour_range", "cell_grid"]
