"""The ephemeris / constellation commands: the CSV contract, errors as one line, exit 2."""
import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from skyfield.api import EarthSatellite, wgs84

from groundseg import catalog
from groundseg.cli import main
from groundseg.timegrid import TimeGrid, timescale

HERE = os.path.dirname(__file__)


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_ephemeris_geodetic_csv_contract_against_skyfield(tmp_path, capsys):
    tle = tmp_path / "fs8.tle"
    code, out, _ = _run(["constellation", "formosat8", "--epoch", "2026-11-26T00:00:00Z",
                         "--output", str(tle)], capsys)
    assert code == 0
    code, out, err = _run(["ephemeris", "--tle", str(tle), "--start", "2026-11-26T00:00:00Z",
                           "--end", "2026-11-26T01:00:00Z", "--step", "600", "--frame", "geodetic"],
                          capsys)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["satellite", "norad_id", "time_utc", "latitude_deg", "longitude_deg", "altitude_km"]
    assert len(rows) == 1 + 8 * 7
    assert rows[1][2] == "2026-11-26T00:00:00.000Z" and rows[7][2] == "2026-11-26T01:00:00.000Z"
    recs = catalog.load_catalog(tle).records
    sat = EarthSatellite(*recs[0].tle, recs[0].name, timescale())
    t = TimeGrid.range("2026-11-26T00:00:00Z", "2026-11-26T01:00:00Z", 600).skyfield_time
    sub = wgs84.geographic_position_of(sat.at(t))
    lat = np.array([float(r[3]) for r in rows[1:8]])
    lon = np.array([float(r[4]) for r in rows[1:8]])
    assert np.abs(lat - sub.latitude.degrees).max() < 1e-6
    assert np.abs((lon - sub.longitude.degrees + 180) % 360 - 180).max() < 1e-6


def test_ephemeris_default_constellation_teme_and_json(capsys):
    code, out, _ = _run(["ephemeris", "--start", "2026-11-26T00:00:00Z", "--end",
                         "2026-11-26T00:02:00Z", "--step", "60", "--frame", "itrs", "--format", "json"],
                        capsys)
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 8 * 3
    assert list(rows[0]) == ["satellite", "norad_id", "time_utc", "x_km", "y_km", "z_km",
                             "vx_km_s", "vy_km_s", "vz_km_s"]
    r = np.array([[row["x_km"], row["y_km"], row["z_km"]] for row in rows])
    assert np.all(np.abs(np.linalg.norm(r, axis=1) - 6378 - 561) < 30)


def test_ephemeris_progress_bar_on_stderr_only_when_asked(capsys):
    argv = ["ephemeris", "--start", "2026-11-26T00:00:00Z", "--end", "2026-11-26T00:02:00Z", "--step", "60"]
    code, plain, err = _run(argv, capsys)
    assert code == 0 and "groundseg: ephemeris" not in err      # stderr is not a terminal
    code, out, err = _run([*argv, "--progress"], capsys)
    assert code == 0 and out == plain
    assert "groundseg: ephemeris" in err and "24.0/24.0" in err  # 8 satellites x 3 times


def test_ephemeris_skips_bad_records_with_warnings(capsys):
    code, out, err = _run(["ephemeris", "--tle", os.path.join(HERE, "data", "catalog_mixed.tle"),
                           "--start", "2026-11-26T00:00:00Z", "--end", "2026-11-26T00:01:00Z",
                           "--frame", "teme"], capsys)
    assert code == 0
    assert "warning: skipped" in err and "catalog_mixed.tle:" in err
    assert len(out.strip().splitlines()) > 1


@pytest.mark.parametrize("argv,match", [
    (["ephemeris", "--start", "2026-11-27", "--end", "2026-11-26"], "must be after --start"),
    (["ephemeris", "--start", "2026-11-26", "--end", "2026-11-26"], "must be after --start"),
    (["ephemeris", "--start", "soon", "--end", "2026-11-26"], "not an ISO 8601"),
    (["ephemeris", "--start", "2026-11-26", "--end", "2026-11-27", "--step", "-1"], "--step"),
    (["ephemeris", "--tle", "/nonexistent.tle", "--start", "2026-11-26", "--end", "2026-11-27"], "nonexistent"),
    (["ephemeris", "--start", "2026-11-26", "--end", "2026-11-27", "--satellite", "NOPE"], "unknown satellite"),
    (["constellation", "walker", "--inclination", "53", "--total", "10", "--planes", "3",
      "--altitude-km", "550", "--epoch", "2026-11-26"], "multiple"),
])
def test_bad_input_is_one_line_exit_2(argv, match, capsys):
    code, out, err = _run(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("groundseg: error:") and match in lines[0]
    assert "Traceback" not in err


def test_binary_garbage_catalog_is_a_clear_error(tmp_path, capsys):
    p = tmp_path / "garbage.tle"
    p.write_bytes(bytes(range(256)) * 4)
    code, _, err = _run(["ephemeris", "--tle", str(p), "--start", "2026-11-26", "--end", "2026-11-27"], capsys)
    assert code == 2 and "garbage.tle" in err and "binary" in err


def test_constellation_outputs_round_trip(tmp_path, capsys):
    for fmt in ("tle", "omm-json", "omm-csv", "omm-xml"):
        path = tmp_path / f"c.{fmt}"
        code, _, err = _run(["constellation", "sso", "--count", "4", "--altitude-km", "561", "--ltdn",
                             "10.5", "--planes", "2", "--epoch", "2026-11-26T00:00:00Z", "--format", fmt,
                             "--output", str(path)], capsys)
        assert code == 0, err
        cat = catalog.load_catalog(path, strict=True)
        assert len(cat.records) == 4 and cat.format == fmt


def test_console_script_is_installed_or_module_runs():
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    proc = subprocess.run([sys.executable, "-m", "groundseg", "ephemeris", "--help"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0 and "--frame" in proc.stdout
