"""Telecommand packets and command reports against spacepackets, an independent implementation of
CCSDS / PUS-C; hostile bytes give CommandError and nothing else."""
import pytest
from hypothesis import given, settings, strategies as st

from telemetry.errors import CommandError
from telemetry.packets import crc16
from telemetry.tc import (ACK_ACCEPTANCE, ACK_COMPLETION, MAX_TC_BYTES, Telecommand, code_of, cuc_bytes, cuc_time_s,
                          decode_tc, failure_name)
from telemetry.tc_reports import (ScheduleEntry, ScheduleReport, VerificationReport, decode_report, schedule_report,
                                  verification_report)

spacepackets = pytest.importorskip("spacepackets")
from spacepackets.ecss.pus_1_verification import FailureNotice  # noqa: E402
from spacepackets.ecss.req_id import RequestId  # noqa: E402
from spacepackets.ecss.tc import PusTc  # noqa: E402
from spacepackets.ecss.tm import PusTm  # noqa: E402

tc_fields = st.fixed_dictionaries({
    "apid": st.integers(0, 0x7FE), "seq_count": st.integers(0, 16383), "service": st.integers(0, 255),
    "subtype": st.integers(0, 255), "source_id": st.integers(0, 0xFFFF), "ack_flags": st.integers(0, 15),
    "app_data": st.binary(max_size=200)})


@settings(max_examples=300, deadline=None)
@given(tc_fields)
def test_encoder_matches_spacepackets(f):
    ours = Telecommand(**f).encode()
    ref = PusTc(service=f["service"], message_subtype=f["subtype"], apid=f["apid"], seq_count=f["seq_count"],
                source_id=f["source_id"], ack_flags=f["ack_flags"], app_data=f["app_data"]).pack()
    assert ours == bytes(ref)
    back = decode_tc(bytes(ref))
    assert back == Telecommand(**f)
    parsed = PusTc.unpack(ours)
    assert RequestId.from_pus_tc(parsed).as_u32() == Telecommand(**f).request_id


def _valid() -> bytes:
    return Telecommand(0x66, 77, 8, 1, bytes(range(30)), 1).encode()


def test_every_single_byte_corruption_is_rejected():
    good = _valid()
    for i in range(len(good)):
        for flip in (0x01, 0x80, 0xFF):
            bad = bytearray(good)
            bad[i] ^= flip
            with pytest.raises(CommandError) as e:
                decode_tc(bytes(bad))
            assert e.value.code in (code_of("invalid_length"), code_of("incorrect_checksum")), (i, flip)


@pytest.mark.parametrize("mutate, code", [
    (lambda b: b[:10], "invalid_length"),                        # too short
    (lambda b: b + b"\x00", "invalid_length"),                   # length field disagrees
    (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "incorrect_checksum"),
])
def test_structural_errors_name_the_failure(mutate, code):
    with pytest.raises(CommandError) as e:
        decode_tc(mutate(_valid()))
    assert e.value.code == code_of(code) and "\n" not in str(e.value)


def _with_crc(body: bytes) -> bytes:
    return body + crc16(body).to_bytes(2, "big")


@pytest.mark.parametrize("first, byte6, code", [
    (0x08, 0x2D, "illegal_header"),          # a TM packet type
    (0x10, 0x2D, "illegal_header"),          # no secondary header
    (0x38, 0x2D, "illegal_header"),          # version 1
    (0x18, 0x1D, "illegal_header"),          # PUS-A version
    (0x1F, 0x2D, "illegal_apid"),            # idle APID (0x7FF)
])
def test_header_fields_are_checked_after_the_crc(first, byte6, code):
    body = bytes([first, 0xFF if code == "illegal_apid" else 0x66, 0xC0, 0x01, 0x00, 0x07, byte6, 8, 1, 0, 1, 0xAA])
    with pytest.raises(CommandError) as e:
        decode_tc(_with_crc(body))
    assert e.value.code == code_of(code)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=MAX_TC_BYTES + 10))
def test_hostile_bytes_raise_only_command_error(data):
    try:
        tc = decode_tc(data)
    except CommandError as e:
        assert e.code in (0, 1, 2, 6)
        return
    assert tc.encode() == data


def test_fields_out_of_range_are_refused():
    for kw in ({"apid": 0x7FF}, {"service": 256}, {"source_id": -1}, {"ack_flags": 16}, {"app_data": "x"},
               {"app_data": bytes(MAX_TC_BYTES)}):
        args = dict(apid=1, seq_count=0, service=1, subtype=1)
        args.update(kw)
        with pytest.raises(CommandError):
            Telecommand(**args)
    with pytest.raises(CommandError):
        decode_tc("not bytes")


def test_cuc_round_trip():
    t = 1795651200.123456
    assert abs(cuc_time_s(cuc_bytes(t)) - t) <= 2 ** -25
    for bad in (-1.0, 2.0 ** 32, float("nan"), "x"):
        with pytest.raises(CommandError):
            cuc_bytes(bad)


@pytest.mark.parametrize("stage, ok, subtype", [("acceptance", True, 1), ("acceptance", False, 2),
                                                ("start", True, 3), ("start", False, 4),
                                                ("completion", True, 7), ("completion", False, 8)])
def test_verification_reports_parse_with_spacepackets(stage, ok, subtype):
    tc = Telecommand(0x66, 1234, 8, 1, b"\x00\x04", 1)
    code = None if ok else code_of("schedule_full")
    raw = verification_report(stage, ok, tc.request_id, apid=0x66, seq_count=9, time_s=1795651200.5, code=code,
                              destination=1)
    tm = PusTm.unpack(raw, timestamp_len=7)
    assert (tm.service, tm.message_subtype, tm.apid, tm.seq_count) == (1, subtype, 0x66, 9)
    assert RequestId.unpack(tm.source_data).as_u32() == tc.request_id
    if not ok:
        notice = FailureNotice.unpack(tm.source_data[4:], num_bytes_err_code=2)
        assert notice.code.val == code and failure_name(notice.code.val) == "schedule_full"
    rep = decode_report(raw)
    assert rep == VerificationReport(stage, ok, tc.request_id, code, 1795651200.5, 0x66)


def test_schedule_report_round_trip_and_strictness():
    entries = [ScheduleEntry(1795651300.0 + i, 1, 0x66, i) for i in range(5)][::-1]
    raw = schedule_report(entries, apid=0x66, seq_count=3, time_s=1795651200.0)
    tm = PusTm.unpack(raw, timestamp_len=7)
    assert (tm.service, tm.message_subtype) == (11, 13)
    rep = decode_report(raw)
    assert isinstance(rep, ScheduleReport) and list(rep.entries) == sorted(entries)
    for bad in (raw[:-3], raw[:20] + raw[21:], b"\x00" * 30, raw[:-1] + bytes([raw[-1] ^ 4])):
        with pytest.raises(CommandError):
            decode_report(bad)
    hk_like = verification_report("start", True, 5, apid=1, seq_count=1, time_s=1.0)
    with pytest.raises(CommandError):
        decode_report(hk_like[:7] + bytes([3, 25]) + hk_like[9:-2] + crc16(hk_like[:7] + bytes([3, 25]) + hk_like[9:-2]).to_bytes(2, "big"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_hostile_reports_raise_only_command_error(data):
    try:
        decode_report(data)
    except CommandError:
        pass


def test_ack_flags_constants():
    assert ACK_ACCEPTANCE == 8 and ACK_COMPLETION == 1
