"""TOML and JSON documents from untrusted text: any syntax problem, nesting deep enough to
exhaust the parser's recursion included, becomes one error of the caller's class whose message
names the source (``stations.toml: TOML syntax: ...``, ``t.geojson:3:7: invalid JSON: ...``).

>>> parse_document("[" * 100_000, "deep.json", ValueError, "JSON")
Traceback (most recent call last):
ValueError: deep.json: invalid JSON: nested too deeply
"""
from __future__ import annotations

import json
import tomllib

__all__ = ["parse_document"]

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
