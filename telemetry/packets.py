"""CCSDS Space Packets with a PUS-C TM secondary header and CRC-16 packet error control.

Wire format (big-endian; bit 0 is the most significant bit of byte 0)::

    primary header, CCSDS 133.0-B-2, 6 bytes
      bits  0-2   packet version number (0)
      bit   3     packet type (0 = telemetry)
      bit   4     secondary header flag (1)
      bits  5-15  APID (0x7FF = idle packet, dropped)
      bits 16-17  sequence flags (3 = unsegmented)
      bits 18-31  packet sequence count (14 bits, wraps at 16384)
      bits 32-47  packet data length = (bytes after the primary header) - 1
    PUS-C TM secondary header, ECSS-E-ST-70-41C, 14 bytes
      byte  6     TM packet PUS version (4 bits, = 2) | spacecraft time reference status (4 bits)
      byte  7     service type
      byte  8     message subtype
      bytes 9-10  message type counter
      bytes 11-12 destination id
      bytes 13-19 CUC time (4 octets coarse seconds, 3 octets fine in 2**-24 s, about 60 ns)
                  counted from the mission epoch 1970-01-01T00:00:00 UTC without leap seconds
                  (Unix time); "time ticks" below are coarse << 24 | fine
    user data field, laid out by the parameter dictionary
    packet error control, 2 bytes: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection,
      no final xor; check value 0x29B1 for b"123456789") over every preceding byte

Batches are NumPy arrays: ``rows`` of shape ``(n, length)`` uint8 hold ``n`` packets of one
length; a byte stream of concatenated packets of any lengths is cut with :func:`split_packets`,
which never raises for bad content and accounts for every byte (see :class:`Split`).
"""
from __future__ import annotations

import binascii
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .errors import PacketError

__all__ = [
    "PRIMARY_HEADER_BYTES", "SECONDARY_HEADER_BYTES", "HEADER_BYTES", "CRC_BYTES", "IDLE_APID",
    "OK", "CRC_ERROR", "MALFORMED", "IDLE", "STATUS_NAMES",
    "crc16", "crc16_rows", "chunked_columns", "encode_packets", "idle_packet", "decode_headers", "routing_headers", "split_packets", "split_many",
    "Split", "time_ticks_to_s", "time_s_to_ticks",
]

PRIMARY_HEADER_BYTES = 6
SECONDARY_HEADER_BYTES = 14
HEADER_BYTES = PRIMARY_HEADER_BYTES + SECONDARY_HEADER_BYTES
CRC_BYTES = 2
IDLE_APID = 0x7FF
PUS_VERSION = 2
_SEQ_MOD = 1 << 14

OK, CRC_ERROR, MALFORMED, IDLE = 0, 1, 2, 3
STATUS_NAMES = ("ok", "crc_error", "malformed", "idle")


def _crc_tables() -> tuple[np.ndarray, np.ndarray]:
    t8 = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t8[i] = c & 0xFFFF
    # T16[x]: register x after shifting in 16 zero bits; one lookup per 16-bit word.
    c = np.arange(65536, dtype=np.uint32)
    for _ in range(2):
        c = ((c << 8) & 0xFFFF) ^ t8[(c >> 8) & 0xFF]
    return t8.astype(np.uint16), c.astype(np.uint16)


_T8, _T16 = _crc_tables()


def crc16(data: bytes | bytearray | memoryview, init: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (binascii's C implementation of the same polynomial)."""
    return binascii.crc_hqx(data, init)


_POOL: ThreadPoolExecutor | None = None
PARALLEL_ROWS = 131072      # batches of this many packets or more are checked / decoded on two threads


def _pool() -> ThreadPoolExecutor:
    """Two worker threads for batch work whose NumPy calls release the GIL."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(2, thread_name_prefix="telemetry")
    return _POOL


def crc16_rows(rows: np.ndarray, *, chunk: int = 16384) -> np.ndarray:
    """CRC-16/CCITT-FALSE of every row of ``rows`` (n, L) uint8 -> (n,) uint16.

    Table-driven 16 bits at a time, vectorised across rows, in cache-sized chunks; from
    ``PARALLEL_ROWS`` rows up, the chunks are shared between two threads (NumPy's take and xor release
    the GIL).
    """
    rows = np.asarray(rows, dtype=np.uint8)
    if rows.ndim != 2:
        raise PacketError(f"rows must be 2-D (n, length), got shape {rows.shape}")
    n = rows.shape[0]
    if n < PARALLEL_ROWS:
        return _crc16_rows(rows, chunk)
    half = (n // 2 // chunk + 1) * chunk
    out = np.empty(n, dtype=np.uint16)

    def work(s: int, e: int) -> None:
        out[s:e] = _crc16_rows(rows[s:e], chunk)
    for f in [_pool().submit(work, 0, half), _pool().submit(work, half, n)]:
        f.result()
    return out


def _crc16_rows(rows: np.ndarray, chunk: int) -> np.ndarray:
    n, length = rows.shape
    out = np.empty(n, dtype=np.uint16)
    n_words = length // 2
    for s in range(0, n, chunk):
        block = rows[s:s + chunk]
        crc = np.full(block.shape[0], 0xFFFF, dtype=np.uint16)
        if n_words:
            words = np.ascontiguousarray(block[:, :2 * n_words]).view(">u2").T.astype(np.uint16)
            tmp = np.empty_like(crc)
            for i in range(n_words):
                np.bitwise_xor(crc, words[i], out=tmp)
                np.take(_T16, tmp, out=crc, mode="clip")   # indices < 65536 always; no buffering
        if length % 2:
            last = block[:, -1].astype(np.uint16)
            crc = (crc << 8) ^ _T8[(crc >> 8) ^ last]
        out[s:s + chunk] = crc
    return out


def time_s_to_ticks(time_s) -> np.ndarray:
    """Unix seconds -> CUC ticks (coarse << 24 | fine), int64; fine is 2**-24 s."""
    t = np.asarray(time_s, dtype=np.float64)
    if np.any(~np.isfinite(t)) or np.any(t < 0) or np.any(t >= 2.0 ** 32):
        raise PacketError("packet time must be finite and within 1970-01-01 .. 2106-02-07 UTC")
    return np.round(t * 16777216.0).astype(np.int64)


def time_ticks_to_s(ticks) -> np.ndarray:
    """CUC ticks (coarse << 24 | fine) -> Unix seconds, float64."""
    return np.asarray(ticks, dtype=np.int64) / 16777216.0


def _as_column(value, n: int, name: str, dtype=np.int64) -> np.ndarray:
    a = np.asarray(value, dtype=dtype)
    if a.ndim == 0:
        a = np.full(n, a, dtype=dtype)
    if a.shape != (n,):
        raise PacketError(f"{name}: expected shape ({n},), got {a.shape}")
    return a


def encode_packets(user_data: np.ndarray, *, apid, seq_count, time_s, service: int, subtype: int,
                   message_counter=None, destination=0, time_status: int = 0) -> np.ndarray:
    """Build ``n`` TM packets around ``user_data`` (n, k) uint8 -> rows (n, 20 + k + 2) uint8.

    ``apid``, ``seq_count`` (taken modulo 16384), ``time_s`` (Unix seconds), ``message_counter``
    (default: ``seq_count`` modulo 65536) and ``destination`` are scalars or (n,) arrays.
    """
    user_data = np.asarray(user_data, dtype=np.uint8)
    if user_data.ndim != 2:
        raise PacketError(f"user_data must be 2-D (n, bytes), got shape {user_data.shape}")
    n, k = user_data.shape
    length = HEADER_BYTES + k + CRC_BYTES
    if length - PRIMARY_HEADER_BYTES - 1 > 0xFFFF:
        raise PacketError(f"packet of {length} bytes exceeds the 65542-byte CCSDS maximum")
    apid = _as_column(apid, n, "apid")
    if np.any((apid < 0) | (apid > 0x7FF)):
        raise PacketError("apid must be within 0..2047")
    seq = _as_column(seq_count, n, "seq_count") % _SEQ_MOD
    ticks = time_s_to_ticks(_as_column(time_s, n, "time_s", np.float64))
    counter = seq if message_counter is None else _as_column(message_counter, n, "message_counter")
    counter = counter % 65536
    dest = _as_column(destination, n, "destination") % 65536
    for name, v, hi in (("service", service, 255), ("subtype", subtype, 255), ("time_status", time_status, 15)):
        if not 0 <= int(v) <= hi:
            raise PacketError(f"{name} must be within 0..{hi}, got {v}")
    rows = np.empty((n, length), dtype=np.uint8)
    word0 = (1 << 11) | apid  # version 0, type TM, secondary header flag set
    rows[:, 0] = word0 >> 8
    rows[:, 1] = word0 & 0xFF
    word1 = (3 << 14) | seq
    rows[:, 2] = word1 >> 8
    rows[:, 3] = word1 & 0xFF
    rows[:, 4] = (length - 7) >> 8
    rows[:, 5] = (length - 7) & 0xFF
    rows[:, 6] = (PUS_VERSION << 4) | int(time_status)
    rows[:, 7] = int(service)
    rows[:, 8] = int(subtype)
    rows[:, 9] = counter >> 8
    rows[:, 10] = counter & 0xFF
    rows[:, 11] = dest >> 8
    rows[:, 12] = dest & 0xFF
    for i in range(7):
        rows[:, 13 + i] = (ticks >> (8 * (6 - i))) & 0xFF
    rows[:, HEADER_BYTES:HEADER_BYTES + k] = user_data
    crc = crc16_rows(rows[:, :-CRC_BYTES])
    rows[:, -2] = crc >> 8
    rows[:, -1] = crc & 0xFF
    return rows


def idle_packet(n_data_bytes: int = 1, seq_count: int = 0) -> bytes:
    """One idle packet (APID 0x7FF, no secondary header) with ``n_data_bytes`` fill bytes."""
    if n_data_bytes < 1:
        raise PacketError("an idle packet carries at least one data byte")
    head = bytes([0x07, 0xFF, 0xC0 | ((seq_count >> 8) & 0x3F), seq_count & 0xFF,
                  (n_data_bytes - 1) >> 8, (n_data_bytes - 1) & 0xFF])
    return head + b"\x55" * n_data_bytes


def decode_headers(rows: np.ndarray) -> dict[str, np.ndarray]:
    """Header columns of rows (n, L) uint8 with L >= 20: each value an (n,) array.

    Keys: version, type, sec_flag, apid, seq_flags, seq_count, data_length, pus_version,
    time_status, service, subtype, message_counter, destination, time_ticks (int64).
    """
    return chunked_columns(_decode_headers, rows)


_HEADER_DTYPE = np.dtype({"names": ["w0", "w1", "length", "counter", "dest", "coarse"],
                          "formats": [">u2", ">u2", ">u2", ">u2", ">u2", ">u4"],
                          "offsets": [0, 2, 4, 9, 11, 13], "itemsize": HEADER_BYTES})


def routing_headers(rows: np.ndarray) -> dict[str, np.ndarray]:
    """The header columns needed to route and order packets: apid, sec_flag, service, subtype,
    seq_count, time_ticks (n,) -- cheaper than :func:`decode_headers`."""
    def one(r):
        r = np.ascontiguousarray(r[:, :HEADER_BYTES])
        h = r.reshape(-1).view(_HEADER_DTYPE)
        w0 = h["w0"].astype(np.int64)
        fine = (r[:, 17].astype(np.int64) << 16) | (r[:, 18].astype(np.int64) << 8) | r[:, 19]
        return {"apid": w0 & 0x7FF, "sec_flag": (w0 >> 11) & 1, "service": r[:, 7], "subtype": r[:, 8],
                "seq_count": h["w1"].astype(np.int64) & 0x3FFF, "time_ticks": (h["coarse"].astype(np.int64) << 24) | fine}
    return chunked_columns(one, rows)


def _decode_headers(rows: np.ndarray) -> dict[str, np.ndarray]:
    r = np.ascontiguousarray(rows[:, :HEADER_BYTES])
    h = r.reshape(-1).view(_HEADER_DTYPE)
    w0 = h["w0"].astype(np.int64)
    w1 = h["w1"].astype(np.int64)
    fine = (r[:, 17].astype(np.int64) << 16) | (r[:, 18].astype(np.int64) << 8) | r[:, 19]
    return {
        "version": (w0 >> 13).astype(np.uint8),
        "type": ((w0 >> 12) & 1).astype(np.uint8),
        "sec_flag": ((w0 >> 11) & 1).astype(np.uint8),
        "apid": w0 & 0x7FF,
        "seq_flags": (w1 >> 14).astype(np.uint8),
        "seq_count": w1 & 0x3FFF,
        "data_length": h["length"].astype(np.int64),
        "pus_version": (r[:, 6] >> 4).astype(np.uint8),
        "time_status": (r[:, 6] & 0x0F).astype(np.uint8),
        "service": r[:, 7].astype(np.int64),
        "subtype": r[:, 8].astype(np.int64),
        "message_counter": h["counter"].astype(np.int64),
        "destination": h["dest"].astype(np.int64),
        "time_ticks": (h["coarse"].astype(np.int64) << 24) | fine,
    }


@dataclass
class Split:
    """Result of cutting a byte stream into units; every byte belongs to exactly one unit.

    ``offset``, ``length`` (m,) int64 and ``status`` (m,) uint8 (OK, CRC_ERROR, MALFORMED, IDLE)
    describe the units in stream order; ``data`` is the stream as uint8. A CRC_ERROR unit has a
    plausible header but a wrong CRC; a MALFORMED unit is bytes that do not start a packet
    (bad version, a length running past the end, a truncated tail) up to the next good packet.
    """

    data: np.ndarray
    offset: np.ndarray
    length: np.ndarray
    status: np.ndarray

    def counts(self) -> dict[str, int]:
        """Number of units per status name."""
        c = np.bincount(self.status, minlength=4)
        return {name: int(c[i]) for i, name in enumerate(STATUS_NAMES)}

    def unit(self, i: int, limit: int | None = None) -> bytes:
        """Bytes of unit ``i`` (its first ``limit`` bytes if given)."""
        o = int(self.offset[i])
        n = int(self.length[i])
        return self.data[o:o + (n if limit is None else min(n, limit))].tobytes()

    def groups(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """OK packets grouped by length: list of (unit indices (k,), rows (k, L) uint8)."""
        m = self.status.size
        if m and self.offset[0] == 0 and self.length[0] * m == self.data.size and \
                np.all(self.length == self.length[0]) and not self.status.any():
            return [(np.arange(m), self.data.reshape(m, int(self.length[0])))]
        ok = np.flatnonzero(self.status == OK)
        out = []
        if ok.size == 0:
            return out
        lengths = self.length[ok]
        for length in np.unique(lengths):
            idx = ok[lengths == length]
            offs = self.offset[idx]
            if idx.size > 1 and np.all(np.diff(offs) == length):
                start = int(offs[0])
                rows = self.data[start:start + int(length) * idx.size].reshape(idx.size, int(length))
            else:
                rows = self.data[offs[:, None] + np.arange(int(length))]
            out.append((idx, rows))
        return out


_CRC_POLY_ORDER = 32767     # x has order 2**15 - 1 modulo x^16 + x^12 + x^5 + 1 = (x + 1) * (a primitive degree-15 factor)
_POWX: np.ndarray | None = None


def _powx() -> np.ndarray:
    """x**e modulo the CRC polynomial for e in 0 .. 32766 (uint16); x**32767 = 1."""
    global _POWX
    if _POWX is None:
        out = np.empty(_CRC_POLY_ORDER, dtype=np.uint16)
        v = 1
        for e in range(_CRC_POLY_ORDER):
            out[e] = v
            v = ((v << 1) ^ 0x1021) & 0xFFFF if v & 0x8000 else v << 1
        assert v == 1, "CRC polynomial order"
        _POWX = out
    return _POWX


def _crc_prefix(arr: np.ndarray) -> np.ndarray:
    """P (n + 1,) uint16: the CRC-16 register (initial value 0) after arr[:i], for every i.

    Linear work: blocks of ``b`` bytes; binascii chains the register over block starts, then one
    table step per byte column advances every block at once.
    """
    n = arr.size
    b = max(16, int(np.sqrt(n)))
    k = -(-n // b)
    pad = np.zeros(k * b, dtype=np.uint8)
    pad[:n] = arr
    mv = memoryview(pad)
    start = np.empty(k, dtype=np.uint16)
    reg = 0
    for i in range(k):
        start[i] = reg
        reg = binascii.crc_hqx(mv[i * b:(i + 1) * b], reg)
    cols = pad.reshape(k, b).T.copy()
    out = np.empty((b, k), dtype=np.uint16)
    reg = start
    for c in range(b):
        reg = (reg << 8) ^ _T8[(reg >> 8) ^ cols[c]]
        out[c] = reg
    p = np.empty(n + 1, dtype=np.uint16)
    p[0] = 0
    p[1:] = out.T.reshape(-1)[:n]
    return p


def _shift_zero_bytes(v: np.ndarray, n_bytes: np.ndarray) -> np.ndarray:
    """The CRC register v (m,) after ``n_bytes`` (m,) zero bytes: v * x**(8 n) modulo the polynomial."""
    powx = _powx()
    e = (8 * n_bytes.astype(np.int64)) % _CRC_POLY_ORDER
    out = np.zeros(v.size, dtype=np.uint16)
    for bit in range(16):
        on = ((v >> bit) & 1).astype(bool)
        out[on] ^= powx[(e[on] + bit) % _CRC_POLY_ORDER]
    return out


def _unit_starts(arr: np.ndarray, offsets: np.ndarray | None = None, window: int = 1 << 20):
    """Per offset o of arr (n,) (or of ``offsets`` (m,)): (good, idle, crc_error (bool), length (int64)).

    ``good``: a packet starts at o -- a plausible primary header (version 0, unsegmented, fits in
    the stream) that is an idle packet or has a CRC residue of zero; ``crc_error``: plausible, at
    least 8 bytes, residue not zero. The residue of arr[o:o+L] is P[o+L] ^ (P[o] ^ 0xFFFF) x**(8L)
    with P the zero-initialised prefix register (CRC linearity), so every offset costs O(1) and
    the whole stream O(n), whatever the lengths its headers claim.
    """
    n = arr.size
    offsets = np.arange(n) if offsets is None else offsets
    good, idle, crc_error = (np.zeros(offsets.size, dtype=bool) for _ in range(3))
    length = np.zeros(offsets.size, dtype=np.int64)
    if n < PRIMARY_HEADER_BYTES:
        return good, idle, crc_error, length
    prefix = _crc_prefix(arr)
    for w0 in range(0, offsets.size, window):
        real = offsets[w0:w0 + window]
        o = np.minimum(real, n - PRIMARY_HEADER_BYTES)
        b0 = arr[o]
        lw = ((arr[o + 4].astype(np.int64) << 8) | arr[o + 5]) + 7
        plausible = (real == o) & ((b0 >> 5) == 0) & ((arr[o + 2] >> 6) == 3) & (o + lw <= n)
        is_idle = plausible & ((b0 & 7) == 7) & (arr[o + 1] == 0xFF)
        cand = np.flatnonzero(plausible & ~is_idle & (lw >= PRIMARY_HEADER_BYTES + CRC_BYTES))
        oc, lc = o[cand], lw[cand]
        residue = prefix[oc + lc] ^ _shift_zero_bytes(prefix[oc] ^ 0xFFFF, lc)
        sl = slice(w0, w0 + o.size)
        good[sl], idle[sl], length[sl] = is_idle, is_idle, lw
        good[w0 + cand[residue == 0]] = True
        crc_error[w0 + cand[residue != 0]] = True
    return good, idle, crc_error, length


def _cut_differs(arr: np.ndarray, length: int, bad: np.ndarray) -> bool:
    """Whether the walk would cut arr differently from rows of ``length`` bytes, given the rows
    ``bad`` (k,) with a wrong CRC: it does if two bad rows are adjacent (one unit for both) or a
    packet starts inside a bad row (the walk resynchronises there)."""
    if bad.size > 1 and (np.diff(bad) == 1).any():
        return True
    inner = (bad[:, None] * length + np.arange(1, length)).reshape(-1)
    return bool(_unit_starts(arr, inner)[0].any())


def _walk(arr: np.ndarray) -> tuple[list, list, list]:
    """Units of arr: a packet where one starts, else bytes up to the next offset where one starts."""
    n = arr.size
    good, idle, crc_error, length = _unit_starts(arr)
    starts = np.flatnonzero(good)
    offs: list[int] = []
    lens: list[int] = []
    stats: list[int] = []
    o = 0
    while o < n:
        if good[o]:
            step = int(length[o])
            offs.append(o), lens.append(step), stats.append(IDLE if idle[o] else OK)
        else:
            j = int(np.searchsorted(starts, o + 1))
            step = (int(starts[j]) if j < starts.size else n) - o
            offs.append(o), lens.append(step), stats.append(CRC_ERROR if crc_error[o] else MALFORMED)
        o += step
    return offs, lens, stats


def _for_chunks(work, n: int, chunk: int) -> list:
    """[work(start, stop) for each chunk of range(n)] (a thread pool measured no faster on 2 cores)."""
    return [work(s, min(n, s + chunk)) for s in range(0, n, chunk)]


def _uniform_status(rows: np.ndarray, chunk: int = 8192) -> np.ndarray | None:
    """Status of rows (m, L) if every header is plausible with length L and no packet starts inside a
    row with a bad CRC (the walk's cut), else None (cache-sized chunks)."""
    m, length = rows.shape
    status = np.empty(m, dtype=np.uint8)

    def work(s: int, e: int) -> bool:
        b = rows[s:e]
        head = np.ascontiguousarray(b[:, :6])
        lens_ok = ((head[:, 4].astype(np.uint16) << 8) | head[:, 5]) == length - 7
        if not (lens_ok.all() and ((head[:, 0] >> 5) == 0).all() and ((head[:, 2] >> 6) == 3).all()):
            return False
        st = np.where(crc16_rows(b, chunk=chunk) == 0, OK, CRC_ERROR).astype(np.uint8)
        st[((head[:, 0] & 7) == 7) & (head[:, 1] == 0xFF)] = IDLE
        status[s:e] = st
        return True
    if not all(_for_chunks(work, m, chunk)):
        return None
    bad = np.flatnonzero(status == CRC_ERROR)
    return None if bad.size and _cut_differs(rows.reshape(-1), length, bad) else status


def chunked_columns(fn, rows: np.ndarray, chunk: int = 8192) -> dict[str, np.ndarray]:
    """Apply ``fn`` (rows -> {name: (k,)}) to cache-sized chunks of rows (n, L); join the columns."""
    n = rows.shape[0]
    if n <= chunk:
        return fn(rows)
    first = fn(rows[:chunk])
    out = {k: np.empty(n, dtype=v.dtype) for k, v in first.items()}
    for k, v in first.items():
        out[k][:chunk] = v

    def work(s: int, e: int) -> None:
        for k, v in fn(rows[chunk + s:chunk + e]).items():
            out[k][chunk + s:chunk + e] = v
    _for_chunks(work, n - chunk, chunk)
    return out


def _as_bytes_array(data) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data, dtype=np.uint8).ravel()
    return np.frombuffer(bytes(data) if isinstance(data, memoryview) else data, dtype=np.uint8)


def _uniform_rows(arr: np.ndarray) -> np.ndarray | None:
    """arr as rows (m, L) if every header is plausible with the first packet's length L."""
    n = arr.size
    if n < PRIMARY_HEADER_BYTES:
        return None
    length = ((int(arr[4]) << 8) | int(arr[5])) + 7
    if length < HEADER_BYTES + CRC_BYTES or n % length:
        return None
    rows = arr.reshape(n // length, length)
    head = rows[:, :6]
    if not (((head[:, 4].astype(np.uint16) << 8) | head[:, 5]) == length - 7).all():
        return None
    if ((head[:, 0] >> 5) != 0).any() or ((head[:, 2] >> 6) != 3).any():
        return None
    return rows


def split_many(payloads: list) -> list[Split]:
    """:func:`split_packets` of each byte string, with one CRC pass over all uniform ones."""
    out: list = [None] * len(payloads)
    pending: dict[int, list] = {}
    for k, data in enumerate(payloads):
        arr = _as_bytes_array(data)
        rows = _uniform_rows(arr)
        if rows is None:
            out[k] = split_packets(arr)
        else:
            pending.setdefault(rows.shape[1], []).append((k, arr, rows))
    for length, items in pending.items():
        allrows = np.concatenate([it[2] for it in items]) if len(items) > 1 else items[0][2]
        status = np.where(crc16_rows(allrows) == 0, OK, CRC_ERROR).astype(np.uint8)
        status[((allrows[:, 0] & 7) == 7) & (allrows[:, 1] == 0xFF)] = IDLE
        pos = 0
        for k, arr, rows in items:
            m = rows.shape[0]
            st = status[pos:pos + m]
            pos += m
            bad = np.flatnonzero(st == CRC_ERROR)
            if bad.size and _cut_differs(arr, length, bad):   # cut like the walk does
                out[k] = split_packets(arr)
                continue
            out[k] = Split(arr, np.arange(m, dtype=np.int64) * length, np.full(m, length, dtype=np.int64), st)
    return out


def split_packets(data: bytes | bytearray | memoryview | np.ndarray) -> Split:
    """Cut concatenated packets into units, checking version, length and CRC of each.

    A stream whose packets all have the length of the first one is checked in one vectorised
    pass; otherwise the stream is walked packet by packet, and after a bad unit the walk resumes
    at the next offset that holds a packet with a good CRC. A CRC residue of zero over a whole
    packet (its CRC appended big-endian) is the check. Never raises for content.
    """
    arr = _as_bytes_array(data)
    n = arr.size
    empty = np.zeros(0, dtype=np.int64)
    if n == 0:
        return Split(arr, empty, empty.copy(), np.zeros(0, dtype=np.uint8))
    if n >= PRIMARY_HEADER_BYTES:
        length = ((int(arr[4]) << 8) | int(arr[5])) + 7
        if length >= HEADER_BYTES + CRC_BYTES and n % length == 0:
            rows = arr.reshape(n // length, length)
            status = _uniform_status(rows)
            if status is not None:
                m = rows.shape[0]
                return Split(arr, np.arange(m, dtype=np.int64) * length,
                             np.full(m, length, dtype=np.int64), status)
    offs, lens, stats = _walk(arr)
    return Split(arr, np.asarray(offs, dtype=np.int64), np.asarray(lens, dtype=np.int64),
                 np.asarray(stats, dtype=np.uint8))
