"""Guard rails on what people type and the files they bring: non-finite and absurd numbers,
numbers written as booleans or text, byte-order marks, names beyond ASCII, old elements,
priorities of satellites without passes."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sgp4.api import WGS72, Satrec

from groundseg import Constellation, bundled_stations, predict_passes
from groundseg.catalog import CatalogRecord, parse_catalog
from groundseg.cli import main
from groundseg.contacts import parse_priorities
from groundseg.stations import StationError, parse_stations_csv, parse_stations_toml
from groundseg.targets import TargetError, parse_targets_csv, parse_targets_geojson
from sims.errors import ScenarioError
from sims.scenario import bundled_scenario_path, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
HOUR = ["--start", "2026-11-26T00:00:00Z", "--end", "2026-11-26T01:00:00Z"]
BOM = "\ufeff"


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _omm(**fields):
    record = {"OBJECT_NAME": "X", "OBJECT_ID": "2020-001A", "EPOCH": "2026-11-26T00:00:00",
              "MEAN_MOTION": 15.0, "ECCENTRICITY": 0.001, "INCLINATION": 97.6,
              "RA_OF_ASC_NODE": 0, "ARG_OF_PERICENTER": 0, "MEAN_ANOMALY": 0,
              "EPHEMERIS_TYPE": 0, "CLASSIFICATION_TYPE": "U", "NORAD_CAT_ID": 1,
              "ELEMENT_SET_NO": 999, "REV_AT_EPOCH": 0, "BSTAR": 0, "MEAN_MOTION_DOT": 0,
              "MEAN_MOTION_DDOT": 0}
    record.update(fields)
    return json.dumps([record])


# -- absurd and non-finite numbers ------------------------------------------------------------

@pytest.mark.parametrize("field, value", [("MEAN_MOTION", "1e308"), ("MEAN_MOTION", 100),
                                          ("BSTAR", "1e300"), ("MEAN_MOTION_DOT", 5)])
def test_omm_values_a_tle_cannot_hold_are_refused(field, value):
    text = _omm(**{field: value}).replace(f'"{value}"', str(value))
    cat = parse_catalog(text)
    assert not cat.records and f"{field} {value}" in str(cat.errors[0])


def test_ephemeris_of_omm_mean_motion_1e308_is_an_error(tmp_path, capsys):
    path = tmp_path / "big.json"
    path.write_text(_omm(MEAN_MOTION=1.0).replace('"MEAN_MOTION": 1.0', '"MEAN_MOTION": 1e308'))
    code, out, err = _run(capsys, ["ephemeris", "--tle", str(path), *HOUR])
    assert code == 2 and out == "" and "MEAN_MOTION 1e308 outside 0..100" in err


def test_sgp4_success_with_a_non_finite_state_is_a_failure():
    satrec = Satrec()
    satrec.sgp4init(WGS72, "i", 1, 26000.0, 0.0, 0.0, 0.0, 0.001, 0.0, 1.7, 0.0, 1e308, 0.0)
    assert satrec.sgp4(satrec.jdsatepoch, satrec.jdsatepochF)[0] == 0       # sgp4 says fine
    eph = Constellation([CatalogRecord("X", 1, satrec, "<t>", 1)]).propagate("2021-03-10")
    assert eph.status[0, 0] == 7 and "not a finite number" in eph.errors()[0]
    assert len(eph.table()) == 0


@pytest.mark.parametrize("argv, said", [
    (["track", "--satellite", "FS8-1", "--station", "Hsinchu", *HOUR, "--step", "inf"],
     "--step must be a finite number, got inf"),
    (["access", *HOUR, "--swath-km", "nan"], "--swath-km must be a finite number, got nan"),
    (["passes", *HOUR, "--min-elevation=-inf"], "--min-elevation must be a finite number, got -inf"),
    (["telemetry", "publish", "--connect", "tcp://127.0.0.1:9", "--count", "1", "--rate", "inf"],
     "--rate must be a finite number, got inf"),
    (["demo", "--hours", "inf"], "--hours must be a finite number, got inf"),
])
def test_non_finite_options_are_refused(argv, said, capsys):
    code, out, err = _run(capsys, argv)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [f"groundseg: error: {said}"]


# -- numbers as booleans or text in typed documents -------------------------------------------

@pytest.mark.parametrize("value, shown", [("true", "true"), ('"24"', '"24"')])
def test_station_toml_numbers_must_be_numbers(value, shown):
    text = f'[[station]]\nname = "A"\nlatitude_deg = {value}\nlongitude_deg = 121\n'
    with pytest.raises(StationError, match=f"station 1: latitude_deg must be a number, got {shown}"):
        parse_stations_toml(text, "s.toml")
    mask = '[[station]]\nname = "A"\nlatitude_deg = 24\nlongitude_deg = 121\nmask = [[0, true]]\n'
    with pytest.raises(StationError, match="mask elevation must be a number, got true"):
        parse_stations_toml(mask, "s.toml")


@pytest.mark.parametrize("key, value", [("priority", "5"), ("priority", True),
                                        ("altitude_m", "30"), ("max_off_nadir_deg", False)])
def test_geojson_properties_must_be_numbers(key, value):
    feature = {"type": "Feature", "properties": {"id": "a", key: value},
               "geometry": {"type": "Point", "coordinates": [121, 24]}}
    with pytest.raises(TargetError, match=f"feature 1 \\(a\\): {key} must be a number"):
        parse_targets_geojson(json.dumps(feature))


def test_scenario_station_latitude_true_is_refused():
    text = bundled_scenario_path().read_text().replace(
        "bundled = true", 'bundled = false\n[[stations.station]]\nname = "X"\n'
        'latitude_deg = true\nlongitude_deg = 121')
    with pytest.raises(ScenarioError, match=r"s.toml: stations.station\[0\]: latitude_deg must be a "
                                            "number, got true"):
        parse_scenario(text, source="s.toml", base_dir=bundled_scenario_path().parent)


# -- byte-order marks, names beyond ASCII -----------------------------------------------------

def test_csv_files_with_a_utf8_byte_order_mark(tmp_path, capsys):
    stations = parse_stations_csv(BOM + "name,latitude_deg,longitude_deg,altitude_m\nA,24,121,0\n")
    targets = parse_targets_csv(BOM + "id,latitude_deg,longitude_deg,altitude_m\nT,24,121,0\n")
    assert stations[0].name == "A" and targets.ids == ["T"]
    assert parse_priorities(BOM + "satellite,priority\nFS8-1,1\n") == {"FS8-1": 1}
    (tmp_path / "st.csv").write_bytes((BOM + "name,latitude_deg,longitude_deg,altitude_m\n"
                                             "A,24,121,0\n").encode())
    code, out, err = _run(capsys, ["passes", "--stations", str(tmp_path / "st.csv"), *HOUR])
    assert code == 0, err


def _tle_with_names(names):
    lines = Constellation.formosat8("2026-11-26").subset(range(len(names))).to_tle().splitlines()
    return "\n".join(f"{name}\n{lines[3 * i + 1]}\n{lines[3 * i + 2]}"
                     for i, name in enumerate(names)) + "\n"


NAMES = ["福衛八號-1", "Ørsted", "ΣΑΤ 3"]


def test_names_beyond_ascii_survive_every_catalog_format():
    c = Constellation([*parse_catalog(_tle_with_names(NAMES)).records])
    assert c.names == NAMES
    for fmt in ("json", "csv", "xml"):
        back = parse_catalog(c.to_omm(fmt))
        assert [r.name for r in back.records] == NAMES and not back.errors
    assert [r.name for r in parse_catalog(c.to_tle().encode("utf-8")).records] == NAMES


def test_names_beyond_ascii_on_an_ascii_terminal(tmp_path):
    (tmp_path / "n.tle").write_text(_tle_with_names(NAMES), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "groundseg", "ephemeris", "--tle",
                           str(tmp_path / "n.tle"), "--start", "2026-11-26T00:00:00Z",
                           "--end", "2026-11-26T00:01:00Z", "--satellite", "Ørsted"],
                          cwd=ROOT, capture_output=True, timeout=120,
                          env={"PYTHONIOENCODING": "ascii", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr.decode()
    rows = proc.stdout.decode("utf-8").splitlines()
    assert len(rows) == 3 and rows[1].startswith("Ørsted,99802,")


# -- element age -----------------------------------------------------------------------------

def test_old_elements_warn_and_very_old_ones_are_problems(tmp_path, capsys):
    c = Constellation.formosat8("2026-10-01T00:00:00Z")        # epoch 56 days before HOUR
    (tmp_path / "old.tle").write_text(c.subset([0, 1]).to_tle())
    code, out, err = _run(capsys, ["ephemeris", "--tle", str(tmp_path / "old.tle"), *HOUR])
    assert code == 0 and len(out.splitlines()) == 1 + 2 * 61
    assert err.count("days before the window start") == 2
    assert "FS8-1 (99801): elements of 2026-10-01T00:00:00Z are 56 days before" in err
    # Within 14 days: nothing to say; beyond 90 days: listed with the passes' problems.
    assert not Constellation.formosat8("2026-11-20").stale_elements("2026-11-26", 14.0)
    passes = predict_passes(c, bundled_stations(), "2027-01-01T00:00:00Z", "2027-01-01T06:00:00Z")
    assert len(passes) > 0
    assert sum("92 days before the window start" in p for p in passes.problems) == 8
    code, out, err = _run(capsys, ["passes", "--tle", str(tmp_path / "old.tle"),
                                   "--start", "2027-01-01T00:00:00Z", "--end", "2027-01-01T06:00:00Z"])
    assert code == 0 and err.count("92 days before the window start") == 2    # said once each


# -- priorities of satellites without passes ---------------------------------------------------

def test_contacts_priority_of_a_satellite_without_passes_is_a_warning(capsys):
    # FS8-4 has no pass in this half hour (the others do).
    window = ["--start", "2026-01-01T00:00:00Z", "--end", "2026-01-01T00:30:00Z"]
    code, out, err = _run(capsys, ["contacts", *window, "--priority", "FS8-4=1",
                                   "--priority", "FS8-1=2"])
    assert code == 0, err
    assert "warning: priority of FS8-4: FS8-4 has no pass in the window" in err
    rows = [r.split(",") for r in out.splitlines()[1:]]
    assert rows and {r[4] for r in rows if r[2] == "FS8-1"} == {"2"}
    code, out, err = _run(capsys, ["contacts", *window, "--priority", "FS9-1=1"])
    assert code == 2 and "unknown satellite 'FS9-1'" in err
