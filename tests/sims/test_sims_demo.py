"""End to end: the demo on a short window, the faults' alarms in the archive, a fault-free
run published over TCP at a paced rate with no alarm, and clear errors."""
import json
import threading
import time

import numpy as np
import pytest

from _ports import free_endpoint
from groundseg.cli import main
from sims.scenario import bundled_scenario_path
from telemetry import Archive, PlatformServer

FILES = ("passes.csv", "contacts.csv", "plan.json", "timeline.csv", "load.json", "events.csv",
         "telemetry.sqlite", "summary.json", "coverage_cells.csv", "ground_tracks.png",
         "pass_gantt.png", "plan_timeline.png", "memory_battery.png", "revisit_map.png")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    t0 = time.perf_counter()
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = main(["demo", "--output", str(out), "--hours", "3", "--time-limit", "2"])
    return out, status, buf.getvalue(), time.perf_counter() - t0


def test_demo_writes_everything(demo):
    out, status, stdout, _ = demo
    assert status == 0
    for name in FILES:
        assert (out / name).is_file(), name
    for name in FILES:
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert (out / name).stat().st_size > 15000, name
    s = json.loads((out / "summary.json").read_text())
    assert s["scenario"]["duration_h"] == 3.0 and s["scenario"]["satellites"] == 8
    assert s["plan"]["acquisitions"] > 10 and s["plan"]["time_limit_s"] == 2.0
    assert s["plan"]["agility_model"] == {"model": "piecewise"}
    assert s["bookkeeping"]["memory_balance_max_error_bit"] == 0
    assert s["bookkeeping"]["energy_balance_max_error_j"] < 1e-3
    # the simulation flies the executed commands, whose 2**-24 s time tags (in float Unix seconds)
    # put every start and end within max_deviation_from_plan_s of the plan: volumes differ by at
    # most the rate times that, at both ends (downlinks drain the images, so theirs add up)
    dev = s["commanding"]["max_deviation_from_plan_s"]
    assert dev < 1e-6
    per_image = 1 + 2 * 0.6e9 * dev
    n_img = s["plan"]["acquisitions"]
    assert s["bookkeeping"]["acquisition_vs_plan_max_bit"] <= per_image
    assert s["bookkeeping"]["downlink_vs_plan_max_bit"] <= 2 + n_img * per_image + 2 * 300e6 * dev
    assert s["data"]["rejected_gbit"] == 0 and s["power"]["unserved_wh"] == 0
    assert s["data"]["downlinked_gbit"] == pytest.approx(s["data"]["planned_downlink_gbit"],
                                                         abs=1e-8 + n_img * per_image / 1e9)
    plan = json.loads((out / "plan.json").read_text())
    assert len(plan["acquisitions"]) == s["plan"]["acquisitions"]
    # events: every acquisition and downlink of the plan, and geometry
    ev = (out / "events.csv").read_text().splitlines()
    assert ev[0] == "time_utc,time_s,satellite,event,detail"
    kinds = [line.split(",")[3] for line in ev[1:]]
    assert kinds.count("acquisition_start") == len(plan["acquisitions"])
    assert kinds.count("downlink_stop") == len(plan["downlinks"])
    for k in ("aos", "los", "eclipse_entry", "eclipse_exit", "slew_start", "fault_start"):
        assert k in kinds, k
    times = [float(line.split(",")[1]) for line in ev[1:]]
    assert times == sorted(times) and 0 <= times[0] and times[-1] <= 3 * 3600
    # the human summary
    for piece in ("passes", "acquisitions", "upper bound", "gap", "downlinked",
                  "state of charge", "commands", "verified", "packets archived", "alarms raised"):
        assert piece in stdout, piece


def test_demo_telemetry_archive_and_fault_alarms(demo):
    """Every packet is archived; each injected fault raises its alarm on its satellite
    and parameter, after it starts; nothing else alarms."""
    out, _, _, _ = demo
    a = Archive(out / "telemetry.sqlite", readonly=True)
    try:
        stats = a.stats()
        alarms = a.alarms().records()
        sc, t, v, _ = a.parameter_arrays("battery_voltage")
    finally:
        a.close()
    n_hk = 3 * 360 + 1
    assert stats["packets_archived"] == 8 * n_hk and stats["missing_packets"] == 0
    assert stats["crc_errors"] == 0 and stats["malformed"] == 0
    start = (np.datetime64("2026-11-26T00:00:00", "s") - np.datetime64("1970-01-01T00:00:00", "s")) \
        .astype(int)
    by = {}
    for al in alarms:
        by.setdefault((al["spacecraft"], al["parameter"]), []).append(al)
    assert set(by) == {("FS8-2", "payload_temp"), ("FS8-4", "battery_voltage"), ("FS8-6", "rw3_speed")}

    def raised_s(al):
        return (np.datetime64(al["raised_utc"].rstrip("Z")) - np.datetime64("2026-11-26T00:00:00")) \
            / np.timedelta64(1, "ms") / 1e3
    stuck = by[("FS8-2", "payload_temp")][0]
    assert stuck["reason"] == "frozen" and stuck["max_severity"] == 2
    assert raised_s(stuck) == pytest.approx(2400 + 19 * 10, abs=0.01)   # 20th identical sample
    assert stuck["condition"] == "normal"                                # the sensor recovered
    cell = by[("FS8-4", "battery_voltage")]
    assert cell[0]["reason"] == "step" and cell[0]["max_severity"] == 3
    assert raised_s(cell[0]) == pytest.approx(4200, abs=0.01)
    assert any(x["reason"] == "low" for x in cell)
    wheel = by[("FS8-6", "rw3_speed")][0]
    assert wheel["reason"] == "high" and wheel["max_severity"] == 4
    assert 6600 < raised_s(wheel) < 6600 + 120
    # the voltage of FS8-4 drops by one cell in eight at the fault
    sel = sc == "FS8-4"
    before = v[sel][(t[sel] - start > 4150) & (t[sel] - start < 4200)].mean()
    after = v[sel][(t[sel] - start >= 4200) & (t[sel] - start < 4250)].mean()
    assert after / before == pytest.approx(7 / 8, abs=0.005)


def _unix(iso: str) -> float:
    return (np.datetime64(iso.rstrip("Z"), "ns") - np.datetime64(0, "ns")) / np.timedelta64(1, "ns") / 1e9


def test_demo_commands_every_acquisition_in_real_contacts(demo, capsys):
    """Every planned acquisition is commanded (PUS 11), uplinked inside a scheduled contact of
    its satellite before it is due, verified at acceptance, start and completion, and executed;
    the executed timeline is the plan's to the second (to 1 ms: the files' resolution)."""
    out, _, _, _ = demo
    s = json.loads((out / "summary.json").read_text())["commanding"]
    plan = json.loads((out / "plan.json").read_text())
    assert s["not_commandable"] == 0 and s["failed"] == 0 and s["expired"] == 0
    assert s["verified"] == s["commands_submitted"] == s["uplinked"] > 0
    assert s["acquisitions_executed"] == s["acquisitions_planned"] == len(plan["acquisitions"])
    assert s["acquisitions_off_target"] == 0 and s["acquisitions_not_executed"] == []
    assert s["schedule_reports"] > 0 and s["schedule_reports_matching"] == s["schedule_reports"]
    contacts = {}
    for line in (out / "contacts.csv").read_text().splitlines()[1:]:
        f = line.split(",")
        if f[11] == "scheduled":
            contacts.setdefault((f[2], f[0]), []).append((_unix(f[5]), _unix(f[7])))
    assert main(["command", "history", "--archive", str(out / "telemetry.sqlite"), "--format", "json"]) == 0
    history = json.loads(capsys.readouterr().out)
    starts = {}
    for h in history:
        assert (h["acceptance"], h["completion"]) == ("OK", "OK"), h
        up = _unix(h["uplinked_utc"])
        assert any(a <= up <= b for a, b in contacts[(h["spacecraft"], h["station"])]), h
        args = json.loads(h["arguments"])
        if h["name"] != "SCHEDULE_REPORT":
            assert h["start"] == "OK" and up < _unix(args["release_utc"])
        if h["name"] == "IMAGING_START":
            starts.setdefault(h["spacecraft"], []).append(_unix(args["release_utc"]))
    events = [line.split(",") for line in (out / "events.csv").read_text().splitlines()[1:]]
    flown = {}
    for e in events:
        if e[3] == "acquisition_start":
            flown.setdefault(e[2], []).append(_unix(e[0]))
    for sat in {a["satellite"] for a in plan["acquisitions"]} | set(starts) | set(flown):
        planned = np.sort([_unix(a["start_utc"]) for a in plan["acquisitions"] if a["satellite"] == sat])
        for times in (starts.get(sat, []), flown.get(sat, [])):     # commanded, flown
            assert len(times) == planned.size, sat
            assert np.abs(np.sort(times) - planned).max() <= 1.001e-3, sat   # both rounded to 1 ms


def test_fault_free_run_published_paced_over_tcp(tmp_path, capsys):
    """``sim run --publish`` to a platform listening on loopback TCP, paced at 3600x real
    time: every packet arrives, no alarm; the stream takes the paced time."""
    text = bundled_scenario_path().read_text()
    text = text[:text.index("# Training faults")]       # no [[faults]]
    text = text.replace("duration_h = 24.0", "duration_h = 1.0")
    text = text.replace('kind = "bundled"\nname = "formosat8"',
                        'kind = "sso"\ncount = 3\naltitude_km = 561.0\nltdn_h = 10.5')
    text = text.replace("[coverage]", "[unused]").split("[unused]")[0]
    scen = tmp_path / "nofault.toml"
    scen.write_text(text)
    ep = free_endpoint()
    archive = tmp_path / "ops.sqlite"
    server = PlatformServer(ep, str(archive))
    stop = threading.Event()
    th = threading.Thread(target=server.run, kwargs={"stop": stop, "duration_s": 120}, daemon=True)
    th.start()
    try:
        out = tmp_path / "run"
        status = main(["sim", "run", str(scen), "--output", str(out), "--publish", ep,
                       "--realtime", "3600", "--time-limit", "1", "--no-pictures"])
    finally:
        stop.set()
        th.join(10)
        server.close()
    assert status == 0
    s = json.loads((out / "summary.json").read_text())
    assert "coverage" not in s and not (out / "telemetry.sqlite").exists()
    assert s["telemetry"]["acknowledged"] and s["telemetry"]["sent_packets"] == 3 * 361
    assert s["telemetry"]["duration_s"] >= 0.95          # 360 steps of 10 s at 3600x: 1 s
    a = Archive(archive, readonly=True)
    try:
        assert a.stats()["packets_archived"] == 3 * 361
        assert len(a.alarms()) == 0
        names = set(a.parameter_arrays("battery_soc")[0].tolist())
    finally:
        a.close()
    assert names == {"SSO-1", "SSO-2", "SSO-3"}
    assert "published to" in capsys.readouterr().out


@pytest.mark.parametrize("argv,piece", [
    (["sim", "run", "no-such-scenario.toml"], "no such scenario file"),
    (["demo", "--hours", "0"], "--hours must be in (0, 24]"),
    (["demo", "--hours", "1", "--realtime", "0"], "--realtime must be in (0, 1e+06]"),
    (["demo", "--hours", "1", "--publish", "inproc://x"], "expected tcp://HOST:PORT"),
    (["demo", "--hours", "1", "--time-limit", "-1"], "--time-limit must be positive"),
])
def test_cli_errors_are_one_line(argv, piece, capsys, tmp_path):
    assert main(argv + ["--output", str(tmp_path / "o")] if argv[0] == "demo" else argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and piece in err[0] and "Traceback" not in err[0], err


def test_plan_with_a_scenario(tmp_path):
    """``groundseg plan --scenario``: the scenario's spacecraft (memory, rate_acceleration
    agility, scene length) and limits reach the planner; options override the scenario."""
    text = bundled_scenario_path().read_text().replace(
        'model = "piecewise"', 'model = "rate_acceleration"\nrate_deg_s = 2.0\naccel_deg_s2 = 0.5\nsettle_s = 4.0')
    text = text.replace("memory_capacity_gbit = 512.0", "memory_capacity_gbit = 300.0")
    text = text.replace("scene_duration_s = 10.0", "scene_duration_s = 8.0")
    p = tmp_path / "s.toml"
    p.write_text(text)
    out = tmp_path / "plan"
    assert main(["plan", "--scenario", str(p), "--start", "2026-11-26T01:30:00Z",
                 "--end", "2026-11-26T03:30:00Z", "--max-off-nadir", "25", "--time-limit", "1",
                 "--output", str(out)]) == 0
    d = json.loads((out / "plan.json").read_text())
    from groundseg.targets import TargetDefaults, bundled_targets
    t = bundled_targets(TargetDefaults(max_off_nadir_deg=25.0))
    limit = dict(zip([str(x) for x in t.ids], t.max_off_nadir_deg.tolist()))
    assert sorted(set(limit.values())) == [25.0, 40.0]   # one target gives its own limit
    assert d["agility_model"] == {"model": "rate_acceleration", "rate_deg_s": 2.0,
                                  "accel_deg_s2": 0.5, "settle_s": 4.0, "slew_margin_s": 0.5}
    assert d["memory_capacity_gbit"] == 300.0 and len(d["acquisitions"]) > 5
    for a in d["acquisitions"]:
        assert a["off_nadir_deg"] <= limit[a["target_group"]] + 1e-3   # edges to 1 ms, < 1 deg/s
        assert "2026-11-26T01:30" <= a["start_utc"] <= "2026-11-26T03:30"
        if a["kind"] == "point":
            assert a["data_gbit"] == pytest.approx(0.6 * 8.0)
