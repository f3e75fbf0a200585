import csv
import io
import json
import threading

import numpy as np

from groundseg.cli import main
from telemetry.monitor import run_monitor, snapshot
from telemetry.platform import Platform
from telemetry.publisher import housekeeping_values, publish_housekeeping
from _telemetry_helpers import free_endpoint


def _archive_with_fault_and_garbage(d, path):
    n = 60
    v = housekeeping_values(np.arange(n), seed=4)
    v["rw2_speed"][30:] = -6900.0
    rows = d.encode("HK", v, time_s=1.8e9 + np.arange(n))
    p = Platform(path, d)
    p.ingest(rows[:40].tobytes() + b"\x00garbage\xff" * 3)
    p.ingest(b"\xde\xad\xbe\xef" * 50)                      # nothing but garbage
    p.ingest(rows[40:].tobytes())
    p.close()
    return rows


def test_monitor_once_shows_values_alarms_and_survives_garbage(hk_dict, archive_target, capsys):
    path = archive_target
    _archive_with_fault_and_garbage(hk_dict, path)
    assert main(["telemetry", "monitor", "--archive", str(path), "--once"]) == 0
    out = capsys.readouterr().out
    assert "PARAMETERS  FS8-1" in out and "NADIR" in out and "rw2_speed" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("rw2_speed"))
    assert "-6900" in line and "critical" in line
    assert "ALARMS  open 1" in out and "CRITICAL" in out
    assert "malformed 2" in out and "archived 60" in out


def test_stats_and_export(hk_dict, archive_target, capsys):
    path = archive_target
    rows = _archive_with_fault_and_garbage(hk_dict, path)
    assert main(["telemetry", "stats", "--archive", str(path)]) == 0
    s = json.loads(capsys.readouterr().out)
    for key in ("packets_received", "packets_archived", "crc_errors", "malformed", "duplicates", "gaps",
                "missing_packets", "recovered_packets", "alarms_raised"):
        assert key in s
    assert s["packets_archived"] == 60 and s["malformed"] == 2 and s["alarms_raised"] == 1
    assert main(["telemetry", "export", "--archive", str(path), "--parameter", "rw2_speed", "--start",
                 "2027-01-15T08:00:25Z", "--end", "2027-01-15T08:00:34Z", "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(table) == 10 and table[0]["unit"] == "rpm"
    assert [r["state"] for r in table] == ["nominal"] * 6 + ["critical"] * 4   # persistence 2 from index 30
    assert float(table[-1]["value"]) == -6900.0
    assert main(["telemetry", "export", "--archive", str(path), "--apid", "0x64", "--format", "json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert len(recs) == 60 and bytes.fromhex(recs[7]["raw_hex"]) == rows[7].tobytes()


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    cases = [["telemetry", "stats", "--archive", str(tmp_path / "none.sqlite")],
             ["telemetry", "export", "--archive", str(tmp_path / "none.sqlite"), "--format", "csv"],
             ["telemetry", "platform", "--listen", "udp://x", "--archive", str(tmp_path / "a.sqlite")],
             ["telemetry", "publish", "--connect", "tcp://127.0.0.1:1", "--count", "1", "--rate", "1",
              "--keys", str(tmp_path)],
             ["telemetry", "monitor", "--once"]]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("groundseg: error: ") and err.count("\n") == 1, err
    (tmp_path / "bad.toml").write_text("[[packets]]\nname = 'X'\napid = 5000\n")
    assert main(["telemetry", "platform", "--listen", free_endpoint(), "--archive", str(tmp_path / "b.sqlite"),
                 "--dictionary", str(tmp_path / "bad.toml")]) == 2
    assert "bad.toml: packets[0] (X).apid" in capsys.readouterr().err


def test_keys_and_ack(hk_dict, tmp_path, archive_target, capsys):
    assert main(["telemetry", "keys", "--dir", str(tmp_path / "k")]) == 0
    assert main(["telemetry", "keys", "--dir", str(tmp_path / "k"), "--source", "FS8-1"]) == 0
    capsys.readouterr()
    for f in ("server.key", "server.key_secret", "FS8-1.key", "FS8-1.key_secret", "authorized_clients/FS8-1.key",
              "authorized_clients/FS8-1.json", "authorized_platforms/server.key"):
        assert (tmp_path / "k" / f).is_file()
    path = archive_target
    _archive_with_fault_and_garbage(hk_dict, path)
    assert main(["telemetry", "ack", "--archive", str(path), "1", "--operator", "bob"]) == 0
    capsys.readouterr()
    assert main(["telemetry", "monitor", "--archive", str(path), "--once"]) == 0
    assert "ack bob" in capsys.readouterr().out


def test_live_monitor_over_zeromq(tmp_path):
    ep = free_endpoint()
    out = io.StringIO()
    th = threading.Thread(target=run_monitor, kwargs=dict(listen=ep, archive=str(tmp_path / "live.sqlite"),
                                                          interval_s=0.3, duration_s=6.0, out=out))
    th.start()
    res = publish_housekeeping(ep, 300, 300, linger_s=20.0, start_s=1.8e9)
    th.join(20)
    assert res["all_acked"]
    snaps = out.getvalue().split("\f")
    assert "archived 300" in snaps[-1] and "battery_voltage" in snaps[-1]
    assert any(" UP " in s for s in snaps)          # DOWN again once the source has gone
