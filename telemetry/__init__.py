"""Telemetry: CCSDS packets, parameter dictionary, ZeroMQ streams, operations platform, archive,
commanding.

Modules (one idea each): ``packets`` (CCSDS / PUS-C wire format, CRC, batch split),
``dictionary`` (TOML layouts, calibration, limits), ``limits`` (checks and alarm transitions),
``archive`` (SQLite WAL archive and queries), ``alarms`` (alarm states, operator actions),
``platform`` (in-process pipeline), ``stream`` (ZeroMQ wire format, validation, sources),
``keys`` (CurveZMQ key directory, per-source identities), ``tracker`` (per-source sequence
state), ``server`` (networked platform), ``publisher`` (housekeeping source), ``monitor``
(terminal display). Commanding: ``tc`` (PUS-C
telecommands), ``tc_reports`` (PUS 1, PUS 11 reports), ``tc_dictionary`` (commands in TOML),
``tc_link`` (the uplink over ZeroMQ), ``commanding`` (submit, release, verify: the service),
``commanding_uplink`` (contacts, rates, sessions), ``commanding_load`` (plan -> PUS 11 load),
``commanding_store`` (the archive's command tables). Its command line, ``groundseg telemetry
...``, is ``groundseg/cli/telemetry.py``.
The web console: ``telemetry.console``.

Programmatic path for a simulator (no sockets)::

    import numpy as np
    from telemetry import Dictionary, Platform
    d = Dictionary.bundled()
    rows = d.encode("HK", {"battery_voltage": v, "rw1_speed": w, ...}, time_s=t, seq_start=0)
    p = Platform("run/telemetry.sqlite", d)
    p.ingest(rows.tobytes(), spacecraft="FS8-3")
    p.archive.alarms("open").records()  # open alarms (unacknowledged first) with reasons and states
    p.archive.acknowledge_alarm(alarm_id, "alice", "seen")            # or shelve_alarm(...)

Over ZeroMQ: ``PlatformServer(listen, archive, keys=...).run(...)`` and ``Source(connect,
keys=...).send(...)`` (or ``publish_housekeeping``); both write the same archive format. What
is guaranteed under hostile input and faults: README, "Reliability".
"""
from .archive import Archive
from .dictionary import SEVERITIES, Dictionary, PacketType, Parameter
from .errors import TelemetryError
from .limits import AlarmEvent, LimitChecker
from .packets import crc16, crc16_rows, decode_headers, encode_packets, split_packets
from .platform import Chunk, Platform
from .publisher import housekeeping_values, publish_housekeeping
from .keys import generate_keys
from .server import PlatformServer
from .stream import Source

__all__ = ["Archive", "SEVERITIES", "Dictionary", "PacketType", "Parameter", "TelemetryError",
           "AlarmEvent", "LimitChecker", "crc16", "crc16_rows", "decode_headers", "encode_packets",
           "split_packets", "Chunk", "Platform", "housekeeping_values", "publish_housekeeping",
           "PlatformServer", "Source", "generate_keys"]
