import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry.archive import Archive
from telemetry.packets import encode_packets, idle_packet
from telemetry.platform import Chunk, Platform
from telemetry.publisher import housekeeping_values
from _telemetry_helpers import hk_rows

INVARIANT = ("packets_archived", "crc_errors", "malformed", "duplicates", "idle_packets")


def _balanced(s):
    return s["packets_received"] == sum(s[k] for k in INVARIANT)


def test_three_simulator_faults_raise_their_alarms(hk_dict, tmp_path):
    n = 300
    v = housekeeping_values(np.arange(n), seed=1)
    v["battery_voltage"][100:] *= 7 / 8                         # a cell of the 8S string drops
    v["rw3_speed"][200:230] = 6800.0                             # wheel overspeed for 30 s
    v["payload_temp"][50:] = v["payload_temp"][50]               # focal-plane sensor stuck
    rows = hk_dict.encode("HK", v, time_s=1.8e9 + np.arange(n))
    p = Platform(tmp_path / "a.sqlite", hk_dict)
    p.ingest(rows.tobytes(), spacecraft="FS8-3")
    alarms = p.archive.alarms().records()
    by = {}
    for a in alarms:
        by.setdefault(a["parameter"], []).append(a)
    assert set(by) == {"battery_voltage", "rw3_speed", "payload_temp"}
    assert by["battery_voltage"][0]["reason"] == "step" and by["battery_voltage"][0]["raised_utc"].startswith(
        "2027-01-15T08:01:40")
    assert any(a["reason"] == "low" and a["condition"] == "active" for a in by["battery_voltage"])
    wheel = by["rw3_speed"]
    assert len(wheel) == 1 and wheel[0]["max_severity"] == 4 and wheel[0]["reason"] == "high"
    assert wheel[0]["condition"] == "normal" and wheel[0]["state"] == "returned_unacknowledged"
    # persistence 2: raised on the second sample beyond the limit
    assert wheel[0]["raised_utc"] == "2027-01-15T08:03:21.000000Z"
    stuck = by["payload_temp"]
    assert len(stuck) == 1 and stuck[0]["reason"] == "frozen" and stuck[0]["severity"] == 2
    assert stuck[0]["raised_utc"] == "2027-01-15T08:01:09.000000Z"   # 20th identical sample: index 69
    s = p.stats()
    assert s["alarms_raised"] == len(alarms) and _balanced(s) and s["packets_archived"] == n
    events = p.archive.db.execute("SELECT event FROM alarm_events").fetchall()
    assert len(events) >= len(alarms)
    p.close()


def test_quarantine_duplicates_idle_and_layout(hk_dict, tmp_path):
    rows = hk_rows(hk_dict, 20)
    bad = rows[3].copy()
    bad[30] ^= 0x10
    other = encode_packets(np.zeros((2, 4), np.uint8), apid=0x300, seq_count=[0, 1], time_s=1.8e9,
                           service=1, subtype=1)                      # APID not in the dictionary
    wrong = encode_packets(np.zeros((1, 4), np.uint8), apid=0x64, seq_count=0, time_s=1.8e9,
                           service=3, subtype=25)                     # HK APID with a wrong length
    stream = rows[:10].tobytes() + bad.tobytes() + idle_packet(8) + other.tobytes() + wrong.tobytes() + b"junk"
    p = Platform(tmp_path / "a.sqlite", hk_dict)
    r1 = p.ingest(stream)
    r2 = p.ingest(rows[5:].tobytes())                               # 5 duplicates, 10 new
    s = p.stats()
    assert r1["crc_errors"] == 1 and r1["idle_packets"] == 1 and r1["malformed"] == 2
    assert r2["duplicates"] == 5 and r2["packets_archived"] == 10
    assert s["unknown_apid"] == 2 and s["packets_archived"] == 10 + 2 + 10
    assert s["archived_rows"] == s["packets_archived"] and _balanced(s)
    reasons = sorted(r[0].split(":")[0] for r in p.archive.db.execute("SELECT reason FROM quarantine"))
    assert reasons == ["crc", "layout", "malformed"]
    assert s["missing_packets"] == 0                  # packet 3 came back in the second batch
    assert p.archive.packets(apid=0x64)["seq_count"].tolist() == list(range(20))
    p.close()


def test_restart_continues_state(hk_dict, tmp_path):
    n = 100
    v = housekeeping_values(np.arange(n), seed=2)
    v["rw1_speed"][40:] = 7000.0
    rows = hk_dict.encode("HK", v, time_s=1.8e9 + np.arange(n))
    path = tmp_path / "a.sqlite"
    p = Platform(path, hk_dict)
    p.ingest(rows[:41].tobytes())              # one sample over the limit: persistence 2 not met
    assert p.stats()["alarms_raised"] == 0
    p.close()
    p = Platform(path, hk_dict)
    p.ingest(rows[30:60].tobytes())            # 11 duplicates; the next sample completes persistence
    s = p.stats()
    assert s["duplicates"] == 11 and s["alarms_raised"] == 1
    assert p.archive.alarms().records()[0]["raised_utc"] == "2027-01-15T08:00:41.000000Z"
    v2 = housekeeping_values(np.arange(n), seed=2)
    p.close()
    p = Platform(path, hk_dict)
    p.ingest(hk_dict.encode("HK", v2, time_s=1.8e9 + np.arange(n))[60:].tobytes())
    a = p.archive.alarms().records()
    assert len(a) == 1 and a[0]["condition"] == "normal" and a[0]["cleared_utc"] == "2027-01-15T08:01:00.000000Z"
    p.acknowledge(a[0]["id"], "alice")
    assert p.archive.alarms().records()[0]["operator"] == "alice"
    p.close()


def test_queries_and_export(hk_dict, tmp_path):
    rows = hk_rows(hk_dict, 50)
    p = Platform(tmp_path / "a.sqlite", hk_dict)
    p.ingest(rows[:25].tobytes(), spacecraft="FS8-1")
    p.ingest(rows[25:].tobytes(), spacecraft="FS8-1")
    p.ingest(rows.tobytes(), spacecraft="FS8-2")
    a = p.archive
    sc, t, v, s = a.parameter_arrays("battery_voltage", start_s=1.8e9 + 10, end_s=1.8e9 + 19.5)
    assert t.tolist() == [1.8e9 + i for i in range(10, 20)] * 2 and sorted(set(sc)) == ["FS8-1", "FS8-2"]
    ref = hk_dict.packet("HK").decode(rows[10:20])["battery_voltage"]
    np.testing.assert_allclose(v[:10], ref)
    tab = a.packets(apid=0x64, start_s=1.8e9 + 48, spacecraft="FS8-2")
    assert len(tab) == 2 and bytes.fromhex(tab["raw_hex"][0]) == rows[48].tobytes()
    assert tab.to_csv().splitlines()[0] == "time_utc,spacecraft,apid,seq_count,length,recovered,raw_hex"
    assert json.loads(tab.to_json())[1]["seq_count"] == 49
    p.close()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 10**7), max_size=8), st.integers(0, 3))
def test_fuzz_counters_add_up(seed, flips, n_garbage):
    from telemetry.dictionary import Dictionary
    d = Dictionary.bundled()
    rng = np.random.default_rng(seed)
    rows = hk_rows(d, 30)
    chunks = []
    for k in range(3):
        data = bytearray(rows[rng.integers(0, 30, 12)].tobytes())   # repeats: duplicates
        for f in flips:
            bit = f % (len(data) * 8)
            data[bit // 8] ^= 1 << (bit % 8)
        data += rng.bytes(int(rng.integers(0, 40))) if n_garbage > k else b""
        chunks.append(Chunk(bytes(data), "FS8-1", "fuzz"))
    p = Platform(":memory:", d)
    p.ingest_chunks(chunks)
    s = p.stats()
    assert _balanced(s)
    assert s["archived_rows"] == s["packets_archived"]
    assert s["quarantined"] == s["crc_errors"] + s["malformed"]
    p.close()


def test_failed_batch_rolls_back_everything(hk_dict, tmp_path, monkeypatch):
    n = 60
    v = housekeeping_values(np.arange(n), seed=5)
    v["rw1_speed"][10:] = 7000.0
    rows = hk_dict.encode("HK", v, time_s=1.8e9 + np.arange(n))
    p = Platform(tmp_path / "a.sqlite", hk_dict)
    p.ingest(rows[:11].tobytes(), spacecraft="FS8-9")          # first sample over the limit
    real = p._decode_store

    def boom(*args, **kw):
        real(*args, **kw)
        raise OSError("disk full")
    monkeypatch.setattr(p, "_decode_store", boom)
    with pytest.raises(OSError):
        p.ingest(rows[11:30].tobytes(), spacecraft="FS8-9")    # alarm raised in memory, then the batch fails
    with pytest.raises(OSError):
        p.ingest(rows[:5].tobytes(), spacecraft="FS8-7")       # a new spacecraft name, then fails
    monkeypatch.setattr(p, "_decode_store", real)
    s = p.stats()
    assert s["packets_archived"] == 11 and s["alarms_raised"] == 0
    p.ingest(rows[11:30].tobytes(), spacecraft="FS8-9")
    p.ingest(rows[:5].tobytes(), spacecraft="FS8-7")
    s = p.stats()
    assert s["packets_archived"] == 35 and s["duplicates"] == 0 and s["alarms_raised"] == 1
    assert p.archive.alarms().records()[0]["raised_utc"] == "2027-01-15T08:00:11.000000Z"
    assert len(p.archive.packets(spacecraft="FS8-7")) == 5
    p.close()
