"""A damaged, read-only, immutable or full archive: one line and exit 2 (never a traceback), the
platform stops acknowledging while it cannot write and resumes when it can, and ``stats`` reads
one snapshot without loading the archive into memory."""
import json
import os
import resource
import shutil
import subprocess
import tracemalloc

import numpy as np
import pytest

from groundseg.cli import main
from telemetry.archive import Archive
from telemetry.platform import Platform
from telemetry.publisher import housekeeping_values
from telemetry.stream import Source
from _telemetry_helpers import cli, hk_rows, read_lines, assert_archived_once, stall_then_resume, wait_line


def _archive(d, path, n=300):
    v = housekeeping_values(np.arange(n), seed=4)
    v["rw2_speed"][30:60] = -6900.0
    p = Platform(path, d)
    rows = d.encode("HK", v, time_s=1.8e9 + np.arange(n))
    for i in range(0, n, 20):
        p.ingest(rows[i:i + 20].tobytes())
    p.close()
    return rows


def _commands(path):
    return [["telemetry", "stats", "--archive", str(path)],
            ["telemetry", "export", "--archive", str(path), "--format", "csv"],
            ["telemetry", "export", "--archive", str(path), "--parameter", "rw2_speed", "--format", "json"],
            ["telemetry", "monitor", "--archive", str(path), "--once"]]


@pytest.mark.parametrize("where", ["header", "pages"])
def test_damaged_archive_is_one_line_and_exit_2(hk_dict, tmp_path, capsys, where):
    path = tmp_path / "a.sqlite"
    _archive(hk_dict, path)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(3)
    lo, hi = (0, 100) if where == "header" else (4096, len(data))      # page 1 holds the header and schema
    data[lo:hi] = rng.bytes(hi - lo)
    path.write_bytes(bytes(data))
    for argv in _commands(path) + [["telemetry", "platform", "--listen", "inproc://x", "--archive", str(path),
                                    "--duration", "1"],
                                   ["telemetry", "ack", "--archive", str(path), "1", "--operator", "bob"]]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("groundseg: error: ") and err.count("\n") == 1, err
        assert str(path) in err and ("damaged" in err or "not a telemetry archive" in err), err


def _unwritable(path):
    """Make the archive and its directory unwritable: chattr +i as root (permissions do not stop
    root), chmod otherwise. Returns the undo function."""
    targets = [path, path.parent]
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", *map(str, targets)]).returncode:
            pytest.skip("root without chattr: cannot make a file unwritable")
        return lambda: subprocess.run(["chattr", "-i", *map(str, targets)], check=True)
    modes = [t.stat().st_mode for t in targets]
    path.chmod(0o444), path.parent.chmod(0o555)
    return lambda: [t.chmod(m) for t, m in zip(targets, modes)]


def test_read_only_or_immutable_archive(hk_dict, tmp_path, capsys):
    """Readers read it (main: 'not a telemetry archive'); writers say it is read-only, exit 2."""
    path = tmp_path / "ro" / "a.sqlite"
    path.parent.mkdir()
    _archive(hk_dict, path)
    undo = _unwritable(path)
    try:
        for argv in _commands(path):
            assert main(argv) == 0, argv
        assert json.loads(capsys.readouterr().out.splitlines()[0])["packets_archived"] == 300
        for argv in (["telemetry", "platform", "--listen", "inproc://x", "--archive", str(path), "--duration", "1"],
                     ["telemetry", "ack", "--archive", str(path), "1", "--operator", "bob"]):
            assert main(argv) == 2, argv
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "read-only" in err, err
    finally:
        undo()


def test_full_disk_stops_acknowledging_and_resumes(hk_dict, tmp_path):
    """The platform's file size limit (RLIMIT_FSIZE, a real write failure: SQLite's disk I/O
    error) is reached mid-stream: it says so on stderr, acknowledges nothing more (the source
    keeps its buffer), and once the limit is lifted it resumes and archives every packet once."""
    path = tmp_path / "a.sqlite"
    Archive(path).close()
    ep = f"ipc://{tmp_path}/p.sock"
    limit = path.stat().st_size + 300_000

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    plat = cli("telemetry", "platform", "--listen", ep, "--archive", path, preexec_fn=small_disk)
    lines, seen = read_lines(plat.stderr)
    try:
        assert wait_line(lines, seen, "listening")
        src = Source(ep, replay=f"ipc://{tmp_path}/s.sock", heartbeat_s=0.05, linger_s=0)
        rows = hk_rows(hk_dict, 20_000)
        stall_then_resume(src, rows, 0, lines, seen, lambda: resource.prlimit(
            plat.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))
    finally:
        plat.terminate()
        plat.wait(30)
    assert_archived_once(path, 20_000)


def test_stats_streams_the_archive(hk_dict, tmp_path):
    """missing_packets is computed a few blocks at a time: the peak memory of stats() is a small
    fraction of the archive's keys (main concatenated every key of a stream: 3 GB on a 10 GB
    archive)."""
    path = tmp_path / "a.sqlite"
    p = Platform(path, hk_dict)
    rows = hk_rows(hk_dict, 200_000)
    rows = np.delete(rows, [5000, 70_000, 150_001], axis=0)      # three gaps
    for i in range(0, rows.shape[0], 2000):
        p.ingest(rows[i:i + 2000].tobytes())
    p.close()
    a = Archive(path, readonly=True)
    tracemalloc.start()
    s = a.stats()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    a.close()
    assert s["missing_packets"] == 3 and s["archived_rows"] == rows.shape[0]
    assert peak < rows.shape[0] * 10 / 4, peak         # keys: 10 bytes a packet


def test_stats_is_one_snapshot(hk_dict, tmp_path, monkeypatch):
    """A batch committed by another connection while stats() runs is either all in or all out
    (main read the counters and the rows in separate transactions)."""
    path = tmp_path / "a.sqlite"
    writer = Platform(path, hk_dict)
    rows = hk_rows(hk_dict, 200)
    writer.ingest(rows[:100].tobytes())
    a = Archive(path, readonly=True)
    real = Archive.missing_packets

    def meanwhile(self):
        writer.ingest(rows[100:].tobytes())           # commits between the counters and the rows
        return real(self)
    monkeypatch.setattr(Archive, "missing_packets", meanwhile)
    s = a.stats()
    assert s["packets_archived"] == s["archived_rows"] == 100
    a.close()
    writer.close()
