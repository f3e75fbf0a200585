"""Errors of the console: each maps to one HTTP status and a one-line JSON message."""
from ..errors import TelemetryError

__all__ = ["ConsoleError", "BadRequest", "NotFound"]


class ConsoleError(TelemetryError):
    """Base class of the console's errors (a configuration that cannot be served)."""

    status = 400


class BadRequest(ConsoleError):
    """A query parameter or body the API cannot use (HTTP 400)."""


class NotFound(ConsoleError):
    """No such spacecraft, parameter, alarm or page (HTTP 404)."""

    status = 404
