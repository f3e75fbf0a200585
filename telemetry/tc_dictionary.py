"""Command dictionary: telecommands, their arguments, significance and verifiers, read from TOML.

File format (a table ``[dictionary]``, an array ``[[commands]]``; the bundled
``telemetry/data/commands.toml`` is a complete example)::

    [dictionary]
    name = "fs8-commands"   version = "1.0"
    apid = 0x066                       # the on-board application that takes the commands (and reports)

    [[commands]]
    name = "SLEW"                      # upper-case identifier
    service = 8    subtype = 1         # PUS service type and message subtype
    function = 4                       # PUS 8,1 function id: a u16 before the arguments (optional)
    count_prefix = true                # optional: the data starts with N = 1 (u8), as PUS 11,4 / 11,5
    significance = "normal" | "critical"   # critical: released by a second person
    verifiers = { acceptance = 10.0, start = 10.0, completion = 120.0 }   # stage -> window, s
    [[commands.arguments]]
    name = "roll_deg"
    type = "uint" | "int" (bits 8, 16, 32) | "float" (32, 64) | "enum" (8, 16) | "time" | "telecommand"
    range = [-60.0, 60.0]             # inclusive; uint / int default: the raw range; float: required
    unit = "deg"
    enumeration = { 0 = "SAFE", ... }  # enum: raw value = label
    description = "..."

Arguments follow each other big-endian in the order given; ``time`` is an absolute time as a
7-byte CUC (Unix seconds on the API), ``telecommand`` a complete encoded TC packet (last argument
only). The verifier windows say which PUS 1 reports are asked for (the TC's acknowledgement flags)
and how long after the reference time each may arrive (see :mod:`telemetry.commanding`).

Ground and spacecraft use the same definitions: :meth:`CommandDef.validate` checks values
(unknown or missing argument, wrong type, out of range: :class:`~telemetry.errors.CommandError`
with one line), :meth:`CommandDictionary.build` encodes a :class:`~telemetry.tc.Telecommand`,
and :meth:`CommandDictionary.identify` decodes one strictly (failure codes for PUS 1).
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from .parameters import _enumeration, _int, _number, parse_toml, read_text
from .errors import CommandError, DictionaryError
from .packets import IDLE_APID
from .tc import CUC_BYTES, Telecommand, code_of, cuc_bytes, cuc_time_s, decode_tc

__all__ = ["ARGUMENT_TYPES", "SIGNIFICANCES", "VERIFIER_STAGES", "Argument", "CommandDef",
           "CommandDictionary", "bundled_commands_path"]

ARGUMENT_TYPES = ("uint", "int", "float", "enum", "time", "telecommand")
SIGNIFICANCES = ("normal", "critical")
VERIFIER_STAGES = ("acceptance", "start", "completion")
_ACK = {"acceptance": 8, "start": 4, "completion": 1}
_FORMATS = {("uint", 8): "B", ("uint", 16): "H", ("uint", 32): "I", ("int", 8): "b", ("int", 16): "h",
            ("int", 32): "i", ("float", 32): "f", ("float", 64): "d", ("enum", 8): "B", ("enum", 16): "H"}
_FLOAT32_MAX = 3.4028234663852886e38
_MAX_TIME_S = 2.0 ** 32 - 1


def bundled_commands_path() -> Path:
    """Path of the bundled command dictionary."""
    return Path(str(resources.files("telemetry") / "data" / "commands.toml"))


def _bad(where: str, message: str) -> CommandError:
    return CommandError(f"{where}: {message}", code_of("illegal_data"))


@dataclass(frozen=True)
class Argument:
    """One argument of a command: ``type``, ``bits`` (0 for time / telecommand), inclusive range
    ``minimum`` .. ``maximum`` (numbers), ``enumeration`` raw -> label (enum), ``unit``."""

    name: str
    type: str
    bits: int = 0
    minimum: float | None = None
    maximum: float | None = None
    enumeration: dict = field(default_factory=dict)
    unit: str = ""
    description: str = ""

    @property
    def size(self) -> int | None:
        """Encoded bytes (None: variable, a telecommand)."""
        if self.type == "time":
            return CUC_BYTES
        return None if self.type == "telecommand" else self.bits // 8

    def describe(self) -> str:
        """One line: name, type, range or labels, unit."""
        if self.type == "enum":
            what = "|".join(self.enumeration.values())
        elif self.type in ("time", "telecommand"):
            what = "ISO time or Unix s" if self.type == "time" else "encoded TC"
        else:
            what = f"{_num(self.minimum)}..{_num(self.maximum)}"
        return f"{self.name}={what}" + (f" {self.unit}" if self.unit else "")

    def check(self, value, where: str):
        """The value normalised (int, float, label, Unix seconds, Telecommand), or CommandError."""
        where = f"{where}: {self.name}"
        t = self.type
        if t in ("uint", "int"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise _bad(where, f"expected an integer, got {_shown(value)}")
        elif t == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise _bad(where, f"expected a finite number, got {_shown(value)}")
            value = float(value)
        elif t == "enum":
            if value not in self.enumeration.values():
                raise _bad(where, f"expected one of {'|'.join(self.enumeration.values())}, got {_shown(value)}")
            return value
        elif t == "time":
            return _time_s(value, where)
        else:
            if isinstance(value, (bytes, bytearray)):
                try:
                    value = decode_tc(value)
                except CommandError as exc:
                    raise _bad(where, str(exc)) from None
            if not isinstance(value, Telecommand):
                raise _bad(where, f"expected a telecommand, got {type(value).__name__}")
            return value
        if not self.minimum <= value <= self.maximum:
            unit = f" {self.unit}" if self.unit else ""
            raise _bad(where, f"{_num(value)} outside {_num(self.minimum)}..{_num(self.maximum)}{unit}")
        return value

    def parse_text(self, text: str, where: str):
        """A value from text (the command line), typed by the argument; CommandError if it is not."""
        t = self.type
        try:
            if t in ("uint", "int"):
                return int(text, 0)
            if t == "float":
                return float(text)
        except ValueError:
            raise _bad(f"{where}: {self.name}", f"expected {'an integer' if t != 'float' else 'a number'}, "
                                                f"got {text!r}") from None
        if t == "telecommand":
            try:
                return bytes.fromhex(text)
            except ValueError:
                raise _bad(f"{where}: {self.name}", "expected the telecommand as hex") from None
        return text

    def encode(self, value) -> bytes:
        """Bytes of a value :meth:`check` returned."""
        if self.type == "time":
            return cuc_bytes(value)
        if self.type == "telecommand":
            return value.encode()
        if self.type == "enum":
            value = next(raw for raw, label in self.enumeration.items() if label == value)
        return struct.pack(">" + _FORMATS[(self.type, self.bits)], value)

    def decode(self, data: bytes, offset: int, where: str):
        """(value, next offset) from ``data`` at ``offset``; CommandError if it is not valid."""
        if self.type == "telecommand":
            return self.check(data[offset:], where), len(data)
        n = self.size
        if offset + n > len(data):
            raise _bad(f"{where}: {self.name}", f"needs {n} bytes, {len(data) - offset} left")
        chunk = data[offset:offset + n]
        if self.type == "time":
            return cuc_time_s(chunk), offset + n
        raw = struct.unpack(">" + _FORMATS[(self.type, self.bits)], chunk)[0]
        if self.type == "enum":
            if raw not in self.enumeration:
                raise _bad(f"{where}: {self.name}", f"raw value {raw} is not in the enumeration")
            raw = self.enumeration[raw]
        return self.check(raw, where), offset + n


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _time_s(value, where: str) -> float:
    if isinstance(value, datetime):
        t = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        value = t.timestamp()
    elif isinstance(value, str):
        try:
            t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                raise _bad(where, f"expected an ISO 8601 time or Unix seconds, got {_shown(value)}") from None
        else:
            value = (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= _MAX_TIME_S:
        raise _bad(where, f"expected a time in 1970-01-01 .. 2106-02-07 UTC, got {_shown(value)}")
    return float(value)


@dataclass(frozen=True)
class CommandDef:
    """One command: PUS ``service`` / ``subtype``, optional PUS 8 ``function``, ``arguments``,
    ``significance``, ``verifiers`` (stage -> window, s)."""

    name: str
    service: int
    subtype: int
    arguments: tuple[Argument, ...]
    verifiers: dict
    function: int | None = None
    count_prefix: bool = False
    significance: str = "normal"
    description: str = ""

    @property
    def critical(self) -> bool:
        return self.significance == "critical"

    @property
    def ack_flags(self) -> int:
        return sum(_ACK[s] for s in self.verifiers)

    def validate(self, values: dict) -> dict:
        """Normalised argument values in definition order, or CommandError (one line)."""
        if not isinstance(values, dict):
            raise _bad(self.name, f"arguments must be a mapping, got {type(values).__name__}")
        names = [a.name for a in self.arguments]
        unknown = [k for k in values if k not in names]
        if unknown:
            raise _bad(self.name, f"unknown argument {unknown[0]!r} (has: {', '.join(names) or 'none'})")
        missing = [k for k in names if k not in values]
        if missing:
            raise _bad(self.name, f"missing argument {missing[0]!r}")
        return {a.name: a.check(values[a.name], self.name) for a in self.arguments}

    def parse_text(self, pairs: dict) -> dict:
        """Typed values from ``{name: text}`` (the command line); validate them afterwards."""
        by = {a.name: a for a in self.arguments}
        out = {}
        for k, text in pairs.items():
            if k not in by:
                raise _bad(self.name, f"unknown argument {k!r} (has: {', '.join(by) or 'none'})")
            out[k] = by[k].parse_text(text, self.name)
        return out

    def app_data(self, values: dict) -> bytes:
        """Application data of validated ``values``."""
        parts = [b"\x01"] if self.count_prefix else []
        if self.function is not None:
            parts.append(self.function.to_bytes(2, "big"))
        parts += [a.encode(values[a.name]) for a in self.arguments]
        return b"".join(parts)

    def decode_app_data(self, data: bytes) -> dict:
        """Argument values of application data (after the function id), strict."""
        off = 0
        if self.count_prefix:
            if not data or data[0] != 1:
                raise _bad(self.name, "the instruction count must be 1")
            off = 1
        if self.function is not None:
            off += 2
        values = {}
        for a in self.arguments:
            values[a.name], off = a.decode(data, off, self.name)
        if off != len(data):
            raise _bad(self.name, f"{len(data) - off} bytes after the last argument")
        return values

    def describe(self) -> str:
        """One line for ``groundseg command list``."""
        v = ", ".join(f"{s} {w:g} s" for s, w in self.verifiers.items())
        args = " ".join(a.describe() for a in self.arguments) or "-"
        return f"{self.name:<16} {self.service},{self.subtype}  {self.significance:<8} {args}  [{v}]"


_ARG_KEYS = {"name", "type", "bits", "range", "unit", "enumeration", "description"}
_CMD_KEYS = {"name", "service", "subtype", "function", "count_prefix", "significance", "verifiers",
             "arguments", "description"}


def _named_table(t, loc: str, keys: set, upper: bool = False) -> tuple[str, str]:
    """(name, location with the name) of a table with only ``keys``; DictionaryError otherwise."""
    if not isinstance(t, dict):
        raise DictionaryError(f"{loc}: expected a table")
    unknown = set(t) - keys
    if unknown:
        raise DictionaryError(f"{loc}: unknown key(s) {sorted(unknown)}")
    name = t.get("name")
    if not isinstance(name, str) or not name.isidentifier() or (upper and name.upper() != name):
        raise DictionaryError(f"{loc}.name: expected an {'upper-case ' if upper else ''}identifier, got {name!r}")
    return name, f"{loc} ({name})"


def _argument(t, loc: str, last: bool) -> Argument:
    name, loc = _named_table(t, loc, _ARG_KEYS)
    kind = t.get("type")
    if kind not in ARGUMENT_TYPES:
        raise DictionaryError(f"{loc}.type: expected one of {list(ARGUMENT_TYPES)}, got {kind!r}")
    if kind == "telecommand" and not last:
        raise DictionaryError(f"{loc}: a telecommand argument must be the last one")
    bits = 0
    if kind in ("uint", "int", "float", "enum"):
        bits = t.get("bits", 8 if kind == "enum" else None)
        if (kind, bits) not in _FORMATS:
            allowed = sorted(b for k, b in _FORMATS if k == kind)
            raise DictionaryError(f"{loc}.bits: expected one of {allowed} for {kind}, got {bits!r}")
    lo = hi = None
    if kind in ("uint", "int"):
        lo, hi = (0, (1 << bits) - 1) if kind == "uint" else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        if "range" in t:
            r = t["range"]
            if not isinstance(r, list) or len(r) != 2:
                raise DictionaryError(f"{loc}.range: expected [min, max]")
            a = _int(r[0], f"{loc}.range[0]", lo, hi)
            b = _int(r[1], f"{loc}.range[1]", a, hi)
            lo, hi = a, b
    elif kind == "float":
        r = t.get("range")
        if not isinstance(r, list) or len(r) != 2:
            raise DictionaryError(f"{loc}.range: a float needs [min, max]")
        lo, hi = _number(r[0], f"{loc}.range[0]"), _number(r[1], f"{loc}.range[1]")
        limit = _FLOAT32_MAX if bits == 32 else math.inf
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi and -limit <= lo and hi <= limit):
            raise DictionaryError(f"{loc}.range: expected finite min <= max within float{bits}")
    elif "range" in t:
        raise DictionaryError(f"{loc}.range: only numbers have a range")
    enumeration: dict[int, str] = {}
    if kind == "enum":
        for k, raw, label in _enumeration(t.get("enumeration"), loc):
            if not 0 <= raw < (1 << bits) or not isinstance(label, str) or not label:
                raise DictionaryError(f"{loc}.enumeration.{k}: raw value in 0..{(1 << bits) - 1} = label")
            if label in enumeration.values():
                raise DictionaryError(f"{loc}.enumeration.{k}: label {label!r} used twice")
            enumeration[raw] = label
    elif "enumeration" in t:
        raise DictionaryError(f"{loc}.enumeration: only an enum has labels")
    return Argument(name, kind, bits, lo, hi, enumeration, str(t.get("unit", "")), str(t.get("description", "")))


def _command(c, loc: str) -> CommandDef:
    name, loc = _named_table(c, loc, _CMD_KEYS, upper=True)
    service = _int(c.get("service"), f"{loc}.service", 1, 255)
    subtype = _int(c.get("subtype"), f"{loc}.subtype", 1, 255)
    function = c.get("function")
    if function is not None:
        function = _int(function, f"{loc}.function", 0, 0xFFFF)
    prefix = c.get("count_prefix", False)
    if not isinstance(prefix, bool):
        raise DictionaryError(f"{loc}.count_prefix: expected true or false")
    if prefix and function is not None:
        raise DictionaryError(f"{loc}: count_prefix and function exclude each other")
    sig = c.get("significance", "normal")
    if sig not in SIGNIFICANCES:
        raise DictionaryError(f"{loc}.significance: expected one of {list(SIGNIFICANCES)}, got {sig!r}")
    v = c.get("verifiers")
    if not isinstance(v, dict) or "acceptance" not in v:
        raise DictionaryError(f"{loc}.verifiers: expected a table with at least acceptance = window_s")
    verifiers = {}
    for stage in VERIFIER_STAGES:
        if stage in v:
            w = _number(v[stage], f"{loc}.verifiers.{stage}")
            if not 0 < w <= 86400:
                raise DictionaryError(f"{loc}.verifiers.{stage}: window must be in (0, 86400] s, got {w:g}")
            verifiers[stage] = w
    extra = set(v) - set(VERIFIER_STAGES)
    if extra:
        raise DictionaryError(f"{loc}.verifiers: unknown stage(s) {sorted(extra)} (stages: {list(VERIFIER_STAGES)})")
    args_t = c.get("arguments", [])
    if not isinstance(args_t, list):
        raise DictionaryError(f"{loc}.arguments: expected an array of tables")
    args = tuple(_argument(a, f"{loc}.arguments[{j}]", j == len(args_t) - 1) for j, a in enumerate(args_t))
    seen = set()
    for j, a in enumerate(args):
        if a.name in seen:
            raise DictionaryError(f"{loc}.arguments[{j}]: argument {a.name!r} defined twice")
        seen.add(a.name)
    return CommandDef(name, service, subtype, args, verifiers, function, prefix, sig, str(c.get("description", "")))


class CommandDictionary:
    """Commands by name, for one on-board application (``apid``); :meth:`load`, :meth:`bundled`."""

    def __init__(self, commands: list[CommandDef], apid: int, name: str = "", version: str = "", source: str = ""):
        self.commands = {c.name: c for c in commands}
        self.apid, self.name, self.version, self.source = apid, name, version, source
        self._by_key = {(c.service, c.subtype, c.function): c for c in commands}
        self._services = {c.service for c in commands}

    @classmethod
    def bundled(cls) -> "CommandDictionary":
        """The command dictionary of the default satellite."""
        return cls.load(bundled_commands_path())

    @classmethod
    def load(cls, path) -> "CommandDictionary":
        """Read and validate a TOML command dictionary; errors name the file and key."""
        return cls.loads(read_text(path), str(path))

    @classmethod
    def loads(cls, text: str, source: str = "<string>") -> "CommandDictionary":
        return cls.from_dict(parse_toml(text, source), source)

    @classmethod
    def from_dict(cls, doc: dict, source: str = "<dict>") -> "CommandDictionary":
        meta = doc.get("dictionary")
        if not isinstance(meta, dict):
            raise DictionaryError(f"{source}: needs a [dictionary] table with the apid")
        unknown = set(meta) - {"name", "version", "apid", "description"}
        if unknown:
            raise DictionaryError(f"{source}: dictionary: unknown key(s) {sorted(unknown)}")
        apid = _int(meta.get("apid"), f"{source}: dictionary.apid", 0, IDLE_APID - 1)
        unknown = set(doc) - {"dictionary", "commands"}
        if unknown:
            raise DictionaryError(f"{source}: unknown table(s) {sorted(unknown)}")
        cmds_t = doc.get("commands")
        if not isinstance(cmds_t, list) or not cmds_t:
            raise DictionaryError(f"{source}: needs at least one [[commands]] table")
        commands: list[CommandDef] = []
        keys = {}
        for i, c in enumerate(cmds_t):
            loc = f"{source}: commands[{i}]"
            cmd = _command(c, loc)
            if any(x.name == cmd.name for x in commands):
                raise DictionaryError(f"{loc}.name: command {cmd.name!r} already defined")
            key = (cmd.service, cmd.subtype, cmd.function)
            other = next((n for k, n in keys.items() if k[:2] == key[:2] and (k[2] is None or key[2] is None
                                                                              or k[2] == key[2])), None)
            if other is not None:
                raise DictionaryError(f"{loc}: {cmd.service},{cmd.subtype} function {cmd.function} is also "
                                      f"{other} (commands of one subtype need distinct function ids)")
            keys[key] = cmd.name
            commands.append(cmd)
        return cls(commands, apid, str(meta.get("name", "")), str(meta.get("version", "")), source)

    def command(self, name: str) -> CommandDef:
        try:
            return self.commands[name]
        except (KeyError, TypeError):
            raise CommandError(f"unknown command {name!r} (see 'groundseg command list')") from None

    def build(self, name: str, values: dict, *, seq_count: int, source_id: int = 0) -> Telecommand:
        """The Telecommand for ``name`` with validated ``values``; CommandError (one line) if invalid."""
        cmd = self.command(name)
        vals = cmd.validate(values)
        return Telecommand(self.apid, seq_count, cmd.service, cmd.subtype, cmd.app_data(vals), source_id,
                           cmd.ack_flags)

    def identify(self, tc: Telecommand) -> tuple[CommandDef, dict]:
        """(definition, argument values) of a decoded Telecommand, strict: CommandError with the
        failure code (illegal_apid, illegal_service, illegal_subtype, illegal_data)."""
        if tc.apid != self.apid:
            raise CommandError(f"APID {tc.apid:#x} takes no commands (commands go to {self.apid:#x})",
                               code_of("illegal_apid"))
        if tc.service not in self._services:
            raise CommandError(f"service {tc.service} is not implemented", code_of("illegal_service"))
        cmd = self._by_key.get((tc.service, tc.subtype, None))
        if cmd is None:
            if not any(k[:2] == (tc.service, tc.subtype) for k in self._by_key):
                raise CommandError(f"subtype {tc.service},{tc.subtype} is not implemented", code_of("illegal_subtype"))
            fn = int.from_bytes(tc.app_data[:2], "big") if len(tc.app_data) >= 2 else None
            cmd = self._by_key.get((tc.service, tc.subtype, fn))
            if cmd is None:
                raise CommandError(f"function {fn} of {tc.service},{tc.subtype} is not implemented",
                                   code_of("illegal_data"))
        return cmd, cmd.decode_app_data(tc.app_data)
