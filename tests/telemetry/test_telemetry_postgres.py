"""A PostgreSQL archive that cannot be reached, refuses the password or holds no archive: one
line naming the URL (never its password) and exit 2 from every command; a platform whose
connection is cut, and new connections refused, stops acknowledging (the source keeps its
buffer) and, once the database takes connections again, reconnects, resumes and archives every
packet once."""
import socket
import uuid

import pytest

from groundseg.cli import main
from telemetry.stream import Source
from _postgres import PASSWORD, PASSWORD_ROLE
from _telemetry_helpers import cli, hk_rows, read_lines, assert_archived_once, stall_then_resume, wait_line


def _commands(url):
    return [["telemetry", "stats", "--archive", url],
            ["telemetry", "export", "--archive", url, "--format", "csv"],
            ["telemetry", "export", "--archive", url, "--parameter", "rw2_speed", "--buckets", "10"],
            ["telemetry", "monitor", "--archive", url, "--once"],
            ["telemetry", "ack", "--archive", url, "1", "--operator", "bob"],
            ["telemetry", "shelve", "--archive", url, "1", "--operator", "bob", "--duration", "60"],
            ["telemetry", "platform", "--listen", "inproc://x", "--archive", url, "--duration", "1"]]


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("case", ["refused", "password", "no archive"])
def test_unusable_database_is_one_line_and_exit_2(postgres, capsys, case):
    if case == "refused":
        url, shown, expect = f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres", None, "cannot connect"
    elif case == "password":
        url = postgres.url(user=PASSWORD_ROLE, password="wrong-" + PASSWORD)
        shown, expect = url.replace("wrong-" + PASSWORD, "***"), "password authentication failed"
    else:
        url, shown, expect = postgres.fresh_url(), None, "no such archive"
    for argv in _commands(url):
        if case == "no archive" and "platform" in argv:
            continue                                # a platform creates its archive
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("groundseg: error: ") and err.count("\n") == 1, err
        assert expect in err and (shown or url) in err, err
        assert PASSWORD not in err


def test_lost_connection_stops_acknowledging_and_resumes(postgres, hk_dict, tmp_path):
    name = "lost_" + uuid.uuid4().hex[:8]
    postgres.admin(f"CREATE DATABASE {name}")
    url = postgres.url().rsplit("/", 1)[0] + "/" + name
    ep = f"ipc://{tmp_path}/p.sock"
    plat = cli("telemetry", "platform", "--listen", ep, "--archive", url)
    lines, seen = read_lines(plat.stderr)
    rows = hk_rows(hk_dict, 6000)
    try:
        assert wait_line(lines, seen, "listening")
        src = Source(ep, replay=f"ipc://{tmp_path}/s.sock", heartbeat_s=0.05, linger_s=0)
        sent = 0
        for _ in range(600):                        # the first third, acknowledged
            if sent < 2000:
                src.send(rows[sent:sent + 100].tobytes(), 0x64, 100)
                sent += 100
            src.poll(0.01)
            if src.acked == src.seq:
                break
        assert src.acked == src.seq == 20
        postgres.admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        postgres.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        stall_then_resume(src, rows, sent, lines, seen,
                          lambda: postgres.admin(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"), stop_at=4000)
    finally:
        plat.terminate()
        plat.wait(30)
    assert_archived_once(url, 6000)

