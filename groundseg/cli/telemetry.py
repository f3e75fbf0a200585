"""Subcommands of the telemetry package: ``groundseg telemetry keys | platform | publish | stats |
export | monitor | ack | shelve``.

Output contracts: ``platform`` and ``publish`` print one JSON object on stdout when they end;
``stats``, ``keys``, ``ack`` and ``shelve`` print one JSON object; ``export`` writes CSV, JSON
(a list of records) or Parquet. Exit status: 0; 2 with one line on stderr for bad input (including an
archive that is damaged, unreadable or cannot be written); 1 when ``publish`` did not get
everything acknowledged.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

import numpy as np
from telemetry.errors import TelemetryError

from . import options
from .output import emit_tables

__all__ = ["register"]


def _dictionary(path):
    from telemetry.dictionary import Dictionary
    return Dictionary.load(path) if path else None


def _keys(args) -> int:
    """Without --source: the platform's key pair (server.key*). With --source NAME: a key pair
    for that source (NAME.key_secret goes to the source only) and its allow-list entry. Secret
    keys are written 0600 in a 0700 directory; existing keys are kept unless --force."""
    from telemetry.keys import generate_keys
    out = generate_keys(args.dir, args.source, spacecraft=args.spacecraft, replay=args.replay, force=args.force)
    print(json.dumps(out))
    return 0


def _platform(args) -> int:
    """Receives CCSDS packets over ZeroMQ, checks, decodes and archives them, raises alarms, asks
    sources for what it missed and acknowledges only what is committed. Prints where it listens
    on stderr and one JSON summary on stdout when it stops (--duration, --idle-exit, Ctrl-C,
    SIGTERM)."""
    import logging

    from telemetry.server import PlatformServer
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("groundseg telemetry platform: %(message)s"))
    logger = logging.getLogger("telemetry")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    server = PlatformServer(args.listen, args.archive, _dictionary(args.dictionary), keys=args.keys,
                            batch_s=args.batch_ms / 1000.0, allow_replay=args.allow_replay or (),
                            max_message_bytes=args.max_message_bytes)
    stop = threading.Event()

    def _handler(signum, frame):
        stop.set()
    old = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
    print(json.dumps({"listening": server.endpoint, "archive": args.archive}), file=sys.stderr, flush=True)
    try:
        summary = server.run(duration_s=args.duration, idle_exit_s=args.idle_exit, stop=stop)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        server.close()
        logger.removeHandler(handler)
    print(json.dumps(summary), flush=True)
    return 0


def _publish(args) -> int:
    """Sends --count housekeeping packets at --rate, keeps them until the platform acknowledges
    them, and prints its counters as JSON. Exit status 1 when not everything was acknowledged
    within --linger seconds."""
    from telemetry.archive import parse_time
    from telemetry.publisher import publish_housekeeping
    start = parse_time(args.start, "--start") if args.start else None
    stop = threading.Event()
    old = signal.signal(signal.SIGTERM, lambda s, f: stop.set())
    try:
        out = publish_housekeeping(args.connect, args.count, args.rate, spacecraft=args.spacecraft, keys=args.keys,
                                   key_name=args.source, corrupt=args.corrupt, seed=args.seed, start_s=start,
                                   batch=args.batch, linger_s=args.linger, dictionary=_dictionary(args.dictionary),
                                   stop=stop, **({"replay": args.replay} if args.replay else {}))
    finally:
        signal.signal(signal.SIGTERM, old)
    if args.corrupt > 0:
        print(f"corrupted {out['corrupted']} of {out['sent_packets']} packets", file=sys.stderr)
    print(json.dumps(out), flush=True)
    if not out["all_acked"]:
        print(f"groundseg: not delivered: {out['last_seq'] - out['acked']} of {out['last_seq']} messages not"
              f" acknowledged by the platform after --linger {args.linger:g} s", file=sys.stderr)
        return 1
    return 0


def _stats(args) -> int:
    """The archive's counters, open and unacknowledged alarms, quarantined units and packets
    missing by sequence count, as one JSON object (one snapshot)."""
    from telemetry.archive import Archive
    a = Archive(args.archive, readonly=True)
    try:
        print(json.dumps(a.stats()))
    finally:
        a.close()
    return 0


def _export(args) -> int:
    """Archived packets (time_utc,spacecraft,apid,seq_count,length,recovered,raw_hex) in time
    order or, with --parameter, one parameter's values (time_utc,spacecraft,parameter,value,
    unit,state) by spacecraft then time, between --start and --end. With --buckets N: at most
    N time buckets per spacecraft (time_utc,spacecraft,parameter,min,max,mean,count,unit:
    time_utc the bucket's start; buckets without a value left out), computed by the archive
    from its tiles (widths 1 s .. days, whole buckets aligned to the epoch; telemetry/samples.py);
    without --start/--end the parameter's whole time span. Written as it is read: memory stays
    bounded however big the archive."""
    from telemetry.archive import Archive, parse_time
    start = parse_time(args.start, "--start") if args.start else None
    end = parse_time(args.end, "--end") if args.end else None
    if args.buckets is not None and not args.parameter:
        raise TelemetryError("--buckets needs --parameter")
    a = Archive(args.archive, readonly=True)
    try:
        if not args.parameter:
            emit_tables(a.packet_pieces(apid=args.apid, start_s=start, end_s=end, spacecraft=args.spacecraft), args)
            return 0
        unit = _unit(a, args)
        if args.buckets is not None:
            emit_tables(_bucket_tables(a, args.parameter, unit, args, start, end), args)
        else:
            emit_tables(_value_tables(a, args.parameter, unit, args.spacecraft, start, end), args)
    finally:
        a.close()
    return 0


def _unit(archive, args) -> str:
    """The unit of --parameter from the dictionary (--dictionary, else the archive's); checks
    that the parameter is there (and in --apid)."""
    from telemetry.monitor import _dictionary as archive_dictionary
    d = archive_dictionary(archive, _dictionary(args.dictionary))
    if d is None:
        return ""
    if args.parameter not in d.parameters:
        raise TelemetryError(f"--parameter {args.parameter}: not in the dictionary {d.source}")
    pt, p = d.parameters[args.parameter]
    if args.apid is not None and pt.apid != args.apid:
        raise TelemetryError(f"--parameter {args.parameter} is in APID {pt.apid:#x}, not {args.apid:#x}")
    return p.unit


def _value_tables(archive, parameter: str, unit: str, spacecraft, start, end):
    from telemetry.archive import Table, utc_us
    from telemetry.dictionary import SEVERITIES
    states = np.array(SEVERITIES, dtype=object)
    made = False
    for sc, t, v, s in archive.value_pieces(parameter, start_s=start, end_s=end, spacecraft=spacecraft):
        made = True
        yield Table({"time_utc": utc_us(t), "spacecraft": sc, "parameter": np.full(t.size, parameter, dtype=object),
                     "value": v, "unit": np.full(t.size, unit, dtype=object), "state": states[s.astype(np.int64)]},
                    {"time_utc": "us"})
    if not made:
        yield Table({"time_utc": np.zeros(0, dtype="datetime64[us]"), "value": np.zeros(0)} |
                    {k: np.zeros(0, dtype=object) for k in ("spacecraft", "parameter", "unit", "state")},
                    {"time_utc": "us"})


def _bucket_tables(archive, parameter: str, unit: str, args, start, end):
    from telemetry.archive import Table
    names = [args.spacecraft] if args.spacecraft else archive.spacecraft_names(1 << 20)
    made = False
    for sc in sorted(names):
        span = archive.sample_span(sc, parameter)
        if span is None:
            continue
        lo, hi = start if start is not None else span[0], end if end is not None else span[1]
        if lo >= hi:
            continue
        t = archive.samples(sc, parameter, lo, hi, args.buckets)
        if len(t) or not made:
            made = True
            n = len(t)
            cols = {"time_utc": t["time_utc"], "spacecraft": np.full(n, sc, dtype=object),
                    "parameter": np.full(n, parameter, dtype=object)}
            cols.update({k: t[k] for k in ("min", "max", "mean", "count")})
            cols["unit"] = np.full(n, unit, dtype=object)
            yield Table(cols, {"time_utc": "us"})
    if not made:
        yield Table({"time_utc": np.zeros(0, dtype="datetime64[us]")} |
                    {k: np.zeros(0, dtype=object) for k in ("spacecraft", "parameter")} |
                    {k: np.zeros(0) for k in ("min", "max", "mean")} | {"count": np.zeros(0, dtype=np.int64),
                                                                        "unit": np.zeros(0, dtype=object)},
                    {"time_utc": "us"})


def _monitor(args) -> int:
    """The operator's screen: links, packet rates, latest values with limit states, open
    alarms (unacknowledged first), refreshed every --interval seconds."""
    from telemetry.monitor import run_monitor
    if args.archive is None and args.listen is None:
        raise TelemetryError("monitor: give --archive PATH and/or --listen ENDPOINT")
    return run_monitor(archive=args.archive, listen=args.listen, once=args.once, interval_s=args.interval,
                       duration_s=args.duration, keys=args.keys, dictionary=_dictionary(args.dictionary))


def _ack(args) -> int:
    """Acknowledges an alarm as --operator (recorded with the time and --comment); an alarm keeps
    its first acknowledgement."""
    from telemetry.archive import Archive
    a = Archive(args.archive, create=False)
    try:
        out = a.acknowledge_alarm(args.alarm_id, args.operator, args.comment or "")
    finally:
        a.close()
    row = out["alarm"]
    if out["already"]:
        print(f"groundseg: alarm {args.alarm_id} was already acknowledged by {row['operator']} at"
              f" {row['acknowledged_utc']}; that acknowledgement is kept", file=sys.stderr)
    print(json.dumps({"alarm": args.alarm_id, "state": row["state"], "acknowledged_by": row["operator"],
                      "acknowledged_utc": row["acknowledged_utc"], "already_acknowledged": out["already"]}))
    return 0


def _shelve(args) -> int:
    """Shelves an alarm for --duration seconds (at most 30 days): it shows again when the shelf
    expires. Recorded with the operator and the time."""
    from telemetry.archive import Archive
    a = Archive(args.archive, create=False)
    try:
        row = a.shelve_alarm(args.alarm_id, args.operator, args.duration, args.comment or "")["alarm"]
    finally:
        a.close()
    print(json.dumps({"alarm": args.alarm_id, "state": row["state"], "shelved_by": row["shelved_by"],
                      "shelved_until_utc": row["shelved_until_utc"]}))
    return 0


def _number(kind):
    """An argparse type: a number of ``kind`` (finite: checked for every option by the CLI)."""
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    return parse


def _fraction(text: str) -> float:
    v = _number(float)(text)
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be within 0..1, got {v}")
    return v


def _nonnegative(text: str) -> float:
    v = _number(float)(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return v


def _positive(kind):
    def parse(text: str):
        v = _number(kind)(text)
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return v
    return parse


def _apid(text: str) -> int:
    try:
        v = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an APID: {text!r}") from None
    if not 0 <= v <= 0x7FF:
        raise argparse.ArgumentTypeError(f"APID must be within 0..2047, got {text}")
    return v


def register(sub) -> None:
    """Add ``telemetry`` and its subcommands to ``sub`` (argparse subparsers)."""
    top = options.command(sub, "telemetry", None, "CCSDS telemetry over ZeroMQ: platform, sources, archive",
                          "CCSDS telemetry over ZeroMQ into an archiving operations platform.")
    ts = top.add_subparsers(dest="telemetry_command", metavar="SUBCOMMAND")
    ts.required = True

    p = options.command(ts, "keys", _keys, "write the platform's CurveZMQ key pair, or one source's key pair")
    p.add_argument("--dir", required=True, help="directory for the keys and allow-lists")
    p.add_argument("--source", help="make a key pair for this source name (1-32 of A-Z a-z 0-9 . _ -)")
    p.add_argument("--spacecraft", action="append", help="spacecraft the source may publish (repeatable; default: "
                                                         "the source name; '*' for any)")
    p.add_argument("--replay", action="append", help="replay endpoint pattern the platform may connect to for this "
                                                     "source (repeatable; default: loopback), e.g. tcp://10.0.0.5:*")
    p.add_argument("--force", action="store_true", help="replace existing keys")

    p = options.command(ts, "platform", _platform, "run the operations platform (receive, check, archive)")
    p.add_argument("--listen", required=True, help="endpoint to bind, e.g. tcp://127.0.0.1:5555")
    options.add_archive(p, "created if missing")
    p.add_argument("--keys", help="key directory: require CurveZMQ with allow-listed clients")
    p.add_argument("--dictionary", help="parameter dictionary TOML (default: bundled housekeeping)")
    p.add_argument("--duration", type=_positive(float), help="stop after this many seconds")
    p.add_argument("--idle-exit", type=_positive(float),
                   help="stop after this many seconds without traffic (counted once a source was heard)")
    p.add_argument("--batch-ms", type=_positive(float), default=50.0, help="commit interval (default 50 ms)")
    p.add_argument("--allow-replay", action="append", metavar="PATTERN",
                   help="without --keys: a replay endpoint pattern the platform may connect to besides loopback, "
                        "ipc and inproc (repeatable), e.g. tcp://10.0.0.5:*")
    p.add_argument("--max-message-bytes", type=_positive(int), default=1 << 20,
                   help="largest frame accepted (ZMQ_MAXMSGSIZE; default 1 MiB)")

    p = options.command(ts, "publish", _publish, "a housekeeping source")
    p.add_argument("--connect", required=True, help="platform endpoint")
    p.add_argument("--count", required=True, type=_positive(int), help="packets to send")
    p.add_argument("--rate", required=True, type=_positive(float), help="packets per second")
    p.add_argument("--keys", help="key directory (CurveZMQ client) holding SOURCE.key_secret")
    p.add_argument("--source", help="key name in --keys (default: the spacecraft name)")
    p.add_argument("--corrupt", type=_fraction, default=0.0, help="flip a bit in this fraction of packets")
    p.add_argument("--seed", type=int, default=0, help="random seed for values and corruption")
    p.add_argument("--replay", help="replay endpoint to bind (default: an ephemeral tcp port on 127.0.0.1)")
    p.add_argument("--spacecraft", default="FS8-1", help="spacecraft name (default FS8-1)")
    p.add_argument("--start", help="time of the first packet, ISO 8601 UTC (default: now)")
    p.add_argument("--batch", type=_positive(int), default=100, help="packets per message at most (default 100)")
    p.add_argument("--linger", type=_nonnegative, default=30.0,
                   help="seconds to wait for acknowledgements (default 30); exit status 1 if not all came")
    p.add_argument("--dictionary", help="parameter dictionary TOML with an HK packet")

    p = options.command(ts, "stats", _stats, "print the archive's counters as one JSON object")
    options.add_archive(p)

    p = options.command(ts, "export", _export, "export packets or parameter values as CSV, JSON or Parquet")
    options.add_archive(p)
    p.add_argument("--apid", type=_apid, help="only this APID (decimal or 0x hex)")
    p.add_argument("--parameter", help="export this parameter's values instead of raw packets")
    p.add_argument("--spacecraft", metavar="NAME", help="only this spacecraft")
    p.add_argument("--buckets", type=_positive(int), metavar="N",
                   help="with --parameter: at most N time buckets (min, max, mean, count) per spacecraft")
    p.add_argument("--start", help="ISO 8601 UTC start")
    p.add_argument("--end", help="ISO 8601 UTC end")
    options.add_output(p)
    p.add_argument("--dictionary", help="dictionary TOML for units (default: the archive's)")

    p = options.command(ts, "monitor", _monitor, "live operator display")
    p.add_argument("--archive", metavar="PATH_OR_URL",
                   help="display this archive (with --listen: the live platform's archive)")
    p.add_argument("--listen", help="run a platform on this endpoint and display it")
    p.add_argument("--once", action="store_true", help="print one snapshot and exit")
    p.add_argument("--interval", type=_positive(float), default=1.0, help="refresh period, s (default 1)")
    p.add_argument("--duration", type=_positive(float), help="stop after this many seconds")
    p.add_argument("--keys", help="key directory (with --listen)")
    p.add_argument("--dictionary", help="dictionary TOML (default: the archive's)")

    p = options.command(ts, "ack", _ack, "acknowledge an alarm (it keeps its first acknowledgement)")
    options.add_archive(p, "an existing archive")
    p.add_argument("alarm_id", type=int)
    p.add_argument("--operator", required=True, help="who acknowledges (recorded with the time)")
    p.add_argument("--comment", help="why, what was done")

    p = options.command(ts, "shelve", _shelve, "shelve an alarm for a while (it shows again when the shelf expires)")
    options.add_archive(p, "an existing archive")
    p.add_argument("alarm_id", type=int)
    p.add_argument("--operator", required=True, help="who shelves (recorded with the time)")
    p.add_argument("--duration", required=True, type=_positive(float), help="seconds (at most 30 days)")
    p.add_argument("--comment", help="why")
