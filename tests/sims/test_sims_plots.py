"""Pictures: the data behind each one against a plain recomputation, and the PNGs themselves
(short and unscheduled passes show up in pixels)."""
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread
from matplotlib.path import Path as MplPath

from groundseg.footprints import visibility_contour
from groundseg.orbits import Constellation
from groundseg.stations import Station, bundled_stations
from groundseg.timegrid import TimeGrid
from sims import plots
from sims.plots import _style as style
from sims.errors import SimulationError

T0 = np.datetime64("2026-11-26T00:00:00", "ms")


def _is_png(path, min_bytes=8000):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > min_bytes
    image = imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 600
    return image


def _pixels(image, colour, tol=0.02):
    return int(np.count_nonzero(np.all(np.abs(image[..., :3] - to_rgb(colour)) < tol, axis=-1)))


def _passes(seed=1, n=60):
    """Random passes over 24 h at three stations, about half scheduled."""
    rng = np.random.default_rng(seed)
    aos = T0 + (rng.uniform(0, 86000, n) * 1000).astype("timedelta64[ms]")
    los = aos + (rng.uniform(1, 900, n) * 1000).astype("timedelta64[ms]")
    return (rng.choice(["A", "B", "C"], n).astype(object), rng.choice(["S1", "S2"], n).astype(object),
            aos, los, rng.random(n) < 0.5)


def test_pass_lanes_keep_every_pass_without_overlap():
    station, _, aos, los, scheduled = _passes()
    row, rows = plots.pass_lanes(station, aos, los, scheduled, ["A", "B", "C", "D"])
    assert [r[0] for r in rows] == ["A", "B", "C", "D"]         # D: no pass, keeps its row
    a, b = aos.astype(np.int64), los.astype(np.int64)
    for name, first, n_lanes, n_sched in rows:
        mine = station == name
        assert np.all((row[mine] >= first) & (row[mine] < first + n_lanes))
        # scheduled passes on the top lanes, the others below them
        assert np.all(row[mine & scheduled] < first + n_sched)
        assert np.all(row[mine & ~scheduled] >= first + n_sched)
    for i in range(row.size):                 # brute force: no two bars of a lane overlap
        same = (row == row[i]) & (np.arange(row.size) != i)
        assert not np.any(same & (a < b[i]) & (b > a[i]))


def test_gantt_draws_short_and_unscheduled_passes(tmp_path):
    # A 1 s scheduled pass and a 1 s pass not scheduled on a 24 h axis: both visible.
    aos = np.array([T0, T0 + np.timedelta64(43200, "s"), T0 + np.timedelta64(86000, "s")])
    los = aos + np.array([1000, 1000, 400_000]).astype("timedelta64[ms]")
    img = _is_png(plots.pass_gantt(tmp_path / "g.png", ["A", "B", "A"], ["S1", "S2", "S2"],
                                   aos, los, scheduled=[True, False, True],
                                   satellites=["S1", "S2"]), min_bytes=4000)
    bars = img[int(0.7 * style.DPI):]        # below the title and the legend
    s1, _ = style.palette(2)
    assert _pixels(bars, s1) >= 2 * 10         # at least 2 px wide, a lane tall
    assert _pixels(bars, style.UNSCHEDULED) >= 2 * 10
    assert plots.min_bar_width(1.0, 1000.0) == pytest.approx(2.0 / 1000.0)


def test_legend_order_is_fixed(tmp_path):
    station, satellite, aos, los, scheduled = _passes()
    order = ["S2", "S1"]
    captured = []
    import matplotlib.axes
    original = matplotlib.axes.Axes.legend

    def spy(self, *args, **kwargs):
        captured.append([h.get_label() for h in kwargs["handles"]])
        return original(self, *args, **kwargs)

    matplotlib.axes.Axes.legend = spy
    try:
        plots.pass_gantt(tmp_path / "a.png", station, satellite, aos, los, scheduled=scheduled,
                         satellites=order)
        plots.pass_gantt(tmp_path / "b.png", station[::-1], satellite[::-1], aos[::-1], los[::-1],
                         scheduled=scheduled[::-1], satellites=order)
    finally:
        matplotlib.axes.Axes.legend = original
    assert captured == [order + ["not scheduled"]] * 2


def test_visibility_contour_bands_at_the_poles_and_across_the_antimeridian():
    by_name = {s.name: s for s in bundled_stations()}
    for name, pole in (("Svalbard", 1), ("Troll", -1), ("Hsinchu", 0)):
        lat, lon = visibility_contour(by_name[name], 561.0)
        fills, lines, found = plots.contour_pieces(lat, lon)
        assert found == pole, name
        centre = fills[1]
        if pole:                       # the band reaches the pole over all 360 deg
            assert np.ptp(lines[1][:, 0]) == pytest.approx(360.0, abs=2.5)
            assert np.all(np.abs(centre[-2:, 1]) == 90.0)
        st = by_name[name]
        probe = (st.longitude_deg, st.latitude_deg)
        assert any(MplPath(f).contains_point(probe) for f in fills), name
    # A station on the antimeridian: one unwrapped ring, drawn again 360 deg either side.
    lat, lon = visibility_contour(Station("Fiji-ish", -17.0, 179.9), 561.0)
    fills, lines, pole = plots.contour_pieces(lat, lon)
    assert pole == 0 and np.max(np.abs(np.diff(lines[1][:, 0]))) < 5.0
    assert any(MplPath(f).contains_point((-179.95, -17.0)) for f in fills)
    assert any(MplPath(f).contains_point((179.95, -17.0)) for f in fills)


def test_activity_sessions_and_label_slots():
    sat = np.array(["A", "A", "A", "B", "A"], dtype=object)
    start = np.array([0.0, 100.0, 5000.0, 50.0, 5200.0])
    end = start + 30.0
    session, sessions = plots.activity_sessions(sat, start, end, gap_s=600.0)
    assert sessions == [("A", 0.0, 130.0), ("B", 50.0, 80.0), ("A", 5000.0, 5230.0)]
    assert session.tolist() == [0, 0, 2, 1, 2]
    x = np.array([5.0, 5.1, 5.2, 9.0, 0.0])
    slot = plots.label_slots(x, 0.5, 0.0, 10.0)
    s = np.sort(slot)
    assert np.all(np.diff(s) >= 0.5 - 1e-12) and s[0] >= 0 and s[-1] <= 10
    assert np.array_equal(np.argsort(slot), np.argsort(x))          # order kept
    assert slot[3] == 9.0 and slot[4] == 0.0                          # room: unmoved
    crowded = plots.label_slots(np.zeros(30), 1.0, 0.0, 10.0)
    assert np.allclose(np.sort(crowded), np.linspace(0.0, 10.0, 30))


def test_revisit_cells_on_the_raster_and_colour_range():
    rng = np.random.default_rng(3)
    lat = np.repeat(np.arange(5) * 0.5 + 20.25, 4)
    lon = np.tile(np.arange(4) * 0.5 + 119.25, 5)
    keep = rng.random(lat.size) < 0.7
    v = rng.random(lat.size)
    lat_edges, lon_edges, grid = plots.cell_grid(lat[keep], lon[keep], v[keep], 0.5)
    assert np.allclose(lat_edges, np.arange(6) * 0.5 + 20.0)
    for i in range(lat.size):                      # every cell where its centre is
        r = np.searchsorted(lat_edges, lat[i]) - 1
        c = np.searchsorted(lon_edges, lon[i]) - 1
        assert grid[r, c] == v[i] if keep[i] else np.isnan(grid[r, c])
    assert plots.colour_range([23.4, 23.6]) == pytest.approx((23.5 - 2.9375, 23.5 + 2.9375))
    assert plots.colour_range([1.0, 9.0, np.nan]) == (1.0, 9.0)
    assert plots.colour_range([0.0, 0.0]) == (0.0, pytest.approx(1e-9))     # not below 0


def test_every_picture(tmp_path):
    c = Constellation.formosat8("2026-11-26T00:00:00Z")
    grid = TimeGrid.range("2026-11-26T00:00:00Z", "2026-11-26T02:00:00Z", 60)
    geo = c.propagate(grid).geodetic()
    stations = bundled_stations()
    img = _is_png(plots.ground_tracks(
        tmp_path / "tracks.png", geo.longitude_deg, geo.latitude_deg, c.names,
        times=grid.datetime64(), stations=[(s.name, s.latitude_deg, s.longitude_deg) for s in stations],
        visibility=[visibility_contour(s, 561.0) for s in stations],
        targets=([25.03, 23.57, 24.43, 26.16], [121.56, 119.58, 118.32, 119.95])))
    assert _pixels(img, style.LAND, 0.01) > 10_000 and _pixels(img, style.SEA, 0.01) > 10_000
    t = T0 + np.arange(0, 86400, 600).astype("timedelta64[s]")
    sun = (np.sin(np.arange(t.size) / 9.0)[:, None] > -0.3) * np.ones(8)
    img = _is_png(plots.resources(
        tmp_path / "res.png", t, np.linspace(0, 300, t.size)[:, None] * np.ones(8),
        500 - np.linspace(0, 100, t.size)[:, None] * np.ones(8), c.names, sunlit=sun,
        memory_capacity_gbit=512, battery_capacity_wh=500, min_charge_wh=150))
    assert _pixels(img, "tab:red", 0.03) > 100                          # the floor lines
    n = 24
    aos = T0 + np.arange(0, 86400, 3600).astype("timedelta64[s]")
    _is_png(plots.plan_timeline(
        tmp_path / "plan.png", np.array(c.names)[np.arange(n) % 8], [str(x) + "Z" for x in aos],
        [str(x) + "Z" for x in aos + np.timedelta64(40, "s")], ["imaging", "downlink", "slew"] * 8,
        target=[f"target-{i}" for i in range(n)]))
    lat = np.repeat(np.arange(21.55, 25.5, 0.1), 35)
    lon = np.tile(np.arange(119.05, 122.5, 0.1), 40)
    hours = {"mean revisit (h)": 5 + np.cos(lat), "maximum revisit (h)": 23 + np.sin(lon)}
    _is_png(plots.revisit_map(tmp_path / "revisit.png", lat, lon, hours, resolution_deg=0.1))


def test_bad_plot_input(tmp_path):
    with pytest.raises(SimulationError, match="one length"):
        plots.pass_gantt(tmp_path / "x.png", ["A"], ["S1", "S2"], ["2026-11-26T00:00:00Z"],
                         ["2026-11-26T00:10:00Z"])
    with pytest.raises(SimulationError, match="not listed"):
        plots.pass_gantt(tmp_path / "x.png", ["A"], ["S1"], ["2026-11-26T00:00:00Z"],
                         ["2026-11-26T00:10:00Z"], satellites=["S2"])
    with pytest.raises(SimulationError, match="does not exist"):
        plots.ground_tracks(tmp_path / "no" / "x.png", [[0.0, 1.0]], [[0.0, 1.0]])
    with pytest.raises(SimulationError, match="one visibility contour per station"):
        plots.ground_tracks(tmp_path / "x.png", [[0.0, 1.0]], [[0.0, 1.0]],
                            stations=[("A", 0.0, 0.0)], visibility=[([0.0] * 3, [0.0] * 3)] * 2)
