"""Pictures: each function writes a real PNG; the hand-made outline is roughly right."""
import numpy as np
import pytest
from matplotlib.image import imread
from matplotlib.path import Path as MplPath

from groundseg.orbits import Constellation
from groundseg.timegrid import TimeGrid
from sims import plots
from sims.coverage import AccessConstraints, CoverageGrid, coverage
from sims.errors import SimulationError

# Places on land and at sea (approximate public coordinates: lat, lon).
LAND = {"Taipei": (25.03, 121.56), "Kaohsiung": (22.63, 120.30), "Nairobi": (-1.29, 36.82),
        "Paris": (48.86, 2.35), "Brasilia": (-15.79, -47.88), "Denver": (39.74, -104.99),
        "Alice Springs": (-23.70, 133.88), "Novosibirsk": (55.01, 82.93), "Tokyo": (35.68, 139.69),
        "Reykjavik area": (64.5, -20.0), "Greenland centre": (72.0, -40.0), "South Pole": (-89.0, 0.0),
        "Madagascar": (-19.0, 46.7), "Borneo": (0.5, 114.0), "Riyadh": (24.71, 46.68)}
SEA = {"Pacific": (0.0, -150.0), "Atlantic": (30.0, -40.0), "Indian Ocean": (-20.0, 80.0),
       "Taiwan Strait": (24.2, 119.6), "South China Sea": (15.0, 115.0), "Tasman Sea": (-38.0, 160.0),
       "Gulf of Mexico": (25.0, -90.0), "Bay of Bengal": (15.0, 88.0), "North Sea": (56.0, 3.0)}


def _on_land(lat, lon):
    return any(MplPath(np.c_[x, y]).contains_point((lon, lat)) for _, x, y in plots.world_outline())


def test_world_outline_is_roughly_right():
    outlines = plots.world_outline()
    assert len(outlines) > 25 and sum(len(x) for _, x, _ in outlines) > 500
    for name, lon, lat in outlines:
        assert lon[0] == lon[-1] and lat[0] == lat[-1], name
        assert np.all(np.abs(lon) <= 180) and np.all(np.abs(lat) <= 90)
    for name, (lat, lon) in LAND.items():
        assert _on_land(lat, lon), name
    for name, (lat, lon) in SEA.items():
        assert not _on_land(lat, lon), name


def _is_png(path, min_bytes=8000):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > min_bytes
    image = imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 600
    return image


def test_every_picture(tmp_path):
    c = Constellation.formosat8("2026-11-26T00:00:00Z")
    geo = c.propagate(TimeGrid.range("2026-11-26T00:00:00Z", "2026-11-26T02:00:00Z", 60)).geodetic()
    img = _is_png(plots.ground_tracks(tmp_path / "tracks.png", geo.longitude_deg, geo.latitude_deg,
                                      c.names, stations=[("Hsinchu", 24.77, 121.01)]))
    assert np.std(img[..., :3]) > 0.05      # not a blank canvas
    t0 = np.datetime64("2026-11-26T00:00:00", "ms")
    aos = t0 + np.arange(0, 86400, 3600).astype("timedelta64[s]")
    los = aos + np.timedelta64(500, "s")
    n = aos.size
    _is_png(plots.pass_gantt(tmp_path / "gantt.png", ["Hsinchu", "Svalbard"] * (n // 2),
                             np.array(c.names)[np.arange(n) % 8], aos, los))
    _is_png(plots.plan_timeline(tmp_path / "plan.png", np.array(c.names)[np.arange(n) % 8],
                                [str(x) + "Z" for x in aos], [str(x) + "Z" for x in los],
                                ["imaging", "downlink", "slew"] * (n // 3)))
    t = t0 + np.arange(0, 86400, 600).astype("timedelta64[s]")
    _is_png(plots.resources(tmp_path / "res.png", t, np.linspace(0, 300, t.size)[:, None] * np.ones(8),
                            500 - np.linspace(0, 100, t.size)[:, None] * np.ones(8), c.names,
                            memory_capacity_gbit=512, battery_capacity_wh=500, min_charge_wh=150))
    res = coverage(c, CoverageGrid(21.5, 25.5, 119.0, 122.5, 0.5), "2026-11-26T00:00:00Z",
                   "2026-11-28T00:00:00Z", AccessConstraints(45.0, 10.0))
    _is_png(plots.revisit_map(tmp_path / "revisit.png", res.latitude_deg, res.longitude_deg,
                              res.max_revisit_s / 3600.0, label="max revisit (h)"))


def test_bad_plot_input(tmp_path):
    with pytest.raises(SimulationError, match="one length"):
        plots.pass_gantt(tmp_path / "x.png", ["A"], ["S1", "S2"], ["2026-11-26T00:00:00Z"],
                         ["2026-11-26T00:10:00Z"])
    with pytest.raises(SimulationError, match="does not exist"):
        plots.ground_tracks(tmp_path / "no" / "x.png", [[0.0, 1.0]], [[0.0, 1.0]])
