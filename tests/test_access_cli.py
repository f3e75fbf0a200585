"""``groundseg access``: the CSV / JSON contract, bad input, unscheduled targets."""
import csv
import io
import json

import pytest

from groundseg.access import ACCESS_COLUMNS
from groundseg.cli import main

WINDOW = ["--start", "2026-11-26T00:00:00Z", "--end", "2026-11-27T00:00:00Z"]


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def targets_csv(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_text("id,latitude_deg,longitude_deg,altitude_m,priority,min_sun_elevation_deg,"
                    "max_off_nadir_deg,mode\n"
                    "taipei,25.033,121.565,10,5,,,stereo\n"
                    "kaohsiung,22.627,120.301,10,3,,35,mono\n"
                    "south-pole,-90,0,2800,1,,,mono\n")
    return path


def test_csv_contract(capsys, targets_csv):
    code, out, err = _run(capsys, ["access", "--targets", str(targets_csv), *WINDOW])
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == list(ACCESS_COLUMNS)
    body = rows[1:]
    assert len(body) >= 2
    assert {r[2] for r in body} <= {"taipei", "kaohsiung"}
    for r in body:
        assert r[0].startswith("FS8-") and r[1].isdigit()
        assert r[3] < r[5] < r[4]                       # start < best < end (ISO sorts)
        assert 0 <= float(r[6]) <= 35 and float(r[7]) >= 10 and float(r[8]) >= 0.98
    # The unscheduled target is reported on stderr, with its reason.
    assert "south-pole: no_opportunity: never within 30 deg off-nadir" in err


def test_json_and_limits_and_unscheduled_file(capsys, targets_csv, tmp_path):
    uns = tmp_path / "uns.csv"
    out_path = tmp_path / "opp.json"
    code, out, err = _run(capsys, ["access", "--targets", str(targets_csv), *WINDOW,
                                   "--max-off-nadir", "45", "--min-sun-elevation", "5",
                                   "--format", "json", "--output", str(out_path),
                                   "--unscheduled", str(uns)])
    assert code == 0 and out == ""
    rows = json.loads(out_path.read_text())
    assert list(rows[0]) == list(ACCESS_COLUMNS)
    taipei = [r for r in rows if r["target"] == "taipei"]
    assert max(r["min_off_nadir_deg"] for r in taipei) > 30     # the 45 deg default applies
    kaohsiung = [r for r in rows if r["target"] == "kaohsiung"]
    assert max(r["min_off_nadir_deg"] for r in kaohsiung) <= 35  # its own limit wins
    assert uns.read_text().splitlines()[0] == "target,reason,detail"
    assert "south-pole,no_opportunity" in uns.read_text()


def test_bundled_targets_by_default(capsys):
    code, out, err = _run(capsys, ["access", *WINDOW, "--satellite", "FS8-7"])
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert rows and {r[0] for r in rows} == {"FS8-7"}
    assert any("#" in r[2] for r in rows)          # polygon strips
    assert any(r[2] == "res-shimen" for r in rows)


@pytest.mark.parametrize("text, fragment", [
    ("id,latitude_deg,longitude_deg,altitude_m\nA,95,121,0\n", ":2 (A): latitude 95"),
    ("id,latitude_deg,longitude_deg,altitude_m,mode\nA,24,121,0,tri\n", "mode 'tri'"),
    ("id,latitude_deg,longitude_deg,altitude_m\n", "no targets"),
])
def test_bad_target_files_exit_2_with_one_line(capsys, tmp_path, text, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    code, out, err = _run(capsys, ["access", "--targets", str(path), *WINDOW])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err


@pytest.mark.parametrize("extra, fragment", [
    (["--max-off-nadir", "95"], "max_off_nadir_deg 95"),
    (["--min-sun-elevation", "nan"], "--min-sun-elevation must be a finite number, got nan"),
    (["--swath-km", "0"], "swath_km"),
    (["--step", "0"], "--step"),
])
def test_bad_options_exit_2(capsys, targets_csv, extra, fragment):
    code, out, err = _run(capsys, ["access", "--targets", str(targets_csv), *WINDOW, *extra])
    assert code == 2 and fragment in err and err.count("\n") == 1


def test_bad_window_and_missing_file(capsys, tmp_path):
    code, _, err = _run(capsys, ["access", "--start", "2026-11-27T00:00:00Z",
                                 "--end", "2026-11-26T00:00:00Z"])
    assert code == 2 and "must be after" in err
    code, _, err = _run(capsys, ["access", "--targets", str(tmp_path / "nope.csv"), *WINDOW])
    assert code == 2 and "nope.csv" in err


def test_window_without_opportunity_is_not_an_error(capsys, targets_csv):
    code, out, err = _run(capsys, ["access", "--targets", str(targets_csv),
                                   "--start", "2026-11-26T12:00:00Z", "--end", "2026-11-26T12:20:00Z"])
    assert code == 0
    assert out.strip() == ",".join(ACCESS_COLUMNS)
    assert err.count("no_opportunity") == 3


def test_help_lists_access(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["access", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "--max-off-nadir" in text and "--targets" in text
    assert "satellite,norad_id,target" in text.replace("\n", "").replace(" ", "")


def test_progress_bar_on_stderr_only_when_asked(capsys, targets_csv):
    code, plain, err = _run(capsys, ["access", "--targets", str(targets_csv), *WINDOW])
    assert code == 0 and "groundseg: access" not in err          # stderr is not a terminal
    code, out, err = _run(capsys, ["access", "--targets", str(targets_csv), *WINDOW, "--progress"])
    assert code == 0 and out == plain
    assert "groundseg: access" in err and "1/1" in err
