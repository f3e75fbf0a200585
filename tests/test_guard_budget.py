"""Sizes estimated before allocating: a job that would need more than the memory budget is
refused in one line naming the option and the size; a big but legitimate ephemeris streams in
pieces within it. (Before: raw numpy memory errors, 16 GB runs, or hours of work.)"""
import json
import tracemalloc

import numpy as np
import pytest

from groundseg import Constellation, TimeGrid, budget
from groundseg.budget import BudgetError
from groundseg.cli import main
from groundseg.errors import GroundsegError
from groundseg.targets import parse_targets_geojson
from sims.coverage import CoverageGrid
from sims.scenario import bundled_scenario_path, parse_scenario

DAY = ["--start", "2026-11-26T00:00:00Z", "--end", "2026-11-27T00:00:00Z"]
CENTURY = ["--start", "2026-01-01T00:00:00Z", "--end", "2126-01-01T00:00:00Z"]


@pytest.fixture
def small_budget():
    budget.set_memory_budget("256MiB")
    yield
    budget.set_memory_budget(None)


def test_sizes_and_the_budget(monkeypatch):
    assert budget.parse_size("12 GiB") == 12 * 2**30
    assert budget.parse_size("500MB") == 500_000_000 and budget.parse_size("2e9") == 2_000_000_000
    for bad in ("-1", "0", "lots", "1 XB", "inf"):
        with pytest.raises(BudgetError, match="memory budget"):
            budget.parse_size(bad)
    assert budget.format_bytes(4.1e15) == "3.64 PiB" and budget.format_bytes(512) == "512 B"
    monkeypatch.setenv(budget.ENV_VAR, "3GiB")
    assert budget.memory_budget_bytes() == 3 * 2**30
    budget.set_memory_budget("1GiB")
    try:
        assert budget.memory_budget_bytes() == 2**30
    finally:
        budget.set_memory_budget(None)
    monkeypatch.delenv(budget.ENV_VAR)
    # Default: half the machine's memory.
    import os
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < budget.memory_budget_bytes() <= total // 2


@pytest.mark.parametrize("argv, piece", [
    (["ephemeris", *DAY, "--step", "1e-9"], "--step 1e-09: 8.64e+13 times over 86400 s"),
    (["track", "--satellite", "FS8-1", "--station", "Hsinchu", *DAY, "--step", "1e-9"],
     "--step 1e-09: 4 passes x"),
    (["access", *DAY, "--swath-km", "1e-9"], "--swath-km 1e-09: 21 polygons x 2 headings in"),
    (["passes", *CENTURY], "--start/--end (3.652e+04 days): 8 satellites x 5 stations x"),
    (["contacts", *CENTURY], "--start/--end (3.652e+04 days): 8 satellites x 5 stations x"),
    (["access", *CENTURY], "--start/--end (3.652e+04 days) every --step 60 s: 8 satellites x"),
    (["coverage", "--region=21,26,119,123", "--resolution-deg", "1e-6", *DAY, "--output", "c"],
     "--resolution-deg 1e-06: 5e+06 x 4e+06 cells need"),
    (["--memory-budget", "1MB", "passes", *DAY], "--start/--end (1 days): 8 satellites"),
    (["passes", *DAY, "--memory-budget", "1MB"], "budget 977 KiB"),
])
def test_jobs_over_the_budget_are_refused_in_one_line(argv, piece, capsys, tmp_path,
                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and piece in lines[0], err
    assert " need " in lines[0] or "more than" in lines[0]


def _scenario(**replace):
    text = bundled_scenario_path().read_text()
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return parse_scenario(text, source="s.toml", base_dir=bundled_scenario_path().parent)


@pytest.mark.parametrize("old, new, piece", [
    ("step_s = 10.0", "step_s = 1e-9", "s.toml: window.step_s: 1e-09 s: 8 satellites x 8.64e+13 steps need"),
    ("resolution_deg = 0.1", "resolution_deg = 1e-6", "s.toml: coverage.resolution_deg: 4e+06 x 3.5e+06 cells need"),
    ("bundled = true", "bundled = false\n[[stations.station]]\nname = \"X\"\nlatitude_deg = 24\n"
     "longitude_deg = 121\nantennas = 1000000000", "antennas 1000000000: 1,000,000,000 antennas at X need"),
    # Refused before this change too (kept as regressions): a window over a year, more
    # satellites than NORAD ids.
    ("duration_h = 24.0", "duration_h = 1e300", "window.duration_h: 1e+300 must be <= 8784"),
    ('kind = "bundled"\nname = "formosat8"', 'kind = "walker"\ninclination_deg = 97.6\n'
     'total = 1000000000\nplanes = 1\naltitude_km = 561', "pass 339999"),
])
def test_scenarios_over_the_budget_are_refused_when_loaded(old, new, piece):
    with pytest.raises(GroundsegError) as exc:
        _scenario(**{old: new})
    assert piece in str(exc.value)


def test_library_checks_say_the_parameter(small_budget):
    c = Constellation.formosat8("2026-11-26")
    grid = TimeGrid.range("2026-11-26", "2026-12-26", 1.0)       # 2.6 M times: 40 MiB
    with pytest.raises(BudgetError, match=r"^propagate: 8 satellites x 2,592,001 times need 1.08 GiB, budget 256 MiB$"):
        c.propagate(grid)
    with pytest.raises(BudgetError, match=r"^step_s 0.001: 3,600,001 times need"):
        TimeGrid.range("2026-11-26T00:00:00Z", "2026-11-26T01:00:00Z", 1e-3)
    ring = [[121, 24], [121.2, 24], [121.2, 24.2], [121, 24.2], [121, 24]]
    t = parse_targets_geojson(json.dumps({"type": "Feature", "properties": {"id": "box"},
                                          "geometry": {"type": "Polygon", "coordinates": [ring]}}))
    with pytest.raises(BudgetError, match=r"^swath_km 1e-09: 3\.\d+e\+10 strips of target 'box'"):
        t.strips(0, 0.0, 1e-9)
    with pytest.raises(BudgetError, match=r"^resolution_deg 0.0001: 1.8e\+06 x 3.6e\+06 cells"):
        CoverageGrid.globe(1e-4)


def _ephemeris(tmp_path, capsys, name, *extra):
    path = tmp_path / name
    argv = ["ephemeris", "--start", "2026-11-26T00:00:00Z", "--end", "2026-11-26T00:30:00Z",
            "--step", "1", "--output", str(path), *extra]
    tracemalloc.start()
    try:
        assert main(argv) == 0, capsys.readouterr().err
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return path.read_bytes(), peak


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_a_big_ephemeris_streams_in_pieces_within_the_budget(tmp_path, capsys, fmt):
    """8 satellites x 1801 times: 2 to 15 MiB held in one piece (traced by tracemalloc); with
    a 1 MiB budget, pieces of one satellite over stretches of its window (an eighth of the
    budget each), the same table."""
    whole, peak_whole = _ephemeris(tmp_path, capsys, f"a.{fmt}", "--format", fmt)
    pieces, peak_pieces = _ephemeris(tmp_path, capsys, f"b.{fmt}", "--format", fmt,
                                     "--memory-budget", "1MiB")
    if fmt == "parquet":
        import pyarrow.parquet as pq
        whole, pieces = (pq.read_table(tmp_path / f"{n}.parquet") for n in "ab")
        assert pieces.equals(whole) and pieces.schema.metadata == whole.schema.metadata
        assert whole.num_rows == 8 * 1801
    else:
        assert pieces == whole
        assert len(json.loads(whole) if fmt == "json" else whole.splitlines()[1:]) == 8 * 1801
    assert peak_pieces < 2**20 and peak_whole > 2 * 2**20


def test_pieces_cover_the_grid_in_satellite_major_order(small_budget):
    c = Constellation.formosat8("2026-11-26")
    whole = c.propagate(TimeGrid.range("2026-11-26T00:00:00Z", "2026-11-26T02:00:00Z", 1.0))
    budget.set_memory_budget("1MiB")            # 128 KiB pieces: 2340 states each
    pieces = list(c.propagate_pieces("2026-11-26T00:00:00Z", "2026-11-26T02:00:00Z", 1.0))
    assert len(pieces) == 8 * 4 and all(p.shape[0] == 1 for p in pieces)
    r = np.concatenate([np.concatenate([p.position_km for p in pieces[4 * k:4 * k + 4]], axis=1)
                        for k in range(8)])
    assert np.array_equal(r, whole.position_km)
