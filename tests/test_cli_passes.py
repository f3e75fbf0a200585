"""``groundseg passes``, ``track`` and ``contacts``: the file contracts and bad input."""
import csv
import io
import json
import re

import numpy as np
import pytest

from groundseg.cli import main
from groundseg.orbits import Constellation
from groundseg.passes import PASS_CSV_COLUMNS, predict_passes
from groundseg.stations import bundled_stations

START, END = "2026-11-26T00:00:00Z", "2026-11-26T06:00:00Z"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_passes_default_constellation_and_stations(capsys):
    assert main(["passes", "--start", START, "--end", END]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ",".join(PASS_CSV_COLUMNS)
    rows = _rows(out)
    ref = predict_passes(Constellation.formosat8(START), bundled_stations(), START, END)
    assert len(rows) == len(ref) > 10
    assert [r["aos_utc"] for r in rows] == sorted(r["aos_utc"] for r in rows)
    for r in rows:
        assert ISO.match(r["aos_utc"]) and ISO.match(r["tca_utc"]) and ISO.match(r["los_utc"])
        assert r["truncated"] in ("none", "start", "end", "both")
        assert r["sunlit_at_tca"] in ("true", "false")
    assert {r["station"] for r in rows} <= {s.name for s in bundled_stations()}


def test_passes_with_files_and_json_output(tmp_path, capsys):
    c = Constellation.formosat8(START)
    tle = tmp_path / "c.tle"
    tle.write_text(c.to_tle())
    st = tmp_path / "st.csv"
    st.write_text("name,latitude_deg,longitude_deg,altitude_m,min_elevation_deg\n"
                  "North,78.2,15.4,500,10\nMid,24.8,121.0,60,\n")
    out = tmp_path / "p.json"
    assert main(["passes", "--tle", str(tle), "--stations", str(st), "--start", START, "--end", END,
                 "--format", "json", "--output", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert rows and list(rows[0]) == list(PASS_CSV_COLUMNS)
    north = [r for r in rows if r["station"] == "North" and r["truncated"] == "none"]
    assert north and min(r["max_elevation_deg"] for r in north) >= 10.0
    # --min-elevation overrides every station (masks in TOML still apply).
    toml = tmp_path / "st.toml"
    toml.write_text('[[station]]\nname = "Masked"\nlatitude_deg = 78.2\nlongitude_deg = 15.4\n'
                    'mask = [[0, 2], [180, 30], [359, 2]]\nantennas = 2\n')
    assert main(["passes", "--tle", str(tle), "--stations", str(toml), "--start", START,
                 "--end", END, "--min-elevation", "0", "--all-columns"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].endswith("truncated,orbit_number,status")
    assert _rows(text)


def test_track_writes_the_pointing_table(capsys):
    assert main(["track", "--satellite", "FS8-2", "--station", "Svalbard", "--start", START,
                 "--end", "2026-11-26T02:00:00Z", "--frequency-hz", "8.2e9", "--step", "2"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows and list(rows[0])[:3] == ["pass", "time_utc", "azimuth_deg"]
    assert {r["pass"] for r in rows} >= {"1", "2"}
    el = np.array([float(r["elevation_deg"]) for r in rows])
    assert el.min() >= 5.0 - 1e-3
    dop = np.array([float(r["doppler_shift_hz"]) for r in rows])
    assert np.abs(dop).max() < 8.2e9 * 8.0 / 299792.458


def test_contacts_with_priorities(tmp_path, capsys):
    prio = tmp_path / "prio.csv"
    prio.write_text("satellite,priority\nFS8-1,1\n")
    assert main(["contacts", "--start", START, "--end", END, "--priorities", str(prio),
                 "--priority", "FS8-2=1", "--satellite-exclusive", "--optimality"]) == 0
    cap = capsys.readouterr()
    rows = _rows(cap.out)
    assert rows and list(rows[0])[:3] == ["station", "antenna", "satellite"]
    assert {r["priority"] for r in rows if r["satellite"] in ("FS8-1", "FS8-2")} == {"1"}
    assert {r["status"] for r in rows} <= {"scheduled", "dropped"}
    assert "scheduled" in cap.err
    assert "priority 1: greedy quality" in cap.err and "milp best" in cap.err


@pytest.mark.parametrize("argv,match", [
    (["passes", "--start", END, "--end", START], "must be after"),
    (["passes", "--start", START, "--end", START], "must be after"),
    (["passes", "--start", "yesterday", "--end", END], "ISO 8601"),
    (["passes", "--start", START, "--end", END, "--min-elevation", "-7"], r"outside \[-5, 90\]"),
    (["passes", "--start", START, "--end", END, "--min-elevation", "91"], r"outside \[-5, 90\]"),
    (["passes", "--start", START, "--end", END, "--stations", "/nonexistent.csv"], "nonexistent"),
    (["track", "--satellite", "FS8-1", "--station", "Atlantis", "--start", START, "--end", END],
     "unknown station 'Atlantis'"),
    (["track", "--satellite", "NOPE", "--station", "Troll", "--start", START, "--end", END],
     "unknown satellite 'NOPE'"),
    (["track", "--satellite", "FS8-1", "--station", "Troll", "--start", START, "--end", END,
      "--step", "0"], "--step"),
    (["contacts", "--start", START, "--end", END, "--priority", "FS8-1"], "SATELLITE=N"),
    (["contacts", "--start", START, "--end", END, "--priority", "GHOST=1"], "unknown satellite 'GHOST'"),
])
def test_bad_input_is_one_line_and_exit_2(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(match, err[0]), err
    assert "Traceback" not in err[0]


def test_decayed_satellite_is_a_warning_not_a_traceback(tmp_path, capsys):
    from sgp4.api import WGS72, Satrec
    from sgp4.exporter import export_tle
    s = Satrec()
    a = 6378.137 + 250.0
    s.sgp4init(WGS72, "i", 77001, (2461370.5 - 2433281.5), 0.02, 0.0, 0.0, 0.001, 0.5, 1.0, 0.3,
               np.sqrt(398600.4418 / a**3) * 60.0, 0.1)
    l1, l2 = export_tle(s)
    tle = tmp_path / "d.tle"
    tle.write_text(f"DOOMED\n{l1}\n{l2}\n" + Constellation.formosat8(START).to_tle())
    assert main(["passes", "--tle", str(tle), "--start", START, "--end", "2026-11-27T00:00:00Z"]) == 0
    cap = capsys.readouterr()
    assert "warning: DOOMED" in cap.err and "decayed" in cap.err
    assert _rows(cap.out)

