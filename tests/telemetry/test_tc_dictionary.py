"""The command dictionary: the bundled commands round-trip through the wire format, bad values are
refused with one line naming the command and the argument, bad files name the key."""
import math

import pytest
from hypothesis import given, settings, strategies as st

from telemetry.dictionary import Dictionary
from telemetry.errors import CommandError, DictionaryError
from telemetry.tc import Telecommand, code_of, decode_tc
from telemetry.tc_dictionary import CommandDictionary

D = CommandDictionary.bundled()
NEEDED = ("SET_MODE", "PAYLOAD_ON", "PAYLOAD_OFF", "SLEW", "IMAGING_START", "IMAGING_STOP", "DOWNLINK_START",
          "DOWNLINK_STOP", "MEMORY_DUMP", "MEMORY_ERASE", "RW_RESET", "HEATER_ON", "HEATER_OFF",
          "SCHEDULE_INSERT", "SCHEDULE_DELETE", "SCHEDULE_RESET")


def test_bundled_dictionary_has_the_issue_commands():
    for name in NEEDED:
        cmd = D.command(name)
        assert "acceptance" in cmd.verifiers and all(w > 0 for w in cmd.verifiers.values())
    assert D.command("SET_MODE").critical and D.command("MEMORY_ERASE").critical
    assert not D.command("SLEW").critical
    assert D.command("SLEW").arguments[0].unit == "deg"
    assert set(D.command("SET_MODE").arguments[0].enumeration.values()) == {"SAFE", "NOMINAL", "IMAGING"}
    # reports come back on the command APID: the telemetry dictionary must not claim it
    assert D.apid not in Dictionary.bundled().by_apid


def _value(arg):
    if arg.type == "enum":
        return st.sampled_from(sorted(arg.enumeration.values()))
    if arg.type == "float":
        return st.floats(arg.minimum, arg.maximum, allow_nan=False)
    if arg.type in ("uint", "int"):
        return st.integers(int(arg.minimum), int(arg.maximum))
    if arg.type == "time":
        return st.floats(0, 2.0 ** 32 - 1).map(lambda t: round(t * 2 ** 24) / 2 ** 24)
    return st.just(Telecommand(D.apid, 5, 8, 1, b"\x00\x02", 1))


def _args(cmd):
    return st.fixed_dictionaries({a.name: _value(a) for a in cmd.arguments})


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(D.commands)).flatmap(lambda n: st.tuples(st.just(n), _args(D.command(n)))),
       st.integers(0, 16383))
def test_every_command_round_trips(name_args, seq):
    name, args = name_args
    tc = D.build(name, args, seq_count=seq, source_id=7)
    cmd, back = D.identify(decode_tc(tc.encode()))
    assert cmd.name == name
    for k, v in args.items():
        assert back[k] == v
    assert tc.ack_flags == cmd.ack_flags


def _bad_value(arg):
    """Values of the wrong type or out of range for ``arg``."""
    wrong = st.one_of(st.text(max_size=5), st.none(), st.booleans(), st.lists(st.integers(), max_size=2))
    if arg.type in ("uint", "int"):
        return st.one_of(wrong, st.floats(allow_nan=True), st.integers(max_value=int(arg.minimum) - 1),
                         st.integers(min_value=int(arg.maximum) + 1))
    if arg.type == "float":
        return st.one_of(wrong, st.just(math.nan), st.just(math.inf),
                         st.floats(max_value=arg.minimum, exclude_max=True, allow_nan=False),
                         st.floats(min_value=arg.maximum, exclude_min=True, allow_nan=False))
    if arg.type == "enum":
        return st.one_of(st.integers(), st.text(max_size=8).filter(lambda s: s not in arg.enumeration.values()))
    return wrong


_with_args = sorted(n for n in D.commands if any(a.type not in ("telecommand",) for a in D.command(n).arguments))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_bad_argument_values_are_refused_with_one_line(data):
    name = data.draw(st.sampled_from(_with_args))
    cmd = D.command(name)
    args = data.draw(_args(cmd))
    arg = data.draw(st.sampled_from([a for a in cmd.arguments if a.type != "telecommand"]))
    args[arg.name] = data.draw(_bad_value(arg))
    with pytest.raises(CommandError) as e:
        D.build(name, args, seq_count=0)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{name}: {arg.name}")


def test_unknown_missing_and_extra_arguments():
    with pytest.raises(CommandError, match="unknown command 'FIRE'"):
        D.build("FIRE", {}, seq_count=0)
    with pytest.raises(CommandError, match="missing argument 'pitch_deg'"):
        D.build("SLEW", {"roll_deg": 1.0}, seq_count=0)
    with pytest.raises(CommandError, match="unknown argument 'yaw_deg'"):
        D.build("SLEW", {"roll_deg": 1.0, "pitch_deg": 0.0, "yaw_deg": 2.0}, seq_count=0)
    assert D.command("SLEW").parse_text({"roll_deg": "12.5", "pitch_deg": "-3"}) == {"roll_deg": 12.5,
                                                                                     "pitch_deg": -3.0}
    with pytest.raises(CommandError, match="RW_RESET: wheel: expected an integer, got 'two'"):
        D.command("RW_RESET").parse_text({"wheel": "two"})


def test_identify_is_strict_on_hostile_application_data():
    ok = D.build("SLEW", {"roll_deg": 1.0, "pitch_deg": 2.0}, seq_count=3)
    cases = [
        (Telecommand(0x10, 1, 8, 1, ok.app_data), "illegal_apid"),
        (Telecommand(D.apid, 1, 99, 1, b""), "illegal_service"),
        (Telecommand(D.apid, 1, 8, 99, b""), "illegal_subtype"),
        (Telecommand(D.apid, 1, 8, 1, b"\x03\xE7"), "illegal_data"),                  # function 999
        (Telecommand(D.apid, 1, 8, 1, ok.app_data[:-1]), "illegal_data"),              # short
        (Telecommand(D.apid, 1, 8, 1, ok.app_data + b"\x00"), "illegal_data"),         # trailing byte
        (Telecommand(D.apid, 1, 8, 1, ok.app_data[:2] + b"\x40\x50" + bytes(14)), "illegal_data"),  # 64 deg
        (Telecommand(D.apid, 1, 8, 1, b"\x00\x01\x07"), "illegal_data"),               # mode 7
        (Telecommand(D.apid, 1, 11, 4, b"\x02" + bytes(7)), "illegal_data"),           # N = 2
    ]
    for tc, code in cases:
        with pytest.raises(CommandError) as e:
            D.identify(tc)
        assert e.value.code == code_of(code), (tc, str(e.value))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([(8, 1), (11, 3), (11, 4), (11, 5), (11, 17)]), st.binary(max_size=80))
def test_random_application_data_raise_only_command_error(key, data):
    try:
        D.identify(Telecommand(D.apid, 0, key[0], key[1], data))
    except CommandError as e:
        assert e.code is not None


BASE = """
[dictionary]
apid = 0x66
[[commands]]
name = "PING"
service = 17
subtype = 1
verifiers = { acceptance = 5.0 }
"""


@pytest.mark.parametrize("patch, piece", [
    ("", None),
    ("[dictionary]\n", "twice (at line 9"),
    ('\n[[commands]]\nname = "PING"\nservice = 17\nsubtype = 2\nverifiers = { acceptance = 5.0 }', "already defined"),
    ('\n[[commands]]\nname = "P2"\nservice = 17\nsubtype = 1\nverifiers = { acceptance = 5.0 }', "also PING"),
    ('\n[[commands]]\nname = "lower"\nservice = 1\nsubtype = 1\nverifiers = { acceptance = 1.0 }',
     "commands[1].name: expected an upper-case identifier"),
    ('\n[[commands]]\nname = "X"\nservice = 1\nsubtype = 1\nverifiers = { start = 1.0 }', "at least acceptance"),
    ('\n[[commands]]\nname = "X"\nservice = 1\nsubtype = 1\nverifiers = { acceptance = -1.0 }', "window"),
    ('\n[[commands]]\nname = "X"\nservice = 1\nsubtype = 1\nsignificance = "hazardous"\nverifiers = { acceptance = 1.0 }',
     "significance"),
    ('\n[[commands]]\nname = "X"\nservice = 1\nsubtype = 1\nverifiers = { acceptance = 1.0 }\n'
     '[[commands.arguments]]\nname = "a"\ntype = "float"\nbits = 64', "commands[1] (X).arguments[0] (a).range"),
    ('\n[[commands]]\nname = "X"\nservice = 1\nsubtype = 1\nverifiers = { acceptance = 1.0 }\n'
     '[[commands.arguments]]\nname = "a"\ntype = "uint"\nbits = 12', "bits"),
    ('\n[[commands]]\nname = "X"\nservice = 1\nsubtype = 1\nverifiers = { acceptance = 1.0 }\n'
     '[[commands.arguments]]\nname = "a"\ntype = "uint"\nbits = 8\nrange = [0, 300]', "range[1]"),
    ('\n[[commands]]\nname = "X"\nservice = 1\nsubtype = 1\nverifiers = { acceptance = 1.0 }\n'
     '[[commands.arguments]]\nname = "a"\ntype = "enum"\nenumeration = { 0 = "A", 1 = "A" }', "used twice"),
    ('\n[[commands]]\nname = "X"\nservice = 1\nsubtype = 1\nverifiers = { acceptance = 1.0 }\n'
     '[[commands.arguments]]\nname = "a"\ntype = "telecommand"\n[[commands.arguments]]\nname = "b"\ntype = "time"',
     "must be the last"),
    ('\n[[commands]]\nname = "X"\nservice = 1\nsubtype = 1\nfunction = 2\ncount_prefix = true\n'
     'verifiers = { acceptance = 1.0 }', "exclude each other"),
])
def test_loader_errors_name_the_key(patch, piece):
    if piece is None:
        assert CommandDictionary.loads(BASE).command("PING").verifiers == {"acceptance": 5.0}
        return
    with pytest.raises(DictionaryError) as e:
        CommandDictionary.loads(BASE + patch, "cmds.toml")
    assert piece in str(e.value) and str(e.value).startswith("cmds.toml") and "\n" not in str(e.value)


def test_loader_file_errors(tmp_path):
    with pytest.raises(DictionaryError, match="cannot read"):
        CommandDictionary.load(tmp_path / "missing.toml")
    with pytest.raises(DictionaryError, match="needs a \\[dictionary\\] table"):
        CommandDictionary.loads("[[commands]]\nname='X'")
    with pytest.raises(DictionaryError, match="apid"):
        CommandDictionary.loads("[dictionary]\napid = 4000\n")
