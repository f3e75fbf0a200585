"""The ground side of commanding: validation before anything is stored, the second-person release,
archived bytes and history, concurrent releases, the uplink rule (against brute force), the command
load, verification. What touches the archive runs on both back ends (``archive_target``)."""
import csv
import io
import itertools
import json
import math
import threading
from contextlib import closing

import pytest
from hypothesis import given, settings, strategies as st

from telemetry.commanding import HISTORY_COLUMNS, MIN_LEAD_S, Commanding
from telemetry.commanding_load import build_load, load_from_json
from telemetry.commanding_uplink import ContactWindow, assign_uplinks, radiated_bits, read_contacts_csv
from telemetry.errors import CommandError
from telemetry.tc import decode_tc
from telemetry.tc_dictionary import CommandDictionary
from telemetry.tc_reports import decode_report, verification_report

T0 = 1795651200.0          # 2026-11-26T00:00:00Z
D = CommandDictionary.bundled()


@pytest.fixture
def cmd(archive_target):
    c = Commanding(archive_target, clock=lambda: T0)
    yield c
    c.close()


bad_submissions = st.one_of(
    st.tuples(st.just("SLEW"), st.fixed_dictionaries({"roll_deg": st.floats(60.0, exclude_min=True) | st.just(math.nan),
                                                      "pitch_deg": st.just(0.0)})),
    st.tuples(st.just("RW_RESET"), st.fixed_dictionaries({"wheel": st.integers(5) | st.integers(max_value=0)})),
    st.tuples(st.just("SET_MODE"), st.fixed_dictionaries({"mode": st.text(max_size=6)})),
    st.tuples(st.text(min_size=1, max_size=8).filter(lambda s: s not in D.commands), st.just({})),
    st.tuples(st.just("IMAGING_STOP"), st.fixed_dictionaries({"acquisition": st.floats() | st.text()})),
)


@settings(max_examples=100, deadline=None)
@given(bad_submissions)
def test_bad_submissions_are_refused_and_nothing_is_stored(tmp_path_factory, bad):
    c = Commanding(":memory:", clock=lambda: T0)
    name, args = bad
    with pytest.raises(CommandError) as e:
        c.submit("FS8-1", name, args, "alice")
    assert "\n" not in str(e.value)
    assert len(c.history()) == 0 and c.pending_uplinks() == []
    c.close()


def test_names_are_checked(cmd):
    for sc, op in (("", "a"), ("FS8/1", "a"), ("FS8-1", ""), ("FS8-1", "x" * 65), (3, "a")):
        with pytest.raises(CommandError):
            cmd.submit(sc, "PAYLOAD_ON", {}, op)
    with pytest.raises(CommandError, match="cannot itself be time-tagged"):
        cmd.submit("FS8-1", "SCHEDULE_RESET", {}, "a", release_time_s=T0 + 100)
    with pytest.raises(CommandError, match="release_time|time"):
        cmd.submit("FS8-1", "PAYLOAD_ON", {}, "a", release_time_s=-5.0)


def test_critical_commands_need_a_second_person(cmd):
    cid = cmd.submit("FS8-1", "MEMORY_ERASE", {}, "alice")
    assert cmd.command(cid)["state"] == "queued" and cmd.command(cid)["raw"] is None
    assert cmd.pending_uplinks() == []
    assert cmd.queue().records()[0]["state"] == "queued"
    with pytest.raises(CommandError, match="someone other than its submitter alice"):
        cmd.release(cid, "alice")
    cmd.release(cid, "bob")
    row = cmd.command(cid)
    assert row["state"] == "released" and row["released_by"] == "bob"
    assert D.identify(decode_tc(row["raw"]))[0].name == "MEMORY_ERASE"
    with pytest.raises(CommandError, match="not waiting for release"):
        cmd.release(cid, "carol")
    with pytest.raises(CommandError, match="no command with id 99"):
        cmd.release(99, "carol")
    normal = cmd.submit("FS8-1", "PAYLOAD_ON", {}, "alice")
    assert cmd.command(normal)["released_by"] == "alice"


def test_archived_bytes_and_request_ids(cmd):
    a = cmd.submit("FS8-1", "SLEW", {"roll_deg": 12.5, "pitch_deg": -1.0}, "alice")
    b = cmd.submit("FS8-1", "IMAGING_STOP", {"acquisition": 4}, "planner", release_time_s=T0 + 3600.25)
    c = cmd.submit("FS8-2", "PAYLOAD_OFF", {}, "alice")
    ra, rb, rc = (cmd.command(i) for i in (a, b, c))
    assert D.identify(decode_tc(ra["raw"]))[1] == {"roll_deg": 12.5, "pitch_deg": -1.0}
    outer = decode_tc(rb["raw"])
    cmd_def, args = D.identify(outer)
    assert cmd_def.name == "SCHEDULE_INSERT" and args["release_time"] == T0 + 3600.25
    inner = args["command"]
    assert D.identify(inner) == (D.command("IMAGING_STOP"), {"acquisition": 4})
    assert inner.ack_flags & 8 == 0                  # accepted with the insertion
    ids = {ra["request_id"], rb["request_id"], rb["inner_request_id"]}
    assert len(ids) == 3 and inner.request_id == rb["inner_request_id"]
    assert decode_tc(rc["raw"]).seq_count == 0        # counts are per spacecraft


def test_history_contract_columns(cmd):
    cmd.submit("FS8-1", "HEATER_ON", {"heater": "battery"}, "alice")
    cmd.submit("FS8-1", "IMAGING_START", {"acquisition": 1, "roll_end_deg": 2.0, "pitch_end_deg": 3.0}, "p",
               release_time_s=T0 + 60)
    text = cmd.history().to_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == HISTORY_COLUMNS == ("id", "spacecraft", "name", "arguments", "submitted_utc",
                                                 "submitted_by", "released_by", "uplinked_utc", "station",
                                                 "acceptance", "start", "completion")
    rec = cmd.history().records()
    assert json.loads(rec[0]["arguments"]) == {"heater": "battery"} and rec[0]["acceptance"] == "-"
    assert json.loads(rec[1]["arguments"])["release_utc"] == "2026-11-26T00:01:00.000Z"
    assert rec[0]["submitted_utc"] == "2026-11-26T00:00:00.000Z"


def test_verification_windows_ok_nok_timeout(cmd):
    """Reports inside the window give OK / NOK, a late one or none gives TIMEOUT."""
    ids = [cmd.submit("FS8-1", "PAYLOAD_ON", {}, "a") for _ in range(3)]
    timed = cmd.submit("FS8-1", "IMAGING_STOP", {"acquisition": 0}, "a", release_time_s=T0 + 500)
    for i in ids + [timed]:
        cmd.mark_uplinked(i, "Svalbard", T0 + 100)
    rows = {i: cmd.command(i) for i in ids + [timed]}

    def rep(stage, ok, rid, t, code=None):
        return decode_report(verification_report(stage, ok, rid, apid=D.apid, seq_count=0, time_s=t, code=code))

    r0, r1, r2 = (rows[i]["request_id"] for i in ids)
    reports = [rep("acceptance", True, r0, T0 + 100), rep("start", True, r0, T0 + 100),
               rep("completion", True, r0, T0 + 101),
               rep("acceptance", False, r1, T0 + 100, code=2),
               rep("acceptance", True, r2, T0 + 100), rep("start", True, r2, T0 + 115),      # 15 s > 10 s window
               rep("acceptance", True, rows[timed]["request_id"], T0 + 100),
               rep("completion", True, rows[timed]["request_id"], T0 + 100),
               rep("start", True, rows[timed]["inner_request_id"], T0 + 500),
               rep("start", True, 12345, T0 + 100)]
    c = cmd.on_reports("FS8-1", reports)
    assert c == {"matched": 8, "late": 1, "unmatched": 1}
    cmd.on_clock(T0 + 1000)
    h = {r["id"]: r for r in cmd.history().records()}
    assert (h[ids[0]]["acceptance"], h[ids[0]]["start"], h[ids[0]]["completion"]) == ("OK", "OK", "OK")
    assert (h[ids[1]]["acceptance"], h[ids[1]]["start"]) == ("NOK:incorrect_checksum", "-")
    assert (h[ids[2]]["start"], h[ids[2]]["completion"]) == ("TIMEOUT", "-")
    assert (h[timed]["acceptance"], h[timed]["start"], h[timed]["completion"]) == ("OK", "OK", "TIMEOUT")
    states = cmd.counts()
    assert states["verified"] == 1 and states["failed"] == 3


# -- the uplink rule ---------------------------------------------------------------------------
def test_concurrent_releases_take_distinct_sequence_counts(archive_target):
    """Two operators on their own connections at once both try to release every queued critical
    command, each submitting a normal command after every try: every command is released once,
    every sequence count is taken once."""
    with closing(Commanding(archive_target, clock=lambda: T0)) as c:
        queued = [c.submit("FS8-1", "MEMORY_ERASE", {}, "alice") for _ in range(10)]
    start, refused = threading.Barrier(2), []

    def operator(name):
        with closing(Commanding(archive_target, clock=lambda: T0)) as mine:
            start.wait()
            for cid in queued:
                try:
                    mine.release(cid, name)
                except CommandError as e:
                    refused.append(str(e))
                mine.submit("FS8-1", "PAYLOAD_ON", {}, name)

    threads = [threading.Thread(target=operator, args=(name,)) for name in ("bob", "carol")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with closing(Commanding(archive_target, clock=lambda: T0)) as c:
        rows = [c.command(r["id"]) for r in c.history().records()]
    assert len(rows) == 30 and {r["state"] for r in rows} == {"released"}
    assert len(refused) == 10 and all("not waiting for release" in e or "someone else meanwhile" in e
                                      for e in refused), refused
    assert sorted(decode_tc(r["raw"]).seq_count for r in rows) == list(range(30))


def test_radiated_bits_of_one_cltu():
    # a 31-byte packet: frame 38 bytes -> 6 code blocks of 8 bytes + start (2) + tail (8)
    assert radiated_bits(31) == 8 * (2 + 6 * 8 + 8)
    assert radiated_bits(28) == 8 * (2 + 5 * 8 + 8)


jobs = st.lists(st.tuples(st.integers(20, 120), st.floats(0, 400), st.sampled_from([None, 0.0, 150.0])),
                min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(jobs, st.lists(st.tuples(st.floats(0, 300), st.floats(5, 120)), min_size=1, max_size=3))
def test_assignment_respects_contacts_rates_deadlines_and_holds(jobs, windows):
    contacts = sorted(ContactWindow(a, a + w, "S", "G") for a, w in windows)
    rate = 8000.0
    pending = [{"id": i, "spacecraft": "S", "raw": bytes(n), "deadline_s": d, "not_before_s": nb}
               for i, (n, d, nb) in enumerate(jobs)]
    out = assign_uplinks(pending, contacts, {"G": rate})
    by = {p["id"]: p for p in pending}
    assert len({u.command_id for u in out}) == len(out)
    last_end = -math.inf
    for u in sorted(out, key=lambda u: u.start_s):
        p = by[u.command_id]
        assert u.end_s - u.start_s == pytest.approx(radiated_bits(len(p["raw"])) / rate)
        assert any(c.start_s <= u.start_s and u.end_s <= c.end_s + 1e-9 for c in contacts)
        assert u.end_s <= p["deadline_s"] + 1e-9
        assert u.start_s >= (p["not_before_s"] if p["not_before_s"] is not None else -math.inf)
        assert u.start_s >= last_end - 1e-9
        last_end = u.end_s


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(10, 60), st.floats(0, 60)), min_size=1, max_size=6))
def test_edf_meets_all_deadlines_whenever_some_order_does(jobs):
    """Brute force over every order inside one contact."""
    rate, contact = 8000.0, ContactWindow(0.0, 60.0, "S", "G")
    dur = [radiated_bits(n) / rate for n, _ in jobs]
    feasible = False
    for order in itertools.permutations(range(len(jobs))):
        t, ok = 0.0, True
        for i in order:
            t += dur[i]
            ok &= t <= min(jobs[i][1], 60.0)
        feasible |= ok
    pending = [{"id": i, "spacecraft": "S", "raw": bytes(n), "deadline_s": d, "not_before_s": None}
               for i, (n, d) in enumerate(jobs)]
    placed = assign_uplinks(pending, [contact], {"G": rate})
    if feasible:
        assert len(placed) == len(jobs)


def test_what_does_not_fit_waits_for_the_next_contact():
    contacts = [ContactWindow(0.0, 1.0, "S", "G"), ContactWindow(100.0, 160.0, "S", "G")]
    pending = [{"id": i, "spacecraft": "S", "raw": bytes(40), "deadline_s": math.inf, "not_before_s": None}
               for i in range(5)]
    rate = 2 * radiated_bits(40)          # two commands a second
    out = assign_uplinks(pending, contacts, {"G": float(rate)})
    assert [u.command_id for u in out] == [0, 1, 2, 3, 4]
    assert [u.start_s for u in out[:2]] == [0.0, 0.5] and out[2].start_s == 100.0


def test_contacts_csv_reader(tmp_path):
    p = tmp_path / "contacts.csv"
    p.write_text("station,satellite,aos_utc,los_utc,status\nSvalbard,FS8-1,2026-11-26T00:10:00Z,"
                 "2026-11-26T00:20:00Z,scheduled\nTroll,FS8-2,2026-11-26T00:10:00Z,2026-11-26T00:20:00Z,dropped\n")
    assert read_contacts_csv(p) == [ContactWindow(T0 + 600, T0 + 1200, "FS8-1", "Svalbard")]
    p.write_text("station,satellite,aos_utc,los_utc,status\nSvalbard,FS8-1,noon,2026-11-26T00:20:00Z,scheduled\n")
    with pytest.raises(CommandError, match="contacts.csv:2: aos_utc"):
        read_contacts_csv(p)
    p.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="missing column"):
        read_contacts_csv(p)


# -- the command load --------------------------------------------------------------------------
def _activities():
    """Satellite 0: a slew and an image at 1000 s, a downlink at 5000 s; an image at 50 s (no
    contact before it)."""
    return {"slews": {"sat": [0], "start_s": [970.0], "roll1_deg": [10.0], "pitch1_deg": [-2.0]},
            "acquisitions": {"sat": [0, 0], "start_s": [50.0, 1000.0], "end_s": [60.0, 1010.0],
                             "roll1_deg": [1.0, 11.0], "pitch1_deg": [0.0, -3.0]},
            "transmissions": {"sat": [0], "station": ["Svalbard"], "start_s": [5000.0], "end_s": [5400.0]}}


def test_load_holds_each_command_for_the_last_contact_before_it_is_due(tmp_path):
    contacts = [ContactWindow(T0 + 200, T0 + 800, "FS8-1", "Svalbard"),
                ContactWindow(T0 + 3000, T0 + 3600, "FS8-1", "Troll"),
                ContactWindow(T0 + 5000, T0 + 5400, "FS8-1", "Svalbard")]
    load = build_load(_activities(), ["FS8-1"], T0, contacts, {"Svalbard": 64000.0, "Troll": 64000.0})
    by = {(e.name, e.release_s - T0): e for e in load.commands if e.release_s is not None}
    assert by[("SLEW", 970.0)].not_before_s == T0 + 200
    assert by[("IMAGING_START", 1000.0)].not_before_s == T0 + 200
    assert by[("DOWNLINK_START", 5000.0)].not_before_s == T0 + 3000        # AOS: the contact before
    assert by[("DOWNLINK_STOP", 5400.0)].not_before_s == T0 + 5000
    assert [(e.name, e.reason) for e in load.unassigned] == [("IMAGING_START", "no contact before it is due"),
                                                              ("IMAGING_STOP", "no contact before it is due")]
    for e in load.commands:
        if e.release_s is not None:
            assert e.uplink_s <= e.release_s - MIN_LEAD_S
    reports = [e for e in load.commands if e.name == "SCHEDULE_REPORT"]
    assert sorted(e.not_before_s - T0 for e in reports) == [200.0, 3000.0, 5000.0]
    load.to_json(tmp_path / "load.json")
    back = load_from_json(tmp_path / "load.json")
    assert [(e.name, e.release_s, e.not_before_s) for e in back.commands] == \
        [(e.name, e.release_s, e.not_before_s) for e in load.commands]
    assert json.loads((tmp_path / "load.json").read_text())["summary"]["unassigned"] == 2


def test_a_full_contact_pushes_commands_to_the_one_before():
    # the last contact before the commands takes one 0.328 s PUS 11,4 at 2 kbit/s: the earliest due
    contacts = [ContactWindow(T0 + 100, T0 + 200, "FS8-1", "Svalbard"),
                ContactWindow(T0 + 900, T0 + 900.5, "FS8-1", "Svalbard")]
    load = build_load(_activities(), ["FS8-1"], T0, contacts, {"Svalbard": 2000.0})
    holds = {(e.name, e.release_s - T0): e.not_before_s - T0 for e in load.commands if e.release_s is not None}
    assert holds == {("SLEW", 970.0): 900.0, ("IMAGING_START", 1000.0): 100.0, ("IMAGING_STOP", 1010.0): 100.0,
                     ("DOWNLINK_START", 5000.0): 100.0, ("DOWNLINK_STOP", 5400.0): 100.0}


def test_load_file_errors(tmp_path):
    p = tmp_path / "load.json"
    p.write_text('{"commands": [{"name": 1}]}')
    with pytest.raises(CommandError, match="not a command load"):
        load_from_json(p)
    with pytest.raises(CommandError, match="cannot read"):
        load_from_json(tmp_path / "none.json")
