"""``groundseg plan``: files written, the plan.json contract, bad input as one line and exit 2."""
import csv
import json

from groundseg.cli import main


def test_plan_writes_plan_and_timeline(tmp_path, capsys):
    targets = tmp_path / "t.csv"
    targets.write_text("id,latitude_deg,longitude_deg,altitude_m,priority\n"
                       "taipei,25.04,121.56,10,5\nkaohsiung,22.62,120.30,5,4\ntainan,22.99,120.21,10,3\n")
    out = tmp_path / "plan"
    code = main(["plan", "--targets", str(targets), "--start", "2026-11-26T00:00:00Z",
                 "--end", "2026-11-27T00:00:00Z", "--time-limit", "1", "--output", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "groundseg: plan" not in captured.err          # no bar: stderr is not a terminal
    summary = json.loads(captured.out)
    plan = json.loads((out / "plan.json").read_text())
    assert list(plan)[:3] == ["objective", "upper_bound", "gap"]
    for key in ("agility_model", "memory_capacity_gbit", "acquisitions", "downlinks", "unscheduled"):
        assert key in plan
    assert plan["objective"] == summary["objective"] > 0
    assert plan["agility_model"]["model"] == "piecewise"
    rows = list(csv.DictReader((out / "timeline.csv").open()))
    events = {r["event"] for r in rows}
    assert {"slew_start", "imaging_on", "imaging_off"} <= events
    assert all(r["time_utc"].endswith("Z") for r in rows)


def test_plan_progress_bar_when_asked(tmp_path, capsys):
    targets = tmp_path / "t.csv"
    targets.write_text("id,latitude_deg,longitude_deg,altitude_m,priority\ntaipei,25.04,121.56,10,5\n")
    argv = ["plan", "--targets", str(targets), "--start", "2026-11-26T00:00:00Z", "--end",
            "2026-11-26T12:00:00Z", "--method", "greedy", "--time-limit", "1", "--output", str(tmp_path)]
    assert main(argv) == 0
    plain = capsys.readouterr().out
    assert main([*argv, "--progress"]) == 0
    out, err = capsys.readouterr()
    assert out == plain and "groundseg: plan (time limit 1 s)" in err


def test_plan_bad_input(tmp_path, capsys):
    for argv, match in (
        (["plan", "--output", str(tmp_path)], "--start and --end"),
        (["plan", "--start", "2026-11-27", "--end", "2026-11-26", "--output", str(tmp_path)], "after --start"),
        (["plan", "--start", "2026-11-26", "--end", "2026-11-27", "--time-limit", "0",
          "--output", str(tmp_path)], "--time-limit"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and match in err[0], err
