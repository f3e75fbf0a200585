"""TOML and JSON documents from untrusted text: any syntax problem, nesting deep enough to
exhaust the parser's recursion included, becomes one error of the caller's class whose message
names the source (``stations.toml: TOML syntax: ...``, ``t.geojson:3:7: invalid JSON: ...``).

>>> parse_document("[" * 100_000, "deep.json", ValueError, "JSON")
Traceback (most recent call last):
ValueError: deep.json: invalid JSON: nested too deeply
"""
from __future__ import annotations

import json
import math
import tomllib

__all__ = ["parse_document", "document_number"]

_PARSERS = {"TOML": (tomllib.loads, tomllib.TOMLDecodeError, "TOML syntax"),
            "JSON": (json.loads, json.JSONDecodeError, "invalid JSON")}


def parse_document(text: str, source: str, error: type[Exception], language: str):
    """The ``language`` (``"TOML"`` or ``"JSON"``) document in ``text``, or ``error`` naming
    ``source`` (with line:column for JSON)."""
    loads, syntax_error, problem = _PARSERS[language]
    try:
        return loads(text)
    except syntax_error as exc:
        where = f":{exc.lineno}:{exc.colno}" if language == "JSON" else ""
        raise error(f"{source}{where}: {problem}: {getattr(exc, 'msg', exc)}") from None
    except RecursionError:
        raise error(f"{source}: {problem}: nested too deeply") from None


def document_number(value, what: str, error: type[Exception]) -> float:
    """A finite number from a parsed TOML / JSON document, else ``error`` naming ``what``:
    there a number is an integer or a float, never a boolean or a string (``"24"`` is text).

    >>> document_number(True, "s.toml: latitude_deg", ValueError)
    Traceback (most recent call last):
    ValueError: s.toml: latitude_deg must be a number, got true
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(f"{what} must be a number, got {json.dumps(value, default=repr)[:40]}")
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        raise error(f"{what} must be a finite number, got {str(value)[:40]}")
    return x
