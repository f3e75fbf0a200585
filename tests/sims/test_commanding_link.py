"""Commands over real ZeroMQ sockets to simulated spacecraft: only in contact, verified by PUS 1
reports, time-tagged through PUS 11, the training faults (with the station's, on both archive back
ends: ``archive_target``), CurveZMQ, real time."""
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from groundseg.planning.agility import PiecewiseAgility
from sims.onboard import OnboardComputer
from sims.uplink import FleetUplink
from telemetry.commanding import Commanding
from telemetry.commanding_uplink import ContactWindow, UplinkSession, radiated_bits
from telemetry.errors import CommandError, StreamError
from telemetry.keys import generate_keys
from telemetry.tc_dictionary import CommandDictionary
from telemetry.tc_link import GroundLink

T0 = 1795651200.0
D = CommandDictionary.bundled()
RATES = {"Svalbard": 64000.0, "Troll": 64000.0, "Hsinchu": 64000.0}
CONTACTS = [ContactWindow(T0 + 600, T0 + 1200, "FS8-1", "Svalbard"),
            ContactWindow(T0 + 6000, T0 + 6600, "FS8-1", "Hsinchu"),
            ContactWindow(T0 + 700, T0 + 1300, "FS8-2", "Troll")]


class Station:
    """A fleet of two satellites on a TCP endpoint, a ground archive, a link and a session."""

    def __init__(self, path, *, capacity=256, limits=None, losses=(), keys=None, realtime=None,
                 ground_keys="same", contacts=CONTACTS):
        self.obc = {n: OnboardComputer(n, D, agility=PiecewiseAgility(), start_s=T0, schedule_capacity=capacity,
                                       limits=limits) for n in ("FS8-1", "FS8-2")}
        self.fleet = FleetUplink("tcp://127.0.0.1:*", self.obc, contacts, start_s=T0, losses=losses, keys=keys,
                                 realtime=realtime).start()
        self.now = T0
        self.cmd = Commanding(path, clock=lambda: self.now)
        self.link = GroundLink(self.fleet.endpoint, keys=keys if ground_keys == "same" else ground_keys,
                               timeout_s=10.0)
        self.session = UplinkSession(self.cmd, self.link, contacts, RATES)

    def history(self):
        return {r["id"]: r for r in self.cmd.history().records()}

    def close(self):
        self.link.close()
        self.fleet.close()
        self.cmd.close()


@pytest.fixture
def station(archive_target):
    s = Station(archive_target)
    yield s
    s.close()


def test_immediate_and_time_tagged_commands_are_verified(station):
    s = station
    slew = s.cmd.submit("FS8-1", "SLEW", {"roll_deg": 20.0, "pitch_deg": 5.0}, "alice")
    start = s.cmd.submit("FS8-1", "IMAGING_START", {"acquisition": 3, "roll_end_deg": 21.0, "pitch_end_deg": 4.0},
                         "planner", release_time_s=T0 + 3000.123)
    stop = s.cmd.submit("FS8-1", "IMAGING_STOP", {"acquisition": 3}, "planner", release_time_s=T0 + 3010.5)
    report = s.cmd.submit("FS8-1", "SCHEDULE_REPORT", {}, "alice")
    s.session.run(T0 + 2000)
    h = s.history()
    assert (h[slew]["acceptance"], h[slew]["start"], h[slew]["completion"]) == ("OK", "OK", "OK")
    assert h[slew]["station"] == "Svalbard" and h[slew]["uplinked_utc"].startswith("2026-11-26T00:10:00")
    assert (h[start]["acceptance"], h[start]["start"]) == ("OK", "PENDING")       # not released yet
    assert h[report]["completion"] == "OK"
    check = s.session.schedule_checks[-1]
    assert check["match"] and check["reported"] == 2 and check["spacecraft"] == "FS8-1"
    s.session.run(T0 + 4000)
    h = s.history()
    for i in (start, stop):
        assert (h[i]["acceptance"], h[i]["start"], h[i]["completion"]) == ("OK", "OK", "OK")
    ex = {e.name: e for e in s.obc["FS8-1"].executed}
    assert abs(ex["IMAGING_START"].start_s - (T0 + 3000.123)) <= 2 ** -24
    assert abs(ex["IMAGING_STOP"].start_s - (T0 + 3010.5)) <= 2 ** -24
    # the slew lasted the agility model's transition time and ended before the image
    assert ex["SLEW"].end_s - ex["SLEW"].start_s == pytest.approx(
        float(PiecewiseAgility().transition_time_s((0.0, 0.0), (20.0, 5.0))))
    assert ex["IMAGING_START"].attitude_deg == (20.0, 5.0) and ex["IMAGING_START"].settled
    assert s.cmd.counts()["verified"] == 4


def test_a_command_outside_every_contact_is_never_received(station):
    s = station
    cid = s.cmd.submit("FS8-1", "HEATER_ON", {"heater": "obc"}, "alice")
    raw = s.cmd.command(cid)["raw"]
    # forced through the link at a time no contact covers (and through the wrong station)
    s.link.send_tc("FS8-1", "Svalbard", T0 + 300, raw)
    s.link.send_tc("FS8-1", "Troll", T0 + 650, raw)
    s.cmd.mark_uplinked(cid, "Svalbard", T0 + 300)
    s.link.clock(T0 + 400)
    assert s.obc["FS8-1"].counters["received"] == 0 and s.fleet.received == []
    assert [d[3] for d in s.fleet.dropped] == ["no_contact", "no_contact"]
    s.session.run(T0 + 500)
    assert s.history()[cid]["acceptance"] == "TIMEOUT"
    # the session itself never sends outside a contact: a command submitted after FS8-2's only
    # contact stays on the ground
    s.session.run(T0 + 1400)
    late = s.cmd.submit("FS8-2", "HEATER_ON", {"heater": "obc"}, "alice")
    s.session.run(T0 + 7000)
    assert s.cmd.command(late)["state"] == "released" and s.obc["FS8-2"].counters["received"] == 0
    assert all(c.start_s <= t <= c.end_s for sc, st_, t, _ in s.fleet.received
               for c in CONTACTS if c.spacecraft == sc and c.station == st_)


def test_a_corrupted_command_gets_an_acceptance_failure(station):
    s = station
    cid = s.cmd.submit("FS8-1", "SLEW", {"roll_deg": 1.0, "pitch_deg": 1.0}, "alice")
    row = s.cmd.command(cid)
    bad = bytearray(row["raw"])
    bad[15] ^= 0x20                                           # a bit of the roll angle
    s.link.send_tc("FS8-1", "Svalbard", T0 + 700, bytes(bad))
    s.cmd.mark_uplinked(cid, "Svalbard", T0 + 700)
    s.session.run(T0 + 800)
    h = s.history()[cid]
    assert (h["acceptance"], h["start"], h["completion"]) == ("NOK:incorrect_checksum", "-", "-")
    assert s.obc["FS8-1"].executed == [] and s.obc["FS8-1"].counters["rejected"] == 1


def test_a_critical_command_is_not_uplinked_before_a_second_person_releases_it(station):
    s = station
    cid = s.cmd.submit("FS8-1", "MEMORY_ERASE", {}, "alice")
    s.session.run(T0 + 2000)                                  # a whole contact goes by
    assert s.cmd.command(cid)["state"] == "queued" and s.fleet.received == []
    with pytest.raises(CommandError):
        s.cmd.release(cid, "alice")
    s.cmd.release(cid, "bob")
    s.session.run(T0 + 7000)
    h = s.history()[cid]
    assert h["released_by"] == "bob" and h["station"] == "Hsinchu" and h["completion"] == "OK"
    assert len(s.fleet.received) == 1 and s.fleet.received[0][2] >= T0 + 6000


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    s = Station(tmp_path_factory.mktemp("bad") / "ops.sqlite")
    yield s
    s.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_bad_arguments_are_rejected_before_anything_is_sent(shared, data):
    name = data.draw(st.sampled_from(["SLEW", "RW_RESET", "IMAGING_START", "DOWNLINK_START", "SET_MODE"]))
    cmd = D.command(name)
    args = {}
    for a in cmd.arguments:
        if a.type == "float":
            args[a.name] = data.draw(st.floats(a.minimum, a.maximum))
        elif a.type == "enum":
            args[a.name] = sorted(a.enumeration.values())[0]
        else:
            args[a.name] = int(a.minimum)
    victim = data.draw(st.sampled_from(cmd.arguments))
    args[victim.name] = data.draw(st.one_of(
        st.floats(allow_nan=True).filter(lambda v: not (victim.minimum is not None and victim.minimum <= v
                                                        <= victim.maximum and victim.type == "float")),
        st.text(max_size=4), st.none(), st.integers(min_value=10 ** 10)))
    with pytest.raises(CommandError):
        shared.cmd.submit("FS8-1", name, args, "alice")
    shared.session.run(T0 + 1000)
    assert shared.fleet.received == [] and shared.cmd.pending_uplinks() == []


def test_training_faults(archive_target):
    """A rejected argument, an overflowing schedule, a command lost in the uplink."""
    s = Station(archive_target, capacity=2, limits={("SLEW", "roll_deg"): (-30.0, 30.0)},
                losses=[("FS8-2", T0 + 700, T0 + 1300)])
    try:
        wide = s.cmd.submit("FS8-1", "SLEW", {"roll_deg": 40.0, "pitch_deg": 0.0}, "alice")
        tagged = [s.cmd.submit("FS8-1", "HEATER_ON", {"heater": "obc"}, "p", release_time_s=T0 + 5000 + i)
                  for i in range(3)]
        lost = s.cmd.submit("FS8-2", "PAYLOAD_OFF", {}, "alice")
        s.cmd.submit("FS8-1", "SCHEDULE_REPORT", {}, "alice")
        s.session.run(T0 + 6000)
        h = s.history()
        assert h[wide]["acceptance"] == "NOK:rejected_argument"
        assert [h[i]["start"] for i in tagged] == ["OK", "OK", "NOK:schedule_full"]
        assert h[lost]["acceptance"] == "TIMEOUT" and s.fleet.dropped[-1][3] == "uplink_loss"
        assert s.session.schedule_checks[-1]["match"]         # the model knows the third did not fit
        assert s.obc["FS8-1"].counters["rejected"] == 1
    finally:
        s.close()


def test_schedule_report_reveals_a_lost_time_tagged_command(tmp_path):
    s = Station(tmp_path / "ops.sqlite", losses=[("FS8-1", T0 + 600, T0 + 600.01)])   # the first frame only
    try:
        first = s.cmd.submit("FS8-1", "HEATER_OFF", {"heater": "obc"}, "p", release_time_s=T0 + 5000)
        s.cmd.submit("FS8-1", "SCHEDULE_REPORT", {}, "alice")
        s.session.run(T0 + 900)
        check = s.session.schedule_checks[-1]
        assert not check["match"] and len(check["missing"]) == 1 and check["unexpected"] == []
        assert s.history()[first]["acceptance"] == "TIMEOUT"
    finally:
        s.close()


def test_curve_keys(tmp_path):
    keys = tmp_path / "keys"
    generate_keys(keys)
    generate_keys(keys, "fleet", spacecraft=["*"])
    s = Station(tmp_path / "ops.sqlite", keys=keys)
    try:
        cid = s.cmd.submit("FS8-1", "PAYLOAD_ON", {}, "alice")
        s.session.run(T0 + 2000)
        assert s.history()[cid]["completion"] == "OK"
    finally:
        s.close()
    other = tmp_path / "other"
    generate_keys(other)
    generate_keys(other, "fleet", spacecraft=["*"])
    s = Station(tmp_path / "ops2.sqlite", keys=keys, ground_keys=other)
    try:
        with pytest.raises(StreamError, match="did not answer"):
            s.link.clock(timeout_s=0.5)
        assert s.fleet.received == []
    finally:
        s.close()


def test_real_time_fleet(tmp_path):
    """At 50x real time the session waits for the contact (20 s in: 0.4 s) and the fleet's own
    clock stamps the reception."""
    contacts = [ContactWindow(T0 + 20, T0 + 120, "FS8-1", "Svalbard")]
    s = Station(tmp_path / "ops.sqlite", realtime=50.0, contacts=contacts)
    try:
        cid = s.cmd.submit("FS8-1", "PAYLOAD_ON", {}, "alice")
        s.session.run(T0 + 40)
        h = s.history()[cid]
        assert (h["acceptance"], h["start"], h["completion"]) == ("OK", "OK", "OK")
        _, _, t_rx, _ = s.fleet.received[0]
        assert T0 + 20 <= t_rx <= T0 + 120
    finally:
        s.close()


def test_hostile_frames_are_counted_and_dropped(station):
    import zmq
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.connect(station.fleet.endpoint)
    for frames in ([b"TC"], [b"XX", b"", b"", b""], [b"TC", b"\x01" * 10, b"\xff\xfe", b""],
                   [b"TC", b"\x02" + b"\x00" * 9, b"FS8-1/Svalbard", b"x"]):
        sock.send_multipart(frames)
    deadline = time.monotonic() + 10.0          # another connection: no ordering with the link's
    while station.fleet.bad_messages < 4 and time.monotonic() < deadline:
        station.link.clock()
    assert station.fleet.bad_messages == 4 and station.fleet.received == []
    sock.close(0)
    ctx.term()
    assert radiated_bits(0) > 0
