import binascii

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telemetry.errors import PacketError
from telemetry.packets import (CRC_ERROR, HEADER_BYTES, IDLE, MALFORMED, OK, crc16, crc16_rows, decode_headers,
                               encode_packets, idle_packet, split_packets)


def _crc_bitwise(data: bytes) -> int:
    """Reference CRC-16/CCITT-FALSE, one bit at a time."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def test_crc_check_value():
    assert crc16(b"123456789") == 0x29B1
    assert _crc_bitwise(b"123456789") == 0x29B1
    assert crc16_rows(np.frombuffer(b"123456789", dtype=np.uint8)[None, :])[0] == 0x29B1


@pytest.mark.parametrize("length", [1, 2, 7, 8, 33, 66])
def test_crc_rows_matches_bitwise_reference(length):
    rng = np.random.default_rng(length)
    rows = rng.integers(0, 256, (50, length), dtype=np.uint8)
    got = crc16_rows(rows, chunk=16)
    assert got.tolist() == [_crc_bitwise(r.tobytes()) for r in rows]


def test_encode_headers_round_trip():
    user = np.arange(40, dtype=np.uint8).reshape(4, 10)
    t = np.array([1.8e9, 1.8e9 + 0.5, 1.8e9 + 1 / 3, 4e9])
    rows = encode_packets(user, apid=[1, 2, 0x7FE, 100], seq_count=[0, 16383, 16384, 5], time_s=t,
                          service=3, subtype=25, destination=7)
    h = decode_headers(rows)
    assert rows.shape == (4, HEADER_BYTES + 10 + 2)
    assert h["apid"].tolist() == [1, 2, 0x7FE, 100]
    assert h["seq_count"].tolist() == [0, 16383, 0, 5]
    assert h["data_length"].tolist() == [rows.shape[1] - 7] * 4
    assert (h["version"] == 0).all() and (h["sec_flag"] == 1).all() and (h["seq_flags"] == 3).all()
    assert (h["pus_version"] == 2).all() and (h["service"] == 3).all() and (h["subtype"] == 25).all()
    assert (h["destination"] == 7).all()
    assert np.allclose(h["time_ticks"] / 2**24, t, atol=2**-24)
    assert all(binascii.crc_hqx(r.tobytes(), 0xFFFF) == 0 for r in rows)
    assert (rows[:, HEADER_BYTES:-2] == user).all()


def test_encode_rejects_bad_fields():
    with pytest.raises(PacketError, match="apid"):
        encode_packets(np.zeros((1, 2), np.uint8), apid=2048, seq_count=0, time_s=0, service=3, subtype=25)
    with pytest.raises(PacketError, match="time"):
        encode_packets(np.zeros((1, 2), np.uint8), apid=1, seq_count=0, time_s=-1, service=3, subtype=25)


def test_split_mixed_lengths_idle_and_garbage():
    a = encode_packets(np.zeros((3, 5), np.uint8), apid=10, seq_count=[0, 1, 2], time_s=1e9, service=3, subtype=1)
    b = encode_packets(np.ones((2, 9), np.uint8), apid=11, seq_count=[0, 1], time_s=1e9, service=3, subtype=1)
    stream = a[0].tobytes() + b[0].tobytes() + idle_packet(4) + a[1].tobytes() + b"\xff\xfe\xfd" + \
        b[1].tobytes() + a[2].tobytes()[:-3]
    sp = split_packets(stream)
    assert sp.status.tolist() == [OK, OK, IDLE, OK, MALFORMED, OK, MALFORMED]
    assert int(sp.length.sum()) == len(stream)
    assert sp.unit(4) == b"\xff\xfe\xfd"
    groups = {rows.shape[1]: rows for _, rows in sp.groups()}
    assert (groups[a.shape[1]] == a[:2]).all() and (groups[b.shape[1]] == b).all()


def test_split_resynchronises_after_corrupt_length():
    rows = encode_packets(np.zeros((5, 30), np.uint8), apid=10, seq_count=np.arange(5), time_s=1e9,
                          service=3, subtype=1)
    stream = bytearray(rows.tobytes())
    stream[rows.shape[1] * 2 + 5] ^= 0x04          # length of packet 2 now 4 bytes shorter
    sp = split_packets(bytes(stream))
    assert sp.status.tolist() == [OK, OK, CRC_ERROR, OK, OK]
    assert sp.length.tolist() == [rows.shape[1]] * 5


def _check_split(data: bytes):
    sp = split_packets(data)
    assert int(sp.length.sum()) == len(data)
    if sp.offset.size:
        assert sp.offset[0] == 0
        assert (sp.offset[1:] == sp.offset[:-1] + sp.length[:-1]).all()
        assert (sp.length > 0).all()
    for i in np.flatnonzero(sp.status == OK):
        assert binascii.crc_hqx(sp.unit(i), 0xFFFF) == 0
    counts = sp.counts()
    assert sum(counts.values()) == sp.status.size
    return sp


def _good_stream(n, seed):
    rng = np.random.default_rng(seed)
    return encode_packets(rng.integers(0, 256, (n, 12), dtype=np.uint8), apid=rng.integers(0, 0x7FE, n),
                          seq_count=np.arange(n), time_s=1e9, service=3, subtype=25).tobytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data):
    _check_split(data)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 12), st.integers(0, 2**32 - 1), st.lists(st.integers(0, 10**6), max_size=6),
       st.integers(0, 10**6))
def test_fuzz_bit_flips_and_truncation(n, seed, flips, cut):
    data = bytearray(_good_stream(n, seed))
    for f in flips:
        bit = f % (len(data) * 8)
        data[bit // 8] ^= 1 << (bit % 8)
    data = bytes(data[:len(data) - cut % (len(data) + 1)]) if cut % 3 == 0 else bytes(data)
    sp = _check_split(data)
    if not flips and cut % 3 != 0:
        assert sp.status.tolist() == [OK] * n


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10), st.integers(0, 2**32 - 1), st.integers(0, 9), st.integers(0, 0xFFFF))
def test_fuzz_wrong_length_field(n, seed, which, new_length):
    data = bytearray(_good_stream(n, seed))
    length = len(data) // n
    k = which % n
    data[k * length + 4:k * length + 6] = new_length.to_bytes(2, "big")
    sp = _check_split(bytes(data))
    # every other packet survives: resynchronisation loses only the damaged one
    if new_length != length - 7:
        assert int(np.count_nonzero(sp.status == OK)) == n - 1


def _reference_split(data: bytes) -> list[tuple[int, int, int]]:
    """The walk packet by packet, one CRC per candidate offset (brute force): (offset, length, status)."""
    n = len(data)

    def start(o):            # status if a packet starts at o, else None; and the claimed length
        if n - o < 6 or data[o] >> 5 or data[o + 2] >> 6 != 3:
            return None, 0
        length = ((data[o + 4] << 8) | data[o + 5]) + 7
        if o + length > n:
            return None, length
        if ((data[o] & 7) << 8) | data[o + 1] == 0x7FF:
            return IDLE, length
        if length >= 8 and binascii.crc_hqx(data[o:o + length], 0xFFFF) == 0:
            return OK, length
        return None, length
    units, o = [], 0
    while o < n:
        st, length = start(o)
        if st is not None:
            units.append((o, length, st))
            o += length
            continue
        plausible = n - o >= 6 and not data[o] >> 5 and data[o + 2] >> 6 == 3 and o + length <= n
        p = o + 1
        while p < n and start(p)[0] is None:
            p += 1
        units.append((o, p - o, CRC_ERROR if plausible and length >= 8 else MALFORMED))
        o = p
    return units


def _units(sp):
    return list(zip(sp.offset.tolist(), sp.length.tolist(), sp.status.tolist()))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 8), st.integers(0, 2**32 - 1), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                                                              max_size=6), st.binary(max_size=30))
def test_split_equals_the_brute_force_walk(n, seed, edits, junk):
    """Damaged streams (bytes overwritten, junk appended, lengths rewritten) cut exactly like the
    packet-by-packet walk with one CRC per candidate; the vectorised uniform paths agree too."""
    from telemetry.dictionary import Dictionary
    data = bytearray(_good_stream(n, seed))
    for pos, value in edits:
        data[pos % len(data)] = value
    data = bytes(data) + junk
    assert _units(split_packets(data)) == _reference_split(data)
    from telemetry.packets import split_many
    assert _units(split_many([data])[0]) == _reference_split(data)
    d = Dictionary.bundled()
    assert _units(d.decode_stream(data)[0]) == _reference_split(data)


def test_split_cost_is_linear_in_bytes(monkeypatch):
    """A frame whose every other offset claims an 8 kB packet: the bytes run through the CRC stay
    within a small multiple of the frame (main: about 4,000 times the frame)."""
    import telemetry.packets as packets
    hashed = [0]
    real = binascii.crc_hqx

    def counting(data, value):
        hashed[0] += len(data)
        return real(data, value)
    monkeypatch.setattr(packets.binascii, "crc_hqx", counting)
    frame = bytes([0x00, 0x00, 0xC0, 0xC0, 0x1F, 0x1F] * 10_000)      # plausible headers, length 7,974
    sp = split_packets(frame)
    assert sp.counts()["ok"] == 0 and int(sp.length.sum()) == len(frame)
    assert hashed[0] <= 4 * len(frame)
