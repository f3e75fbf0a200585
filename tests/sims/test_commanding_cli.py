"""The commanding command line against a standalone fleet process (`groundseg sim spacecraft`):
send, the second-person release, refusals before anything is sent, history (on both archive back
ends: ``archive_target``), load, list."""
import json
import signal
import subprocess
import sys
import time

import pytest

from _ports import free_endpoint
from groundseg.cli import main
from telemetry.errors import StreamError
from telemetry.tc_link import GroundLink


@pytest.fixture
def fleet():
    """The bundled scenario's fleet in its own process; waits until it answers its clock."""
    ep = free_endpoint()
    proc = subprocess.Popen([sys.executable, "-m", "groundseg", "sim", "spacecraft", "--listen-uplink", ep],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while True:
        link = GroundLink(ep, timeout_s=0.5)
        try:
            link.clock()
            break
        except StreamError:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        finally:
            link.close()
    yield ep, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)


def _lines(capsys):
    out = capsys.readouterr()
    return out.out.strip().splitlines(), out.err.strip().splitlines()


def test_send_release_refuse_history(fleet, archive_target, tmp_path, capsys):
    ep, proc = fleet
    arc = archive_target
    base = ["command", "send", "--archive", arc, "--uplink", ep, "--spacecraft", "FS8-1", "--operator", "alice"]
    assert main(base + ["--name", "SLEW", "--arg", "roll_deg=10", "--arg", "pitch_deg=-2.5"]) == 0
    out, _ = _lines(capsys)
    assert out == [out[0]] and out[0].startswith("command 1 SLEW -> FS8-1: verified; uplinked 2026-11-26T")
    assert out[0].endswith("acceptance OK, start OK, completion OK")
    # refused before anything is stored or sent: exit 2, one line
    for extra, piece in ((["--name", "SLEW", "--arg", "roll_deg=75", "--arg", "pitch_deg=0"], "75 outside -60..60"),
                         (["--name", "SLEW", "--arg", "roll_deg=x", "--arg", "pitch_deg=0"], "expected a number"),
                         (["--name", "FIRE"], "unknown command 'FIRE'"),
                         (["--name", "RW_RESET", "--arg", "wheel"], "expected KEY=VALUE")):
        assert main(base + extra) == 2
        out, err = _lines(capsys)
        assert out == [] and len(err) == 1 and piece in err[0], err
    # a critical command waits for a second person
    assert main(base + ["--name", "MEMORY_ERASE"]) == 0
    out, _ = _lines(capsys)
    assert "command 2 MEMORY_ERASE -> FS8-1: queued" in out[0]
    assert main(["command", "queue", "--archive", arc]) == 0
    out, _ = _lines(capsys)
    assert out[1].startswith("2,FS8-1,MEMORY_ERASE,queued,critical,alice")
    assert main(["command", "release", "--archive", arc, "2", "--operator", "alice", "--uplink", ep]) == 2
    _, err = _lines(capsys)
    assert "someone other than its submitter alice" in err[0]
    assert main(["command", "release", "--archive", arc, "2", "--operator", "bob", "--uplink", ep]) == 0
    out, _ = _lines(capsys)
    assert "command 2 MEMORY_ERASE -> FS8-1: verified" in out[0]
    # time-tagged
    assert main(base + ["--name", "HEATER_ON", "--arg", "heater=obc", "--at", "2026-11-26T03:00:00Z"]) == 0
    _lines(capsys)
    assert main(["command", "history", "--archive", arc, "--spacecraft", "FS8-1"]) == 0
    out, _ = _lines(capsys)
    assert out[0] == ("id,spacecraft,name,arguments,submitted_utc,submitted_by,released_by,uplinked_utc,"
                      "station,acceptance,start,completion")
    assert len(out) == 4 and out[2].split(",")[5:7] == ["alice", "bob"]
    assert out[3].endswith("OK,OK,OK") and "release_utc" in out[3]
    none = str(tmp_path / "none.sqlite") if "://" not in arc else arc.rsplit("%3D", 1)[0] + "%3Dno_such_schema"
    assert main(["command", "history", "--archive", none]) == 2
    _, err = _lines(capsys)
    assert len(err) == 1 and "no such archive" in err[0], err
    proc.send_signal(signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=60)
    summary = json.loads(stdout)
    assert summary["received"] == 3 and summary["executed"]["FS8-1"] == 3


def test_list_and_load(tmp_path, capsys):
    assert main(["command", "list"]) == 0
    out, _ = _lines(capsys)
    assert out[0].startswith("fs8-commands 1.0: 17 commands to APID 0x066")
    assert any(line.startswith("SLEW ") and "roll_deg=-60..60 deg" in line for line in out)
    from test_commanding_executed import _plan
    plan = _plan(tmp_path / "plan.json")
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("station,antenna,satellite,norad_id,priority,aos_utc,tca_utc,los_utc,duration_s,"
                        "max_elevation_deg,quality,status,reason,conflicts_with\n"
                        "Svalbard,1,FS8-1,99801,1,2026-11-26T00:30:00.000Z,,2026-11-26T00:40:00.000Z,600,,,"
                        "scheduled,,\n")
    out_file = tmp_path / "load.json"
    assert main(["command", "load", "--plan", str(plan), "--contacts", str(contacts), "--output",
                 str(out_file)]) == 0
    _, err = _lines(capsys)
    load = json.loads(out_file.read_text())
    # the downlink at 02:00 has no contact before it but the one at 00:30: still commandable
    assert load["summary"] == {"commands": 11, "unassigned": 0, "contacts_used": 1, "per_spacecraft": {"FS8-1": 11}}
    assert "11 commands for 1 contacts" in err[0]
    assert {c["station"] for c in load["commands"]} == {"Svalbard"}
