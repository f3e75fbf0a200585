"""``telemetry export``: ``--buckets`` gives the archive's time buckets (both back ends), and an
export is written as it is read: its peak memory (a subprocess's maximum RSS) does not grow with
the archive (main held every row, as Python strings, before writing the first)."""
import json
import os
import subprocess
import sys

import numpy as np

from groundseg.cli import main
from telemetry import pieces
from telemetry.archive import Archive
from telemetry.platform import Platform
from telemetry.publisher import housekeeping_values
from _telemetry_helpers import ROOT, hk_rows

T0 = 1.8e9


def test_buckets_per_spacecraft(hk_dict, archive_target, capsys):
    p = Platform(archive_target, hk_dict)
    for k, sc in enumerate(("FS8-2", "FS8-1")):
        v = housekeeping_values(np.arange(7200), seed=k)
        p.ingest(hk_dict.encode("HK", v, time_s=T0 + k * 600 + np.arange(7200)).tobytes(), spacecraft=sc)
    p.close()
    assert main(["telemetry", "export", "--archive", archive_target, "--parameter", "battery_voltage", "--buckets",
                 "12", "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    a = Archive(archive_target, readonly=True)
    try:
        want = []
        for sc in ("FS8-1", "FS8-2"):                   # the archive's samples over each one's whole span
            span = a.sample_span(sc, "battery_voltage")
            assert span[0] <= T0 + (sc == "FS8-1") * 600 and span[1] >= T0 + 7200
            want += [dict(r, spacecraft=sc) for r in a.samples(sc, "battery_voltage", *span, 12).records()]
    finally:
        a.close()
    assert [r["spacecraft"] for r in got] == sorted(r["spacecraft"] for r in got)
    assert len(got) == len(want) and 0 < len(got) <= 24
    for g, w in zip(got, want):
        assert g["unit"] == "V" and g["parameter"] == "battery_voltage"
        assert {k: g[k] for k in w} == w
    assert sum(r["count"] for r in got) == 2 * 7200
    assert main(["telemetry", "export", "--archive", archive_target, "--buckets", "3"]) == 2
    assert "--buckets needs --parameter" in capsys.readouterr().err


def _peak_rss_mb(*argv) -> float:
    """Run ``groundseg argv`` to /dev/null; its maximum resident set size in MB."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "groundseg.cli", *map(str, argv)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, proc.stderr.read()
    return usage.ru_maxrss / 1024


def test_export_memory_does_not_grow_with_the_archive(hk_dict, tmp_path):
    small, big = tmp_path / "small.sqlite", tmp_path / "big.sqlite"
    rows = hk_rows(hk_dict, 400_000)
    for path, n in ((small, 2000), (big, rows.shape[0])):
        p = Platform(path, hk_dict)
        for i in range(0, n, 20_000):
            p.ingest(rows[i:min(n, i + 20_000)].tobytes())
        p.close()
    for query in ([], ["--parameter", "rw1_speed"]):
        base = _peak_rss_mb("telemetry", "export", "--archive", small, *query, "--output", os.devnull)
        peak = _peak_rss_mb("telemetry", "export", "--archive", big, *query, "--output", os.devnull)
        # the big export writes 400,000 rows (~70 MB of CSV for the packets); a piece is 100,000
        print(query, base, peak)
        assert peak - base < 60, (query, base, peak)


def test_parquet_export_in_pieces_equals_what_was_sent(hk_dict, archive_target, tmp_path, monkeypatch):
    """Packets and values written as Parquet in several pieces (pieces of 700 rows here): every
    packet sent, in order, byte for byte; every value sent, with its time to the microsecond."""
    import pyarrow.parquet as pq
    monkeypatch.setattr(pieces, "PIECE_ROWS", 700)
    rows = hk_rows(hk_dict, 3000)
    p = Platform(archive_target, hk_dict)
    for i in range(0, 3000, 1000):                  # three segments, so values come in pieces too
        p.ingest(rows[i:i + 1000].tobytes())
    p.close()
    out = tmp_path / "p.parquet"
    assert main(["telemetry", "export", "--archive", archive_target, "--format", "parquet", "--output", str(out)]) == 0
    got = pq.read_table(out)
    assert got.num_rows == 3000 and got["raw_hex"].to_pylist() == [r.tobytes().hex() for r in rows]
    assert got["seq_count"].to_pylist() == list(range(3000))
    assert main(["telemetry", "export", "--archive", archive_target, "--parameter", "rw1_speed", "--format",
                 "parquet", "--output", str(out)]) == 0
    got = pq.read_table(out)
    want = housekeeping_values(np.arange(3000), seed=1)["rw1_speed"]
    assert str(got.schema.field("time_utc").type.tz) == "UTC"
    t_us = got["time_utc"].to_numpy().astype("datetime64[us]").astype(np.int64)
    assert np.array_equal(t_us, np.round((T0 + np.arange(3000)) * 1e6).astype(np.int64))
    assert np.all(np.abs(got["value"].to_numpy() - want) <= 0.5)     # a 16-bit integer on board
