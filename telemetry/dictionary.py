"""Parameter dictionary: packet layouts, calibration and limits, read from TOML.

File format (one table ``[dictionary]``, an array ``[[packets]]``; see the bundled
``telemetry/data/housekeeping.toml`` for a complete example)::

    [[packets]]
    name = "HK"            apid = 0x064        service = 3        subtype = 25
    [[packets.parameters]]
    name = "battery_voltage"
    type = "uint" | "int" | "float"   bits = 1..64 (float: 32 or 64, byte aligned)
    bit_offset = 0          # from the start of the user data field; default: after the previous
    unit = "V"
    polynomial = [c0, c1, ...]        # engineering = sum(c_i * raw**i); monotonic over raw range
    enumeration = { 0 = "SAFE", ... } # raw -> label (engineering value stays the raw integer)
    limits = { persistence = 3, watch = { low = .., high = .. }, warning = .., distress = .., critical = .. }
    frozen = { samples = 20, severity = "warning" }     # stuck value check
    step = { max = 1.0, severity = "distress" }          # |change| between consecutive samples
    states = { SAFE = "warning" }                        # enumerated states that alarm

Packets are keyed by APID and checked against service / subtype; the packet length follows
from the layout (20 header bytes + user data + 2 CRC bytes).

Programmatic path (for simulators)::

    d = Dictionary.bundled()
    rows = d.encode("HK", {"battery_voltage": v, ...}, time_s=t, seq_start=0)   # (n, 66) uint8
    cols = d.packet("HK").decode(rows)   # {"battery_voltage": (n,) float64 volts, ...}

``encode`` applies inverse calibration (engineering -> raw, rounded, saturated to the raw range
like an ADC); parameters left out are sent as raw 0.
"""
from __future__ import annotations

from collections import deque
from importlib import resources
from pathlib import Path

import numpy as np

from .errors import DictionaryError, PacketError
from . import packets as _packets
from .packets import (_HEADER_DTYPE, CRC_BYTES, CRC_ERROR, HEADER_BYTES, IDLE_APID, OK, Split, _as_bytes_array,
                      _crc16_rows, _pool, chunked_columns, crc16_rows, encode_packets, routing_headers,
                      split_packets)

from .parameters import SEVERITIES, Parameter, _int, _parameter, parse_toml, read_text

__all__ = ["SEVERITIES", "Parameter", "PacketType", "Dictionary", "bundled_path"]


def bundled_path() -> Path:
    """Path of the bundled housekeeping dictionary."""
    return Path(str(resources.files("telemetry") / "data" / "housekeeping.toml"))



class PacketType:
    """Layout of one packet type: ``length`` bytes in all, ``user_bytes`` of user data."""

    def __init__(self, name: str, apid: int, service: int, subtype: int, parameters: list[Parameter],
                 description: str = ""):
        self.name, self.apid, self.service, self.subtype = name, apid, service, subtype
        self.parameters = parameters
        self.description = description
        end = max((p.bit_offset + p.bits for p in parameters), default=0)
        self.user_bytes = (end + 7) // 8
        self.length = HEADER_BYTES + self.user_bytes + CRC_BYTES
        self._by_name = {p.name: p for p in parameters}
        self._compile()

    def parameter(self, name: str) -> Parameter:
        return self._by_name[name]

    def _compile(self) -> None:
        names, formats, offsets = [], [], []
        self._bitfields = []
        for p in self.parameters:
            byte = HEADER_BYTES + p.bit_offset // 8
            if p.bit_offset % 8 == 0 and p.bits in (8, 16, 32, 64):
                kind = {"uint": "u", "int": "i", "float": "f"}[p.type]
                names.append(p.name)
                formats.append(f">{kind}{p.bits // 8}")
                offsets.append(byte)
            else:
                first = p.bit_offset // 8
                span = (p.bit_offset % 8 + p.bits + 7) // 8
                shift = span * 8 - p.bit_offset % 8 - p.bits
                self._bitfields.append((p, HEADER_BYTES + first, span, shift))
        self._dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets,
                                "itemsize": self.length})

    def decode_raw(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Raw values of every parameter of rows (n, length) uint8 -> {name: (n,)}
        (int64 for integers, float64 for floats)."""
        self._check_rows(rows)
        return chunked_columns(self._decode_raw, rows)

    def _check_rows(self, rows: np.ndarray) -> None:
        if rows.ndim != 2 or rows.shape[1] != self.length:
            raise PacketError(f"{self.name}: rows must have shape (n, {self.length}), got {rows.shape}")

    def _decode_raw(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        rows = np.ascontiguousarray(rows)
        out: dict[str, np.ndarray] = {}
        if self._dtype.names:
            rec = rows.reshape(-1).view(self._dtype)
            for name in self._dtype.names:
                f = rec[name]
                out[name] = f.astype(np.float64 if f.dtype.kind == "f" else np.int64)
        for p, first, span, shift in self._bitfields:
            out[p.name] = self._bitfield(rows, p, first, span, shift)
        return {p.name: out[p.name] for p in self.parameters}

    def decode(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Engineering values of rows (n, length) uint8 -> {name: (n,)} (calibration applied)."""
        self._check_rows(rows)
        return chunked_columns(self._decode_eng, rows)

    def _decode_eng(self, rows: np.ndarray, out: dict | None = None) -> dict[str, np.ndarray]:
        """Engineering values straight from the big-endian fields (linear calibration in one pass);
        written into ``out`` (name -> (n,) float64 / int64 arrays) when given."""
        rows = np.ascontiguousarray(rows)
        rec = rows.reshape(-1).view(self._dtype) if self._dtype.names else None
        bitfields = {b[0].name: b for b in self._bitfields}
        res: dict[str, np.ndarray] = {}
        for p in self.parameters:
            dest = None if out is None else out[p.name]
            if p.name in bitfields:
                _, first, span, shift = bitfields[p.name]
                if span == 1 and p.type == "uint":
                    raw = ((rows[:, first] >> shift) & ((1 << p.bits) - 1)).astype(np.int64)
                else:
                    raw = self._bitfield(rows, p, first, span, shift)
                v = p.calibrate(raw)
            else:
                f = rec[p.name]
                c = p.polynomial
                if len(c) == 2:
                    v = np.multiply(f, c[1], dtype=np.float64, out=dest)
                    if c[0]:
                        v += c[0]
                elif c:
                    v = p.calibrate(f.astype(np.int64))
                elif dest is not None:
                    dest[:] = f
                    v = dest
                else:
                    v = f.astype(np.float64 if f.dtype.kind == "f" else np.int64)
            if dest is not None and v is not dest:
                dest[:] = v
            res[p.name] = v if dest is None else dest
        return res

    @staticmethod
    def _bitfield(rows: np.ndarray, p, first: int, span: int, shift: int) -> np.ndarray:
        acc = rows[:, first].astype(np.uint64)
        for i in range(1, span):
            acc = (acc << np.uint64(8)) | rows[:, first + i]
        v = ((acc >> np.uint64(shift)) & np.uint64((1 << p.bits) - 1)).astype(np.int64)
        if p.type == "int":
            v = np.where(v >= (1 << (p.bits - 1)), v - (1 << p.bits), v)
        return v

    def encode_user_data(self, values: dict, n: int) -> np.ndarray:
        """User data field (n, user_bytes) uint8 from engineering values {name: (n,) or scalar}."""
        unknown = set(values) - set(self._by_name)
        if unknown:
            raise PacketError(f"{self.name}: unknown parameter(s) {sorted(unknown)}")
        rows = np.zeros((n, self.length), dtype=np.uint8)
        rec = rows.reshape(-1).view(self._dtype) if self._dtype.names else None
        for p in self.parameters:
            if p.name not in values:
                continue
            v = np.asarray(values[p.name])
            if v.ndim == 0:
                v = np.full(n, v)
            if v.shape != (n,):
                raise PacketError(f"{self.name}.{p.name}: expected shape ({n},), got {v.shape}")
            raw = p.uncalibrate(v)
            if rec is not None and p.name in self._dtype.names:
                rec[p.name] = raw
                continue
            _, first, span, shift = next(b for b in self._bitfields if b[0] is p)
            u = (raw.astype(np.int64) & ((1 << p.bits) - 1)).astype(np.uint64) << np.uint64(shift)
            for i in range(span):
                rows[:, first + i] |= ((u >> np.uint64(8 * (span - 1 - i))) & np.uint64(0xFF)).astype(np.uint8)
        return rows[:, HEADER_BYTES:HEADER_BYTES + self.user_bytes]


class Dictionary:
    """Packet types keyed by APID, loaded from TOML (:meth:`load`, :meth:`bundled`)."""

    def __init__(self, packets: list[PacketType], name: str = "", version: str = "", source: str = ""):
        self.packets = packets
        self.name, self.version, self.source = name, version, source
        self.by_apid = {p.apid: p for p in packets}
        self._by_name = {p.name: p for p in packets}
        self.parameters = {prm.name: (p, prm) for p in packets for prm in p.parameters}
        self.text = ""

    @classmethod
    def bundled(cls) -> "Dictionary":
        """The housekeeping dictionary of the default satellite."""
        return cls.load(bundled_path())

    @classmethod
    def load(cls, path) -> "Dictionary":
        """Read and validate a TOML dictionary; errors name the file and key."""
        return cls.loads(read_text(path), str(path))

    @classmethod
    def loads(cls, text: str, source: str = "<string>") -> "Dictionary":
        """Read a dictionary from TOML text; ``source`` names it in error messages."""
        d = cls.from_dict(parse_toml(text, source), source)
        d.text = text
        return d

    @classmethod
    def from_dict(cls, doc: dict, source: str = "<dict>") -> "Dictionary":
        meta = doc.get("dictionary", {})
        packets_t = doc.get("packets")
        if not isinstance(packets_t, list) or not packets_t:
            raise DictionaryError(f"{source}: needs at least one [[packets]] table")
        packets: list[PacketType] = []
        seen_param: dict[str, str] = {}
        for i, pt in enumerate(packets_t):
            loc = f"{source}: packets[{i}]"
            name = pt.get("name")
            if not isinstance(name, str) or not name.isidentifier():
                raise DictionaryError(f"{loc}.name: expected an identifier, got {name!r}")
            loc = f"{loc} ({name})"
            apid = _int(pt.get("apid"), f"{loc}.apid", 0, IDLE_APID - 1)
            service = _int(pt.get("service"), f"{loc}.service", 0, 255)
            subtype = _int(pt.get("subtype"), f"{loc}.subtype", 0, 255)
            params_t = pt.get("parameters")
            if not isinstance(params_t, list) or not params_t:
                raise DictionaryError(f"{loc}: needs at least one [[packets.parameters]] table")
            params, offset, used = [], 0, np.zeros(0, dtype=bool)
            for j, t in enumerate(params_t):
                ploc = f"{loc}.parameters[{j}]"
                if not isinstance(t, dict):
                    raise DictionaryError(f"{ploc}: expected a table")
                p = _parameter(t, ploc, offset)
                if p.name in seen_param:
                    raise DictionaryError(f"{ploc}: parameter {p.name!r} already defined in {seen_param[p.name]}")
                seen_param[p.name] = name
                end = p.bit_offset + p.bits
                if end > used.size:
                    used = np.concatenate([used, np.zeros(end - used.size, dtype=bool)])
                if used[p.bit_offset:end].any():
                    raise DictionaryError(f"{ploc} ({p.name}): bits {p.bit_offset}..{end - 1} overlap another parameter")
                used[p.bit_offset:end] = True
                offset = end
                params.append(p)
            if any(q.apid == apid for q in packets):
                raise DictionaryError(f"{loc}.apid: APID {apid:#x} already used")
            if any(q.name == name for q in packets):
                raise DictionaryError(f"{loc}.name: packet {name!r} already defined")
            packets.append(PacketType(name, apid, service, subtype, params, str(pt.get("description", ""))))
        return cls(packets, str(meta.get("name", "")), str(meta.get("version", "")), source)

    def packet(self, name: str) -> PacketType:
        try:
            return self._by_name[name]
        except KeyError:
            raise DictionaryError(f"{self.source}: no packet named {name!r}") from None

    def parameter(self, name: str) -> tuple[PacketType, Parameter]:
        try:
            return self.parameters[name]
        except KeyError:
            raise DictionaryError(f"{self.source}: no parameter named {name!r}") from None

    def decode_stream(self, data) -> tuple["Split", dict[str, dict[str, np.ndarray]]]:
        """Split, check (length, version, CRC) and decode a byte stream of concatenated packets.

        Returns the :class:`~telemetry.packets.Split` (status of every unit) and, per packet type
        with valid packets, columns {"time_s", "seq_count", "unit_index", <parameters>} (n,) in
        stream order, calibrated. Packets whose APID is not in the dictionary, or whose length or
        service / subtype do not match their layout, are left out (see ``Split.status``).
        """
        fast = self._decode_one_type(data)
        return fast if fast is not None else self._decode_general(data)

    def _decode_general(self, data) -> tuple["Split", dict[str, dict[str, np.ndarray]]]:
        split = split_packets(data)
        out: dict[str, dict[str, np.ndarray]] = {}
        parts: dict[str, list] = {}
        for idx, rows in split.groups():
            if rows.shape[1] < HEADER_BYTES + CRC_BYTES:
                continue
            h = routing_headers(rows)
            apids = h["apid"][:1] if (h["apid"] == h["apid"][0]).all() else np.unique(h["apid"])
            for apid in apids:
                pt = self.by_apid.get(int(apid))
                if pt is None or rows.shape[1] != pt.length:
                    continue
                sel = (h["service"] == pt.service) & (h["subtype"] == pt.subtype) & (h["sec_flag"] == 1)
                if apids.size > 1:
                    sel &= h["apid"] == apid
                if sel.all():
                    cols = pt.decode(rows)
                    cols.update(time_s=h["time_ticks"] / 16777216.0, seq_count=h["seq_count"], unit_index=idx)
                else:
                    cols = pt.decode(rows[sel])
                    cols.update(time_s=h["time_ticks"][sel] / 16777216.0, seq_count=h["seq_count"][sel],
                                unit_index=idx[sel])
                parts.setdefault(pt.name, []).append(cols)
        for name, chunks in parts.items():
            if len(chunks) == 1:
                out[name] = chunks[0]
                continue
            merged = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
            order = np.argsort(merged["unit_index"], kind="stable")
            out[name] = {k: v[order] for k, v in merged.items()}
        return split, out

    def _decode_one_type(self, data, chunk: int = 32768):
        """decode_stream for a stream of one packet type; None otherwise.

        Two passes over cache-sized chunks, on two threads from ``PARALLEL_ROWS`` rows up: the CRC of every
        row, and header checks, decode and calibration of every row; each thread takes the other's
        remaining chunks when its own are done. Rows that fail are dropped afterwards.
        """
        arr = _as_bytes_array(data)
        n = arr.size
        if n < HEADER_BYTES + CRC_BYTES:
            return None
        pt = self.by_apid.get(((int(arr[0]) & 7) << 8) | int(arr[1]))
        if pt is None or (int(arr[0]) >> 3) != 0x01 or n % pt.length or ((int(arr[4]) << 8) | int(arr[5])) + 7 != pt.length:
            return None
        length = pt.length
        rows = arr.reshape(n // length, length)
        m = rows.shape[0]
        status = np.empty(m, dtype=np.uint8)
        good = np.empty(m, dtype=bool)
        cols = {p.name: np.empty(m, dtype=np.float64 if p.calibrated or p.type == "float" else np.int64)
                for p in pt.parameters}
        cols.update(time_s=np.empty(m), seq_count=np.empty(m, dtype=np.int64))
        w0 = (int(arr[0]) << 8) | int(arr[1])

        crc_todo, dec_todo = deque(range(0, m, chunk)), deque(range(0, m, chunk))

        def crc(s: int) -> bool:
            status[s:s + chunk] = np.where(_crc16_rows(rows[s:s + chunk], chunk) == 0, OK, CRC_ERROR)
            return True

        def decode(s: int) -> bool:
            # every row is decoded; rows that fail the CRC or the header checks are dropped afterwards
            c = rows[s:s + chunk]
            head = np.ascontiguousarray(c[:, :HEADER_BYTES])
            h = head.reshape(-1).view(_HEADER_DTYPE)
            if not ((h["length"] == length - 7).all() and (h["w0"] == w0).all() and ((head[:, 2] >> 6) == 3).all()):
                return False                     # mixed APIDs or lengths: the general path
            e = s + c.shape[0]
            good[s:e] = (head[:, 7] == pt.service) & (head[:, 8] == pt.subtype)
            dest = {name: v[s:e] for name, v in cols.items()}
            pt._decode_eng(c, out=dest)
            fine = (head[:, 17].astype(np.int64) << 16) | (head[:, 18].astype(np.int64) << 8) | head[:, 19]
            np.divide((h["coarse"].astype(np.int64) << 24) | fine, 16777216.0, out=dest["time_s"])
            np.bitwise_and(h["w1"], 0x3FFF, out=dest["seq_count"], casting="unsafe")
            return True

        def drain(first, first_take, then, then_take) -> bool:
            # the CRC thread and the decoding thread each help the other once their own queue is empty
            for fn, take in ((first, first_take), (then, then_take)):
                while True:
                    try:
                        s = take()
                    except IndexError:
                        break
                    if not fn(s):
                        crc_todo.clear(), dec_todo.clear()
                        return False
            return True
        if m >= _packets.PARALLEL_ROWS:
            other = _pool().submit(drain, crc, crc_todo.popleft, decode, dec_todo.pop)
            ok = drain(decode, dec_todo.popleft, crc, crc_todo.pop)
            ok = other.result() and ok
        else:
            ok = drain(crc, crc_todo.popleft, decode, dec_todo.popleft)
        bad = np.flatnonzero(status != OK)
        if not ok or (bad.size and _packets._cut_differs(arr, length, bad)):   # the walk cuts elsewhere
            return None
        good &= status == OK
        if good.all():
            cols["unit_index"] = np.arange(m, dtype=np.int64)
        else:
            keep = np.flatnonzero(good)
            cols = {name: v[keep] for name, v in cols.items()}
            cols["unit_index"] = keep
        split = Split(arr, np.arange(m, dtype=np.int64) * length, np.full(m, length, dtype=np.int64), status)
        return split, ({pt.name: cols} if cols["time_s"].size else {})

    def encode(self, packet: str, values: dict, *, time_s, seq_start: int = 0, seq_count=None,
               destination: int = 0) -> np.ndarray:
        """Packets of type ``packet`` from engineering values -> rows (n, length) uint8.

        ``values`` maps parameter names to (n,) arrays or scalars; ``time_s`` (n,) Unix seconds
        sets n; sequence counts are ``seq_start + arange(n)`` modulo 16384 unless ``seq_count``.
        """
        pt = self.packet(packet)
        t = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
        n = t.size
        user = pt.encode_user_data(values, n)
        seq = (seq_start + np.arange(n)) if seq_count is None else seq_count
        return encode_packets(user, apid=pt.apid, seq_count=seq, time_s=t, service=pt.service,
                              subtype=pt.subtype, destination=destination)
