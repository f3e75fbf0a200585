"""The wire format's checks (every field of every frame) and the per-source sequence bookkeeping."""
import json
import struct

import pytest

from telemetry.stream import (HEADER, KIND_DATA, KIND_HEARTBEAT, KIND_REPLAY, Message, decode_message,
                              encode_message, parse_done, parse_heartbeat)
from telemetry.tracker import MAX_SEQ, SourceTracker

SID = "FS8-1-0123456789abcdef01234567"


def _hb(**change):
    body = {"replay": "tcp://127.0.0.1:5000", "spacecraft": "FS8-1", "token": "ab" * 16, "sent_packets": 10}
    body.update(change)
    return json.dumps(body).encode()


def test_envelope_round_trip():
    frames = encode_message("tm/FS8-1/064", KIND_DATA, 42, SID, b"abc", 3, send_ns=123)
    assert decode_message(frames) == Message(KIND_DATA, 42, 123, 3, "FS8-1", 0x64, SID, b"abc")
    hb = encode_message(f"hb/FS8-1/{SID}", KIND_HEARTBEAT, 0, SID, _hb(), 0, send_ns=1)
    assert decode_message(hb).kind == KIND_HEARTBEAT and decode_message(hb).apid is None
    rep = encode_message("tm/FS8-1/064", KIND_REPLAY, 7, SID, b"x", 1)
    assert decode_message(rep, replayed=True) == Message(KIND_REPLAY, 7, rep_ns(rep), 1, "FS8-1", 0x64, SID, b"x")
    assert decode_message(rep) == "kind" and decode_message(frames, replayed=True) == "kind"
    assert decode_message([b"", *rep[1:]], replayed=True) == "topic"


def rep_ns(frames):
    return HEADER.unpack(frames[1])[4]


def _header(version=2, kind=KIND_DATA, flags=0, seq=1, n=1):
    return HEADER.pack(version, kind, flags, seq, 0, n)


@pytest.mark.parametrize("frames, reason", [
    ([b"tm/FS8-1/064", _header(), SID.encode()], "frames"),
    ([b"tm/FS8-1/064", _header(), SID.encode(), b"x", b"y"], "frames"),
    ([b"tm/FS8-1/064", _header()[:-1], SID.encode(), b"x"], "header"),
    ([b"tm/FS8-1/064", _header(version=1), SID.encode(), b"x"], "version"),
    ([b"tm/FS8-1/064", _header(flags=1), SID.encode(), b"x"], "flags"),
    ([b"tm/FS8-1/064", _header(kind=9), SID.encode(), b"x"], "kind"),
    ([b"tm/FS8-1/064", _header(seq=0), SID.encode(), b"x"], "sequence"),
    ([b"tm/FS8-1/064", _header(seq=2**63), SID.encode(), b"x"], "sequence"),
    ([b"tm/FS8-1/064", _header(seq=2**64 - 1), SID.encode(), b"x"], "sequence"),
    ([b"tm/FS8-1/064", _header(n=0), SID.encode(), b"x"], "packet_count"),
    ([b"tm/FS8-1/064", _header(n=2**32 - 1), SID.encode(), b"x"], "packet_count"),
    ([b"hb/FS8-1/" + SID.encode(), _header(kind=KIND_HEARTBEAT, n=5), SID.encode(), _hb()], "packet_count"),
    ([b"tm/FS8-1/064", _header(), b"", b"x"], "source_id"),
    ([b"tm/FS8-1/064", _header(), b"x" * 65, b"x"], "source_id"),
    ([b"tm/FS8-1/064", _header(), b"a/b", b"x"], "source_id"),
    ([b"tm/FS8-1/064", _header(), b"\xff\xfe", b"x"], "source_id"),
    ([b"tm/FS8-1/064", _header(), b"a\nb", b"x"], "source_id"),
    ([b"tm/FS8-1/064", _header(), SID.encode(), b""], "body_size"),
    ([b"tm/FS8-1/064", _header(), SID.encode(), b"x" * (1 << 20 | 1)], "body_size"),
    ([b"hb/FS8-1/" + SID.encode(), _header(kind=KIND_HEARTBEAT, n=0), SID.encode(), b" " * 4097], "body_size"),
    ([b"tm/FS8-1/64", _header(), SID.encode(), b"x"], "topic"),
    ([b"tm/FS8-1/06g", _header(), SID.encode(), b"x"], "topic"),
    ([b"tm/FS8-1/064/x", _header(), SID.encode(), b"x"], "topic"),
    ([b"hb/FS8-1/064", _header(), SID.encode(), b"x"], "topic"),
    ([b"tm//064", _header(), SID.encode(), b"x"], "topic"),
    ([b"tm/" + b"S" * 33 + b"/064", _header(), SID.encode(), b"x"], "topic"),
    ([b"tm/\xff/064", _header(), SID.encode(), b"x"], "topic"),
    ([b"hb/FS8-1/other", _header(kind=KIND_HEARTBEAT, n=0), SID.encode(), _hb()], "topic"),
    ([b"tm/FS8-1/" + SID.encode(), _header(kind=KIND_HEARTBEAT, n=0), SID.encode(), _hb()], "topic"),
])
def test_envelope_rejects_every_bad_field(frames, reason):
    assert decode_message(frames) == reason


@pytest.mark.parametrize("body", [
    b'{"replay": "tcp://127.0.0.1:5000", "spacecraft": "FS8-1", "token": "' + b"ab" * 16 + b'", "sent_packets": 1e400}',
    _hb(sent_packets=-1), _hb(sent_packets=2**63), _hb(sent_packets=True), _hb(sent_packets="10"),
    _hb(sent_packets=1.5), _hb(sent_packets=None), _hb(replay=5), _hb(replay=["tcp://a:1"]),
    _hb(replay="udp://x:1"), _hb(replay="tcp://" + "a" * 300), _hb(spacecraft="FS8-2"), _hb(token="AB" * 16),
    _hb(token="ab"), _hb(extra=1), b'{"replay": "tcp://127.0.0.1:5000"}', b"[1, 2]", b"not json", b"\xff\xfe",
    b'{"sent_packets": NaN}', b"[" * 3000 + b"]" * 3000, b'{"sent_packets": ' + b"9" * 5000 + b"}",
    b" " * 4097,
])
def test_heartbeat_rejects_every_bad_value(body):
    assert isinstance(parse_heartbeat(body, "FS8-1"), str)


def test_heartbeat_accepts_the_documented_object():
    assert parse_heartbeat(_hb(), "FS8-1")["sent_packets"] == 10


def test_tracker_gaps_recovery_and_loss():
    t = SourceTracker("s")
    assert t.on_data(1) == (True, 0, 0)
    assert t.on_data(5) == (True, 1, 0) and t.missing == [[2, 4]] and t.watermark() == 1
    assert t.on_heartbeat(8) == (1, 0) and t.missing == [[2, 4], [6, 8]]
    assert t.on_recovered(3) and t.missing == [[2, 2], [4, 4], [6, 8]]
    assert not t.on_recovered(3) and not t.on_recovered(9)
    assert t.on_data(2) == (True, 0, 0) and t.watermark() == 3
    assert t.lose(4, 7) == 3 and t.missing == [[8, 8]] and t.watermark() == 7
    assert t.on_data(8) == (True, 0, 0) and t.watermark() == 8
    assert t.on_data(8) == (False, 0, 0)
    t2 = SourceTracker.from_json("s", t.committed_view()[0])
    assert (t2.highest, t2.missing, t2.committed) == (8, [], 8)


def test_tracker_jump_beyond_the_window_is_bounded():
    """Sequence 2**63 - 1 after 3: the gap kept is the last ``window`` messages, the rest is
    declared lost at once (counted), in O(1) -- main kept the whole gap and its recovery looped over it."""
    t = SourceTracker("s", window=1000)
    t.on_data(1), t.on_data(2), t.on_data(3)
    new, gaps, lost = t.on_data(MAX_SEQ)
    assert new and gaps == 1 and lost == MAX_SEQ - 4 - 1000
    assert t.missing == [[MAX_SEQ - 1000, MAX_SEQ - 1]] and t.n_missing() == 1000
    assert t.on_heartbeat(MAX_SEQ) == (0, 0)
    assert t.lose(1, MAX_SEQ) == 1000 and t.watermark() == MAX_SEQ


def test_tracker_keeps_at_most_max_ranges():
    t = SourceTracker("s", max_ranges=10)
    lost = 0
    for s in range(1, 60, 2):            # every other message: one range per message
        lost += t.on_data(s)[2]
    assert len(t.missing) == 10 and lost == 29 - 10 and t.missing[0] == [40, 40]


def test_tracker_takes_back_a_heartbeat_claim_the_source_denies():
    t = SourceTracker("s")
    t.on_data(1)
    t.on_heartbeat(320_001)                      # a forged heartbeat: 320,000 messages "missing"
    assert t.n_missing() == 320_000
    assert t.never_sent(1) and t.missing == [] and t.highest == 1
    t.on_data(2), t.on_data(4)
    assert not t.never_sent(3)                  # message 4 arrived: nothing to take back


def test_committed_view_counts_held_messages_as_missing():
    """What is saved (and may be acknowledged) never includes a message that is only held in
    memory: main saved ``highest`` with the held messages, so a restart believed it had them."""
    t = SourceTracker("s")
    t.on_data(1), t.on_data(3), t.on_data(4)    # 2 missing: 3 and 4 are held, not committed
    t.hold(3, "item3", 10), t.hold(4, "item4", 10)
    text, committed = t.committed_view()
    assert committed == 1 and json.loads(text)["missing"] == [[2, 4]]
    assert t.on_recovered(2) and t.watermark() == 4
    assert t.pop_held(4)[0] == 3 and t.pop_held(4)[0] == 4 and t.held_bytes == 0
    assert t.committed_view()[1] == 4


@pytest.mark.parametrize("state", [
    {"highest": 2**64, "missing": []}, {"highest": -1, "missing": []}, {"highest": 1.5, "missing": []},
    {"highest": True, "missing": []}, {"highest": 10, "missing": [[1, 1e400]]}, {"highest": 10, "missing": [[5, 1]]},
    {"highest": 10, "missing": [[1, 11]]}, {"highest": 10, "missing": [[0, 3]]}, {"highest": 10, "missing": "x"},
    {"highest": 10, "missing": [[1, 2]] * 20_000}, {"highest": 10, "missing": [], "replay": 5},
    {"highest": 10, "missing": [], "spacecraft": ["x"]}, [1, 2],
])
def test_saved_state_is_validated(state):
    with pytest.raises((ValueError, TypeError)):
        SourceTracker.from_json("s", json.dumps(state))


def test_saved_state_ranges_are_sorted_and_merged():
    t = SourceTracker.from_json("s", json.dumps({"highest": 20, "missing": [[8, 9], [1, 3], [4, 5], [15, 20]]}))
    assert t.missing == [[1, 5], [8, 9], [15, 20]] and t.committed == 0


def _done(first=1, last=10, last_sent=10, ranges=b"[]", sid=b"s"):
    return [b"DONE", sid, struct.pack(">QQ", first, last), struct.pack(">Q", last_sent), ranges]


def test_replay_done_is_validated():
    assert parse_done(_done(ranges=b"[[2, 3]]"), "s") == (1, 10, 10, [[2, 3]])
    assert parse_done(_done(last_sent=5, ranges=b"[[2, 5]]"), "s") == (1, 10, 5, [[2, 5]])
    for frames in (_done(ranges=b"[[1, 1e400]]"), _done(ranges=b"[[1, 18446744073709551615]]"),
                   _done(ranges=b"[[5, 1]]"), _done(ranges=b"[[0, 3]]"), _done(ranges=b"[[1, 11]]"),
                   _done(last_sent=5, ranges=b"[[4, 6]]"), _done(ranges=b"[" * 5000), _done(ranges=b"[[true, 2]]"),
                   _done(ranges=b"[[1.0, 2]]"), _done(ranges=b"x"), _done(first=5, last=4), _done(first=0), _done(last_sent=2**63), _done(sid=b"other"),
                   _done()[:4], _done(ranges=b"[" + b"[1, 1], " * 1100 + b"[1, 1]]")):
        assert parse_done(frames, "s") == "replay_done", frames
