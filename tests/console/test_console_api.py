"""The console's JSON API over real sockets: the contract, 400 / 401 / 403 / 404, sessions and CSRF,
the alarm state machine through the API, the live websocket, and the users file."""
import json
import os
import stat
import time

import numpy as np
import pytest

from groundseg.orbits import Constellation
from groundseg.stations import bundled_stations

from .conftest import PASSWORDS, Client, groundseg, hk_rows

T0 = 1.8e9          # packet times of the archive (2027-01-15)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """FS8-1 nominal; FS8-2 battery voltage low for 5 s then back (an alarm that returned);
    FS8-3 wheel 1 at 7000 rpm from its 10th packet (a critical alarm, still active)."""
    from telemetry import Platform
    from telemetry.dictionary import Dictionary
    d = Dictionary.bundled()
    path = tmp_path_factory.mktemp("console-api") / "ops.sqlite"
    p = Platform(path, d)
    p.ingest(hk_rows(d, 60, t0=T0).tobytes(), spacecraft="FS8-1")
    v = np.full(20, 31.0)
    v[5:10] = 27.0
    p.ingest(hk_rows(d, 20, t0=T0, battery_voltage=v).tobytes(), spacecraft="FS8-2")
    w = np.full(30, 2000.0)
    w[10:] = 7000.0
    p.ingest(hk_rows(d, 30, t0=T0, rw1_speed=w).tobytes(), spacecraft="FS8-3")
    p.close()
    return path


@pytest.fixture(scope="module")
def constellation():
    return Constellation.formosat8(np.datetime64("2026-12-01T00:00:00"))


@pytest.fixture(scope="module")
def console(archive, users_file, constellation):
    from telemetry.console import Console, Users
    c = Console(archive, constellation=constellation, stations=bundled_stations(), users=Users(users_file))
    url = c.serve_in_thread("127.0.0.1", 0)
    yield c, url
    c.close()


@pytest.fixture
def client(console):
    return Client(console[1])


READ_ROUTES = ["/api/status", "/api/passes", "/api/contacts", "/api/stations", "/api/map", "/api/parameters",
               "/api/parameters/FS8-1", "/api/parameters/FS8-1/battery_voltage/samples", "/api/alarms",
               "/api/actions", "/api/plan", "/api/links", "/api/commands", "/api/commands/dictionary"]


def _one_line_error(doc):
    assert isinstance(doc, dict) and isinstance(doc.get("error"), str), doc
    assert doc["error"] and "\n" not in doc["error"] and "Traceback" not in doc["error"]


def test_reading_needs_a_login(client):
    for path in READ_ROUTES:
        status, _, doc = client.request("GET", path)
        assert status == 401, path
        _one_line_error(doc)
    status, headers, _ = client.request("GET", "/alarms")          # the page itself loads (it shows the login)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in headers["content-security-policy"]
    status, _, doc = client.request("GET", "/api/session")
    assert status == 200 and doc["user"] is None


def test_state_changes_need_an_operator_session_and_csrf(client, console):
    anon = Client(console[1])
    status, _, doc = anon.request("POST", "/api/alarms/1/acknowledge", {"comment": "x"})
    assert status == 401
    _one_line_error(doc)
    viewer = Client(console[1])
    viewer.login("victor")
    status, _, doc = viewer.request("POST", "/api/alarms/1/acknowledge", {"comment": "x"})
    assert status == 403 and "operator" in doc["error"]
    status, _, _ = viewer.request("POST", "/api/alarms/1/shelve", {"duration_s": 60})
    assert status == 403
    client.login("alice")
    status, _, doc = client.request("POST", "/api/alarms/1/acknowledge", {"comment": "x"}, csrf=False)
    assert status == 403 and "X-CSRF-Token" in doc["error"]
    status, _, doc = client.request("POST", "/api/alarms/1/acknowledge", {"comment": "x"}, csrf=False,
                                    headers={"X-CSRF-Token": "forged" * 8})
    assert status == 403
    status, _, doc = client.request("POST", "/api/alarms/1/acknowledge", {"comment": "x"},
                                    headers={"Origin": "http://evil.example"})
    assert status == 403 and "cross-origin" in doc["error"]
    status, _, doc = client.request("GET", "/api/session")
    assert doc["user"] == "alice" and doc["role"] == "operator" and doc["csrf_token"] == client.csrf


def test_wrong_password_and_throttle(console):
    c = Client(console[1])
    status, _, doc = c.request("POST", "/api/login", {"user": "alice", "password": "wrong password"})
    assert status == 401 and doc["error"] == "wrong user name or password"
    status, _, doc = c.request("POST", "/api/login", {"user": "nobody", "password": "wrong password"})
    assert status == 401 and doc["error"] == "wrong user name or password"        # no hint who exists
    for _ in range(10):                                   # ten failures a minute for one user name
        assert c.request("POST", "/api/login", {"user": "mallory", "password": "guess guess"})[0] == 401
    status, headers, doc = c.request("POST", "/api/login", {"user": "mallory", "password": "guess guess"})
    assert status == 429 and int(headers["retry-after"]) > 0


def test_foreign_host_is_refused(client):
    status, _, doc = client.request("GET", "/api/session", headers={"Host": "evil.example:8765"})
    assert status == 400 and "not served here" in doc["error"]


BAD = [
    "/api/passes?start=yesterday", "/api/passes?start=2026-12-02T00:00:00Z&end=2026-12-01T00:00:00Z",
    "/api/passes?start=2026-12-01T00:00:00Z&end=2027-12-01T00:00:00Z", "/api/passes?station=Atlantis",
    "/api/passes?start=" + "9" * 70, "/api/track?satellite=FS8-1&station=Hsinchu",
    "/api/track?satellite=FS8-99&station=Hsinchu&start=2026-12-01T00:00:00Z&end=2026-12-01T00:10:00Z",
    "/api/parameters/FS8-1/battery_voltage/samples?buckets=0",
    "/api/parameters/FS8-1/battery_voltage/samples?buckets=abc",
    "/api/parameters/FS8-1/battery_voltage/samples?buckets=10001",
    "/api/parameters/FS8-1/battery_voltage/samples?start=2027-01-01T00:00:00Z&end=2026-01-01T00:00:00Z",
    "/api/parameters/FS8-1/battery_voltage/samples?start=nan", "/api/alarms?state=closed",
    "/api/plan?start=2026-01-01T00:00:00Z&end=2027-01-01T00:00:00Z", "/api/actions?limit=-1",
    "/api/land?resolution=intermediate", "/api/parameters/FS8-1/battery_voltage/samples?start=1e400",
]


def test_bad_parameters_get_400_with_one_line(client):
    client.login("victor")
    for path in BAD:
        status, _, doc = client.request("GET", path)
        assert status == 400, (path, status, doc)
        _one_line_error(doc)


def test_unknown_things_get_404(client):
    client.login("alice")
    for method, path, body in [("GET", "/api/parameters/FS8-9", None),
                               ("GET", "/api/parameters/FS8-1/no_such/samples", None),
                               ("GET", "/api/parameters/FS8-9/battery_voltage/samples", None),
                               ("POST", "/api/alarms/999999/acknowledge", {"comment": ""}),
                               ("GET", "/api/nothing", None)]:
        status, _, doc = client.request(method, path, body)
        assert status == 404, path
        _one_line_error(doc)


def test_bad_bodies_get_400(client):
    client.login("alice")
    for raw in [b"{not json", b"[1, 2]", b"x" * 20000, json.dumps({"comment": 5}).encode(),
                json.dumps({"comment": "c" * 2001}).encode()]:
        status, _, doc = client.request("POST", "/api/alarms/1/acknowledge", raw=raw,
                                        headers={"Content-Type": "application/json"})
        assert status == 400, raw[:20]
        _one_line_error(doc)
    for duration in [-5, 0, "60", None, 31 * 86400, True, 1e309]:
        body = json.dumps({"duration_s": duration}).replace("Infinity", "1e309").encode()
        status, _, doc = client.request("POST", "/api/alarms/1/shelve", raw=body,
                                        headers={"Content-Type": "application/json"})
        assert status == 400, duration
    status, _, doc = client.request("POST", "/api/alarms/abc/acknowledge", {"comment": ""})
    assert status == 400


def test_status_contract(client):
    client.login("victor")
    status, _, doc = client.request("GET", "/api/status")
    assert status == 200
    assert {"time_utc", "spacecraft", "packets_archived", "alarms_open"} <= set(doc)
    assert doc["spacecraft"] == ["FS8-1", "FS8-2", "FS8-3"] and doc["packets_archived"] == 110
    assert doc["time_utc"].endswith("Z") and abs(doc["time_s"] - time.time()) < 5


def test_passes_are_those_of_groundseg_passes(client, constellation, tmp_path):
    """The same elements, stations and window give the same rows, to the character."""
    tle = tmp_path / "fleet.tle"
    tle.write_text(constellation.to_tle())
    client.login("victor")
    start, end = "2026-12-07T00:00:00Z", "2026-12-07T12:00:00Z"
    status, _, api_rows = client.request("GET", f"/api/passes?start={start}&end={end}")
    assert status == 200 and len(api_rows) > 10
    from groundseg.orbits import Constellation
    from groundseg.passes import predict_passes
    ref = predict_passes(Constellation.from_file(tle), bundled_stations(), np.datetime64(start[:-1]),
                         np.datetime64(end[:-1])).records(tuple(api_rows[0]))
    assert [r["satellite"] for r in api_rows] == [r["satellite"] for r in ref]
    aos_api = np.array([np.datetime64(r["aos_utc"][:-1]) for r in api_rows])
    aos_ref = np.array([np.datetime64(r["aos_utc"][:-1]) for r in ref])
    assert np.max(np.abs((aos_api - aos_ref) / np.timedelta64(1, "ms"))) <= 10      # TLE text rounding
    out = groundseg("passes", "--tle", tle, "--start", start, "--end", end, "--format", "json")
    assert out.returncode == 0, out.stderr
    cli_rows = json.loads(out.stdout)
    assert list(cli_rows[0]) == list(api_rows[0])                   # the keys of passes.csv, in order
    status, _, one = client.request("GET", f"/api/passes?station=Svalbard&start={start}&end={end}")
    assert one and {r["station"] for r in one} == {"Svalbard"}


def test_alarm_state_machine(client, console, archive):
    """Raised -> returned (still listed) -> acknowledged (closed); active -> acknowledged; shelved
    (not in the indicator) -> every action archived with who, when and comment."""
    from telemetry import Platform
    from telemetry.dictionary import Dictionary
    client.login("alice")
    status, _, rows = client.request("GET", "/api/alarms?state=open")
    by = {(r["spacecraft"], r["parameter"]): r for r in rows}
    returned = by[("FS8-2", "battery_voltage")]
    active = by[("FS8-3", "rw1_speed")]
    assert returned["state"] == "returned_unacknowledged" and returned["condition"] == "normal"
    assert active["state"] == "active_unacknowledged" and active["severity"] == 4
    assert rows[0]["state"].endswith("_unacknowledged")
    status, _, st = client.request("GET", "/api/status")
    assert st["alarms"]["highest_severity"] == "critical" and st["alarms_open"] == len(rows)

    t = time.time()
    status, _, out = client.request("POST", f"/api/alarms/{returned['id']}/acknowledge", {"comment": "cell checked"})
    assert status == 200 and out["alarm"]["state"] == "closed" and out["already"] is False
    status, _, rows = client.request("GET", "/api/alarms?state=open")
    assert returned["id"] not in [r["id"] for r in rows]
    status, _, out = client.request("POST", f"/api/alarms/{returned['id']}/acknowledge", {"comment": "again"})
    assert out["already"] is True and out["alarm"]["comment"] == "cell checked"

    status, _, out = client.request("POST", f"/api/alarms/{active['id']}/acknowledge", {"comment": "wheel"})
    assert out["alarm"]["state"] == "active_acknowledged"
    status, _, out = client.request("POST", f"/api/alarms/{active['id']}/shelve", {"duration_s": 600, "comment": "ops"})
    assert status == 200 and out["alarm"]["state"] == "shelved" and out["alarm"]["shelved_by"] == "alice"
    status, _, st = client.request("GET", "/api/status")
    assert st["alarms"]["shelved"] >= 1
    assert all(r["id"] == active["id"] or r["state"] != "shelved" for r in client.request("GET", "/api/alarms")[2])

    # the wheel returns to normal: acknowledged and back to normal is closed (nothing left to shelve)
    d = Dictionary.bundled()
    p = Platform(archive, d)
    p.ingest(hk_rows(d, 10, t0=T0 + 30, seq0=30).tobytes(), spacecraft="FS8-3")
    p.close()
    status, _, every = client.request("GET", "/api/alarms?state=all")
    wheel = next(r for r in every if r["id"] == active["id"])
    assert wheel["condition"] == "normal" and wheel["state"] == "closed"

    status, _, acts = client.request("GET", "/api/actions")
    mine = [a for a in acts if a["alarm_id"] in (returned["id"], active["id"])]
    assert {(a["operator"], a["action"], a["comment"]) for a in mine} >= {
        ("alice", "acknowledge", "cell checked"), ("alice", "acknowledge", "wheel"), ("alice", "shelve", "ops")}
    when = [np.datetime64(a["time_utc"][:-1]).astype("datetime64[ms]").astype(np.int64) / 1e3 for a in mine]
    assert all(t - 1 <= w <= time.time() + 1 for w in when)
    status, _, out = client.request("POST", f"/api/alarms/{returned['id']}/shelve", {"duration_s": 60})
    assert status == 400 and "closed" in out["error"]


def test_samples_contract(client):
    client.login("victor")
    start, end = "2027-01-15T08:00:00Z", "2027-01-15T08:01:00Z"
    status, headers, rows = client.request(
        "GET", f"/api/parameters/FS8-1/battery_voltage/samples?start={start}&end={end}&buckets=6")
    assert status == 200 and int(headers["x-bucket-width-s"]) == 10
    assert rows and list(rows[0]) == ["time_utc", "min", "max", "mean", "count"]
    assert sum(r["count"] for r in rows) == 60


def test_live_websocket(console, archive):
    """Anonymous sockets are refused; a session gets typed messages of what is committed."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from telemetry import Platform
    from telemetry.dictionary import Dictionary
    c, url = console
    ws_url = url.replace("http://", "ws://") + "/api/live"
    with pytest.raises(InvalidStatus):
        with connect(ws_url, additional_headers={"Origin": url}):
            pass
    client = Client(url)
    client.login("victor")
    with connect(ws_url, additional_headers={"Cookie": client.cookie, "Origin": url}) as ws:
        d = Dictionary.bundled()
        p = Platform(archive, d)
        v = np.full(8, 31.0)
        v[3:] = 20.0
        p.ingest(hk_rows(d, 8, t0=T0 + 100, seq0=100, battery_voltage=v).tobytes(), spacecraft="FS8-5")
        p.close()
        seen = {}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not {"parameter", "alarm"} <= set(seen):
            m = json.loads(ws.recv(timeout=deadline - time.monotonic()))
            seen.setdefault(m["type"], []).append(m)
    params = [m for m in seen["parameter"] if m["spacecraft"] == "FS8-5"]
    assert [m["time_s"] for m in params] == [T0 + 100 + i for i in range(8)]
    assert params[-1]["values"]["battery_voltage"]["value"] == pytest.approx(20.0)
    alarm = seen["alarm"][0]
    assert alarm["alarm"]["spacecraft"] == "FS8-5" and alarm["alarm"]["parameter"] == "battery_voltage"
    assert alarm["summary"]["unacknowledged"] >= 1


def test_public_read(archive, constellation):
    from telemetry.console import Console
    c = Console(archive, constellation=constellation, stations=bundled_stations(), public_read=True)
    url = c.serve_in_thread("127.0.0.1", 0)
    try:
        anon = Client(url)
        status, _, doc = anon.request("GET", "/api/status")
        assert status == 200 and doc["packets_archived"] > 0
        status, _, doc = anon.request("POST", "/api/alarms/1/acknowledge", {"comment": ""})
        assert status == 401
    finally:
        c.close()


def test_users_file(tmp_path):
    from telemetry.console import UserError, Users, add_user
    path = tmp_path / "u.json"
    assert add_user(path, "op", "operator", "a long password") is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["users"]["op"]["password"].startswith("scrypt$32768$8$1$")
    assert "a long password" not in path.read_text()
    u = Users(path)
    assert u.authenticate("op", "a long password") == "operator"
    assert u.authenticate("op", "a long passwor") is None and u.authenticate("nobody", "a long password") is None
    assert add_user(path, "op", "viewer", "another password") is False
    assert Users(path).authenticate("op", "another password") == "viewer"
    os.chmod(path, 0o644)
    with pytest.raises(UserError, match="chmod 600"):
        Users(path)
    os.chmod(path, 0o600)
    for name, role, pw in [("bad name", "viewer", "long enough"), ("ok", "admin", "long enough"), ("ok", "viewer", "short")]:
        with pytest.raises(UserError):
            add_user(path, name, role, pw)
    path.write_text("[]")
    with pytest.raises(UserError, match=r"u\.json: expected"):
        Users(path)


def test_cli_adduser_and_console(tmp_path, archive):
    users = tmp_path / "users.json"
    out = groundseg("console", "adduser", "--users", users, "ops1", "--role", "operator", "--password-stdin",
                    input_text="correct horse battery\n")
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE(os.stat(users).st_mode) == 0o600
    out = groundseg("console", "adduser", "--users", users, "ops2", "--role", "operator")
    assert out.returncode == 2 and "--password-stdin" in out.stderr
    out = groundseg("console", "--archive", archive)
    assert out.returncode == 2 and "--users" in out.stderr and "Traceback" not in out.stderr
    out = groundseg("console", "--archive", archive, "--public-read", "--http", "nowhere")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    out = groundseg("console", "--archive", tmp_path / "missing.sqlite", "--users", users)
    assert out.returncode == 2 and "no such archive" in out.stderr
    os.chmod(users, 0o640)
    out = groundseg("console", "--archive", archive, "--users", users)
    assert out.returncode == 2 and "chmod 600" in out.stderr
    os.chmod(users, 0o600)
    out = groundseg("console", "--archive", archive, "--users", users, "--http", "127.0.0.1:0", "--duration", "2")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("console: http://127.0.0.1:") and "1 users" in out.stdout


def test_password_check_is_memory_hard():
    from telemetry.console.users import check_password, hash_password
    stored = hash_password(PASSWORDS["alice"])
    assert check_password(PASSWORDS["alice"], stored) and not check_password("x" * 20, stored)
    assert not check_password("anything", "scrypt$1048577$8$1$AA==$AA==")         # refuses absurd costs
    assert not check_password("anything", "md5$whatever")


def test_commands_submit_and_second_person_release(console):
    """A viewer cannot send; a normal command is released at once, a critical one waits for a
    supervisor who did not submit it; bad commands get 400 with one line and nothing queued."""
    url = console[1]
    viewer, alice, sam = Client(url), Client(url), Client(url)
    viewer.login("victor"), alice.login("alice"), sam.login("sam")
    mode = {"spacecraft": "FS8-1", "name": "SET_MODE", "arguments": {"mode": "SAFE"}}
    status, _, doc = viewer.request("POST", "/api/commands", mode)
    assert status == 403 and "operator" in doc["error"]
    status, _, doc = alice.request("POST", "/api/commands", mode, csrf=False)
    assert status == 403
    status, _, normal = alice.request("POST", "/api/commands", {"spacecraft": "FS8-1", "name": "PAYLOAD_ON"})
    assert status == 200 and normal["state"] == "released"
    status, _, critical = alice.request("POST", "/api/commands", mode)
    assert status == 200 and critical["state"] == "queued" and critical["significance"] == "critical"
    status, _, doc = alice.request("POST", f"/api/commands/{critical['id']}/release", {})
    assert status == 403 and "supervisor" in doc["error"]
    status, _, own = sam.request("POST", "/api/commands", mode)
    status, _, doc = sam.request("POST", f"/api/commands/{own['id']}/release", {})
    assert status == 400 and "other than its submitter" in doc["error"]
    status, _, doc = sam.request("POST", f"/api/commands/{critical['id']}/release", {})
    assert status == 200 and doc["state"] == "released"
    status, _, doc = sam.request("POST", f"/api/commands/{critical['id']}/release", {})
    assert status == 400 and "not waiting for release" in doc["error"]
    before = alice.request("GET", "/api/commands")[2]
    for bad in ({"spacecraft": "FS8-1", "name": "SELF_DESTRUCT"},
                {"spacecraft": "FS8-1", "name": "SLEW", "arguments": {"roll_deg": 100.0, "pitch_deg": 0.0}},
                {"spacecraft": "FS8-1", "name": "SET_MODE", "arguments": ["SAFE"]},
                {"spacecraft": "FS8/1", "name": "PAYLOAD_ON"},
                {"spacecraft": "FS8-1", "name": "PAYLOAD_ON", "release_utc": "tomorrow"}):
        status, _, doc = alice.request("POST", "/api/commands", bad)
        assert status == 400, bad
        _one_line_error(doc)
    status, _, doc = sam.request("POST", "/api/commands/x1/release", {})
    assert status == 400
    status, _, after = viewer.request("GET", "/api/commands")
    assert after["counts"] == before["counts"] and after["counts"]["queued"] == 1
    row = next(r for r in after["history"] if r["id"] == critical["id"])
    assert (row["name"], row["submitted_by"], row["released_by"]) == ("SET_MODE", "alice", "sam")
    assert [q["id"] for q in after["queue"] if q["state"] == "queued"] == [own["id"]]
    status, _, d = viewer.request("GET", "/api/commands/dictionary")
    slew = next(c for c in d["commands"] if c["name"] == "SLEW")
    assert not slew["critical"] and slew["arguments"][0]["maximum"] == 60.0
