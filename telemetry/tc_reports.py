"""Telemetry about telecommands: PUS 1 verification reports and the PUS 11 schedule summary report.

Both are PUS-C TM packets (:mod:`telemetry.packets`: 20-byte header with the on-board CUC time,
CRC-16) whose source data is::

    TM[1,1] / [1,3] / [1,7]   acceptance / start / completion of execution success:
                              request id (u32: the command's packet id and sequence control)
    TM[1,2] / [1,4] / [1,8]   the same stage failed: request id, failure code (u16,
                              :data:`telemetry.tc.FAILURE_CODES`)
    TM[11,13]                 time-based schedule summary report: N (u16), then N entries of
                              release time (7-byte CUC), source id (u16), APID (u16), sequence
                              count (u16), in release-time order

:func:`decode_report` is strict like :func:`telemetry.tc.decode_tc`: a :class:`VerificationReport`,
a :class:`ScheduleReport` or :class:`~telemetry.errors.CommandError`, nothing else.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from .errors import CommandError
from .packets import CRC_BYTES, HEADER_BYTES, PUS_VERSION, crc16, encode_packets
from .tc import CUC_BYTES, cuc_bytes, cuc_time_s

__all__ = ["STAGES", "VerificationReport", "ScheduleEntry", "ScheduleReport", "verification_report",
           "schedule_report", "decode_report", "MAX_SCHEDULE_REPORT_ENTRIES"]

#: Verification stages in execution order, and their (success, failure) subtypes.
STAGES = {"acceptance": (1, 2), "start": (3, 4), "completion": (7, 8)}
_STAGE_OF = {sub: (stage, i == 0) for stage, subs in STAGES.items() for i, sub in enumerate(subs)}
_ENTRY = struct.Struct(">HHH")
_ENTRY_BYTES = CUC_BYTES + _ENTRY.size
MAX_SCHEDULE_REPORT_ENTRIES = (0xFFFF - HEADER_BYTES - CRC_BYTES - 2) // _ENTRY_BYTES


@dataclass(frozen=True)
class VerificationReport:
    """A PUS 1 report: ``stage`` (acceptance, start, completion) of the command ``request_id``
    succeeded (``ok``) or failed with ``code``, at on-board time ``time_s`` (Unix seconds)."""

    stage: str
    ok: bool
    request_id: int
    code: int | None
    time_s: float
    apid: int


@dataclass(frozen=True, order=True)
class ScheduleEntry:
    """One time-tagged command of an on-board schedule: release time and request identifier."""

    release_time_s: float
    source_id: int
    apid: int
    seq_count: int


@dataclass(frozen=True)
class ScheduleReport:
    """A PUS 11 summary report: the on-board schedule at ``time_s``."""

    entries: tuple[ScheduleEntry, ...]
    time_s: float
    apid: int


def _packet(source: bytes, *, apid: int, seq_count: int, time_s: float, service: int, subtype: int,
            destination: int) -> bytes:
    user = np.frombuffer(source, dtype=np.uint8).reshape(1, -1)
    return encode_packets(user, apid=apid, seq_count=seq_count, time_s=time_s, service=service,
                          subtype=subtype, destination=destination)[0].tobytes()


def verification_report(stage: str, ok: bool, request_id: int, *, apid: int, seq_count: int, time_s: float,
                        code: int | None = None, destination: int = 0) -> bytes:
    """One PUS 1 report packet (bytes); ``code`` is required when not ``ok``."""
    if stage not in STAGES:
        raise CommandError(f"verification stage must be one of {list(STAGES)}, got {stage!r}")
    source = int(request_id).to_bytes(4, "big")
    if not ok:
        if code is None or not 0 <= int(code) <= 0xFFFF:
            raise CommandError(f"a failure report needs a failure code in 0..65535, got {code!r}")
        source += int(code).to_bytes(2, "big")
    return _packet(source, apid=apid, seq_count=seq_count, time_s=time_s, service=1,
                   subtype=STAGES[stage][0 if ok else 1], destination=destination)


def schedule_report(entries, *, apid: int, seq_count: int, time_s: float, destination: int = 0) -> bytes:
    """One TM[11,13] packet listing ``entries`` (ScheduleEntry) in release-time order."""
    entries = sorted(entries)
    if len(entries) > MAX_SCHEDULE_REPORT_ENTRIES:
        raise CommandError(f"a schedule report holds at most {MAX_SCHEDULE_REPORT_ENTRIES} entries")
    parts = [len(entries).to_bytes(2, "big")]
    for e in entries:
        parts.append(cuc_bytes(e.release_time_s) + _ENTRY.pack(e.source_id, e.apid, e.seq_count))
    return _packet(b"".join(parts), apid=apid, seq_count=seq_count, time_s=time_s, service=11, subtype=13,
                   destination=destination)


def decode_report(data) -> VerificationReport | ScheduleReport:
    """The report in ``data`` (exactly one TM packet), or CommandError naming what is wrong."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CommandError(f"a report is bytes, got {type(data).__name__}")
    data = bytes(data)
    n = len(data)
    if n < HEADER_BYTES + CRC_BYTES or n > 0xFFFF + 7:
        raise CommandError(f"report of {n} bytes: not a PUS-C TM packet")
    if ((data[4] << 8) | data[5]) + 7 != n:
        raise CommandError(f"report length field says {((data[4] << 8) | data[5]) + 7} bytes, got {n}")
    if crc16(data) != 0:
        raise CommandError("report CRC-16 does not check")
    if data[0] >> 3 != 0x01 or data[2] >> 6 != 3 or data[6] >> 4 != PUS_VERSION:
        raise CommandError(f"not a PUS-C TM packet (first bytes {data[:3].hex()}, byte 6 {data[6]:#04x})")
    apid = ((data[0] & 7) << 8) | data[1]
    service, subtype = data[7], data[8]
    time_s = cuc_time_s(data[13:20])
    src = data[HEADER_BYTES:-CRC_BYTES]
    if service == 1 and subtype in _STAGE_OF:
        stage, ok = _STAGE_OF[subtype]
        if len(src) != (4 if ok else 6):
            raise CommandError(f"TM[1,{subtype}] source data of {len(src)} bytes, expected {4 if ok else 6}")
        code = None if ok else int.from_bytes(src[4:6], "big")
        return VerificationReport(stage, ok, int.from_bytes(src[:4], "big"), code, time_s, apid)
    if service == 11 and subtype == 13:
        if len(src) < 2:
            raise CommandError("TM[11,13] without an entry count")
        count = int.from_bytes(src[:2], "big")
        if len(src) != 2 + count * _ENTRY_BYTES:
            raise CommandError(f"TM[11,13] says {count} entries in {len(src) - 2} bytes")
        entries = []
        for i in range(count):
            o = 2 + i * _ENTRY_BYTES
            entries.append(ScheduleEntry(cuc_time_s(src[o:o + CUC_BYTES]),
                                         *_ENTRY.unpack_from(src, o + CUC_BYTES)))
        return ScheduleReport(tuple(entries), time_s, apid)
    raise CommandError(f"TM[{service},{subtype}] is not a command report")
