"""Coverage: the complete access search against brute force (skyfield states every 10 s),
metrics against a plain re-computation, backends and chunkings against each other."""
import csv
import io
import json
import logging

import numpy as np
import pytest
from skyfield.api import EarthSatellite
from skyfield.framelib import itrs

from _helpers import random_leo_tles
from groundseg import catalog
from groundseg.cli import main
from groundseg.earth import GroundPoints, geodetic_to_ecef
from groundseg.orbits import Constellation
from groundseg.sun import solar_elevation_rad
from groundseg.timegrid import TimeGrid, timescale
from sims.coverage import CELL_COLUMNS, AccessConstraints, CoverageGrid, coverage
from sims.errors import SimulationError

START, END = "2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z"


@pytest.fixture(scope="module")
def fleet():
    """Four random LEO satellites (300-1200 km, any inclination, e <= 0.01) and two of the
    bundled constellation, as TLE lines (for skyfield) and a Constellation."""
    rng = np.random.default_rng(20261126)
    tles = random_leo_tles(rng, 4, alt_km=(400.0, 1000.0), ecc_max=0.01)
    tles += [(r.name,) + tuple(r.tle) for r in Constellation.formosat8(START).records[:2]]
    cat = catalog.parse_catalog("\n".join("\n".join(t) for t in tles))
    return tles, Constellation(cat.records)


def _brute(tles, lat, lon, constraints, step_s=10.0):
    """Accessible samples (n_cell, n_sat, n_time) from skyfield ITRS states every step_s."""
    grid = TimeGrid.range(START, END, step_s)
    cells = geodetic_to_ecef(np.radians(lat), np.radians(lon), 0.0)
    ok = np.ones((len(cells), 1, len(grid)), bool)
    if constraints.min_sun_elevation_deg is not None:
        sun = np.degrees(solar_elevation_rad(GroundPoints.from_degrees(lat, lon), grid))
        ok = (sun >= constraints.min_sun_elevation_deg)[:, None, :]
    acc = np.zeros((len(cells), len(tles), len(grid)), bool)
    ts = timescale()
    for s, (name, l1, l2) in enumerate(tles):
        r = EarthSatellite(l1, l2, name, ts).at(grid.skyfield_time).frame_xyz(itrs).km.T
        los = cells[:, None, :] - r[None]                       # satellite -> cell
        cos_eta = -np.einsum("cti,ti->ct", los, r) / (np.linalg.norm(los, axis=-1) *
                                                     np.linalg.norm(r, axis=-1))
        near_side = np.einsum("cti,ci->ct", -los, cells) > 0
        acc[:, s] = (cos_eta >= np.cos(np.radians(constraints.max_off_nadir_deg))) & near_side
    return grid.seconds, acc & ok


def _runs(flags):
    """(first, last) sample indices of each run of True."""
    d = np.diff(np.r_[0, flags.astype(int), 0])
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1))


def _check_against_brute(t, acc, cell, sat, start, end, slack=0.5, step=10.0):
    n_checked = 0
    for c in range(acc.shape[0]):
        for s in range(acc.shape[1]):
            sel = (cell == c) & (sat == s)
            st, en = start[sel], end[sel]
            samples = t[acc[c, s]]
            inside = (samples[:, None] >= st[None] - slack) & (samples[:, None] <= en[None] + slack)
            assert inside.any(axis=1).all(), f"cell {c} sat {s}: access samples outside intervals"
            for a, b in zip(st, en):
                if b - a > step + 2 * slack:
                    assert np.any((t >= a) & (t <= b) & acc[c, s]), \
                        f"cell {c} sat {s}: interval {a:.1f}-{b:.1f} has no access sample"
            for i0, i1 in _runs(acc[c, s]):
                k = np.flatnonzero((st - slack <= t[i0]) & (en + slack >= t[i1]))
                assert k.size == 1, f"cell {c} sat {s}: run {t[i0]}..{t[i1]} not in one interval"
                a, b = st[k[0]], en[k[0]]
                if i0 > 0:
                    assert t[i0] - step - slack < a <= t[i0] + slack
                if i1 < len(t) - 1:
                    assert t[i1] - slack <= b < t[i1] + step + slack
                n_checked += 1
    return n_checked


@pytest.mark.parametrize("grid,constraints", [
    (CoverageGrid(20.0, 27.0, 118.0, 124.0, 1.0), AccessConstraints(40.0, -3.0)),
    (CoverageGrid(70.0, 90.0, 170.0, -170.0, 2.5), AccessConstraints(50.0, None)),
], ids=["taiwan-sun", "polar-antimeridian"])
def test_complete_search_matches_brute_force(fleet, grid, constraints):
    tles, constellation = fleet
    res = coverage(constellation, grid, START, END, constraints, keep_intervals=True)
    cell, sat, start, end = res.intervals
    t, acc = _brute(tles, res.latitude_deg, res.longitude_deg, constraints)
    assert acc.any(axis=2).sum() > 0.5 * acc.shape[0] * acc.shape[1] / 3
    n = _check_against_brute(t, acc, cell, sat, start, end)
    assert n > 50
    assert len(cell) == res.accesses.sum()
    # The points (dense) search finds exactly the same intervals as the raster search.
    pts = coverage(constellation, (res.latitude_deg, res.longitude_deg), START, END, constraints,
                   keep_intervals=True)
    for a, b in zip(res.intervals, pts.intervals):
        assert np.array_equal(a, b)


def _point_intervals(constellation, lat, lon, constraints):
    res = coverage(constellation, (np.asarray(lat, float), np.asarray(lon, float)), START, END,
                   constraints, keep_intervals=True)
    return res.intervals


def test_sun_constraint_splits_an_access(fleet):
    """A Sun threshold crossed in the middle of an access cuts it there (brute force, 0.5 s)."""
    _, constellation = fleet
    lat, lon = np.array([60.0, -35.0, 5.0]), np.array([-150.0, 20.0, 100.0])
    pt, sat, t0, t1 = _point_intervals(constellation, lat, lon, AccessConstraints(45.0))
    grid = TimeGrid.from_seconds(START, np.stack([t0, t1], axis=1).ravel())
    el = np.degrees(solar_elevation_rad(GroundPoints.from_degrees(lat, lon), grid))
    i = np.arange(pt.size)
    el_start, el_end = el[pt, 2 * i], el[pt, 2 * i + 1]
    k = int(np.argmax(np.abs(el_end - el_start) * ((t1 - t0) > 60)))
    threshold = 0.5 * (el_start[k] + el_end[k])
    rising_sun = el_end[k] > el_start[k]
    one = slice(pt[k], pt[k] + 1)
    _, c_sat, c0, c1 = _point_intervals(constellation, lat[one], lon[one],
                                        AccessConstraints(45.0, threshold))
    mine = [(a, b) for a, b, s in zip(c0, c1, c_sat) if s == sat[k] and a < t1[k] + 1 and b > t0[k] - 1]
    assert len(mine) == 1
    a, b = mine[0]
    # Brute force on the free interval at 0.5 s.
    ts = np.arange(t0[k], t1[k], 0.5)
    sun = np.degrees(solar_elevation_rad(GroundPoints.from_degrees(lat[one], lon[one]),
                                         TimeGrid.from_seconds(START, ts)))[0]
    ok = ts[sun >= threshold]
    if rising_sun:
        assert abs(a - ok[0]) < 0.6 and b == pytest.approx(t1[k], abs=1e-9)
    else:
        assert abs(b - ok[-1]) < 0.6 and a == pytest.approx(t0[k], abs=1e-9)


def test_agrees_with_groundseg_access(fleet):
    """The imaging-access engineer's search (groundseg.access, find_crossings on ITRS Hermite
    states, 1 ms) finds the same windows: coverage keeps its own raster search for speed."""
    from groundseg import access
    from groundseg.earth import geodetic_to_ecef
    _, constellation = fleet
    grid = CoverageGrid(-40.0, 40.0, 60.0, 100.0, 4.0)
    cons = AccessConstraints(35.0, 0.0)
    res = coverage(constellation, grid, START, END, cons, keep_intervals=True)
    eph = constellation.propagate(TimeGrid.range(START, END, 60.0))
    pts = geodetic_to_ecef(np.radians(res.latitude_deg), np.radians(res.longitude_deg), 0.0)
    sat, point, a, b = access.access_intervals(eph, pts, 35.0, 0.0)
    cell, s, start, end = res.intervals
    theirs = np.lexsort((a, sat, point))
    assert len(cell) == len(point) > 200
    assert np.array_equal(cell, point[theirs]) and np.array_equal(s, sat[theirs])
    assert np.max(np.abs(start - a[theirs])) < 0.2 and np.max(np.abs(end - b[theirs])) < 0.2


def _metrics_reference(cell, start, end, n_cells, window_s):
    """Per-cell metrics recomputed plainly from the raw intervals."""
    out = []
    for c in range(n_cells):
        iv = sorted(zip(start[cell == c], end[cell == c]))
        merged = []
        for a, b in iv:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        gaps = [merged[i + 1][0] - merged[i][1] for i in range(len(merged) - 1)]
        out.append(dict(
            accesses=len(iv), first=merged[0][0] if merged else np.nan,
            mean=np.mean(gaps) if gaps else np.nan, max=max(gaps) if gaps else np.nan,
            p95=np.percentile(gaps, 95) if gaps else np.nan, merged=merged))
    return out


def test_metrics_and_coverage_curve(fleet):
    _, constellation = fleet
    grid = CoverageGrid(-12.0, 12.0, 30.0, 50.0, 4.0)
    res = coverage(constellation, grid, START, END, AccessConstraints(45.0, 5.0),
                   keep_intervals=True, curve_step_s=1800.0)
    cell, _, start, end = res.intervals
    ref = _metrics_reference(cell, start, end, len(grid), 86400.0)
    assert np.array_equal(res.accesses, [r["accesses"] for r in ref])
    for ours, key in ((res.first_access_s, "first"), (res.mean_revisit_s, "mean"),
                      (res.max_revisit_s, "max"), (res.p95_revisit_s, "p95")):
        assert np.allclose(ours, [r[key] for r in ref], rtol=1e-12, atol=1e-9, equal_nan=True)
    assert np.isfinite(res.p95_revisit_s).sum() > 10
    axis = np.arange(0.0, 86400.0 + 1, 1800.0)
    cum = [np.mean([r["first"] <= x for r in ref]) for x in axis]
    inst = [np.mean([any(a <= x <= b for a, b in r["merged"]) for r in ref]) for x in axis]
    assert np.allclose(res.curve["cumulative"], cum) and np.allclose(res.curve["instantaneous"], inst)
    assert res.curve["time_utc"][1] == "2026-11-26T00:30:00.000Z"
    w = np.repeat(grid.cell_area_weights(), grid.shape[1])
    cum_area = [np.sum(w * np.array([r["first"] <= x for r in ref])) / w.sum() for x in axis]
    assert np.allclose(res.curve["cumulative_area"], cum_area)
    table = res.cells_table()
    assert table.names == list(CELL_COLUMNS)
    seen = np.isfinite(res.first_access_s)
    text = np.array([r["first_access_utc"] for r in table.records()], dtype=object)
    assert all(s.endswith("Z") for s in text[seen]) and all(s is None for s in text[~seen])
    assert np.isnat(table["first_access_utc"][~seen]).all()


def test_results_do_not_depend_on_chunking(fleet):
    _, constellation = fleet
    grid = CoverageGrid(40.0, 60.0, -10.0, 30.0, 2.0)
    a = coverage(constellation, grid, START, END, AccessConstraints(45.0, 0.0), keep_intervals=True)
    b = coverage(constellation, grid, START, END, AccessConstraints(45.0, 0.0), keep_intervals=True,
                 chunk_cells=37, chunk_sats=4)
    for x, y in zip(a.intervals, b.intervals):
        assert np.array_equal(x, y)
    assert a.cells_table().to_csv() == b.cells_table().to_csv()


def test_dask_local_cluster_gives_identical_results(fleet):
    distributed = pytest.importorskip("distributed")
    _, constellation = fleet
    grid = CoverageGrid(-30.0, 30.0, 100.0, 140.0, 2.0)
    cons = AccessConstraints(45.0, 10.0)
    single = coverage(constellation, grid, START, END, cons, chunk_cells=200, chunk_sats=3)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        par = coverage(constellation, grid, START, END, cons, chunk_cells=200, chunk_sats=3,
                       client=client)
    assert par.info["search"]["tasks"] > 4 and "dask" in par.info["backend"]
    assert par.cells_table().to_csv() == single.cells_table().to_csv()
    s1, s2 = single.summary(), par.summary()
    for key in ("elapsed_s", "backend"):
        s1.pop(key), s2.pop(key)
    assert json.dumps(s1) == json.dumps(s2)


def test_grid_definition():
    g = CoverageGrid.globe(1.0)
    assert g.shape == (180, 360) and g.latitude_deg[0] == -89.5 and g.longitude_deg[-1] == 179.5
    g = CoverageGrid(21.5, 25.5, 170.0, -170.0, 0.5)     # crosses the antimeridian
    assert g.shape == (8, 40) and g.longitude_deg[0] == 170.25 and g.longitude_deg[-1] == -170.25
    g = CoverageGrid(0.0, 2.2, 0.0, 1.0, 1.0)
    assert list(g.latitude_deg) == [0.5, 1.5] and list(g.longitude_deg) == [0.5]
    assert np.isclose(CoverageGrid.globe(2.0).cell_area_weights().sum(), 2.0)
    for bad in ((10.0, 5.0, 0.0, 1.0, 1.0), (0.0, 1.0, 0.0, 1.0, 0.0), (-95.0, 1.0, 0.0, 1.0, 1.0)):
        with pytest.raises(SimulationError):
            CoverageGrid(*bad)
    with pytest.raises(SimulationError, match="LAT_MIN,LAT_MAX,LON_MIN,LON_MAX"):
        CoverageGrid.parse("1,2,x,4", 1.0)


def test_cli_coverage_contract(tmp_path, capsys):
    out = tmp_path / "cov"
    code = main(["coverage", "--region=20,26,118,124", "--resolution-deg", "1", "--start", START,
                 "--end", "2026-11-26T12:00:00Z", "--max-off-nadir", "40", "--min-sun-elevation", "5",
                 "--output", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "accesses" in captured.out and "single-process" in captured.out
    rows = list(csv.reader(io.StringIO((out / "cells.csv").read_text())))
    assert rows[0] == list(CELL_COLUMNS) and len(rows) == 1 + 36
    summary = json.loads((out / "summary.json").read_text())
    assert summary["constraints"] == {"max_off_nadir_deg": 40.0, "min_sun_elevation_deg": 5.0}
    assert summary["cells"] == 36 and summary["satellites"] == 8
    assert len(summary["coverage_fraction"]["cumulative"]) == len(summary["coverage_fraction"]["time_utc"])
    for argv, message in (
            (["--region", "1,2,3", "--resolution-deg", "1"], "LAT_MIN"),
            (["--region=0,1,0,1", "--resolution-deg", "-1"], "resolution"),
            (["--region=0,1,0,1", "--resolution-deg", "1", "--local-cluster", "-1"], "local-cluster"),
            (["--region=0,1,0,1", "--resolution-deg", "1", "--max-off-nadir", "95"], "off-nadir")):
        code = main(["coverage", *argv, "--start", START, "--end", END, "--output", str(out)])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and message in err[0], err
    code = main(["coverage", "--region=0,1,0,1", "--resolution-deg", "1", "--start", END, "--end",
                 START, "--output", str(out)])
    assert code == 2 and "after" in capsys.readouterr().err


def test_cli_coverage_from_scenario(tmp_path, capsys):
    out = tmp_path / "cov"
    assert main(["coverage", "--scenario", "bundled", "--resolution-deg", "0.5", "--end",
                 "2026-11-26T06:00:00Z", "--start", START, "--output", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["region"]["lat_min"] == 21.5 and summary["region"]["resolution_deg"] == 0.5
    assert summary["constraints"] == {"max_off_nadir_deg": 45.0, "min_sun_elevation_deg": 10.0}


def test_cli_scheduler_address_matches_single_process(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    argv = ["coverage", "--region=-20,20,100,130", "--resolution-deg", "2", "--start", START,
            "--end", "2026-11-26T12:00:00Z"]
    assert main([*argv, "--local-cluster", "0", "--output", str(tmp_path / "one")]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        assert main([*argv, "--scheduler", cluster.scheduler_address,
                     "--output", str(tmp_path / "two")]) == 0
    out = capsys.readouterr().out
    assert "dask scheduler tcp://" in out
    assert (tmp_path / "one" / "cells.csv").read_text() == (tmp_path / "two" / "cells.csv").read_text()
    assert main([*argv, "--scheduler", "tcp://127.0.0.1:1", "--output", str(tmp_path / "x")]) == 2
    assert "cannot connect" in capsys.readouterr().err
