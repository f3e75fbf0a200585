"""The console in a real browser (Playwright driving Debian's Chromium): a console on a free port
runs the platform, fed over ZeroMQ by a housekeeping source; every view loads and updates without
a reload; an alarm raised by a bad packet shows within 2 s and stays until an operator acknowledges
it in the page; a viewer and a request without the CSRF token are refused; a garbage packet does
not break the page; the plot shows the server's buckets. Waits are on conditions in the page.
A screenshot of every view is written to $GROUNDSEG_SCREENSHOTS (default: a temporary directory)."""
import json
import os
import queue
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from groundseg.orbits import Constellation
from groundseg.stations import bundled_stations

from .conftest import PASSWORDS, hk_rows, launch_chromium

playwright_api = pytest.importorskip("playwright.sync_api")
VIEWS = ("passes", "map", "telemetry", "alarms", "commands", "plan", "links")
PAST_S = 600                         # FS8-2: this many seconds of packets from 20 minutes ago


class Feeder(threading.Thread):
    """FS8-1 housekeeping over ZeroMQ, 5 packets a second stamped with the wall clock; ``send``
    puts one more packet (values overridden, or raw bytes) on the wire and returns once sent."""

    def __init__(self, endpoint: str, dictionary):
        super().__init__(daemon=True)
        from telemetry.stream import Source
        self.d, self.apid = dictionary, dictionary.packet("HK").apid
        self.src = Source(endpoint, spacecraft="FS8-1", linger_s=2.0)
        self.seq, self.last_s, self.orders, self.stop = 0, 0.0, queue.Queue(), threading.Event()

    def _packet(self, n: int = 1, **overrides) -> bytes:
        """``n`` packets from now, 1 ms apart and after every packet sent before (the platform does
        not limit-check a packet older than one it has checked), nominal but for ``overrides``."""
        from telemetry.publisher import housekeeping_values
        values = housekeeping_values(np.arange(self.seq, self.seq + n), seed=1)
        values.update({k: np.full(n, v, dtype=float) for k, v in overrides.items()})
        times = max(time.time(), self.last_s + 0.001) + 0.001 * np.arange(n)
        rows = self.d.encode("HK", values, time_s=times, seq_start=self.seq % 16384)
        self.seq, self.last_s = self.seq + n, float(times[-1])
        return rows.tobytes()

    def run(self):
        while not self.stop.is_set():
            try:
                order, done = self.orders.get(timeout=0.2)
            except queue.Empty:
                self.src.send(self._packet(), self.apid, 1)
                continue
            n = 1 if isinstance(order, bytes) else order.pop("n", 1)
            self.src.send(order if isinstance(order, bytes) else self._packet(n, **order), self.apid, n)
            done.set()
        self.src.close(1.0)

    def send(self, order) -> None:
        done = threading.Event()
        self.orders.put((order, done))
        assert done.wait(10), "the feeder did not send"


@pytest.fixture(scope="module")
def live(tmp_path_factory, users_file):
    """A console with its platform on a free port, FS8-1 live and FS8-2's past 10 minutes archived."""
    from telemetry.console import Console, Users
    from telemetry.dictionary import Dictionary
    from telemetry.stream import Source
    d = Dictionary.bundled()
    archive = tmp_path_factory.mktemp("console-browser") / "ops.sqlite"
    day = np.datetime64(int(time.time()) // 86400, "D")
    c = Console(archive, listen="tcp://127.0.0.1:*", constellation=Constellation.formosat8(day.astype("datetime64[s]")),
                stations=bundled_stations(), users=Users(users_file))
    url = c.serve_in_thread("127.0.0.1", 0)
    t0 = float(np.floor(time.time())) - 1200
    past = Source(c.platform_endpoint, spacecraft="FS8-2", linger_s=30.0)
    rows = hk_rows(d, PAST_S, t0=t0)
    for i in range(0, PAST_S, 100):
        past.send(rows[i:i + 100].tobytes(), d.packet("HK").apid, 100)
    assert past.close(30.0)["all_acked"]
    feeder = Feeder(c.platform_endpoint, d)
    feeder.start()
    yield {"console": c, "url": url, "feeder": feeder, "archive": archive, "past_t0": t0}
    feeder.stop.set()
    feeder.join(10)
    c.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    where = os.environ.get("GROUNDSEG_SCREENSHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _page(browser, live, user):
    """A fresh browser context logged in as ``user`` through the login form; its console errors."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live["url"] + "/passes")
    page.fill("#login-user", user)
    page.fill("#login-password", PASSWORDS[user])
    page.click("#login-submit")
    page.wait_for_selector(f'#user [data-user="{user}"]')
    page.wait_for_selector('#view[data-view="passes"]')       # where the login leads: now clicks stay
    return page, errors


def _number(page, selector: str, attribute: str) -> float:
    return float(page.get_attribute(selector, attribute) or "nan")


def _changes(page, selector: str, attribute: str) -> None:
    """Wait until ``selector``'s ``attribute`` grows (a live update, no reload)."""
    page.wait_for_selector(f"{selector}[{attribute}]")
    before = _number(page, selector, attribute)
    page.wait_for_function("([s, a, v]) => Number(document.querySelector(s)?.getAttribute(a)) > v",
                           arg=[selector, attribute, before])


def test_every_view_loads_and_updates_live(browser, live, shots):
    page, errors = _page(browser, live, "victor")
    loads = page.evaluate("performance.getEntriesByType('navigation').length")
    for view in VIEWS:
        page.click(f'#nav a[data-view="{view}"]')            # the router: no page load
        page.wait_for_url(f"**/{view}*")
        if view == "passes":
            page.wait_for_selector("#passes-table td.countdown")
            _changes(page, "#passes-table td.countdown", "data-now-ms")
            page.wait_for_selector(".sky-wrap svg path.track", state="attached")
            # the satellite is drawn exactly while the sky plot's pass is in progress (the plot
            # shows the next pass, marker hidden, when none is)
            page.wait_for_function("""() => {
                const m = document.querySelector('.sky-wrap svg .sat-marker');
                const c = document.querySelector('#sky-title .countdown');
                return !!m && !!c && (m.getAttribute('visibility') === 'visible') === c.classList.contains('in-pass');
            }""")
        elif view == "map":
            page.wait_for_function("() => document.querySelectorAll('#map-table tbody tr[data-satellite]').length === 8")
            _changes(page, "#map-canvas", "data-drawn-ms")
        elif view == "telemetry":
            row = '#parameters-table tr[data-parameter="battery_voltage"]'
            page.wait_for_selector(row)
            _changes(page, row, "data-time-ms")
            page.wait_for_function("() => Number(document.getElementById('plot-canvas').dataset.samples) > 0")
        elif view == "alarms":
            page.wait_for_selector("#alarms-table tbody tr")
        elif view == "commands":
            page.wait_for_selector("#command-name option[value='SLEW']", state="attached")
            page.wait_for_selector("#history-table tbody tr")
        elif view == "plan":
            page.wait_for_selector("#plan-timeline svg #now-line")
            _changes(page, "#plan-timeline svg", "data-now-ms")
        else:
            page.wait_for_selector("#links-table tr[data-source^='FS8-1']")
            before = int(page.text_content("#links-table tr[data-source^='FS8-1'] td:nth-child(6)"))
            page.wait_for_function("([b]) => Number(document.querySelector("
                                   "\"#links-table tr[data-source^='FS8-1'] td:nth-child(6)\").textContent) > b",
                                   arg=[before])
        page.screenshot(path=str(shots / f"{view}.png"))
    assert page.evaluate("performance.getEntriesByType('navigation').length") == loads
    assert errors == []


def test_pass_countdown_agrees_with_groundseg_passes(browser, live):
    from groundseg.passes import predict_passes
    page, errors = _page(browser, live, "victor")
    page.wait_for_selector("#passes-table tbody tr td.countdown[data-now-ms]")
    satellite, station, aos_ms, los_ms, now_ms, text = page.eval_on_selector(      # one tick's values, read at once
        "#passes-table tbody tr td.countdown", """td => [td.parentElement.cells[0].textContent,
        td.parentElement.cells[1].textContent, Number(td.dataset.aosMs), Number(td.dataset.losMs),
        Number(td.dataset.nowMs), td.textContent]""")
    start = np.datetime64(int(now_ms) - 3_600_000, "ms")
    ref = predict_passes(live["console"].passes.constellation, bundled_stations(), start, start + np.timedelta64(1, "D"))
    aos_ref = [np.datetime64(r["aos_utc"][:-1]).astype("datetime64[ms]").astype(np.int64)
               for r in ref.records(("satellite", "station", "aos_utc")) if (r["satellite"], r["station"]) == (satellite, station)]
    assert min(abs(a - aos_ms) for a in aos_ref) <= 1000
    m = re.fullmatch(r"(AOS|LOS) in (\d+):(\d\d):(\d\d)", text)
    assert m, text
    shown_s = int(m[2]) * 3600 + int(m[3]) * 60 + int(m[4])
    target = aos_ms if m[1] == "AOS" else los_ms
    assert abs(shown_s - (target - now_ms) / 1000) <= 1
    assert errors == []


def test_alarm_stays_until_acknowledged_in_the_page(browser, live):
    page, errors = _page(browser, live, "alice")
    page.click('#nav a[data-view="alarms"]')
    page.wait_for_selector("#alarm-counts:has-text('open')")
    live["feeder"].send({"rw1_speed": 7000.0, "n": 2})        # persistence 2: two samples
    row = "#alarms-table tr[data-state$='_unacknowledged']:has(td:text-is('rw1_speed'))"
    page.wait_for_selector(row, timeout=2000)                      # within 2 s of the packet
    page.wait_for_selector("#alarm-indicator[data-severity='critical']")
    # nominal packets follow: the condition returns to normal, the alarm stays listed
    page.wait_for_selector("#alarms-table tr[data-state='returned_unacknowledged']:has(td:text-is('rw1_speed'))")
    alarm_id = page.get_attribute(row, "data-alarm-id")
    page.click(f"#alarms-table tr[data-alarm-id='{alarm_id}'] button[data-action='acknowledge']")
    page.fill("#ack-comment", "wheel 1 spike checked")
    page.click("[role=dialog] button[data-role=confirm]")
    page.wait_for_selector(f"#alarms-table tr[data-alarm-id='{alarm_id}']", state="detached")
    page.wait_for_selector("#actions-table td:text-is('wheel 1 spike checked')")
    acted = [a for a in live["console"].view().archive.actions().records() if a["alarm_id"] == int(alarm_id)]
    assert [(a["operator"], a["action"], a["comment"]) for a in acted] == [("alice", "acknowledge", "wheel 1 spike checked")]
    assert errors == []


def _post(page, path: str, csrf: bool):
    return page.evaluate("""async ([path, csrf]) => {
        const s = await (await fetch('/api/session')).json();
        const headers = {'Content-Type': 'application/json'};
        if (csrf) headers['X-CSRF-Token'] = s.csrf_token;
        const r = await fetch(path, {method: 'POST', headers, body: JSON.stringify({comment: 'from the page'})});
        return [r.status, (await r.json()).error || ''];
    }""", [path, csrf])


def test_viewer_cannot_acknowledge_and_csrf_is_required(browser, live):
    viewer, errors = _page(browser, live, "victor")
    viewer.click('#nav a[data-view="alarms"]')
    viewer.wait_for_selector("#alarm-counts:has-text('open')")
    live["feeder"].send({"battery_temp": 80.0, "n": 3})
    row = viewer.wait_for_selector("#alarms-table tr[data-state$='_unacknowledged']:has(td:text-is('battery_temp'))")
    alarm_id = row.get_attribute("data-alarm-id")
    disabled = viewer.eval_on_selector(f"#alarms-table tr[data-alarm-id='{alarm_id}']",
                                       "tr => [...tr.querySelectorAll('button[data-action]')].map(b => b.disabled)")
    assert disabled == [True, True]                                 # acknowledge, shelve: operators only
    for action in ("acknowledge", "shelve"):
        status, error = _post(viewer, f"/api/alarms/{alarm_id}/{action}", True)
        assert status == 403 and "operator" in error
    operator, _ = _page(browser, live, "alice")
    status, error = _post(operator, f"/api/alarms/{alarm_id}/acknowledge", False)
    assert status == 403 and "X-CSRF-Token" in error
    status, _ = _post(operator, f"/api/alarms/{alarm_id}/acknowledge", True)
    assert status == 200
    viewer.wait_for_selector("#actions-table td:text-is('from the page')")    # the viewer's page follows live
    assert [e for e in errors if "status of 403" not in e] == []


def test_garbage_packet_does_not_break_the_console(browser, live):
    """Nor a browser that goes away mid-session, nor a source that goes silent."""
    gone, _ = _page(browser, live, "victor")
    gone.click('#nav a[data-view="telemetry"]')
    gone.wait_for_selector('#parameters-table tr[data-parameter="battery_voltage"]')
    gone.context.close()                                            # its websocket drops without a goodbye
    page, errors = _page(browser, live, "victor")
    page.click('#nav a[data-view="links"]')
    page.wait_for_selector("#links-table tr[data-source^='FS8-2'][data-status='silent']")   # sent its past, closed
    cell = "#links-table tr[data-source^='FS8-1'] td:nth-child(11)"
    page.wait_for_selector(cell)
    quarantined = int(page.text_content(cell))
    live["feeder"].send(bytes(range(256))[:40])                     # one message of 40 bytes of nonsense
    page.wait_for_function("([s, q]) => Number(document.querySelector(s).textContent) > q", arg=[cell, quarantined])
    page.click('#nav a[data-view="telemetry"]')
    row = '#parameters-table tr[data-parameter="battery_voltage"]'
    page.wait_for_selector(row)
    _changes(page, row, "data-time-ms")                             # still live after the garbage
    assert errors == []


def test_plot_shows_the_servers_buckets(browser, live):
    page, errors = _page(browser, live, "victor")
    t0 = live["past_t0"]
    page.goto(live["url"] + "/telemetry/FS8-2/battery_voltage")
    page.wait_for_selector('#parameters-table tr[data-parameter="battery_voltage"]')
    iso = lambda s: np.datetime_as_string(np.datetime64(int(s), "s")) + "Z"  # noqa: E731
    page.fill("#plot-start", iso(t0))
    page.fill("#plot-end", iso(t0 + PAST_S))
    with page.expect_response(lambda r: "/samples?" in r.url and "FS8-2" in r.url) as got:
        page.click("#plot-apply")
    response = got.value
    rows, width = response.json(), float(response.headers["x-bucket-width-s"])
    page.wait_for_function(f"() => document.getElementById('plot-canvas').dataset.samples === '{PAST_S}'")
    # brute force over the archived values: every bucket's min, max, mean and count
    from telemetry.archive import Archive
    a = Archive(live["archive"], readonly=True)
    try:
        _, t, v, _ = a.parameter_arrays("battery_voltage", spacecraft="FS8-2")
    finally:
        a.close()
    keep = (t >= t0) & (t < t0 + PAST_S)
    t, v = t[keep], v[keep]
    k = np.floor(t / width).astype(np.int64)
    ref = [(int(b * width), v[k == b].min(), v[k == b].max(), v[k == b].mean(), int((k == b).sum())) for b in np.unique(k)]
    got_rows = [(int(np.datetime64(r["time_utc"][:-1]).astype("datetime64[s]").astype(np.int64)), r["min"], r["max"],
                 r["mean"], r["count"]) for r in rows]
    assert len(rows) <= int(re.search(r"buckets=(\d+)", response.url)[1])
    assert [g[0] for g in got_rows] == [r[0] for r in ref] and [g[4] for g in got_rows] == [r[4] for r in ref]
    np.testing.assert_allclose([g[1:4] for g in got_rows], [r[1:4] for r in ref], rtol=1e-12)
    # and what `groundseg telemetry export --buckets` gives for the same request
    from groundseg.cli import main
    out = live["archive"].parent / "buckets.json"
    n = re.search(r"buckets=(\d+)", response.url)[1]
    assert main(["telemetry", "export", "--archive", str(live["archive"]), "--parameter", "battery_voltage",
                 "--spacecraft", "FS8-2", "--start", iso(t0), "--end", iso(t0 + PAST_S), "--buckets", n,
                 "--format", "json", "--output", str(out)]) == 0
    exported = json.loads(out.read_text())
    assert [(e["time_utc"], e["min"], e["max"], e["mean"], e["count"]) for e in exported] == \
        [(r["time_utc"], r["min"], r["max"], r["mean"], r["count"]) for r in rows]
    assert errors == []


def test_critical_command_needs_a_second_person_in_the_page(browser, live):
    alice, errors = _page(browser, live, "alice")
    alice.click('#nav a[data-view="commands"]')
    alice.wait_for_selector("#command-name option[value='SET_MODE']", state="attached")
    alice.select_option("#command-name", "SET_MODE")
    alice.select_option("#command-args select[data-arg='mode']", "SAFE")
    alice.click("#command-submit")
    alice.wait_for_selector("#command-result:has-text('queued')")
    cid = alice.text_content("#command-result").split("#")[1].split(":")[0]
    row = f"#queue-table tr[data-command-id='{cid}']"
    assert alice.is_disabled(f"{row} button[data-action=release]")          # not by its submitter
    alice.select_option("#command-name", "SLEW")
    alice.fill("#command-args input[data-arg='roll_deg']", "100")
    alice.fill("#command-args input[data-arg='pitch_deg']", "0")
    alice.click("#command-submit")
    alice.wait_for_selector("#command-error:has-text('outside')")            # refused before anything is stored
    sam, more = _page(browser, live, "sam")
    sam.click('#nav a[data-view="commands"]')
    sam.click(f"{row} button[data-action=release]")
    sam.wait_for_selector(f"#history-table tr[data-command-id='{cid}'] td:text-is('alice / sam')")
    alice.wait_for_selector(f"{row}[data-state='released']")                 # alice's page follows: now for a contact
    rows = live["console"].commanding(lambda c: c.history().records())
    assert [(r["name"], r["submitted_by"], r["released_by"]) for r in rows if str(r["id"]) == cid] == [("SET_MODE", "alice", "sam")]
    assert not any(r["name"] == "SLEW" for r in rows)
    assert [e for e in errors + more if "status of 400" not in e] == []
