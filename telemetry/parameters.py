"""One telemetry parameter of the dictionary: layout, calibration, limits and checks, and its
TOML reader (the file format is in :mod:`telemetry.dictionary`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from groundseg.documents import parse_document

from .errors import DictionaryError, PacketError

__all__ = ["SEVERITIES", "Parameter"]

SEVERITIES = ("nominal", "watch", "warning", "distress", "critical")
_SEVERITY = {name: i for i, name in enumerate(SEVERITIES)}


@dataclass
class Parameter:
    """One parameter of a packet layout. Limits: ``low``/``high`` (4,) float64 per severity
    watch..critical (NaN = none); ``state_severity`` maps raw enumeration value -> severity."""

    name: str
    type: str
    bits: int
    bit_offset: int
    unit: str = ""
    description: str = ""
    polynomial: tuple[float, ...] = ()
    enumeration: dict[int, str] = field(default_factory=dict)
    low: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    high: np.ndarray = field(default_factory=lambda: np.full(4, np.nan))
    persistence: int = 1
    frozen_samples: int = 0
    frozen_severity: int = 0
    step_max: float = float("nan")
    step_severity: int = 0
    state_severity: dict[int, int] = field(default_factory=dict)

    @property
    def calibrated(self) -> bool:
        return len(self.polynomial) > 0

    @property
    def has_checks(self) -> bool:
        return bool(np.any(np.isfinite(self.low)) or np.any(np.isfinite(self.high)) or self.frozen_samples
                    or np.isfinite(self.step_max) or self.state_severity)

    def raw_range(self) -> tuple[int, int]:
        if self.type == "int":
            return -(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1
        return 0, (1 << self.bits) - 1

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Raw (n,) -> engineering (n,): float64 for polynomials and floats, else int64."""
        if not self.polynomial:
            return raw
        c = self.polynomial
        x = raw.astype(np.float64)
        if len(c) == 2:
            out = x * c[1]
            if c[0]:
                out += c[0]
            return out
        out = np.full(x.shape, c[-1], dtype=np.float64)
        for ci in c[-2::-1]:
            out *= x
            out += ci
        return out

    def uncalibrate(self, eng) -> np.ndarray:
        """Engineering (n,) -> raw (n,), rounded and saturated to the raw range."""
        v = np.asarray(eng)
        if self.enumeration and v.dtype.kind in "US":
            inverse = {label: raw for raw, label in self.enumeration.items()}
            bad = sorted(set(v.tolist()) - set(inverse))
            if bad:
                raise PacketError(f"{self.name}: unknown enumeration label(s) {bad[:3]}")
            v = np.array([inverse[s] for s in v.tolist()], dtype=np.int64)
        v = v.astype(np.float64)
        if np.any(np.isnan(v)):
            raise PacketError(f"{self.name}: NaN has no raw value")
        if self.type == "float":
            return v
        lo, hi = self.raw_range()
        c = self.polynomial
        if len(c) >= 3:
            grid = np.linspace(lo, hi, min(hi - lo + 1, 65537))
            eng_grid = self.calibrate(grid)
            if eng_grid[-1] < eng_grid[0]:
                grid, eng_grid = grid[::-1], eng_grid[::-1]
            v = np.interp(v, eng_grid, grid)
        elif len(c) == 2:
            v = (v - c[0]) / c[1]
        return np.clip(np.round(v), lo, hi).astype(np.int64)


def read_text(path) -> str:
    """A dictionary file's text; DictionaryError naming the file if it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DictionaryError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None


def parse_toml(text: str, source: str) -> dict:
    """TOML text -> document; DictionaryError naming ``source`` and the line if it is not TOML."""
    return parse_document(text, source, DictionaryError, "TOML")


def _where(path: str, where: str) -> str:
    return f"{path}: {where}"


def _severity(value, loc: str) -> int:
    if value not in _SEVERITY or value == "nominal":
        raise DictionaryError(f"{loc}: severity must be one of {list(SEVERITIES[1:])}, got {value!r}")
    return _SEVERITY[value]


def _number(value, loc: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DictionaryError(f"{loc}: expected a number, got {value!r}")
    return float(value)


def _int(value, loc: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DictionaryError(f"{loc}: expected an integer in {lo}..{hi}, got {value!r}")
    return value


def _enumeration(e, loc: str) -> list[tuple[str, int, object]]:
    """A TOML table raw = label as (key, raw, label); DictionaryError unless every key is an integer."""
    if not isinstance(e, dict) or not e:
        raise DictionaryError(f"{loc}.enumeration: expected a table raw = label")
    out = []
    for k, label in e.items():
        try:
            out.append((k, int(k, 0), label))
        except ValueError:
            raise DictionaryError(f"{loc}.enumeration.{k}: key must be an integer") from None
    return out


_PARAM_KEYS = {"name", "type", "bits", "bit_offset", "unit", "description", "polynomial", "enumeration",
               "limits", "frozen", "step", "states"}


def _parameter(t: dict, loc: str, next_offset: int) -> Parameter:
    unknown = set(t) - _PARAM_KEYS
    if unknown:
        raise DictionaryError(f"{loc}: unknown key(s) {sorted(unknown)}")
    name = t.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise DictionaryError(f"{loc}.name: expected an identifier, got {name!r}")
    loc = f"{loc} ({name})"
    ptype = t.get("type")
    if ptype not in ("uint", "int", "float"):
        raise DictionaryError(f"{loc}.type: expected 'uint', 'int' or 'float', got {ptype!r}")
    bits = _int(t.get("bits"), f"{loc}.bits", 1, 64)
    offset = _int(t.get("bit_offset", next_offset), f"{loc}.bit_offset", 0, 8 * 65000)
    if ptype == "float" and (bits not in (32, 64) or offset % 8):
        raise DictionaryError(f"{loc}: a float is 32 or 64 bits on a byte boundary")
    if ptype != "float" and (offset % 8 + bits + 7) // 8 > 8:
        raise DictionaryError(f"{loc}: a {bits}-bit field at bit {offset} spans more than 8 bytes")
    p = Parameter(name=name, type=ptype, bits=bits, bit_offset=offset,
                  unit=str(t.get("unit", "")), description=str(t.get("description", "")))
    if "polynomial" in t:
        c = t["polynomial"]
        if not isinstance(c, list) or not c:
            raise DictionaryError(f"{loc}.polynomial: expected a non-empty list of numbers")
        p.polynomial = tuple(_number(x, f"{loc}.polynomial[{i}]") for i, x in enumerate(c))
        if ptype == "float":
            raise DictionaryError(f"{loc}.polynomial: floats are not calibrated")
        if len(p.polynomial) == 1 or (len(p.polynomial) == 2 and p.polynomial[1] == 0):
            raise DictionaryError(f"{loc}.polynomial: a constant calibration cannot be inverted")
    if "enumeration" in t:
        p.enumeration.update((raw, str(label)) for _, raw, label in _enumeration(t["enumeration"], loc))
    if "limits" in t:
        lim = t["limits"]
        if not isinstance(lim, dict):
            raise DictionaryError(f"{loc}.limits: expected a table")
        for k, v in lim.items():
            if k == "persistence":
                p.persistence = _int(v, f"{loc}.limits.persistence", 1, 1000)
                continue
            level = _severity(k, f"{loc}.limits.{k}") - 1
            if not isinstance(v, dict) or not v or set(v) - {"low", "high"}:
                raise DictionaryError(f"{loc}.limits.{k}: expected a table with low and/or high")
            if "low" in v:
                p.low[level] = _number(v["low"], f"{loc}.limits.{k}.low")
            if "high" in v:
                p.high[level] = _number(v["high"], f"{loc}.limits.{k}.high")
            if "low" in v and "high" in v and p.low[level] >= p.high[level]:
                raise DictionaryError(f"{loc}.limits.{k}: low must be below high")
        for bounds, cmp, word in ((p.low, np.greater, "low"), (p.high, np.less, "high")):
            b = bounds[np.isfinite(bounds)]
            if b.size > 1 and np.any(~cmp(b[:-1], b[1:]) & (b[:-1] != b[1:])):
                raise DictionaryError(f"{loc}.limits: {word} bounds must widen from watch to critical")
    if "frozen" in t:
        f = t["frozen"]
        if not isinstance(f, dict):
            raise DictionaryError(f"{loc}.frozen: expected a table with samples and severity")
        p.frozen_samples = _int(f.get("samples"), f"{loc}.frozen.samples", 2, 1_000_000)
        p.frozen_severity = _severity(f.get("severity", "warning"), f"{loc}.frozen.severity")
    if "step" in t:
        r = t["step"]
        if not isinstance(r, dict):
            raise DictionaryError(f"{loc}.step: expected a table with max and severity")
        p.step_max = _number(r.get("max"), f"{loc}.step.max")
        if p.step_max <= 0:
            raise DictionaryError(f"{loc}.step.max: must be positive")
        p.step_severity = _severity(r.get("severity", "warning"), f"{loc}.step.severity")
    if "states" in t:
        s = t["states"]
        if not p.enumeration or not isinstance(s, dict):
            raise DictionaryError(f"{loc}.states: needs an enumeration and a table label = severity")
        inverse = {label: raw for raw, label in p.enumeration.items()}
        for label, sev in s.items():
            if label not in inverse:
                raise DictionaryError(f"{loc}.states.{label}: not a label of the enumeration")
            p.state_severity[inverse[label]] = _severity(sev, f"{loc}.states.{label}")
    return p
