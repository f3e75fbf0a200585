"""Exception classes of the telemetry package.

Messages are in domain terms and carry a location where there is one
(``housekeeping.toml: packets[0].parameters[3].bits: 70 exceeds 64``).
"""
from groundseg.errors import GroundsegError

__all__ = ["TelemetryError", "DictionaryError", "PacketError", "StreamError", "ArchiveError"]


class TelemetryError(GroundsegError):
    """Base class for every error the telemetry package raises on bad input."""


class DictionaryError(TelemetryError):
    """A parameter dictionary that cannot be used."""


class PacketError(TelemetryError):
    """Packet fields that cannot be encoded (out of range, wrong shape)."""


class StreamError(TelemetryError):
    """An endpoint, key directory or wire message that cannot be used."""


class ArchiveError(TelemetryError):
    """An archive file or query that cannot be used."""
