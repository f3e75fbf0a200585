"""CCSDS telecommand space packets with the PUS-C TC secondary header, encoder and strict decoder.

Wire format (big-endian; bit 0 is the most significant bit of byte 0)::

    primary header, CCSDS 133.0-B-2, 6 bytes
      bits  0-2   packet version number (0)
      bit   3     packet type (1 = telecommand)
      bit   4     secondary header flag (1)
      bits  5-15  APID (0..2046; 0x7FF is the idle APID, never a command)
      bits 16-17  sequence flags (3 = unsegmented)
      bits 18-31  packet sequence count (14 bits, per APID, wraps at 16384)
      bits 32-47  packet data length = (bytes after the primary header) - 1
    PUS-C TC secondary header, ECSS-E-ST-70-41C, 5 bytes
      byte  6     TC packet PUS version number (4 bits, = 2) | acknowledgement flags (4 bits:
                  8 acceptance, 4 start, 2 progress, 1 completion of execution)
      byte  7     service type
      byte  8     message subtype
      bytes 9-10  source id (the ground application that sent the command)
    application data field, laid out by the command dictionary (:mod:`telemetry.tc_dictionary`)
    packet error control, 2 bytes: CRC-16/CCITT-FALSE over every preceding byte (the telemetry
      CRC, :func:`telemetry.packets.crc16`)

A packet is at most :data:`MAX_TC_BYTES` long (one TC transfer frame). The *request id* PUS 1
reports quote is the packet's first four bytes as one u32 (packet id and sequence control).

:func:`decode_tc` is strict: any byte string is either a :class:`Telecommand` whose fields are all
in range and whose CRC checks, or a :class:`~telemetry.errors.CommandError` carrying the PUS 1
failure code (:data:`FAILURE_CODES`) and one line saying what is wrong; it raises nothing else.
Absolute times (PUS 11 release times) are the TM packets' 7-byte CUC (:func:`cuc_bytes`).
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import CommandError, PacketError
from .packets import CRC_BYTES, IDLE_APID, PRIMARY_HEADER_BYTES, PUS_VERSION, crc16, time_s_to_ticks

__all__ = ["TC_SECONDARY_HEADER_BYTES", "TC_HEADER_BYTES", "MAX_TC_BYTES", "ACK_ACCEPTANCE", "ACK_START",
           "ACK_PROGRESS", "ACK_COMPLETION", "FAILURE_CODES", "failure_name", "Telecommand", "decode_tc",
           "request_id_of", "cuc_bytes", "cuc_time_s", "CUC_BYTES"]

TC_SECONDARY_HEADER_BYTES = 5
TC_HEADER_BYTES = PRIMARY_HEADER_BYTES + TC_SECONDARY_HEADER_BYTES
MAX_TC_BYTES = 1024
CUC_BYTES = 7
ACK_ACCEPTANCE, ACK_START, ACK_PROGRESS, ACK_COMPLETION = 8, 4, 2, 1
_SEQ_MOD = 1 << 14

#: PUS 1 failure codes (u16). 0-5 are the ECSS acceptance codes of the PUS-A standard; 16 up are
#: this mission's execution codes.
FAILURE_CODES = {
    0: "illegal_apid", 1: "invalid_length", 2: "incorrect_checksum", 3: "illegal_service",
    4: "illegal_subtype", 5: "illegal_data", 6: "illegal_header",
    16: "not_allowed_in_mode", 17: "payload_off", 18: "schedule_full", 19: "unknown_request",
    20: "release_time_passed", 21: "rejected_argument",
}
_CODE = {name: code for code, name in FAILURE_CODES.items()}


def failure_name(code: int) -> str:
    """Name of a failure code (``code_<n>`` for codes this mission does not define)."""
    return FAILURE_CODES.get(int(code), f"code_{int(code)}")


def code_of(name: str) -> int:
    """Failure code of a name of :data:`FAILURE_CODES`."""
    return _CODE[name]


def cuc_bytes(time_s: float) -> bytes:
    """Unix seconds -> 7-byte CUC (4 octets coarse, 3 octets fine of 2**-24 s)."""
    try:
        ticks = int(time_s_to_ticks(float(time_s)))
    except (PacketError, TypeError, ValueError, OverflowError):
        raise CommandError(f"time {time_s!r} is not within 1970-01-01 .. 2106-02-07 UTC") from None
    return ticks.to_bytes(CUC_BYTES, "big")


def cuc_time_s(data: bytes) -> float:
    """7-byte CUC -> Unix seconds."""
    return int.from_bytes(data[:CUC_BYTES], "big") / 16777216.0


def request_id_of(data: bytes) -> int | None:
    """Request id (first 4 bytes as u32) of a possibly damaged packet, None if shorter."""
    return int.from_bytes(data[:4], "big") if len(data) >= 4 else None


def _field(name: str, value, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
        raise CommandError(f"telecommand {name} must be an integer in 0..{hi}, got {value!r}")
    return value


@dataclass(frozen=True)
class Telecommand:
    """One PUS-C telecommand. ``seq_count`` is taken modulo 16384; ``ack_flags`` ask for the
    PUS 1 reports (default acceptance, start and completion)."""

    apid: int
    seq_count: int
    service: int
    subtype: int
    app_data: bytes = b""
    source_id: int = 0
    ack_flags: int = ACK_ACCEPTANCE | ACK_START | ACK_COMPLETION

    def __post_init__(self):
        _field("apid", self.apid, IDLE_APID - 1)
        _field("seq_count", self.seq_count, (1 << 62))
        object.__setattr__(self, "seq_count", self.seq_count % _SEQ_MOD)
        _field("service", self.service, 255)
        _field("subtype", self.subtype, 255)
        _field("source_id", self.source_id, 0xFFFF)
        _field("ack_flags", self.ack_flags, 15)
        if not isinstance(self.app_data, (bytes, bytearray)):
            raise CommandError(f"telecommand application data must be bytes, got {type(self.app_data).__name__}")
        object.__setattr__(self, "app_data", bytes(self.app_data))
        if len(self) > MAX_TC_BYTES:
            raise CommandError(f"telecommand of {len(self)} bytes exceeds {MAX_TC_BYTES} bytes")

    def __len__(self) -> int:
        return TC_HEADER_BYTES + len(self.app_data) + CRC_BYTES

    @property
    def request_id(self) -> int:
        """Packet id and sequence control as one u32 (what PUS 1 reports quote)."""
        return (((0x1800 | self.apid) << 16) | (0xC000 | self.seq_count))

    def encode(self) -> bytes:
        n = len(self)
        head = bytes([0x18 | (self.apid >> 8), self.apid & 0xFF, 0xC0 | (self.seq_count >> 8),
                      self.seq_count & 0xFF, (n - 7) >> 8, (n - 7) & 0xFF,
                      (PUS_VERSION << 4) | self.ack_flags, self.service, self.subtype,
                      self.source_id >> 8, self.source_id & 0xFF])
        body = head + self.app_data
        return body + crc16(body).to_bytes(2, "big")


def decode_tc(data) -> Telecommand:
    """The :class:`Telecommand` in ``data`` (exactly one packet), or CommandError with the failure
    code: lengths first, then the CRC, then the header fields."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CommandError(f"a telecommand is bytes, got {type(data).__name__}", _CODE["invalid_length"])
    data = bytes(data)
    n = len(data)
    if n < TC_HEADER_BYTES + CRC_BYTES:
        raise CommandError(f"telecommand of {n} bytes is shorter than the {TC_HEADER_BYTES + CRC_BYTES}-byte "
                           "minimum", _CODE["invalid_length"])
    if n > MAX_TC_BYTES:
        raise CommandError(f"telecommand of {n} bytes exceeds {MAX_TC_BYTES} bytes", _CODE["invalid_length"])
    declared = ((data[4] << 8) | data[5]) + 7
    if declared != n:
        raise CommandError(f"telecommand length field says {declared} bytes, got {n}", _CODE["invalid_length"])
    if crc16(data) != 0:
        raise CommandError("telecommand CRC-16 does not check", _CODE["incorrect_checksum"])
    if data[0] >> 5 != 0 or (data[0] >> 3) & 3 != 3 or data[2] >> 6 != 3:
        raise CommandError(f"not an unsegmented version-0 telecommand with a secondary header "
                           f"(first bytes {data[:3].hex()})", _CODE["illegal_header"])
    if data[6] >> 4 != PUS_VERSION:
        raise CommandError(f"PUS version {data[6] >> 4}, expected {PUS_VERSION} (PUS-C)", _CODE["illegal_header"])
    apid = ((data[0] & 7) << 8) | data[1]
    if apid == IDLE_APID:
        raise CommandError("the idle APID 0x7ff is not a command", _CODE["illegal_apid"])
    return Telecommand(apid=apid, seq_count=((data[2] & 0x3F) << 8) | data[3], service=data[7],
                       subtype=data[8], app_data=data[TC_HEADER_BYTES:-CRC_BYTES],
                       source_id=(data[9] << 8) | data[10], ack_flags=data[6] & 0x0F)
