"""Alarms latch (ISA-18.2), keep their first acknowledgement, can be shelved for a while; every
operator action is archived; ``telemetry keys`` protects its secrets."""
import json
import stat

import numpy as np
import pytest

from groundseg.cli import main
from telemetry.archive import Archive
from telemetry.errors import ArchiveError
from telemetry.monitor import snapshot
from telemetry.platform import Platform
from telemetry.publisher import housekeeping_values

T0 = 1.8e9


def _two_alarms(d, path):
    """rw1_speed: raised at 10 s and cleared at 20 s; rw2_speed: raised at 30 s, still active."""
    n = 60
    v = housekeeping_values(np.arange(n), seed=4)
    v["rw1_speed"][10:20] = 7000.0
    v["rw2_speed"][30:] = -6900.0
    p = Platform(path, d)
    p.ingest(d.encode("HK", v, time_s=T0 + np.arange(n)).tobytes())
    p.close()


def _by_parameter(a, state="all", now_s=T0 + 100):
    return {r["parameter"]: r for r in a.alarms(state, now_s=now_s).records()}


def test_cleared_before_acknowledged_stays_visible_and_unacknowledged_first(hk_dict, tmp_path):
    path = tmp_path / "a.sqlite"
    _two_alarms(hk_dict, path)
    a = Archive(path)
    rows = a.alarms("open", now_s=T0 + 100).records()
    assert [(r["parameter"], r["state"], r["condition"]) for r in rows] == [
        ("rw2_speed", "active_unacknowledged", "active"), ("rw1_speed", "returned_unacknowledged", "normal")]
    assert a.stats()["open_alarms"] == 2 and a.stats()["unacknowledged_alarms"] == 2
    screen = snapshot(a, hk_dict, now_s=T0 + 100).splitlines()
    shown = [x for x in screen if x.startswith("  #")]
    assert "rw2_speed" in shown[0] and "ACTIVE UNACKNOWLEDGED" in shown[0]
    assert "rw1_speed" in shown[1] and "RETURNED UNACKNOWLEDGED" in shown[1]
    a.acknowledge_alarm(rows[0]["id"], "alice", "wheel 2 commanded off", now_s=T0 + 101)
    rows = a.alarms("open", now_s=T0 + 102).records()          # still open: unacknowledged first
    assert [(r["parameter"], r["state"]) for r in rows] == [("rw1_speed", "returned_unacknowledged"),
                                                              ("rw2_speed", "active_acknowledged")]
    a.acknowledge_alarm(rows[0]["id"], "bob", now_s=T0 + 103)
    assert [r["parameter"] for r in a.alarms("open", now_s=T0 + 104).records()] == ["rw2_speed"]
    assert _by_parameter(a)["rw1_speed"]["state"] == "closed"
    a.close()


def test_second_acknowledgement_keeps_the_first(hk_dict, tmp_path, capsys):
    path = tmp_path / "a.sqlite"
    _two_alarms(hk_dict, path)
    assert main(["telemetry", "ack", "--archive", str(path), "1", "--operator", "alice", "--comment", "seen"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["telemetry", "ack", "--archive", str(path), "1", "--operator", "bob"]) == 0
    out, err = capsys.readouterr()
    again = json.loads(out)
    assert again["already_acknowledged"] and again["acknowledged_by"] == "alice"
    assert again["acknowledged_utc"] == first["acknowledged_utc"]
    assert err.count("\n") == 1 and "already acknowledged by alice" in err
    a = Archive(path, readonly=True)
    acts = a.actions().records()
    assert [(x["operator"], x["action"], x["alarm_id"], x["comment"]) for x in acts] == [
        ("alice", "acknowledge", 1, "seen"), ("bob", "acknowledge", 1, "")]
    assert "already acknowledged by alice" in acts[1]["detail"]
    a.close()


def test_ack_needs_an_operator_and_an_existing_archive(hk_dict, tmp_path, capsys):
    missing = tmp_path / "none.sqlite"
    assert main(["telemetry", "ack", "--archive", str(missing), "1", "--operator", "bob"]) == 2
    assert not missing.exists() and "no such archive" in capsys.readouterr().err
    path = tmp_path / "a.sqlite"
    _two_alarms(hk_dict, path)
    with pytest.raises(SystemExit):
        main(["telemetry", "ack", "--archive", str(path), "1"])           # --operator is required
    capsys.readouterr()
    assert main(["telemetry", "ack", "--archive", str(path), "99", "--operator", "bob"]) == 2
    assert "no alarm with id 99" in capsys.readouterr().err
    a = Archive(path)
    for who in ("", "   ", "x" * 65, "a\nb", None):
        with pytest.raises(ArchiveError, match="operator"):
            a.acknowledge_alarm(1, who)
    with pytest.raises(ArchiveError, match="integer"):
        a.acknowledge_alarm("1", "bob")
    a.close()


def test_shelved_alarm_reappears_when_the_shelf_expires(hk_dict, tmp_path, capsys):
    path = tmp_path / "a.sqlite"
    _two_alarms(hk_dict, path)
    a = Archive(path)
    wheel2 = _by_parameter(a)["rw2_speed"]["id"]
    row = a.shelve_alarm(wheel2, "carol", 600, "known: wheel test", now_s=T0 + 100)["alarm"]
    assert row["state"] == "shelved" and row["shelved_by"] == "carol"
    assert _by_parameter(a, now_s=T0 + 699)["rw2_speed"]["state"] == "shelved"
    assert [r["state"] for r in a.alarms("open", now_s=T0 + 699).records()] == ["returned_unacknowledged", "shelved"]
    assert _by_parameter(a, now_s=T0 + 701)["rw2_speed"]["state"] == "active_unacknowledged"
    for bad in (0, -1, float("inf"), float("nan"), 31 * 86400, True, "600"):
        with pytest.raises(ArchiveError, match="duration"):
            a.shelve_alarm(wheel2, "carol", bad)
    wheel1 = _by_parameter(a)["rw1_speed"]["id"]
    a.acknowledge_alarm(wheel1, "dave", now_s=T0 + 100)
    with pytest.raises(ArchiveError, match="closed"):
        a.shelve_alarm(wheel1, "carol", 60, now_s=T0 + 100)
    acts = a.actions().records()
    assert [(x["operator"], x["action"]) for x in acts] == [("carol", "shelve"), ("dave", "acknowledge")]
    a.close()
    assert main(["telemetry", "shelve", "--archive", str(path), str(wheel2), "--operator", "erin", "--duration",
                 "60"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "shelved"


def test_old_archives_gain_the_new_alarm_columns(hk_dict, tmp_path):
    path = tmp_path / "a.sqlite"
    _two_alarms(hk_dict, path)
    a = Archive(path)
    for c in ("comment", "shelved_until_s", "shelved_by"):
        a.db.execute(f"ALTER TABLE alarms DROP COLUMN {c}")
    a.db.execute("DROP TABLE actions")
    a.close()
    ro = Archive(path, readonly=True)                        # read as written
    assert [r["state"] for r in ro.alarms("open", now_s=T0 + 100).records()] == ["active_unacknowledged",
                                                                                 "returned_unacknowledged"]
    assert len(ro.actions()) == 0
    ro.close()
    rw = Archive(path)                                       # migrated on open
    assert rw.acknowledge_alarm(1, "bob", "ok")["alarm"]["comment"] == "ok"
    rw.close()


def test_keys_are_private_and_not_overwritten(tmp_path, capsys):
    d = tmp_path / "k"
    assert main(["telemetry", "keys", "--dir", str(d), "--source", "FS8-1"]) == 0
    server_secret = (d / "server.key_secret").read_text()
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for f in ("server.key_secret", "FS8-1.key_secret"):
        assert stat.S_IMODE((d / f).stat().st_mode) == 0o600, f
    capsys.readouterr()
    assert main(["telemetry", "keys", "--dir", str(d)]) == 2
    assert "exists" in capsys.readouterr().err and (d / "server.key_secret").read_text() == server_secret
    assert main(["telemetry", "keys", "--dir", str(d), "--source", "FS8-1"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["telemetry", "keys", "--dir", str(d), "--source", "FS8-2", "--spacecraft", "FS8-2",
                 "--spacecraft", "FS8-3", "--replay", "tcp://10.0.0.5:*"]) == 0
    entry = json.loads((d / "authorized_clients" / "FS8-2.json").read_text())
    assert entry == {"source": "FS8-2", "spacecraft": ["FS8-2", "FS8-3"], "replay": ["tcp://10.0.0.5:*"]}
    assert (d / "server.key_secret").read_text() == server_secret       # a new source keeps the platform key
    assert main(["telemetry", "keys", "--dir", str(d), "--force"]) == 0
    assert (d / "server.key_secret").read_text() != server_secret
    for bad in ("server", "a/b", "", "x" * 40):
        assert main(["telemetry", "keys", "--dir", str(d), "--source", bad]) == 2
