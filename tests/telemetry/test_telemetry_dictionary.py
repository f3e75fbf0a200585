import io
import logging

import numpy as np
import pytest

from telemetry.dictionary import Dictionary
from telemetry.errors import DictionaryError, PacketError
from telemetry.packets import decode_headers
from _telemetry_helpers import hk_rows

logging.getLogger("ccsdspy").setLevel(logging.WARNING)


def test_bundled_layout(hk_dict):
    hk = hk_dict.packet("HK")
    assert (hk.apid, hk.service, hk.subtype, hk.length) == (0x64, 3, 25, 66)
    names = {p.name for p in hk.parameters}
    for needed in ("battery_voltage", "battery_soc", "bus_current", "battery_temp", "rw1_speed", "rw4_speed",
                   "q1", "q4", "attitude_mode", "memory_used", "downlink_state"):
        assert needed in names
    assert hk_dict.by_apid[0x65].name == "EVENT"


def test_decode_matches_ccsdspy(hk_dict):
    """Raw values of every parameter agree with ccsdspy's independent bit extraction."""
    ccsdspy = pytest.importorskip("ccsdspy")
    hk = hk_dict.packet("HK")
    rng = np.random.default_rng(3)
    n = 500
    values = {"battery_voltage": rng.uniform(20, 40, n), "bus_current": rng.uniform(-30, 30, n),
              "rw1_speed": rng.uniform(-30000, 30000, n), "q1": rng.normal(size=n), "attitude_mode": rng.integers(0, 5, n),
              "downlink_state": rng.integers(0, 4, n), "eclipse": rng.integers(0, 2, n),
              "heaters_on": rng.integers(0, 128, n), "uptime": rng.integers(0, 2**32, n)}
    rows = hk_dict.encode("HK", values, time_s=1.8e9 + np.arange(n))
    fields = [ccsdspy.PacketField(name="pus", data_type="uint", bit_length=8),
              ccsdspy.PacketField(name="service", data_type="uint", bit_length=8),
              ccsdspy.PacketField(name="subtype", data_type="uint", bit_length=8),
              ccsdspy.PacketField(name="counter", data_type="uint", bit_length=16),
              ccsdspy.PacketField(name="dest", data_type="uint", bit_length=16),
              ccsdspy.PacketField(name="coarse", data_type="uint", bit_length=32),
              ccsdspy.PacketField(name="fine", data_type="uint", bit_length=24)]
    fields += [ccsdspy.PacketField(name=p.name, data_type=p.type, bit_length=p.bits) for p in hk.parameters]
    fields.append(ccsdspy.PacketField(name="crc", data_type="uint", bit_length=16))
    ref = ccsdspy.FixedLength(fields).load(io.BytesIO(rows.tobytes()), include_primary_header=True)
    raw = hk.decode_raw(rows)
    for p in hk.parameters:
        np.testing.assert_array_equal(raw[p.name], ref[p.name], err_msg=p.name)
    h = decode_headers(rows)
    np.testing.assert_array_equal(h["apid"], ref["CCSDS_APID"])
    np.testing.assert_array_equal(h["seq_count"], ref["CCSDS_SEQUENCE_COUNT"])
    np.testing.assert_array_equal(h["time_ticks"], (ref["coarse"].astype(np.int64) << 24) | ref["fine"])
    # engineering values: calibration applied, enumerations and integers kept
    eng = hk.decode(rows)
    np.testing.assert_allclose(eng["battery_voltage"], np.round(values["battery_voltage"] * 1000) / 1000)
    np.testing.assert_allclose(eng["bus_current"], np.round(values["bus_current"] * 1000) / 1000)
    np.testing.assert_array_equal(eng["rw1_speed"], np.round(values["rw1_speed"]))
    np.testing.assert_allclose(eng["q1"], values["q1"].astype(np.float32))
    for name in ("attitude_mode", "downlink_state", "eclipse", "heaters_on", "uptime"):
        np.testing.assert_array_equal(eng[name], values[name], err_msg=name)


def test_encode_saturates_and_labels(hk_dict):
    rows = hk_dict.encode("HK", {"battery_voltage": [100.0, -5.0], "attitude_mode": np.array(["SAFE", "TARGET"])},
                          time_s=[1.8e9, 1.8e9 + 1])
    eng = hk_dict.packet("HK").decode(rows)
    assert eng["battery_voltage"].tolist() == [65.535, 0.0]
    assert eng["attitude_mode"].tolist() == [0, 3]
    with pytest.raises(PacketError, match="attitude_mode"):
        hk_dict.encode("HK", {"attitude_mode": np.array(["NOPE"])}, time_s=[1.8e9])
    with pytest.raises(PacketError, match="unknown parameter"):
        hk_dict.encode("HK", {"nope": 1}, time_s=[1.8e9])


def _doc(**param):
    p = {"name": "x", "type": "uint", "bits": 16}
    p.update(param)
    return {"packets": [{"name": "P", "apid": 1, "service": 3, "subtype": 25, "parameters": [p]}]}


def test_signed_bitfield_and_nonlinear_polynomial():
    d = Dictionary.from_dict({"packets": [{"name": "P", "apid": 1, "service": 3, "subtype": 25, "parameters": [
        {"name": "a", "type": "int", "bits": 5, "bit_offset": 3},
        {"name": "b", "type": "uint", "bits": 12, "polynomial": [1.0, 0.5, 0.001]},
        {"name": "c", "type": "int", "bits": 13}]}]})
    a = np.array([-16, -1, 0, 15])
    b_raw = np.array([0, 17, 2000, 4095])
    b = 1.0 + 0.5 * b_raw + 0.001 * b_raw**2
    c = np.array([-4096, 4095, -1, 7])
    rows = d.encode("P", {"a": a, "b": b, "c": c}, time_s=1e9 + np.arange(4))
    raw = d.packet("P").decode_raw(rows)
    assert raw["a"].tolist() == a.tolist()
    assert raw["b"].tolist() == b_raw.tolist()
    assert raw["c"].tolist() == c.tolist()
    # the 3 unused leading bits stay zero
    assert (rows[:, 20] >> 5 == 0).all()


@pytest.mark.parametrize("param, message", [
    ({"type": "complex"}, "type"),
    ({"bits": 70}, "bits"),
    ({"type": "float", "bits": 16}, "float"),
    ({"colour": "red"}, "unknown key"),
    ({"polynomial": [1.0]}, "constant"),
    ({"limits": {"watch": {"low": 5, "high": 1}}}, "low must be below high"),
    ({"limits": {"watch": {"low": 5}, "warning": {"low": 6}}}, "widen"),
    ({"limits": {"panic": {"low": 5}}}, "severity"),
    ({"states": {"X": "warning"}}, "enumeration"),
    ({"frozen": {"samples": 1}}, "frozen.samples"),
])
def test_dictionary_errors_name_the_key(param, message):
    with pytest.raises(DictionaryError, match=message) as exc:
        Dictionary.from_dict(_doc(**param), "test.toml")
    assert "test.toml: packets[0]" in str(exc.value)


def test_overlap_and_file_errors(tmp_path):
    doc = {"packets": [{"name": "P", "apid": 1, "service": 3, "subtype": 25, "parameters": [
        {"name": "a", "type": "uint", "bits": 8}, {"name": "b", "type": "uint", "bits": 8, "bit_offset": 4}]}]}
    with pytest.raises(DictionaryError, match=r"parameters\[1\] \(b\).*overlap"):
        Dictionary.from_dict(doc, "x.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[packets]]\nname = \n")
    with pytest.raises(DictionaryError, match="bad.toml"):
        Dictionary.load(bad)
    with pytest.raises(DictionaryError, match="cannot read"):
        Dictionary.load(tmp_path / "missing.toml")


def test_hk_helper_values_are_nominal(hk_dict):
    rows = hk_rows(hk_dict, 10)
    assert rows.shape == (10, 66)


def test_decode_stream_mixed_types_and_garbage(hk_dict):
    hk = hk_rows(hk_dict, 6)
    ev = hk_dict.encode("EVENT", {"event_id": np.array(["BOOT", "MODE_CHANGE"]), "event_data": [7, 8]},
                        time_s=[1.8e9 + 0.5, 1.8e9 + 2.5], seq_start=10)
    bad = hk[4].copy()
    bad[40] ^= 1
    stream = hk[0].tobytes() + ev[0].tobytes() + hk[1].tobytes() + b"\x01\x02\x03" + ev[1].tobytes() + \
        bad.tobytes() + hk[5].tobytes()
    split, cols = hk_dict.decode_stream(stream)
    assert split.counts() == {"ok": 5, "crc_error": 1, "malformed": 1, "idle": 0}
    assert cols["HK"]["unit_index"].tolist() == [0, 2, 6]
    assert cols["HK"]["seq_count"].tolist() == [0, 1, 5]
    np.testing.assert_allclose(cols["HK"]["time_s"], 1.8e9 + np.array([0, 1, 5]))
    np.testing.assert_array_equal(cols["HK"]["battery_voltage"],
                                  hk_dict.packet("HK").decode(hk[[0, 1, 5]])["battery_voltage"])
    assert cols["EVENT"]["event_id"].tolist() == [1, 2] and cols["EVENT"]["event_data"].tolist() == [7, 8]


@pytest.mark.parametrize("n", [20000, 140000])    # 140,000: the two-thread path
def test_one_type_fast_path_equals_general_path(hk_dict, n):
    rows = hk_rows(hk_dict, n)
    rng = np.random.default_rng(1)
    for i in rng.choice(n, 30, replace=False):
        rows[i, rng.integers(6, 66)] ^= 1 << int(rng.integers(0, 8))   # CRC errors, never the length
    rows[77, 7] = 5                                                      # wrong service: left out
    rows[77, -2:] = np.frombuffer(int(__import__("binascii").crc_hqx(rows[77, :-2].tobytes(), 0xFFFF))
                                  .to_bytes(2, "big"), np.uint8)
    data = rows.tobytes()
    fast = hk_dict._decode_one_type(data)
    assert fast is not None
    slow = hk_dict._decode_general(data)
    assert fast[0].status.tolist() == slow[0].status.tolist()
    assert fast[0].counts()["crc_error"] == 30
    assert fast[1].keys() == slow[1].keys() == {"HK"}
    for k, v in slow[1]["HK"].items():
        np.testing.assert_array_equal(fast[1]["HK"][k], v, err_msg=k)
    assert 77 not in fast[1]["HK"]["unit_index"]
