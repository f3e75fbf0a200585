"""Exception classes of the telemetry package.

Messages are in domain terms and carry a location where there is one
(``housekeeping.toml: packets[0].parameters[3].bits: 70 exceeds 64``).
"""
from groundseg.errors import GroundsegError

__all__ = ["TelemetryError", "DictionaryError", "PacketError", "StreamError", "ArchiveError", "CommandError"]


class TelemetryError(GroundsegError):
    """Base class for every error the telemetry package raises on bad input."""


class DictionaryError(TelemetryError):
    """A parameter dictionary that cannot be used."""


class PacketError(TelemetryError):
    """Packet fields that cannot be encoded (out of range, wrong shape)."""


class StreamError(TelemetryError):
    """An endpoint, key directory or wire message that cannot be used."""


class ArchiveError(TelemetryError):
    """An archive or query that cannot be used. ``transient``: the archive cannot be written now
    but may be later (full disk, I/O error, lost connection, read-only); the platform retries."""

    transient = False


class CommandError(TelemetryError):
    """A telecommand, command dictionary or command request that cannot be used.

    ``code``: the PUS 1 failure code a spacecraft reports for it (:data:`telemetry.tc.FAILURE_CODES`),
    or None for ground-side errors."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code
