"""The executed timeline: a plan file commanded through contacts comes back as the same Schedule;
what was lost in the uplink does not happen. The command history on both back ends (``archive_target``)."""
import json
from contextlib import closing

import numpy as np
import pytest

from sims.command_loop import command_loop
from sims.faults import Fault
from sims.plan_file import schedule_from_plan_file
from sims.scenario import bundled_scenario
from sims.errors import SimulationError
from telemetry.commanding import Commanding
from telemetry.commanding_uplink import ContactWindow

SC = bundled_scenario()
T0 = 1795651200.0


def _plan(path):
    doc = {"epoch_utc": "2026-11-26T00:00:00.000Z", "agility_model": {"model": "piecewise", "slew_margin_s": 0.5},
           "acquisitions": [
               {"satellite": "FS8-1", "target": "a", "start_utc": "2026-11-26T01:00:00.000Z",
                "end_utc": "2026-11-26T01:00:10.000Z", "roll_start_deg": 20.0, "pitch_start_deg": 5.0,
                "roll_end_deg": 21.0, "pitch_end_deg": 4.0, "data_gbit": 6.0},
               {"satellite": "FS8-1", "target": "b", "start_utc": "2026-11-26T01:02:00.250Z",
                "end_utc": "2026-11-26T01:02:10.250Z", "roll_start_deg": -10.0, "pitch_start_deg": 0.0,
                "roll_end_deg": -11.0, "pitch_end_deg": 1.0, "data_gbit": 6.0}],
           "downlinks": [{"satellite": "FS8-1", "station": "Svalbard", "start_utc": "2026-11-26T02:00:00.000Z",
                          "end_utc": "2026-11-26T02:10:00.000Z", "data_gbit": 12.0,
                          "drain_stop_utc": "2026-11-26T02:05:00.000Z"}]}
    path.write_text(json.dumps(doc))
    return path


CONTACTS = [ContactWindow(T0 + 1800, T0 + 2400, "FS8-1", "Svalbard"),
            ContactWindow(T0 + 6900, T0 + 8100, "FS8-1", "Svalbard")]


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    return schedule_from_plan_file(_plan(tmp_path_factory.mktemp("p") / "plan.json"), SC)


def test_plan_file_schedule(planned):
    a = planned.acquisitions
    assert list(a["start_s"]) == [3600.0, 3720.25] and list(a["roll0_deg"]) == [20.0, -10.0]
    s = planned.slews
    # the 110 s gap leaves room for a 60 s nadir hold between the images
    assert list(s["to"]) == ["target", "nadir", "target", "nadir"]
    x = planned.transmissions
    assert x["end_s"][0] == 7500.0 and x["rate_mbps"][0] == 300.0      # drain stop rounded up to the 10 s step


def test_commanded_plan_is_executed_as_planned(planned, archive_target):
    run = command_loop(SC, planned, CONTACTS, archive_target)
    ex = run.schedule
    for kind in ("acquisitions", "slews", "transmissions"):
        p, e = getattr(planned, kind), getattr(ex, kind)
        assert len(p["sat"]) == len(e["sat"])
        for k in p:
            if p[k].dtype.kind == "f":
                np.testing.assert_allclose(e[k], p[k], rtol=0, atol=1e-6, err_msg=f"{kind}.{k}")
            else:
                assert list(e[k]) == list(p[k]), (kind, k)
    s = run.summary()
    assert s["verified"] == s["commands_submitted"] == 10 + 2 and s["failed"] == 0
    assert s["acquisitions_executed"] == 2 and s["acquisitions_off_target"] == 0
    assert s["schedule_reports_matching"] == s["schedule_reports"] == 2
    h = _history(archive_target)
    assert all(r["station"] == "Svalbard" for r in h)
    assert all(T0 + 1800 <= _t(r["uplinked_utc"]) <= T0 + 2400 for r in h if "DOWNLINK" not in r["name"]
               and r["name"] != "SCHEDULE_REPORT")


def _history(archive):
    with closing(Commanding(archive)) as c:
        return c.history().records()


def _t(iso):
    return (np.datetime64(iso.rstrip("Z"), "ns") - np.datetime64(0, "ns")) / np.timedelta64(1, "s")


def test_what_is_lost_in_the_uplink_does_not_happen(planned, archive_target):
    lost = Fault("uplink_loss", "FS8-1", 0, 1800.0, 2400.0, {})
    run = command_loop(SC, planned, CONTACTS, archive_target, faults=[lost])
    s = run.summary()
    assert s["acquisitions_executed"] == 0 and s["acquisitions_not_executed"] == [0, 1]
    assert s["downlinks_executed"] == 1 and s["dropped_uplinks"] == {"uplink_loss": 9}
    assert len(run.schedule.slews["sat"]) == 0
    h = _history(archive_target)
    assert sorted(r["acceptance"] for r in h) == ["OK"] * 3 + ["TIMEOUT"] * 9


def test_plan_file_errors(tmp_path):
    p = tmp_path / "plan.json"
    for text, piece in (("{", "not JSON"), ("[]", "JSON object"), ('{"acquisitions": []}', "not a groundseg plan")):
        p.write_text(text)
        with pytest.raises(SimulationError, match=piece):
            schedule_from_plan_file(p, SC)
    doc = json.loads(_plan(p).read_text())
    doc["acquisitions"][0]["satellite"] = "X-1"
    p.write_text(json.dumps(doc))
    with pytest.raises(SimulationError, match="acquisitions\\[0\\].satellite 'X-1'"):
        schedule_from_plan_file(p, SC)
    doc = json.loads(_plan(p).read_text())
    doc["agility_model"] = {"model": "rate_acceleration", "rate_deg_s": 1.0, "accel_deg_s2": 0.1, "settle_s": 1.0}
    p.write_text(json.dumps(doc))
    with pytest.raises(SimulationError, match="not the scenario's"):
        schedule_from_plan_file(p, SC)


def test_commanding_faults_from_the_scenario(planned, archive_target):
    from sims.command_loop import onboard_computers
    from sims.scenario import bundled_scenario_path, parse_scenario
    text = bundled_scenario_path().read_text() + """
[[faults]]
kind = "schedule_capacity"
satellite = "FS8-1"
start_s = 0
entries = 3

[[faults]]
kind = "onboard_limit"
satellite = "FS8-2"
start_s = 0
argument = "pitch_deg"
minimum = -5.0
maximum = 5.0

[[faults]]
kind = "uplink_loss"
satellite = "FS8-3"
start = 2026-11-26T02:00:00Z
duration_s = 600
"""
    sc = parse_scenario(text, source="f.toml")
    computers, losses = onboard_computers(sc)
    assert computers["FS8-1"].capacity == 3 and computers["FS8-2"].capacity == 256
    assert computers["FS8-2"].limits == {("SLEW", "pitch_deg"): (-5.0, 5.0)}
    assert losses == [("FS8-3", T0 + 7200, T0 + 7800)]
    # the overflowing schedule keeps the first three insertions: the first slew, image and its stop
    run = command_loop(sc, planned, CONTACTS, archive_target)
    s = run.summary()
    assert s["acquisitions_executed"] == 1 and s["acquisitions_not_executed"] == [1]
    h = _history(archive_target)
    assert sum(r["start"] == "NOK:schedule_full" for r in h) == 5
    assert s["schedule_reports_matching"] == s["schedule_reports"]
    for bad, piece in (('argument = "pitch_deg"', 'argument = "station"'), ('start_s = 0\nargument',
                                                                           'start_s = 0\ncommand = "FIRE"\nargument')):
        with pytest.raises(SimulationError, match="not a numeric argument|unknown command 'FIRE'"):
            parse_scenario(text.replace(bad, piece), source="f.toml")
