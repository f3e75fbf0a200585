"""Live terminal display for operators: links, packet rates, latest values with limit state, alarms.

``snapshot(archive)`` renders one text screen from the archive (only committed data is shown);
``run_monitor`` refreshes it with ANSI escape codes on a terminal, or prints one snapshot with
``once=True``. With ``listen`` it runs a :class:`~telemetry.server.PlatformServer` in a thread
(archive: the given path or a temporary file) and displays what that server commits.
"""
from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from .archive import Archive, iso_utc
from .dictionary import SEVERITIES, Dictionary
from .errors import DictionaryError

__all__ = ["snapshot", "run_monitor"]

_MAX_LINKS = 20
_MAX_ALARMS = 15
_COLOURS = {0: "", 1: "\x1b[36m", 2: "\x1b[33m", 3: "\x1b[35m", 4: "\x1b[1;31m"}


def _fmt(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    if float(value).is_integer() and abs(value) < 1e12:
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e6 else f"{value:.3f}"


def _dictionary(archive: Archive, dictionary: Dictionary | None) -> Dictionary | None:
    if dictionary is not None:
        return dictionary
    text = archive.meta("dictionary")
    try:
        return Dictionary.loads(text, f"{archive.path}:meta.dictionary") if text else Dictionary.bundled()
    except DictionaryError:
        return None


def snapshot(archive: Archive, dictionary: Dictionary | None = None, *, now_s: float | None = None,
             colour: bool = False, link_timeout_s: float = 3.0) -> str:
    """One screen of text describing the archive's current state (ArchiveError if unreadable)."""
    try:
        with archive.snapshot():
            return _snapshot(archive, dictionary, now_s, colour, link_timeout_s)
    except archive._errors as exc:
        raise archive._error(exc) from None


def _snapshot(archive: Archive, dictionary, now_s, colour, link_timeout_s) -> str:
    now = time.time() if now_s is None else now_s
    d = _dictionary(archive, dictionary)
    c = archive.counters()
    lines = [f"groundseg telemetry monitor  {iso_utc([now])[0]}  archive {archive.path}", ""]
    lines.append("LINKS")
    rows, n_sources = archive.recent_sources(_MAX_LINKS)           # the most recently committed
    if not rows:
        lines.append("  (no source heard yet)")
    for sid, state in sorted(rows):
        try:
            st = json.loads(state)
            seen = float(st.get("last_seen_s") or 0)
            up = "UP  " if now - seen < link_timeout_s else "DOWN"
            missing = sum(b - a + 1 for a, b in st.get("missing", []))
            lines.append(f"  {sid:<28} {st.get('spacecraft', ''):<8} {up} last {now - seen:7.1f} s ago"
                         f"  messages {st.get('highest', 0)}  missing {missing}")
        except (ValueError, TypeError, AttributeError, RecursionError):
            lines.append(f"  {sid:<28} (unreadable state)")
    if n_sources > len(rows):
        lines.append(f"  ... {n_sources - len(rows)} less recent sources")
    lines.append("")
    recent = archive.packets_since(now - 10.0)
    lines.append(f"PACKETS  rate {recent / 10.0:,.0f}/s (last 10 s)  received {c['packets_received']:,}"
                 f"  archived {c['packets_archived']:,}  crc errors {c['crc_errors']:,}  malformed {c['malformed']:,}"
                 f"  duplicates {c['duplicates']:,}  idle {c['idle_packets']:,}")
    lines.append(f"         gaps {c['gaps']:,}  recovered {c['recovered_packets']:,}  lost messages"
                 f" {c['missing_messages']:,}  sequence gaps {c['sequence_gaps']:,}")
    lines.append("")
    order = {name: k for k, name in enumerate(d.parameters if d is not None else ())}    # the dictionary's order
    latest = sorted(archive.latest_values(), key=lambda r: (r[0], order.get(r[1], len(order)), r[1]))
    current = None
    for sc, name, t, value, sev, reason in latest:
        if sc != current:
            current = sc
            lines.append(f"PARAMETERS  {sc}")
            lines.append(f"  {'name':<18} {'value':>14} {'unit':<6} {'state':<9} {'reason':<7} time")
        unit, shown = "", _fmt(value)
        if d is not None and name in d.parameters:
            p = d.parameters[name][1]
            unit = p.unit
            if p.enumeration and value is not None and np.isfinite(value):
                shown = p.enumeration.get(int(value), shown)
        sev = int(sev or 0)
        state = SEVERITIES[sev] if 0 <= sev < len(SEVERITIES) else "?"
        on, off = (_COLOURS.get(sev, ""), "\x1b[0m") if colour and sev else ("", "")
        lines.append(f"  {name:<18} {shown:>14} {unit:<6} {on}{state:<9}{off} {reason or '':<7}"
                     f" {iso_utc([t])[0] if t is not None else '-'}")
    if not latest:
        lines.append("PARAMETERS  (no valid packet yet)")
    lines.append("")
    alarms = archive.alarms("open", now_s=now).records()             # unacknowledged first
    unack = sum(a["state"].endswith("_unacknowledged") for a in alarms)
    lines.append(f"ALARMS  open {len(alarms)}  unacknowledged {unack}  raised in all {c['alarms_raised']:,}")
    for a in alarms[:_MAX_ALARMS]:
        sev = int(a["severity"])
        on, off = (_COLOURS.get(sev, ""), "\x1b[0m") if colour else ("", "")
        state = a["state"].replace("_", " ").upper() if a["state"].endswith("_unacknowledged") else \
            a["state"].replace("_", " ")
        who = f"  ack {a['operator']}" if a["acknowledged_utc"] else ""
        if a["state"] == "shelved":
            who += f"  shelved by {a['shelved_by']} until {a['shelved_until_utc']}"
        lines.append(f"  #{a['id']:<5} {a['spacecraft']:<8} {a['parameter']:<18} {on}{SEVERITIES[sev].upper():<8}{off}"
                     f" {a['reason'] or '':<7} value {_fmt(a['value'])}  since {a['raised_utc']}  {state}{who}")
    if len(alarms) > _MAX_ALARMS:
        lines.append(f"  ... {len(alarms) - _MAX_ALARMS} more open alarms")
    return "\n".join(lines) + "\n"


def run_monitor(*, archive: str | None = None, listen: str | None = None, once: bool = False,
                interval_s: float = 1.0, duration_s: float | None = None, keys=None,
                dictionary: Dictionary | None = None, out=None) -> int:
    """Display until ``duration_s`` passes or Ctrl-C; ``once`` prints one snapshot and returns."""
    out = out or sys.stdout
    tty = hasattr(out, "isatty") and out.isatty()
    tmp = None
    server = thread = None
    if listen is not None:
        from .server import PlatformServer
        if archive is None:
            tmp = tempfile.TemporaryDirectory(prefix="groundseg-monitor-")
            archive = str(Path(tmp.name) / "live.sqlite")
        server = PlatformServer(listen, archive, dictionary, keys=keys)
        failure: list[BaseException] = []

        def serve():
            try:
                server.run()
            except Exception as exc:             # shown by the display loop, with exit status 2
                failure.append(exc)
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
    reader = Archive(archive, readonly=listen is None)
    t0 = time.monotonic()
    try:
        while True:
            if server is not None and failure:
                raise failure[0]
            text = snapshot(reader, dictionary, colour=tty)
            if once:
                out.write(text)
                out.flush()
                break
            out.write(("\x1b[H\x1b[2J" if tty else "\f\n") + text)
            out.flush()
            if duration_s is not None and time.monotonic() - t0 >= duration_s:
                break
            time.sleep(interval_s)
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()
        if server is not None:
            server.stop()
            thread.join(timeout=10)
            server.close()
        if tmp is not None:
            tmp.cleanup()
    return 0
