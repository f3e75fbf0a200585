"""On-board command handling without a link: report rules, the time-based schedule, state checks."""
import pytest

from groundseg.planning.agility import PiecewiseAgility
from sims.onboard import OnboardComputer
from telemetry.tc import Telecommand, code_of
from telemetry.tc_dictionary import CommandDictionary
from telemetry.tc_reports import ScheduleReport, decode_report

T0 = 1795651200.0
D = CommandDictionary.bundled()


def _obc(**kw):
    return OnboardComputer("FS8-1", D, agility=PiecewiseAgility(), start_s=T0, **kw)


_seq = iter(range(10000))


def _tc(name, args=None, **kw):
    return D.build(name, args or {}, seq_count=next(_seq), source_id=1, **kw)


def _tagged(name, args, release_s):
    inner = _tc(name, args)
    inner = Telecommand(inner.apid, inner.seq_count, inner.service, inner.subtype, inner.app_data, 1,
                        inner.ack_flags & ~8)
    return _tc("SCHEDULE_INSERT", {"release_time": release_s, "command": inner}), inner


def _reports(obc):
    return [decode_report(p) for p in obc.take_reports()]


def test_success_reports_follow_the_ack_flags_failures_always_come():
    obc = _obc()
    quiet = Telecommand(D.apid, 1, 8, 1, b"\x00\x02", 1, ack_flags=0)          # PAYLOAD_ON, no reports asked
    obc.receive(quiet.encode(), T0 + 1)
    assert _reports(obc) == [] and obc.payload_on
    refused = Telecommand(D.apid, 2, 8, 1, b"\x00\x06" + (99).to_bytes(4, "big"), 1, ack_flags=0)  # IMAGING_STOP 99
    obc.receive(refused.encode(), T0 + 2)
    (r,) = _reports(obc)
    assert (r.stage, r.ok, r.code, r.request_id) == ("start", False, code_of("not_allowed_in_mode"), refused.request_id)


def test_slew_completes_when_it_ends_and_blocks_another():
    obc = _obc()
    a = _tc("SLEW", {"roll_deg": 30.0, "pitch_deg": 0.0})
    obc.receive(a.encode(), T0 + 10)
    duration = float(PiecewiseAgility().transition_time_s((0, 0), (30, 0)))
    assert [(r.stage, r.ok) for r in _reports(obc)] == [("acceptance", True), ("start", True)]
    b = _tc("SLEW", {"roll_deg": 0.0, "pitch_deg": 0.0})
    obc.receive(b.encode(), T0 + 12)
    reps = _reports(obc)
    assert [(r.stage, r.ok, r.request_id) for r in reps] == [("acceptance", True, b.request_id),
                                                               ("start", False, b.request_id)]
    obc.advance(T0 + 10 + duration)
    (done,) = _reports(obc)
    assert done.stage == "completion" and done.time_s == pytest.approx(T0 + 10 + duration, abs=1e-6)


def test_time_tagged_commands_run_in_release_then_insertion_order():
    obc = _obc()
    order = []
    for name, args, t in (("IMAGING_STOP", {"acquisition": 1}, 200.0), ("IMAGING_START",
                          {"acquisition": 1, "roll_end_deg": 0.0, "pitch_end_deg": 0.0}, 100.0),
                          ("HEATER_ON", {"heater": "obc"}, 200.0)):
        outer, inner = _tagged(name, args, T0 + t)
        obc.receive(outer.encode(), T0 + 1)
        order.append(inner.request_id)
    assert len(obc.schedule_entries()) == 3
    _reports(obc)
    obc.advance(T0 + 1000)
    starts = [r.request_id for r in _reports(obc) if r.stage == "start"]
    assert starts == [order[1], order[0], order[2]]
    assert [e.name for e in obc.executed] == ["IMAGING_START", "IMAGING_STOP", "HEATER_ON"]
    assert obc.heaters["obc"]


def test_schedule_capacity_past_release_delete_reset_and_report():
    obc = _obc(schedule_capacity=2)
    ins = [_tagged("HEATER_ON", {"heater": "obc"}, T0 + 500 + i) for i in range(3)]
    for outer, _ in ins:
        obc.receive(outer.encode(), T0 + 1)
    past, _ = _tagged("HEATER_ON", {"heater": "obc"}, T0 + 0.5)
    obc.receive(past.encode(), T0 + 2)
    fails = [(r.request_id, r.code) for r in _reports(obc) if not r.ok]
    assert fails == [(ins[2][0].request_id, code_of("schedule_full")), (past.request_id, code_of("release_time_passed"))]
    first = ins[0][1]
    obc.receive(_tc("SCHEDULE_DELETE", {"source_id": 1, "apid": first.apid, "seq_count": first.seq_count}).encode(),
                T0 + 3)
    obc.receive(_tc("SCHEDULE_DELETE", {"source_id": 1, "apid": first.apid, "seq_count": first.seq_count}).encode(),
                T0 + 4)
    reps = _reports(obc)
    assert [r.code for r in reps if not r.ok] == [code_of("unknown_request")]
    obc.receive(_tc("SCHEDULE_REPORT").encode(), T0 + 5)
    (rep,) = [r for r in _reports(obc) if isinstance(r, ScheduleReport)]
    assert [(e.apid, e.seq_count) for e in rep.entries] == [(ins[1][1].apid, ins[1][1].seq_count)]
    obc.receive(_tc("SCHEDULE_RESET").encode(), T0 + 6)
    assert obc.schedule_entries() == []


def test_state_checks():
    obc = _obc()
    obc.receive(_tc("PAYLOAD_OFF").encode(), T0 + 1)
    obc.receive(_tc("IMAGING_START", {"acquisition": 1, "roll_end_deg": 0.0, "pitch_end_deg": 0.0}).encode(), T0 + 2)
    obc.receive(_tc("SET_MODE", {"mode": "SAFE"}).encode(), T0 + 3)
    obc.receive(_tc("DOWNLINK_START", {"station": "Troll"}).encode(), T0 + 4)
    obc.receive(_tc("MEMORY_DUMP", {"station": "Troll"}).encode(), T0 + 5)
    fails = [failure for r in _reports(obc) if not r.ok for failure in [r.code]]
    assert fails == [code_of("payload_off"), code_of("not_allowed_in_mode"), code_of("not_allowed_in_mode")]
    assert obc.mode == "SAFE" and obc.transmitter is None
    assert [(e.name, e.ok) for e in obc.executed] == [("PAYLOAD_OFF", True), ("IMAGING_START", False),
                                                      ("SET_MODE", True), ("DOWNLINK_START", False),
                                                      ("MEMORY_DUMP", False)]


def test_a_time_tagged_schedule_command_is_refused_and_limits_apply_inside_insertions():
    obc = _obc(limits={("SLEW", "roll_deg"): (-10.0, 10.0)})
    inner = _tc("SCHEDULE_RESET")
    outer = _tc("SCHEDULE_INSERT", {"release_time": T0 + 100, "command": inner})
    obc.receive(outer.encode(), T0 + 1)
    wide, _ = _tagged("SLEW", {"roll_deg": 20.0, "pitch_deg": 0.0}, T0 + 100)
    obc.receive(wide.encode(), T0 + 2)
    assert [(r.stage, r.code) for r in _reports(obc)] == [("acceptance", code_of("illegal_data")),
                                                          ("acceptance", code_of("rejected_argument"))]
    assert obc.schedule_entries() == []


def test_garbage_gets_a_failure_quoting_what_came():
    obc = _obc()
    obc.receive(b"\x18\x66\xc0\x07garbage", T0 + 1)
    obc.receive(b"\x01", T0 + 2)                           # too short to quote: no report
    (r,) = _reports(obc)
    assert r.request_id == 0x1866C007 and r.code == code_of("invalid_length")
    assert obc.counters["rejected"] == 2
