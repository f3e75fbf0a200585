"""Subcommands of commanding: ``command list | send | release | load | history | queue`` and
``sim spacecraft`` (a standalone simulated fleet that takes the commands).

The ground and a standalone fleet agree on the contact plan by computing it from the same
scenario (``--scenario``, default the bundled one) or by reading the same ``contacts.csv``
(``--contacts``). Commands go up only inside those contacts and in the fleet's time: ``send``
reads the fleet's clock, uplinks in the spacecraft's next contact and waits for every verifier
stage (virtual time: it advances the fleet's clock; real time: it waits).

Exit status: 0 (verified, or queued for a second operator), 1 (a stage failed or timed out, or
no contact takes the command), 2 (bad input, one line on stderr).
"""
from __future__ import annotations

import json

from telemetry.errors import CommandError

from . import options
from .output import emit_table, emit_text, note

__all__ = ["register", "register_sim_spacecraft"]


def _archive(p) -> None:
    p.add_argument("--archive", required=True, metavar="PATH_OR_URL",
                   help="the operations archive (the telemetry platform's SQLite file or postgresql:// URL), "
                        "which keeps the command history")


def _contact_plan(p) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--contacts", metavar="FILE", help="the contact plan: a contacts.csv ('groundseg contacts' "
                                                        "or 'demo'); default: the scenario's")
    src.add_argument("--scenario", metavar="FILE",
                     help="the scenario whose contact plan to use ('bundled', the default)")


def _uplink(p, required: bool) -> None:
    p.add_argument("--uplink", required=required, metavar="ENDPOINT",
                   help="the fleet's uplink endpoint (see 'groundseg sim spacecraft')")
    p.add_argument("--keys", metavar="DIR", help="CurveZMQ key directory (see 'groundseg telemetry keys')")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S",
                   help="seconds to wait for the fleet to answer (default 30)")


def register(sub) -> None:
    """Add ``command`` and its subcommands to ``sub`` (argparse subparsers)."""
    c = options.command(sub, "command", None, "telecommands: dictionary, send, release, loads, history",
                        "Commanding: submit -> validate -> queue -> release -> uplink in a contact -> verify "
                        "(PUS 1), every command and verifier result kept in the archive.")
    cs = c.add_subparsers(dest="command_command", metavar="COMMAND")
    cs.required = True

    p = options.command(cs, "list", _list, "the command dictionary")
    p.add_argument("--dictionary", metavar="FILE", help="command dictionary TOML (default: bundled)")

    p = options.command(cs, "send", _send, "submit a command, uplink it in the next contact, verify it")
    _archive(p)
    _uplink(p, required=True)
    p.add_argument("--spacecraft", required=True, metavar="NAME")
    p.add_argument("--name", required=True, metavar="COMMAND", help="command name (see 'command list')")
    p.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE", help="an argument (repeatable)")
    p.add_argument("--operator", required=True, metavar="NAME")
    p.add_argument("--at", metavar="ISO", help="time-tag it: the on-board schedule releases it then (PUS 11)")
    _contact_plan(p)

    p = options.command(cs, "release", _release, "release a critical command (a second operator)")
    _archive(p)
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--operator", required=True, metavar="NAME")
    _uplink(p, required=False)
    _contact_plan(p)

    p = options.command(cs, "load", _load, "a plan as PUS 11 time-tagged commands held for their contacts")
    p.add_argument("--plan", required=True, metavar="FILE", help="plan.json ('groundseg plan' or 'demo')")
    p.add_argument("--contacts", required=True, metavar="FILE", help="contacts.csv of the same window")
    p.add_argument("--scenario", metavar="FILE",
                   help="the plan's scenario: satellites, window, step, stations ('bundled', the default)")
    p.add_argument("--output", required=True, metavar="FILE", help="load.json to write")

    p = options.command(cs, "history", _history, "every command: who, when, where, verifier results")
    _archive(p)
    p.add_argument("--spacecraft", metavar="NAME", help="only this spacecraft")
    options.add_output(p)

    p = options.command(cs, "queue", _queue, "commands not yet uplinked (waiting for release or a contact)")
    _archive(p)
    p.add_argument("--spacecraft", metavar="NAME", help="only this spacecraft")
    options.add_output(p)


def register_sim_spacecraft(simsub) -> None:
    """Add ``spacecraft`` to the ``sim`` subcommands."""
    p = options.command(simsub, "spacecraft", _sim_spacecraft,
                        "the scenario's satellites as a standalone fleet that takes commands")
    p.add_argument("--listen-uplink", required=True, metavar="ENDPOINT", help="e.g. tcp://127.0.0.1:5600")
    p.add_argument("--publish", metavar="ENDPOINT",
                   help="the telemetry platform for the reports (e.g. tcp://127.0.0.1:5555)")
    p.add_argument("--scenario", metavar="FILE", help="scenario TOML ('bundled', the default)")
    p.add_argument("--realtime", type=float, metavar="FACTOR",
                   help="run the clock FACTOR times faster than real time (default: virtual time)")
    p.add_argument("--keys", metavar="DIR", help="CurveZMQ key directory")


# -- actions ---------------------------------------------------------------------------------
def _list(args) -> int:
    """Every command: PUS service and subtype, significance (critical: released by a second
    operator), arguments with ranges or labels and units, verifier stages with their windows."""
    from telemetry.tc_dictionary import CommandDictionary
    d = CommandDictionary.load(args.dictionary) if args.dictionary else CommandDictionary.bundled()
    lines = [f"{d.name} {d.version}: {len(d.commands)} commands to APID {d.apid:#05x}"]
    emit_text("\n".join(lines + [c.describe() for c in d.commands.values()]) + "\n", None)
    return 0


def _pairs(items) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--arg {item!r}: expected KEY=VALUE")
        if key in out:
            raise CommandError(f"--arg {key}: given twice")
        out[key] = value
    return out


def _open(path, must_exist: bool = False):
    from telemetry.commanding import Commanding
    return Commanding(path, create=not must_exist)


def _ground_contacts(args):
    """(contact windows, uplink rates) from --contacts or the scenario's contact plan."""
    from sims.fleet_service import contact_plan_of
    from telemetry.commanding_uplink import contact_windows, read_contacts_csv, uplink_rates
    scenario = options.scenario(getattr(args, "scenario", None))
    if getattr(args, "contacts", None):
        windows = read_contacts_csv(args.contacts)
    else:
        windows = contact_windows(contact_plan_of(scenario)[2])
    return windows, uplink_rates(scenario.stations)


def _link(args):
    """(GroundLink to --uplink, the fleet's time)."""
    from telemetry.tc_link import GroundLink
    if args.timeout <= 0:
        raise CommandError(f"--timeout must be positive, got {args.timeout:g}")
    link = GroundLink(args.uplink, keys=args.keys, timeout_s=args.timeout)
    try:
        return link, link.clock()
    except BaseException:
        link.close()
        raise


def _uplink_and_verify(commanding, command_id: int, args, link, now: float) -> int:
    """Uplink every released command in the next contacts and wait for the verification of
    ``command_id``; prints its line; returns the exit status."""
    from telemetry.commanding_uplink import UplinkSession, assign_uplinks
    windows, rates = _ground_contacts(args)
    plan = {u.command_id: u for u in assign_uplinks(commanding.pending_uplinks(), windows, rates, now_s=now)}
    if command_id not in plan:
        note(f"no contact of the contact plan takes command {command_id} after {_iso(now)}: it stays "
             "released on the ground")
        return 1
    UplinkSession(commanding, link, windows, rates, now_s=now).run(
        commanding.verified_by_s(command_id, plan[command_id].end_s) + 1.0)
    return _report(commanding, command_id)


def _iso(t) -> str:
    from telemetry.commanding import iso_utc_ms
    return iso_utc_ms(t)


def _report(commanding, command_id: int) -> int:
    row = commanding.command(command_id)
    h = next(r for r in commanding.history(row["spacecraft"]).records() if r["id"] == command_id)
    print(f"command {command_id} {row['name']} -> {row['spacecraft']}: {row['state']}; uplinked "
          f"{h['uplinked_utc'] or '-'} via {h['station'] or '-'}; acceptance {h['acceptance']}, start "
          f"{h['start']}, completion {h['completion']}")
    return 0 if row["state"] == "verified" else 1


def _send(args) -> int:
    """Validates the command (an unknown command, an argument out of range or of the wrong type:
    refused with one line, nothing sent), queues it (a critical command waits for 'command release'
    by another operator), uplinks it with every other released command in the spacecraft's next
    contact, waits for its verifier stages and prints the command id and the results."""
    c = _open(args.archive)
    link = None
    try:
        cmd = c.dictionary.command(args.name)
        values = cmd.parse_text(_pairs(args.arg))
        link, now = _link(args)
        c.clock = lambda: now
        cid = c.submit(args.spacecraft, args.name, values, args.operator, release_time_s=args.at)
        if c.command(cid)["state"] == "queued":
            print(f"command {cid} {args.name} -> {args.spacecraft}: queued; it is critical and waits for another "
                  f"operator: groundseg command release --archive {args.archive} {cid} --operator NAME")
            return 0
        return _uplink_and_verify(c, cid, args, link, now)
    finally:
        if link is not None:
            link.close()
        c.close()


def _release(args) -> int:
    """Releases a queued critical command; the releasing operator must not be its submitter. It
    goes up with the next 'command send' to that spacecraft, or now with --uplink. The release
    time is the fleet's clock with --uplink, else this computer's."""
    c = _open(args.archive, must_exist=True)
    link = None
    try:
        if args.uplink is None:
            c.release(args.id, args.operator)
            row = c.command(args.id)
            print(f"command {args.id} {row['name']} -> {row['spacecraft']}: released by {args.operator}; it goes "
                  f"up with the next uplink to {row['spacecraft']}")
            return 0
        link, now = _link(args)
        c.clock = lambda: now
        c.release(args.id, args.operator)
        return _uplink_and_verify(c, args.id, args, link, now)
    finally:
        if link is not None:
            link.close()
        c.close()


def _load(args) -> int:
    """Turns plan.json's activities (slews, imaging on / off, downlinks, as the simulator derives
    them) into PUS 11 time-tagged commands, each held for the last contact of --contacts before it
    is due and checked against the stations' uplink rates, and writes load.json: the commands, the
    ones no contact can take (with the reason) and a summary."""
    from sims.plan_file import schedule_from_plan_file
    from telemetry.commanding_load import build_load
    from telemetry.commanding_uplink import read_contacts_csv, unix_s, uplink_rates
    scenario = options.scenario(args.scenario)
    sched = schedule_from_plan_file(args.plan, scenario)
    activities = {"slews": sched.slews, "acquisitions": sched.acquisitions, "transmissions": sched.transmissions}
    load = build_load(activities, list(scenario.constellation.names), unix_s(scenario.window.start),
                      read_contacts_csv(args.contacts), uplink_rates(scenario.stations))
    emit_text(load.to_json() + "\n", args.output)
    s = load.summary()
    note(f"{s['commands']} commands for {s['contacts_used']} contacts written to {args.output}; "
         f"{s['unassigned']} not commandable"
         + "".join(f"; {e.spacecraft} {e.name} at {_iso(e.release_s)} ({e.reason})" for e in load.unassigned[:3]))
    return 0


def _history(args) -> int:
    """Every command in id order: id,spacecraft,name,arguments,submitted_utc,submitted_by,
    released_by,uplinked_utc,station,acceptance,start,completion. A stage reads OK, NOK:<failure>,
    TIMEOUT, PENDING or - (does not apply); a time-tagged command's arguments carry its
    release_utc."""
    return _view(args, "history")


def _queue(args) -> int:
    """Commands not yet uplinked: id,spacecraft,name,state (queued: waits for a second operator;
    released: waits for a contact),significance,submitted_by,release_utc,not_before_utc."""
    return _view(args, "queue")


def _view(args, name: str) -> int:
    """Write the archive's ``Commanding.<name>(--spacecraft)`` table."""
    c = _open(args.archive, must_exist=True)
    try:
        emit_table(getattr(c, name)(args.spacecraft), args)
    finally:
        c.close()
    return 0


def _sim_spacecraft(args) -> int:
    """Serves the scenario's satellites: telecommands arriving on --listen-uplink reach a
    satellite only inside the scenario's contacts; they are checked (CRC, arguments), executed
    or scheduled (PUS 11) and answered with PUS 1 reports, which also go to the platform at
    --publish. Virtual time (the ground's clock drives it) unless --realtime. Stops at the
    window's end, on Ctrl-C or SIGTERM, and prints what it received and executed as JSON."""
    import signal
    import threading

    from sims.fleet_service import run_fleet
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    out = run_fleet(options.scenario(args.scenario), args.listen_uplink, publish=args.publish,
                    realtime=args.realtime, keys=args.keys, stop=stop, log=note)
    print(json.dumps(out, indent=1))
    return 0
