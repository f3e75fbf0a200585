"""Telemetry: CCSDS packets, parameter dictionary, ZeroMQ streams, operations platform, archive."""
