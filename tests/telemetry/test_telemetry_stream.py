"""Network tests over loopback: end to end, security, slow joiner, kill -9 of platform and source
(end to end and the kill -9 of the platform on both back ends: ``archive_target``)."""
import json
import signal
import threading
import time

import numpy as np
import pytest

from telemetry.archive import Archive
from telemetry.errors import StreamError
from telemetry.publisher import publish_housekeeping
from telemetry.server import PlatformServer
from telemetry.keys import generate_keys
from _telemetry_helpers import cli, free_endpoint

START = "2030-01-01T00:00:00Z"


def _stats(path):
    a = Archive(path, readonly=True)
    try:
        return a.stats()
    finally:
        a.close()


def _platform(*args):
    """A platform subprocess, returned once it listens (its first stderr line)."""
    proc = cli("telemetry", "platform", *args)
    assert "listening" in proc.stderr.readline()
    return proc


def _archived(path) -> int:
    try:
        return _stats(path)["packets_archived"]
    except Exception:               # not created yet
        return 0


def _wait_archived(path, at_least, budget=2000):
    """Poll the archive until ``at_least`` packets are committed; returns the count."""
    for _ in range(budget):
        n = _archived(path)
        if n >= at_least:
            return n
        time.sleep(0.01)
    raise AssertionError(f"{path}: fewer than {at_least} packets archived")


def _heard(src, server, budget=1000):
    """Poll the source until the server tracks it (its connection is up)."""
    for _ in range(budget):
        if src.source_id in server.trackers:
            return
        src.poll(0.01)
    raise AssertionError("the platform never heard the source")


def _finish(proc, timeout=30):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_end_to_end_with_corruption(archive_target):
    ep, arc = free_endpoint(), archive_target
    plat = _platform("--listen", ep, "--archive", arc, "--idle-exit", "2")
    pub = cli("telemetry", "publish", "--connect", ep, "--count", 3000, "--rate", 3000, "--corrupt", 0.01,
              "--seed", 5, "--linger", 10)
    out, err = pub.communicate(timeout=30)
    assert pub.returncode == 0, err
    res = json.loads(out)
    assert f"corrupted {res['corrupted']} of 3000 packets" in err
    assert res["all_acked"] and res["corrupted"] > 10
    summary = _finish(plat)
    s = _stats(arc)
    assert s["crc_errors"] + s["malformed"] == res["corrupted"]
    assert s["packets_archived"] == 3000 - res["corrupted"] == s["archived_rows"]
    assert s["packets_received"] == 3000 and s["missing_packets"] == res["corrupted"]
    assert summary["latency_p50_ms"] is not None
    # stats command prints the same object
    st = cli("telemetry", "stats", "--archive", arc)
    assert _finish(st)["packets_archived"] == s["packets_archived"]


def _serve(ep, path, keys, stop):
    server = PlatformServer(ep, path, keys=keys)
    th = threading.Thread(target=server.run, kwargs={"stop": stop, "duration_s": 60}, daemon=True)
    th.start()
    return server, th


def test_security_only_allow_listed_keys_get_archived(tmp_path):
    keys, stranger = tmp_path / "keys", tmp_path / "stranger"
    generate_keys(keys, "FS8-1")
    generate_keys(stranger, "FS8-1")
    for f in ("authorized_platforms/server.key",):   # the stranger knows the platform's public key
        (stranger / f).write_bytes((keys / f).read_bytes())
    ep = free_endpoint()
    stop = threading.Event()
    server, th = _serve(ep, tmp_path / "a.sqlite", keys, stop)
    no_key = publish_housekeeping(ep, 50, 100, linger_s=1.0, start_s=1.9e9)
    unknown = publish_housekeeping(ep, 50, 100, keys=stranger, linger_s=1.0, start_s=1.95e9)
    assert not no_key["all_acked"] and not unknown["all_acked"]
    assert _stats(tmp_path / "a.sqlite")["packets_received"] == 0
    good = publish_housekeeping(ep, 50, 100, keys=keys, linger_s=20.0, start_s=2.0e9)
    assert good["all_acked"]
    stop.set()
    th.join(10)
    server.close()
    s = _stats(tmp_path / "a.sqlite")
    assert s["packets_archived"] == 50 and s["packets_received"] == 50


def test_bad_key_directory_is_a_clear_error(tmp_path):
    with pytest.raises(StreamError, match="key_secret"):
        PlatformServer(free_endpoint(), tmp_path / "a.sqlite", keys=tmp_path)
    p = cli("telemetry", "platform", "--listen", "bogus", "--archive", tmp_path / "b.sqlite")
    _, err = p.communicate(timeout=20)
    assert p.returncode == 2 and err.count("\n") == 1 and "endpoint" in err


def test_source_before_platform_loses_nothing(hk_dict, tmp_path):
    from telemetry.stream import Source
    from _telemetry_helpers import hk_rows
    ep, arc = free_endpoint(), tmp_path / "a.sqlite"
    src = Source(ep, heartbeat_s=0.05, linger_s=30)
    rows = hk_rows(hk_dict, 1500)
    for i in range(0, 500, 10):                  # into the void: nobody listens yet
        src.send(rows[i:i + 10].tobytes(), 0x64, 10)
    plat = _platform("--listen", ep, "--archive", arc, "--idle-exit", "2")
    for i in range(500, 1500, 10):
        src.send(rows[i:i + 10].tobytes(), 0x64, 10)
        src.poll(0.002)
    res = src.close()
    _finish(plat)
    s = _stats(arc)
    assert res["all_acked"]
    assert s["packets_archived"] == 1500 and s["missing_packets"] == 0
    assert s["gaps"] >= 1 and s["recovered_packets"] >= 500 and s["missing_messages"] == 0


def test_platform_kill9_and_restart_loses_nothing(archive_target):
    ep, arc = free_endpoint(), archive_target
    plat = _platform("--listen", ep, "--archive", arc)
    pub = cli("telemetry", "publish", "--connect", ep, "--count", 8000, "--rate", 2000, "--start", START,
              "--linger", 30)
    _wait_archived(arc, 500)
    plat.send_signal(signal.SIGKILL)
    plat.communicate(timeout=10)
    before = _stats(arc)["packets_archived"]
    assert 0 < before < 8000
    plat = _platform("--listen", ep, "--archive", arc, "--idle-exit", "2")
    res = _finish(pub, timeout=60)
    _finish(plat)
    s = _stats(arc)
    assert res["all_acked"]
    assert s["packets_archived"] == 8000 == s["archived_rows"] and s["missing_packets"] == 0
    assert s["missing_messages"] == 0


def test_source_kill9_and_restart_loses_nothing(tmp_path):
    ep, arc = free_endpoint(), tmp_path / "a.sqlite"
    plat = _platform("--listen", ep, "--archive", arc, "--idle-exit", "4")
    args = ("telemetry", "publish", "--connect", ep, "--count", 4000, "--rate", 2000, "--start", START,
            "--seed", 7, "--linger", 10)
    pub = cli(*args)
    _wait_archived(arc, 500)
    pub.send_signal(signal.SIGKILL)
    pub.communicate(timeout=10)
    pub = cli(*args)                    # the front end restarts and sends its store again
    res = _finish(pub)
    _finish(plat)
    s = _stats(arc)
    assert res["all_acked"]
    assert s["packets_archived"] == 4000 and s["missing_packets"] == 0 and s["duplicates"] >= 500
    np.testing.assert_array_equal(
        np.array(Archive(arc, readonly=True).packets(apid=0x64)["seq_count"]), np.arange(4000) % 16384)


def test_inproc_source_and_platform_share_a_context(hk_dict, tmp_path):
    import zmq
    from telemetry.stream import Source
    from _telemetry_helpers import hk_rows
    ctx = zmq.Context()
    stop = threading.Event()
    server = PlatformServer("inproc://tm", tmp_path / "a.sqlite", context=ctx)
    th = threading.Thread(target=server.run, kwargs={"stop": stop, "duration_s": 30}, daemon=True)
    th.start()
    src = Source("inproc://tm", replay="inproc://tm-replay", context=ctx, linger_s=10)
    rows = hk_rows(hk_dict, 500)
    for i in range(0, 500, 50):
        src.send(rows[i:i + 50].tobytes(), 0x64, 50)
    out = src.close()
    stop.set()
    th.join(10)
    server.close()
    ctx.term()
    assert out["all_acked"]
    assert _stats(tmp_path / "a.sqlite")["packets_archived"] == 500


def test_recovered_packets_are_limit_checked_in_order(hk_dict, tmp_path):
    """Packets lost to the slow joiner and replayed still pass the limit checks in time order."""
    from telemetry.publisher import housekeeping_values
    from telemetry.stream import Source
    n = 400
    v = housekeeping_values(np.arange(n), seed=3)
    v["rw4_speed"][20:40] = 7200.0                      # overspeed while nobody listens
    rows = hk_dict.encode("HK", v, time_s=1.8e9 + np.arange(n))
    ep = free_endpoint()
    src = Source(ep, linger_s=20, heartbeat_s=0.05)
    for i in range(0, 100, 10):
        src.send(rows[i:i + 10].tobytes(), 0x64, 10)
    stop = threading.Event()
    server, th = _serve(ep, tmp_path / "a.sqlite", None, stop)
    _heard(src, server)
    for i in range(100, n, 10):
        src.send(rows[i:i + 10].tobytes(), 0x64, 10)
        src.poll(0.002)
    out = src.close()
    stop.set()
    th.join(10)
    server.close()
    a = Archive(tmp_path / "a.sqlite", readonly=True)
    s = a.stats()
    alarms = a.alarms().records()
    a.close()
    assert out["all_acked"] and s["packets_archived"] == n and s["recovered_packets"] >= 100
    assert s["late_unchecked"] == 0
    assert [(x["parameter"], x["raised_utc"], x["cleared_utc"]) for x in alarms] == [
        ("rw4_speed", "2027-01-15T08:00:21.000000Z", "2027-01-15T08:00:40.000000Z")]


def test_evicted_messages_are_declared_lost_not_waited_for(hk_dict, tmp_path):
    from telemetry.stream import Source
    from _telemetry_helpers import hk_rows
    rows = hk_rows(hk_dict, 300)
    ep = free_endpoint()
    src = Source(ep, linger_s=20, buffer_messages=5, heartbeat_s=0.05)
    for i in range(0, 200, 10):                 # 20 messages, nobody listening, 15 evicted
        src.send(rows[i:i + 10].tobytes(), 0x64, 10)
    stop = threading.Event()
    server, th = _serve(ep, tmp_path / "a.sqlite", None, stop)
    _heard(src, server)
    for i in range(200, 300, 10):
        src.send(rows[i:i + 10].tobytes(), 0x64, 10)
    out = src.close()
    stop.set()
    th.join(10)
    server.close()
    s = _stats(tmp_path / "a.sqlite")
    assert out["all_acked"] and out["evicted"] >= 15
    assert s["missing_messages"] == out["unavailable_requested"] >= 15
    assert s["packets_archived"] == 300 - 10 * s["missing_messages"]
    assert s["missing_packets"] == 0        # the archive starts after the lost range
