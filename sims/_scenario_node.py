"""The scenario reader's table: one TOML table with its file and key path, typed getters
(units from the key's suffix), and unknown keys reported with the closest known one."""
from __future__ import annotations

import datetime as _dt
import difflib

import numpy as np

from groundseg.errors import GroundsegError
from groundseg.timegrid import parse_utc

from .errors import ScenarioError

_UNITS = {
    "_km": "kilometres", "_m": "metres", "_deg": "degrees", "_s": "seconds", "_h": "hours",
    "_w": "watts", "_wh": "watt-hours", "_gbit": "gigabits", "_gbit_s": "gigabits per second",
    "_mbps": "megabits per second", "_deg_s": "degrees per second",
    "_deg_s2": "degrees per second squared", "_fraction": "a fraction 0..1",
}


def _unit_of(key: str) -> str | None:
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if key.endswith(suffix):
            return _UNITS[suffix]
    return None


class _Node:
    """One TOML table being read: knows its file and key path, tracks the keys it used."""

    def __init__(self, data, source: str, path: str):
        self.source, self.path = source, path
        if not isinstance(data, dict):
            raise self.error(f"must be a table, got {_kind(data)}", here=True)
        self.data = data
        self.known: set[str] = set()

    def key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, message: str, key: str | None = None, here: bool = False) -> ScenarioError:
        where = self.path if here or key is None else self.key(key)
        return ScenarioError(f"{self.source}: {where}: {message}" if where else f"{self.source}: {message}")

    def has(self, key: str) -> bool:
        self.known.add(key)
        return key in self.data

    def raw(self, key: str, default=None):
        self.known.add(key)
        return self.data.get(key, default)

    def missing(self, key: str, what: str) -> ScenarioError:
        """The error for a required key that is absent, pointing at a look-alike key if any."""
        strays = [k for k in self.data if k not in self.known]
        close = difflib.get_close_matches(key, strays, n=1, cutoff=0.6)
        hint = ""
        if close:
            hint = f"; found {close[0]!r} instead"
            if _unit_of(key) and _unit_of(close[0]) != _unit_of(key):
                hint += f" (units are part of key names: {key} is in {_unit_of(key)})"
        return self.error(f"missing ({what}){hint}", key)

    def _absent(self, key: str, what: str, required: bool) -> bool:
        """Marks ``key`` used; True when it is absent (an error when it is required)."""
        self.known.add(key)
        if key in self.data:
            return False
        if required:
            raise self.missing(key, what)
        return True

    def number(self, key: str, what: str, *, default=None, required=False, lo=None, hi=None,
               lo_open=False, hi_open=False) -> float | None:
        if self._absent(key, what, required):
            return default
        value = self.raw(key)
        unit = _unit_of(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            unit_text = f" of {unit}" if unit else ""
            hint = " (units are part of the key name: write the bare number)" if isinstance(value, str) else ""
            raise self.error(f"must be a number{unit_text}, got {_kind(value)} {value!r}{hint}", key)
        x = float(value)
        if not np.isfinite(x):
            raise self.error(f"must be finite, got {value!r}", key)
        if lo is not None and (x < lo or (lo_open and x == lo)):
            raise self.error(f"{value!r} must be {'>' if lo_open else '>='} {lo:g} ({what})", key)
        if hi is not None and (x > hi or (hi_open and x == hi)):
            raise self.error(f"{value!r} must be {'<' if hi_open else '<='} {hi:g} ({what})", key)
        return x

    def integer(self, key: str, what: str, *, default=None, required=False, lo=None) -> int | None:
        if self._absent(key, what, required):
            return default
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"must be an integer, got {_kind(value)} {value!r}", key)
        if lo is not None and value < lo:
            raise self.error(f"{value} must be >= {lo} ({what})", key)
        return value

    def string(self, key: str, what: str, *, default=None, required=False) -> str | None:
        if self._absent(key, what, required):
            return default
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"must be a non-empty string, got {_kind(value)} {value!r}", key)
        return value.strip()

    def boolean(self, key: str, what: str, *, default=None) -> bool | None:
        self.known.add(key)
        if key not in self.data:
            return default
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.error(f"must be true or false, got {_kind(value)} {value!r}", key)
        return value

    def time(self, key: str, what: str, *, required=False):
        if self._absent(key, what, required):
            return None
        value = self.raw(key)
        if isinstance(value, _dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=_dt.timezone.utc)
        elif isinstance(value, _dt.date):
            value = _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc)
        elif not isinstance(value, str):
            raise self.error(f"must be a UTC date-time, got {_kind(value)} {value!r}", key)
        try:
            return parse_utc(value)[0]
        except GroundsegError as exc:
            raise self.error(str(exc), key) from None

    def child(self, key: str, what: str, *, required=False) -> "_Node | None":
        if self._absent(key, f"table: {what}", required):
            return None
        return _Node(self.raw(key), self.source, self.key(key))

    def finish(self, allowed=None) -> None:
        """Unknown keys are errors, with a suggestion when one is close."""
        known = set(allowed) if allowed is not None else self.known
        for key in self.data:
            if key in known:
                continue
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = ""
            if close:
                unit = _unit_of(close[0])
                hint = f"; did you mean {close[0]!r}" + (f" (in {unit})" if unit else "") + "?"
            elif known:
                hint = f" (known: {', '.join(sorted(known))})"
            raise self.error(f"unknown key{hint}", key)


def _kind(value) -> str:
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)
