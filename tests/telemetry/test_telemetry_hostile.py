"""One hostile message must not crash, hang or silence the platform, nor make it drop or
acknowledge a real source's data it has not committed. In process (inproc / ipc), the server
stepped by the test: every wait is a condition with an iteration budget."""
import json
import threading

import numpy as np
import zmq

from telemetry.archive import Archive
from telemetry.keys import generate_keys
from telemetry.server import PlatformServer
from telemetry.stream import KIND_DATA, KIND_HEARTBEAT, Source, encode_message
from _telemetry_helpers import cli, hk_rows

HUGE = 2**63 - 1


def _pump(server, sources, until, steps=3000):
    for _ in range(steps):
        if until():
            return True
        server.step(2)
        for s in sources:
            s.poll(0)
    return until()


def _count(server, name):
    """A counter, committed or still pending."""
    return server.counters[name] + server._pending[name]


def _resend(server, sources, send, until, tries=200):
    """Send until ``until()``: a PUB loses what it sends before its connection is up."""
    for _ in range(tries):
        send()
        if _pump(server, sources, until, 5):
            return True
    return False


def _connect(server, pub, sources=()):
    """Wait until ``pub``'s messages reach the server (a bad heartbeat from id "probe" is counted)."""
    probe = encode_message("hb/PROBE/probe", KIND_HEARTBEAT, 0, "probe", b"{}", 0)
    assert _resend(server, sources, lambda: pub.send_multipart(probe),
                   lambda: _count(server, "rejected.heartbeat_fields") >= 1)


def _rig(tmp_path, **server_options):
    """(context, archive path, in-process server on inproc://p, a hostile PUB connected to it)."""
    ctx = zmq.Context()
    path = tmp_path / "a.sqlite"
    server = PlatformServer("inproc://p", path, context=ctx, **server_options)
    evil = ctx.socket(zmq.PUB)
    evil.connect("inproc://p")
    return ctx, path, server, evil


def _hb_body(replay, spacecraft="EVIL", token="ab" * 16, sent=0, raw=None):
    if raw is not None:
        return raw
    return json.dumps({"replay": replay, "spacecraft": spacecraft, "token": token, "sent_packets": sent}).encode()


def _heartbeat(sock, sid, seq, body, spacecraft="EVIL"):
    sock.send_multipart(encode_message(f"hb/{spacecraft}/{sid}", KIND_HEARTBEAT, seq, sid, body, 0))


def _data(sock, sid, seq, body, spacecraft="EVIL", n=1):
    sock.send_multipart(encode_message(f"tm/{spacecraft}/064", KIND_DATA, seq, sid, body, n))


def _archived_rows(path, spacecraft):
    a = Archive(path, readonly=True)
    try:
        t = a.packets(spacecraft=spacecraft)
        return {bytes.fromhex(h) for h in t["raw_hex"]}, a.stats()
    finally:
        a.close()


def _send_all(src, rows, per=10):
    for i in range(0, rows.shape[0], per):
        src.send(rows[i:i + per].tobytes(), 0x64, min(per, rows.shape[0] - i))


def test_hostile_frames_do_not_crash_hang_or_silence_the_platform(hk_dict, tmp_path):
    """Heartbeats with 1e400, sequences 2**63 and 2**63 - 1, replay DONE ranges [[1, 1e400]] and
    ending at 2**64 - 1, random frames: every one counted and dropped (main: OverflowError, or a
    loop over 2**63 messages), and the honest source's packets all archived and acknowledged."""
    ctx, path, server, evil = _rig(tmp_path, replay_timeout_s=0.05, replay_tries=2, sequence_window=10_000)
    replier = ctx.socket(zmq.ROUTER)
    replier.bind("inproc://evil-replay")
    honest = Source("inproc://p", replay="inproc://honest", context=ctx, heartbeat_s=0.02, linger_s=0)
    rows = hk_rows(hk_dict, 200)
    _connect(server, evil, [honest])
    assert _pump(server, [honest], lambda: honest.source_id in server.trackers, 500)
    rng = np.random.default_rng(1)
    _heartbeat(evil, "evil-1", 0, _hb_body("", raw=b'{"replay": "inproc://evil-replay", "spacecraft": "EVIL", '
                                                b'"token": "' + b"ab" * 16 + b'", "sent_packets": 1e400}'))
    _data(evil, "evil-2", 2**63, b"x")
    _data(evil, "evil-3", 1, b"x")
    _data(evil, "evil-3", HUGE, b"x")                             # a jump: bounded, the rest lost
    _heartbeat(evil, "evil-4", HUGE, _hb_body("inproc://nobody"))
    _heartbeat(evil, "evil-5", 50, _hb_body("inproc://evil-replay"))     # asks the replier for 1..50
    for _ in range(20):
        frames = [rng.bytes(int(rng.integers(0, 40))) for _ in range(int(rng.integers(1, 6)))]
        evil.send_multipart([b"tm/" + frames[0], *frames[1:]])          # past the subscription filter
    _send_all(honest, rows[:100])
    bad_dones = [[json.dumps([[1, 1e400]]).encode()], [b"[[1, 18446744073709551615]]"], [b"[[5, 1]]"], [b"[" * 5000],
                 [b"not json"]]
    answered = 0

    def answer():
        nonlocal answered
        while replier.poll(0):
            req = replier.recv_multipart()
            if answered < len(bad_dones):
                rng_frame = req[3]
                replier.send_multipart([req[0], b"DONE", b"evil-5", rng_frame, (2**64 - 1).to_bytes(8, "big"),
                                        *bad_dones[answered]])
            answered += 1
        return False
    _pump(server, [honest], lambda: answer() or answered >= len(bad_dones), 3000)
    _send_all(honest, rows[100:])
    assert _pump(server, [honest], lambda: honest.all_acked and not server.busy and answer() is False)
    c = server.counters
    for reason in ("heartbeat_json", "sequence", "replay_done", "frames"):
        assert c["rejected." + reason] >= 1, reason
    assert c["rejected_messages"] == sum(v for k, v in c.items() if k.startswith("rejected."))
    assert c["skipped_messages"] >= HUGE - 2 - 10_000          # evil-3's jump, declared lost at once
    have, stats = _archived_rows(path, "FS8-1")
    assert {r.tobytes() for r in rows} <= have and stats["packets_archived"] >= 200
    server.close()
    honest.close(0)
    for s in (evil, replier):
        s.close(0)
    ctx.destroy(linger=0)


def _wait(sources, until, steps=2000):
    """Poll the sources until ``until()`` (a server runs in its own thread)."""
    for _ in range(steps):
        if until():
            return True
        for s in sources:
            s.poll(0.005)
    return until()


def test_forged_source_id_does_not_drop_the_real_source_data(hk_dict, tmp_path):
    """Without keys, five messages with the real source's id and its next sequence numbers arrive
    first: the real messages are still archived (main: dropped as duplicates)."""
    ctx = zmq.Context()
    path = tmp_path / "a.sqlite"
    server = PlatformServer("inproc://p", path, context=ctx)
    stop = threading.Event()
    th = threading.Thread(target=server.run, kwargs={"stop": stop}, daemon=True)
    th.start()
    honest = Source("inproc://p", replay="inproc://honest", context=ctx, heartbeat_s=0.02, linger_s=0)
    evil = ctx.socket(zmq.PUB)
    evil.connect("inproc://p")
    assert _wait([honest], lambda: honest.source_id in server.trackers)
    fake = hk_rows(hk_dict, 5, t0=1.7e9)
    seq = 1
    while seq <= 5 and _wait([honest], lambda: False, 1) is False:       # resent until the first one is in
        _data(evil, honest.source_id, seq, fake[seq - 1].tobytes(), spacecraft="FS8-1")
        seq = seq + 1 if server.trackers[honest.source_id].highest >= 1 else 1
    assert _wait([honest], lambda: server.trackers[honest.source_id].highest >= 5)
    rows = hk_rows(hk_dict, 50)
    _send_all(honest, rows)
    assert _wait([honest], lambda: honest.all_acked)
    stop.set()
    th.join(30)
    have, stats = _archived_rows(path, "FS8-1")
    assert {r.tobytes() for r in rows} <= have
    server.close()
    honest.close(0)
    evil.close(0)
    ctx.destroy(linger=0)


def test_no_connection_to_an_endpoint_a_heartbeat_names_unless_allowed(tmp_path):
    ctx = zmq.Context()
    server = PlatformServer("inproc://p", tmp_path / "a.sqlite", context=ctx)
    evil = ctx.socket(zmq.PUB)
    evil.connect("inproc://p")
    assert _resend(server, [], lambda: _heartbeat(evil, "evil-1", 0, _hb_body("tcp://192.0.2.1:5555")),
                   lambda: _count(server, "rejected.replay_not_allowed") >= 3)
    assert not server._dealers
    server.close()
    allowed = PlatformServer("inproc://q", tmp_path / "b.sqlite", context=ctx, allow_replay=("tcp://192.0.2.1:*",))
    evil.connect("inproc://q")
    assert _resend(allowed, [], lambda: _heartbeat(evil, "evil-1", 0, _hb_body("tcp://192.0.2.1:5555")),
                   lambda: "evil-1" in allowed._dealers)
    allowed.close()
    evil.close(0)
    ctx.destroy(linger=0)


def test_per_source_keys_bind_identity(hk_dict, tmp_path):
    """Source B (its own key; a second front end of spacecraft A) cannot publish under A's source
    id, nor a spacecraft outside its allow-list, nor name a replay endpoint outside it, nor
    acknowledge on A's replay port; A's data all archived. Main: one shared client key, ids not
    bound to keys."""
    keys = tmp_path / "keys"
    generate_keys(keys, "A")
    generate_keys(keys, "B", spacecraft=["A", "B"])
    ep = f"ipc://{tmp_path}/p.sock"
    server = PlatformServer(ep, tmp_path / "a.sqlite", keys=keys)
    a = Source(ep, spacecraft="A", keys=keys, replay=f"ipc://{tmp_path}/a.sock", heartbeat_s=0.02, linger_s=0)
    b_ctx = zmq.Context()
    from telemetry.keys import SourceKeys
    kb = SourceKeys(keys, "B")
    b = b_ctx.socket(zmq.PUB)
    b.curve_secretkey, b.curve_publickey, b.curve_serverkey = kb.secret, kb.public, kb.peer_public
    b.connect(ep)
    assert _pump(server, [a], lambda: a.source_id in server.trackers and server.trackers[a.source_id].token, 2000)
    rows = hk_rows(hk_dict, 60)
    _send_all(a, rows[:30])
    c = server.counters
    assert _resend(server, [a], lambda: _heartbeat(b, "B-own", 0, _hb_body("tcp://192.0.2.1:5555", spacecraft="B"),
                                                   spacecraft="B"),
                   lambda: _count(server, "rejected.replay_not_allowed"))     # B's connection is up
    for seq in range(a.seq + 1, a.seq + 4):
        _data(b, a.source_id, seq, rows[0].tobytes(), spacecraft="A")          # A's id, A's next numbers
    _data(b, "B-own", 1, rows[0].tobytes(), spacecraft="C")                      # not in its allow-list
    attacker = b_ctx.socket(zmq.DEALER)                                          # B acks on A's port
    attacker.curve_secretkey, attacker.curve_publickey = kb.secret, kb.public
    attacker.curve_serverkey = SourceKeys(keys, "A").public
    attacker.setsockopt(zmq.LINGER, 0)
    attacker.connect(a.replay_endpoint)
    attacker.send_multipart([b"ACK", a.source_id.encode(), (a.seq).to_bytes(8, "big"), a.token.encode()])
    assert _pump(server, [a], lambda: c["rejected.source_id_of_another_key"] == 3 and
                 c["rejected.spacecraft_not_allowed"] == 1 and c["rejected.replay_not_allowed"] >= 1, 3000)
    _send_all(a, rows[30:])
    assert _pump(server, [a], lambda: a.all_acked and not server.busy)
    have, stats = _archived_rows(tmp_path / "a.sqlite", "A")
    assert {r.tobytes() for r in rows} == have and stats["packets_archived"] == 60
    assert "B-own" not in server._dealers
    server.close()
    a.close(0)
    for s in (b, attacker):
        s.close(0)
    b_ctx.destroy(linger=0)


def test_forged_ack_does_not_release_a_source(tmp_path):
    """ACK 2**64 - 1 on a source's replay port (main's format, then with a wrong token, then beyond
    the last message with the right token): nothing acknowledged (main: all_acked)."""
    ctx = zmq.Context()
    src = Source("inproc://nobody-listens", replay="inproc://src", context=ctx, linger_s=0)
    src.send(b"\x00" * 30, 0x64, 1)
    d = ctx.socket(zmq.DEALER)
    d.connect("inproc://src")
    sid = src.source_id.encode()
    d.send_multipart([b"ACK", sid, (2**64 - 1).to_bytes(8, "big")])
    for _ in range(100):
        src.poll(0.001)
    assert src.acked == 0 and not src.all_acked
    d.send_multipart([b"ACK", sid, (1).to_bytes(8, "big"), b"0" * 32])
    d.send_multipart([b"ACK", sid, (2**64 - 1).to_bytes(8, "big"), src.token.encode()])
    for _ in range(100):
        src.poll(0.001)
        if src.counters["rejected_requests"] >= 3:
            break
    assert src.counters["rejected_requests"] == 3 and src.acked == 0 and not src.all_acked
    d.close(0)
    src.close(0)
    ctx.destroy(linger=0)


def test_publish_exits_nonzero_when_not_delivered(tmp_path):
    pub = cli("telemetry", "publish", "--connect", f"ipc://{tmp_path}/nobody", "--count", 20, "--rate", 1000,
              "--linger", 0.2)
    out, err = pub.communicate(timeout=60)
    assert pub.returncode == 1 and json.loads(out)["all_acked"] is False
    assert err.count("\n") == 1 and "not acknowledged" in err
    pub = cli("telemetry", "publish", "--connect", f"ipc://{tmp_path}/nobody", "--count", 20, "--rate", "inf")
    _, err = pub.communicate(timeout=60)
    assert pub.returncode == 2 and err == "groundseg: error: --rate must be a finite number, got inf\n"


def test_oversized_frames_are_refused_by_zeromq(hk_dict, tmp_path):
    """A 2 MiB frame (limit 1 MiB) never reaches the pipeline: ZMQ_MAXMSGSIZE drops the peer."""
    ep = f"ipc://{tmp_path}/p.sock"
    server = PlatformServer(ep, tmp_path / "a.sqlite", max_message_bytes=1 << 20)
    ctx = zmq.Context()
    evil = ctx.socket(zmq.PUB)
    evil.connect(ep)
    src = Source(ep, replay=f"ipc://{tmp_path}/s.sock", heartbeat_s=0.02, linger_s=0)
    assert _pump(server, [src], lambda: src.source_id in server.trackers, 2000)
    for seq in range(1, 4):
        _data(evil, "evil", seq, np.random.default_rng(seq).bytes(2 << 20))
    rows = hk_rows(hk_dict, 40)
    _send_all(src, rows)
    assert _pump(server, [src], lambda: src.all_acked and not server.busy)
    s = Archive(tmp_path / "a.sqlite", readonly=True).stats()
    assert s["packets_received"] == 40 == s["packets_archived"] and "evil" not in server.trackers
    server.close()
    src.close(0)
    evil.close(0)
    ctx.destroy(linger=0)


def test_memory_is_bounded_in_bytes_and_sources(hk_dict, tmp_path):
    """Messages held behind a gap stay within the hold budget (the oldest are processed out of
    order, none dropped); 300 source ids never make more than ``max_sources`` trackers, 300
    spacecraft names never more than ``max_spacecraft`` (main kept every id and name for good)."""
    ctx, path, server, evil = _rig(tmp_path, memory_bytes=40_000, max_sources=20, replay_timeout_s=0.05)
    _connect(server, evil)
    rows = hk_rows(hk_dict, 2000)
    _heartbeat(evil, "gap", 0, _hb_body("inproc://never-answers", spacecraft="FS8-1"), spacecraft="FS8-1")
    peak = 0
    for seq in range(2, 202):                  # message 1 never comes: everything after it is held
        _data(evil, "gap", seq, rows[(seq - 2) * 10:(seq - 1) * 10].tobytes(), spacecraft="FS8-1", n=10)
        server.step(0)
        peak = max(peak, server._held_bytes)
    for i in range(300):
        _heartbeat(evil, f"id-{i}", 0, _hb_body("inproc://x"))
        _data(evil, f"sc-{i}", 1, b"x", spacecraft=f"SC-{i}")       # a new spacecraft name each
        server.step(0)
        assert len(server.trackers) <= 20 and len(server._spacecraft) <= 100
    assert _pump(server, [], lambda: server._held_bytes == 0 and not server._chunks, 500)
    assert peak <= 20_000 and server.counters["released_out_of_order"] > 0
    assert server.counters["rejected.too_many_sources"] > 0 and server.counters["rejected.too_many_spacecraft"] > 0
    assert _archived_rows(path, "FS8-1")[1]["packets_archived"] == 2000
    server.close()
    evil.close(0)
    ctx.destroy(linger=0)


def test_acknowledgements_say_only_what_is_committed(hk_dict, tmp_path):
    """With a 3 s commit interval, the source is acknowledged only once its messages are in the
    archive (main's periodic ack sent the in-memory watermark before the commit: with a kill -9
    in between, acknowledged packets were lost -- 7877 of 8000)."""
    path = tmp_path / "a.sqlite"
    ep = f"ipc://{tmp_path}/p.sock"
    server = PlatformServer(ep, path, batch_s=3.0)
    stop = threading.Event()
    th = threading.Thread(target=server.run, kwargs={"stop": stop}, daemon=True)
    th.start()
    src = Source(ep, replay=f"ipc://{tmp_path}/s.sock", heartbeat_s=0.05, linger_s=0)
    rows = hk_rows(hk_dict, 50)
    for _ in range(200):
        src.poll(0.02)
        if src.source_id in server.trackers:
            break
    _send_all(src, rows)
    archived_when_acked = None
    for _ in range(400):
        src.poll(0.05)
        if src.acked:
            archived_when_acked = Archive(path, readonly=True).stats()["packets_archived"]
            break
    assert archived_when_acked is not None and archived_when_acked >= 10 * src.acked
    stop.set()
    th.join(30)
    server.close()
    src.close(0)


def test_held_messages_are_saved_as_missing(hk_dict, tmp_path):
    """Messages held behind a gap are not committed: the saved state must still ask for them
    after a restart (main saved them as received and acknowledged them after the gap closed)."""
    path = tmp_path / "a.sqlite"
    ep = f"ipc://{tmp_path}/p.sock"
    server = PlatformServer(ep, path)
    stop = threading.Event()
    th = threading.Thread(target=server.run, kwargs={"stop": stop}, daemon=True)
    th.start()
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    pub.connect(ep)
    replay = ctx.socket(zmq.ROUTER)                  # never answers
    replay.bind(f"ipc://{tmp_path}/r.sock")
    rows = hk_rows(hk_dict, 30)
    body = json.dumps({"replay": f"ipc://{tmp_path}/r.sock", "spacecraft": "FS8-1", "token": "ab" * 16,
                       "sent_packets": 0}).encode()
    tr = None
    for _ in range(400):
        _heartbeat(pub, "gap", 0, body, spacecraft="FS8-1")
        threading.Event().wait(0.01)
        tr = server.trackers.get("gap")
        if tr is not None:
            break
    for seq in (2, 3):
        _data(pub, "gap", seq, rows[seq * 10 - 10:seq * 10].tobytes(), spacecraft="FS8-1", n=10)
    for _ in range(400):
        threading.Event().wait(0.01)
        if len(tr.held) == 2:
            break
    stop.set()
    th.join(30)
    server.close()
    a = Archive(path, readonly=True)
    state = json.loads(a.db.execute("SELECT state FROM sources WHERE source_id='gap'").fetchone()[0])
    a.close()
    assert len(tr.held) == 2 and state["highest"] == 3
    assert state["missing"] == [[1, 3]]
    pub.close(0)
    replay.close(0)
    ctx.destroy(linger=0)


def test_nothing_saved_in_the_archive_makes_a_restart_hang(tmp_path):
    """Saved states with a 2**63 gap, 1e400 or garbage: the platform starts, serves, and exits on
    idle (main: OverflowError at start, or a recovery loop over 2**63 messages)."""
    path = tmp_path / "a.sqlite"
    Archive(path).close()
    a = Archive(path)
    a.db.executemany("INSERT INTO sources(source_id, state) VALUES (?, ?)", [
        ("huge", json.dumps({"highest": HUGE, "missing": [[1, HUGE]], "replay": "inproc://nobody", "spacecraft": "FS8-1",
                             "token": "ab" * 16})),
        ("overflow", '{"highest": 1e400, "missing": [[1, 1e400]]}'), ("garbage", "{not json")])
    a.close()
    ctx = zmq.Context()
    server = PlatformServer("inproc://p", path, context=ctx, replay_timeout_s=0.05, replay_tries=2)
    pub = ctx.socket(zmq.PUB)
    pub.connect("inproc://p")
    result = {}
    th = threading.Thread(target=lambda: result.update(server.run(idle_exit_s=0.5, duration_s=120)), daemon=True)
    th.start()
    for sid in ("huge", "overflow", "garbage"):
        for _ in range(50):
            _heartbeat(pub, sid, 0, _hb_body("inproc://nobody", spacecraft="FS8-1"), spacecraft="FS8-1")
            threading.Event().wait(0.01)
    th.join(60)
    assert not th.is_alive() and result["missing_messages"] == HUGE
    assert server.counters["bad_saved_state"] == 2
    server.close()
    pub.close(0)
    ctx.destroy(linger=0)


def _rss_mb(pid) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_a_flood_of_large_frames_stays_within_memory(tmp_path):
    """600 frames of 1 MiB sent at once: the platform queues at most ``rcvhwm`` (100) of them and
    batches at most ``memory_bytes`` / 2 (main queued 10,000: all 600 MiB landed in its memory,
    4.8 GB with bigger floods)."""
    ep = f"ipc://{tmp_path}/p.sock"
    plat = cli("telemetry", "platform", "--listen", ep, "--archive", tmp_path / "a.sqlite")
    try:
        assert "listening" in plat.stderr.readline()
        base = peak = _rss_mb(plat.pid)
        ctx = zmq.Context()
        flood = ctx.socket(zmq.PUB)
        flood.setsockopt(zmq.SNDHWM, 1000)
        flood.connect(ep)
        body = np.random.default_rng(5).bytes(1 << 20)
        for seq in range(1, 601):                    # zero-copy: this side holds one body
            flood.send_multipart(encode_message("tm/EVIL/064", KIND_DATA, seq, "flood", body, 1), copy=False)
        for _ in range(100):                         # while the queues drain
            peak = max(peak, _rss_mb(plat.pid))
            threading.Event().wait(0.03)
        flood.close(0)
        ctx.destroy(linger=0)
    finally:
        plat.kill()
        plat.communicate(timeout=30)
    assert peak - base < 350, (base, peak)
